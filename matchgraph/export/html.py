"""Interactive graph views (pyvis / vis-network) and the HTML toolkit the pages share.

``matchgraph export html`` writes one self-contained file: vis-network (the copy the pyvis package
ships on disk), our viewer script and style are inlined, and a Content-Security-Policy forbids any
request, so the page works with no network at all. pyvis builds the nodes, edges and options; its
own template is not used because it links Bootstrap and vis-network from CDNs.

Safety: catalog text reaches the page only as JSON inside ``<script type="application/json">``
(jinja's ``tojson`` escapes ``<``, ``>``, ``&`` and ``'``) or through autoescaped templates, and the
viewer builds tooltips and the details panel with ``textContent``, never ``innerHTML``.

The layout is computed here (networkx's spring layout, weighted by relation strength, seeded), so
the browser draws the nodes where they belong at once, without running physics first: 150 nodes
paint in well under a second even on a slow machine. (Physics, when a view turns it on, runs only
until the layout settles: a bounded number of stabilisation iterations, fewer
for big graphs), then it is switched off, so a 1,500-node view stays responsive.

The same module renders the shared layout for the server and the static site: :func:`environment`
(jinja2 with autoescape), :class:`Assets` (inline, or linked from a URL prefix) and :class:`Links`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import networkx as nx
from markupsafe import Markup

from ..store.catalog import Catalog
from ..vocab import entity_iri
from . import register

__all__ = ["KIND_COLOURS", "RELATION_STYLES", "Assets", "Links", "environment", "graph_view",
           "render_graph_page", "top_capabilities", "export_html", "vis_network_path", "favicon_svg"]

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

#: Node colour per entity kind (stubs are grey).
KIND_COLOURS: dict[str, str] = {
    "model": "#4e79a7", "dataset": "#f28e2b", "tool": "#59a14f", "library": "#8cd17d", "framework": "#499894",
    "benchmark": "#e15759", "format": "#b07aa1", "method": "#edc948", "metric": "#ff9da7", "service": "#9c755f",
    "paper": "#86bcb6",
}
STUB_COLOUR = "#bab0ac"
UNKNOWN_COLOUR = "#79706e"
#: Edge colour and dash pattern per relation of the projection; others get a dashed grey.
RELATION_STYLES: dict[str, tuple[str, bool]] = {
    "alternative": ("#e15759", True), "shared-concept": ("#b6b6b6", True), "co-matched": ("#76b7b2", True),
    "derivedFrom": ("#4e79a7", False), "trainedOn": ("#f28e2b", False), "subsetOf": ("#b07aa1", False),
    "integratesWith": ("#59a14f", False), "supportsFormat": ("#9c755f", False), "evaluatedOn": ("#edc948", False),
    "supersededBy": ("#ff9da7", False), "implements": ("#499894", False), "usesMethod": ("#af7aa1", False),
    "alternativeTo": ("#e15759", True),
}
#: Relations without a direction: drawn once per pair, without arrows.
UNDIRECTED = frozenset({"shared-concept", "co-matched"})
OTHER_RELATION = ("#8c8c8c", True)
#: Stabilisation iterations: at most this many, and about this many node-iterations in total.
MAX_ITERATIONS, ITERATION_BUDGET, MIN_ITERATIONS = 400, 100_000, 50
#: Views with more edges than this draw no edge labels (each edge still names its relation on hover).
EDGE_LABEL_LIMIT = 500
ASSET_FILES: dict[str, str] = {"graph.js": "graph.js", "query.js": "query.js",
                               "browse.js": "browse.js", "style.css": "style.css"}


def vis_network_path() -> Path:
    """The vis-network script that the installed pyvis package ships (used offline, never from a CDN)."""
    import pyvis

    lib = Path(pyvis.__file__).resolve().parent / "templates" / "lib"
    candidates = sorted(lib.glob("vis-*/vis-network.min.js"),
                        key=lambda p: tuple(int(x) for x in p.parent.name[4:].split(".") if x.isdigit()))
    if not candidates:
        from ..errors import ConfigError

        raise ConfigError(f"pyvis ships no vis-network script under {lib}", hint="reinstall pyvis>=0.3.2")
    return candidates[-1]


#: The icon of every page (``templates/favicon.svg``); the server also answers it at ``/favicon.ico``.
FAVICON = "favicon.svg"


@lru_cache(maxsize=1)
def favicon_svg() -> str:
    """The pages' icon: a small SVG (a graph of three nodes on the pages' accent colour)."""
    return (TEMPLATES / FAVICON).read_text(encoding="utf-8").strip()


@lru_cache(maxsize=None)
def asset_text(name: str) -> str:
    """The text of a bundled asset (``vis-network.js``, ``graph.js``, ``query.js``, ``browse.js``, ``style.css``)."""
    path = vis_network_path() if name == "vis-network.js" else TEMPLATES / ASSET_FILES[name]
    text = path.read_text(encoding="utf-8")
    if "</script" in text.lower() or "</style" in text.lower():
        raise ValueError(f"{name} cannot be inlined: it contains a closing tag")
    return text


@dataclass(frozen=True)
class Assets:
    """How a page gets its scripts and style: inlined (``base=None``) or linked below a URL ``base``."""

    base: str | None = None

    def script(self, name: str) -> Markup:
        """A ``<script>`` element for a bundled script."""
        if self.base is None:
            return Markup("<script>") + Markup(asset_text(name)) + Markup("</script>")
        return Markup('<script src="{}"></script>').format(self.base + name)

    def style(self, name: str) -> Markup:
        """A ``<style>`` or ``<link>`` element for a bundled style sheet."""
        if self.base is None:
            return Markup("<style>") + Markup(asset_text(name)) + Markup("</style>")
        return Markup('<link rel="stylesheet" href="{}">').format(self.base + name)

    def icon(self) -> Markup:
        """The ``<link rel="icon">`` of a page: the icon inlined as a ``data:`` URL, so that no page
        asks its server (or a static host, or ``file://``) for ``/favicon.ico``."""
        return Markup('<link rel="icon" type="image/svg+xml" href="data:image/svg+xml,{}">').format(
            quote(favicon_svg(), safe=""))


class Links:
    """Where pages link to; this base links nowhere (a standalone file). Servers and sites override."""

    def entity(self, slug: str) -> str | None:
        """The page of an entity."""
        return None

    def compare(self, a: str, b: str) -> str | None:
        """The page comparing two entities."""
        return None

    def compare_partners(self, slug: str) -> list[str]:
        """Entities a compare page pairs with ``slug`` (where only some pairs have pages)."""
        return []

    def index(self) -> str | None:
        """The entity index."""
        return None

    def query(self) -> str | None:
        """The SPARQL query page."""
        return None

    def match(self) -> str | None:
        """The match form's target."""
        return None

    def entity_data(self, slug: str, key: str) -> str | None:
        """The entity's RDF description in format ``key`` (``ttl``, ``jsonld``, ``nt``)."""
        return None

    def browse_data(self) -> str | None:
        """The static site's catalog list data (``browse-data.js``)."""
        return None

    def graph(self) -> str | None:
        """The whole graph view."""
        return None

    @staticmethod
    def quote(slug: str) -> str:
        """A slug made safe for a URL path segment."""
        return quote(slug, safe="")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The jinja2 environment every page is rendered with (autoescape on, strict undefined; control
    characters, which HTML does not allow in a page, shown as U+FFFD)."""
    from ..web.inline import to_html, without_controls

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             finalize=without_controls)
    env.filters["fmtnum"] = _fmtnum
    env.filters["score"] = _score
    env.filters["points"] = _points
    env.filters["inline"] = to_html
    return env


def _score(value: Any) -> str:
    """A score as the CLI shows it (:func:`matchgraph.graph.scoring.display`: an integer, halves up)."""
    from ..graph.scoring import display

    return "–" if value is None else str(display(float(value)))


def _points(value: Any) -> str:
    """Factor points as ``explain`` prints them (``+6.34``)."""
    return "–" if value is None else f"{float(value) + 0.0:+.2f}"


def _fmtnum(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.{digits}f}"
    return f"{int(value):,}" if isinstance(value, (int, float)) else str(value)


def top_capabilities(catalog: Catalog, slugs: Iterable[str], *, limit: int = 3) -> dict[str, list[str]]:
    """The titles of each entity's first capabilities (by position), for tooltips.

    Examples
    --------
    >>> top_capabilities(cat, ["the-pile"], limit=2)            # doctest: +SKIP
    {'the-pile': ['Multi-domain corpus built from 22 sources', 'Pile bits-per-byte evaluation']}
    """
    out: dict[str, list[str]] = {}
    slugs = list(slugs)
    for i in range(0, len(slugs), 400):
        values = " ".join(entity_iri(s).n3() for s in slugs[i:i + 400])
        rows = catalog.rows(f"""SELECT ?e ?title ?pos WHERE {{ VALUES ?e {{ {values} }}
            ?e mg:hasCapability ?c . ?c schema:name ?title . OPTIONAL {{ ?c mg:position ?pos }} }}""")
        ranked: dict[str, list[tuple[float, str]]] = {}
        for e, title, pos in rows:
            slug = str(e).rsplit("/id/", 1)[-1]
            ranked.setdefault(slug, []).append((float(pos) if pos is not None else math.inf, str(title)))
        for slug, items in ranked.items():
            out[slug] = [t for _, t in sorted(items)[:limit]]
    return out


def _descriptions(catalog: Catalog, slugs: list[str], *, length: int = 280) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(0, len(slugs), 400):
        values = " ".join(entity_iri(s).n3() for s in slugs[i:i + 400])
        for e, text in catalog.rows(f"SELECT ?e ?d WHERE {{ VALUES ?e {{ {values} }} ?e dcterms:description ?d }}"):
            text = str(text)
            out[str(e).rsplit("/id/", 1)[-1]] = text if len(text) <= length else text[:length - 1].rstrip() + "…"
    return out


def _node_size(rank: float | None, low: float, high: float) -> float:
    if rank is None:
        return 8.0
    span = high - low
    return round(12.0 + 28.0 * ((rank - low) / span if span > 0 else 0.5), 2)


def _label_size(rank: float | None, low: float, high: float) -> int:
    """Label font size by rank: 12 px for the lowest to 28 px for the highest (hidden when zoomed out)."""
    if rank is None:
        return 11
    span = high - low
    return int(round(12 + 16 * ((rank - low) / span if span > 0 else 0.5)))


def _relation_style(relation: str) -> tuple[str, bool]:
    return RELATION_STYLES.get(relation, OTHER_RELATION)


def layout(G: nx.MultiDiGraph) -> dict[str, tuple[float, float]]:
    """Node positions in screen pixels: a seeded spring layout, stronger relations pulling a little closer.

    Weights are damped (a square root, at most 2 per pair) so that hubs with many heavy relations
    do not pull their neighbourhood into one unreadable knot.

    Examples
    --------
    >>> G = nx.MultiDiGraph([("a", "b")]); G.add_node("c")
    >>> sorted(layout(G)) == ["a", "b", "c"]
    True
    """
    H = nx.Graph()
    H.add_nodes_from(sorted(G.nodes, key=str))
    for u, v, data in G.edges(data=True):
        if u == v:
            continue
        w = float(data.get("weight") or 1.0)
        H.add_edge(u, v, weight=H.get_edge_data(u, v, {"weight": 0.0})["weight"] + w)
    for _, _, data in H.edges(data=True):
        data["weight"] = min(2.0, math.sqrt(max(data["weight"], 0.0)) / 2 + 0.5)
    n = H.number_of_nodes()
    if n == 0:
        return {}
    if n == 1:
        return {next(iter(H.nodes)): (0.0, 0.0)}
    # each iteration costs n^2: past 2,000 entities fewer of them keep the whole near what 2,000 take
    # (5,178 entities: 6 iterations, 7 s instead of 46 s; 20,000: 1 iteration, instead of 10 minutes)
    iterations = 80 if n <= 600 else max(1, min(40, round(40 * (2000 / n) ** 2)))
    pos = nx.spring_layout(H, weight="weight", seed=7, k=3.0 / math.sqrt(n), iterations=iterations)
    scale = 150.0 + 70.0 * math.sqrt(n)
    return {node: (round(float(x) * scale, 1), round(float(y) * scale, 1)) for node, (x, y) in pos.items()}


def _options(n: int) -> dict[str, Any]:
    iterations = int(max(MIN_ITERATIONS, min(MAX_ITERATIONS, ITERATION_BUDGET / max(n, 1))))
    return {
        "autoResize": True,
        "layout": {"improvedLayout": False, "randomSeed": 7},
        "interaction": {"hover": True, "tooltipDelay": 150, "hideEdgesOnDrag": n > 300, "hideEdgesOnZoom": n > 300},
        "nodes": {"shape": "dot", "font": {"size": 16, "face": "sans-serif", "strokeWidth": 3, "strokeColor": "#ffffff"},
                  "scaling": {"label": {"enabled": True, "drawThreshold": 9}}},
        "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}, "smooth": n <= 300,
                  "font": {"size": 10, "align": "middle", "color": "#555555", "strokeWidth": 2}},
        "physics": {"enabled": False, "solver": "barnesHut",
                    "barnesHut": {"gravitationalConstant": -6000, "springLength": 140, "springConstant": 0.03,
                                  "damping": 0.3, "avoidOverlap": 0.1},
                    "stabilization": {"enabled": True, "iterations": iterations, "updateInterval": 25,
                                      "fit": True}},
    }


def graph_view(G: nx.MultiDiGraph, *, catalog: Catalog | None = None, links: Links | None = None,
               center: str | None = None) -> dict[str, Any]:
    """The data a vis-network view draws, built with pyvis: nodes, edges, options and legend.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        An annotated graph (:func:`matchgraph.export.graphfiles.annotate`).
    catalog : Catalog, optional
        To add each entity's top capabilities and description to its tooltip and details.
    links : Links, optional
        Where a node's details link to (its entity page).
    center : str, optional
        A node drawn highlighted.

    Returns
    -------
    dict
        ``nodes``, ``edges``, ``options`` (vis-network) and ``legend`` (``kinds``, ``relations``).

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("a", name="A", kind="model", stub=False, rank=50.0)
    >>> view = graph_view(G)
    >>> view["nodes"][0]["id"], view["nodes"][0]["color"]
    ('a', '#4e79a7')
    """
    from pyvis.network import Network

    from ..graph.scoring import display

    links = links or Links()
    nodes = sorted(G.nodes, key=str)
    caps = top_capabilities(catalog, nodes) if catalog is not None and nodes else {}
    descriptions = _descriptions(catalog, nodes) if catalog is not None and nodes else {}
    ranks = [G.nodes[n]["rank"] for n in nodes if G.nodes[n].get("rank") is not None]
    low, high = (min(ranks), max(ranks)) if ranks else (0.0, 0.0)
    net = Network(directed=True, cdn_resources="local")
    positions = layout(G)
    for node in nodes:
        data = G.nodes[node]
        kind, stub = data.get("kind") or "", bool(data.get("stub"))
        colour = STUB_COLOUR if stub else KIND_COLOURS.get(kind, UNKNOWN_COLOUR)
        info = {"id": node, "name": str(data.get("name") or node), "kind": kind or None, "stub": stub,
                "scores": {k: display(data[k]) for k in ("rank", "adoption", "quality", "ecosystem", "match_graph")
                           if data.get(k) is not None},
                "capabilities": caps.get(node, []), "description": descriptions.get(node, ""),
                "href": links.entity(node)}
        net.add_node(node, label=info["name"], color=colour, size=_node_size(data.get("rank"), low, high),
                     font={"size": _label_size(data.get("rank"), low, high)},
                     x=positions[node][0], y=positions[node][1],
                     borderWidth=4 if node == center else 1, info=info,
                     shapeProperties={"borderDashes": [4, 3] if stub else False})
    drawn: set[tuple[str, str, str]] = set()
    labelled = G.number_of_edges() <= EDGE_LABEL_LIMIT
    for u, v, key, data in sorted(G.edges(keys=True, data=True), key=lambda e: (str(e[0]), str(e[1]), str(e[2]))):
        relation = str(data.get("relation") or key)
        if relation in UNDIRECTED:
            if (v, u, relation) in drawn:
                continue
            drawn.add((u, v, relation))
        colour, dashed = _relation_style(relation)
        aspect = data.get("aspect")
        style = {"label": relation} if labelled else {}
        net.add_edge(u, v, color=colour, dashes=dashed, relation=relation,
                     width=1 + min(3.0, float(data.get("weight") or 1.0)),
                     arrows="" if relation in UNDIRECTED else "to",
                     title=relation + (f" ({aspect})" if aspect else ""), **style)
    net.options = _options(len(nodes))
    node_data, edge_data, _, _, _, options = net.get_network_data()
    kinds = sorted({G.nodes[n].get("kind") or "" for n in nodes if not G.nodes[n].get("stub")} - {""})
    relations = sorted({str(d.get("relation") or k) for _, _, k, d in G.edges(keys=True, data=True)})
    legend = {"kinds": [{"name": k, "colour": KIND_COLOURS.get(k, UNKNOWN_COLOUR)} for k in kinds]
              + ([{"name": "stub (named, not described)", "colour": STUB_COLOUR}]
                 if any(G.nodes[n].get("stub") for n in nodes) else []),
              "relations": [{"name": r, "colour": _relation_style(r)[0], "dashed": _relation_style(r)[1]}
                            for r in relations]}
    return {"nodes": node_data, "edges": edge_data, "options": json.loads(options), "legend": legend,
            "center": center, "summary": f"{len(nodes):,} entities, {G.number_of_edges():,} relations"}


def render_graph_page(view: Mapping[str, Any], *, title: str, subtitle: str = "",
                      assets: Assets | None = None, links: Links | None = None, warning: str | None = None) -> str:
    """A complete HTML page showing one graph view (self-contained when ``assets`` inlines).

    Examples
    --------
    >>> G = nx.MultiDiGraph(); G.add_node("a", name="<b>A</b>", kind="model")
    >>> html = render_graph_page(graph_view(G), title="demo")
    >>> "<b>A</b>" in html, "https://" in html.split("<script>")[0]
    (False, False)
    """
    template = environment().get_template("graph.j2")
    return template.render(view=view, title=title, subtitle=subtitle, warning=warning, controls=None,
                           assets=assets or Assets(),
                           links=links or Links(), standalone=(assets or Assets()).base is None, version=None)


@register("html", "interactive graph view (pyvis / vis-network), one self-contained file that works offline")
def export_html(catalog: Catalog, *, center: str | None = None, depth: int = 2, query: str | None = None,
                relations: Iterable[str] | None = None, size: int | None = None, **_: Any) -> str:
    """The match graph (or a view around ``center``, or a CONSTRUCT's result) as an interactive page.

    At most ``size`` entities are drawn (150 by default; :mod:`matchgraph.web.graphview` chooses
    them): the centre's nearest by relation weight and rank, or the top-ranked without a centre.
    Past 2,000 a warning is logged and shown on the page.

    Examples
    --------
    >>> html = export_html(cat, center="the-pile", depth=2)     # doctest: +SKIP
    """
    import logging

    from ..web.graphview import View, cap_graph, select_view

    if query:
        from ..graph.derived import load_compact
        from .graphfiles import catalog_graph

        G = catalog_graph(catalog, center=center, depth=depth, query=query, relations=list(relations or []))
        view = View(cap_graph(G, size), load_compact(catalog).n, G.number_of_nodes(), None, size or 0)
        title = "The match graph: what the query selected"
    else:
        view = select_view(catalog, center=center, depth=depth, size=size, relations=relations)
        if view.center:
            name = view.graph.nodes[view.center].get("name", view.center)
            title = f"{name}: the match graph within {depth} hop{'s' if depth != 1 else ''}"
        else:
            title = "The match graph: the top-ranked entities"
    warning = view.warning()
    if warning:
        logging.getLogger("matchgraph").warning(warning)
    data = graph_view(view.graph, catalog=catalog, center=view.center)
    return render_graph_page(data, title=title, subtitle=view.summary(), warning=warning)
