"""Does the way one-line records enter a catalog change how `matchgraph match` ranks them?

The *hub* set (``bench/eval_sets/hub.json``: 276 Hub datasets, a name and one or two sentences
each, 41 needs as a sentence and as a short task name) enters a new catalog four ways, and each
need is matched through :func:`matchgraph.matching.match.match` as a user's ``match`` runs
(default, and ``--semantic``):

- ``cards``: one entity card per record with its id, name, kind and description (no capability);
  what ``bench/eval_real.py`` measures with the index built in memory;
- ``hub, modality tag``: a Hub API dataset listing (``matchgraph import hf``) with each record's
  description and the tags nearly every Hub dataset carries (``modality:text``, ``language:en``,
  ``format:parquet``): the importer makes a "Text data" capability of the first;
- ``hub, task tags``: the same with a ``task_categories:`` tag from the MTEB task type of the record
  (Classification -> text-classification, Retrieval -> text-retrieval, ...; the importer makes a
  capability with concepts of it). The tag comes from the metadata the answers are chosen by, so
  this row reads higher than records without it would;
- ``cards + hub``: the ``hub, task tags`` listing beside the 42 example cards (the catalog then has
  capabilities with claims), for the records' needs.

Reports recall@10 / nDCG@10 / MRR@10 per split (tune, test) and style (sentence, short name).

Usage::

    python bench/eval_hub_import.py                      # every route, default and --semantic
    python bench/eval_hub_import.py --routes cards,modality --no-semantic
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
from eval_match import metrics  # noqa: E402

#: MTEB task type -> the Hub task category a dataset of that type would be tagged with.
TASK_CATEGORY = {"Classification": "text-classification", "MultilabelClassification": "text-classification",
                 "PairClassification": "text-classification", "Clustering": "text-classification",
                 "Retrieval": "text-retrieval", "InstructionRetrieval": "text-retrieval",
                 "Reranking": "text-ranking", "STS": "sentence-similarity", "Summarization": "summarization",
                 "BitextMining": "translation"}
ROUTES = {"cards": "cards", "modality": "hub, modality tag", "tags": "hub, task tags",
          "mixed": "cards + hub"}
COLUMNS = ["test sentence", "test short", "tune sentence", "tune short"]


def hub_listing(records: list[dict[str, Any]], task_types: dict[str, str], *, task_tags: bool) -> list[dict]:
    """The records as the Hub API lists datasets (``/api/datasets?full=true``)."""
    listing = []
    for record in records:
        tags = ["modality:text", "language:en", "format:parquet"]
        category = TASK_CATEGORY.get(task_types.get(record.get("mteb_task", ""), ""))
        if task_tags and category:
            tags.append(f"task_categories:{category}")
        listing.append({"id": record["id"], "description": record["description"], "tags": tags,
                        "downloads": 10, "likes": 1})
    return listing


def build_catalog(route: str, records: list[dict[str, Any]], task_types: dict[str, str], folder: Path) -> Any:
    """A new embedded catalog in ``folder`` holding the records entered by ``route``."""
    from matchgraph import Catalog, ingest
    from matchgraph.sources.importers import import_hf
    from matchgraph.vocab import slugify

    catalog = Catalog(str(folder / "catalog"))
    if route == "cards":
        cards = folder / "cards"
        cards.mkdir()
        for record in records:
            slug = slugify(record["id"])
            front = {"id": slug, "name": record["name"], "kind": "dataset", "description": record["description"]}
            (cards / f"{slug}.md").write_text(f"---\n{json.dumps(front)}\n---\n", encoding="utf-8")
        ingest(catalog, [cards])
        return catalog
    if route == "mixed":
        ingest(catalog, [ROOT / "examples" / "catalog"])
    listing = folder / "datasets.json"
    listing.write_text(json.dumps(hub_listing(records, task_types, task_tags=route != "modality")), encoding="utf-8")
    import_hf(catalog, listing)
    return catalog


def evaluate(catalog: Any, records: list[dict[str, Any]], needs: list[dict[str, Any]],
             semantic: bool | None, weights: Any = None) -> dict[str, dict[str, float]]:
    """Mean recall@10, nDCG@10 and MRR@10 per column, each need matched as ``matchgraph match``
    (with ``weights``, the defaults when None)."""
    from matchgraph.matching.match import match
    from matchgraph.vocab import slugify

    record_of = {slugify(r["id"]): r["id"] for r in records}
    per_column: dict[str, list[dict[str, float]]] = {}
    for need in needs:
        results = match(catalog, need["need"], record=False, semantic=semantic, weights=weights)
        ranked = [record_of.get(r.id, r.id) for r in results.results]
        per_column.setdefault(f"{need['split']} {need['style']}", []).append(metrics(ranked, need["relevant"]))
    return {column: {m: float(np.mean([x[m] for x in rows])) for m in rows[0]}
            for column, rows in per_column.items()}


def load_hub_set() -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """The *hub* set's records and needs, and the MTEB task type of each task by name."""
    data = json.loads((ROOT / "bench" / "eval_sets" / "hub.json").read_text(encoding="utf-8"))
    task_types = {}
    for line in (ROOT / "examples" / "mteb" / "tasks.jsonl").read_text(encoding="utf-8").splitlines():
        task = json.loads(line)
        task_types[task["name"]] = task.get("type", "")
    return data["records"], data["needs"], task_types


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", default=",".join(ROUTES), help=f"Comma-separated, of {', '.join(ROUTES)}.")
    parser.add_argument("--no-semantic", action="store_true", help="Only the default match.")
    parser.add_argument("--json", help="Write the figures to this JSON file.")
    args = parser.parse_args(argv)
    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    unknown = sorted(set(routes) - set(ROUTES))
    if unknown:
        parser.error(f"unknown route(s) {', '.join(unknown)}; choose from {', '.join(ROUTES)}")
    records, needs, task_types = load_hub_set()
    report: dict[str, Any] = {}
    for route in routes:
        with tempfile.TemporaryDirectory(prefix="matchgraph-hub-import-") as tmp:
            start = time.perf_counter()
            catalog = build_catalog(route, records, task_types, Path(tmp))
            for semantic in (None,) if args.no_semantic else (None, True):
                name = f"{ROUTES[route]}, {'--semantic' if semantic else 'default'}"
                report[name] = evaluate(catalog, records, needs, semantic)
                print(f"{name}: done ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
            catalog.close()
    print(table_head(["Route, ranker", *[f"{c} R@10 / nDCG@10 / MRR" for c in COLUMNS]], align="l" + "r" * 4))
    for name, columns in report.items():
        print(table_row([name, *[" / ".join(f"{columns[c][m]:.3f}" for m in ("recall@10", "ndcg@10", "mrr@10"))
                                 for c in COLUMNS]]))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
