"""A command loads only what it needs: a cold ``matchgraph match`` must not pay for the other
commands, the ingest pipeline or rdflib's SPARQL engine (Oxigraph answers the queries).

Start-up time itself is measured in bench/bench_match.py, never in a test; these tests check the
behaviour that keeps it low, in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
from matchgraph.cli import cli
try:
    cli.main(sys.argv[1:], standalone_mode=False)
except SystemExit as exc:
    assert not exc.code, exc.code
print("\\n" + json.dumps(sorted(sys.modules)))
"""

#: Modules a match never needs.
HEAVY = ("oxrdflib", "rdflib.plugins.sparql", "pyshacl", "networkx", "scipy", "jinja2", "matchgraph.sources.ingest",
         "matchgraph.sources.build", "matchgraph.cli.catalog_cmds",
         "matchgraph.cli.graph_cmds", "matchgraph.cli.serve_cmds", "matchgraph.cli.import_cmds",
         "matchgraph.cli.synth_cmds")


def loaded_modules(*args: str) -> tuple[str, set[str]]:
    """Run ``matchgraph ARGS`` in a fresh interpreter; its output and the modules it imported."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    output, _, modules = done.stdout.rstrip("\n").rpartition("\n")
    return output, set(json.loads(modules))


@pytest.fixture(scope="module")
def warm_catalog(example_catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example catalog whose match index is built (a first match builds it)."""
    import shutil

    path = tmp_path_factory.mktemp("startup") / "catalog"
    shutil.copytree(example_catalog_dir, path)
    loaded_modules("--catalog", str(path), "match", "warm up", "--no-record")
    return path


def test_a_match_loads_only_the_match_command(warm_catalog: Path) -> None:
    output, modules = loaded_modules("--catalog", str(warm_catalog), "match",
                                     "small fast masked language model for CPU inference", "--format", "json")
    data = json.loads(output)
    assert data["results"][0]["id"] == "distilroberta-base" and data["event"]
    assert "matchgraph.cli.match_cmds" in modules and "pyoxigraph" in modules
    assert sorted(m for m in modules if m.startswith(HEAVY)) == []


def test_import_matchgraph_is_light() -> None:
    _, modules = loaded_modules("--version")
    assert "rdflib" not in modules and "pyoxigraph" not in modules and "numpy" not in modules


def test_the_public_names_still_import() -> None:
    import matchgraph

    assert matchgraph.Catalog.__name__ == "Catalog" and callable(matchgraph.ingest)
    assert issubclass(matchgraph.EntityNotFound, matchgraph.MatchgraphError)
    assert set(matchgraph.__all__) <= set(dir(matchgraph))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        matchgraph.nope  # noqa: B018


def test_a_sparql_select_still_returns_rdflib_terms(example_catalog_dir: Path) -> None:
    """Queries now go to pyoxigraph directly; the results keep the rdflib types callers rely on."""
    from rdflib import Literal, URIRef

    from matchgraph import Catalog

    with Catalog(example_catalog_dir) as cat:
        rows = cat.rows("SELECT ?e ?name WHERE { ?e schema:name ?name } ORDER BY ?e LIMIT 3")
        assert rows and all(isinstance(e, URIRef) and isinstance(n, Literal) for e, n in rows)
        assert cat.ask("ASK { ?e a ?kind }")
        graph = cat.query("CONSTRUCT { ?e schema:name ?n } WHERE { ?e schema:name ?n } LIMIT 5").graph
        assert len(graph) == 5
        unbound = cat.rows("SELECT ?e ?x WHERE { ?e schema:name ?n OPTIONAL { ?e <urn:none> ?x } } LIMIT 1")
        assert unbound[0][1] is None
