"""Hugging Face Hub import: recorded API answers (models, datasets) and a model-card README."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matchgraph import Catalog
from matchgraph.errors import ParseError, SchemaError
from matchgraph.sources.importers import import_hf
from matchgraph.sources.sniff import sniff_json
from matchgraph.sources.hf import parse_hub_json
from matchgraph.store.validate import validate_graph
from matchgraph.vocab import entity_iri

from conftest import assert_refused_unchanged, loaded_once

DATA = Path(__file__).resolve().parent / "data" / "hf"
LEGAL = entity_iri("acme-research-minilm-legal-retriever")


def _bind(sparql: str, entity) -> str:
    """Bind ?e to an entity (the store binds only projected variables)."""
    return sparql.replace("{", "{ VALUES ?e { " + entity.n3() + " } ", 1)


def _objects(catalog: Catalog, entity, prop: str) -> set[str]:
    return {str(r[0]).rsplit("/", 1)[-1] for r in catalog.rows(_bind(f"SELECT ?o WHERE {{ ?e {prop} ?o }}", entity))}


def _metric(catalog: Catalog, entity, name: str) -> float | None:
    return catalog.scalar(_bind("SELECT ?v WHERE { ?e mg:hasMetric ?m . ?m mg:metricName ?n ; schema:value ?v }"
                                .replace("?n", f"'{name}'"), entity))


def test_model_listing_maps_adoption_capabilities_and_lineage(catalog: Catalog) -> None:
    summary = import_hf(catalog, DATA / "models.json")
    assert summary.created == 3 and summary.records == 3
    assert _metric(catalog, LEGAL, "downloads") == 1520 and _metric(catalog, LEGAL, "likes") == 12
    assert catalog.scalar(_bind("SELECT ?l WHERE { ?e dcterms:license ?l }", LEGAL)) == "mit"
    assert catalog.scalar(_bind("SELECT ?t WHERE { ?e mg:pipelineTag ?t }", LEGAL)) == "feature-extraction"
    assert "text-embeddings" in _objects(catalog, LEGAL, "mg:hasCapability/mg:concept")
    assert _objects(catalog, LEGAL, "mg:derivedFrom") == {"sentence-transformers-all-minilm-l6-v2"}
    assert _objects(catalog, LEGAL, "mg:trainedOn") == {"acme-research-case-law-pairs"}
    assert "sentence-transformers" in _objects(catalog, LEGAL, "mg:integratesWith")
    assert "safetensors" in _objects(catalog, LEGAL, "mg:supportsFormat")
    results = catalog.rows(_bind("""SELECT ?m ?v ?b WHERE { ?e mg:hasResult ?r . ?r mg:metric ?m ; schema:value ?v ;
        mg:onBenchmark ?b }""", LEGAL))
    assert {(str(m), float(v)) for m, v, _ in results} == {("ndcg_at_10", 71.4), ("map_at_10", 65.2)}
    bert = entity_iri("google-bert-bert-base-uncased")
    assert "masked-language-modelling" in _objects(catalog, bert, "mg:hasCapability/mg:concept")
    assert {"bookcorpus", "wikipedia"} <= _objects(catalog, bert, "mg:trainedOn")
    assert {"pytorch", "tensorflow", "jax"} <= _objects(catalog, bert, "mg:integratesWith")
    assert catalog.scalar(_bind("SELECT ?n WHERE { ?e mg:parameterCount ?n }", LEGAL)) == 22713728


def test_merging_keeps_one_value_per_metric(example_catalog: Catalog) -> None:
    summary = import_hf(example_catalog, DATA / "models.json")
    merged = {m.slug: m.via for m in summary.linking.merges}
    assert merged == {"all-minilm-l6-v2": "hub id", "bert-base-uncased": "hub id"}
    card = entity_iri("all-minilm-l6-v2")
    assert _metric(example_catalog, card, "downloads") == 90000000  # the card's figure stays the metric
    assert example_catalog.ask(_bind("""ASK { ?o mg:observedEntity ?e ; mg:observedField 'downloads' ;
        schema:value '91234567' }""", card))  # the Hub's is kept as evidence
    assert _objects(example_catalog, LEGAL, "mg:derivedFrom") == {"all-minilm-l6-v2"}
    assert validate_graph(example_catalog.data_graph()).conforms


def test_dataset_listing(example_catalog: Catalog) -> None:
    summary = import_hf(example_catalog, DATA / "datasets.json")
    assert {m.slug for m in summary.linking.merges} >= {"c4"}
    pairs = entity_iri("acme-research-case-law-pairs")
    assert example_catalog.ask(_bind("ASK { ?e a mg:Dataset ; schema:alternateName 'Case law pairs' }", pairs))
    assert "parquet" in _objects(example_catalog, pairs, "mg:supportsFormat")
    assert "tabular-data" in _objects(example_catalog, pairs, "mg:hasCapability/mg:concept")
    assert "pandas" in _objects(example_catalog, pairs, "mg:integratesWith")
    assert _metric(example_catalog, pairs, "downloads") == 310


def test_model_card_readme(catalog: Catalog) -> None:
    summary = import_hf(catalog, DATA / "legal-retriever" / "README.md")
    assert summary.records == 1
    rows = catalog.rows(_bind("SELECT ?m ?v WHERE { ?e mg:hasResult ?r . ?r mg:metric ?m ; schema:value ?v }", LEGAL))
    assert ("ndcg_at_10", 71.4) in {(str(m), float(v)) for m, v in rows}
    assert catalog.scalar(_bind("SELECT ?h WHERE { ?e mg:hubId ?h }", LEGAL)) == "acme-research/minilm-legal-retriever"
    # the listing names the same model by its hub id: one entity
    again = import_hf(catalog, DATA / "models.json")
    assert any(m.slug == "acme-research-minilm-legal-retriever" for m in again.linking.merges)


def test_reimport_is_idempotent(catalog: Catalog) -> None:
    first = import_hf(catalog, DATA / "models.json")
    before = catalog.triple_count()
    again = import_hf(catalog, DATA / "models.json")
    assert catalog.triple_count() == before
    assert (again.created, again.updated, again.stubs) == (0, first.created, 0)


@pytest.mark.parametrize(("data", "where"), [
    ([{"downloads": 3}], "$[0].id"),
    ([{"id": "a/b"}, {"id": "c/d", "downloads": -1}], "$[1].downloads"),
    ([{"id": "a/b", "likes": "many"}], "$[0].likes"),
    ({"models": [{"id": "a/b", "cardData": "oops", "likes": 1}]}, "$.models[0].cardData"),
    ({"hello": "world"}, "at $"),
])
def test_malformed_entries_name_the_json_path(catalog: Catalog, tmp_path: Path, data: object, where: str) -> None:
    path = tmp_path / "hub.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        import_hf(catalog, path)
    assert str(path) in str(info.value) and where in str(info.value)
    assert catalog.triple_count() == 0


def test_not_json_is_a_parse_error(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "hub.json"
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(ParseError, match="not JSON"):
        import_hf(catalog, path)


def test_kind_is_sniffed_per_entry() -> None:
    models = json.loads((DATA / "models.json").read_text(encoding="utf-8"))
    datasets = json.loads((DATA / "datasets.json").read_text(encoding="utf-8"))
    kinds = [e.kind for e in parse_hub_json(models + datasets, "mixed.json").entities]
    assert kinds == ["model"] * 3 + ["dataset"] * 2
    wrapped = parse_hub_json({"models": models[:1], "datasets": datasets[:1]}, "w.json").entities
    assert [e.kind for e in wrapped] == ["model", "dataset"]
    assert sniff_json(models, "m.json").format == "hf-hub"


def test_cli_file_and_usage(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    location = tmp_path / "cat"
    result = invoke("--catalog", location, "import", "hf", DATA / "models.json", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["created"] == 3
    usage = invoke("--catalog", location, "import", "hf")
    assert usage.exit_code == 2 and "--search/--author" in usage.output
    both = invoke("--catalog", location, "import", "hf", DATA / "models.json", "--search", "bert")
    assert both.exit_code == 2


def test_live_mode_answers_convert_to_the_file_shape() -> None:
    """What ``huggingface_hub`` returns (built here from the fixtures, no network) reads like the API JSON."""
    from huggingface_hub import hf_api as hub  # the test extra installs it
    from matchgraph.sources.hf import _info_dict

    models = json.loads((DATA / "models.json").read_text(encoding="utf-8"))
    datasets = json.loads((DATA / "datasets.json").read_text(encoding="utf-8"))
    live = {"models": [_info_dict(hub.ModelInfo(**e), "model") for e in models],
            "datasets": [_info_dict(hub.DatasetInfo(**e), "dataset") for e in datasets]}
    from_live = parse_hub_json(json.loads(json.dumps(live, default=str)), "live.json").entities
    from_files = parse_hub_json(models + datasets, "files.json").entities
    assert [(e.id, e.kind, e.metrics, e.license, e.relations) for e in from_live] == \
        [(e.id, e.kind, e.metrics, e.license, e.relations) for e in from_files]


# ---------------------------------------------------------------------------- unseen shapes
# Hub API answers written after the real /api/models and /api/datasets shapes (gated repos, old
# modelId-only entries, licence lists, base_model:finetune:/quantized: tags, GGUF repos, a single
# /api/models/{id} answer, top-level model-index, entries that do not say their kind).

UNSEEN = Path(__file__).resolve().parent / "data" / "unseen" / "hf"
UNSEEN_BAD = Path(__file__).resolve().parent / "data" / "unseen" / "hf-bad"


def _values(catalog: Catalog, entity, prop: str) -> set[str]:
    return {str(r[0]) for r in catalog.rows(_bind(f"SELECT ?o WHERE {{ ?e {prop} ?o }}", entity))}


@pytest.fixture(scope="module")
def unseen_models(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A catalog holding the varied model listing, imported once for the module."""
    yield from loaded_once(tmp_path_factory, "hf-unseen", lambda cat: import_hf(cat, UNSEEN / "models-varied.json"))


