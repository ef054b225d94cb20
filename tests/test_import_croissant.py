"""Croissant import: real files from MLCommons, Hugging Face, Kaggle and OpenML."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from rdflib import Literal

from matchgraph import Catalog
from matchgraph.errors import InputError, ParseError, SchemaError
from matchgraph.sources.importers import import_croissant
from matchgraph.sources.sniff import sniff_json
from matchgraph.sources.croissant import parse_croissant
from matchgraph.vocab import entity_iri

from conftest import assert_refused_unchanged, loaded_once

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


# ---------------------------------------------------------------------------- unseen shapes
# Files written after the shapes of the MLCommons croissant repository (0.8, 1.0, 1.1), Hugging
# Face, Kaggle and OpenML exports: tests/data/unseen/croissant holds valid but unusual files,
# tests/data/unseen/croissant-bad files that must be refused.

UNSEEN = Path(__file__).resolve().parent / "data" / "unseen" / "croissant"
UNSEEN_BAD = Path(__file__).resolve().parent / "data" / "unseen" / "croissant-bad"


@pytest.fixture(scope="module")
def unseen_catalog(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A catalog holding every valid unseen Croissant file, imported once for the module."""
    yield from loaded_once(tmp_path_factory, "unseen", lambda cat: import_croissant(cat, [UNSEEN]))


def _facts(catalog: Catalog, slug: str, prop: str) -> set[str]:
    return {str(r[0]) for r in catalog.rows(_bind(f"SELECT ?v WHERE {{ ?e {prop} ?v }}", entity_iri(slug)))}


# file -> (slug, name, licence, url, creators, issued)
UNSEEN_EXPECTED = {
    "v08-titanic.json": ("titanic-0.8", "Titanic 0.8", "https://creativecommons.org/publicdomain/zero/1.0/",
                         "https://www.openml.org/d/40945", set(), set()),
    "v10-weather-live.json": ("global-weather-stations", "Global Weather Stations", "CC BY 4.0",
                              "https://weather.example.org/stations",
                              {"Ada Lovelace", "Example Weather Service", "Grace Hopper"}, {"2024-03-05"}),
    "v11-graph-wrapper.json": ("graph-wrapped-corpus", "Graph Wrapped Corpus",
                               "https://spdx.org/licenses/Apache-2.0.html", "https://example.org/graph-corpus",
                               {"Corpus Collective"}, {"2025-01-15"}),
    "hf-unicode-name.json": ("unicode-facade", "Ünïcödé Façade — 数据集 ✨", "cc-by-sa-4.0",
                             "https://huggingface.co/datasets/acme/unicode-facade", {"acme"}, {"2024-07-01"}),
    "cjk-only-name.json": ("cjk-only-name", "中文问答数据集", "CC BY-NC 4.0", None,
                           {"Tsinghua NLP Lab", "张三"}, {"2021-03-05"}),
    "minimal-nulls.json": ("minimal-nulls", "minimal nulls", None, None, set(), set()),
    "kaggle-full-iris.jsonld": ("house-prices-advanced-regression", "House Prices - Advanced Regression",
                                "Other (specified in description)",
                                "https://www.kaggle.com/datasets/example/house-prices", set(), {"2019-06-14"}),
    "detection-langtagged.json": ("street-signs-detection", "Street Signs Detection",
                                  "https://creativecommons.org/licenses/by-nc/4.0/", "https://signs.example.org/",
                                  {"Jean Dupont"}, {"2022"}),
    "toplevel-list.json": ("listed-audio-clips", "Listed Audio Clips", "mit", "https://audio.example.org/clips",
                           {"Audio Team"}, {"2023-02-30"}),
    "bom-markdown.json": ("bom-markdown", "bom-markdown", "apache-2.0", "https://Example.org/BOM", set(), set()),
}


