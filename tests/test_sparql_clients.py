"""Standard clients against ``matchgraph serve``: SPARQLWrapper with every query form and every
return format it offers (sending queries on one line, as it does), and rdflib's SPARQLStore."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from urllib.error import HTTPError

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDF, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from browser import running_server
from matchgraph import Catalog
from matchgraph.web.server import ServerConfig, create_app
from matchgraph.vocab import ID, SCHEMA

pytestmark = pytest.mark.server

#: Every query SPARQLWrapper users write starts with PREFIX lines whose IRIs end in '#'; it sends
#: them on one line.
PREFIXES = ("PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
            "PREFIX mg: <https://w3id.org/matchgraph/ns#> PREFIX schema: <https://schema.org/> ")
QUERIES = {
    "SELECT": PREFIXES + "SELECT ?e ?n WHERE { ?e rdf:type mg:Dataset ; schema:name ?n } ORDER BY ?n",
    "ASK": PREFIXES + "ASK { ?e rdf:type mg:Dataset ; schema:name \"Alpha\"^^xsd:string }",
    "CONSTRUCT": PREFIXES + "CONSTRUCT { ?e schema:name ?n } WHERE { ?e rdf:type mg:Dataset ; schema:name ?n }",
    "DESCRIBE": PREFIXES + "DESCRIBE <https://w3id.org/matchgraph/id/alpha>",
}
FITS = {"SELECT": {JSON, XML, CSV, TSV}, "ASK": {JSON, XML, CSV, TSV},
        "CONSTRUCT": {TURTLE, N3, RDF, RDFXML, XML, JSONLD, JSON},
        "DESCRIBE": {TURTLE, N3, RDF, RDFXML, XML, JSONLD, JSON}}
FORMATS = [JSON, XML, CSV, TSV, TURTLE, N3, RDF, RDFXML, JSONLD]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    from matchgraph.vocab import MG
    from rdflib import RDF as RDFNS

    catalog = Catalog("memory:")
    graph = Graph()
    for slug, name in (("alpha", "Alpha"), ("beta", "Beta")):
        graph.add((ID[slug], RDFNS.type, MG.Dataset))
        graph.add((ID[slug], SCHEMA.name, Literal(name)))
    graph.add((ID["alpha"], SCHEMA.description, Literal("first, with \"quotes\"\tand a tab", lang="en")))
    catalog.write({URIRef("urn:test:g"): graph})
    with running_server(create_app(catalog, ServerConfig())) as base:
        yield base + "/sparql"
    catalog.close()


def check(form: str, fmt: str, result: object) -> None:
    """What SPARQLWrapper's convert() gives for each fitting form and format."""
    if form == "SELECT":
        if fmt == JSON:
            assert [b["n"]["value"] for b in result["results"]["bindings"]] == ["Alpha", "Beta"]  # type: ignore[index]
        elif fmt == XML:
            literals = [n.firstChild.data for n in result.getElementsByTagName("literal")]  # type: ignore[attr-defined]
            assert literals == ["Alpha", "Beta"]
        elif fmt == CSV:
            assert result.decode().splitlines()[1].endswith(",Alpha")  # type: ignore[attr-defined]
        else:
            assert result.decode().splitlines()[1].endswith('\t"Alpha"')  # type: ignore[attr-defined]
    elif form == "ASK":
        if fmt == JSON:
            assert result["boolean"] is True  # type: ignore[index]
        elif fmt == XML:
            assert result.getElementsByTagName("boolean")[0].firstChild.data == "true"  # type: ignore[attr-defined]
        else:
            assert result.decode().strip() == "true"  # type: ignore[attr-defined]
    else:
        if isinstance(result, bytes):  # Turtle and N3 come back as text
            graph = Graph().parse(data=result.decode(), format="n3")
        elif isinstance(result, Graph):
            graph = result
        else:  # XML for a graph: a DOM of RDF/XML
            graph = Graph().parse(data=result.toxml(), format="xml")  # type: ignore[attr-defined]
        assert (ID["alpha"], SCHEMA.name, Literal("Alpha")) in graph
        if form == "DESCRIBE":
            assert len(graph) == 3  # type, name and the description with its quotes and tab


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("form", list(QUERIES))
def test_sparqlwrapper_every_form_and_format(url: str, form: str, fmt: str) -> None:
    sparql = SPARQLWrapper(url)
    sparql.setQuery(QUERIES[form])
    sparql.setReturnFormat(fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SPARQLWrapper warns when it sends Accept: */* for a format
        if fmt in FITS[form]:
            check(form, fmt, sparql.queryAndConvert())
        else:
            with pytest.raises(HTTPError) as info:
                sparql.query()
            assert info.value.code == 406
            assert "cannot be written as" in info.value.read().decode()


def test_sparqlwrapper_post(url: str) -> None:
    sparql = SPARQLWrapper(url)
    sparql.setMethod("POST")
    sparql.setQuery(QUERIES["SELECT"])
    sparql.setReturnFormat(JSON)
    assert len(sparql.queryAndConvert()["results"]["bindings"]) == 2
    sparql.setRequestMethod("postdirectly")
    assert len(sparql.queryAndConvert()["results"]["bindings"]) == 2


def test_rdflib_sparqlstore(url: str) -> None:
    graph = Graph(store=SPARQLStore(query_endpoint=url))  # its default: SPARQL XML and RDF/XML
    rows = list(graph.query(QUERIES["SELECT"]))
    assert [str(n) for _, n in rows] == ["Alpha", "Beta"]
    assert graph.query(QUERIES["ASK"]).askAnswer is True
    built = graph.query(QUERIES["CONSTRUCT"]).graph
    assert (ID["beta"], SCHEMA.name, Literal("Beta")) in built
    assert (ID["alpha"], SCHEMA.name, Literal("Alpha")) in graph  # a triple lookup becomes a query
    description = Literal("first, with \"quotes\"\tand a tab", lang="en")
    assert list(graph.objects(ID["alpha"], SCHEMA.description)) == [description]
    as_json = Graph(store=SPARQLStore(query_endpoint=url, returnFormat="json"))
    assert [str(n) for _, n in as_json.query(QUERIES["SELECT"])] == ["Alpha", "Beta"]
    assert as_json.query(QUERIES["ASK"]).askAnswer is True