def test_unseen_models_all_import_with_licence_and_url(unseen_models) -> None:  # type: ignore[no-untyped-def]
    catalog, summary = unseen_models
    assert summary.records == 6
    expected = {  # slug -> (name, licence)
        "meta-llama-meta-llama-3-8b-instruct": ("meta-llama/Meta-Llama-3-8B-Instruct", "llama3"),
        "bert-base-uncased-legacy": ("bert-base-uncased-legacy", None),
        "acme-multi-base-merge": ("acme/multi-base-merge", "mit"),
        "bigcorp-research-model": ("bigcorp/research-model", "bigcorp-research-license"),
        "thebloke-mistral-7b-instruct-v0.2-gguf": ("TheBloke/Mistral-7B-Instruct-v0.2-GGUF", "apache-2.0"),
        "gpt2-tiny-unseen": ("gpt2-tiny-unseen", None),
    }
    for slug, (name, licence) in expected.items():
        e = entity_iri(slug)
        assert _values(catalog, e, "schema:name") == {name}
        assert _values(catalog, e, "a") >= {"https://w3id.org/matchgraph/ns#Model"}
        assert _values(catalog, e, "dcterms:license") == ({licence} if licence else set())
        assert _values(catalog, e, "schema:url") == {f"https://huggingface.co/{name}"}
        assert _values(catalog, e, "mg:hubId") == {name}


