"""Match a need written in plain words to the catalog's entities, and say why.

The ranker combines five kinds of evidence (the formula, with its constants, is in
``docs/matching.md``):

1. **lexical**: BM25 over each entity's name, aliases, description, capabilities and the labels of
   its capability concepts (:mod:`matchgraph.matching.textindex`), divided by the best score of the query;
2. **concepts**: the need is classified into capability concepts (:func:`matchgraph.matching.classify.classify`)
   and an entity gains by how confidently its capabilities carry those concepts;
3. **graph evidence**: the entity's Rank (as last computed by :mod:`matchgraph.graph.scores`, read from
   the score graph) as a small prior, and a pull towards the alternatives of the strongest hits;
4. **kind**: a kind the need names ("... corpus with code", "a library to ...") favours entities of
   that kind; ``kind=`` filters. Stubs (entities known only by name) rank below described ones.

5. **meaning**: the cosine similarity of sentence vectors, fused with the lexical and concept
   evidence: by default the sentence encoder's (:mod:`matchgraph.matching.semantic`) for entities
   known by a name and a description only, the static vectors' (:mod:`matchgraph.matching.static_vectors`)
   for entities with capabilities (beside cards with claims, the imported records among the need's
   best :attr:`MatchWeights.imported_candidates` are read by the encoder too); ``semantic=True`` the
   encoder's for every entity, ``semantic=False`` the static vectors' for every entity.

Unless ``record=False`` (or ``MATCHGRAPH_RECORD_MATCHES=0``), every match is stored as a match
event (:mod:`matchgraph.matching.events`): evidence for Times Matched and for the co-match edges of the
projection.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

from ..store.catalog import Catalog
from .classify import ConceptMatch, classify, normalise, stem
from ..errors import CatalogBusy, ConfigError
from .textindex import TextIndex
from ..vocab import normalise_kind

__all__ = ["MatchWeights", "MatchResult", "MatchResults", "match", "rank", "imported_candidates", "kind_hint",
           "wanted_kind", "recording_enabled", "DEFAULT_WEIGHTS", "BM25_ONLY", "RECORD_ENV", "KIND_FAMILIES"]

#: Environment variable that switches recording off when set to 0, false, no or off.
RECORD_ENV = "MATCHGRAPH_RECORD_MATCHES"
#: Kinds that answer similar needs: a hinted kind gives half its boost to the rest of its family.
KIND_FAMILIES: dict[str, str] = {
    "dataset": "data", "benchmark": "data",
    "tool": "software", "library": "software", "framework": "software", "service": "software",
    "method": "method", "metric": "method",
}
#: Words that end the noun phrase naming what the need asks for ("a corpus *with* code").
_PHRASE_END = frozenset("""to for that which who so with without from of on in by using via into than where
when while whose like trained built made""".split())
_WORD = re.compile(r"[a-z0-9]+")
#: Words that ask for what follows them ("find a model", "I need a dataset", "show me a library"):
#: before a determiner, only these keep the phrase's head as the kind asked for.
_REQUEST = frozenset("""i we me us you please find need needs want wants get recommend suggest search
searching seek seeking show give list choose pick looking look is are there any some can could would
help for am m im this it these that do does have has anyone anybody know d like love""".split())
#: "looking for a model": the "for" after these does not end the phrase.
_SEEKING = frozenset("looking look searching search asking ask".split())
#: "I'd like a model", "we would like a dataset": the "like" after these does not end the phrase.
_WISHING = frozenset("d would should".split())
#: Characters that join two words into one ("Q&A", "one-shot", "on-the-fly", "A/B"): a
#: determiner's word joined to another is none.
_JOINERS = "&/-'"
#: Determiners: a verb other than a request before one ("shrink a model", "train the model") acts on
#: the kind named after it, and the need does not ask for that kind.
_DETERMINER = frozenset("a an the some any my our one".split())
#: Verbs that, first in a need, act on the kind they name ("evaluate models on ...", "fine-tune
#: models for ...", "serve models on GPUs"): the need asks for something that does it, not for one.
_ACTING = frozenset("""evaluate compare train fine finetune tune serve deploy run quantize quantise distill
distil compress convert shrink load optimize optimise prune measure debug visualize visualise pretrain
download upload inspect explain audit""".split())


@dataclass(frozen=True)
class MatchWeights:
    """The constants of the ranking formula (see ``docs/matching.md``).

    Parameters
    ----------
    lexical, concept : float
        Weights of the normalised BM25 score and of the concept score in the relevance.
    coverage : float
        Exponent of the share of the need an entity covers, applied before normalising: to its
        BM25 score, the IDF-weighted share of the need's terms it contains; to its concept score,
        the share of the need's concept scores it offers. 0 turns coverage off (plain BM25).
    semantic : float
        Share of the semantic similarity in the relevance when semantic matching is on.
    dense : float
        Share of the static-vector similarity (:mod:`matchgraph.matching.static_vectors`) in the relevance
        when semantic matching is off; 0 turns it off.
    floor : float
        Quantile of an entity's similarity to the need (static or semantic) that counts as no
        evidence: similarities are mapped to [0, 1] from this quantile to the best entity.
    kind : float
        Boost factor for an entity of the kind the need names (half of it for the kind's family).
    prior : float
        Strength of the Rank prior: the score is multiplied by ``1 + prior * (rank / 100 - 0.5)``.
    alternative : float
        How far alternatives of the strongest hits are pulled up, as a share of the hit's score.
    stub : float
        Factor applied to stubs.
    strong_hits : int
        How many of the best hits pull up their alternatives.
    need_concepts : int
        How many concepts the need is classified into.
    concept_terms : float
        Extra weight of the need's words that name one of its concepts confidently (score at
        least ``confident``): a word's BM25 and coverage weight is ``1 + concept_terms * score``.
    confident : float
        The concept score from which the need's concepts weigh its words.
    semantic_coverage_terms : int
        With semantic similarity, the coverage exponent is scaled by ``min(1, this / n)`` for a
        need of ``n`` distinct terms: a long sentence is not expected to be covered word for word
        when the encoder reads its meaning (0 keeps the full exponent).
    semantic_plain, dense_plain : float
        ``semantic`` and ``dense`` for entities without capabilities (a name and a description
        only, as most imported records): there the words are few and sentence similarity is
        the better evidence. Negative means the same as for described entities.
    semantic_plain_long, dense_plain_long : float
        The same for a need written as a sentence: the share rises linearly from the ``*_plain``
        value at ``short_need`` distinct words to this one at ``long_need`` words (a sentence
        says what it wants in words the records need not use; a task name uses theirs).
    short_need, long_need : int
        The ends of that ramp, in distinct need words (stop words aside).
    semantic_imported : float
        In a default match, the share of the sentence encoder's similarity for the records an
        importer gave capabilities without a claim, beside cards with claims
        (:attr:`~matchgraph.matching.textindex.TextIndex.imported`), among the best
        ``imported_candidates`` of them; the others keep the static vectors at ``dense``. Chosen
        from 0.3, 0.4 and 0.5 on the Quickstart catalog's 75 card needs and the *hub* tune needs
        imported beside the cards, under the issue's constraint that the README need keeps three
        masked language models of the cards in its top 5 (0.4 and 0.5 do not; BENCHMARKS.md, round 12).
    imported_candidates : int
        How many imported records the encoder reads for a need: the best by the ranking without
        it (0 reads none, as does a ``semantic_imported`` of 0). 50: within 0.03 of reading 100 on the *hub* tune needs, and a need
        nobody asked before embeds at most 50 new texts.
    """

    lexical: float = 0.7
    concept: float = 0.3
    coverage: float = 1.0
    semantic: float = 0.6
    dense: float = 0.2
    floor: float = 0.5
    kind: float = 0.3
    prior: float = 0.1
    alternative: float = 0.15
    stub: float = 0.5
    strong_hits: int = 3
    need_concepts: int = 3
    concept_terms: float = 1.0
    confident: float = 0.5
    semantic_coverage_terms: int = 4
    semantic_plain: float = 0.6
    dense_plain: float = 0.4
    semantic_plain_long: float = 0.9
    dense_plain_long: float = 0.7
    short_need: int = 3
    long_need: int = 6
    semantic_imported: float = 0.3
    imported_candidates: int = 50

    def to_dict(self) -> dict[str, float]:
        """The weights as a plain dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


