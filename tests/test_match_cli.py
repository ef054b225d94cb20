"""Tests of the ``match`` and ``matches`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matchgraph import Catalog
from matchgraph.matching.match import RECORD_ENV

NEED = "small fast masked language model for CPU inference"


def count_events(path: Path) -> int:
    import gc

    gc.collect()
    cat = Catalog(path)
    try:
        return int(cat.scalar("SELECT (COUNT(?ev) AS ?n) WHERE { ?ev a mg:MatchEvent }") or 0)
    finally:
        cat.close()
        del cat
        gc.collect()


def test_match_table_puts_distilroberta_first(invoke, example_copy: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--catalog", example_copy, "match", NEED)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Need: {NEED}"
    assert lines[1].startswith("Concepts: masked-language-modelling (")
    header = next(i for i, line in enumerate(lines) if line.startswith("#"))
    assert lines[header].split()[:5] == ["#", "ID", "KIND", "SCORE", "MATCHED"]
    first = lines[header + 2].split()
    assert first[:3] == ["1", "distilroberta-base", "model"]
    assert "Recorded as https://w3id.org/matchgraph/match/" in result.stderr
    assert count_events(example_copy) == 1


def test_match_json(invoke, example_copy: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("match", NEED, "--format", "json", "--limit", "3", "--no-record", "--catalog", example_copy)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["query"] == NEED and data["event"] is None
    assert [r["position"] for r in data["results"]] == [1, 2, 3]
    first = data["results"][0]
    assert first["id"] == "distilroberta-base"
    assert {"id", "name", "kind", "score", "matched", "why"} <= set(first)
    assert isinstance(first["matched"], list) and "Masked-token prediction" in first["matched"]
    assert count_events(example_copy) == 0


def test_three_recorded_matches_and_no_record(invoke, example_copy: Path) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        assert invoke("match", NEED, "--catalog", example_copy).exit_code == 0
    assert invoke("match", NEED, "--no-record", "--catalog", example_copy).exit_code == 0
    assert count_events(example_copy) == 3
    result = invoke("sparql", """SELECT (COUNT(?r) AS ?n) WHERE { ?r mg:matchedEntity mgid:distilroberta-base ;
        mg:position ?p FILTER(?p <= 10) }""", "--format", "json", "--catalog", example_copy)
    rows = json.loads(result.output)["results"]["bindings"]
    assert int(rows[0]["n"]["value"]) == 3


def test_recording_off_in_the_environment(invoke, example_copy: Path,  # type: ignore[no-untyped-def]
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RECORD_ENV, "0")
    result = invoke("match", NEED, "--catalog", example_copy)
    assert result.exit_code == 0 and "Recorded" not in result.stderr
    assert count_events(example_copy) == 0


def test_kind_filter_and_bad_kind(invoke, example_copy: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("match", "compression", "--kind", "format", "--format", "json", "--no-record", "--catalog", example_copy)
    assert result.exit_code == 0
    kinds = {r["kind"] for r in json.loads(result.output)["results"]}
    assert kinds == {"format"}
    bad = invoke("match", "compression", "--kind", "spaceship", "--no-record", "--catalog", example_copy)
    assert bad.exit_code == 2
    assert "unknown kind 'spaceship'" in bad.output and "Hint: use one of: model" in bad.output


def test_no_result_and_empty_need(invoke, example_copy: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("match", "zzyzx qwvv", "--no-record", "--catalog", example_copy)
    assert result.exit_code == 0 and "No entity matches this need." in result.output
    empty = invoke("match", "  ", "--catalog", example_copy)
    assert empty.exit_code == 2 and "the need is empty" in empty.output


def test_matches_lists_events(invoke, example_copy: Path) -> None:  # type: ignore[no-untyped-def]
    empty = invoke("matches", "--catalog", example_copy)
    assert empty.exit_code == 0 and "No match events yet" in empty.output
    invoke("match", NEED, "--catalog", example_copy)
    invoke("match", "open recreation of the llama training data", "--catalog", example_copy)
    table = invoke("matches", "--catalog", example_copy)
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == ["STARTED", "QUERY", "RESULTS", "TOP"]
    assert "open recreation of the llama" in lines[2] and "redpajama" in lines[2]
    assert "distilroberta-base" in lines[3]
    data = json.loads(invoke("matches", "--limit", "1", "--format", "json", "--catalog", example_copy).output)
    assert len(data["events"]) == 1
    assert data["events"][0]["query"] == "open recreation of the llama training data"
    assert data["events"][0]["results"][0] == {"position": 1, "id": "redpajama",
                                               "score": data["events"][0]["results"][0]["score"]}


def _semantic_and_default_without_the_extra(invoke, example_copy: Path,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """``match --semantic`` and a default ``match`` with the semantic extra's packages hidden."""
    import sys

    import matchgraph.matching.semantic as sm

    for _dist, module, _sub in sm.MODEL_PACKAGES:
        monkeypatch.setitem(sys.modules, module, None)
    sm._load_encoder.cache_clear()
    try:
        return (invoke("match", NEED, "--semantic", "--no-record", "--catalog", example_copy),
                invoke("match", NEED, "--no-record", "--catalog", example_copy))
    finally:
        sm._load_encoder.cache_clear()


