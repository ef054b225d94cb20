"""The projection: nodes, typed weighted edges, match events, and its on-disk cache."""

from __future__ import annotations

import gc
import math
from pathlib import Path

import pytest

from matchgraph import Catalog, ingest
from matchgraph.graph import derived
from matchgraph.graph.projection import build_projection, concept_idf, shared_concept_pairs
from matchgraph.graph.derived import load_projection
from matchgraph.vocab import MATCH_GRAPH

DATA = Path(__file__).resolve().parent / "data"
HAND = DATA / "scoring_graph.ttl"


@pytest.fixture
def hand(catalog: Catalog) -> Catalog:
    """The hand-computed catalog of tests/data/scoring_graph.ttl."""
    ingest(catalog, [HAND])
    return catalog


def _edges(graph) -> set[tuple[str, str, str, float, str]]:  # type: ignore[no-untyped-def]
    return {(a, b, k, round(d["weight"], 6), d["aspect"]) for a, b, k, d in graph.edges(keys=True, data=True)}


def test_nodes_carry_kind_name_and_stub_flag(hand: Catalog) -> None:
    graph = build_projection(hand)
    assert dict(graph.nodes(data=True)) == {
        "a": {"kind": "model", "name": "Alpha", "stub": False, "times_matched": 0},
        "b": {"kind": "model", "name": "Beta", "stub": False, "times_matched": 0},
        "c": {"kind": "benchmark", "name": "Gamma", "stub": False, "times_matched": 0},
        "f": {"kind": "format", "name": "Phi", "stub": False, "times_matched": 0},
        "s": {"kind": None, "name": "Sigma", "stub": True, "times_matched": 0},
        "t": {"kind": "framework", "name": "Tau", "stub": False, "times_matched": 0},
    }


def test_edges_are_typed_weighted_and_directed(hand: Catalog) -> None:
    shared = round(math.log(3 / 2), 6)  # a and b share quantization, held by 2 of the 3 entities with concepts
    assert _edges(build_projection(hand)) == {
        ("a", "b", "alternative", 1.0, "speed"),
        ("b", "a", "alternative", 1.0, "quality"),
        ("b", "c", "alternative", 1.0, "quality"),
        ("a", "b", "derivedFrom", 1.0, ""),
        ("a", "s", "trainedOn", 1.0, ""),
        ("a", "t", "integratesWith", 1.0, ""),
        ("a", "c", "evaluatedOn", 1.0, ""),
        ("b", "f", "supportsFormat", 1.0, ""),
        ("a", "b", "shared-concept", shared, ""),
        ("b", "a", "shared-concept", shared, ""),
    }


def test_alternative_weight_counts_claims_and_joins_aspects(catalog: Catalog) -> None:
    ingest(catalog, [HAND])
    catalog.update("""INSERT DATA { GRAPH <https://example.org/more> {
        <https://w3id.org/matchgraph/id/a/capability/two> mg:hasClaim <https://example.org/claim> .
        <https://example.org/claim> a mg:Claim, mg:AlternativeClaim ; schema:text "Smaller than Beta." ;
            mg:claimOf <https://w3id.org/matchgraph/id/a/capability/two> ;
            mg:namesAlternative mgid:b ; mg:aspect mga:size, mga:speed } }""")
    data = build_projection(catalog).get_edge_data("a", "b", key="alternative")
    assert (data["weight"], data["aspect"]) == (2.0, "size,speed")


def _record(catalog: Catalog, event: str, ranked: list[tuple[str, int]]) -> None:
    items = ", ".join(f"<{event}/{pos}>" for _, pos in ranked)
    results = "\n".join(f"<{event}/{pos}> a mg:MatchResult ; mg:matchedEntity mgid:{slug} ; mg:position {pos} ; "
                        f"mg:matchScore 0.5 ." for slug, pos in ranked)
    catalog.update(f"""INSERT DATA {{ GRAPH <{MATCH_GRAPH}> {{
        <{event}> a mg:MatchEvent ; mg:queryText "a need" ; prov:startedAtTime "2025-01-01T00:00:00Z"^^xsd:dateTime ;
            mg:hasResultItem {items} .
        {results} }} }}""")


