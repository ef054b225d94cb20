"""Entity cards: YAML front matter (every key, Hugging Face keys too) and ``##`` capability sections."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import XSD, URIRef

from matchgraph import Catalog, ingest
from matchgraph.sources.cards import is_card, parse_card, parse_number, split_front_matter
from matchgraph.vocab import STUB_GRAPH, entity_iri

from conftest import assert_refused_unchanged, loaded_once

CARDS = Path(__file__).resolve().parent / "data" / "cards"
FULL = CARDS / "full-model.md"
HF = CARDS / "hf" / "tiny-bert-sst2" / "README.md"


def values(cat: Catalog, slug: str, prop: str) -> set[str]:
    """The values of one property of an entity, as strings."""
    return {str(r[0]) for r in cat.rows(f"SELECT ?v WHERE {{ <{entity_iri(slug)}> {prop} ?v }}")}


def targets(cat: Catalog, slug: str, relation: str) -> set[str]:
    """The slugs an entity points to with one relation."""
    return {str(v).rsplit("/", 1)[1] for v in values(cat, slug, f"mg:{relation}")}


@pytest.fixture
def cards(catalog: Catalog) -> Catalog:
    ingest(catalog, [CARDS])
    return catalog


# ------------------------------------------------------------------ parsing


def test_front_matter_is_split_from_the_body() -> None:
    front, body, line = split_front_matter("---\nid: a\n---\n\n## Cap\ntext\n", "a.md")
    assert front == "id: a" and body.startswith("\n## Cap") and line == 4
    assert is_card("---\nid: a\n---\n") and not is_card("# just markdown\n")


@pytest.mark.parametrize("written, number", [(1200, 1200), ("1,200", 1200), ("1.2k", 1200), ("3M", 3e6),
                                             ("2.5B", 2.5e9), ("40+", 40), (0.5, 0.5)])
def test_counts_are_read_as_people_write_them(written: object, number: float) -> None:
    assert parse_number(written) == number


@pytest.mark.parametrize("written", ["lots", "-3", "1.2.3", True, "3 million"])
def test_counts_that_are_not_numbers_are_refused(written: object) -> None:
    with pytest.raises(ValueError):
        parse_number(written)


def test_card_front_matter_keys_become_an_entity_record() -> None:
    rec = parse_card(FULL.read_text(encoding="utf-8"), str(FULL)).entities[0]
    assert (rec.id, rec.name, rec.kind, rec.pricing, rec.license) == (
        "full-model", "Full Model", "model", "Free", "apache-2.0")
    assert rec.aliases == ["FullModel", "full model v2", "acme/full-model"]
    assert rec.url == "https://example.org/full-model"
    assert rec.metrics == {"downloads": 1_200_000, "likes": 340, "stars": 1200, "citations": 15}
    assert rec.relations == {"derivedFrom": ["Teacher Net"], "trainedOn": ["toy-corpus"], "integratesWith": ["PyTorch"],
                             "supportsFormat": ["SafeTensors"], "evaluatedOn": ["Toy Bench"]}
    assert rec.declared_capabilities == 5
    extra = dict(rec.extra)
    assert extra["hub_id"] == "acme/full-model" and extra["version"] == "2.1" and extra["tag"] == "fill-mask"
    assert rec.where("metrics.downloads").line == 11
    assert rec.where("relations.trainedOn").line == 17


def test_body_sections_are_capabilities_with_their_claims() -> None:
    caps = parse_card(FULL.read_text(encoding="utf-8"), str(FULL)).entities[0].capabilities
    assert [c.title for c in caps] == ["Masked-token prediction", "Sentence embeddings", "Notes without claims"]
    first, second, third = caps
    # a description of two paragraphs; a claim continued on the next source line
    assert first.description == ("Predicts the word hidden behind a mask token from the words on both sides of it. "
                                 "It reads at most 512 tokens per input.")
    assert first.unique == "Half the layers of its teacher, kept on one line of meaning across two source lines."
    assert first.alternatives.startswith("Faster than Teacher Net")
    assert (first.location.line, first.unique_location.line, first.alternatives_location.line) == (37, 42, 45)
    # **Unique:** and **vs alternatives:** in bold; code blocks and ### markers stay out of the description
    assert second.unique == "Trained with a contrastive objective on sentence pairs."
    assert second.alternatives == "Cheaper to run than Teacher Net for bulk encoding."
    assert "```" not in second.description and "#" not in second.description
    assert "this heading is inside a code block" not in second.description
    assert "Pooling: Mean pooling over the last layer." in second.description
    assert third.description.startswith("A section with a description only") and third.unique is None


@pytest.mark.parametrize("kind, expected", [("Model", "model"), ("DATASET", "dataset"), ("Corpus", "dataset"),
                                            ("file format", "format"), ("Technique", "method"),
                                            ("libraries", "library")])
def test_kinds_are_read_in_any_case_and_as_synonyms(kind: str, expected: str) -> None:
    rec = parse_card(f"---\nid: thing\nname: Thing\nkind: {kind}\n---\n", "thing.md").entities[0]
    assert rec.kind == expected


def test_unknown_front_matter_keys_are_kept_as_observations() -> None:
    rec = parse_card(FULL.read_text(encoding="utf-8"), str(FULL)).entities[0]
    assert [(o.field, o.value) for o in rec.observations] == [("UnfragileRank", "55/100")]


# ------------------------------------------------------------------ ingesting cards


def test_ingesting_a_folder_reads_cards_and_skips_plain_markdown(catalog: Catalog) -> None:
    report = ingest(catalog, [CARDS])
    assert report.files == 4
    assert report.formats == {"card": 3, "hf-card": 1}
    assert [Path(p).name for p, _ in report.skipped] == ["README.md"]
    assert report.entities == 4 and report.capabilities == 5 and report.claims == 6


def test_card_entity_has_every_fact(cards: Catalog) -> None:
    e = f"<{entity_iri('full-model')}>"
    row = cards.rows(f"""SELECT ?id ?name ?desc ?price ?lic ?url ?n ?hub ?ver ?issued ?cit ?pub WHERE {{
        {e} a mg:Entity, mg:Model ; dcterms:identifier ?id ; schema:name ?name ; dcterms:description ?desc ;
            mg:pricing ?price ; dcterms:license ?lic ; schema:url ?url ; mg:declaredCapabilityCount ?n ;
            mg:hubId ?hub ; schema:version ?ver ; dcterms:issued ?issued ; schema:citation ?cit ;
            dcterms:publisher ?pub }}""")
    assert len(row) == 1
    ident, name, desc, price, lic, url, n, hub, ver, issued, cit, pub = row[0]
    assert (str(ident), str(name), str(price), str(lic)) == ("full-model", "Full Model", "Free", "apache-2.0")
    assert str(desc).startswith("A small encoder")
    assert url == URIRef("https://example.org/full-model")
    assert int(n) == 5 and str(hub) == "acme/full-model" and str(ver) == "2.1"
    assert issued.datatype == XSD.date and str(issued) == "2023-04-01"
    assert str(cit).startswith("Doe et al.") and str(pub) == "Acme Research"
    assert values(cards, "full-model", "schema:alternateName") == {"FullModel", "full model v2", "acme/full-model"}
    assert values(cards, "full-model", "dcterms:creator") == {"Jane Doe", "John Roe"}
    assert values(cards, "full-model", "schema:keywords") == {"encoder", "testing"}
    assert values(cards, "full-model", "mg:tag") == {"fill-mask"}


def test_metrics_are_numbers(cards: Catalog) -> None:
    rows = cards.rows(f"""SELECT ?name ?v WHERE {{ <{entity_iri('full-model')}> mg:hasMetric ?m .
        ?m a mg:UsageMetric ; mg:metricName ?name ; schema:value ?v ; prov:wasDerivedFrom ?src }}""")
    got = {str(n): v.toPython() for n, v in rows}
    assert got == {"downloads": 1_200_000, "likes": 340, "stars": 1200, "citations": 15}
    assert all(isinstance(v, (int, Decimal)) for v in got.values())


def test_relations_link_by_id_name_and_alias_or_to_stubs(cards: Catalog) -> None:
    assert targets(cards, "full-model", "trainedOn") == {"toy-corpus"}
    assert targets(cards, "full-model", "evaluatedOn") == {"toy-bench"}  # by name "Toy Bench"
    assert targets(cards, "full-model", "derivedFrom") == {"teacher-net"}
    assert targets(cards, "full-model", "integratesWith") == {"pytorch"}  # key written integrates_with
    assert targets(cards, "full-model", "supportsFormat") == {"safetensors"}
    assert targets(cards, "toy-corpus", "subsetOf") == {"common-crawl"}
    stubs = {str(r[0]) for r in cards.rows("SELECT ?n WHERE { ?e mg:isStub true ; schema:name ?n }")}
    assert {"Teacher Net", "PyTorch", "SafeTensors", "Common Crawl"} <= stubs
    assert "Toy Bench" not in stubs and "Toy Corpus" not in stubs


def test_relations_and_claims_link_to_entities_already_in_the_catalog(example_catalog: Catalog) -> None:
    ingest(example_catalog, [FULL, CARDS / "toy-corpus.md", HF])
    assert targets(example_catalog, "full-model", "integratesWith") == {"pytorch"}
    assert targets(example_catalog, "toy-corpus", "subsetOf") == {"common-crawl"}
    assert targets(example_catalog, "tiny-bert-sst2", "derivedFrom") == {"distilbert-base-uncased"}
    assert targets(example_catalog, "tiny-bert-sst2", "integratesWith") == {"transformers"}
    assert "glue" in targets(example_catalog, "tiny-bert-sst2", "trainedOn")
    named = {str(r[0]).rsplit("/", 1)[1] for r in example_catalog.rows(f"""SELECT ?x WHERE {{
        <{entity_iri('full-model')}> mg:hasCapability/mg:hasClaim/mg:namesAlternative ?x }}""")}
    assert {"roberta-base", "glove", "teacher-net"} <= named
    assert not example_catalog.ask(f"ASK {{ <{entity_iri('pytorch')}> mg:isStub true }}")


def test_claims_name_alternatives_with_aspects(cards: Catalog) -> None:
    rows = cards.rows(f"""SELECT ?x ?a WHERE {{ <{entity_iri('full-model')}> mg:hasCapability ?c .
        ?c mg:position 1 ; mg:hasClaim ?cl . ?cl a mg:AlternativeClaim ; mg:namesAlternative ?x ; mg:aspect ?a }}""")
    assert {str(x).rsplit("/", 1)[1] for x, _ in rows} == {"teacher-net", "roberta-base", "glove"}
    assert {"speed", "size", "quality"} <= {str(a).rsplit("/", 1)[1] for _, a in rows}


def test_a_described_card_replaces_the_stub_of_its_entity(cards: Catalog, tmp_path: Path) -> None:
    assert cards.ask(f"ASK {{ GRAPH <{STUB_GRAPH}> {{ <{entity_iri('teacher-net')}> mg:isStub true }} }}")
    teacher = tmp_path / "teacher-net.md"
    teacher.write_text("---\nid: teacher-net\nname: Teacher Net\nkind: model\n---\n", encoding="utf-8")
    ingest(cards, [teacher])
    assert not cards.ask(f"ASK {{ <{entity_iri('teacher-net')}> mg:isStub ?s }}")
    assert cards.ask(f"ASK {{ <{entity_iri('teacher-net')}> a mg:Model ; schema:name 'Teacher Net' }}")
    assert targets(cards, "full-model", "derivedFrom") == {"teacher-net"}


def test_cards_ingest_idempotently(cards: Catalog) -> None:
    before = cards.triple_count()
    ingest(cards, [CARDS])
    assert cards.triple_count() == before


# ------------------------------------------------------------------ Hugging Face model cards


def test_hugging_face_readme_is_read_as_a_card() -> None:
    source = parse_card(HF.read_text(encoding="utf-8"), str(HF))
    rec = source.entities[0]
    assert source.format == "hf-card"
    assert (rec.id, rec.name, rec.kind, rec.license) == ("tiny-bert-sst2", "tiny-bert-sst2", "model", "apache-2.0")
    assert rec.relations == {"trainedOn": ["glue", "sst2"], "derivedFrom": ["distilbert-base-uncased"],
                             "integratesWith": ["transformers"]}
    extra = rec.extra
    assert ("pipeline_tag", "text-classification") in extra and ("language", "en") in extra
    assert {v for k, v in extra if k == "tag"} == {"text-classification", "sentiment"}
    assert rec.description.startswith("This model is a fine-tuned version of distilbert-base-uncased")
    assert [(r.benchmark, r.metric, r.value) for r in rec.results] == [("GLUE SST-2", "accuracy", 0.912)]
    # its prose sections carry no claims, so they are not capabilities; the pipeline tag is one
    assert [c.title for c in rec.capabilities] == ["Text classification"]


def test_hugging_face_card_ingests_with_relations_and_results(cards: Catalog) -> None:
    e = entity_iri("tiny-bert-sst2")
    assert cards.ask(f"ASK {{ <{e}> a mg:Entity, mg:Model ; dcterms:license 'apache-2.0' ; "
                     f"mg:pipelineTag 'text-classification' ; mg:language 'en' }}")
    assert targets(cards, "tiny-bert-sst2", "trainedOn") == {"glue", "sst2"}
    assert targets(cards, "tiny-bert-sst2", "derivedFrom") == {"distilbert-base-uncased"}
    assert targets(cards, "tiny-bert-sst2", "integratesWith") == {"transformers"}
    rows = cards.rows(f"""SELECT ?bench ?metric ?v WHERE {{ <{e}> mg:hasResult ?r . ?r a mg:BenchmarkResult ;
        mg:onBenchmark ?b ; mg:metric ?metric ; schema:value ?v ; prov:wasDerivedFrom ?src . ?b schema:name ?bench .
        <{e}> mg:evaluatedOn ?b }}""")
    assert [(str(b), str(m), float(v)) for b, m, v in rows] == [("GLUE SST-2", "accuracy", 0.912)]


# ------------------------------------------------------------------ unseen Hugging Face cards
# READMEs of Hub repositories written after real model and dataset cards: YAML 1.1 surprises
# (Norwegian 'no' read as false), lists where strings are usual and back, auto-generated dataset
# cards with only dataset_info/configs, CRLF line endings, a BOM, empty or missing front matter.

UNSEEN = Path(__file__).resolve().parent / "data" / "unseen" / "cards"
UNSEEN_BAD = Path(__file__).resolve().parent / "data" / "unseen" / "cards-bad"


@pytest.fixture(scope="module")
def unseen_cards(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A catalog holding every unseen card folder, ingested once for the module."""
    yield from loaded_once(tmp_path_factory, "cards-unseen", lambda cat: ingest(cat, [UNSEEN]))