def test_semantic_flag_without_the_extra(invoke, example_copy: Path,  # type: ignore[no-untyped-def]
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # an install without its dependencies
    result, default = _semantic_and_default_without_the_extra(invoke, example_copy, monkeypatch)
    assert result.exit_code == 2
    assert "onnxruntime is not installed" in result.output and "Traceback" not in result.output
    assert "all-mpnet-base-v2 runs with onnxruntime only" in result.output  # the extra cannot stand in for it
    assert "pip install matchgraph brings onnxruntime" in result.output
    # the default match falls back to the static sentence vectors
    assert default.exit_code == 0 and "distilroberta-base" in default.output


@pytest.mark.parametrize("command", ["match", "matches"])
def test_help_has_an_example(invoke, command: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output and f"matchgraph {command}" in result.output


# ------------------------------------------------------------------ the table fits the terminal


def _long_results() -> dict:
    ids = ["distilroberta-base", "rikkabotan-quantized-stable-static-embedding-fast-retrieval-mrl-bilingual-ja-en"]
    return {"query": NEED, "kind": None, "kind_hint": "model", "event": None,
            "concepts": [{"concept": "masked-language-modelling", "score": 0.72},
                         {"concept": "cpu-edge-inference", "score": 0.69}],
            "results": [{"position": i + 1, "id": slug, "stub": False, "kind": "model", "score": 1.0 - i / 10,
                         "matched": ["Masked-token prediction", "Post-training quantization"],
                         "why": {"terms": ["masked", "inference", "model", "small"],
                                 "concepts": [{"concept": "masked-language-modelling"}],
                                 "graph": {"alternative_of": ["roberta-base"]}, "components": {}}}
                        for i, slug in enumerate(ids)]}


@pytest.mark.parametrize("width", [60, 80, 100, 120])
def test_match_table_fits_narrow_terminals(width: int) -> None:
    from matchgraph.cli.match_cmds import match_table

    lines = match_table(_long_results(), width).splitlines()
    assert max(len(line) for line in lines) <= width
    assert lines[2].split()[:2] == ["1", "distilroberta-base"]  # a short ID is never cut


def test_match_table_at_80_columns_puts_why_on_its_own_line() -> None:
    from matchgraph.cli.match_cmds import match_table

    lines = match_table(_long_results(), 80).splitlines()
    assert lines[0].split() == ["#", "ID", "KIND", "SCORE", "MATCHED"]
    assert lines[3].strip().startswith("why: terms: masked, inference, model")


def test_match_table_is_full_at_wide_terminals() -> None:
    from matchgraph.cli.match_cmds import match_table

    text = match_table(_long_results(), 240)
    assert "…" not in text.replace("rikkabotan-quantized-stable-static-embedding-fast-retrieval-mrl-bilingual-ja-en", "")
    assert "Masked-token prediction (+1)" in text
    assert "terms: masked, inference, model; concepts: masked-language-modelling; alternative to roberta-base" in text


def test_match_command_follows_columns(invoke, example_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COLUMNS", "80")
    result = invoke("--catalog", example_copy, "match", NEED, "--no-record")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_a_damaged_model_file_is_an_error_for_semantic_and_a_fallback_by_default(  # type: ignore[no-untyped-def]
        invoke, example_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matchgraph.matching.semantic as sm

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "reviews.md").write_text("---\nid: film-reviews\nname: film-reviews\nkind: dataset\n"
                                      "description: Movie reviews labelled positive or negative.\n---\n",
                                      encoding="utf-8")
    assert invoke("ingest", str(plain), "--catalog", example_copy).exit_code == 0  # a record the encoder would read
    damaged = tmp_path / "model.onnx"
    damaged.write_bytes(b"\x08\x07 not a model")
    monkeypatch.setattr(sm, "ONNX_FILE", damaged)
    monkeypatch.setattr(sm, "SEMANTIC_ONNX_FILE", damaged)
    result, default = _semantic_and_default_without_the_extra(invoke, example_copy, monkeypatch)
    assert result.exit_code == 2 and "could not be loaded" in result.output and "Traceback" not in result.output
    assert default.exit_code == 0 and "distilroberta-base" in default.output
