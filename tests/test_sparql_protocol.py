"""The SPARQL 1.1 Protocol (query side) of ``matchgraph serve``, its limits and its hygiene,
against a real server on a localhost port."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from rdflib import Graph, Literal, URIRef

from browser import running_server
from matchgraph import Catalog
from matchgraph.web.server import ServerConfig, create_app
from matchgraph.vocab import ID, SCHEMA

pytestmark = pytest.mark.server

G1, G2 = "urn:test:graph-one", "urn:test:graph-two"
NAMES = "SELECT ?n WHERE { ?e schema:name ?n } ORDER BY ?n"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def small_catalog() -> Catalog:
    """Two named graphs: Alpha and Beta in one, Gamma in the other, plus 200 filler triples."""
    catalog = Catalog("memory:")
    one, two = Graph(), Graph()
    for slug, name in (("alpha", "Alpha"), ("beta", "Beta")):
        one.add((ID[slug], SCHEMA.name, Literal(name)))
    two.add((ID["gamma"], SCHEMA.name, Literal("Gamma")))
    for i in range(200):
        two.add((ID[f"filler-{i}"], SCHEMA.value, Literal(i)))
    catalog.write({URIRef(G1): one, URIRef(G2): two})
    return catalog


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    catalog = small_catalog()
    config = ServerConfig(max_rows=50, max_body=4000, timeout=10)
    with running_server(create_app(catalog, config)) as url:
        yield url
    catalog.close()


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [b["n"]["value"] for b in response.json()["results"]["bindings"]]


# ---------------------------------------------------------------------- the three ways to send a query
def test_get_post_form_and_post_direct_agree(server: str) -> None:
    url = server + "/sparql"
    by_get = httpx.get(url, params={"query": NAMES})
    by_form = httpx.post(url, data={"query": NAMES})
    by_body = httpx.post(url, content=NAMES, headers={"Content-Type": "application/sparql-query; charset=utf-8"})
    assert names(by_get) == names(by_form) == names(by_body) == ["Alpha", "Beta", "Gamma"]
    assert by_get.headers["content-type"] == "application/sparql-results+json"


def test_default_and_named_graph_uri(server: str) -> None:
    url = server + "/sparql"
    assert names(httpx.get(url, params={"query": NAMES, "default-graph-uri": G1})) == ["Alpha", "Beta"]
    assert names(httpx.get(url, params=[("query", NAMES), ("default-graph-uri", G1),
                                        ("default-graph-uri", G2)])) == ["Alpha", "Beta", "Gamma"]
    in_graphs = "SELECT ?n WHERE { GRAPH ?g { ?e schema:name ?n } } ORDER BY ?n"
    assert names(httpx.post(url, data={"query": in_graphs, "named-graph-uri": G2})) == ["Gamma"]
    # protocol parameters override the query's own FROM
    with_from = f"SELECT ?n FROM <{G2}> WHERE {{ ?e schema:name ?n }}"
    assert names(httpx.get(url, params={"query": with_from})) == ["Gamma"]
    assert names(httpx.get(url, params={"query": with_from, "default-graph-uri": G1})) == ["Alpha", "Beta"]


# ---------------------------------------------------------------------- content negotiation
@pytest.mark.parametrize("accept, expected", [
    ("text/csv;q=0.9, application/sparql-results+xml;q=0.5", "text/csv"),
    ("*/*;q=0.1, text/tab-separated-values", "text/tab-separated-values"),
    ("application/*", "application/sparql-results+json"),
    ("text/*;q=0.5, application/sparql-results+xml;q=0.4", "text/csv"),
    ("application/sparql-results+xml, application/sparql-results+json", "application/sparql-results+xml"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/sparql-results+xml"),
    ("application/json", "application/sparql-results+json"),
    ("text/csv;q=0, */*", "application/sparql-results+json"),
])
def test_select_conneg_with_q_values(server: str, accept: str, expected: str) -> None:
    response = httpx.get(server + "/sparql", params={"query": NAMES}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize("accept, expected", [
    ("text/turtle;q=0.2, application/n-triples", "application/n-triples"),
    ("application/ld+json", "application/ld+json"),
    ("text/*", "text/turtle"),
    ("application/rdf+xml;q=0.9, text/n3", "text/n3"),
])
def test_construct_conneg(server: str, accept: str, expected: str) -> None:
    query = "CONSTRUCT { ?e schema:name ?n } WHERE { ?e schema:name ?n }"
    response = httpx.get(server + "/sparql", params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == expected


def test_a_format_that_does_not_fit_is_406_listing_what_does(server: str) -> None:
    url = server + "/sparql"
    construct = "CONSTRUCT WHERE { ?e schema:name ?n }"
    for params, headers in (({"query": NAMES}, {"Accept": "text/turtle"}),
                            ({"query": NAMES, "format": "turtle"}, {}),
                            ({"query": construct}, {"Accept": "text/csv"}),
                            ({"query": construct, "format": "csv"}, {}),
                            ({"query": "ASK {}"}, {"Accept": "image/png"})):
        response = httpx.get(url, params=params, headers=headers)
        assert response.status_code == 406, (params, headers, response.text)
        offered = ("text/turtle" if "CONSTRUCT" in params["query"] else "application/sparql-results+json")
        assert offered in response.text and "cannot be written as" in response.text


def test_format_parameter_wins_over_accept(server: str) -> None:
    response = httpx.get(server + "/sparql", params={"query": NAMES, "format": "tsv"},
                         headers={"Accept": "application/sparql-results+json"})
    assert response.headers["content-type"].startswith("text/tab-separated-values")
    assert response.text.splitlines() == ["?n", '"Alpha"', '"Beta"', '"Gamma"']


def test_ask_in_every_results_format(server: str) -> None:
    for fmt, body in (("json", '{"head":{},"boolean":true}'), ("csv", "true"), ("tsv", "true")):
        response = httpx.get(server + "/sparql", params={"query": "ASK { ?s ?p ?o }", "format": fmt})
        assert response.text == body
    xml = httpx.get(server + "/sparql", params={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+xml"})
    assert "<boolean>true</boolean>" in xml.text


# ---------------------------------------------------------------------- status codes
def test_status_codes_for_malformed_requests(server: str) -> None:
    url = server + "/sparql"
    bad = httpx.get(url, params={"query": "SELECT ?x WHERE { ?x ?p }"})
    assert bad.status_code == 400 and "syntax error at line 1, column" in bad.text
    assert httpx.post(url, content=NAMES, headers={"Content-Type": "text/plain"}).status_code == 415
    assert httpx.get(url, params=[("query", NAMES), ("query", NAMES)]).status_code == 400
    assert httpx.post(url, data={"query": NAMES, "update": "DROP ALL"}).status_code == 400
    assert httpx.get(url, params={"update": "DROP ALL"}).status_code == 400
    assert httpx.post(url, data={"update": "DROP ALL"}).status_code == 403
    assert httpx.post(url, data={"query": "DROP ALL"}).status_code == 400
    assert httpx.post(url, data={}).status_code == 400
    assert httpx.put(url, content=NAMES).status_code == 405


# ---------------------------------------------------------------------- hygiene
def test_body_limit_is_413_with_or_without_a_length(server: str) -> None:
    url = server + "/sparql"
    padding = "#" + "x" * 5000 + "\n"
    response = httpx.post(url, content=padding + NAMES, headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413 and "4000 bytes" in response.text

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"#" + b"x" * 999 + b"\n"

    response = httpx.post(url, content=chunks(), headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413
    assert httpx.post(url, content=NAMES, headers={"Content-Type": "application/sparql-query"}).status_code == 200


def test_invalid_utf8_is_400(server: str) -> None:
    url = server + "/sparql"
    body = httpx.post(url, content=b"SELECT * WHERE { ?s ?p '\xff\xfe' }",
                      headers={"Content-Type": "application/sparql-query"})
    assert body.status_code == 400 and "UTF-8" in body.text
    form = httpx.post(url, content=b"query=SELECT%20*%20WHERE%20%7B%7D%FF",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 400 and "UTF-8" in form.text
    in_url = httpx.get(url + "?query=ASK%20%7B%7D%C3")
    assert in_url.status_code == 400 and "UTF-8" in in_url.text


def test_long_url_is_414(server: str) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } # " + "x" * 9000
    response = httpx.get(server + "/sparql", params={"query": query})
    assert response.status_code == 414 and "POST" in response.text


def test_client_mistakes_leave_no_traceback(server: str, caplog: pytest.LogCaptureFixture) -> None:
    url = server + "/sparql"
    with caplog.at_level(logging.INFO):
        httpx.post(url, content=b"\xff\xfe", headers={"Content-Type": "application/sparql-query"})
        httpx.get(url, params={"query": "SELECT ?x WHERE {"})
        httpx.get(url, params={"query": NAMES}, headers={"Accept": "image/png"})
        httpx.post(url, content="x" * 5000, headers={"Content-Type": "application/sparql-query"})
        httpx.get(url, params={"query": "SELECT * WHERE { SERVICE <http://example.org/s> { ?s ?p ?o } }"})
        responses = [httpx.get(url, params={"query": "SELECT ?x WHERE {"}) for _ in range(2)]
    assert all("Traceback" not in r.text for r in responses)
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


def test_row_cap_says_so_in_the_json_body(server: str) -> None:
    response = httpx.get(server + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    data = response.json()
    assert len(data["results"]["bindings"]) == 50
    assert data["matchgraph"]["truncated"] is True and data["matchgraph"]["maxRows"] == 50
    assert response.headers["x-matchgraph-truncated"] == "max-rows=50"
    small = httpx.get(server + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"}).json()
    assert "matchgraph" not in small


# ---------------------------------------------------------------------- nothing reaches out
@pytest.fixture
def listener() -> Iterator[tuple[str, list[bytes]]]:
    """A localhost socket recording whatever connects to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    sock.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            seen.append(conn.recv(1000))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/sparql", seen
    stop.set()
    thread.join()
    sock.close()


