"""The match graph: a networkx projection of the catalog, cached on disk per data version.

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
The graph is built with a few bulk SPARQL queries and pickled under ``catalog.cache_dir`` keyed
on ``catalog.data_version``: writing scores does not invalidate it, any new evidence does. Next to
the pickle a SQLite neighbour index (:mod:`matchgraph.neighbours`) is written, so single-entity
lookups never load the whole graph.
"""

from __future__ import annotations

import math
import os
import pickle
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path

import networkx as nx
import numpy as np

from .catalog import Catalog
from .vocab import KINDS, MATCH_GRAPH, slug_of, sparql_prefixes

__all__ = [
    "RELATION_KINDS", "SYMMETRIC", "LINEAGE_RELATIONS", "INTEGRATION_RELATIONS", "STATED_RELATIONS",
    "build_projection", "load_projection", "projection_path", "select_values", "concept_idf",
    "shared_concept_pairs", "counters",
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
FORMAT = 1

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
    inner = getattr(catalog.backend, "inner", None)
    if inner is not None and hasattr(inner, "query"):
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


def _candidate_pairs(holders: list[np.ndarray], window: int) -> np.ndarray:
    """Unique (i, j), i < j, pairing each holder of a concept with the next ``window`` holders."""
    chunks = []
    for members in holders:
        for d in range(1, min(window, len(members) - 1) + 1):
            a, b = members[:-d], members[d:]
            chunks.append(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1))
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(chunks), axis=0)


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
    slugs = sorted(s for s, cs in concepts_of.items() if cs)
    concepts = sorted(idf, key=lambda c: (-idf[c], c))
    column = {c: i for i, c in enumerate(concepts)}
    signature = {s: tuple(sorted(column[c] for c in concepts_of[s])) for s in slugs}
    order = sorted(range(len(slugs)), key=lambda i: (signature[slugs[i]], slugs[i]))
    position = np.empty(len(slugs), dtype=np.int64)
    position[order] = np.arange(len(slugs))
    holders_of: list[list[int]] = [[] for _ in concepts]
    rows, cols = [], []
    for i, s in enumerate(slugs):
        for c in signature[s]:
            holders_of[c].append(i)
            rows.append(i)
            cols.append(c)
    holders = [np.array(sorted(h, key=lambda i: position[i]), dtype=np.int64) for h in holders_of]
    pairs = _candidate_pairs(holders, window)
    matrix = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(slugs), len(concepts)))
    weights = np.concatenate([np.asarray(
        matrix[pairs[i:i + 500_000, 0]].multiply(matrix[pairs[i:i + 500_000, 1]])
        @ np.array([idf[c] for c in concepts])).ravel() for i in range(0, len(pairs), 500_000)] or [np.empty(0)])
    keep = weights > 1e-12
    pairs, weights = pairs[keep], weights[keep]
    kept = _top_partners(pairs, weights, partners, slugs)
    return {(slugs[a], slugs[b]): float(w) for a, b, w in
            sorted(zip(pairs[kept, 0].tolist(), pairs[kept, 1].tolist(), weights[kept].tolist()),
                   key=lambda t: (slugs[t[0]], slugs[t[1]]))}


def _top_partners(pairs: np.ndarray, weights: np.ndarray, partners: int, slugs: list[str]) -> np.ndarray:
    """Indices of the pairs that are among the ``partners`` heaviest of either of their ends."""
    if not len(pairs):
        return np.zeros(0, dtype=bool)
    # slugs are sorted, so comparing indices compares ids
    ends = np.concatenate([pairs[:, 0], pairs[:, 1]])
    others = np.concatenate([pairs[:, 1], pairs[:, 0]])
    index = np.concatenate([np.arange(len(pairs)), np.arange(len(pairs))])
    w = np.concatenate([weights, weights])
    order = np.lexsort((others, -np.round(w, 12), ends))
    ends_sorted = ends[order]
    starts = np.searchsorted(ends_sorted, ends_sorted, side="left")
    rank_within = np.arange(len(order)) - starts
    keep = np.zeros(len(pairs), dtype=bool)
    keep[index[order[rank_within < partners]]] = True
    return keep


# ---------------------------------------------------------------------------------- building
def _add_symmetric(graph: nx.MultiDiGraph, a: str, b: str, relation: str, weight: float) -> None:
    graph.add_edge(a, b, key=relation, relation=relation, weight=weight, aspect="")
    graph.add_edge(b, a, key=relation, relation=relation, weight=weight, aspect="")


def _add_nodes(catalog: Catalog, graph: nx.MultiDiGraph) -> dict[str, str]:
    """Add every entity; return entity IRI -> slug (the node's own string, shared by its edges)."""
    ids = {iri: slug_of(iri) for (iri,) in select_values(catalog, _ENTITIES) if iri}
    names: dict[str, str] = {}
    for iri, name in select_values(catalog, _NAMES):
        if iri in ids and name and (iri not in names or name < names[iri]):
            names[iri] = name
    order = list(KINDS)
    kinds: dict[str, str] = {}
    for iri, cls in select_values(catalog, _KINDS):
        kind = _KIND_OF.get(cls or "")
        if iri in ids and kind and (iri not in kinds or order.index(kind) < order.index(kinds[iri])):
            kinds[iri] = kind
    stubs = {iri for (iri,) in select_values(catalog, _STUBS)}
    for iri, slug in sorted(ids.items(), key=lambda item: item[1]):
        kind = kinds.get(iri)
        graph.add_node(slug, kind=kind, name=names.get(iri, slug), stub=iri in stubs and kind is None,
                       times_matched=0)
    return ids


