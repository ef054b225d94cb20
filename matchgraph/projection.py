"""The match graph: the catalog projected to entities and typed, weighted edges, cached per data version.

Nodes are entity slugs with the attributes ``kind`` (str or None), ``name``, ``stub`` (bool) and
``times_matched`` (int). Edges are keyed by their relation and carry ``relation``, ``weight``
(float > 0) and ``aspect`` (comma-joined aspects of alternative edges, else ""):

- ``alternative``: A's "vs alternatives" claims name B (directed A -> B; weight = number of such
  claims; an explicit ``mg:alternativeTo`` counts as one claim);
- ``shared-concept``: A and B have capabilities classified into the same concepts (symmetric;
  weight = sum of the inverse document frequency of the shared concepts);
- ``derivedFrom``, ``trainedOn``, ``subsetOf``, ``integratesWith``, ``supportsFormat``,
  ``evaluatedOn``, ``supersededBy``: the stated relation (directed; weight 1);
- ``co-matched``: A and B appeared together in the top 10 of a recorded match (symmetric;
  weight = number of such match events).

Symmetric relations are stored in both directions, so successors are always every neighbour.
:func:`load_projection` gives a networkx ``MultiDiGraph``; :func:`load_compact` gives the same
graph as numpy arrays (:class:`CompactProjection`), which is what scores are computed from, since
it takes tens of megabytes where networkx takes gigabytes at a hundred thousand entities.

The projection is built with a few bulk SPARQL queries and pickled under ``catalog.cache_dir``
keyed on ``catalog.data_version``: writing scores does not invalidate it, any new evidence does.
Next to the pickle a SQLite neighbour index (:mod:`matchgraph.neighbours`) is written, so
single-entity lookups never load the whole graph.
"""

from __future__ import annotations

import math
import os
import uuid
import pickle
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from .catalog import Catalog
from .vocab import KINDS, MATCH_GRAPH, slug_of, sparql_prefixes

__all__ = [
    "RELATION_KINDS", "SYMMETRIC", "LINEAGE_RELATIONS", "INTEGRATION_RELATIONS", "STATED_RELATIONS",
    "CompactProjection", "build_compact", "load_compact", "build_projection", "load_projection",
    "projection_path", "select_values", "concept_idf", "shared_concept_pairs", "counters",
]

#: Every edge relation of the projection.
RELATION_KINDS: tuple[str, ...] = (
    "alternative", "shared-concept", "derivedFrom", "trainedOn", "subsetOf", "integratesWith",
    "supportsFormat", "evaluatedOn", "supersededBy", "co-matched",
)
#: Relations without a direction (stored both ways).
SYMMETRIC: frozenset[str] = frozenset({"shared-concept", "co-matched"})
#: Lineage relations: the subject was made from the object.
LINEAGE_RELATIONS: tuple[str, ...] = ("derivedFrom", "trainedOn", "subsetOf")
#: Integration relations: the subject works with the object.
INTEGRATION_RELATIONS: tuple[str, ...] = ("integratesWith", "supportsFormat")
#: Relations stated between entities in the sources (mg: properties of the same name).
STATED_RELATIONS: tuple[str, ...] = (*LINEAGE_RELATIONS, *INTEGRATION_RELATIONS, "evaluatedOn", "supersededBy")

#: Each entity keeps shared-concept edges to at most this many most similar entities.
SHARED_CONCEPT_PARTNERS = 5
#: Holders of a concept are paired with the next this-many holders in concept-signature order
#: (so a concept held by at most WINDOW + 1 entities links all of them).
CONCEPT_WINDOW = 8
#: Match results at this position or better count as matched (times matched, co-matched edges).
MATCH_TOP = 10
#: Bumped when the projection's shape changes, so old caches are not read.
FORMAT = 2

#: How many projections this process built and loaded from disk (for tests and benchmarks).
counters: dict[str, int] = {"builds": 0, "loads": 0}


# ---------------------------------------------------------------------------------- store access
def select_values(catalog: Catalog, sparql: str) -> Iterator[tuple[str | None, ...]]:
    """Run a SELECT and stream its rows as tuples of plain strings (IRIs and lexical forms).

    On an embedded Oxigraph store the rows are streamed straight from the engine without building
    rdflib terms, which keeps bulk queries over large catalogs fast and small in memory.

    Parameters
    ----------
    catalog : Catalog
    sparql : str
        A SELECT query (the project prefixes are predeclared).

    Yields
    ------
    tuple of (str or None)
        One tuple per solution, None for unbound variables.

    Examples
    --------
    >>> cat = Catalog("memory:")
    >>> list(select_values(cat, "SELECT ?x WHERE { VALUES ?x { 1 } }"))
    [('1',)]
    """
    inner = catalog.oxigraph
    if inner is not None:
        for solution in inner.query(sparql_prefixes() + sparql, use_default_graph_as_union=True):
            yield tuple(None if term is None else term.value for term in solution)
        return
    for row in catalog.query(sparql):
        yield tuple(None if term is None else str(term) for term in row)