def test_service_is_refused_and_nothing_is_sent(server: str, listener: tuple[str, list[bytes]]) -> None:
    target, seen = listener
    one_line = ("PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> SELECT ?s WHERE "
                f"{{ ?s rdf:type ?t . SERVICE <{target}> {{ ?s ?p ?o }} }}")
    for query in (one_line, f"SELECT * WHERE {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
                  "SELECT * WHERE { VALUES ?x { <%s> } SERVICE ?x { ?s ?p ?o } }" % target,
                  f"ASK {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"):
        response = httpx.get(server + "/sparql", params={"query": query})
        assert response.status_code == 400, response.text
        assert "SERVICE" in response.text and "--allow-service" in response.text
    time.sleep(0.3)
    assert seen == []


def test_allowed_service_host_is_queried() -> None:
    remote_catalog, local_catalog = small_catalog(), Catalog("memory:")
    with running_server(create_app(remote_catalog)) as remote:
        config = ServerConfig(allow_service=("127.0.0.1",))
        with running_server(create_app(local_catalog, config)) as local:
            query = f"SELECT ?n WHERE {{ SERVICE <{remote}/sparql> {{ ?e schema:name ?n }} }} ORDER BY ?n"
            assert names(httpx.get(local + "/sparql", params={"query": query})) == ["Alpha", "Beta", "Gamma"]
            other = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
            assert httpx.get(local + "/sparql", params={"query": other}).status_code == 400
    remote_catalog.close()
    local_catalog.close()


