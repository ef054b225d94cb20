"""Evaluate `matchgraph match` on the needs of bench/eval_needs.yaml over the example catalog.

Reports recall@10, nDCG@10 (gains 2^grade - 1) and MRR@10 (first result judged relevant, any
grade) for pure BM25, the combined ranker, ablations of the combined ranker, and, when the
``semantic`` extra is installed, the semantic fusion and semantic similarity alone.

Usage::

    python bench/eval_match.py                       # ingests examples/catalog into a temp dir
    python bench/eval_match.py --catalog DIR --json out.json --per-need

``--catalog`` may hold more than the example cards (the README's Quickstart also imports the
Croissant and MTEB examples, some 5,000 entities): the judgements stay the same, so every extra
entity in a top 10 counts as not relevant, a conservative reading.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matchgraph import Catalog, ingest  # noqa: E402
from matchgraph.matching.match import BM25_ONLY, DEFAULT_WEIGHTS, MatchWeights, rank  # noqa: E402
from matchgraph.matching.match import load_index  # noqa: E402
from matchgraph.matching.textindex import FIELD_WEIGHTS, TextIndex, build_index  # noqa: E402
from _tables import table_head, table_row  # noqa: E402

K = 10


def load_needs(path: Path) -> list[dict[str, Any]]:
    """The needs and their graded judgements."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [{"need": str(n["need"]), "relevant": {str(k): int(v) for k, v in n["relevant"].items()}}
            for n in data["needs"]]


def metrics(ranked: list[str], relevant: dict[str, int], k: int = K) -> dict[str, float]:
    """recall@k, nDCG@k and MRR@k of one ranking."""
    top = ranked[:k]
    recall = sum(1 for s in top if s in relevant) / len(relevant)
    dcg = sum((2 ** relevant.get(s, 0) - 1) / math.log2(i + 2) for i, s in enumerate(top))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    mrr = next((1.0 / (i + 1) for i, s in enumerate(top) if s in relevant), 0.0)
    return {"recall@10": recall, "ndcg@10": dcg / idcg if idcg else 0.0, "mrr@10": mrr}


def evaluate(index: TextIndex, needs: list[dict[str, Any]], weights: MatchWeights,
             semantic: Any = None) -> dict[str, Any]:
    """Mean metrics of one configuration, and the per-need rankings."""
    per_need = []
    for item in needs:
        sim = semantic(item["need"]) if semantic is not None else None
        ranked = rank(index, item["need"], limit=K, weights=weights, semantic=sim).ids
        per_need.append({"need": item["need"], "ranked": ranked, **metrics(ranked, item["relevant"])})
    means = {m: float(np.mean([p[m] for p in per_need])) for m in ("recall@10", "ndcg@10", "mrr@10")}
    return {"means": means, "per_need": per_need}


def semantic_scorer(catalog: Catalog, index: TextIndex) -> Any:
    """A function need -> ``--semantic``'s similarity per entity (all-mpnet-base-v2; the texts are
    embedded once), or None when that encoder cannot run here."""
    try:
        from matchgraph.matching.semantic import SemanticUnavailable, semantic_scores, text_matrix
    except ImportError:
        return None
    try:
        vectors = text_matrix(catalog, index)
    except SemanticUnavailable as exc:
        print(f"semantic matching unavailable: {exc}", file=sys.stderr)
        return None
    return lambda need: semantic_scores(catalog, index, need, vectors=vectors)


#: Plain BM25 (the baseline): every text field once, no concept labels.
PLAIN_FIELDS = {k: (0 if k == "concept_labels" else 1) for k in FIELD_WEIGHTS}


