"""The SPARQL 1.1 Protocol, query side, for a read-only endpoint open to the internet.

What a request goes through, in order:

1. **Hygiene.** URLs longer than :data:`MAX_URL` get 414; bodies over ``max_body`` bytes get 413
   (checked on ``Content-Length`` and again while reading, so a large body is never held in
   memory; the rest of it is drained, within bounds, so that the client hears the 413); text that is not UTF-8 gets 400; a POST body of another type than
   ``application/x-www-form-urlencoded``, ``application/sparql-query`` or
   ``application/sparql-update``, or with no ``Content-Type`` at all, gets 415.
2. **Parsing.** :func:`matchgraph.store.sparql.parse_query` says what the text is (an update is also
   parsed by Oxigraph on an empty store, in the update's child process, before the write lock); malformed text gets
   400 with the line and column. SERVICE and LOAD are refused (400) unless the operator allowed
   the host (``serve --allow-service HOST``): the server never sends requests on a client's behalf.
3. **Negotiation.** ``format=`` (or ``output=``) when given, else ``Accept`` with q-values and
   wildcards, picks one of the formats the query form has; nothing fitting gets 406 listing them.
4. **Evaluation** in a worker process (:mod:`matchgraph.web.query_worker`) on a read-only snapshot
   of the catalog's current version, at most ``workers`` at once with up to ``queue`` more waiting;
   beyond that, 503 with ``Retry-After``. A query past ``timeout`` gets 503 and its worker is
   killed, so it stops using CPU at once, and a fresh worker takes its place. Results are cut at
   ``max_rows`` (header ``X-Matchgraph-Truncated``, and in SPARQL JSON a ``matchgraph`` member).

A client's mistake is answered with a status and a one-line message, never a traceback, and is
not logged as an error.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import queue as queue_module
import select
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..store.catalog import Catalog
from ..store.isolation import ENGINE_CRASH_HINT, EngineCrash, call_isolated, child_interpreter
from ..errors import ConfigError, MatchgraphError, QueryError
from ..vocab import MG, PREFIXES

__all__ = ["Negotiated", "NotAcceptable", "QueryTimeout", "Busy", "negotiate", "SparqlEndpoint", "WorkerPool",
           "Snapshots", "sparql_route", "dump_route", "UrlLimit", "MAX_URL", "DEFAULT_MAX_BODY", "TRUNCATED_HEADER",
           "RESULT_OFFERS", "GRAPH_OFFERS", "ServerConfig", "DEFAULT_TIMEOUT", "DEFAULT_MAX_ROWS"]

log = logging.getLogger("matchgraph.web.endpoint")

#: Longest request target (path and query string) accepted; longer ones get 414.
MAX_URL = 8192
#: Default request body limit in bytes (``serve --max-body``).
DEFAULT_MAX_BODY = 1_000_000
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ROWS = 10_000
TRUNCATED_HEADER = "X-Matchgraph-Truncated"
#: Seconds a client told to come back (503) should wait.
RETRY_AFTER = 2
#: Bytes of a body over ``max_body`` read and thrown away before the 413, so that the client, still
#: sending, hears it (:func:`_drain`); a larger body is answered at once.
DRAIN_BYTES = 64 * 1024 * 1024
#: Seconds spent at most on that.
DRAIN_SECONDS = 10.0

#: Media types a SELECT or ASK result can be written in, the server's preference first -> format key.
RESULT_OFFERS: list[tuple[str, str]] = [
    ("application/sparql-results+json", "json"), ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"), ("text/tab-separated-values", "tsv"),
    ("application/json", "json"), ("application/xml", "xml"), ("text/xml", "xml"),
]
#: Media types a CONSTRUCT or DESCRIBE result can be written in -> format key.
GRAPH_OFFERS: list[tuple[str, str]] = [
    ("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "rdfxml"), ("text/n3", "n3"),
    ("application/x-turtle", "turtle"), ("application/turtle", "turtle"), ("text/plain", "nt"),
    ("application/json", "json-ld"), ("application/x-json+ld", "json-ld"), ("text/rdf+n3", "n3"),
    ("application/n3", "n3"), ("application/xml", "rdfxml"), ("text/xml", "rdfxml"),
]
#: ``format=`` / ``output=`` names -> format key, per kind of result.
RESULT_NAMES = {"json": "json", "srj": "json", "xml": "xml", "srx": "xml", "csv": "csv", "tsv": "tsv"}
GRAPH_NAMES = {"turtle": "turtle", "ttl": "turtle", "n3": "n3", "nt": "nt", "ntriples": "nt", "n-triples": "nt",
               "json-ld": "json-ld", "jsonld": "json-ld", "json": "json-ld", "rdf": "rdfxml", "rdf+xml": "rdfxml",
               "rdfxml": "rdfxml", "xml": "rdfxml"}


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
        Folder of ``*.rq`` example queries for the query page (default: the bundled ones,
        :func:`matchgraph.web.query.examples_folder`).
    workers : int
        Queries that run at once, each in its own worker process.
    queue : int
        Queries that may wait for a worker; beyond that, 503 with Retry-After.
    max_body : int
        Largest request body in bytes; larger ones get 413.
    allow_service : tuple of str
        Hosts SERVICE clauses (and LOAD, with update rights) may reach; none by default.
    build_wait : float
        Seconds a page waits for the match graph of a new catalog version to be built before it
        answers "building" (503, reloading itself) while the build goes on in the background.
    """

    allow_update: bool = False
    token: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    examples_dir: Path | None = None
    workers: int = 2
    queue: int = 32
    max_body: int = DEFAULT_MAX_BODY
    allow_service: tuple[str, ...] = ()
    build_wait: float = 3.0

    def __post_init__(self) -> None:
        if self.allow_update and not self.token:
            raise ConfigError("updates need a token", hint="start the server with --allow-update --token TOKEN")
        if self.timeout <= 0:
            raise ConfigError("the timeout must be positive", hint="for example --timeout 30")
        if self.max_rows < 1:
            raise ConfigError("the row cap must be at least 1", hint="for example --max-rows 10000")
        if self.workers < 1 or self.queue < 0:
            raise ConfigError("the endpoint needs at least one worker and a queue of zero or more",
                              hint="for example --workers 2")
        if self.max_body < 1:
            raise ConfigError("the body limit must be positive", hint="for example --max-body 1000000")
        if self.build_wait < 0:
            raise ConfigError("the build wait must be zero or more seconds", hint="for example --build-wait 3")
        self.allow_service = tuple(self.allow_service)


