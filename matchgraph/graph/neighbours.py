"""The neighbours of an entity in the match graph, read from the neighbour index of the current version.

A lookup asks the owner of derived state (:func:`matchgraph.graph.derived.current`) for the
version's memory-mapped index and reads only the rows of the nodes it visits, so its cost
depends on the entity's degree, not on the catalog size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import QueryError
from .resolve import EntityRef, resolve_entity
from .derived import State, current
from .neighbours_index import DIRECTIONS
from .relations import RELATION_KINDS
from .weights import catalog_weights

if TYPE_CHECKING:  # pragma: no cover
    from ..store.catalog import Catalog

__all__ = ["Neighbour", "neighbours", "entity_rank", "RELATIONS"]

#: The relation kinds a lookup may follow.
RELATIONS: tuple[str, ...] = RELATION_KINDS


@dataclass
class Neighbour:
    """An entity next to another in the match graph.

    Attributes
    ----------
    slug, name, kind : str, str, str or None
        The neighbour.
    relations : list of str
        The relations linking it (sorted).
    direction : str
        ``out`` when the entity's directed edges only point to it, ``in`` when its directed edges
        only point to the entity, else ``both`` (edges both ways, or only symmetric relations
        such as shared-concept).
    weight : float
        Sum of the weights of those edges.
    rank : float or None
        Its rank (0-100).
    depth : int
        Hops from the entity.
    """

    slug: str
    name: str
    kind: str | None
    relations: list[str]
    direction: str
    weight: float
    rank: float | None
    depth: int = 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (rank rounded as displayed)."""
        return {"id": self.slug, "name": self.name, "kind": self.kind, "relations": list(self.relations),
                "direction": self.direction, "weight": round(self.weight, 4),
                "rank": None if self.rank is None else round(self.rank), "depth": self.depth}


def _check_relations(relations: Iterable[str] | None) -> list[str] | None:
    if relations is None:
        return None
    by_lower = {r.lower(): r for r in RELATIONS}
    chosen = []
    for relation in relations:
        if relation.lower() not in by_lower:
            raise QueryError(f"unknown relation {relation!r}", hint="use one of: " + ", ".join(RELATIONS))
        chosen.append(by_lower[relation.lower()])
    return sorted(set(chosen))


def _direction(bits: int) -> str:
    """``out``, ``in`` or ``both`` from the directions seen; symmetric edges alone count as both."""
    directed = [d for k, d in enumerate(DIRECTIONS[:2]) if bits & (1 << k)]
    return directed[0] if len(directed) == 1 else "both"


def _layer(state: State, ranks: np.ndarray, frontier: list[int], seen: np.ndarray, relations: list[str] | None,
           depth: int, limit: int) -> list[Neighbour]:
    """The ``limit`` strongest partners of the frontier that were not seen yet."""
    p = state.projection
    other, relation, direction, weight = state.neighbour_index.entries(frontier)
    keep = ~np.isin(other, seen)
    if relations is not None:
        keep &= np.isin(relation, [RELATION_KINDS.index(r) for r in relations])
    other, relation, direction, weight = other[keep], relation[keep], direction[keep], weight[keep]
    if not len(other):
        return []
    nodes, inverse = np.unique(other, return_inverse=True)
    total = np.bincount(inverse, weights=weight, minlength=len(nodes))
    rel_bits = np.zeros(len(nodes), dtype=np.int64)
    dir_bits = np.zeros(len(nodes), dtype=np.int64)
    np.bitwise_or.at(rel_bits, inverse, np.left_shift(1, relation.astype(np.int64)))
    np.bitwise_or.at(dir_bits, inverse, np.left_shift(1, direction.astype(np.int64)))
    rank = ranks[nodes] if len(ranks) else np.zeros(len(nodes))
    order = np.lexsort((nodes, -rank, -np.round(total, 9)))[:limit]
    return [Neighbour(p.slugs[j], p.names[j], p.kinds[j],
                      sorted(RELATION_KINDS[r] for r in range(len(RELATION_KINDS)) if bits & (1 << r)),
                      _direction(d), w, r, depth)
            for j, bits, d, w, r in zip(nodes[order].tolist(), rel_bits[order].tolist(), dir_bits[order].tolist(),
                                        total[order].tolist(), rank[order].tolist())]


def neighbours(catalog: Catalog, entity: str | EntityRef, *, relations: Iterable[str] | None = None,
               depth: int = 1, limit: int = 20) -> list[Neighbour]:
    """The entities next to ``entity`` in the match graph, strongest first.

    Parameters
    ----------
    catalog : Catalog
    entity : str or EntityRef
        An id, name, alias (any case) or IRI; see :func:`matchgraph.graph.resolve.resolve_entity`.
    relations : iterable of str, optional
        Keep only edges of these relations (see :data:`RELATIONS`; any case).
    depth : int
        Hops to follow. Each further hop expands the ``limit`` strongest neighbours of the
        previous one.
    limit : int
        Neighbours returned.

    Returns
    -------
    list of Neighbour
        By depth, then weight (descending), then rank (descending), then id.

    Raises
    ------
    EntityNotFound
        The entity is unknown or ambiguous (with candidates).
    QueryError
        An unknown relation.

    Examples
    --------
    >>> [n.slug for n in neighbours(catalog, "the-pile", relations=["derivedFrom"])][:1]  # doctest: +SKIP
    ['common-crawl']
    """
    wanted = _check_relations(relations)
    ref = entity if isinstance(entity, EntityRef) else resolve_entity(catalog, entity)
    state = current(catalog)
    start = state.projection.index_of().get(ref.slug)
    if start is None:
        return []
    ranks = state.scores(catalog_weights(catalog)).values[:, 0] if state.projection.n else np.zeros(0)
    found: list[Neighbour] = []
    seen = [start]
    frontier = [start]
    index = state.projection.index_of()
    for hop in range(1, max(depth, 1) + 1):
        layer = _layer(state, ranks, frontier, np.array(seen, dtype=np.int64), wanted, hop, limit)
        found.extend(layer)
        if len(found) >= limit:  # a full first hop leaves no room for further ones
            break
        frontier = [index[n.slug] for n in layer]
        seen.extend(frontier)
        if not frontier:
            break
    return found[:limit]


def entity_rank(catalog: Catalog, slug: str) -> float | None:
    """The rank of one entity in the current version, with the catalog's weights (None when unknown)."""
    table = current(catalog).scores(catalog_weights(catalog))
    row = table.row(slug)
    return None if row is None else float(table.values[row, 0])
