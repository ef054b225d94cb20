"""Build ``bench/eval_sets/hub.json``: Hub datasets described by a sentence or two, needs written two ways.

A second evaluation set that mimics the held-out style the issue describes (real Hugging Face Hub
datasets described only by a sentence or two each; needs written as a one-sentence description of
what someone wants to do and as a 2-3 word task name):

- *records*: MTEB tasks whose data is on the Hub, named by their Hub dataset id (``dataset_path``,
  e.g. ``mteb/legalbench_consumer_contracts_qa``) and described by the first one or two sentences
  of their own MTEB description (at most 45 words), nothing else. Source:
  ``examples/mteb/tasks.jsonl`` (extracted from the ``mteb`` 2.26.24 package, Apache-2.0).
- *needs*: 46 needs written by hand in :data:`NEEDS` before any ranker was run on this set, each
  as a sentence and as a short task name; the answers are not chosen by hand but by a rule on
  MTEB's own metadata (task subtype, type, domain, modality), so nobody chose them by looking at
  the records' words. A record is in the catalog either as an answer (at most ``MAX_ANSWERS`` per
  need, picked in hash order) or as a distractor that no rule matches; a record is relevant to
  every need whose rule it matches.
- *splits*: each need is ``tune`` or ``test`` by a hash of its short name; only ``tune`` may be
  used to choose anything.

Unlike ``mteb.json`` (whose needs are MTEB categories, with a held-out task's sentence as the
sentence form), the needs here say what someone wants to do, in words that need not appear in the
records, as in the held-out set. There are no models in it (MTEB's model metadata has no
descriptions); Croissant records are left out because their relevance is not in the metadata.

Usage::

    python bench/make_eval_hub.py          # writes bench/eval_sets/hub.json (deterministic)
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "eval_sets" / "hub.json"
MAX_ANSWERS, MIN_ANSWERS, MAX_WORDS, DISTRACTORS = 6, 3, 45, 70
_SENTENCE = re.compile(r"(?<=[a-z0-9)\]])[.!?](?=\s+[A-Z(\[]|\s*$)")

Rule = Callable[[dict], bool]


def sub(*names: str) -> Rule:
    wanted = {n.lower() for n in names}
    return lambda t: any(s.lower() in wanted for s in t.get("task_subtypes") or [])


def typ(*names: str) -> Rule:
    return lambda t: t["type"] in names


def dom(name: str) -> Rule:
    return lambda t: name in (t.get("domains") or [])


def mod(name: str) -> Rule:
    return lambda t: name in (t.get("modalities") or [])


def text_only(t: dict) -> bool:
    return (t.get("modalities") or ["text"]) == ["text"]


def all_of(*rules: Rule) -> Rule:
    return lambda t: all(r(t) for r in rules)


TEXT_RETRIEVAL = ("Retrieval", "Reranking", "InstructionRetrieval", "InstructionReranking")
#: (short name, sentence, rule). Written before any ranking on this set was looked at.
NEEDS: list[tuple[str, str, Rule]] = [
    ("claim verification", "I want to check whether a factual claim is supported or refuted by evidence documents.",
     sub("Claim verification")),
    ("code search", "Find code snippets that do what a question written in plain English asks for.",
     sub("Code retrieval")),
    ("emotion detection in text", "Detect which emotion, such as joy, anger or sadness, a short piece of writing expresses.",
     all_of(sub("Emotion classification"), text_only)),
    ("speech emotion recognition", "Tell how a speaker feels from a recording of their voice.",
     all_of(sub("Emotion classification", "Emotion recognition", "Emotional Speech Retrieval"), mod("audio"))),
    ("hate speech detection", "Flag social media posts that are hateful, abusive or offensive.",
     all_of(sub("Sentiment/Hate speech"), dom("Social"))),
    ("review sentiment analysis", "Tell whether a customer's review of a product or film is positive or negative.",
     all_of(sub("Sentiment/Hate speech", "Sentiment Analysis"), dom("Reviews"))),
    ("news topic classification", "Sort news articles into subjects such as sport, politics or business.",
     all_of(sub("Topic classification"), dom("News"))),
    ("duplicate question detection", "Find out whether two questions posted on a forum ask the same thing.",
     sub("Duplicate Detection")),
    ("environmental sound classification", "Recognise everyday sounds like dogs barking, sirens or rain in short audio clips.",
     sub("Environment Sound Classification")),
    ("spoken language identification", "Work out which language is being spoken in an audio recording.",
     sub("Spoken Language Identification")),
    ("instrument recognition", "Identify which musical instruments are playing in a piece of music.",
     sub("Music Instrument Recognition")),
    ("human action recognition", "Recognise what a person is doing, like running or cooking, in a video.",
     all_of(sub("Activity recognition"), mod("video"))),
    ("scene recognition", "Classify photos by the kind of place they show, for example a beach, a kitchen or a forest.",
     sub("Scene recognition")),
    ("text to image retrieval", "Given a written caption, find the photo it describes among many images.",
     all_of(sub("Image Text Retrieval"), lambda t: t.get("category") == "t2i")),
    ("patent search", "Search earlier patents for prior art related to a new invention.",
     sub("Patent retrieval")),
    ("legal case retrieval", "Find court decisions, statutes or contract clauses that are relevant to a legal question.",
     all_of(typ(*TEXT_RETRIEVAL), dom("Legal"))),
    ("medical information retrieval", "Retrieve medical articles or answers that address a patient's health question.",
     all_of(typ(*TEXT_RETRIEVAL), dom("Medical"))),
    ("financial text classification", "Label sentences from financial news and company reports, for instance by sentiment or topic.",
     all_of(typ("Classification"), dom("Financial"))),
    ("scientific literature search", "Find research papers that are relevant to a scientific question or to another paper.",
     all_of(typ(*TEXT_RETRIEVAL), dom("Academic"), sub("Article retrieval", "Scientific Reranking"))),
    ("natural language inference", "Decide whether one sentence logically follows from, or contradicts, another.",
     sub("Textual Entailment")),
    ("semantic textual similarity", "Score how close in meaning two sentences are.",
     all_of(typ("STS"), text_only)),
    ("translation pair mining", "Find pairs of sentences in two languages that are translations of each other.",
     typ("BitextMining")),
    ("intent classification", "Work out what a user wants from a message they send to a chatbot or voice assistant.",
     sub("Intent Classification")),
    ("keyword spotting", "Detect short spoken commands such as yes, no, stop or digits in audio.",
     sub("Keyword Spotting", "Spoken Digit Classification")),
    ("speech to text retrieval", "Find the audio recording whose spoken words match a given transcript.",
     sub("Speech Transcription Retrieval", "Speech Retrieval")),
    ("audio retrieval from text", "Search a collection of sound recordings with a text description of the sound.",
     sub("Environment Sound Retrieval")),
    ("music retrieval from text", "Find music clips that fit a written description of the music.",
     sub("Music Caption Retrieval", "Song Lyrics Retrieval")),
    ("video question answering", "Answer questions about what happens in a video.",
     typ("VideoCentricQA")),
    ("document page retrieval", "Find the page of a scanned document, slide deck or chart that answers a question.",
     typ("DocumentUnderstanding")),
    ("conversational search", "Retrieve passages that answer the next question in a multi-turn conversation.",
     sub("Conversational retrieval")),
    ("reasoning-intensive retrieval", "Find documents that help solve a hard question needing reasoning, like a math or coding problem.",
     sub("Reasoning as Retrieval")),
    ("news clustering", "Group news articles into clusters by what they are about.",
     all_of(typ("Clustering"), dom("News"))),
    ("scientific paper clustering", "Group research papers by field from their titles or abstracts.",
     all_of(typ("Clustering"), dom("Academic"))),
    ("open-domain question answering", "Find the Wikipedia passage that answers a general knowledge question.",
     all_of(sub("Question answering"), dom("Encyclopaedic"), typ("Retrieval"))),
    ("speaker gender classification", "Tell whether a speaker is a man or a woman from their voice.",
     sub("Gender Classification", "Gender Clustering")),
    ("image classification", "Classify images by the object they show, such as a car, a bird or a flower.",
     all_of(sub("Object recognition"), typ("ImageClassification"))),
    ("zero-shot image classification", "Classify images into categories given only the category names, without training examples.",
     all_of(typ("ZeroShotClassification"), mod("image"))),
    ("chemistry question retrieval", "Search chemistry texts for passages that answer a question about molecules or reactions.",
     all_of(typ(*TEXT_RETRIEVAL), dom("Chemistry"))),
    ("instruction-following retrieval", "Retrieve documents that satisfy detailed instructions given along with the search query.",
     typ("InstructionRetrieval", "InstructionReranking")),
    ("financial question answering", "Find passages in financial reports or filings that answer questions about a company.",
     all_of(typ(*TEXT_RETRIEVAL), dom("Financial"))),
    ("video classification", "Assign a category label to a short video clip.",
     typ("VideoClassification")),
    ("image clustering", "Group a collection of unlabelled images into clusters of similar pictures.",
     typ("ImageClustering")),
    ("audio clustering", "Group audio recordings into clusters without labels.",
     typ("AudioClustering")),
    ("multilabel text classification", "Assign several labels at once to each document.",
     typ("MultilabelClassification")),
    ("programming question answering", "Find answers to programming questions like those asked on Stack Overflow.",
     all_of(typ(*TEXT_RETRIEVAL), dom("Programming"), lambda t: not sub("Code retrieval")(t))),
    ("composed image retrieval", "Find an image from a reference picture plus a text saying how it should differ.",
     typ("Compositionality")),
]


def first_sentences(text: str, n: int = 2, max_words: int = MAX_WORDS) -> str:
    """The first ``n`` sentences of a description, cut to ``max_words`` words (whole sentences kept
    when the first alone is longer)."""
    text = re.sub(r"\s+", " ", re.sub(r"#+ [^\n]*\n", " ", text or "")).strip()
    out = ""
    for _ in range(n):
        m = _SENTENCE.search(text, len(out))
        candidate = (text[:m.start() + 1] if m else text).strip()
        if out and len(candidate.split()) > max_words:
            break
        out = candidate
        if not m:
            break
    words = out.split()
    return " ".join(words[:max_words]) + (" ..." if len(words) > max_words else "")


def _h(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _english(task: dict) -> bool:
    return any(lang.startswith("eng-") for lang in task.get("eval_langs") or [])


def build() -> dict:
    tasks = [json.loads(line) for line in (ROOT / "examples" / "mteb" / "tasks.jsonl").open(encoding="utf-8")]
    usable, seen_text, seen_path = [], set(), set()
    for t in sorted(tasks, key=lambda t: _h(t["name"])):
        description = first_sentences(t.get("description", ""))
        path = t.get("dataset_path") or ""
        if (not path or len(description.split()) < 5 or description.lower() in seen_text or path in seen_path
                or not (_english(t) or t["type"] == "BitextMining")):
            continue
        seen_text.add(description.lower())
        seen_path.add(path)
        usable.append({**t, "text": description})
    matches = {t["name"]: [i for i, (_, _, rule) in enumerate(NEEDS) if rule(t)] for t in usable}
    catalog: dict[str, dict] = {}
    for i, _ in enumerate(NEEDS):
        members = [t for t in usable if i in matches[t["name"]]]
        for t in members[:MAX_ANSWERS]:
            catalog[t["name"]] = t
    distractors = [t for t in usable if not matches[t["name"]]]
    for t in distractors[:DISTRACTORS]:
        catalog[t["name"]] = t
    needs = []
    for i, (short, sentence, _) in enumerate(NEEDS):
        relevant = {t["dataset_path"]: 1 for t in catalog.values() if i in matches[t["name"]]}
        if len(relevant) < MIN_ANSWERS:
            print(f"  dropped (only {len(relevant)} answers): {short}", file=sys.stderr)
            continue
        split = "tune" if int(_h(short), 16) % 2 else "test"
        for style, need in (("short", short), ("sentence", sentence)):
            needs.append({"label": short, "split": split, "style": style, "need": need, "relevant": relevant})
    records = [{"id": t["dataset_path"], "name": t["dataset_path"], "kind": "dataset", "description": t["text"],
                "mteb_task": t["name"]} for t in sorted(catalog.values(), key=lambda t: t["dataset_path"])]
    return {"about": __doc__.split("\n\n")[0] + " See bench/make_eval_hub.py.",
            "licence": "Records: Apache-2.0 (MTEB task metadata, mteb 2.26.24, see examples/mteb/README.md); "
                       "needs written for matchgraph.",
            "records": records, "needs": needs}


def main() -> int:
    data = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    by: dict[tuple[str, str], int] = defaultdict(int)
    for n in data["needs"]:
        by[(n["split"], n["style"])] += 1
    answers = [len(n["relevant"]) for n in data["needs"] if n["style"] == "short"]
    print(f"{len(data['records'])} records, {len(data['needs'])} needs, answers per need "
          f"{min(answers)}-{max(answers)} -> {OUT.relative_to(ROOT)}")
    for key, count in sorted(by.items()):
        print(" ", *key, count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
