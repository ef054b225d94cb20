"""A catalog on an independent SPARQL 1.1 engine (Oxigraph server, Virtuoso, ``matchgraph serve``...).

The backend speaks the SPARQL 1.1 Protocol itself, over :mod:`urllib` (no client library):

- every request is a form-encoded ``POST`` (``query=`` or ``update=``), the one form every engine
  takes (Virtuoso 7.2 hangs on a direct ``application/sparql-query`` POST);
- SELECT and ASK answers are read as ``application/sparql-results+json``; CONSTRUCT and DESCRIBE
  as N-Triples (or Turtle);
- large SELECTs are read in pages (see :meth:`RemoteBackend.query`), because engines cap the rows
  of one answer (Virtuoso's ``ResultSetMaxRows`` is 10,000 in its Debian configuration);
- writes carry no blank nodes: they are skolemised to IRIs under :data:`GENID` first.

Configuration comes from the environment (never only from the command line, so secrets stay out
of shell histories and process lists):

``MATCHGRAPH_UPDATE_URL``
    The SPARQL Update endpoint (``--update-url``); default: the query URL. Oxigraph server:
    ``http://HOST:PORT/update``; Virtuoso: the same ``/sparql`` URL as queries.
``MATCHGRAPH_STORE_URL``
    Optional SPARQL 1.1 Graph Store Protocol endpoint (Oxigraph server: ``http://HOST:PORT/store``).
    When set, large writes are staged with ``POST ?graph=`` of N-Triples instead of ``INSERT DATA``.
``MATCHGRAPH_TOKEN``
    A bearer token sent with every request.
``MATCHGRAPH_USER`` and ``MATCHGRAPH_PASSWORD``
    HTTP basic authentication (used when no token is set).
``MATCHGRAPH_PAGE_SIZE``
    Rows per page of a SELECT (default 10,000, or 1,000,000 on Oxigraph server, which caps no
    answer); it must not exceed the engine's row cap (Virtuoso: ``ResultSetMaxRows``).
``MATCHGRAPH_TIMEOUT``
    Seconds to wait for one HTTP request (default 600).

How atomic a write is (see docs/scale.md): a write of up to :attr:`RemoteBackend.batch` quads is
one SPARQL update request, which both Oxigraph and Virtuoso apply as one transaction. A larger
write is staged in temporary named graphs in batches and then published by a single small update
that adds the staged graphs to their targets, drops them and bumps the catalog version; if staging
fails, the staged graphs are dropped. While a large write is staging (and after a crash during it,
until the next write cleans up), the staged triples are visible to queries over the union of all
graphs, though not under their final graph names and not in the catalog version.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.query import Result
from rdflib.term import Node, Variable

from ..env import lower_scheme, setting
from ..errors import CatalogError, QueryError, RemoteError
from .bindings import bind_values
from ..vocab import META_GRAPH, MG, PREFIXES

__all__ = ["RemoteBackend", "GENID", "STAGING", "UPDATE_URL_VAR", "STORE_URL_VAR", "TOKEN_VAR", "USER_VAR",
           "PASSWORD_VAR", "PAGE_SIZE_VAR", "TIMEOUT_VAR", "split_prologue", "projected_variables",
           "explicit_separators"]

UPDATE_URL_VAR = "MATCHGRAPH_UPDATE_URL"
STORE_URL_VAR = "MATCHGRAPH_STORE_URL"
TOKEN_VAR = "MATCHGRAPH_TOKEN"
USER_VAR = "MATCHGRAPH_USER"
PASSWORD_VAR = "MATCHGRAPH_PASSWORD"
PAGE_SIZE_VAR = "MATCHGRAPH_PAGE_SIZE"
TIMEOUT_VAR = "MATCHGRAPH_TIMEOUT"

#: Skolem IRIs for blank nodes (RDF 1.1 section 3.5: ``.well-known/genid/``).
GENID = "https://w3id.org/matchgraph/.well-known/genid/"
#: Named graphs a large write is staged in before it is published.
STAGING = "urn:matchgraph:staging:"

_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING = URIRef(_XSD + "string")
_XSD_BOOLEAN = _XSD + "boolean"
_RESULTS_JSON = "application/sparql-results+json"
#: What bulk reads ask Oxigraph server for: TSV (the smallest and fastest to parse).
_ROWS_TSV = "text/tab-separated-values, application/sparql-results+json;q=0.9"
#: What they ask other engines for: JSON (Virtuoso's TSV quotes the variable names, which the
#: standard's parsers refuse), else XML.
_ROWS_JSON = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
_GRAPH_TYPES = {"application/n-triples": "nt", "text/plain": "nt", "text/ntriples": "nt",
                "text/turtle": "turtle", "application/x-turtle": "turtle", "text/rdf+n3": "turtle",
                "text/n3": "turtle", "application/rdf+xml": "xml", "application/ld+json": "json-ld"}
_HINT_AUTH = (f"set {TOKEN_VAR} (bearer token) or {USER_VAR} and {PASSWORD_VAR} (basic authentication) "
              "to credentials the endpoint accepts for writes")


# ---------------------------------------------------------------------------------- query text
_PROLOGUE = re.compile(r"(?:\s+|#[^\n]*(?:\n|$)|PREFIX\s+[A-Za-z0-9_.\-]*:\s*<[^>\s]*>|BASE\s*<[^>\s]*>"
                       r"|DEFINE\s+[\w:-]+\s+(?:\"[^\"]*\"|<[^>]*>|\S+))*", re.I)  # DEFINE: Virtuoso pragmas


def split_prologue(text: str) -> tuple[str, str]:
    """Split a query into its prologue (comments, PREFIX, BASE, Virtuoso's DEFINE) and the rest.

    Examples
    --------
    >>> split_prologue("# hi\\nPREFIX a: <x:>\\nSELECT * WHERE {}")
    ('# hi\\nPREFIX a: <x:>\\n', 'SELECT * WHERE {}')
    >>> split_prologue('DEFINE input:inference "rules" SELECT ?s WHERE { ?s ?p ?o }')[1]
    'SELECT ?s WHERE { ?s ?p ?o }'
    """
    end = _PROLOGUE.match(text).end()  # type: ignore[union-attr]
    return text[:end], text[end:]


def projected_variables(select: str) -> list[str] | None:
    """The variables a SELECT projects, in order; None for ``SELECT *`` or what cannot be read.

    Examples
    --------
    >>> projected_variables("SELECT DISTINCT ?e (GROUP_CONCAT(STR(?k)) AS ?ks) WHERE { ?e ?p ?k }")
    ['e', 'ks']
    >>> projected_variables("SELECT * { ?s ?p ?o }") is None
    True
    """
    match = re.match(r"\s*SELECT\s+(?:(?:DISTINCT|REDUCED)\s+)?", select, re.I)
    if not match:
        return None
    names: list[str] = []
    depth, start, i = 0, 0, match.end()
    while i < len(select):
        char = select[i]
        if char == "(":
            depth += 1
            if depth == 1:
                start = i
        elif char == ")":
            depth -= 1
            if depth == 0:
                alias = re.search(r"\bAS\s+[?$](\w+)\s*\)$", select[start:i + 1], re.I)
                if not alias:
                    return None
                names.append(alias.group(1))
        elif depth == 0:
            if char == "{" or re.match(r"(?:WHERE|FROM)\b", select[i:i + 6], re.I):
                break
            if char == "*":
                return None
            if char in "?$":
                var = re.match(r"[?$](\w+)", select[i:])
                if var:
                    names.append(var.group(1))
                    i += var.end()
                    continue
        i += 1
    return names or None


def explicit_separators(sparql: str) -> str:
    """Give every ``GROUP_CONCAT`` its separator explicitly (the default, one space), which
    Virtuoso requires and every engine reads the same.

    Examples
    --------
    >>> explicit_separators('SELECT (GROUP_CONCAT(STR(?k)) AS ?ks) (GROUP_CONCAT(?x; separator=",") AS ?y) {}')
    'SELECT (GROUP_CONCAT(STR(?k) ; separator=" ") AS ?ks) (GROUP_CONCAT(?x; separator=",") AS ?y) {}'
    """
    out, pos = [], 0
    for match in re.finditer(r"\bGROUP_CONCAT\s*\(", sparql, re.I):
        if match.start() < pos:
            continue
        depth, i, has_separator = 1, match.end(), False
        while i < len(sparql) and depth:
            char = sparql[i]
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            elif char == ";" and depth == 1:
                has_separator = True
            elif char in "\"'":  # skip string literals
                end = sparql.find(char, i + 1)
                while end > 0 and sparql[end - 1] == "\\":
                    end = sparql.find(char, end + 1)
                i = end if end > 0 else len(sparql)
            i += 1
        if depth == 0 and not has_separator:
            out.append(sparql[pos:i - 1] + ' ; separator=" ")')
            pos = i
    return "".join(out) + sparql[pos:]


def _pageable(body: str) -> bool:
    """Whether a SELECT can be wrapped in a sub-select and paged: no top-level ORDER BY, LIMIT,
    OFFSET (the author's own paging or order) and no dataset clause (FROM)."""
    head = re.split(r"\{", body, maxsplit=1)[0]
    tail = body[body.rfind("}") + 1:]
    return not re.search(r"\bFROM\b", head, re.I) and not re.search(r"\b(?:ORDER\s+BY|LIMIT|OFFSET)\b", tail, re.I)


# ---------------------------------------------------------------------------------- terms
def _rows_formats() -> dict[str, Any]:
    import pyoxigraph as ox

    tsv, json_, xml = ox.QueryResultsFormat.TSV, ox.QueryResultsFormat.JSON, ox.QueryResultsFormat.XML
    return {"text/tab-separated-values": tsv, "application/sparql-results+json": json_, "application/json": json_,
            "application/sparql-results+xml": xml, "application/xml": xml}


def _boolean(term: Any) -> str:
    """A boolean literal's lexical form as the embedded store gives it (Virtuoso sends 1 and 0)."""
    return {"1": "true", "0": "false"}.get(term.value, term.value)


def _term(cell: Mapping[str, str]) -> Node:
    """An rdflib term for one SPARQL JSON results cell, as the embedded backend gives it:
    plain literals carry ``xsd:string``; Virtuoso's ``1``/``0`` booleans read ``true``/``false``."""
    kind, value = cell.get("type"), cell.get("value", "")
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value.removeprefix("nodeID://"))
    lang = cell.get("xml:lang")
    if lang:
        return Literal(value, lang=lang)
    datatype = cell.get("datatype")
    if datatype == _XSD_BOOLEAN and value in ("1", "0"):
        value = "true" if value == "1" else "false"
    return Literal(value, datatype=URIRef(datatype) if datatype else _XSD_STRING)


def _skolemise(quads: Iterable[Any], token: str) -> list[tuple[Any, Any, Any, Node]]:
    """Replace blank nodes by IRIs under :data:`GENID` (the same blank node, the same IRI).

    Quads are rdflib tuples ``(s, p, o, graph)`` or ``pyoxigraph.Quad`` objects (a bulk load's
    parsed quads, kept as they are: no rdflib term is built for them); both come back as tuples
    whose graph is an rdflib IRI and whose other terms are of either library.
    """
    import pyoxigraph as ox

    out: list[tuple[Any, Any, Any, Node]] = []
    graphs: dict[str, URIRef] = {}
    blank, quad_type = ox.BlankNode, ox.Quad
    for quad in quads:
        if type(quad) is quad_type:
            name = quad.graph_name.value
            graph = graphs.get(name)
            if graph is None:
                graph = graphs[name] = URIRef(name)
            s, p, o = quad.subject, quad.predicate, quad.object
            if type(s) is blank:
                s = ox.NamedNode(f"{GENID}{token}-{s.value}")
            if type(o) is blank:
                o = ox.NamedNode(f"{GENID}{token}-{o.value}")
            out.append((s, p, o, graph))
            continue
        if any(isinstance(t, BNode) for t in quad):
            quad = tuple(URIRef(f"{GENID}{token}-{t}") if isinstance(t, BNode) else t  # type: ignore[assignment]
                         for t in quad)
        out.append(quad)
    return out


class _Serialiser:
    """N-Triples text for rdflib triples, written by Oxigraph's serialiser (correct escaping, fast)."""

    def __init__(self) -> None:
        import pyoxigraph as ox

        self._ox = ox
        self._iris: dict[str, Any] = {}
        self._native = (ox.NamedNode, ox.Literal, ox.BlankNode)

    def _node(self, term: Any) -> Any:
        ox = self._ox
        if type(term) in self._native:  # already a pyoxigraph term (a bulk load's parsed quads)
            return term
        if isinstance(term, URIRef):
            node = self._iris.get(str(term))
            if node is None:
                try:
                    node = self._iris[str(term)] = ox.NamedNode(str(term))
                except ValueError as exc:
                    raise CatalogError(f"cannot write the IRI <{term}>: {exc}",
                                       hint="fix the IRI in the input (spaces and some characters are not allowed)") from exc
            return node
        if isinstance(term, Literal):
            if term.language:
                return ox.Literal(str(term), language=term.language)
            if term.datatype is not None:
                return ox.Literal(str(term), datatype=self._node(term.datatype))
            return ox.Literal(str(term))
        raise CatalogError(f"cannot write the term {term!r} to a remote endpoint")

    def ntriples(self, triples: Iterable[tuple[Node, Node, Node]]) -> str:
        ox = self._ox
        data = ox.serialize((ox.Triple(self._node(s), self._node(p), self._node(o)) for s, p, o in triples),
                            format=ox.RdfFormat.N_TRIPLES)
        return (data or b"").decode("utf-8")


# ---------------------------------------------------------------------------------- the backend
class RemoteBackend:
    """The catalog's store behind SPARQL 1.1 Protocol endpoints.

    Parameters
    ----------
    query_url : str
        The SPARQL query endpoint.
    update_url : str, optional
        The SPARQL Update endpoint; default ``$MATCHGRAPH_UPDATE_URL``, else ``query_url``.
    store_url : str, optional
        A Graph Store Protocol endpoint for staging large writes; default ``$MATCHGRAPH_STORE_URL``.
    token : str, optional
        Bearer token; default ``$MATCHGRAPH_TOKEN``. Else ``$MATCHGRAPH_USER`` and
        ``$MATCHGRAPH_PASSWORD`` give HTTP basic authentication.
    page_size : int, optional
        Rows per SELECT page; default ``$MATCHGRAPH_PAGE_SIZE``, else :attr:`page_size` picks one.
    batch : int, optional
        Quads per ``INSERT DATA`` request, and the largest write sent as one update: 10,000, or
        500 on Virtuoso (whose SPARQL compiler refuses an update of more than about 2,000 triples
        and takes about a second per thousand).
    load_batch : int
        Triples per Graph Store Protocol POST.

    Examples
    --------
    >>> backend = RemoteBackend("http://127.0.0.1:7878/query", "http://127.0.0.1:7878/update")
    >>> backend.description
    'remote:http://127.0.0.1:7878/query'
    """

    def __init__(self, query_url: str, update_url: str | None = None, *, store_url: str | None = None,
                 token: str | None = None, page_size: int | None = None, batch: int | None = None,
                 load_batch: int = 50_000) -> None:
        query_url = lower_scheme(query_url)
        self.query_url = query_url
        self.update_url = lower_scheme(update_url or setting(UPDATE_URL_VAR) or query_url)
        self.store_url = lower_scheme(store_url or setting(STORE_URL_VAR) or "") or None
        self.description = f"remote:{query_url}"
        self._batch = batch
        self.load_batch = load_batch
        self._page_size = page_size or setting(PAGE_SIZE_VAR)
        self.timeout = setting(TIMEOUT_VAR)
        self._headers: dict[str, str] = {}
        token = token or setting(TOKEN_VAR)
        user, password = setting(USER_VAR), setting(PASSWORD_VAR)
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        elif user:
            basic = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self._headers["Authorization"] = f"Basic {basic}"
        self._server: str | None = None
        self._dataset: rdflib.Dataset | None = None
        #: HTTP requests sent by this backend (for tests and benchmarks).
        self.requests = 0

    # ------------------------------------------------------------------ HTTP
    def _post(self, url: str, form: list[tuple[str, str]] | None = None, *, body: bytes | None = None,
              content_type: str | None = None, accept: str = _RESULTS_JSON, what: str = "query") -> tuple[bytes, Any]:
        """POST and return the body and headers; every failure is a RemoteError or QueryError naming the URL."""
        with self._open(url, form, body=body, content_type=content_type, accept=accept, what=what) as response:
            with self._failures(url, what):
                return response.read(), response.headers

    @contextmanager
    def _open(self, url: str, form: list[tuple[str, str]] | None = None, *, body: bytes | None = None,
              content_type: str | None = None, accept: str = _RESULTS_JSON, what: str = "query") -> Iterator[Any]:
        """POST and yield the open response (to read, or to parse as it streams in)."""
        if form is not None:
            body = urllib.parse.urlencode(form).encode("utf-8")
            content_type = "application/x-www-form-urlencoded"
        headers = {"Accept": accept, "Content-Type": content_type or "application/octet-stream", **self._headers}
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        self.requests += 1
        with self._failures(url, what):
            response = urllib.request.urlopen(request, timeout=self.timeout)
        with response:
            if self._server is None:
                self._server = response.headers.get("Server") or ""
            yield response

    @contextmanager
    def _failures(self, url: str, what: str) -> Iterator[None]:
        """Turn a failed request (or a connection lost while reading its answer) into a RemoteError
        or QueryError naming the URL and saying what to do."""
        try:
            yield
        except urllib.error.HTTPError as exc:
            raise self._http_error(url, exc, what) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            text = getattr(reason, "strerror", None) or str(reason)
            raise RemoteError(f"cannot reach the SPARQL endpoint {url}: {text}",
                              hint="start the engine, or check --catalog / MATCHGRAPH_CATALOG"
                                   + (" and --update-url / MATCHGRAPH_UPDATE_URL" if what != "query" else "")
                              ) from None
        except TimeoutError:
            raise RemoteError(f"the SPARQL endpoint {url} did not answer within {self.timeout:.0f} s",
                              hint=f"raise {TIMEOUT_VAR} (seconds), or check that the engine is not overloaded") from None
        except OSError as exc:
            raise RemoteError(f"the connection to the SPARQL endpoint {url} failed: {exc}",
                              hint="check that the engine is running and reachable") from None

    def _http_error(self, url: str, exc: urllib.error.HTTPError, what: str) -> Exception:
        try:
            detail = exc.read().decode("utf-8", errors="replace").strip()
        except OSError:
            detail = ""
        detail = re.sub(r"\s+", " ", detail)[:600]
        status = f"HTTP {exc.code} {exc.reason}"
        said = f": {detail}" if detail else ""
        if exc.code in (401, 403) or "SR186" in detail or "permission" in detail.lower():
            hint = _HINT_AUTH
            if "virtuoso" in detail.lower() or "SR186" in detail:
                hint += ("; on Virtuoso the /sparql endpoint needs GRANT SPARQL_UPDATE TO \"SPARQL\" "
                         "(and GRANT EXECUTE ON DB.DBA.L_O_LOOK TO \"SPARQL\" for long literals)")
            return RemoteError(f"the endpoint {url} refused the {what}: {status}{said}", hint=hint)
        query_only = (exc.code == 400 and url == self.query_url and re.search(r"\bquery\b", detail, re.I)
                      and not re.search(r"37000|SP0\d\d|syntax|error at", detail, re.I))
        if what != "query" and (exc.code in (404, 405, 406, 415) or query_only):
            return RemoteError(f"the endpoint {url} does not take SPARQL updates: {status}{said}",
                               hint=f"give the update endpoint with --update-url or {UPDATE_URL_VAR} "
                                    "(Oxigraph server: http://HOST:PORT/update; Virtuoso: http://HOST:PORT/sparql)")
        if "SR325" in detail:
            return RemoteError(f"the endpoint {url} aborted the write, too large for one transaction: {status}{said}",
                               hint="nothing was written; raise TransactionAfterImageLimit in the [Parameters] section "
                                    "of virtuoso.ini (e.g. to 1500000000 bytes) and restart it, ingest in smaller "
                                    "commands, or load a dump with Virtuoso's bulk loader (docs/scale.md)")
        if "SR353" in detail:
            return RemoteError(f"the endpoint {url} refused to sort past its limit: {status}{said}",
                               hint="Virtuoso sorts at most MaxSortedTopRows rows (10,000 by default) for a page; "
                                    "raise MaxSortedTopRows in the [Parameters] section of virtuoso.ini (e.g. to 1000000) "
                                    "and restart it (docs/scale.md)")
        if what == "query" and (exc.code == 400 or "37000" in detail or "SP030" in detail):
            return QueryError(f"the endpoint {url} rejected the query: {status}{said}")
        if exc.code == 404:
            return RemoteError(f"there is no SPARQL endpoint at {url}: {status}",
                               hint="check --catalog / MATCHGRAPH_CATALOG (Oxigraph server: http://HOST:PORT/query; "
                                    "Virtuoso: http://HOST:PORT/sparql)")
        return RemoteError(f"the endpoint {url} failed the {what}: {status}{said}",
                           hint="see the engine's log; a write that failed was rolled back as far as the engine allows "
                                "(docs/scale.md)")

    def _query_form(self, sparql: str) -> list[tuple[str, str]]:
        form = [("query", sparql)]
        if self._engine().startswith("Oxigraph"):  # learnt before the first real query
            form.append(("union-default-graph", ""))  # queries see the union of the graphs, as embedded
        return form

    def _engine(self) -> str:
        """The engine's ``Server`` header (asked once, with ``ASK {}``)."""
        if self._server is None:
            self._post(self.query_url, [("query", "ASK {}")])
        return self._server or ""

    @property
    def page_size(self) -> int:
        """Rows per SELECT page: ``$MATCHGRAPH_PAGE_SIZE``, else 0 (no paging: every query is one
        request, its answer parsed as it streams in) on Oxigraph server, which caps no answer, and
        10,000 elsewhere (the ``ResultSetMaxRows`` Virtuoso ships with)."""
        if self._page_size is None:
            self._page_size = 0 if self._engine().startswith("Oxigraph") else 10_000
        return self._page_size

    @property
    def batch(self) -> int:
        """Quads per ``INSERT DATA`` request (see the class parameters)."""
        if self._batch is None:
            self._batch = 500 if self._engine().startswith("Virtuoso") else 10_000
        return self._batch

    # ------------------------------------------------------------------ reading
    def _select(self, sparql: str) -> tuple[list[Variable], list[dict[Variable, Node]]]:
        data, headers = self._post(self.query_url, self._query_form(sparql))
        if headers.get("X-Matchgraph-Truncated") or headers.get("X-SQL-State"):
            raise RemoteError(f"the endpoint {self.query_url} cut the answer short "
                              f"({headers.get('X-Matchgraph-Truncated') or headers.get('X-SQL-Message') or 'truncated'})",
                              hint=f"lower {PAGE_SIZE_VAR} below the engine's row cap, or raise its query time limit")
        try:
            answer = json.loads(data)
            names = [Variable(v) for v in answer["head"]["vars"]]
            variables = {v: Variable(v) for v in answer["head"]["vars"]}
            seen: dict[tuple[str | None, ...], Node] = {}  # the same IRIs and values recur: build each once

            def term(cell: dict[str, str]) -> Node:
                key = (cell.get("type"), cell.get("value"), cell.get("datatype"), cell.get("xml:lang"))
                found = seen.get(key)
                if found is None:
                    found = seen[key] = _term(cell)
                return found

            rows = [{variables.get(k) or Variable(k): term(v) for k, v in row.items()}
                    for row in answer["results"]["bindings"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteError(f"the endpoint {self.query_url} sent an answer that is not SPARQL JSON results: {exc}",
                              hint="check that the URL is a SPARQL query endpoint") from None
        return names, rows

    def _paged_select(self, prologue: str, body: str) -> tuple[list[Variable], list[dict[Variable, Node]]]:
        """A SELECT read in pages of :attr:`page_size` rows (see :meth:`_pages`)."""
        pages = self._pages(prologue, body, self._select)
        variables, rows = next(pages)
        for _, page in pages:
            rows.extend(page)
        return variables, rows

    def _pages(self, prologue: str, body: str, select: Any) -> Iterator[tuple[list[Any], list[Any]]]:
        """The pages of a SELECT, each ``select(query)`` (its variables and rows).

        With no page size (Oxigraph server) the query is asked once as it is. Otherwise it is first
        asked with ``LIMIT page_size``; when fewer rows come back that is the whole answer (one
        request, the common case). Otherwise it is read again in pages ordered by every projected
        variable (``ORDER BY ... LIMIT ... OFFSET``), the only order SPARQL guarantees to repeat
        from one request to the next.
        """
        size = self.page_size
        if not size:
            yield select(prologue + body)
            return
        names = projected_variables(body)
        projection = " ".join(f"?{n}" for n in names) if names else "*"
        inner = f"{prologue}SELECT {projection} WHERE {{ {{ {body} }} }}"
        variables, rows = select(f"{inner} LIMIT {size}")
        if len(rows) < size:
            yield variables, rows
            return
        order = " ".join(f"?{v}" for v in (names or variables))
        offset = 0
        while True:
            variables, page = select(f"{inner} ORDER BY {order} LIMIT {size} OFFSET {offset}")
            offset += len(page)
            yield variables, page
            if len(page) < size:
                return

    def select_values(self, sparql: str) -> Iterator[tuple[str | None, ...]]:
        """Run a SELECT and stream its rows as tuples of plain strings (IRIs, lexical forms, None
        for unbound), the way derived data reads the catalog in bulk (:mod:`matchgraph.graph.rows`).

        The answer is asked as SPARQL TSV from Oxigraph server, JSON (or XML) from other engines,
        and parsed by pyoxigraph's result parsers as it streams in, without building rdflib terms;
        pages as :meth:`query`.
        """
        if "GROUP_CONCAT" in sparql.upper():
            sparql = explicit_separators(sparql)
        prologue, body = split_prologue(sparql)
        if not _pageable(body):
            yield from self._value_rows(sparql)[1]
            return
        if not self.page_size:  # one request: stream the rows as they are parsed
            with self._open(self.query_url, self._query_form(sparql), accept=self._rows_accept()) as response:
                with self._failures(self.query_url, "query"):
                    yield from self._parse_rows(response)
            return
        for _, page in self._pages(prologue, body, self._value_rows):
            yield from page

    def _value_rows(self, sparql: str) -> tuple[list[str], list[tuple[str | None, ...]]]:
        with self._open(self.query_url, self._query_form(sparql), accept=self._rows_accept()) as response:
            with self._failures(self.query_url, "query"):
                names: list[str] = []
                rows = list(self._parse_rows(response, names))
        return names, rows

    def _rows_accept(self) -> str:
        return _ROWS_TSV if self._engine().startswith("Oxigraph") else _ROWS_JSON

    def _parse_rows(self, response: Any, names: list[str] | None = None) -> Iterator[tuple[str | None, ...]]:
        """The rows of a SELECT answer as it streams in; its variable names are put in ``names``."""
        import pyoxigraph as ox

        headers = response.headers
        if headers.get("X-Matchgraph-Truncated") or headers.get("X-SQL-State"):
            raise RemoteError(f"the endpoint {self.query_url} cut the answer short "
                              f"({headers.get('X-Matchgraph-Truncated') or headers.get('X-SQL-Message') or 'truncated'})",
                              hint=f"lower {PAGE_SIZE_VAR} below the engine's row cap, or raise its query time limit")
        media = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        fmt = _rows_formats().get(media, ox.QueryResultsFormat.JSON)
        boolean = _XSD_BOOLEAN
        try:
            solutions = ox.parse_query_results(response, fmt)
            if names is not None:
                names.extend(v.value for v in solutions.variables)
            for solution in solutions:
                row = tuple(None if t is None else t.value for t in solution)
                if "1" in row or "0" in row:  # Virtuoso's stored booleans: read as true/false, as embedded
                    row = tuple(_boolean(t) if t is not None and isinstance(t, ox.Literal)
                                and t.datatype.value == boolean else v for t, v in zip(solution, row))
                yield row
        except (SyntaxError, ValueError) as exc:
            raise RemoteError(f"the endpoint {self.query_url} sent an answer that is not SPARQL results "
                              f"({media or 'no content type'}): {exc}",
                              hint="check that the URL is a SPARQL query endpoint") from None

    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> Result:
        """Run a query; SELECTs without their own ORDER BY, LIMIT or OFFSET are read in pages."""
        if bindings:
            sparql = bind_values(sparql, bindings)  # the same VALUES binding as the embedded store
        if "GROUP_CONCAT" in sparql.upper():
            sparql = explicit_separators(sparql)
        prologue, body = split_prologue(sparql)
        form = re.match(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, re.I)
        kind = form.group(1).upper() if form else "SELECT"
        if kind == "SELECT":
            if _pageable(body):
                names, rows = self._paged_select(prologue, body)
            else:
                names, rows = self._select(sparql)
            result = Result("SELECT")
            result.vars = names
            result.bindings = rows
            return result
        if kind == "ASK":
            data, _ = self._post(self.query_url, self._query_form(sparql))
            result = Result("ASK")
            try:
                result.askAnswer = bool(json.loads(data)["boolean"])
            except (ValueError, KeyError, TypeError) as exc:
                raise RemoteError(f"the endpoint {self.query_url} sent an ASK answer that is not SPARQL JSON: {exc}") from None
            return result
        data, headers = self._post(self.query_url, self._query_form(sparql),
                                   accept="application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5")
        media = (headers.get("Content-Type") or "text/turtle").split(";")[0].strip().lower()
        result = Result("CONSTRUCT")
        result.graph = rdflib.Graph()
        try:
            result.graph.parse(data=data.decode("utf-8"), format=_GRAPH_TYPES.get(media, "turtle"))
        except Exception as exc:  # noqa: BLE001 - any parser error: the answer is not RDF we can read
            raise RemoteError(f"the endpoint {self.query_url} sent a graph that cannot be read ({media}): {exc}") from None
        return result

    @property
    def dataset(self) -> rdflib.Dataset:
        """An rdflib Dataset over the endpoints (for namespace bindings and rdflib-level access)."""
        if self._dataset is None:
            from rdflib.plugins.stores.sparqlstore import SPARQLUpdateStore

            store = SPARQLUpdateStore(query_endpoint=self.query_url, update_endpoint=self.update_url,
                                      autocommit=False, returnFormat="json", headers=dict(self._headers))
            self._dataset = rdflib.Dataset(store=store, default_union=True)
            for prefix, ns in PREFIXES.items():
                self._dataset.bind(prefix, ns, override=True)
        return self._dataset

    # ------------------------------------------------------------------ writing
    def update(self, sparql: str) -> None:
        """Send one SPARQL update request (one transaction on Oxigraph and Virtuoso)."""
        self._post(self.update_url, [("update", sparql)], what="update")

    def _staged_leftovers(self) -> list[str]:
        names, rows = self._select(f"SELECT ?g WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{MG.StagedGraph}> }} }}")
        return [str(row[names[0]]) for row in rows if names[0] in row]

    def _drop_staged(self, graphs: Iterable[str]) -> None:
        parts = []
        for g in graphs:
            parts.append(f"DROP SILENT GRAPH <{g}>")
            parts.append(f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ <{g}> ?p ?o }} }}")
        if parts:
            self.update(" ;\n".join(parts))

    def write(self, updates_before: list[str], quads: list[tuple[Node, Node, Node, URIRef]],
              updates_after: list[str], *, derived: bool = False) -> None:
        """Write quads between two lists of updates, all or nothing as far as the engine allows.

        Up to :attr:`batch` quads: one update request (``before ; INSERT DATA ; after``), which the
        engine applies atomically. More: the quads are staged in temporary named graphs in
        batches, then one update runs ``before``, adds every staged graph to its target, drops the
        staged graphs and runs ``after`` (the version bump). A failure while staging drops what was
        staged; nothing of the write is in the catalog's graphs or version before that last update.
        """
        token = uuid.uuid4().hex[:16]
        quads = _skolemise(quads, token)
        leftovers = self._staged_leftovers()
        if leftovers:  # a large write that crashed while staging: its staged graphs are garbage
            self._drop_staged(leftovers)
        serialiser = _Serialiser()
        if len(quads) <= self.batch:
            self.update(" ;\n".join([*updates_before, self._insert_data(serialiser, quads), *updates_after]))
            return
        if derived and self.store_url:
            self._write_derived(serialiser, updates_before, quads, updates_after)
            return
        targets: dict[Node, str] = {}
        for *_, g in quads:
            if g not in targets:
                targets[g] = f"{STAGING}{token}:{len(targets)}"
        records = [f"<{staged}> a <{MG.StagedGraph}> ; <{MG.stagedFor}> <{g}> ." for g, staged in targets.items()]
        self.update(f"INSERT DATA {{ GRAPH <{META_GRAPH}> {{ {' '.join(records)} }} }}")
        try:
            by_graph: dict[str, list[tuple[Node, Node, Node]]] = {}
            for s, p, o, g in quads:
                by_graph.setdefault(targets[g], []).append((s, p, o))
            size = self.load_batch if self.store_url else self.batch
            for staged, triples in by_graph.items():
                for i in range(0, len(triples), size):
                    self._stage(serialiser, staged, triples[i:i + size])
            publish = [f"ADD SILENT <{staged}> TO <{g}>" for g, staged in targets.items()]
            publish += [f"DROP SILENT GRAPH <{staged}>" for staged in targets.values()]
            publish.append(f"DELETE {{ GRAPH <{META_GRAPH}> {{ ?g ?p ?o }} }} WHERE {{ GRAPH <{META_GRAPH}> {{ "
                           f"?g a <{MG.StagedGraph}> ; ?p ?o . FILTER(STRSTARTS(STR(?g), \"{STAGING}{token}:\")) }} }}")
            self.update(" ;\n".join([*updates_before, *publish, *updates_after]))
        except BaseException:
            try:
                self._drop_staged(targets.values())
            except RemoteError:
                pass  # the next write drops them (they are recorded in the bookkeeping graph)
            raise

    def _write_derived(self, serialiser: _Serialiser, updates_before: list[str],
                       quads: list[tuple[Any, Any, Any, Node]], updates_after: list[str]) -> None:
        """Derived data straight into its graphs (see :meth:`write`)."""
        if updates_before:
            self.update(" ;\n".join(updates_before))
        by_graph: dict[str, list[tuple[Any, Any, Any]]] = {}
        for s, p, o, g in quads:
            by_graph.setdefault(str(g), []).append((s, p, o))
        batches = [(g, triples[i:i + self.load_batch]) for g, triples in by_graph.items()
                   for i in range(0, len(triples), self.load_batch)]
        for n, (graph, triples) in enumerate(batches):
            self._post_graph(graph, serialiser.ntriples(triples), transaction=n == len(batches) - 1)
        self.update(" ;\n".join(updates_after))

    def load(self, data: str | bytes, *, graph: str, format: str = "turtle") -> None:
        """Bulk load RDF text into a named graph, in batches: not atomic, like the embedded
        store's ``bulk_load``; for derived data whose writer marks completion itself (scores
        write their run record last).

        Parameters
        ----------
        data : str or bytes
            Turtle (``format="turtle"``) or N-Triples (``"nt"``); blank nodes are skolemised.
        graph : str
            The named graph to add the triples to.
        """
        import pyoxigraph as ox

        fmt = {"turtle": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES}[format]
        token = uuid.uuid4().hex[:16]
        try:
            triples = [ox.Triple(*(ox.NamedNode(f"{GENID}{token}-{t.value}") if isinstance(t, ox.BlankNode) else t
                                   for t in (q.subject, q.predicate, q.object)))
                       for q in ox.parse(data.encode("utf-8") if isinstance(data, str) else data, format=fmt)]
        except SyntaxError as exc:
            raise CatalogError(f"cannot load the data into {graph}: {exc}") from exc
        size = self.load_batch if self.store_url else self.batch
        for i in range(0, len(triples), size):
            text = (ox.serialize(triples[i:i + size], format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
            if self.store_url:
                self._post_graph(graph, text)
            else:
                self.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{text}}} }}")

    def _post_graph(self, graph: str, ntriples: str, *, transaction: bool = False) -> None:
        """POST N-Triples to a graph (a staging graph, or derived data loaded without a transaction).

        On Oxigraph server the POST asks for ``no_transaction``: the server's bulk loader, without
        the per-request transaction, which makes large stagings several times faster. Nothing
        here needs that transaction: staged graphs are published by one atomic update afterwards,
        and :meth:`load` is documented as not atomic.
        """
        url = self.store_url + ("&" if "?" in self.store_url else "?") + urllib.parse.urlencode({"graph": graph})
        if not transaction and self._engine().startswith("Oxigraph"):
            url += "&no_transaction"
        self._post(url, body=ntriples.encode("utf-8"), content_type="application/n-triples", accept="*/*",
                   what="Graph Store load")

    @staticmethod
    def _insert_data(serialiser: _Serialiser, quads: list[tuple[Node, Node, Node, Node]]) -> str:
        by_graph: dict[Node, list[tuple[Node, Node, Node]]] = {}
        for s, p, o, g in quads:
            by_graph.setdefault(g, []).append((s, p, o))
        blocks = "\n".join(f"GRAPH <{g}> {{\n{serialiser.ntriples(ts)}}}" for g, ts in by_graph.items())
        return f"INSERT DATA {{\n{blocks}\n}}"

    def _stage(self, serialiser: _Serialiser, graph: str, triples: list[tuple[Node, Node, Node]]) -> None:
        if self.store_url:
            self._post_graph(graph, serialiser.ntriples(triples))
        else:
            self.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{serialiser.ntriples(triples)}}} }}")

    def refresh(self) -> bool:
        """Always False: every query reads the engine's current state, there is no version to move to."""
        return False

    def close(self) -> None:
        """Nothing to release: every request has its own connection."""
        self._dataset = None