class QueryTimeout(Exception):
    """A query ran past its deadline (its worker was stopped)."""


class Busy(Exception):
    """Every worker is busy and the queue is full (503 with Retry-After)."""


class NotAcceptable(Exception):
    """The client accepts no format this kind of result can be written in (406)."""


class BodyTooLarge(Exception):
    """The request body is over the limit (413)."""


@dataclass(frozen=True)
class Negotiated:
    """The format a result is written in: its media type and format key."""

    media_type: str
    key: str


def _canonical(offers: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for media, key in offers:
        out.setdefault(key, media)
    return out


def _accept_ranges(accept: str) -> list[tuple[str, str, float, int]]:
    """(type, subtype, q, position) for each media range of an Accept header."""
    ranges = []
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            if media == "*":
                media = "*/*"
            else:
                continue
        q = 1.0
        for f in fields[1:]:
            name, _, value = f.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value)))
                except ValueError:
                    q = 0.0
        kind, _, sub = media.partition("/")
        ranges.append((kind, sub, q, position))
    return ranges


def _quality(media: str, ranges: list[tuple[str, str, float, int]]) -> tuple[float, int]:
    """The q a media type gets from the most specific matching range (and that range's position)."""
    kind, _, sub = media.partition("/")
    best: tuple[int, float, int] | None = None
    for r_kind, r_sub, q, position in ranges:
        if (r_kind, r_sub) == (kind, sub):
            specificity = 3
        elif r_kind == kind and r_sub == "*":
            specificity = 2
        elif (r_kind, r_sub) == ("*", "*"):
            specificity = 1
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, q, position)
    return (0.0, 0) if best is None else (best[1], best[2])


def _refused_by_name(media: str, ranges: list[tuple[str, str, float, int]]) -> bool:
    """True when the most specific range naming ``media`` (``type/sub`` or ``type/*``) gives it q=0."""
    kind, _, sub = media.partition("/")
    exact = [q for r_kind, r_sub, q, _ in ranges if (r_kind, r_sub) == (kind, sub)]
    if exact:
        return min(exact) <= 0
    partial = [q for r_kind, r_sub, q, _ in ranges if (r_kind, r_sub) == (kind, "*")]
    return bool(partial) and min(partial) <= 0


def offered(form: str) -> list[str]:
    """The media types a result of this query form can be written in (canonical ones)."""
    offers = GRAPH_OFFERS if form in ("CONSTRUCT", "DESCRIBE") else RESULT_OFFERS
    return list(_canonical(offers).values())


def _refusal(form: str, asked: str) -> NotAcceptable:
    graph = form in ("CONSTRUCT", "DESCRIBE")
    names = ("turtle, nt, json-ld, rdfxml, n3" if graph else "json, xml, csv, tsv")
    return NotAcceptable(f"a {form} result cannot be written as {asked}; this endpoint writes it as "
                         f"{', '.join(offered(form))} (Accept header, or format={names.replace(', ', '|')})")


