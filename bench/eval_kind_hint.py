"""Does the way a need names a kind change what it finds, when it acts on that kind?

The kind hint (``kind_hint``) gives the kind a need asks for a 1.3x boost. A need that acts on a
kind ("evaluate embedding models on retrieval") asks for something else (a benchmark), and the
hint used to read it as asking for a model. This script builds a catalog of both kinds from real
metadata we did not write: the 278 records of the *mteb* set (``bench/eval_sets/mteb.json``: MTEB
tasks and Croissant datasets, kinds benchmark and dataset) beside the 968 embedding models of
``examples/mteb/models.jsonl`` (kind model, known by their name alone), and matches the set's 57
short category needs ("academic classification", with the answers MTEB's metadata gives) wrapped
in phrasings, each through ``match()`` as ``matchgraph match`` does, with recording off.

Reports recall@10 / nDCG@10 per split (tune, test) and phrasing.

Usage::

    python bench/eval_kind_hint.py
    python bench/eval_kind_hint.py --phrasings "{}|Evaluate embedding models on {}"
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _tables import table_head, table_row  # noqa: E402
from eval_match import metrics  # noqa: E402

PHRASINGS = ("{}", "Evaluate embedding models on {}", "Compare models on {} tasks", "Benchmark models on {}",
             "Which benchmark tests {}", "I need a dataset for {}")


def build(folder: Path) -> tuple[Any, dict[str, Any]]:
    """The catalog (the *mteb* set's records and the MTEB models as cards) and the set."""
    from matchgraph import Catalog, ingest
    from matchgraph.vocab import slugify

    data = json.loads((ROOT / "bench" / "eval_sets" / "mteb.json").read_text(encoding="utf-8"))
    cards = folder / "cards"
    cards.mkdir()
    fronts = [{"id": slugify(r["id"]), "name": r["name"], "kind": r["kind"], "description": r["description"]}
              for r in data["records"]]
    for line in (ROOT / "examples" / "mteb" / "models.jsonl").read_text(encoding="utf-8").splitlines():
        model = json.loads(line)
        fronts.append({"id": slugify(model["name"]), "name": model["name"], "kind": "model"})
    for front in fronts:
        (cards / f"{front['id']}.md").write_text(f"---\n{json.dumps(front)}\n---\n", encoding="utf-8")
    catalog = Catalog(str(folder / "catalog"))
    ingest(catalog, [cards])
    return catalog, data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phrasings", default="|".join(PHRASINGS),
                        help="'|'-separated templates, {} standing for the short need.")
    args = parser.parse_args(argv)
    from matchgraph.matching.match import kind_hint, match
    from matchgraph.vocab import slugify

    phrasings = [p for p in args.phrasings.split("|") if p]
    rows = []
    with tempfile.TemporaryDirectory(prefix="matchgraph-kind-") as tmp:
        catalog, data = build(Path(tmp))
        record_of = {slugify(r["id"]): r["id"] for r in data["records"]}
        needs = [n for n in data["needs"] if n["style"] == "short"]
        for phrasing in phrasings:
            per_split: dict[str, list[dict[str, float]]] = {}
            hints = set()
            for need in needs:
                text = phrasing.format(need["need"])
                hints.add(kind_hint(text))
                ranked = [record_of.get(i, i) for i in match(catalog, text, record=False).ids]
                per_split.setdefault(need["split"], []).append(metrics(ranked, need["relevant"]))
            cells = [" / ".join(f"{np.mean([x[m] for x in per_split[s]]):.3f}" for m in ("recall@10", "ndcg@10"))
                     for s in ("test", "tune")]
            rows.append([f"`{phrasing}`", ", ".join(sorted(str(h) for h in hints)), *cells])
            print(f"{phrasing}: done", file=sys.stderr)
        catalog.close()
    print(table_head(["phrasing", "kind hint", "test R@10 / nDCG@10", "tune R@10 / nDCG@10"]))
    for row in rows:
        print(table_row(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
