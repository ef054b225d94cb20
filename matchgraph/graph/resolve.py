"""Find the entity a user means: by slug, IRI, name or alias (any case), with close candidates.

Slug lookups are SPARQL queries against the store's indexes, so their cost does not grow with the
catalog. A name or alias in any case, and the candidates suggested when nothing matches, are
found by scanning every label: :class:`EntityLookup` does that scan on the store at each call (a
command resolves a name or two), :class:`CachedLookup` once for a catalog version, keeping the
labels in memory (``matchgraph serve`` resolves one per request).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from rdflib import Literal, URIRef

from ..store.catalog import Catalog
from ..env import is_http_url, lower_scheme
from ..errors import AmbiguousEntity, EntityNotFound
from ..sources.linking import EntityIndex, normalise_name
from ..vocab import ID, KIND_OF_CLASS, entity_iri, is_slug, slug_of, slugify
from .rows import select_values

__all__ = ["EntityRef", "EntityLookup", "CachedLookup", "resolve_entity", "describe_entity",
           "described_alternatives"]


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


_LABELS = """{ ?e schema:name ?l } UNION { ?e schema:alternateName ?l } UNION { ?e mg:hubId ?l }
        ?e a mg:Entity ."""
#: ``described`` is empty, or :data:`_NO_STUBS` to leave stubs out.
_CANDIDATE_LABELS = """SELECT ?e ?l WHERE {{ ?e a mg:Entity .{described}
        {{ ?e schema:name ?l }} UNION {{ ?e schema:alternateName ?l }} UNION {{ ?e dcterms:identifier ?l }} }}"""
_NO_STUBS = " FILTER NOT EXISTS { ?e mg:isStub true }"


class EntityLookup:
    """The label scans of :func:`resolve_entity`, run on the store at each call.

    Parameters
    ----------
    catalog : Catalog
    """

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def by_label(self, text: str) -> list[URIRef]:
        """Entities whose name, alias or hub id equals ``text`` ignoring case, sorted."""
        rows = self.catalog.rows(f"""SELECT DISTINCT ?e WHERE {{ {_LABELS}
            FILTER(LCASE(STR(?l)) = ?q) }}""", {"q": Literal(text.lower())})
        return sorted(URIRef(r[0]) for r in rows)

    def closest(self, text: str, n: int = 5, *, stubs: bool = True, prefixes_first: bool = False) -> list[str]:
        """The slugs closest to ``text`` (normalised label similarity, :meth:`EntityIndex.closest`).

        Parameters
        ----------
        text : str
        n : int
            At most this many.
        stubs : bool
            Stubs among them; ``False`` leaves them out (see :meth:`candidates`).
        prefixes_first : bool
            Put first the entities with a label that starts with ``text`` as a word (``BERT-base``),
            then as the name part of a hub id (``owner/bert-...``), then as letters (``BERTA``),
            shorter labels first, then the closest by similarity: for ``bert``, ``bert-base-uncased``
            before ``sentence-transformers`` (whose alias SBERT is closer by letters).

        Returns
        -------
        list of str
            Slugs, best first; empty when ``text`` has no letter or digit.
        """
        key = normalise_name(text)
        if not key:
            return []
        index = self.candidates(stubs=stubs)
        if not prefixes_first:
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

    def candidates(self, *, stubs: bool = True) -> EntityIndex:
        """Every entity under its names, aliases and identifiers: what :meth:`closest` ranks.

        Parameters
        ----------
        stubs : bool
            ``False`` leaves stubs out: only the entities a source describes.
        """
        index = EntityIndex()
        query = _CANDIDATE_LABELS.format(described="" if stubs else _NO_STUBS)
        for e, label in select_values(self.catalog, query):  # plain strings: 230k rows at 100k entities
            if e and label is not None and e.startswith(str(ID)):
                index.add(slug_of(e), None, [label])
        return index


class CachedLookup(EntityLookup):
    """:class:`EntityLookup` reading the labels once, for one catalog version.

    The lowercased labels are read on the first :meth:`by_label` (one query), the candidate index
    on the first :meth:`closest`; both then answer from memory. Whoever keeps one makes a new one
    when the catalog moves to another version. Safe to share between threads.

    Parameters
    ----------
    catalog : Catalog
    version : str
        The catalog version it was made for (kept for the owner's check).
    """

    def __init__(self, catalog: Catalog, version: str) -> None:
        super().__init__(catalog)
        self.version = version
        self._labels: dict[str, list[URIRef]] | None = None
        self._candidates: EntityIndex | None = None
        self._lock = threading.Lock()

    def by_label(self, text: str) -> list[URIRef]:
        """As :meth:`EntityLookup.by_label`, from memory."""
        return list(self._lowercased().get(text.lower(), []))

    def _lowercased(self) -> dict[str, list[URIRef]]:
        """Lowercased label -> entities, read on the first call."""
        with self._lock:
            if self._labels is None:
                # lowercased by the store's LCASE, as the query of EntityLookup.by_label compares them
                found: dict[str, set[str]] = {}
                for e, key in select_values(self.catalog, f"SELECT DISTINCT ?e (LCASE(STR(?l)) AS ?k) WHERE {{ {_LABELS} }}"):
                    if e is not None and key is not None:
                        found.setdefault(key, set()).add(e)
                self._labels = {key: sorted(URIRef(e) for e in iris) for key, iris in found.items()}
            return self._labels

    def warm(self) -> None:
        """Read the labels, then the candidate index, now (a server does it in a background thread
        when a version appears, so that its first requests find them in memory)."""
        self._lowercased()
        self.candidates()

    def candidates(self, *, stubs: bool = True) -> EntityIndex:
        """As :meth:`EntityLookup.candidates`, read once (those without stubs are read at each call)."""
        if not stubs:
            return super().candidates(stubs=False)
        with self._lock:
            if self._candidates is None:
                self._candidates = super().candidates()
        return self._candidates


def resolve_entity(catalog: Catalog, text: str, *, lookup: EntityLookup | None = None,
                   suggest: bool = True) -> EntityRef:
    """Resolve what a user typed to one entity.

    Parameters
    ----------
    catalog : Catalog
    text : str
        A slug (``the-pile``), a name or alias in any case (``The Pile``), or a full IRI.
    lookup : EntityLookup, optional
        Where names and candidates are looked up; by default a scan of the store per call
        (a :class:`CachedLookup` answers from memory).
    suggest : bool
        Find the closest candidates when nothing matches (the costly part of a miss).

    Returns
    -------
    EntityRef

    Raises
    ------
    EntityNotFound
        Nothing matches; carries the closest candidates (none when ``suggest`` is false).
    AmbiguousEntity
        Several entities share the name; carries them.
    """
    lookup = lookup or EntityLookup(catalog)
    query = text.strip()
    candidates: list[URIRef] = []
    if is_http_url(query):
        candidates = [URIRef(lower_scheme(query))]
    else:
        for slug in dict.fromkeys([query, query.lower(), slugify(query)]):
            if slug and is_slug(slug) and catalog.ask("ASK { ?e a mg:Entity }", {"e": entity_iri(slug)}):
                candidates = [entity_iri(slug)]
                break
        if not candidates:
            candidates = lookup.by_label(query)
    if len(candidates) > 1:
        raise AmbiguousEntity(query, [slug_of(str(c)) for c in candidates])
    if candidates:
        ref = describe_entity(catalog, candidates[0])
        if ref is not None:
            return ref
    raise EntityNotFound(query, lookup.closest(query) if suggest else [])


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
    return EntityLookup(catalog).closest(ref.name if normalise_name(ref.name) else ref.slug, n, stubs=False,
                                         prefixes_first=True)
