"""Warm ranking in a catalog of imported records beside cards, against one ranking.

In such a catalog a default ``matchgraph match`` ranks twice: once without the sentence encoder to
choose the imported records it reads (:func:`matchgraph.matching.match.imported_candidates`), then
with their similarity, the second reading the need's evidence the first computed. This times, on
``bench_match.py``'s synthetic records with the claims of all but one in ``--cards-every`` removed
(so that the others are imported records: capabilities without a claim), one ``rank()`` against the
two rankings sharing the evidence, and against the two without sharing, need by need in turn. The
encoder's own part (one need, cosines with a few hundred vectors) is not in it.

Usage::

    python bench/bench_mixed.py --entities 100000 --queries 120
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_match import needs, synthetic_texts  # noqa: E402
from matchgraph.matching.match import DEFAULT_WEIGHTS, _rank, imported_candidates, rank  # noqa: E402
from matchgraph.matching.textindex import index_texts  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--cards-every", type=int, default=100, help="One record in this many keeps its claims.")
    parser.add_argument("--queries", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    texts = synthetic_texts(args.entities, args.seed)
    for i, text in enumerate(texts.values()):
        if i % args.cards_every:
            for cap in text.capabilities.values():
                cap.unique, cap.alternatives = [], []
            text.alternatives = {}
    start = time.perf_counter()
    index = index_texts(texts, data_version="synthetic")
    print(f"{len(index):,} entities, {int(index.imported.sum()):,} imported; index built in "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    items = needs(args.queries)
    for need in items[:5]:  # warm: the scheme, the static table
        rank(index, need)
    one, shared, apart = [], [], []
    for need in items:
        start = time.perf_counter()
        rank(index, need)
        one.append(time.perf_counter() - start)
        start = time.perf_counter()
        memo: dict = {}
        imported_candidates(index, need, memo=memo)
        _rank(index, need, kind=None, limit=10, weights=DEFAULT_WEIGHTS, prior=None, semantic=None,
              plain_semantic=None, memo=memo)
        shared.append(time.perf_counter() - start)
        start = time.perf_counter()
        imported_candidates(index, need)
        rank(index, need)
        apart.append(time.perf_counter() - start)
    base = statistics.median(one)
    for name, values in (("one ranking", one), ("candidates + ranking, evidence shared", shared),
                         ("candidates + ranking, not shared", apart)):
        p50, p95 = statistics.median(values) * 1000, float(np.percentile(values, 95)) * 1000
        print(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, ratio {statistics.median(values) / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
