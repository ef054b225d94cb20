"""Classify free text into the capability concepts of the matchgraph SKOS scheme.

The classifier is deterministic and explainable: every score is a sum of matched terms, and every
match carries the terms that produced it. Text and labels go through the same normalisation
(ASCII folding, lowercase, punctuation and hyphens as spaces, stop words dropped, a light stemmer
for plurals, -ing, -ed and -ise/-ize), then

- a **label phrase** (prefLabel or altLabel) found contiguously within one sentence scores the sum
  of the IDF of its words, scaled up for longer phrases; prefLabels weigh a little more than
  altLabels. Hyphen and space variants match each other ("fill-mask", "fill mask", "fillmask");
- a phrase lying inside a longer phrase matched for *another* concept counts half (the longest
  match wins: "product quantization" is vector search before it is quantization);
- a remaining **word** shared with a concept's labels or definition adds a smaller IDF share
  (half as much if a label phrase of another concept already explains it).

IDF is computed over the concepts, so words many concepts mention count little, and the commonest
("model", "data", "text") only count inside phrases. In a text of several sentences the first one,
usually a title or the gist, counts double. The raw sum ``r`` becomes a score in [0, 1) as
``r / (r + SCORE_HALF)``. Top concepts of the scheme (model tasks, dataset aspects, ...) organise
it and are never returned.

Examples
--------
>>> [m.slug for m in classify("fill-mask model for masked token prediction", limit=1)]
['masked-language-modelling']
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import RDF, SKOS, Graph, Literal, URIRef
from rdflib.term import Node

from ..errors import ConfigError, Location, ParseError
from ..ontology import ontology_path
from ..vocab import CONCEPT, concept_iri

__all__ = ["Concept", "ConceptMatch", "ConceptScheme", "SCHEME_IRI", "classify", "concept_labels",
           "explain", "load_scheme", "normalise", "stem"]

#: IRI of the capability concept scheme.
SCHEME_IRI = concept_iri("scheme")
#: Default minimum score of a returned match.
DEFAULT_MIN_SCORE = 0.25
#: Raw score that maps to 0.5.
SCORE_HALF = 4.0
#: Weight of a prefLabel phrase hit relative to 1.0 for an altLabel hit.
PREF_WEIGHT = 1.1
#: Extra weight per additional word of a matched phrase.
LENGTH_BONUS = 0.25
#: Factor for a phrase inside a longer phrase matched for another concept.
SHADOW_FACTOR = 0.5
#: Share of a word's IDF added when it occurs in a concept's labels, or only in its definition.
LABEL_WORD_WEIGHT = 0.5
DEFINITION_WORD_WEIGHT = 0.15
#: Words in more than this share of the concepts ("model", "data", "text") only count inside phrases.
MAX_WORD_SHARE = 0.25
#: Factor for terms in the first sentence of a text of several sentences (usually its title or gist).
LEAD_WEIGHT = 2.0
#: At most this many terms are kept as evidence of a match.
MAX_EVIDENCE = 6

#: Words dropped before matching ("no" and "without" are kept: they change what a label means).
STOPWORDS = frozenset("""
a an the of for with to in on at by from into onto over under and or nor but not as is
are was were be been being it its this that these those there their they them we our you your i
me my he she his her s t can could will would should may might must do does did done has have had
via per than then so such up out about across within any all each every some more most other own
which who whom what when where why how also just very too using based during
need needs want wants looking like
""".split())

_WORD = re.compile(r"[a-z0-9]+")
_SEPARATORS = re.compile(r"[\-_/.+]")
_SENTENCE_END = re.compile(r"[.!?;:]\s|\n")
_BOUNDARY = "|"
#: Words that matter inside a label phrase but say nothing alone.
_PHRASE_ONLY = frozenset({"no", "without"})
_SUFFIXES = (
    ("isation", "ize"), ("ization", "ize"), ("ising", "ize"), ("izing", "ize"), ("ised", "ize"),
    ("ized", "ize"), ("iser", "ize"), ("izer", "ize"), ("ise", "ize"),
    ("ication", "y"), ("ifier", "ify"), ("ified", "ify"), ("ied", "y"),
    ("ational", "ate"), ("ation", "ate"), ("ative", "ate"), ("ability", ""), ("able", ""),
    ("ness", ""), ("ing", ""), ("ed", ""),
)
#: Words the suffix rules would damage.
_KEEP = frozenset({"embed", "speed", "need", "seed", "feed", "bed", "shed", "red", "bring", "string",
                   "thing", "king", "ring", "sing", "wing", "bias", "less", "loss", "table", "news"})
#: Comparatives and superlatives of the adjectives needs use ("small fast model") and descriptions
#: compare with ("40% smaller", "60% faster"). A list, not a rule: "-er" also ends "layer",
#: "encoder" and "paper".
_GRADED = {f"{base}{end}": base for base in (
    "fast", "small", "light", "cheap", "quick", "low", "high", "long", "short", "strong", "weak", "few", "lean",
    "deep", "narrow", "new", "old", "smart", "clean", "great", "tall", "rich", "broad", "sharp", "fresh")
    for end in ("er", "est")}
_GRADED |= {"larger": "large", "largest": "large", "bigger": "big", "biggest": "big", "slimmer": "slim",
            "slimmest": "slim", "tinier": "tiny", "tiniest": "tiny", "simpler": "simple", "simplest": "simple",
            "easier": "easy", "easiest": "easy", "safer": "safe", "safest": "safe", "wider": "wide",
            "widest": "wide", "finer": "fine", "finest": "fine", "leaner": "lean", "thinner": "thin",
            "thinnest": "thin", "hotter": "hot", "noisier": "noisy", "heavier": "heavy", "heaviest": "heavy"}


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Reduce a lowercase word to a crude stem shared by its inflections.

    Parameters
    ----------
    word : str
        One lowercase ASCII word.

    Returns
    -------
    str
        The stem: plurals, -ing, -ed, -ation and -ise/-ize endings removed or unified, a final
        ``e`` and a final doubled consonant dropped, the comparative and superlative of common
        adjectives ("faster", "smallest") reduced to the adjective. Words with digits are
        returned unchanged.

    Examples
    --------
    >>> [stem(w) for w in ("modelling", "modeled", "models")]
    ['model', 'model', 'model']
    >>> stem("quantisation") == stem("quantized") == stem("quantize")
    True
    >>> stem("faster") == stem("fast"), stem("smallest") == stem("small"), stem("layer")
    (True, True, 'layer')
    """
    if len(word) <= 3 or not word.isalpha() or word in _KEEP:
        return word
    word = _GRADED.get(word, word)
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is", "as")):
        word = word[:-1]
    if word in _KEEP:
        return word
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + replacement
            break
    if len(word) >= 4 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiousz":
        word = word[:-1]
    return word


