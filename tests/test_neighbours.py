"""Neighbours from the on-disk index: order, relations, direction, depth, and a light cold path."""

from __future__ import annotations

import gc
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from matchgraph import Catalog, EntityNotFound, QueryError, ingest
from matchgraph.graph.derived import load_compact
from matchgraph.graph.relations import SYMMETRIC
from matchgraph.graph import derived
from matchgraph.graph.neighbours import neighbours

DATA = Path(__file__).resolve().parent / "data"
HAND = DATA / "scoring_graph.ttl"


@pytest.fixture
def hand(catalog: Catalog) -> Catalog:
    ingest(catalog, [HAND])
    return catalog


def _rows(found):  # type: ignore[no-untyped-def]
    return [(n.slug, n.relations, n.direction, round(n.weight, 4), None if n.rank is None else round(n.rank),
             n.depth) for n in found]


def test_neighbours_strongest_first_with_relations_direction_and_rank(hand: Catalog) -> None:
    b_weight = round(1 + 1 + 1 + math.log(3 / 2), 4)  # a->b alternative, b->a alternative, derivedFrom, shared
    assert _rows(neighbours(hand, "a")) == [
        ("b", ["alternative", "derivedFrom", "shared-concept"], "both", b_weight, 79, 1),
        # equal weights: higher rank first
        ("c", ["evaluatedOn"], "out", 1.0, 45, 1),
        ("t", ["integratesWith"], "out", 1.0, 38, 1),
        ("s", ["trainedOn"], "out", 1.0, 20, 1),
    ]
    assert _rows(neighbours(hand, "Gamma")) == [
        ("a", ["evaluatedOn"], "in", 1.0, 100, 1), ("b", ["alternative"], "in", 1.0, 79, 1)]


def test_relation_filter_depth_and_limit(hand: Catalog) -> None:
    assert [n.slug for n in neighbours(hand, "a", relations=["derivedfrom", "trainedOn"])] == ["b", "s"]
    assert [n.slug for n in neighbours(hand, "b", relations=["alternative"])] == ["a", "c"]
    assert _rows(neighbours(hand, "a", depth=2))[-1] == ("f", ["supportsFormat"], "out", 1.0, 33, 2)
    assert [n.slug for n in neighbours(hand, "a", depth=2, limit=2)] == ["b", "c"]
    assert neighbours(hand, "f", relations=["co-matched"]) == []
    with pytest.raises(QueryError, match="unknown relation 'friendOf'"):
        neighbours(hand, "a", relations=["friendOf"])
    with pytest.raises(EntityNotFound):
        neighbours(hand, "no-such-entity")


def test_to_dict_has_the_json_keys(hand: Catalog) -> None:
    data = neighbours(hand, "b", relations=["supportsFormat"])[0].to_dict()
    assert data == {"id": "f", "name": "Phi", "kind": "format", "relations": ["supportsFormat"], "direction": "out",
                    "weight": 1.0, "rank": 33, "depth": 1}


def test_lookups_use_the_index_not_the_projection(hand: Catalog) -> None:
    neighbours(hand, "a")
    assert (derived.current(hand).directory / "neighbours-indptr.npy").is_file()
    before = dict(derived.counters)
    for _ in range(3):
        neighbours(hand, "b", depth=2)
    assert derived.counters == before


def test_ranks_are_the_current_versions_and_reading_writes_nothing(hand: Catalog) -> None:
    from matchgraph.graph.scores import current_ranks, load_scores

    version = hand.version
    found = [(n.slug, round(n.rank or 0)) for n in neighbours(hand, "a")]
    assert found == [("b", 79), ("c", 45), ("t", 38), ("s", 20)] and hand.version == version  # nothing written
    # custom weights are for the scores asked for; neighbours show the default ranks of the version
    load_scores(hand, weights={"rank": {"adoption": 1, "quality": 0, "ecosystem": 0, "match_graph": 0}})
    assert [(n.slug, round(n.rank or 0)) for n in neighbours(hand, "a")] == found
    assert current_ranks(hand) == pytest.approx({s: r.rank for s, r in load_scores(hand).items()})


