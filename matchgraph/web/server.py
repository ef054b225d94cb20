"""``matchgraph serve``: a SPARQL 1.1 Protocol endpoint and HTML pages over one catalog.

Routes
------
``/sparql``
    SPARQL 1.1 Protocol (:mod:`matchgraph.web.endpoint`): ``GET ?query=``, ``POST`` form-encoded
    (``query=`` or ``update=``), ``POST application/sparql-query`` and ``application/sparql-update``;
    ``default-graph-uri`` and ``named-graph-uri`` are honoured. Results follow ``Accept`` with
    q-values (or a ``format=`` parameter): SPARQL JSON, XML, CSV and TSV for SELECT and ASK;
    Turtle, N-Triples, JSON-LD, RDF/XML and N3 for CONSTRUCT and DESCRIBE; any other is 406.
    Queries see the union of all named graphs, with the project prefixes (``mg:``, ``mgid:``,
    ``schema:`` ...) predeclared.
``/dump/catalog.{ttl,nt,nq,trig,jsonld}``
    The whole catalog as an RDF dump, streamed as it is written.
``/static/{name}``, ``/favicon.ico``
    The pages' scripts and style sheet; their icon (an SVG, also inlined in every page).
``/``, ``/query``, ``/entity/{id}``, ``/compare/{a}/{b}``, ``/match?q=&kind=``, ``/graph``
    The catalog list (facets, sort, paging, search: :mod:`matchgraph.web.browse`), the query page
    (:mod:`matchgraph.web.query`), the pages the static site also has (shared templates,
    :mod:`matchgraph.web.site`; entity pages answer RDF by content negotiation,
    :mod:`matchgraph.web.linked`) and a readable graph view (:mod:`matchgraph.web.graphview`).

Safety and limits
-----------------
- Read-only by default: updates get 403. With ``allow_update`` *and* a ``token`` they are
  accepted from clients sending ``Authorization: Bearer TOKEN`` (401 without it, 403 with a wrong one).
- Each query runs in a worker process on a read-only snapshot of the current catalog version,
  ``workers`` at once and ``queue`` more waiting (then 503 with ``Retry-After``). Past its
  deadline (``timeout``, 30 s by default) the client gets 503 and the worker is killed, so the
  query stops using CPU at once. Result rows (or triples) past ``max_rows`` are cut and the
  response says so (``X-Matchgraph-Truncated``; in SPARQL JSON also a ``matchgraph`` member).
- SERVICE and LOAD are refused unless the operator allows the host (``allow_service``): the
  server sends no request on a client's behalf.
- Request bodies over ``max_body`` bytes get 413, URLs over 8 KB 414, text that is not UTF-8 400.
- CORS is open (any origin may GET and POST) so browser clients such as YASGUI can query it.
- HTML pages carry a Content-Security-Policy allowing scripts only from this server.

Building
--------
Pages need the match graph of the catalog version they show (:mod:`matchgraph.graph.derived`).
When another process wrote a version whose match graph is not built yet (a large ingest), the
first page starts the build in a background thread and waits up to ``build_wait`` seconds; past
that it answers 503 with ``Retry-After`` and a page saying what is being built (step, total,
seconds so far) that reloads itself until the version is ready. The SPARQL endpoint never waits:
it reads the store.

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
import html
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..store.catalog import Catalog
from .endpoint import (DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT, ServerConfig, TRUNCATED_HEADER, Negotiated, SparqlEndpoint, UrlLimit, dump_route,
                       negotiate, sparql_route)
from ..errors import ConfigError, EntityNotFound, QueryError
from ..export.html import Links
from ..graph.resolve import CachedLookup
from .query import example_queries

log = logging.getLogger("matchgraph.web.server")

__all__ = ["ServerConfig", "SparqlEndpoint", "Negotiated", "negotiate", "create_app", "serve", "ServerLinks",
           "example_queries", "DEFAULT_TIMEOUT", "DEFAULT_MAX_ROWS", "DerivedBuilds", "building_page", "BUILD_RETRY"]

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

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
        from .linked import FORMATS

        return self.entity(slug) + FORMATS[key][1]


class DerivedBuilds:
    """Builds of the match graph of the served catalog's current version, in a background thread.

    One build at a time; a page asks :meth:`ready` and, when not, :meth:`start` and waits a moment
    before answering "building" (see the module docstring).
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.error: BaseException | None = None
        #: The data version the running (or last) build started from.
        self.version: str | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ready(self) -> bool:
        """Whether the current version's match graph is built (read only, and never waits for a build)."""
        from ..graph.derived import is_built

        return is_built(self.catalog, self.catalog.data_version)

    def start(self) -> None:
        """Start building the current version unless a build is running."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self.version, self.error = self.catalog.data_version, None
            self._thread = threading.Thread(target=self._build, name="matchgraph-build", daemon=True)
            self._thread.start()

    def running(self) -> bool:
        """Whether a build is running now."""
        return self._thread is not None and self._thread.is_alive()

    def _build(self) -> None:
        from ..graph.derived import current

        # An embedded catalog is built from a reader of its own, pinned to the version current now:
        # the server's catalog moves to newer versions between requests, and a long build must read
        # one version throughout (and keep that version's lock while it reads).
        pinned = None
        try:
            pinned = Catalog(self.catalog.path) if self.catalog.path is not None else None
            current(pinned or self.catalog)
        except BaseException as exc:  # reported by the next page, which starts a new build
            self.error = exc
        finally:
            if pinned is not None:
                pinned.close()


@dataclass
class _State:
    catalog: Catalog
    endpoint: SparqlEndpoint
    config: ServerConfig
    owns_catalog: bool = False
    cache: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    builds: DerivedBuilds | None = None

    def __post_init__(self) -> None:
        self.builds = DerivedBuilds(self.catalog)


#: Seconds the "building" page tells the browser (and clients) to wait before asking again.
BUILD_RETRY = 2


def building_page(version: str, builds: list[dict[str, Any]]) -> str:
    """The page answered while the match graph of ``version`` is being built (reloads itself).

    Examples
    --------
    >>> page = building_page("3", [{"title": "Building the match graph", "step": 2, "total": 8,
    ...                             "what": "reading claims", "seconds": 4.2}])
    >>> "step 2 of 8: reading claims" in page and 'http-equiv="refresh"' in page
    True
    """
    lines = []
    for build in builds:
        lines.append(f"<p>{html.escape(build['title'])}: step {build['step']} of {build['total']}: "
                     f"{html.escape(build['what'] or 'starting')} ({build['seconds']:.0f} s so far)</p>"
                     f"<progress max=\"{build['total']}\" value=\"{max(build['step'] - 1, 0)}\"></progress>")
    body = "".join(lines) or "<p>Starting the build.</p>"
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"refresh\" content=\"{BUILD_RETRY}\"><title>Building the match graph - matchgraph</title>"
            f"</head><body><main><h1>Building the match graph</h1>"
            f"<p>The catalog changed (version {html.escape(version)}); its match graph, scores and neighbour index "
            f"are being built. This page reloads by itself every {BUILD_RETRY} s until they are ready.</p>"
            f"{body}</main></body></html>")


async def _wait_for_build(request: Any) -> Any | None:
    """None when the current version's match graph is ready (waiting up to ``build_wait`` s for
    a build), else the "building" response (503, Retry-After, a page that reloads itself)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import HTMLResponse

    from ..graph.progress import running

    state: _State = request.app.state.matchgraph
    builds = state.builds
    assert builds is not None
    if await run_in_threadpool(builds.ready):
        return None
    builds.start()
    deadline = time.monotonic() + state.config.build_wait
    while builds.running() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    if not builds.running():
        if await run_in_threadpool(builds.ready):
            return None
        if builds.error is not None:
            return _text(500, f"building the match graph failed: {builds.error}; the server tries again on the "
                              "next request (run `matchgraph scores --recompute` to see the whole error)")
    page = building_page(builds.version or state.catalog.data_version, running())
    return HTMLResponse(page, status_code=503, headers={"Retry-After": str(BUILD_RETRY),
                                                        "Content-Security-Policy": PAGE_CSP,
                                                        "Cache-Control": "no-store"})


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