def normalise(text: str) -> list[str]:
    """Split text into lowercase ASCII words without stop words (unstemmed).

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    list of str
        The words in order; hyphens, slashes, dots and underscores separate words.

    Examples
    --------
    >>> normalise("Fill-Mask for the BERT_base model")
    ['fill', 'mask', 'bert', 'base', 'model']
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return [w for w in _WORD.findall(_SEPARATORS.sub(" ", folded)) if w not in STOPWORDS]


@dataclass(frozen=True)
class Concept:
    """One concept of the capability scheme.

    Parameters
    ----------
    slug : str
        Local name of the IRI, e.g. ``masked-language-modelling``.
    iri : rdflib.URIRef
        The concept IRI.
    pref_label : str
        The skos:prefLabel.
    alt_labels : tuple of str
        The skos:altLabels, sorted.
    definition : str
        The skos:definition ("" when missing).
    broader : tuple of str
        Slugs of the broader concepts.
    top : bool
        Whether the concept is a top concept of the scheme.
    """

    slug: str
    iri: URIRef
    pref_label: str
    alt_labels: tuple[str, ...]
    definition: str
    broader: tuple[str, ...]
    top: bool = False

    @property
    def labels(self) -> tuple[str, ...]:
        """The prefLabel followed by the altLabels."""
        return (self.pref_label, *self.alt_labels)


@dataclass(frozen=True)
class ConceptMatch:
    """A concept the classifier found in a text.

    Parameters
    ----------
    concept : rdflib.URIRef
        The concept IRI.
    slug : str
        The concept slug.
    label : str
        The concept prefLabel.
    score : float
        Confidence in [0, 1), rounded to 4 places.
    evidence : tuple of str
        The labels and words that matched, strongest first, e.g. ``("fill-mask", "masked")``.
    """

    concept: URIRef
    slug: str
    label: str
    score: float
    evidence: tuple[str, ...]


@dataclass
class _Phrase:
    """A label phrase of one concept; ``labels`` maps each label's joined words to the label."""

    words: tuple[str, ...]
    concept: int
    label: str
    weight: float
    labels: dict[str, str]

    def label_for(self, surface: list[str]) -> str:
        """Return the label written like ``surface`` (the matched words), else the strongest one."""
        return self.labels.get("".join(surface), self.label)


