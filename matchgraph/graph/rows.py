"""Bulk reads from the store as plain strings, the one way derived state reads the catalog."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ..vocab import sparql_prefixes

if TYPE_CHECKING:  # pragma: no cover
    from ..store.catalog import Catalog

__all__ = ["select_values", "values_clause", "chunks"]


def select_values(catalog: Catalog, sparql: str) -> Iterator[tuple[str | None, ...]]:
    """Run a SELECT and stream its rows as tuples of plain strings (IRIs and lexical forms).

    On an embedded Oxigraph store the rows are streamed straight from the engine without building
    rdflib terms, which keeps bulk queries over large catalogs fast and small in memory.

    Parameters
    ----------
    catalog : Catalog
    sparql : str
        A SELECT query (the project prefixes are predeclared).

    Yields
    ------
    tuple of (str or None)
        One tuple per solution, None for unbound variables.

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> list(select_values(Catalog("memory:"), "SELECT ?x WHERE { VALUES ?x { 1 } }"))
    [('1',)]
    """
    inner = catalog.oxigraph
    if inner is not None:
        for solution in inner.query(sparql_prefixes() + sparql, use_default_graph_as_union=True):
            yield tuple(None if term is None else term.value for term in solution)
        return
    remote = getattr(catalog.backend, "select_values", None)
    if remote is not None:  # a SPARQL engine: rows parsed by pyoxigraph as they stream in (store/remote.py)
        yield from remote(sparql_prefixes() + sparql)
        return
    for row in catalog.query(sparql):
        yield tuple(None if term is None else str(term) for term in row)


def values_clause(variable: str, iris: Iterable[str]) -> str:
    """``VALUES ?var { <a> <b> }`` for IRIs (written with N-Triples escaping rules)."""
    from rdflib import URIRef

    return f"VALUES ?{variable} {{ {' '.join(URIRef(i).n3() for i in iris)} }}"


def chunks(items: list[str], size: int = 400) -> Iterator[list[str]]:
    """``items`` in slices of at most ``size``."""
    for i in range(0, len(items), size):
        yield items[i:i + size]
