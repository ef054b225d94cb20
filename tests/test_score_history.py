"""Score history: every computed version's scores, listed per entity with the factors that moved."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner

from matchgraph import Catalog, ingest
from matchgraph.cli import cli
from matchgraph.matching.events import record_match
from matchgraph.graph.scores import score_history

HAND = Path(__file__).resolve().parent / "data" / "scoring_graph.ttl"


def _match(catalog: Catalog, slugs: list[str]) -> None:
    results = SimpleNamespace(query="a need", started=datetime.now(timezone.utc),
                              results=[SimpleNamespace(id=s, score=0.5) for s in slugs])
    record_match(catalog, results)


def test_each_version_is_listed_with_what_moved(tmp_path: Path) -> None:
    path = tmp_path / "cat"
    catalog = Catalog(path)
    ingest(catalog, [HAND])
    first = score_history(catalog, "b")
    assert len(first) == 1 and first[0]["change"] == "full" and first[0]["moved"] == []
    _match(catalog, ["b", "a"])
    _match(catalog, ["b", "c"])
    history = score_history(catalog, "b")
    assert [h["change"] for h in history] == ["full", "match", "match"]
    assert len({h["data_version"] for h in history}) == 3 and history[-1]["data_version"] == catalog.data_version
    moved = {(m["score"], m["factor"]): m for m in history[1]["moved"]}
    assert moved[("Adoption", "times matched")]["before"] == 0 and moved[("Adoption", "times matched")]["after"] == 1
    assert moved[("Adoption", "times matched")]["points"] > 0
    assert history[2]["rank"] >= 0 and ("Match Graph", "times matched") in {
        (m["score"], m["factor"]) for m in history[2]["moved"]}
    catalog.close()
    result = CliRunner().invoke(cli, ["--catalog", str(path), "scores", "b", "--history", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["entity"]["id"] == "b" and len(data["history"]) == 3
    text = CliRunner().invoke(cli, ["--catalog", str(path), "scores", "Beta", "--history"])
    assert text.exit_code == 0 and "times matched 0 -> 1" in text.output and "FACTORS THAT MOVED" in text.output
    refused = CliRunner().invoke(cli, ["--catalog", str(path), "scores", "a", "b", "--history"])
    assert refused.exit_code == 2 and "exactly one ENTITY" in refused.output


def test_reading_an_entry_follows_a_short_chain(tmp_path: Path) -> None:
    import numpy as np

    from matchgraph.graph import history
    from matchgraph.graph.scoring import HISTORY_FACTORS, ScoreTable

    slugs = [f"e{i:03d}" for i in range(100)]
    width = len(HISTORY_FACTORS)

    def table(version: str, values: np.ndarray) -> ScoreTable:
        n = len(slugs)
        return ScoreTable(slugs, slugs, [None] * n, np.zeros(n, bool), np.zeros(n, np.int64), values,
                          np.zeros(n), np.zeros((n, width)), np.zeros((n, width)), version, "{}")

    values = np.zeros((100, 5))
    for k in range(40):  # one entity moves per version: each entry a delta, until the chain is long
        values = values.copy()
        values[k % 100, 0] += 1
        history.record(tmp_path, table(f"d{k:02d}", values), {"data_version": f"d{k:02d}"})
    metas = [history._read(p)["meta"] for p in history._entries(history.history_dir(tmp_path))]
    assert max(m["depth"] for m in metas) <= history.MAX_DEPTH
    assert sum(m["base"] is None for m in metas) >= 2  # whole entries every MAX_DEPTH + 1
    history.record(tmp_path, table("most", values + 1), {"data_version": "most"})  # every row moved
    last = history._read(history._entries(history.history_dir(tmp_path))[-1])
    assert last["meta"]["base"] is None and len(last["slugs"]) == 100
    rows = history.entity_history(tmp_path, "e005")
    assert [r["rank"] for r in rows][-1] == 2 and len(rows) == 41


def test_a_match_writes_the_cells_it_moved_and_reads_back_its_scores(tmp_path: Path) -> None:
    import numpy as np

    from matchgraph.graph import derived, history

    catalog = Catalog(tmp_path / "cat")
    ingest(catalog, [HAND])
    derived.current(catalog).scores()
    for k in range(5):
        _match(catalog, ["b", "c"] if k % 2 else ["a", "b", "c"])
    root = derived.derived_root(catalog)
    directory = history.history_dir(root)
    entries = history._entries(directory)
    metas = [history._read(p)["meta"] for p in entries]
    assert [m.get("columns", False) for m in metas] == [False] + [True] * 5
    for path, meta in zip(entries, metas):
        state = derived.load_state(catalog, meta["data_version"])
        table = state.scores()
        got = history._materialise(directory, path)
        rows = [got["index"][s] for s in table.slugs]
        np.testing.assert_array_equal(got["values"][rows], table.values.astype(np.float32))
        np.testing.assert_array_equal(got["fvalues"][rows], table.factor_values.astype(np.float32))
        np.testing.assert_array_equal(got["fpoints"][rows], table.factor_points.astype(np.float32))
    assert len(score_history(catalog, "b")) == 6
    catalog.close()


def test_history_refuses_options_it_would_ignore(tmp_path: Path) -> None:
    """``scores E --history --weights F`` showed the stored history as if F had been applied."""
    weights = tmp_path / "w.yaml"
    weights.write_text("rank: {adoption: 0, quality: 1, ecosystem: 0, match_graph: 0}\n", encoding="utf-8")
    for extra in (["--weights", str(weights)], ["--default-weights"], ["--recompute"]):
        result = CliRunner().invoke(cli, ["--catalog", str(tmp_path / "cat"), "scores", "the-pile", "--history", *extra])
        assert result.exit_code == 2, result.output
        assert f"{extra[0]} cannot change them" in result.output and "Traceback" not in result.output
