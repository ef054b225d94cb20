"""SHACL validation of staged triples and of the whole catalog, reported in words.

Two engines give the same report: the shapes compiled to SPARQL and run on an in-memory Oxigraph
store (:mod:`matchgraph.store.shapes`, the default: seconds for an MTEB import), and pyshacl (the
reference, used when a shape has a feature the compiler does not translate).
"""

from __future__ import annotations

import shlex
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib import RDF, SH, Graph, URIRef
from rdflib.term import Node

from ..ontology import shapes_graph
from .shapes import (
    UnsupportedShape, Violation, check_store, compile_shapes, graph_store, node_triples, shape_program,
)
from ..vocab import CATALOG, KINDS, MATCH_GRAPH, META_GRAPH, MG, ONTOLOGY_GRAPH, SCHEMA, SCORE_GRAPH, STUB_GRAPH, slug_of

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import Catalog

__all__ = ["ValidationReport", "validate_catalog", "validate_graph", "validate_store", "violations"]


@dataclass
class ValidationReport:
    """The outcome of a SHACL run: conforms, and one sentence per violation.

    ``focus`` holds the node of each sentence (in the same order); ``violations`` every result as
    found (focus node, path, message, value).
    """

    conforms: bool
    problems: list[str] = field(default_factory=list)
    focus: list[URIRef] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"conforms": self.conforms, "violations": len(self.problems), "problems": self.problems}


def _short(node: Any) -> str:
    text = str(node)
    for sep in ("#", "/"):
        if sep in text:
            text = text.rsplit(sep, 1)[1] if sep == "#" else text
    return text


def _path_name(path: Any, graph: Graph) -> str:
    if path is None:
        return "(the node itself)"
    try:
        return graph.namespace_manager.normalizeUri(path) if isinstance(path, URIRef) else str(path)
    except Exception:  # noqa: BLE001 - any unprintable path is shown raw
        return str(path)


def _describe(focus: Any, data: Graph) -> str:
    name = data.value(focus, SCHEMA.name)
    kinds = {str(t).rsplit("#", 1)[-1] for t in data.objects(focus, RDF.type)}
    kind = next((k for k in ("Capability", "UniqueClaim", "AlternativeClaim", "UsageMetric", "SourceObservation",
                             "Score", "MatchEvent", "MatchResult") if k in kinds), None)
    label = slug_of(str(focus))
    if kind:
        return f"{kind} {label}"
    return f"entity {label}" + (f" ({name})" if name and str(name) != label else "")


def validate_graph(data: Graph, *, inplace: bool = False, engine: str = "sparql",
                   shapes: Graph | None = None) -> ValidationReport:
    """Check a graph against the catalog shapes.

    Parameters
    ----------
    data : rdflib.Graph
        The triples to check (include the types of entities they point to). Every entity carries
        ``a mg:Entity`` explicitly, so no RDFS inference is needed.
    inplace : bool
        Let pyshacl work on ``data`` directly instead of a copy (for throwaway graphs).
    engine : {"sparql", "pyshacl"}
        See :func:`violations`.
    shapes : rdflib.Graph, optional
        Other shapes than the catalog's (``ontology/shapes.ttl``).

    Returns
    -------
    ValidationReport
        ``conforms`` and, for each violation, a sentence naming the entity, the property and what
        was expected.

    Examples
    --------
    >>> data = Graph().parse(data="<https://w3id.org/matchgraph/id/x> a <https://w3id.org/matchgraph/ns#Entity> .",
    ...                      format="turtle")
    >>> validate_graph(data).problems
    ['entity x: schema:name: an entity needs a name (schema:name), a non-empty string']
    """
    _prefixed(data)
    return _report(violations(data, engine=engine, shapes=shapes, inplace=inplace), data, data)


def violations(data: Graph, *, engine: str = "sparql", shapes: Graph | None = None,
               inplace: bool = False) -> list[Violation]:
    """The SHACL violations of a graph: focus node, path, message and value of each.

    Parameters
    ----------
    data : rdflib.Graph
        The triples to check.
    engine : {"sparql", "pyshacl"}
        ``sparql`` runs the shapes compiled to SPARQL on an in-memory Oxigraph store
        (:mod:`matchgraph.store.shapes`), falling back to pyshacl with a warning when a shape cannot
        be compiled or the data cannot be loaded; ``pyshacl`` is the reference implementation.
    shapes : rdflib.Graph, optional
        Other shapes than the catalog's.
    inplace : bool
        Let pyshacl work on ``data`` directly instead of a copy.

    Examples
    --------
    >>> data = Graph().parse(data="<https://w3id.org/matchgraph/id/x> a <https://w3id.org/matchgraph/ns#Entity> .",
    ...                      format="turtle")
    >>> [str(v.path) for v in violations(data)] == [str(v.path) for v in violations(data, engine="pyshacl")]
    True
    """
    if engine == "sparql":
        try:
            program = shape_program() if shapes is None else compile_shapes(shapes)
            return check_store(graph_store([data]), program)
        except (UnsupportedShape, SyntaxError, UnicodeEncodeError) as exc:
            warnings.warn(f"the SHACL check falls back to pyshacl: {exc}", RuntimeWarning, stacklevel=2)
    elif engine != "pyshacl":
        raise ValueError(f"unknown validation engine {engine!r}; use 'sparql' or 'pyshacl'")
    return _pyshacl(data, shapes if shapes is not None else shapes_graph(), inplace=inplace)