_KIND_VALUES = " ".join(f"<{iri}>" for iri in KINDS.values())
_KIND_OF = {str(iri): kind for kind, iri in KINDS.items()}

# Bulk queries. Each triple pattern of a join sits in its own sub-select, so Oxigraph joins them
# by hashing instead of one index lookup per row, and nothing is grouped by pairs of entities in
# the engine: on large on-disk stores both are many times slower than streaming the rows and
# counting in Python. Names, kinds and aspects are plain strings handled here.
_ENTITIES = "SELECT ?e WHERE { ?e a mg:Entity }"
_KINDS = f"SELECT ?e ?c WHERE {{ VALUES ?c {{ {_KIND_VALUES} }} ?e a ?c }}"
_NAMES = "SELECT ?e ?n WHERE { { SELECT ?e WHERE { ?e a mg:Entity } } { SELECT ?e ?n WHERE { ?e schema:name ?n } } }"
_STUBS = "SELECT ?e WHERE { ?e mg:isStub true }"
_STATED = "SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {props} }} ?s ?p ?o }}"

#: Sub-select joining a capability ?c to its entity ?e.
CAPABILITY_OF = "{ SELECT ?c ?e WHERE { ?c mg:capabilityOf ?e } }"
#: Sub-selects joining an entity ?e to the entities ?b its alternative claims ?cl name.
CLAIMS_NAMING = (CAPABILITY_OF + " { SELECT ?cl ?c WHERE { ?cl mg:claimOf ?c } }"
                 " { SELECT ?cl ?b WHERE { ?cl mg:namesAlternative ?b } }")

_NAMED = f"SELECT ?e ?b WHERE {{ {CLAIMS_NAMING} }}"
_ASPECTS = f"SELECT ?e ?b ?asp WHERE {{ {CLAIMS_NAMING} {{ SELECT ?cl ?asp WHERE {{ ?cl mg:aspect ?asp }} }} }}"
_CONCEPTS = f"""SELECT ?e (GROUP_CONCAT(STR(?k)) AS ?ks) WHERE {{
    {CAPABILITY_OF} {{ SELECT ?c ?k WHERE {{ ?c mg:concept ?k }} }}
}} GROUP BY ?e"""
_MATCHES = f"""SELECT ?ev ?e ?n WHERE {{
    GRAPH <{MATCH_GRAPH}> {{ ?ev mg:hasResultItem ?r . ?r mg:matchedEntity ?e ; mg:position ?n }}
}}"""


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
        graph = nx.MultiDiGraph(data_version=self.data_version, format=FORMAT)
        graph.add_nodes_from((slug, {"kind": kind, "name": name, "stub": bool(stub), "times_matched": int(times)})
                             for slug, kind, name, stub, times in zip(self.slugs, self.kinds, self.names,
                                                                      self.stub.tolist(), self.times_matched.tolist()))
        graph.add_edges_from((a, b, r, {"relation": r, "weight": w, "aspect": asp}) for a, b, r, w, asp in self.edges())
        return graph


@dataclass
class _Edges:
    """Edges gathered while building: parallel lists of arrays, concatenated at the end."""

    n: int
    parts: list[tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]] = field(default_factory=list)

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
        rel = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int8) for p in self.parts] or [np.empty(0, np.int8)])
        weight = np.concatenate([np.asarray(p[3], dtype=np.float64) for p in self.parts] or [np.empty(0)])
        aspect = np.concatenate([np.asarray(p[4], dtype=np.int16) for p in self.parts] or [np.empty(0, np.int16)])
        order = np.lexsort((rel, dst, src))
        return src[order], dst[order], rel[order], weight[order], aspect[order]


def _pairs(rows: Iterator[tuple[str | None, ...]], ids: Mapping[str, int], n: int) -> np.ndarray:
    """Codes ``a * n + b`` of the rows whose first two values are two different entities."""
    codes = array("q")
    for row in rows:
        a, b = ids.get(row[0] or ""), ids.get(row[1] or "")
        if a is not None and b is not None and a != b:
            codes.append(a * n + b)
    return np.frombuffer(codes, dtype=np.int64) if codes else np.empty(0, dtype=np.int64)


