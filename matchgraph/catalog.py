"""The catalog: an RDF dataset in a store, with a version that changes with every write.

Backends are chosen by location:

- a directory path (the default ``./.matchgraph``): embedded on-disk Oxigraph through oxrdflib;
- ``memory:``: an in-memory Oxigraph store (tests, one-off runs);
- ``http://...`` or ``https://...``: a remote SPARQL 1.1 endpoint (query URL; the update URL is
  given separately or defaults to the same URL).

Each ingested source document is one named graph, so re-ingesting a file replaces exactly what
that file said. Queries see the union of all graphs. Bookkeeping (the version, the sources) lives
in :data:`matchgraph.vocab.META_GRAPH` and is not counted as catalog data.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import rdflib
from rdflib import Graph, Literal, URIRef
from rdflib.query import Result
from rdflib.term import Node

from .errors import CatalogError, QueryError
from .vocab import CATALOG, MATCH_GRAPH, META_GRAPH, MG, PREFIXES, SCORE_GRAPH, STUB_GRAPH, sparql_prefixes

DEFAULT_LOCATION = ".matchgraph"
ENV_VAR = "MATCHGRAPH_CATALOG"
#: Writes up to this many quads go in one SPARQL update (atomic even on a crash); larger ones are bulk loaded.
ATOMIC_UPDATE_LIMIT = 50_000

__all__ = ["Catalog", "resolve_location", "rdflib_term"]


def resolve_location(location: str | os.PathLike[str] | None = None) -> str:
    """Return the catalog location: the argument, else ``$MATCHGRAPH_CATALOG``, else ``./.matchgraph``.

    Parameters
    ----------
    location : str or path, optional
        What the user gave with ``--catalog``.

    Returns
    -------
    str
        A directory path, ``memory:`` or an ``http(s)://`` endpoint URL.
    """
    if location:
        return str(location)
    return os.environ.get(ENV_VAR) or DEFAULT_LOCATION


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_NT_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _nt(term: Node) -> str:
    """A term in N-Triples syntax (also valid in SPARQL): literals on one line, escaped."""
    if isinstance(term, Literal):
        text = '"' + str(term).translate(_NT_ESCAPES) + '"'
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype is not None and str(term.datatype) != _XSD_STRING:
            return f"{text}^^<{term.datatype}>"
        return text
    return term.n3()


def _graph_block(graph_iri: URIRef, triples: Iterable[tuple[Node, Node, Node]]) -> str:
    body = "\n".join(f"{_nt(s)} {_nt(p)} {_nt(o)} ." for s, p, o in triples)
    return f"GRAPH {graph_iri.n3()} {{\n{body}\n}}"


#: Prefixes every query may use without declaring them: rdflib's core ones and the project's.
_QUERY_PREFIXES = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                   "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                   "xsd": "http://www.w3.org/2001/XMLSchema#", "owl": "http://www.w3.org/2002/07/owl#",
                   "xml": "http://www.w3.org/XML/1998/namespace", **{p: str(n) for p, n in PREFIXES.items()}}


def rdflib_term(term: Any, *, plain_strings: bool = False) -> Node | None:
    """The rdflib term for a pyoxigraph term (None stays None).

    Parameters
    ----------
    term : pyoxigraph.NamedNode, BlankNode, Literal or None
    plain_strings : bool
        Give ``xsd:string`` literals as simple literals (no datatype), as SPARQL results show them;
        by default the datatype is kept, as oxrdflib does.

    Examples
    --------
    >>> import pyoxigraph as ox
    >>> rdflib_term(ox.Literal("x"), plain_strings=True).datatype is None
    True
    """
    if term is None:
        return None
    kind = type(term).__name__
    if kind == "NamedNode":
        return URIRef(term.value)
    if kind == "BlankNode":
        return rdflib.BNode(term.value)
    if kind == "Literal":
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if plain_strings and datatype == _XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise ValueError(f"unexpected Oxigraph term: {term!r}")


def _result(ox: Any, answer: Any) -> Result:
    """An rdflib query Result for a pyoxigraph answer (what oxrdflib builds, without importing it)."""
    from rdflib.term import Variable

    if isinstance(answer, ox.QueryBoolean):
        out = Result("ASK")
        out.askAnswer = bool(answer)
    elif isinstance(answer, ox.QuerySolutions):
        out = Result("SELECT")
        out.vars = [Variable(v.value) for v in answer.variables]
        names = out.vars
        out.bindings = ({v: rdflib_term(value) for v, value in zip(names, solution)} for solution in answer)
    else:
        out = Result("CONSTRUCT")
        out.graph = Graph()
        out.graph += ((rdflib_term(t.subject), rdflib_term(t.predicate), rdflib_term(t.object)) for t in answer)
    return out



class _Backend:
    """What a store must do for the catalog; subclasses are the concrete stores."""

    dataset: rdflib.Dataset
    description: str

    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> Result:
        return self.dataset.query(sparql, initBindings=dict(bindings or {}))

    def update(self, sparql: str) -> None:
        self.dataset.update(sparql)

    def write(self, updates_before: list[str], quads: list[tuple[Node, Node, Node, URIRef]],
              updates_after: list[str]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release the store."""


