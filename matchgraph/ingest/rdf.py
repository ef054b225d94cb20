"""RDF files (Turtle, N-Triples, JSON-LD, RDF/XML, TriG, N-Quads) that follow the vocabulary."""

from __future__ import annotations

import json
import re
from pathlib import Path

from rdflib import BNode, Graph, URIRef

from ..errors import Location, ParseError
from ..vocab import BASE

__all__ = ["RDF_SUFFIXES", "parse_rdf"]

RDF_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld", ".rdf": "xml", ".owl": "xml",
                ".trig": "trig", ".nq": "nquads", ".n3": "n3"}
_OX_FORMATS = {"turtle": "TURTLE", "nt": "N_TRIPLES", "xml": "RDF_XML", "trig": "TRIG", "nquads": "N_QUADS",
               "n3": "N3"}


def _syntax_check(text: str, fmt: str, path: str) -> None:
    """Parse with Oxigraph first: its errors carry line and column."""
    import pyoxigraph as ox

    name = _OX_FORMATS.get(fmt)
    if name is None:
        return
    try:
        for _ in ox.parse(text, format=getattr(ox.RdfFormat, name), base_iri=Path(path).resolve().as_uri()):
            pass
    except SyntaxError as exc:
        msg = str(exc)
        m = re.search(r"at (?:line )?(\d+):(\d+)", msg) or re.search(r"line (\d+)", msg)
        line = int(m.group(1)) if m else None
        first = msg.splitlines()[0]
        if m and "at " in first and re.match(r"error at \d+:\d+", first):
            first = first.split(":", 2)[-1].strip() or first
        raise ParseError(f"{_label(fmt)} syntax error: {first}", location=Location(path, line),
                         hint=f"fix the {_label(fmt)} at that position") from exc


def _label(fmt: str) -> str:
    return {"turtle": "Turtle", "nt": "N-Triples", "json-ld": "JSON-LD", "xml": "RDF/XML", "trig": "TriG",
            "nquads": "N-Quads", "n3": "N3"}.get(fmt, fmt)


def parse_rdf(text: str, path: str, fmt: str) -> Graph:
    """Parse an RDF file into a graph, replacing blank nodes with IRIs under the catalog base.

    Parameters
    ----------
    text : str
        The file's content.
    path : str
        Its path (errors name it; relative IRIs resolve against it).
    fmt : str
        rdflib format name: ``turtle``, ``nt``, ``json-ld``, ...
    """
    _syntax_check(text, fmt, path)
    graph = Graph()
    if fmt == "json-ld":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc.msg}", location=Location(path, exc.lineno),
                             hint="fix the JSON syntax at that line") from exc
        data = _local_context(data)
        text = json.dumps(data)
    try:
        if fmt in ("trig", "nquads"):
            from rdflib import Dataset
            ds = Dataset()
            ds.parse(data=text, format=fmt, publicID=Path(path).resolve().as_uri())
            for s, p, o, _ in ds.quads():
                graph.add((s, p, o))
        else:
            graph.parse(data=text, format=fmt, publicID=Path(path).resolve().as_uri())
    except Exception as exc:  # noqa: BLE001 - rdflib raises many types for bad input
        raise ParseError(f"cannot read {_label(fmt)}: {exc}", location=Location(path)) from exc
    if any(isinstance(t, BNode) for triple in graph for t in triple):
        graph = graph.skolemize(authority=BASE.rstrip("/"), basepath="/.well-known/genid/")
    return graph


def _local_context(data: object) -> object:
    """Use the bundled context for matchgraph's own context URL, so nothing is fetched."""
    from ..ontology import jsonld_context

    ours = {"https://w3id.org/matchgraph/context.jsonld", "https://w3id.org/matchgraph/context"}

    def fix(node: object) -> object:
        if isinstance(node, dict):
            ctx = node.get("@context")
            if isinstance(ctx, str) and ctx in ours:
                node = {**node, "@context": jsonld_context()}
            elif isinstance(ctx, list):
                node = {**node, "@context": [jsonld_context() if c in ours else c for c in ctx]}
            return {k: fix(v) if k != "@context" else v for k, v in node.items()}
        if isinstance(node, list):
            return [fix(n) for n in node]
        return node

    return fix(data)


def entities_in(graph: Graph) -> set[URIRef]:
    """The entities a graph describes (subjects typed mg:Entity)."""
    from rdflib import RDF
    from ..vocab import MG
    return {s for s in graph.subjects(RDF.type, MG.Entity) if isinstance(s, URIRef)}
