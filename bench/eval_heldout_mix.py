"""How does `matchgraph match` rank a held-out-style mix of Hub models and datasets?

The *heldout_mix* set (``bench/eval_sets/heldout_mix.json``) holds 180 real Hugging Face Hub
artifacts, 85 models and 95 datasets, each described only by its Hub id and one or two sentences
written from general knowledge, and 40 needs written two ways (a sentence, a 2-4 word task name)
with graded judgements (2 = a direct answer, 1 = useful); most needs are answered by both models
and datasets. The set was written without running or reading the ranker, so it is not tuned to it.

The records enter a new embedded catalog as entity cards (id = ``slugify(hub id)``, name, kind,
description; no capability), as ``bench/eval_hub_import.py``'s ``cards`` route does, and every
need is matched by the real CLI in a subprocess, exactly as a user types it::

    python -m matchgraph --catalog DIR match "NEED" --format json

with recording on (the default; each match is stored as a match event, so later needs of a run
see the earlier ones, as a user's catalog would), once with default options and once with
``--semantic`` (each in a fresh catalog of its own). Three anchors rank the same records:

- ``BM25 (bm25s)``: bm25s over name + description (the name with ``/ - _`` as spaces), English
  stopwords, no stemming;
- ``MiniLM cosine``: cosine of all-MiniLM-L6-v2 vectors of the need and of name + description
  (the encoder ``matchgraph.matching.semantic.load_encoder`` gives);
- ``mpnet-base cosine``: the same with all-mpnet-base-v2, the encoder a default match reads
  one-line records with (dense alone, no fusion).

Reports recall@10 / nDCG@10 (gain 2^grade - 1) / MRR@10 per split (tune: needs 1-20, test:
needs 21-40) and style as a markdown table.

Usage::

    python bench/eval_heldout_mix.py                      # both CLI runs and both anchors
    python bench/eval_heldout_mix.py --no-semantic --json out.json   # rankings per need too
    python bench/eval_heldout_mix.py --keep DIR           # keep the catalogs in DIR
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
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

SET = ROOT / "bench" / "eval_sets" / "heldout_mix.json"
COLUMNS = ["test sentence", "test short", "tune sentence", "tune short"]
MEASURES = ("recall@10", "ndcg@10", "mrr@10")
K = 10


def load_set(path: Path = SET) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The records and needs of the set."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["records"], data["needs"]


def build_catalog(records: list[dict[str, Any]], folder: Path) -> Path:
    """A new embedded catalog in ``folder / "catalog"`` holding one entity card per record; its path."""
    from matchgraph import Catalog, ingest
    from matchgraph.vocab import slugify

    cards = folder / "cards"
    cards.mkdir(parents=True)
    for record in records:
        slug = slugify(record["id"])
        front = {"id": slug, "name": record["name"], "kind": record["kind"], "description": record["description"]}
        (cards / f"{slug}.md").write_text(f"---\n{json.dumps(front)}\n---\n", encoding="utf-8")
    catalog = Catalog(str(folder / "catalog"))
    ingest(catalog, [cards])
    catalog.close()
    return folder / "catalog"


def cli_match(catalog: Path, need: str, semantic: bool) -> dict[str, Any]:
    """The JSON ``matchgraph match`` prints for ``need`` (recording on)."""
    env = dict(os.environ)
    env.pop("MATCHGRAPH_RECORD_MATCHES", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "matchgraph", "--catalog", str(catalog), "match", need, "--format", "json"]
    if semantic:
        cmd.append("--semantic")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(ROOT), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"match {need!r} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def run_cli(records: list[dict[str, Any]], needs: list[dict[str, Any]], semantic: bool,
            folder: Path) -> list[dict[str, Any]]:
    """Each need's ranking (hub ids) by the CLI over a fresh catalog in ``folder``."""
    from matchgraph.vocab import slugify

    record_of = {slugify(r["id"]): r["id"] for r in records}
    catalog = build_catalog(records, folder)
    out = []
    for need in needs:
        result = cli_match(catalog, need["need"], semantic)
        ranked = [record_of.get(r["id"], r["id"]) for r in result["results"]]
        out.append({"ranked": ranked, "kind_hint": result.get("kind_hint"),
                    "concepts": [c.get("concept") for c in result.get("concepts") or []]})
    return out