class _OxigraphBackend(_Backend):
    """Oxigraph, embedded: queries and updates go to pyoxigraph directly; the rdflib Dataset over
    it (oxrdflib, which pulls in rdflib's SPARQL machinery) is only built when asked for."""

    def __init__(self, path: Path | None) -> None:
        import pyoxigraph as ox

        self._ox = ox
        try:
            inner = ox.Store(str(path)) if path is not None else ox.Store()
        except OSError as exc:
            raise CatalogError(
                f"cannot open the catalog at {path}: {exc}",
                hint="another matchgraph process (e.g. 'matchgraph serve') may hold it; stop it or use --catalog",
            ) from exc
        self.inner = inner
        self._dataset: rdflib.Dataset | None = None
        self.description = f"oxigraph:{path}" if path else "memory:"

    @property
    def dataset(self) -> rdflib.Dataset:  # type: ignore[override]
        if self._dataset is None:
            from oxrdflib import OxigraphStore

            self._dataset = rdflib.Dataset(store=OxigraphStore(store=self.inner), default_union=True)
            for prefix, ns in PREFIXES.items():
                self._dataset.bind(prefix, ns, override=True)
        return self._dataset

    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> Result:
        if bindings:  # Oxigraph's own substitution only takes projected variables: bind with VALUES
            sparql = _substitute(sparql, bindings)
        try:
            answer = self.inner.query(sparql, use_default_graph_as_union=True, prefixes=_QUERY_PREFIXES)
            return _result(self._ox, answer)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise QueryError(f"the query failed: {exc}") from exc

    def update(self, sparql: str) -> None:
        try:
            self.inner.update(sparql, prefixes={p: str(n) for p, n in PREFIXES.items()})
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise CatalogError(f"the update failed: {exc}") from exc

    def write(self, updates_before: list[str], quads: list[tuple[Node, Node, Node, URIRef]],
              updates_after: list[str]) -> None:
        if len(quads) <= ATOMIC_UPDATE_LIMIT:
            self.update(" ;\n".join([*updates_before, _insert_data(quads), *updates_after]))
            return
        # Large writes go through Oxigraph's bulk loader (about 4x faster than INSERT DATA). It is
        # not crash-atomic, but every input error is found before this point, so a bad input
        # still writes nothing.
        iris: dict[Node, str] = {}  # subjects, predicates and graphs recur: write each once

        def iri(term: Node) -> str:
            text = iris.get(term)
            if text is None:
                text = iris[term] = _nt(term)
            return text

        nquads = "\n".join(f"{iri(s)} {iri(p)} {_nt(o)} {iri(g)} ." for s, p, o, g in quads)
        if updates_before:
            self.update(" ;\n".join(updates_before))
        try:
            self.inner.bulk_load(nquads.encode("utf-8"), format=self._ox.RdfFormat.N_QUADS)
        except (OSError, SyntaxError, ValueError) as exc:
            raise CatalogError(f"the bulk load failed: {exc}") from exc
        if updates_after:
            self.update(" ;\n".join(updates_after))

    def close(self) -> None:
        """Flush and drop every reference to the store, so its files are released now."""
        import gc

        try:
            self.inner.flush()
        except (OSError, AttributeError):
            pass
        self._dataset = None
        if hasattr(self, "inner"):
            del self.inner
        gc.collect()


