"""The SPARQL endpoint and pages of ``matchgraph serve``, through real clients on a localhost port."""

from __future__ import annotations

import gc
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from browser import browser, canvas_drawn, open_page, running_server
from matchgraph import Catalog, ConfigError
from matchgraph.web.endpoint import NotAcceptable
from matchgraph.web.server import ServerConfig, create_app, example_queries, negotiate
from matchgraph.vocab import ID, SCHEMA, sparql_prefixes

pytestmark = pytest.mark.server

TOKEN = "test-token-5b1f"
DATASETS = "SELECT ?name WHERE { ?e a mg:Dataset ; schema:name ?name } ORDER BY ?name"


def client(url: str, query: str, fmt: str | None = None) -> SPARQLWrapper:
    sparql = SPARQLWrapper(url + "/sparql")
    sparql.setQuery(query)
    if fmt:
        sparql.setReturnFormat(fmt)
    return sparql


def copy_catalog(source: Path, target: Path) -> Catalog:
    """Open a private copy of a closed catalog (collecting garbage first: a closed store stays open,
    and may still compact its files, until its last reference is gone)."""
    gc.collect()
    shutil.copytree(source, target)
    return Catalog(target)


@pytest.fixture(scope="module")
def read_only(example_catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A read-only server over a copy of the example catalog."""
    catalog = copy_catalog(example_catalog_dir, tmp_path_factory.mktemp("served") / "catalog")
    with running_server(create_app(catalog, ServerConfig(max_rows=1000))) as url:
        yield url
    catalog.close()


@pytest.fixture
def writable(example_catalog_dir: Path, tmp_path: Path) -> Iterator[tuple[str, Catalog]]:
    """A server accepting updates that carry the token."""
    catalog = copy_catalog(example_catalog_dir, tmp_path / "catalog")
    with running_server(create_app(catalog, ServerConfig(allow_update=True, token=TOKEN))) as url:
        yield url, catalog
    catalog.close()


def test_select_json_with_sparqlwrapper(read_only: str, example_catalog_dir: Path) -> None:
    result = client(read_only, sparql_prefixes() + DATASETS, JSON).queryAndConvert()
    names = [b["name"]["value"] for b in result["results"]["bindings"]]
    assert result["head"]["vars"] == ["name"]
    assert "The Pile" in names and "C4" in names
    assert names == sorted(names)


def test_select_xml_with_sparqlwrapper(read_only: str) -> None:
    doc = client(read_only, DATASETS, XML).queryAndConvert()  # prefixes are predeclared
    ns = "http://www.w3.org/2005/sparql-results#"
    names = [n.firstChild.data for n in doc.getElementsByTagNameNS(ns, "literal")]
    assert "The Pile" in names
    json_names = [b["name"]["value"] for b in client(read_only, DATASETS, JSON).queryAndConvert()["results"]["bindings"]]
    assert names == json_names


def test_csv_and_tsv(read_only: str) -> None:
    query = "SELECT ?e ?name WHERE { ?e a mg:Dataset ; schema:name ?name } ORDER BY ?name LIMIT 2"
    text = client(read_only, query, CSV).queryAndConvert().decode()
    lines = text.splitlines()
    assert lines[0] == "e,name" and len(lines) == 3
    assert lines[1].startswith(str(ID)) and "," in lines[1]
    tsv = httpx.get(read_only + "/sparql", params={"query": query}, headers={"Accept": "text/tab-separated-values"})
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    rows = tsv.text.splitlines()
    assert rows[0] == "?e\t?name" and rows[1].startswith("<" + str(ID))


def test_construct_with_sparqlwrapper(read_only: str) -> None:
    query = "CONSTRUCT { ?e schema:name ?n } WHERE { ?e a mg:Dataset ; schema:name ?n }"
    data = client(read_only, query, TURTLE).queryAndConvert()
    graph = Graph().parse(data=data, format="turtle")
    assert (ID["the-pile"], SCHEMA.name, Literal("The Pile")) in graph
    for fmt, media in (("nt", "application/n-triples"), ("json-ld", "application/ld+json")):
        response = httpx.post(read_only + "/sparql", content=query,
                              headers={"Content-Type": "application/sparql-query", "Accept": media})
        assert response.status_code == 200 and response.headers["content-type"].startswith(media)
        assert len(Graph().parse(data=response.text, format=fmt)) == len(graph)


def test_ask_and_form_post(read_only: str) -> None:
    response = httpx.post(read_only + "/sparql", data={"query": "ASK { mgid:the-pile a mg:Dataset }"},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.json() == {"head": {}, "boolean": True}


def test_update_refused_on_read_only_server(read_only: str) -> None:
    sparql = client(read_only, "INSERT DATA { <urn:x> <urn:p> 1 }")
    sparql.setMethod("POST")
    with pytest.raises(HTTPError) as info:
        sparql.query()
    assert info.value.code == 403
    assert "read-only" in info.value.read().decode()
    assert client(read_only, "ASK { <urn:x> ?p ?o }", JSON).queryAndConvert()["boolean"] is False


def test_update_sent_as_a_query_to_a_read_only_server_says_it_is_read_only(read_only: str) -> None:
    # was "send it with POST as update=", which this server then refuses as read-only
    response = httpx.get(read_only + "/sparql", params={"query": "INSERT DATA { <urn:x> <urn:p> 1 }"})
    assert response.status_code == 400
    assert "this endpoint is read-only" in response.text and "send it with POST as update=" not in response.text


def test_update_needs_the_token(writable: tuple[str, Catalog]) -> None:
    url, catalog = writable
    before = catalog.version
    update = "INSERT DATA { GRAPH <urn:g> { mgid:new-thing schema:name 'New thing' } }"
    for headers, status in (({}, 401), ({"Authorization": "Bearer wrong"}, 403)):
        response = httpx.post(url + "/sparql", data={"update": update}, headers=headers)
        assert response.status_code == status
    assert catalog.version == before
    sparql = client(url, update)
    sparql.setMethod("POST")
    sparql.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    sparql.query()
    assert catalog.version != before
    found = client(url, "SELECT ?n WHERE { mgid:new-thing schema:name ?n }", JSON).queryAndConvert()
    assert [b["n"]["value"] for b in found["results"]["bindings"]] == ["New thing"]


def test_an_update_mentioning_the_version_in_a_string_is_seen_and_a_failed_one_is_400(
        writable: tuple[str, Catalog]) -> None:
    url, catalog = writable
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = catalog.version
    update = "INSERT DATA { GRAPH <urn:g> { <urn:v2> <urn:b> 'this text mentions mg:version' } }"
    applied = httpx.post(url + "/sparql", data={"update": update}, headers=auth)
    assert applied.status_code == 200, applied.text
    assert catalog.version != before  # bumped: the string does not set the version
    assert httpx.get(url + "/sparql", params={"query": "ASK { <urn:v2> ?p ?o }"}).json()["boolean"] is True
    # an update that only reads the version is bumped too
    reads = ("INSERT { GRAPH <urn:g> { <urn:v3> <urn:saw> ?v } } WHERE { GRAPH ?m { ?c mg:version ?v } }")
    middle = catalog.version
    assert httpx.post(url + "/sparql", data={"update": reads}, headers=auth).status_code == 200
    assert catalog.version != middle
    assert httpx.get(url + "/sparql", params={"query": "ASK { <urn:v3> ?p ?o }"}).json()["boolean"] is True
    last = catalog.version
    failed = httpx.post(url + "/sparql", data={"update": "DROP GRAPH <http://nothing.example/>"}, headers=auth)
    assert failed.status_code == 400 and "the update failed" in failed.text and "Traceback" not in failed.text
    assert catalog.version == last


@pytest.mark.parametrize("update", [
    "INSERT DATA { GRAPH <urn:g> { <file:///etc/passwd> a mg:Entity, mg:Dataset ; schema:name 'Passwd' } }",
    # naming mg:version, as a remote Catalog's writes do: run as sent, by another path
    "INSERT DATA { GRAPH <urn:g> { <file:///etc/passwd> a mg:Model . <urn:v> <urn:saw> mg:version } }",
    "INSERT { GRAPH ?g { ?e a mg:Entity } } WHERE { BIND(<urn:g> AS ?g) BIND(IRI(CONCAT('fi', 'le:///etc/passwd')) AS ?e) }",
])
def test_an_update_that_makes_a_file_iri_an_entity_is_400_and_changes_nothing(writable: tuple[str, Catalog],
                                                                                update: str) -> None:
    """As ``matchgraph sparql --update`` (test_sparql_cli): the server applied it, and
    file:///etc/passwd became an entity of the catalog."""
    url, catalog = writable
    before = catalog.version
    response = httpx.post(url + "/sparql", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400, response.text
    assert response.text.startswith("the update makes file:///etc/passwd an entity, and a file: IRI names a file on "
                                    "this machine, not the entity; nothing was changed\nHint: give the entity an "
                                    "http(s) IRI, e.g. mgid:passwd"), response.text
    catalog.refresh()
    assert catalog.version == before
    assert httpx.get(url + "/sparql", params={"query": "ASK { <file:///etc/passwd> ?p ?o }"}).json()["boolean"] is False


def test_update_without_token_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        ServerConfig(allow_update=True)


def test_timeout_stops_a_slow_query(catalog: Catalog) -> None:
    graph = Graph()
    n = 4000
    for i in range(n):
        graph.add((ID[f"e{i}"], SCHEMA.value, Literal(i)))
    catalog.write({URIRef("urn:generated"): graph})
    # a cross join of 16 million pairs, one in 4,000 kept: rows stream slowly for several seconds
    slow = f"SELECT ?a ?b WHERE {{ ?a schema:value ?x . ?b schema:value ?y . FILTER(?x + ?y = {n - 1}) }}"
    app = create_app(catalog, ServerConfig(timeout=1.0, max_rows=10_000_000, workers=1))
    with running_server(app) as url:
        workers = app.state.matchgraph.endpoint.pool
        started = time.monotonic()
        with pytest.raises(HTTPError) as info:
            client(url, slow, JSON).queryAndConvert()
        elapsed = time.monotonic() - started
        assert info.value.code == 503
        assert "time limit" in info.value.read().decode()
        assert elapsed < 4.0
        fast = client(url, "SELECT (COUNT(*) AS ?n) WHERE { ?a schema:value ?x }", JSON).queryAndConvert()
        assert fast["results"]["bindings"][0]["n"]["value"] == str(n)
        assert len(workers._idle) == 1  # the killed worker was replaced, the pool is whole


def test_default_graph_uri_narrows_the_dataset(read_only: str) -> None:
    from matchgraph.vocab import STUB_GRAPH

    query = "SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a mg:Entity }"

    def count(**params: str) -> int:
        response = httpx.get(read_only + "/sparql", params={"query": query, **params})
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    everything, stubs = count(), count(**{"default-graph-uri": str(STUB_GRAPH)})
    assert 0 < stubs < everything
    assert count(**{"default-graph-uri": "urn:no-such-graph"}) == 0


def test_row_cap_cuts_and_says_so(read_only: str) -> None:
    response = httpx.get(read_only + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                         headers={"Accept": "application/sparql-results+json"})
    assert len(response.json()["results"]["bindings"]) == 1000
    assert response.headers["x-matchgraph-truncated"] == "max-rows=1000"
    small = httpx.get(read_only + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"})
    assert "x-matchgraph-truncated" not in small.headers


def test_cors(read_only: str) -> None:
    response = httpx.get(read_only + "/sparql", params={"query": "ASK {}"}, headers={"Origin": "http://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = httpx.options(read_only + "/sparql", headers={
        "Origin": "http://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization"})
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


def test_errors_are_clear(read_only: str) -> None:
    bad = httpx.get(read_only + "/sparql", params={"query": "SELECT ?x WHERE { ?x ?p }"})
    assert bad.status_code == 400 and "syntax" in bad.text.lower()
    refused = httpx.get(read_only + "/sparql", params={"query": "ASK {}"}, headers={"Accept": "image/png"})
    assert refused.status_code == 406
    description = httpx.get(read_only + "/sparql", headers={"Accept": "text/turtle"})
    assert "sd:Service" in description.text


def test_negotiation_prefers_the_highest_q() -> None:
    assert negotiate("text/csv;q=0.5, application/sparql-results+xml", "SELECT").key == "xml"
    assert negotiate(None, "SELECT").key == "json"
    assert negotiate("application/json", "CONSTRUCT").key == "json-ld"  # JSON for a graph is JSON-LD
    assert negotiate("text/html", "SELECT", "tsv").key == "tsv"
    with pytest.raises(NotAcceptable):  # a results format for a graph is refused, not swapped
        negotiate("application/sparql-results+json", "CONSTRUCT")


def test_example_queries_run(read_only: str) -> None:
    examples = example_queries()
    assert examples, "examples/queries holds no .rq file"
    for example in examples:
        response = httpx.post(read_only + "/sparql", data={"query": example["query"]},
                              headers={"Accept": "application/sparql-results+json, text/turtle;q=0.5"})
        assert response.status_code == 200, (example["name"], response.text)


# ---------------------------------------------------------------------- pages
@pytest.fixture(scope="module")
def probe_server(example_catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over the example catalog plus an entity whose name and texts are injection probes."""
    from matchgraph import ingest

    catalog = copy_catalog(example_catalog_dir, tmp_path_factory.mktemp("probes") / "catalog")
    ingest(catalog, [Path(__file__).parent / "data" / "probes"])
    with running_server(create_app(catalog)) as url:
        yield url
    catalog.close()


@pytest.mark.parametrize("path", ["/", "/entity/the-pile", "/entity/probe-entity", "/query",
                                  "/match?q=small+fast+masked+language+model", "/compare/the-pile/c4"])
def test_pages_render(probe_server: str, path: str) -> None:
    response = httpx.get(probe_server + path, follow_redirects=True)
    assert response.status_code == 200, response.text
    assert "<img src=x onerror" not in response.text
    assert "</script><script>alert" not in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_entity_names_redirect_and_unknown_is_404(probe_server: str) -> None:
    response = httpx.get(probe_server + "/entity/Pile")  # an alias
    assert response.status_code == 302 and response.headers["location"] == "/entity/the-pile"
    missing = httpx.get(probe_server + "/entity/the-pilf")
    assert missing.status_code == 404 and "the-pile" in missing.text


def test_every_page_names_its_icon_and_the_server_answers_favicon_ico(probe_server: str) -> None:
    """Browsers asked every server for /favicon.ico, and each page's visit logged a 404: the pages
    now carry their icon inline (no request), and /favicon.ico answers it for the other documents."""
    from html.parser import HTMLParser
    from urllib.parse import unquote
    from xml.etree import ElementTree

    class Icons(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            named = dict(attrs)
            if tag == "link" and named.get("rel") == "icon":
                self.found.append(named.get("href") or "")

    icon = httpx.get(probe_server + "/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert ElementTree.fromstring(icon.content).tag == "{http://www.w3.org/2000/svg}svg" and len(icon.content) < 1000
    for path in ("/", "/entity/the-pile", "/entity/the-pilf", "/query", "/graph", "/match?q=corpus",
                 "/compare/the-pile/c4", "/graph?size=0"):
        parser = Icons()
        parser.feed(httpx.get(probe_server + path).text)
        assert len(parser.found) == 1, path
        prefix = "data:image/svg+xml,"
        assert parser.found[0].startswith(prefix) and unquote(parser.found[0][len(prefix):]) == icon.text, path


@pytest.mark.browser
def test_served_pages_in_chromium(probe_server: str) -> None:
    with browser() as b:
        for path in ("/entity/probe-entity", "/entity/the-pile"):
            with open_page(b, probe_server + path) as (page, report):
                page.wait_for_selector(".graph-canvas[data-stabilised=true]", timeout=30_000)
                page.wait_for_timeout(300)
                assert canvas_drawn(page, ".graph-canvas canvas") > 500
                assert "<img src=x onerror=alert(1)>" in page.inner_text("body")
                report.assert_clean()
        with open_page(b, probe_server + "/query") as (page, report):
            page.select_option("#examples", index=1)
            page.click("#run")
            page.wait_for_selector("#query-results table, #query-results pre, #query-error:not(.hidden)")
            assert page.locator("#query-error.hidden").count() == 1, page.inner_text("#query-error")
            report.assert_clean()
        with open_page(b, probe_server + "/") as (page, report):
            page.fill("#browse-q", "pile")
            page.press("#browse-q", "Enter")
            page.wait_for_url("**/?q=pile")
            assert page.locator("#entity-rows a", has_text="The Pile").count() == 1
            page.fill("#browse-q", "onerror")
            page.press("#browse-q", "Enter")
            page.wait_for_url("**/?q=onerror")
            assert "<img src=x onerror=alert(1)>" in page.inner_text("#entity-rows")
            page.wait_for_timeout(100)
            # the inlined icon is an image Chromium draws (a 32 x 32 view box)
            assert page.evaluate("""async () => { const i = new Image();
                i.src = document.querySelector('link[rel=icon]').href; await i.decode();
                return [i.naturalWidth, i.naturalHeight]; }""") == [32, 32]
            report.assert_clean()


def test_matchgraph_serve_command(example_catalog_dir: Path, tmp_path: Path) -> None:
    """``matchgraph serve`` as a user runs it: SPARQLWrapper gets results and its update is refused."""
    import socket
    import subprocess
    import sys

    catalog = copy_catalog(example_catalog_dir, tmp_path / "catalog")
    catalog.close()
    del catalog
    gc.collect()  # a closed store stays locked until it is collected
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "matchgraph", "--catalog", str(tmp_path / "catalog"), "serve",
               "--port", str(port), "--timeout", "5"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/sparql", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
                assert time.monotonic() < deadline, "matchgraph serve did not start"
                time.sleep(0.2)
        names = [b["name"]["value"] for b in client(url, DATASETS, JSON).queryAndConvert()["results"]["bindings"]]
        assert "The Pile" in names
        sparql = client(url, "DELETE WHERE { ?s ?p ?o }")
        sparql.setMethod("POST")
        with pytest.raises(HTTPError) as info:
            sparql.query()
        assert info.value.code == 403
    finally:
        process.terminate()
        process.wait(timeout=20)