def test_cli_refuses_service_unless_allowed(invoke, tmp_path, listener) -> None:  # type: ignore[no-untyped-def]
    target, seen = listener
    Catalog(tmp_path / "c").update("INSERT DATA { GRAPH <urn:x-test:g> { <urn:x-test:a> <urn:x-test:b> 1 } }")
    result = invoke("sparql", f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}", "--catalog", tmp_path / "c")
    assert result.exit_code == 2 and "SERVICE" in result.output and "--allow-service 127.0.0.1" in result.output
    load = invoke("sparql", f"LOAD <{target}>", "--update", "--catalog", tmp_path / "c")
    assert load.exit_code == 2 and "LOAD" in load.output
    time.sleep(0.3)
    assert seen == []


# ---------------------------------------------------------------------- runaway queries, bounded concurrency
def test_runaway_queries_are_killed_and_the_server_recovers() -> None:
    catalog = small_catalog()
    app = create_app(catalog, ServerConfig(timeout=1.0, workers=2, queue=8))
    with running_server(app) as url:
        pool = app.state.matchgraph.endpoint.pool
        httpx.get(url + "/sparql", params={"query": "ASK {}"})  # workers are up
        pids = {w.process.pid for w in pool._idle}
        statuses: list[int] = []

        def runaway() -> None:
            statuses.append(httpx.get(url + "/sparql", params={"query": RUNAWAY}, timeout=60).status_code)

        threads = [threading.Thread(target=runaway) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [503] * 8
        started = time.monotonic()
        response = httpx.get(url + "/sparql", params={"query": "ASK {}"}, timeout=10)
        assert response.status_code == 200 and response.json()["boolean"] is True
        assert time.monotonic() - started < 3.0
        for pid in pids:  # the workers that ran away are gone: no CPU spent on them any more
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
    catalog.close()


def test_beyond_the_queue_is_503_with_retry_after() -> None:
    catalog = small_catalog()
    app = create_app(catalog, ServerConfig(timeout=3.0, workers=1, queue=0))
    with running_server(app) as url:
        httpx.get(url + "/sparql", params={"query": "ASK {}"})
        slow = threading.Thread(target=httpx.get, args=(url + "/sparql",),
                                kwargs={"params": {"query": RUNAWAY}, "timeout": 30})
        slow.start()
        time.sleep(0.5)
        busy = httpx.get(url + "/sparql", params={"query": "ASK {}"})
        assert busy.status_code == 503 and busy.headers["retry-after"].isdigit()
        assert "busy" in busy.text
        slow.join()
    catalog.close()


# ---------------------------------------------------------------------- the dump download
def test_dump_download_is_streamed_and_complete(server: str) -> None:
    with httpx.stream("GET", server + "/dump/catalog.ttl") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/turtle")
        assert "attachment" in response.headers["content-disposition"]
        assert "content-length" not in response.headers  # streamed, not built first
        text = b"".join(response.iter_bytes()).decode()
    assert text.startswith("@prefix") and "mgid:alpha" in text and '"Alpha"' in text and "^^" not in text.split(
        "schema:value")[0]
    graph = Graph().parse(data=text, format="turtle")
    assert len(graph) == 203
    quads = httpx.get(server + "/dump/catalog.nq").text
    assert f"<{G1}> ." in quads and len(quads.splitlines()) == 203
    assert httpx.get(server + "/dump/catalog.docx").status_code == 404
    json.loads(httpx.get(server + "/dump/catalog.jsonld").text)
