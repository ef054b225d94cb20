"""Graph files: the match graph as GraphML, GEXF or networkx node-link JSON.

The graph is the projection (:func:`matchgraph.graph.derived.load_projection`): one node per entity
(slug) and one edge per typed relation. A view narrows it (:func:`catalog_graph`): the entities
within ``depth`` hops of a centre, only some relation kinds, or what a CONSTRUCT query returns.
Nodes carry ``kind``, ``name``, ``stub`` and the scores (``rank``, ``adoption``, ``quality``,
``ecosystem``, ``match_graph``); edges carry ``relation``, ``weight`` and ``aspect``. Files are
written in a fixed order (nodes, then edges, sorted) so the same catalog gives the same bytes.

Examples
--------
>>> import networkx as nx
>>> G = nx.MultiDiGraph()
>>> G.add_node("a", kind="model", name="A", stub=False)
>>> G.add_node("b", kind="dataset", name="B", stub=False)
>>> _ = G.add_edge("a", "b", relation="trainedOn", weight=1.0)
>>> H = nx.read_graphml(io.BytesIO(to_graphml(G).encode()))
>>> H.nodes["a"]["kind"], [d["relation"] for _, _, d in H.edges(data=True)]
('model', ['trainedOn'])
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import networkx as nx
from rdflib import URIRef

from ..store.catalog import Catalog
from ..errors import ConfigError, QueryError
from ..vocab import ID, KIND_OF_CLASS, RELATION_OF_PROPERTY, is_slug, slug_of
from . import register

__all__ = ["SCORE_FIELDS", "catalog_graph", "center_slug", "construct_graph", "filter_relations", "ego_view", "annotate",
           "to_graphml", "to_gexf", "to_node_link"]

#: Score attributes copied onto nodes, in file order.
SCORE_FIELDS = ("rank", "adoption", "quality", "ecosystem", "match_graph")


def _clean(value: Any) -> Any:
    """A value every graph format can hold: str, bool, int or float (None stays None)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(str(v) for v in value if v is not None)
        return ",".join(items) if items else None
    if hasattr(value, "toPython"):
        return _clean(value.toPython())
    return str(value)


def _aspect_text(value: Any) -> str | None:
    if value is None:
        return None
    text = _clean(value)
    text = str(text)
    parts = [p.rsplit("/", 1)[-1] for p in text.split(",") if p]
    return ",".join(parts) or None


def annotate(G: nx.MultiDiGraph, scores: Mapping[str, Any] | None = None) -> nx.MultiDiGraph:
    """Return a copy of ``G`` in sorted order with clean node and edge attributes.

    Parameters
    ----------
    G : networkx.MultiDiGraph
        Nodes are slugs with ``kind``, ``name``, ``stub``; edges have ``relation``, ``weight``, ``aspect``.
    scores : mapping of slug to scores, optional
        Objects with ``rank``, ``adoption``, ``quality``, ``ecosystem`` and ``match_graph``
        attributes (as :func:`matchgraph.graph.scores.load_scores` returns); missing ones are left out.

    Returns
    -------
    networkx.MultiDiGraph
        Attribute values are strings, booleans or numbers only (what GraphML and GEXF hold).

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("b", name="B", kind=None, stub=True)
    >>> annotate(G).nodes["b"]
    {'kind': '', 'name': 'B', 'stub': True}
    """
    scores = scores or {}
    H = nx.MultiDiGraph()
    for node in sorted(G.nodes, key=str):
        data = G.nodes[node]
        attrs: dict[str, Any] = {
            "kind": _clean(data.get("kind")) or "",
            "name": str(data.get("name") or node),
            "stub": bool(data.get("stub", False)),
        }
        entity_scores = scores.get(node)
        for name in SCORE_FIELDS:
            value = getattr(entity_scores, name, None) if entity_scores is not None else None
            if value is not None:
                attrs[name] = float(value)
        H.add_node(node, **attrs)
    edges = sorted(G.edges(keys=True, data=True),
                   key=lambda e: (str(e[0]), str(e[1]), str(e[3].get("relation", "")), str(e[2])))
    for u, v, key, data in edges:
        attrs = {"relation": str(data.get("relation") or ""), "weight": float(data.get("weight", 1.0) or 0.0)}
        aspect = _aspect_text(data.get("aspect"))
        if aspect:
            attrs["aspect"] = aspect
        H.add_edge(u, v, key=key, **attrs)
    return H


