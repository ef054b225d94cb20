"""Tests of match events: the RDF shape the projection reads, appending, listing, and the index carry-over."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from matchgraph import Catalog, ingest
from matchgraph.matching.events import MATCH, event_graph, list_events, record_match
from matchgraph.matching.match import match
from matchgraph.vocab import MATCH_GRAPH, entity_iri

from test_textindex import CARDS, write_cards

NEED = "small fast masked language model for CPU inference"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: The shape the projection engineer reads, exactly as agreed.
SHAPE = f"""SELECT ?ev ?q ?t ?r ?e ?n ?s WHERE {{ GRAPH <{MATCH_GRAPH}> {{
    ?ev a mg:MatchEvent ; mg:queryText ?q ; prov:startedAtTime ?t ; mg:hasResultItem ?r .
    ?r a mg:MatchResult ; mg:matchedEntity ?e ; mg:position ?n ; mg:matchScore ?s }} }} ORDER BY ?ev ?n"""


def times_matched(catalog: Catalog, slug: str, top: int = 10) -> int:
    """MatchResults naming the entity at position <= top (the definition of Times Matched)."""
    return int(catalog.scalar(f"""SELECT (COUNT(?r) AS ?n) WHERE {{ GRAPH <{MATCH_GRAPH}> {{
        ?ev a mg:MatchEvent ; mg:hasResultItem ?r .
        ?r mg:matchedEntity {entity_iri(slug).n3()} ; mg:position ?p FILTER(?p <= {top}) }} }}""") or 0)


@pytest.fixture
def toy(tmp_path: Path) -> Catalog:
    cat = Catalog(tmp_path / "cat")
    ingest(cat, [write_cards(tmp_path / "cards", CARDS)])
    yield cat
    cat.close()


def test_event_graph_shape() -> None:
    when = datetime(2025, 5, 1, 12, 30, 15, tzinfo=timezone.utc)
    ev, g = event_graph("fast encoder", [("alpha-encoder", 0.91234), ("gamma-encoder", 0.5)], started=when)
    assert str(ev).startswith(str(MATCH)) and len(str(ev)) == len(str(MATCH)) + 36
    from rdflib import PROV, RDF

    from matchgraph.vocab import MG
    assert (ev, RDF.type, MG.MatchEvent) in g
    assert (ev, MG.queryText, Literal("fast encoder")) in g
    assert (ev, PROV.startedAtTime, Literal("2025-05-01T12:30:15Z", datatype=URIRef(XSD + "dateTime"))) in g
    first = URIRef(f"{ev}/result/1")
    assert (first, MG.position, Literal(1, datatype=URIRef(XSD + "integer"))) in g
    assert (first, MG.matchedEntity, entity_iri("alpha-encoder")) in g
    score = g.value(first, MG.matchScore)
    assert str(score.datatype) == XSD + "decimal" and float(score) == pytest.approx(0.9123)
    assert g.value(URIRef(f"{ev}/result/2"), MG.position).toPython() == 2
    assert len(set(g.objects(ev, MG.hasResultItem))) == 2


def test_recorded_match_has_the_agreed_shape(toy: Catalog) -> None:
    results = match(toy, "masked encoder", limit=2)
    rows = toy.rows(SHAPE)
    assert len(rows) == 2
    ev, q, t, _, e, n, s = rows[0]
    assert str(ev) == results.event and str(q) == "masked encoder"
    assert str(t.datatype) == XSD + "dateTime" and str(n.datatype) == XSD + "integer" and n.toPython() == 1
    assert str(e) == str(entity_iri(results.ids[0]))
    assert float(s) == pytest.approx(results.results[0].score, abs=1e-4)
    assert [r[5].toPython() for r in rows] == [1, 2]
    # the catalog data the match ran against is kept with the event
    assert toy.ask(f"ASK {{ GRAPH <{MATCH_GRAPH}> {{ <{ev}> mg:dataVersion ?v }} }}")


def test_events_append_and_bump_the_data_version(toy: Catalog) -> None:
    first = match(toy, "masked encoder")
    version = toy.data_version
    second = match(toy, "pretraining corpus")
    assert toy.data_version != version
    events = {str(r[0]) for r in toy.rows(SHAPE)}
    assert events == {first.event, second.event}


def test_record_match_reports_versions(toy: Catalog) -> None:
    from matchgraph.matching.match import rank
    from matchgraph.matching.match import load_index

    before = toy.data_version
    results = rank(load_index(toy), "masked encoder")
    recorded = record_match(toy, results)
    assert recorded.read_version == before
    assert recorded.version == toy.data_version == toy.version


def test_list_events_newest_first_with_results(toy: Catalog) -> None:
    assert list_events(toy) == []
    for need in ("masked encoder", "pretraining corpus", "int8 on phones"):
        match(toy, need)
    events = list_events(toy, limit=2)
    assert [e.query for e in events] == ["int8 on phones", "pretraining corpus"]
    assert events[0].started.endswith("Z")
    assert [r["position"] for r in events[1].results] == list(range(1, len(events[1].results) + 1))
    assert events[1].results[0]["id"] == "beta-corpus"
    data = events[0].to_dict()
    assert set(data) == {"event", "query", "started", "results"}
    assert list_events(toy, limit=0) == []


def test_recording_does_not_rebuild_the_index(toy: Catalog) -> None:
    from matchgraph.graph import derived
    from matchgraph.matching.match import load_index

    match(toy, "masked encoder")  # builds the state and the index, records, updates the state from the event
    builds = derived.counters["text_builds"]
    full = derived.counters["full"]
    for need in ("pretraining corpus", "int8 on phones"):
        match(toy, need)
        derived._STATES.clear()  # as a new process would
    match(toy, "masked encoder")
    state = derived.current(toy)  # the version of the last recorded match: its index is linked on first use
    assert state.meta["change"] == "match" and len(state.text_index(toy)) == len(load_index(toy))
    assert derived.counters["text_builds"] == builds and derived.counters["full"] == full
    assert (state.directory / "textindex.json").is_file()


def test_three_recorded_matches_raise_times_matched_by_three(example_catalog: Catalog) -> None:
    before = times_matched(example_catalog, "distilroberta-base")
    for _ in range(3):
        assert match(example_catalog, NEED).ids[0] == "distilroberta-base"
    assert times_matched(example_catalog, "distilroberta-base") == before + 3
    match(example_catalog, NEED, record=False)
    assert times_matched(example_catalog, "distilroberta-base") == before + 3


def test_projection_counts_recorded_matches(example_catalog: Catalog) -> None:
    from matchgraph.graph.derived import load_projection

    graph = load_projection(example_catalog)
    before = graph.nodes["distilroberta-base"].get("times_matched", 0)
    for _ in range(3):
        match(example_catalog, NEED)
    match(example_catalog, NEED, record=False)
    graph = load_projection(example_catalog)
    assert graph.nodes["distilroberta-base"]["times_matched"] == before + 3
    assert graph.has_edge("distilroberta-base", "all-minilm-l6-v2", key="co-matched") or \
        graph.has_edge("all-minilm-l6-v2", "distilroberta-base", key="co-matched")