def _context(request: Any) -> Any:
    """A page context for one request (derived data is loaded at most once per request); names
    are resolved with the labels of this version kept in memory (:func:`_lookup`)."""
    from . import site

    state: _State = request.app.state.matchgraph
    ctx = site.PageContext(state.catalog, ServerLinks(), site.server_assets())
    ctx.provide("lookup", _lookup(state))
    return ctx


def _lookup(state: _State) -> CachedLookup:
    """The entity lookup of the current version, its labels kept in memory until the next version,
    so that a name, an ``.ttl`` suffix or an unknown entity costs no scan of the store.

    A new version's labels are read in a background thread at once (a request that needs them
    first waits for that read, never starts another).
    """
    version = state.catalog.version
    with state.lock:
        cached = state.cache.get("lookup")
        if cached is None or cached.version != version:
            cached = state.cache["lookup"] = CachedLookup(state.catalog, version)
            threading.Thread(target=_warm, args=(cached,), name="matchgraph-lookup", daemon=True).start()
        return cached


def _warm(lookup: CachedLookup) -> None:
    try:
        lookup.warm()
    except Exception:  # the catalog closed meanwhile (a server stopping); a request would read them again
        log.debug("reading the entity labels failed", exc_info=True)


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
    from .browse import BrowseIndex

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
    if (waiting := await _wait_for_build(request)) is not None:
        return waiting
    ctx = _context(request)
    ctx.provide("browse", await run_in_threadpool(_browse_index, state))
    return await _page(request, site.render_index, dict(request.query_params), ctx=ctx)


