"""Neighbour lookups (kept at this path for existing imports; they live in :mod:`matchgraph.graph.neighbours`)."""

from __future__ import annotations

from .graph.neighbours import RELATIONS, Neighbour, entity_rank, neighbours

__all__ = ["Neighbour", "neighbours", "entity_rank", "RELATIONS"]