def _substitute(sparql: str, bindings: Mapping[str, Node]) -> str:
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


def _insert_data(quads: list[tuple[Node, Node, Node, URIRef]]) -> str:
    by_graph: dict[URIRef, list[tuple[Node, Node, Node]]] = {}
    for s, p, o, g in quads:
        by_graph.setdefault(g, []).append((s, p, o))
    blocks = "\n".join(_graph_block(g, ts) for g, ts in by_graph.items())
    return f"INSERT DATA {{\n{blocks}\n}}"


class Catalog:
    """An RDF catalog of AI artifacts in a store.

    Parameters
    ----------
    location : str or path, optional
        A directory (embedded Oxigraph, created if missing), ``memory:`` or a SPARQL endpoint URL.
        Defaults to ``$MATCHGRAPH_CATALOG`` or ``./.matchgraph``.
    update_url : str, optional
        For a remote endpoint, the SPARQL Update URL when it differs from the query URL
        (default ``$MATCHGRAPH_UPDATE_URL``; see :mod:`matchgraph.store.remote`).

    Examples
    --------
    >>> cat = Catalog("memory:")
    >>> cat.triple_count()
    0
    """

    def __init__(self, location: str | os.PathLike[str] | None = None, *, update_url: str | None = None) -> None:
        self.location = resolve_location(location)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if self.location == "memory:":
            self.backend: _Backend = _OxigraphBackend(None)
            self.path: Path | None = None
        elif self.location.startswith(("http://", "https://")):
            from .store.remote import RemoteBackend

            self.backend = RemoteBackend(self.location, update_url)  # type: ignore[assignment]
            self.path = None
        else:
            self.path = Path(self.location)
            if self.path.exists() and not self.path.is_dir():
                raise CatalogError(f"the catalog location {self.path} is a file, not a directory",
                                   hint="give --catalog a directory path")
            self.path.mkdir(parents=True, exist_ok=True)
            self.backend = _OxigraphBackend(self.path / "store")

    # ------------------------------------------------------------------ basics
    @property
    def dataset(self) -> rdflib.Dataset:
        """The rdflib Dataset over the store (queries see the union of all graphs)."""
        return self.backend.dataset

    @property
    def oxigraph(self) -> Any:
        """The embedded ``pyoxigraph.Store`` (for bulk reads, bulk loads and flushes); None for a
        remote catalog, or once closed."""
        return getattr(self.backend, "inner", None)

    def __repr__(self) -> str:
        return f"<Catalog {self.backend.description}>"

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush and release the store."""
        self.backend.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def cache_dir(self) -> Path:
        """A directory for derived data (projection, text index) cached against the version."""
        if self.path is not None:
            cache = self.path / "cache"
        else:
            if self._tmp is None:
                if self.location == "memory:":
                    self._tmp = tempfile.TemporaryDirectory(prefix="matchgraph-")
                    return Path(self._tmp.name)
                digest = hashlib.sha1(self.location.encode()).hexdigest()[:12]
                base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                cache = base / "matchgraph" / digest
                cache.mkdir(parents=True, exist_ok=True)
                return cache
            return Path(self._tmp.name)
        cache.mkdir(parents=True, exist_ok=True)
        return cache

    # ------------------------------------------------------------------ reading
    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None, *, prefixes: bool = True) -> Result:
        """Run a SPARQL query on the store's engine.

        Parameters
        ----------
        sparql : str
            SELECT, ASK, CONSTRUCT or DESCRIBE. The project prefixes are predeclared.
        bindings : mapping, optional
            Values bound to variables (never paste user text into a query).

        Returns
        -------
        rdflib.query.Result
        """
        header = sparql_prefixes() if prefixes else ""
        try:
            return self.backend.query(header + sparql, bindings)
        except QueryError as exc:
            shift = header.count("\n")
            exc.message = re.sub(r"error at (\d+):(\d+)",
                                 lambda m: f"error at line {int(m.group(1)) - shift}, column {m.group(2)}",
                                 exc.message)
            raise

    def rows(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> list[tuple[Any, ...]]:
        """Run a SELECT and return its rows as tuples of rdflib terms (None for unbound)."""
        result = self.query(sparql, bindings)
        return [tuple(row) for row in result]

    def ask(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> bool:
        """Run an ASK query."""
        return bool(self.query(sparql, bindings).askAnswer)

    def scalar(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> Any:
        """Run a SELECT of one value and return it as a Python value (None when empty)."""
        rows = self.rows(sparql, bindings)
        if not rows or rows[0][0] is None:
            return None
        value = rows[0][0]
        return value.toPython() if isinstance(value, Literal) else value

    @property
    def version(self) -> str:
        """A token that changes with every write ("empty" for a catalog never written)."""
        value = self.scalar(f"SELECT ?v WHERE {{ GRAPH <{META_GRAPH}> {{ <{CATALOG}> mg:version ?v }} }}")
        return str(value) if value is not None else "empty"

    @property
    def data_version(self) -> str:
        """A token that changes with every write of evidence (sources, stubs, match events), but not
        with writes of derived results (scores). Caches of derived data are keyed on it."""
        value = self.scalar(f"SELECT ?v WHERE {{ GRAPH <{META_GRAPH}> {{ <{CATALOG}> mg:dataVersion ?v }} }}")
        return str(value) if value is not None else "empty"

    def triple_count(self) -> int:
        """Count the distinct catalog triples (all graphs but the bookkeeping graph)."""
        value = self.scalar(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ "
            f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{META_GRAPH}>) }} }}")
        return int(value or 0)

    def data_graph(self, *, include_derived: bool = True) -> Graph:
        """Return every catalog triple (the union of the data graphs) as an in-memory rdflib Graph."""
        excluded = [META_GRAPH] if include_derived else [META_GRAPH, SCORE_GRAPH, MATCH_GRAPH]
        flt = " && ".join(f"?g != <{g}>" for g in excluded)
        result = self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER({flt}) }}")
        graph = Graph()
        for prefix, ns in PREFIXES.items():
            graph.bind(prefix, ns)
        graph += result.graph
        return graph

    def sources(self) -> list[dict[str, Any]]:
        """List the ingested source documents (graph, path, format, time)."""
        rows = self.rows(f"""SELECT ?g ?path ?fmt ?t WHERE {{ GRAPH <{META_GRAPH}> {{
            ?g a mg:SourceDocument ; mg:sourcePath ?path .
            OPTIONAL {{ ?g dcterms:format ?fmt }} OPTIONAL {{ ?g prov:generatedAtTime ?t }} }} }} ORDER BY ?path""")
        return [{"graph": str(g), "path": str(p), "format": str(f) if f else None,
                 "ingested": str(t) if t else None} for g, p, f, t in rows]

    # ------------------------------------------------------------------ writing
    def write(self, graphs: Mapping[URIRef, Graph], *, replace: Iterable[URIRef] = (),
              clear_stubs: Iterable[URIRef] = (), sources: Iterable[tuple[URIRef, str, str]] = (),
              extra_updates: Iterable[str] = (), derived: bool = False) -> str:
        """Write named graphs in one transaction and bump the version.

        Parameters
        ----------
        graphs : mapping of graph IRI to Graph
            The triples to add to each named graph.
        replace : iterable of URIRef
            Graphs to empty first (the previous content of re-ingested sources).
        clear_stubs : iterable of URIRef
            Entities now described by a source: their stub triples are removed.
        sources : iterable of (graph IRI, path, format)
            Source documents to record in the bookkeeping graph.
        extra_updates : iterable of str
            Further SPARQL updates to run in the same transaction, after the drops.
        derived : bool
            True for derived results (scores): the version changes but :attr:`data_version` does not.

        Returns
        -------
        str
            The new catalog version.
        """
        before = [f"DROP SILENT GRAPH {URIRef(g).n3()}" for g in replace]
        stubs = list(clear_stubs)
        for i in range(0, len(stubs), 2000):
            values = " ".join(URIRef(e).n3() for e in stubs[i:i + 2000])
            before.append(f"DELETE {{ GRAPH <{STUB_GRAPH}> {{ ?e ?p ?o }} }} WHERE {{ "
                          f"VALUES ?e {{ {values} }} GRAPH <{STUB_GRAPH}> {{ ?e ?p ?o }} }}")
        now = Literal(datetime.now(timezone.utc).replace(microsecond=0))
        source_rows = list(sources)
        for g, _, _ in source_rows:
            before.append(f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ {URIRef(g).n3()} ?p ?o }} }}")
        before.extend(extra_updates)
        quads: list[tuple[Node, Node, Node, URIRef]] = []
        for g, graph in graphs.items():
            name = URIRef(g)
            quads.extend((s, p, o, name) for s, p, o in graph)
        from rdflib import DCTERMS, PROV, RDF
        for g, path, fmt in source_rows:
            quads.extend([
                (URIRef(g), RDF.type, MG.SourceDocument, META_GRAPH),
                (URIRef(g), MG.sourcePath, Literal(path), META_GRAPH),
                (URIRef(g), DCTERMS.format, Literal(fmt), META_GRAPH),
                (URIRef(g), PROV.generatedAtTime, now, META_GRAPH),
            ])
        token = uuid.uuid4().hex
        after = [self._bump_version_update(token, data=not derived)]
        self.backend.write(before, quads, after)
        return token

    def update(self, sparql: str, *, derived: bool = False) -> str:
        """Run a SPARQL update (prefixes predeclared) and bump the version.

        Parameters
        ----------
        sparql : str
            The update.
        derived : bool
            True when it only writes derived results (scores), so :attr:`data_version` stays.

        Returns
        -------
        str
            The new catalog version.
        """
        token = uuid.uuid4().hex
        self.backend.update(sparql_prefixes() + sparql + " ;\n" + self._bump_version_update(token, data=not derived))
        return token

    @staticmethod
    def _bump_version_update(token: str, *, data: bool = True) -> str:
        # DELETE WHERE then INSERT DATA (one request, so one transaction): Virtuoso answers
        # "WHERE { OPTIONAL {...} }" with no solution when nothing matches, so the one-operation
        # DELETE/INSERT form never set the version there.
        props = [MG.version, MG.dataVersion] if data else [MG.version]
        return " ;\n".join(
            f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{CATALOG}> <{p}> ?v }} }} ;\n"
            f"INSERT DATA {{ GRAPH <{META_GRAPH}> {{ <{CATALOG}> <{p}> {Literal(token).n3()} }} }}" for p in props)

    def clear(self) -> str:
        """Remove everything from the catalog."""
        return self.update("DROP SILENT ALL")

    # ------------------------------------------------------------------ export
    def serialize(self, fmt: str = "turtle") -> str:
        """Serialise every catalog triple (scores and match events included) in an RDF syntax.

        Parameters
        ----------
        fmt : str
            ``turtle``, ``nt`` or ``json-ld`` (any rdflib serialiser name).
        """
        graph = self.data_graph()
        if fmt == "json-ld":
            from .ontology import jsonld_context
            return graph.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
        return graph.serialize(format=fmt)

    @contextmanager
    def cached(self, name: str) -> Iterator[Path]:
        """Yield the path of a cache file for ``name`` at the current version."""
        yield self.cache_dir / f"{name}-{self.version}"