def negotiate(accept: str | None, kind: str, fmt: str | list[str] | None = None) -> Negotiated:
    """Pick the result format for a query form from ``format=`` values or the ``Accept`` header.

    ``format=`` (a name such as ``json``, ``tsv``, ``turtle``, ``json-ld``, or media types) wins
    when given; else ``Accept`` decides: the highest q, each type taking its q from the most
    specific range that matches it; ties go to the range the client listed first, then to the
    server's order (SPARQL JSON, Turtle). A format that does not fit the form is refused.

    Parameters
    ----------
    accept : str or None
        The request's Accept header (None or empty: anything).
    kind : str
        ``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``.
    fmt : str or list of str, optional
        ``format=`` / ``output=`` values, in the order given.

    Raises
    ------
    NotAcceptable
        Nothing acceptable fits this form (HTTP 406); the message lists what does.

    Examples
    --------
    >>> negotiate("application/sparql-results+xml", "SELECT")
    Negotiated(media_type='application/sparql-results+xml', key='xml')
    >>> negotiate("text/html,*/*;q=0.8", "CONSTRUCT").media_type
    'text/turtle'
    >>> negotiate(None, "SELECT", ["turtle"])
    Traceback (most recent call last):
    ...
    matchgraph.web.endpoint.NotAcceptable: a SELECT result cannot be written as turtle; ...
    """
    graph = kind in ("CONSTRUCT", "DESCRIBE")
    offers = GRAPH_OFFERS if graph else RESULT_OFFERS
    canonical = _canonical(offers)
    values = [v.strip() for v in ([fmt] if isinstance(fmt, str) else (fmt or [])) if v and v.strip()]
    if values:
        names = GRAPH_NAMES if graph else RESULT_NAMES
        for value in values:
            if "/" in value:  # media types, possibly a list with q-values
                try:
                    return negotiate(value, kind)
                except NotAcceptable:
                    continue
            key = names.get(value.lower())
            if key is not None:
                return Negotiated(canonical[key], key)
        raise _refusal(kind, values[0])
    ranges = _accept_ranges(accept or "*/*")
    if not ranges:
        ranges = _accept_ranges("*/*")
    # the reply carries the canonical type: a key whose canonical type the client refuses by name
    # (q=0) is not sent under an alias such as application/json that a wildcard lets through
    refused = {key for key, media in canonical.items() if _refused_by_name(media, ranges)}
    best: tuple[float, int, int] | None = None
    choice: Negotiated | None = None
    for order, (media, key) in enumerate(offers):
        q, position = _quality(media, ranges)
        if q <= 0 or key in refused:
            continue
        rank = (-q, position, order)
        if best is None or rank < best:
            best, choice = rank, Negotiated(canonical[key], key)
    if choice is None:
        raise _refusal(kind, accept or "")
    return choice


