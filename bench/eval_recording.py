"""Does asking needs with recording on change how later needs rank?

``matchgraph match`` records each match as a match event (Times Matched, co-match edges of the
match graph) unless told not to. Its ranking must not lean toward what earlier needs were shown: a
match event lists what was shown, not what was chosen. This script enters the *hub* set
(``bench/eval_sets/hub.json``: 276 one-line records, 41 needs written as a sentence and as a short
name) as entity cards, then matches every need three times through ``match()`` as the CLI does:

1. with recording off (the reference);
2. with recording on, one need after the other (what a user or a script running the CLI gets);
3. with recording off again, after those 82 recorded matches.

It reports recall@10 / nDCG@10 / MRR@10 per split and style for each pass, and how many needs
ranked differently from the reference (the ids of the top 10, or any score).

Usage::

    python bench/eval_recording.py
    python bench/eval_recording.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _tables import table_head, table_row  # noqa: E402
from eval_hub_import import build_catalog, load_hub_set  # noqa: E402
from eval_match import metrics  # noqa: E402

COLUMNS = ["test sentence", "test short", "tune sentence", "tune short"]


def run(catalog: Any, records: list[dict[str, Any]], needs: list[dict[str, Any]], *,
        record: bool) -> tuple[dict[str, dict[str, float]], list[list[tuple[str, float]]]]:
    """Mean metrics per column and each need's (id, score) top 10, the needs matched in order."""
    from matchgraph.matching.match import match
    from matchgraph.vocab import slugify

    record_of = {slugify(r["id"]): r["id"] for r in records}
    per_column: dict[str, list[dict[str, float]]] = {}
    rankings = []
    for need in needs:
        results = match(catalog, need["need"], record=record)
        rankings.append([(r.id, round(r.score, 6)) for r in results.results])
        ranked = [record_of.get(r.id, r.id) for r in results.results]
        per_column.setdefault(f"{need['split']} {need['style']}", []).append(metrics(ranked, need["relevant"]))
    means = {column: {m: float(np.mean([x[m] for x in rows])) for m in rows[0]} for column, rows in per_column.items()}
    return means, rankings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="Write the figures to this JSON file.")
    args = parser.parse_args(argv)
    records, needs, task_types = load_hub_set()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="matchgraph-recording-") as tmp:
        catalog = build_catalog("cards", records, task_types, Path(tmp))
        start = time.perf_counter()
        reference, ranked = run(catalog, records, needs, record=False)
        report["recording off"] = {"metrics": reference, "changed": 0}
        for name, record in (("recording on, in turn", True), ("recording off, after them", False)):
            means, rankings = run(catalog, records, needs, record=record)
            changed = sum(1 for a, b in zip(ranked, rankings) if a != b)
            report[name] = {"metrics": means, "changed": changed}
            print(f"{name}: done ({changed} of {len(needs)} needs ranked differently)", file=sys.stderr)
        catalog.close()
    print(table_head(["pass", *COLUMNS, "needs ranked differently"]))
    for name, row in report.items():
        cells = [" / ".join(f"{row['metrics'][c][m]:.3f}" for m in ("recall@10", "ndcg@10", "mrr@10")) for c in COLUMNS]
        print(table_row([name, *cells, f"{row['changed']} of {len(needs)}"]))
    print(f"\n({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
