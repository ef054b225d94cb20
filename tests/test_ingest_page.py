"""Ingesting a comparison page ("A vs B"): entities, capabilities, claims, observations, stubs.

``tests/data/comparison_page.txt`` has exactly the layout of the reference "distilroberta-base vs
The Pile" page, with its figures and the artifacts it names, in different words.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rdflib import XSD

from matchgraph import Catalog, ingest
from matchgraph.errors import ParseError
from matchgraph.sources.page import is_page, parse_page
from matchgraph.graph.stats import catalog_stats
from matchgraph.vocab import SCORE_GRAPH, STUB_GRAPH

DATA = Path(__file__).resolve().parent / "data"
PAGE = DATA / "comparison_page.txt"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "catalog"

#: The page's feature table: (entity, field) -> value as printed.
FIGURES = {
    ("distilroberta-base", "Type"): "Model", ("the-pile", "Type"): "Dataset",
    ("distilroberta-base", "UnfragileRank"): "47/100", ("the-pile", "UnfragileRank"): "59/100",
    ("distilroberta-base", "Adoption"): "1", ("the-pile", "Adoption"): "1",
    ("distilroberta-base", "Quality"): "0", ("the-pile", "Quality"): "1",
    ("distilroberta-base", "Ecosystem"): "1", ("the-pile", "Ecosystem"): "0",
    ("distilroberta-base", "Match Graph"): "0", ("the-pile", "Match Graph"): "0",
    ("distilroberta-base", "Pricing"): "Free", ("the-pile", "Pricing"): "Free",
    ("distilroberta-base", "Capabilities"): "8 decomposed", ("the-pile", "Capabilities"): "12 decomposed",
    ("distilroberta-base", "Times Matched"): "0", ("the-pile", "Times Matched"): "0",
}

#: What each "vs alternatives" claim names, by entity and capability position (at least these).
ALTERNATIVES = {
    ("distilroberta-base", 1): {"RoBERTa-base", "BERT-base"},
    ("distilroberta-base", 2): {"RoBERTa-base", "Word2Vec", "GloVe"},
    ("distilroberta-base", 3): {"RoBERTa-base"},
    ("distilroberta-base", 4): {"PyTorch Hub", "TensorFlow Hub", "SafeTensors"},
    ("distilroberta-base", 5): set(),
    ("distilroberta-base", 6): set(),
    ("distilroberta-base", 7): set(),
    ("distilroberta-base", 8): {"ALBERT", "MobileBERT", "BERT-base"},
    ("the-pile", 1): {"Common Crawl", "C4", "Falcon-RefinedWeb"},
    ("the-pile", 2): {"GLUE", "HumanEval"},
    ("the-pile", 3): {"SQLite", "Parquet"},
    ("the-pile", 4): {"C4", "HDF5", "TFRecord"},
    ("the-pile", 5): {"Common Crawl", "C4", "RedPajama"},
    ("the-pile", 6): {"C4", "Common Crawl", "CodeSearchNet", "S2ORC"},
    ("the-pile", 7): {"C4", "BookCorpus"},
    ("the-pile", 8): {"Common Crawl", "C4", "Falcon-RefinedWeb"},
}

#: Artifacts the page's claims name; every stub must be one of them (no junk such as "GPU" or "1.5T").
NAMED = {
    "RoBERTa", "RoBERTa-base", "BERT-base", "Word2Vec", "GloVe", "PyTorch", "TensorFlow", "PyTorch Hub",
    "TensorFlow Hub", "SafeTensors", "ALBERT", "MobileBERT", "C4", "Common Crawl", "Falcon-RefinedWeb",
    "RedPajama", "LAION", "GLUE", "HumanEval", "MMLU", "HELM", "BLEU", "HDF5", "TFRecord", "SQLite", "Parquet",
    "BookCorpus", "CodeSearchNet", "S2ORC", "Books3", "Gutenberg", "OpenWebText2", "Pile-CC", "Hugging Face",
    "bzip2", "Reddit", "GitHub", "PubMed", "ArXiv",
}


def names(cat: Catalog, sparql: str) -> set[str]:
    return {str(r[0]) for r in cat.rows(sparql)}


# ------------------------------------------------------------------ the parser


def test_fixture_keeps_the_reference_layout() -> None:
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "distilroberta-base vs The Pile"
    assert [ln for ln in lines if ln.startswith("|")][0] == "| Feature | distilroberta-base | The Pile |"
    assert sum(ln.startswith("|") for ln in lines) == 11
    assert sum(ln.startswith("Unique: ") for ln in lines) == 16
    assert sum(ln.startswith("vs alternatives: ") for ln in lines) == 16
    for heading in ("distilroberta-base Capabilities", "The Pile Capabilities", "+4 more capabilities", "Verdict",
                    "Need something different?", "Search the match graph →"):
        assert heading in lines


def test_parse_page_reads_both_sides() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert is_page(text)
    source = parse_page(text, str(PAGE))
    left, right = source.entities
    assert (left.id, left.name, left.kind, left.pricing) == ("distilroberta-base", "distilroberta-base", "model", "Free")
    assert (right.id, right.name, right.kind, right.pricing) == ("the-pile", "The Pile", "dataset", "Free")
    assert (len(left.capabilities), len(right.capabilities)) == (8, 8)
    assert (left.declared_capabilities, right.declared_capabilities) == (8, 12)
    assert source.title == "distilroberta-base vs The Pile"
    assert source.verdict is not None and "59/100" in source.verdict and "Search the match graph" not in source.verdict
    for cap in left.capabilities + right.capabilities:
        assert cap.description and cap.unique and cap.alternatives
        assert not cap.description.startswith(("Unique:", "vs alternatives:"))
        assert cap.unique_location.line == cap.location.line + 1
        assert cap.alternatives_location.line == cap.location.line + 2


def test_parse_page_keeps_every_table_row_as_an_observation() -> None:
    source = parse_page(PAGE.read_text(encoding="utf-8"), str(PAGE))
    got = {(rec.id, o.field): o.value for rec in source.entities for o in rec.observations}
    assert got == FIGURES
    rank = next(o for o in source.entities[0].observations if o.field == "UnfragileRank")
    assert rank.location.line == 6


def test_a_page_without_its_table_is_not_a_page() -> None:
    assert not is_page("a vs b\nno table here\n")
    with pytest.raises(ParseError) as err:
        parse_page("alpha vs beta\nsome prose\n", "p.txt")
    assert "no feature table" in str(err.value) and "p.txt:2" in str(err.value)


def test_a_unique_line_before_any_description_is_an_error() -> None:
    text = "a vs b\n| Feature | a | b |\n|---|---|---|\n| Type | Model | Model |\na Capabilities\nUnique: orphan\n"
    with pytest.raises(ParseError) as err:
        parse_page(text, "p.txt")
    assert "p.txt:6" in str(err.value) and "Unique" in str(err.value)


# ------------------------------------------------------------------ ingesting the page alone


def test_page_alone_gives_two_entities_sixteen_capabilities_thirty_two_claims(catalog: Catalog) -> None:
    report = ingest(catalog, [PAGE])
    assert (report.files, report.entities, report.capabilities, report.claims) == (1, 2, 16, 32)
    stats = catalog_stats(catalog)
    assert stats["capabilities"] == 16
    assert (stats["claims"], stats["unique_claims"], stats["alternative_claims"]) == (32, 16, 16)
    assert stats["entities"] - stats["stubs"] == 2
    assert stats["by_kind"] == {"dataset": 1, "model": 1}
    assert stats["observations"] == 18
    assert report.stubs == stats["stubs"] > 20


def test_declared_capability_counts_kinds_and_pricing(page_catalog: Catalog) -> None:
    rows = page_catalog.rows("""SELECT ?id ?n ?cls ?price WHERE { ?e dcterms:identifier ?id ;
        mg:declaredCapabilityCount ?n ; a ?cls ; mg:pricing ?price FILTER(?cls != mg:Entity) }""")
    got = {str(i): (int(n), str(c).rsplit("#", 1)[1], str(p)) for i, n, c, p in rows}
    assert got == {"the-pile": (12, "Dataset", "Free"), "distilroberta-base": (8, "Model", "Free")}


def test_each_capability_has_a_description_a_unique_and_an_alternative_claim(page_catalog: Catalog) -> None:
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    rows = page_catalog.rows("""SELECT ?id ?pos ?desc ?line ?u ?uline ?a ?aline WHERE {
        ?e dcterms:identifier ?id ; mg:hasCapability ?c .
        ?c mg:capabilityOf ?e ; mg:position ?pos ; dcterms:description ?desc ; mg:sourceLine ?line ;
           mg:hasClaim ?cu, ?ca .
        ?cu a mg:UniqueClaim ; mg:claimOf ?c ; schema:text ?u ; mg:sourceLine ?uline .
        ?ca a mg:AlternativeClaim ; mg:claimOf ?c ; schema:text ?a ; mg:sourceLine ?aline . }""")
    assert len(rows) == 16
    assert {(str(r[0]), int(r[1])) for r in rows} == set(ALTERNATIVES)
    for _, _, desc, line, unique, uline, alt, aline in rows:
        assert lines[int(line) - 1] == str(desc)
        assert lines[int(uline) - 1] == f"Unique: {unique}"
        assert lines[int(aline) - 1] == f"vs alternatives: {alt}"


def test_every_capability_is_classified_with_evidence(page_catalog: Catalog) -> None:
    unclassified = page_catalog.rows("""SELECT ?c WHERE { ?c a mg:Capability
        FILTER NOT EXISTS { ?c mg:concept ?k ; mg:conceptEvidence ?why } }""")
    assert unclassified == []


def test_figures_are_source_observations_with_provenance_never_scores(page_catalog: Catalog) -> None:
    rows = page_catalog.rows("""SELECT DISTINCT ?id ?field ?value ?path ?when WHERE {
        ?o a mg:SourceObservation ; mg:observedEntity ?e ; mg:observedField ?field ; schema:value ?value ;
           prov:wasDerivedFrom ?src ; prov:generatedAtTime ?when .
        ?e dcterms:identifier ?id . ?src a mg:SourceDocument ; mg:sourcePath ?path }""")
    assert {(str(i), str(f)): str(v) for i, f, v, _, _ in rows} == FIGURES
    assert len(rows) == len(FIGURES)
    for *_, path, when in rows:
        assert Path(str(path)).name == "comparison_page.txt"
        assert when.datatype == XSD.dateTime and isinstance(when.toPython(), datetime)
    assert not page_catalog.ask("ASK { { ?s a mg:Score } UNION { ?e mg:hasScore ?s } }")
    assert not page_catalog.ask(f"ASK {{ GRAPH <{SCORE_GRAPH}> {{ ?s ?p ?o }} }}")
    # the figures are strings as printed, not numbers we computed
    assert not page_catalog.ask("ASK { ?o a mg:SourceObservation ; schema:value ?v FILTER(isNumeric(?v)) }")


def test_observation_date_is_the_date_of_the_source(catalog: Catalog, tmp_path: Path) -> None:
    page = tmp_path / "dated.txt"
    shutil.copy(PAGE, page)
    stamp = datetime(2024, 5, 17, 12, 30, tzinfo=timezone.utc)
    os.utime(page, (stamp.timestamp(), stamp.timestamp()))
    ingest(catalog, [page])
    dates = {r[0].toPython() for r in catalog.rows(
        "SELECT DISTINCT ?t WHERE { ?o a mg:SourceObservation ; prov:generatedAtTime ?t }")}
    assert dates == {stamp}


def test_page_title_and_verdict_are_kept_on_the_source(page_catalog: Catalog) -> None:
    title, verdict = page_catalog.rows(
        "SELECT ?t ?v WHERE { ?s a mg:SourceDocument ; schema:headline ?t ; mg:verdict ?v }")[0]
    assert str(title) == "distilroberta-base vs The Pile"
    assert "59/100" in str(verdict) and "47/100" in str(verdict)


# ------------------------------------------------------------------ linking and stubs


def test_named_artifacts_become_stub_entities(page_catalog: Catalog) -> None:
    stubs = names(page_catalog, "SELECT ?n WHERE { ?e mg:isStub true ; schema:name ?n }")
    for name in ("RoBERTa-base", "BERT-base", "GloVe", "Word2Vec", "C4", "Common Crawl", "RedPajama", "HDF5",
                 "BookCorpus", "Falcon-RefinedWeb", "ALBERT", "MobileBERT", "PyTorch Hub", "TensorFlow Hub",
                 "SafeTensors", "LAION", "GLUE", "HumanEval", "MMLU", "HELM", "TFRecord", "SQLite", "Parquet",
                 "CodeSearchNet", "S2ORC"):
        assert name in stubs
    assert stubs <= NAMED, f"junk stubs: {sorted(stubs - NAMED)}"


def test_stubs_are_minimal_and_live_in_the_stub_graph(page_catalog: Catalog) -> None:
    extra = page_catalog.rows(f"""SELECT ?e ?p WHERE {{ GRAPH <{STUB_GRAPH}> {{ ?e mg:isStub true ; ?p ?o }}
        FILTER(?p NOT IN (rdf:type, schema:name, dcterms:identifier, mg:isStub)) }}""")
    assert extra == []
    assert not page_catalog.ask("ASK { ?e mg:isStub true ; a ?k FILTER(?k != mg:Entity) }")
    outside = page_catalog.rows(f"""SELECT ?e WHERE {{ GRAPH ?g {{ ?e mg:isStub true }} FILTER(?g != <{STUB_GRAPH}>) }}""")
    assert outside == []


def test_every_alternative_claim_links_to_what_it_names(page_catalog: Catalog) -> None:
    rows = page_catalog.rows("""SELECT ?id ?pos ?name WHERE { ?e dcterms:identifier ?id ; mg:hasCapability ?c .
        ?c mg:position ?pos ; mg:hasClaim ?cl . ?cl a mg:AlternativeClaim ; mg:namesAlternative ?x .
        ?x a mg:Entity ; schema:name ?name }""")
    got: dict[tuple[str, int], set[str]] = {key: set() for key in ALTERNATIVES}
    for ident, pos, name in rows:
        got[(str(ident), int(pos))].add(str(name))
    for key, expected in ALTERNATIVES.items():
        assert expected <= got[key], key
        assert got[key] <= NAMED, key
    # a claim never names the entity it is about
    assert not page_catalog.ask("ASK { ?e mg:hasCapability/mg:hasClaim ?cl . ?cl mg:namesAlternative ?e }")


def test_unique_claims_mention_what_they_name(page_catalog: Catalog) -> None:
    mentioned = names(page_catalog, """SELECT ?n WHERE { ?e dcterms:identifier "the-pile" ; mg:hasCapability ?c .
        ?c mg:position 1 ; mg:hasClaim ?cl . ?cl a mg:UniqueClaim ; schema:mentions/schema:name ?n }""")
    assert {"LAION", "RedPajama", "Falcon-RefinedWeb"} <= mentioned


def test_alternative_claims_carry_the_aspects_they_compare_on(page_catalog: Catalog) -> None:
    rows = page_catalog.rows("""SELECT ?id ?pos ?aspect WHERE { ?e dcterms:identifier ?id ; mg:hasCapability ?c .
        ?c mg:position ?pos ; mg:hasClaim ?cl . ?cl a mg:AlternativeClaim ; mg:aspect ?aspect }""")
    aspects: dict[tuple[str, int], set[str]] = {}
    for ident, pos, aspect in rows:
        aspects.setdefault((str(ident), int(pos)), set()).add(str(aspect).rsplit("/", 1)[1])
    assert {"speed", "memory", "quality"} <= aspects[("distilroberta-base", 1)]
    assert "coverage" in aspects[("the-pile", 1)]
    assert "safety" in aspects[("distilroberta-base", 4)]
    assert not page_catalog.ask("""ASK { ?cl mg:aspect ?a FILTER NOT EXISTS { ?cl a mg:AlternativeClaim } }""")


def test_page_links_to_described_entities_of_the_example_catalog(example_catalog: Catalog) -> None:
    report = ingest(example_catalog, [PAGE])
    assert (report.capabilities, report.claims) == (16, 32)
    linked = {str(r[0]) for r in example_catalog.rows("""SELECT ?x WHERE {
        ?cl a mg:AlternativeClaim ; mg:claimOf/mg:capabilityOf ?e ; mg:namesAlternative ?x .
        ?e dcterms:identifier ?id FILTER(?id IN ("distilroberta-base", "the-pile")) }""")}
    for slug in ("c4", "common-crawl", "falcon-refinedweb", "roberta-base", "bert-base-uncased", "glove",
                 "word2vec", "redpajama", "bookcorpus", "hdf5", "tfrecord", "parquet"):
        assert f"https://w3id.org/matchgraph/id/{slug}" in linked, slug
    stubbed = names(example_catalog, """SELECT ?n WHERE { ?cl mg:claimOf/mg:capabilityOf ?e ;
        mg:namesAlternative ?x . ?x mg:isStub true ; schema:name ?n . ?e dcterms:identifier "the-pile" }""")
    assert not stubbed & {"C4", "Common Crawl", "Falcon-RefinedWeb", "RedPajama", "BookCorpus", "HDF5"}


def test_a_stub_made_earlier_does_not_capture_a_name_described_later(page_catalog: Catalog) -> None:
    """Page first (stub 'BERT-base'), then the cards (bert-base-uncased, alias BERT-base), then the
    page again: the claims now name the described entity, not the stub."""
    ingest(page_catalog, [EXAMPLES])
    ingest(page_catalog, [PAGE])
    targets = {str(r[0]).rsplit("/", 1)[1] for r in page_catalog.rows("""SELECT ?x WHERE {
        ?e dcterms:identifier "distilroberta-base" ; mg:hasCapability/mg:hasClaim ?cl .
        ?cl a mg:AlternativeClaim ; mg:namesAlternative ?x }""")}
    assert "bert-base-uncased" in targets and "bert-base" not in targets
    assert "roberta-base" in targets


# ------------------------------------------------------------------ idempotency and re-ingest


def test_ingesting_the_page_twice_changes_nothing(page_catalog: Catalog) -> None:
    before = page_catalog.triple_count()
    stats = catalog_stats(page_catalog)
    report = ingest(page_catalog, [PAGE])
    assert page_catalog.triple_count() == before == report.triples_after
    again = catalog_stats(page_catalog)
    bookkeeping = {"version", "bookkeeping_triples"}  # a write records its parent version
    assert {k: v for k, v in again.items() if k not in bookkeeping} == \
        {k: v for k, v in stats.items() if k not in bookkeeping}


def test_reingesting_the_cards_changes_nothing(example_catalog: Catalog) -> None:
    """What a claim names must not depend on the stubs an earlier ingest minted."""
    before = example_catalog.triple_count()
    assert ingest(example_catalog, [EXAMPLES]).triples_after == before


def test_reingesting_an_edited_page_replaces_what_it_said(catalog: Catalog, tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    text = PAGE.read_text(encoding="utf-8")
    page.write_text(text, encoding="utf-8")
    ingest(catalog, [page])
    page.write_text(text.replace("| UnfragileRank | 47/100 | 59/100 |", "| UnfragileRank | 48/100 | 61/100 |"),
                    encoding="utf-8")
    ingest(catalog, [page])
    values = {str(r[0]) for r in catalog.rows(
        'SELECT ?v WHERE { ?o mg:observedField "UnfragileRank" ; schema:value ?v }')}
    assert values == {"48/100", "61/100"}
    assert len(catalog.sources()) == 1


def test_observation_values_are_plain_strings(page_catalog: Catalog) -> None:
    value = page_catalog.scalar("""SELECT ?v WHERE { ?o mg:observedField "UnfragileRank" ;
        mg:observedEntity/dcterms:identifier "the-pile" ; schema:value ?v }""")
    assert value == "59/100"


def test_names_without_ascii_letters_are_two_entities(catalog: Catalog, tmp_path: Path) -> None:
    page = tmp_path / "cjk.txt"
    page.write_text("中文模型 vs 日本語データ\nBeta wins.\n| Feature | 中文模型 | 日本語データ |\n|---|---|---|\n"
                    "| Type | Model | Dataset |\n| Capabilities | 1 decomposed | 1 decomposed |\n"
                    "中文模型 Capabilities\nDoes alpha things quickly.\nUnique: Only alpha does it.\n"
                    "vs alternatives: Faster than 日本語データ.\n日本語データ Capabilities\nHolds beta data.\n"
                    "Verdict\nPick alpha.\n", encoding="utf-8")
    ingest(catalog, [page])
    names = {row.name.toPython() for row in catalog.query(
        "SELECT ?name WHERE { ?e a mg:Entity ; schema:name ?name FILTER NOT EXISTS { ?e mg:isStub true } }")}
    assert {"中文模型", "日本語データ"} <= names
    ids = {str(row.id) for row in catalog.query("SELECT ?id WHERE { ?e schema:name ?n ; dcterms:identifier ?id "
                                                "FILTER(?n IN ('中文模型', '日本語データ')) }")}
    assert len(ids) == 2 and all(i.startswith("item-") for i in ids)


def test_a_section_about_a_title_side_the_table_does_not_name_is_an_error(tmp_path: Path) -> None:
    page = tmp_path / "mismatch.txt"
    page.write_text("Alpha Probe vs Beta Probe\nBeta wins.\n| Feature | Gamma | Delta |\n|---|---|---|\n"
                    "| Type | Model | Dataset |\nAlpha Probe Capabilities\nDoes alpha things quickly.\n"
                    "Unique: Only alpha does it.\nVerdict\nPick alpha.\n", encoding="utf-8")
    with pytest.raises(ParseError) as info:
        parse_page(page.read_text(encoding="utf-8"), str(page))
    assert f"{page}:6" in str(info.value) and "'Gamma' and 'Delta'" in str(info.value)
    assert "| Feature | Alpha Probe | Beta Probe |" in str(info.value)