# ---------------------------------------------------------------------------------- building
def _nodes(catalog: Catalog) -> tuple[list[str], dict[str, int], list[str], list[str | None], np.ndarray]:
    """Slugs (sorted), entity IRI -> node index, names, kinds and stub flags."""
    iris = sorted({iri for (iri,) in select_values(catalog, _ENTITIES) if iri}, key=slug_of)
    slugs = [slug_of(iri) for iri in iris]
    ids = {iri: i for i, iri in enumerate(iris)}
    names: list[str | None] = [None] * len(iris)
    for iri, name in select_values(catalog, _NAMES):
        i = ids.get(iri or "")
        if i is not None and name and (names[i] is None or name < names[i]):  # type: ignore[operator]
            names[i] = name
    order = list(KINDS)
    kinds: list[str | None] = [None] * len(iris)
    for iri, cls in select_values(catalog, _KINDS):
        i, kind = ids.get(iri or ""), _KIND_OF.get(cls or "")
        if i is not None and kind and (kinds[i] is None or order.index(kind) < order.index(kinds[i])):  # type: ignore[arg-type]
            kinds[i] = kind
    stub = np.zeros(len(iris), dtype=bool)
    for (iri,) in select_values(catalog, _STUBS):
        i = ids.get(iri or "")
        if i is not None and kinds[i] is None:
            stub[i] = True
    return slugs, ids, [name or slug for name, slug in zip(names, slugs)], kinds, stub