# slug -> (name, kind, licence)
UNSEEN_CARDS = {
    "nb-bert-norwegian": ("nb-bert-norwegian", "Model", "cc-by-4.0"),
    "qwen-merge-list": ("qwen-merge-list", "Model", "apache-2.0"),
    "auto-dataset-card": ("auto-dataset-card", "Dataset", None),
    "squad-like-qa": ("SQuAD-Like QA", "Dataset", "cc-by-sa-4.0"),
    "12345": ("12345", "Model", "mit"),
    "crlf-card": ("CRLF Card", "Model", "mit"),
    "empty-front-matter": ("Empty Front Matter", "Model", None),
}


def test_unseen_cards_ingest_with_name_kind_and_licence(unseen_cards) -> None:  # type: ignore[no-untyped-def]
    cat, report = unseen_cards
    assert any("no-front-matter" in where for where, _ in report.skipped)  # a README without metadata
    for slug, (name, kind, licence) in UNSEEN_CARDS.items():
        assert values(cat, slug, "schema:name") == {name}, slug
        assert values(cat, slug, "a") >= {f"https://w3id.org/matchgraph/ns#{kind}"}, slug
        assert values(cat, slug, "dcterms:license") == ({licence} if licence else set()), slug


def test_unseen_card_relations_languages_and_results(unseen_cards) -> None:  # type: ignore[no-untyped-def]
    cat, _ = unseen_cards
    assert values(cat, "nb-bert-norwegian", "mg:language") == {"no", "nb", "en"}  # not 'False'
    assert targets(cat, "nb-bert-norwegian", "trainedOn") == {"nbailab-ncc", "oscar"}
    assert targets(cat, "nb-bert-norwegian", "derivedFrom") == {"google-bert-bert-base-multilingual-cased"}
    results = {(str(b).rsplit("/", 1)[-1], str(m), float(v)) for b, m, v in cat.rows(
        f"SELECT ?b ?m ?v WHERE {{ <{entity_iri('nb-bert-norwegian')}> mg:hasResult ?r . "
        "?r mg:onBenchmark ?b ; mg:metric ?m ; schema:value ?v }")}
    assert results == {("norne", "f1", 0.894), ("norec", "accuracy", 78.2)}  # 'n/a' is passed over
    assert targets(cat, "qwen-merge-list", "derivedFrom") == {"qwen-qwen2.5-7b-instruct", "qwen-qwen2.5-math-7b"}
    assert targets(cat, "qwen-merge-list", "trainedOn") == {"acme-math-instruct"}  # a string, not a list
    assert targets(cat, "qwen-merge-list", "supersededBy") == {"acme-qwen-merge-list-v2"}
    assert values(cat, "12345", "mg:language") == {"en", "de"}  # a mapping of codes to names
    assert values(cat, "12345", "mg:pipelineTag") == {"text-classification"}  # a one-item list
    assert values(cat, "12345", "mg:tag") == {"single-tag"}
    assert values(cat, "crlf-card", "mg:tag") == {"windows"}
    assert values(cat, "squad-like-qa", "dcterms:description") == {
        "Questions posed by crowdworkers on a set of Wikipedia articles, where the answer to every question is a "
        "span of text."}