def test_match_events_give_times_matched_and_co_matched_edges(hand: Catalog) -> None:
    _record(hand, "https://example.org/ev1", [("a", 1), ("b", 2), ("c", 11)])
    _record(hand, "https://example.org/ev2", [("b", 1), ("a", 10)])
    _record(hand, "https://example.org/ev3", [("c", 1), ("t", 2)])
    graph = build_projection(hand)
    assert {n: graph.nodes[n]["times_matched"] for n in "abcfst"} == {"a": 2, "b": 2, "c": 1, "f": 0, "s": 0, "t": 1}
    co = {(a, b, d["weight"]) for a, b, k, d in graph.edges(keys=True, data=True) if k == "co-matched"}
    assert co == {("a", "b", 2.0), ("b", "a", 2.0), ("c", "t", 1.0), ("t", "c", 1.0)}


def test_load_projection_builds_once_per_data_version(hand: Catalog) -> None:
    before = dict(derived.counters)
    first = load_projection(hand)
    directory = derived.current(hand).directory
    assert (directory / "projection.npz").is_file() and derived.counters["full"] == before["full"] + 1
    stamp = (directory / "projection.npz").stat().st_mtime_ns
    second = load_projection(hand)
    assert derived.counters["full"] == before["full"] + 1 and (directory / "projection.npz").stat().st_mtime_ns == stamp
    assert _edges(second) == _edges(first) and second is not first
    # derived writes (scores) keep the data version, so the state stays valid
    hand.update(f"INSERT DATA {{ GRAPH <https://w3id.org/matchgraph/graph/scores> {{ mgid:a mg:x 1 }} }}", derived=True)
    load_projection(hand)
    assert derived.counters["full"] == before["full"] + 1
    # new evidence without a change note is a new data version: built once more, from the store
    _record(hand, "https://example.org/ev1", [("a", 1), ("b", 2)])
    assert load_projection(hand).has_edge("a", "b", key="co-matched")
    assert derived.counters["full"] == before["full"] + 2 and derived.counters["delta"] == before["delta"]
    assert derived.current(hand).directory != directory


def test_a_state_written_by_another_process_is_read_not_rebuilt(tmp_path: Path, make_catalog) -> None:  # type: ignore[no-untyped-def]
    path = make_catalog(tmp_path / "cat", HAND)
    for expected_builds in (1, 0):
        before = derived.counters["full"]
        derived._STATES.clear()  # as in a new process
        cat = Catalog(path)
        try:
            assert load_projection(cat).number_of_nodes() == 6
        finally:
            cat.close()
            del cat
            gc.collect()
        assert derived.counters["full"] - before == expected_builds


def test_concept_idf() -> None:
    idf = concept_idf({"a": frozenset({"x", "y"}), "b": frozenset({"x"}), "c": frozenset({"z"}), "d": frozenset()})
    assert idf == pytest.approx({"x": math.log(3 / 2), "y": math.log(3), "z": math.log(3)})


def test_shared_concept_pairs_keep_the_heaviest_partners() -> None:
    # hub and p1..p6 share the rarer r and the common c; q1..q3 share only c; x shares nothing
    concepts = {"hub": frozenset({"r", "c"}), **{f"p{i}": frozenset({"r", "c"}) for i in range(1, 7)},
                **{f"q{i}": frozenset({"c", f"own{i}"}) for i in range(1, 4)}, "x": frozenset({"solo"})}
    pairs = shared_concept_pairs(concepts, partners=2, window=20)
    strong, weak = math.log(11 / 7) + math.log(11 / 10), math.log(11 / 10)
    # each entity keeps its 2 heaviest partners, ties broken by id: hub and p1 for everyone else
    expected = {**{("hub", f"p{i}"): strong for i in range(1, 7)}, **{("p1", f"p{i}"): strong for i in range(2, 7)},
                **{("hub", f"q{i}"): weak for i in range(1, 4)}, **{("p1", f"q{i}"): weak for i in range(1, 4)}}
    assert pairs == pytest.approx(expected)
    assert list(pairs) == sorted(pairs)


def test_shared_concept_pairs_are_linear_beyond_the_window() -> None:
    concepts = {f"e{i:03d}": frozenset({"common", f"rare{i // 2}"}) for i in range(200)}
    concepts["zz"] = frozenset({"other"})
    pairs = shared_concept_pairs(concepts, partners=3, window=4)
    # siblings sharing a rare concept are always found and are each other's heaviest partner
    assert all((f"e{2 * k:03d}", f"e{2 * k + 1:03d}") in pairs for k in range(100))
    assert len(pairs) <= 3 * len(concepts)
    assert not any("zz" in pair for pair in pairs)


def test_an_empty_catalog_projects_to_an_empty_graph(catalog: Catalog) -> None:
    graph = load_projection(catalog)
    assert graph.number_of_nodes() == 0 and graph.graph["data_version"] == catalog.data_version
