"""The shapes compiled to SPARQL agree with pyshacl, refuse what they cannot translate, and drive ingest."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from matchgraph import Catalog, ingest
from matchgraph.errors import ValidationError
from matchgraph.ontology import ontology_graph, shapes_graph
from matchgraph.store.shapes import (
    UnsupportedShape, check_store, compile_shapes, graph_store, load_triples, subclass_edges,
)
from matchgraph.store.validate import validate_graph, violations
from matchgraph.vocab import ID, MG, SCHEMA

BAD = Path(__file__).resolve().parent / "data" / "bad"
PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def pairs(found: list) -> set[tuple[str, str]]:  # type: ignore[type-arg]
    """The (focus node, path) of each violation."""
    return {(str(v.focus), str(v.path)) for v in found}


def agree(data: Graph) -> tuple[set[tuple[str, str]], list[str]]:
    """Run both engines; assert they agree on conformance, violations and sentences; return them."""
    fast = validate_graph(data, engine="sparql")
    reference = validate_graph(data, engine="pyshacl")
    assert pairs(fast.violations) == pairs(reference.violations)
    assert fast.conforms == reference.conforms == (not reference.violations)
    assert fast.problems == reference.problems
    return pairs(fast.violations), fast.problems


@pytest.fixture(scope="module")
def example_data(tmp_path_factory: pytest.TempPathFactory) -> Graph:
    """The data graph of the ingested example catalog (the vocabulary's own graph left out)."""
    with Catalog(tmp_path_factory.mktemp("shapes") / "cat") as cat:
        ingest(cat, [Path(__file__).resolve().parent.parent / "examples" / "catalog"])
        rows = cat.rows("SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
                        "FILTER(?g != <https://w3id.org/matchgraph/graph/meta> "
                        "&& ?g != <https://w3id.org/matchgraph/graph/ontology>) }")
    graph = Graph()
    for row in rows:
        graph.add(row)
    return graph


def first(graph: Graph, kind: URIRef) -> URIRef:
    return sorted(s for s in graph.subjects(RDF.type, kind) if isinstance(s, URIRef))[0]


# ------------------------------------------------------------------ agreement with pyshacl


def test_the_example_catalog_conforms_under_both_engines(example_data: Graph) -> None:
    assert len(example_data) > 1000 and any(example_data.subjects(RDF.type, MG.Capability))
    found, problems = agree(example_data)
    assert not found and not problems


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.glob("*.ttl") if p.name != "syntax_error.ttl"))
def test_bad_fixtures_fail_alike(name: str) -> None:
    found, problems = agree(Graph().parse(BAD / name, format="turtle"))
    assert found and problems


def _remove_name(g: Graph) -> set[tuple[str, str]]:
    e = first(g, MG.Model)
    g.remove((e, SCHEMA.name, None))
    return {(str(e), str(SCHEMA.name))}


def _two_positions(g: Graph) -> set[tuple[str, str]]:
    c = first(g, MG.Capability)
    g.add((c, MG.position, Literal(99)))
    return {(str(c), str(MG.position))}


def _wrong_datatype(g: Graph) -> set[tuple[str, str]]:
    e, c = first(g, MG.Dataset), first(g, MG.Capability)
    g.add((e, MG.isStub, Literal("yes")))
    g.set((c, MG.position, Literal("abc", datatype=XSD.integer)))  # ill-typed: right datatype, bad lexical form
    return {(str(e), str(MG.isStub)), (str(c), str(MG.position))}


def _class_mismatch(g: Graph) -> set[tuple[str, str]]:
    e, c = first(g, MG.Framework), first(g, MG.Capability)
    g.add((e, MG.hasCapability, e))            # an entity is no capability
    g.add((e, MG.derivedFrom, c))              # a capability is no entity
    g.add((e, MG.trainedOn, Literal("text")))  # a literal has no class
    return {(str(e), str(MG.hasCapability)), (str(e), str(MG.derivedFrom)), (str(e), str(MG.trainedOn))}


