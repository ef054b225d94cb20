"""Entity descriptions as linked data: Turtle, JSON-LD and N-Triples, chosen by content negotiation.

``/entity/the-pile`` answers HTML to browsers and RDF to clients asking for it (``Accept:
text/turtle``, ``application/ld+json``, ``application/n-triples``); ``/entity/the-pile.ttl`` (or
``.jsonld``, ``.nt``) and ``?format=ttl`` name a format outright, so a browser can follow a link.

The description is the entity's own statements, its capabilities, their claims and its scores
(from every graph of the store), serialised by pyoxigraph with the project prefixes.

Examples
--------
>>> entity_rdf(catalog, "the-pile", "ttl")[:40]                 # doctest: +SKIP
b'@prefix dcat: <http://www.w3.org/ns/dcat#>'
"""

from __future__ import annotations

from typing import Any

from ..store.catalog import Catalog, ox_term
from ..vocab import PREFIXES, entity_iri

__all__ = ["FORMATS", "SUFFIXES", "entity_rdf", "entity_triples", "serialize", "format_key", "negotiate_entity",
           "split_suffix"]

#: Format key -> (media type, file suffix, label).
FORMATS: dict[str, tuple[str, str, str]] = {
    "ttl": ("text/turtle", ".ttl", "Turtle"),
    "jsonld": ("application/ld+json", ".jsonld", "JSON-LD"),
    "nt": ("application/n-triples", ".nt", "N-Triples"),
}
SUFFIXES = {suffix: key for key, (_, suffix, _) in FORMATS.items()}
_MEDIA = {media: key for key, (media, _, _) in FORMATS.items()} | {
    "application/x-turtle": "ttl", "application/json": "jsonld", "text/plain": "nt"}
_ALIASES = {"turtle": "ttl", "ttl": "ttl", "jsonld": "jsonld", "json-ld": "jsonld", "json": "jsonld",
            "nt": "nt", "ntriples": "nt", "n-triples": "nt"}

_DESCRIBE = """CONSTRUCT {{ ?e ?p ?o . ?c ?cp ?co . ?cl ?lp ?lo . ?s ?sp ?so }}
WHERE {{ VALUES ?e {{ {iri} }}
  {{ ?e ?p ?o }}
  UNION {{ ?e mg:hasCapability ?c . ?c ?cp ?co }}
  UNION {{ ?e mg:hasCapability ?c0 . ?c0 mg:hasClaim ?cl . ?cl ?lp ?lo }}
  UNION {{ ?e mg:hasScore ?s . ?s ?sp ?so }}
}}"""


def format_key(name: str | None) -> str | None:
    """The format a ``format=`` value names (``ttl``, ``turtle``, ``jsonld``, ``nt`` ...), else None."""
    return _ALIASES.get((name or "").strip().lower())


def negotiate_entity(accept: str | None) -> str | None:
    """The RDF format key an ``Accept`` header prefers over HTML, or None for the HTML page.

    Examples
    --------
    >>> negotiate_entity("text/turtle"), negotiate_entity("text/html,*/*;q=0.8")
    ('ttl', None)
    >>> negotiate_entity("application/ld+json;q=0.9, text/html;q=0.5")
    'jsonld'
    """
    best: tuple[float, int, str | None] | None = None
    for position, part in enumerate((accept or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        key: str | None
        if media in ("text/html", "application/xhtml+xml", "*/*", "text/*"):
            key = None
        elif media in _MEDIA:
            key = _MEDIA[media]
        else:
            continue
        candidate = (-q, position, key)
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    return best[2] if best else None


def split_suffix(ident: str) -> tuple[str, str | None]:
    """``("the-pile", "ttl")`` for ``the-pile.ttl``; ``(ident, None)`` without a known suffix."""
    for suffix, key in SUFFIXES.items():
        if ident.endswith(suffix) and len(ident) > len(suffix):
            return ident[: -len(suffix)], key
    return ident, None


def entity_triples(catalog: Catalog, slug: str) -> list[Any]:
    """The triples describing entity ``slug`` (pyoxigraph triples, sorted)."""
    import pyoxigraph as ox

    query = _DESCRIBE.format(iri=entity_iri(slug).n3())
    store = catalog.oxigraph
    if store is not None:
        from ..vocab import sparql_prefixes

        triples: list[Any] = list(store.query(sparql_prefixes() + query, use_default_graph_as_union=True))
    else:
        triples = [ox.Triple(*(ox_term(t) for t in triple)) for triple in catalog.query(query)]
    triples.sort(key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    return triples


def serialize(triples: list[Any], key: str) -> bytes:
    """Triples in format ``key`` (``ttl`` and ``jsonld`` with the project prefixes)."""
    import pyoxigraph as ox

    formats = {"ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD, "nt": ox.RdfFormat.N_TRIPLES}
    prefixes = {p: str(ns) for p, ns in PREFIXES.items()} if key != "nt" else None
    return ox.serialize(triples, format=formats[key], prefixes=prefixes)


def entity_rdf(catalog: Catalog, slug: str, key: str) -> bytes:
    """The description of entity ``slug`` serialised as ``key`` (``ttl``, ``jsonld`` or ``nt``).

    Parameters
    ----------
    catalog : Catalog
        A local (Oxigraph) catalog.
    slug : str
        An entity's id (already resolved).
    key : str
        A key of :data:`FORMATS`.
    """
    return serialize(entity_triples(catalog, slug), key)
