"""What pyoxigraph's RDF/XML writer cannot write, found before a client gets a broken document.

RDF/XML names each predicate as an XML element: namespace plus a local name, which must be an
XML name. pyoxigraph 0.5.13 writes a predicate whose IRI ends without one (``<http://ex.org/p/>``,
``<http://ex.org/1>``) as ``<oxprefix: ...>``, which no XML parser reads, and reports success.
The written document is read back by expat with namespaces (C, stdlib), which costs about what
writing it did.
"""

from __future__ import annotations

__all__ = ["rdfxml_problem"]


def rdfxml_problem(body: bytes) -> str | None:
    """Why an RDF/XML document pyoxigraph wrote is not XML, or None when it is.

    Examples
    --------
    >>> rdfxml_problem(b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>')
    >>> rdfxml_problem(b'<a><oxprefix: xmlns:oxprefix="http://ex.org/p/">x</oxprefix:></a>')[:40]
    'RDF/XML cannot write this result: a pred'
    """
    from xml.parsers import expat

    parser = expat.ParserCreate(namespace_separator=" ")  # names read as namespace + local name
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        return ("RDF/XML cannot write this result: a predicate IRI ends without an XML name "
                f"(such as http://example.org/p/ or http://example.org/1; the writer's output breaks at "
                f"line {exc.lineno}, column {exc.offset})")
    return None
