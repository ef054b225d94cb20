"""The text index behind ``matchgraph match``: BM25 over what the catalog says about each entity.

One document per entity, built from its fields with weights given by repetition (a BM25F-style
approximation): name and identifier x3, aliases x2, capability titles x2, and once each the
description, importer keywords, capability descriptions, "Unique" and "vs alternatives" claims,
and the preferred labels of the capability concepts the entity offers (the alternative labels work
on the need's side, through the concept classifier, so they are not counted twice). Words go
through the classifier's normalisation and stemmer (:func:`matchgraph.matching.classify.normalise`,
:func:`matchgraph.matching.classify.stem`), so the index and the concept classifier see the same terms.

bm25s builds the BM25 matrix (term x entity, scores precomputed with its Lucene variant). Next to it
the index keeps what the ranker needs without touching the store:

- *segments* (an entity's name, description, keywords, and each capability) with their term ids,
  to say which capabilities matched;
- the concepts of each capability with the classifier's confidence, and per entity the strongest
  confidence per concept;
- the alternatives graph (entities named in "vs alternatives" claims, and ``mg:alternativeTo``);
- the concept scheme the index was built with, so a query classifies the need without parsing
  Turtle again.

It is kept per catalog data version by the owner of derived state (:mod:`matchgraph.graph.derived`),
as NumPy arrays and JSON (:func:`save_index`, :func:`load_saved`). Loading and querying it needs
NumPy only (no bm25s, no SciPy), which keeps a cold ``matchgraph match`` fast. Recording a match
event changes the data version without changing any text, so the owner links the parent
version's index into the new version instead of building it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..store.catalog import Catalog
from .classify import Concept, ConceptScheme, load_scheme, normalise, stem
from ..vocab import ID, KIND_OF_CLASS, sparql_prefixes

__all__ = ["TextIndex", "Sparse", "EntityText", "CapabilityText", "read_entities", "select_rows", "evidence_weights",
           "concept_bm25", "tokenize", "build_index", "index_texts", "save_index", "load_saved",
           "index_dir", "scheme_digest", "entity_vectors", "vector_text", "readable_name", "FIELD_WEIGHTS",
           "CONCEPT_LABEL_MIN", "RANK_DECAY"]

#: Index layout version; bump to invalidate persisted indexes (also when the static token table
#: in matchgraph/data changes: the entity vectors are computed with it).
FORMAT = 9
#: How many times each field's words are repeated in an entity's BM25 document.
FIELD_WEIGHTS: dict[str, int] = {
    "name": 3, "aliases": 2, "keywords": 1, "description": 1,
    "capability": 2, "capability_text": 1, "unique": 1, "alternatives": 1, "concept_labels": 1,
}
#: A capability concept's label enters the document only when the classifier was at least this sure.
CONCEPT_LABEL_MIN = 0.4
#: BM25 constants of the concept evidence (:func:`concept_bm25`).
CONCEPT_K1 = 1.2
CONCEPT_B = 0.75
#: Weight of a capability's classified concepts by their place in the classifier's list (best first).
RANK_DECAY = (1.0, 0.5, 0.25)
#: Confidence of a concept given by the source itself (not by the classifier).
GIVEN_CONCEPT_WEIGHT = 1.0
#: How many data versions a persisted index stays registered under.
MANIFEST_KEEP = 16

_EVIDENCE = re.compile(r"^([a-z0-9][a-z0-9\-]*) \((\d+(?:\.\d+)?)\)", re.MULTILINE)
_KIND_OF_IRI = {str(iri): kind for iri, kind in KIND_OF_CLASS.items()}
_KEYWORD_PROPS = ("schema:keywords", "mg:tag", "mg:pipelineTag", "mg:hubId")


def tokenize(text: str) -> list[str]:
    """Split text into the index's terms: normalised, stop words dropped, stemmed.

    Parameters
    ----------
    text : str
        Any text, a need or a field of an entity.

    Returns
    -------
    list of str
        The terms in order (repeats kept).

    Examples
    --------
    >>> tokenize("Small, fast masked-language models for phones")
    ['smal', 'fast', 'mask', 'languag', 'model', 'phon']
    """
    return list(_terms(text or ""))


@lru_cache(maxsize=1 << 16)
def _terms(text: str) -> tuple[str, ...]:
    """Cached: large catalogs repeat many texts (shared descriptions, claim templates)."""
    return tuple(stem(w) for w in normalise(text))


# ---------------------------------------------------------------------------- reading the catalog


def select_rows(catalog: Catalog, sparql: str) -> Iterator[tuple[str | None, ...]]:
    """Run a SELECT and yield rows of plain strings (None for unbound), fast on embedded Oxigraph.

    The same as :func:`matchgraph.graph.rows.select_values`, kept here so that matching does not
    import networkx.

    Examples
    --------
    >>> list(select_rows(Catalog("memory:"), "SELECT ?x WHERE { VALUES ?x { 1 } }"))
    [('1',)]
    """
    inner = catalog.oxigraph
    if inner is not None:
        solutions = inner.query(sparql_prefixes() + sparql, use_default_graph_as_union=True)
        names = [v.value for v in solutions.variables]
        for solution in solutions:
            yield tuple(None if solution[n] is None else solution[n].value for n in names)
        return
    for row in catalog.rows(sparql):
        yield tuple(None if v is None else str(v) for v in row)


@dataclass
class CapabilityText:
    """The text of one capability, and its concepts with the classifier's confidence."""

    title: str
    position: int
    text: list[str] = field(default_factory=list)
    unique: list[str] = field(default_factory=list)
    alternatives: list[str] = field(default_factory=list)
    concepts: dict[str, float] = field(default_factory=dict)


