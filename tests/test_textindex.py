"""Tests of the text index: what goes in, BM25 scores, concept evidence, persistence keyed on the data version."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from matchgraph import Catalog, ingest
from matchgraph.matching.match import load_index
from matchgraph.matching.textindex import (
    FIELD_WEIGHTS, Sparse, TextIndex, build_index, concept_bm25,
    read_entities, tokenize,
)

CARDS = {
    "alpha-encoder.md": """---
id: alpha-encoder
name: Alpha Encoder
kind: model
aliases: [AlphaEnc]
description: A compact encoder for masked token prediction on phones.
relations:
  trainedOn: [beta-corpus]
---

## Masked-token prediction
Fills in masked tokens in English sentences using context from both sides.

Unique: Half the layers of its teacher.

vs alternatives: Faster than Gamma Encoder on a CPU.

## Quantized deployment
Runs with int8 weights on mobile CPUs after post-training quantization.
""",
    "beta-corpus.md": """---
id: beta-corpus
name: Beta Corpus
kind: dataset
description: A multi-domain English text corpus of papers, books and source code for pretraining.
---

## Multi-domain pretraining corpus
Mixes scholarly articles, novels and GitHub code into one pretraining corpus.
""",
    "gamma-encoder.md": """---
id: gamma-encoder
name: Gamma Encoder
kind: model
description: A large English encoder.
---

## Masked language modelling
Predicts masked words with a twelve-layer encoder.

vs alternatives: More accurate than Alpha Encoder.
""",
}


def write_cards(folder: Path, cards: dict[str, str] = CARDS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in cards.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def toy(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path / "cat")
    ingest(cat, [write_cards(tmp_path / "cards")])
    yield cat
    cat.close()


# ------------------------------------------------------------------ tokens and sparse matrices


def test_tokenize_normalises_stems_and_drops_stop_words() -> None:
    assert tokenize("Small, fast masked-language models for phones") == ["smal", "fast", "mask", "languag", "model", "phon"]
    assert tokenize("") == []
    assert tokenize("the of and") == []


def test_comparatives_meet_their_adjective() -> None:
    assert tokenize("40% smaller and 60% faster") == tokenize("40% small and 60% fast")
    assert tokenize("the fastest, lightest encoder layer") == ["fast", "light", "encoder", "layer"]


def test_camel_case_names_are_also_indexed_as_words() -> None:
    from matchgraph.matching.textindex import EntityText, index_texts

    index = index_texts({"urn:x:a": EntityText(slug="amazon-polarity", name="AmazonPolarityClassification",
                                               description="Reviews.")}, vectors=False)
    assert {"amazon", "polar", "classify"} <= set(index.terms) or {"amazon", "polarity"} <= set(index.terms)
    assert index.bm25(index.term_ids(tokenize("amazon"))).tolist()[0] > 0


def test_a_hub_id_that_repeats_the_name_is_not_counted_twice() -> None:
    from matchgraph.matching.textindex import EntityText, index_texts

    def ent(keywords: list[str]) -> dict[str, EntityText]:
        return {"urn:x:a": EntityText(slug="org-fast-model", name="org/fast-model", description="An encoder.",
                                      keywords=keywords)}

    with_id, without = index_texts(ent(["org/fast-model"]), vectors=False), index_texts(ent([]), vectors=False)
    assert with_id.terms == without.terms
    assert np.allclose(with_id.bm25_matrix.data, without.bm25_matrix.data)
    tagged = index_texts(ent(["retrieval"]), vectors=False)
    assert "retriev" in tagged.terms or "retrieval" in tagged.terms


def test_sparse_from_triplets_sums_duplicates_and_reads_back() -> None:
    m = Sparse.from_triplets([1, 1, 0, 1], [2, 0, 1, 2], [1.0, 5.0, 3.0, 0.5], lines=3)
    assert m.indptr.tolist() == [0, 1, 3, 3]
    assert m.get(1, 2) == pytest.approx(1.5)
    assert m.get(1, 0) == 5.0 and m.get(0, 1) == 3.0
    assert m.get(2, 0) == 0.0 and m.get(0, 2) == 0.0
    assert m.line(1)[0].tolist() == [0, 2]


def test_concept_bm25_hand_computed() -> None:
    # entity 0: concept 0 at 1.0; entity 1: concept 0 at 0.5 and concept 1 at 0.5 (lengths 1 and 1)
    m = concept_bm25(np.array([0, 1, 1]), [(0, 0, 1.0), (1, 0, 0.5), (2, 1, 0.5)], 2, 2, k1=1.2, b=0.75)
    idf0, idf1 = math.log(1 + 0.5 / 2.5), math.log(1 + 1.5 / 1.5)
    assert m.get(0, 0) == pytest.approx(idf0 * 1.0 * 2.2 / (1.0 + 1.2), rel=1e-5)
    assert m.get(0, 1) == pytest.approx(idf0 * 0.5 * 2.2 / (0.5 + 1.2), rel=1e-5)
    assert m.get(1, 1) == pytest.approx(idf1 * 0.5 * 2.2 / (0.5 + 1.2), rel=1e-5)
    assert m.get(1, 0) == 0.0
    # a rarer concept weighs more than a common one at the same confidence
    assert m.get(1, 1) > m.get(0, 1)


def test_concept_bm25_discounts_broad_entities() -> None:
    # both entities carry concept 0 at 0.8; entity 1 also carries five other concepts
    triplets = [(0, 0, 0.8), (1, 0, 0.8)] + [(1, c, 0.8) for c in range(1, 6)]
    m = concept_bm25(np.array([0, 1]), triplets, 2, 6)
    assert m.get(0, 0) > m.get(0, 1) > 0


# ------------------------------------------------------------------ reading the catalog


def test_read_entities_collects_fields_capabilities_claims_and_concepts(toy: Catalog) -> None:
    entities = {e.slug: e for e in read_entities(toy).values()}
    alpha = entities["alpha-encoder"]
    assert alpha.name == "Alpha Encoder" and alpha.kind == "model" and not alpha.stub
    assert alpha.aliases == ["AlphaEnc"]
    titles = sorted(c.title for c in alpha.capabilities.values())
    assert titles == ["Masked-token prediction", "Quantized deployment"]
    masked = next(c for c in alpha.capabilities.values() if c.title == "Masked-token prediction")
    assert masked.unique == ["Half the layers of its teacher."]
    assert masked.alternatives == ["Faster than Gamma Encoder on a CPU."]
    assert "masked-language-modelling" in masked.concepts
    assert all(0 < w <= 1 for w in masked.concepts.values())
    assert entities["beta-corpus"].kind == "dataset"


def test_stubs_are_flagged(tmp_path: Path) -> None:
    cards = {"solo.md": """---
