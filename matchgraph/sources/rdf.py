"""RDF files (Turtle, N-Triples, JSON-LD, RDF/XML, TriG, N-Quads) that follow the vocabulary."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

from ..errors import LimitError, Location, ParseError
from .jsonld_check import check_jsonld
from .safe_load import check_literal, limits, load_jsonld, precheck_rdf_file
from ..vocab import BASE

__all__ = ["RDF_SUFFIXES", "STREAMED_FORMATS", "parse_rdf", "load_rdf_file", "check_rdf_syntax"]

RDF_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld", ".rdf": "xml", ".owl": "xml",
                ".trig": "trig", ".nq": "nquads", ".n3": "n3"}
_OX_FORMATS = {"turtle": "TURTLE", "nt": "N_TRIPLES", "xml": "RDF_XML", "trig": "TRIG", "nquads": "N_QUADS",
               "n3": "N3"}


def _parse_with_oxigraph(text: str, fmt: str, path: str, graph: Graph | None) -> bool:
    """Parse with Oxigraph: its errors carry line and column, and it is fast.

    The triples go into ``graph`` (graph names of TriG and N-Quads are dropped: the file is one
    source); with ``graph`` None the text is only checked. Returns whether a blank node was seen.
    """
    import pyoxigraph as ox

    from ..store.catalog import rdflib_term

    name = _OX_FORMATS.get(fmt)
    if name is None:
        return False
    terms: dict[object, Node] = {}  # the same IRIs recur on every line: convert each once
    limit = limits().literal_size
    blank = False

    def term(value: object) -> Node:
        nonlocal blank
        found = terms.get(value)
        if found is None:
            if isinstance(value, ox.Literal):
                _check_literal(value.value, text, path, limit)
            found = terms[value] = rdflib_term(value)  # type: ignore[assignment]
            blank = blank or isinstance(found, BNode)
        return found

    try:
        quads = ox.parse(text, format=getattr(ox.RdfFormat, name), base_iri=Path(path).resolve().as_uri())
        if graph is None:
            for quad in quads:
                if isinstance(quad.object, ox.Literal):
                    _check_literal(quad.object.value, text, path, limit)
        else:
            add = graph.add
            for quad in quads:
                add((term(quad.subject), term(quad.predicate), term(quad.object)))
    except MemoryError as exc:
        raise _term_too_long(exc, path) from exc
    except SyntaxError as exc:
        msg = str(exc)
        m = re.search(r"at (?:line )?(\d+):(\d+)", msg) or re.search(r"line (\d+)", msg)
        line = int(m.group(1)) if m else None
        first = msg.splitlines()[0]
        if m and "at " in first and re.match(r"error at \d+:\d+", first):
            first = first.split(":", 2)[-1].strip() or first
        raise ParseError(f"{_label(fmt)} syntax error: {first}", location=Location(path, line),
                         hint=f"fix the {_label(fmt)} at that position") from exc
    return blank


#: The syntaxes streamed from Oxigraph's parser straight into the staged catalog version.
STREAMED_FORMATS = frozenset({"turtle", "nt", "xml", "trig", "nquads"})


def _syntax_error(exc: SyntaxError, fmt: str, path: str) -> ParseError:
    msg = str(exc)
    m = re.search(r"at (?:line )?(\d+):(\d+)", msg) or re.search(r"line (\d+)", msg)
    line = int(m.group(1)) if m else None
    first = msg.splitlines()[0] if msg else "invalid syntax"
    if m and "at " in first and re.match(r"error at \d+:\d+", first):
        first = first.split(":", 2)[-1].strip() or first
    return ParseError(f"{_label(fmt)} syntax error: {first}", location=Location(path, line),
                      hint=f"fix the {_label(fmt)} at that position")


def _open_skipping_bom(path: Path) -> Any:
    fh = open(path, "rb")  # noqa: SIM115 - closed by the caller
    if fh.read(3) != b"\xef\xbb\xbf":  # editors on Windows may start with a byte-order mark
        fh.seek(0)
    return fh


def check_rdf_syntax(path: Path, fmt: str, *, prechecked: bool = False) -> bool:
    """Parse an RDF file once without keeping anything (Oxigraph's parser: about 1 s per million
    triples, a few per cent of loading them), so every bad file of an ingest is reported before
    anything is written.

    Parameters
    ----------
    path : Path
        The file.
    fmt : str
        One of :data:`STREAMED_FORMATS`.
    prechecked : bool
        The file has passed :func:`~matchgraph.sources.safe_load.precheck_rdf_file` already.

    Returns
    -------
    bool
        Whether the file has blank nodes (they are replaced by IRIs when it is loaded).

    Raises
    ------
    ParseError
        With the line of the first syntax error.
    """
    import pyoxigraph as ox

    if not prechecked:  # DTDs, entities and nesting, before any parser sees the file
        precheck_rdf_file(str(path), fmt)
    blank_node = ox.BlankNode
    blank = False
    rdf_format = getattr(ox.RdfFormat, _OX_FORMATS[fmt])
    limit = limits().literal_size
    literal = ox.Literal
    try:
        with _open_skipping_bom(path) as fh:
            for quad in ox.parse(fh, format=rdf_format, base_iri=Path(path).resolve().as_uri()):
                obj = quad.object
                kind = type(obj)
                if kind is literal:
                    if len(obj.value) > limit:
                        _check_literal(obj.value, Path(path).read_text(encoding="utf-8", errors="replace"),
                                       str(path), limit)
                elif kind is blank_node or type(quad.subject) is blank_node:
                    blank = True
    except SyntaxError as exc:
        raise _syntax_error(exc, fmt, str(path)) from exc
    except MemoryError as exc:
        raise _term_too_long(exc, str(path)) from exc
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror or exc}", location=Location(str(path)),
                         hint="check that the file exists and that you may read it") from exc
    return blank


def load_rdf_file(txn: object, path: Path, fmt: str, graph: URIRef, *, blank: bool = True) -> None:
    """Stream an RDF file from Oxigraph's parser into a named graph of a staged catalog version.

    Nothing of the file is held in Python: Turtle, N-Triples and RDF/XML go through the store's
    bulk loader; TriG and N-Quads (whose graph names are dropped: the file is one source) and any
    file with blank nodes (replaced by IRIs under the catalog base, as the store keeps no blank
    nodes) are re-read quad by quad into ``bulk_extend``.

    Parameters
    ----------
    txn : matchgraph.store.catalog.Transaction
        The open write.
    path : Path
        The file.
    fmt : str
        One of :data:`STREAMED_FORMATS`.
    graph : URIRef
        The source graph.
    blank : bool
        Whether the file has blank nodes (as :func:`check_rdf_syntax` found); True when unknown.

    Raises
    ------
    ParseError
        For a syntax error, with the line.
    """
    import pyoxigraph as ox

    rdf_format = getattr(ox.RdfFormat, _OX_FORMATS[fmt])
    base = Path(path).resolve().as_uri()
    name = ox.NamedNode(str(graph))
    store = getattr(txn, "store", None)
    def opened() -> Any:
        return _open_skipping_bom(path)

    try:
        if store is not None and fmt in ("turtle", "nt", "xml") and not blank:
            with opened() as fh:
                txn.load(fh, format=rdf_format, to_graph=graph, base_iri=base)  # type: ignore[attr-defined]
            return
        genid = f"{BASE.rstrip('/')}/.well-known/genid/"
        run = uuid.uuid4().hex[:12]
        cache: dict[str, object] = {}

        def skolem(term: object) -> object:
            if isinstance(term, ox.BlankNode):
                found = cache.get(term.value)
                if found is None:
                    found = cache[term.value] = ox.NamedNode(f"{genid}{run}-{term.value}")
                return found
            return term

        def quads() -> Any:
            with opened() as fh:
                for q in ox.parse(fh, format=rdf_format, base_iri=base):
                    yield ox.Quad(skolem(q.subject), q.predicate, skolem(q.object), name)

        if store is not None:
            store.bulk_extend(quads())
        else:
            from ..store.catalog import rdflib_term

            txn.add_quads((rdflib_term(q.subject), rdflib_term(q.predicate), rdflib_term(q.object), graph)  # type: ignore[attr-defined]
                          for q in quads())
    except SyntaxError as exc:
        raise _syntax_error(exc, fmt, str(path)) from exc
    except MemoryError as exc:
        raise _term_too_long(exc, str(path)) from exc
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror or exc}", location=Location(str(path)),
                         hint="check that the file exists and that you may read it") from exc


def _term_too_long(exc: MemoryError, path: str) -> Exception:
    """Oxigraph's parsers stop at a term (a literal, an IRI) of 16 MiB with a MemoryError: a limit."""
    if "buffer maximal size" not in str(exc):
        return exc
    return LimitError("a literal or an IRI is longer than 16 MiB, the most Oxigraph's parser reads in one term "
                      f"(the literal limit, MATCHGRAPH_MAX_LITERAL_SIZE, is {limits().literal_size:,} characters)",
                      location=Location(path, _long_line(path)),
                      hint="shorten it (a description or claim is a few sentences), or close it: a quote or an IRI "
                           "left open runs on to the end of the file")