def _stated(catalog: Catalog, ids: Mapping[str, int], edges: _Edges) -> np.ndarray:
    """Stated relations (weight 1 each); returns the codes of explicit mg:alternativeTo pairs."""
    from .vocab import MG

    n = edges.n
    props = " ".join(f"<{MG[r]}>" for r in (*STATED_RELATIONS, "alternativeTo"))
    by_relation: dict[str, set[int]] = defaultdict(set)
    for s, p, o in select_values(catalog, _STATED.format(props=props)):
        a, b = ids.get(s or ""), ids.get(o or "")
        if a is not None and b is not None and a != b:
            by_relation[(p or "").rsplit("#", 1)[-1]].add(a * n + b)
    for relation in STATED_RELATIONS:
        codes = np.array(sorted(by_relation.get(relation, ())), dtype=np.int64)
        edges.add(codes // n, codes % n, relation, np.ones(len(codes)))
    return np.array(sorted(by_relation.get("alternativeTo", ())), dtype=np.int64)


def _alternatives(catalog: Catalog, ids: Mapping[str, int], edges: _Edges, explicit: np.ndarray) -> list[str]:
    """Alternative edges (weight = naming claims, + 1 for an explicit mg:alternativeTo); returns the aspect table."""
    n = edges.n
    named = np.concatenate([_pairs(select_values(catalog, _NAMED), ids, n), explicit])
    codes, counts = np.unique(named, return_counts=True)
    bits: dict[str, int] = {}
    aspect_codes, aspect_bits = array("q"), array("q")
    for e, b, aspect in select_values(catalog, _ASPECTS):
        i, j = ids.get(e or ""), ids.get(b or "")
        if i is not None and j is not None and i != j and aspect:
            aspect_codes.append(i * n + j)
            aspect_bits.append(bits.setdefault(aspect.rsplit("/", 1)[-1], 1 << len(bits)))
    masks = np.zeros(len(codes), dtype=np.int64)
    found = np.frombuffer(aspect_codes, dtype=np.int64) if aspect_codes else np.empty(0, dtype=np.int64)
    where = np.minimum(np.searchsorted(codes, found), max(len(codes) - 1, 0))
    hit = codes[where] == found if len(codes) else np.zeros(0, dtype=bool)
    np.bitwise_or.at(masks, where[hit], (np.frombuffer(aspect_bits, dtype=np.int64) if aspect_bits
                                         else np.empty(0, dtype=np.int64))[hit])
    table: dict[int, int] = {0: 0}
    texts = [""]
    for mask in np.unique(masks).tolist():
        if mask not in table:
            table[mask] = len(texts)
            texts.append(",".join(sorted(name for name, bit in bits.items() if mask & bit)))
    edges.add(codes // n, codes % n, "alternative", counts.astype(np.float64),
              np.array([table[m] for m in masks.tolist()], dtype=np.int16))
    return texts


def _number(text: str | None) -> float:
    try:
        return float(text or "nan")
    except ValueError:
        return math.nan


def _shared_concepts(catalog: Catalog, ids: Mapping[str, int], slugs: list[str], edges: _Edges) -> None:
    concepts_of = {slugs[ids[e]]: frozenset(sys.intern(k) for k in (ks or "").split())
                   for e, ks in select_values(catalog, _CONCEPTS) if e in ids}
    index = {slug: i for i, slug in enumerate(slugs)}
    pairs = shared_concept_pairs(concepts_of)
    a = np.array([index[x] for x, _ in pairs], dtype=np.int64)
    b = np.array([index[y] for _, y in pairs], dtype=np.int64)
    edges.add(a, b, "shared-concept", np.array(list(pairs.values())), symmetric=True)


def _matches(catalog: Catalog, ids: Mapping[str, int], edges: _Edges) -> np.ndarray:
    """Co-matched edges; returns times matched per node."""
    times = np.zeros(edges.n, dtype=np.int64)
    events: dict[str, set[int]] = defaultdict(set)
    for event, entity, position in select_values(catalog, _MATCHES):
        i = ids.get(entity or "")
        if i is not None and _number(position) <= MATCH_TOP:
            times[i] += 1
            events[event or ""].add(i)
    together: dict[tuple[int, int], int] = defaultdict(int)
    for members in events.values():
        ordered = sorted(members)
        for k, a in enumerate(ordered):
            for b in ordered[k + 1:]:
                together[(a, b)] += 1
    pairs = sorted(together)
    edges.add(np.array([a for a, _ in pairs], dtype=np.int64), np.array([b for _, b in pairs], dtype=np.int64),
              "co-matched", np.array([float(together[p]) for p in pairs]), symmetric=True)
    return times


def build_compact(catalog: Catalog) -> CompactProjection:
    """Project the catalog into arrays (see :class:`CompactProjection`).

    Nine bulk SPARQL queries (entities, names, kinds, stubs, stated relations, alternative claims
    and their aspects, capability concepts, match results) whatever the catalog size; no query per
    entity.

    Examples
    --------
    >>> build_compact(Catalog("memory:")).n
    0
    """
    counters["builds"] += 1
    version = catalog.data_version
    slugs, ids, names, kinds, stub = _nodes(catalog)
    edges = _Edges(max(len(slugs), 1))
    explicit = _stated(catalog, ids, edges)
    aspects = _alternatives(catalog, ids, edges, explicit)
    _shared_concepts(catalog, ids, slugs, edges)
    times = _matches(catalog, ids, edges)
    src, dst, relation, weight, aspect = edges.arrays()
    return CompactProjection(slugs, names, kinds, stub, times, src, dst, relation, weight, aspect, aspects, version)


def build_projection(catalog: Catalog) -> nx.MultiDiGraph:
    """Project the catalog into a weighted, typed multigraph of entities.

    Parameters
    ----------
    catalog : Catalog

    Returns
    -------
    networkx.MultiDiGraph
        Nodes are entity slugs (attributes ``kind``, ``name``, ``stub``, ``times_matched``); edges
        are keyed by relation (attributes ``relation``, ``weight``, ``aspect``). ``graph.graph``
        holds ``data_version``.

    Examples
    --------
    >>> cat = Catalog("memory:")
    >>> build_projection(cat).number_of_nodes()
    0
    """
    return build_compact(catalog).to_networkx()


# ---------------------------------------------------------------------------------- caching
def projection_path(catalog: Catalog, data_version: str | None = None) -> Path:
    """Where the projection for a data version is cached (by default the current one)."""
    version = data_version or catalog.data_version
    return catalog.cache_dir / f"projection-v{FORMAT}-{version}.pickle"


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _remove_stale(directory: Path, keep: set[str]) -> None:
    for pattern in ("projection-*.pickle", "neighbours-*.sqlite"):
        for old in directory.glob(pattern):
            if old.name not in keep:
                try:
                    old.unlink()
                except OSError:
                    pass


def load_compact(catalog: Catalog) -> CompactProjection:
    """Return the compact projection, building and caching it only when the data changed.

    The cache is keyed on :attr:`Catalog.data_version`, so reading commands and score runs never
    rebuild an unchanged projection. Building also writes the neighbour index.

    Examples
    --------
    >>> load_compact(Catalog("memory:")).data_version
    'empty'
    """
    from . import neighbours

    version = catalog.data_version
    path = projection_path(catalog, version)
    index = neighbours.index_path(catalog, version)
    compact: CompactProjection | None = None
    if path.exists():
        try:
            with path.open("rb") as fh:
                compact = pickle.load(fh)
            counters["loads"] += 1
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            compact = None
    if compact is None:
        compact = build_compact(catalog)
        _write_atomically(path, pickle.dumps(compact, protocol=pickle.HIGHEST_PROTOCOL))
        _remove_stale(path.parent, {path.name, index.name})
    if not index.exists():
        neighbours.write_index(compact, index)
    return compact


def load_projection(catalog: Catalog) -> nx.MultiDiGraph:
    """Return the projection of the catalog, building and caching it only when the data changed.

    Parameters
    ----------
    catalog : Catalog

    Returns
    -------
    networkx.MultiDiGraph
        See :func:`build_projection`. A fresh object each call: callers may modify it.

    Examples
    --------
    >>> cat = Catalog("memory:")
    >>> load_projection(cat).graph["data_version"]
    'empty'
    """
    return load_compact(catalog).to_networkx()
