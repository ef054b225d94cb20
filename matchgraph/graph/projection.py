"""The match graph: the catalog projected to entities and typed, weighted edges, as arrays.

Nodes are entity slugs with a ``kind`` (str or None), ``name``, ``stub`` flag and
``times_matched``. Edges carry a relation (:data:`~matchgraph.graph.relations.RELATION_KINDS`),
a weight (> 0) and the aspects of alternative edges:

- ``alternative``: A's "vs alternatives" claims name B (directed A -> B; weight = number of such
  claims; an explicit ``mg:alternativeTo`` counts as one claim);
- ``shared-concept``: A and B have capabilities classified into the same concepts (symmetric;
  weight = sum of the inverse document frequency of the shared concepts);
- ``derivedFrom``, ``trainedOn``, ``subsetOf``, ``integratesWith``, ``supportsFormat``,
  ``evaluatedOn``, ``supersededBy``: the stated relation (directed; weight 1);
- ``co-matched``: A and B appeared together in the top 10 of a recorded match (symmetric;
  weight = number of such match events).

Symmetric relations are stored in both directions. :func:`project` computes the projection from
the facts (:mod:`matchgraph.graph.facts`) with array operations only; it reads nothing from the
store, so the projection of a version updated from a delta is the one a full read gives.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..vocab import ID, KINDS, slug_of
from .facts import Facts
from .relations import MATCH_TOP, RELATION_KINDS, STATED_RELATIONS, SYMMETRIC

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from ..store.catalog import Catalog

__all__ = ["CompactProjection", "project", "nodes_from", "concept_idf", "shared_concept_pairs", "FORMAT",
           "SHARED_CONCEPT_PARTNERS", "CONCEPT_WINDOW", "build_compact", "build_projection"]

#: Each entity keeps shared-concept edges to at most this many most similar entities.
SHARED_CONCEPT_PARTNERS = 5
#: Holders of a concept are paired with the next this-many holders in concept-signature order
#: (so a concept held by at most WINDOW + 1 entities links all of them).
CONCEPT_WINDOW = 8
#: Bumped when the projection's shape changes, so stored projections of an older shape are not read.
FORMAT = 3

_KIND_ORDER = {str(iri): i for i, iri in enumerate(KINDS.values())}
_KIND_NAMES = list(KINDS)


# ---------------------------------------------------------------------------------- shared concepts
def concept_idf(concepts_of: Mapping[str, frozenset[str]]) -> dict[str, float]:
    """Inverse document frequency of each concept over the entities holding any concept.

    ``idf(c) = ln(N / df(c))`` with N the number of entities that have at least one concept and
    df(c) the number of those that have concept c: the rarer a concept, the more it says.

    Examples
    --------
    >>> sorted(concept_idf({"a": frozenset({"x"}), "b": frozenset({"x", "y"})}).items())
    [('x', 0.0), ('y', 0.6931471805599453)]
    """
    df: dict[str, int] = defaultdict(int)
    for concepts in concepts_of.values():
        for concept in concepts:
            df[concept] += 1
    n = sum(1 for concepts in concepts_of.values() if concepts)
    return {c: math.log(n / k) for c, k in sorted(df.items())}


def _candidate_pairs(holders: list[np.ndarray], window: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Unique (i, j), i < j, pairing each holder of a concept with the next ``window`` holders."""
    chunks = [np.empty(0, dtype=np.int64)]
    for members in holders:
        for d in range(1, min(window, len(members) - 1) + 1):
            a, b = members[:-d], members[d:]
            chunks.append(np.minimum(a, b) * n + np.maximum(a, b))
    codes = np.unique(np.concatenate(chunks))
    return codes // n, codes % n


def _pair_weights(matrix: Any, idf: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 500_000) -> np.ndarray:
    """Sum of the idf of the concepts rows ``a`` and ``b`` of the entity-concept matrix share."""
    parts = [np.empty(0)]
    for i in range(0, len(a), chunk):
        shared = matrix[a[i:i + chunk]].multiply(matrix[b[i:i + chunk]])
        parts.append(np.asarray(shared @ idf).ravel())
    return np.concatenate(parts)