def validate_store(store: ox.Store, *, shapes: Graph | None = None) -> ValidationReport:
    """Check the default graph of an in-memory Oxigraph store against the catalog shapes.

    The fast path of ingest: the staged triples (and the types of the entities they point to) are
    loaded once into the store with :func:`matchgraph.store.shapes.load_triples`. Falls back to
    pyshacl, with a warning, when a shape cannot be compiled.

    Examples
    --------
    >>> validate_store(ox.Store()).conforms
    True
    """
    try:
        program = shape_program() if shapes is None else compile_shapes(shapes)
        found: list[Violation] = check_store(store, program)
        data = node_triples(store, {v.focus for v in found}, [RDF.type, SCHEMA.name, MG.sourceLine])
    except UnsupportedShape as exc:
        warnings.warn(f"the SHACL check falls back to pyshacl: {exc}", RuntimeWarning, stacklevel=2)
        data = Graph().parse(data=store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()),
                             format="nt")
        found = _pyshacl(data, shapes if shapes is not None else shapes_graph(), inplace=True)
    return _report(found, data, _prefixed(Graph()))


def validate_catalog(catalog: Catalog) -> ValidationReport:
    """Check every triple of a catalog against the catalog shapes.

    An embedded catalog is checked where it lies: the compiled shapes run on its Oxigraph store,
    over the union of its graphs, so no copy of the catalog is made (a 100,000-entity catalog
    would not fit in memory as an rdflib Graph). A remote catalog is copied and checked.

    Parameters
    ----------
    catalog : Catalog
        The catalog to check.

    Returns
    -------
    ValidationReport
        As :func:`validate_graph` gives for ``catalog.data_graph()``.

    Examples
    --------
    >>> from matchgraph import Catalog
    >>> validate_catalog(Catalog("memory:")).conforms
    True
    """
    store = catalog.oxigraph
    if store is None:
        report = validate_graph(catalog.data_graph(), inplace=True)
    else:
        try:
            found: list[Violation] = check_store(store, shape_program(), union=True)
        except UnsupportedShape as exc:
            warnings.warn(f"the SHACL check falls back to pyshacl: {exc}", RuntimeWarning, stacklevel=2)
            report = validate_graph(catalog.data_graph(), inplace=True, engine="pyshacl")
        else:
            data = node_triples(store, {v.focus for v in found}, [RDF.type, SCHEMA.name, MG.sourceLine], union=True)
            report = _report(found, data, _prefixed(Graph()))
    problems = integrity_problems(catalog)
    if problems:
        report.conforms = False
        report.problems.extend(problems)
        report.focus.extend(URIRef(str(CATALOG)) for _ in problems)
    return report