class ConceptScheme:
    """The capability concepts with an inverted index of their labels, built once.

    Parameters
    ----------
    concepts : list of Concept
        The concepts of the scheme, top concepts included.
    iri : rdflib.URIRef, optional
        The scheme IRI.
    """

    def __init__(self, concepts: list[Concept], iri: URIRef = SCHEME_IRI) -> None:
        self.iri = iri
        self.concepts: dict[str, Concept] = {c.slug: c for c in sorted(concepts, key=lambda c: c.slug)}
        self._targets = [c for c in self.concepts.values() if not c.top]
        self._build_index()

    def __len__(self) -> int:
        return len(self.concepts)

    def __iter__(self) -> Iterator[Concept]:
        return iter(self.concepts.values())

    def __contains__(self, slug: object) -> bool:
        return slug in self.concepts

    def __getitem__(self, slug: str) -> Concept:
        return self.concepts[slug]

    def top_concepts(self) -> list[Concept]:
        """Return the top concepts, sorted by slug."""
        return [c for c in self.concepts.values() if c.top]

    def ancestors(self, slug: str) -> list[str]:
        """Return the slugs of all broader concepts of ``slug``, nearest first."""
        seen: list[str] = []
        todo = list(self.concepts[slug].broader)
        while todo:
            parent = todo.pop(0)
            if parent not in seen and parent in self.concepts:
                seen.append(parent)
                todo.extend(self.concepts[parent].broader)
        return seen

    def _build_index(self) -> None:
        label_words: list[set[str]] = []
        definition_words: list[set[str]] = []
        for concept in self._targets:
            label_words.append({stem(w) for label in concept.labels for w in normalise(label)})
            definition_words.append({stem(w) for w in normalise(concept.definition)})
        count = len(self._targets)
        frequency: dict[str, int] = defaultdict(int)
        for labels, definition in zip(label_words, definition_words):
            for word in labels | definition:
                frequency[word] += 1
        self._idf = {w: math.log(1 + count / n) for w, n in frequency.items()}

        best: dict[tuple[int, tuple[str, ...]], _Phrase] = {}
        for index, concept in enumerate(self._targets):
            for label in concept.labels:
                raw = normalise(label)
                if not raw:
                    continue
                words = tuple(stem(w) for w in raw)
                weight = sum(self._idf[w] for w in words) * (1 + LENGTH_BONUS * (len(words) - 1))
                weight *= PREF_WEIGHT if label == concept.pref_label else 1.0
                keys = [words]
                if 1 < len(raw) <= 3:
                    keys.append((stem("".join(raw)),))
                for key in keys:
                    known = best.setdefault((index, key), _Phrase(key, index, label, weight, {}))
                    if known.weight < weight:
                        known.label, known.weight = label, weight
                    known.labels.setdefault("".join(raw), label)
        # one-word phrases by their word, longer ones by their first two words
        self._single: dict[str, list[_Phrase]] = defaultdict(list)
        self._multi: dict[tuple[str, str], list[_Phrase]] = defaultdict(list)
        for phrase in best.values():
            if len(phrase.words) == 1:
                self._single[phrase.words[0]].append(phrase)
            else:
                self._multi[phrase.words[:2]].append(phrase)

        self._words: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for index, (labels, definition) in enumerate(zip(label_words, definition_words)):
            for word in labels | definition:
                if (len(word) < 2 or word.isdigit() or word in _PHRASE_ONLY
                        or frequency[word] > MAX_WORD_SHARE * count):
                    continue
                share = LABEL_WORD_WEIGHT if word in labels else DEFINITION_WORD_WEIGHT
                self._words[word].append((index, share * self._idf[word]))

    def classify(self, text: str, *, limit: int = 3,
                 min_score: float = DEFAULT_MIN_SCORE) -> list[ConceptMatch]:
        """Return the concepts ``text`` is about, best first; see :func:`classify`."""
        # sentences are joined with a boundary token no phrase contains, so phrases stay inside one
        sentences = [s for s in (normalise(part) for part in _SENTENCE_END.split(text or "")) if s]
        if not sentences or limit <= 0:
            return []
        raw = [w for sentence in sentences for w in (*sentence, _BOUNDARY)][:-1]
        words = [stem(w) for w in raw]
        lead = len(sentences[0]) if len(sentences) > 1 else 0  # one sentence: no emphasis
        # (start, end, phrase) for every label phrase found in the text
        hits: list[tuple[int, int, _Phrase]] = []
        for i, word in enumerate(words):
            hits.extend((i, i + 1, phrase) for phrase in self._single.get(word, ()))
            if i + 1 < len(words):
                for phrase in self._multi.get((word, words[i + 1]), ()):
                    end = i + len(phrase.words)
                    if tuple(words[i:end]) == phrase.words:
                        hits.append((i, end, phrase))
                # "fill mask" in the text matches the label "fillmask", and the other way round
                joined = stem(raw[i] + raw[i + 1])
                hits.extend((i, i + 2, phrase) for phrase in self._single.get(joined, ()))

        scores: dict[int, float] = defaultdict(float)
        evidence: dict[int, list[tuple[float, str]]] = defaultdict(list)
        covered: dict[int, set[int]] = defaultdict(set)
        counted: set[int] = set()
        # longest phrases first; a phrase counts once, and not inside a longer one of its concept
        hits.sort(key=lambda h: (h[0] - h[1], -h[2].weight, h[0], h[2].label))
        for start, end, phrase in hits:
            c = phrase.concept
            span = set(range(start, end))
            if id(phrase) in counted or span <= covered[c]:
                continue
            weight = phrase.weight * (LEAD_WEIGHT if start < lead else 1.0)
            if any(s <= start and end <= e and e - s > end - start and p.concept != c
                   for s, e, p in hits):
                weight *= SHADOW_FACTOR
            counted.add(id(phrase))
            covered[c] |= span
            scores[c] += weight
            evidence[c].append((weight, phrase.label_for(raw[start:end])))

        positions: dict[str, set[int]] = defaultdict(set)
        for i, word in enumerate(words):
            positions[word].add(i)
        # a word already explained by a label phrase counts less for the other concepts
        explained = set().union(*covered.values())
        for word, where in sorted(positions.items()):
            first = min(where)
            factor = LEAD_WEIGHT if first < lead else 1.0
            if where <= explained:
                factor *= SHADOW_FACTOR
            for c, weight in self._words.get(word, ()):
                if c in covered and where <= covered[c]:
                    continue
                scores[c] += weight * factor
                evidence[c].append((weight * factor, raw[first]))

        # concepts are indexed in slug order, so (-score, index) breaks ties by slug
        floor = 0.999 * SCORE_HALF * min_score / (1 - min_score) if min_score < 1 else math.inf
        ranked = heapq.nsmallest(limit, ((-round(t / (t + SCORE_HALF), 4), c)
                                         for c, t in scores.items() if t >= floor))
        matches = []
        for negative, c in ranked:
            if -negative < min_score:
                break
            concept = self._targets[c]
            terms = [t for _, t in sorted(evidence[c], key=lambda e: (-e[0], e[1]))]
            matches.append(ConceptMatch(concept.iri, concept.slug, concept.pref_label, -negative,
                                        tuple(dict.fromkeys(terms))[:MAX_EVIDENCE]))
        return matches