def test_unseen_models_lineage_from_card_data_and_tags(unseen_models) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = unseen_models
    llama = entity_iri("meta-llama-meta-llama-3-8b-instruct")
    assert _objects(catalog, llama, "mg:derivedFrom") == {"meta-llama-meta-llama-3-8b"}  # finetune: tag, one link
    assert _objects(catalog, llama, "mg:supersededBy") == {"meta-llama-llama-3.1-8b-instruct"}  # new_version
    assert "gated" in _values(catalog, llama, "mg:tag")
    assert _values(catalog, llama, "mg:parameterCount") == {"8030261248"}
    merge = entity_iri("acme-multi-base-merge")
    assert _objects(catalog, merge, "mg:derivedFrom") == {"qwen-qwen2-7b", "mistralai-mistral-7b-v0.1"}  # not itself
    assert _objects(catalog, merge, "mg:trainedOn") == {"acme-merge-data"}  # a string, and the dataset: tag
    assert _values(catalog, merge, "schema:comment") == {"also licensed as apache-2.0"}
    assert _values(catalog, merge, "schema:sameAs") == {"https://arxiv.org/abs/2306.01708",
                                                        "https://doi.org/10.57967/hf/0001"}
    gguf = entity_iri("thebloke-mistral-7b-instruct-v0.2-gguf")
    assert _objects(catalog, gguf, "mg:derivedFrom") == {"mistralai-mistral-7b-instruct-v0.2"}
    assert _objects(catalog, gguf, "mg:supportsFormat") == {"gguf"}
    assert _values(catalog, gguf, "mg:parameterCount") == {"7241732096"}
    research = entity_iri("bigcorp-research-model")
    assert _values(catalog, research, "mg:language") == {"en", "fr"}  # the null is dropped
    legacy = entity_iri("bert-base-uncased-legacy")
    assert _metric(catalog, legacy, "downloads") == 0 and _metric(catalog, legacy, "likes") is None


