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


def test_texts_rdflib_cannot_parse_run_with_their_dataset_read_right(server: str) -> None:
    """SPARQL that rdflib's grammar refuses (a negative number after a term, SPARQL 1.2, deep
    nesting) runs on Oxigraph; "from" in a name, a string or a comment is not a FROM clause."""
    url = server + "/sparql"
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?e schema:name ?name . VALUES ?x { -1.0 } }"

    def n(query: str) -> int:
        response = httpx.post(url, data={"query": query})
        assert response.status_code == 200, response.text
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    assert n(count) == 3
    assert n(count + " # the names, taken from the docs") == 3
    assert n(count.replace("?name .", '?name . FILTER(?name != "from")')) == 3
    assert n(count.replace("schema:name", "<urn:test:derivedFrom>")) == 0  # no such triples, not "FROM"
    assert n(f"SELECT (COUNT(*) AS ?n) FROM <{G1}> WHERE {{ ?e schema:name ?name VALUES ?x {{ -1.0 }} }}") == 2
    deep = "SELECT (COUNT(*) AS ?n) WHERE { ?e schema:name ?name FILTER(" + "(" * 60 + "1" + ")" * 60 + ") }"
    assert n(deep) == 3
    triple_term = httpx.post(url, data={"query": 'ASK { BIND(<<( <urn:a> <urn:b> <urn:c> )>> AS ?t) }'})
    assert triple_term.status_code == 200 and triple_term.json()["boolean"] is True
    bom = httpx.post(url, content="\ufeff" + NAMES, headers={"Content-Type": "application/sparql-query"})
    assert names(bom) == ["Alpha", "Beta", "Gamma"]
    comments = httpx.post(url, data={"query": "# nothing but a comment"})
    assert comments.status_code == 400 and "empty" in comments.text


def test_the_protocol_dataset_has_only_the_graphs_it_names(server: str) -> None:
    url = server + "/sparql"
    in_graphs = "SELECT ?n WHERE { GRAPH ?g { ?e schema:name ?n } } ORDER BY ?n"
    assert names(httpx.get(url, params={"query": in_graphs, "default-graph-uri": G1})) == []  # no named graphs
    assert names(httpx.get(url, params={"query": NAMES, "named-graph-uri": G1})) == []  # an empty default graph
    for bad in ("stubs", "", "a b", "urn:x>"):
        response = httpx.get(url, params={"query": "ASK {}", "default-graph-uri": bad})
        assert response.status_code == 400 and "not an absolute IRI" in response.text, (bad, response.text)
    assert httpx.get(url, params={"query": "ASK {}", "named-graph-uri": "x y"}).status_code == 400
    assert httpx.get(url, params={"query": "ASK {}"}).json()["boolean"] is True  # the workers survived


def test_a_type_refused_by_name_is_not_sent_under_an_alias(server: str) -> None:
    url = server + "/sparql"
    refuse_all = ("application/sparql-results+json;q=0, application/sparql-results+xml;q=0, text/csv;q=0, "
                  "text/tab-separated-values;q=0, */*;q=0.1")
    assert httpx.get(url, params={"query": NAMES}, headers={"Accept": refuse_all}).status_code == 406
    json_refused = httpx.get(url, params={"query": NAMES},
                             headers={"Accept": "application/sparql-results+json;q=0, */*"})
    assert json_refused.status_code == 200
    assert json_refused.headers["content-type"] != "application/sparql-results+json"


