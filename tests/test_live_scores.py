"""Writes own derived state: a recorded match updates the derived state and the score graph in its
own transaction, and reads (``stats``, ``neighbours``, ``scores``, ``explain``) never write the store.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

from matchgraph import Catalog
from matchgraph.matching.events import record_match
from matchgraph.graph import derived
from matchgraph.graph.score_graph import RUN_IRI, _node_triples, stored_run
from matchgraph.graph.weights import SCORE_KINDS
from matchgraph.vocab import SCORE_GRAPH

NEED = "masked language model trained on a large English corpus"


def _current(path: Path) -> str:
    return (path / "CURRENT").read_text().strip()


def _versions(path: Path) -> tuple[str, str, str]:
    """(CURRENT, version token, data version) of a closed on-disk catalog."""
    with Catalog(path) as cat:
        return _current(path), cat.version, cat.data_version


def _score_graph(catalog: Catalog) -> set[tuple[str, str, str]]:
    """Every triple of the score graph but the run's, as N-Triples terms."""
    import pyoxigraph as ox

    g = ox.NamedNode(str(SCORE_GRAPH))
    return {(str(q.subject), str(q.predicate), str(q.object)) for q in catalog.oxigraph.quads_for_pattern(None, None, None, g)
            if q.subject.value != RUN_IRI}


