"""Build the evaluation sets on real metadata we did not write (MTEB task metadata, Croissant).

The records are the first sentence of each MTEB task's own description (``examples/mteb/tasks.jsonl``,
extracted from the ``mteb`` package, Apache-2.0) and of each Croissant example's description
(``examples/croissant``): a name and one sentence each, nothing else -- no capabilities, no claims.
The needs come from MTEB's own categories, written two ways:

- a *short name*: the category label as MTEB spells it (``Sentiment/Hate speech``, ``legal retrieval``);
- a *sentence*: the first sentence of the description of another task of that category, which is
  left out of the catalog (a real one-sentence statement of such a task, not written by us).

The answers are the catalog's tasks of that category (graded 2 when they also share the held-out
task's MTEB type, else 1, for the sentence needs). Two families of needs:

- ``subtype``: MTEB ``task_subtypes`` (what the task is about: claim verification, code retrieval,
  emotion classification, ...); split by a hash of the label into ``tune`` and ``test`` halves;
- ``domain-type``: an MTEB domain with a task type (``medical retrieval``, ``legal classification``);
  all ``test``.

Only the ``tune`` half may be used to choose weights; the ranker is reported on every set.

Usage::

    python bench/make_eval_sets.py          # writes bench/eval_sets/mteb.json (deterministic)
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "eval_sets" / "mteb.json"
#: Per category, at most this many catalog answers (keeps recall@10 meaningful) and at least this many.
MAX_ANSWERS, MIN_ANSWERS = 8, 3
TYPE_WORDS = {"Retrieval": "retrieval", "Classification": "classification", "Clustering": "clustering",
              "Reranking": "reranking", "PairClassification": "pair classification", "STS": "sentence similarity",
              "BitextMining": "bitext mining"}
DOMAINS = ("Legal", "Medical", "Financial", "News", "Academic", "Programming", "Reviews", "Social", "Government",
           "Chemistry", "Encyclopaedic", "Fiction", "Entertainment", "Engineering", "Religious", "Blog")
_SENTENCE = re.compile(r"(?<=[a-z0-9)\]])[.!?](?=\s+[A-Z(\[]|\s*$)")


def first_sentence(text: str) -> str:
    """The first sentence of a description (whitespace collapsed, markdown headings dropped)."""
    text = re.sub(r"\s+", " ", re.sub(r"#+ [^\n]*\n", " ", text or "")).strip()
    m = _SENTENCE.search(text)
    return (text[:m.start() + 1] if m else text).strip()


def _h(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _english(task: dict) -> bool:
    return any(lang.startswith("eng-") for lang in task.get("eval_langs") or [])


def build() -> dict:
    tasks = [json.loads(line) for line in (ROOT / "examples" / "mteb" / "tasks.jsonl").open(encoding="utf-8")]
    usable, seen = [], set()
    for t in sorted(tasks, key=lambda t: _h(t["name"])):
        sentence = first_sentence(t.get("description", ""))
        words = len(sentence.split())
        if not (6 <= words <= 60) or sentence.lower() in seen or not _english(t):
            continue
        seen.add(sentence.lower())
        usable.append({**t, "sentence": sentence})
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for t in usable:
        for s in t.get("task_subtypes") or []:
            groups[("subtype", s)].append(t)
        if t["type"] in TYPE_WORDS:
            for d in t.get("domains") or []:
                if d in DOMAINS:
                    groups[("domain-type", f"{d.lower()} {TYPE_WORDS[t['type']]}")].append(t)
    catalog: dict[str, dict] = {}
    held_out: set[str] = set()
    plan = []
    for (family, label), members in sorted(groups.items()):
        if len(members) < MIN_ANSWERS + 1:
            continue
        query_task = members[0]                      # hash order: an arbitrary, fixed pick
        plan.append((family, label, query_task, members[1:]))
        held_out.add(query_task["name"])
    needs = []
    for family, label, query_task, members in plan:
        answers = [m for m in members if m["name"] not in held_out][:MAX_ANSWERS]
        if len(answers) < MIN_ANSWERS:
            continue
        for m in answers:
            catalog[m["name"]] = m
        split = "test" if family != "subtype" or int(_h(label), 16) % 2 else "tune"
        short = {m["name"]: 1 for m in answers}
        sentence = {m["name"]: 2 if m["type"] == query_task["type"] else 1 for m in answers}
        needs.append({"family": family, "label": label, "split": split, "style": "short", "need": label,
                      "relevant": short})
        needs.append({"family": family, "label": label, "split": split, "style": "sentence",
                      "need": query_task["sentence"], "from_task": query_task["name"], "relevant": sentence})
    records = [{"id": name, "name": name, "kind": "benchmark", "description": t["sentence"], "source": "mteb"}
               for name, t in sorted(catalog.items())]
    for path in sorted((ROOT / "examples" / "croissant").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        records.append({"id": f"croissant-{path.stem}", "name": str(data.get("name") or path.stem), "kind": "dataset",
                        "description": first_sentence(str(data.get("description") or "")), "source": "croissant"})
    return {"about": __doc__.split("\n\n")[0] + " See bench/make_eval_sets.py.",
            "licence": "Apache-2.0 (MTEB task metadata, mteb 2.26.24); Croissant examples as in examples/croissant",
            "records": records, "needs": needs}


def main() -> int:
    data = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    by = defaultdict(int)
    for n in data["needs"]:
        by[(n["family"], n["split"], n["style"])] += 1
    print(f"{len(data['records'])} records, {len(data['needs'])} needs -> {OUT.relative_to(ROOT)}")
    for key, count in sorted(by.items()):
        print(" ", *key, count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
