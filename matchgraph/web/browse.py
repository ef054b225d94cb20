"""The catalog list people browse: facets with counts, sort, paging and a name or alias search.

A :class:`BrowseIndex` is built once per catalog version from the compact projection, the stored
scores and a few bulk queries, into an in-memory SQLite database; every page is then one small
query (filter, count, sort, ``LIMIT``), so a page costs the same at 100,000 entities as at 100,
and nothing renders the whole catalog. The same index writes ``browse-data.js`` for the static
site, whose ``browse.js`` applies the same rules in the browser.

Every state is a URL: ``?kind=dataset&licence=mit&sort=downloads&page=2&q=bert``.

Examples
--------
>>> index = BrowseIndex.build(catalog)                                   # doctest: +SKIP
>>> result = index.query(BrowseState.from_params({"kind": "dataset"}))   # doctest: +SKIP
>>> result.total, [r["id"] for r in result.rows][:2]                     # doctest: +SKIP
(1690, ['codesearchnet', 'the-pile'])
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from ..catalog import Catalog
from ..vocab import ID

__all__ = ["FACETS", "SORTS", "PER_PAGE", "BrowseState", "BrowseResult", "BrowseIndex", "render_browse",
           "browse_data_script", "fmt_count"]

#: Facets in display order: URL parameter -> heading.
FACETS: dict[str, str] = {"kind": "Kind", "task": "Task (capability concept)", "licence": "Licence",
                          "library": "Format or library", "status": "Described or stub"}
#: Sort orders: URL value -> (label, SQL ORDER BY).
SORTS: dict[str, tuple[str, str]] = {
    "rank": ("Rank", "rank DESC, lname, slug"),
    "adoption": ("Adoption", "adoption DESC, rank DESC, lname, slug"),
    "downloads": ("Downloads", "downloads IS NULL, downloads DESC, rank DESC, lname, slug"),
    "likes": ("Likes", "likes IS NULL, likes DESC, rank DESC, lname, slug"),
    "name": ("Name", "lname, slug"),
}
PER_PAGE = 50
#: Facet values listed before "more".
FACET_SHOWN = 10
#: Facet values listed at most (the rest are reachable by search and URL).
FACET_MAX = 60
DESCRIPTION_LENGTH = 160


def fmt_count(value: float | None) -> str:
    """A count as people read it on the Hub: ``950``, ``12.3k``, ``4.5M`` (``–`` when unknown).

    Examples
    --------
    >>> fmt_count(950), fmt_count(12_345), fmt_count(4_500_000), fmt_count(None)
    ('950', '12.3k', '4.5M', '–')
    """
    if value is None:
        return "–"
    v = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            text = f"{v / size:.1f}".rstrip("0").rstrip(".")
            return text + suffix
    return f"{int(v)}" if v.is_integer() else f"{v:.1f}"


@dataclass(frozen=True)
class BrowseState:
    """One view of the list: a search text, one value per facet, a sort and a page."""

    q: str = ""
    filters: tuple[tuple[str, str], ...] = ()
    sort: str = "rank"
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> BrowseState:
        """The state a URL's query parameters describe (unknown sorts and bad pages fall back)."""
        sort = params.get("sort", "rank")
        try:
            page = max(1, int(params.get("page", "1")))
        except ValueError:
            page = 1
        filters = tuple((f, str(params[f])) for f in FACETS if params.get(f))
        return cls(str(params.get("q", "")).strip()[:200], filters, sort if sort in SORTS else "rank", page)

    @property
    def chosen(self) -> dict[str, str]:
        """Facet -> the value filtered on."""
        return dict(self.filters)

    def params(self) -> dict[str, str]:
        """The URL parameters of this state (defaults left out)."""
        out: dict[str, str] = {}
        if self.q:
            out["q"] = self.q
        out.update(self.filters)
        if self.sort != "rank":
            out["sort"] = self.sort
        if self.page != 1:
            out["page"] = str(self.page)
        return out

    def query_string(self) -> str:
        """``?...`` for this state ('' for the default one)."""
        params = self.params()
        return "?" + urlencode(params) if params else ""

    def with_facet(self, facet: str, value: str | None) -> BrowseState:
        """This state filtered on ``facet=value`` (None: the filter removed), back on page 1."""
        filters = [(f, v) for f, v in self.filters if f != facet]
        if value is not None:
            filters.append((facet, value))
        order = list(FACETS)
        return replace(self, filters=tuple(sorted(filters, key=lambda fv: order.index(fv[0]))), page=1)

    def with_sort(self, sort: str) -> BrowseState:
        """This state sorted otherwise, back on page 1."""
        return replace(self, sort=sort, page=1)

    def with_page(self, page: int) -> BrowseState:
        """Another page of this state."""
        return replace(self, page=page)


