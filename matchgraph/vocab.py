"""Namespaces, IRI minting and slugs.

Every IRI matchgraph writes is minted here, so the shape of identifiers is decided in one place:

- entities: ``https://w3id.org/matchgraph/id/{slug}``
- things owned by an entity (capabilities, claims, metrics, scores): below the entity IRI
- capability concepts: ``https://w3id.org/matchgraph/concept/{slug}``
- source documents (one named graph each): ``https://w3id.org/matchgraph/source/{hash}``
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from rdflib import DCAT, DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD, Namespace, URIRef

BASE = "https://w3id.org/matchgraph/"
MG = Namespace(BASE + "ns#")
ID = Namespace(BASE + "id/")
CONCEPT = Namespace(BASE + "concept/")
ASPECT = Namespace(BASE + "aspect/")
SOURCE = Namespace(BASE + "source/")
RUN = Namespace(BASE + "run/")
SCHEMA = Namespace("https://schema.org/")

#: Named graph holding catalog bookkeeping (version, ingested sources); not part of the data.
META_GRAPH = URIRef(BASE + "graph/meta")
#: Named graph holding stub entities minted by linking.
STUB_GRAPH = URIRef(BASE + "graph/stubs")
#: Named graph holding computed scores.
SCORE_GRAPH = URIRef(BASE + "graph/scores")
#: Named graph holding recorded match events.
MATCH_GRAPH = URIRef(BASE + "graph/matches")
#: Named graph holding the vocabulary and the capability scheme, so SPARQL can read their labels.
ONTOLOGY_GRAPH = URIRef(BASE + "graph/ontology")
#: The catalog itself, subject of the version triple.
CATALOG = URIRef(BASE + "catalog")

PREFIXES: dict[str, Namespace] = {
    "mg": MG,
    "mgid": ID,
    "mgc": CONCEPT,
    "mga": ASPECT,
    "schema": SCHEMA,
    "dcterms": DCTERMS,
    "dcat": DCAT,
    "prov": PROV,
    "skos": SKOS,
    "rdf": Namespace(str(RDF)),
    "rdfs": Namespace(str(RDFS)),
    "owl": Namespace(str(OWL)),
    "xsd": Namespace(str(XSD)),
}

#: Entity kinds: the word people write (any case) -> class IRI.
KINDS: dict[str, URIRef] = {
    "model": MG.Model,
    "dataset": MG.Dataset,
    "tool": MG.Tool,
    "library": MG.Library,
    "framework": MG.Framework,
    "benchmark": MG.Benchmark,
    "format": MG.Format,
    "method": MG.Method,
    "metric": MG.Metric,
    "service": MG.Service,
    "paper": MG.Paper,
}
#: Synonyms accepted for kinds.
KIND_SYNONYMS: dict[str, str] = {
    "models": "model",
    "datasets": "dataset",
    "corpus": "dataset",
    "data": "dataset",
    "tools": "tool",
    "software": "tool",
    "application": "tool",
    "app": "tool",
    "package": "library",
    "lib": "library",
    "libraries": "library",
    "frameworks": "framework",
    "benchmarks": "benchmark",
    "task": "benchmark",
    "evaluation": "benchmark",
    "file format": "format",
    "file-format": "format",
    "formats": "format",
    "technique": "method",
    "algorithm": "method",
    "methods": "method",
    "api": "service",
    "platform": "service",
}
KIND_OF_CLASS: dict[URIRef, str] = {v: k for k, v in KINDS.items()}

#: Relations between entities: canonical key -> property IRI.
RELATIONS: dict[str, URIRef] = {
    "derivedFrom": MG.derivedFrom,
    "trainedOn": MG.trainedOn,
    "subsetOf": MG.subsetOf,
    "integratesWith": MG.integratesWith,
    "supportsFormat": MG.supportsFormat,
    "evaluatedOn": MG.evaluatedOn,
    "supersededBy": MG.supersededBy,
    "implements": MG.implements,
    "usesMethod": MG.usesMethod,
    "alternativeTo": MG.alternativeTo,
}
RELATION_OF_PROPERTY: dict[URIRef, str] = {v: k for k, v in RELATIONS.items()}
#: Lineage relations (used for projection edges and adoption evidence).
LINEAGE = ("derivedFrom", "trainedOn", "subsetOf")
#: Integration relations.
INTEGRATION = ("integratesWith", "supportsFormat", "evaluatedOn", "implements", "usesMethod")

#: Aspects an alternative claim can compare on.
ASPECTS = ("speed", "memory", "quality", "coverage", "cost", "size", "safety", "flexibility",
           "simplicity", "transparency", "efficiency", "adoption", "portability", "scale")


def slugify(text: str) -> str:
    """Turn a name into a lowercase kebab-case slug.

    Parameters
    ----------
    text : str
        Any name, e.g. ``"The Pile"`` or ``"sentence-transformers/all-MiniLM-L6-v2"``.

    Returns
    -------
    str
        The slug, e.g. ``"the-pile"``. A name with letters but none in ASCII (``"日本語データ"``)
        gets ``item-`` and 8 hex digits of its SHA-1, so two such names are two entities;
        ``"item"`` when nothing usable is left (:func:`is_fallback_slug` tells both).

    Examples
    --------
    >>> slugify("The Pile")
    'the-pile'
    >>> slugify("sentence-transformers/all-MiniLM-L6-v2")
    'sentence-transformers-all-minilm-l6-v2'
    >>> slugify("日本語データ") != slugify("中文模型") and is_fallback_slug(slugify("中文模型"))
    True
    """
    normal = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    normal = normal.lower().replace("+", " plus ").replace("&", " and ")
    slug = re.sub(r"[^a-z0-9.]+", "-", normal).strip("-.")
    slug = re.sub(r"(?<!\d)\.|\.(?!\d)", "-", slug)
    slug = re.sub(r"-{2,}", "-", slug).strip("-")
    if slug:
        return slug
    if any(ch.isalnum() for ch in text):
        key = " ".join(unicodedata.normalize("NFKC", text).casefold().split())  # case and spacing do not count
        return "item-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return "item"


_FALLBACK = re.compile(r"item(?:-[0-9a-f]{8})?")


def is_fallback_slug(slug: str) -> bool:
    """True for a slug :func:`slugify` made up because the name has no ASCII letters or digits."""
    return bool(_FALLBACK.fullmatch(slug))


def is_slug(text: str) -> bool:
    """Say whether ``text`` is a valid entity slug (lowercase kebab-case, digits and dots allowed)."""
    return bool(re.fullmatch(r"[a-z0-9](?:[a-z0-9.\-]*[a-z0-9])?", text))


def entity_iri(slug: str) -> URIRef:
    """Return the IRI of the entity with this slug."""
    return ID[slug]


def slug_of(iri: str) -> str:
    """Return the slug of an entity IRI (the IRI itself when it is not one of ours)."""
    text = str(iri)
    return text[len(str(ID)):] if text.startswith(str(ID)) else text


def slug_for(iri: str) -> str:
    """A slug to suggest for an entity whose IRI is not one of ours: from its last segment or fragment.

    Examples
    --------
    >>> slug_for("file:///etc/passwd"), slug_for("file:///home/me/data.ttl#Rel")
    ('passwd', 'rel')
    """
    return slugify(str(iri).rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1])


def capability_iri(entity_slug: str, position: int) -> URIRef:
    """Return the IRI of an entity's capability at a 1-based position."""
    return ID[f"{entity_slug}/capability/{position}"]


