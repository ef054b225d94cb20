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

    def with_matches(self, p: CompactProjection) -> NeighbourIndex:
        """The index of ``p``, a projection that differs from this index's in co-matched edges only:
        this one's other entries are kept and the co-matched ones of ``p`` merged in (no sort of
        every entry); equal to :meth:`build` of ``p``."""
        n = len(self.indptr) - 1
        co = RELATION_KINDS.index("co-matched")
        relation = np.asarray(self.relation)
        keep = relation != co
        node = np.repeat(np.arange(n, dtype=np.int64), np.diff(np.asarray(self.indptr)))[keep]
        other, relation = np.asarray(self.other)[keep], relation[keep]
        direction, weight = np.asarray(self.direction)[keep], np.asarray(self.weight)[keep]
        mask = p.relation == co
        new = (p.src[mask].astype(np.int64), p.dst[mask].astype(np.int32), p.relation[mask].astype(np.int8),
               np.full(int(mask.sum()), 2, dtype=np.int8), p.weight[mask])

        def key(a: np.ndarray, b: np.ndarray, r: np.ndarray, d: np.ndarray) -> np.ndarray:
            return ((a.astype(np.int64) * max(n, 1) + b) * len(RELATION_KINDS) + r) * len(DIRECTIONS) + d

        order = np.lexsort((new[3], new[2], new[1], new[0]))
        new = tuple(a[order] for a in new)
        where = np.searchsorted(key(node, other, relation, direction), key(*new[:4]))
        node, other, relation, direction, weight = (np.insert(a, where, b) for a, b in
                                                    zip((node, other, relation, direction, weight), new))
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(node, minlength=n), out=indptr[1:])
        return NeighbourIndex(indptr, other, relation, direction, weight)

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