id: solo
name: Solo Model
kind: model
description: An encoder.
relations:
  trainedOn: [Mystery Data]
---
"""}
    with Catalog(tmp_path / "cat") as cat:
        ingest(cat, [write_cards(tmp_path / "cards", cards)])
        index = build_index(cat)
    assert index.stub[index.row_of["mystery-data"]]
    assert not index.stub[index.row_of["solo"]]
    assert index.kinds[index.row_of["mystery-data"]] is None


# ------------------------------------------------------------------ the index


def test_bm25_ranks_by_field_and_explains_terms(toy: Catalog) -> None:
    index = build_index(toy)
    assert len(index) == 3
    ids = index.term_ids(tokenize("pretraining corpus"))
    scores = index.bm25(ids)
    assert int(np.argmax(scores)) == index.row_of["beta-corpus"]
    assert scores[index.row_of["gamma-encoder"]] == 0
    row = index.row_of["beta-corpus"]
    contributions = index.term_contributions(row, ids)
    assert set(contributions) == set(ids) and all(v > 0 for v in contributions.values())
    assert sum(contributions.values()) == pytest.approx(float(scores[row]), rel=1e-5)


def test_name_outweighs_a_mention_in_a_claim(toy: Catalog) -> None:
    index = build_index(toy)
    scores = index.bm25(index.term_ids(tokenize("gamma")))
    # Gamma Encoder is named "Gamma"; Alpha Encoder only mentions it in a vs-alternatives claim
    assert scores[index.row_of["gamma-encoder"]] > scores[index.row_of["alpha-encoder"]] > 0


def test_segments_concepts_and_alternatives(toy: Catalog) -> None:
    index = build_index(toy)
    alpha = index.row_of["alpha-encoder"]
    labels = [index.segment_labels[s] for s in index.segments_of(alpha)]
    assert labels == ["name", "description", "Masked-token prediction", "Quantized deployment"]
    caps = [s for s in index.segments_of(alpha) if index.segment_is_capability[s]]
    assert len(caps) == 2
    j = index.concepts.index("masked-language-modelling")
    assert index.entity_concepts.get(j, alpha) > 0
    assert index.concept_weights.get(j, alpha) > 0
    assert index.entity_concepts.get(j, index.row_of["beta-corpus"]) == 0
    # the vs-alternatives claims name each other: an edge in both directions
    gamma = index.row_of["gamma-encoder"]
    assert gamma in index.alternatives.line(alpha)[0].tolist()
    assert alpha in index.alternatives.line(gamma)[0].tolist()
    assert index.scheme["masked-language-modelling"].pref_label == "masked language modelling"


def test_field_weights_change_the_document(toy: Catalog) -> None:
    plain = build_index(toy, field_weights={k: 1 for k in FIELD_WEIGHTS} | {"concept_labels": 0})
    full = build_index(toy)
    # "Gamma" is Gamma Encoder's name and a word of a claim of Alpha Encoder: the name weight widens the gap
    ratios = []
    for index in (plain, full):
        scores = index.bm25(index.term_ids(["gamma"]))
        ratios.append(scores[index.row_of["gamma-encoder"]] / scores[index.row_of["alpha-encoder"]])
    assert ratios[1] > ratios[0] > 1


def test_concept_labels_enter_the_document(tmp_path: Path) -> None:
    cards = {"pi-model.md": """---
