"""``matchgraph sparql``: SELECT, ASK, CONSTRUCT, DESCRIBE in every format; files, stdin; read-only by default."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from matchgraph.errors import QueryError
from matchgraph.store.sparql import format_result, query_kind, result_to_json

NAMES = 'SELECT ?name WHERE { ?e a mg:Entity ; schema:name ?name FILTER NOT EXISTS { ?e mg:isStub true } } ORDER BY ?name'


@pytest.fixture
def cat_dir(page_catalog_dir: Path, tmp_path: Path) -> Path:
    """A closed catalog directory holding the comparison page."""
    path = tmp_path / "cat"
    shutil.copytree(page_catalog_dir, path)
    return path


@pytest.fixture
def sparql(invoke, cat_dir: Path):  # type: ignore[no-untyped-def]
    """``sparql(*args, input=None)``: run ``matchgraph sparql`` on the page catalog; (exit code, output)."""

    def run(*args: object, input: str | None = None) -> tuple[int, str]:
        result = invoke("sparql", *args, "--catalog", cat_dir, input=input)
        return result.exit_code, result.output

    return run


# ------------------------------------------------------------------ query kinds


@pytest.mark.parametrize("text, kind", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
    ("prefix ex: <http://ex/>\n# a comment saying DELETE\nselect ?s where { ?s ex:p 'INSERT' }", "SELECT"),
    ("ASK { ?s ?p ?o }", "ASK"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
    ("DESCRIBE <http://ex/a>", "DESCRIBE"),
    ("INSERT DATA { <http://ex/a> <http://ex/b> 1 }", "UPDATE"),
    ("PREFIX ex: <http://ex/drop> DELETE WHERE { ?s ex:p ?o }", "UPDATE"),
    ("DROP SILENT ALL", "UPDATE"),
    ("WITH <http://ex/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "UPDATE"),
])
def test_query_kind(text: str, kind: str) -> None:
    assert query_kind(text) == kind


def test_text_that_is_no_query_is_refused() -> None:
    with pytest.raises(QueryError):
        query_kind("hello there")


# ------------------------------------------------------------------ SELECT in every format


def test_select_table(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql(NAMES)
    assert code == 0
    assert "The Pile" in out and "distilroberta-base" in out and "2 rows" in out


def test_select_json_is_sparql_results_json(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql(NAMES, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["head"] == {"vars": ["name"]}
    assert data["results"]["bindings"] == [{"name": {"type": "literal", "value": "The Pile"}},
                                           {"name": {"type": "literal", "value": "distilroberta-base"}}]


def test_select_json_types_iris_numbers_and_unbound(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql("""SELECT ?e ?n ?missing WHERE { ?e dcterms:identifier "the-pile" ;
        mg:declaredCapabilityCount ?n OPTIONAL { ?e mg:noSuchProperty ?missing } }""", "--format", "json")
    binding = json.loads(out)["results"]["bindings"][0]
    assert binding["e"] == {"type": "uri", "value": "https://w3id.org/matchgraph/id/the-pile"}
    assert binding["n"] == {"type": "literal", "value": "12",
                            "datatype": "http://www.w3.org/2001/XMLSchema#integer"}
    assert "missing" not in binding


def test_select_csv(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql(NAMES, "--format", "csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [["name"], ["The Pile"], ["distilroberta-base"]]


def test_csv_lines_end_with_crlf(page_catalog) -> None:  # type: ignore[no-untyped-def]
    """SPARQL 1.1 CSV ends lines with CRLF (click's test runner hides it, so check the library)."""
    out = format_result(page_catalog.query(NAMES), "csv")
    assert out == "name\r\nThe Pile\r\ndistilroberta-base\r\n"


def test_select_tsv(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql('SELECT ?name ?e ?x WHERE { ?e dcterms:identifier "the-pile" ; schema:name ?name . '
                       'BIND("tab\there" AS ?x) }', "--format", "tsv")
    assert code == 0
    header, row = out.splitlines()
    assert header == "?name\t?e\t?x"
    assert row.split("\t") == ['"The Pile"', "<https://w3id.org/matchgraph/id/the-pile>", '"tab\\there"']


# ------------------------------------------------------------------ ASK, CONSTRUCT, DESCRIBE


def test_ask(sparql) -> None:  # type: ignore[no-untyped-def]
    assert sparql("ASK { mgid:the-pile a mg:Dataset }") == (0, "true\n")
    assert sparql("ASK { mgid:the-pile a mg:Model }") == (0, "false\n")
    code, out = sparql("ASK { mgid:the-pile a mg:Dataset }", "--format", "json")
    assert json.loads(out) == {"head": {}, "boolean": True}


def test_construct_gives_turtle_by_default(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql("CONSTRUCT { ?e schema:name ?n } WHERE { ?e a mg:Entity ; schema:name ?n }")
    assert code == 0
    graph = Graph().parse(data=out, format="turtle")
    assert str(graph.value(URIRef("https://w3id.org/matchgraph/id/the-pile"), URIRef("https://schema.org/name"))) \
        == "The Pile"
    assert len(graph) > 20  # the two entities and every stub


@pytest.mark.parametrize("fmt, parser", [("nt", "nt"), ("json-ld", "json-ld"), ("turtle", "turtle")])
def test_construct_in_other_rdf_formats(sparql, fmt: str, parser: str) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql("CONSTRUCT WHERE { mgid:the-pile schema:name ?n }", "--format", fmt)
    assert code == 0
    assert len(Graph().parse(data=out, format=parser)) == 1


def test_describe(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql("DESCRIBE mgid:the-pile")
    assert code == 0
    graph = Graph().parse(data=out, format="turtle")
    pile = URIRef("https://w3id.org/matchgraph/id/the-pile")
    assert str(graph.value(pile, URIRef("https://schema.org/name"))) == "The Pile"
    assert len(list(graph.objects(pile, URIRef("https://w3id.org/matchgraph/ns#hasCapability")))) == 8


# ------------------------------------------------------------------ where the query comes from


def test_query_from_a_file(sparql, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    query = tmp_path / "names.rq"
    query.write_text("# the described entities\n" + NAMES + "\n", encoding="utf-8")
    code, out = sparql("-f", query, "--format", "csv")
    assert (code, out.split()) == (0, ["name", "The", "Pile", "distilroberta-base"])


def test_query_from_stdin(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql("-", "--format", "csv", input=NAMES)
    assert (code, out.splitlines()[1]) == (0, "The Pile")
    code, out = sparql("-f", "-", "--format", "csv", input=NAMES)
    assert (code, out.splitlines()[1]) == (0, "The Pile")


def test_no_query_is_a_usage_error(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql()
    assert code == 2 and "give a query" in out


def test_syntax_error_names_the_line_of_the_query(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql("SELECT ?x\nWHERE {\n  ?x a mg:Entity .\n  FILTER(\n}")
    assert code == 2
    assert "SPARQL syntax error" in out and "line 5" in out
    assert "Traceback" not in out


def test_group_level_catalog_option(invoke, cat_dir: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--catalog", cat_dir, "sparql", "ASK { mgid:the-pile a mg:Dataset }")
    assert (result.exit_code, result.output) == (0, "true\n")


# ------------------------------------------------------------------ updates


def test_update_is_refused_without_update_flag(sparql, peek, cat_dir: Path) -> None:  # type: ignore[no-untyped-def]
    before = peek(cat_dir)
    code, out = sparql('INSERT DATA { mgid:the-pile schema:alternateName "Pile" }')
    assert code == 2
    assert "SPARQL update" in out and "read-only" in out and "--update" in out
    assert peek(cat_dir) == before


def test_update_is_applied_with_update_flag(sparql, peek, cat_dir: Path) -> None:  # type: ignore[no-untyped-def]
    triples, version = peek(cat_dir)
    code, out = sparql('INSERT DATA { GRAPH <urn:x-test:g> { mgid:the-pile schema:alternateName "Pile" } }',
                       "--update")
    assert code == 0 and "Update applied" in out
    after, new_version = peek(cat_dir)
    assert after == triples + 1 and new_version != version
    assert sparql('ASK { mgid:the-pile schema:alternateName "Pile" }') == (0, "true\n")


def test_the_documented_update_runs_as_written(invoke, example_catalog_dir: Path,  # type: ignore[no-untyped-def]
                                               tmp_path: Path) -> None:
    """docs/cli.md's update example corrects The Pile's URL (it deleted the stubs, leaving a catalog
    that failed validate): run as written on the example catalog, it replaces the value."""
    cat = tmp_path / "examples"
    shutil.copytree(example_catalog_dir, cat)
    urls = "SELECT ?u WHERE { GRAPH ?g { mgid:the-pile schema:url ?u } }"
    before = invoke("sparql", urls, "--format", "csv", "--catalog", cat)
    assert before.exit_code == 0 and before.output.splitlines()[1:] == ["https://pile.eleuther.ai/"]
    docs = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")
    update = next(line for line in docs.splitlines() if line.startswith("matchgraph sparql --update"))
    done = invoke("sparql", update.split("'")[1], "--update", "--catalog", cat)
    assert done.exit_code == 0 and "Update applied" in done.output
    after = invoke("sparql", urls, "--format", "csv", "--catalog", cat)
    assert after.output.splitlines()[1:] == ["https://pile.eleuther.ai/paper.pdf"]


@pytest.mark.parametrize("update", [
    'INSERT DATA { <file:///etc/passwd> a mg:Entity, mg:Tool ; schema:name "Passwd" }',
    "INSERT DATA { GRAPH <urn:x-test:g> { <file:///etc/passwd> a mg:Model } }",  # a kind is an entity too
    "BASE <file:///etc/> INSERT DATA { <passwd> a mg:Entity }",
    r"INSERT DATA { <fil\u0065:///etc/passwd> a mg:Entity }",
    'INSERT { ?e a mg:Entity } WHERE { BIND(IRI(CONCAT("fi", "le:///etc/passwd")) AS ?e) }',
])
def test_an_update_that_makes_a_file_iri_an_entity_is_refused(sparql, peek, cat_dir: Path,  # type: ignore[no-untyped-def]
                                                               update: str) -> None:
    """As ingest refuses such an entity in a file (test_hostile_inputs): the update was applied, and
    file:///etc/passwd became an entity of the catalog."""
    before = peek(cat_dir)
    code, out = sparql(update, "--update")
    assert code == 2, out
    assert ("Error: the update makes file:///etc/passwd an entity, and a file: IRI names a file on this machine, "
            "not the entity; nothing was changed\n") in out
    assert "Hint: give the entity an http(s) IRI, e.g. mgid:passwd" in out and "Traceback" not in out
    assert peek(cat_dir) == before


def test_a_file_iri_may_be_stored_but_not_made_an_entity(sparql, peek, cat_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """Ingest stores a file: IRI that is no entity (``<>``, a DCAT file's own document), and so may an
    update; one that makes it an entity from a pattern is refused, and an entity with such an IRI
    written before the check existed does not block later updates."""
    from matchgraph import Catalog

    code, out = sparql("INSERT DATA { GRAPH <urn:x-test:g> { <file:///data/catalog.ttl> a dcat:Catalog } }", "--update")
    assert code == 0, out
    before = peek(cat_dir)
    code, out = sparql("INSERT { GRAPH <urn:x-test:g> { ?d a mg:Entity } } WHERE { GRAPH ?g { ?d a dcat:Catalog } }",
                       "--update")
    assert code == 2 and "the update makes file:///data/catalog.ttl an entity" in out, out
    assert peek(cat_dir) == before
    with Catalog(cat_dir) as catalog, catalog.transaction() as txn:  # as an older matchgraph could write it
        txn.update("INSERT DATA { GRAPH <urn:x-test:old> { <file:///old/entity> a mg:Entity } }")
    triples, _ = peek(cat_dir)
    code, out = sparql("INSERT { GRAPH <urn:x-test:g> { ?e a mg:Entity } } WHERE { GRAPH ?g { ?e a mg:Entity } }",
                       "--update")
    assert code == 0, out
    assert peek(cat_dir)[0] > triples


# ------------------------------------------------------------------ the library


def test_result_to_json_for_select_and_ask(page_catalog) -> None:  # type: ignore[no-untyped-def]
    data = result_to_json(page_catalog.query('SELECT ?n WHERE { mgid:the-pile schema:name ?n }'))
    assert data == {"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"type": "literal", "value": "The Pile"}}]}}
    assert result_to_json(page_catalog.query("ASK { ?s ?p ?o }")) == {"head": {}, "boolean": True}


def test_an_endpoint_that_is_down_is_named(invoke) -> None:  # type: ignore[no-untyped-def]
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/sparql"
    result = invoke("sparql", "ASK {}", "--catalog", url)
    assert result.exit_code == 1
    assert f"cannot reach the SPARQL endpoint {url}" in result.output and "refused" in result.output
    assert "You did something wrong" not in result.output and "Traceback" not in result.output


def test_a_format_that_does_not_fit_is_a_usage_error(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql("CONSTRUCT WHERE { mgid:the-pile schema:name ?n }", "--format", "csv")
    assert code == 2 and "cannot be written as csv" in out and "--format table, turtle, nt, json-ld" in out
    code, out = sparql(NAMES, "--format", "turtle")
    assert code == 2 and "--format table, json, xml, csv, tsv" in out


def test_one_line_prefix_query_as_sparqlwrapper_sends_it(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql("PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> "
                       "SELECT ?s WHERE { ?s rdf:type mg:Dataset } LIMIT 1", "--format", "csv")
    assert code == 0 and out.splitlines() == ["s", "https://w3id.org/matchgraph/id/the-pile"]


# ------------------------------------------------------------------ hostile text and files


def test_table_cells_are_data_not_markup(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql('SELECT ?x WHERE { VALUES ?x { "[/i]" "a[i]b" "[bold]x" } }')
    assert code == 0, out
    for cell in ("[/i]", "a[i]b", "[bold]x"):
        assert cell in out


def test_a_query_file_that_is_not_utf8_names_its_line(sparql, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "latin1.rq"
    path.write_bytes(b'# a query\nSELECT ?x WHERE { VALUES ?x { "caf\xe9" } }\n')
    code, out = sparql("-f", path)
    assert code == 1 and f"{path}:2: byte" in out and "UTF-8" in out and "Traceback" not in out


def test_query_and_file_together_are_refused(sparql, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.rq"
    path.write_text("ASK {}", encoding="utf-8")
    code, out = sparql("-f", path, "SELECT * {}")
    assert code == 2 and "not both" in out


def test_byte_order_mark_and_from_in_a_name(sparql) -> None:  # type: ignore[no-untyped-def]
    code, out = sparql("-", "--format", "csv", input="\ufeffASK {}")
    assert code == 0 and out == "true\n"
    # "from" in a comment and a negative number after a term: rdflib's grammar refuses it, Oxigraph runs it
    code, out = sparql("SELECT (COUNT(*) AS ?n) WHERE { ?e schema:name ?name VALUES ?x { -1.0 } } # from the docs",
                       "--format", "csv")
    assert code == 0 and int(out.splitlines()[1]) > 0


@pytest.mark.parametrize(("text", "form", "dataset"), [
    (r"SELECT ?n (<urn:\u0041#> AS ?x) FROM <urn:g> WHERE { ?e ?p ?n }", "SELECT", True),  # escape in an IRI
    ("PREFIX ex: <urn:ex:> SELECT ?n (ex:a€\\#b AS ?x) FROM <urn:g> WHERE { ?e ?p ?n }", "SELECT", True),
    (r"SELECT ?n WHERE { ?e ?p ?n FILTER(?e != <urn:\u0041/FROM>) }", "SELECT", False),
    ("PREFIX ex: <urn:ex:> SELECT ?n WHERE { ?e ex:a€FROM ?n }", "SELECT", False),
    (r"PREFIX p: <SELECT\u0041/> CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT", False),
    (r"BASE <SELECT/\u0041> INSERT DATA { <a> <b> <c> }", "UPDATE", False),
    ("SELECT * WHERE { ?s ?p \"\"\"two\nlines from \"\" here\"\"\" }", "SELECT", False),
    ("select * from<g>{}", "SELECT", True),
])
def test_the_lexer_reads_form_and_from_as_the_grammar_does(text: str, form: str, dataset: bool) -> None:
    from matchgraph.store.sparql import parse_query

    parsed = parse_query(text)
    assert (parsed.form, parsed.has_dataset) == (form, dataset)


def test_escapes_cannot_hide_a_service_clause() -> None:
    from matchgraph.store.sparql import check_reach, parse_query

    # rdflib expands \u everywhere, Oxigraph only in strings: "\u0022" opened a long string for one
    hidden = r'SELECT * WHERE { BIND("\u0022" AS ?x) SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } BIND("\u0022" AS ?y) }'
    assert parse_query(hidden).services == ("http://127.0.0.1:9/",)
    with pytest.raises(QueryError, match="SERVICE <http://127.0.0.1:9/>"):
        check_reach(parse_query(hidden))
    load = r'INSERT DATA { <urn:a> <urn:b> "\u0022" } ; LOAD <http://127.0.0.1:9/x> ; INSERT DATA { <urn:a> <urn:b> "\u0022" }'
    with pytest.raises(QueryError, match="LOAD <http://127.0.0.1:9/x>"):
        check_reach(parse_query(load))
    # outside strings and IRIs a \u escape is no keyword for Oxigraph (a syntax error): nothing to reach
    assert parse_query(r"SELECT * WHERE { \u0053ERVICE <http://127.0.0.1:9/> { } }").services == ()


def test_a_keyword_inside_a_word_is_refused() -> None:
    from matchgraph.store.sparql import parse_query

    with pytest.raises(QueryError, match="'trueSERVICE' holds the keyword SERVICE"):
        parse_query("SELECT * WHERE { ?s ?p trueSERVICE <http://127.0.0.1:9/> { } }")


@pytest.mark.parametrize("text", [
    "SELECT ?c ?v WHERE { ?c mg:concept mgc:data-loading VALUES ?v { -1.0 } } LIMIT 1",
    'SELECT * WHERE { BIND("download" AS ?x) BIND(<<( <a:b> <a:c> <a:d> )>> AS ?t) }',
    "SELECT ?service ?load WHERE { ?service <urn:x:loads> ?load } # SERVICE <http://127.0.0.1:9/>",
])
def test_the_letters_service_and_load_are_not_keywords(invoke, tmp_path: Path, text: str) -> None:  # type: ignore[no-untyped-def]
    """Valid SPARQL 1.1 and 1.2 that merely holds the letters runs (rdflib's grammar refused the first two)."""
    from matchgraph import Catalog
    from matchgraph.store.sparql import parse_query

    assert parse_query(text).services == ()
    Catalog(tmp_path / "c").update("INSERT DATA { GRAPH <urn:x-test:g> { <urn:x-test:a> <urn:x-test:b> 1 } }")
    result = invoke("sparql", text, "--catalog", tmp_path / "c", "--format", "json")
    assert result.exit_code == 0, result.output


def test_a_result_the_format_cannot_hold_is_an_error(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from matchgraph import Catalog

    Catalog(tmp_path / "c").update("INSERT DATA { GRAPH <urn:x-test:g> { <urn:x-test:a> <urn:x-test:b> 1 } }")
    broken = invoke("sparql", 'CONSTRUCT { <http://a> <http://example.org/p/> "x" } WHERE {}', "--format", "rdfxml",
                    "--catalog", tmp_path / "c")
    assert broken.exit_code == 2 and "RDF/XML cannot write this result" in broken.output
    star = invoke("sparql", 'CONSTRUCT { <http://a> <http://b> <<( <http://a> <http://b> "c" )>> } WHERE {}',
                  "--format", "json-ld", "--catalog", tmp_path / "c")
    assert star.exit_code == 2 and "JSON-LD cannot write this result" in star.output
    fine = invoke("sparql", 'CONSTRUCT { <http://a> <http://example.org/p> "x" } WHERE {}', "--format", "rdfxml",
                  "--catalog", tmp_path / "c")
    assert fine.exit_code == 0 and Graph().parse(data=fine.output, format="xml")


@pytest.mark.parametrize(("text", "services", "loads"), [
    ("PREFIX : <http://127.0.0.1:9/> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }", ("http://127.0.0.1:9/x",), ()),
    ("PREFIX p: <http://127.0.0.1:9/> SELECT * WHERE { SERVICESILENTp:x { ?s ?p ?o } }", ("SILENTp:x", "http://127.0.0.1:9/x"), ()),
    ("PREFIX : <http://127.0.0.1:9/> CLEAR ALL ; LOAD:x", (), ("http://127.0.0.1:9/x",)),
    ("BASE <http://127.0.0.1:8/b/> PREFIX p: <http:> SELECT * WHERE { SERVICE p:\\/\\/127.0.0.1:9\\/x { ?s ?p ?o } }",
     ("http://127.0.0.1:9/x",), ()),
    ("PREFIX service: <urn:s:> SELECT * WHERE { service:a service:b ?o }", (), ()),
    ("PREFIX load: <urn:l:> INSERT DATA { load:a load:b load:c } ; CLEAR GRAPH load:g", (), ()),
])
def test_reach_is_read_as_oxigraph_reads_it(text: str, services: tuple[str, ...], loads: tuple[str, ...]) -> None:
    """Cases a fuzz of the guard against Oxigraph found (each made Oxigraph connect while the guard
    saw nothing, or another host): keywords glued to prefixed names, PREFIX IRIs resolved by RFC 3986."""
    from matchgraph.store.sparql import parse_query

    parsed = parse_query(text)
    assert (parsed.services, parsed.loads) == (services, loads)


def test_a_port_that_is_no_port_is_refused_not_a_crash() -> None:
    from matchgraph.store.sparql import check_reach, parse_query

    for text in ("SELECT * WHERE { SERVICE <http://127.0.0.1:+18765/x> { ?s ?p ?o } }",
                 "SELECT * WHERE { SERVICE <http://127.0.0.1:99999/x> { ?s ?p ?o } }",
                 "SELECT * WHERE { SERVICE <http://[::1/x> { ?s ?p ?o } }"):
        with pytest.raises(QueryError, match="SERVICE"):
            check_reach(parse_query(text), allow_service=("127.0.0.1",))


def test_a_host_written_another_way_is_the_same_host() -> None:
    """127.1, 0x7f.1 and 2130706433 are 127.0.0.1 to the engine's resolver: allowing one allows
    the others, and not allowing one refuses them all."""
    from matchgraph.store.sparql import check_reach, parse_query

    for spelling in ("127.1", "0x7f.1", "2130706433", "0177.0.0.1", "127.000.000.001"):
        parsed = parse_query(f"SELECT * WHERE {{ SERVICE <http://{spelling}:18765/x> {{ ?s ?p ?o }} }}")
        check_reach(parsed, allow_service=("127.0.0.1:18765",))
        with pytest.raises(QueryError, match="SERVICE"):
            check_reach(parsed, allow_service=("127.0.0.2",))
    check_reach(parse_query("SELECT * WHERE { SERVICE <http://127.0.0.1:8/x> { } }"), allow_service=("0x7f.1",))
    check_reach(parse_query("SELECT * WHERE { SERVICE <http://[::1]:8/x> { } }"), allow_service=("[::1]:8",))


@pytest.mark.parametrize("update", ["DROP GRAPH <http://nothing.example/>", "CLEAR GRAPH <http://nothing.example/>",
                                    "CREATE GRAPH <https://w3id.org/matchgraph/graph/meta>"])
def test_an_update_the_engine_cannot_do_is_a_message_not_a_traceback(example_copy: Path, update: str) -> None:
    # Oxigraph raises RuntimeError for these; it went through as a traceback and exit code 1
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "matchgraph", "--catalog", str(example_copy), *args],
                              capture_output=True, text=True, timeout=120)

    before = run("sparql", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", "--format", "csv").stdout
    done = run("sparql", "--update", update)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "the update failed and changed nothing" in done.stderr
    assert "SILENT" in done.stderr
    assert run("sparql", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", "--format", "csv").stdout == before
    assert run("sparql", "--update", update.replace(" GRAPH", " SILENT GRAPH")).returncode == 0
