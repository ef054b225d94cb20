"""Differential test: derived state kept up to date from deltas equals a full rebuild.

Random sequences of recorded matches and small ingests (new cards, changed cards naming other
entities, relations, capabilities with concepts and alternative claims) run against a catalog;
after each step the owner's state, updated from the change notes, is compared with a state built
from a full read of the store: facts, projection and neighbour index (exact), scores (to 1e-9;
exact after a recorded match) and every entity's factors in words (exact), the stored version's
explained entity by entity against the full rebuild's evidence of every entity.
"""

from __future__ import annotations

import random
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from matchgraph import Catalog, ingest
from matchgraph.matching.events import record_match
from matchgraph.graph import derived
from matchgraph.graph.facts import read_facts
from matchgraph.graph.projection import nodes_of, project
from matchgraph.graph.neighbours_index import NeighbourIndex
from matchgraph.graph.scoring import Explainer, LocalExplainer, compute_table, log_points
from matchgraph.graph.weights import load_weights

CAPABILITIES = [
    ("Masked-token prediction", "Fills in masked tokens in English sentences using context from both sides."),
    ("Quantized deployment", "Runs with int8 weights on mobile CPUs after post-training quantization."),
    ("Multi-domain pretraining corpus", "Mixes scholarly articles, novels and code into one pretraining corpus."),
    ("Semantic search", "Embeds sentences for semantic similarity search and retrieval."),
    ("Question answering benchmark", "Measures extractive question answering accuracy."),
]
KINDS = ["model", "dataset", "benchmark", "library"]
RELATIONS = ["trainedOn", "derivedFrom", "evaluatedOn", "integratesWith"]


def _card(rng: random.Random, slug: str, others: list[str]) -> str:
    lines = ["---", f"id: {slug}", f"name: {slug.replace('-', ' ').title()}", f"kind: {rng.choice(KINDS)}",
             f"description: Entity {slug} for the differential test."]
    if others and rng.random() < 0.7:
        relation = rng.choice(RELATIONS)
        lines += ["relations:", f"  {relation}: [{', '.join(rng.sample(others, min(len(others), rng.randint(1, 2))))}]"]
    if rng.random() < 0.5:
        lines.append(f"metrics: {{downloads: {rng.randint(0, 100000)}}}")
    lines.append("---")
    for title, text in rng.sample(CAPABILITIES, rng.randint(1, 3)):
        lines += ["", f"## {title}", text]
        if others and rng.random() < 0.6:
            named = rng.choice(others + ["Unknown Thing"])
            lines += ["", f"vs alternatives: Faster than {named.replace('-', ' ').title()}."]
    return "\n".join(lines) + "\n"


def _full(catalog: Catalog) -> tuple:  # type: ignore[type-arg]
    facts = read_facts(catalog)
    p = project(facts, catalog.data_version)
    return facts, p, compute_table(facts, nodes_of(facts), p, load_weights())


def _edges(p) -> list:  # type: ignore[no-untyped-def,type-arg]
    return sorted(p.edges())


def _static(ev, i: int, w) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    """The oracle of ``_static_columns``: the same values and points of node ``i``, entity by entity."""
    a, q, e = w["adoption"], w["quality"], w["ecosystem"]
    metrics = sorted(ev.metrics[i].items())
    usage = 0.0
    for name, value in metrics:
        usage += log_points(a["metrics"].get(name, a["metrics"]["other"]), value, 10.0)
    derived = int(ev.links["derived"].count[i])
    mentions = float(ev.mentions[i])
    doc = ev.docs[i]
    warnings = (doc.capabilities - doc.with_claims) + (doc.capabilities - doc.with_concepts) + doc.dangling
    qualities = [(doc.with_claims, log_points(q["capabilities_with_claims"], doc.with_claims)),
                 (doc.results, log_points(q["benchmark_results"], doc.results)),
                 (int(doc.description), q["description"] * doc.description),
                 (int(doc.licence is not None), q["licence"] * (doc.licence is not None)),
                 (int(doc.homepage), q["homepage"] * doc.homepage), (int(doc.source), q["source"] * doc.source),
                 (warnings, -q["warning_penalty"] * warnings)]
    integrations, formats = int(ev.links["integrations"].count[i]), int(ev.links["formats"].count[i])
    links = int(ev.links["neighbours"].count[i])
    ecosystems = [(integrations, log_points(e["integrations"], integrations)),
                  (formats, log_points(e["formats"], formats)),
                  (derived, log_points(e["derived_works"], derived)),
                  (links, log_points(e["distinct_neighbours"], links))]
    values = [float(len(metrics)), derived, mentions, 0, *(v for v, _ in qualities), *(v for v, _ in ecosystems), 0.0, 0]
    points = [usage, log_points(a["derived_works"], derived), log_points(a["alternative_mentions"], mentions), 0.0,
              *(p for _, p in qualities), *(p for _, p in ecosystems), 0.0, 0.0]
    return values, points


