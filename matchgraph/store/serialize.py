"""RDF triples written by pyoxigraph's serialisers, checked before a client gets a broken document.

Two results a format cannot hold come back from pyoxigraph 0.5.13 in different ways: JSON-LD and
RDF 1.2 triple terms raise an error; RDF/XML, which names each predicate as an XML element
(namespace plus a local name that must be an XML name), writes a predicate whose IRI ends without
one (``<http://ex.org/p/>``, ``<http://ex.org/1>``) as ``<oxprefix: ...>``, which no XML parser
reads, and reports success. :func:`write_triples` turns both into :class:`Unwritable`; the RDF/XML
written is read back by expat with namespaces (C, stdlib), which costs about what writing it did.

Both XML writers (RDF/XML and SPARQL Query Results XML) also write a literal's characters as they
are. A carriage return then reaches the client as a line feed (an XML parser turns CR LF and a lone
CR into LF), and a control character (U+0000 to U+001F but tab, LF and CR) or U+FFFE / U+FFFF makes
the document unreadable, since XML 1.0 has no way to carry it. :func:`xml_safe` writes the carriage
return as ``&#13;`` and turns the others into :class:`Unwritable`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["Unwritable", "write_triples", "write_solutions", "rdfxml_problem", "xml_safe"]

#: Characters XML 1.0 cannot carry, even as a character reference, as UTF-8 bytes.
_NOT_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


class Unwritable(ValueError):
    """A result the format asked for cannot hold; the message says why."""


def write_triples(triples: Iterable[Any], format_name: str, prefixes: Mapping[str, str]) -> bytes:
    """The triples in a pyoxigraph RDF format, or :class:`Unwritable`.

    Parameters
    ----------
    triples : iterable of pyoxigraph.Triple
    format_name : str
        A ``pyoxigraph.RdfFormat`` attribute: ``TURTLE``, ``N_TRIPLES``, ``JSON_LD``, ``RDF_XML``, ``N3``.
    prefixes : mapping
        Prefix -> namespace, for the formats that abbreviate.

    Examples
    --------
    >>> import pyoxigraph as ox
    >>> t = ox.Triple(ox.NamedNode("http://a"), ox.NamedNode("http://ex.org/p/"), ox.Literal("x"))
    >>> write_triples([t], "RDF_XML", {})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    matchgraph.store.serialize.Unwritable: RDF/XML cannot write this result: ...
    """
    import pyoxigraph as ox

    label = {"RDF_XML": "RDF/XML"}.get(format_name, format_name.replace("_", "-"))
    try:
        body = ox.serialize(triples, format=getattr(ox.RdfFormat, format_name), prefixes=dict(prefixes))
    except (ValueError, OSError) as exc:  # JSON-LD and RDF 1.2
        raise Unwritable(f"{label} cannot write this result: {exc}") from None
    if format_name == "RDF_XML":
        body = xml_safe(body or b"", label)
        if (problem := rdfxml_problem(body)) is not None:
            raise Unwritable(problem)
    return body or b""


def write_solutions(solutions: Any, format_name: str) -> bytes:
    """Query solutions written by pyoxigraph in a SPARQL results format, made safe as XML
    (:func:`xml_safe`) when that format is XML: what the CLI and the endpoint's workers both send.

    Parameters
    ----------
    solutions : pyoxigraph.QuerySolutions
        The solutions of a SELECT.
    format_name : str
        A ``pyoxigraph.QueryResultsFormat`` name: ``JSON``, ``XML``, ``CSV`` or ``TSV``.

    Raises
    ------
    Unwritable
        XML and a literal holding a character XML 1.0 cannot carry.
    """
    import pyoxigraph as ox

    body = solutions.serialize(format=getattr(ox.QueryResultsFormat, format_name))
    return xml_safe(body, "SPARQL XML") if format_name == "XML" else body


def xml_safe(body: bytes, label: str = "XML") -> bytes:
    """An XML document pyoxigraph wrote, with each carriage return as ``&#13;``; :class:`Unwritable`
    when it holds a character XML 1.0 cannot carry.

    pyoxigraph writes the characters of literals as they are, in RDF/XML and in SPARQL Query Results
    XML alike, and never writes a carriage return of its own: each one comes from the data, and the
    character reference keeps it from being read as a line feed.

    Parameters
    ----------
    body : bytes
        The document, UTF-8.
    label : str
        The format's name, for the message.

    Examples
    --------
    >>> xml_safe(b"<literal>a\\r\\nb</literal>")
    b'<literal>a&#13;\\nb</literal>'
    >>> xml_safe(b"<literal>bell\\x07</literal>", "SPARQL XML")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    matchgraph.store.serialize.Unwritable: SPARQL XML cannot write this result: a literal holds U+0007, ...
    """
    found = _NOT_XML.search(body)
    if found is not None:
        char = found.group().decode("utf-8")
        raise Unwritable(f"{label} cannot write this result: a literal holds U+{ord(char):04X}, a character "
                         "XML 1.0 cannot carry")
    return body.replace(b"\r", b"&#13;")


def rdfxml_problem(body: bytes) -> str | None:
    """Why an RDF/XML document pyoxigraph wrote is not XML, or None when it is.

    Examples
    --------
    >>> rdfxml_problem(b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>')
    >>> rdfxml_problem(b'<a><oxprefix: xmlns:oxprefix="http://ex.org/p/">x</oxprefix:></a>')[:58]
    'RDF/XML cannot write this result: what it wrote is not XML'
    """
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")  # names read as namespace + local name
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        return (f"RDF/XML cannot write this result: what it wrote is not XML ({expat.ErrorString(exc.code)} "
                f"at line {exc.lineno}, column {exc.offset}), as when a predicate IRI ends without an XML name "
                "(http://example.org/p/, http://example.org/1) or a literal holds a control character")
    return None