def configurations(with_semantic: bool) -> dict[str, tuple[MatchWeights, bool, bool]]:
    """Name -> (weights, uses semantic similarity, uses the plain BM25 index)."""
    configs = {
        "BM25, plain text (baseline)": (BM25_ONLY, False, True),
        "BM25, weighted fields + concept labels": (BM25_ONLY, False, False),
        "combined (default)": (DEFAULT_WEIGHTS, False, False),
        "  without concept matching": (replace(DEFAULT_WEIGHTS, concept=0.0), False, False),
        "  without coverage": (replace(DEFAULT_WEIGHTS, coverage=0.0), False, False),
        "  without kind hint": (replace(DEFAULT_WEIGHTS, kind=0.0), False, False),
        "  without alternatives pull": (replace(DEFAULT_WEIGHTS, alternative=0.0), False, False),
        "  without stub penalty": (replace(DEFAULT_WEIGHTS, stub=1.0), False, False),
    }
    if with_semantic:
        configs["combined + semantic"] = (DEFAULT_WEIGHTS, True, False)
        configs["semantic only"] = (replace(BM25_ONLY, lexical=0.0, semantic=1.0), True, False)
    return configs


def sign_test(better: int, worse: int) -> float:
    """Two-sided exact sign test p-value for paired wins and losses (ties dropped)."""
    n = better + worse
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(better, worse) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired(a: dict[str, Any], b: dict[str, Any], metric: str = "ndcg@10") -> tuple[int, int, int, float]:
    """Needs where ``b`` beats, loses to and ties ``a`` on a metric, and the sign test p-value."""
    diffs = [y[metric] - x[metric] for x, y in zip(a["per_need"], b["per_need"])]
    better = sum(d > 1e-9 for d in diffs)
    worse = sum(d < -1e-9 for d in diffs)
    return better, worse, len(diffs) - better - worse, sign_test(better, worse)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog",
                        help="An ingested example catalog (default: ingest examples/catalog into a temp dir).")
    parser.add_argument("--needs", default=str(ROOT / "bench" / "eval_needs.yaml"))
    parser.add_argument("--no-semantic", action="store_true", help="Skip the semantic configurations.")
    parser.add_argument("--per-need", action="store_true",
                        help="Print each need's top results for the combined ranker.")
    parser.add_argument("--json", help="Write all results to this JSON file.")
    args = parser.parse_args(argv)

    needs = load_needs(Path(args.needs))
    with tempfile.TemporaryDirectory(prefix="matchgraph-eval-") as tmp:
        location = args.catalog or str(Path(tmp) / "catalog")
        with Catalog(location) as catalog:
            if not args.catalog:
                ingest(catalog, [ROOT / "examples" / "catalog"])
            index = load_index(catalog)
            plain = build_index(catalog, field_weights=PLAIN_FIELDS)
            scorer = None if args.no_semantic else semantic_scorer(catalog, index)
            report: dict[str, Any] = {"needs": len(needs), "entities": len(index), "configurations": {}}
            for name, (weights, uses_semantic, uses_plain) in configurations(scorer is not None).items():
                start = time.perf_counter()
                result = evaluate(plain if uses_plain else index, needs, weights, scorer if uses_semantic else None)
                result["seconds"] = time.perf_counter() - start
                report["configurations"][name.strip()] = result
    print(f"{len(needs)} needs, {report['entities']} entities (stubs included)\n")
    print(table_head(["Ranker", "recall@10", "nDCG@10", "MRR@10"], align="lrrr"))
    for name, result in report["configurations"].items():
        m = result["means"]
        print(table_row([name, f"{m['recall@10']:.3f}", f"{m['ndcg@10']:.3f}", f"{m['mrr@10']:.3f}"]))
    configs = report["configurations"]
    baseline = configs["BM25, plain text (baseline)"]
    print("\nPaired on nDCG@10 against the baseline (needs better / worse / tied, sign-test p):")
    for name in ("combined (default)", "combined + semantic", "semantic only"):
        if name in configs:
            better, worse, tied, p = paired(baseline, configs[name])
            configs[name]["vs_baseline"] = {"better": better, "worse": worse, "tied": tied, "p": p}
            print(f"- {name}: {better} / {worse} / {tied}, p = {p:.2g}")
    if args.per_need:
        combined = configs["combined (default)"]["per_need"]
        baseline = baseline["per_need"]
        for c, b, item in zip(combined, baseline, needs):
            print(f"\n{c['need']}\n  nDCG {b['ndcg@10']:.2f} -> {c['ndcg@10']:.2f}  relevant: {item['relevant']}")
            print("  combined:", ", ".join(c["ranked"][:6]))
            print("  bm25:    ", ", ".join(b["ranked"][:6]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
