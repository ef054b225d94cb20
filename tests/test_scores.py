"""Scores on a small hand-computed graph (tests/data/scoring_graph.ttl), their storage and caching."""

from __future__ import annotations

import json
import math
from pathlib import Path

import networkx as nx
import pytest

from matchgraph import Catalog, ConfigError, ingest
from matchgraph.graph.weights import SCORE_KINDS, default_weights, load_weights
from matchgraph.graph.scores import compute_scores, load_scores, scores_for
from matchgraph.graph.scoring import display, explanation
from matchgraph.graph.weights import weights_json
from matchgraph.vocab import SCORE_GRAPH

DATA = Path(__file__).resolve().parent / "data"
L2 = math.log2
L10 = math.log10


@pytest.fixture
def hand(catalog: Catalog) -> Catalog:
    ingest(catalog, [DATA / "scoring_graph.ttl"])
    return catalog


def _calibrated(raw: dict[str, float]) -> dict[str, float]:
    top = max(raw.values())
    return {k: round(100 * v / top, 2) for k, v in raw.items()}


# Raw points by hand, with the default weights (docs/scoring.md):
ADOPTION = _calibrated({
    "a": 1.0 * L10(1 + 999) + 1.0 * L10(1 + 9) + 1.0 * L2(1 + 1),  # downloads, likes, named by b's claim
    "b": 2.0 * L2(1 + 1) + 1.0 * L2(1 + 1),                       # a derived from it, named by a's claim
    "c": 1.0 * L2(1 + 1),                                         # named by b's claim
    "f": 0.0, "t": 0.0,
    "s": 2.0 * L2(1 + 1),                                         # a trained on it
})
QUALITY = _calibrated({
    "a": 2.0 * L2(1 + 1) + 1.0 * L2(1 + 1) + 4 - 0.5,  # 1 capability with claims, 1 result, 4 facts, 1 warning
    "b": 2.0 * L2(1 + 2) + 2 - 0.5,                   # 2 capabilities with claims, description + licence, 1 warning
    "c": 2.0 * L2(1 + 1) + 1 - 0.5,                   # 1 capability with claims, description, a claim naming nothing
    "f": 1.0, "t": 1.0, "s": 0.0,
})
ECOSYSTEM = _calibrated({
    "a": 2.0 * L2(1 + 1) + 1.0 * L2(1 + 4),                 # integrates with t; linked to b, c, s, t
    "b": 1.0 * L2(1 + 1) + 1.0 * L2(1 + 1) + 1.0 * L2(1 + 3),  # format f; a derived from it; linked to a, c, f
    "c": 1.0 * L2(1 + 2),                                   # linked to a, b
    "f": 1.0 * L2(1 + 1) + 1.0 * L2(1 + 1),                 # a format of b; linked to b
    "s": 1.0 * L2(1 + 1) + 1.0 * L2(1 + 1),                 # a trained on it; linked to a
    "t": 2.0 * L2(1 + 1) + 1.0 * L2(1 + 1),                 # a integrates with it; linked to a
})


def _hand_match_graph() -> dict[str, float]:
    graph = nx.MultiDiGraph()
    graph.add_nodes_from("abcfst")
    shared = math.log(3 / 2)
    graph.add_weighted_edges_from([("a", "b", 1), ("b", "a", 1), ("b", "c", 1), ("a", "b", 1), ("a", "s", 1),
                                   ("a", "t", 1), ("a", "c", 1), ("b", "f", 1), ("a", "b", shared),
                                   ("b", "a", shared)])
    pagerank = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-12, max_iter=1000)
    return _calibrated({n: 2.0 * L2(1 + 6 * p) for n, p in pagerank.items()})


def test_sub_scores_match_the_hand_computation(hand: Catalog) -> None:
    scores = compute_scores(hand)
    assert {n: s.adoption for n, s in scores.items()} == pytest.approx(ADOPTION, abs=0.006)
    assert {n: s.quality for n, s in scores.items()} == pytest.approx(QUALITY, abs=0.006)
    assert {n: s.ecosystem for n, s in scores.items()} == pytest.approx(ECOSYSTEM, abs=0.006)
    assert {n: s.match_graph for n, s in scores.items()} == pytest.approx(_hand_match_graph(), abs=0.006)
    assert ADOPTION == {"a": 100.0, "b": 60.0, "c": 20.0, "f": 0.0, "t": 0.0, "s": 40.0}


def test_rank_is_the_calibrated_weighted_mean_and_stubs_rank_low(hand: Catalog) -> None:
    scores = compute_scores(hand)
    match_graph = _hand_match_graph()
    raw = {n: (0.30 * ADOPTION[n] + 0.25 * QUALITY[n] + 0.25 * ECOSYSTEM[n] + 0.20 * match_graph[n])
           * (0.5 if n == "s" else 1.0) for n in ADOPTION}
    assert {n: s.rank for n, s in scores.items()} == pytest.approx(_calibrated(raw), abs=0.02)
    assert scores["a"].rank == 100.0 and min(scores.values(), key=lambda s: s.rank).slug == "s"
    assert scores["s"].stub and not scores["a"].stub and scores["s"].kind is None


