"""The catalog store: locations, the Oxigraph engine, named graphs, the version, atomic writes."""

from __future__ import annotations

import gc
from pathlib import Path

import oxrdflib
import pyoxigraph
import pytest
import rdflib.plugins.sparql.processor as rdflib_sparql
from rdflib import Graph, Literal, URIRef

from matchgraph import Catalog, ingest
from matchgraph.store.catalog import resolve_location
from matchgraph.errors import CatalogError, MatchgraphError
from matchgraph.vocab import META_GRAPH, MG, SCHEMA, SCORE_GRAPH, STUB_GRAPH, entity_iri

PAGE = Path(__file__).resolve().parent / "data" / "comparison_page.txt"
G1 = URIRef("urn:x-test:graph-1")
G2 = URIRef("urn:x-test:graph-2")


def graph_of(*names: str) -> Graph:
    graph = Graph()
    for name in names:
        graph.add((entity_iri(name), SCHEMA.name, Literal(name)))
    return graph


# ------------------------------------------------------------------ locations and backends


def test_location_comes_from_argument_then_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHGRAPH_CATALOG", "/from/env")
    assert resolve_location("/given") == "/given"
    assert resolve_location(None) == "/from/env"
    monkeypatch.delenv("MATCHGRAPH_CATALOG")
    assert resolve_location(None) == ".matchgraph"


def test_a_directory_location_is_an_embedded_oxigraph_store(tmp_path: Path) -> None:
    with Catalog(tmp_path / "new" / "cat") as cat:
        assert not (tmp_path / "new").exists() and not cat.exists  # opening to read creates nothing
        cat.write({G1: graph_of("a")})
        assert cat.exists
        live = (tmp_path / "new" / "cat" / "CURRENT").read_text().strip()
        assert (tmp_path / "new" / "cat" / "versions" / live).is_dir()
        assert isinstance(cat.backend.inner, pyoxigraph.Store)
        assert isinstance(cat.dataset.store, oxrdflib.OxigraphStore)
        assert cat.cache_dir.is_dir() and cat.cache_dir.parent == tmp_path / "new" / "cat"
        assert "oxigraph" in repr(cat)


def test_memory_location_is_an_in_memory_oxigraph_store() -> None:
    with Catalog("memory:") as cat:
        assert isinstance(cat.backend.inner, pyoxigraph.Store)
        assert cat.path is None
        cat.write({G1: graph_of("a")})
        assert cat.triple_count() == 1