@dataclass
class BrowseResult:
    """One page of the list with the facet counts of the whole selection."""

    state: BrowseState
    rows: list[dict[str, Any]]
    total: int
    catalog_total: int
    pages: int
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"state": self.state.params(), "total": self.total, "pages": self.pages, "rows": self.rows,
                "facets": self.facets}


_SCHEMA = """
CREATE TABLE entity (i INTEGER PRIMARY KEY, slug TEXT, name TEXT, lname TEXT, kind TEXT, stub INTEGER,
                     rank REAL, adoption REAL, downloads REAL, likes REAL, licence TEXT, description TEXT);
CREATE TABLE facet (i INTEGER, facet TEXT, value TEXT);
CREATE TABLE label (facet TEXT, value TEXT, label TEXT, PRIMARY KEY (facet, value));
CREATE TABLE names (i INTEGER, text TEXT);
"""
_INDEXES = """
CREATE INDEX facet_value ON facet (facet, value, i);
CREATE INDEX facet_i ON facet (i, facet);
CREATE INDEX entity_rank ON entity (rank DESC);
"""


class BrowseIndex:
    """The browse table of one catalog version (thread-safe: queries are serialised by a lock).

    Build it with :meth:`build`; ask it with :meth:`query`.
    """

    def __init__(self, conn: sqlite3.Connection, version: str) -> None:
        self.conn = conn
        self.version = version
        self.lock = threading.Lock()

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, catalog: Catalog) -> BrowseIndex:
        """Read the catalog's entities, scores and facets into a new index.

        Uses the compact projection and the stored scores (:func:`matchgraph.scores.load_scores`,
        computed only when the data changed) and five bulk queries.
        """
        from ..classify import concept_labels
        from ..projection import load_compact, select_values
        from ..scores import load_scores

        version = catalog.version
        compact = load_compact(catalog)
        scores = load_scores(catalog)
        index = {slug: i for i, slug in enumerate(compact.slugs)}
        prefix = str(ID)

        def slug_of(iri: str | None) -> str | None:
            if not iri or not iri.startswith(prefix):
                return None
            return iri[len(prefix):]

        def ids(query: str) -> Iterable[tuple[int, tuple[str | None, ...]]]:
            for row in select_values(catalog, query):
                i = index.get(slug_of(row[0]) or "")
                if i is not None:
                    yield i, row[1:]

        metrics: dict[tuple[int, str], float] = {}
        for i, (name, value) in ids("""SELECT ?e ?n ?v WHERE { ?e mg:hasMetric ?m . ?m mg:metricName ?n ;
                                          schema:value ?v FILTER(?n IN ("downloads", "likes")) }"""):
            try:
                metrics[(i, str(name))] = max(metrics.get((i, str(name)), 0.0), float(value or 0))
            except ValueError:
                continue
        licences: dict[int, set[str]] = {}
        for i, (value,) in ids("SELECT ?e ?l WHERE { ?e a mg:Entity ; dcterms:license ?l }"):
            if value:
                licences.setdefault(i, set()).add((value.rsplit("/", 1)[-1] if "://" in value else value).lower())
        descriptions = {i: d or "" for i, (d,) in ids("SELECT ?e ?d WHERE { ?e a mg:Entity ; dcterms:description ?d }")}
        facets: list[tuple[int, str, str]] = []
        labels: dict[tuple[str, str], str] = {}
        for i, (concept,) in ids("""SELECT DISTINCT ?e ?k WHERE { { SELECT ?c ?e WHERE { ?c mg:capabilityOf ?e } }
                                     { SELECT ?c ?k WHERE { ?c mg:concept ?k } } }"""):
            value = (concept or "").rsplit("/", 1)[-1]
            if value:
                facets.append((i, "task", value))
                labels.setdefault(("task", value), (concept_labels(value) or [value.replace("-", " ")])[0])
        for i, (target,) in ids("""SELECT DISTINCT ?e ?x WHERE { VALUES ?p { mg:supportsFormat mg:integratesWith }
                                     ?e ?p ?x }"""):
            value = slug_of(target)
            j = index.get(value or "")
            if value and j is not None:
                facets.append((i, "library", value))
                labels.setdefault(("library", value), compact.names[j] or value)
        names: list[tuple[int, str]] = []
        for i, (alias,) in ids("""SELECT ?e ?a WHERE { ?e a mg:Entity . { ?e schema:alternateName ?a }
                                   UNION { ?e mg:hubId ?a } }"""):
            if alias:
                names.append((i, alias.lower()))

        entity_rows = []
        for i, slug in enumerate(compact.slugs):
            kind, stub = compact.kinds[i], bool(compact.stub[i])
            sc = scores.get(slug)
            name = compact.names[i] or slug
            licence = ", ".join(sorted(licences.get(i, ())))
            description = " ".join(descriptions.get(i, "").split())
            if len(description) > DESCRIPTION_LENGTH:
                description = description[:DESCRIPTION_LENGTH - 1].rstrip() + "…"
            entity_rows.append((i, slug, name, kind, stub, sc.rank if sc else 0.0, sc.adoption if sc else 0.0,
                                metrics.get((i, "downloads")), metrics.get((i, "likes")), licence or None,
                                description))
            for value in licences.get(i, ()):
                facets.append((i, "licence", value))
        return cls.from_rows(entity_rows, facets, labels, names, version)

    @classmethod
    def from_rows(cls, entities: Iterable[tuple[Any, ...]], facets: Iterable[tuple[int, str, str]],
                  labels: Mapping[tuple[str, str], str], names: Iterable[tuple[int, str]],
                  version: str) -> BrowseIndex:
        """An index of given rows (what :meth:`build` reads from a catalog; benchmarks make their own).

        Parameters
        ----------
        entities : iterable of tuples
            ``(i, slug, name, kind, stub, rank, adoption, downloads, likes, licence, description)``
            with ``i`` counting from 0.
        facets : iterable of (i, facet, value)
            Task, licence and library values (kind and status are added from the entities).
        labels : mapping of (facet, value) to str
            How values are shown.
        names : iterable of (i, text)
            Aliases and other names, lower case (names and slugs are added).
        version : str
            The catalog version the index belongs to.
        """
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        conn.executescript(_SCHEMA)
        facet_rows = list(facets)
        name_rows = list(names)
        rows = []
        for i, slug, name, kind, stub, rank, adoption, downloads, likes, licence, description in entities:
            rows.append((i, slug, name, name.lower(), kind, int(bool(stub)), rank, adoption, downloads, likes,
                         licence, description))
            facet_rows.append((i, "kind", kind or "unknown"))
            facet_rows.append((i, "status", "stub" if stub else "described"))
            name_rows.append((i, name.lower()))
            name_rows.append((i, slug))
        conn.executemany("INSERT INTO entity VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.executemany("INSERT INTO facet VALUES (?,?,?)", facet_rows)
        conn.executemany("INSERT INTO names VALUES (?,?)", name_rows)
        conn.executemany("INSERT OR IGNORE INTO label VALUES (?,?,?)",
                         [(f, v, lbl) for (f, v), lbl in labels.items()]
                         + [("status", "stub", "stub (named, not described)"), ("status", "described", "described"),
                            ("kind", "unknown", "none (stub)")])
        conn.executescript(_INDEXES)
        conn.commit()
        return cls(conn, version)

    # ------------------------------------------------------------------ asking
    def _where(self, state: BrowseState, skip: str | None = None) -> tuple[str, list[Any]]:
        clauses, args = [], []
        for facet, value in state.filters:
            if facet == skip:
                continue
            clauses.append("e.i IN (SELECT i FROM facet WHERE facet = ? AND value = ?)")
            args += [facet, value]
        if state.q:
            clauses.append("e.i IN (SELECT i FROM names WHERE instr(text, ?) > 0)")
            args.append(state.q.lower())
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args

    def query(self, state: BrowseState, *, per_page: int = PER_PAGE) -> BrowseResult:
        """One page of the list for ``state``, with facet counts.

        Each facet's counts apply every other filter (and the search), so choosing a value shows
        what the other values would give; a search ranks exact names, then prefixes, then the rest.
        """
        with self.lock:
            return self._query(state, per_page)

    def _query(self, state: BrowseState, per_page: int) -> BrowseResult:
        cur = self.conn.cursor()
        where, args = self._where(state)
        total = cur.execute(f"SELECT COUNT(*) FROM entity e{where}", args).fetchone()[0]
        catalog_total = cur.execute("SELECT COUNT(*) FROM entity").fetchone()[0]
        pages = max(1, -(-total // per_page))
        page = min(state.page, pages)
        state = replace(state, page=page)
        order = SORTS[state.sort][1]
        order_args: list[Any] = []
        if state.q:
            order = ("(SELECT MIN(CASE WHEN text = ? THEN 0 WHEN substr(text, 1, length(?)) = ? THEN 1 ELSE 2 END)"
                     " FROM names n WHERE n.i = e.i), " + order)
            order_args = [state.q.lower()] * 3
        rows = cur.execute(f"SELECT i, slug, name, kind, stub, rank, adoption, downloads, likes, licence, description"
                           f" FROM entity e{where} ORDER BY {order} LIMIT ? OFFSET ?",
                           args + order_args + [per_page, (page - 1) * per_page]).fetchall()
        out = self._rows(cur, rows)
        facets = {}
        for facet in FACETS:
            fwhere, fargs = self._where(state, skip=facet)
            sub = f"SELECT e.i FROM entity e{fwhere}"
            counted = cur.execute(
                f"SELECT f.value, COUNT(*) AS n, l.label FROM facet f LEFT JOIN label l"
                f" ON l.facet = f.facet AND l.value = f.value WHERE f.facet = ? AND f.i IN ({sub})"
                f" GROUP BY f.value ORDER BY n DESC, f.value LIMIT ?", [facet, *fargs, FACET_MAX]).fetchall()
            chosen = state.chosen.get(facet)
            values = [{"value": v, "label": lbl or v, "count": n, "chosen": v == chosen} for v, n, lbl in counted]
            if chosen is not None and not any(v["chosen"] for v in values):
                label = cur.execute("SELECT label FROM label WHERE facet = ? AND value = ?", [facet, chosen]).fetchone()
                values.insert(0, {"value": chosen, "label": label[0] if label else chosen, "count": 0, "chosen": True})
            facets[facet] = values
        return BrowseResult(state, out, total, catalog_total, pages, facets)

    def _rows(self, cur: sqlite3.Cursor, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        from ..scores import display

        ids = [r[0] for r in rows]
        extra: dict[int, dict[str, list[str]]] = {}
        if ids:
            marks = ",".join("?" * len(ids))
            for i, facet, label in cur.execute(
                    f"SELECT f.i, f.facet, COALESCE(l.label, f.value) FROM facet f LEFT JOIN label l"
                    f" ON l.facet = f.facet AND l.value = f.value WHERE f.facet IN ('task', 'library')"
                    f" AND f.i IN ({marks}) ORDER BY f.i, f.facet, 3", ids):
                extra.setdefault(i, {}).setdefault(facet, []).append(label)
        out = []
        for i, slug, name, kind, stub, rank, adoption, downloads, likes, licence, description in rows:
            tasks = extra.get(i, {}).get("task", [])
            libraries = extra.get(i, {}).get("library", [])
            out.append({"id": slug, "name": name, "kind": kind, "stub": bool(stub), "rank": display(rank),
                        "adoption": display(adoption), "downloads": fmt_count(downloads), "likes": fmt_count(likes),
                        "licence": licence, "description": description, "tasks": tasks[:3],
                        "more_tasks": max(0, len(tasks) - 3), "libraries": libraries[:3],
                        "more_libraries": max(0, len(libraries) - 3)})
        return out

    def data(self, links: Any) -> dict[str, Any]:
        """Every entity as rows of columns, for the static site's client-side list (``browse-data.js``).

        Each entity: slug, name, kind, stub, rank and adoption as shown, rank and adoption as
        computed (to sort), downloads and its text, likes and its text, licence, description,
        facet value codes by facet, lower-case names and aliases, page link (``browse.js`` reads
        them by these positions).
        """
        from ..scores import display

        with self.lock:
            cur = self.conn.cursor()
            entities = cur.execute("SELECT i, slug, name, kind, stub, rank, adoption, downloads, likes, licence,"
                                   " description FROM entity ORDER BY i").fetchall()
            values: dict[str, list[str]] = {f: [] for f in FACETS}
            codes: dict[str, dict[str, int]] = {f: {} for f in FACETS}
            per_entity: list[dict[str, list[int]]] = [{} for _ in entities]
            for i, facet, value in cur.execute("SELECT i, facet, value FROM facet ORDER BY i, facet, value"):
                code = codes[facet].setdefault(value, len(values[facet]))
                if code == len(values[facet]):
                    values[facet].append(value)
                per_entity[i].setdefault(facet, []).append(code)
            labels = {(f, v): lbl for f, v, lbl in cur.execute("SELECT facet, value, label FROM label")}
            names: dict[int, set[str]] = {}
            for i, text in cur.execute("SELECT i, text FROM names"):
                names.setdefault(i, set()).add(text)
        return {"facets": list(FACETS), "values": values,
                "labels": {f: [labels.get((f, v), v) for v in values[f]] for f in FACETS},
                "entities": [[slug, name, kind, bool(stub), display(rank), display(adoption), rank, adoption,
                              downloads, fmt_count(downloads), likes, fmt_count(likes), licence, description,
                              per_entity[i], sorted(names.get(i, ())), links.entity(slug)]
                             for i, slug, name, kind, stub, rank, adoption, downloads, likes, licence, description
                             in entities]}


def browse_data_script(index: BrowseIndex, links: Any) -> str:
    """``browse-data.js``: the index's data as a script setting ``window.MATCHGRAPH_BROWSE``."""
    from jinja2.utils import htmlsafe_json_dumps

    return f"window.MATCHGRAPH_BROWSE = {htmlsafe_json_dumps(index.data(links))};\n"


def _pages_around(page: int, pages: int) -> list[int | None]:
    """Page numbers to link: the first, the last and two either side of ``page`` (None: a gap)."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    out: list[int | None] = []
    for p in shown:
        if out and out[-1] is not None and p - out[-1] > 1:  # type: ignore[operator]
            out.append(None)
        out.append(p)
    return out


def render_browse(ctx: Any, result: BrowseResult, *, static: bool = False) -> str:
    """The home page: the list of ``result`` with its facets, sort links, paging and search box.

    Parameters
    ----------
    ctx : matchgraph.site.PageContext
    result : BrowseResult
    static : bool
        A static site's page: ``browse.js`` re-renders it in the browser from ``browse-data.js``
        for any state in the URL.
    """
    base = ctx.links.index() or ""

    def url(state: BrowseState) -> str:
        return base + state.query_string()

    state = result.state
    return ctx.render("index.j2", title="Entities", result=result, state=state, url=url, facets=FACETS,
                      sorts={k: v[0] for k, v in SORTS.items()}, pages=_pages_around(state.page, result.pages),
                      shown=FACET_SHOWN, static=static, per_page=PER_PAGE)