def record_text(record: dict[str, Any]) -> str:
    """Name (``/ - _`` as spaces) and description, what both anchors read."""
    return f"{re.sub(r'[/_-]+', ' ', record['name'])}. {record['description']}"


def run_bm25(records: list[dict[str, Any]], needs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each need's top 10 by bm25s over the records."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([record_text(r) for r in records], stopwords="en", show_progress=False),
                    show_progress=False)
    out = []
    for need in needs:
        tokens = bm25s.tokenize([need["need"]], stopwords="en", return_ids=False, show_progress=False)
        docs, scores = retriever.retrieve(tokens, k=K, show_progress=False)
        out.append({"ranked": [records[int(i)]["id"] for i, s in zip(docs[0], scores[0]) if s > 0]})
    return out


def run_dense(records: list[dict[str, Any]], needs: list[dict[str, Any]],
              model: str = "all-MiniLM-L6-v2") -> list[dict[str, Any]]:
    """Each need's top 10 by cosine of ``model``'s vectors (unit length) alone."""
    from matchgraph.matching.semantic import load_encoder

    encoder = load_encoder(model)
    docs = np.asarray(encoder.encode([record_text(r) for r in records]))
    queries = np.asarray(encoder.encode([n["need"] for n in needs]))
    sims = queries @ docs.T
    return [{"ranked": [records[int(i)]["id"] for i in np.argsort(-row, kind="stable")[:K]]} for row in sims]


def summarise(needs: list[dict[str, Any]], runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean metrics per column (``split style``); each run gets its metrics added."""
    per_column: dict[str, list[dict[str, float]]] = {}
    for need, run in zip(needs, runs):
        run.update(metrics(run["ranked"], need["relevant"]))
        per_column.setdefault(f"{need['split']} {need['style']}", []).append(run)
    return {column: {m: float(np.mean([x[m] for x in rows])) for m in MEASURES}
            for column, rows in per_column.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-semantic", action="store_true", help="Skip the --semantic CLI run.")
    parser.add_argument("--json", help="Write the figures and each need's ranking to this JSON file.")
    parser.add_argument("--keep", help="Build the catalogs under this (new) directory and keep them.")
    args = parser.parse_args(argv)
    records, needs = load_set()
    rankers: dict[str, list[dict[str, Any]]] = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="matchgraph-heldout-") as tmp:
        base = Path(args.keep) if args.keep else Path(tmp)
        for semantic in (False,) if args.no_semantic else (False, True):
            name = "matchgraph match --semantic" if semantic else "matchgraph match (default)"
            rankers[name] = run_cli(records, needs, semantic, base / ("semantic" if semantic else "default"))
            print(f"{name}: done ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    rankers["BM25 (bm25s)"] = run_bm25(records, needs)
    rankers["MiniLM-L6 cosine"] = run_dense(records, needs)
    rankers["mpnet-base cosine"] = run_dense(records, needs, "all-mpnet-base-v2")
    print(f"anchors: done ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    report = {name: summarise(needs, runs) for name, runs in rankers.items()}
    print(table_head(["Ranker", *[f"{c} R@10 / nDCG@10 / MRR" for c in COLUMNS]], align="l" + "r" * 4))
    for name, columns in report.items():
        print(table_row([name, *[" / ".join(f"{columns[c][m]:.3f}" for m in MEASURES) for c in COLUMNS]]))
    if args.json:
        per_need = {name: [{"need": n["need"], "split": n["split"], "style": n["style"], **run}
                           for n, run in zip(needs, runs)] for name, runs in rankers.items()}
        Path(args.json).write_text(json.dumps({"means": report, "per_need": per_need}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