async def entity_route(request: Any) -> Any:
    """An entity page; names and aliases redirect to the slug's page.

    Linked data: ``Accept: text/turtle`` (``application/ld+json``, ``application/n-triples``), a
    ``.ttl`` (``.jsonld``, ``.nt``) suffix or ``?format=`` answer the entity's RDF description
    (:mod:`matchgraph.web.linked`); answers vary on ``Accept``.
    """
    from functools import partial

    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse, Response

    from . import site
    from . import linked

    ident = request.path_params["ident"]
    ctx = _context(request)
    fmt = request.query_params.get("format")
    key = linked.format_key(fmt) if fmt else linked.negotiate_entity(request.headers.get("accept"))
    if fmt and key is None:
        return _text(400, f"unknown format {fmt!r}; use one of: " + ", ".join(linked.FORMATS))
    if (waiting := await _wait_for_build(request)) is not None:
        return waiting
    stem, suffix_key = linked.split_suffix(ident)
    # Found without looking for candidates: only a miss of the whole name and of its stem needs them
    try:
        ref = await run_in_threadpool(partial(ctx.entity, ident, suggest=False))
    except (EntityNotFound, QueryError):
        try:
            if suffix_key is None:
                raise
            ref = await run_in_threadpool(partial(ctx.entity, stem, suggest=False))
        except (EntityNotFound, QueryError):  # the page says what is wrong (404 with candidates, or 400)
            return await _page(request, _unknown_entity, ident, ctx=ctx)
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


def _unknown_entity(ctx: Any, ident: str) -> str:
    """The page of an ``ident`` that just failed to resolve: raises what :func:`_page` shows (404 with
    the closest candidates, or 400), or renders the entity page if a new version has it meanwhile."""
    from . import site

    return site.render_entity(ctx, ctx.entity(ident).slug)


def _catalog_of(request: Any) -> Catalog:
    """The catalog the application serves."""
    state: _State = request.app.state.matchgraph
    return state.catalog


async def compare_route(request: Any) -> Any:
    """Two entities side by side."""
    from . import site

    if (waiting := await _wait_for_build(request)) is not None:
        return waiting
    return await _page(request, site.render_compare, request.path_params["a"], request.path_params["b"])


async def match_route(request: Any) -> Any:
    """Entities matching a need (``?q=``), of one kind with ``?kind=`` (as ``match --kind``), with why.

    An unknown kind is a 400 page listing the kinds.
    """
    from . import site

    if (waiting := await _wait_for_build(request)) is not None:
        return waiting
    params = request.query_params
    return await _page(request, site.render_match, params.get("q", ""), params.get("kind") or None)


async def graph_route(request: Any) -> Any:
    """A readable part of the match graph: ``?center=ID&depth=N&size=N&relation=R``.

    Without a centre the view starts from the top-ranked entities; ``size`` (150 by default)
    caps what is drawn, with a warning past 2,000. ``depth`` and ``size`` are checked as
    ``export html --depth/--size`` check them (:mod:`matchgraph.web.params`): a value out of
    range or not a number is a 400 page naming it, as an unknown relation is.
    """
    from . import site
    from .params import DEPTH, SIZE, number

    if (waiting := await _wait_for_build(request)) is not None:
        return waiting
    params = request.query_params

    def render(ctx: Any) -> str:
        depth = number(params, "depth", DEPTH, 2)
        assert depth is not None  # a default is given
        relations = [r for r in params.getlist("relation") if r] or None
        return site.render_graph(ctx, params.get("center") or None, depth, number(params, "size", SIZE), relations,
                                 controls=True)

    return await _page(request, render)