def _url_literal(g: Graph) -> set[tuple[str, str]]:
    e = first(g, MG.Library)
    g.set((e, SCHEMA.url, Literal("https://example.org/")))
    return {(str(e), str(SCHEMA.url))}


def _negative_metric(g: Graph) -> set[tuple[str, str]]:
    m = first(g, MG.UsageMetric)
    g.set((m, SCHEMA.value, Literal(-5)))
    return {(str(m), str(SCHEMA.value))}


def _metric_as_text(g: Graph) -> set[tuple[str, str]]:
    m = first(g, MG.UsageMetric)
    g.set((m, SCHEMA.value, Literal("12")))  # neither integer, decimal nor double; not comparable to 0
    return {(str(m), str(SCHEMA.value))}


def _score(value: Literal, kind: Literal) -> Callable[[Graph], set[tuple[str, str]]]:
    def mutate(g: Graph) -> set[tuple[str, str]]:
        s = ID["some-model/score/rank"]
        g.add((s, RDF.type, MG.Score))
        g.add((s, SCHEMA.value, value))
        g.add((s, MG.scoreKind, kind))
        return {(str(s), str(p)) for p, bad in [(SCHEMA.value, not 0 <= float(value) <= 100),
                                                 (MG.scoreKind, str(kind) not in {"rank", "quality"})] if bad}
    return mutate


def _pattern(g: Graph) -> set[tuple[str, str]]:
    e = first(g, MG.Benchmark)
    g.set((e, DCTERMS.identifier, Literal("Not A Slug")))
    return {(str(e), str(DCTERMS.identifier))}


def _empty_and_tagged_names(g: Graph) -> set[tuple[str, str]]:
    e, f = first(g, MG.Model), first(g, MG.Dataset)
    g.set((e, SCHEMA.name, Literal("")))               # too short
    g.set((f, SCHEMA.name, Literal("Name", lang="en")))  # rdf:langString, not xsd:string
    return {(str(e), str(SCHEMA.name)), (str(f), str(SCHEMA.name))}


def _claim_kinds(g: Graph) -> set[tuple[str, str]]:
    cl = first(g, MG.UniqueClaim)
    g.remove((cl, RDF.type, MG.UniqueClaim))  # a claim of neither kind (node-level sh:or)
    alt = first(g, MG.AlternativeClaim)
    g.add((alt, MG.aspect, Literal("speed")))
    return {(str(cl), "None"), (str(alt), str(MG.aspect))}


def _blank_entity(g: Graph) -> set[tuple[str, str]]:
    b = BNode("anonymous")
    g.add((b, RDF.type, MG.Entity))
    g.add((b, SCHEMA.name, Literal("Nobody")))
    return {(str(b), "None")}


def _observation_and_events(g: Graph) -> set[tuple[str, str]]:
    o, ev, r = ID["x/observation/a"], ID["match/1"], ID["match/1/result/1"]
    g.add((o, RDF.type, MG.SourceObservation))
    g.add((o, MG.observedEntity, first(g, MG.Model)))
    g.add((o, MG.observedField, Literal("Adoption")))
    g.add((o, SCHEMA.value, Literal("59/100")))  # no prov:wasDerivedFrom
    g.add((ev, RDF.type, MG.MatchEvent))
    g.add((ev, MG.queryText, Literal("find a model")))
    g.add((ev, PROV.startedAtTime, Literal("yesterday")))
    g.add((r, RDF.type, MG.MatchResult))
    g.add((r, MG.matchedEntity, first(g, MG.Model)))
    g.add((r, MG.position, Literal("1")))
    return {(str(o), str(PROV.wasDerivedFrom)), (str(ev), str(PROV.startedAtTime)), (str(r), str(MG.position))}