def _long_line(path: str, size: int = 16 * 1024 * 1024) -> int | None:
    """The first line of a file longer than ``size`` bytes (where such a term is), read in chunks;
    None when there is none (a long string over many lines) or the file cannot be read."""
    line, length = 1, 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                start = 0
                while (end := chunk.find(b"\n", start)) >= 0:
                    if length + end - start > size:
                        return line
                    line, length, start = line + 1, 0, end + 1
                length += len(chunk) - start
                if length > size:
                    return line
    except OSError:
        return None
    return None


def _check_literal(value: str, text: str, path: str, limit: int) -> None:
    """The literal-size limit on one literal, located at the line where the literal starts."""
    if len(value) <= limit:
        return
    at = text.find(value[:200])
    check_literal(value, "a literal", Location(path, text.count("\n", 0, at) + 1 if at >= 0 else None))


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
    precheck_rdf_file(path, fmt, data=text.encode("utf-8") if fmt in ("xml", "turtle", "trig", "n3") else None)
    graph = Graph()
    if fmt in _OX_FORMATS and fmt != "n3":
        blank = _parse_with_oxigraph(text, fmt, path, graph)
        return _skolemize(graph) if blank else graph
    _parse_with_oxigraph(text, fmt, path, None)
    original = text
    if fmt == "json-ld":
        import json

        document = load_jsonld(text, path)  # every context inlined: nothing left to fetch
        if not isinstance(document, (dict, list)):
            raise ParseError(f"a JSON-LD document is an object or an array, not {json.dumps(document)[:40]}",
                             location=Location(path, 1), hint='start it with { "@context": ..., "@id": ... }')
        check_jsonld(document, path)  # what the JSON-LD processor would drop without a word
        text = json.dumps(document)
    try:  # JSON-LD (with the bundled contexts) and N3 are read by rdflib
        graph.parse(data=text, format=fmt, publicID=Path(path).resolve().as_uri())
    except Exception as exc:  # noqa: BLE001 - rdflib raises many types for bad input
        raise ParseError(f"cannot read {_label(fmt)}: {exc}", location=Location(path),
                         hint=f"check the file against the {_label(fmt)} specification, or convert it to Turtle"
                         ) from exc
    from rdflib import Literal

    limit = limits().literal_size
    for obj in graph.objects():
        if isinstance(obj, Literal):
            _check_literal(str(obj), original, path, limit)
    return _skolemize(graph)


def _skolemize(graph: Graph) -> Graph:
    """Replace blank nodes by IRIs under the catalog base (``.../matchgraph/.well-known/genid/...``)."""
    if not any(isinstance(t, BNode) for triple in graph for t in triple):
        return graph
    base = urlsplit(BASE)
    return graph.skolemize(authority=f"{base.scheme}://{base.netloc}", basepath=f"{base.path}.well-known/genid/")


def entities_in(graph: Graph) -> set[URIRef]:
    """The entities a graph describes (subjects typed mg:Entity)."""
    from rdflib import RDF
    from ..vocab import MG
    return {s for s in graph.subjects(RDF.type, MG.Entity) if isinstance(s, URIRef)}