id: pi-model
name: Pi Model
kind: model
description: A tiny classifier.
---

## Runs on a Raspberry Pi
Classifies sensor readings on a Raspberry Pi board without a network connection.
"""}
    with Catalog(tmp_path / "cat") as cat:
        ingest(cat, [write_cards(tmp_path / "cards", cards)])
        with_labels = build_index(cat)
        without = build_index(cat, field_weights=FIELD_WEIGHTS | {"concept_labels": 0})
    # the card never says "edge"; the preferred label of its concept ("CPU and edge inference") does
    assert "edg" in with_labels.vocabulary and "edg" not in without.vocabulary
    assert with_labels.bm25(with_labels.term_ids(tokenize("edge inference")))[0] > 0


# ------------------------------------------------------------------ persistence


def test_load_index_persists_and_reuses_for_the_same_data_version(toy: Catalog) -> None:
    from matchgraph.graph import derived

    first = load_index(toy)
    root = derived.current(toy).directory
    builds = sorted(p.name for p in root.iterdir() if p.name.startswith("build-"))
    assert len(builds) == 1
    assert json.loads((root / "textindex.json").read_text())["build"] == builds[0]
    assert load_index(toy) is first  # in-process cache
    derived._STATES.clear()  # as a new process would
    again = load_index(toy)  # from disk, not rebuilt
    assert again is not first
    assert sorted(p.name for p in root.iterdir() if p.name.startswith("build-")) == builds
    assert again.slugs == first.slugs and again.terms == first.terms
    ids = again.term_ids(tokenize("masked tokens"))
    assert np.allclose(again.bm25(ids), first.bm25(ids))


def test_index_is_rebuilt_when_evidence_changes(toy: Catalog, tmp_path: Path) -> None:
    before = load_index(toy)
    assert "delta-bench" not in before.row_of
    ingest(toy, [write_cards(tmp_path / "more", {"delta-bench.md": """---
id: delta-bench
name: Delta Bench
kind: benchmark
description: Questions to test an encoder.
---
"""})])
    after = load_index(toy)
    assert after is not before and "delta-bench" in after.row_of
    assert after.data_version == toy.data_version != before.data_version


def test_scores_do_not_invalidate_the_index(toy: Catalog) -> None:
    from rdflib import Graph, Literal, URIRef

    from matchgraph.vocab import MG, SCORE_GRAPH

    index = load_index(toy)
    g = Graph()
    g.add((URIRef("https://w3id.org/matchgraph/id/alpha-encoder/score/rank"), MG.scoreKind, Literal("rank")))
    toy.write({SCORE_GRAPH: g}, replace=[SCORE_GRAPH], derived=True)
    assert load_index(toy) is index


def test_empty_catalog_gives_an_empty_index() -> None:
    with Catalog("memory:") as cat:
        index = load_index(cat)
        assert len(index) == 0
        assert index.bm25(index.term_ids(["anything"])).size == 0