MUTATIONS = {
    "missing name": _remove_name, "two positions": _two_positions, "wrong datatype": _wrong_datatype,
    "class mismatch": _class_mismatch, "non-IRI url": _url_literal, "negative metric": _negative_metric,
    "metric as text": _metric_as_text, "score out of range": _score(Literal(140), Literal("rank")),
    "wrong scoreKind": _score(Literal(50), Literal("vibes")), "pattern mismatch": _pattern,
    "empty and tagged names": _empty_and_tagged_names, "claim kinds": _claim_kinds,
    "blank entity": _blank_entity, "observation and events": _observation_and_events,
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_kind_of_violation_is_found_alike(example_data: Graph, name: str) -> None:
    data = Graph()
    for t in example_data:
        data.add(t)
    expected = MUTATIONS[name](data)
    found, problems = agree(data)
    assert expected and expected <= found, (expected, found)
    assert len(problems) >= len(expected)


def test_sentences_name_the_entity_property_line_and_value() -> None:
    data = Graph().parse(data="""
        @prefix mg: <https://w3id.org/matchgraph/ns#> . @prefix schema: <https://schema.org/> .
        <https://w3id.org/matchgraph/id/m/metric/stars> a mg:UsageMetric ; mg:metricName "stars" ;
            schema:value -3 .
        <https://w3id.org/matchgraph/id/q> a mg:Entity ; schema:name "Q" ; mg:sourceLine 7 ;
            mg:declaredCapabilityCount -1 .""", format="turtle")
    assert validate_graph(data).problems == [
        "UsageMetric m/metric/stars: schema:value: a usage metric has one value, a number of zero or more; "
        "found \"-3\"^^<http://www.w3.org/2001/XMLSchema#integer>",
        "entity q (Q) (line 7): mg:declaredCapabilityCount: the declared capability count is one whole number, "
        "zero or more; found \"-1\"^^<http://www.w3.org/2001/XMLSchema#integer>"]


def test_subclasses_of_the_vocabulary_count_as_their_superclass() -> None:
    # A node typed only mg:Model is an mg:Entity once the vocabulary is written next to it.
    data = Graph().parse(data="""
        @prefix mg: <https://w3id.org/matchgraph/ns#> .
        <https://w3id.org/matchgraph/id/a> a mg:Model ; mg:derivedFrom <https://w3id.org/matchgraph/id/b> .
        <https://w3id.org/matchgraph/id/b> a mg:Library ; <https://schema.org/name> "B" .""", format="turtle")
    with_vocabulary = Graph()
    for t in data:
        with_vocabulary.add(t)
    for sub, sup in subclass_edges(ontology_graph()):
        with_vocabulary.add((sub, RDFS.subClassOf, sup))
    fast = check_store(graph_store([data]))
    assert pairs(fast) == pairs(violations(with_vocabulary, engine="pyshacl"))
    assert pairs(fast) == {(str(ID.a), str(SCHEMA.name))}  # a is an entity without a name; b is an entity
    plain = check_store(graph_store([data]), ontology=[])  # without the vocabulary: plain SHACL on the data
    assert pairs(plain) == pairs(violations(data, engine="pyshacl")) == {(str(ID.a), str(MG.derivedFrom))}


def test_blank_node_labels_survive_the_store() -> None:
    store = graph_store([Graph().parse(data="_:x a <https://w3id.org/matchgraph/ns#Claim> .", format="turtle")])
    (focus,) = {v.focus for v in check_store(store)}
    assert isinstance(focus, BNode)
    extra = Graph()
    extra.add((focus, SCHEMA.text, Literal("said")))
    load_triples(store, extra)
    assert {str(v.path) for v in check_store(store)} >= {str(MG.claimOf)}
    assert str(SCHEMA.text) not in {str(v.path) for v in check_store(store)}


# ------------------------------------------------------------------ what the compiler refuses


def test_the_catalog_shapes_compile_completely() -> None:
    program = compile_shapes(shapes_graph())
    shapes = set(shapes_graph().subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#NodeShape")))
    assert {s.node for s in program.shapes} == shapes
    assert sum(len(s.properties) for s in program.shapes) == len(
        set(shapes_graph().objects(None, URIRef("http://www.w3.org/ns/shacl#property"))))


@pytest.mark.parametrize("shape, feature", [
    ("ex:S a sh:NodeShape ; sh:targetNode ex:a .", "targetNode"),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ( ex:p ex:q ) ; sh:minCount 1 ] .",
     "single IRI"),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:maxLength 3 ] .", "maxLength"),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:severity sh:Warning .", "severity"),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:deactivated true .", "deactivated"),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:pattern \"^(?=a)\" ] .",
     "Oxigraph"),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:message \"a\"@en, \"b\"@de .", "messages"),
    ("ex:S a sh:NodeShape, <http://www.w3.org/2000/01/rdf-schema#Class> .", "also typed"),
    ("ex:S sh:property [ sh:path ex:p ; sh:minCount 1 ] .", "nothing targets"),
    ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:T .", "node"),
])
def test_unknown_features_are_refused(shape: str, feature: str) -> None:
    with pytest.raises(UnsupportedShape, match=feature):
        compile_shapes(Graph().parse(data=PREFIXES + shape, format="turtle"))


