"""Tests of the capability concept scheme and the text classifier."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import RDF, SKOS, Graph, URIRef

from matchgraph.matching.classify import (
    Concept,
    ConceptMatch,
    ConceptScheme,
    SCHEME_IRI,
    classify,
    concept_labels,
    explain,
    load_scheme,
    normalise,
    stem,
)
from matchgraph.errors import ConfigError, ParseError
from matchgraph.vocab import concept_iri

SCHEME_FILE = Path(__file__).resolve().parent.parent / "ontology" / "capabilities.ttl"
TOPS = {"model-tasks", "model-engineering", "dataset-aspects", "tooling-infrastructure", "evaluation"}


def slugs(text: str, limit: int = 3) -> list[str]:
    return [m.slug for m in classify(text, limit=limit)]


# ------------------------------------------------------------------ the scheme


@pytest.fixture(scope="module")
def graph() -> Graph:
    return Graph().parse(SCHEME_FILE, format="turtle")


def test_scheme_parses_with_rdflib(graph: Graph) -> None:
    assert (SCHEME_IRI, RDF.type, SKOS.ConceptScheme) in graph
    assert str(SCHEME_IRI) == "https://w3id.org/matchgraph/concept/scheme"
    labels = [str(o) for o in graph.objects(SCHEME_IRI, SKOS.prefLabel)]
    assert labels == ["matchgraph capability concepts"]


def test_every_concept_has_label_definition_and_scheme(graph: Graph) -> None:
    concepts = set(graph.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) >= 60
    for concept in concepts:
        assert (concept, SKOS.inScheme, SCHEME_IRI) in graph, concept
        prefs = list(graph.objects(concept, SKOS.prefLabel))
        assert len(prefs) == 1 and prefs[0].language == "en", concept
        definitions = list(graph.objects(concept, SKOS.definition))
        assert len(definitions) == 1 and definitions[0].language == "en", concept
        assert str(definitions[0]).endswith("."), concept
        assert str(concept).startswith("https://w3id.org/matchgraph/concept/")


def test_slugs_are_kebab_case_and_pref_labels_unique() -> None:
    scheme = load_scheme()
    for concept in scheme:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", concept.slug), concept.slug
        assert concept.iri == concept_iri(concept.slug)
    prefs = [c.pref_label.lower() for c in scheme]
    assert len(prefs) == len(set(prefs))


def test_non_top_concepts_have_several_alt_labels() -> None:
    for concept in load_scheme():
        if not concept.top:
            assert len(concept.alt_labels) >= 3, concept.slug
            assert all(label.strip() for label in concept.alt_labels)


def test_top_concepts_and_reachability() -> None:
    scheme = load_scheme()
    assert {c.slug for c in scheme.top_concepts()} == TOPS
    for concept in scheme:
        if concept.top:
            assert concept.broader == ()
            continue
        assert len(concept.broader) == 1, concept.slug
        assert scheme.ancestors(concept.slug)[-1] in TOPS, concept.slug


def test_scheme_covers_required_concepts() -> None:
    scheme = load_scheme()
    required = {
        "masked-language-modelling", "text-embeddings", "sentence-embeddings", "text-classification",
        "token-classification", "question-answering", "text-generation", "summarization",
        "translation", "code-generation", "image-classification", "object-detection",
        "image-generation", "speech-recognition", "retrieval", "reranking", "clustering",
        "semantic-similarity", "vision-language", "instruction-following", "zero-shot",
        "knowledge-distillation", "quantization", "pruning", "fine-tuning",
        "parameter-efficient-fine-tuning", "multi-framework-loading", "batched-inference",
        "interpretability", "cpu-edge-inference", "gpu-inference", "long-context",
        "multilingual-models", "prompting", "tokenization", "pretraining-objective",
        "multi-domain-corpus", "source-code-data", "academic-text", "books-long-form", "web-text",
        "dialogue-data", "image-data", "audio-data", "tabular-data", "instruction-preference-data",
        "evaluation-metric", "benchmark-suite", "storage-format-compression", "streaming-loading",
        "provenance-documentation", "licensing", "deduplication-filtering", "multilingual-data",
        "labelled-data", "training-framework", "serving-deployment", "data-loading",
        "experiment-tracking", "vector-search-index", "safe-serialization", "model-hub-distribution",
    }
    assert required <= set(scheme.concepts)


def test_load_scheme_is_cached_and_accepts_a_path() -> None:
    assert load_scheme() is load_scheme()
    assert load_scheme(SCHEME_FILE) is load_scheme()


def test_load_scheme_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_scheme(tmp_path / "missing.ttl")
    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\nthis is not turtle\n")
    with pytest.raises(ParseError):
        load_scheme(broken)


def test_concept_labels() -> None:
    labels = concept_labels("masked-language-modelling")
    assert labels[0] == "masked language modelling"
    assert {"MLM", "fill-mask", "cloze", "masked token prediction"} <= set(labels)
    assert concept_labels("no-such-concept") == []


# ------------------------------------------------------------------ normalisation


def test_stemmer_unifies_inflections_and_spellings() -> None:
    assert stem("modelling") == stem("modeling") == stem("models") == stem("model")
    assert stem("quantization") == stem("quantisation") == stem("quantized") == stem("quantize")
    assert stem("embeddings") == stem("embedding") == stem("embed")
    assert stem("labelled") == stem("labeled") == stem("labels")
    assert stem("classification") == stem("classifier") == stem("classify")
    assert stem("int8") == "int8"
    assert stem("bias") == stem("biases")


def test_normalise_splits_hyphens_and_drops_stop_words() -> None:
    assert normalise("Fill-Mask for the BERT_base model") == ["fill", "mask", "bert", "base", "model"]
    assert normalise("Ünïcode  naïve") == ["unicode", "naive"]
    assert normalise("   ") == []


@pytest.mark.parametrize("text", ["fill-mask", "fill mask", "fillmask", "Fill-Mask pipeline"])
def test_hyphen_and_space_variants_match(text: str) -> None:
    assert slugs(text, 1) == ["masked-language-modelling"]


@pytest.mark.parametrize("text", ["fine-tuning", "fine tuning", "finetuning", "fine-tuned on", "finetune"])
def test_fine_tuning_variants(text: str) -> None:
    assert "fine-tuning" in slugs(text)


# ------------------------------------------------------------------ classification

BRIEF_CASES = [
    ("Predicts masked tokens in text with a bidirectional transformer", "masked-language-modelling"),
    ("knowledge distillation from a larger teacher model", "knowledge-distillation"),
    ("825 GiB jsonlines corpus compressed with zstandard", "storage-format-compression"),
    ("academic papers from PubMed and ArXiv", "academic-text"),
]


@pytest.mark.parametrize(("text", "expected"), BRIEF_CASES)
def test_brief_cases_rank_first(text: str, expected: str) -> None:
    assert slugs(text)[0] == expected


def test_quantization_for_cpu() -> None:
    found = slugs("int8 post-training quantization for CPU deployment")
    assert "quantization" in found
    assert "cpu-edge-inference" in found


def test_embedding_model_for_semantic_search() -> None:
    found = slugs("a small fast embedding model for semantic search")
    assert {"text-embeddings", "retrieval"} <= set(found[:2])


# Phrased the way practitioners write search needs or model-card sentences.
PRACTITIONER_CASES = [
    ("fill in the blank token prediction with a BERT-style encoder", "masked-language-modelling"),
    ("find named entities like people and places in news articles", "token-classification"),
    ("I need a model that tells me if a product review is positive or negative", "text-classification"),
    ("shrink a model to 4-bit so it fits on a laptop", "quantization"),
    ("adapter-based fine-tuning with LoRA on a single GPU", "parameter-efficient-fine-tuning"),
    ("chatbot that follows instructions", "instruction-following"),
    ("translate English documents into German", "translation"),
    ("rerank search results with a cross-encoder", "reranking"),
    ("draw bounding boxes around cars and pedestrians", "object-detection"),
    ("generate pictures from a text prompt with diffusion", "image-generation"),
    ("autocomplete Python functions from docstrings", "code-generation"),
    ("load the same checkpoint in PyTorch, TensorFlow or JAX", "multi-framework-loading"),
    ("visualize attention heads to see what the model looks at", "interpretability"),
    ("near-duplicate documents removed with MinHash LSH", "deduplication-filtering"),
    ("stream the dataset instead of downloading it", "streaming-loading"),
    ("permissively licensed, commercial use allowed", "licensing"),
    ("group similar support tickets together without labels", "clustering"),
    ("score how similar two sentences are", "semantic-similarity"),
    ("read text out loud in a natural voice", "speech-synthesis"),
    ("classify text into labels it has never seen during training", "zero-shot"),
    ("solve grade school math word problems step by step", "reasoning"),
    ("pad variable length inputs and process them in batches", "batched-inference"),
    ("runs on a Raspberry Pi without a GPU", "cpu-edge-inference"),
    ("handles documents up to 128k tokens", "long-context"),
    ("supports over 100 languages", "multilingual-models"),
    ("byte-pair encoding tokenizer with a 50k vocabulary", "tokenization"),
    ("scraped from Common Crawl and filtered for quality", "web-text"),
    ("millions of GitHub repositories in 300 programming languages", "source-code-data"),
    ("Reddit conversations and chat logs", "dialogue-data"),
    ("human preference pairs with chosen and rejected responses", "instruction-preference-data"),
    ("has a datasheet documenting how the data was collected", "provenance-documentation"),
    ("parallel sentences in 50 language pairs", "multilingual-data"),
    ("crowdsourced human annotations for each example", "labelled-data"),
    ("measures toxicity and social bias in generations", "safety-evaluation"),
    ("distributed training across many GPUs with DeepSpeed", "training-framework"),
    ("deploy as a REST endpoint in Docker", "serving-deployment"),
    ("log losses and hyperparameters for every run", "experiment-tracking"),
    ("approximate nearest neighbour index with HNSW", "vector-search-index"),
    ("safetensors instead of pickle", "safe-serialization"),
    ("download from the Hugging Face Hub", "model-hub-distribution"),
]


@pytest.mark.parametrize(("text", "expected"), PRACTITIONER_CASES)
def test_practitioner_phrasings_rank_first(text: str, expected: str) -> None:
    assert slugs(text)[0] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("turn speech recordings into transcripts", "speech-recognition"),
    ("caption images and answer questions about them", "vision-language"),
    ("continue training a pretrained checkpoint on medical notes", "fine-tuning"),
    ("continue training a pretrained checkpoint on medical notes", "domain-specific-data"),
    ("report BLEU and ROUGE on the test set", "evaluation-metric"),
    ("report BLEU and ROUGE on the test set", "benchmark-suite"),
    ("serve with vLLM on A100s using flash attention and fp16", "serving-deployment"),
    ("serve with vLLM on A100s using flash attention and fp16", "gpu-inference"),
    ("a mixture of books, code, papers and web pages from 22 sources", "books-long-form"),
])
def test_secondary_concepts_are_found(text: str, expected: str) -> None:
    assert expected in slugs(text)


def test_longest_match_wins_across_concepts() -> None:
    found = classify("product quantization for a billion-scale vector index", limit=5, min_score=0)
    order = [m.slug for m in found]
    assert order[0] == "vector-search-index"
    assert order.index("vector-search-index") < order.index("quantization")


def test_phrases_stay_within_a_sentence() -> None:
    joined = classify("a corpus of code files", limit=10, min_score=0)
    assert "code files" in next(m for m in joined if m.slug == "source-code-data").evidence
    split = classify("It runs no code. Files are small.", limit=10, min_score=0)
    assert all("code files" not in m.evidence for m in split)


def test_first_sentence_counts_more() -> None:
    def score(text: str, slug: str) -> float:
        return next(m.score for m in classify(text, limit=10) if m.slug == slug)

    first, later = "Int8 quantization. It also uses pruning.", "Pruning. It also uses int8 quantization."
    assert score(first, "quantization") > score(later, "quantization")
    assert score(first, "pruning") < score(later, "pruning")
    assert slugs(first)[0] == "quantization" and slugs(later)[0] == "pruning"


def test_top_concepts_are_never_returned() -> None:
    text = "model tasks model engineering dataset aspects tooling and infrastructure evaluation"
    assert not {m.slug for m in classify(text, limit=50, min_score=0)} & TOPS


def test_match_fields() -> None:
    match = classify("MLM pretraining with fill-mask", limit=1)[0]
    assert isinstance(match, ConceptMatch)
    assert match.slug == "masked-language-modelling"
    assert match.concept == concept_iri("masked-language-modelling")
    assert match.label == "masked language modelling"
    assert 0.5 < match.score < 1
    assert {"MLM", "fill-mask"} <= set(match.evidence)


def test_scores_are_sorted_and_bounded_by_limit_and_min_score() -> None:
    text = "multilingual sentence embeddings for semantic search, clustering and reranking"
    found = classify(text, limit=4, min_score=0)
    assert len(found) == 4
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    assert all(m.score >= 0.5 for m in classify(text, limit=10, min_score=0.5))
    assert len(classify(text, limit=1)) == 1
    assert classify(text, limit=0) == []


def test_deterministic() -> None:
    text = "a small fast embedding model for semantic search"
    first = classify(text, limit=10, min_score=0)
    assert first == classify(text, limit=10, min_score=0)
    assert explain(first) == explain(classify(text, limit=10, min_score=0))


def test_ties_are_broken_by_slug() -> None:
    def concept(slug: str) -> Concept:
        return Concept(slug, concept_iri(slug), slug, ("shared label",), "Same.", ("top",))

    top = Concept("top", concept_iri("top"), "top", (), "Top.", (), top=True)
    scheme = ConceptScheme([concept("zeta"), concept("alpha"), concept("mid"), top])
    found = classify("shared label", scheme=scheme, min_score=0)
    assert [m.slug for m in found] == ["alpha", "mid", "zeta"]
    assert len({m.score for m in found}) == 1


@pytest.mark.parametrize("text", ["", "   ", "!!! ... ???", "the of and for with"])
def test_empty_or_stopword_text_gives_nothing(text: str) -> None:
    assert classify(text) == []


def test_unrelated_text_gives_nothing() -> None:
    assert classify("my grandmother bakes excellent apple pie on sundays") == []


def test_explain_mentions_matched_terms() -> None:
    matches = classify("masked language modeling (MLM) with a fill-mask head", limit=2)
    text = explain(matches)
    lines = text.splitlines()
    assert len(lines) == len(matches)
    assert re.match(r'masked-language-modelling \(0\.\d\d\): matched "', lines[0])
    assert '"masked language modeling"' in lines[0] and '"MLM"' in lines[0] and '"fill-mask"' in lines[0]
    assert explain([]) == ""


def test_explain_format_is_stable() -> None:
    match = ConceptMatch(URIRef(concept_iri("quantization")), "quantization", "quantization", 0.8234,
                         ("int8", "quantized"))
    assert explain([match]) == 'quantization (0.82): matched "int8", "quantized"'