def test_unseen_model_index_of_odd_shapes_gives_the_readable_results(unseen_models) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = unseen_models
    rows = catalog.rows(_bind("SELECT ?b ?m ?v WHERE { ?e mg:hasResult ?r . ?r mg:onBenchmark ?b ; mg:metric ?m ; "
                              "schema:value ?v }", entity_iri("acme-multi-base-merge")))
    got = {(str(b).rsplit("/", 1)[-1], str(m), float(v)) for b, m, v in rows}
    # the string value is read, the null skipped, a name-only metric kept; a bare-string dataset is a name
    assert got == {("mmlu-5-shot", "acc", 64.2), ("mmlu-5-shot", "verified-only", 1.5), ("gsm8k", "exact_match", 51.0)}
    top = catalog.rows(_bind("SELECT ?m ?v WHERE { ?e mg:hasResult ?r . ?r mg:metric ?m ; schema:value ?v }",
                             entity_iri("gpt2-tiny-unseen")))
    assert {(str(m), float(v)) for m, v in top} == {("perplexity", 37.5)}  # a top-level model-index


def test_unseen_dataset_listing_gives_datasets_even_for_bare_entries(catalog: Catalog) -> None:
    summary = import_hf(catalog, UNSEEN / "datasets-listing.json")
    assert summary.records == 3
    for slug in ("unseen-lab-reviews-multi", "someone-tiny-scrape", "unseen-lab-faces-gated"):
        e = entity_iri(slug)
        assert _values(catalog, e, "a") >= {"https://w3id.org/matchgraph/ns#Dataset"}, slug
        assert next(iter(_values(catalog, e, "schema:url"))).startswith("https://huggingface.co/datasets/")
    reviews = entity_iri("unseen-lab-reviews-multi")
    assert _values(catalog, reviews, "dcterms:license") == {"cc-by-4.0"}
    assert _values(catalog, reviews, "schema:alternateName") == {"Reviews Multi"}
    assert _objects(catalog, reviews, "mg:supportsFormat") == {"parquet"}
    assert _values(catalog, entity_iri("unseen-lab-faces-gated"), "dcterms:license") == {"faces-research-only"}


def test_unseen_single_answer_wrapped_and_empty_listings(catalog: Catalog) -> None:
    single = import_hf(catalog, UNSEEN / "single-model.json")
    assert single.records == 1
    clip = entity_iri("unseen-org-clip-vit-small")
    assert _values(catalog, clip, "dcterms:license") == {"mit"}
    assert _objects(catalog, clip, "mg:trainedOn") == {"laion-laion2b-en"}
    wrapped = import_hf(catalog, UNSEEN / "wrapped-models-datasets.json")
    assert wrapped.records == 2
    assert _values(catalog, entity_iri("someone-tiny-scrape"), "a") >= {"https://w3id.org/matchgraph/ns#Dataset"}
    assert import_hf(catalog, UNSEEN / "empty-listing.json").records == 0


@pytest.mark.parametrize(("file", "error", "where"), [
    ("not-json.json", ParseError, "not-json.json:1: not JSON"),
    ("not-hub.json", SchemaError, "not-hub.json at $: not a Hugging Face Hub API answer"),
    ("entry-without-id.json", SchemaError, "entry-without-id.json at $[1].id: missing id"),
    ("downloads-text.json", SchemaError, "downloads-text.json at $[0].downloads: downloads must be a count"),
    ("carddata-list.json", SchemaError, "carddata-list.json at $[0].cardData: cardData must be an object"),
    ("tags-object.json", SchemaError, "tags-object.json at $[0].tags: tags must be a list of strings"),
    ("entry-not-object.json", SchemaError, "entry-not-object.json at $[1]: an entry must be an object"),
    ("negative-likes.json", SchemaError, "negative-likes.json at $.likes: likes must be a count"),
])
def test_unseen_broken_hub_files_are_refused_and_the_catalog_is_unchanged(tmp_path: Path, file: str, error: type,
                                                                          where: str) -> None:
    with Catalog(tmp_path / "cat") as catalog:
        import_hf(catalog, UNSEEN / "single-model.json")
        assert_refused_unchanged(catalog, lambda: import_hf(catalog, UNSEEN_BAD / file), error, where)


