"""The catalog list people browse: facets with counts, sort, paging and a name or alias search.

A :class:`BrowseIndex` is built once per catalog version from the compact projection, the stored
scores and a few bulk queries, into numpy arrays (facet memberships, one permutation per sort
order); every page is then a mask, a ``bincount`` per facet and one page of a permutation, a few
milliseconds at 100,000 entities, and nothing renders the whole catalog. The same index writes ``browse-data.js`` for the static
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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import numpy as np

from ..store.catalog import Catalog
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


class BrowseIndex:
    """The catalog list of one catalog version, as arrays (read-only once built: thread-safe).

    Every entity is a position ``i``; each facet is two parallel arrays (entity, value code); each
    sort order is a permutation computed once. A page is then a boolean mask (the filters), one
    ``bincount`` per facet and the first positions of a permutation that pass the mask: a few
    milliseconds at 100,000 entities. Build it with :meth:`build` (or :meth:`from_rows`); ask it
    with :meth:`query`.
    """

    def __init__(self, version: str) -> None:
        self.version = version

    # ------------------------------------------------------------------ building
    @classmethod
    def build(cls, catalog: Catalog) -> BrowseIndex:
        """Read the catalog's entities, scores and facets into a new index.

        Uses the compact projection and the stored scores (:func:`matchgraph.graph.scores.load_scores`,
        computed only when the data changed) and five bulk queries.
        """
        from ..matching.classify import concept_labels
        from ..graph.derived import load_compact
        from ..graph.rows import select_values
        from ..graph.scores import load_scores

        version = catalog.version
        compact = load_compact(catalog)
        scores = load_scores(catalog, factors=False)
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
        self = cls(version)
        rows = sorted(entities, key=lambda r: r[0])
        n = len(rows)
        self.n = n
        self.slugs = [r[1] for r in rows]
        self.names = [r[2] for r in rows]
        self.kinds = [r[3] for r in rows]
        self.stub = np.array([bool(r[4]) for r in rows], dtype=bool)
        self.rank = np.array([float(r[5] or 0.0) for r in rows])
        self.adoption = np.array([float(r[6] or 0.0) for r in rows])
        self.downloads = np.array([np.nan if r[7] is None else float(r[7]) for r in rows])
        self.likes = np.array([np.nan if r[8] is None else float(r[8]) for r in rows])
        self.licences = [r[9] for r in rows]
        self.descriptions = [r[10] for r in rows]
        pairs: dict[str, set[tuple[int, str]]] = {f: set() for f in FACETS}
        for i, facet, value in facets:
            pairs[facet].add((int(i), str(value)))
        for i, kind in enumerate(self.kinds):
            pairs["kind"].add((i, kind or "unknown"))
            pairs["status"].add((i, "stub" if self.stub[i] else "described"))
        all_labels = dict(labels)
        all_labels.update({("status", "stub"): "stub (named, not described)", ("status", "described"): "described",
                           ("kind", "unknown"): "none (stub)"})
        self.values: dict[str, list[str]] = {}
        self.labels: dict[str, list[str]] = {}
        self.codes: dict[str, dict[str, int]] = {}
        self.facet_entity: dict[str, np.ndarray] = {}
        self.facet_value: dict[str, np.ndarray] = {}
        self.value_order: dict[str, np.ndarray] = {}
        for facet in FACETS:
            values = sorted({v for _, v in pairs[facet]})
            codes = {v: c for c, v in enumerate(values)}
            ordered = sorted(pairs[facet])
            self.values[facet] = values
            self.codes[facet] = codes
            self.labels[facet] = [all_labels.get((facet, v), v) for v in values]
            self.facet_entity[facet] = np.array([i for i, _ in ordered], dtype=np.int64)
            self.facet_value[facet] = np.array([codes[v] for _, v in ordered], dtype=np.int64)
            self.value_order[facet] = np.arange(len(values))  # values are sorted: code order is value order
        self.tags: list[dict[str, list[str]]] = [{} for _ in range(n)]
        for facet in ("task", "library"):
            for i, c in zip(self.facet_entity[facet].tolist(), self.facet_value[facet].tolist()):
                self.tags[i].setdefault(facet, []).append(self.labels[facet][c])
        for tag in self.tags:
            for labels_ in tag.values():
                labels_.sort()
        texts: dict[int, set[str]] = {i: {self.names[i].lower(), self.slugs[i]} for i in range(n)}
        for i, text in names:
            texts.setdefault(int(i), set()).add(str(text).lower())
        self.name_texts = [sorted(texts.get(i, ())) for i in range(n)]
        self._texts = [t for ts in self.name_texts for t in ts]
        self._text_entity = np.array([i for i, ts in enumerate(self.name_texts) for _ in ts], dtype=np.int64)
        by_name = sorted(range(n), key=lambda i: (self.names[i].lower(), self.slugs[i]))
        name_pos = np.empty(n, dtype=np.int64)
        name_pos[by_name] = np.arange(n)
        self.name_pos = name_pos
        missing_d, missing_l = np.isnan(self.downloads), np.isnan(self.likes)
        d = np.where(missing_d, 0.0, self.downloads)
        lk = np.where(missing_l, 0.0, self.likes)
        self.orders = {  # np.lexsort: the last key sorts first
            "rank": np.lexsort((name_pos, -self.rank)),
            "adoption": np.lexsort((name_pos, -self.rank, -self.adoption)),
            "downloads": np.lexsort((name_pos, -self.rank, -d, missing_d)),
            "likes": np.lexsort((name_pos, -self.rank, -lk, missing_l)),
            "name": np.argsort(name_pos, kind="stable"),
        }
        self._base_counts: dict[str, list[tuple[str, int, str]]] = {}
        return self

    # ------------------------------------------------------------------ asking
    def _member(self, facet: str, value: str) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        code = self.codes[facet].get(value)
        if code is not None:
            mask[self.facet_entity[facet][self.facet_value[facet] == code]] = True
        return mask

    def _hits(self, q: str) -> tuple[np.ndarray, np.ndarray]:
        """Entities with a name, alias or id holding ``q`` (mask), and how well: 0 exact, 1 prefix, 2 inside."""
        texts = self._texts
        found = [k for k, t in enumerate(texts) if q in t]
        quality = np.full(self.n, 3, dtype=np.int8)
        if found:
            how = np.array([0 if texts[k] == q else 1 if texts[k].startswith(q) else 2 for k in found], dtype=np.int8)
            np.minimum.at(quality, self._text_entity[found], how)
        return quality < 3, quality

    def query(self, state: BrowseState, *, per_page: int = PER_PAGE) -> BrowseResult:
        """One page of the list for ``state``, with facet counts.

        Each facet's counts apply every other filter (and the search), so choosing a value shows
        what the other values would give; a search ranks exact names, then prefixes, then the rest.
        """
        members = {facet: self._member(facet, value) for facet, value in state.filters}
        hits, quality = self._hits(state.q.lower()) if state.q else (None, None)

        def selected(skip: str | None = None) -> np.ndarray | None:
            mask = None
            for facet, member in members.items():
                if facet != skip:
                    mask = member.copy() if mask is None else mask & member
            if hits is not None:
                mask = hits.copy() if mask is None else mask & hits
            return mask

        mask = selected()
        total = self.n if mask is None else int(mask.sum())
        pages = max(1, -(-total // per_page))
        state = replace(state, page=min(state.page, pages))
        order = self.orders[state.sort]
        chosen = order if mask is None else order[mask[order]]
        if quality is not None:
            chosen = chosen[np.argsort(quality[chosen], kind="stable")]
        page_ids = chosen[(state.page - 1) * per_page: state.page * per_page].tolist()
        facets = {facet: self._counts(facet, selected(facet), state.chosen.get(facet)) for facet in FACETS}
        return BrowseResult(state, self._rows(page_ids), total, self.n, pages, facets)

    def _counts(self, facet: str, mask: np.ndarray | None, chosen: str | None) -> list[dict[str, Any]]:
        entity, value = self.facet_entity[facet], self.facet_value[facet]
        if mask is None and facet in self._base_counts:
            top = self._base_counts[facet]
        else:
            counts = np.bincount(value if mask is None else value[mask[entity]], minlength=len(self.values[facet]))
            present = np.flatnonzero(counts)
            best = present[np.lexsort((present, -counts[present]))][:FACET_MAX]
            top = [(self.values[facet][c], int(counts[c]), self.labels[facet][c]) for c in best.tolist()]
            if mask is None:
                self._base_counts[facet] = top
        values = [{"value": v, "label": lbl, "count": n, "chosen": v == chosen} for v, n, lbl in top]
        if chosen is not None and not any(v["chosen"] for v in values):
            code = self.codes[facet].get(chosen)
            label = self.labels[facet][code] if code is not None else chosen
            values.insert(0, {"value": chosen, "label": label, "count": 0, "chosen": True})
        return values

    def _rows(self, ids: list[int]) -> list[dict[str, Any]]:
        from ..graph.scoring import display

        out = []
        for i in ids:
            tasks = self.tags[i].get("task", [])
            libraries = self.tags[i].get("library", [])
            downloads = None if np.isnan(self.downloads[i]) else float(self.downloads[i])
            likes = None if np.isnan(self.likes[i]) else float(self.likes[i])
            out.append({"id": self.slugs[i], "name": self.names[i], "kind": self.kinds[i], "stub": bool(self.stub[i]),
                        "rank": display(float(self.rank[i])), "adoption": display(float(self.adoption[i])),
                        "downloads": fmt_count(downloads), "likes": fmt_count(likes), "licence": self.licences[i],
                        "description": self.descriptions[i], "tasks": tasks[:3], "more_tasks": max(0, len(tasks) - 3),
                        "libraries": libraries[:3], "more_libraries": max(0, len(libraries) - 3)})
        return out

    def data(self, links: Any) -> dict[str, Any]:
        """Every entity as rows of columns, for the static site's client-side list (``browse-data.js``).

        Each entity: slug, name, kind, stub, rank and adoption as shown, rank and adoption as
        computed (to sort), downloads and its text, likes and its text, licence, description,
        facet value codes by facet, lower-case names and aliases, page link (``browse.js`` reads
        them by these positions).
        """
        from ..graph.scoring import display

        per_entity: list[dict[str, list[int]]] = [{} for _ in range(self.n)]
        for facet in FACETS:
            for i, c in zip(self.facet_entity[facet].tolist(), self.facet_value[facet].tolist()):
                per_entity[i].setdefault(facet, []).append(c)
        entities = []
        for i in range(self.n):
            downloads = None if np.isnan(self.downloads[i]) else float(self.downloads[i])
            likes = None if np.isnan(self.likes[i]) else float(self.likes[i])
            entities.append([self.slugs[i], self.names[i], self.kinds[i], bool(self.stub[i]),
                             display(float(self.rank[i])), display(float(self.adoption[i])), float(self.rank[i]),
                             float(self.adoption[i]), downloads, fmt_count(downloads), likes, fmt_count(likes),
                             self.licences[i], self.descriptions[i], per_entity[i], self.name_texts[i],
                             links.entity(self.slugs[i])])
        return {"facets": list(FACETS), "values": self.values, "labels": self.labels, "entities": entities}


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
    ctx : matchgraph.web.site.PageContext
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