def test_a_file_is_not_a_catalog_location(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("x")
    with pytest.raises(CatalogError, match="is a file, not a directory"):
        Catalog(path)


def test_sparql_runs_on_oxigraph_not_on_rdflib(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """rdflib's pure-Python SPARQL engine is never called: queries and updates go to Oxigraph."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("rdflib's SPARQL engine was used")

    monkeypatch.setattr(rdflib_sparql.SPARQLProcessor, "query", refuse)
    monkeypatch.setattr(rdflib_sparql.SPARQLUpdateProcessor, "update", refuse)
    catalog.update("INSERT DATA { GRAPH <urn:x-test:g> { mgid:a schema:name 'A' } }")
    assert catalog.scalar("SELECT ?n WHERE { mgid:a schema:name ?n }") == "A"
    assert catalog.ask("ASK { mgid:a ?p ?o }")
    assert len(catalog.query("CONSTRUCT WHERE { ?s ?p ?o }").graph) >= 1
    # an Oxigraph-only behaviour: its engine knows SPARQL 1.1 functions rdflib does not evaluate the same way
    assert catalog.scalar("SELECT (STRLEN(STR(NOW())) > 0 AS ?ok) WHERE {}") is True


def test_project_prefixes_are_predeclared(catalog: Catalog) -> None:
    catalog.write({G1: graph_of("a")})
    for prefix in ("mg:", "mgid:", "mgc:", "schema:", "dcterms:", "prov:", "skos:"):
        assert catalog.query(f"SELECT * WHERE {{ ?s ?p ?o FILTER(?p != {prefix}x) }}") is not None
    assert catalog.scalar("SELECT ?n WHERE { mgid:a schema:name ?n }") == "a"


# ------------------------------------------------------------------ writes, graphs, the version


def test_version_changes_with_every_write_and_only_then(catalog: Catalog) -> None:
    seen = [catalog.version]
    assert seen[0] == "empty"
    catalog.write({G1: graph_of("a")})
    seen.append(catalog.version)
    catalog.query("SELECT * WHERE { ?s ?p ?o }")
    catalog.triple_count()
    assert catalog.version == seen[-1]  # reading is not writing
    catalog.update("INSERT DATA { GRAPH <urn:x-test:g> { mgid:b schema:name 'b' } }")
    seen.append(catalog.version)
    ingest(catalog, [PAGE])
    seen.append(catalog.version)
    ingest(catalog, [PAGE])  # same content, still a write
    seen.append(catalog.version)
    catalog.clear()
    seen.append(catalog.version)
    assert len(set(seen)) == len(seen)


def test_write_returns_the_new_version(catalog: Catalog) -> None:
    token = catalog.write({G1: graph_of("a")})
    assert token == catalog.version


def test_derived_writes_keep_the_data_version(catalog: Catalog) -> None:
    catalog.write({G1: graph_of("a")})
    data, version = catalog.data_version, catalog.version
    catalog.write({SCORE_GRAPH: graph_of("score")}, replace=[SCORE_GRAPH], derived=True)
    assert catalog.version != version and catalog.data_version == data
    catalog.write({G2: graph_of("b")})
    assert catalog.data_version != data


def test_each_source_is_one_named_graph_and_replace_swaps_it(catalog: Catalog) -> None:
    catalog.write({G1: graph_of("a", "b"), G2: graph_of("c")})
    assert catalog.triple_count() == 3
    catalog.write({G1: graph_of("d")}, replace=[G1])
    names = {str(r[0]) for r in catalog.rows("SELECT ?n WHERE { ?e schema:name ?n }")}
    assert names == {"c", "d"}
    assert catalog.rows(f"SELECT ?e WHERE {{ GRAPH <{G1}> {{ ?e ?p ?o }} }}") == [(entity_iri("d"),)]


def test_triple_count_counts_statements_and_leaves_out_bookkeeping(catalog: Catalog) -> None:
    catalog.write({G1: graph_of("a"), G2: graph_of("a")}, sources=[(G1, "a.md", "card")])
    assert catalog.triple_count() == 2  # the same triple stated by two sources
    assert catalog.distinct_triple_count() == 1
    assert catalog.ask(f"ASK {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}")
    assert catalog.sources()[0]["path"] == "a.md" and catalog.sources()[0]["format"] == "card"
    assert len(catalog.data_graph()) == 1


def test_clear_stubs_removes_only_the_stub_triples(catalog: Catalog) -> None:
    stub = Graph()
    stub.add((entity_iri("x"), MG.isStub, Literal(True)))
    stub.add((entity_iri("x"), SCHEMA.name, Literal("X")))
    catalog.write({STUB_GRAPH: stub})
    catalog.write({G1: graph_of("x")}, clear_stubs=[entity_iri("x")])
    assert not catalog.ask("ASK { mgid:x mg:isStub ?s }")
    assert catalog.scalar("SELECT ?n WHERE { mgid:x schema:name ?n }") == "x"


def test_a_failing_write_writes_nothing(catalog: Catalog) -> None:
    catalog.write({G1: graph_of("a")})
    before = (catalog.triple_count(), catalog.version)
    with pytest.raises(MatchgraphError):
        catalog.write({G2: graph_of("b", "c")}, replace=[G1], extra_updates=["THIS IS NOT SPARQL"])
    assert (catalog.triple_count(), catalog.version) == before
    assert catalog.scalar("SELECT ?n WHERE { mgid:a schema:name ?n }") == "a"


def test_the_catalog_persists_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "cat"
    cat = Catalog(path)
    ingest(cat, [PAGE])
    count, version = cat.triple_count(), cat.version
    cat.close()
    del cat
    gc.collect()
    with Catalog(path) as again:
        assert (again.triple_count(), again.version) == (count, version)
        assert again.ask("ASK { mgid:the-pile mg:declaredCapabilityCount 12 }")


def test_serialize_writes_every_data_triple(page_catalog: Catalog) -> None:
    graph = Graph().parse(data=page_catalog.serialize("turtle"), format="turtle")
    assert len(graph) == page_catalog.triple_count()


# ------------------------------------------------------------------ bindings and closing


def test_bindings_of_variables_that_are_not_selected(page_catalog: Catalog) -> None:
    rows = page_catalog.rows("SELECT ?n WHERE { ?e schema:name ?n }", {"e": entity_iri("the-pile")})
    assert [str(r[0]) for r in rows] == ["The Pile"]


def test_close_releases_the_store(tmp_path: Path) -> None:
    gc.disable()
    try:
        first = Catalog(tmp_path / "cat")
        first.triple_count()
        first.close()
        with Catalog(tmp_path / "cat") as second:
            assert second.triple_count() == 0
    finally:
        gc.enable()


# ------------------------------------------------------------------ updates that make a file: IRI an entity
@pytest.mark.parametrize(("update", "looked_at"), [
    # not looked at: no triple added, or only triples spelled out without "file:"
    ("DELETE WHERE { GRAPH ?g { mgid:x ?p ?o } }", False),
    ("DROP SILENT ALL", False),
    ("INSERT DATA { mgid:x schema:description 'a load of data' }", False),
    ("INSERT DATA { GRAPH mgid:g { mgid:x a mg:Entity } }", False),
    # looked at: a template, a LOAD, a text naming file: or escaping its letters
    ("INSERT { GRAPH <urn:notes> { ?e a mg:Entity } } WHERE { ?e schema:name ?n }", True),
    ("DELETE { ?e schema:url ?u } INSERT{ ?e schema:url <https://x.org/> } WHERE { ?e schema:url ?u }", True),
    ("LOAD # the document\n<https://example.org/data.ttl>", True),
    ("LOADSILENT<https://example.org/data.ttl>", True),
    ("INSERT DATA { <file:///etc/passwd> schema:name 'passwd' }", True),
    (r"INSERT DATA { <fil\u0065:///etc/passwd> a mg:Entity }", True),
    ("BASE <file:///etc/> INSERT DATA { <passwd> a mg:Entity }", True),
])
def test_an_update_text_says_whether_a_file_iri_may_become_an_entity(update: str, looked_at: bool) -> None:
    """So that most updates cost what they did: those that cannot add such an entity are not looked
    at after they run (the others have the catalog's entity types looked at)."""
    from matchgraph.store.local_entities import may_add_local_entity

    assert may_add_local_entity(update) is looked_at
