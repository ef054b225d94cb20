"""``matchgraph stats``, ``validate`` and ``export``: counts, SHACL reports, dumps that ingest back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rdflib import Graph

from matchgraph import Catalog, ingest
from matchgraph.export import export, formats
from matchgraph.graph.stats import catalog_stats
from matchgraph.vocab import ID

from conftest import release

BAD = Path(__file__).resolve().parent / "data" / "bad"
PAGE = Path(__file__).resolve().parent / "data" / "comparison_page.txt"


@pytest.fixture
def page_dir(page_catalog_dir: Path, tmp_path: Path) -> Path:
    """A closed catalog directory holding the comparison page."""
    path = tmp_path / "page"
    shutil.copytree(page_catalog_dir, path)
    return path


@pytest.fixture
def examples_dir(example_catalog_dir: Path, tmp_path: Path) -> Path:
    """A closed catalog directory holding the example catalog."""
    path = tmp_path / "examples"
    shutil.copytree(example_catalog_dir, path)
    return path


# ------------------------------------------------------------------ stats


def test_stats_json_has_the_counts(invoke, peek, page_dir: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("stats", "--catalog", page_dir, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert {"entities", "capabilities", "claims", "triples", "stubs", "by_kind"} <= set(data)
    assert (data["capabilities"], data["claims"]) == (16, 32)
    assert data["entities"] == data["stubs"] + 2
    assert data["by_kind"] == {"dataset": 1, "model": 1}
    assert (data["triples"], data["version"]) == peek(page_dir)
    # with the bookkeeping graph, every quad of the store is counted
    everything = invoke("sparql", "--catalog", page_dir, "--format", "json",
                        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    [row] = json.loads(everything.output)["results"]["bindings"]
    assert data["bookkeeping_triples"] > 0
    assert data["triples"] + data["bookkeeping_triples"] == int(row["n"]["value"])


def test_stats_table(invoke, page_dir: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("stats", "--catalog", page_dir)
    assert result.exit_code == 0
    assert "Capabilities  16" in result.output
    assert "Claims        32 (16 unique, 16 vs alternatives)" in result.output


def test_stats_of_an_empty_catalog(catalog: Catalog) -> None:
    data = catalog_stats(catalog)
    assert (data["entities"], data["capabilities"], data["claims"], data["triples"]) == (0, 0, 0, 0)
    assert data["version"] == "empty"


def test_stats_of_the_example_catalog(example_catalog: Catalog) -> None:
    data = catalog_stats(example_catalog)
    described = data["entities"] - data["stubs"]
    assert described >= 32 and sum(data["by_kind"].values()) == described
    assert data["claims"] == data["unique_claims"] + data["alternative_claims"]


# ------------------------------------------------------------------ validate


def test_validate_passes_on_the_example_catalog(invoke, examples_dir: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("validate", "--catalog", examples_dir)
    assert (result.exit_code, result.output.strip()) == (0, "The catalog conforms to the shapes.")
    result = invoke("validate", "--catalog", examples_dir, "--format", "json")
    assert json.loads(result.output) == {"conforms": True, "violations": 0, "problems": []}


def test_validate_fails_on_a_non_conforming_catalog(invoke, page_dir: Path) -> None:  # type: ignore[no-untyped-def]
    loaded = invoke("ingest", BAD / "no_name.ttl", BAD / "capability_without_description.ttl", "--no-validate",
                    "--catalog", page_dir)
    assert loaded.exit_code == 0, loaded.output
    result = invoke("validate", "--catalog", page_dir)
    assert result.exit_code == 1
    assert "2 violations" in result.output
    assert "entity nameless-tool" in result.output and "schema:name" in result.output
    assert "mute-model/capability/silence" in result.output and "dcterms:description" in result.output
    data = json.loads(invoke("validate", "--catalog", page_dir, "--format", "json").output)
    assert data["conforms"] is False and data["violations"] == 2


# ------------------------------------------------------------------ export


def test_export_formats_include_the_rdf_dumps() -> None:
    assert {"ttl", "nt", "nq", "jsonld", "trig"} <= set(formats())


@pytest.fixture(scope="module")
def full_catalog(example_catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set]:
    """A closed catalog with the example cards and the comparison page, and the set of its triples."""
    path = tmp_path_factory.mktemp("full") / "catalog"
    shutil.copytree(example_catalog_dir, path)
    with Catalog(path) as cat:
        ingest(cat, [PAGE])
        triples = set(cat.data_graph())
    del cat
    release()
    return path, triples


@pytest.mark.parametrize("fmt, suffix", [("ttl", ".ttl"), ("nt", ".nt"), ("jsonld", ".jsonld")])
def test_export_then_ingest_gives_the_same_triples(invoke, full_catalog: tuple[Path, set],  # type: ignore[no-untyped-def]
                                                   tmp_path: Path, fmt: str, suffix: str) -> None:
    source, expected = full_catalog
    dump = tmp_path / f"catalog{suffix}"
    result = invoke("export", fmt, "-o", dump, "--catalog", source)
    assert result.exit_code == 0 and dump.stat().st_size > 0
    with Catalog(tmp_path / "copy") as copy:
        report = ingest(copy, [dump])
        assert report.triples_before == 0
        assert copy.distinct_triple_count() == len(expected)
        assert set(copy.data_graph()) == expected


def test_export_to_standard_output(invoke, page_dir: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("export", "ttl", "--catalog", page_dir)
    assert result.exit_code == 0
    graph = Graph().parse(data=result.output, format="turtle")
    assert any(str(o) == "The Pile" for o in graph.objects())


def test_ntriples_export_is_stable_with_each_triple_once(page_catalog: Catalog) -> None:
    first = export(page_catalog, "nt")
    lines = first.splitlines()
    assert len(lines) == len(set(lines)) == page_catalog.distinct_triple_count()
    assert export(page_catalog, "nt") == first  # the store's order, the same every time


def test_jsonld_export_is_self_contained(page_catalog: Catalog) -> None:
    """Expanded JSON-LD: every IRI in full, so reading it back fetches no remote @context."""
    data = json.loads(export(page_catalog, "jsonld"))
    assert isinstance(data, list) and "@context" not in json.dumps(data)
    assert len(Graph().parse(data=json.dumps(data), format="json-ld")) == page_catalog.distinct_triple_count()


def test_unknown_export_format(invoke, page_dir: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("export", "docx", "--catalog", page_dir)
    assert result.exit_code == 2
    assert "unknown export format 'docx'" in result.output and "ttl" in result.output


def test_checking_the_store_in_place_reports_what_checking_a_copy_reports(example_catalog: Catalog) -> None:
    """``validate_catalog`` runs the shapes on the Oxigraph store; the copy is the reference."""
    from matchgraph.store.validate import validate_catalog, validate_graph

    assert validate_catalog(example_catalog).conforms
    example_catalog.update(f"""INSERT DATA {{ GRAPH <urn:test:bad> {{
        <{ID}nameless> a mg:Entity, mg:Tool .
        <{ID}c4> schema:name "A second name for C4" . }} }}""")
    from matchgraph.store.validate import integrity_problems

    in_place, copied = validate_catalog(example_catalog), validate_graph(example_catalog.data_graph())
    integrity = integrity_problems(example_catalog)  # the whole-catalog checks come after the shapes'
    assert not in_place.conforms and in_place.problems == copied.problems + integrity
    assert any("nameless" in p and "schema:name" in p for p in in_place.problems)
    assert any("urn:test:bad holds triples but no source records it" in p for p in integrity)
    assert any("two names from different sources" in p and "A second name for C4" in p for p in integrity)