def test_browser_clients_can_read_every_error(server: str) -> None:
    origin = {"Origin": "http://yasgui.example"}
    long = httpx.get(server + "/sparql", params={"query": "ASK {} # " + "x" * 9000}, headers=origin)
    assert long.status_code == 414 and long.headers["access-control-allow-origin"] == "*"
    bad = httpx.get(server + "/sparql", params={"query": "SELECT ?x WHERE {"}, headers=origin)
    assert bad.status_code == 400 and bad.headers["access-control-allow-origin"] == "*"
    preflight = httpx.options(server + "/sparql", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    exposed = httpx.get(server + "/sparql", params={"query": "ASK {}"}, headers=origin)
    assert "retry-after" in exposed.headers["access-control-expose-headers"].lower()


def test_a_slow_text_is_stopped_by_the_time_limit_not_parsed_in_the_server() -> None:
    """A text rdflib cannot parse used to be tried on an empty store inside the server, without a
    time limit: a 3 KB VALUES product held the server for seconds. It now runs in a worker."""
    catalog = small_catalog()
    values = " ".join(map(str, range(300)))
    # VALUES ?z { -1.0 }: rdflib's grammar refuses it, so the old endpoint tried the text on an
    # empty store in its own process; the product of the other three is 27 million rows
    slow = (f"ASK {{ VALUES ?z {{ -1.0 }} VALUES ?a {{{values}}} VALUES ?b {{{values}}} VALUES ?c {{{values}}} "
            "FILTER(?a+?b+?c<?z) }")
    with running_server(create_app(catalog, ServerConfig(timeout=1.0, workers=2, queue=8))) as url:
        cpu = time.process_time()  # the server runs in this process; the workers are processes of their own
        response = httpx.post(url + "/sparql", content=slow, headers={"Content-Type": "application/sparql-query"},
                              timeout=120)
        assert response.status_code == 503 and "time limit" in response.text
        assert time.process_time() - cpu < 3.0, "the server process evaluated the query itself"
        assert httpx.get(url + "/sparql", params={"query": "ASK {}"}, timeout=10).status_code == 200
    catalog.close()


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


@pytest.mark.parametrize("size", [8_000_000, 30_000_000])
def test_a_client_that_sends_its_whole_body_first_hears_the_413(server: str, size: int) -> None:
    # urllib (under SPARQLWrapper and rdflib's SPARQLStore) writes the whole body before it reads the
    # answer: a server that answers and closes at the limit left it with "Broken pipe" and no message
    import urllib.error
    import urllib.request

    body = b"query=" + b"x" * size
    request = urllib.request.Request(server + "/sparql", data=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    assert refused.value.code == 413 and b"4000 bytes" in refused.value.read()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is found while reading
        for _ in range(size // 1_000_000):
            yield b"#" + b"x" * 999_998 + b"\n"

    response = httpx.post(server + "/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"},
                          timeout=60)
    assert response.status_code == 413 and "4000 bytes" in response.text
    assert httpx.post(server + "/sparql", content=NAMES, headers={"Content-Type": "application/sparql-query"}
                      ).status_code == 200


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
                  f"ASK {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
                  # as Oxigraph reads them: a comment ends at a lone CR, keywords need no boundary,
                  # names resolve against PREFIX and BASE, \\u escapes count inside IRIs
                  f"SELECT * WHERE {{ # x\rSERVICE <{target}> {{ ?s ?p ?o }}\n }}",
                  f"SELECT * WHERE {{ SERVICESILENT <{target}> {{ ?s ?p ?o }} }}",
                  f"SELECT * WHERE {{ ?s ?p 1SERVICE <{target}> {{ ?s ?p ?o }} }}",
                  f"PREFIX r: <{target.rsplit('/', 1)[0]}/> SELECT * WHERE {{ SERVICE r:sparql {{ ?s ?p ?o }} }}",
                  f"BASE <{target.rsplit('/', 1)[0]}/> SELECT * WHERE {{ SERVICE <sparql> {{ ?s ?p ?o }} }}",
                  "SELECT * WHERE { SERVICE <%s> { ?s ?p ?o } }" % target.replace("127", "\\u0031\\u0032\\u0037"),
                  # a fuzz against Oxigraph found: the keyword glued to a prefixed name, and PREFIX
                  # IRIs resolved as RFC 3986 says (not as urljoin: <http:> and <//> are not the base's host)
                  f"PREFIX : <{target.rsplit('/', 1)[0]}/> SELECT * WHERE {{ SERVICE:sparql {{ ?s ?p ?o }} }}",
                  f"PREFIX p: <{target.rsplit('/', 1)[0]}/> SELECT * WHERE {{ SERVICESILENTp:sparql {{ ?s ?p ?o }} }}",
                  "PREFIX p: <http:> SELECT * WHERE { SERVICE p:%s { ?s ?p ?o } }" % target[5:].replace("/", "\\/"),
                  "PREFIX p: <//> SELECT * WHERE { SERVICE p:%s { ?s ?p ?o } }" % target[7:].replace("/", "\\/")):
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
    hidden = invoke("sparql", f"INSERT DATA {{ }} ; # x\rLOAD SILENT <{target}> INTO GRAPH <urn:x-test:l>\n", "--update",
                    "--catalog", tmp_path / "c")
    assert hidden.exit_code == 2 and "LOAD <" in hidden.output
    time.sleep(0.3)
    assert seen == []


def test_an_allowed_load_is_fetched_once(invoke, tmp_path, listener) -> None:  # type: ignore[no-untyped-def]
    """The syntax check before the catalog is opened must not run an allowed LOAD (it did, on an
    empty store: every allowed document was fetched twice)."""
    target, seen = listener
    Catalog(tmp_path / "c").update("INSERT DATA { GRAPH <urn:x-test:g> { <urn:x-test:a> <urn:x-test:b> 1 } }")
    invoke("sparql", f"LOAD SILENT <{target}> INTO GRAPH <urn:x-test:loaded>", "--update",
           "--allow-service", "127.0.0.1", "--catalog", tmp_path / "c")
    time.sleep(0.3)
    assert len(seen) == 1


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


def test_a_body_without_a_content_type_is_refused(server: str) -> None:
    """The W3C protocol tests bad_query_missing_form_type and bad_update_missing_form_type: a
    url-encoded body sent without ``application/x-www-form-urlencoded`` is a 4xx, not read as a form."""
    url = server + "/sparql"
    for body in (b"query=ASK%20%7B%7D", b"update=CLEAR%20NAMED", b"ASK {}"):
        response = httpx.post(url, content=body)
        assert "content-type" not in response.request.headers
        assert response.status_code == 415 and "no Content-Type" in response.text, response.text
    # a POST with its parameters in the URL and no body at all is still answered
    empty = httpx.post(url, params={"query": "ASK {}"})
    assert empty.status_code == 200 and empty.json()["boolean"] is True


# ---------------------------------------------------------------------- the dataset of an update
def test_using_graph_uri_gives_an_update_its_dataset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """using-graph-uri / using-named-graph-uri (Protocol 2.2.3) are the update's dataset, in the URL or
    the form; with USING or WITH in the update they are a 400, and nothing is written."""
    catalog = Catalog(tmp_path / "c")
    catalog.update("INSERT DATA { <urn:x:d> <urn:x:p> 'default' . GRAPH <urn:x:g1> { <urn:x:a> <urn:x:p> 'one' , 'two' } "
                   "GRAPH <urn:x:g2> { <urn:x:b> <urn:x:p> 'three' } }")
    auth = {"Authorization": "Bearer t0ken"}
    with running_server(create_app(catalog, ServerConfig(allow_update=True, token="t0ken", timeout=30.0))) as url:
        copy = "INSERT { GRAPH <urn:x:g3> { ?s <urn:x:copied> ?o } } WHERE { ?s <urn:x:p> ?o }"
        response = httpx.post(url + "/sparql", params={"using-graph-uri": "urn:x:g1"}, content=copy,
                              headers={**auth, "Content-Type": "application/sparql-update"})
        assert response.status_code == 200, response.text
        named = ("INSERT { GRAPH <urn:x:g4> { ?s <urn:x:from> ?g } } WHERE { GRAPH ?g { ?s <urn:x:p> ?o } }")
        response = httpx.post(url + "/sparql", data={"update": named, "using-named-graph-uri": "urn:x:g2"}, headers=auth)
        assert response.status_code == 200, response.text
        before = catalog.triple_count()
        both = httpx.post(url + "/sparql", params={"using-graph-uri": "urn:x:g1"},
                          content="INSERT { GRAPH <urn:x:g5> { ?s ?p ?o } } USING <urn:x:g2> WHERE { ?s ?p ?o }",
                          headers={**auth, "Content-Type": "application/sparql-update"})
        assert both.status_code == 400 and "USING" in both.text
        on_a_query = httpx.get(url + "/sparql", params={"query": "ASK {}", "using-graph-uri": "urn:x:g1"})
        assert on_a_query.status_code == 400 and "default-graph-uri" in on_a_query.text
        relative = httpx.post(url + "/sparql", data={"update": copy, "using-graph-uri": "g1"}, headers=auth)
        assert relative.status_code == 400 and "not an absolute IRI" in relative.text
        catalog.refresh()
        assert catalog.triple_count() == before
    copied = {str(o) for (o,) in catalog.rows("SELECT ?o WHERE { GRAPH <urn:x:g3> { ?s ?p ?o } }")}
    assert copied == {"one", "two"}  # g1 only: not the stored default graph
    sources = {str(g) for (g,) in catalog.rows("SELECT ?g WHERE { GRAPH <urn:x:g4> { ?s ?p ?g } }")}
    assert sources == {"urn:x:g2"}
    catalog.close()


def test_updates_resolve_relative_iris_as_queries_do(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The W3C protocol test update_base_uri: a relative IRI in an update resolves against a base the
    service defines; here the one queries use, so ``<the-pile>`` is ``mgid:the-pile`` in both (it was
    a syntax error in an update)."""
    catalog = Catalog(tmp_path / "c")
    auth = {"Authorization": "Bearer t0ken", "Content-Type": "application/sparql-update"}
    with running_server(create_app(catalog, ServerConfig(allow_update=True, token="t0ken", timeout=30.0))) as url:
        response = httpx.post(url + "/sparql", headers=auth,
                              content="INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> <the-pile> } }")
        assert response.status_code == 200, response.text
        for ask in ("ASK { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> <the-pile> } }",
                    "ASK { <urn:x:s> <urn:x:p> mgid:the-pile }"):
            answer = httpx.get(url + "/sparql", params={"query": ask})
            assert answer.status_code == 200 and answer.json()["boolean"] is True, (ask, answer.text)
    catalog.close()
    with Catalog("memory:") as memory:  # the library call too
        memory.update("INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> <c4> } }")
        assert memory.ask("ASK { <urn:x:s> <urn:x:p> mgid:c4 }")


def test_an_update_with_no_operation_is_valid_and_changes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The W3C syntax tests syntax-update-38 to 40 (positive): comments only, or a prologue only, is a
    SPARQL update (``Update ::= Prologue ( Update1 ( ';' Update )? )?``); it was refused as an empty
    query. It writes no new catalog version; a malformed prologue is still a syntax error."""
    catalog = Catalog(tmp_path / "c")
    catalog.update("INSERT DATA { GRAPH <urn:x:g> { <urn:x:s> <urn:x:p> 'o' } }")
    before = catalog.version
    auth = {"Authorization": "Bearer t0ken"}
    with running_server(create_app(catalog, ServerConfig(allow_update=True, token="t0ken", timeout=30.0))) as url:
        for text in ("# Empty\n", "BASE <http://example/>\n# Otherwise empty\n",
                     "PREFIX : <http://example/>\n# Otherwise empty\n", "\ufeff  \n"):
            direct = httpx.post(url + "/sparql", content=text.encode(),
                                headers={**auth, "Content-Type": "application/sparql-update"})
            assert direct.status_code == 200, (text, direct.text)
            form = httpx.post(url + "/sparql", data={"update": text}, headers=auth)
            assert form.status_code == 200, (text, form.text)
        for broken in ("PREFIX : <http://example/\n", "BASE <http://example/> PREFIX"):
            response = httpx.post(url + "/sparql", data={"update": broken}, headers=auth)
            assert response.status_code == 400 and "syntax error" in response.text, (broken, response.text)
        unauthorised = httpx.post(url + "/sparql", data={"update": "# Empty"})
        assert unauthorised.status_code == 401
        query = httpx.get(url + "/sparql", params={"query": "# Empty"})  # a query still needs a form
        assert query.status_code == 400
        catalog.refresh()
        assert catalog.version == before
    catalog.close()


@pytest.mark.parametrize(("update", "expected"), [
    ("PREFIX ex: <urn:x:> DELETE { ?s ex:p ?o } INSERT { ?s ex:q ?o } WHERE { ?s ex:p ?o } ; "
     "INSERT DATA { ex:a ex:b ex:c } ; CLEAR GRAPH <urn:x:old>",
     "PREFIX ex: <urn:x:> DELETE { ?s ex:p ?o } INSERT { ?s ex:q ?o }  USING <urn:g> WHERE { ?s ex:p ?o } ; "
     "INSERT DATA { ex:a ex:b ex:c } ; CLEAR GRAPH <urn:x:old>"),
    ("INSERT { ?s <urn:x:w> 'WHERE' } WHERE { ?s ?p ?o } # WHERE",
     "INSERT { ?s <urn:x:w> 'WHERE' }  USING <urn:g> WHERE { ?s ?p ?o } # WHERE"),
])
def test_using_clauses_go_before_each_where(update: str, expected: str) -> None:
    from matchgraph.errors import QueryError
    from matchgraph.store.sparql import with_using

    assert with_using(update, ["urn:g"]) == expected
    with pytest.raises(QueryError, match="DELETE WHERE"):  # it would read the default graph, not urn:g
        with_using(update + "\n; DELETE WHERE { ?s ?p ?o }", ["urn:g"])


# ---------------------------------------------------------------------- what a probe with standard clients found
def test_results_vary_on_accept_and_preflights_take_common_headers(server: str) -> None:
    response = httpx.get(server + "/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/csv"})
    assert "accept" in response.headers["vary"].lower()  # a shared cache must not hand CSV to a JSON client
    preflight = httpx.options(server + "/sparql", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-requested-with,cache-control"})
    assert preflight.status_code == 200, preflight.text


def test_the_service_description_follows_accept(server: str) -> None:
    as_xml = httpx.get(server + "/sparql", headers={"Accept": "application/rdf+xml"})
    assert as_xml.headers["content-type"].startswith("application/rdf+xml")
    as_jsonld = httpx.get(server + "/sparql", headers={"Accept": "application/ld+json"})
    assert as_jsonld.headers["content-type"].startswith("application/ld+json")
    for response, fmt in ((as_xml, "xml"), (as_jsonld, "json-ld")):
        graph = Graph().parse(data=response.content, format=fmt)
        assert any("sparql-service-description#Service" in str(o) for o in graph.objects())
    not_html = httpx.get(server + "/sparql", headers={"Accept": "text/html;q=0, */*"})
    assert not_html.status_code == 200 and not_html.headers["content-type"].startswith("text/turtle")
    browser = httpx.get(server + "/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 303
    assert httpx.get(server + "/sparql", headers={"Accept": "text/html"}).status_code == 303
    results_only = httpx.get(server + "/sparql", headers={"Accept": "application/sparql-results+json"})
    assert results_only.status_code == 200 and results_only.headers["content-type"].startswith("text/turtle")
    store_protocol = httpx.get(server + "/sparql", params={"graph": "urn:x-test:g"})
    assert store_protocol.status_code == 400 and "Graph Store Protocol" in store_protocol.text


@pytest.mark.parametrize(("query", "accept"), [
    ('CONSTRUCT { <http://a> <http://example.org/p/> "x" } WHERE {}', "application/rdf+xml"),
    ('CONSTRUCT { <http://a> <http://example.org/1> "x" } WHERE {}', "application/rdf+xml"),
    ('CONSTRUCT { <http://a> <http://b> <<( <http://a> <http://b> "c" )>> } WHERE {}', "application/ld+json"),
])
def test_a_result_the_format_cannot_hold_is_406_not_a_broken_200(server: str, query: str, accept: str) -> None:
    """pyoxigraph writes RDF/XML no XML parser reads for a predicate ending without a name."""
    response = httpx.get(server + "/sparql", params={"query": query}, headers={"Accept": accept})
    assert response.status_code == 406, response.text
    assert "cannot write this result" in response.text and "Turtle" in response.text
    turtle = httpx.get(server + "/sparql", params={"query": query}, headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    # a client that accepts another format gets it (its next choice), not a 406
    either = httpx.get(server + "/sparql", params={"query": query},
                       headers={"Accept": f"{accept}, application/n-triples;q=0.5, text/turtle;q=0.2"})
    assert either.status_code == 200 and either.headers["content-type"].startswith("application/n-triples")


def test_a_request_whose_time_is_spent_before_a_worker_is_a_time_limit_not_busy() -> None:
    """On a loaded machine, reading and checking a long text could use up the whole --timeout before
    a worker was asked: the pool then answered 'busy (workers and queue places taken)' with every
    worker idle (seen in a full run at load 12). It is the time limit."""
    import asyncio

    from matchgraph.web.endpoint import Busy, QueryTimeout, WorkerPool

    pool = WorkerPool(1, 0)
    try:
        for spent in (0.0, -0.5):
            with pytest.raises(QueryTimeout):
                asyncio.run(pool.run({}, spent))
        with pytest.raises(Busy):  # a full pool is still busy
            async def full() -> None:
                pool._slots = asyncio.Semaphore(0)
                await pool.run({}, 1.0)
            asyncio.run(full())
    finally:
        pool.close()


# ---------------------------------------------------------------------- literals XML cannot carry as they are
CR_LITERAL = 'SELECT ?o WHERE { VALUES ?o { "line one\\r\\nline two\\rend" } }'
BELL_LITERAL = 'SELECT ?o WHERE { VALUES ?o { "bell\\u0007" } }'


def test_a_carriage_return_survives_sparql_xml_and_rdf_xml(server: str) -> None:
    # pyoxigraph writes a CR as it is; every XML parser reads it as a LF (SPARQLWrapper and rdflib's
    # SPARQLStore ask for XML), so the value changed on its way to the client
    from SPARQLWrapper import XML, SPARQLWrapper

    client = SPARQLWrapper(server + "/sparql")
    client.setQuery(CR_LITERAL)
    client.setReturnFormat(XML)
    document = client.queryAndConvert()
    assert document.getElementsByTagName("literal")[0].firstChild.data == "line one\r\nline two\rend"
    construct = ('CONSTRUCT { <http://example.org/s> <http://example.org/p> ?o } '
                 'WHERE { VALUES ?o { "line one\\r\\nline two\\rend" } }')
    response = httpx.get(server + "/sparql", params={"query": construct}, headers={"Accept": "application/rdf+xml"})
    assert response.headers["content-type"].startswith("application/rdf+xml")
    graph = Graph().parse(data=response.content, format="xml")
    assert [str(o) for o in graph.objects()] == ["line one\r\nline two\rend"]


def test_a_control_character_is_not_sent_as_broken_xml(server: str) -> None:
    only_xml = httpx.get(server + "/sparql", params={"query": BELL_LITERAL},
                         headers={"Accept": "application/sparql-results+xml"})
    assert only_xml.status_code == 406, only_xml.text
    assert "U+0007" in only_xml.text and "SPARQL JSON" in only_xml.text
    fallback = httpx.get(server + "/sparql", params={"query": BELL_LITERAL},
                         headers={"Accept": "application/sparql-results+xml, application/sparql-results+json;q=0.5"})
    assert fallback.status_code == 200
    assert fallback.json()["results"]["bindings"][0]["o"]["value"] == "bell\x07"
    assert httpx.get(server + "/sparql", params={"query": "SELECT ?o WHERE { VALUES ?o { \"tab\\tok\" } }"},
                     headers={"Accept": "application/sparql-results+xml"}).status_code == 200


def test_the_cli_writes_xml_results_a_parser_reads_back(example_copy) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    from xml.dom import minidom

    def sparql(query: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "matchgraph", "--catalog", str(example_copy), "sparql",
                               "--format", "xml", query], capture_output=True, timeout=120)

    done = sparql(CR_LITERAL)
    assert done.returncode == 0, done.stderr
    literal = minidom.parseString(done.stdout).getElementsByTagName("literal")[0]
    assert literal.firstChild.data == "line one\r\nline two\rend"
    refused = sparql(BELL_LITERAL)
    assert refused.returncode == 2 and b"U+0007" in refused.stderr and b"--format json" in refused.stderr
    assert b"Traceback" not in refused.stderr


# ---------------------------------------------------------------------- a malformed update
def test_a_malformed_update_is_400_at_once_while_another_process_writes(example_copy) -> None:  # type: ignore[no-untyped-def]
    # the endpoint sent any update to the write path: a syntax error was found only after the write
    # lock (an import of another process: up to MATCHGRAPH_LOCK_TIMEOUT), in a child, with the
    # engine's raw multi-line message and its 0-based column
    import fcntl
    import subprocess
    import sys

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "matchgraph", "--catalog", str(example_copy), "serve",
                                "--port", str(port), "--allow-update", "--token", "t0ken"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "MATCHGRAPH_LOCK_TIMEOUT": "60"})
    url = f"http://127.0.0.1:{port}/sparql"
    auth = {"Authorization": "Bearer t0ken"}
    lock = os.open(example_copy / "locks" / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url, params={"query": "ASK {}"}, timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "matchgraph serve did not start"
                time.sleep(0.2)
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process is writing the catalog
        started = time.monotonic()
        response = httpx.post(url, data={"update": "INSERT DATA { <a> <b> "}, headers=auth, timeout=30)
        assert time.monotonic() - started < 10
        assert response.status_code == 400
        assert response.text.startswith("SPARQL syntax error at line 1, column 23: expected one of")
        assert "INSERT DATA" in response.text and "\\u{" not in response.text  # the hint, not the ranges
        fcntl.flock(lock, fcntl.LOCK_UN)
        fine = httpx.post(url, data={"update": "INSERT DATA { GRAPH <urn:test:g> { <urn:test:a> <urn:test:b> 1 } }"},
                          headers=auth, timeout=60)
        assert fine.status_code == 200, fine.text
    finally:
        os.close(lock)
        process.terminate()
        process.wait(timeout=30)