@dataclass
class EntityText:
    """What the catalog says about one entity, as text."""

    slug: str
    name: str = ""
    kind: str | None = None
    stub: bool = False
    description: str = ""
    aliases: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    capabilities: dict[str, CapabilityText] = field(default_factory=dict)
    alternatives: dict[str, float] = field(default_factory=dict)


def read_entities(catalog: Catalog) -> dict[str, EntityText]:
    """Read the text of every entity (stubs included) in a handful of SELECTs.

    Parameters
    ----------
    catalog : Catalog

    Returns
    -------
    dict of str to EntityText
        Keyed by entity IRI: name, kind, stub flag, description, aliases, importer keywords, the
        capabilities with their claims and concepts, and the entities named as alternatives (by
        IRI, both directions, with the number of claims or relations naming them).

    Examples
    --------
    >>> read_entities(Catalog("memory:"))
    {}
    """
    base = str(ID)
    entities: dict[str, EntityText] = {}
    for e, ident, name, desc, stub in select_rows(catalog, """SELECT ?e ?id ?name ?desc ?stub WHERE { ?e a mg:Entity .
            OPTIONAL { ?e dcterms:identifier ?id } OPTIONAL { ?e schema:name ?name }
            OPTIONAL { ?e dcterms:description ?desc } OPTIONAL { ?e mg:isStub ?stub } }"""):
        if not e or not e.startswith(base):
            continue
        ent = entities.setdefault(e, EntityText(slug=ident or e[len(base):]))
        ent.name = ent.name or name or ent.slug
        if desc and desc not in ent.description:
            ent.description = f"{ent.description} {desc}".strip()
        ent.stub = ent.stub or stub in ("true", "1")
    for e, cls in select_rows(catalog, "SELECT ?e ?cls WHERE { ?e a mg:Entity ; a ?cls FILTER(?cls != mg:Entity) }"):
        kind = _KIND_OF_IRI.get(cls or "")
        if e in entities and kind and entities[e].kind is None:
            entities[e].kind = kind
    for e, label in select_rows(catalog, "SELECT ?e ?l WHERE { ?e a mg:Entity ; schema:alternateName ?l }"):
        if e in entities and label:
            entities[e].aliases.append(label)
    props = " ".join(f"{{ ?e {p} ?k }}" if i == 0 else f"UNION {{ ?e {p} ?k }}" for i, p in enumerate(_KEYWORD_PROPS))
    for e, word in select_rows(catalog, f"SELECT ?e ?k WHERE {{ ?e a mg:Entity . {props} }}"):
        if e in entities and word:
            entities[e].keywords.append(word)
    for ent in entities.values():
        ent.stub = ent.stub and ent.kind is None
        ent.aliases.sort()
        ent.keywords.sort()
    _read_capabilities(catalog, entities)
    _read_alternatives(catalog, entities)
    return entities


def _read_capabilities(catalog: Catalog, entities: dict[str, EntityText]) -> None:
    caps: dict[str, CapabilityText] = {}
    for e, c, title, pos, desc in select_rows(catalog, """SELECT ?e ?c ?title ?pos ?desc WHERE {
            ?e mg:hasCapability ?c . OPTIONAL { ?c schema:name ?title } OPTIONAL { ?c mg:position ?pos }
            OPTIONAL { ?c dcterms:description ?desc } }"""):
        if e not in entities or c is None:
            continue
        cap = caps.get(c)
        if cap is None:
            position = int(float(pos)) if pos else 10_000
            cap = caps[c] = entities[e].capabilities[c] = CapabilityText(title or "", position)
        if desc and desc not in cap.text:
            cap.text.append(desc)
        cap.title = cap.title or title or ""
    for c, kind, text in select_rows(catalog, """SELECT ?c ?kind ?text WHERE { ?c mg:hasClaim ?cl . ?cl a ?kind ;
            schema:text ?text FILTER(?kind IN (mg:UniqueClaim, mg:AlternativeClaim)) }"""):
        if c in caps and text:
            (caps[c].unique if kind and kind.endswith("UniqueClaim") else caps[c].alternatives).append(text)
    for c, concept in select_rows(catalog, "SELECT ?c ?k WHERE { ?c a mg:Capability ; mg:concept ?k }"):
        if c in caps and concept:
            caps[c].concepts.setdefault(_concept_slug(concept), GIVEN_CONCEPT_WEIGHT)
    for c, evidence in select_rows(catalog, "SELECT ?c ?ev WHERE { ?c a mg:Capability ; mg:conceptEvidence ?ev }"):
        if c in caps and evidence:
            for slug, weight in evidence_weights(evidence).items():
                if slug in caps[c].concepts:
                    caps[c].concepts[slug] = min(caps[c].concepts[slug], weight)