def test_unseen_broken_hub_file_fails_the_cli(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    failed = invoke("--catalog", str(tmp_path / "cat"), "import", "hf", "--no-progress",
                    UNSEEN_BAD / "entry-without-id.json")
    assert failed.exit_code == 1 and "entry-without-id.json at $[1].id: missing id" in failed.output + failed.stderr


REAL_CARDS = Path(__file__).resolve().parent / "data" / "real" / "cards"


def test_front_matter_after_a_blank_line_is_read(catalog: Catalog) -> None:
    """facebook/wmt19-de-en's card opens with an empty line before '---' (the Hub's reader skips
    leading blank lines); its licence, languages, tags and datasets were silently dropped."""
    import_hf(catalog, REAL_CARDS / "facebook-wmt19-de-en" / "README.md")
    fsmt = entity_iri("fsmt")
    assert catalog.scalar(_bind("SELECT ?l WHERE { ?e dcterms:license ?l }", fsmt)) == "Apache 2.0"
    assert _objects(catalog, fsmt, "mg:language") == {"de", "en"}
    assert _objects(catalog, fsmt, "mg:tag") == {"translation", "wmt19", "facebook"}
    assert catalog.scalar(_bind("SELECT ?d WHERE { ?e dcterms:description ?d }", fsmt)).startswith(
        "This is a ported version of [fairseq wmt19 transformer]")


def test_front_matter_after_a_blank_line_names_its_lines(tmp_path: Path) -> None:
    card = tmp_path / "m" / "README.md"
    card.parent.mkdir()
    card.write_text("\n\n---\nlicense: mit\ndatasets: [a\nfoo: 1\n---\n# M\n", encoding="utf-8")
    from matchgraph.sources.hf import read_hub_file
    with pytest.raises(ParseError) as info:
        read_hub_file(card)
    assert "README.md:6:" in str(info.value)


def test_description_is_the_prose_under_the_heading_without_code(catalog: Catalog) -> None:
    """LaBSE's card puts its first sentence right under the '# ' heading and a code fence right under
    the next one: the description was 'To get the sentence embeddings, ... ```python from transformers
    import AutoTokenizer, AutoModel' (the heading's paragraph skipped, the code kept)."""
    import_hf(catalog, REAL_CARDS / "sentence-transformers-LaBSE" / "README.md")
    labse = entity_iri("labse-pytorch-version")
    assert catalog.scalar(_bind("SELECT ?d WHERE { ?e dcterms:description ?d }", labse)) == \
        "This is a pytorch port of the tensorflow version of [LaBSE](https://tfhub.dev/google/LaBSE/1)."


def test_a_model_index_result_without_a_dataset_names_no_benchmark(catalog: Catalog) -> None:
    """huggingface_hub's own fixture of a model-index whose result has a task and no dataset: the
    model was evaluatedOn a stub 'image-classification' (a task type taken for a benchmark)."""
    import_hf(catalog, REAL_CARDS / "hfhub-sample-invalid-model-index" / "README.md")
    model = entity_iri("my-cool-model")
    assert _objects(catalog, model, "mg:evaluatedOn") == set()
    assert _objects(catalog, model, "mg:hasResult") == set()
    assert not catalog.ask("ASK { ?e schema:name 'image-classification' }")
    assert _objects(catalog, model, "mg:trainedOn") == {"beans"}


def test_huggingface_hub_attribute_names_are_read(catalog: Catalog) -> None:
    """A listing saved from huggingface_hub's ModelInfo (dataclasses.asdict) names its keys created_at,
    last_modified, model_index: the dates and the eight model-index benchmarks were silently dropped."""
    import_hf(catalog, DATA.parent / "real" / "hub" / "modelinfo-asdict.json")
    model = entity_iri("deepset-roberta-base-squad2")
    assert catalog.scalar(_bind("SELECT ?d WHERE { ?e dcterms:issued ?d }", model)) is not None
    assert catalog.scalar(_bind("SELECT ?d WHERE { ?e dcterms:modified ?d }", model)) is not None
    assert len(_objects(catalog, model, "mg:evaluatedOn")) == 8
    assert "squad-v2" in _objects(catalog, model, "mg:evaluatedOn")