def _add_stated(catalog: Catalog, graph: nx.MultiDiGraph, ids: Mapping[str, str]) -> None:
    """Stated relations, one edge of weight 1 each (an explicit mg:alternativeTo is an alternative)."""
    from .vocab import MG

    props = " ".join(f"<{MG[r]}>" for r in (*STATED_RELATIONS, "alternativeTo"))
    stated = set()
    for s, p, o in select_values(catalog, _STATED.format(props=props)):
        a, b = ids.get(s or ""), ids.get(o or "")
        if a is not None and b is not None and a != b:
            relation = (p or "").rsplit("#", 1)[-1]
            stated.add((a, b, "alternative" if relation == "alternativeTo" else relation))
    for a, b, relation in sorted(stated):
        graph.add_edge(a, b, key=relation, relation=relation, weight=1.0, aspect="")


def _add_alternatives(catalog: Catalog, graph: nx.MultiDiGraph, ids: Mapping[str, str]) -> None:
    """One edge per (claimant, named entity): weight = claims naming it, aspect = their aspects."""
    for e, b in select_values(catalog, _NAMED):
        a, b = ids.get(e or ""), ids.get(b or "")
        if a is None or b is None or a == b:
            continue
        data = graph.get_edge_data(a, b, key="alternative")
        if data is None:
            graph.add_edge(a, b, key="alternative", relation="alternative", weight=1.0, aspect="")
        else:
            data["weight"] += 1.0
    bits: dict[str, int] = {}  # aspects gather as bit masks on the edges, then become text
    for e, b, aspect in select_values(catalog, _ASPECTS):
        data = graph.get_edge_data(ids.get(e or ""), ids.get(b or ""), key="alternative")
        if data is not None and aspect:
            bit = bits.setdefault(aspect.rsplit("/", 1)[-1], 1 << len(bits))
            data["aspect"] = (data["aspect"] or 0) | bit
    text: dict[int, str] = {}
    for _, _, key, data in graph.edges(keys=True, data=True):
        mask = data["aspect"]
        if key == "alternative" and isinstance(mask, int):
            if mask not in text:
                text[mask] = ",".join(sorted(name for name, bit in bits.items() if mask & bit))
            data["aspect"] = text[mask]


def _number(text: str | None) -> float:
    try:
        return float(text or "nan")
    except ValueError:
        return math.nan


def _add_shared_concepts(catalog: Catalog, graph: nx.MultiDiGraph, ids: Mapping[str, str]) -> None:
    concepts_of = {ids[e]: frozenset((ks or "").split()) for e, ks in select_values(catalog, _CONCEPTS)
                   if e in ids}
    for (a, b), weight in shared_concept_pairs(concepts_of).items():
        _add_symmetric(graph, a, b, "shared-concept", weight)


def _add_matches(catalog: Catalog, graph: nx.MultiDiGraph, ids: Mapping[str, str]) -> None:
    events: dict[str, set[str]] = defaultdict(set)
    for event, entity, position in select_values(catalog, _MATCHES):
        slug = ids.get(entity or "")
        if slug is not None and _number(position) <= MATCH_TOP:
            graph.nodes[slug]["times_matched"] += 1
            events[event or ""].add(slug)
    together: dict[tuple[str, str], int] = defaultdict(int)
    for members in events.values():
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1:]:
                together[(a, b)] += 1
    for (a, b), n in sorted(together.items()):
        _add_symmetric(graph, a, b, "co-matched", float(n))


def build_projection(catalog: Catalog) -> nx.MultiDiGraph:
    """Project the catalog into a weighted, typed multigraph of entities.

    Nine bulk SPARQL queries (entities, names, kinds, stubs, stated relations, alternative claims
    and their aspects, capability concepts, match results) whatever the catalog size; no query per
    entity.

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
    counters["builds"] += 1
    graph = nx.MultiDiGraph(data_version=catalog.data_version, format=FORMAT)
    ids = _add_nodes(catalog, graph)
    _add_stated(catalog, graph, ids)
    _add_alternatives(catalog, graph, ids)
    _add_shared_concepts(catalog, graph, ids)
    _add_matches(catalog, graph, ids)
    return graph


# ---------------------------------------------------------------------------------- caching
def projection_path(catalog: Catalog, data_version: str | None = None) -> Path:
    """Where the projection for a data version is cached (by default the current one)."""
    version = data_version or catalog.data_version
    return catalog.cache_dir / f"projection-v{FORMAT}-{version}.pickle"


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
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


def load_projection(catalog: Catalog) -> nx.MultiDiGraph:
    """Return the projection of the catalog, building and caching it only when the data changed.

    The cache is keyed on :attr:`Catalog.data_version`, so reading commands and score runs never
    rebuild an unchanged projection. Building also writes the neighbour index.

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
    from . import neighbours

    version = catalog.data_version
    path = projection_path(catalog, version)
    index = neighbours.index_path(catalog, version)
    graph: nx.MultiDiGraph | None = None
    if path.exists():
        try:
            with path.open("rb") as fh:
                graph = pickle.load(fh)
            counters["loads"] += 1
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            graph = None
    if graph is None:
        graph = build_projection(catalog)
        _write_atomically(path, pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL))
        _remove_stale(path.parent, {path.name, index.name})
    if not index.exists():
        neighbours.write_index(graph, index)
    return graph

