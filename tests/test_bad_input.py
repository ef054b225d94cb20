"""Bad input: an error naming the file and line, saying what is wrong, exit code not 0, catalog unchanged.

Every case runs the real command line on a catalog that already holds the comparison page, and
checks that neither the triple count nor the version moved.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from matchgraph import Catalog, ingest
from matchgraph.errors import ConflictError, InputError, ParseError, SchemaError, ValidationError

DATA = Path(__file__).resolve().parent / "data"
BAD = DATA / "bad"
CARDS = DATA / "cards"


@pytest.fixture
def seeded(page_catalog_dir: Path, tmp_path: Path) -> Path:
    """A closed catalog directory holding the comparison page (so it is not empty)."""
    path = tmp_path / "seeded"
    shutil.copytree(page_catalog_dir, path)
    return path


@pytest.fixture
def refused(invoke, peek, seeded: Path):  # type: ignore[no-untyped-def]
    """``refused(*paths)``: run ``matchgraph ingest`` on bad input; return the error text after
    checking the exit code and that the catalog did not change."""

    def run(*paths: Path) -> str:
        before = peek(seeded)
        assert before[0] > 0
        result = invoke("ingest", *paths, "--catalog", seeded)
        code, out = result.exit_code, result.output
        assert code != 0, out
        assert "Traceback" not in out
        assert out.startswith("Error: ")
        assert peek(seeded) == before, "the catalog changed"
        return out

    return run


def test_invalid_yaml_front_matter(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "invalid_yaml.md")
    assert "invalid_yaml.md:5: invalid YAML front matter" in out


def test_unknown_kind(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "unknown_kind.md")
    assert "unknown_kind.md:4: unknown kind 'spaceship'" in out
    assert "model, dataset" in out  # says what would be accepted


def test_missing_id(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "missing_id.md")
    assert "missing_id.md:2: missing id" in out
    assert "id: nameless-model" in out  # suggests one


def test_same_id_with_conflicting_facts_in_one_call(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "conflict")
    assert "second.md:5: entity 'twin-model' has license 'apache-2.0' here but 'mit' at" in out
    assert "first.md:5" in out


def test_same_id_conflicting_with_the_catalog(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "kind_conflict.md")
    assert "kind_conflict.md:4: entity 'the-pile' is a model here but the catalog already has it as a dataset" in out
    assert "comparison_page.txt" in out  # where the catalog got it from


def test_a_fact_conflicting_with_the_catalog(refused, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    card = tmp_path / "pile-pricing.md"
    card.write_text("---\nid: the-pile\nname: The Pile\nkind: dataset\npricing: Paid\n---\n", encoding="utf-8")
    out = refused(card)
    assert "pile-pricing.md:5: entity 'the-pile' has pricing 'Paid' here but 'Free' in the catalog" in out


def test_turtle_syntax_error(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "syntax_error.ttl")
    assert "syntax_error.ttl:6: Turtle syntax error" in out


def test_shacl_violation_entity_without_a_name(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "no_name.ttl")
    assert "no_name.ttl:4" in out
    assert "does not satisfy the catalog shapes" in out
    assert "entity nameless-tool" in out and "schema:name" in out and "needs a name" in out


def test_shacl_violation_capability_without_a_description(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "capability_without_description.ttl")
    assert "capability_without_description.ttl:10" in out
    assert "mute-model/capability/silence" in out and "dcterms:description" in out and "needs a description" in out


def test_unreadable_file_not_utf8(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "not_utf8.md")
    assert "not_utf8.md:3: the file is not UTF-8 text" in out


def test_unreadable_file_broken_link(refused, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    link = tmp_path / "gone.md"
    os.symlink(tmp_path / "missing-target.md", link)
    out = refused(link)
    assert "gone.md: cannot read the file: it is a broken symbolic link" in out


def test_unreadable_file_inside_a_folder(refused, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "cards"
    folder.mkdir()
    shutil.copy(CARDS / "toy-bench.md", folder / "toy-bench.md")
    os.symlink(tmp_path / "missing-target.md", folder / "gone.md")
    out = refused(folder)
    assert "gone.md: cannot read the file" in out  # and toy-bench.md was not written either


def test_nonexistent_path(refused, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = refused(tmp_path / "nowhere.md")
    assert "nowhere.md: no such file or folder" in out


@pytest.mark.parametrize("command", [["ingest"], ["import", "croissant"], ["import", "mteb"], ["import", "hf"]])
@pytest.mark.parametrize(("url", "message", "hint"), [
    ("https://example.org/data/card.ttl", "https://example.org/data/card.ttl is a URL, and matchgraph reads local files only",
     "Hint: download it first (curl -LO https://example.org/data/card.ttl) and give the file"),
    ("file:///etc/hosts", "file:///etc/hosts is a URL; give the path itself", "Hint: write it as a path: /etc/hosts"),
])
def test_a_url_given_as_a_path_is_named_as_one(invoke, peek, seeded: Path, command: list[str], url: str,  # type: ignore[no-untyped-def]
                                                message: str, hint: str) -> None:
    # was "http:/example.org/...: no such file or folder": the path as click's Path folded it
    before = peek(seeded)
    result = invoke(*command, url, "--catalog", seeded)
    assert result.exit_code == 1, result.output
    assert result.output.startswith(f"Error: {message}"), result.output
    assert hint in result.output
    assert peek(seeded) == before


def test_bad_metrics_value(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "bad_metric.md")
    assert "bad_metric.md:6: metric 'downloads': 'lots' is not a number" in out


def test_unknown_relation_key(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "unknown_relation.md")
    assert "unknown_relation.md:7: unknown relation 'inspiredBy'" in out
    assert "trainedOn" in out


def test_bad_url(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "bad_url.md")
    assert "bad_url.md:5: url 'huggingface dot co slash addressed-model' is not an http(s) URL" in out


def test_malformed_comparison_page(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "malformed_page.txt")
    assert "malformed_page.txt:5: table row has 4 cells, expected 3" in out


def test_invalid_json(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "invalid.json")
    assert "invalid.json:5: invalid JSON" in out


def test_invalid_json_ld(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "invalid.jsonld")
    assert "invalid.jsonld:4: invalid JSON" in out


def test_id_that_is_not_a_slug(refused, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    card = tmp_path / "spaced.md"
    card.write_text("---\nkind: model\nid: Spaced Id!\n---\n", encoding="utf-8")
    out = refused(card)
    assert "spaced.md:3: id 'Spaced Id!' is not a slug" in out and "spaced-id" in out


def test_front_matter_never_closed(refused, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    card = tmp_path / "open.md"
    card.write_text("---\nid: open\nkind: model\n\n## Capability\ntext\n", encoding="utf-8")
    out = refused(card)
    assert "open.md:1: the YAML front matter is never closed" in out


def test_file_of_a_kind_ingest_does_not_read(refused, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    table = tmp_path / "table.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    out = refused(table)
    assert "table.csv: ingest does not read .csv files" in out


def test_markdown_that_is_neither_card_nor_page(refused, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    note = tmp_path / "note.md"
    note.write_text("# Just notes\n\nNothing to ingest.\n", encoding="utf-8")
    out = refused(note)
    assert "note.md:1: neither an entity card" in out


def test_every_bad_file_of_a_call_is_reported(refused) -> None:  # type: ignore[no-untyped-def]
    out = refused(BAD / "unknown_kind.md", BAD / "missing_id.md", BAD / "syntax_error.ttl")
    for fragment in ("unknown_kind.md:4", "missing_id.md:2", "syntax_error.ttl:6"):
        assert fragment in out


def test_one_bad_file_keeps_the_good_ones_out(catalog: Catalog) -> None:
    ingest(catalog, [CARDS / "toy-bench.md"])
    before = (catalog.triple_count(), catalog.version)
    with pytest.raises(InputError):
        ingest(catalog, [CARDS / "toy-corpus.md", CARDS / "full-model.md", BAD / "no_name.ttl"])
    assert (catalog.triple_count(), catalog.version) == before
    assert not catalog.ask("ASK { mgid:toy-corpus ?p ?o }")


@pytest.mark.parametrize("name, error", [
    ("invalid_yaml.md", ParseError), ("unknown_kind.md", SchemaError), ("missing_id.md", SchemaError),
    ("conflict", ConflictError), ("syntax_error.ttl", ParseError), ("no_name.ttl", ValidationError),
    ("not_utf8.md", ParseError), ("bad_metric.md", SchemaError), ("unknown_relation.md", SchemaError),
    ("bad_url.md", SchemaError), ("malformed_page.txt", ParseError), ("invalid.json", ParseError),
])
def test_library_raises_typed_errors_with_locations(catalog: Catalog, name: str, error: type) -> None:
    with pytest.raises(error) as info:
        ingest(catalog, [BAD / name])
    assert info.value.location is not None and info.value.location.line is not None
    assert catalog.triple_count() == 0 and catalog.version == "empty"


def test_validation_error_lists_every_problem_in_words(catalog: Catalog) -> None:
    with pytest.raises(ValidationError) as info:
        ingest(catalog, [BAD / "no_name.ttl", BAD / "capability_without_description.ttl"])
    problems = info.value.problems
    assert any("nameless-tool" in p and "schema:name" in p for p in problems)
    assert any("mute-model/capability/silence" in p and "dcterms:description" in p for p in problems)
    message = str(info.value)
    assert "no_name.ttl" in message and "capability_without_description.ttl" in message  # both files named


def test_paths_in_suggested_commands_are_quoted(tmp_path: Path) -> None:
    """A command a hint suggests survives a path with spaces or quotes when pasted into a shell: each
    path in it reads back whole with shell-like splitting (it was pasted unquoted)."""
    import shlex

    from matchgraph.errors import InputError, Location
    from matchgraph.sources.ingest import _import_hint, _mteb_advice
    from matchgraph.web.site import _elsewhere_hint

    folder = tmp_path / "MTEB data" / "it's here"
    hint = _mteb_advice(folder / "models.jsonl")
    assert shlex.split(hint.split(": ", 1)[1])[-1] == str(folder), hint
    hint = _import_hint(InputError("x", location=Location(str(folder / "c 4.json"))), "croissant").hint or ""
    assert shlex.split(hint.split(": ", 1)[1].split(" reads it")[0]) == [
        "matchgraph", "import", "croissant", str(folder / "c 4.json")], hint
    out = tmp_path / "my site"
    hint = _elsewhere_hint(out, out)
    assert shlex.split(hint.split(" as ", 1)[1].split(",")[0]) == ["matchgraph", "site", "my site"], hint
