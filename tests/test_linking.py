"""Entity linking: name normalisation, the entity index, and finding the artifacts a claim names."""

from __future__ import annotations

import pytest

from matchgraph import Catalog, ingest
from matchgraph.sources.linking import EntityIndex, find_mentions, load_index, normalise_name, stub_slug
from matchgraph.vocab import entity_iri


@pytest.fixture
def index() -> EntityIndex:
    idx = EntityIndex()
    idx.add("roberta-base", "RoBERTa-base", ["FacebookAI/roberta-base", "RoBERTa"])
    idx.add("bert-base-uncased", "BERT-base", ["bert-base-uncased", "google-bert/bert-base-uncased"])
    idx.add("c4", "C4", ["Colossal Clean Crawled Corpus", "allenai/c4"])
    idx.add("common-crawl", "Common Crawl", ["CommonCrawl"])
    idx.add("pytorch", "PyTorch", ["torch"])
    idx.add("pytorch-hub", "PyTorch Hub", ["torch.hub"])
    idx.add("the-pile", "The Pile", ["EleutherAI/pile"])
    idx.add("glove", "GloVe", ["Global Vectors"])
    return idx


# ------------------------------------------------------------------ normalisation


@pytest.mark.parametrize("a, b", [
    ("RoBERTa-base", "roberta base"), ("RoBERTa-base", "RoBERTa base"), ("RoBERTa-base", "robertabase"),
    ("BERT-base", "bert_base"), ("Common Crawl", "CommonCrawl"), ("Falcon-RefinedWeb", "Falcon RefinedWeb"),
    ("GloVe", "glove"), ("Word2Vec", "word2vec"), ("RoBERTa's", "RoBERTa"), ("Café", "cafe"),
])
def test_names_normalise_to_one_key(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


@pytest.mark.parametrize("a, b", [("C4", "C5"), ("BERT-base", "BERT-large"), ("GPT-2", "GPT-J")])
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert normalise_name(a) != normalise_name(b)


@pytest.mark.parametrize("name, slug", [
    ("roberta base", "roberta-base"), ("ROBERTA-BASE", "roberta-base"), ("RoBERTa", "roberta-base"),
    ("FacebookAI/roberta-base", "roberta-base"), ("bert base", "bert-base-uncased"),
    ("bert-base-uncased", "bert-base-uncased"), ("allenai/c4", "c4"), ("c4", "c4"),
    ("Colossal-Clean-Crawled-Corpus", "c4"), ("common crawl", "common-crawl"), ("torch.hub", "pytorch-hub"),
    ("EleutherAI/pile", "the-pile"), ("the pile", "the-pile"),
    ("https://w3id.org/matchgraph/id/glove", "glove"),
])
def test_index_resolves_ids_names_aliases_and_hub_ids(index: EntityIndex, name: str, slug: str) -> None:
    assert index.resolve(name) == [slug]


def test_hub_ids_resolve_by_their_name_without_the_owner() -> None:
    idx = EntityIndex()
    idx.add("mmlu", "MMLU", ["cais/mmlu"])
    assert idx.resolve("cais/mmlu") == ["mmlu"]
    assert idx.resolve("someone-else/mmlu") == ["mmlu"]


def test_unknown_names_resolve_to_nothing(index: EntityIndex) -> None:
    assert index.resolve("RedPajama") == []
    assert index.resolve("roberta-large") == []


def test_described_entities_win_over_stubs() -> None:
    idx = EntityIndex()
    idx.add("bert-base", "BERT-base", stub=True)
    idx.add("bert-base-uncased", "BERT-base", ["bert-base"])
    assert idx.resolve("BERT base") == ["bert-base-uncased", "bert-base"]
    assert idx.resolve("BERT base", stubs=False) == ["bert-base-uncased"]
    # describing a stub's slug makes it a described entity
    idx.add("bert-base", "BERT-base")
    assert idx.stubs == set()


def test_closest_suggests_near_names(index: EntityIndex) -> None:
    assert index.closest("roberta-large")[0] == "roberta-base"
    assert "common-crawl" in index.closest("Common Crawl corpus")
    assert index.closest("zzzz") == []
    # a near-exact name is not followed by names that share a few letters (difflib ratio 0.55)
    index.add("helm", "HELM")
    index.add("unicode", "Unicode")
    assert index.closest("the-pil") == ["the-pile"]
    assert index.closest("nope") == []


def _closest_by_every_ratio(index: EntityIndex, name: str, n: int = 5) -> list[str]:
    """:meth:`EntityIndex.closest` as it was written first: difflib's ratio of every label."""
    import difflib

    key = normalise_name(name)
    scored: dict[str, float] = {}
    for label_key, slugs in index.keys.items():
        ratio = difflib.SequenceMatcher(None, key, label_key).ratio()
        if min(len(key), len(label_key)) >= 3 and (key in label_key or label_key in key):
            ratio = 0.8 + 0.2 * ratio
        for slug in slugs:
            scored[slug] = max(scored.get(slug, 0.0), ratio)
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
    floor = max(0.6, ranked[0][1] - 0.15) if ranked else 0.0
    return [slug for slug, score in ranked[:n] if score >= floor]


def test_closest_skips_labels_that_cannot_be_listed_and_lists_the_same(example_catalog_dir: object) -> None:
    """The bounds that pass over most labels (a miss on a served entity page took 1.2 s of ratios at
    5k entities) change no suggestion: near-misses of every label of the example catalog."""
    import random

    with Catalog(example_catalog_dir) as catalog:  # type: ignore[arg-type]
        index = load_index(catalog)
    labels = sorted({label for found in index.labels.values() for label in found})
    rng = random.Random(7)
    names = ["nope", "the-pilf.ttl", "zzzz", "", "x", "bert", "common crawl corpus"]
    for label in rng.sample(labels, min(150, len(labels))):
        at = rng.randrange(len(label) + 1)
        names += [label[:at] + rng.choice("aeiouxz.-") + label[at + 1:], label[: max(1, len(label) // 2)]]
    for name in names:
        assert index.closest(name) == _closest_by_every_ratio(index, name), name


def test_stub_slugs(index: EntityIndex) -> None:
    assert stub_slug("Falcon-RefinedWeb") == "falcon-refinedweb"
    assert stub_slug("TensorFlow Hub") == "tensorflow-hub"
    assert stub_slug("OpenWebText2") == "openwebtext2"


# ------------------------------------------------------------------ mentions in claims


def test_known_and_unknown_names_in_order(index: EntityIndex) -> None:
    text = ("Faster than RoBERTa base and more accurate than BERT-base, while its vectors beat static "
            "Word2Vec and GloVe embeddings.")
    assert find_mentions(text, index) == [("RoBERTa base", "roberta-base"), ("BERT-base", "bert-base-uncased"),
                                          ("Word2Vec", None), ("GloVe", "glove")]


def test_names_in_parenthesised_lists(index: EntityIndex) -> None:
    text = "Simpler than database formats (SQLite, Parquet) and binary ones (HDF5, TFRecord)."
    assert [n for n, _ in find_mentions(text, index)] == ["SQLite", "Parquet", "HDF5", "TFRecord"]


def test_hub_ids_and_multiword_names(index: EntityIndex) -> None:
    text = "Cleaner than allenai/c4 and Common Crawl, and comparable to RedPajama or Falcon-RefinedWeb."
    assert find_mentions(text, index) == [("allenai/c4", "c4"), ("Common Crawl", "common-crawl"),
                                          ("RedPajama", None), ("Falcon-RefinedWeb", None)]


def test_a_longer_written_name_beats_a_known_label_inside_it(index: EntityIndex) -> None:
    found = find_mentions("More flexible than TensorFlow Hub or PyTorch Hub.", index)
    assert found == [("TensorFlow Hub", None), ("PyTorch Hub", "pytorch-hub")]
    found = find_mentions("Its catalogue is smaller than the Hugging Face Hub's, and tied to PyTorch.", index)
    assert found == [("Hugging Face Hub", None), ("PyTorch", "pytorch")]


def test_possessives_name_the_artifact(index: EntityIndex) -> None:
    assert find_mentions("It keeps RoBERTa's recipe.", index) == [("RoBERTa", "roberta-base")]
    assert find_mentions("It beats Word2Vec's vectors.", index) == [("Word2Vec", None)]


def test_the_claimed_entity_itself_is_not_reported(index: EntityIndex) -> None:
    text = "The Pile covers more domains than C4."
    assert find_mentions(text, index, exclude=["the-pile"]) == [("C4", "c4")]


def test_each_entity_is_reported_once(index: EntityIndex) -> None:
    text = "Better than C4 for code, better than C4 for papers, and better than allenai/c4 for books."
    assert find_mentions(text, index) == [("C4", "c4")]


@pytest.mark.parametrize("text", [
    "Trained on 1.5T tokens, it needs 8GB+ of VRAM and runs 2-4x faster on a GPU than on a CPU.",
    "Scores 95-98% of the teacher on NLU tasks with int8 and fp16 weights at 512 tokens.",
    "Uses the MLM and MSE losses; NER and QA heads are trained with BPE tokens through an API.",
    "More efficient than padding everything to the maximum length, and faster than one at a time.",
    "Post-training quantization is simpler but less accurate than quantization-aware training.",
])
def test_no_junk_from_numbers_units_and_acronyms(index: EntityIndex, text: str) -> None:
    assert find_mentions(text, index) == []


def test_a_name_never_runs_across_a_sentence_end(index: EntityIndex) -> None:
    text = "More models than any other on the Hub. RoBERTa-base is better but slower."
    found = find_mentions(text, index)
    assert ("RoBERTa-base", "roberta-base") in found
    assert all("." not in name and "Hub RoBERTa" not in name for name, _ in found)
    text = "Broader than raw Common Crawl. Dedicated collections go deeper."
    assert find_mentions(text, index) == [("Common Crawl", "common-crawl")]


def test_mentions_do_not_depend_on_stubs() -> None:
    """A stub minted earlier (from another claim) must not change how a text is read."""
    text = "Its catalogue is smaller than the Hugging Face Hub's, and it has fewer models than the Hub."
    fresh = EntityIndex()
    with_stubs = EntityIndex()
    with_stubs.add("hub", "Hub", stub=True)
    with_stubs.add("hugging-face", "Hugging Face", stub=True)
    assert find_mentions(text, fresh) == find_mentions(text, with_stubs)


# ------------------------------------------------------------------ the index of a catalog


def test_load_index_reads_names_aliases_and_hub_ids(example_catalog: Catalog) -> None:
    idx = load_index(example_catalog)
    assert idx.resolve("allenai/c4") == ["c4"]
    assert idx.resolve("RoBERTa") == ["roberta-base"]  # an alias of an entity that also has a url
    assert idx.resolve("LAION") == ["laion-5b"]
    assert idx.resolve("bert base") == ["bert-base-uncased"]


def test_load_index_knows_stubs(catalog: Catalog, tmp_path) -> None:  # type: ignore[no-untyped-def]
    card = tmp_path / "a.md"
    card.write_text("---\nid: a-model\nname: A Model\nkind: model\nrelations:\n  trainedOn: [Mystery Corpus]\n---\n",
                    encoding="utf-8")
    ingest(catalog, [card])
    idx = load_index(catalog)
    assert idx.stubs == {"mystery-corpus"}
    assert idx.resolve("mystery corpus") == ["mystery-corpus"]
    assert catalog.ask(f"ASK {{ <{entity_iri('a-model')}> mg:trainedOn <{entity_iri('mystery-corpus')}> }}")


def test_plain_lowercase_words_are_not_taken_for_capitalised_names() -> None:
    from matchgraph.sources.linking import EntityIndex, find_mentions

    index = EntityIndex()
    index.add("openwebtext", "OpenWebText", ["WebText"])
    index.add("transformers", "Transformers", ["Hugging Face Transformers"])
    index.add("json-lines", "JSON Lines", ["jsonl", "jsonlines"])
    text = "Cleaner than raw web text, built on bidirectional transformers, shipped as jsonlines for Transformers."
    assert find_mentions(text, index) == [("jsonlines", "json-lines"), ("Transformers", "transformers")]