def claim_iri(capability: URIRef, kind: str) -> URIRef:
    """Return the IRI of a capability's claim; ``kind`` is ``unique`` or ``alternative``."""
    return URIRef(f"{capability}/{kind}")


def metric_iri(entity_slug: str, metric: str) -> URIRef:
    """Return the IRI of an entity's usage metric."""
    return ID[f"{entity_slug}/metric/{slugify(metric)}"]


def observation_iri(source: URIRef, entity_slug: str, field: str) -> URIRef:
    """Return the IRI of a figure observed about an entity in a source document."""
    return URIRef(f"{source}/observation/{entity_slug}/{slugify(field)}")


def source_iri(key: str) -> URIRef:
    """Return the IRI (and named graph) of a source document identified by ``key`` (its path)."""
    return SOURCE[hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]]


def concept_iri(slug: str) -> URIRef:
    """Return the IRI of a capability concept."""
    return CONCEPT[slug]


def aspect_iri(name: str) -> URIRef:
    """Return the IRI of a comparison aspect (speed, memory, quality, ...)."""
    return ASPECT[slugify(name)]


def sparql_prefixes() -> str:
    """Return the PREFIX lines every matchgraph query has predeclared."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


def normalise_kind(text: str) -> str | None:
    """Map a kind as written (any case, plural, synonym) to a canonical kind, or None."""
    key = re.sub(r"\s+", " ", str(text).strip().lower())
    key = KIND_SYNONYMS.get(key, key)
    return key if key in KINDS else None