def test_unseen_card_headings_lose_markup_and_card_lead() -> None:
    text = "---\nlicense: mit\n---\n# Model Card for my_model\n\nText.\n"
    assert parse_card(text, "x/README.md").entities[0].name == "my_model"
    text = "---\nlicense: mit\n---\n# <img src='logo.png'/> **[Tiny](https://x.org)** LM\n\nText.\n"
    assert parse_card(text, "x/README.md").entities[0].name == "Tiny LM"


def test_unseen_readme_without_front_matter(catalog: Catalog, tmp_path: Path) -> None:
    from matchgraph.errors import ParseError
    from matchgraph.sources.importers import import_hf

    readme = UNSEEN / "no-front-matter" / "README.md"
    with pytest.raises(ParseError, match="README.md:1: neither an entity card"):
        ingest(catalog, [readme])  # named explicitly, ingest says what it expected
    assert catalog.triple_count() == 0
    import_hf(catalog, readme)  # import hf knows it is a Hub README
    assert values(catalog, "legacy-sentiment-model", "schema:name") == {"Legacy Sentiment Model"}
    assert values(catalog, "legacy-sentiment-model", "a") >= {"https://w3id.org/matchgraph/ns#Model"}


@pytest.mark.parametrize(("folder", "where"), [
    ("invalid-yaml", "invalid-yaml/README.md:3: invalid YAML front matter"),
    ("never-closed", "never-closed/README.md:1: the YAML front matter is never closed"),
    ("list-front", "list-front/README.md:2: the front matter is not a mapping"),
    ("tab-indent", "tab-indent/README.md:4: invalid YAML front matter"),
])
def test_unseen_broken_cards_fail_and_leave_the_catalog(catalog: Catalog, folder: str, where: str) -> None:
    from matchgraph.errors import ParseError

    ingest(catalog, [UNSEEN / "crlf-card"])
    assert_refused_unchanged(catalog, lambda: ingest(catalog, [UNSEEN / "odd-types", UNSEEN_BAD / folder / "README.md"]),
                             ParseError, where)


def test_unseen_broken_card_fails_the_cli(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    failed = invoke("--catalog", str(tmp_path / "cat"), "ingest", "--no-progress", UNSEEN_BAD / "never-closed")
    assert failed.exit_code == 1 and "never-closed/README.md:1" in failed.output + failed.stderr


def test_a_url_with_its_scheme_in_capitals_is_read_in_lower_case() -> None:
    """``url: HTTPS://Example.org/Tool`` was "not an http(s) URL"; schemes are case-insensitive, so it is
    read, the scheme written in lower case (the rest as given)."""
    from matchgraph.sources.cards import parse_card

    text = "---\nid: shout\nname: Shout\nkind: tool\nurl: HTTPS://Example.org/Tool\n---\n# Shout\n"
    assert parse_card(text, "shout.md").entities[0].url == "https://Example.org/Tool"
