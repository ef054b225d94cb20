"""The catalog's HTML pages, served live (:mod:`matchgraph.web.server`) or written as a static site.

One set of jinja2 templates (``matchgraph/templates``, autoescaped) renders every page; a
:class:`PageContext` says where links point and how scripts are loaded:

- the server links ``/entity/{id}`` and loads ``/static/*.js``;
- the static site (:func:`build_site`) writes ``entity/{id}.html`` (with ``.ttl``, ``.jsonld`` and
  ``.nt`` beside it), ``compare/{a}--{b}.html``, ``index.html`` and ``graph.html`` with relative
  links, the scripts once under ``static/``, and the catalog list's data as ``browse-data.js``
  loaded with a ``<script>`` tag, so the site works from ``file://`` as well as from any static host.

Examples
--------
>>> report = build_site(Catalog("cat"), "site")          # doctest: +SKIP
>>> report.entities, report.compares                     # doctest: +SKIP
(58, 61)
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import networkx as nx
from markupsafe import Markup
from rdflib import Literal, URIRef

from ..store.catalog import Catalog
from ..errors import EntityNotFound, MatchgraphError
from ..export.html import Assets, Links, environment, graph_view
from ..graph.progress import ProgressCallback
from ..graph.resolve import EntityRef, resolve_entity
from ..vocab import ID, KIND_OF_CLASS, RELATIONS, entity_iri, is_slug, slug_of

__all__ = ["PageContext", "SiteLinks", "SiteReport", "build_site", "entity_details", "render_entity", "render_compare", "render_match", "render_index",
           "render_graph", "render_query_page", "render_not_found", "render_error", "server_assets"]

#: Compare pages written for each entity: with this many closest neighbours.
COMPARE_NEIGHBOURS = 3
#: Neighbours listed on an entity page.
PAGE_NEIGHBOURS = 10
#: Entities whose graph views are drawn with the whole neighbourhood at depth 1.
GRAPH_DEPTH = 1
SCORE_LABELS = (("rank", "Rank"), ("adoption", "Adoption"), ("quality", "Quality"),
                ("ecosystem", "Ecosystem"), ("match_graph", "Match graph"))
RELATION_LABELS = {"derivedFrom": ("derived from", "source of"), "trainedOn": ("trained on", "training data of"),
                   "subsetOf": ("subset of", "has subset"), "integratesWith": ("integrates with", "integrated by"),
                   "supportsFormat": ("supports format", "format supported by"),
                   "evaluatedOn": ("evaluated on", "evaluates"), "supersededBy": ("superseded by", "supersedes"),
                   "implements": ("implements", "implemented by"), "usesMethod": ("uses method", "method used by"),
                   "alternativeTo": ("alternative to", "alternative to")}


def server_assets() -> Assets:
    """Scripts and style linked from the server's ``/static/``."""
    return Assets("/static/")


class SiteLinks(Links):
    """Relative links between static pages.

    Parameters
    ----------
    prefix : str
        Climbs from the page's folder to the site root (``""``, ``"../"``).
    pairs : iterable of (str, str), optional
        The pairs of slugs (each in sorted order) that have a compare page; None when every pair
        has one.
    """

    def __init__(self, prefix: str = "", pairs: Iterable[tuple[str, str]] | None = None) -> None:
        self.prefix = prefix
        self.pairs = None if pairs is None else frozenset(pairs)
        partners: dict[str, set[str]] = {}
        for a, b in self.pairs or ():
            partners.setdefault(a, set()).add(b)
            partners.setdefault(b, set()).add(a)
        self._partners = {slug: sorted(others) for slug, others in partners.items()}

    def entity(self, slug: str) -> str:
        """``entity/{slug}.html``"""
        return f"{self.prefix}entity/{quote(slug, safe='')}.html"

    def compare(self, a: str, b: str) -> str | None:
        """``compare/{a}--{b}.html`` (the pair in sorted order: one page per pair); None when not written."""
        first, second = sorted((a, b))
        if self.pairs is not None and (first, second) not in self.pairs:
            return None
        return f"{self.prefix}compare/{quote(first, safe='')}--{quote(second, safe='')}.html"

    def compare_partners(self, slug: str) -> list[str]:
        """The entities that compare pages pair with ``slug``, in order."""
        return list(self._partners.get(slug, ()))

    def index(self) -> str:
        """``index.html``"""
        return f"{self.prefix}index.html"

    def entity_data(self, slug: str, key: str) -> str:
        """``entity/{slug}.ttl`` (``.jsonld``, ``.nt``)"""
        from .linked import FORMATS

        return f"{self.prefix}entity/{quote(slug, safe='')}{FORMATS[key][1]}"

    def browse_data(self) -> str:
        """``browse-data.js``"""
        return f"{self.prefix}browse-data.js"

    def graph(self) -> str:
        """``graph.html``"""
        return f"{self.prefix}graph.html"


