"""The W3C SPARQL 1.1 Protocol and Service Description tests, run against ``matchgraph serve``.

Every test of the two manifests (``tests/data/w3c``, see its README) is read from the manifest and
sent as written to a real ``matchgraph serve --allow-update`` process on a localhost port: the
``ht:Request`` records (method, path, headers, body in its character encoding) in order, each
answer checked against its ``mf:expectedStatus``, ``mf:expectedFormat`` and ``mf:expectedBoolean``.
Before a test with ``ut:graphData`` the store is emptied and each data file loaded into the graph
its label names.

What the manifest leaves to the implementation: the endpoint path (``/sparql/`` in the manifest is
``/sparql`` here) and the credentials of updates (this endpoint takes updates only with a bearer
token, so every update request, the bad ones too, carries it: a 4xx must then come for the
reason the test is about, not for a missing token).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection

from matchgraph.store.isolation import child_interpreter

pytestmark = pytest.mark.server

SUITE = Path(__file__).parent / "data" / "w3c"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
TOKEN = "w3c-t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

#: mf:expectedFormat -> the media types that satisfy it (the manifest's rdfs:comment and test names)
FORMATS = {
    "boolean": {"application/sparql-results+xml", "application/sparql-results+json"},
    "tabular": {"application/sparql-results+xml", "application/sparql-results+json", "text/csv",
                "text/tab-separated-values"},
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples", "application/xhtml+xml", "text/html"},
}


def _manifest(folder: str) -> tuple[Graph, list[URIRef]]:
    path = SUITE / folder / "manifest.ttl"
    graph = Graph().parse(path, publicID=path.parent.resolve().as_uri() + "/")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    return graph, list(Collection(graph, graph.value(manifest, MF.entries)))


PROTOCOL, PROTOCOL_TESTS = _manifest("protocol")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``matchgraph serve --allow-update`` on a fresh catalog, as a user starts it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv, env = child_interpreter("matchgraph")
    catalog = tmp_path_factory.mktemp("w3c") / "catalog"
    env["MATCHGRAPH_TOKEN"] = TOKEN
    process = subprocess.Popen([*argv, "--catalog", str(catalog), "serve", "--port", str(port), "--allow-update",
                                "--workers", "1", "--timeout", "30"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/sparql", params={"query": "ASK {}"}, timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
                assert time.monotonic() < deadline, "matchgraph serve did not start"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _load(url: str, test: URIRef) -> None:
    """Empty the store and load the test's ut:graphData, each file into the graph its label names."""
    operations = ["DROP ALL"]
    for data in PROTOCOL.objects(test, UT.graphData):
        triples = Path(str(PROTOCOL.value(data, UT.graph)).removeprefix("file://")).read_text(encoding="utf-8")
        operations.append(f"INSERT DATA {{ GRAPH <{PROTOCOL.value(data, RDFS.label)}> {{ {triples} }} }}")
    response = httpx.post(url + "/sparql", content=" ;\n".join(operations),
                          headers={**AUTH, "Content-Type": "application/sparql-update"}, timeout=60)
    assert response.status_code == 200, response.text


def _is_update(headers: dict[str, str], path: str, body: bytes | None) -> bool:
    return ("sparql-update" in headers.get("content-type", "") or "update=" in path
            or (body is not None and body.startswith(b"update=")))


@pytest.mark.parametrize("test", PROTOCOL_TESTS, ids=[str(t).rsplit("#", 1)[-1] for t in PROTOCOL_TESTS])
def test_protocol(endpoint: str, test: URIRef) -> None:
    g = PROTOCOL
    if (test, UT.graphData, None) in g:
        _load(endpoint, test)
    action = g.value(test, MF.action)
    for step, request in enumerate(Collection(g, g.value(action, HT.requests)), 1):
        path = str(g.value(request, HT.absolutePath)).replace("/sparql/", "/sparql", 1)
        headers = {}
        if (listed := g.value(request, HT.headers)) is not None:
            headers = {str(g.value(h, HT.fieldName)).lower(): str(g.value(h, HT.fieldValue))
                       for h in Collection(g, listed)}
        body = None
        if (content := g.value(request, HT.body)) is not None:
            body = str(g.value(content, CNT.chars)).encode(str(g.value(content, CNT.characterEncoding) or "UTF-8"))
        if _is_update(headers, path, body):
            headers.update(AUTH)
        method = str(g.value(request, HT.methodName))
        response = httpx.request(method, endpoint + path, content=body, headers=headers, timeout=60)
        expected = g.value(request, HT.resp)
        classes = {str(s).rsplit("#", 1)[-1] for s in g.objects(expected, MF.expectedStatus)}
        said = f"request {step} ({method} {path[:60]}): {response.status_code} {response.text[:300]!r}"
        assert f"StatusCode{response.status_code // 100}xx" in classes, said
        if response.status_code >= 400:
            assert response.status_code not in (401, 403), said  # refused for the test's reason, not the token
            continue
        media = response.headers.get("content-type", "").split(";")[0].strip()
        if (fmt := g.value(expected, MF.expectedFormat)) is not None:
            assert media in FORMATS[str(fmt)], said
        if (boolean := g.value(expected, MF.expectedBoolean)) is not None:
            assert media == "application/sparql-results+json", said  # the server's first choice without Accept
            assert response.json()["boolean"] is boolean.toPython(), said


# ---------------------------------------------------------------------- the service description
SERVICE_DESCRIPTION, SD_TESTS = _manifest("service-description")
LANGUAGES = {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
FEATURES = {SD.DereferencesURIs, SD.UnionDefaultGraph, SD.RequiresDataset, SD.EmptyGraphs, SD.BasicFederatedQuery}


def _description(url: str, accept: str) -> Graph:
    response = httpx.get(url + "/sparql", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    fmt = {"text/turtle": "turtle", "application/rdf+xml": "xml"}[response.headers["content-type"].split(";")[0]]
    return Graph().parse(data=response.content, format=fmt)


@pytest.mark.parametrize("test", SD_TESTS, ids=[str(t).rsplit("#", 1)[-1] for t in SD_TESTS])
def test_service_description(endpoint: str, test: URIRef) -> None:
    name = str(test).rsplit("#", 1)[-1]
    for accept in ("text/turtle", "application/rdf+xml"):
        graph = _description(endpoint, accept)  # returns-rdf: a GET without a query returns RDF
        if name == "has-endpoint-triple":
            assert (None, SD.endpoint, URIRef(endpoint + "/sparql")) in graph
        if name == "conforms-to-schema":
            services = set(graph.subjects(RDF.type, SD.Service))
            assert services
            for service in services:
                assert all(isinstance(e, URIRef) for e in graph.objects(service, SD.endpoint))
                assert list(graph.objects(service, SD.endpoint))
                languages = set(graph.objects(service, SD.supportedLanguage))
                assert languages and languages <= LANGUAGES
                assert SD.SPARQL11Update in languages  # started with --allow-update
                assert set(graph.objects(service, SD.feature)) <= FEATURES
                for fmt in graph.objects(service, SD.resultFormat):
                    assert str(fmt).startswith("http://www.w3.org/ns/formats/")