def test_factors_say_where_points_come_from(hand: Catalog) -> None:
    b = compute_scores(hand)["b"]
    assert [(f.name, f.value, round(f.points, 4)) for f in b.factors["adoption"]] == [
        ("derived works", 1, 2.0), ("alternative mentions", 1.0, 1.0), ("times matched", 0, 0.0)]
    assert explanation(b, "adoption") == "Adoption 60: 1 model derived from it (Alpha), named as an alternative in 1 claim by Alpha"
    assert explanation(b, "quality") == ("Quality 72: 2 of 2 capabilities with claims, a description, licence apache-2.0, "
                                         "1 warning: 1 capability without a concept")
    assert explanation(b, "ecosystem") == ("Ecosystem 93: 1 format link (Phi), 1 derived work, "
                                           "linked to 3 distinct entities")
    s = compute_scores(hand)["s"]
    assert explanation(s, "adoption") == "Adoption 40: 1 model trained on it (Alpha)"
    assert [f.name for f in s.factors["rank"]][-1] == "stub"


def test_scores_are_deterministic(hand: Catalog) -> None:
    first = {n: [s.score(k) for k in SCORE_KINDS] for n, s in compute_scores(hand).items()}
    second = {n: [s.score(k) for k in SCORE_KINDS] for n, s in compute_scores(hand).items()}
    assert first == second


def test_scores_are_stored_as_rdf_with_provenance(hand: Catalog) -> None:
    data_version = hand.data_version
    version = hand.version
    scores = load_scores(hand)
    assert hand.version == version  # reading scores never writes the store
    assert load_scores(hand, recompute=True) == scores  # the write: the score graph, a new version
    assert hand.data_version == data_version and hand.version != version
    rows = hand.rows(f"""SELECT ?id ?kind ?v ?why WHERE {{ GRAPH <{SCORE_GRAPH}> {{
        ?e mg:hasScore ?s . ?s a mg:Score ; mg:scoreKind ?kind ; schema:value ?v ; mg:explanation ?why ;
        prov:wasGeneratedBy ?run . ?run a mg:ScoreRun }} ?e dcterms:identifier ?id }}""")
    assert len(rows) == 6 * 5
    stored = {(str(i), str(k)): float(v) for i, k, v, _ in rows}
    assert stored[("a", "adoption")] == 100.0 and stored[("b", "adoption")] == 60.0
    assert stored[("s", "rank")] == scores["s"].rank
    why = {(str(i), str(k)): str(w) for i, k, _, w in rows}
    assert why[("b", "adoption")] == explanation(scores["b"], "adoption")
    run = hand.rows(f"""SELECT ?cv ?w ?sv ?t WHERE {{ GRAPH <{SCORE_GRAPH}> {{ ?run a mg:ScoreRun ;
        mg:catalogVersion ?cv ; mg:weights ?w ; mg:softwareVersion ?sv ; prov:startedAtTime ?t }} }}""")
    assert len(run) == 1 and str(run[0][0]) == data_version
    assert json.loads(str(run[0][1])) == load_weights()


def test_reading_scores_never_writes_and_recompute_does(hand: Catalog) -> None:
    from matchgraph.graph.score_graph import stored_run

    version = hand.version
    assert load_scores(hand)["a"].rank == 100.0 and hand.version == version  # a read: nothing written
    assert scores_for(hand, ["b", "nope"])["b"].adoption == 60.0 and hand.version == version
    assert stored_run(hand) is None
    load_scores(hand, recompute=True)
    assert hand.version != version and stored_run(hand) == (hand.data_version, weights_json(load_weights()))
    version = hand.version
    quality_only = {"rank": {"adoption": 0, "quality": 1, "ecosystem": 0, "match_graph": 0}}
    ranked = load_scores(hand, weights=quality_only)
    assert hand.version == version  # other weights, shown only
    assert load_scores(hand, weights=quality_only, recompute=True) == ranked
    assert hand.version != version and stored_run(hand)[1] == weights_json(load_weights(quality_only))
    assert {n: s.rank for n, s in ranked.items()} == pytest.approx(
        {n: round(100 * q / 100, 2) * (0.5 if n == "s" else 1) for n, q in QUALITY.items()}, abs=0.02)
    hand.update("INSERT DATA { GRAPH <https://example.org/x> { mgid:t mg:integratesWith mgid:f } }")
    assert load_scores(hand)["f"].ecosystem > 46.28  # new data: recomputed (f now integrates with t)