def evidence_weights(evidence: str) -> dict[str, float]:
    """Confidence of each classified concept from ``mg:conceptEvidence`` text.

    The classifier lists a capability's concepts best first, one per line, as ``slug (score): ...``.
    A concept's weight is its score times :data:`RANK_DECAY` of its place in that list, so a
    capability's main concept counts more than the ones it only touches.

    Examples
    --------
    >>> evidence_weights('quantization (0.80): matched "int8"\\ncpu-edge-inference (0.60): matched "CPU"')
    {'quantization': 0.8, 'cpu-edge-inference': 0.3}
    """
    found = _EVIDENCE.findall(evidence)
    return {slug: round(float(score) * RANK_DECAY[min(i, len(RANK_DECAY) - 1)], 4)
            for i, (slug, score) in enumerate(found)}


def _concept_slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _read_alternatives(catalog: Catalog, entities: dict[str, EntityText]) -> None:
    """Alternative pairs, both directions, counting the claims or relations that name them."""
    for e, x, n in select_rows(catalog, """SELECT ?e ?x (COUNT(*) AS ?n) WHERE {
            { ?e mg:hasCapability ?c . ?c mg:hasClaim ?cl . ?cl mg:namesAlternative ?x }
            UNION { ?e mg:alternativeTo ?x } } GROUP BY ?e ?x"""):
        if e is None or x is None or e == x or e not in entities or x not in entities:
            continue
        count = float(n or 1)
        entities[e].alternatives[x] = entities[e].alternatives.get(x, 0.0) + count
        entities[x].alternatives[e] = entities[x].alternatives.get(e, 0.0) + count


# ---------------------------------------------------------------------------- sparse matrices


@dataclass(frozen=True)
class Sparse:
    """A compressed sparse matrix as three NumPy arrays: line ``i`` holds ``indices[indptr[i]:indptr[i+1]]``.

    The compressed axis ("lines") is rows for entity x ... matrices read row by row, and concepts
    for the concept matrices read concept by concept.

    Examples
    --------
    >>> m = Sparse.from_triplets([0, 0, 2], [1, 3, 0], [1.0, 2.0, 3.0], lines=3)
    >>> m.get(0, 3), m.get(1, 0), m.line(2)[0].tolist()
    (2.0, 0.0, [0])
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def from_triplets(cls, lines_of: Sequence[int] | np.ndarray, positions: Sequence[int] | np.ndarray,
                      values: Sequence[float] | np.ndarray, *, lines: int) -> Sparse:
        """Build from (line, position, value) triplets (duplicates are summed)."""
        line = np.asarray(lines_of, dtype=np.int64)
        pos = np.asarray(positions, dtype=np.int64)
        val = np.asarray(values, dtype=np.float32)
        if line.size:
            width = int(pos.max()) + 1
            keys, inverse = np.unique(line * width + pos, return_inverse=True)
            val = np.bincount(inverse, weights=val).astype(np.float32)
            line, pos = keys // width, keys % width
        indptr = np.zeros(lines + 1, dtype=np.int64)
        np.cumsum(np.bincount(line, minlength=lines), out=indptr[1:])
        return cls(indptr, pos.astype(np.int32), val)

    def line(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, values) of one line."""
        lo, hi = int(self.indptr[i]), int(self.indptr[i + 1])
        return self.indices[lo:hi], self.data[lo:hi]

    def get(self, i: int, j: int) -> float:
        """The value at line ``i``, position ``j`` (0 when absent)."""
        positions, values = self.line(i)
        k = int(np.searchsorted(positions, j))
        return float(values[k]) if k < positions.size and int(positions[k]) == j else 0.0

    def save(self, path: Path, name: str) -> None:
        """Write the three arrays as ``name.indptr.npy`` etc."""
        for part in ("indptr", "indices", "data"):
            np.save(path / f"{name}.{part}.npy", getattr(self, part))

    @classmethod
    def load(cls, path: Path, name: str) -> Sparse:
        """Read (memory-mapped) what :meth:`save` wrote."""
        return cls(*(_mapped(path / f"{name}.{part}.npy") for part in ("indptr", "indices", "data")))


def _mapped(path: Path) -> np.ndarray:
    """A memory-mapped array as a plain ndarray view (slicing a ``np.memmap`` costs far more)."""
    return np.asarray(np.load(path, mmap_mode="r"))


# ---------------------------------------------------------------------------- the index