def _top_partners(a: np.ndarray, b: np.ndarray, weights: np.ndarray, partners: int) -> np.ndarray:
    """Mask of the pairs that are among the ``partners`` heaviest of either end (ties: lower index)."""
    ends, others = np.concatenate([a, b]), np.concatenate([b, a])
    index = np.concatenate([np.arange(len(a)), np.arange(len(a))])
    order = np.lexsort((others, -np.round(np.concatenate([weights, weights]), 12), ends))
    ends_sorted = ends[order]
    rank_within = np.arange(len(order)) - np.searchsorted(ends_sorted, ends_sorted, side="left")
    keep = np.zeros(len(a), dtype=bool)
    keep[index[order[rank_within < partners]]] = True
    return keep


def shared_concept_pairs(concepts_of: Mapping[str, frozenset[str]], *, partners: int = SHARED_CONCEPT_PARTNERS,
                         window: int = CONCEPT_WINDOW) -> dict[tuple[str, str], float]:
    """Pairs of entities sharing capability concepts, weighted by how specific the concepts are.

    The weight of a pair is the sum of :func:`concept_idf` over the concepts both hold. Each entity
    keeps its ``partners`` heaviest pairs (ties broken by id); a pair is kept when either side
    keeps it. Candidates are found per concept: its holders are ordered by their concept signature
    (their concepts, rarest first) and each is paired with the next ``window`` holders, which is
    every pair when a concept has at most ``window + 1`` holders and keeps the work linear in the
    catalog size otherwise.

    Parameters
    ----------
    concepts_of : mapping of str to frozenset of str
        Entity slug -> concept IRIs of its capabilities.
    partners : int
        Pairs kept per entity.
    window : int
        Holders of a concept each holder is compared with.

    Returns
    -------
    dict of (str, str) to float
        ``(a, b)`` with ``a < b`` -> weight (> 0), in sorted order.

    Examples
    --------
    >>> pairs = shared_concept_pairs({"a": frozenset({"x", "y"}), "b": frozenset({"y"}), "c": frozenset({"x"})})
    >>> {k: round(v, 3) for k, v in pairs.items()}
    {('a', 'b'): 0.405, ('a', 'c'): 0.405}
    """
    from scipy import sparse

    idf = concept_idf(concepts_of)
    slugs = sorted(s for s, cs in concepts_of.items() if cs)  # indices compare like ids
    concepts = sorted(idf, key=lambda c: (-idf[c], c))
    column = {c: i for i, c in enumerate(concepts)}
    signature = [tuple(sorted(column[c] for c in concepts_of[s])) for s in slugs]
    position = np.empty(len(slugs), dtype=np.int64)
    position[sorted(range(len(slugs)), key=lambda i: (signature[i], i))] = np.arange(len(slugs))
    holders: list[list[int]] = [[] for _ in concepts]
    for i, columns in enumerate(signature):
        for c in columns:
            holders[c].append(i)
    a, b = _candidate_pairs([np.array(sorted(h, key=position.__getitem__), dtype=np.int64) for h in holders],
                            window, max(len(slugs), 1))
    rows = np.repeat(np.arange(len(slugs)), [len(sig) for sig in signature])
    cols = np.fromiter((c for sig in signature for c in sig), dtype=np.int64, count=len(rows))
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(slugs), len(concepts)))
    weights = _pair_weights(matrix, np.array([idf[c] for c in concepts]), a, b)
    positive = weights > 1e-12
    a, b, weights = a[positive], b[positive], weights[positive]
    kept = _top_partners(a, b, weights, partners)
    return {(slugs[i], slugs[j]): w for i, j, w in zip(a[kept].tolist(), b[kept].tolist(), weights[kept].tolist())}


