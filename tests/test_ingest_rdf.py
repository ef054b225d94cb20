"""RDF input: Turtle, N-Triples and JSON-LD files that follow the vocabulary and satisfy the shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import BNode

from matchgraph import Catalog, ingest
from matchgraph.sources.rdf import parse_rdf
from matchgraph.vocab import STUB_GRAPH, entity_iri

PAGE = Path(__file__).resolve().parent / "data" / "comparison_page.txt"

TURTLE = """@prefix mg: <https://w3id.org/matchgraph/ns#> .
@prefix mgid: <https://w3id.org/matchgraph/id/> .
@prefix schema: <https://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .

mgid:toy-tokenizer a mg:Entity, mg:Tool ;
    dcterms:identifier "toy-tokenizer" ;
    schema:name "Toy Tokenizer" ;
    schema:alternateName "ToyTok" ;
    dcterms:license "mit" ;
    schema:url <https://example.org/toytok> ;
    mg:integratesWith mgid:c4 ;
    mg:hasCapability <https://w3id.org/matchgraph/id/toy-tokenizer/capability/bpe> .

<https://w3id.org/matchgraph/id/toy-tokenizer/capability/bpe> a mg:Capability ;
    mg:capabilityOf mgid:toy-tokenizer ;
    schema:name "Byte-pair encoding" ;
    dcterms:description "Splits text into sub-word units learned by byte-pair merges." ;
    mg:position 1 ;
    mg:hasClaim <https://w3id.org/matchgraph/id/toy-tokenizer/capability/bpe/alternative> .

<https://w3id.org/matchgraph/id/toy-tokenizer/capability/bpe/alternative> a mg:Claim, mg:AlternativeClaim ;
    mg:claimOf <https://w3id.org/matchgraph/id/toy-tokenizer/capability/bpe> ;
    schema:text "Faster than a word-level tokenizer." ;
    mg:aspect <https://w3id.org/matchgraph/aspect/speed> .

mgid:c4 a mg:Entity, mg:Dataset ;
    dcterms:identifier "c4" ;
    schema:name "C4" .
"""

NTRIPLES = """<https://w3id.org/matchgraph/id/nt-model> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/matchgraph/ns#Entity> .
<https://w3id.org/matchgraph/id/nt-model> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/matchgraph/ns#Model> .
<https://w3id.org/matchgraph/id/nt-model> <https://schema.org/name> "NT Model" .
<https://w3id.org/matchgraph/id/nt-model> <http://purl.org/dc/terms/identifier> "nt-model" .
"""

JSONLD = {
    "@context": "https://w3id.org/matchgraph/context.jsonld",
    "@graph": [
        {"id": "mgid:json-dataset", "type": ["Entity", "Dataset"], "identifier": "json-dataset",
         "name": "JSON Dataset", "alternateName": ["JDS"], "url": "https://example.org/jds",
         "declaredCapabilityCount": 3, "subsetOf": "mgid:c4",
         "hasMetric": {"id": "mgid:json-dataset/metric/downloads", "type": "UsageMetric",
                       "metricName": "downloads", "value": 42}},
        {"id": "mgid:c4", "type": ["Entity", "Dataset"], "identifier": "c4", "name": "C4"},
    ],
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_turtle_file_is_ingested_as_given(catalog: Catalog, tmp_path: Path) -> None:
    report = ingest(catalog, [write(tmp_path, "toy.ttl", TURTLE)])
    assert report.formats == {"rdf": 1}
    assert (report.entities, report.capabilities, report.claims) == (2, 1, 1)
    e = entity_iri("toy-tokenizer")
    assert catalog.ask(f"""ASK {{ <{e}> a mg:Tool ; schema:name "Toy Tokenizer" ; schema:alternateName "ToyTok" ;
        mg:integratesWith mgid:c4 ; mg:hasCapability/mg:hasClaim/mg:aspect mga:speed }}""")


def test_ntriples_file_is_ingested(catalog: Catalog, tmp_path: Path) -> None:
    ingest(catalog, [write(tmp_path, "one.nt", NTRIPLES)])
    assert catalog.scalar("SELECT ?n WHERE { mgid:nt-model a mg:Model ; schema:name ?n }") == "NT Model"


@pytest.mark.parametrize("suffix", [".jsonld", ".json"])
def test_jsonld_with_the_matchgraph_context_is_read_offline(catalog: Catalog, tmp_path: Path, suffix: str) -> None:
    ingest(catalog, [write(tmp_path, f"data{suffix}", json.dumps(JSONLD))])
    e = entity_iri("json-dataset")
    assert catalog.ask(f"""ASK {{ <{e}> a mg:Dataset ; schema:name "JSON Dataset" ; schema:alternateName "JDS" ;
        schema:url <https://example.org/jds> ; mg:declaredCapabilityCount 3 ; mg:subsetOf mgid:c4 ;
        mg:hasMetric [ mg:metricName "downloads" ; schema:value 42 ] }}""")


@pytest.mark.parametrize("name, text", [("bom.jsonld", json.dumps(JSONLD)), ("bom.ttl", TURTLE)])
def test_a_leading_byte_order_mark_is_ignored(catalog: Catalog, tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    report = ingest(catalog, [path])
    assert report.entities >= 1 and catalog.triple_count() > 0


def test_blank_nodes_are_replaced_by_iris(catalog: Catalog, tmp_path: Path) -> None:
    text = TURTLE + """