def _written_whole(table) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    """What a full write of ``table`` puts in the score graph (but the run)."""
    import pyoxigraph as ox

    lines = "\n".join(t for i in range(table.n) for t in _node_triples(table, i, SCORE_KINDS, full=True))
    store = ox.Store()  # literals as the store keeps them ("1.50"^^xsd:decimal is 1.5)
    store.load(lines.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return {(str(q.subject), str(q.predicate), str(q.object)) for q in store.quads_for_pattern(None, None, None, None)}


def test_a_recorded_match_writes_one_version_and_reads_write_nothing(example_copy: Path, invoke) -> None:  # type: ignore[no-untyped-def]
    assert invoke("--catalog", example_copy, "scores", "--recompute", "--limit", "1").exit_code == 0  # the score graph
    times = []
    for round_ in range(2):
        before = _versions(example_copy)
        out = invoke("--catalog", example_copy, "match", NEED, "--limit", "3", "--format", "json")
        assert out.exit_code == 0, out.output
        recorded = json.loads(out.output)["event"]
        after = _versions(example_copy)
        # one version, written by the match: CURRENT moved once, version and data version are the match's
        assert int(after[0][1:]) == int(before[0][1:]) + 1
        assert after[1] == after[2] != before[2]
        with Catalog(example_copy) as cat:
            # the score graph belongs to the version the match wrote
            assert stored_run(cat)[0] == after[2]
            assert cat.scalar(f"SELECT ?v WHERE {{ GRAPH ?g {{ <{recorded}> mg:dataVersion ?v }} }}") == before[2]
        for command in (["stats"], ["neighbours", "the-pile"], ["scores", "--limit", "3"], ["explain", "the-pile"],
                        ["scores", "distilroberta-base", "--format", "json"]):
            out = invoke("--catalog", example_copy, *command)
            assert out.exit_code == 0, out.output
            assert _versions(example_copy) == after, f"`matchgraph {' '.join(command)}` wrote the store"
            if command[-1] == "json":
                times.append(json.loads(out.output)[0]["times_matched"])
    assert times[1] == times[0] + 1  # the top result of the same need, matched once more


def test_after_matches_the_score_graph_equals_a_full_write(example_catalog: Catalog) -> None:
    from matchgraph.graph.scores import load_scores

    load_scores(example_catalog, recompute=True)
    slugs = ["the-pile", "distilroberta-base", "roberta-base", "common-crawl", "bookcorpus"]
    known = set(derived.current(example_catalog).projection.slugs)
    slugs = [s for s in slugs if s in known]
    assert len(slugs) >= 3
    tm = []
    for k in range(4):
        version = example_catalog.version
        chosen = slugs[k % 2:] if k % 2 else slugs
        recorded = record_match(example_catalog, SimpleNamespace(
            query=f"need {k}", started=datetime.now(timezone.utc),
            results=[SimpleNamespace(id=s, score=1.0 / (i + 1)) for i, s in enumerate(chosen)]))
        assert example_catalog.version == recorded.version != version
        state = derived.current(example_catalog)
        assert state.data_version == recorded.version  # built by the match, not by this read
        table = state.scores()
        assert stored_run(example_catalog) == (recorded.version, table.weights)
        assert _score_graph(example_catalog) == _written_whole(table)
        tm.append(int(table.times_matched[table.row(slugs[-1])]))
    assert tm == [1, 2, 3, 4]


def test_after_an_ingest_the_score_graph_waits_for_recompute(example_catalog: Catalog, tmp_path: Path) -> None:
    from matchgraph import ingest
    from matchgraph.graph.scores import load_scores

    load_scores(example_catalog, recompute=True)
    card = tmp_path / "new-model.md"
    card.write_text("---\nid: new-model\nname: New Model\nkind: model\nrelations:\n  trainedOn: [the-pile]\n---\n"
                    "\n## Masked-token prediction\nFills in masked tokens.\n", encoding="utf-8")
    ingest(example_catalog, [card])
    version = example_catalog.version
    assert stored_run(example_catalog)[0] != example_catalog.data_version  # behind, and says so
    assert "new-model" in load_scores(example_catalog) and example_catalog.version == version  # a read
    # a match on a catalog whose score graph is behind leaves it behind (no full rewrite in a match)
    record_match(example_catalog, SimpleNamespace(query="x", started=datetime.now(timezone.utc),
                                                  results=[SimpleNamespace(id="new-model", score=1.0)]))
    assert stored_run(example_catalog)[0] not in (example_catalog.data_version, None)
    load_scores(example_catalog, recompute=True)
    assert stored_run(example_catalog)[0] == example_catalog.data_version
    assert _score_graph(example_catalog) == _written_whole(derived.current(example_catalog).scores())


def test_explain_reads_the_evidence_of_the_entities_asked_for_only(example_catalog: Catalog) -> None:
    from matchgraph.graph import scoring
    from matchgraph.graph.compare import compare
    from matchgraph.graph.explain import explain
    from matchgraph.graph.projection import nodes_of
    from matchgraph.graph.scoring import Explainer, LocalExplainer

    state = derived.current(example_catalog)
    fresh = derived.State(example_catalog, state.directory, state.meta)  # as a new process loads it
    derived._STATES[(str(derived.derived_root(example_catalog)), state.data_version)] = fresh
    before = scoring.counters["evidence"]
    text = explain(example_catalog, "the-pile").to_text()
    compare(example_catalog, "the-pile", "bookcorpus")
    assert scoring.counters["evidence"] == before  # no pass over every entity
    assert "The Pile" in text and "derived from it" in text
    table = fresh.scores()
    assert isinstance(table.local, LocalExplainer)
    # entity by entity, from its own facts and neighbour index entries: what every entity's evidence says
    everyone = Explainer(fresh.facts, nodes_of(fresh.facts), fresh.projection, json.loads(table.weights))
    for i in range(table.n):
        assert table.entity(i).factors == everyone.factors(i, table.values[i]), table.slugs[i]


def test_round_places_is_pythons_round() -> None:
    import numpy as np

    from matchgraph.graph.scoring import round_places

    rng = np.random.default_rng(7)
    for places, scale in ((2, 100.0), (8, 1e-3)):
        ties = np.arange(0, 20001) / 10 ** places + 0.5 / 10 ** places  # halves, as near as doubles get
        values = np.concatenate([rng.random(50_000) * scale, ties, [0.0, 0.125, 2.675, 100.0]])
        assert round_places(values, places).tolist() == [round(v, places) for v in values.tolist()]


def test_a_recorded_match_writes_its_match_table_only(example_catalog: Catalog) -> None:
    parent = derived.current(example_catalog)
    recorded = record_match(example_catalog, SimpleNamespace(
        query="a need", started=datetime.now(timezone.utc), results=[SimpleNamespace(id="the-pile", score=1.0)]))
    state = derived.load_state(example_catalog, recorded.version)
    assert state is not None and state.meta["parent"] == parent.data_version
    files = sorted(p.name for p in state.directory.glob("facts-*.npy"))
    assert "facts-match.c0.npy" in files and "facts-entity.c0.npy" in files
    for name in files:  # unchanged tables are the parent's files, hard-linked
        same = (state.directory / name).stat().st_ino == (parent.directory / name).stat().st_ino
        assert same == (not name.startswith("facts-match.")), name
    fresh = derived.State(example_catalog, state.directory, state.meta)
    assert fresh.facts.canonical() == state.facts.canonical()