# ---------------------------------------------------------------------------------- compact form
@dataclass
class CompactProjection:
    """The projection as arrays: node ``i`` is ``slugs[i]`` (sorted), edge ``j`` goes from
    ``src[j]`` to ``dst[j]`` with relation ``RELATION_KINDS[relation[j]]``, ``weight[j]`` and
    aspect ``aspects[aspect[j]]``. A hundred thousand entities take tens of megabytes this way,
    against more than a gigabyte as a networkx graph, so scores are computed from it.
    """

    slugs: list[str]
    names: list[str]
    kinds: list[str | None]
    stub: np.ndarray
    times_matched: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    relation: np.ndarray
    weight: np.ndarray
    aspect: np.ndarray
    aspects: list[str]
    data_version: str
    _index: dict[str, int] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.slugs)

    def mask(self, *relations: str) -> np.ndarray:
        """Boolean mask of the edges of these relations."""
        return np.isin(self.relation, [RELATION_KINDS.index(r) for r in relations])

    def edges(self) -> Iterator[tuple[str, str, str, float, str]]:
        """Every edge as (source slug, target slug, relation, weight, aspect)."""
        for a, b, r, w, asp in zip(self.src.tolist(), self.dst.tolist(), self.relation.tolist(),
                                   self.weight.tolist(), self.aspect.tolist()):
            yield self.slugs[a], self.slugs[b], RELATION_KINDS[r], w, self.aspects[asp]

    def to_networkx(self) -> nx.MultiDiGraph:
        """The projection as a networkx MultiDiGraph (see the module docstring)."""
        import networkx as nx

        graph = nx.MultiDiGraph(data_version=self.data_version, format=FORMAT)
        graph.add_nodes_from((slug, {"kind": kind, "name": name, "stub": bool(stub), "times_matched": int(times)})
                             for slug, kind, name, stub, times in zip(self.slugs, self.kinds, self.names,
                                                                      self.stub.tolist(), self.times_matched.tolist()))
        graph.add_edges_from((a, b, r, {"relation": r, "weight": w, "aspect": asp}) for a, b, r, w, asp in self.edges())
        return graph

    def save(self, directory: Path) -> None:
        """Write ``projection.npz`` and ``projection.json`` into a (staging) directory."""
        np.savez(directory / "projection.npz", stub=self.stub, times_matched=self.times_matched, src=self.src,
                 dst=self.dst, relation=self.relation, weight=self.weight, aspect=self.aspect)
        (directory / "projection.json").write_text(json.dumps(
            {"format": FORMAT, "slugs": self.slugs, "names": self.names, "kinds": self.kinds,
             "aspects": self.aspects, "data_version": self.data_version}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> CompactProjection:
        """Read what :meth:`save` wrote."""
        meta = json.loads((directory / "projection.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError("projection format changed")
        with np.load(directory / "projection.npz") as data:
            arrays = {k: data[k] for k in data.files}
        return cls(meta["slugs"], meta["names"], meta["kinds"], arrays["stub"], arrays["times_matched"],
                   arrays["src"], arrays["dst"], arrays["relation"], arrays["weight"], arrays["aspect"],
                   meta["aspects"], meta["data_version"])

    def index_of(self) -> dict[str, int]:
        """Slug -> node index (built once: 1.2 ms at 5,000 entities, and asked for by every
        ``neighbours`` and entity page). Do not change the mapping it returns."""
        if self._index is None:
            self._index = {s: i for i, s in enumerate(self.slugs)}
        return self._index


@dataclass
class _Edges:
    """Edges gathered while building: parallel lists of arrays, concatenated at the end."""

    n: int
    parts: list[tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]] = field(default_factory=list)
    #: Relations of the first part when it was kept from another projection (one per edge).
    relations: np.ndarray | None = None

    def add(self, src: np.ndarray, dst: np.ndarray, relation: str, weight: np.ndarray,
            aspect: np.ndarray | None = None, *, symmetric: bool = False) -> None:
        aspect = np.zeros(len(src), dtype=np.int16) if aspect is None else aspect
        self.parts.append((src, dst, RELATION_KINDS.index(relation), weight, aspect))
        if symmetric:
            self.parts.append((dst, src, RELATION_KINDS.index(relation), weight, aspect))

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(src, dst, relation, weight, aspect), sorted by source, target and relation."""
        src = np.concatenate([np.asarray(p[0], dtype=np.int32) for p in self.parts] or [np.empty(0, np.int32)])
        dst = np.concatenate([np.asarray(p[1], dtype=np.int32) for p in self.parts] or [np.empty(0, np.int32)])
        rel = np.concatenate([np.asarray(self.relations, dtype=np.int8) if k == 0 and self.relations is not None
                              else np.full(len(p[0]), p[2], dtype=np.int8) for k, p in enumerate(self.parts)]
                             or [np.empty(0, np.int8)])
        weight = np.concatenate([np.asarray(p[3], dtype=np.float64) for p in self.parts] or [np.empty(0)])
        aspect = np.concatenate([np.asarray(p[4], dtype=np.int16) for p in self.parts] or [np.empty(0, np.int16)])
        order = np.lexsort((rel, dst, src))
        return src[order], dst[order], rel[order], weight[order], aspect[order]


# ---------------------------------------------------------------------------------- from facts
@dataclass
class Nodes:
    """The entity nodes of a set of facts: ``node_of[term]`` is the node of an IRI (-1 if none)."""

    iris: list[str]
    slugs: list[str]
    names: list[str]
    kinds: list[str | None]
    stub: np.ndarray
    node_of: np.ndarray


def nodes_of(facts: Facts) -> Nodes:
    """The nodes: every ``mg:Entity``, sorted by slug, with name (the least), kind and stub flag."""
    codes = np.unique(facts.column("entity", 0))
    iris = sorted((facts.terms[c] for c in codes.tolist()), key=slug_of)
    node_of = np.full(len(facts.terms) + 1, -1, dtype=np.int64)
    for i, iri in enumerate(iris):
        node_of[facts.term(iri)] = i
    node_of = np.concatenate([node_of[:len(facts.terms)], [-1]])  # index -1 (no term) maps to -1
    slugs = [slug_of(iri) for iri in iris]
    names: list[str | None] = [None] * len(iris)
    for e, s in zip(node_of[facts.column("name", 0)].tolist(), facts.column("name", 1).tolist()):
        if e >= 0:
            name = facts.strings[s]
            if name and (names[e] is None or name < names[e]):  # type: ignore[operator]
                names[e] = name
    kinds: list[str | None] = [None] * len(iris)
    best = [len(_KIND_NAMES)] * len(iris)
    for e, c in zip(node_of[facts.column("kind", 0)].tolist(), facts.column("kind", 1).tolist()):
        order = _KIND_ORDER.get(facts.strings[c], len(_KIND_NAMES))
        if e >= 0 and order < best[e]:
            best[e] = order
            kinds[e] = _KIND_NAMES[order]
    stub = np.zeros(len(iris), dtype=bool)
    stubbed = node_of[facts.column("stub", 0)]
    stub[stubbed[stubbed >= 0]] = True
    stub &= np.array([k is None for k in kinds], dtype=bool)
    return Nodes(iris, slugs, [n or s for n, s in zip(names, slugs)], kinds, stub, node_of)


def _pairs(facts: Facts, nodes: Nodes, table: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, row mask) of the rows of a table whose key and first column are two different nodes."""
    a = nodes.node_of[facts.column(table, 0)]
    b = nodes.node_of[facts.column(table, 1)]
    ok = (a >= 0) & (b >= 0) & (a != b)
    return a[ok], b[ok], ok


def _stated(facts: Facts, nodes: Nodes, edges: _Edges) -> np.ndarray:
    """Stated relations (weight 1 each); returns the codes of explicit mg:alternativeTo pairs."""
    n = edges.n
    a, b, ok = _pairs(facts, nodes, "stated")
    props = facts.column("stated", 2)[ok]
    names = np.array([facts.strings[p].rsplit("#", 1)[-1] for p in props.tolist()], dtype=object)
    codes = a * n + b
    for relation in STATED_RELATIONS:
        chosen = np.unique(codes[names == relation]) if len(names) else np.empty(0, dtype=np.int64)
        edges.add(chosen // n, chosen % n, relation, np.ones(len(chosen)))
    return np.unique(codes[names == "alternativeTo"]) if len(names) else np.empty(0, dtype=np.int64)


def _alternatives(facts: Facts, nodes: Nodes, edges: _Edges, explicit: np.ndarray) -> list[str]:
    """Alternative edges (weight = naming claims, + 1 for an explicit mg:alternativeTo); returns the aspect table."""
    n = edges.n
    a, b, _ = _pairs(facts, nodes, "named")
    codes, counts = np.unique(np.concatenate([a * n + b, explicit]).astype(np.int64), return_counts=True)
    ea, eb, ok = _pairs(facts, nodes, "aspect")
    aspect_names = [facts.strings[s].rsplit("/", 1)[-1] for s in facts.column("aspect", 2)[ok].tolist()]
    bits = {name: 1 << k for k, name in enumerate(sorted(set(aspect_names)))}
    masks = np.zeros(len(codes), dtype=np.int64)
    found = (ea * n + eb).astype(np.int64)
    if len(codes) and len(found):
        where = np.minimum(np.searchsorted(codes, found), len(codes) - 1)
        hit = codes[where] == found
        np.bitwise_or.at(masks, where[hit], np.array([bits[x] for x in aspect_names], dtype=np.int64)[hit])
    table: dict[int, int] = {0: 0}
    texts = [""]
    for mask in np.unique(masks).tolist():
        if mask not in table:
            table[mask] = len(texts)
            texts.append(",".join(sorted(name for name, bit in bits.items() if mask & bit)))
    edges.add(codes // n, codes % n, "alternative", counts.astype(np.float64),
              np.array([table[m] for m in masks.tolist()], dtype=np.int16))
    return texts


def concepts_by_node(facts: Facts, nodes: Nodes) -> dict[str, frozenset[str]]:
    """Entity slug -> the concept IRIs of its capabilities."""
    held: dict[int, set[str]] = defaultdict(set)
    for e, k in zip(nodes.node_of[facts.column("concept", 0)].tolist(), facts.column("concept", 1).tolist()):
        if e >= 0:
            held[e].add(facts.strings[k])
    return {nodes.slugs[e]: frozenset(ks) for e, ks in held.items()}


def _shared_concepts(facts: Facts, nodes: Nodes, edges: _Edges) -> None:
    index = {slug: i for i, slug in enumerate(nodes.slugs)}
    pairs = shared_concept_pairs(concepts_by_node(facts, nodes))
    a = np.array([index[x] for x, _ in pairs], dtype=np.int64)
    b = np.array([index[y] for _, y in pairs], dtype=np.int64)
    edges.add(a, b, "shared-concept", np.array(list(pairs.values())), symmetric=True)


def _matches(facts: Facts, nodes: Nodes, edges: _Edges) -> np.ndarray:
    """Co-matched edges; returns times matched per node."""
    entity = nodes.node_of[facts.column("match", 1)]
    position = facts.column("match", 2)
    ok = (entity >= 0) & (position <= MATCH_TOP)
    events, entity = facts.column("match", 0)[ok], entity[ok]
    times = np.bincount(entity, minlength=len(nodes.slugs)).astype(np.int64)
    pairs = np.unique(np.stack([events, entity], axis=1), axis=0) if len(events) else np.empty((0, 2), np.int64)
    together: dict[tuple[int, int], int] = defaultdict(int)
    if len(pairs):
        starts = np.flatnonzero(np.r_[True, pairs[1:, 0] != pairs[:-1, 0]])
        for members in np.split(pairs[:, 1], starts[1:]):
            ordered = members.tolist()
            for k, x in enumerate(ordered):
                for y in ordered[k + 1:]:
                    together[(x, y)] += 1
    keys = sorted(together)
    edges.add(np.array([a for a, _ in keys], dtype=np.int64), np.array([b for _, b in keys], dtype=np.int64),
              "co-matched", np.array([float(together[p]) for p in keys]), symmetric=True)
    return times


def nodes_from(facts: Facts, p: CompactProjection) -> Nodes:
    """The nodes of ``facts`` when ``p`` is their projection (or one with the same entities): what
    :func:`nodes_of` gives, taken from the projection instead of worked out again."""
    codes = np.unique(facts.column("entity", 0))
    if len(codes) != p.n:
        return nodes_of(facts)
    index = {s: i for i, s in enumerate(p.slugs)}
    prefix = str(ID)
    cut = len(prefix)
    terms = [facts.terms[c] for c in codes.tolist()]
    where = [index.get(t[cut:] if t.startswith(prefix) else t, -1) for t in terms]  # slug_of, inlined
    if -1 in where or len(set(where)) != p.n:
        return nodes_of(facts)
    iris: list[str | None] = [None] * p.n
    for i, iri in zip(where, terms):
        iris[i] = iri
    node_of = np.full(len(facts.terms) + 1, -1, dtype=np.int64)
    node_of[codes] = where
    return Nodes(iris, list(p.slugs), list(p.names), list(p.kinds), p.stub.copy(), node_of)  # type: ignore[arg-type]


def _merge(base: tuple[np.ndarray, ...], new: tuple[np.ndarray, ...], n: int) -> tuple[np.ndarray, ...]:
    """Two edge sets each sorted by (source, target, relation), with no edge in both, as one."""
    def key(src: np.ndarray, dst: np.ndarray, rel: np.ndarray) -> np.ndarray:
        return (src.astype(np.int64) * n + dst) * len(RELATION_KINDS) + rel

    where = np.searchsorted(key(*base[:3]), key(*new[:3]))
    return tuple(np.insert(a, where, b) for a, b in zip(base, new))


def project(facts: Facts, data_version: str = "", *, base: CompactProjection | None = None,
            nodes: Nodes | None = None) -> CompactProjection:
    """Project the facts into arrays (see :class:`CompactProjection`).

    ``base``: the projection of facts that differ from these in match events only; its other
    edges are kept and only times matched and the co-matched edges are computed again (and
    merged into the kept ones, already in order). ``nodes``: ``nodes_of(facts)`` when known.

    Examples
    --------
    >>> from matchgraph.graph.facts import read_facts
    >>> from matchgraph.store.catalog import Catalog
    >>> project(read_facts(Catalog("memory:"))).n
    0
    """
    if nodes is None:
        nodes = nodes_from(facts, base) if base is not None else nodes_of(facts)
    edges = _Edges(max(len(nodes.slugs), 1))
    if base is not None and base.slugs == nodes.slugs:
        keep = base.relation != RELATION_KINDS.index("co-matched")
        times = _matches(facts, nodes, edges)
        kept = (base.src[keep], base.dst[keep], base.relation[keep], base.weight[keep], base.aspect[keep])
        src, dst, relation, weight, aspect = _merge(kept, edges.arrays(), edges.n)
        aspects = list(base.aspects)
    else:
        explicit = _stated(facts, nodes, edges)
        aspects = _alternatives(facts, nodes, edges, explicit)
        _shared_concepts(facts, nodes, edges)
        times = _matches(facts, nodes, edges)
        src, dst, relation, weight, aspect = edges.arrays()
    return CompactProjection(nodes.slugs, nodes.names, nodes.kinds, nodes.stub, times, src, dst, relation, weight,
                             aspect, aspects, data_version)


def build_compact(catalog: Catalog) -> CompactProjection:
    """Project the catalog afresh from a full read of the store (nothing is kept).

    The kept projection of the current version is :func:`matchgraph.graph.derived.load_compact`.

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> build_compact(Catalog("memory:")).n
    0
    """
    from .facts import read_facts

    return project(read_facts(catalog), catalog.data_version)


def build_projection(catalog: Catalog) -> nx.MultiDiGraph:
    """:func:`build_compact` as a networkx MultiDiGraph."""
    return build_compact(catalog).to_networkx()
