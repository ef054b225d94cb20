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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import rdflib
from rdflib import Graph, Literal, URIRef
from rdflib.query import Result
from rdflib.term import Node

from ..env import lower_scheme, setting
from ..errors import CatalogError, QueryError
from .bindings import bind_values as _substitute
from ..vocab import CATALOG, ID, MATCH_GRAPH, META_GRAPH, MG, PREFIXES, SCORE_GRAPH, STUB_GRAPH, sparql_prefixes

DEFAULT_LOCATION = ".matchgraph"
ENV_VAR = "MATCHGRAPH_CATALOG"

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
        A directory path, ``memory:`` or an ``http(s)://`` endpoint URL (a URL's scheme in lower case:
        ``HTTP://host:7878/query`` is the same endpoint).
    """
    if location:
        return lower_scheme(str(location))
    return lower_scheme(setting(ENV_VAR) or DEFAULT_LOCATION)


#: A location with a scheme other than http(s) (``ftp://``, ``file://``, ``sparql://``): not a folder.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
#: A location that reads as ``HOST:PORT`` or ``HOST:PORT/PATH``: an endpoint given without ``http://``.
_HOST_PORT = re.compile(r"[A-Za-z0-9.-]+:[0-9]{1,5}(/.*)?")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
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

    def refresh(self) -> bool:
        """Move to the newest version another process committed; True if it changed."""
        return False

    def close(self) -> None:
        """Release the store."""


_OX_PREFIXES = {p: str(n) for p, n in PREFIXES.items()}


def ox_term(term: Node, _cache: dict[Node, Any] = {}) -> Any:  # noqa: B006 - a deliberate module cache
    """The pyoxigraph term for an rdflib term (IRIs and blank nodes are cached: they recur).

    Raises
    ------
    ValueError
        For a term Oxigraph cannot hold (an IRI with a space, say).
    """
    import pyoxigraph as ox

    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None and str(term.datatype) != _XSD_STRING:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    found = _cache.get(term)
    if found is None:
        if len(_cache) > 500_000:
            _cache.clear()
        found = ox.BlankNode(str(term)) if isinstance(term, rdflib.BNode) else ox.NamedNode(str(term))
        _cache[term] = found
    return found


class Transaction:
    """The next catalog version while it is written; see :meth:`Catalog.transaction`.

    Attributes
    ----------
    store : pyoxigraph.Store or None
        The read-write store of the staged version (embedded and ``memory:`` catalogs); what is
        written here is invisible to everyone until the transaction commits. None for a remote
        catalog, whose changes are buffered and sent at commit.
    base : pyoxigraph.Store or None
        The version readers see, read-only: the one the staged version was made from (unless
        another process committed since this one last read). None for a remote catalog.
    version : str
        The version token the catalog will have once this commits.
    """

    def __init__(self, store: Any, *, derived: bool, base: Any = None) -> None:
        self.store = store
        self.derived = derived
        self.base = base
        self.version = uuid.uuid4().hex
        self._updates: list[str] = []  # remote only
        self._quads: list[tuple[Node, Node, Node, URIRef]] = []

    def update(self, sparql: str) -> None:
        """Run a SPARQL update on the staged version (project prefixes predeclared; relative IRIs
        resolve against the entity namespace, as in queries: ``<the-pile>`` is ``mgid:the-pile``)."""
        if self.store is None:
            self._updates.append(sparql)
            return
        try:
            self.store.update(sparql, prefixes=_OX_PREFIXES, base_iri=str(ID))
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except RuntimeError as exc:  # what the update asks cannot be done: a graph that is not there...
            raise QueryError(f"the update failed and changed nothing: {exc}",
                             hint="DROP, CLEAR, COPY, MOVE and ADD of a graph that does not exist (and CREATE of "
                                  "one that does) fail; add SILENT to do nothing then") from exc
        except (OSError, ValueError) as exc:
            raise CatalogError(f"the update failed: {exc}") from exc

    def update_checked(self, sparql: str) -> None:
        """:meth:`update` for an update sent from outside (``matchgraph sparql --update``, the endpoint),
        refusing one that makes a local ``file:`` IRI an entity, as ingest does for files.

        The text says only whether to look (an update that adds no triple, or an INSERT DATA that
        does not spell ``file:``, is not looked at); when it may add one, the entity types of the
        whole staged version are looked at (see :mod:`matchgraph.store.local_entities`). An entity
        the catalog held before is let be.

        Raises
        ------
        QueryError
            The update would add such an entity; leaving the transaction with it abandons the
            staged version, so nothing changes.
        """
        self.update(sparql)
        if self.store is not None:  # a remote catalog: `matchgraph serve` checks its own updates, another engine does not
            from .local_entities import refuse_local_entities

            refuse_local_entities(sparql, self.store, self.base)

    def query(self, sparql: str) -> Any:
        """Run a query on the staged version (default graph = union of all graphs); pyoxigraph results."""
        if self.store is None:
            raise CatalogError("a remote transaction cannot be queried before it is sent")
        try:
            return self.store.query(sparql, use_default_graph_as_union=True, prefixes=_QUERY_PREFIXES)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc

    def drop_graph(self, graph: URIRef | str) -> None:
        """Empty a named graph (one operation, not one delete per triple)."""
        if self.store is None:
            self._updates.append(f"DROP SILENT GRAPH <{graph}>")
            return
        import pyoxigraph as ox

        name = ox.NamedNode(str(graph))
        if self.store.contains_named_graph(name):
            self.store.remove_graph(name)

    def add_quads(self, quads: Iterable[tuple[Node, Node, Node, Node]]) -> None:
        """Add rdflib quads (subject, predicate, object, graph)."""
        if self.store is None:
            self._quads.extend(quads)  # type: ignore[arg-type]
            return
        import pyoxigraph as ox

        def converted() -> Iterator[Any]:
            for s, p, o, g in quads:
                yield ox.Quad(ox_term(s), ox_term(p), ox_term(o), ox_term(g))

        try:
            self.store.bulk_extend(converted())
        except ValueError as exc:
            from ..errors import InputError

            raise InputError(f"a term cannot be written as RDF: {exc}",
                             hint="check the IRIs of the input for spaces or angle brackets") from exc

    def load(self, data: bytes | str | None = None, *, path: str | os.PathLike[str] | None = None,
             format: Any, to_graph: URIRef | str | None = None, base_iri: str | None = None) -> None:
        """Bulk load RDF text or a file into the staged version (syntax errors raise ``SyntaxError``)."""
        import pyoxigraph as ox

        graph = ox.NamedNode(str(to_graph)) if to_graph is not None else None
        if self.store is None:  # remote: pyoxigraph quads, serialised as they are at commit (store/remote.py)
            parsed = ox.parse(data, path=str(path) if path else None, format=format, base_iri=base_iri)
            if graph is not None:
                self._quads.extend(ox.Quad(q.subject, q.predicate, q.object, graph) for q in parsed)  # type: ignore[misc]
            else:
                self._quads.extend(parsed)  # type: ignore[arg-type]
            return
        kwargs: dict[str, Any] = {"format": format, "base_iri": base_iri}
        if graph is not None:
            kwargs["to_graph"] = graph
        if path is not None:
            self.store.bulk_load(path=str(path), **kwargs)
        else:
            self.store.bulk_load(data, **kwargs)


class _OxigraphBackend(_Backend):
    """Oxigraph, embedded: a versioned on-disk catalog (see :mod:`matchgraph.store.versions`) or an
    in-memory store. Queries go to pyoxigraph directly; the rdflib Dataset over it (oxrdflib, which
    pulls in rdflib's SPARQL machinery) is only built when asked for."""

    def __init__(self, root: Path | None, notify: Callable[[str], None] | None = None) -> None:
        import pyoxigraph as ox

        from .versions import VersionedStore

        self._ox = ox
        self._dataset: rdflib.Dataset | None = None
        self._empty: Any = None
        self._handle: Any = None
        self.versions = VersionedStore(root, notify=notify) if root is not None else None
        if self.versions is None:
            self._memory = ox.Store()
            self.description = "memory:"
        else:
            self.versions.roll_back_interrupted()
            self._handle = self.versions.open_reader()
            self.description = f"oxigraph:{root}"

    @property
    def inner(self) -> Any:
        """The store reads go to: the live version, read-only (an empty store before the first write)."""
        if self.versions is None:
            return self._memory
        if self._handle is not None and self._handle.store is not None:
            return self._handle.store
        if self._empty is None:
            self._empty = self._ox.Store()
        return self._empty

    @property
    def version_name(self) -> str | None:
        """The name of the version this process reads (embedded catalogs)."""
        return self._handle.name if self._handle is not None else None

    def refresh(self) -> bool:
        if self.versions is None:
            return False
        live = self.versions.current()
        if live is None or (self._handle is not None and self._handle.name == live):
            return False
        handle = self.versions.open_reader()
        old, self._handle = self._handle, handle
        self._dataset = None
        if old is not None:
            old.close()
        return True

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

    # ------------------------------------------------------------------ writing
    def begin(self) -> tuple[Any, Any]:
        """Stage the next version: (read-write store, token to commit or abort)."""
        if self.versions is None:
            staged = self._ox.Store()
            staged.bulk_extend(self._memory.quads_for_pattern(None, None, None, None))
            return staged, staged
        token = self.versions.begin()
        return token.store, token

    def commit(self, token: Any) -> None:
        if self.versions is None:
            self._memory = token
            self._dataset = None
            return
        self.versions.commit(token)
        self.refresh()

    def abort(self, token: Any) -> None:
        if self.versions is not None:
            self.versions.abort(token)

    def update(self, sparql: str) -> None:
        store, token = self.begin()
        try:
            Transaction(store, derived=True, base=self.inner).update_checked(sparql)
        except BaseException:
            self.abort(token)
            raise
        self.commit(token)

    def close(self) -> None:
        """Drop every reference to the store, so its files and locks are released now."""
        import gc

        self._dataset = None
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        self._empty = None
        gc.collect()


def _user_cache(key: str, *, prefix: str = "") -> Path:
    """This user's cache folder for a catalog it cannot keep derived state in (``$XDG_CACHE_HOME``)."""
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "matchgraph" / f"{prefix}{hashlib.sha1(key.encode()).hexdigest()[:12]}"


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

    def __init__(self, location: str | os.PathLike[str] | None = None, *, update_url: str | None = None,
                 notify: Callable[[str], None] | None = None) -> None:
        self.location = resolve_location(location)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        #: Things the user should know about (a rolled-back interrupted write, a wait for a writer).
        self.notices: list[str] = []
        self._notify_user = notify

        def note(message: str) -> None:
            self.notices.append(message)
            if self._notify_user is not None:
                self._notify_user(message)

        if self.location == "memory:":
            self.backend: _Backend = _OxigraphBackend(None)
            self.path: Path | None = None
        elif self.location.startswith(("http://", "https://")):
            from .remote import RemoteBackend

            self.backend = RemoteBackend(self.location, update_url)  # type: ignore[assignment]
            self.path = None
        else:
            if _URL.match(self.location):
                raise CatalogError(f"the catalog location {self.location} is a URL matchgraph cannot use",
                                   hint="a remote catalog is the http:// or https:// URL of a SPARQL endpoint "
                                        "(e.g. http://127.0.0.1:7878/query); a local one is a folder path")
            self.path = Path(self.location)
            if self.path.exists() and not self.path.is_dir():
                raise CatalogError(f"the catalog location {self.path} is a file, not a directory",
                                   hint="give --catalog a directory path")
            self.backend = _OxigraphBackend(self.path, notify=note)

    @property
    def exists(self) -> bool:
        """Whether there is a catalog here (an embedded one exists once something was written to it)."""
        versions = getattr(self.backend, "versions", None)
        return versions.exists() if versions is not None else True

    def require(self) -> Catalog:
        """Raise unless a catalog exists here (commands that only read never create one).

        Returns
        -------
        Catalog
            self, for chaining.
        """
        if not self.exists:
            raise CatalogError(f"no catalog at {self.location}",
                               hint="create one with `matchgraph ingest FILES` (or give --catalog / "
                                    "$MATCHGRAPH_CATALOG the right location)")
        return self

    def check_creatable(self) -> Catalog:
        """Raise unless a write may create a catalog here (a catalog that exists always may).

        A folder path may be new, empty or a catalog; an existing folder of other files is refused
        (see :meth:`matchgraph.store.versions.VersionedStore.check_new_root`), and so is a new path
        that reads as a server address without its scheme (``localhost:7878/query``), which would
        otherwise become a folder of that name.

        Returns
        -------
        Catalog
            self, for chaining.

        Raises
        ------
        CatalogError
            What is wrong with the location, and what to give instead.
        """
        versions = getattr(self.backend, "versions", None)
        if versions is None or versions.exists():
            return self
        if not versions.root.exists() and _HOST_PORT.fullmatch(self.location):
            raise CatalogError(f"the catalog location {self.location} reads as a server address, not a folder",
                               hint=f"for a SPARQL endpoint give its URL, e.g. http://{self.location}; for a new "
                                    "folder use a name without ':PORT'")
        versions.check_new_root()
        return self

    def refresh(self) -> bool:
        """Read the newest version if another process committed one since (a server calls this per
        request). Returns whether the version read changed."""
        return self.backend.refresh()

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
    def writable(self) -> bool:
        """False for an embedded catalog this user may only read (its folders are not writable);
        True otherwise (a remote endpoint decides for itself)."""
        if self.path is None:
            return True
        locks = self.path / "locks"
        return os.access(self.path, os.W_OK) and (not locks.exists() or os.access(locks, os.W_OK))

    @property
    def cache_dir(self) -> Path:
        """A directory for derived data (projection, text index) cached against the version."""
        if self.location == "memory:":
            if self._tmp is None:
                self._tmp = tempfile.TemporaryDirectory(prefix="matchgraph-")
            return Path(self._tmp.name)
        if self.path is None:  # a remote catalog: the user's own cache, one folder per endpoint
            cache = _user_cache(self.location)
        elif self.path.exists() and not os.access(self.path / "cache" if (self.path / "cache").exists()
                                                  else self.path, os.W_OK):
            cache = _user_cache(str(self.path.resolve()), prefix="read-only-")  # a catalog this user may only read
        else:
            cache = self.path / "cache"
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
        """Count the catalog's statements: the triples of every graph but the bookkeeping graph, a
        triple stated by two sources (two named graphs) counted once in each, as Oxigraph's
        ``len(store)`` and most engines count.

        Counting distinct triples instead means a hash set of the whole catalog (about 2 GB at 15M
        triples); this count streams. :meth:`distinct_triple_count` gives the other figure.
        """
        value = self.scalar(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{META_GRAPH}>) }}")
        return int(value or 0)

    def distinct_triple_count(self) -> int:
        """Count the distinct triples of the catalog (what an N-Triples dump of it holds); holds them
        all in memory once, so a figure for small catalogs and tests."""
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
        with self.transaction(derived=derived) as txn:
            self.stage(txn, graphs, replace=replace, clear_stubs=clear_stubs, sources=sources,
                       extra_updates=extra_updates)
        return txn.version

    @staticmethod
    def stage(txn: Transaction, graphs: Mapping[URIRef, Graph], *, replace: Iterable[URIRef] = (),
              clear_stubs: Iterable[URIRef] = (), sources: Iterable[tuple[URIRef, str, str]] = (),
              extra_updates: Iterable[str] = ()) -> None:
        """Do what :meth:`write` does inside an open transaction (parameters as there)."""
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
        from rdflib import DCTERMS, PROV, RDF

        def quads() -> Iterator[tuple[Node, Node, Node, URIRef]]:
            for g, graph in graphs.items():
                name = URIRef(g)
                for s, p, o in graph:
                    yield s, p, o, name
            for g, path, fmt in source_rows:
                yield URIRef(g), RDF.type, MG.SourceDocument, META_GRAPH
                yield URIRef(g), MG.sourcePath, Literal(path), META_GRAPH
                yield URIRef(g), DCTERMS.format, Literal(fmt), META_GRAPH
                yield URIRef(g), PROV.generatedAtTime, now, META_GRAPH

        if before:
            txn.update(" ;\n".join(before))
        txn.add_quads(quads() if txn.store is not None else list(quads()))

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
        with self.transaction(derived=derived) as txn:
            txn.update_checked(sparql)
        return txn.version

    @contextmanager
    def transaction(self, *, derived: bool = False) -> Iterator[Transaction]:
        """Write the next catalog version: all of it or nothing, whatever its size.

        Everything done through the :class:`Transaction` goes to a staged copy of the catalog that
        nobody else sees (an embedded catalog stages a checkpoint of its live version on disk, so a
        kill -9 at any moment leaves the catalog exactly as it was). Leaving the block without an
        exception bumps the version and publishes it; an exception discards it.

        Parameters
        ----------
        derived : bool
            True when only derived results (scores) change: :attr:`data_version` stays.

        Examples
        --------
        >>> cat = Catalog("memory:")
        >>> with cat.transaction() as txn:
        ...     txn.update('INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> schema:name "A" } }')
        >>> cat.triple_count(), cat.version == txn.version
        (1, True)
        """
        if isinstance(self.backend, _OxigraphBackend):
            store, token = self.backend.begin()
            txn = Transaction(store, derived=derived, base=self.backend.inner)
            try:
                yield txn
                txn.update(self._bump_version_update(txn.version, data=not derived))
            except BaseException:
                self.backend.abort(token)
                raise
            self.backend.commit(token)
            return
        txn = Transaction(None, derived=derived)
        yield txn
        before = [sparql_prefixes() + " ;\n".join(txn._updates)] if txn._updates else []
        self.backend.write(before, txn._quads, [self._bump_version_update(txn.version, data=not derived)],
                           derived=derived)

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
            from ..ontology import jsonld_context
            return graph.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
        return graph.serialize(format=fmt)

    @contextmanager
    def cached(self, name: str) -> Iterator[Path]:
        """Yield the path of a cache file for ``name`` at the current version."""
        yield self.cache_dir / f"{name}-{self.version}"