def test_weights_files_override_only_what_they_give(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("rank:\n  quality: 2\nadoption:\n  metrics:\n    stars: 3\n    forks_of_forks: 0.1\n")
    weights = load_weights(path)
    assert weights["rank"]["quality"] == 2.0 and weights["rank"]["adoption"] == 0.30
    assert weights["adoption"]["metrics"]["stars"] == 3.0 and weights["adoption"]["metrics"]["forks_of_forks"] == 0.1
    assert load_weights() == load_weights({}) and default_weights()["quality"]["warning_penalty"] == 0.5
    json_path = tmp_path / "w.json"
    json_path.write_text(json.dumps({"match_graph": {"damping": 0.5}}))
    assert load_weights(json_path)["match_graph"]["damping"] == 0.5


@pytest.mark.parametrize("text, message", [
    ("rank:\n  popularity: 1\n", "unknown weight 'rank.popularity'"),
    ("quality:\n  licence: -1\n", "weight 'quality.licence' must be a number of zero or more"),
    ("quality:\n  licence: lots\n", "weight 'quality.licence' must be a number"),
    ("rank: 3\n", "weight 'rank' must be a mapping"),
    ("rank: {adoption: 0, quality: 0, ecosystem: 0, match_graph: 0}\n", "add up to 0"),
    ("match_graph: {damping: 1}\n", "damping must lie strictly between 0 and 1"),
    ("- 1\n", "a weights file holds a mapping"),
    ("rank: [\n", "not valid YAML or JSON"),
])
def test_bad_weights_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_weights(path)


def test_display_rounds_halves_up() -> None:
    assert [display(x) for x in (70.5, 70.49, 0.0, 99.5)] == [71, 70, 0, 100]


def test_an_empty_catalog_has_no_scores(catalog: Catalog) -> None:
    assert load_scores(catalog) == {} and compute_scores(catalog) == {}


def _score_triples(catalog: Catalog) -> set[tuple[str, str, str]]:
    rows = catalog.rows(f"""SELECT ?s ?p ?o WHERE {{ GRAPH <{SCORE_GRAPH}> {{ ?s ?p ?o
        FILTER NOT EXISTS {{ ?s a mg:ScoreRun }} }} }}""")
    return {(str(s), str(p), str(o)) for s, p, o in rows}


def test_recomputing_the_same_scores_only_renews_the_run(hand: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    import matchgraph.graph.score_graph as module

    load_scores(hand, recompute=True)
    before = _score_triples(hand)
    assert len(before) == 6 * 5 * 6
    cleared: list[int] = []
    clear = module._stage_all
    monkeypatch.setattr(module, "_stage_all", lambda *args: (cleared.append(1), clear(*args))[1])
    load_scores(hand, recompute=True)
    assert cleared == [] and _score_triples(hand) == before
    load_scores(hand, recompute=True, weights={"quality": {"licence": 3}})
    assert cleared == [1] and _score_triples(hand) != before and len(_score_triples(hand)) == len(before)


def test_a_read_given_up_leaves_no_helper_behind(example_catalog: Catalog, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while the facts are read: the helper process that reads the claims beside it is
    stopped and its temporary folder removed (both outlived the command before)."""
    import tempfile

    from matchgraph.graph import facts

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    readers: list[object] = []
    start = facts._ClaimsReader.__init__

    def keep(self: object, catalog: Catalog) -> None:
        start(self, catalog)  # type: ignore[arg-type]
        readers.append(self)

    def interrupt(table: str) -> None:
        if table != "entity":
            raise KeyboardInterrupt

    monkeypatch.setattr(facts._ClaimsReader, "__init__", keep)
    with pytest.raises(KeyboardInterrupt):
        facts.read_facts(example_catalog, progress=interrupt)
    assert len(readers) == 1 and readers[0].proc is not None  # type: ignore[attr-defined]
    assert readers[0].proc.poll() is not None  # type: ignore[attr-defined]
    assert not list(tmp_path.glob("matchgraph-facts-*"))
    assert facts.read_facts(example_catalog).tables["entity"]["c0"].size > 0  # and a next read works


def test_a_killed_builds_folder_is_removed_by_the_next(example_catalog: Catalog, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """kill -9 of a build leaves its claims folder in the temporary folder; the next build removes
    the folders whose process is gone, and only those."""
    import subprocess
    import sys
    import tempfile

    from matchgraph.graph import facts

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        left = tmp_path / f"matchgraph-facts-{gone.pid}-k1ll3d"
        running = tmp_path / f"matchgraph-facts-{alive.pid}-r8nn1n"
        other = tmp_path / "matchgraph-facts-notapid"
        for folder in (left, running, other):
            folder.mkdir()
            (folder / "claims").write_bytes(b"x" * 1000)
        facts.read_facts(example_catalog)
        assert not left.exists()
        assert running.exists() and other.exists()
        assert sorted(p.name for p in tmp_path.glob("matchgraph-facts-*")) == sorted([running.name, other.name])
    finally:
        alive.kill()
        alive.wait()
