"""Binding values into SPARQL text, shared by the catalog's stores."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rdflib.term import Node

from ..errors import QueryError

__all__ = ["bind_values"]


def bind_values(sparql: str, bindings: Mapping[str, Node]) -> str:
    """``sparql`` with ``VALUES`` binding each variable to its term, at the start of the WHERE block.

    Both the embedded and the remote store bind this way: Oxigraph's own substitution only takes
    projected variables, and a remote engine has none. Terms are written with rdflib's N3 syntax,
    never pasted user text.

    Examples
    --------
    >>> from rdflib import URIRef
    >>> bind_values("SELECT ?n WHERE { ?e schema:name ?n }", {"e": URIRef("http://x/a")})
    'SELECT ?n WHERE { VALUES (?e) { (<http://x/a>) }  ?e schema:name ?n }'
    """
    def n3(term: Node) -> str:
        try:
            return term.n3()
        except Exception:  # noqa: BLE001 - rdflib raises a bare Exception for an IRI SPARQL cannot write
            from urllib.parse import quote  # (a space in it): percent-encoded, it matches nothing

            return "<" + quote(str(term), safe=":/?#[]@!$&'()*+,;=%~") + ">"

    values = " ".join(f"?{k}" for k in bindings)
    row = " ".join(n3(v) for v in bindings.values())
    where = re.search(r"\bWHERE\s*\{", sparql, re.I)
    brace = where.end() - 1 if where else sparql.find("{")
    if brace < 0:
        raise QueryError("cannot bind values into a query without a WHERE block")
    return f"{sparql[:brace]}{{ VALUES ({values}) {{ ({row}) }} {sparql[brace + 1:]}"