def test_an_unsupported_shape_falls_back_to_pyshacl() -> None:
    shapes = Graph().parse(data=PREFIXES + """ex:S a sh:NodeShape ; sh:targetClass ex:C ;
        sh:property [ sh:path ex:p ; sh:maxLength 3 ; sh:message "at most three characters" ] .""",
                           format="turtle")
    data = Graph().parse(data=PREFIXES + "ex:a a ex:C ; ex:p \"long\" . ex:b a ex:C ; ex:p \"ok\" .", format="turtle")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = validate_graph(data, shapes=shapes)
    assert any("falls back to pyshacl" in str(w.message) for w in caught)
    assert len(report.problems) == 1 and "at most three characters" in report.problems[0]
    assert "example.org/a" in report.problems[0]


def test_custom_shapes_compile_generically() -> None:
    shapes = Graph().parse(data=PREFIXES + """ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ;
        sh:property [ sh:path ex:p ; sh:in ( 1 2 ) ; sh:maxInclusive 1 ] ;
        sh:property [ sh:path ex:q ; sh:minCount 2 ; sh:pattern "^A" ; sh:flags "i" ] .""", format="turtle")
    data = Graph().parse(data=PREFIXES + """ex:a ex:p 1 ; ex:q "apple", "avocado" .
        ex:b ex:p 2 ; ex:q "banana" . ex:c ex:p 3 ; ex:q "a1", "a2" .""", format="turtle")
    fast = violations(data, shapes=shapes)
    assert pairs(fast) == pairs(violations(data, engine="pyshacl", shapes=shapes))
    assert pairs(fast) == {("http://example.org/b", "http://example.org/p"), ("http://example.org/b", "http://example.org/q"),
                           ("http://example.org/c", "http://example.org/p")}


# ------------------------------------------------------------------ ingest uses it


def test_ingest_checks_references_against_the_catalog(example_catalog: Catalog, tmp_path: Path) -> None:
    entity = str(example_catalog.scalar("SELECT ?e WHERE { ?e a mg:Model ; schema:name ?n } ORDER BY ?e LIMIT 1"))
    capability = str(example_catalog.scalar("SELECT ?c WHERE { ?c a mg:Capability } ORDER BY ?c LIMIT 1"))
    good, bad = tmp_path / "good.ttl", tmp_path / "bad.ttl"
    head = "@prefix mg: <https://w3id.org/matchgraph/ns#> . @prefix schema: <https://schema.org/> .\n"
    good.write_text(head + f'<{ID}fork-one> a mg:Entity, mg:Model ; schema:name "Fork one" ; '
                           f"mg:derivedFrom <{entity}> .\n", encoding="utf-8")
    bad.write_text(head + f'<{ID}fork-two> a mg:Entity, mg:Model ; schema:name "Fork two" ;\n'
                          f"    mg:derivedFrom <{capability}> .\n", encoding="utf-8")
    ingest(example_catalog, [good])
    assert example_catalog.ask(f"ASK {{ <{ID}fork-one> mg:derivedFrom <{entity}> }}")
    before = example_catalog.version
    with pytest.raises(ValidationError) as info:
        ingest(example_catalog, [bad])
    assert any("fork-two" in p and "derivedFrom points to an entity" in p for p in info.value.problems)
    assert info.value.location is not None and info.value.location.path.endswith("bad.ttl")
    assert info.value.location.line == 2
    assert example_catalog.version == before
