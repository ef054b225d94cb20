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