@dataclass
class TextIndex:
    """A loaded text index (see the module docstring); build it with :func:`build_index`.

    Attributes
    ----------
    slugs, names, kinds : list
        Per entity (row order), its slug, name and kind (None when unknown).
    stub : numpy.ndarray of bool
        Which entities are stubs.
    terms : list of str
        The vocabulary, in term id order.
    bm25_matrix : Sparse
        One line per term: the entities containing it and the term's BM25 score in each.
    concepts : list of str
        Concept slugs (positions of the concept matrices).
    entity_concepts, concept_weights : Sparse
        One line per concept: per entity, the strongest classifier confidence over its capabilities,
        and the BM25-weighted concept evidence (:func:`concept_bm25`).
    segment_entity, entity_segments, segment_labels, segment_is_capability
        Segments (name, description, keywords, each capability) grouped by entity; entity ``i``
        owns segments ``entity_segments[i]:entity_segments[i+1]``.
    segment_terms, segment_concepts : Sparse
        One line per segment: its distinct term ids; its concepts with confidence.
    alternatives : Sparse
        One line per entity: the entities named as its alternatives (either direction), with counts.
    scheme_concepts : list of dict
        The concept scheme the index was built with.
    vectors : numpy.ndarray
        Per entity, the unit static sentence vector of its text (:func:`entity_vectors`), float16;
        shape ``(0, 0)`` when the index was built without them.
    data_version : str
        The catalog data version the index was built from.
    build : str
        The name of its directory under :func:`index_dir` once persisted ("" before).
    claimed : numpy.ndarray
        Per entity, whether one of its capabilities carries a Unique or a vs-alternatives claim (a
        card's decomposition, as its author wrote it); see :attr:`described` and :attr:`imported`.
    imported_texts : list of str
        The sentence text (:func:`vector_text`) of each :attr:`imported` entity, in row order: what
        a default match embeds when one of them can reach the top.
    """

    slugs: list[str]
    names: list[str]
    kinds: list[str | None]
    stub: np.ndarray
    terms: list[str]
    bm25_matrix: Sparse
    concepts: list[str]
    entity_concepts: Sparse
    concept_weights: Sparse
    segment_entity: np.ndarray
    entity_segments: np.ndarray
    segment_labels: list[str]
    segment_is_capability: np.ndarray
    segment_terms: Sparse
    segment_concepts: Sparse
    alternatives: Sparse
    scheme_concepts: list[dict[str, Any]]
    data_version: str
    scheme_digest: str = ""
    build_seconds: float = 0.0
    build: str = ""
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float16))
    claimed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    imported_texts: list[str] = field(default_factory=list)
    row_of: dict[str, int] = field(init=False, repr=False)
    vocabulary: dict[str, int] = field(init=False, repr=False)
    kind_codes: np.ndarray = field(init=False, repr=False)
    kind_names: list[str] = field(init=False, repr=False)
    _scheme: ConceptScheme | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self.row_of = {s: i for i, s in enumerate(self.slugs)}
        self.vocabulary = {t: i for i, t in enumerate(self.terms)}
        self.kind_names = sorted({k or "" for k in self.kinds})
        code = {k: i for i, k in enumerate(self.kind_names)}
        self.kind_codes = np.array([code[k or ""] for k in self.kinds], dtype=np.int16)

    def __len__(self) -> int:
        return len(self.slugs)

    @property
    def vectors32(self) -> np.ndarray:
        """``vectors`` as float32, converted once (NumPy multiplies float16 without BLAS, ten times slower)."""
        cached = self.__dict__.get("_vectors32")
        if cached is None or cached.shape != self.vectors.shape:
            cached = self.__dict__["_vectors32"] = np.ascontiguousarray(self.vectors, dtype=np.float32)
        return cached

    def vector_parts(self, head: int) -> tuple[np.ndarray, np.ndarray]:
        """``vectors`` as two contiguous float32 blocks, the first ``head`` dimensions and the rest
        (the token table's dimensions are in decreasing order of variance: the head alone ranks
        nearly as the whole, in a third of the memory traffic)."""
        key = f"_parts{head}"
        cached = self.__dict__.get(key)
        if cached is None or cached[0].shape[0] != self.vectors.shape[0]:
            cached = self.__dict__[key] = (np.ascontiguousarray(self.vectors[:, :head], dtype=np.float32),
                                           np.ascontiguousarray(self.vectors[:, head:], dtype=np.float32))
        return cached

    @property
    def described(self) -> np.ndarray:
        """Which entities have a card's worth of text, computed once: the others are known by a name
        and a description only, where sentence similarity is the better evidence.

        In a catalog where some capability carries a claim (cards decomposed by their authors), the
        entities with capabilities; in a catalog without a single claim, none. There every
        capability was made by an importer from a tag or a field (a Hub ``pipeline_tag`` or
        ``modality:text``, an MTEB task type: "Data for the 'text-classification' task"), and each
        record is a name and a sentence or two plus those labels. On the *hub* set imported as Hub
        JSON (``bench/eval_hub_import.py``) the default read such records through the static vectors
        and the concept layer at 0.400 recall@10 on test sentences with ``modality:text`` alone and
        0.426 with task tags, against 0.599 and 0.638 read by the sentence encoder. Deciding entity
        by entity instead would put the 4,600 imported records of the Quickstart catalog, which has
        claims, on the encoder's shares beside its cards: its 75 card needs fell from 0.812 to 0.618
        recall@10 (embedding models flooding every model need).
        """
        cached = self.__dict__.get("_described")
        if cached is None or cached.shape != (len(self),):
            if self.has_claims:
                owners = self.segment_entity[self.segment_is_capability[:self.segment_entity.size]]
                cached = np.bincount(owners, minlength=len(self))[:len(self)] > 0
            else:
                cached = np.zeros(len(self), dtype=bool)
            self.__dict__["_described"] = cached
        return cached

    @property
    def has_claims(self) -> bool:
        """Whether any capability of the catalog carries a Unique or a vs-alternatives claim."""
        return bool(np.asarray(self.claimed).any())

    @property
    def imported(self) -> np.ndarray:
        """Which :attr:`described` entities have no claim: records an importer gave capabilities from
        tags or fields, beside cards whose capabilities carry claims (a Quickstart catalog's MTEB and
        Croissant records), computed once. A default match reads them through the static vectors,
        and through the sentence encoder too when they can reach the top
        (:func:`~matchgraph.matching.match.imported_candidates`): embedding all of them at the
        one-line shares let 4,600 imported records crowd the cards out of the Quickstart catalog's
        needs, and cost its first match 24 times the CPU (BENCHMARKS.md, round 11)."""
        cached = self.__dict__.get("_imported")
        if cached is None or cached.shape != (len(self),):
            claimed = np.asarray(self.claimed, dtype=bool)
            if claimed.shape != (len(self),):
                claimed = np.zeros(len(self), dtype=bool)
            cached = self.__dict__["_imported"] = self.described & ~claimed & ~self.stub
        return cached

    @property
    def plain(self) -> np.ndarray:
        """Which entities are known by a name and a description only: not :attr:`described`, not a
        stub (what a default match reads with the sentence encoder), computed once."""
        cached = self.__dict__.get("_plain")
        if cached is None or cached.shape != (len(self),):
            cached = self.__dict__["_plain"] = ~(self.described | self.stub)
        return cached

    @property
    def scheme(self) -> ConceptScheme:
        """The concept scheme the index was built with (to classify needs consistently)."""
        if self._scheme is None:
            self._scheme = ConceptScheme([_concept_from(d) for d in self.scheme_concepts])
        return self._scheme

    def shares_a_word(self, text: str) -> bool:
        """Whether a word of ``text`` (stop words aside) is a term of the index: a need that shares
        none is matched by meaning alone (:func:`matchgraph.matching.semantic.min_cosine_for`).

        Examples
        --------
        >>> index = index_texts({"e": EntityText(slug="e", name="movie reviews", description="Film critiques.")})
        >>> index.shares_a_word("reviews of films"), index.shares_a_word("zzyzx qwvv"), index.shares_a_word("the and of")
        (True, False, False)
        """
        return any(stem(word) in self.vocabulary for word in normalise(text))

    def term_ids(self, terms: Iterable[str]) -> list[int]:
        """Ids of the distinct known terms, in first-seen order."""
        vocab = self.vocabulary
        return list(dict.fromkeys(vocab[t] for t in terms if t and t in vocab))

    def bm25(self, term_ids: Sequence[int]) -> np.ndarray:
        """BM25 score of every entity for these term ids (zeros when there is none)."""
        return self.bm25_coverage(term_ids)[0]

    def coverage(self, term_ids: Sequence[int]) -> np.ndarray:
        """Per entity, the IDF-weighted share of these terms its document contains (0 to 1)."""
        return self.bm25_coverage(term_ids)[1]

    def bm25_coverage(self, term_ids: Sequence[int],
                      term_weights: Sequence[float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """BM25 scores and coverage of every entity for these term ids, in one pass over the postings.

        Coverage is the IDF-weighted share of the terms an entity's document contains, with BM25's
        (Lucene) IDF ``ln(1 + (N - df + 0.5) / (df + 0.5))``. ``term_weights`` (one per term id,
        default 1) multiply each term's part of both.
        """
        n = len(self)
        scores = np.zeros(n, dtype=np.float32)
        covered = np.zeros(n, dtype=np.float32)
        total = 0.0
        for k, t in enumerate(term_ids):
            docs, values = self.bm25_matrix.line(t)
            weight = 1.0 if term_weights is None else float(term_weights[k])
            idf = weight * float(np.log(1 + (n - docs.size + 0.5) / (docs.size + 0.5)))
            scores[docs] += values if weight == 1.0 else weight * values
            covered[docs] += idf
            total += idf
        if total > 0:
            covered /= total
        return scores, covered

    def kind_mask(self, kinds: Iterable[str]) -> np.ndarray:
        """Which entities are of one of these kinds."""
        codes = [i for i, k in enumerate(self.kind_names) if k in set(kinds)]
        return np.isin(self.kind_codes, codes)

    def term_contributions(self, row: int, term_ids: Sequence[int]) -> dict[int, float]:
        """BM25 contribution of each term id to one entity's score (only non-zero ones)."""
        out = {t: self.bm25_matrix.get(t, row) for t in term_ids}
        return {t: v for t, v in out.items() if v > 0}

    def segments_of(self, row: int) -> range:
        """Segment ids of one entity."""
        return range(int(self.entity_segments[row]), int(self.entity_segments[row + 1]))


def _concept_to(concept: Concept) -> dict[str, Any]:
    return {"slug": concept.slug, "iri": str(concept.iri), "pref_label": concept.pref_label,
            "alt_labels": list(concept.alt_labels), "definition": concept.definition,
            "broader": list(concept.broader), "top": concept.top}


def _concept_from(data: dict[str, Any]) -> Concept:
    from rdflib import URIRef

    return Concept(slug=data["slug"], iri=URIRef(data["iri"]), pref_label=data["pref_label"],
                   alt_labels=tuple(data["alt_labels"]), definition=data["definition"],
                   broader=tuple(data["broader"]), top=bool(data["top"]))


def scheme_digest() -> str:
    """A digest of the concept scheme file: an index built with another scheme is rebuilt."""
    from ..ontology import ontology_path

    try:
        return hashlib.sha1(ontology_path("capabilities.ttl").read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def _document(ent: EntityText, concept_labels: dict[str, list[str]], w: dict[str, int]
              ) -> tuple[list[str], list[tuple[str, bool, set[str], dict[str, float]]]]:
    """An entity's weighted BM25 terms and its segments (label, is capability, distinct terms, concepts)."""
    name_terms = tokenize(ent.name)
    name_terms += [t for t in tokenize(ent.slug) + tokenize(readable_name(ent.name)) if t not in name_terms]
    alias_terms = [t for a in ent.aliases for t in tokenize(a)]
    desc_terms = tokenize(ent.description)
    named = {tuple(tokenize(x)) for x in (ent.name, ent.slug, *ent.aliases)}
    # a keyword that only repeats the name (a hub id equal to the name) would count the name twice
    key_terms = [t for k in ent.keywords if tuple(tokenize(k)) not in named for t in tokenize(k)]
    doc = (name_terms * w["name"] + alias_terms * w["aliases"] + desc_terms * w["description"]
           + key_terms * w["keywords"])
    segments = [("name", False, set(name_terms + alias_terms), {})]
    if desc_terms:
        segments.append(("description", False, set(desc_terms), {}))
    if key_terms:
        segments.append(("keywords", False, set(key_terms), {}))
    strongest: dict[str, float] = {}
    for cap in sorted(ent.capabilities.values(), key=lambda c: (c.position, c.title)):
        title = tokenize(cap.title)
        text = [t for s in cap.text for t in tokenize(s)]
        unique = [t for s in cap.unique for t in tokenize(s)]
        alts = [t for s in cap.alternatives for t in tokenize(s)]
        doc += title * w["capability"] + text * w["capability_text"] + unique * w["unique"] + alts * w["alternatives"]
        segments.append((cap.title, True, set(title + text + unique + alts), dict(cap.concepts)))
        for slug, conf in cap.concepts.items():
            strongest[slug] = max(strongest.get(slug, 0.0), conf)
    for slug in sorted(strongest):
        if strongest[slug] >= CONCEPT_LABEL_MIN:
            doc += [t for label in concept_labels.get(slug, ()) for t in tokenize(label)] * w["concept_labels"]
    return doc, segments


def _bm25(docs: list[list[str]]) -> tuple[list[str], Sparse]:
    """Index the documents with bm25s (Lucene BM25) and return its vocabulary and term x entity scores."""
    if not any(docs):
        return [], Sparse(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
    import bm25s

    retriever = bm25s.BM25(method="lucene")
    retriever.index(docs, show_progress=False)
    vocab = retriever.vocab_dict
    terms = [""] * len(vocab)
    for term, i in vocab.items():
        terms[i] = term
    scores = retriever.scores
    matrix = Sparse(np.asarray(scores["indptr"], dtype=np.int64), np.asarray(scores["indices"], dtype=np.int32),
                    np.asarray(scores["data"], dtype=np.float32))
    return terms, matrix


def build_index(catalog: Catalog, *, field_weights: dict[str, int] | None = None,
                entities: dict[str, EntityText] | None = None) -> TextIndex:
    """Build the text index from the catalog (reads the store; does not persist).

    Parameters
    ----------
    catalog : Catalog
    field_weights : dict, optional
        Repetitions per field (keys of :data:`FIELD_WEIGHTS`; missing keys count 0). The default is
        :data:`FIELD_WEIGHTS`; ``concept_labels: 0`` leaves concept labels out.
    entities : dict, optional
        The catalog's entity texts when the caller has read them already (:func:`read_entities`).

    Returns
    -------
    TextIndex
        One BM25 document per entity (stubs included), with segments, concepts and alternatives.

    Examples
    --------
    >>> cat = Catalog("memory:")
    >>> len(build_index(cat))
    0
    """
    start = time.perf_counter()
    version = catalog.data_version
    index = index_texts(read_entities(catalog) if entities is None else entities, data_version=version,
                        field_weights=field_weights)
    index.build_seconds = time.perf_counter() - start
    return index


def index_texts(entities: dict[str, EntityText], *, data_version: str = "",
                field_weights: dict[str, int] | None = None, vectors: bool = True) -> TextIndex:
    """Build the text index from entity texts (what :func:`read_entities` returns).

    Parameters
    ----------
    entities : dict of str to EntityText
        Keyed by entity IRI.
    data_version : str
        The catalog data version the texts were read at.
    field_weights : dict, optional
        As in :func:`build_index`.
    vectors : bool, default True
        Also compute each entity's static sentence vector (:func:`entity_vectors`).

    Returns
    -------
    TextIndex
    """
    start = time.perf_counter()
    scheme = load_scheme()
    concept_labels = {c.slug: [c.pref_label] for c in scheme}
    weights = {key: 0 for key in FIELD_WEIGHTS} | dict(FIELD_WEIGHTS if field_weights is None else field_weights)
    items = sorted(entities.items(), key=lambda kv: kv[1].slug)
    ents = [ent for _, ent in items]
    row = {iri: i for i, (iri, _) in enumerate(items)}
    docs: list[list[str]] = []
    segments: list[tuple[int, str, bool, set[str], dict[str, float]]] = []
    offsets = [0]
    for i, ent in enumerate(ents):
        doc, parts = _document(ent, concept_labels, weights)
        docs.append(doc)
        segments.extend((i, label, is_cap, terms, concepts) for label, is_cap, terms, concepts in parts)
        offsets.append(len(segments))
    terms, bm25_matrix = _bm25(docs)
    vocab = {t: i for i, t in enumerate(terms)}
    concepts = sorted({c.slug for c in scheme} | {s for seg in segments for s in seg[4]})
    col = {s: j for j, s in enumerate(concepts)}
    seg_entity = np.array([seg[0] for seg in segments], dtype=np.int32)

    ids = [np.fromiter((vocab[x] for x in seg[3] if x in vocab), dtype=np.int64) for seg in segments]
    positions = np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)
    segment_terms = Sparse.from_triplets(np.repeat(np.arange(len(segments)), [a.size for a in ids]), positions,
                                         np.ones(positions.size), lines=len(segments))
    triplets = [(s, col[c], w) for s, seg in enumerate(segments) for c, w in sorted(seg[4].items())]
    segment_concepts = Sparse.from_triplets([t[0] for t in triplets], [t[1] for t in triplets],
                                            [t[2] for t in triplets], lines=len(segments))
    alt = [(i, row[x], n) for i, ent in enumerate(ents) for x, n in sorted(ent.alternatives.items()) if x in row]
    index = TextIndex(
        slugs=[e.slug for e in ents], names=[e.name for e in ents], kinds=[e.kind for e in ents],
        stub=np.array([e.stub for e in ents], dtype=bool), terms=terms, bm25_matrix=bm25_matrix,
        concepts=concepts,
        entity_concepts=_strongest_concepts(seg_entity, triplets, len(concepts)),
        concept_weights=concept_bm25(seg_entity, triplets, len(ents), len(concepts)),
        segment_entity=seg_entity, entity_segments=np.array(offsets, dtype=np.int64),
        segment_labels=[seg[1] for seg in segments],
        segment_is_capability=np.array([seg[2] for seg in segments], dtype=bool),
        segment_terms=segment_terms, segment_concepts=segment_concepts,
        alternatives=Sparse.from_triplets([a[0] for a in alt], [a[1] for a in alt], [a[2] for a in alt],
                                          lines=len(ents)),
        scheme_concepts=[_concept_to(c) for c in scheme], data_version=data_version, scheme_digest=scheme_digest(),
        vectors=entity_vectors(ents) if vectors else np.zeros((0, 0), dtype=np.float16),
        claimed=np.array([any(c.unique or c.alternatives for c in e.capabilities.values()) for e in ents], dtype=bool),
        build_seconds=time.perf_counter() - start)
    index.imported_texts = [vector_text(ents[i]) for i in np.flatnonzero(index.imported)]  # the rule: TextIndex.imported
    return index


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")


def readable_name(name: str) -> str:
    """A name as words: camel case, underscores and slashes split (for sentence vectors).

    Examples
    --------
    >>> readable_name("AmazonPolarityClassification")
    'Amazon Polarity Classification'
    >>> readable_name("sentence-transformers/all-MiniLM-L6-v2")
    'sentence-transformers all-MiniLM-L6-v2'
    """
    return " ".join(_CAMEL.sub(" ", name.replace("_", " ").replace("/", " ")).split())


def vector_text(ent: EntityText) -> str:
    """The text an entity's static sentence vector is computed from: its name, aliases,
    description and capability titles (the long capability texts would drown the rest)."""
    head = readable_name(ent.name)
    aliases = [readable_name(a) for a in ent.aliases if readable_name(a).lower() != head.lower()]
    titles = [c.title for c in sorted(ent.capabilities.values(), key=lambda c: (c.position, c.title)) if c.title]
    parts = [head + (f" ({', '.join(aliases)})" if aliases else ""), ent.description, *titles]
    return ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip())


def entity_vectors(entities: Sequence[EntityText]) -> np.ndarray:
    """Unit static sentence vectors (:mod:`matchgraph.matching.static_vectors`) of the entities, float16.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(entities), dim)``, zeros for stubs; ``(0, 0)`` when matchgraph was
        installed without its token table.
    """
    from .static_vectors import load_static

    try:
        encoder = load_static()
    except OSError:
        return np.zeros((0, 0), dtype=np.float16)
    # a stub is known only by its name, which the lexical evidence already counts
    return encoder.encode(["" if e.stub else vector_text(e) for e in entities]).astype(np.float16)


def _strongest_concepts(seg_entity: np.ndarray, triplets: list[tuple[int, int, float]], concepts: int) -> Sparse:
    """Concept x entity: the highest confidence of the concept over the entity's capabilities."""
    best: dict[tuple[int, int], float] = {}
    for s, c, w in triplets:
        key = (c, int(seg_entity[s]))
        best[key] = max(best.get(key, 0.0), w)
    keys = sorted(best)
    return Sparse.from_triplets([k[0] for k in keys], [k[1] for k in keys], [best[k] for k in keys], lines=concepts)


def concept_bm25(seg_entity: np.ndarray, triplets: list[tuple[int, int, float]], entities: int, concepts: int, *,
                 k1: float = CONCEPT_K1, b: float = CONCEPT_B) -> Sparse:
    """Weigh each entity's concepts like BM25 weighs terms, with the classifier's confidence as frequency.

    ``tf`` is the sum of the concept's confidences over the entity's capabilities, the entity's
    length the sum over all its concepts, and ``idf`` is computed over the entities offering any
    concept: a concept few entities offer, or one several capabilities of a focused entity carry,
    counts more than one a broad entity mentions once.

    Parameters
    ----------
    seg_entity : numpy.ndarray
        Entity row of each segment.
    triplets : list of (segment, concept, confidence)
        The concepts of the capabilities.
    entities, concepts : int
        Matrix size.

    Returns
    -------
    Sparse
        One line per concept: ``idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / mean length))``.

    Examples
    --------
    >>> m = concept_bm25(np.array([0, 1, 1]), [(0, 0, 1.0), (1, 0, 0.5), (2, 1, 0.5)], 2, 2)
    >>> round(m.get(0, 0), 3), round(m.get(0, 1), 3), round(m.get(1, 1), 3)
    (0.182, 0.118, 0.449)
    """
    tf = Sparse.from_triplets([int(seg_entity[s]) for s, _, _ in triplets], [c for _, c, _ in triplets],
                              [w for _, _, w in triplets], lines=entities)
    rows = np.repeat(np.arange(entities), np.diff(tf.indptr))
    length = np.bincount(rows, weights=tf.data, minlength=entities)
    offering = length > 0
    if not offering.any():
        return Sparse.from_triplets([], [], [], lines=concepts)
    df = np.bincount(tf.indices, minlength=concepts)
    count = int(offering.sum())
    idf = np.log(1 + (count - df + 0.5) / (df + 0.5))
    norm = k1 * (1 - b + b * length / length[offering].mean())
    values = idf[tf.indices] * tf.data * (k1 + 1) / (tf.data + norm[rows])
    return Sparse.from_triplets(tf.indices, rows, values, lines=concepts)


# ---------------------------------------------------------------------------- persistence


def index_dir(catalog: Catalog) -> Path:
    """The directory holding the catalog's persisted text indexes."""
    path = catalog.cache_dir / "textindex"
    path.mkdir(parents=True, exist_ok=True)
    return path


_ARRAYS = ("stub", "segment_entity", "entity_segments", "segment_is_capability", "claimed")
_MATRICES = ("bm25_matrix", "entity_concepts", "concept_weights", "segment_terms", "segment_concepts", "alternatives")
_LISTS = ("slugs", "names", "kinds", "terms", "concepts", "segment_labels", "scheme_concepts")


def save_index(index: TextIndex, root: Path) -> str:
    """Write ``index`` to a new build directory under ``root``; return the directory name."""
    name = f"build-{uuid.uuid4().hex[:12]}"
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    meta = {"format": FORMAT, "data_version": index.data_version, "scheme_digest": index.scheme_digest,
            "build_seconds": index.build_seconds,
            **{key: getattr(index, key) for key in _LISTS}}
    (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    for key in _ARRAYS:
        np.save(tmp / f"{key}.npy", getattr(index, key))
    np.save(tmp / "vectors.npy", index.vectors)
    for key in _MATRICES:
        getattr(index, key).save(tmp, key)
    (tmp / "imported_texts.json").write_text(json.dumps(index.imported_texts, ensure_ascii=False), encoding="utf-8")
    tmp.chmod(0o755)
    os.replace(tmp, root / name)
    return name


def _load_saved(path: Path) -> TextIndex:
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError("index format changed")
    index = TextIndex(data_version=meta["data_version"], scheme_digest=meta.get("scheme_digest", ""),
                      build_seconds=meta.get("build_seconds", 0.0),
                      **{key: meta[key] for key in _LISTS},
                      **{key: _mapped(path / f"{key}.npy") for key in _ARRAYS},
                      **{key: Sparse.load(path, key) for key in _MATRICES},
                      vectors=_mapped(path / "vectors.npy"),
                      imported_texts=json.loads((path / "imported_texts.json").read_text(encoding="utf-8")))
    # the imported records' texts are found by position among them: a list of another length
    # would give a record another's text, or none
    if (index.claimed.shape != (len(index),) or not isinstance(index.imported_texts, list)
            or len(index.imported_texts) != int(index.imported.sum())
            or not all(isinstance(t, str) for t in index.imported_texts)):
        raise ValueError("the imported texts do not match the index")
    return index


def load_saved(path: Path) -> TextIndex:
    """Load an index that :func:`save_index` wrote (``path`` is its build directory)."""
    return _load_saved(path)
