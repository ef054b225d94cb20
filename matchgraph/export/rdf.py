"""RDF dumps of the whole catalog, written by pyoxigraph's serialisers as the store is read.

``ttl``, ``nt`` and ``jsonld`` hold every catalog triple once (the union of the named graphs,
the bookkeeping graph left out); ``nq`` and ``trig`` keep the named graphs (one per source
document). Nothing is built in memory: the serialiser pulls triples (or quads) from the store and
writes them to the output as it goes, with the project prefixes and plain strings (no
``^^xsd:string``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO, Any

from ..store.catalog import Catalog
from ..errors import ConfigError
from ..vocab import META_GRAPH, PREFIXES

__all__ = ["DUMP_FORMATS", "dump", "UNION_QUERY"]

#: Format name -> (pyoxigraph RdfFormat attribute, media type, keeps named graphs).
DUMP_FORMATS: dict[str, tuple[str, str, bool]] = {
    "ttl": ("TURTLE", "text/turtle", False),
    "nt": ("N_TRIPLES", "application/n-triples", False),
    "nq": ("N_QUADS", "application/n-quads", True),
    "trig": ("TRIG", "application/trig", True),
    "jsonld": ("JSON_LD", "application/ld+json", False),
}

#: Every catalog triple once: the union of the data graphs.
UNION_QUERY = (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ "
               f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{META_GRAPH}>) }} }}")

#: Items written between two progress reports.
PROGRESS_STEP = 20_000


def _counted(items: Any, progress: Callable[[int], None]) -> Iterator[Any]:
    n = 0
    for n, item in enumerate(items, 1):
        if n % PROGRESS_STEP == 0:
            progress(n)
        yield item
    progress(n)


def dump(catalog: Catalog, fmt: str, output: IO[bytes], *, progress: Callable[[int], None] | None = None) -> None:
    """Write the whole catalog to a binary output, streamed.

    Parameters
    ----------
    catalog : Catalog
    fmt : str
        A key of :data:`DUMP_FORMATS`.
    output : binary file
        Where to write (a file, ``sys.stdout.buffer``, a socket writer).
    progress : callable, optional
        Called with the number of triples (or quads) written so far, every
        :data:`PROGRESS_STEP` and at the end.

    Examples
    --------
    >>> import io
    >>> out = io.BytesIO()
    >>> dump(Catalog("memory:"), "nt", out)
    >>> out.getvalue()
    b''
    """
    import pyoxigraph as ox

    try:
        attribute, _, keeps_graphs = DUMP_FORMATS[fmt]
    except KeyError:
        raise ConfigError(f"unknown dump format {fmt!r}", hint="use one of: " + ", ".join(DUMP_FORMATS)) from None
    rdf_format = getattr(ox.RdfFormat, attribute)
    prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
    store = catalog.oxigraph
    if store is None:  # a remote catalog: its endpoint answers the CONSTRUCT; rdflib writes it
        _dump_remote(catalog, fmt, output)
        return
    if keeps_graphs:
        meta = ox.NamedNode(str(META_GRAPH))
        items: Any = (q for q in store.quads_for_pattern(None, None, None) if q.graph_name != meta)
    else:
        items = store.query(UNION_QUERY)
    if progress is not None:
        items = _counted(items, progress)
    ox.serialize(items, output, rdf_format, prefixes=prefixes)


def _dump_remote(catalog: Catalog, fmt: str, output: IO[bytes]) -> None:
    if DUMP_FORMATS[fmt][2]:
        raise ConfigError(f"a {fmt} dump keeps the named graphs, which a remote catalog does not hand over",
                          hint="use ttl, nt or jsonld for a remote catalog")
    text = catalog.serialize({"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}[fmt])
    output.write(text.encode("utf-8"))
