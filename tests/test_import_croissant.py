"""Croissant import: real files from MLCommons, Hugging Face, Kaggle and OpenML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rdflib import Literal

from matchgraph import Catalog
from matchgraph.errors import InputError, ParseError, SchemaError
from matchgraph.importers import import_croissant, sniff_json
from matchgraph.importers.croissant import parse_croissant
from matchgraph.vocab import entity_iri

DATA = Path(__file__).resolve().parent / "data" / "croissant"
FILES = sorted(DATA.glob("*.json"))


def _bind(sparql: str, entity) -> str:
    """Bind ?e to an entity (the store binds only projected variables)."""
    return sparql.replace("{", "{ VALUES ?e { " + entity.n3() + " } ", 1)


def _dataset_of(catalog: Catalog, path: Path) -> list[tuple]:
    """Dataset entities the graph of one file describes, with their licence and url."""
    return catalog.rows(f"""SELECT ?e ?lic ?url WHERE {{ ?g mg:sourcePath {Literal(str(path)).n3()} .
        GRAPH ?g {{ ?e a mg:Dataset }} OPTIONAL {{ ?e dcterms:license ?lic }} OPTIONAL {{ ?e schema:url ?url }} }}""")


def test_every_file_gives_one_dataset_with_its_licence_and_url(catalog: Catalog) -> None:
    summary = import_croissant(catalog, [DATA])
    assert len(summary.files) == len(FILES) == 14
    for path in FILES:
        doc = json.loads(path.read_text(encoding="utf-8"))
        rows = _dataset_of(catalog, path)
        assert len({r[0] for r in rows}) == 1, path.name
        _, licence, url = rows[0]
        assert str(url) == doc["url"]
        assert (str(licence) if licence is not None else None) == doc.get("license"), path.name
    kinds = catalog.scalar("SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a mg:Dataset }")
    assert kinds == 14


def test_fields_map_to_properties(catalog: Catalog) -> None:
    import_croissant(catalog, [DATA / "huggingface-c4.json", DATA / "credit-g.json"])
    c4 = entity_iri("c4")
    assert catalog.scalar(_bind("SELECT ?h WHERE { ?e mg:hubId ?h }", c4)) == "allenai/c4"
    assert catalog.ask(_bind("ASK { ?e dcterms:conformsTo 'http://mlcommons.org/croissant/1.0' ; schema:version '0.0.0' }", c4))
    assert "Raffel" in catalog.scalar(_bind("SELECT ?c WHERE { ?e schema:citation ?c }", c4))
    assert catalog.ask(_bind("ASK { ?e mg:supportsFormat ?f . ?f a mg:Format ; schema:name 'Parquet' }", c4))
    credit = entity_iri("credit-g")
    assert catalog.scalar(_bind("SELECT ?c WHERE { ?e dcterms:creator ?c }", credit)) == "Dr. Hans Hofmann"
    keywords = {str(r[0]) for r in catalog.rows(_bind("SELECT ?k WHERE { ?e schema:keywords ?k }", credit))}
    assert {"credit_scoring", "finance_problem"} <= keywords
    assert catalog.ask(_bind("ASK { ?e mg:supportsFormat ?f . ?f schema:name 'ARFF' }", credit))


def test_record_sets_and_files_become_capabilities_with_concepts(catalog: Catalog) -> None:
    import_croissant(catalog, [DATA / "coco2014.json", DATA / "titanic.json"])
    concepts = {str(r[0]).rsplit("/", 1)[-1] for r in catalog.rows(
        _bind("SELECT ?c WHERE { ?e mg:hasCapability/mg:concept ?c }", entity_iri("coco")))}
    assert "image-data" in concepts
    assert "storage-format-compression" in concepts
    titanic = {str(r[0]).rsplit("/", 1)[-1] for r in catalog.rows(
        _bind("SELECT ?c WHERE { ?e mg:hasCapability/mg:concept ?c }", entity_iri("titanic")))}
    assert {"tabular-data", "provenance-documentation", "licensing"} <= titanic


def test_reimport_is_idempotent(catalog: Catalog) -> None:
    first = import_croissant(catalog, [DATA])
    before = catalog.triple_count()
    again = import_croissant(catalog, [DATA])
    assert catalog.triple_count() == before
    assert (again.created, again.merged, again.stubs) == (0, 0, 0)
    assert again.updated == first.created + first.merged


def test_merges_into_the_card_entity(example_catalog: Catalog) -> None:
    summary = import_croissant(example_catalog, [DATA / "huggingface-c4.json"])
    merge = next(m for m in summary.linking.merges if m.slug == "c4")
    assert merge.via == "hub id"
    c4 = entity_iri("c4")
    # one entity: the card's name stays, the Croissant facts join it
    names = {str(r[0]) for r in example_catalog.rows(_bind("SELECT ?n WHERE { ?e schema:name ?n }", c4))}
    assert names == {"C4"}
    assert example_catalog.ask(_bind("ASK { ?e dcterms:conformsTo ?x }", c4))
    # the card's licence is kept; the Croissant one differs and is kept as an observation
    assert {str(r[0]) for r in example_catalog.rows(_bind("SELECT ?l WHERE { ?e dcterms:license ?l }", c4))} \
        == {"ODC-By-1.0"}
    assert example_catalog.ask(_bind(
        "ASK { ?o mg:observedEntity ?e ; mg:observedField 'license' ; schema:value 'odc-by' }", c4))


@pytest.mark.parametrize(("text", "error", "where"), [
    ("{not json", ParseError, ":1"),
    ('{"@type": "sc:Dataset", "name": "x"}', SchemaError, "$.@context"),
    ('{"@context": {}, "@type": "sc:Person", "name": "x"}', SchemaError, "$.@type"),
    ('{"@context": {}, "@type": "sc:Dataset"}', SchemaError, "$.name"),
    ('{"@context": {}, "@type": "sc:Dataset", "name": "x", "url": "not a url"}', SchemaError, "$.url"),
    ('{"@context": {}, "@type": "sc:Dataset", "name": "x", "distribution": [{"@type": "cr:FileObject"}, '
     '{"@type": "sc:Thing"}]}', SchemaError, "$.distribution[1].@type"),
    ('{"@context": {}, "@type": "sc:Dataset", "name": "x", "recordSet": [{"field": 3}]}', SchemaError,
     "$.recordSet[0].field"),
])
def test_invalid_files_are_rejected_with_the_json_path(catalog: Catalog, tmp_path: Path, text: str,
                                                       error: type, where: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(DATA / "titanic.json", folder / "titanic.json")
    bad = folder / "zz-bad.json"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(error) as info:
        import_croissant(catalog, [folder])
    assert str(bad) in str(info.value) and where in str(info.value)
    assert catalog.triple_count() == 0  # all or nothing: the good file was not written either


def test_any_valid_croissant_with_prefixed_or_full_keys() -> None:
    doc = {"@context": {"sc": "https://schema.org/", "cr": "http://mlcommons.org/croissant/"},
           "@type": "https://schema.org/Dataset", "sc:name": "Tiny", "https://schema.org/license": ["mit", "cc0-1.0"],
           "sc:creator": [{"@type": "sc:Person", "name": "Ada"}, {"@type": "sc:Person", "name": "Alan"}],
           "sc:keywords": "text, tiny", "sc:datePublished": "2024-05-01T00:00:00",
           "cr:distribution": {"@type": "cr:FileSet", "encodingFormat": "application/jsonlines", "includes": "*.jsonl"}}
    rec, fmt = parse_croissant(doc, "tiny.json").entities
    assert (rec.name, rec.license, fmt.name) == ("Tiny", "mit", "JSON Lines")
    assert ("creator", "Alan") in rec.extra and ("keyword", "tiny") in rec.extra and ("issued", "2024-05-01") in rec.extra
    assert rec.relations["supportsFormat"] == ["JSON Lines"]


def test_ingest_reads_croissant_through_sniff_json(catalog: Catalog) -> None:
    from matchgraph import ingest

    assert sniff_json(json.loads((DATA / "pass.json").read_text(encoding="utf-8")), "pass.json").format == "croissant"
    report = ingest(catalog, [DATA / "pass.json"])
    assert report.formats == {"croissant": 1}
    assert catalog.ask("ASK { ?e a mg:Dataset ; schema:name 'PASS' }")


def test_cli_imports_and_summarises(invoke, tmp_path: Path) -> None:
    location = str(tmp_path / "cat")
    result = invoke("--catalog", location, "import", "croissant", DATA, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["created"] >= 14 and data["records"] >= 14 and data["catalog"]["entities"] >= 14
    text = invoke("--catalog", location, "import", "croissant", DATA / "titanic.json")
    assert text.exit_code == 0, text.output
    assert "Imported 2 records from 1 Croissant file" in text.output and "2 updated" in text.output
    assert "(+0)" in text.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"@context": {}, "@type": "sc:Dataset"}', encoding="utf-8")
    failed = invoke("--catalog", location, "import", "croissant", bad)
    assert failed.exit_code == 1 and "$.name" in failed.output


def test_missing_path_is_an_input_error(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        import_croissant(catalog, [tmp_path / "nothing"])