def filter_relations(G: nx.MultiDiGraph, relations: Iterable[str]) -> nx.MultiDiGraph:
    """Keep only the edges whose ``relation`` is one of ``relations`` (any case); keep every node.

    Raises
    ------
    ConfigError
        A relation the graph does not have.

    Examples
    --------
    >>> G = nx.MultiDiGraph([("a", "b", {"relation": "derivedFrom"}), ("a", "c", {"relation": "trainedOn"})])
    >>> sorted(filter_relations(G, ["derivedfrom"]).edges())
    [('a', 'b')]
    """
    wanted = {r.lower() for r in relations}
    if not wanted:
        return G
    from ..graph.relations import RELATION_KINDS

    known = {str(d.get("relation")) for _, _, d in G.edges(data=True)} | set(RELATION_KINDS)
    unknown = sorted(wanted - {k.lower() for k in known})
    if unknown:
        raise ConfigError(f"unknown relation {', '.join(unknown)}", hint="use one of: " + ", ".join(sorted(known)))
    H = nx.MultiDiGraph()
    H.add_nodes_from(G.nodes(data=True))
    H.add_edges_from((u, v, k, d) for u, v, k, d in G.edges(keys=True, data=True)
                     if str(d.get("relation", "")).lower() in wanted)
    return H


def ego_view(G: nx.MultiDiGraph, center: str, *, depth: int = 2) -> nx.MultiDiGraph:
    """The entities within ``depth`` hops of ``center`` (edges followed both ways), with their edges.

    Examples
    --------
    >>> G = nx.MultiDiGraph([("a", "b"), ("c", "b"), ("c", "d")])
    >>> sorted(ego_view(G, "a", depth=2))
    ['a', 'b', 'c']
    """
    if center not in G:
        H = nx.MultiDiGraph()
        H.add_node(center)
        return H
    return nx.MultiDiGraph(nx.ego_graph(G, center, radius=depth, undirected=True))


def construct_graph(catalog: Catalog, query: str, projection: nx.MultiDiGraph | None = None) -> nx.MultiDiGraph:
    """The graph a CONSTRUCT (or DESCRIBE) query draws.

    Every entity the result mentions is a node; every triple between two entities is an edge named
    after its property (``derivedFrom``, ...). Node and edge attributes come from the projection
    when it has them, else node names and kinds are read from the catalog.

    Parameters
    ----------
    catalog : Catalog
    query : str
        A CONSTRUCT or DESCRIBE query (project prefixes predeclared).
    projection : networkx.MultiDiGraph, optional
        The catalog's projection, for attributes.

    Raises
    ------
    QueryError
        The query is not a CONSTRUCT or DESCRIBE, or it would reach the network (SERVICE).
    """
    from ..store.sparql import check_reach, parse_query

    parsed = parse_query(query)
    if parsed.form not in ("CONSTRUCT", "DESCRIBE"):
        raise QueryError("a graph view needs a CONSTRUCT or DESCRIBE query",
                         hint="for example: CONSTRUCT { ?a mg:derivedFrom ?b } WHERE { ?a mg:derivedFrom ?b }")
    check_reach(parsed, option=None)  # no request on the network from a drawing
    graph = catalog.query(parsed.text).graph
    projection = projection if projection is not None else nx.MultiDiGraph()

    def entity(term: Any) -> str | None:
        if not isinstance(term, URIRef) or not str(term).startswith(str(ID)):
            return None
        slug = slug_of(str(term))
        return slug if is_slug(slug) else None

    triples = sorted(graph, key=lambda t: tuple(str(x) for x in t))
    slugs = sorted({x for s, _, o in triples for x in (entity(s), entity(o)) if x is not None})
    missing = _catalog_node_attrs(catalog, [x for x in slugs if x not in projection])
    H = nx.MultiDiGraph()
    for slug in slugs:
        H.add_node(slug, **(dict(projection.nodes[slug]) if slug in projection else missing[slug]))
    for s, p, o in triples:
        a, b = entity(s), entity(o)
        if a is not None and b is not None:
            relation = RELATION_OF_PROPERTY.get(p) or re.split(r"[#/]", str(p))[-1]
            H.add_edge(a, b, key=relation, **_edge_attrs(a, b, relation, projection))
    return H


def _catalog_node_attrs(catalog: Catalog, slugs: list[str]) -> dict[str, dict[str, Any]]:
    """``name``, ``kind`` and ``stub`` of entities, read from the catalog (the slug when unnamed)."""
    out: dict[str, dict[str, Any]] = {slug: {"name": slug, "kind": None, "stub": False} for slug in slugs}
    for i in range(0, len(slugs), 400):
        values = " ".join(ID[s].n3() for s in slugs[i:i + 400])
        rows = catalog.rows(f"""SELECT ?e ?name ?cls ?stub WHERE {{ VALUES ?e {{ {values} }}
            OPTIONAL {{ ?e schema:name ?name }} OPTIONAL {{ ?e a ?cls }} OPTIONAL {{ ?e mg:isStub ?stub }} }}""")
        for e, name, cls, stub in rows:
            attrs = out[slug_of(str(e))]
            if name is not None:
                attrs["name"] = str(name)
            if cls in KIND_OF_CLASS:
                attrs["kind"] = KIND_OF_CLASS[cls]
            if stub is not None and stub.toPython() is True:
                attrs["stub"] = True
    for attrs in out.values():
        attrs["stub"] = attrs["stub"] and attrs["kind"] is None
    return out


def _edge_attrs(a: str, b: str, relation: str, projection: nx.MultiDiGraph) -> dict[str, Any]:
    if projection.has_edge(a, b):
        for data in projection.get_edge_data(a, b).values():
            if str(data.get("relation")) == relation:
                return dict(data)
    return {"relation": relation, "weight": 1.0}