def integrity_problems(catalog: Catalog) -> list[str]:
    """What is wrong with the catalog as a whole, beyond the shapes.

    - the vocabulary and the capability scheme are in the catalog (every ingest writes them);
    - the catalog's version token is set, and each source recorded in the bookkeeping graph has its
      named graph (and each source graph its record);
    - no entity has two kinds, or two preferred names, from different sources.

    Returns
    -------
    list of str
        One sentence per problem (empty when the catalog is whole).
    """
    if catalog.triple_count() == 0:
        return []
    problems: list[str] = []
    if not catalog.ask(f"ASK {{ GRAPH <{ONTOLOGY_GRAPH}> {{ mg:Entity a owl:Class }} }}"):
        problems.append("the vocabulary graph is missing: re-run `matchgraph ingest` on any source to restore it")
    if not catalog.ask(f"ASK {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?c a skos:Concept }} }}"):
        problems.append("the capability concept scheme is missing from the vocabulary graph: "
                        "re-run `matchgraph ingest` on any source to restore it")
    if catalog.version == "empty":
        problems.append("the catalog has data but no version token: re-run `matchgraph ingest` on any source")
    for (g,) in catalog.rows(f"""SELECT ?g WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a mg:SourceDocument }}
            FILTER NOT EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }} }} LIMIT 20"""):
        path = catalog.scalar(f"SELECT ?p WHERE {{ GRAPH <{META_GRAPH}> {{ <{g}> mg:sourcePath ?p }} }}")
        problems.append(f"the source {path or g} is recorded but its triples are missing: ingest it again")
    derived = " ".join(f"<{g}>" for g in (META_GRAPH, ONTOLOGY_GRAPH, STUB_GRAPH, SCORE_GRAPH, MATCH_GRAPH))
    for (g,) in catalog.rows(f"""SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
            FILTER(?g NOT IN ({derived.replace("> <", ">, <")}))
            FILTER NOT EXISTS {{ GRAPH <{META_GRAPH}> {{ ?g a mg:SourceDocument }} }} }} LIMIT 20"""):
        problems.append(f"the graph {g} holds triples but no source records it: drop it with "
                        f"`matchgraph sparql --update {shlex.quote(f'DROP GRAPH <{g}>')}` or ingest its source again")
    kinds = " ".join(f"<{k}>" for k in KINDS.values())
    local = {str(k): name for name, k in KINDS.items()}
    for e, k1, k2, g1, g2 in catalog.rows(f"""SELECT ?e ?k1 ?k2 ?g1 ?g2 WHERE {{
            VALUES ?k1 {{ {kinds} }} VALUES ?k2 {{ {kinds} }}
            GRAPH ?g1 {{ ?e a ?k1 }} GRAPH ?g2 {{ ?e a ?k2 }}
            FILTER(STR(?k1) < STR(?k2) && ?g1 != <{STUB_GRAPH}> && ?g2 != <{STUB_GRAPH}>) }} LIMIT 20"""):
        problems.append(f"{e} has two kinds: {local.get(str(k1), k1)} in {_source_of(catalog, g1)} and "
                        f"{local.get(str(k2), k2)} in {_source_of(catalog, g2)}; make the sources agree")
    for e, n1, n2, g1, g2 in catalog.rows(f"""SELECT ?e ?n1 ?n2 ?g1 ?g2 WHERE {{
            GRAPH ?g1 {{ ?e a ?k1 ; schema:name ?n1 }} GRAPH ?g2 {{ ?e schema:name ?n2 }}
            FILTER(?g1 != ?g2 && STR(?n1) != STR(?n2) && ?g1 != <{STUB_GRAPH}> && ?g2 != <{STUB_GRAPH}>
                   && ?g2 != <{MATCH_GRAPH}> && ?g2 != <{SCORE_GRAPH}>) }} LIMIT 20"""):
        problems.append(f"{e} has two names from different sources: {str(n1)!r} in {_source_of(catalog, g1)} "
                        f"and {str(n2)!r} in {_source_of(catalog, g2)}; keep one name, the other as an alias")
    return problems


def _source_of(catalog: Catalog, graph: Any) -> str:
    path = catalog.scalar(f"SELECT ?p WHERE {{ GRAPH <{META_GRAPH}> {{ <{graph}> mg:sourcePath ?p }} }}")
    return str(path) if path else str(graph)


def _prefixed(graph: Graph) -> Graph:
    """``graph`` with the mg: and schema: prefixes bound, so that reports print paths short."""
    for prefix, ns in [("mg", MG), ("schema", SCHEMA)]:
        graph.bind(prefix, ns)
    return graph


def _pyshacl(data: Graph, shapes: Graph, *, inplace: bool) -> list[Violation]:
    """The violations pyshacl finds (the reference engine)."""
    import pyshacl

    conforms, results, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", inplace=inplace,
        abort_on_first=False, allow_warnings=True, meta_shacl=False, advanced=False)
    if conforms:
        return []
    found = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        severity = results.value(result, SH.resultSeverity)
        if severity is not None and severity != SH.Violation:
            continue
        message = results.value(result, SH.resultMessage)
        found.append(Violation(results.value(result, SH.focusNode), results.value(result, SH.resultPath),
                               str(message) if message is not None else "", results.value(result, SH.value)))
    return found


def _report(found: Iterable[Violation], data: Graph, names: Graph) -> ValidationReport:
    """One sentence per violation (sorted, without repeats); ``focus`` lists each sentence's node.

    ``data`` describes the focus nodes (types, name, ``mg:sourceLine``); ``names`` prints paths.
    """
    found = list(found)
    first: dict[str, URIRef] = {}
    for v in found:
        line = data.value(v.focus, MG.sourceLine)
        where = f" (line {line})" if line is not None else ""
        got = f"; found {v.value.n3() if hasattr(v.value, 'n3') else v.value}" if v.value is not None else ""
        first.setdefault(f"{_describe(v.focus, data)}{where}: {_path_name(v.path, names)}: {v.message}{got}",
                         v.focus)
    problems = sorted(first)
    return ValidationReport(not problems, problems, [first[p] for p in problems], found)