def test_unseen_folder_imports_every_valid_file(unseen_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog, summary = unseen_catalog
    assert sorted(Path(f).name for f in summary.files) == sorted(UNSEEN_EXPECTED)
    assert catalog.scalar("SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a mg:Dataset }") == len(UNSEEN_EXPECTED)
    assert summary.stubs == 0


@pytest.mark.parametrize("file", sorted(UNSEEN_EXPECTED))
def test_unseen_file_gives_name_licence_url_creators_dates(unseen_catalog, file: str) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = unseen_catalog
    slug, name, licence, url, creators, issued = UNSEEN_EXPECTED[file]
    assert _facts(catalog, slug, "schema:name") == {name}
    assert _facts(catalog, slug, "dcterms:license") == ({licence} if licence else set())
    assert _facts(catalog, slug, "schema:url") == ({url} if url else set())
    assert _facts(catalog, slug, "dcterms:creator") == creators
    assert _facts(catalog, slug, "dcterms:issued") == issued
    assert catalog.ask(_bind("ASK { ?e prov:wasDerivedFrom ?g . ?g mg:sourcePath ?p . "
                             f"FILTER(STRENDS(?p, {Literal(file).n3()})) }}", entity_iri(slug)))


def test_unseen_links_formats_keywords_and_same_as(unseen_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = unseen_catalog
    formats = lambda slug: _facts(catalog, slug, "mg:supportsFormat/schema:name")  # noqa: E731
    assert formats("global-weather-stations") == {"ZIP", "Parquet"}
    assert formats("graph-wrapped-corpus") == {"JSON Lines"}  # a FileSet referenced by @id in @graph
    assert formats("house-prices-advanced-regression") == {"CSV", "Plain text"}  # TEXT/CSV; charset=utf-8
    assert formats("street-signs-detection") == {"JPEG", "PNG", "JSON"}
    assert formats("listed-audio-clips") == {"WAV"}
    assert formats("titanic-0.8") == {"CSV"}  # Croissant 0.8 sc:FileObject
    assert _facts(catalog, "csv", "schema:alternateName") >= {"text/csv"}
    assert "TEXT/CSV; charset=utf-8" not in _facts(catalog, "csv", "schema:alternateName")
    assert _facts(catalog, "global-weather-stations", "schema:keywords") == {
        "weather", "climate", "time series forecasting", "sensors"}
    assert _facts(catalog, "cjk-only-name", "schema:keywords") == {"question answering", "chinese"}
    assert _facts(catalog, "global-weather-stations", "schema:sameAs") == {
        "https://doi.org/10.5281/zenodo.1234567", "https://www.kaggle.com/datasets/example/weather"}
    assert _facts(catalog, "global-weather-stations", "dcterms:modified") == {"2024-11-30"}
    assert _facts(catalog, "global-weather-stations", "dcterms:publisher") == {"Open Climate Data"}
    assert "live dataset: its content changes over time" in _facts(catalog, "global-weather-stations",
                                                                   "schema:comment")
    assert _facts(catalog, "graph-wrapped-corpus", "schema:comment") == {"also licensed as MIT"}
    assert _facts(catalog, "unicode-facade", "mg:hubId") == {"acme/unicode-facade"}
    assert _facts(catalog, "house-prices-advanced-regression", "schema:version") == {"1.0"}
    assert _facts(catalog, "street-signs-detection", "schema:citation") == {"Street Signs in the Wild"}
    assert "image" in _facts(catalog, "street-signs-detection", "mg:modality")


def test_unseen_descriptions_lose_html_and_are_capped(unseen_catalog) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = unseen_catalog
    (weather,) = _facts(catalog, "global-weather-stations", "dcterms:description")
    assert weather == "Hourly observations from 12,000 weather stations, updated every day.\ntemperature\nprecipitation"
    (bom,) = _facts(catalog, "bom-markdown", "dcterms:description")
    assert "<" not in bom.replace("<tags>", "") and "alert" not in bom and "hidden comment" not in bom
    assert "A & B <tags> and [a link](https://example.org)" in bom  # entities decoded, Markdown kept
    (long,) = _facts(catalog, "cjk-only-name", "dcterms:description")
    assert len(long) <= 2000
    (french,) = _facts(catalog, "street-signs-detection", "dcterms:description")
    assert french == "Photos of street signs with bounding boxes."  # the first language-tagged value


def test_unseen_reimport_is_idempotent(tmp_path: Path) -> None:
    with Catalog(tmp_path / "cat") as catalog:
        import_croissant(catalog, [UNSEEN])
        before = catalog.triple_count()
        again = import_croissant(catalog, [UNSEEN])
        assert catalog.triple_count() == before and again.created == 0


@pytest.mark.parametrize(("file", "error", "where"), [
    ("syntax-error.json", ParseError, "syntax-error.json:5: not JSON"),
    ("empty.json", ParseError, "empty.json:1: not JSON"),
    ("not-object.json", SchemaError, "not-object.json at $: a Croissant document is a JSON object"),
    ("no-context.json", SchemaError, "no-context.json at $.@context: missing @context"),
    ("wrong-type.json", SchemaError, "wrong-type.json at $.@type:"),
    ("no-name.json", SchemaError, "no-name.json at $.name: missing name"),
    ("name-number.json", SchemaError, "name-number.json at $.name: name must be a non-empty string"),
    ("bad-url.json", SchemaError, "bad-url.json at $.url: url 'ftp://files.example.org/x'"),
    ("distribution-string.json", SchemaError, "distribution-string.json at $.distribution:"),
    ("distribution-untyped.json", SchemaError, "distribution-untyped.json at $.distribution[1].@type:"),
    ("field-string.json", SchemaError, "field-string.json at $.recordSet[0].field:"),
    ("graph-two-datasets.json", SchemaError, "graph-two-datasets.json at $.@graph: the document holds 2 Dataset"),
    ("graph-no-dataset.json", SchemaError, "graph-no-dataset.json at $.@graph: no node of the document"),
    ("dangling-reference.json", SchemaError,
     "dangling-reference.json at $.@graph[0].distribution[0].@id: refers to '#missing'"),
])
def test_unseen_broken_files_are_refused_and_the_catalog_is_unchanged(tmp_path: Path, file: str, error: type,
                                                                      where: str) -> None:
    with Catalog(tmp_path / "cat") as catalog:
        import_croissant(catalog, [UNSEEN / "v08-titanic.json"])
        assert_refused_unchanged(
            catalog, lambda: import_croissant(catalog, [UNSEEN / "minimal-nulls.json", UNSEEN_BAD / file]), error, where)


def test_unseen_broken_file_fails_the_cli_with_exit_1(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    location = str(tmp_path / "cat")
    ok = invoke("--catalog", location, "import", "croissant", "--no-progress", UNSEEN / "v08-titanic.json")
    assert ok.exit_code == 0, ok.output
    failed = invoke("--catalog", location, "import", "croissant", "--no-progress", UNSEEN_BAD / "graph-two-datasets.json")
    assert failed.exit_code == 1
    assert "graph-two-datasets.json at $.@graph" in failed.output + failed.stderr
    again = invoke("--catalog", location, "import", "croissant", "--no-progress", UNSEEN / "v08-titanic.json")
    assert "(+0)" in again.output


def test_unseen_graph_and_list_documents_are_sniffed_by_ingest() -> None:
    for name in ("v11-graph-wrapper.json", "toplevel-list.json"):
        data = json.loads((UNSEEN / name).read_text(encoding="utf-8"))
        assert sniff_json(data, name).format == "croissant"


REAL = Path(__file__).resolve().parent / "data" / "real" / "croissant"
MNISTS = [REAL / "v08-mnist.json", REAL / "v10-mnist.json", REAL / "v11-mnist-from-main-branch.json"]


def _capabilities_alone(catalog: Catalog) -> None:
    """Every capability of mnist has one description and one position, and the catalog conforms."""
    from matchgraph.store.validate import validate_catalog
    rows = catalog.rows("""SELECT ?c (COUNT(DISTINCT ?d) AS ?nd) (COUNT(DISTINCT ?p) AS ?np) WHERE {
        ?c mg:capabilityOf <https://w3id.org/matchgraph/id/mnist> ; dcterms:description ?d ; mg:position ?p }
        GROUP BY ?c""")
    assert len(rows) >= 12
    assert [r for r in rows if int(r[1]) != 1 or int(r[2]) != 1] == []
    assert validate_catalog(catalog).conforms


def test_three_files_of_one_dataset_keep_three_sets_of_capabilities(catalog: Catalog) -> None:
    """Three Croissant versions of MNIST (the MLCommons gallery) in one import: the third file's
    capabilities were retitled like the second's ('Parquet files (Croissant)'), so two files'
    descriptions landed on one capability IRI."""
    import_croissant(catalog, MNISTS)
    _capabilities_alone(catalog)
    titles = {str(r[0]) for r in catalog.rows(
        "SELECT ?t WHERE { ?c mg:capabilityOf <https://w3id.org/matchgraph/id/mnist> ; schema:name ?t }")}
    assert {"Parquet files", "Parquet files (Croissant)", "Parquet files (Croissant 2)"} <= titles


def test_one_dataset_imported_file_by_file_stays_valid(catalog: Catalog) -> None:
    """The same files one import at a time: the third gave capabilities two positions each, and
    `matchgraph validate` refused the catalog the imports had written; importing again changes nothing."""
    for path in MNISTS:
        import_croissant(catalog, [path])
    _capabilities_alone(catalog)
    count = catalog.triple_count()
    for path in MNISTS:
        import_croissant(catalog, [path])
    assert catalog.triple_count() == count
    _capabilities_alone(catalog)


def test_language_maps_of_croissant_1_1(catalog: Catalog) -> None:
    """The 1.1 recipe declares name and description as language maps ("@container": "@language");
    it was refused: 'name must be one text value, found a mapping'."""
    import_croissant(catalog, [REAL / "v11-minimal-multilingual.json"])
    ds = entity_iri("minimal-example-with-multilingual-descriptions")
    assert catalog.scalar(_bind("SELECT ?n WHERE { ?e schema:name ?n }", ds)) == \
        "minimal_example_with_multilingual_descriptions"
    assert catalog.scalar(_bind("SELECT ?d WHERE { ?e dcterms:description ?d }", ds)).startswith(
        "This is a minimal example, including the required")
    structure = catalog.scalar(_bind("""SELECT ?d WHERE { ?e mg:hasCapability ?c . ?c schema:name 'Typed record structure' ;
        dcterms:description ?d }""", ds))
    assert "examples: name (Text), age (Integer)" in structure


def test_hub_licence_pages_are_licence_ids(catalog: Catalog) -> None:
    """Hugging Face's Croissant gives the licence as a choosealicense.com page; a repository without
    one gets '.../licenses/undefined/', which was stored as the dataset's licence (and earned it the
    Quality point for having one)."""
    import_croissant(catalog, [REAL / "v11-squad-v2.json", REAL / "v11-recipe-rl-data-roberta-base.json"])
    squad = entity_iri("squad-v2")
    assert catalog.scalar(_bind("SELECT ?l WHERE { ?e dcterms:license ?l }", squad)) == "cc-by-sa-4.0"
    recipe = entity_iri("recipe-rl-data-roberta-base")
    assert catalog.scalar(_bind("SELECT ?e WHERE { ?e schema:name ?n }", recipe)) is not None
    assert catalog.scalar(_bind("SELECT ?l WHERE { ?e dcterms:license ?l }", recipe)) is None


def test_croissant_1_1_provenance_links_the_source_dataset(catalog: Catalog) -> None:
    """squad_v2's Croissant says prov:wasDerivedFrom the dataset at huggingface.co/datasets/rajpurkar/squad;
    the link was dropped."""
    import_croissant(catalog, [REAL / "v11-squad-v2.json"])
    rows = catalog.rows(_bind("SELECT ?n WHERE { ?e mg:derivedFrom ?t . ?t schema:name ?n }", entity_iri("squad-v2")))
    assert [str(r[0]) for r in rows] == ["rajpurkar/squad"]


def test_a_long_capability_title_taken_twice_is_retitled_without_hanging() -> None:
    """A capability key is the title's slug cut at 60 characters, so ' (Croissant 2)' after a long
    title never changed it: the renaming loop ran for ever (an import of two files of one dataset
    with such a record set hung)."""
    import signal

    from matchgraph.sources.build import capability_key
    from matchgraph.sources.merge import CrossLinker
    from matchgraph.sources.records import CapabilityRecord, EntityRecord

    title = "A very long record set title that goes on and on for more than sixty characters in all"
    first = CapabilityRecord("d", title=title)
    rec = EntityRecord(id="x", name="x", capabilities=[CapabilityRecord("d", title=title),
                                                       CapabilityRecord("e", title=title)])

    def stop(*_: object) -> None:
        raise TimeoutError("_retitle did not end")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(20)
    try:
        CrossLinker._retitle(rec, {capability_key(first)}, "Croissant")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    keys = [capability_key(c) for c in rec.capabilities]
    assert len({capability_key(first), *keys}) == 3 and all(len(k) <= 60 for k in keys)
    assert keys[0].endswith("-croissant") and keys[1].endswith("-croissant-2")
    assert [c.title for c in rec.capabilities] == [
        "A very long record set title that goes on and on (Croissant)",  # shortened a word at a time
        "A very long record set title that goes on and on (Croissant 2)"]


def test_no_croissant_file_names_the_paths_given_as_a_generator(catalog: Catalog, tmp_path: Path) -> None:
    """``paths`` is any iterable: a generator was used up by the file search, and the error said
    'no Croissant files (.json, .jsonld) found in ' with nothing after it."""
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    with pytest.raises(InputError) as raised:
        import_croissant(catalog, (p for p in [empty]))
    assert raised.value.message == f"no Croissant files (.json, .jsonld) found in {empty}"
