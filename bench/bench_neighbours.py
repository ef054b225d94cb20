"""Warm ``neighbours`` of one entity: this tree against another checkout, in alternating processes.

Run: ``python bench/bench_neighbours.py CATALOG SLUG [--before TREE] [--rounds 3] [--calls 200]``.
Each process opens the catalog, asks once (unmeasured, so the derived state is loaded), then times
``calls`` library calls and prints their median; with ``--before``, a process of ``TREE`` (through
``PYTHONPATH``) follows each of this tree's. Figures: BENCHMARKS.md, "Scale".
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CODE = """
import json, statistics, sys, time
from matchgraph import Catalog
from matchgraph.graph.neighbours import neighbours
with Catalog(sys.argv[1]) as cat:
    neighbours(cat, sys.argv[2])
    times = []
    for _ in range(int(sys.argv[3])):
        t = time.perf_counter(); found = neighbours(cat, sys.argv[2]); times.append(time.perf_counter() - t)
print(json.dumps({"median_ms": statistics.median(times) * 1000, "found": len(found)}))
"""


def _median_ms(catalog: str, slug: str, calls: int, tree: str | None) -> float:
    env = {**os.environ, **({"PYTHONPATH": tree} if tree else {})}
    out = subprocess.run([sys.executable, "-c", CODE, catalog, slug, str(calls)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return float(json.loads(out)["median_ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("catalog")
    parser.add_argument("slug")
    parser.add_argument("--before", help="A checkout of the tree to time against.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    for _ in range(args.rounds):
        now = _median_ms(args.catalog, args.slug, args.calls, None)
        line = f"this tree {now:.2f} ms"
        if args.before:
            then = _median_ms(args.catalog, args.slug, args.calls, args.before)
            line += f", before {then:.2f} ms, ratio {now / then:.2f}"
        print(line)


if __name__ == "__main__":
    main()
