"""Which part of the match graph a view draws, so that it stays readable at catalog scale.

A view shows at most ``size`` entities (:data:`DEFAULT_SIZE`, about 150):

- around a centre, the entities nearest to it, best first: the strongest connection (the summed
  weights of the relations between two entities) with rank breaking ties, never further than
  ``depth`` hops;
- without a centre, the top-ranked entities.

The edges drawn are those among the chosen entities. The selection reads the compact projection
(arrays, not a networkx graph of the whole catalog), so choosing 150 of 100,000 entities is quick.

Examples
--------
>>> view = select_view(catalog, center="the-pile")           # doctest: +SKIP
>>> view.graph.number_of_nodes() <= DEFAULT_SIZE, view.total  # doctest: +SKIP
(True, 5178)
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from ..store.catalog import Catalog
from .params import MAX_SIZE

__all__ = ["DEFAULT_SIZE", "TOP_SIZE", "WARN_SIZE", "MAX_SIZE", "View", "GraphIndex", "select_view", "choose_nodes", "cap_graph"]

#: Entities a view around a centre draws by default.
DEFAULT_SIZE = 150
#: Entities the whole-graph view (no centre) starts with.
TOP_SIZE = 150
#: Past this many entities a view warns that it may be slow to lay out.
WARN_SIZE = 2000


@dataclass
class View:
    """A chosen part of the match graph.

    Attributes
    ----------
    graph : networkx.MultiDiGraph
        The chosen entities and the relations among them, annotated with scores
        (:func:`matchgraph.export.graphfiles.annotate`).
    total : int
        Entities in the catalog.
    reachable : int or None
        Entities within ``depth`` hops of the centre (None without a centre).
    center : str or None
        The centre's slug.
    size : int
        The cap that applied.
    """

    graph: nx.MultiDiGraph
    total: int
    reachable: int | None
    center: str | None
    size: int

    @property
    def cut(self) -> bool:
        """Whether entities were left out to keep the view at ``size``."""
        shown = self.graph.number_of_nodes()
        return shown < (self.reachable if self.reachable is not None else self.total)

    def summary(self) -> str:
        """What the view shows, in words: ``"150 entities, 812 relations (the 150 nearest of 1,005 within 2 hops)"``."""
        n, m = self.graph.number_of_nodes(), self.graph.number_of_edges()
        text = f"{n:,} entit{'y' if n == 1 else 'ies'}, {m:,} relation{'' if m == 1 else 's'}"
        if self.center is not None and self.reachable is not None and self.cut:
            text += f" (the {n:,} nearest by relation weight and rank, of {self.reachable:,} within reach)"
        elif self.center is None and self.cut:
            text += f" (the {n:,} top-ranked of {self.total:,})"
        return text

    def warning(self) -> str | None:
        """A warning when the view is big enough to be slow to lay out."""
        n = self.graph.number_of_nodes()
        if n > WARN_SIZE:
            return (f"{n:,} entities: laying them out may take a while and the view will be crowded; "
                    f"a smaller size (such as {DEFAULT_SIZE}) reads better")
        return None


def _strength(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, n: int) -> Any:
    """Symmetric sparse matrix of summed relation weights between entities."""
    from scipy.sparse import coo_matrix

    w = np.abs(weight.astype(float)) + 1e-9
    m = coo_matrix((np.concatenate([w, w]), (np.concatenate([src, dst]), np.concatenate([dst, src]))),
                   shape=(n, n)).tocsr()
    m.sum_duplicates()
    return m


def choose_nodes(strength: Any, rank: np.ndarray, *, center: int | None, size: int, depth: int) -> tuple[list[int], int | None]:
    """Indices of the entities a view shows, and how many were within reach of the centre.

    Parameters
    ----------
    strength : scipy.sparse.csr_matrix
        Summed relation weights between entities (symmetric).
    rank : numpy.ndarray
        Each entity's rank (0-100).
    center : int or None
        The centre's index; None: the top-ranked entities.
    size : int
        At most this many.
    depth : int
        Hops from the centre.

    Examples
    --------
    >>> from scipy.sparse import csr_matrix
    >>> S = csr_matrix(np.array([[0, 5, 1, 0], [5, 0, 0, 2], [1, 0, 0, 0], [0, 2, 0, 0]], dtype=float))
    >>> choose_nodes(S, np.array([50., 10., 90., 70.]), center=0, size=3, depth=2)
    ([0, 1, 3], 4)
    >>> choose_nodes(S, np.array([50., 10., 90., 70.]), center=None, size=2, depth=2)
    ([2, 3], None)
    """
    n = len(rank)
    if center is None:
        order = np.lexsort((np.arange(n), -rank))
        return sorted(int(i) for i in order[:size]), None
    hops = {center: 0}
    frontier = [center]
    for hop in range(1, depth + 1):  # everything within reach, for the count
        nxt = []
        for i in frontier:
            for j in strength.indices[strength.indptr[i]:strength.indptr[i + 1]].tolist():
                if j not in hops:
                    hops[j] = hop
                    nxt.append(j)
        frontier = nxt
    chosen = [center]
    seen = {center}
    heap: list[tuple[float, float, int]] = []

    def push(i: int) -> None:
        if hops[i] >= depth:
            return
        start, end = strength.indptr[i], strength.indptr[i + 1]
        for j, w in zip(strength.indices[start:end].tolist(), strength.data[start:end].tolist()):
            if j not in seen and j in hops:
                heapq.heappush(heap, (-w, -float(rank[j]), j))

    push(center)
    while heap and len(chosen) < size:
        _, _, j = heapq.heappop(heap)
        if j in seen:
            continue
        seen.add(j)
        chosen.append(j)
        push(j)
    return sorted(chosen), len(hops)


class GraphIndex:
    """What choosing views needs, read once: the compact projection, scores, ranks, strengths.

    Keep one per catalog version to draw many views (a static site draws one per entity).
    """

    def __init__(self, catalog: Catalog, scores: Mapping[str, Any] | None = None) -> None:
        from ..graph.derived import load_compact
        from ..graph.scores import load_scores

        self.catalog = catalog
        self.compact = load_compact(catalog)
        self.scores = load_scores(catalog, factors=False) if scores is None else scores
        self.position = {slug: i for i, slug in enumerate(self.compact.slugs)}
        self.rank = np.array([self.scores[s].rank if s in self.scores else 0.0 for s in self.compact.slugs], dtype=float)
        self._strength: Any = None

    def strength(self, mask: np.ndarray | None) -> Any:
        """Summed relation weights between entities (over the edges in ``mask``, all when None)."""
        c = self.compact
        if mask is not None:
            return _strength(c.src[mask], c.dst[mask], c.weight[mask], c.n)
        if self._strength is None:
            self._strength = _strength(c.src, c.dst, c.weight, c.n)
        return self._strength


def select_view(catalog: Catalog, *, center: str | None = None, depth: int = 2, size: int | None = None,
                relations: Iterable[str] | None = None, index: GraphIndex | None = None) -> View:
    """The part of the match graph a view draws (see the module docstring).

    Parameters
    ----------
    catalog : Catalog
    center : str, optional
        An entity (slug, name, alias or IRI).
    depth : int
        Hops from the centre.
    size : int, optional
        At most this many entities (:data:`DEFAULT_SIZE` around a centre, :data:`TOP_SIZE`
        without); capped at :data:`MAX_SIZE`.
    relations : iterable of str, optional
        Follow and draw only these relation kinds.
    index : GraphIndex, optional
        Read once and reused across views (built when not given).

    Raises
    ------
    EntityNotFound
        No entity answers to ``center``.
    ConfigError
        An unknown relation.
    """
    from ..export.graphfiles import annotate
    from ..graph.relations import RELATION_KINDS

    index = index or GraphIndex(catalog)
    compact = index.compact
    size = max(1, min(MAX_SIZE, size if size is not None else (DEFAULT_SIZE if center else TOP_SIZE)))
    n = compact.n
    mask = None
    if relations:
        wanted = {r.lower() for r in relations}
        unknown = sorted(wanted - {r.lower() for r in RELATION_KINDS})
        if unknown:
            from ..errors import ConfigError

            raise ConfigError(f"unknown relation {', '.join(unknown)}", hint="use one of: " + ", ".join(RELATION_KINDS))
        mask = np.isin(compact.relation, [i for i, r in enumerate(RELATION_KINDS) if r.lower() in wanted])
    slug = None
    position = None
    if center:
        if center in index.position:
            slug = center
        else:
            from ..graph.resolve import resolve_entity

            slug = resolve_entity(catalog, center).slug
        position = index.position.get(slug)
    if slug is not None and position is None:  # an entity the projection does not hold
        G = nx.MultiDiGraph()
        G.add_node(slug, name=slug)
        return View(annotate(G, index.scores), n, 1, slug, size)
    chosen, reachable = choose_nodes(index.strength(mask), index.rank, center=position, size=size, depth=depth)
    keep = np.zeros(n, dtype=bool)
    keep[chosen] = True
    src, dst = compact.src, compact.dst
    inside = keep[src] & keep[dst] & (mask if mask is not None else True)
    G = nx.MultiDiGraph()
    G.add_nodes_from((compact.slugs[i], {"kind": compact.kinds[i], "name": compact.names[i],
                                         "stub": bool(compact.stub[i])}) for i in chosen)
    for a, b, r, w, asp in zip(src[inside].tolist(), dst[inside].tolist(), compact.relation[inside].tolist(),
                               compact.weight[inside].tolist(), compact.aspect[inside].tolist()):
        kind = RELATION_KINDS[r]
        G.add_edge(compact.slugs[a], compact.slugs[b], kind, relation=kind, weight=w, aspect=compact.aspects[asp])
    return View(annotate(G, {s: index.scores[s] for s in G if s in index.scores}), n, reachable, slug, size)


def cap_graph(G: nx.MultiDiGraph, size: int | None) -> nx.MultiDiGraph:
    """``G`` cut to its ``size`` (default :data:`DEFAULT_SIZE`) best entities: rank, then degree.

    For views whose entities a query chose rather than a centre.

    Examples
    --------
    >>> G = nx.MultiDiGraph([("a", "b"), ("b", "c")]); G.nodes["c"]["rank"] = 90.0
    >>> sorted(cap_graph(G, 2))
    ['b', 'c']
    """
    size = max(1, min(MAX_SIZE, size or DEFAULT_SIZE))
    if G.number_of_nodes() <= size:
        return G
    best = sorted(G.nodes, key=lambda v: (-(G.nodes[v].get("rank") or 0.0), -G.degree(v), str(v)))[:size]
    return nx.MultiDiGraph(G.subgraph(best))