DEFAULT_WEIGHTS = MatchWeights()
#: Pure BM25: the lexical evidence alone (the baseline of the evaluation).
BM25_ONLY = MatchWeights(lexical=1.0, concept=0.0, coverage=0.0, dense=0.0, dense_plain=0.0, kind=0.0, prior=0.0, alternative=0.0,
                         stub=1.0)


@dataclass
class MatchResult:
    """One ranked entity, with what matched and why."""

    id: str
    name: str
    kind: str | None
    score: float
    position: int
    matched: list[str]
    why: dict[str, Any]
    stub: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"id": self.id, "name": self.name, "kind": self.kind, "score": round(self.score, 4),
                "position": self.position, "stub": self.stub, "matched": list(self.matched), "why": self.why}


@dataclass
class MatchResults:
    """The answer to one need."""

    query: str
    results: list[MatchResult]
    concepts: list[ConceptMatch] = field(default_factory=list)
    kind: str | None = None
    kind_hint: str | None = None
    semantic: bool = False
    event: str | None = None
    not_recorded: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def __iter__(self) -> Iterator[MatchResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def ids(self) -> list[str]:
        """The slugs of the results, best first."""
        return [r.id for r in self.results]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form: ``{"query", "results": [...], ...}``."""
        return {
            "query": self.query, "kind": self.kind, "kind_hint": self.kind_hint, "semantic": self.semantic,
            "concepts": [{"concept": m.slug, "label": m.label, "score": round(m.score, 4),
                          "evidence": list(m.evidence)} for m in self.concepts],
            "event": self.event, "results": [r.to_dict() for r in self.results]}


# ---------------------------------------------------------------------------- reading the need


def kind_hint(text: str) -> str | None:
    """The kind a need asks for, if it names one: the head (last word) of its first noun phrase.

    The phrase ends at the first preposition or relative word ("for", "with", "to", "that", ...),
    so in "small masked language model for CPU inference" the answer is ``model``; in "image and
    caption pairs to train a CLIP model" and "arrow-compatible dataset storage" there is none. A
    phrase that begins with a verb acting on what it names (:data:`_ACTING`, or any word but a
    request such as "find" or "I need", or "is", before a determiner) asks for no kind: "evaluate
    models on ...", "shrink a model ...". A word joined to another ("Q&A", "one-shot") is no
    determiner. After "which" or "what", the first kind named before the phrase ends is the one
    asked for ("what is the best dataset for QA": ``dataset``).

    Parameters
    ----------
    text : str
        The need.

    Returns
    -------
    str or None
        A canonical kind (``model``, ``dataset``, ``library``, ...).

    Examples
    --------
    >>> kind_hint("multi-domain English pretraining corpus with code and papers")
    'dataset'
    >>> kind_hint("data loading library for streaming shards")
    'library'
    >>> kind_hint("image and caption pairs to train a CLIP-style model") is None
    True
    >>> kind_hint("arrow-compatible dataset storage") is None
    True

    A need that acts on a kind does not ask for one; "which" or "what" asks for the kind it names:

    >>> kind_hint("I need a dataset of tweets labelled with emotions")
    'dataset'
    >>> kind_hint("shrink a model so it runs on a phone") is None
    True
    >>> kind_hint("evaluate models on reading comprehension") is None
    True
    >>> kind_hint("which tool helps me serve models on GPUs")
    'tool'
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    found = list(_WORD.finditer(folded))
    words = [m.group() for m in found]
    joined = [(m.start() > 0 and folded[m.start() - 1] in _JOINERS)
              or (m.end() < len(folded) and folded[m.end()] in _JOINERS) for m in found]
    if words and words[0] in ("which", "what"):  # "which tool helps me serve models": the first kind
        for word in words[1:]:  # named before the phrase ends ("what is the best dataset for QA")
            if word in _PHRASE_END:
                break
            if (kind := _kind_word(word)) is not None:
                return kind
        return None
    phrase: list[str] = []
    for i, word in enumerate(words):
        if word in _PHRASE_END and i > 0 and not (word == "for" and words[i - 1] in _SEEKING) \
                and not (word == "like" and words[i - 1] in _WISHING):
            break
        phrase.append(word)
    if not phrase or phrase[0] in _ACTING:
        return None
    determiner = next((i for i, word in enumerate(phrase) if word in _DETERMINER and not joined[i]), 0)
    if determiner:
        before = phrase[:determiner]
        if any(_kind_word(word) for word in before):  # "MS News Dataset: a large-scale dataset ..."
            phrase = before
        elif before[-1] not in ("is", "are") and not all(word in _REQUEST for word in before):
            return None  # "shrink a model so it runs on a phone": the need acts on a model
    if len(phrase) > 1:
        pair = normalise_kind(" ".join(phrase[-2:]))
        if pair is not None:
            return pair
    return _kind_word(phrase[-1])


def _kind_word(word: str) -> str | None:
    kind = normalise_kind(word)
    if kind is None and word.endswith("s") and len(word) > 3:
        kind = normalise_kind(word[:-1])
    if kind is None and word.endswith("ora"):  # corpora
        kind = normalise_kind(word[:-3] + "us")
    return kind


def _query_terms(text: str) -> tuple[list[str], dict[str, str]]:
    """The need's index terms, and for each term the word as the user wrote it."""
    terms: list[str] = []
    surface: dict[str, str] = {}
    for word in normalise(text):
        term = stem(word)
        terms.append(term)
        surface.setdefault(term, word)
    return terms, surface


# ---------------------------------------------------------------------------- ranking


def _term_weights(index: TextIndex, term_ids: list[int], concepts: Sequence[ConceptMatch],
                  weights: MatchWeights) -> list[float] | None:
    """Per need term, ``1 + concept_terms * s`` with ``s`` the best score of a confident need concept
    whose evidence contains the term: words that name what is asked for ("masked language model")
    weigh more than free modifiers ("small", "fast")."""
    if weights.concept_terms <= 0 or not concepts:
        return None
    boost: dict[int, float] = {}
    for m in concepts:
        if m.score < weights.confident:
            continue
        for phrase in m.evidence:
            for term in {stem(w) for w in normalise(phrase)}:
                t = index.vocabulary.get(term)
                if t is not None:
                    boost[t] = max(boost.get(t, 0.0), m.score)
    if not boost:
        return None
    return [1.0 + weights.concept_terms * boost.get(t, 0.0) for t in term_ids]


def _normalised(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


def _concept_scores(index: TextIndex, concepts: Sequence[ConceptMatch], coverage: float) -> np.ndarray:
    """Per entity: the need's concept scores times the entity's BM25-weighted concept evidence,
    times the share of the need's concept scores the entity offers to the power ``coverage``,
    max-normalised."""
    out = np.zeros(len(index), dtype=np.float32)
    offered = np.zeros(len(index), dtype=np.float32)
    cols = {s: j for j, s in enumerate(index.concepts)}
    total = 0.0
    for m in concepts:
        j = cols.get(m.slug)
        if j is None:
            continue
        entities, weights = index.concept_weights.line(j)
        out[entities] += m.score * weights
        offered[entities] += m.score
        total += m.score
    if total > 0 and coverage > 0:
        offered /= total
        out *= offered if coverage == 1 else offered ** coverage
    return _normalised(out)


def _kind_factor(index: TextIndex, hint: str | None, boost: float) -> np.ndarray:
    factor = np.ones(len(index), dtype=np.float32)
    if hint is None or boost <= 0:
        return factor
    family = KIND_FAMILIES.get(hint)
    if family is not None:
        relatives = [k for k, f in KIND_FAMILIES.items() if f == family and k != hint]
        factor[index.kind_mask(relatives)] += boost / 2
    factor[index.kind_mask([hint])] += boost
    return factor


def _prior_array(index: TextIndex, prior: Mapping[str, float] | np.ndarray | None) -> np.ndarray | None:
    """Rank (0-100) per index row, NaN where unknown; None without a prior."""
    if prior is None or isinstance(prior, np.ndarray):
        return prior
    if not prior:
        return None
    ranks = np.full(len(index), np.nan, dtype=np.float32)
    for slug, value in prior.items():
        i = index.row_of.get(slug)
        if i is not None and value is not None:
            ranks[i] = min(max(float(value), 0.0), 100.0)
    return ranks


def _prior_factor(ranks: np.ndarray | None, strength: float) -> np.ndarray | float:
    if ranks is None or strength <= 0:
        return 1.0
    return np.where(np.isnan(ranks), 1.0, 1.0 + strength * (ranks / 100.0 - 0.5)).astype(np.float32)


def _alternative_pull(index: TextIndex, base: np.ndarray,
                      weights: MatchWeights) -> tuple[np.ndarray, dict[int, list[int]]]:
    """Extra score for the alternatives of the strongest hits, and which hits pulled each entity."""
    pull = np.zeros_like(base)
    sources: dict[int, list[int]] = {}
    top = float(base.max()) if base.size else 0.0
    if top <= 0 or weights.alternative <= 0 or weights.strong_hits <= 0:
        return pull, sources
    k = min(weights.strong_hits, base.size)
    hits = np.argpartition(-base, k - 1)[:k]
    alt = index.alternatives
    for h in sorted(hits.tolist(), key=lambda i: (-base[i], i)):
        if base[h] < 0.5 * top:
            continue
        others, counts = alt.line(h)
        if not others.size:
            continue
        gain = weights.alternative * base[h] * counts / counts.max()
        for j, g in zip(others.tolist(), gain.tolist()):
            if j != h and g > pull[j]:
                pull[j] = g
                sources.setdefault(j, []).append(h)
    return pull, sources


def rank(index: TextIndex, text: str, *, kind: str | None = None, limit: int = 10,
         weights: MatchWeights = DEFAULT_WEIGHTS, prior: Mapping[str, float] | np.ndarray | None = None,
         semantic: np.ndarray | None = None, plain_semantic: np.ndarray | None = None) -> MatchResults:
    """Rank the entities of a text index for a need (pure: reads and writes nothing else).

    Parameters
    ----------
    index : TextIndex
        From :func:`matchgraph.matching.textindex.load_index`.
    text : str
        The need, in plain words.
    kind : str, optional
        Keep only entities of this kind (any spelling :func:`matchgraph.vocab.normalise_kind` knows).
    limit : int, default 10
        Return at most this many results.
    weights : MatchWeights
        The constants of the formula.
    prior : mapping of slug to float, or array, optional
        Rank (0-100) of entities (an array is in index row order, NaN for unknown); a small
        multiplicative prior.
    semantic : numpy.ndarray, optional
        Semantic similarity of every entity to the need in [0, 1] (row order of the index).
    plain_semantic : numpy.ndarray, optional
        The same for the entities a default match reads with the sentence encoder: those without
        capabilities (:attr:`~matchgraph.matching.textindex.TextIndex.plain`), and the
        :attr:`~matchgraph.matching.textindex.TextIndex.imported` records where it is not NaN
        (the others keep their static sentence vectors).

    Returns
    -------
    MatchResults
        Entities with a positive score, best first (ties by id).

    Raises
    ------
    ConfigError
        ``kind`` is not a known kind.
    """
    return _rank(index, text, kind=kind, limit=limit, weights=weights, prior=prior, semantic=semantic,
                 plain_semantic=plain_semantic)


def _rank(index: TextIndex, text: str, *, kind: str | None, limit: int, weights: MatchWeights,
          prior: Mapping[str, float] | np.ndarray | None, semantic: np.ndarray | None,
          plain_semantic: np.ndarray | None, memo: dict[str, Any] | None = None) -> MatchResults:
    """:func:`rank`, reusing the need's evidence in ``memo`` (see :func:`_score`)."""
    started = datetime.now(timezone.utc)
    scored = _score(index, text, kind=kind, weights=weights, prior=prior, semantic=semantic,
                    plain_semantic=plain_semantic, memo=memo)
    order = _top(scored.score, limit)
    explain = _Explainer(index, scored.term_ids, scored.id_term, scored.surface, scored.concepts, scored.hint,
                         scored.ranks)
    results = [explain.result(i, pos, float(scored.score[i]), scored.parts, scored.pulled_by.get(i, []))
               for pos, i in enumerate(order, start=1)]
    return MatchResults(query=text, results=results, concepts=list(scored.concepts), kind=scored.wanted,
                        kind_hint=scored.hint, semantic=scored.parts["semantic"] is not None, started=started)


@dataclass
class _Scored:
    """Every entity's score for one need, with the evidence the explanation reads."""

    score: np.ndarray
    parts: dict[str, Any]
    pulled_by: dict[int, list[int]]
    concepts: list[ConceptMatch]
    hint: str | None
    wanted: str | None
    term_ids: list[int]
    id_term: dict[int, str]
    surface: dict[str, str]
    ranks: np.ndarray | None


def _score(index: TextIndex, text: str, *, kind: str | None, weights: MatchWeights,
           prior: Mapping[str, float] | np.ndarray | None, semantic: np.ndarray | None,
           plain_semantic: np.ndarray | None, memo: dict[str, Any] | None = None) -> _Scored:
    """The scores :func:`rank` orders (its parameters).

    ``memo``, a dict kept for one need, index and weights, holds the evidence that does not
    depend on the sentence encoder (the need's terms and concepts, BM25, concept scores, static
    vectors) once computed: a default match ranks twice when imported records sit beside cards
    (:func:`imported_candidates`, then with their encoder similarity), and the second ranking reads
    them from it (at 100,000 entities, 99,000 of them imported, the two rankings cost 1.48 times
    one ranking with it, 1.8 times without; BENCHMARKS.md, round 12).
    """
    if memo is None:
        memo = {}
    wanted = wanted_kind(kind)
    if "terms" not in memo:
        terms, surface = _query_terms(text)
        term_ids = index.term_ids(terms)
        concepts = (classify(text, limit=weights.need_concepts, scheme=index.scheme)
                    if weights.concept > 0 or weights.concept_terms > 0 else [])
        memo.update(terms=terms, surface=surface, term_ids=term_ids, concepts=concepts,
                    bm25=index.bm25_coverage(term_ids, _term_weights(index, term_ids, concepts, weights)),
                    concept=_concept_scores(index, concepts, weights.coverage))
    terms, surface, term_ids, concepts = memo["terms"], memo["surface"], memo["term_ids"], memo["concepts"]
    id_term = {index.vocabulary[t]: t for t in terms if t in index.vocabulary}
    hint = kind_hint(text) if weights.kind > 0 else None
    bm25, covered = memo["bm25"]
    plain = None if semantic is not None or plain_semantic is None else index.plain
    dense = None
    if (semantic is None and (weights.dense > 0 or weights.dense_plain > 0)
            and (plain is None or not bool(plain.all()))):
        if "dense" not in memo:
            memo["dense"] = static_similarity(index, text, floor=weights.floor)
        dense = memo["dense"]
    exponent = weights.coverage
    if ((semantic is not None or dense is not None or plain is not None) and weights.semantic_coverage_terms > 0
            and term_ids):
        exponent *= min(1.0, weights.semantic_coverage_terms / len(term_ids))
    if exponent > 0:
        bm25 = bm25 * (covered if exponent == 1 else covered ** exponent)
    lexical = _normalised(bm25)
    concept = memo["concept"]
    relevance = weights.lexical * lexical + weights.concept * concept
    ramp = min(1.0, max(0.0, (len(set(terms)) - weights.short_need) / max(1, weights.long_need - weights.short_need)))
    if semantic is not None:
        share = _share(index, weights.semantic, weights.semantic_plain, weights.semantic_plain_long, ramp)
        relevance = (1 - share) * relevance + share * semantic.astype(np.float32)
    elif dense is not None or plain is not None:
        relevance, dense, semantic = _mix_sentence_similarity(index, relevance, dense, plain, plain_semantic, weights,
                                                              ramp)
    ranks = _prior_array(index, prior)
    base = relevance * _kind_factor(index, hint, weights.kind) * _prior_factor(ranks, weights.prior)
    base = np.where(index.stub, base * weights.stub, base).astype(np.float32)
    allowed = index.kind_mask([wanted]) if wanted is not None else None
    if allowed is not None:
        base = np.where(allowed, base, 0.0).astype(np.float32)
    pull, pulled_by = _alternative_pull(index, base, weights)
    score = base + pull if allowed is None else np.where(allowed, base + pull, 0.0)
    parts = {"lexical": lexical, "concept": concept, "dense": dense, "semantic": semantic, "alternative": pull}
    return _Scored(score=score, parts=parts, pulled_by=pulled_by, concepts=list(concepts), hint=hint, wanted=wanted,
                   term_ids=term_ids, id_term=id_term, surface=surface, ranks=ranks)


def imported_candidates(index: TextIndex, text: str, *, kind: str | None = None,
                        weights: MatchWeights = DEFAULT_WEIGHTS,
                        prior: Mapping[str, float] | np.ndarray | None = None,
                        memo: dict[str, Any] | None = None) -> np.ndarray:
    """The :attr:`~matchgraph.matching.textindex.TextIndex.imported` records that can reach the top
    for a need: the best ``weights.imported_candidates`` of them by the ranking without the
    sentence encoder (lexical, concepts, static vectors), those with a positive score only.

    Parameters
    ----------
    memo : dict, optional
        Keeps the need's evidence for the ranking that follows (:func:`_score`).

    Returns
    -------
    numpy.ndarray
        Index rows, best first.

    Examples
    --------
    >>> from matchgraph.matching.textindex import CapabilityText, EntityText, index_texts
    >>> cap = lambda t, **kw: {t: CapabilityText(title=t, position=0, **kw)}
    >>> index = index_texts({
    ...     "a": EntityText(slug="card", name="card", description="A corpus of film reviews.",
    ...                     capabilities=cap("Reviews", unique=["The only one."])),
    ...     "b": EntityText(slug="imdb", name="imdb", description="Movie reviews labelled by sentiment.",
    ...                     capabilities=cap("Text data")),
    ...     "c": EntityText(slug="squad", name="squad", description="Questions about Wikipedia.",
    ...                     capabilities=cap("Text data"))}, vectors=False)
    >>> [index.slugs[i] for i in imported_candidates(index, "movie reviews")]
    ['imdb']
    """
    imported = index.imported
    k = weights.imported_candidates
    if k <= 0 or weights.semantic_imported <= 0 or not imported.any():  # none read by the encoder
        return np.zeros(0, dtype=np.int64)
    score = _score(index, text, kind=kind, weights=weights, prior=prior, semantic=None, plain_semantic=None,
                   memo=memo).score
    rows = np.flatnonzero(imported & (score > 0))
    if rows.size > k:
        rows = rows[np.argpartition(-score[rows], k - 1)[:k]]
    return rows[np.lexsort((rows, -score[rows]))]


def _mix_sentence_similarity(index: TextIndex, relevance: np.ndarray, dense: np.ndarray | None,
                             plain: np.ndarray | None, plain_semantic: np.ndarray | None, weights: MatchWeights,
                             ramp: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Fuse sentence similarity into the relevance of each entity: the encoder's for entities
    without capabilities when ``plain`` is given (at the ``semantic_plain`` shares) and for the
    imported records it read (not NaN in ``plain_semantic``, at ``semantic_imported``), the static
    vectors' for the others (at the ``dense`` shares). Returns the relevance and the two
    similarities as the explanation shows them (NaN where an entity did not use one)."""
    share = _share(index, weights.dense, weights.dense_plain, weights.dense_plain_long, ramp)
    similarity = dense if dense is not None else np.zeros(len(index), dtype=np.float32)
    if plain is None or plain_semantic is None:
        return (1 - share) * relevance + share * similarity, dense, None
    plain_share = weights.semantic_plain
    if weights.semantic_plain_long >= 0:
        plain_share += ramp * (weights.semantic_plain_long - weights.semantic_plain)
    read = plain | (index.imported & ~np.isnan(plain_semantic))
    share = np.where(plain, np.float32(plain_share), np.where(read, np.float32(weights.semantic_imported), share))
    similarity = np.where(read, np.nan_to_num(plain_semantic.astype(np.float32)), similarity)
    shown_dense = None if dense is None else np.where(read, np.nan, dense)
    return (1 - share) * relevance + share * similarity, shown_dense, np.where(read, plain_semantic, np.nan)


def _share(index: TextIndex, described: float, plain: float, plain_long: float, ramp: float) -> np.ndarray | float:
    """Per entity, the share of sentence similarity in its relevance: ``described`` for entities
    with capabilities (and stubs); for the others ``plain``, moved towards ``plain_long`` by ``ramp`` (0 for a
    task name, 1 for a sentence); ``described`` when ``plain`` is negative."""
    if plain < 0:
        return described
    if plain_long >= 0:
        plain = plain + ramp * (plain_long - plain)
    if plain == described:
        return described
    # a stub has no sentence vector: only its name, which the lexical evidence counts
    return np.where(index.plain, np.float32(plain), np.float32(described))


def static_similarity(index: TextIndex, text: str, *, floor: float = 0.5) -> np.ndarray | None:
    """Similarity of every entity's static sentence vector to the need's, mapped to [0, 1].

    Parameters
    ----------
    index : TextIndex
        Its ``vectors`` (built with the index).
    text : str
        The need.
    floor : float
        The quantile of the cosines mapped to 0 (see :func:`matchgraph.matching.semantic.rescale`).

    Returns
    -------
    numpy.ndarray or None
        None when the index has no vectors, or when no word of the need (stop words aside) is a
        whole token of the encoder's vocabulary or a term of the catalog ("zzyzx qwvv" is not
        evidence of anything; "sentiment of cinema critics" finds movie reviews without a shared word).
    """
    if index.vectors.size == 0 or len(index) == 0:
        return None
    from .semantic import rescale
    from .static_vectors import load_static

    encoder = load_static()
    if index.vectors.shape[1] != encoder.dim:
        return None  # built with another token table (the index is rebuilt when its format changes)
    words = normalise(text)
    if not any(word in encoder.vocab.ids or stem(word) in index.vocabulary for word in words):
        return None  # no word the encoder knows whole nor the catalog uses: gibberish, or only stop words
    query = encoder.encode([text])[0]
    if not query.any():
        return None
    return rescale(_cosines(index, query), floor_quantile=floor)


#: Above this many entities, static cosines are computed in two stages (:func:`_cosines`).
TWO_STAGE_ENTITIES = 20000
#: Dimensions of the first stage, and the share of entities whose cosine is then made exact.
TWO_STAGE_HEAD, TWO_STAGE_EXACT, TWO_STAGE_SAMPLE = 128, 1000, 512


def _cosines(index: TextIndex, query: np.ndarray) -> np.ndarray:
    """Cosine of every entity's static vector with the query's.

    Up to :data:`TWO_STAGE_ENTITIES` entities, one product. Beyond, the product over the first
    :data:`TWO_STAGE_HEAD` dimensions (the table's are in decreasing order of variance, 85 % of it
    in the first 128) for every entity, then the exact cosine for the best
    :data:`TWO_STAGE_EXACT` of them; the others get the mean contribution of the
    remaining dimensions over an even sample of :data:`TWO_STAGE_SAMPLE` entities, so that the
    median similarity, which counts as no evidence (:func:`matchgraph.semantic.rescale`), stays
    where the exact product puts it. The memory read is about a third of the full product's.
    """
    n, dim = index.vectors.shape
    if n <= TWO_STAGE_ENTITIES or dim <= TWO_STAGE_HEAD:
        return index.vectors32 @ query
    head, tail = index.vector_parts(TWO_STAGE_HEAD)
    cos = head @ query[:TWO_STAGE_HEAD]
    k = min(n, TWO_STAGE_EXACT)
    best = np.argpartition(-cos, k - 1)[:k]
    rest = query[TWO_STAGE_HEAD:]
    # the rest get the mean contribution of the other dimensions, read from an even sample; the
    # small products without BLAS, whose threads cost more than the work on a busy machine
    sample = np.arange(0, n, max(1, n // TWO_STAGE_SAMPLE))
    offset = float(np.mean(np.einsum("ij,j->i", tail[sample], rest)))
    exact = cos[best] + np.einsum("ij,j->i", tail[best], rest)
    cos += offset
    cos[best] = exact
    return cos


def wanted_kind(kind: str | None) -> str | None:
    """The canonical kind ``kind`` names (any case, plural, synonym), None for no kind.

    Raises
    ------
    ConfigError
        Not a kind; the hint lists the kinds (``match --kind`` and ``/match?kind=`` say the same).
    """
    if kind is None:
        return None
    wanted = normalise_kind(kind)
    if wanted is None:
        from ..vocab import KINDS
        raise ConfigError(f"unknown kind {kind!r}", hint="use one of: " + ", ".join(KINDS))
    return wanted


def _top(score: np.ndarray, limit: int) -> list[int]:
    positive = np.flatnonzero(score > 0)
    if positive.size == 0 or limit <= 0:
        return []
    if positive.size > limit * 4:
        keep = np.argpartition(-score[positive], limit * 4 - 1)[:limit * 4]
        positive = positive[keep]
    return sorted(positive.tolist(), key=lambda i: (-float(score[i]), i))[:limit]


class _Explainer:
    """Builds each result's ``matched`` and ``why`` from the evidence of one ranking."""

    def __init__(self, index: TextIndex, term_ids: list[int], id_term: dict[int, str], surface: dict[str, str],
                 concepts: Sequence[ConceptMatch], hint: str | None, ranks: np.ndarray | None) -> None:
        self.index = index
        self.term_ids = term_ids
        self.id_term = id_term
        self.surface = surface
        self.concepts = concepts
        self.hint = hint
        self.ranks = ranks
        self.cols = {s: j for j, s in enumerate(index.concepts)}

    def result(self, i: int, position: int, score: float, parts: dict[str, Any], pulled_by: list[int]) -> MatchResult:
        index = self.index
        contributions = index.term_contributions(i, self.term_ids)
        terms = [self.surface.get(self.id_term[t], self.id_term[t])
                 for t, _ in sorted(contributions.items(), key=lambda kv: (-kv[1], self.id_term[kv[0]]))]
        offered = []
        for m in self.concepts:
            j = self.cols.get(m.slug)
            strength = index.entity_concepts.get(j, i) if j is not None else 0.0
            if strength > 0:
                offered.append({"concept": m.slug, "label": m.label, "need": round(m.score, 4),
                                "entity": round(strength, 4)})
        graph: dict[str, Any] = {}
        if self.ranks is not None and not np.isnan(self.ranks[i]):
            graph["prior_rank"] = round(float(self.ranks[i]), 2)
        if pulled_by:
            graph["alternative_of"] = [index.slugs[h] for h in pulled_by]
        if self.hint is not None:
            graph["kind_hint"] = self.hint
        components = {k: round(float(v[i]), 4) for k, v in parts.items() if v is not None and not np.isnan(v[i])}
        why = {"terms": terms, "concepts": offered, "graph": graph, "components": components}
        return MatchResult(id=index.slugs[i], name=index.names[i], kind=index.kinds[i], score=score,
                           position=position, matched=_matched_segments(index, i, contributions, self.concepts,
                                                                        self.cols),
                           why=why, stub=bool(index.stub[i]))


def _matched_segments(index: TextIndex, i: int, contributions: dict[int, float],
                      concepts: Sequence[ConceptMatch], cols: dict[str, int]) -> list[str]:
    """The capabilities (then fields) of entity ``i`` that share terms or concepts with the need, best first."""
    total = sum(contributions.values()) or 1.0
    need = {cols[m.slug]: m.score for m in concepts if m.slug in cols}
    need_total = sum(need.values()) or 1.0
    scored: list[tuple[float, int, str]] = []
    for s in index.segments_of(i):
        terms, _ = index.segment_terms.line(s)
        lexical = sum(contributions.get(t, 0.0) for t in terms.tolist()) / total
        concepts_of, confidence = index.segment_concepts.line(s)
        conceptual = sum(need.get(c, 0.0) * w for c, w in zip(concepts_of.tolist(), confidence.tolist())) / need_total
        value = lexical + conceptual
        if value > 0:
            capability_first = 0 if index.segment_is_capability[s] else 1
            scored.append((-value, capability_first, index.segment_labels[s]))
    scored.sort(key=lambda x: (x[1], x[0], x[2]))
    return list(dict.fromkeys(label for _, _, label in scored))


# ---------------------------------------------------------------------------- the entry point


def recording_enabled() -> bool:
    """Whether matches are recorded by default (``MATCHGRAPH_RECORD_MATCHES`` is not 0/false/no/off).

    Raises
    ------
    ConfigError
        The variable is set to a value that is neither on nor off (:func:`matchgraph.env.setting`).
    """
    from ..env import setting

    return bool(setting(RECORD_ENV))


_LOCK = threading.Lock()


def load_index(catalog: Catalog) -> TextIndex:
    """The text index of the catalog's current version, from the owner of derived state.

    Examples
    --------
    >>> cat = Catalog("memory:")
    >>> load_index(cat) is load_index(cat)
    True
    """
    from ..graph.derived import current

    return current(catalog).text_index(catalog)


def _rank_prior(catalog: Catalog, index: TextIndex, table: Any = None) -> np.ndarray | None:
    """Rank of every entity (index row order), match events left out, from the newest computed
    scores (or ``table``), or None before any.

    The owner of derived state (:func:`matchgraph.graph.derived.rank_prior`) answers without
    building: a prior may be a little stale, a search should not wait for scores.
    """
    from ..graph.derived import rank_prior

    return rank_prior(catalog, list(index.slugs), table=table, key=getattr(index, "build", None))


def match(catalog: Catalog, text: str, *, kind: str | None = None, limit: int = 10, record: bool = True,
          semantic: bool | None = None, weights: MatchWeights | None = None) -> MatchResults:
    """Rank the catalog's entities for a need written in plain words, and record the match.

    Parameters
    ----------
    catalog : Catalog
    text : str
        The need, e.g. ``"small fast masked language model for CPU inference"``.
    kind : str, optional
        Keep only entities of this kind.
    limit : int, default 10
        Return at most this many results.
    record : bool, default True
        Store the match as a match event (also off when ``MATCHGRAPH_RECORD_MATCHES=0``).
    semantic : bool, optional
        True: the sentence encoder's similarity for every entity (each of its texts). None (the
        default): the encoder for entities without capabilities, the static sentence vectors for the
        others (and the encoder too for the imported records that can reach the top,
        :func:`imported_candidates`), or the static vectors alone where no encoder can run. False:
        static vectors alone.
    weights : MatchWeights, optional
        The constants of the formula; :data:`DEFAULT_WEIGHTS` by default.

    Returns
    -------
    MatchResults
        ``.to_dict()`` gives ``{"query": ..., "results": [{"id", "name", "kind", "score", "matched", "why"}, ...]}``.

    Raises
    ------
    ConfigError
        Unknown ``kind``, an empty need, or semantic matching asked for but not installed.

    Examples
    --------
    >>> cat = Catalog("memory:")
    >>> match(cat, "small fast masked language model", record=False).results
    []
    """
    if not text or not text.strip():
        raise ConfigError("the need is empty", hint='describe what you need, e.g. matchgraph match "fast CPU encoder"')
    weights = weights or DEFAULT_WEIGHTS
    from ..graph.derived import prior_table

    with _LOCK:
        index = load_index(catalog)
        table = prior_table(catalog)
        prior = _rank_prior(catalog, index, table)
    similarity = plain_similarity = None
    memo: dict[str, Any] = {}  # the need's evidence, computed once for the two rankings of _plain_similarity
    if semantic:
        from ..graph.derived import current
        from .semantic import semantic_scores
        similarity = semantic_scores(catalog, index, text, vectors=current(catalog).embeddings(catalog, index),
                                     feedback=True)
    elif semantic is None and weights.semantic_plain > 0:
        plain_similarity = _plain_similarity(catalog, index, text, kind=kind, weights=weights, prior=prior, memo=memo)
    results = _rank(index, text, kind=kind, limit=limit, weights=weights, prior=prior, semantic=similarity,
                    plain_semantic=plain_similarity, memo=memo)
    _show_ranks(catalog, results, table)
    if record and recording_enabled() and results.results:  # a need nothing answers is no evidence
        _record(catalog, index, results)
    return results


def _show_ranks(catalog: Catalog, results: MatchResults, table: Any) -> None:
    """Each result's Rank as the scores show it (``why.graph.rank``, beside the ``prior_rank`` the
    prior read), from the score table the prior read (None: none yet); nothing is built."""
    from ..graph.derived import rank_prior

    if not results.results or table is None:
        return
    ranks = rank_prior(catalog, [r.id for r in results.results], static=False, table=table)
    if ranks is None:
        return
    for result, value in zip(results.results, ranks.tolist()):
        if not math.isnan(value):
            result.why["graph"] = {"rank": round(value, 2), **result.why.get("graph", {})}


def _plain_similarity(catalog: Catalog, index: TextIndex, text: str, *, kind: str | None = None,
                      weights: MatchWeights = DEFAULT_WEIGHTS, prior: np.ndarray | None = None,
                      memo: dict[str, Any] | None = None) -> np.ndarray | None:
    """The encoder's similarity to the need of the entities without capabilities and of the
    imported records that can reach the top (:func:`imported_candidates`), NaN for the others; None
    when it reads none (there are none, or only candidates and no text comes close to the need), or
    no encoder can run here.

    The entities without capabilities are embedded all at once and kept per version. Of the
    imported records, the candidates are embedded as needs ask for them and kept by text
    (:meth:`matchgraph.graph.derived.State.imported_vectors`), and an even sample of
    :data:`IMPORTED_SAMPLE` of them stands for the others in the median that counts as no evidence.
    """
    from .semantic import (PLAIN_TOP_COSINE, SEMANTIC_MODEL, SemanticUnavailable, load_encoder, plain_model,
                           semantic_scores)

    count = int(index.plain.sum())
    candidates = imported_candidates(index, text, kind=kind, weights=weights, prior=prior, memo=memo)
    if not count and not candidates.size:
        return None
    model = plain_model(count)
    if model is None:
        return None
    from ..graph.derived import current
    try:
        state = current(catalog)
        if count:
            rows, matrix = state.embeddings(catalog, index, plain_only=True, model=model)
        else:
            rows, matrix = np.zeros(0, dtype=np.int64), np.zeros((0, load_encoder(model).dim), dtype=np.float32)
        floor_weights = None
        if candidates.size:
            imported = np.flatnonzero(index.imported)
            sample = imported[::max(1, -(-imported.size // IMPORTED_SAMPLE))]
            extra = np.union1d(candidates, sample)
            rows = np.concatenate([rows, extra])
            matrix = np.vstack([matrix, state.imported_vectors(index, extra, model)])
            floor_weights = np.zeros(len(index), dtype=np.float64)
            floor_weights[index.plain] = 1.0
            floor_weights[sample] = imported.size / sample.size
        # the feedback round was chosen for all-mpnet-base-v2's reading, not for all-MiniLM-L6-v2's
        similarity = semantic_scores(catalog, index, text, vectors=(rows, matrix), top_floor=PLAIN_TOP_COSINE,
                                     model=model, feedback=model == SEMANTIC_MODEL, floor_weights=floor_weights)
    except SemanticUnavailable:
        return None
    read = index.plain.copy()
    if similarity.any():  # else no text came close enough (min_cosine_for): the static vectors stand
        read[candidates] = True
    if not read.any():  # the encoder read no entity: the ranking is the static vectors' alone
        return None
    return np.where(read, similarity, np.nan).astype(np.float32)


#: The imported records read by the encoder for every need, evenly spread over them, so that the
#: median similarity (no evidence) is that of all of them, not of the candidates alone.
IMPORTED_SAMPLE = 64


def _record(catalog: Catalog, index: TextIndex, results: MatchResults) -> None:
    from .events import record_match

    try:
        recorded = record_match(catalog, results)  # tells the owner of derived state what changed
    except CatalogBusy as exc:
        # the results stand: only their evidence could not be written
        results.not_recorded = f"not recorded: {exc.message}"
        return
    results.event = str(recorded.event)
