"""The catalog on independent SPARQL engines: Oxigraph server and Virtuoso, each started here.

A differential test: the example catalog ingested into each engine through the command line
(``MATCHGRAPH_CATALOG`` = the engine's query URL, ``MATCHGRAPH_UPDATE_URL`` = its update URL)
answers ``neighbours``, ``compare``, ``match``, ``scores`` and every example SPARQL query exactly as
the embedded catalog does. Then what a remote write promises: batches, staging, skolemised blank
nodes, paging past the engine's row cap, clear errors.

Needs ``pip install oxigraph`` (the test extra) and ``apt-get install virtuoso-opensource``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rdflib import BNode, Graph, Literal, URIRef

from engines import Engine, free_port, oxigraph_server, virtuoso_server
from matchgraph import Catalog, CatalogError
from matchgraph.cli import cli
from matchgraph.store.remote import GENID, STAGING, RemoteBackend
from matchgraph.vocab import META_GRAPH, sparql_prefixes

PREFIXES = sparql_prefixes()

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "catalog"
QUERIES = sorted((ROOT / "examples" / "queries").glob("*.rq"))
NEED = "small fast masked language model for CPU inference"
COMMANDS = {
    "neighbours": ["neighbours", "the-pile"],
    "compare": ["compare", "distilroberta-base", "the-pile"],
    "match": ["match", NEED, "--no-record"],
    "match-json": ["match", NEED, "--no-record", "--format", "json"],
    "scores": ["scores"],
    "scores-json": ["scores", "--format", "json"],
}


def _invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Derived caches of remote catalogs go here, not to the user's ~/.cache."""
    return str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory, cache_home: str) -> dict[str, str]:
    """The environment of an embedded catalog holding the examples, ingested by the CLI."""
    env = {"MATCHGRAPH_CATALOG": str(tmp_path_factory.mktemp("embedded") / "catalog"), "XDG_CACHE_HOME": cache_home,
           "MATCHGRAPH_UPDATE_URL": "", "MATCHGRAPH_STORE_URL": "", "MATCHGRAPH_TOKEN": ""}
    result = _invoke(env, "ingest", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    return env


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A running engine (one per module and kind)."""
    start = oxigraph_server if request.param == "oxigraph" else virtuoso_server
    with start() as running:
        yield running


@pytest.fixture(scope="module")
def remote(engine: Engine, cache_home: str) -> dict[str, str]:
    """The environment of the engine's catalog, the examples ingested by the CLI.

    Oxigraph: only the query and update URLs, as a user would set them. Virtuoso: also its Graph
    Store endpoint, which loads about a hundred times faster than its SPARQL INSERT DATA.
    """
    env = {"MATCHGRAPH_CATALOG": engine.query_url, "MATCHGRAPH_UPDATE_URL": engine.update_url,
           "MATCHGRAPH_STORE_URL": engine.store_url if engine.name == "virtuoso" else "",
           "XDG_CACHE_HOME": cache_home, "MATCHGRAPH_TOKEN": ""}
    result = _invoke(env, "ingest", str(EXAMPLES))
    assert result.exit_code == 0, result.output
    assert re.search(r"Ingested \d+ files: \d+ entities", result.output)
    assert f"version {Catalog(engine.query_url).version[:12]}." in result.output  # set on every engine
    return env


@pytest.mark.parametrize("name", list(COMMANDS))
def test_commands_answer_as_on_the_embedded_catalog(remote: dict[str, str], embedded: dict[str, str],
                                                    name: str) -> None:
    args = COMMANDS[name]
    here, there = _invoke(embedded, *args), _invoke(remote, *args)
    assert here.exit_code == 0, here.output
    assert there.exit_code == 0, there.output
    assert there.output == here.output
    assert len(here.output.splitlines()) > 5


_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def _comparable(answer: dict, query: str, *, booleans: set[str] = frozenset()) -> list[dict]:  # type: ignore[type-arg]
    """The rows of a SPARQL JSON answer, with what SPARQL leaves to each engine made the same.

    - GROUP_CONCAT joins its values in an order the standard leaves open (SPARQL 1.1, 18.5.1.7):
      the parts are sorted.
    - Virtuoso has no boolean type for computed values (``BIND(EXISTS {...} AS ?x)``): it answers
      ``1``/``0`` as ``xsd:integer``, read as ``true``/``false`` in the ``booleans`` columns (those
      the embedded engine answers with booleans). Stored booleans Virtuoso returns as
      ``xsd:boolean``, which the backend already reads as ``true``/``false``.
    """
    separators = {m.group(2): m.group(1) for m in
                  re.finditer(r'separator\s*=\s*"([^"]*)"\s*\)\s*AS\s*\?(\w+)', query)}
    rows = []
    for row in answer["results"]["bindings"]:
        out = {}
        for name, cell in row.items():
            if name in separators:
                sep = separators[name]
                cell = {**cell, "value": sep.join(sorted(cell["value"].split(sep)))}
            if name in booleans and cell.get("datatype") == _INTEGER and cell["value"] in ("0", "1"):
                cell = {**cell, "datatype": _BOOLEAN, "value": "true" if cell["value"] == "1" else "false"}
            out[name] = cell
        rows.append(out)
    return rows


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_example_queries_answer_as_on_the_embedded_catalog(remote: dict[str, str], embedded: dict[str, str],
                                                           engine: Engine, path: Path) -> None:
    args = ["sparql", "--file", str(path), "--format", "json"]
    here, there = _invoke(embedded, *args), _invoke(remote, *args)
    assert here.exit_code == 0, here.output
    assert there.exit_code == 0, there.output
    ours, theirs = json.loads(here.output), json.loads(there.output)
    assert theirs["head"] == ours["head"]
    text = path.read_text(encoding="utf-8")
    booleans = {k for row in ours["results"]["bindings"] for k, v in row.items() if v.get("datatype") == _BOOLEAN}
    rows = _comparable(ours, text)
    other = _comparable(theirs, text, booleans=booleans if engine.name == "virtuoso" else set())
    assert rows
    if not re.search(r"\bORDER\s+BY\b", text, re.I):  # any order is right
        rows, other = sorted(rows, key=json.dumps), sorted(other, key=json.dumps)
    assert other == rows


def test_a_select_larger_than_a_page_is_read_whole(remote: dict[str, str], engine: Engine) -> None:
    """Pages of 1,000 rows (Virtuoso's own cap is 10,000): every quad comes back exactly once."""
    backend = RemoteBackend(engine.query_url, page_size=1000)
    pairs = "{ ?a a mg:Entity } { ?b a mg:Entity }"
    count = int(next(iter(backend.query(f"{PREFIXES}SELECT (COUNT(*) AS ?n) WHERE {{ {pairs} }}")))[0])
    rows = [tuple(row) for row in backend.query(f"{PREFIXES}SELECT ?a ?b WHERE {{ {pairs} }}")]
    assert count > 10_000  # more than one page, and more than Virtuoso's ResultSetMaxRows
    assert len(rows) == count == len(set(rows))
    assert backend.requests <= 2 + (count // 1000 + 1) + 1
    # the bulk-read path of derived data (plain strings parsed by pyoxigraph): the same rows, paged the same way
    before = backend.requests
    values = list(backend.select_values(f"{PREFIXES}SELECT ?a ?b WHERE {{ {pairs} }}"))
    assert sorted(values) == sorted((str(a), str(b)) for a, b in rows)
    assert backend.requests - before <= 1 + (count // 1000 + 1)
    # with the engine's default page size (Oxigraph server: no paging, one streamed request)
    default = RemoteBackend(engine.query_url)
    assert sorted(default.select_values(f"{PREFIXES}SELECT ?a ?b WHERE {{ {pairs} }}")) == sorted(values)


def test_a_large_write_is_staged_and_published_at_once(engine: Engine, tmp_path: Path) -> None:
    """Batches of 50 quads: the write lands whole, with blank nodes as skolem IRIs, no staging left."""
    cat = Catalog(engine.query_url, update_url=engine.update_url)
    cat.backend = RemoteBackend(engine.query_url, engine.update_url, batch=50)  # type: ignore[assignment]
    graph = Graph()
    for i in range(120):
        node = BNode()
        graph.add((URIRef(f"https://example.org/staged/{i}"), URIRef("https://example.org/p"), node))
        graph.add((node, URIRef("https://example.org/q"), Literal(f"value {i}\nline two", lang="en")))
    before = cat.version
    target = URIRef("https://example.org/graph/staged")
    version = cat.write({target: graph})
    assert cat.version == version != before
    assert int(cat.scalar(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{target}> {{ ?s ?p ?o }} }}")) == 240
    assert not cat.ask(f"ASK {{ GRAPH <{target}> {{ ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }} }}")
    assert int(cat.scalar(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{target}> {{ ?s ?p ?o "
                          f"FILTER(STRSTARTS(STR(?o), \"{GENID}\")) }} }}")) == 120
    assert cat.scalar(f"""SELECT ?t WHERE {{ GRAPH <{target}> {{ <https://example.org/staged/7> ?p ?n .
                          ?n ?q ?t }} }}""") == "value 7\nline two"
    assert not cat.ask(f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), \"{STAGING}\")) }}")


def test_large_writes_through_the_graph_store_endpoint(engine: Engine) -> None:
    """Through the Graph Store endpoint (Oxigraph server: staged without a transaction): a data write
    is staged and published at once; a derived write (scores) goes straight into its graph with its
    completion record last, replaces the graph, and bumps the version."""
    import pyoxigraph as ox

    cat = Catalog(engine.query_url, update_url=engine.update_url)
    cat.backend = RemoteBackend(engine.query_url, engine.update_url, store_url=engine.store_url,  # type: ignore[assignment]
                                batch=50, load_batch=40)
    graph = Graph()
    for i in range(130):
        graph.add((URIRef(f"https://example.org/gsp/{i}"), URIRef("https://example.org/p"), Literal(i)))
    target = URIRef("https://example.org/graph/gsp")
    version = cat.write({target: graph})
    assert cat.version == version
    assert int(cat.scalar(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{target}> {{ ?s ?p ?o }} }}")) == 130
    assert not cat.ask(f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), \"{STAGING}\")) }}")

    derived = "https://example.org/graph/derived"
    for run in ("first", "second"):
        lines = [f'<https://example.org/d/{i}> <https://example.org/v> "{run} {i}" <{derived}> .\n' for i in range(150)]
        lines.append(f'_:run <https://example.org/done> "{run}" <{derived}> .\n')
        before = cat.version
        with cat.transaction(derived=True) as txn:
            txn.update(f"DROP SILENT GRAPH <{derived}>")
            txn.load("".join(lines).encode(), format=ox.RdfFormat.N_QUADS)
        assert cat.version == txn.version != before
        assert int(cat.scalar(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{derived}> {{ ?s ?p ?o }} }}")) == 151
        assert cat.scalar(f"SELECT ?v WHERE {{ GRAPH <{derived}> {{ <https://example.org/d/7> ?p ?v }} }}") == f"{run} 7"
        assert cat.scalar(f"SELECT ?r WHERE {{ GRAPH <{derived}> {{ ?r <https://example.org/done> ?v }} }}").startswith(GENID)
    assert not cat.ask(f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), \"{STAGING}\")) }}")


def test_a_write_that_fails_while_staging_leaves_the_catalog_unchanged(engine: Engine) -> None:
    cat = Catalog(engine.query_url, update_url=engine.update_url)
    cat.backend = RemoteBackend(engine.query_url, engine.update_url, batch=50)  # type: ignore[assignment]
    graph = Graph()
    for i in range(200):
        graph.add((URIRef(f"https://example.org/failing/{i}"), URIRef("https://example.org/p"), Literal(i)))
    graph.add((URIRef("https://example.org/failing/has a space"), URIRef("https://example.org/p"), Literal(1)))
    before, count = cat.version, cat.triple_count()
    with pytest.raises(CatalogError) as info:
        cat.write({URIRef("https://example.org/graph/failing"): graph})
    assert "has a space" in str(info.value) or "IRI" in str(info.value)
    assert (cat.version, cat.triple_count()) == (before, count)
    assert not cat.ask(f"ASK {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), \"{STAGING}\")) }}")
    assert not cat.ask(f"ASK {{ GRAPH <{META_GRAPH}> {{ ?g ?p ?o }} FILTER(STRSTARTS(STR(?g), \"{STAGING}\")) }}")


def test_updates_sent_to_the_query_url_are_refused_with_a_hint(tmp_path: Path, cache_home: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Oxigraph server answers updates at /update only: without --update-url the user is told so."""
    monkeypatch.setenv("MATCHGRAPH_UPDATE_URL", "")  # restored afterwards: --update-url sets it
    with oxigraph_server() as engine:
        doc = tmp_path / "one.md"
        doc.write_text((EXAMPLES / "datasets" / "c4.md").read_text(encoding="utf-8"), encoding="utf-8")
        env = {"MATCHGRAPH_CATALOG": engine.query_url, "MATCHGRAPH_UPDATE_URL": "", "XDG_CACHE_HOME": cache_home}
        result = CliRunner().invoke(cli, ["ingest", str(doc)], env=env)
        assert result.exit_code == 1
        assert f"the endpoint {engine.query_url} does not take SPARQL updates" in result.output
        assert "Hint: give the update endpoint with --update-url or MATCHGRAPH_UPDATE_URL" in result.output
        assert "Traceback" not in result.output
        again = CliRunner().invoke(cli, ["--update-url", engine.update_url, "ingest", str(doc)], env=env)
        assert again.exit_code == 0, again.output


def test_an_endpoint_that_is_down_is_named_with_a_hint(cache_home: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    env = {"MATCHGRAPH_CATALOG": url, "XDG_CACHE_HOME": cache_home}
    for args in (["neighbours", "the-pile"], ["ingest", str(EXAMPLES / "datasets" / "c4.md")]):
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 1, result.output
        assert f"Error: cannot reach the SPARQL endpoint {url}: Connection refused" in result.output
        assert "Hint: start the engine, or check --catalog / MATCHGRAPH_CATALOG" in result.output
        assert "formulating" not in result.output and "Traceback" not in result.output


class _Recorder(BaseHTTPRequestHandler):
    """A minimal SPARQL endpoint answering every request with an empty result, recording headers."""

    seen: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Recorder.seen.append(dict(self.headers))
        body = b'{"head":{"vars":["x"]},"results":{"bindings":[]},"boolean":true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/sparql"
    try:
        monkeypatch.delenv("MATCHGRAPH_TOKEN", raising=False)
        monkeypatch.setenv("MATCHGRAPH_USER", "alice")
        monkeypatch.setenv("MATCHGRAPH_PASSWORD", "s3cret")
        RemoteBackend(url).query("SELECT ?x WHERE { ?x ?p ?o }")
        assert _Recorder.seen[-1]["Authorization"] == "Basic YWxpY2U6czNjcmV0"
        monkeypatch.setenv("MATCHGRAPH_TOKEN", "tok-1")
        RemoteBackend(url).update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
        assert _Recorder.seen[-1]["Authorization"] == "Bearer tok-1"
        assert _Recorder.seen[-1]["Content-Type"] == "application/x-www-form-urlencoded"
    finally:
        server.shutdown()
        server.server_close()
