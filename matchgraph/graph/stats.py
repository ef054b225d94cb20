"""What the catalog holds: entities by kind, stubs, capabilities, claims, triples."""

from __future__ import annotations

from typing import Any

from ..store.catalog import Catalog
from ..vocab import KIND_OF_CLASS, META_GRAPH

__all__ = ["catalog_stats"]


def catalog_stats(catalog: Catalog) -> dict[str, Any]:
    """Count what the catalog holds.

    Returns
    -------
    dict
        ``entities``, ``stubs``, ``by_kind``, ``capabilities``, ``claims`` (with ``unique`` and
        ``alternative``), ``observations``, ``sources``, ``triples`` (the catalog's statements,
        :meth:`~matchgraph.store.catalog.Catalog.triple_count`), ``bookkeeping_triples`` (its
        version and where each source was read from, in a graph of their own: ``triples`` plus these
        is what ``SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }`` counts) and ``version``.
    """
    counts = catalog.rows("""SELECT
        (COUNT(DISTINCT ?e) AS ?entities) WHERE { ?e a mg:Entity }""")
    entities = int(counts[0][0]) if counts else 0
    stubs = int(catalog.scalar("SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a mg:Entity ; mg:isStub true }") or 0)
    by_kind: dict[str, int] = {}
    for cls, n in catalog.rows("""SELECT ?cls (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a mg:Entity , ?cls .
            FILTER(?cls != mg:Entity) } GROUP BY ?cls"""):
        kind = KIND_OF_CLASS.get(cls)
        if kind:
            by_kind[kind] = int(n)
    caps = int(catalog.scalar("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a mg:Capability }") or 0)
    unique = int(catalog.scalar("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a mg:UniqueClaim }") or 0)
    alt = int(catalog.scalar("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a mg:AlternativeClaim }") or 0)
    obs = int(catalog.scalar("SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?o a mg:SourceObservation }") or 0)
    return {
        "entities": entities,
        "stubs": stubs,
        "by_kind": dict(sorted(by_kind.items())),
        "capabilities": caps,
        "claims": unique + alt,
        "unique_claims": unique,
        "alternative_claims": alt,
        "observations": obs,
        "sources": len(catalog.sources()),
        "triples": catalog.triple_count(),
        "bookkeeping_triples": int(catalog.scalar(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}")
                                   or 0),
        "version": catalog.version,
    }
