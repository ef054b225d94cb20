"""``matchgraph serve``: a SPARQL 1.1 Protocol endpoint and HTML pages over one catalog.

Routes
------
``/sparql``
    SPARQL 1.1 Protocol: ``GET ?query=``, ``POST`` form-encoded (``query=`` or ``update=``),
    ``POST application/sparql-query`` and ``application/sparql-update``; ``default-graph-uri`` and
    ``named-graph-uri`` are honoured. Results follow ``Accept`` (or a ``format=`` parameter):
    SPARQL JSON, XML, CSV and TSV for SELECT and ASK; Turtle, N-Triples, JSON-LD and RDF/XML for
    CONSTRUCT and DESCRIBE. Queries see the union of all named graphs, with the project prefixes
    (``mg:``, ``mgid:``, ``schema:`` ...) predeclared.
``/``, ``/query``, ``/entity/{id}``, ``/compare/{a}/{b}``, ``/match?q=``, ``/graph``
    The catalog list (facets, sort, paging, search: :mod:`matchgraph.web.browse`), the query page
    (:mod:`matchgraph.web.query`), the pages the static site also has (shared templates,
    :mod:`matchgraph.site`; entity pages answer RDF by content negotiation,
    :mod:`matchgraph.web.linked`) and a readable graph view (:mod:`matchgraph.web.graphview`).

Safety and limits
-----------------
- Read-only by default: updates get 403. With ``allow_update`` *and* a ``token`` they are
  accepted from clients sending ``Authorization: Bearer TOKEN`` (401 without it, 403 with a wrong one).
- Each query runs in a worker thread with a deadline (``timeout``, 30 s by default); past it the
  client gets 503 with a message saying so. Result rows (or triples) past ``max_rows`` are cut and
  the response carries ``X-Matchgraph-Truncated``. Oxigraph cannot interrupt an evaluation that is
  still computing its first row (a big ORDER BY or aggregate), so such a worker runs to its end in
  the background while the client already has its 503; streaming queries stop at the deadline.
- CORS is open (any origin may GET and POST) so browser clients such as YASGUI can query it.
- HTML pages carry a Content-Security-Policy allowing scripts only from this server.

Why starlette + uvicorn and not rdflib-endpoint
-----------------------------------------------
rdflib-endpoint (FastAPI) was evaluated first. It evaluates queries with rdflib's pure-Python
SPARQL engine on a parsed query (``prepareQuery``), which the Oxigraph store behind the catalog
rejects, and which is orders of magnitude slower than Oxigraph's engine; it has no query timeout
and no row cap, guards updates with one process-wide API key read from an environment variable,
and its YASGUI page loads scripts from a CDN. Adding those would mean replacing most of its
router, and it would pull in FastAPI and pydantic. starlette (routing, CORS middleware, form
parsing) and uvicorn (the server) are small, well kept, already dependencies, and leave the
protocol's few rules (negotiation, limits, auth) in one readable module.

Examples
--------
>>> from matchgraph import Catalog
>>> app = create_app(Catalog("memory:"))            # doctest: +SKIP
>>> serve(".matchgraph", port=8000)                 # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from .catalog import Catalog, rdflib_term
from .errors import ConfigError, EntityNotFound, MatchgraphError, QueryError
from .export.html import Links
from .vocab import MG, PREFIXES
from .web.query import example_queries

__all__ = ["ServerConfig", "SparqlEndpoint", "Negotiated", "negotiate", "create_app", "serve", "ServerLinks",
           "example_queries", "DEFAULT_TIMEOUT", "DEFAULT_MAX_ROWS"]

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ROWS = 10_000
TRUNCATED_HEADER = "X-Matchgraph-Truncated"
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

#: Media types for SELECT and ASK results -> serialisation key.
RESULT_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
#: Media types for CONSTRUCT and DESCRIBE results -> rdflib serialiser.
GRAPH_TYPES: dict[str, str] = {
    "text/turtle": "turtle", "application/x-turtle": "turtle", "application/n-triples": "nt",
    "text/plain": "nt", "application/ld+json": "json-ld", "application/rdf+xml": "xml",
}
#: ``format=`` parameter values -> media type.
FORMAT_ALIASES: dict[str, str] = {
    "json": "application/sparql-results+json", "srj": "application/sparql-results+json",
    "xml": "application/sparql-results+xml", "srx": "application/sparql-results+xml", "csv": "text/csv",
    "tsv": "text/tab-separated-values", "turtle": "text/turtle", "ttl": "text/turtle",
    "nt": "application/n-triples", "ntriples": "application/n-triples", "json-ld": "application/ld+json",
    "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml",
}
#: What a client gets when it accepts anything.
DEFAULT_TYPES = {"results": "application/sparql-results+json", "graph": "text/turtle"}
#: When a client asks for a results format for a graph (or the reverse), the closest one.
CROSS_TYPES = {"json": "application/ld+json", "xml": "application/rdf+xml", "csv": "application/n-triples",
               "tsv": "application/n-triples", "turtle": "application/sparql-results+json",
               "nt": "application/sparql-results+json", "json-ld": "application/sparql-results+json"}


@dataclass
class ServerConfig:
    """How the endpoint behaves.

    Parameters
    ----------
    allow_update : bool
        Accept SPARQL updates (needs ``token`` too).
    token : str, optional
        The bearer token update requests must carry.
    timeout : float
        Seconds a query may run before the client gets 503.
    max_rows : int
        Rows (or triples) returned at most; the rest are cut.
    examples_dir : path, optional
        Folder of ``*.rq`` example queries for the query page (default: the repository's examples).
    """

    allow_update: bool = False
    token: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    examples_dir: Path | None = None
    workers: int = 4

    def __post_init__(self) -> None:
        if self.allow_update and not self.token:
            raise ConfigError("updates need a token", hint="start the server with --allow-update --token TOKEN")
        if self.timeout <= 0:
            raise ConfigError("the timeout must be positive", hint="for example --timeout 30")
        if self.max_rows < 1:
            raise ConfigError("the row cap must be at least 1", hint="for example --max-rows 10000")


class QueryTimeout(Exception):
    """A query ran past its deadline."""


class NotAcceptable(Exception):
    """The client accepts no format this kind of result can be written in."""


@dataclass(frozen=True)
class Negotiated:
    """The format a result is written in."""

    media_type: str
    key: str


def _accepted(accept: str) -> list[str]:
    """Media types in an Accept header, best first (ties keep their order)."""
    entries: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            entries.append((-q, i, fields[0].lower()))
    return [m for _, _, m in sorted(entries)]


def negotiate(accept: str | None, kind: str, fmt: str | None = None) -> Negotiated:
    """Pick the result format from the ``Accept`` header (or a ``format=`` value) for a query kind.

    Parameters
    ----------
    accept : str or None
        The request's Accept header.
    kind : str
        ``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``.
    fmt : str, optional
        A ``format=`` parameter: a media type or an alias (``json``, ``xml``, ``csv``, ``tsv``, ``turtle``...).

    Raises
    ------
    NotAcceptable
        Nothing acceptable (HTTP 406).

    Examples
    --------
    >>> negotiate("application/sparql-results+xml", "SELECT")
    Negotiated(media_type='application/sparql-results+xml', key='xml')
    >>> negotiate("text/html,*/*;q=0.8", "CONSTRUCT").media_type
    'text/turtle'
    """
    graph = kind in ("CONSTRUCT", "DESCRIBE")
    table = GRAPH_TYPES if graph else RESULT_TYPES
    wanted = [FORMAT_ALIASES.get(fmt.lower(), fmt.lower())] if fmt else _accepted(accept or "*/*")
    for media in wanted:
        if media in table:
            return Negotiated(media, table[media])
        if media in ("*/*", "application/*", "text/*"):
            default = DEFAULT_TYPES["graph" if graph else "results"]
            return Negotiated(default, table[default])
    for media in wanted:  # a results type asked for a graph (or the reverse): the closest one
        other = (RESULT_TYPES if graph else GRAPH_TYPES).get(media)
        if other is not None and CROSS_TYPES[other] in table:
            return Negotiated(CROSS_TYPES[other], table[CROSS_TYPES[other]])
    raise NotAcceptable("no acceptable format; this endpoint writes " + ", ".join(sorted(table)))


@dataclass
class Outcome:
    """A serialised result."""

    body: bytes
    media_type: str
    truncated: bool = False
    rows: int = 0


def _ox_store(catalog: Catalog) -> Any:
    store = catalog.oxigraph
    if store is None:
        raise ConfigError(f"cannot serve {catalog.location}: the server needs a local catalog",
                          hint="give --catalog a directory (an embedded Oxigraph catalog) or memory:")
    return store


class SparqlEndpoint:
    """Runs protocol requests on a catalog: queries with a deadline and a row cap, guarded updates.

    Parameters
    ----------
    catalog : Catalog
        A local (Oxigraph) catalog; the endpoint queries its store directly.
    config : ServerConfig
    """

    def __init__(self, catalog: Catalog, config: ServerConfig) -> None:
        self.catalog = catalog
        self.config = config
        self.store = _ox_store(catalog)
        self.write_lock = threading.Lock()
        self.prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
        self._slots: asyncio.Semaphore | None = None

    async def _in_thread(self, func: Any, *args: Any, timeout: float | None) -> Any:
        """Run ``func(*args)`` in a daemon thread, at most ``config.workers`` at a time.

        Daemon threads, not a pool: a query Oxigraph cannot interrupt must not keep the process
        alive at shutdown. Raises :class:`QueryTimeout` when no slot frees up or the call does not
        finish within ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.config.workers)
        slots = self._slots
        started = loop.time()
        try:
            await asyncio.wait_for(slots.acquire(), timeout)
        except asyncio.TimeoutError:
            raise QueryTimeout() from None
        future: asyncio.Future[Any] = loop.create_future()

        def finish(ok: bool, value: Any) -> None:
            slots.release()
            if not future.done():
                future.set_result(value) if ok else future.set_exception(value)

        def work() -> None:
            try:
                ok, value = True, func(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting request
                ok, value = False, _detached(exc)
            try:
                loop.call_soon_threadsafe(finish, ok, value)
            except RuntimeError:  # the server has shut down meanwhile
                pass

        threading.Thread(target=work, name="matchgraph-sparql", daemon=True).start()
        remaining = None if timeout is None else max(0.0, timeout - (loop.time() - started))
        try:
            return await asyncio.wait_for(asyncio.shield(future), remaining)
        except asyncio.TimeoutError:
            future.cancel()  # nobody waits for it any more: its late result is dropped
            raise QueryTimeout() from None

    # ------------------------------------------------------------------ queries
    async def query(self, text: str, accept: str | None, *, fmt: str | None = None,
                    default_graphs: list[str] | None = None, named_graphs: list[str] | None = None) -> Outcome:
        """Run a query in a worker thread; raise :class:`QueryTimeout` past the deadline."""
        from .sparql import query_kind

        kind = query_kind(text)
        if kind == "UPDATE":
            raise QueryError("this is an update: send it with POST as update= or application/sparql-update")
        negotiated = negotiate(accept, kind, fmt)
        cancelled = threading.Event()
        deadline = time.monotonic() + self.config.timeout
        try:
            return await self._in_thread(self._evaluate, text, negotiated, deadline, cancelled,
                                         default_graphs or [], named_graphs or [], timeout=self.config.timeout)
        except QueryTimeout:
            cancelled.set()
            raise

    def _evaluate(self, text: str, negotiated: Negotiated, deadline: float, cancelled: threading.Event,
                  default_graphs: list[str], named_graphs: list[str]) -> Outcome:
        import pyoxigraph as ox

        options: dict[str, Any] = {"prefixes": self.prefixes}
        try:
            if default_graphs:
                options["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
            else:
                options["use_default_graph_as_union"] = True
            if named_graphs:
                options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
            result = self.store.query(text, **options)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from exc
        except (OSError, ValueError) as exc:
            raise QueryError(f"the query failed: {exc}") from exc
        if isinstance(result, ox.QueryBoolean):
            return _ask_outcome(bool(result), negotiated)
        items = self._take(result, deadline, cancelled)
        if isinstance(result, ox.QueryTriples):
            return _graph_outcome(items, negotiated, self.config.max_rows)
        return _select_outcome([v.value for v in result.variables], items, negotiated, self.config.max_rows)

    def _take(self, iterator: Iterator[Any], deadline: float, cancelled: threading.Event) -> list[Any]:
        """Up to ``max_rows + 1`` items (the extra one tells that the result was cut)."""
        items: list[Any] = []
        try:
            for item in iterator:
                if cancelled.is_set() or time.monotonic() > deadline:
                    raise QueryTimeout()
                items.append(item)
                if len(items) > self.config.max_rows:
                    break
        except (OSError, ValueError) as exc:
            raise QueryError(f"the query failed: {exc}") from exc
        return items

    # ------------------------------------------------------------------ updates
    def check_update_allowed(self, authorization: str | None) -> tuple[int, str] | None:
        """Return ``(status, message)`` when an update must be refused, else None."""
        if not self.config.allow_update:
            return 403, ("this endpoint is read-only: updates are refused "
                         "(start it with --allow-update --token TOKEN to accept them)")
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return 401, "updates need an 'Authorization: Bearer TOKEN' header"
        if not hmac.compare_digest(given.strip().encode(), str(self.config.token).encode()):
            return 403, "the bearer token is wrong"
        return None

    async def update(self, text: str) -> str:
        """Run an update and return the catalog version after it.

        An update that sets the catalog version itself (as a remote :class:`~matchgraph.Catalog`
        does) runs as sent; any other update also bumps the version, so derived caches are rebuilt.
        """
        def run() -> str:
            with self.write_lock:
                if str(MG.version) in text or "mg:version" in text:
                    self.catalog.backend.update(text)
                    return self.catalog.version
                return str(self.catalog.update(text.strip().rstrip(";")))

        return str(await self._in_thread(run, timeout=None))


def _detached(exc: BaseException) -> BaseException:
    """``exc`` with the locals of its traceback frames cleared, in the thread that raised it.

    Oxigraph's result iterators must be dropped on the thread that made them; a traceback handed
    to the event loop would otherwise carry them there.
    """
    import traceback

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if current.__traceback__ is not None:
            traceback.clear_frames(current.__traceback__)
        current = current.__cause__ or current.__context__
    return exc


def _ask_outcome(answer: bool, negotiated: Negotiated) -> Outcome:
    if negotiated.key == "json":
        body = json.dumps({"head": {}, "boolean": answer}).encode()
    elif negotiated.key == "xml":
        body = ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                f"<head/><boolean>{'true' if answer else 'false'}</boolean></sparql>\n").encode()
    else:
        body = ("true" if answer else "false").encode() + b"\n"
    return Outcome(body, negotiated.media_type, rows=1)


def _select_outcome(names: list[str], solutions: list[Any], negotiated: Negotiated, cap: int) -> Outcome:
    from rdflib.query import Result
    from rdflib.term import Variable

    from .sparql import format_result, result_to_json

    truncated = len(solutions) > cap
    variables = [Variable(n) for n in names]
    result = Result("SELECT")
    result.vars = variables
    result.bindings = [{v: rdflib_term(s[n], plain_strings=True) for v, n in zip(variables, names)
                        if s[n] is not None}
                       for s in solutions[:cap]]
    if negotiated.key == "json":
        body = json.dumps(result_to_json(result), ensure_ascii=False).encode()
    elif negotiated.key == "xml":
        body = result.serialize(format="xml") or b""
    else:
        body = format_result(result, negotiated.key).encode()
    return Outcome(body, negotiated.media_type, truncated, min(len(solutions), cap))


def _graph_outcome(triples: list[Any], negotiated: Negotiated, cap: int) -> Outcome:
    from rdflib import Graph

    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    for triple in triples[:cap]:
        graph.add(tuple(rdflib_term(t, plain_strings=True)  # type: ignore[arg-type]
                        for t in (triple.subject, triple.predicate, triple.object)))
    if negotiated.key == "json-ld":
        from .ontology import jsonld_context

        text = graph.serialize(format="json-ld", context=jsonld_context(), auto_compact=True)
    else:
        text = graph.serialize(format=negotiated.key)
    return Outcome(text.encode() if isinstance(text, str) else text, negotiated.media_type,
                   len(triples) > cap, min(len(triples), cap))


# ---------------------------------------------------------------------- the web application
class ServerLinks(Links):
    """Absolute links between the server's pages."""

    def entity(self, slug: str) -> str:
        """The page of an entity."""
        return "/entity/" + quote(slug, safe="")

    def compare(self, a: str, b: str) -> str:
        """The page comparing two entities."""
        return f"/compare/{quote(a, safe='')}/{quote(b, safe='')}"

    def index(self) -> str:
        """The entity index."""
        return "/"

    def query(self) -> str:
        """The SPARQL editor."""
        return "/query"

    def match(self) -> str:
        """The match form's target."""
        return "/match"

    def graph(self) -> str:
        """The whole graph view."""
        return "/graph"

    def entity_data(self, slug: str, key: str) -> str:
        """The entity's RDF description in format ``key`` (``ttl``, ``jsonld``, ``nt``)."""
        from .web.linked import FORMATS

        return self.entity(slug) + FORMATS[key][1]


@dataclass
class _State:
    catalog: Catalog
    endpoint: SparqlEndpoint
    config: ServerConfig
    owns_catalog: bool = False
    cache: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


async def _request_params(request: Any) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """(query, update, all parameters) of a protocol request."""
    params = list(request.query_params.multi_items())
    if request.method != "POST":
        return request.query_params.get("query"), request.query_params.get("update"), params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = (await request.body()).decode("utf-8")
    if content_type == "application/sparql-query":
        return body, None, params
    if content_type == "application/sparql-update":
        return None, body, params
    if content_type in ("application/x-www-form-urlencoded", ""):
        form = parse_qsl(body, keep_blank_values=True)
        params += form
        values = dict(form)
        return values.get("query"), values.get("update"), params
    raise QueryError(f"unsupported content type {content_type!r}",
                     hint="use application/x-www-form-urlencoded, application/sparql-query or application/sparql-update")


def _service_description(request: Any) -> Any:
    from rdflib import RDF, Graph, Namespace, URIRef
    from starlette.responses import Response

    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    formats = Namespace("http://www.w3.org/ns/formats/")
    graph = Graph()
    graph.bind("sd", sd)
    service = URIRef(str(request.url).split("?")[0])
    graph.add((service, RDF.type, sd.Service))
    graph.add((service, sd.endpoint, service))
    graph.add((service, sd.supportedLanguage, sd.SPARQL11Query))
    for fmt in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        graph.add((service, sd.resultFormat, formats[fmt]))
    graph.add((service, sd.feature, sd.UnionDefaultGraph))
    state: _State = request.app.state.matchgraph
    if state.config.allow_update:
        graph.add((service, sd.supportedLanguage, sd.SPARQL11Update))
    return Response(graph.serialize(format="turtle"), media_type="text/turtle")


async def sparql_route(request: Any) -> Any:
    """The SPARQL 1.1 Protocol endpoint."""
    from starlette.responses import RedirectResponse, Response

    state: _State = request.app.state.matchgraph
    try:
        query, update, params = await _request_params(request)
        if query is not None and update is not None:
            raise QueryError("a request carries either a query or an update, not both")
        if update is not None:
            if request.method != "POST":
                raise QueryError("updates must be sent with POST")
            refusal = state.endpoint.check_update_allowed(request.headers.get("authorization"))
            if refusal is not None:
                headers = {"WWW-Authenticate": 'Bearer realm="matchgraph"'} if refusal[0] == 401 else None
                return _text(refusal[0], refusal[1], headers)
            version = await state.endpoint.update(update)
            return _text(200, f"Update applied; catalog version {version[:12]}.")
        if not query:
            if "text/html" in request.headers.get("accept", ""):
                return RedirectResponse("/query", status_code=303)
            return _service_description(request)
        fmt = dict(params).get("format")
        outcome = await state.endpoint.query(
            query, request.headers.get("accept"), fmt=fmt,
            default_graphs=[v for k, v in params if k == "default-graph-uri"],
            named_graphs=[v for k, v in params if k == "named-graph-uri"])
    except QueryTimeout:
        return _text(503, f"the query ran past the {state.config.timeout:g} s time limit and was stopped; "
                          "narrow it (more specific patterns, a LIMIT) or ask the operator for a longer --timeout")
    except NotAcceptable as exc:
        return _text(406, str(exc))
    except QueryError as exc:
        return _text(400, str(exc))
    except MatchgraphError as exc:
        return _text(500, str(exc))
    headers = {"X-Matchgraph-Rows": str(outcome.rows)}
    if outcome.truncated:
        headers[TRUNCATED_HEADER] = f"max-rows={state.config.max_rows}"
    media = outcome.media_type + ("; charset=utf-8" if outcome.media_type.startswith("text/") else "")
    return Response(outcome.body, media_type=media, headers=headers)


def _context(request: Any) -> Any:
    """A page context for one request (derived data is loaded at most once per request)."""
    from . import site

    state: _State = request.app.state.matchgraph
    return site.PageContext(state.catalog, ServerLinks(), site.server_assets())


async def _page(request: Any, render: Any, *args: Any, ctx: Any = None) -> Any:
    """Render a page in a worker thread; entity lookups that fail become a 404 page."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import HTMLResponse

    from . import site

    ctx = ctx or _context(request)
    try:
        html = await run_in_threadpool(render, ctx, *args)
        status = 200
    except EntityNotFound as exc:
        html = await run_in_threadpool(site.render_not_found, ctx, exc)
        status = 404
    except (QueryError, ConfigError) as exc:
        html = await run_in_threadpool(site.render_error, ctx, str(exc))
        status = 400
    return HTMLResponse(html, status_code=status, headers={"Content-Security-Policy": PAGE_CSP})


def _browse_index(state: _State) -> Any:
    """The catalog list's index for the current version, built once per version (in a worker thread)."""
    from .web.browse import BrowseIndex

    with state.lock:
        version = state.catalog.version
        cached = state.cache.get("browse")
        if cached is None or cached.version != version:
            cached = state.cache["browse"] = BrowseIndex.build(state.catalog)
        return cached


async def index_route(request: Any) -> Any:
    """The catalog list: facets, sort, paging and search, every state in the URL."""
    from starlette.concurrency import run_in_threadpool

    from . import site

    state: _State = request.app.state.matchgraph
    ctx = _context(request)
    ctx.provide("browse", await run_in_threadpool(_browse_index, state))
    return await _page(request, site.render_index, dict(request.query_params), ctx=ctx)


async def entity_route(request: Any) -> Any:
    """An entity page; names and aliases redirect to the slug's page.

    Linked data: ``Accept: text/turtle`` (``application/ld+json``, ``application/n-triples``), a
    ``.ttl`` (``.jsonld``, ``.nt``) suffix or ``?format=`` answer the entity's RDF description
    (:mod:`matchgraph.web.linked`); answers vary on ``Accept``.
    """
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse, Response

    from . import site
    from .web import linked

    ident = request.path_params["ident"]
    ctx = _context(request)
    fmt = request.query_params.get("format")
    key = linked.format_key(fmt) if fmt else linked.negotiate_entity(request.headers.get("accept"))
    if fmt and key is None:
        return _text(400, f"unknown format {fmt!r}; use one of: " + ", ".join(linked.FORMATS))
    stem, suffix_key = linked.split_suffix(ident)
    try:
        ref = await run_in_threadpool(ctx.entity, ident)
    except (EntityNotFound, QueryError):
        if suffix_key is None:  # the page says what is wrong (404 or 400)
            return await _page(request, site.render_entity, ident, ctx=ctx)
        try:
            ref = await run_in_threadpool(ctx.entity, stem)
        except (EntityNotFound, QueryError):
            return await _page(request, site.render_entity, ident, ctx=ctx)
        key, ident = suffix_key, stem
    if ref.slug != ident:
        target = ServerLinks().entity(ref.slug) + (linked.FORMATS[key][1] if suffix_key and key else "")
        return RedirectResponse(target, status_code=302, headers={"Vary": "Accept"})
    if key is not None:
        body = await run_in_threadpool(linked.entity_rdf, _catalog_of(request), ref.slug, key)
        media = linked.FORMATS[key][0]
        return Response(body, media_type=media + ("; charset=utf-8" if media.startswith("text/") else ""),
                        headers={"Vary": "Accept", "Link": f'<{ServerLinks().entity(ref.slug)}>; rel="alternate"; '
                                                           'type="text/html"'})
    response = await _page(request, site.render_entity, ref.slug, ctx=ctx)
    response.headers["Vary"] = "Accept"
    return response


def _catalog_of(request: Any) -> Catalog:
    """The catalog the application serves."""
    state: _State = request.app.state.matchgraph
    return state.catalog


async def compare_route(request: Any) -> Any:
    """Two entities side by side."""
    from . import site

    return await _page(request, site.render_compare, request.path_params["a"], request.path_params["b"])


async def match_route(request: Any) -> Any:
    """Entities matching a need, with why."""
    from . import site

    return await _page(request, site.render_match, request.query_params.get("q", ""))


async def graph_route(request: Any) -> Any:
    """A readable part of the match graph: ``?center=ID&depth=N&size=N&relation=R``.

    Without a centre the view starts from the top-ranked entities; ``size`` (150 by default)
    caps what is drawn, with a warning past 2,000.
    """
    from . import site
    from .web.graphview import MAX_SIZE

    params = request.query_params

    def number(name: str, default: int | None, low: int, high: int) -> int | None:
        try:
            return max(low, min(high, int(params[name]))) if params.get(name) else default
        except ValueError:
            return default

    depth = number("depth", 2, 0, 6) or 0
    size = number("size", None, 1, MAX_SIZE)
    relations = [r for r in params.getlist("relation") if r] or None
    from functools import partial

    return await _page(request, partial(site.render_graph, controls=True), params.get("center") or None, depth,
                       size, relations)


async def query_page_route(request: Any) -> Any:
    """The SPARQL editor with the example queries."""
    from . import site

    state: _State = request.app.state.matchgraph
    examples = example_queries(state.config.examples_dir)
    return await _page(request, site.render_query_page, examples, "/sparql", request.query_params.get("query", ""))


async def static_route(request: Any) -> Any:
    """Bundled scripts and the style sheet."""
    from starlette.responses import Response

    from .export.html import ASSET_FILES, asset_text

    name = request.path_params["name"]
    if name != "vis-network.js" and name not in ASSET_FILES:
        return _text(404, "no such file")
    media = "text/css" if name.endswith(".css") else "text/javascript"
    return Response(asset_text(name), media_type=media + "; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600"})


