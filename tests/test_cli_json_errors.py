"""With ``--format json`` an error is one JSON object on standard error (what a script reads),
standard output stays empty, and the exit code is the text mode's."""

from __future__ import annotations

import json
from pathlib import Path


def _error(outcome) -> dict:  # type: ignore[no-untyped-def]
    """The JSON error on standard error (``output`` is both streams: equal to it, nothing was on standard output)."""
    assert outcome.stderr.count("\n") == 1, outcome.stderr  # one line
    return json.loads(outcome.stderr)


def test_an_unknown_entity_is_a_json_error_with_its_candidates(invoke, example_copy: Path) -> None:  # type: ignore[no-untyped-def]
    for args in (["explain", "the-pil"], ["compare", "the-pil", "c4"], ["neighbours", "the-pil"]):
        outcome = invoke(*args, "--format", "json", "--catalog", example_copy)
        assert outcome.exit_code == 2 and outcome.output == outcome.stderr
        error = _error(outcome)
        assert error["error"] == "EntityNotFound" and error["exit_code"] == 2
        assert error["name"] == "the-pil" and error["candidates"][0] == "the-pile"
        assert "the-pile" in error["hint"]
    text = invoke("explain", "the-pil", "--catalog", example_copy)  # the text mode is unchanged
    assert text.exit_code == 2 and "no entity called 'the-pil'" in text.stderr and not text.stderr.startswith("{")


def test_a_bad_file_is_a_json_error_naming_file_and_line(invoke, example_copy: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.md"
    bad.write_text("---\nid: broken\nname: [unclosed\n---\n", encoding="utf-8")
    before = invoke("stats", "--format", "json", "--catalog", example_copy).output
    outcome = invoke("ingest", str(bad), "--format", "json", "--catalog", example_copy)
    assert outcome.exit_code == 1 and outcome.output == outcome.stderr
    error = _error(outcome)
    assert error["file"] == str(bad) and isinstance(error["line"], int) and error["line"] >= 2
    assert error["error"] == "ParseError" and error["detail"] and error["message"].startswith(str(bad))
    assert invoke("stats", "--format", "json", "--catalog", example_copy).output == before


def test_a_system_error_is_a_json_error(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a_file = tmp_path / "not-a-catalog"
    a_file.write_text("x", encoding="utf-8")
    outcome = invoke("stats", "--format", "json", "--catalog", a_file)
    assert outcome.exit_code == 1 and outcome.output == outcome.stderr
    error = _error(outcome)
    assert error["error"] and error["message"] and error["exit_code"] == 1


def test_a_usage_error_found_by_the_command_is_a_json_error(invoke, example_copy: Path) -> None:  # type: ignore[no-untyped-def]
    """Errors a command raises as click usage errors once it runs (options that exclude each other,
    --update-url for a folder catalog) were printed as text, usage lines and all."""
    weights = Path(__file__).resolve().parent.parent / "examples" / "weights" / "quality-first.yaml"
    for args, message in (
            (["scores", "--weights", weights, "--default-weights"], "give --weights FILE or --default-weights, not both"),
            (["--update-url", "http://127.0.0.1:7878/update", "stats"], "--update-url is for a catalog at a SPARQL")):
        outcome = invoke(*args, "--format", "json", "--catalog", example_copy)
        assert outcome.exit_code == 2 and outcome.output == outcome.stderr
        error = _error(outcome)
        assert error["error"] == "UsageError" and error["exit_code"] == 2 and error["message"].startswith(message)
    text = invoke("scores", "--weights", weights, "--default-weights", "--catalog", example_copy)  # text mode unchanged
    assert text.exit_code == 2 and "Error: give --weights FILE or --default-weights, not both" in text.stderr
