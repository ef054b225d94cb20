"""Match events: every recorded search, stored in the catalog as RDF with PROV.

A match event is evidence: it says which entities answered which need, at which positions. The
projection reads them for Times Matched (how often an entity appeared in a top 10) and for
co-match edges (entities returned together). The shape, in :data:`matchgraph.vocab.MATCH_GRAPH`::

    <https://w3id.org/matchgraph/match/{uuid}> a mg:MatchEvent, prov:Activity ;
        mg:queryText "small fast masked language model" ;
        prov:startedAtTime "2025-01-01T12:00:00Z"^^xsd:dateTime ;
        mg:dataVersion "..." ;                    # the catalog data the match ran against
        mg:hasResultItem <.../result/1>, <.../result/2> .
    <.../result/1> a mg:MatchResult, prov:Entity ;
        prov:wasGeneratedBy <.../match/{uuid}> ;
        mg:matchedEntity mgid:distilroberta-base ;
        mg:position 1 ;                           # 1-based xsd:integer
        mg:matchScore 0.93 .                      # xsd:decimal

Each event is one small transaction that appends to the graph (no replace), and that transaction
also owns what the event changes downstream: the derived state of the version it writes is made
from the previous version's plus the event (:func:`matchgraph.graph.derived.stage_match`: Times
Matched, co-matched edges, PageRank, scores, no read of the store), and the score cells the event
moved are replaced in the store's score graph (:func:`matchgraph.graph.score_graph.follow_match`).
The version a match publishes therefore holds its scores, and the next read only loads.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Protocol

from rdflib import PROV, RDF, XSD, Graph, Literal, Namespace, URIRef

from ..store.catalog import Catalog
from ..vocab import BASE, CATALOG, MATCH_GRAPH, META_GRAPH, MG, entity_iri, slug_of

__all__ = ["MATCH", "MatchEvent", "RecordedMatch", "event_iri", "event_graph", "record_match", "list_events"]

#: Namespace of match event IRIs.
MATCH = Namespace(BASE + "match/")


class _Result(Protocol):
    id: str
    score: float


class _Results(Protocol):
    query: str
    results: list[Any]
    started: datetime


def event_iri(token: str | None = None) -> URIRef:
    """Return the IRI of a match event (a fresh one when ``token`` is None)."""
    return MATCH[token or str(uuid.uuid4())]


def event_graph(query: str, items: list[tuple[str, float]], *, started: datetime | None = None,
                event: URIRef | None = None) -> tuple[URIRef, Graph]:
    """Build the triples of one match event.

    Parameters
    ----------
    query : str
        The need as typed.
    items : list of (slug, score)
        The results, best first; positions are 1-based in this order.
    started : datetime, optional
        When the match ran (now, UTC, by default).
    event : URIRef, optional
        The event IRI (a fresh one by default).

    Returns
    -------
    (URIRef, rdflib.Graph)
        The event IRI and its triples.

    Examples
    --------
    >>> ev, g = event_graph("fast encoder", [("distilroberta-base", 0.9)])
    >>> len(g)
    11
    """
    ev = event or event_iri()
    when = (started or datetime.now(timezone.utc)).astimezone(timezone.utc)
    g = Graph()
    g.add((ev, RDF.type, MG.MatchEvent))
    g.add((ev, RDF.type, PROV.Activity))
    g.add((ev, MG.queryText, Literal(query)))
    g.add((ev, PROV.startedAtTime, Literal(when.isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime)))
    for position, (slug, score) in enumerate(items, start=1):
        r = URIRef(f"{ev}/result/{position}")
        g.add((ev, MG.hasResultItem, r))
        g.add((r, RDF.type, MG.MatchResult))
        g.add((r, RDF.type, PROV.Entity))
        g.add((r, PROV.wasGeneratedBy, ev))
        g.add((r, MG.matchedEntity, entity_iri(slug)))
        g.add((r, MG.position, Literal(position, datatype=XSD.integer)))
        g.add((r, MG.matchScore, Literal(Decimal(f"{score:.4f}"), datatype=XSD.decimal)))
    return ev, g


@dataclass(frozen=True)
class RecordedMatch:
    """What recording a match did.

    Attributes
    ----------
    event : URIRef
        The event IRI.
    version : str
        The catalog version (and data version) the write produced.
    read_version : str or None
        The data version the catalog had just before the write, read inside the same transaction.
    """

    event: URIRef
    version: str
    read_version: str | None


def record_match(catalog: Catalog, results: _Results) -> RecordedMatch:
    """Store a match as a match event in one small transaction (appends to the match graph).

    Parameters
    ----------
    catalog : Catalog
    results : MatchResults
        What :func:`matchgraph.matching.match.rank` returned (its ``query``, ``started`` and ``results``).

    Returns
    -------
    RecordedMatch
        The event IRI, the new catalog version and the data version read before the write.
    """
    from ..graph.derived import note_change, stage_match
    from ..graph.score_graph import follow_match

    items = [(r.id, float(r.score)) for r in results.results]
    ev, g = event_graph(results.query, items, started=results.started)
    stamp = (f"INSERT {{ GRAPH <{MATCH_GRAPH}> {{ {ev.n3()} <{MG.dataVersion}> ?v }} }} "
             f"WHERE {{ GRAPH <{META_GRAPH}> {{ <{CATALOG}> <{MG.dataVersion}> ?v }} }}")
    with catalog.transaction() as txn:
        read = _staged_data_version(txn) if txn.store is not None else catalog.data_version
        Catalog.stage(txn, {MATCH_GRAPH: g}, extra_updates=[stamp])
        staged = stage_match(catalog, txn, read, str(ev), [str(entity_iri(s)) for s, _ in items]) \
            if read is not None else None
        if staged is not None:  # the score cells the event moved, in the same version
            follow_match(txn, catalog, staged)
    version = txn.version
    if read is not None:  # the event is the whole change: the note lets other states follow it
        note_change(catalog, read, version, events=[str(ev)], apply=staged is None)
    return RecordedMatch(ev, version, str(read) if read is not None else None)


def _staged_data_version(txn: Any) -> str | None:
    """The data version of the catalog a transaction started from (read in its staged copy)."""
    rows = list(txn.query(f"SELECT ?v WHERE {{ GRAPH <{META_GRAPH}> {{ <{CATALOG}> <{MG.dataVersion}> ?v }} }}"))
    return rows[0]["v"].value if rows else None


@dataclass
class MatchEvent:
    """A recorded match, as :func:`list_events` returns it."""

    iri: str
    query: str
    started: str
    results: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"event": self.iri, "query": self.query, "started": self.started, "results": list(self.results)}


def list_events(catalog: Catalog, limit: int = 20) -> list[MatchEvent]:
    """Return the most recent match events, newest first, with their results in order.

    Parameters
    ----------
    catalog : Catalog
    limit : int, default 20
        At most this many events.

    Returns
    -------
    list of MatchEvent
        Each with ``results`` as ``{"position", "id", "score"}`` dicts.

    Examples
    --------
    >>> list_events(Catalog("memory:"))
    []
    """
    if limit <= 0:
        return []
    rows = catalog.rows(f"""SELECT ?ev ?q ?t WHERE {{ GRAPH <{MATCH_GRAPH}> {{
        ?ev a mg:MatchEvent ; mg:queryText ?q ; prov:startedAtTime ?t }} }}
        ORDER BY DESC(?t) DESC(STR(?ev)) LIMIT {int(limit)}""")
    events = {str(ev): MatchEvent(str(ev), str(q), _iso(t)) for ev, q, t in rows}
    if not events:
        return []
    values = " ".join(URIRef(e).n3() for e in events)
    items = catalog.rows(f"""SELECT ?ev ?n ?e ?s WHERE {{ VALUES ?ev {{ {values} }} GRAPH <{MATCH_GRAPH}> {{
        ?ev mg:hasResultItem ?r . ?r mg:matchedEntity ?e ; mg:position ?n . OPTIONAL {{ ?r mg:matchScore ?s }} }} }}
        ORDER BY ?ev ?n""")
    for ev, n, e, s in items:
        events[str(ev)].results.append({"position": int(n.toPython()), "id": slug_of(str(e)),
                                        "score": float(s.toPython()) if s is not None else None})
    return list(events.values())


def _iso(value: Any) -> str:
    python = value.toPython() if hasattr(value, "toPython") else value
    if isinstance(python, datetime):
        if python.tzinfo is None:
            python = python.replace(tzinfo=timezone.utc)
        return python.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value)