COLD = """
import json, sys
from matchgraph import Catalog
from matchgraph.graph.neighbours import neighbours
cat = Catalog(sys.argv[1])
found = [n.slug for n in neighbours(cat, "a")]
heavy = sorted(m for m in ("networkx", "scipy") if m in sys.modules)
print(json.dumps({"found": found, "heavy": heavy}))
"""


def test_a_cold_process_with_a_warm_cache_loads_nothing_heavy(tmp_path: Path, make_catalog) -> None:  # type: ignore[no-untyped-def]
    path = make_catalog(tmp_path / "cat", HAND)
    cat = Catalog(path)
    try:
        neighbours(cat, "a")  # builds the projection, the index and the scores once
    finally:
        cat.close()
        del cat
        gc.collect()
    out = subprocess.run([sys.executable, "-c", COLD, str(path)], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {"found": ["b", "c", "t", "s"], "heavy": []}


def test_the_pile_neighbours_in_the_example_catalog(example_catalog: Catalog) -> None:
    found = {n.slug: n for n in neighbours(example_catalog, "the-pile")}
    assert {"c4", "redpajama", "falcon-refinedweb", "common-crawl"} <= set(found)
    assert "derivedFrom" in found["common-crawl"].relations and "alternative" in found["c4"].relations
    assert [n.slug for n in neighbours(example_catalog, "The Pile", relations=["derivedFrom"])][:1] == ["common-crawl"]


def _reference(catalog: Catalog, slug: str, relations: set[str] | None, limit: int) -> list[tuple]:  # type: ignore[type-arg]
    """One hop computed the plain way, from every edge of the projection (the index sums in SQL)."""
    from matchgraph.graph.scores import load_scores

    ranks = {s: v.rank for s, v in load_scores(catalog).items()}
    edges: dict[tuple[str, str, str], float] = {}  # (other, relation, direction) -> weight
    for a, b, relation, weight, _ in load_compact(catalog).edges():
        if relations is not None and relation not in relations:
            continue
        if relation in SYMMETRIC:  # stored both ways: each way is one edge of its source
            if a == slug:
                edges[(b, relation, "both")] = weight
        elif a == slug:
            edges[(b, relation, "out")] = weight
        elif b == slug:
            edges[(a, relation, "in")] = weight
    found: dict[str, list] = {}  # type: ignore[type-arg]
    for (other, relation, _), weight in edges.items():
        entry = found.setdefault(other, [set(), None, 0.0])
        entry[0].add(relation)
        entry[2] += weight
    rows = [(o, sorted(r), round(w, 4)) for o, (r, _, w) in found.items()]
    rows.sort(key=lambda row: (-row[2], -(ranks.get(row[0]) or 0.0), row[0]))
    return rows[:limit]


@pytest.mark.parametrize("entity, relations", [("the-pile", None), ("c4", None), ("roberta-base", None),
                                               ("pytorch", {"integratesWith", "supportsFormat"}),
                                               ("bert-base-uncased", {"alternative"})])
def test_the_index_agrees_with_a_plain_count_over_every_edge(example_catalog: Catalog, entity: str,
                                                             relations: set[str] | None) -> None:
    found = neighbours(example_catalog, entity, relations=relations, limit=8)
    expected = _reference(example_catalog, entity, relations, 8)
    assert expected and [(n.slug, n.relations, round(n.weight, 4)) for n in found] == expected


def test_a_deeper_hop_fills_up_to_the_limit_without_repeating(example_catalog: Catalog) -> None:
    first = neighbours(example_catalog, "bookcorpus", relations=["derivedFrom", "trainedOn"], limit=50)
    deeper = neighbours(example_catalog, "bookcorpus", relations=["derivedFrom", "trainedOn"], depth=2, limit=50)
    assert [n.slug for n in deeper[:len(first)]] == [n.slug for n in first]
    assert len(deeper) > len(first) and len({n.slug for n in deeper}) == len(deeper)
    assert {n.depth for n in deeper[len(first):]} == {2} and "bookcorpus" not in {n.slug for n in deeper}