def _static_columns_are_per_entity_sums(facts, p) -> None:  # type: ignore[no-untyped-def]
    """The factors of every entity computed at once equal those computed entity by entity (exactly)."""
    from matchgraph.graph.scoring import _evidence, _static_columns

    weights = load_weights()
    ev = _evidence(facts, nodes_of(facts), p, 0.85)
    fv, fp = _static_columns(ev, weights)
    for i in range(p.n):
        values, points = _static(ev, i, weights)
        assert fv[i].tolist() == [float(v) for v in values] and fp[i].tolist() == [float(x) for x in points], p.slugs[i]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_state_equals_a_full_rebuild(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    catalog = Catalog(tmp_path / "cat")
    cards = tmp_path / "cards"
    cards.mkdir()
    slugs = [f"entity-{i}" for i in range(6)]
    for i, slug in enumerate(slugs):
        (cards / f"{slug}.md").write_text(_card(rng, slug, slugs[:i]), encoding="utf-8")
    ingest(catalog, [cards])
    derived.current(catalog)  # the first state: a full build
    full_builds = derived.counters["full"]
    deltas = derived.counters["delta"]
    steps = {"match": 0, "ingest": 0}
    for step in range(10):
        if rng.random() < 0.6:
            chosen = rng.sample(slugs, rng.randint(1, min(len(slugs), 12)))
            results = SimpleNamespace(query=f"need {step}", started=datetime.now(timezone.utc),
                                      results=[SimpleNamespace(id=s, score=1.0 / (k + 1)) for k, s in enumerate(chosen)])
            record_match(catalog, results)
            steps["match"] += 1
        else:
            files = []
            for _ in range(rng.randint(1, 2)):
                if rng.random() < 0.5:  # a new card
                    slug = f"entity-{len(slugs)}"
                    slugs.append(slug)
                else:  # a changed card, ingested again from its file
                    slug = rng.choice(slugs)
                path = cards / f"{slug}.md"
                path.write_text(_card(rng, slug, [s for s in slugs if s != slug]), encoding="utf-8")
                files.append(path)
            ingest(catalog, sorted(set(files)))
            steps["ingest"] += 1
        state = derived.current(catalog)
        facts, p, table = _full(catalog)
        assert state.facts.canonical() == facts.canonical()
        mine = state.projection
        assert mine.slugs == p.slugs and mine.names == p.names and mine.kinds == p.kinds
        assert (mine.stub == p.stub).all() and (mine.times_matched == p.times_matched).all()
        assert _edges(mine) == _edges(p)
        for name in ("src", "dst", "relation", "weight", "aspect"):  # the same arrays, in the same order
            np.testing.assert_array_equal(getattr(mine, name), getattr(p, name))
        index, rebuilt = state.neighbour_index, NeighbourIndex.build(p)
        for name in ("indptr", "other", "relation", "direction", "weight"):
            np.testing.assert_array_equal(np.asarray(getattr(index, name)), getattr(rebuilt, name))
        scores = state.scores()
        assert scores.slugs == table.slugs
        np.testing.assert_allclose(scores.values, table.values, rtol=0, atol=1e-9)
        np.testing.assert_allclose(scores.pagerank, table.pagerank, rtol=0, atol=1e-12)
        np.testing.assert_allclose(scores.factor_values, table.factor_values, rtol=0, atol=1e-9)
        np.testing.assert_allclose(scores.factor_points, table.factor_points, rtol=0, atol=1e-9)
        np.testing.assert_array_equal(scores.static_ranks(), table.static_ranks())  # carried from a parent or not
        if state.meta["change"] == "match":  # kept from the parent, or computed again: the same numbers
            for name in ("values", "pagerank", "factor_values", "factor_points"):
                np.testing.assert_array_equal(getattr(scores, name), getattr(table, name))
        _static_columns_are_per_entity_sums(facts, p)
        # each entity explained from its own facts and neighbour index entries (a reader of the
        # stored version) says what the evidence of every entity of a full rebuild says
        stored = derived.State(catalog, state.directory, state.meta).scores()
        for i in range(table.n):
            assert stored.entity(i).factors == table.entity(i).factors, table.slugs[i]
        assert isinstance(stored.local, LocalExplainer) and not isinstance(stored.explainer, Explainer)
    assert derived.counters["full"] == full_builds  # every step was a delta, never a rebuild
    assert derived.counters["delta"] - deltas == 10 and steps["match"] and steps["ingest"]
    catalog.close()


def test_static_columns_on_the_example_catalog(example_catalog: Catalog) -> None:
    facts = read_facts(example_catalog)
    _static_columns_are_per_entity_sums(facts, project(facts))


def test_two_matches_followed_from_their_change_notes_equal_a_full_rebuild(example_catalog: Catalog) -> None:
    import shutil

    def need(slugs: list[str]) -> SimpleNamespace:
        return SimpleNamespace(query="a need", started=datetime.now(timezone.utc),
                               results=[SimpleNamespace(id=s, score=1.0 / (k + 1)) for k, s in enumerate(slugs)])

    first = derived.current(example_catalog)
    one = record_match(example_catalog, need(["the-pile", "bookcorpus", "roberta-base"]))
    shutil.rmtree(derived.load_state(example_catalog, one.version).directory)  # as if never built
    derived._STATES.clear()
    two = record_match(example_catalog, need(["roberta-base", "the-pile"]))
    assert derived.load_state(example_catalog, two.version) is None  # no parent state: only a change note
    state = derived.current(example_catalog)  # from the first state and both notes (matches only)
    assert state.meta == {**state.meta, "change": "match", "parent": first.data_version}
    facts, p, table = _full(example_catalog)
    assert state.facts.canonical() == facts.canonical()
    for name in ("src", "dst", "relation", "weight", "aspect", "times_matched"):
        np.testing.assert_array_equal(getattr(state.projection, name), getattr(p, name))
    scores = state.scores()
    for name in ("values", "pagerank", "factor_values", "factor_points"):
        np.testing.assert_array_equal(getattr(scores, name), getattr(table, name))
    np.testing.assert_array_equal(scores.static_ranks(), first.scores().static_ranks())  # matches move none
    stored = derived.State(example_catalog, state.directory, state.meta).scores()
    for i in range(table.n):
        assert stored.entity(i).factors == table.entity(i).factors, table.slugs[i]


def test_a_large_change_is_built_afresh_not_updated_entity_by_entity(tmp_path: Path) -> None:
    """Updating reads each changed entity back (about 0.8 ms each); past 1 in DELTA_SHARE of the
    catalog (and DELTA_MIN) a full build is faster, and gives the same state."""
    catalog = Catalog(tmp_path / "cat")
    head = ("@prefix mg: <https://w3id.org/matchgraph/ns#> .\n@prefix schema: <https://schema.org/> .\n"
            "@prefix mgid: <https://w3id.org/matchgraph/id/> .\n")

    def tools(name: str, n: int) -> Path:
        path = tmp_path / f"{name}.ttl"
        path.write_text(head + "".join(f'mgid:{name}-{i} a mg:Tool, mg:Entity ; schema:name "{name} {i}" .\n'
                                       for i in range(n)), encoding="utf-8")
        return path

    ingest(catalog, [tools("base", 300)])
    derived.current(catalog)
    before = dict(derived.counters)
    ingest(catalog, [tools("few", 5)])  # 5 of 305: updated from the parent's state
    assert derived.counters["delta"] == before["delta"] + 1 and derived.counters["full"] == before["full"]
    ingest(catalog, [tools("many", derived.DELTA_MIN + 1)])  # 101 of 406, over DELTA_MIN and 1/25
    assert derived.counters["delta"] == before["delta"] + 1 and derived.counters["full"] == before["full"] + 1
    state = derived.current(catalog)  # built by the ingest, not by this read
    assert derived.counters["full"] == before["full"] + 1
    assert state.meta["change"] == "ingest" and state.meta["parent"]  # its history knows where it came from
    facts, p, _ = _full(catalog)
    assert state.facts.canonical() == facts.canonical() and state.projection.slugs == p.slugs
    catalog.close()