mgid:toy-tokenizer mg:hasMetric [ a mg:UsageMetric ; mg:metricName "stars" ; schema:value 7 ] .
"""
    graph = parse_rdf(text, str(tmp_path / "b.ttl"), "turtle")
    assert not any(isinstance(t, BNode) for triple in graph for t in triple)
    ingest(catalog, [write(tmp_path, "b.ttl", text)])
    metric = catalog.scalar("SELECT ?m WHERE { mgid:toy-tokenizer mg:hasMetric ?m }")
    assert str(metric).startswith("https://w3id.org/matchgraph/.well-known/genid/")
    assert not catalog.ask("ASK { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }")


def test_rdf_entity_replaces_the_stub_a_page_made(page_catalog: Catalog, tmp_path: Path) -> None:
    c4 = entity_iri("c4")
    assert page_catalog.ask(f"ASK {{ GRAPH <{STUB_GRAPH}> {{ <{c4}> mg:isStub true }} }}")
    ingest(page_catalog, [write(tmp_path, "toy.ttl", TURTLE)])
    assert not page_catalog.ask(f"ASK {{ <{c4}> mg:isStub ?x }}")
    assert page_catalog.ask(f"ASK {{ <{c4}> a mg:Dataset ; ^mg:namesAlternative ?claim }}")


def test_reingesting_an_rdf_file_replaces_its_graph(catalog: Catalog, tmp_path: Path) -> None:
    path = write(tmp_path, "toy.ttl", TURTLE)
    ingest(catalog, [path])
    before = catalog.triple_count()
    ingest(catalog, [path])
    assert catalog.triple_count() == before
    path.write_text(TURTLE.replace('dcterms:license "mit"', 'dcterms:license "apache-2.0"'), encoding="utf-8")
    ingest(catalog, [path])
    assert catalog.triple_count() == before
    assert [str(r[0]) for r in catalog.rows("SELECT ?l WHERE { mgid:toy-tokenizer dcterms:license ?l }")] == [
        "apache-2.0"]


DCAT = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://example.org/ds/1> a dcat:Dataset ; dct:title "Air quality readings" ; dcat:keyword "air" .
<https://example.org/ds/2> a dcat:Dataset ; dct:title "River levels" .
<https://example.org/cat> a dcat:Catalog ; dcat:dataset <https://example.org/ds/1>, <https://example.org/ds/2> .
"""

SCHEMA_ORG = {"@context": {"@vocab": "https://schema.org/"}, "@id": "https://example.org/ds/3", "@type": "Dataset",
              "name": "Bird songs", "description": "Recordings of bird songs."}


def test_rdf_without_entities_is_stored_with_a_note(tmp_path: Path) -> None:
    """DCAT or schema.org RDF is kept as given, and the report says why no entity came of it."""
    from click.testing import CliRunner

    from matchgraph.cli import cli

    (tmp_path / "catalog.ttl").write_text(DCAT, encoding="utf-8")
    (tmp_path / "bird.jsonld").write_text(json.dumps(SCHEMA_ORG), encoding="utf-8")
    (tmp_path / "tool.ttl").write_text(TURTLE, encoding="utf-8")
    cat = Catalog(str(tmp_path / "cat"))
    report = ingest(cat, [tmp_path / "catalog.ttl", tmp_path / "bird.jsonld", tmp_path / "tool.ttl"])
    notes = dict(report.notes)
    assert set(notes) == {str(tmp_path / "catalog.ttl"), str(tmp_path / "bird.jsonld")}  # tool.ttl has entities
    assert "(it holds 2 dcat:Dataset, 1 dcat:Catalog)" in notes[str(tmp_path / "catalog.ttl")]
    assert "1 schema:Dataset" in notes[str(tmp_path / "bird.jsonld")]
    assert "import croissant" in notes[str(tmp_path / "bird.jsonld")]
    assert cat.ask("ASK { GRAPH ?g { <https://example.org/ds/2> <http://purl.org/dc/terms/title> \"River levels\" } }")
    cat.close()

    result = CliRunner().invoke(cli, ["--catalog", str(tmp_path / "cli"), "ingest", str(tmp_path / "catalog.ttl")])
    assert result.exit_code == 0, result.output
    assert "0 entities" in result.stdout
    assert f"Note: {tmp_path / 'catalog.ttl'}: it describes no matchgraph entity" in result.stderr
    result = CliRunner().invoke(cli, ["--catalog", str(tmp_path / "cli"), "ingest", "--format", "json",
                                      str(tmp_path / "catalog.ttl"), str(tmp_path / "tool.ttl")])
    assert result.exit_code == 0, result.output
    assert [n["path"] for n in json.loads(result.stdout)["notes"]] == [str(tmp_path / "catalog.ttl")]


@pytest.mark.parametrize("text", ["[1]", "[null]", '["@context"]', "[[]]"])
def test_a_json_list_of_non_objects_is_an_error_naming_the_file(catalog: Catalog, tmp_path: Path, text: str) -> None:
    """``[1]`` ended ingest in a TypeError traceback ('argument of type int is not iterable') where
    the first item was tested for ``@context``; ``["@context"]`` was sent to the JSON-LD reader."""
    from matchgraph.errors import ParseError

    path = tmp_path / "x.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParseError, match="neither JSON-LD nor a metadata format"):
        ingest(catalog, [path])