def center_slug(catalog: Catalog, text: str, projection: nx.MultiDiGraph) -> str:
    """The slug of the entity ``text`` names: ``text`` itself when it is a node, else resolved.

    Raises
    ------
    EntityNotFound
        Nothing in the catalog answers to ``text`` (with the closest candidates).
    """
    if text in projection:
        return text
    from ..graph.resolve import resolve_entity

    return resolve_entity(catalog, text).slug


def catalog_graph(catalog: Catalog, *, center: str | None = None, depth: int = 2, query: str | None = None,
                  relations: Iterable[str] | None = None) -> nx.MultiDiGraph:
    """The graph a view or a graph file shows, with scores on its nodes.

    Parameters
    ----------
    catalog : Catalog
    center : str, optional
        An entity (slug, name, alias or IRI): keep what lies within ``depth`` hops of it.
    depth : int
        Hops from ``center`` (edges followed in both directions).
    query : str, optional
        A CONSTRUCT query choosing the nodes and edges instead of the whole projection.
    relations : iterable of str, optional
        Keep only these relation kinds.

    Returns
    -------
    networkx.MultiDiGraph
        Annotated as :func:`annotate` describes.

    Examples
    --------
    >>> G = catalog_graph(cat, center="the-pile", depth=1)      # doctest: +SKIP
    >>> G.nodes["the-pile"]["kind"]                             # doctest: +SKIP
    'dataset'
    """
    from ..graph.derived import load_projection
    from ..graph.scores import load_scores

    projection = load_projection(catalog)
    G = construct_graph(catalog, query, projection) if query else projection
    if relations:
        G = filter_relations(G, relations)
    if center:
        slug = center_slug(catalog, center, projection)
        G = ego_view(G, slug, depth=depth)
        if not G.nodes[slug] and slug in projection:
            G.nodes[slug].update(projection.nodes[slug])
    return annotate(G, load_scores(catalog, factors=False))


#: Characters XML 1.0 cannot hold, even escaped (most C0 controls, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """``G`` with every text attribute XML can hold: a character it cannot (a name imported with a
    bell or an escape in it) becomes U+FFFD, so the file is XML that every reader parses."""
    def clean(attrs: dict[str, Any]) -> dict[str, Any]:
        return {k: _NOT_XML.sub("\ufffd", v) if isinstance(v, str) else v for k, v in attrs.items()}

    if not any(isinstance(v, str) and _NOT_XML.search(v)
               for _, attrs in (*G.nodes(data=True), *((None, d) for *_, d in G.edges(data=True))) for v in attrs.values()):
        return G
    H = nx.MultiDiGraph(**clean(dict(G.graph)))
    H.add_nodes_from((n, clean(a)) for n, a in G.nodes(data=True))
    H.add_edges_from((u, v, k, clean(a)) for u, v, k, a in G.edges(keys=True, data=True))
    return H


def to_graphml(G: nx.MultiDiGraph) -> str:
    """GraphML text (Gephi, Cytoscape, yEd, ``networkx.read_graphml``)."""
    return "\n".join(nx.generate_graphml(_xml_safe(G), encoding="utf-8", prettyprint=True)) + "\n"


def to_gexf(G: nx.MultiDiGraph) -> str:
    """GEXF 1.2 text (Gephi), without the export date so equal graphs give equal files."""
    buffer = io.BytesIO()
    nx.write_gexf(_xml_safe(G), buffer, encoding="utf-8", prettyprint=True, version="1.2draft")
    text = buffer.getvalue().decode("utf-8")
    return re.sub(r'\s+lastmodifieddate="[^"]*"', "", text, count=1)


def to_node_link(G: nx.MultiDiGraph) -> str:
    """networkx node-link JSON (``networkx.node_link_graph(json.loads(text))`` reads it back)."""
    return json.dumps(nx.node_link_data(G), indent=2, ensure_ascii=False) + "\n"


def _view(catalog: Catalog, options: dict[str, Any]) -> nx.MultiDiGraph:
    return catalog_graph(catalog, center=options.get("center"), depth=int(2 if options.get("depth") is None else options["depth"]),
                         query=options.get("query"), relations=options.get("relations") or None)


@register("graphml", "GraphML: the match graph with scores (Gephi, Cytoscape, networkx)")
def export_graphml(catalog: Catalog, **options: Any) -> str:
    """The match graph (or a view of it) as GraphML."""
    return to_graphml(_view(catalog, options))


@register("gexf", "GEXF: the match graph with scores (Gephi)")
def export_gexf(catalog: Catalog, **options: Any) -> str:
    """The match graph (or a view of it) as GEXF."""
    return to_gexf(_view(catalog, options))


@register("json", "networkx node-link JSON of the match graph with scores")
def export_node_link(catalog: Catalog, **options: Any) -> str:
    """The match graph (or a view of it) as node-link JSON."""
    return to_node_link(_view(catalog, options))
