"""Imported records beside cards: how many the sentence encoder reads for a need, and at what share.

In a catalog where cards carry claims, a default ``matchgraph match`` reads the records an importer
gave capabilities (a Quickstart catalog's MTEB and Croissant records) through the static vectors,
and the best ``imported_candidates`` of them for the need through the sentence encoder too, at a
share ``semantic_imported`` (:class:`matchgraph.matching.match.MatchWeights`). This script measures
each pair of the two on

- the *hub* set listed as the Hub lists it beside the 42 example cards (``bench/eval_hub_import.py``'s
  ``cards + hub`` route: 276 records, 41 needs as a sentence and as a short name), and
- the 75 needs of ``bench/eval_needs.yaml`` over a Quickstart catalog (``--catalog``: the folder README
  block 1 leaves, ``.matchgraph``; copied first, never written), with the README need's top 5,

every need through :func:`matchgraph.matching.match.match` as the CLI runs it. The vectors of the
imported records are kept by text between the pairs, as a catalog keeps them between matches.

Usage::

    python bench/eval_mixed.py --catalog /path/to/.matchgraph
    python bench/eval_mixed.py --catalog DIR --shares 0.3,0.4,0.5 --candidates 0,30,50,100
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _tables import table_head, table_row  # noqa: E402
from eval_hub_import import build_catalog, evaluate, load_hub_set  # noqa: E402
from eval_match import load_needs, metrics  # noqa: E402

README_NEED = "small fast masked language model for CPU inference"


def card_needs(catalog: Any, weights: Any) -> tuple[dict[str, float], list[str]]:
    """Mean recall@10 / nDCG@10 / MRR@10 of the card needs through ``match()``, and the README need's top 5."""
    from matchgraph.matching.match import match

    rows = []
    for need in load_needs(ROOT / "bench" / "eval_needs.yaml"):
        ranked = match(catalog, need["need"], record=False, weights=weights).ids
        rows.append(metrics(ranked, need["relevant"]))
    top = match(catalog, README_NEED, record=False, weights=weights).ids[:5]
    return {m: float(np.mean([r[m] for r in rows])) for m in rows[0]}, top


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", help="A Quickstart catalog folder (copied; without it the card needs are skipped).")
    parser.add_argument("--shares", default="0.3,0.4,0.5", help="semantic_imported values, comma-separated.")
    parser.add_argument("--candidates", default="0,30,50,100", help="imported_candidates values, comma-separated.")
    parser.add_argument("--json", help="Write the figures to this JSON file.")
    args = parser.parse_args(argv)
    from matchgraph import Catalog
    from matchgraph.matching.match import DEFAULT_WEIGHTS

    records, needs, task_types = load_hub_set()
    pairs = [(float(s), int(k)) for k in args.candidates.split(",") for s in args.shares.split(",")]
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="matchgraph-mixed-") as tmp:
        hub = build_catalog("mixed", records, task_types, Path(tmp))
        quickstart = None
        if args.catalog:
            shutil.copytree(args.catalog, Path(tmp) / "quickstart")
            quickstart = Catalog(str(Path(tmp) / "quickstart"))
        for share, k in pairs:
            if k == 0 and share != pairs[0][0]:
                continue  # no candidates: the share is not used
            weights = replace(DEFAULT_WEIGHTS, semantic_imported=share, imported_candidates=k)
            columns = evaluate(hub, records, needs, None, weights)
            row: dict[str, Any] = {"hub": columns}
            if quickstart is not None:
                row["cards"], row["readme_top5"] = card_needs(quickstart, weights)
            report[f"{share} x {k}"] = row
            print(f"share {share}, candidates {k}: done", file=sys.stderr, flush=True)
        hub.close()
        if quickstart is not None:
            quickstart.close()
    print(table_head(["share x candidates", "hub tune sentence R / nDCG", "hub tune short R / nDCG",
                      "hub test sentence R / nDCG", "hub test short R / nDCG", "Quickstart card needs R / nDCG",
                      "tune sum", "README need top 5"], align="lrrrrrrl"))
    for name, row in report.items():
        hub_cols = row["hub"]
        cells = [f"{hub_cols[c]['recall@10']:.3f} / {hub_cols[c]['ndcg@10']:.3f}"
                 for c in ("tune sentence", "tune short", "test sentence", "test short")]
        total = sum(hub_cols[c][m] for c in ("tune sentence", "tune short") for m in ("recall@10", "ndcg@10")) / 2
        cards = row.get("cards")
        if cards:
            total += cards["recall@10"] + cards["ndcg@10"]
        print(table_row([name, *cells, f"{cards['recall@10']:.3f} / {cards['ndcg@10']:.3f}" if cards else "",
                         f"{total:.3f}", ", ".join(row.get("readme_top5", []))]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