def _literal(graph: Graph, subject: Node, predicate: URIRef) -> list[str]:
    """Return the English (or untagged) literal values, sorted."""
    return sorted(str(o) for o in graph.objects(subject, predicate)
                  if isinstance(o, Literal) and (o.language or "en").lower().startswith("en"))


@lru_cache(maxsize=1)
def _default_scheme_path() -> Path:
    """Return the path of ``capabilities.ttl`` (source checkout or installed package)."""
    return ontology_path("capabilities.ttl").resolve()


def load_scheme(path: Path | None = None) -> ConceptScheme:
    """Load the capability concept scheme from Turtle (cached per path).

    Parameters
    ----------
    path : pathlib.Path, optional
        A Turtle file; by default the ``capabilities.ttl`` shipped with matchgraph.

    Returns
    -------
    ConceptScheme
        Every skos:Concept in :data:`SCHEME_IRI`, with its labels, definition and broader concepts.

    Raises
    ------
    ConfigError
        The file does not exist or holds no concept of the scheme.
    ParseError
        The file is not valid Turtle.
    """
    return _load_scheme(Path(path).resolve() if path is not None else _default_scheme_path())


@lru_cache(maxsize=8)
def _load_scheme(path: Path) -> ConceptScheme:
    if not path.is_file():
        raise ConfigError(f"concept scheme file {path} does not exist",
                          hint="reinstall matchgraph or pass the path of capabilities.ttl")
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises several unrelated types for bad syntax
        raise ParseError(f"cannot parse the concept scheme: {exc}",
                         location=Location(str(path))) from exc
    concepts = []
    members = set(graph.subjects(SKOS.inScheme, SCHEME_IRI))
    members |= set(graph.subjects(SKOS.topConceptOf, SCHEME_IRI))
    for subject in members:
        if not isinstance(subject, URIRef) or (subject, RDF.type, SKOS.Concept) not in graph:
            continue
        slug = str(subject).removeprefix(str(CONCEPT))
        pref = _literal(graph, subject, SKOS.prefLabel)
        definition = _literal(graph, subject, SKOS.definition)
        broader = sorted(str(o).removeprefix(str(CONCEPT)) for o in graph.objects(subject, SKOS.broader)
                         if str(o).startswith(str(CONCEPT)))
        concepts.append(Concept(
            slug=slug, iri=subject, pref_label=pref[0] if pref else slug.replace("-", " "),
            alt_labels=tuple(_literal(graph, subject, SKOS.altLabel)),
            definition=definition[0] if definition else "", broader=tuple(broader),
            top=(subject, SKOS.topConceptOf, SCHEME_IRI) in graph))
    if not concepts:
        raise ConfigError(f"{path} holds no skos:Concept in the scheme {SCHEME_IRI}")
    return ConceptScheme(concepts)