# ---------------------------------------------------------------------- snapshots
class Snapshots:
    """Read-only copies of the catalog store, one per catalog version, for the query workers.

    An on-disk store is copied with ``Store.backup`` (a RocksDB checkpoint: hard links, cheap); an
    in-memory one is dumped into a new on-disk store. The copy is made when a query first sees
    a new version, so the server follows writes (updates, another process's ingest is not possible
    while the server holds the catalog). The last two copies are kept; all go at :meth:`close`.
    """

    KEEP = 2

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._root: Path | None = None
        self._current: tuple[str, Path] | None = None
        self._history: list[Path] = []

    def current(self) -> str:
        """The directory of a read-only copy of the catalog's current version."""
        version = self.catalog.version
        with self._lock:
            if self._current is not None and self._current[0] == version:
                return str(self._current[1])
            store = self.catalog.oxigraph
            if store is None:
                raise ConfigError(f"cannot serve {self.catalog.location}: the endpoint needs a local catalog",
                                  hint="give --catalog a directory (an embedded Oxigraph catalog) or memory:")
            if self._root is None:
                base = self.catalog.cache_dir
                self._root = Path(tempfile.mkdtemp(prefix="sparql-snapshots-", dir=base))
            path = self._root / f"v{len(self._history):04d}-{uuid.uuid4().hex[:8]}"
            try:
                store.backup(str(path))
            except RuntimeError:  # an in-memory store cannot make a checkpoint: copy its quads
                import pyoxigraph as ox

                copy = ox.Store(str(path))
                copy.bulk_load(store.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
                copy.flush()
                del copy
                gc.collect()
            self._history.append(path)
            for old in self._history[:-self.KEEP]:
                shutil.rmtree(old, ignore_errors=True)
            self._history = self._history[-self.KEEP:]
            self._current = (version, path)
            return str(path)

    def close(self) -> None:
        """Remove every copy."""
        with self._lock:
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
            self._root, self._current, self._history = None, None, []


# ---------------------------------------------------------------------- worker processes
class _Worker:
    """One ``python -m matchgraph.web.query_worker`` process."""

    def __init__(self) -> None:
        argv, env = child_interpreter("matchgraph.web.query_worker")
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
        self.ready = False

    def send(self, job: dict[str, Any]) -> None:
        from .query_worker import write_frame

        write_frame(self.process.stdin, job)

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """The next reply, or None when none came within ``timeout`` seconds.

        Raises EOFError when the worker died.
        """
        from .query_worker import read_frame

        stdout = self.process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], max(0.0, timeout))
        if not ready:
            return None
        reply = read_frame(stdout)
        if reply is None:
            raise EOFError("the query worker stopped")
        return reply

    def kill(self) -> None:
        """Stop the process now (SIGKILL) and reap it."""
        try:
            self.process.kill()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - the kernel did not reap it yet
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class WorkerPool:
    """A fixed number of query worker processes, with a bounded queue in front of them.

    Parameters
    ----------
    size : int
        Queries that run at once.
    queue : int
        Queries that may wait for a worker; one more gets :class:`Busy`.
    """

    def __init__(self, size: int, queue: int) -> None:
        self.size = size
        self.queue = queue
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="matchgraph-sparql")
        self._slots: asyncio.Semaphore | None = None
        self._waiting = 0
        self._closed = False

    def start(self) -> None:
        """Start the workers now (otherwise the first queries start them)."""
        with self._lock:
            while len(self._idle) < self.size:
                self._idle.append(_Worker())

    async def run(self, job: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Run a job in a worker; :class:`QueryTimeout` past ``timeout`` s, :class:`Busy` when full."""
        if timeout <= 0:  # the request's time went on reading and checking it (a loaded machine): not a full pool
            raise QueryTimeout()
        loop = asyncio.get_running_loop()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        started = loop.time()
        if self._slots.locked() and self._waiting >= self.queue:
            raise Busy()
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout)
        except asyncio.TimeoutError:
            raise Busy() from None
        finally:
            self._waiting -= 1
        try:
            remaining = timeout - (loop.time() - started)
            return await loop.run_in_executor(self._executor, self._run, job, remaining)
        finally:
            self._slots.release()

    def _take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker()

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(worker)
                return
        worker.kill()

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if not self._closed and len(self._idle) < self.size:
                self._idle.append(_Worker())  # boots while nobody needs it yet

    def _run(self, job: dict[str, Any], remaining: float) -> dict[str, Any]:
        deadline = time.monotonic() + remaining
        worker = self._take()
        try:
            if not worker.ready:
                hello = worker.receive(deadline - time.monotonic())
                if hello is None:
                    self._replace(worker)
                    raise QueryTimeout()
                worker.ready = True
            worker.send(job)
            reply = worker.receive(deadline - time.monotonic())
        except (EOFError, OSError) as exc:
            self._replace(worker)
            raise EngineCrash("the query engine (Oxigraph) crashed on this query; its worker was replaced and "
                              f"other queries are not affected ({exc or 'no reply'})", hint=ENGINE_CRASH_HINT) from None
        if reply is None:
            self._replace(worker)  # the only way to stop an Oxigraph evaluation: kill its process
            raise QueryTimeout()
        self._give_back(worker)
        return reply

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            self._closed = True
            workers, self._idle = self._idle, []
        for worker in workers:
            worker.kill()
        self._executor.shutdown(wait=False, cancel_futures=True)


# ---------------------------------------------------------------------- the endpoint
@dataclass
class Outcome:
    """A written result."""

    body: bytes
    media_type: str
    truncated: bool = False
    rows: int = 0


class SparqlEndpoint:
    """Runs protocol requests on a catalog: queries in worker processes, guarded updates.

    Parameters
    ----------
    catalog : Catalog
        A local catalog (a directory or ``memory:``). The endpoint asks it for its version on
        every query and queries a snapshot of that version.
    config : ServerConfig
    """

    def __init__(self, catalog: Catalog, config: ServerConfig) -> None:
        if catalog.oxigraph is None:
            raise ConfigError(f"cannot serve {catalog.location}: the server needs a local catalog",
                              hint="give --catalog a directory (an embedded Oxigraph catalog) or memory:")
        self.catalog = catalog
        self.config = config
        self.write_lock = threading.Lock()
        # updates run one at a time on a thread of their own: waiting ones do not take the threads
        # that queries parse on (20 updates at once held every thread and an ASK {} waited 3 s)
        self._updates = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matchgraph-update")
        self.prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
        self.snapshots = Snapshots(catalog)
        self.pool = WorkerPool(config.workers, config.queue)

    def start(self) -> None:
        """Start the workers (called when the server starts)."""
        self.pool.start()

    def close(self) -> None:
        """Stop the workers and remove the snapshots."""
        self.pool.close()
        self._updates.shutdown(wait=True)
        self.snapshots.close()

    async def query(self, text: str, accept: str | None, *, fmt: str | list[str] | None = None,
                    default_graphs: list[str] | None = None, named_graphs: list[str] | None = None) -> Outcome:
        """Parse, check, negotiate and run a query; raise QueryError, NotAcceptable, Busy or QueryTimeout."""
        from ..store.sparql import base_iri, check_reach, parse_query, syntax_message

        started = time.monotonic()
        parsed = await asyncio.to_thread(parse_query, text)
        if parsed.is_update:
            if not self.config.allow_update:  # sending it with POST would only be refused in turn
                raise QueryError("this is an update, and this endpoint is read-only: updates are refused (start it "
                                 "with --allow-update --token TOKEN to accept them, sent with POST)")
            raise QueryError("this is an update: send it with POST as update= or application/sparql-update")
        check_reach(parsed, allow_service=self.config.allow_service)
        _check_graph_iris(("default-graph-uri", default_graphs), ("named-graph-uri", named_graphs))
        negotiated = negotiate(accept, parsed.form, fmt)
        snapshot = await asyncio.to_thread(self.snapshots.current)
        job = {"snapshot": snapshot, "query": parsed.text, "prefixes": self.prefixes, "base_iri": base_iri(),
               "union": not parsed.has_dataset, "default_graphs": default_graphs or [],
               "named_graphs": named_graphs or [], "fmt": negotiated.key, "max_rows": self.config.max_rows}
        reply = await self.pool.run(job, self.config.timeout - (time.monotonic() - started))
        while not reply["ok"] and reply["kind"] == "unwritable" and not fmt:
            # a format that cannot hold this result (RDF/XML, JSON-LD): the client's next choice, if any
            try:
                fallback = negotiate(f"{negotiated.media_type};q=0, {accept or '*/*'}", parsed.form)
            except NotAcceptable:
                break
            accept, negotiated, job["fmt"] = f"{negotiated.media_type};q=0, {accept or '*/*'}", fallback, fallback.key
            reply = await self.pool.run(job, self.config.timeout - (time.monotonic() - started))
        if not reply["ok"]:
            if reply["kind"] == "syntax":
                raise QueryError(syntax_message(SyntaxError(reply["message"])))
            if reply["kind"] == "unwritable":  # nothing the client accepts can hold it: 406, as for a misfit
                others = "Turtle, N-Triples" if parsed.form in ("CONSTRUCT", "DESCRIBE") else "SPARQL JSON, CSV, TSV"
                raise NotAcceptable(f"{reply['message']}; ask for another format ({others})")
            raise QueryError(f"the query failed: {reply['message']}")
        return Outcome(reply["body"], negotiated.media_type, reply["truncated"], reply["rows"])

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

    async def update(self, text: str, *, using: Sequence[str] = (), using_named: Sequence[str] = ()) -> str:
        """Check and run an update; return the catalog version after it.

        ``using`` and ``using_named`` are the protocol's ``using-graph-uri`` and
        ``using-named-graph-uri``: the dataset of the update's WHERE clauses. An update that sets
        the catalog version itself (as a remote :class:`~matchgraph.Catalog` does) runs as sent;
        any other update also bumps the version, so derived caches are rebuilt.
        """
        from ..store.sparql import check_query, check_reach, is_empty_update, parse_query, with_using

        if is_empty_update(text):  # comments or a prologue only: valid, and nothing to do
            _check_empty_update(text, self.prefixes)
            _check_graph_iris(("using-graph-uri", using), ("using-named-graph-uri", using_named))
            return self.catalog.version
        parsed = await asyncio.to_thread(parse_query, text)
        if not parsed.is_update:
            raise QueryError("this is a query, not an update: send it as query= or application/sparql-query")
        check_reach(parsed, allow_service=self.config.allow_service)
        _check_graph_iris(("using-graph-uri", using), ("using-named-graph-uri", using_named))
        text = with_using(parsed.text, using, using_named)
        sent, services = parsed.text, self.config.allow_service

        def run() -> str:
            with self.write_lock:
                if getattr(self.catalog, "path", None) is None:  # in memory, or a remote engine's to run
                    check_query(sent, allow_update=True, allow_service=services)
                    return apply_update(self.catalog, text)
                # on disk: in a child process, so that an abort of the engine on its own bug is a
                # 500 and not the end of the server; the child commits a version, the server moves to it
                version = call_isolated(apply_update_at, self.catalog.location, text, sent, services,
                                        what="this update")
                self.catalog.refresh()
                return version

        try:
            return str(await asyncio.get_running_loop().run_in_executor(self._updates, run))
        except SyntaxError as exc:
            from ..store.sparql import syntax_message

            raise QueryError(syntax_message(exc)) from None
        except (OSError, ValueError, RuntimeError) as exc:
            raise QueryError(f"the update failed and changed nothing: {exc}") from None


def apply_update(catalog: Catalog, text: str) -> str:
    """Run a checked update on ``catalog``; the catalog version after it.

    An update that sets the catalog version itself (as a remote :class:`~matchgraph.Catalog` does)
    runs as sent; any other update also bumps the version, so derived caches are rebuilt.
    """
    if _names_version(text):  # perhaps a remote Catalog writing its own next version
        before = catalog.version
        catalog.backend.update(text)
        if catalog.version != before:
            return catalog.version
        return str(catalog.update("INSERT DATA { }"))  # it only read the version: bump
    return str(catalog.update(text.strip().rstrip(";")))


def apply_update_at(location: str, text: str, sent: str | None = None, allow_service: Sequence[str] = ()) -> str:
    """:func:`apply_update` on the catalog at ``location``, opened here (in a child process).

    ``sent``, the update as the client sent it, is first parsed by Oxigraph on an empty store
    (:func:`~matchgraph.store.sparql.check_query`), as ``matchgraph sparql --update`` does: a malformed
    update is a 400 with its line and column before the catalog is opened, not after the write lock
    (which another process's import may hold for minutes) with the engine's raw message. The trial
    runs here, not in the server, since it evaluates the update and the engine may abort on it.
    """
    if sent is not None:
        from ..store.sparql import check_query

        check_query(sent, allow_update=True, allow_service=allow_service)
    with Catalog(location) as catalog:
        return apply_update(catalog, text)


def _names_version(text: str) -> bool:
    """True when an update names the catalog version property (``mg:version``) as an IRI or a
    prefixed name; a string or a comment that mentions it does not count."""
    from ..store.sparql import scan_tokens

    full = f"<{MG.version}>"
    return any((kind == "iri" and token == full) or (kind == "pname" and token == "mg:version")
               for kind, token, _ in scan_tokens(text))


def _check_empty_update(text: str, prefixes: dict[str, str]) -> None:
    """Let Oxigraph read an update with no operation (its prologue may still be malformed), on an empty store."""
    import pyoxigraph as ox

    from ..store.sparql import base_iri, syntax_message

    try:
        ox.Store().update(text.removeprefix("\ufeff"), prefixes=prefixes, base_iri=base_iri())
    except SyntaxError as exc:
        raise QueryError(syntax_message(exc)) from None


def _check_graph_iris(*parameters: tuple[str, Sequence[str] | None]) -> None:
    """Refuse a graph parameter (``default-graph-uri``, ``using-graph-uri``...) that is not an absolute IRI."""
    for name, iris in parameters:
        for iri in iris or ():
            _check_graph_iri(name, iri)


def _check_graph_iri(name: str, iri: str) -> None:
    import pyoxigraph as ox

    try:
        ox.NamedNode(iri)
        absolute = bool(urlsplit(iri).scheme)
    except ValueError:
        absolute = False
    if not absolute:
        raise QueryError(f"{name} {iri!r} is not an absolute IRI",
                         hint="name a graph by its full IRI, as GRAPH ?g lists them: "
                              "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")


# ---------------------------------------------------------------------- HTTP
def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import PlainTextResponse

    return PlainTextResponse(message + "\n", status_code=status, headers=headers)


def _decode_params(raw: bytes, where: str) -> list[tuple[str, str]]:
    """Form-encoded parameters; UnicodeDecodeError (400) when they are not UTF-8."""
    try:
        text = raw.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise QueryError(f"the {where} is not valid UTF-8 (byte {exc.start})",
                         hint="send the query as UTF-8, percent-encoded in URLs and forms") from None


async def _read_body(request: Any, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes; :class:`BodyTooLarge` past that, once the rest is drained."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        await _drain(request, int(length))
        raise BodyTooLarge()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            await _drain(request, None)
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def _drain(request: Any, length: int | None) -> None:
    """Read and throw away the rest of a body that is over the limit, so the client hears the 413.

    A client that sends the whole body before it reads the answer (``urllib``, hence SPARQLWrapper
    and rdflib's SPARQLStore) otherwise gets "Broken pipe" or "Connection reset" instead: the server
    closed the connection while it was still sending. As a web server's lingering close does, the
    drain stops after :data:`DRAIN_BYTES` bytes or :data:`DRAIN_SECONDS` seconds (a body announced
    as larger than that is not read at all); nothing read is kept.
    """
    if length is not None and length > DRAIN_BYTES:
        return
    deadline = time.monotonic() + DRAIN_SECONDS
    drained = 0
    stream = request.stream().__aiter__()
    while drained <= DRAIN_BYTES:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            chunk = await asyncio.wait_for(stream.__anext__(), remaining)
        except Exception:  # noqa: BLE001 - the stream ended, the time is up or the client went away: done
            return
        drained += len(chunk)


async def _request_params(request: Any, limit: int) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """(query, update, all parameters) of a protocol request."""
    params = _decode_params(request.scope.get("query_string", b""), "request URL")
    if request.method != "POST":
        return _one(params, "query"), _one(params, "update"), params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("application/sparql-query", "application/sparql-update",
                            "application/x-www-form-urlencoded", ""):
        raise _UnsupportedType(content_type)
    body = await _read_body(request, limit)
    if not content_type and body:
        # the protocol's three ways all name the body's type; a body without one is not read as a form
        # (W3C protocol tests bad_query_missing_form_type, bad_update_missing_form_type: 4xx)
        raise _UnsupportedType("")
    if content_type in ("application/sparql-query", "application/sparql-update"):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QueryError(f"the request body is not valid UTF-8 (byte {exc.start})",
                             hint="send the query as UTF-8") from None
        if _one(params, "query") is not None or _one(params, "update") is not None:
            raise QueryError(f"a {content_type} request carries the text in its body, not also in the URL")
        return (text, None, params) if content_type == "application/sparql-query" else (None, text, params)
    params += _decode_params(body, "request body")
    return _one(params, "query"), _one(params, "update"), params


def _one(params: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise QueryError(f"the request has {len(values)} '{name}' parameters; the protocol allows exactly one")
    return values[0] if values else None


class _UnsupportedType(Exception):
    pass


def service_description(request: Any, config: ServerConfig) -> Any:
    """The SPARQL service description of this endpoint, in the RDF format ``Accept`` picks (a
    browser that prefers HTML is sent to the query page)."""
    from rdflib import RDF, Graph, Namespace, URIRef
    from starlette.responses import RedirectResponse, Response

    accept = request.headers.get("accept")
    try:
        negotiated = negotiate(accept, "DESCRIBE")
    except NotAcceptable:  # a client that asks for HTML or for query results only
        negotiated = negotiate("text/turtle", "DESCRIBE")
    ranges = _accept_ranges(accept or "*/*")
    html_q, _ = _quality("text/html", ranges)
    if html_q > 0 and html_q >= _quality(negotiated.media_type, ranges)[0] and "text/html" in (accept or ""):
        return RedirectResponse("/query", status_code=303, headers={"Vary": "Accept"})

    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    formats = Namespace("http://www.w3.org/ns/formats/")
    graph = Graph()
    graph.bind("sd", sd)
    service = URIRef(str(request.url).split("?")[0])
    graph.add((service, RDF.type, sd.Service))
    graph.add((service, sd.endpoint, service))
    graph.add((service, sd.supportedLanguage, sd.SPARQL11Query))
    for fmt in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                "Turtle", "N-Triples", "JSON-LD", "RDF_XML", "N3"):
        graph.add((service, sd.resultFormat, formats[fmt]))
    graph.add((service, sd.feature, sd.UnionDefaultGraph))
    if config.allow_update:
        graph.add((service, sd.supportedLanguage, sd.SPARQL11Update))
    written = graph.serialize(format={"rdfxml": "xml"}.get(negotiated.key, negotiated.key), encoding="utf-8")
    media = negotiated.media_type + ("; charset=utf-8" if negotiated.media_type.startswith("text/") else "")
    return Response(written, media_type=media, headers={"Vary": "Accept"})


async def sparql_route(request: Any) -> Any:
    """The SPARQL 1.1 Protocol endpoint (``/sparql``)."""
    from starlette.requests import ClientDisconnect
    from starlette.responses import Response

    state = request.app.state.matchgraph
    endpoint: SparqlEndpoint = state.endpoint
    config = state.config
    try:
        query, update, params = await _request_params(request, config.max_body)
        if query is not None and update is not None:
            raise QueryError("a request carries either a query or an update, not both")
        if update is not None:
            if request.method != "POST":
                raise QueryError("updates must be sent with POST")
            refusal = endpoint.check_update_allowed(request.headers.get("authorization"))
            if refusal is not None:
                headers = {"WWW-Authenticate": 'Bearer realm="matchgraph"'} if refusal[0] == 401 else None
                return _text(refusal[0], refusal[1], headers)
            version = await endpoint.update(update, using=[v for k, v in params if k == "using-graph-uri"],
                                            using_named=[v for k, v in params if k == "using-named-graph-uri"])
            return _text(200, f"Update applied; catalog version {version[:12]}.")
        if query is None or not query.strip():
            if request.method == "POST" or query is not None:
                raise QueryError("the request has no query", hint="send query=... (or update=... with POST)")
            if any(k in ("graph", "default") for k, _ in params):
                raise QueryError("this endpoint answers the SPARQL Protocol, not the Graph Store Protocol",
                                 hint="ask for a graph with a query: CONSTRUCT { ?s ?p ?o } WHERE "
                                      "{ GRAPH <IRI> { ?s ?p ?o } }")
            return service_description(request, config)
        if any(k in ("using-graph-uri", "using-named-graph-uri") for k, _ in params):
            raise QueryError("using-graph-uri and using-named-graph-uri are for updates",
                             hint="a query names its dataset with default-graph-uri and named-graph-uri")
        fmt = [v for k, v in params if k in ("format", "output")]
        outcome = await endpoint.query(
            query, request.headers.get("accept"), fmt=fmt,
            default_graphs=[v for k, v in params if k == "default-graph-uri"],
            named_graphs=[v for k, v in params if k == "named-graph-uri"])
    except QueryTimeout:
        return _text(503, f"the query ran past the {config.timeout:g} s time limit and was stopped; "
                          "narrow it (more specific patterns, a LIMIT) or ask the operator for a longer --timeout")
    except Busy:
        return _text(503, f"the endpoint is busy (its {config.workers} query workers and {config.queue} queue places "
                          "are taken); "
                          f"try again in {RETRY_AFTER} s", {"Retry-After": str(RETRY_AFTER)})
    except NotAcceptable as exc:
        return _text(406, str(exc))
    except BodyTooLarge:
        return _text(413, f"the request body is larger than {config.max_body} bytes; "
                          "send a shorter query (or ask the operator for a larger --max-body)")
    except _UnsupportedType as exc:
        what = f"unsupported content type {exc.args[0]!r}" if exc.args[0] else "the request body has no Content-Type"
        return _text(415, f"{what}: send application/x-www-form-urlencoded, "
                          "application/sparql-query or application/sparql-update")
    except QueryError as exc:
        return _text(400, str(exc))
    except ClientDisconnect:
        return Response(status_code=400)
    except MatchgraphError as exc:
        log.warning("SPARQL request failed: %s", exc.message)
        return _text(500, str(exc))
    headers = {"X-Matchgraph-Rows": str(outcome.rows), "Vary": "Accept"}
    if outcome.truncated:
        headers[TRUNCATED_HEADER] = f"max-rows={config.max_rows}"
    media = outcome.media_type + ("; charset=utf-8" if outcome.media_type.startswith("text/") else "")
    return Response(outcome.body, media_type=media, headers=headers)


async def dump_route(request: Any) -> Any:
    """``/dump/catalog.{ttl,nt,nq,trig,jsonld}``: the whole catalog, streamed as it is written."""
    from starlette.responses import StreamingResponse

    from ..export.rdf import DUMP_FORMATS, dump

    state = request.app.state.matchgraph
    name = request.path_params["name"]
    stem, _, ext = name.rpartition(".")
    if stem != "catalog" or ext not in DUMP_FORMATS:
        return _text(404, "no such dump; there are " + ", ".join(f"/dump/catalog.{e}" for e in DUMP_FORMATS))
    chunks: queue_module.Queue[bytes | BaseException | None] = queue_module.Queue(maxsize=16)
    gone = threading.Event()

    class Sink:
        """A file-like writer handing buffered chunks to the response."""

        def __init__(self) -> None:
            self.buffer = bytearray()

        def write(self, data: bytes) -> int:
            self.buffer += data
            if len(self.buffer) >= 256 * 1024:
                self.flush()
            return len(data)

        def flush(self) -> None:
            if self.buffer:
                self._put(bytes(self.buffer))
                self.buffer.clear()

        @staticmethod
        def _put(item: Any) -> None:
            while True:
                if gone.is_set():
                    raise OSError("the client went away")
                try:
                    chunks.put(item, timeout=0.5)
                    return
                except queue_module.Full:
                    continue

    def produce() -> None:
        sink = Sink()
        try:
            dump(state.catalog, ext, sink)
            sink.flush()
            Sink._put(None)
        except OSError:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the response, which ends early
            try:
                Sink._put(exc)
            except OSError:
                pass

    async def stream() -> Any:
        thread = threading.Thread(target=produce, name="matchgraph-dump", daemon=True)
        thread.start()
        try:
            while True:
                item = await asyncio.to_thread(chunks.get)
                if item is None:
                    return
                if isinstance(item, BaseException):
                    log.warning("the dump stopped: %s", item)
                    return
                yield item
        finally:
            gone.set()

    media = DUMP_FORMATS[ext][1]
    return StreamingResponse(stream(), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="catalog.{ext}"'})


class UrlLimit:
    """ASGI middleware: 414 for request targets longer than :data:`MAX_URL` bytes."""

    def __init__(self, app: Any, limit: int = MAX_URL) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or scope.get("path", "").encode()) + len(scope.get("query_string", b""))
            if size > self.limit:
                response = _text(414, f"the URL is {size} bytes long, over the {self.limit} byte limit; "
                                      "send long queries with POST")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
