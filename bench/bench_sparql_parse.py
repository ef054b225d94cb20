"""Time what the endpoint reads from a query before it runs: matchgraph's SPARQL lexer
(:func:`matchgraph.store.sparql.parse_query` on a text without SERVICE or LOAD) against rdflib's
SPARQL grammar (``parseQuery``, the anchor), on ``VALUES`` queries of growing size and on nested
groups.

Usage::

    python bench/bench_sparql_parse.py            # sizes 1k, 10k, 100k values (rdflib up to 10k)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from matchgraph.store.sparql import parse_query  # noqa: E402
from _tables import table_head, table_row  # noqa: E402


def best(fn, text: str, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rdflib-max", type=int, default=10000, help="Largest size given to rdflib.")
    args = parser.parse_args(argv)
    from rdflib.plugins.sparql.parser import parseQuery

    print(table_head(["query", "bytes", "lexer (s)", "rdflib (s)", "rdflib / lexer"], align="lrrrr"))
    for n in (int(x) for x in args.sizes.split(",")):
        text = "SELECT * WHERE { VALUES ?a { " + " ".join(str(i) for i in range(n)) + " } }"
        ours = best(parse_query, text)
        if n <= args.rdflib_max:
            theirs = best(parseQuery, text, runs=1)
            print(table_row([f"VALUES of {n:,} numbers", f"{len(text):,}", f"{ours:.4f}", f"{theirs:.3f}",
                             f"{theirs / ours:.0f}"]))
        else:
            print(table_row([f"VALUES of {n:,} numbers", f"{len(text):,}", f"{ours:.4f}", "(not run)", ""]))
    for depth in (30, 60, 500):
        text = "SELECT * WHERE { FILTER(" + "(" * depth + "1" + ")" * depth + ") }"
        ours = best(parse_query, text)
        try:
            theirs = f"{best(parseQuery, text, runs=1):.3f}"
        except RecursionError:
            theirs = "RecursionError"
        print(table_row([f"{depth} nested parentheses", f"{len(text):,}", f"{ours:.4f}", theirs, ""]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
