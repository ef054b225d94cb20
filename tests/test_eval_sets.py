"""The evaluation sets on real metadata (bench/eval_sets) are what their generators make from the
examples, and are well formed: every answer is a record, tune and test needs do not share a task."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))


@pytest.mark.parametrize("module, name", [("make_eval_hub", "hub.json"), ("make_eval_sets", "mteb.json")])
def test_a_set_is_rebuilt_identically_from_the_examples(module: str, name: str) -> None:
    import importlib

    build = importlib.import_module(module).build
    committed = json.loads((ROOT / "bench" / "eval_sets" / name).read_text(encoding="utf-8"))
    assert json.loads(json.dumps(build(), ensure_ascii=False)) == committed


@pytest.mark.parametrize("name", ["hub.json", "mteb.json", "heldout_mix.json"])
def test_a_set_is_well_formed(name: str) -> None:
    data = json.loads((ROOT / "bench" / "eval_sets" / name).read_text(encoding="utf-8"))
    ids = [r["id"] for r in data["records"]]
    assert len(ids) == len(set(ids)) and all(r["name"] and r["description"] for r in data["records"])
    splits: dict[str, set[str]] = {"tune": set(), "test": set()}
    for need in data["needs"]:
        assert need["split"] in splits and need["style"] in ("sentence", "short") and need["need"].strip()
        assert need["relevant"] and set(need["relevant"]) <= set(ids), need["need"]
        splits[need["split"]].add(need["label"])
    assert splits["tune"] and splits["test"] and not splits["tune"] & splits["test"]
    assert data["licence"]