def classify(text: str, *, limit: int = 3, min_score: float = DEFAULT_MIN_SCORE,
             scheme: ConceptScheme | None = None) -> list[ConceptMatch]:
    """Map free text (a capability description or a search need) to capability concepts.

    Parameters
    ----------
    text : str
        The text to classify.
    limit : int, default 3
        Return at most this many concepts.
    min_score : float, default 0.25
        Leave out concepts scoring below this (scores lie in [0, 1)).
    scheme : ConceptScheme, optional
        The scheme to use; by default :func:`load_scheme` ``()``.

    Returns
    -------
    list of ConceptMatch
        Best first; equal scores are ordered by slug. Empty for empty or unrelated text.

    Examples
    --------
    >>> [m.slug for m in classify("knowledge distillation from a larger teacher model", limit=1)]
    ['knowledge-distillation']
    """
    return (scheme or load_scheme()).classify(text, limit=limit, min_score=min_score)


def explain(matches: list[ConceptMatch]) -> str:
    """Describe matches for people, one line per concept.

    Parameters
    ----------
    matches : list of ConceptMatch
        What :func:`classify` returned.

    Returns
    -------
    str
        Lines like ``masked-language-modelling (0.82): matched "masked language modelling", "MLM"``.
    """
    return "\n".join(f"{m.slug} ({m.score:.2f}): matched " + ", ".join(f'"{t}"' for t in m.evidence)
                     for m in matches)


def concept_labels(slug: str) -> list[str]:
    """Return the prefLabel and altLabels of a concept (empty for an unknown slug).

    Parameters
    ----------
    slug : str
        A concept slug such as ``quantization``.

    Returns
    -------
    list of str
        The prefLabel first, then the altLabels in sorted order.
    """
    scheme = load_scheme()
    return list(scheme[slug].labels) if slug in scheme else []