async def query_page_route(request: Any) -> Any:
    """The SPARQL editor with the example queries."""
    from . import site

    state: _State = request.app.state.matchgraph
    examples = example_queries(state.config.examples_dir)
    return await _page(request, site.render_query_page, examples, "/sparql", request.query_params.get("query", ""))


async def static_route(request: Any) -> Any:
    """Bundled scripts and the style sheet."""
    from starlette.responses import Response

    from ..export.html import ASSET_FILES, asset_text

    name = request.path_params["name"]
    if name != "vis-network.js" and name not in ASSET_FILES:
        return _text(404, "no such file")
    media = "text/css" if name.endswith(".css") else "text/javascript"
    return Response(asset_text(name), media_type=media + "; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600"})


async def favicon_route(request: Any) -> Any:
    """The pages' icon (pages inline it; browsers ask this address for other documents, such as a
    ``.ttl`` or a SPARQL result, and other clients ask it anyway)."""
    from starlette.responses import Response

    from ..export.html import favicon_svg

    return Response(favicon_svg(), media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


class _FollowNewVersions:
    """ASGI middleware: before each request, read the newest catalog version (another process may
    have committed one: an ingest, a recorded match), so the server follows without a restart."""

    def __init__(self, app: Any, catalog: Catalog) -> None:
        self.app = app
        self.catalog = catalog

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.catalog.refresh()
        await self.app(scope, receive, send)


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
        state.endpoint.start()
        _lookup(state)  # the labels are read while the server waits for its first request
        try:
            yield
        finally:
            state.endpoint.close()
        if state.owns_catalog:
            state.catalog.close()

    routes = [
        Route("/sparql", sparql_route, methods=["GET", "POST"]),
        Route("/dump/{name}", dump_route),
        Route("/", index_route),
        Route("/query", query_page_route),
        Route("/entity/{ident:path}", entity_route),
        Route("/compare/{a}/{b}", compare_route),
        Route("/match", match_route),
        Route("/graph", graph_route),
        Route("/static/{name}", static_route),
        Route("/favicon.ico", favicon_route),
    ]
    # CORS outermost, so that every answer a browser client can get (a 414, a 500) carries it
    middleware = [Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "OPTIONS"],
                             allow_headers=["*"],
                             expose_headers=[TRUNCATED_HEADER, "X-Matchgraph-Rows", "Retry-After"], max_age=600),
                  Middleware(_InternalErrors), Middleware(_FollowNewVersions, catalog=catalog), Middleware(UrlLimit)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.matchgraph = state

    return app


class _InternalErrors:
    """ASGI middleware: an unexpected exception becomes a plain 500 inside the CORS layer (Starlette's
    own error page is sent outside every middleware, so a browser client could not read it); the
    traceback goes to the log, not to the client."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        started = False

        async def watch(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if scope["type"] != "http" or started:
                raise
            log.exception("request failed: %s %s", scope.get("method"), scope.get("path"))
            from starlette.responses import PlainTextResponse

            await PlainTextResponse("internal error: the server could not answer this request; the operator's "
                                    "log has the details", status_code=500)(scope, receive, send)


def serve(location: str | None = None, *, host: str = "127.0.0.1", port: int = 8000,
          config: ServerConfig | None = None, log_level: str = "info",
          announce: Callable[[str], None] | None = None) -> None:
    """Open the catalog once and serve it until interrupted.

    Parameters
    ----------
    location : str, optional
        The catalog (a directory or ``memory:``); defaults as everywhere else.
    host, port :
        Where to listen (localhost by default).
    config : ServerConfig, optional
        Update permission, token, timeout and row cap.
    announce : callable, optional
        Called with the server's URL once the port is taken, before requests are served.
    """
    import errno
    import socket

    import uvicorn

    catalog = Catalog(location)
    if not (config and config.allow_update):
        catalog.require()
    try:  # bound here, so that a taken port is an error before anything says "serving"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        catalog.close()
        taken = exc.errno == errno.EADDRINUSE
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          hint="another server uses that port: choose another with --port" if taken else
                          "check --host (an address of this machine) and --port (1024 or above without root)"
                          ) from None
    try:
        app = create_app(catalog, config, owns_catalog=True)
    except BaseException:
        sock.close()
        catalog.close()
        raise
    if announce is not None:
        shown = f"[{host}]" if ":" in host else host
        announce(f"http://{shown}:{sock.getsockname()[1]}/")
    # h11's own limit on a request head (16 KB) would answer a long URL with a bare 400 before
    # the application could say 414; raise it so UrlLimit decides.
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, h11_max_incomplete_event_size=256 * 1024))
    server.run(sockets=[sock])
