"""Run SPARQL on the catalog and write results in the standard formats."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from rdflib import XSD, BNode, Literal, URIRef
from rdflib.query import Result

from .catalog import Catalog
from .errors import QueryError

__all__ = ["query_kind", "run_sparql", "format_result", "result_to_json"]

_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
_QUERY_WORDS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}


def query_kind(text: str) -> str:
    """Return ``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE`` or ``UPDATE`` for a SPARQL text.

    Examples
    --------
    >>> query_kind("PREFIX a: <x:> SELECT * WHERE { ?s ?p ?o }")
    'SELECT'
    >>> query_kind("INSERT DATA { <a:b> <a:c> 1 }")
    'UPDATE'
    """
    body = re.sub(r"#[^\n]*", " ", text)
    body = re.sub(r"<[^>\s]*>", "<>", body)
    body = re.sub(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'", "''", body)
    for word in re.findall(r"[A-Za-z]+", body):
        upper = word.upper()
        if upper in ("PREFIX", "BASE"):
            continue
        if upper in _QUERY_WORDS:
            return upper
        if upper in _UPDATE_WORDS:
            return "UPDATE"
    raise QueryError("this is not a SPARQL query: expected SELECT, ASK, CONSTRUCT, DESCRIBE or an update",
                     hint="for example: SELECT ?name WHERE { ?e schema:name ?name } LIMIT 10")


def run_sparql(catalog: Catalog, text: str, *, allow_update: bool = False) -> Result | None:
    """Run a query (or, when allowed, an update) with the project prefixes predeclared.

    Returns
    -------
    rdflib.query.Result or None
        None for an update.

    Raises
    ------
    QueryError
        When the text is malformed, or is an update and updates are not allowed.
    """
    kind = query_kind(text)
    if kind == "UPDATE":
        if not allow_update:
            raise QueryError("this is a SPARQL update and the catalog is opened read-only",
                             hint="add --update to change the catalog")
        catalog.update(text)
        return None
    return catalog.query(text)


def _term_json(term: Any) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    out = {"type": "literal", "value": str(term)}
    if isinstance(term, Literal):
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype and str(term.datatype) != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = str(term.datatype)
    return out


def result_to_json(result: Result) -> dict[str, Any]:
    """SPARQL 1.1 Query Results JSON for a SELECT or ASK result."""
    if result.type == "ASK":
        return {"head": {}, "boolean": bool(result.askAnswer)}
    names = [str(v) for v in result.vars or []]
    bindings = []
    for row in result:
        bindings.append({n: _term_json(v) for n, v in zip(names, row) if v is not None})
    return {"head": {"vars": names}, "results": {"bindings": bindings}}


def _plain(term: Any) -> str:
    return "" if term is None else str(term)


_TSV_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _tsv_term(term: Any) -> str:
    """A term as SPARQL 1.1 TSV writes it: one line of N-Triples syntax, plain strings without a datatype.

    Examples
    --------
    >>> _tsv_term(Literal("two\\tcells"))
    '"two\\\\tcells"'
    """
    if term is None:
        return ""
    if not isinstance(term, Literal):
        return term.n3()
    body = '"' + "".join(_TSV_ESCAPES.get(c, c) for c in str(term)) + '"'
    if term.language:
        return f"{body}@{term.language}"
    if term.datatype is not None and term.datatype != XSD.string:
        return f"{body}^^<{term.datatype}>"
    return body


def _short(term: Any, catalog: Catalog | None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef) and catalog is not None:
        try:
            return catalog.dataset.namespace_manager.normalizeUri(term)
        except Exception:  # noqa: BLE001
            return str(term)
    return str(term)


def format_result(result: Result, fmt: str, catalog: Catalog | None = None) -> str:
    """Write a query result: table, json, csv, tsv for SELECT/ASK; turtle, nt, json-ld for graphs."""
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        graph = result.graph
        rdf_fmt = {"table": "turtle", "turtle": "turtle", "ttl": "turtle", "nt": "nt", "json": "json-ld",
                   "json-ld": "json-ld", "jsonld": "json-ld", "csv": "nt", "tsv": "nt"}.get(fmt, "turtle")
        if catalog is not None:
            for prefix, ns in catalog.dataset.namespace_manager.namespaces():
                graph.bind(prefix, ns)
        return graph.serialize(format=rdf_fmt)
    if fmt == "json":
        return json.dumps(result_to_json(result), indent=2, ensure_ascii=False)
    if result.type == "ASK":
        return "true" if result.askAnswer else "false"
    names = [str(v) for v in result.vars or []]
    rows = [list(r) for r in result]
    if fmt in ("csv", "tsv"):
        buf = io.StringIO()
        if fmt == "csv":
            writer = csv.writer(buf, lineterminator="\r\n")
            writer.writerow(names)
            writer.writerows([[_plain(v) for v in row] for row in rows])
        else:
            buf.write("\t".join(f"?{n}" for n in names) + "\n")
            for row in rows:
                buf.write("\t".join(_tsv_term(v) for v in row) + "\n")
        return buf.getvalue()
    return _table(names, [[_short(v, catalog) for v in row] for row in rows])


def _table(names: list[str], rows: list[list[str]]) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(*names, show_lines=False)
    for row in rows:
        table.add_row(*row)
    console = Console(file=io.StringIO(), width=160, force_terminal=False, color_system=None)
    console.print(table)
    console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")
    return console.file.getvalue()  # type: ignore[attr-defined]