def create_app(catalog: Catalog, config: ServerConfig | None = None, *, owns_catalog: bool = False) -> Any:
    """The starlette application serving ``catalog``.

    Parameters
    ----------
    catalog : Catalog
        A local catalog (directory or ``memory:``).
    config : ServerConfig, optional
    owns_catalog : bool
        Close the catalog when the application shuts down.

    Examples
    --------
    >>> from starlette.testclient import TestClient                     # doctest: +SKIP
    >>> TestClient(create_app(Catalog("memory:"))).get("/sparql", params={"query": "ASK {}"}).json()  # doctest: +SKIP
    {'head': {}, 'boolean': True}
    """
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.routing import Route

    config = config or ServerConfig()
    state = _State(catalog, SparqlEndpoint(catalog, config), config, owns_catalog)

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        yield
        if state.owns_catalog:
            state.catalog.close()

    routes = [
        Route("/sparql", sparql_route, methods=["GET", "POST"]),
        Route("/", index_route),
        Route("/query", query_page_route),
        Route("/entity/{ident:path}", entity_route),
        Route("/compare/{a}/{b}", compare_route),
        Route("/match", match_route),
        Route("/graph", graph_route),
        Route("/static/{name}", static_route),
    ]
    middleware = [Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
                             allow_headers=["Accept", "Authorization", "Content-Type"],
                             expose_headers=[TRUNCATED_HEADER, "X-Matchgraph-Rows"], max_age=600)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.matchgraph = state
    return app


def serve(location: str | None = None, *, host: str = "127.0.0.1", port: int = 8000,
          config: ServerConfig | None = None, log_level: str = "info") -> None:
    """Open the catalog once and serve it until interrupted.

    Parameters
    ----------
    location : str, optional
        The catalog (a directory or ``memory:``); defaults as everywhere else.
    host, port :
        Where to listen (localhost by default).
    config : ServerConfig, optional
        Update permission, token, timeout and row cap.
    """
    import uvicorn

    catalog = Catalog(location)
    app = create_app(catalog, config, owns_catalog=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