@dataclass
class PageContext:
    """What every page render needs: the catalog, where links point, how assets load.

    Derived data (projection, scores) is loaded once per context and reused by every page.
    """

    catalog: Catalog
    links: Links
    assets: Assets
    _cache: dict[str, Any] = field(default_factory=dict)

    def provide(self, key: str, value: Any) -> None:
        """Hand the context derived data someone else keeps (the server's per-version browse index)."""
        self._cache[key] = value

    def _get(self, key: str, load: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    @property
    def projection(self) -> nx.MultiDiGraph:
        """The catalog's projection (entities and typed, weighted edges)."""
        from ..graph.derived import load_projection

        return self._get("projection", lambda: load_projection(self.catalog))

    @property
    def scores(self) -> dict[str, Any]:
        """Every entity's scores, without their factors (cheap at any catalog size)."""
        from ..graph.scores import load_scores

        return self._get("scores", lambda: load_scores(self.catalog, factors=False))

    def scores_with_factors(self, slug: str) -> Any:
        """One entity's scores with the factors that explain each (None for an unknown entity).

        Built for that entity alone, unless :meth:`prepare_factors` built them for many at once.
        """
        factored: dict[str, Any] = self._cache.setdefault("factored", {})
        if slug not in factored:
            self.prepare_factors([slug])
        return factored.get(slug)

    def prepare_factors(self, slugs: list[str]) -> None:
        """Build the factors of many entities in one pass (the static site's entity pages)."""
        from ..graph.scores import scores_for

        factored: dict[str, Any] = self._cache.setdefault("factored", {})
        wanted = [s for s in slugs if s not in factored]
        if wanted:
            found = scores_for(self.catalog, wanted)
            factored.update({s: found.get(s) for s in wanted})

    def entity(self, text: str, *, suggest: bool = True) -> EntityRef:
        """The entity ``text`` names: a node of the projection directly, else resolved (names, aliases).

        Names are looked up in the ``"lookup"`` handed over with :meth:`provide` (the server's
        :class:`~matchgraph.graph.resolve.CachedLookup` of this version), else in the store.

        Parameters
        ----------
        text : str
            A slug, name, alias or IRI.
        suggest : bool
            Find the closest candidates when nothing answers (see :func:`resolve_entity`).

        Raises
        ------
        EntityNotFound
            Nothing answers to ``text`` (with the closest candidates when ``suggest``).
        """
        row = self.rows.get(text)
        if row is not None:
            compact = self.compact
            return EntityRef(text, entity_iri(text), str(compact.names[row] or text), compact.kinds[row],
                             bool(compact.stub[row]))
        return resolve_entity(self.catalog, text, lookup=self._cache.get("lookup"), suggest=suggest)

    @property
    def compact(self) -> Any:
        """The catalog's projection as arrays (:func:`matchgraph.graph.derived.load_compact`)."""
        from ..graph.derived import load_compact

        return self._get("compact", lambda: load_compact(self.catalog))

    @property
    def rows(self) -> dict[str, int]:
        """Slug -> row of :attr:`compact` (every entity of the projection)."""
        return self._get("rows", lambda: self.compact.index_of())

    @property
    def graph_index(self) -> Any:
        """What graph views are chosen from (:class:`matchgraph.web.graphview.GraphIndex`)."""
        from .graphview import GraphIndex

        return self._get("graph_index", lambda: GraphIndex(self.catalog, self.scores))

    @property
    def browse(self) -> Any:
        """The catalog list's index (:class:`matchgraph.web.browse.BrowseIndex`) of this version."""
        from .browse import BrowseIndex

        return self._get("browse", lambda: BrowseIndex.build(self.catalog))

    @property
    def version(self) -> str:
        """The catalog version shown in the footer."""
        return self._get("version", lambda: self.catalog.version)

    def render(self, template: str, **values: Any) -> str:
        """Render a template with the shared values (links, assets, version)."""
        values.setdefault("need", "")
        return environment().get_template(template).render(
            links=self.links, assets=self.assets, version=self.version, standalone=False, **values)


# ---------------------------------------------------------------------- reading the catalog
def _py(value: Any) -> Any:
    if isinstance(value, Literal):
        return value.toPython()
    return None if value is None else str(value)


def _slug(term: Any) -> str | None:
    if not isinstance(term, URIRef) or not str(term).startswith(str(ID)):
        return None
    slug = slug_of(str(term))
    return slug if is_slug(slug) else None


def _safe_url(value: Any) -> str | None:
    """Only http(s) URLs become links (a card's ``url: javascript:...`` stays text)."""
    text = str(value) if value is not None else ""
    return text if urlsplit(text).scheme in ("http", "https") else None


def _about(catalog: Catalog, sparql: str, iri: URIRef) -> list[tuple[Any, ...]]:
    """Rows of a ``SELECT ?e ...`` query about the entity ``iri`` (bound to ``?e``), without ``?e``.

    The bound variable is projected because Oxigraph substitutes only projected variables.
    """
    return [row[1:] for row in catalog.rows(sparql, {"e": iri})]


def _entity_facts(catalog: Catalog, iri: URIRef) -> dict[str, Any] | None:
    rows = _about(catalog, """SELECT ?e ?p ?o WHERE { ?e a mg:Entity . ?e ?p ?o .
        VALUES ?p { rdf:type schema:name schema:alternateName dcterms:description dcterms:license schema:url
                    mg:pricing mg:isStub mg:declaredCapabilityCount } }""", iri)
    if not rows:
        return None
    by: dict[str, list[Any]] = {}
    for p, o in rows:
        by.setdefault(str(p).rsplit("#", 1)[-1].rsplit("/", 1)[-1], []).append(o)
    kinds = sorted(KIND_OF_CLASS[c] for c in by.get("type", []) if c in KIND_OF_CLASS)
    slug = slug_of(str(iri))
    url = next(iter(by.get("url", [])), None)
    return {"id": slug, "iri": str(iri), "name": str(next(iter(by.get("name", [])), slug)),
            "kind": kinds[0] if kinds else None,
            "stub": any(bool(_py(v)) for v in by.get("isStub", [])) and not kinds,
            "aliases": sorted({str(a) for a in by.get("alternateName", [])}),
            "description": str(next(iter(by.get("description", [])), "")),
            "license": ", ".join(sorted(str(v) for v in by.get("license", []))) or None,
            "url": str(url) if url is not None else None, "url_link": _safe_url(url),
            "pricing": ", ".join(sorted(str(v) for v in by.get("pricing", []))) or None,
            "declared_capabilities": _py(next(iter(by.get("declaredCapabilityCount", [])), None))}


def _names(catalog: Catalog, iris: Iterable[URIRef]) -> dict[str, str]:
    iris = sorted(set(iris))
    out: dict[str, str] = {}
    for i in range(0, len(iris), 400):
        values = " ".join(i_.n3() for i_ in iris[i:i + 400])
        for e, name in catalog.rows(f"SELECT ?e ?n WHERE {{ VALUES ?e {{ {values} }} ?e schema:name ?n }}"):
            out.setdefault(str(e), str(name))
    return out


def _ref(iri: Any, names: dict[str, str]) -> dict[str, Any]:
    slug = _slug(iri)
    return {"id": slug, "name": names.get(str(iri), slug or str(iri))}


def _capabilities(catalog: Catalog, iri: URIRef) -> list[dict[str, Any]]:
    from ..matching.classify import concept_labels

    rows = _about(catalog, """SELECT ?e ?c ?pos ?title ?desc ?concept WHERE { ?e mg:hasCapability ?c .
        OPTIONAL { ?c mg:position ?pos } OPTIONAL { ?c schema:name ?title }
        OPTIONAL { ?c dcterms:description ?desc } OPTIONAL { ?c mg:concept ?concept } }""", iri)
    caps: dict[str, dict[str, Any]] = {}
    for c, pos, title, desc, concept in rows:
        cap = caps.setdefault(str(c), {"iri": str(c), "position": _py(pos), "title": str(title or ""),
                                        "description": str(desc or ""), "concepts": [], "claims": []})
        if concept is not None:
            slug = str(concept).rsplit("/", 1)[-1]
            label = (concept_labels(slug) or [slug.replace("-", " ")])[0]
            if label not in cap["concepts"]:
                cap["concepts"].append(label)
    claims = _claims(catalog, iri)
    for cap_iri, claim in claims:
        if cap_iri in caps:
            caps[cap_iri]["claims"].append(claim)
    for cap in caps.values():
        cap["concepts"].sort()
        cap["claims"].sort(key=lambda c: (c["type"] != "unique", c["text"]))
    return sorted(caps.values(), key=lambda c: (c["position"] if c["position"] is not None else 10**9, c["title"]))


def _claims(catalog: Catalog, iri: URIRef) -> list[tuple[str, dict[str, Any]]]:
    rows = _about(catalog, """SELECT ?e ?c ?cl ?type ?text WHERE { ?e mg:hasCapability ?c . ?c mg:hasClaim ?cl .
        ?cl a ?type . FILTER(?type IN (mg:UniqueClaim, mg:AlternativeClaim)) OPTIONAL { ?cl schema:text ?text } }""",
                        iri)
    links = _about(catalog, """SELECT ?e ?cl ?p ?x WHERE { ?e mg:hasCapability/mg:hasClaim ?cl .
        VALUES ?p { schema:mentions mg:namesAlternative mg:aspect } ?cl ?p ?x }""", iri)
    names = _names(catalog, [x for _, p, x in links if _slug(x)])
    named: dict[str, list[dict[str, Any]]] = {}
    aspects: dict[str, list[str]] = {}
    for cl, p, x in links:
        if str(p).endswith("aspect"):
            aspects.setdefault(str(cl), []).append(str(x).rsplit("/", 1)[-1])
        elif _slug(x):
            named.setdefault(str(cl), []).append(_ref(x, names))
    out = []
    for c, cl, kind, text in rows:
        out.append((str(c), {"type": "unique" if str(kind).endswith("UniqueClaim") else "alternative",
                             "text": str(text or ""),
                             "entities": sorted(named.get(str(cl), []), key=lambda r: r["name"].lower()),
                             "aspects": sorted(set(aspects.get(str(cl), [])))}))
    return out


#: Rows an entity page reads per list at most: the hub of a large catalog is named or related by
#: thousands (76k rows for one hub of the 100k synthetic catalog); the page says how many it left out.
LIST_LIMIT = 500


def _relations(catalog: Catalog, iri: URIRef) -> tuple[list[dict[str, Any]], int]:
    """The entity's stated relations grouped by kind and direction, and how many were left out."""
    values = " ".join(p.n3() for p in RELATIONS.values())
    patterns = (f"VALUES ?p {{ {values} }} ?e ?p ?x . ?x a mg:Entity", f"VALUES ?p {{ {values} }} ?x ?p ?e . ?x a mg:Entity")
    out_rows, in_rows = (_about(catalog, f"SELECT ?e ?p ?x WHERE {{ {pattern} }} LIMIT {LIST_LIMIT}", iri)
                         for pattern in patterns)
    left_out = 0
    for rows, pattern in zip((out_rows, in_rows), patterns):
        if len(rows) >= LIST_LIMIT:
            total = _about(catalog, f"SELECT ?e (COUNT(*) AS ?n) WHERE {{ {pattern} }} GROUP BY ?e", iri)
            left_out += int(total[0][0]) - len(rows) if total else 0
    names = _names(catalog, [x for _, x in out_rows + in_rows])
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rows, direction in ((out_rows, 0), (in_rows, 1)):
        for p, x in rows:
            key = str(p).rsplit("#", 1)[-1]
            label = RELATION_LABELS.get(key, (key, key + " (inverse)"))[direction]
            ref = _ref(x, names)
            if ref not in groups.setdefault((label, key), []):
                groups[(label, key)].append(ref)
    return [{"label": label, "relation": key, "entities": sorted(refs, key=lambda r: r["name"].lower())}
            for (label, key), refs in sorted(groups.items())], left_out


def _named_by(catalog: Catalog, iri: URIRef) -> tuple[list[dict[str, Any]], int]:
    """The entities whose claims name this one (at most :data:`LIST_LIMIT`), and how many more do."""
    pattern = """?x mg:hasCapability/mg:hasClaim ?cl .
        { ?cl schema:mentions ?e } UNION { ?cl mg:namesAlternative ?e } FILTER(?x != ?e)"""
    rows = _about(catalog, f"SELECT DISTINCT ?e ?x WHERE {{ {pattern} }} LIMIT {LIST_LIMIT}", iri)
    left_out = 0
    if len(rows) >= LIST_LIMIT:
        total = _about(catalog, f"SELECT ?e (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }} GROUP BY ?e", iri)
        left_out = int(total[0][0]) - len(rows) if total else 0
    names = _names(catalog, [x for (x,) in rows])
    return sorted((_ref(x, names) for (x,) in rows), key=lambda r: r["name"].lower()), left_out


def _figures(catalog: Catalog, iri: URIRef) -> dict[str, list[dict[str, Any]]]:
    metrics = _about(catalog, """SELECT ?e ?n ?v WHERE { ?e mg:hasMetric ?m . ?m mg:metricName ?n ; schema:value ?v }
        ORDER BY ?n""", iri)
    observed = _about(catalog, """SELECT ?e ?f ?v WHERE { ?o mg:observedEntity ?e ; mg:observedField ?f ; schema:value ?v }
        ORDER BY ?f ?v""", iri)
    results = _about(catalog, """SELECT ?e ?b ?metric ?v WHERE { ?e mg:hasResult ?r . ?r mg:onBenchmark ?b .
        OPTIONAL { ?r mg:metric ?metric } OPTIONAL { ?r schema:value ?v } }""", iri)
    names = _names(catalog, [b for b, _, _ in results])
    return {"metrics": [{"name": str(n).replace("_", " "), "value": _py(v)} for n, v in metrics],
            "observations": [{"field": str(f), "value": str(v)} for f, v in observed],
            "results": sorted(({"benchmark": _ref(b, names), "metric": str(m or ""), "value": _py(v)}
                               for b, m, v in results), key=lambda r: (r["benchmark"]["name"], r["metric"]))}


def entity_details(catalog: Catalog, slug: str) -> dict[str, Any]:
    """Everything an entity page shows that the catalog states directly.

    Parameters
    ----------
    catalog : Catalog
    slug : str
        The entity's id.

    Returns
    -------
    dict
        ``id``, ``name``, ``kind``, ``stub``, ``aliases``, ``description``, ``license``, ``url``,
        ``pricing``, ``capabilities`` (with their claims), ``relations`` (both directions),
        ``named_by``, ``relations_left_out`` and ``named_by_left_out`` (rows past
        :data:`LIST_LIMIT`, not listed), ``metrics``, ``observations`` and ``results``.

    Raises
    ------
    EntityNotFound
        No entity has this id.

    Examples
    --------
    >>> entity_details(cat, "the-pile")["capabilities"][0]["title"]          # doctest: +SKIP
    'Multi-domain corpus built from 22 sources'
    """
    iri = entity_iri(slug)
    facts = _entity_facts(catalog, iri)
    if facts is None:
        resolve_entity(catalog, slug)  # raises EntityNotFound with the closest candidates
        raise EntityNotFound(slug)
    facts["capabilities"] = _capabilities(catalog, iri)
    facts["relations"], facts["relations_left_out"] = _relations(catalog, iri)
    facts["named_by"], facts["named_by_left_out"] = _named_by(catalog, iri)
    facts.update(_figures(catalog, iri))
    return facts


def _plain(value: Any) -> Any:
    """A JSON-like view of a result object (dataclass, ``to_dict()``, mapping or plain value)."""
    if hasattr(value, "to_dict"):
        return _plain(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


def _entity_scores(ctx: PageContext, slug: str) -> dict[str, Any] | None:
    """Rank and sub-scores with the factors that explain each (:func:`matchgraph.graph.scores.scores_for`)."""
    scores = ctx.scores_with_factors(slug)
    if scores is None:
        return None
    factors = _plain(scores.factors)
    return {"values": [{"key": key, "label": label, "value": getattr(scores, key)} for key, label in SCORE_LABELS],
            "times_matched": scores.times_matched,
            "factors": [(label, factors[key]) for key, label in SCORE_LABELS if factors.get(key)]
            + [(key.replace("_", " ").capitalize(), items) for key, items in sorted(factors.items())
               if key not in dict(SCORE_LABELS) and items]}


def _neighbour_list(ctx: PageContext, slug: str, limit: int) -> list[dict[str, Any]]:
    """The closest entities (:func:`matchgraph.graph.neighbours.neighbours`) as dicts, strongest first."""
    from ..graph.neighbours import neighbours

    return [n.to_dict() for n in neighbours(ctx.catalog, ctx.entity(slug), depth=1, limit=limit) if n.slug != slug]


def entity_graph(ctx: PageContext, slug: str, *, depth: int = GRAPH_DEPTH) -> dict[str, Any]:
    """The graph view around one entity: its nearest (at most 150) within ``depth`` hops."""
    from .graphview import select_view

    view = select_view(ctx.catalog, center=slug, depth=depth, index=ctx.graph_index)
    data = graph_view(view.graph, catalog=ctx.catalog, links=ctx.links, center=view.center)
    data["summary"] = view.summary()
    return data


# ---------------------------------------------------------------------- pages
def render_entity(ctx: PageContext, slug: str) -> str:
    """The page of one entity: facts, capabilities with claims, scores with why, neighbours, graph.

    Examples
    --------
    >>> html = render_entity(PageContext(cat, SiteLinks("../"), Assets("../static/")), "the-pile")  # doctest: +SKIP
    """
    entity = entity_details(ctx.catalog, slug)
    neighbours = _neighbour_list(ctx, slug, PAGE_NEIGHBOURS)
    compares = [ctx.entity(other).to_dict() for other in ctx.links.compare_partners(slug)]
    from .history import entity_history, history_chart
    from .linked import FORMATS as LINKED_FORMATS

    return ctx.render("entity.j2", history=history_chart(entity_history(ctx.catalog, slug)), title=entity["name"], entity=entity, scores=_entity_scores(ctx, slug),
                      linked_formats=[(k, label) for k, (_, _, label) in LINKED_FORMATS.items()],
                      linked_media={k: media for k, (media, _, _) in LINKED_FORMATS.items()},
                      neighbours=neighbours, compares=compares, view=entity_graph(ctx, slug))


def render_compare(ctx: PageContext, a: str, b: str) -> str:
    """The page comparing two entities (the compare module's HTML inside the shared layout)."""
    from ..graph import compare as cmp

    first, second = ctx.entity(a), ctx.entity(b)
    comparison = cmp.compare(ctx.catalog, first, second)
    body = cmp.render(comparison, "html")
    return ctx.render("compare.j2", title=f"{first.name} vs {second.name}", a=first.to_dict(), b=second.to_dict(),
                      body=Markup(_body_of(body)))


def _body_of(html: str) -> str:
    """The content of a document's ``<body>`` (the whole text when it is a fragment)."""
    low = html.lower()
    start, end = low.find("<body"), low.rfind("</body>")
    if start < 0 or end < 0:
        return html
    return html[low.find(">", start) + 1:end]


def render_match(ctx: PageContext, need: str, kind: str | None = None) -> str:
    """Entities matching a need, with why (:func:`matchgraph.matching.match.match`; nothing is recorded).

    Parameters
    ----------
    ctx : PageContext
    need : str
        The need in plain words (none: the page says how to ask).
    kind : str, optional
        Only entities of this kind, as ``match --kind``.

    Raises
    ------
    ConfigError
        ``kind`` is not a kind (checked with or without a need).
    """
    from ..matching.match import match, wanted_kind

    kind = wanted_kind(kind)
    results = None
    if need.strip():
        results = match(ctx.catalog, need, kind=kind, limit=10, record=False).to_dict()
        for row in results["results"]:
            row["why_text"] = _why_text(row.get("why") or {})
    return ctx.render("match.j2", title=f"Match: {need}" if need else "Match", need=need, kind=kind,
                      results=results)


def _why_text(why: dict[str, Any]) -> list[str]:
    """One sentence per kind of evidence in a match result's ``why``."""
    lines = []
    if why.get("terms"):
        lines.append("Words of the need it contains: " + ", ".join(why["terms"]) + ".")
    if why.get("concepts"):
        lines.append("Capabilities the need asks for: " + ", ".join(
            f"{c.get('label', c.get('concept'))} ({c.get('entity', 0):.2f})" for c in why["concepts"]) + ".")
    graph = why.get("graph") or {}
    if graph.get("rank") is not None:
        from ..graph.scoring import display

        lines.append(f"Rank {display(graph['rank'])}.")
    if graph.get("alternative_of"):
        lines.append("Named as an alternative by: " + ", ".join(graph["alternative_of"]) + ".")
    return lines


def _all_entities(catalog: Catalog) -> list[dict[str, Any]]:
    rows = catalog.rows("""SELECT ?e (SAMPLE(?n) AS ?name) (SAMPLE(?c) AS ?cls) (SAMPLE(?s) AS ?stub) WHERE {
        ?e a mg:Entity . OPTIONAL { ?e schema:name ?n } OPTIONAL { ?e a ?c FILTER(?c != mg:Entity) }
        OPTIONAL { ?e mg:isStub ?s } } GROUP BY ?e""")
    out = []
    for e, name, cls, stub in rows:
        slug = _slug(e)
        if slug is None:
            continue
        kind = KIND_OF_CLASS.get(cls) if cls is not None else None
        out.append({"id": slug, "name": str(name or slug), "kind": kind,
                    "stub": kind is None and stub is not None and bool(_py(stub))})
    return sorted(out, key=lambda r: (r["name"].lower(), r["id"]))


def render_index(ctx: PageContext, params: dict[str, str] | None = None) -> str:
    """The catalog list (:mod:`matchgraph.web.browse`) in the state the URL parameters describe.

    The static site's ``index.html`` is the default state; its ``browse.js`` renders any other
    state from ``browse-data.js``.
    """
    from .browse import BrowseState, render_browse

    state = BrowseState.from_params(params or {})
    return render_browse(ctx, ctx.browse.query(state), static=isinstance(ctx.links, SiteLinks))


def render_graph(ctx: PageContext, center: str | None = None, depth: int = 2, size: int | None = None,
                 relations: list[str] | None = None, *, controls: bool = False) -> str:
    """A readable part of the match graph: the top-ranked entities, or the nearest of ``center``.

    Parameters
    ----------
    ctx : PageContext
    center : str, optional
        An entity; without one the view starts from the top-ranked entities.
    depth, size, relations
        As :func:`matchgraph.web.graphview.select_view` takes them.
    controls : bool
        Show the form that changes centre, depth and size (the server's ``/graph``).
    """
    from .graphview import DEFAULT_SIZE, TOP_SIZE, WARN_SIZE, select_view
    from .params import MAX_DEPTH, MAX_SIZE

    # a name, alias or unknown centre is resolved with the context's lookup (kept in memory by the server)
    slug = ctx.entity(center).slug if center and center not in ctx.rows else center
    view = select_view(ctx.catalog, center=slug, depth=depth, size=size, relations=relations,
                       index=ctx.graph_index)
    data = graph_view(view.graph, catalog=ctx.catalog, links=ctx.links, center=view.center)
    if view.center:
        title = f"Match graph around {view.graph.nodes[view.center].get('name', view.center)}"
    else:
        title = "The match graph: the top-ranked entities"
    form = {"center": center or "", "depth": depth, "size": view.size,
            "default": DEFAULT_SIZE if center else TOP_SIZE, "warn": WARN_SIZE,
            "max_depth": MAX_DEPTH, "max_size": MAX_SIZE} if controls else None
    return ctx.render("graph.j2", title=title, subtitle=view.summary(), view=data, warning=view.warning(),
                      controls=form)


def render_query_page(ctx: PageContext, examples: list[dict[str, str]], endpoint: str, query: str = "") -> str:
    """The query page (:mod:`matchgraph.web.query`): editor, examples, permalink, results, downloads.

    ``query`` (the URL's ``?query=``) fills the editor and runs on load.
    """
    from ..vocab import ID

    return ctx.render("query.j2", title="SPARQL", examples=examples, endpoint=endpoint, query=query,
                      entity_base=str(ID), entity_page=ctx.links.entity("SLUG") or "")


def render_not_found(ctx: PageContext, exc: EntityNotFound) -> str:
    """A 404 page listing the closest entities."""
    return ctx.render("error.j2", title="Not found", message=exc.message, candidates=exc.candidates)


def render_error(ctx: PageContext, message: str) -> str:
    """A page telling what went wrong."""
    return ctx.render("error.j2", title="Error", message=message, candidates=[])


# ---------------------------------------------------------------------- the static site
@dataclass
class SiteReport:
    """What :func:`build_site` wrote."""

    outdir: Path
    entities: int = 0
    compares: int = 0
    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"outdir": str(self.outdir), "entities": self.entities, "compares": self.compares,
                "files": self.files, "skipped": [list(s) for s in self.skipped]}


def _write(path: Path, text: str, report: SiteReport) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    report.files += 1


def _compare_pairs(ctx: PageContext, slugs: list[str], per_entity: int) -> list[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for slug in slugs:
        for item in _neighbour_list(ctx, slug, per_entity):
            if item["id"] in ctx.rows or is_slug(item["id"]):
                a, b = sorted((slug, item["id"]))
                pairs.add((a, b))
    return sorted(pairs)


#: Written last into every site. The entries of a site folder that :func:`build_site` owns (each run
#: replaces them whole); anything else in the folder (``.git``, ``CNAME``, notes) is kept.
SITE_MARKER = ".matchgraph-site"
SITE_ENTRIES = frozenset({"index.html", "graph.html", "browse-data.js", "static", "entity", "compare", SITE_MARKER})


def build_site(catalog: Catalog, outdir: str | Path, *, compare_neighbours: int = COMPARE_NEIGHBOURS,
               progress: ProgressCallback | None = None) -> SiteReport:
    """Write the catalog as a static site: an index with search, a page per entity, compare pages.

    The site is written into a hidden folder beside ``outdir`` and exchanged with it in one step
    (``renameat2(RENAME_EXCHANGE)``; two renames where the file system cannot) only when
    complete: an interrupted run (Ctrl-C, ``kill -9``, a full disk) leaves the previous site as it
    was, and pages of entities no longer in the catalog do not linger. What else the folder holds
    (not :data:`SITE_ENTRIES`) is then moved into the new one; a run killed during that move, or
    before its swap, leaves a ``.NAME.partial-PID`` / ``.NAME.old-PID`` folder that the next run
    empties into ``outdir`` (or puts back, or deletes when it holds only site files). One run at a
    time writes a folder (a lock beside it).

    Parameters
    ----------
    catalog : Catalog
    outdir : path
        The folder to write (created when missing): new, empty, a site written before, or a
        folder of other files (kept).
    compare_neighbours : int
        For each entity, write compare pages with this many closest neighbours.
    progress : callable, optional
        Called as ``progress(stage, done, total)``.

    Returns
    -------
    SiteReport

    Raises
    ------
    InputError
        ``outdir`` is a file, a mount point, the current folder (or one holding it), holds files
        named as the site's that a site run did not write, its parent cannot be written, or
        another run is writing it.

    Examples
    --------
    >>> build_site(cat, "public").entities                  # doctest: +SKIP
    58
    """
    import os
    import shutil

    out = Path(outdir).resolve()
    _check_site_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _site_lock(out):
        _recover_abandoned(out)
        staging = out.with_name(f".{_stem(out)}.partial-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        try:
            report = _write_site(catalog, staging, compare_neighbours, progress)
            (staging / SITE_MARKER).write_text("written by matchgraph site: its next run replaces the site's "
                                               "files\n", encoding="utf-8")
            if out.exists():
                _exchange(staging, out)  # now out is the new site, staging the previous folder
                _empty_into(staging, out)
            else:
                os.rename(staging, out)
        finally:
            if staging.exists() and not any(e.name not in SITE_ENTRIES for e in staging.iterdir()):
                shutil.rmtree(staging, ignore_errors=True)
    report.outdir = out
    return report


def _stem(out: Path) -> str:
    """The name the hidden folders beside ``out`` are named after: the folder's own name, or a
    digest of it when a suffix would take the name past 255 bytes."""
    import hashlib

    if len(f".{out.name}.partial-4194304".encode("utf-8", "surrogateescape")) <= 255:
        return out.name
    return "site-" + hashlib.sha1(out.name.encode("utf-8", "surrogateescape")).hexdigest()[:16]


@contextlib.contextmanager
def _site_lock(out: Path) -> Iterator[None]:
    """Hold the lock file beside ``out`` (``.NAME.lock``) for one run, and remove it when done.

    The file is removed while it is still locked, and a run that locks a file checks that it is
    still the one at that path (else it locks the new one): a run that opened the file just before
    it was removed does not hold a lock nobody else can see. A file another run holds is never
    removed: only its holder removes it.
    """
    import fcntl
    import os

    from ..errors import InputError, Location

    lock = out.with_name(f".{_stem(out)}.lock")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise InputError("another matchgraph site run is writing this folder", location=Location(str(out)),
                             hint="wait for it to end, then run again") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # removed (or replaced) by the run that held it: lock the file now there
    try:
        yield
    finally:
        try:
            os.unlink(lock)
        except OSError:
            pass
        os.close(fd)


def _exchange(new: Path, out: Path) -> None:
    """Swap two folders' places in one step; two renames where the file system cannot."""
    import ctypes
    import os

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        at_fdcwd, rename_exchange = -100, 2
        if renameat2(at_fdcwd, os.fsencode(new), at_fdcwd, os.fsencode(out), rename_exchange) == 0:
            return
    old = out.with_name(f".{_stem(out)}.old-{os.getpid()}")
    os.rename(out, old)
    os.rename(new, out)
    os.rename(old, new)


def _elsewhere_hint(out: Path, here: Path) -> str:
    """What to do instead of building a site in ``out``, the current folder ``here`` or a folder that
    holds it ("run it from outside the folder, e.g. from /" said nothing for ``matchgraph site /``).

    Examples
    --------
    >>> _elsewhere_hint(Path("/"), Path("/home/me"))
    'give the site a folder of its own, e.g. matchgraph site ./site'
    >>> _elsewhere_hint(Path("/home/me/pub"), Path("/home/me/pub"))  # doctest: +ELLIPSIS
    'give the site a folder of its own, ...; to make this folder the site, run it from /home/me (cd ..) ...'
    """
    hint = "give the site a folder of its own, e.g. matchgraph site ./site"
    if out != here or out.parent == out:
        return hint
    return (f"{hint}; to make this folder the site, run it from {out.parent} (cd ..) as matchgraph site {shlex.quote(out.name)}, "
            "with --catalog naming the catalog")


def _check_site_folder(out: Path) -> None:
    import os

    from ..errors import InputError, Location

    where = Location(str(out))
    if out.exists() and not out.is_dir():
        raise InputError("the site folder is a file", location=where, hint="give a folder")
    here = Path.cwd().resolve()
    if out == here or out in here.parents:
        raise InputError("the site folder is the current folder (or holds it); a site is written beside its "
                         "folder and swapped in", location=where, hint=_elsewhere_hint(out, here))
    if out.is_dir() and os.path.ismount(out):
        raise InputError("the site folder is a mount point; a site is written beside its folder and swapped in",
                         location=where, hint="give a folder inside it")
    parent = next((p for p in (out.parent, *out.parent.parents) if p.exists()), None)
    if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {parent}, where the site is built beside its folder", location=where,
                         hint="give a folder whose parent this user may write to")
    if out.is_dir() and not (out / SITE_MARKER).exists() and \
            not all((out / name).exists() for name in ("browse-data.js", "index.html", "entity")):  # before the marker
        mine = sorted(e.name for e in out.iterdir() if e.name in SITE_ENTRIES)
        if mine:
            raise InputError(f"the folder holds {', '.join(mine)}, which a site would replace, and no site wrote "
                             "it", location=where, hint="give another folder, or move those files first")


def _empty_into(old: Path, out: Path) -> None:
    """Move what ``old`` holds beside the site (not :data:`SITE_ENTRIES`) into ``out``, then delete it."""
    import os
    import shutil

    for entry in old.iterdir():
        if entry.name not in SITE_ENTRIES and not (out / entry.name).exists():
            os.rename(entry, out / entry.name)
    shutil.rmtree(old, ignore_errors=True)


def _recover_abandoned(out: Path) -> None:
    """Folders of earlier runs beside ``out`` (exactly ``.NAME.partial-PID`` and ``.NAME.old-PID``)
    whose process is gone: what they hold beside site files goes into ``out`` (or the folder is put
    back when ``out`` is missing), then they are deleted."""
    import os
    import shutil

    from ..store.isolation import abandoned

    for folder, kind in abandoned(out.parent, _stem(out), ("partial", "old")):
        if not folder.is_dir():
            continue
        if not out.exists() and (kind == "old" or (folder / SITE_MARKER).exists()):
            os.rename(folder, out)
        elif out.exists():
            _empty_into(folder, out)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _write_site(catalog: Catalog, out: Path, compare_neighbours: int,
                progress: ProgressCallback | None) -> SiteReport:
    """Every file of the site, into ``out``."""
    report = SiteReport(out)
    loaded: dict[str, Any] = {}  # the derived data every page context shares
    # a compare page links to no other compare page: the pairs with a page are known once all are written
    compares = PageContext(catalog, SiteLinks("../", ()), Assets("../static/"), loaded)
    slugs = [e["id"] for e in _all_entities(catalog)]
    candidates = _compare_pairs(compares, slugs, compare_neighbours) if compare_neighbours > 0 else []
    written: list[tuple[str, str]] = []
    for i, (a, b) in enumerate(candidates, 1):
        try:
            html = render_compare(compares, a, b)
        except MatchgraphError as exc:
            report.skipped.append((f"{a} vs {b}", exc.message))
            continue
        written.append((a, b))
        _write(out / "compare" / f"{a}--{b}.html", html, report)
        report.compares += 1
        if progress:
            progress("compare pages", i, len(candidates))
    root = PageContext(catalog, SiteLinks("", written), Assets("static/"), loaded)
    sub = PageContext(catalog, SiteLinks("../", written), Assets("../static/"), loaded)
    _write_assets(out / "static", report)
    from .browse import browse_data_script
    from .linked import FORMATS as LINKED_FORMATS
    from .linked import entity_triples, serialize

    _write(out / "browse-data.js", browse_data_script(root.browse, SiteLinks("")), report)
    _write(out / "index.html", render_index(root), report)
    _write(out / "graph.html", render_graph(root), report)
    sub.prepare_factors(slugs)
    for i, slug in enumerate(slugs, 1):
        _write(out / "entity" / f"{slug}.html", render_entity(sub, slug), report)
        triples = entity_triples(catalog, slug)
        for key, (_, suffix, _) in LINKED_FORMATS.items():
            path = out / "entity" / f"{slug}{suffix}"
            path.write_bytes(serialize(triples, key))
            report.files += 1
        report.entities += 1
        if progress:
            progress("entity pages", i, len(slugs))
    return report


def _write_assets(folder: Path, report: SiteReport) -> None:
    from ..export.html import ASSET_FILES, asset_text

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("vis-network.js", *ASSET_FILES):
        _write(folder / name, asset_text(name), report)
