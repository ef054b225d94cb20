"""Find the entity a user means: by slug, IRI, name or alias (any case), with close candidates.

Lookups are SPARQL queries against the store's indexes, so their cost does not grow with the
catalog; only the error path (suggesting candidates) scans labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Literal, URIRef

from ..store.catalog import Catalog
from ..errors import AmbiguousEntity, EntityNotFound
from ..sources.linking import EntityIndex, normalise_name
from ..vocab import ID, KIND_OF_CLASS, entity_iri, is_slug, slug_of, slugify
from .rows import select_values

__all__ = ["EntityRef", "resolve_entity", "describe_entity", "described_alternatives"]


@dataclass(frozen=True)
class EntityRef:
    """An entity found in the catalog."""

    slug: str
    iri: URIRef
    name: str
    kind: str | None
    stub: bool

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly form."""
        return {"id": self.slug, "iri": str(self.iri), "name": self.name, "kind": self.kind, "stub": self.stub}


def describe_entity(catalog: Catalog, iri: URIRef) -> EntityRef | None:
    """Return the entity at ``iri`` (None when the catalog has no such entity)."""
    rows = catalog.rows("""SELECT ?name ?cls ?stub WHERE { ?e a mg:Entity .
        OPTIONAL { ?e schema:name ?name } OPTIONAL { ?e a ?cls FILTER(?cls != mg:Entity) }
        OPTIONAL { ?e mg:isStub ?stub } }""", {"e": iri})
    if not rows:
        return None
    name = next((str(r[0]) for r in rows if r[0] is not None), slug_of(str(iri)))
    kind = next((KIND_OF_CLASS[r[1]] for r in rows if r[1] in KIND_OF_CLASS), None)
    stub = any(r[2] is not None and r[2].toPython() is True for r in rows) and kind is None
    return EntityRef(slug_of(str(iri)), iri, name, kind, stub)


def _by_label(catalog: Catalog, text: str) -> list[URIRef]:
    """Entities whose name, alias or hub id equals ``text`` ignoring case."""
    rows = catalog.rows("""SELECT DISTINCT ?e WHERE {
        { ?e schema:name ?l } UNION { ?e schema:alternateName ?l } UNION { ?e mg:hubId ?l }
        ?e a mg:Entity . FILTER(LCASE(STR(?l)) = ?q) }""", {"q": Literal(text.lower())})
    return sorted(URIRef(r[0]) for r in rows)


def resolve_entity(catalog: Catalog, text: str) -> EntityRef:
    """Resolve what a user typed to one entity.

    Parameters
    ----------
    catalog : Catalog
    text : str
        A slug (``the-pile``), a name or alias in any case (``The Pile``), or a full IRI.

    Returns
    -------
    EntityRef

    Raises
    ------
    EntityNotFound
        Nothing matches; carries the closest candidates.
    AmbiguousEntity
        Several entities share the name; carries them.
    """
    query = text.strip()
    candidates: list[URIRef] = []
    if query.startswith(("http://", "https://")):
        candidates = [URIRef(query)]
    else:
        for slug in dict.fromkeys([query, query.lower(), slugify(query)]):
            if slug and is_slug(slug) and catalog.ask("ASK { ?e a mg:Entity }", {"e": entity_iri(slug)}):
                candidates = [entity_iri(slug)]
                break
        if not candidates:
            candidates = _by_label(catalog, query)
    if len(candidates) > 1:
        raise AmbiguousEntity(query, [slug_of(str(c)) for c in candidates])
    if candidates:
        ref = describe_entity(catalog, candidates[0])
        if ref is not None:
            return ref
    raise EntityNotFound(query, _closest(catalog, query))


def _closest(catalog: Catalog, text: str, n: int = 5, *, described: bool = False) -> list[str]:
    """The slugs closest to ``text`` (normalised label similarity); the "did you mean" of
    :class:`EntityNotFound`.

    Parameters
    ----------
    catalog : Catalog
    text : str
        What the user typed (or a stub's name).
    n : int
        At most this many.
    described : bool
        Only entities a source describes (no stubs); first those with a label that starts with
        ``text`` as a word (``BERT-base``), then as the name part of a hub id (``owner/bert-...``),
        then as letters (``BERTA``), shorter labels first, then the closest by similarity: for the
        stub ``bert``, ``bert-base-uncased`` before ``sentence-transformers`` (whose alias SBERT is
        closer by letters).
    """
    key = normalise_name(text)
    index = EntityIndex()
    no_stubs = "FILTER NOT EXISTS { ?e mg:isStub true }" if described else ""
    rows = select_values(catalog, f"""SELECT ?e ?l WHERE {{ ?e a mg:Entity . {no_stubs}
        {{ ?e schema:name ?l }} UNION {{ ?e schema:alternateName ?l }} UNION {{ ?e dcterms:identifier ?l }} }}""")
    for e, label in rows:  # plain strings (no rdflib term per row: 230k rows at 100k entities)
        if e and label is not None and e.startswith(str(ID)):
            index.add(slug_of(e), None, [label])
    if not key:
        return []
    if not described:
        return index.closest(text, n)
    whole = re.compile(rf"{re.escape(text.strip())}(?![a-z0-9])", re.IGNORECASE)
    ranked = []
    for slug, labels in index.labels.items():
        tiers = [(0 if whole.match(label) else 1 if whole.match(label.rsplit("/", 1)[-1]) else
                  2 if normalise_name(label).startswith(key) else 3, len(label)) for label in labels]
        best = min(tiers)
        if best[0] < 3:
            ranked.append((best, slug))
    return list(dict.fromkeys([slug for _, slug in sorted(ranked)] + index.closest(text, n)))[:n]


def described_alternatives(catalog: Catalog, ref: EntityRef, n: int = 5) -> list[str]:
    """For a stub (an entity other entries name but no source describes), the described entities
    with close names, best first: what the user more likely meant (``bert`` -> ``bert-base-uncased``).

    Parameters
    ----------
    catalog : Catalog
    ref : EntityRef
        The entity resolved; an empty list when it is not a stub.
    n : int
        At most this many.

    Returns
    -------
    list of str
        Slugs.
    """
    if not ref.stub:
        return []
    return _closest(catalog, ref.name if normalise_name(ref.name) else ref.slug, n, described=True)
