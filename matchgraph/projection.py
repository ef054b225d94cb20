"""The match graph projection (kept at this path for existing imports; it lives in :mod:`matchgraph.graph`).

The projection of the current catalog version comes from the owner of derived state
(:func:`matchgraph.graph.derived.current`); see :mod:`matchgraph.graph.projection` for its shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .graph.projection import CompactProjection, concept_idf, project, shared_concept_pairs
from .graph.relations import (
    INTEGRATION_RELATIONS, LINEAGE_RELATIONS, RELATION_KINDS, STATED_RELATIONS, SYMMETRIC,
)
from .graph.rows import select_values

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from .store.catalog import Catalog

__all__ = [
    "RELATION_KINDS", "SYMMETRIC", "LINEAGE_RELATIONS", "INTEGRATION_RELATIONS", "STATED_RELATIONS",
    "CompactProjection", "build_compact", "load_compact", "build_projection", "load_projection",
    "select_values", "concept_idf", "shared_concept_pairs",
]


def build_compact(catalog: Catalog) -> CompactProjection:
    """Project the catalog afresh from a full read of the store (nothing is kept).

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> build_compact(Catalog("memory:")).n
    0
    """
    from .graph.facts import read_facts

    return project(read_facts(catalog), catalog.data_version)


def load_compact(catalog: Catalog) -> CompactProjection:
    """The projection of the current version, as kept by the owner of derived state.

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> load_compact(Catalog("memory:")).data_version
    'empty'
    """
    from .graph.derived import current

    return current(catalog).projection


def build_projection(catalog: Catalog) -> nx.MultiDiGraph:
    """:func:`build_compact` as a networkx MultiDiGraph."""
    return build_compact(catalog).to_networkx()


def load_projection(catalog: Catalog) -> nx.MultiDiGraph:
    """:func:`load_compact` as a networkx MultiDiGraph (a fresh object each call: callers may modify it).

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> load_projection(Catalog("memory:")).graph["data_version"]
    'empty'
    """
    return load_compact(catalog).to_networkx()
