"""The neighbour index: the projection's adjacency as CSR arrays, clustered by node, memory-mapped.

Each node has its entries ``(other, relation, direction, weight)``: a directed edge A -> B is
``out`` at A and ``in`` at B, a symmetric one ``both`` at each end. A lookup reads only the rows
of the nodes it visits, so its cost depends on their degree, not on the catalog size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .projection import CompactProjection
from .relations import RELATION_KINDS, SYMMETRIC

__all__ = ["NeighbourIndex", "DIRECTIONS"]

#: Direction codes of the index.
DIRECTIONS: tuple[str, ...] = ("out", "in", "both")
_FILES = ("indptr", "other", "relation", "direction", "weight")


class NeighbourIndex:
    """CSR adjacency of a projection (see the module docstring)."""

    def __init__(self, indptr: np.ndarray, other: np.ndarray, relation: np.ndarray, direction: np.ndarray,
                 weight: np.ndarray) -> None:
        self.indptr, self.other, self.relation, self.direction, self.weight = indptr, other, relation, direction, weight

    @classmethod
    def build(cls, p: CompactProjection) -> NeighbourIndex:
        """The index of a projection."""
        symmetric = np.isin(p.relation, [RELATION_KINDS.index(r) for r in SYMMETRIC])
        directed = ~symmetric
        node = np.concatenate([p.src[symmetric], p.src[directed], p.dst[directed]]).astype(np.int64)
        other = np.concatenate([p.dst[symmetric], p.dst[directed], p.src[directed]]).astype(np.int32)
        relation = np.concatenate([p.relation[symmetric], p.relation[directed], p.relation[directed]]).astype(np.int8)
        direction = np.concatenate([np.full(int(symmetric.sum()), 2), np.zeros(int(directed.sum())),
                                    np.ones(int(directed.sum()))]).astype(np.int8)
        weight = np.concatenate([p.weight[symmetric], p.weight[directed], p.weight[directed]])
        order = np.lexsort((direction, relation, other, node))
        indptr = np.zeros(p.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(node, minlength=p.n), out=indptr[1:])
        return cls(indptr, other[order], relation[order], direction[order], weight[order])

    def save(self, directory: Path) -> None:
        """Write one ``.npy`` per array (``neighbours-*.npy``), so readers can memory-map them."""
        for name in _FILES:
            np.save(directory / f"neighbours-{name}.npy", getattr(self, name))

    @classmethod
    def load(cls, directory: Path) -> NeighbourIndex:
        """Memory-map what :meth:`save` wrote."""
        return cls(*(np.load(directory / f"neighbours-{name}.npy", mmap_mode="r") for name in _FILES))

    def entries(self, nodes: list[int]) -> tuple[np.ndarray, ...]:
        """(other, relation, direction, weight) of every entry of these nodes."""
        if not nodes:
            return (np.empty(0, np.int32), np.empty(0, np.int8), np.empty(0, np.int8), np.empty(0))
        parts = [(int(self.indptr[i]), int(self.indptr[i + 1])) for i in nodes]
        return tuple(np.concatenate([np.asarray(arr[a:b]) for a, b in parts])
                     for arr in (self.other, self.relation, self.direction, self.weight))
