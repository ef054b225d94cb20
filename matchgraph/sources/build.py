"""Records -> RDF: turn what the parsers read into triples, linking every name to an entity.

The one place that decides which triples describe an entity, a capability, a claim, a metric,
an observation or a benchmark result. Each source file becomes one named graph; stubs for
names that resolve to nothing go to :data:`matchgraph.vocab.STUB_GRAPH`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from rdflib import DCTERMS, OWL, PROV, RDF, XSD, Graph, Literal, URIRef

from ..errors import ConflictError, Location, SchemaError
from .linking import EntityIndex, find_mentions, stub_slug
from .records import CapabilityRecord, EntityRecord, SourceRecords
from ..vocab import (
    KIND_OF_CLASS, KINDS, META_GRAPH, MG, RELATIONS, SCHEMA, STUB_GRAPH, aspect_iri, capability_iri, claim_iri,
    entity_iri, metric_iri, normalise_kind, observation_iri, slug_of, slugify, source_iri,
)

__all__ = ["Batch", "build_batch", "EXTRA_PROPERTIES", "detect_aspects", "capability_key", "capability_title"]

#: Literal facts an importer may attach to an entity: key -> property.
EXTRA_PROPERTIES: dict[str, URIRef] = {
    "tag": MG.tag,
    "keyword": SCHEMA.keywords,
    "language": MG.language,
    "pipeline_tag": MG.pipelineTag,
    "hub_id": MG.hubId,
    "version": SCHEMA.version,
    "issued": DCTERMS.issued,
    "modified": DCTERMS.modified,
    "citation": SCHEMA.citation,
    "creator": DCTERMS.creator,
    "publisher": DCTERMS.publisher,
    "parameters": MG.parameterCount,
    "same_as": OWL.sameAs,
    "see_also": SCHEMA.sameAs,
    "encoding_format": SCHEMA.encodingFormat,
    "modality": MG.modality,
    "note": SCHEMA.comment,
    "conforms_to": DCTERMS.conformsTo,
}

_ASPECT_WORDS: dict[str, tuple[str, ...]] = {
    "speed": ("faster", "slower", "speed", "latency", "throughput", "quicker", "fast ", "convergence", "decompression"),
    "memory": ("memory", "vram", " ram", "footprint"),
    "size": ("smaller", "larger", "parameter", "model size", "compact", "lighter", "tokens)"),
    "quality": ("quality", "accura", "superior", "outperform", "better", "competitive", "rigorous", "performance"),
    "coverage": ("coverage", "broader", "comprehensive", "divers", "breadth", "domains"),
    "cost": ("cost", "cheaper", "price", "expensive", "free"),
    "safety": ("safer", "safety", "secure", "untrusted", "pickle"),
    "flexibility": ("flexib", "agnostic", "portable", "interoperab"),
    "simplicity": ("simpler", "simple", "easier", "accessible", "no schema"),
    "transparency": ("transparen", "attribution", "documented", "provenance"),
    "efficiency": ("efficien", "storage", "compression"),
    "adoption": ("widely adopted", "adoption", "popular"),
    "scale": ("scale", "1.5t", "billion", "trillion", "massive"),
}


def detect_aspects(text: str) -> list[str]:
    """Return the aspects an alternative claim compares on, in a fixed order.

    Examples
    --------
    >>> detect_aspects("Faster and more memory-efficient than RoBERTa-base")
    ['speed', 'memory', 'efficiency']
    """
    low = " " + text.lower() + " "
    return [aspect for aspect, words in _ASPECT_WORDS.items() if any(w in low for w in words)]


@dataclass
class Batch:
    """The graphs one ingest call writes, and what it found."""

    graphs: dict[URIRef, Graph] = field(default_factory=dict)
    sources: list[tuple[URIRef, str, str]] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)
    stubs: dict[str, str] = field(default_factory=dict)
    capabilities: int = 0
    claims: int = 0
    links: int = 0

    @property
    def triple_count(self) -> int:
        """Triples about to be written."""
        return sum(len(g) for g in self.graphs.values())


def _lit(value: Any) -> Literal:
    if isinstance(value, bool):
        return Literal(value)
    if isinstance(value, int):
        return Literal(value, datatype=XSD.integer)
    if isinstance(value, float):
        return Literal(value if not value.is_integer() else int(value),
                       datatype=XSD.decimal if not value.is_integer() else XSD.integer)
    if isinstance(value, datetime):
        return Literal(value.replace(microsecond=0))
    if isinstance(value, date):
        return Literal(value, datatype=XSD.date)
    return Literal(str(value))


def _check_conflicts(sources: list[SourceRecords]) -> dict[str, EntityRecord]:
    """Merge records sharing an id; raise when they disagree on a single-valued fact."""
    first: dict[str, EntityRecord] = {}
    for source in sources:
        for rec in source.entities:
            prev = first.get(rec.id)
            if prev is None:
                first[rec.id] = rec
                continue
            for key in ("name", "kind", "description", "license", "url", "pricing"):
                a, b = getattr(prev, key), getattr(rec, key)
                if key == "kind":
                    a, b = (normalise_kind(a) if a else None), (normalise_kind(b) if b else None)
                if a and b and str(a).strip() != str(b).strip():
                    raise ConflictError(
                        f"entity {rec.id!r} has {key} {b!r} here but {a!r} at {prev.where(key)}",
                        location=rec.where(key),
                        hint="give each entity its facts in one place, or make both agree")
    return first


#: Single-valued facts a source may give an entity, with the property each is stored under.
_FACT_PROPERTIES: dict[str, URIRef] = {"name": SCHEMA.name, "description": DCTERMS.description,
                                       "license": DCTERMS.license, "url": SCHEMA.url, "pricing": MG.pricing}


def _catalog_conflicts(catalog: Any, records: dict[str, EntityRecord], replaced: set[URIRef]) -> None:
    """Raise when the store already gives an entity another kind or another single-valued fact.

    Facts from the sources this write replaces, and from stubs, do not count. The check is the
    one :func:`_check_conflicts` makes within a call, so the outcome does not depend on whether
    two files are ingested together or one after the other.
    """
    slugs = sorted(records)
    kinds = " ".join(k.n3() for k in KINDS.values())
    props = " ".join(p.n3() for p in _FACT_PROPERTIES.values())
    for i in range(0, len(slugs), 500):
        values = " ".join(entity_iri(s).n3() for s in slugs[i:i + 500])
        rows = catalog.rows(f"""SELECT ?e ?p ?v ?g WHERE {{ VALUES ?e {{ {values} }}
            {{ VALUES ?v {{ {kinds} }} BIND(rdf:type AS ?p) GRAPH ?g {{ ?e a ?v }} }}
            UNION {{ VALUES ?p {{ {props} }} GRAPH ?g {{ ?e ?p ?v }} }}
            FILTER(?g != {STUB_GRAPH.n3()}) }}""")
        for e, p, v, g in sorted(rows, key=lambda r: (str(r[0]), r[1] != RDF.type, str(r[1]), str(r[3]), str(r[2]))):
            if URIRef(g) in replaced:
                continue
            rec = records[slug_of(str(e))]
            key, mine, theirs = _compare_fact(rec, URIRef(p), v)
            if mine is None or theirs is None or mine == theirs:
                continue
            paths = catalog.rows(f"SELECT ?path WHERE {{ GRAPH {META_GRAPH.n3()} {{ {URIRef(g).n3()} mg:sourcePath ?path }} }}")
            origin = f" (from {paths[0][0]})" if paths else ""
            message = (f"entity {rec.id!r} is a {mine} here but the catalog already has it as a {theirs}{origin}"
                       if key == "kind" else
                       f"entity {rec.id!r} has {key} {mine!r} here but {theirs!r} in the catalog{origin}")
            raise ConflictError(message, location=rec.where(key),
                                hint="make both sources agree, or re-ingest the other file together with this one")


def _compare_fact(rec: EntityRecord, prop: URIRef, value: Any) -> tuple[str, str | None, str | None]:
    """(key, value in the record, value in the store) of one stored fact, both normalised."""
    if prop == RDF.type:
        mine = normalise_kind(rec.kind) if rec.kind else None
        return "kind", mine, KIND_OF_CLASS.get(URIRef(value))
    key = next(k for k, v in _FACT_PROPERTIES.items() if v == prop)
    mine = getattr(rec, key)
    return key, (str(mine).strip() if mine else None), str(value).strip()


class _Builder:
    def __init__(self, index: EntityIndex, batch: Batch, classify: Any) -> None:
        self.index = index
        self.batch = batch
        self.classify = classify

    def link(self, name: str, graph: Graph, *, location: Location | None) -> URIRef:
        """Resolve a name (id, name, alias, IRI) to an entity, minting a stub when unknown."""
        hits = self.index.resolve(name)
        if hits:
            self.batch.links += 1
            return entity_iri(hits[0])
        slug = stub_slug(name)
        if not self.index.resolve(slug):
            self.index.add(slug, name, stub=True)
            self.batch.stubs[slug] = name
        return entity_iri(self.index.resolve(slug)[0])

    def entity(self, rec: EntityRecord, graph: Graph, source: URIRef) -> URIRef:
        e = entity_iri(rec.id)
        g = graph
        g.add((e, RDF.type, MG.Entity))
        kind = normalise_kind(rec.kind) if rec.kind else None
        if rec.kind and kind is None:
            raise SchemaError(f"unknown kind {rec.kind!r} for entity {rec.id!r}", location=rec.where("kind"),
                              hint="use one of: " + ", ".join(KINDS))
        if kind:
            g.add((e, RDF.type, KINDS[kind]))
        g.add((e, DCTERMS.identifier, Literal(rec.id)))
        g.add((e, SCHEMA.name, Literal(rec.name)))
        for alias in rec.aliases:
            if alias and alias != rec.name:
                g.add((e, SCHEMA.alternateName, Literal(alias)))
        if rec.description:
            g.add((e, DCTERMS.description, Literal(rec.description)))
        if rec.pricing:
            g.add((e, MG.pricing, Literal(rec.pricing)))
        if rec.license:
            g.add((e, DCTERMS.license, Literal(rec.license)))
        if rec.url:
            g.add((e, SCHEMA.url, URIRef(rec.url)))
        if rec.declared_capabilities is not None:
            g.add((e, MG.declaredCapabilityCount, Literal(int(rec.declared_capabilities))))
        g.add((e, PROV.wasDerivedFrom, source))
        if rec.location and rec.location.line:
            g.add((e, MG.sourceLine, Literal(rec.location.line)))
        for name, value in sorted(rec.metrics.items()):
            m = metric_iri(rec.id, name)
            g.add((e, MG.hasMetric, m))
            g.add((m, RDF.type, MG.UsageMetric))
            g.add((m, MG.metricName, Literal(slugify(name).replace("-", "_"))))
            g.add((m, SCHEMA.value, _lit(value)))
            g.add((m, PROV.wasDerivedFrom, source))
        for key, targets in rec.relations.items():
            prop = RELATIONS[key]
            for target in targets:
                other = self.link(target, g, location=rec.where(f"relations.{key}"))
                if other != e:
                    g.add((e, prop, other))
        for key, value in rec.extra:
            prop = EXTRA_PROPERTIES[key]
            if key == "same_as":
                g.add((e, prop, URIRef(str(value))))
            else:
                g.add((e, prop, _lit(value)))
        self.results(rec, g, e, source)
        self.capabilities(rec, g, e, source)
        self.observations(rec, g, e, source)
        return e

    def results(self, rec: EntityRecord, g: Graph, e: URIRef, source: URIRef) -> None:
        for i, res in enumerate(rec.results, start=1):
            r = URIRef(f"{e}/result/{slugify(res.benchmark)}-{slugify(res.metric)}-{i}")
            bench = self.link(res.benchmark, g, location=res.location)
            g.add((e, MG.hasResult, r))
            g.add((r, RDF.type, MG.BenchmarkResult))
            g.add((r, MG.onBenchmark, bench))
            g.add((r, MG.metric, Literal(res.metric)))
            g.add((r, SCHEMA.value, _lit(float(res.value))))
            g.add((r, PROV.wasDerivedFrom, source))
            g.add((e, MG.evaluatedOn, bench))

    def capabilities(self, rec: EntityRecord, g: Graph, e: URIRef, source: URIRef) -> None:
        used: set[str] = set()
        for position, cap in enumerate(rec.capabilities, start=1):
            title = capability_title(cap)
            key = capability_key(cap) or str(position)
            if key in used:
                key = f"{key}-{position}"
            used.add(key)
            c = capability_iri(rec.id, 0)
            c = URIRef(str(c)[: -len("/0")] + "/" + key)
            self.batch.capabilities += 1
            g.add((e, MG.hasCapability, c))
            g.add((c, RDF.type, MG.Capability))
            g.add((c, MG.capabilityOf, e))
            g.add((c, SCHEMA.name, Literal(title)))
            g.add((c, DCTERMS.description, Literal(cap.description)))
            g.add((c, MG.position, Literal(position)))
            g.add((c, PROV.wasDerivedFrom, source))
            if cap.location and cap.location.line:
                g.add((c, MG.sourceLine, Literal(cap.location.line)))
            self.concepts(cap, title, g, c)
            self.claim(rec, cap.unique, "unique", cap.unique_location, g, c, source)
            self.claim(rec, cap.alternatives, "alternative", cap.alternatives_location, g, c, source)

    def concepts(self, cap: CapabilityRecord, title: str, g: Graph, c: URIRef) -> None:
        from ..vocab import concept_iri
        evidence: list[str] = []
        for slug in cap.concepts:
            g.add((c, MG.concept, concept_iri(slug)))
            evidence.append(f"{slug}: given by the source")
        if self.classify is not None and not cap.concepts:
            matches = self.classify.classify(f"{title}. {cap.description}")
            for m in matches:
                g.add((c, MG.concept, m.concept))
            if matches:
                evidence.append(self.classify.explain(matches))
        if evidence:
            g.add((c, MG.conceptEvidence, Literal("\n".join(evidence))))

    def claim(self, rec: EntityRecord, text: str | None, kind: str, loc: Location | None,
              g: Graph, c: URIRef, source: URIRef) -> None:
        if not text:
            return
        cl = claim_iri(c, kind)
        self.batch.claims += 1
        g.add((c, MG.hasClaim, cl))
        g.add((cl, RDF.type, MG.Claim))
        g.add((cl, RDF.type, MG.UniqueClaim if kind == "unique" else MG.AlternativeClaim))
        g.add((cl, MG.claimOf, c))
        g.add((cl, SCHEMA.text, Literal(text)))
        g.add((cl, PROV.wasDerivedFrom, source))
        if loc and loc.line:
            g.add((cl, MG.sourceLine, Literal(loc.line)))
        prop = MG.namesAlternative if kind == "alternative" else SCHEMA.mentions
        for name, slug in find_mentions(text, self.index, exclude=[rec.id]):
            other = entity_iri(slug) if slug else self.link(name, g, location=loc)
            if other != entity_iri(rec.id):
                g.add((cl, prop, other))
        if kind == "alternative":
            for aspect in detect_aspects(text):
                g.add((cl, MG.aspect, aspect_iri(aspect)))

    def observations(self, rec: EntityRecord, g: Graph, e: URIRef, source: URIRef) -> None:
        for obs in rec.observations:
            o = observation_iri(source, rec.id, obs.field)
            g.add((o, RDF.type, MG.SourceObservation))
            g.add((o, MG.observedEntity, e))
            g.add((o, MG.observedField, Literal(obs.field)))
            g.add((o, SCHEMA.value, Literal(obs.value)))
            g.add((o, PROV.wasDerivedFrom, source))
            if obs.location and obs.location.line:
                g.add((o, MG.sourceLine, Literal(obs.location.line)))


def capability_title(cap: CapabilityRecord) -> str:
    """A capability's title: its own, or one made from its description."""
    return cap.title or _title_from(cap.description)


def capability_key(cap: CapabilityRecord) -> str:
    """The last segment of a capability's IRI (``.../capability/parquet-files``), from its title."""
    return slugify(capability_title(cap))[:60].strip("-")


def _title_from(description: str) -> str:
    """A short title for a capability described only in prose: its first clause, at most 9 words."""
    sentence = re.split(r"(?<=[.!?])\s", description.strip(), maxsplit=1)[0].rstrip(".")
    words = sentence.split()
    for i, word in enumerate(words):
        if i >= 3 and (word.lower() in {"using", "through", "by", "with", "via", "that", "where", "which", "from",
                                          "across", "into", "on", "for", "while", "without"}
                       or words[i - 1].endswith((",", ";", ":"))):
            words = words[:i]
            break
    title = " ".join(words[:9]).rstrip(",;:")
    return title[:1].upper() + title[1:] if title else "Capability"


def build_batch(catalog: Any, sources: list[SourceRecords], *, index: EntityIndex,
                source_keys: dict[str, str], source_dates: dict[str, Any] | None = None,
                replaced: Iterable[URIRef] = ()) -> Batch:
    """Turn parsed sources into the named graphs of one write.

    Parameters
    ----------
    catalog : Catalog
        The catalog written to (for conflict checks).
    sources : list of SourceRecords
        What the parsers read.
    index : EntityIndex
        Entities already known (from the store); the batch's entities are added to it.
    source_keys : dict
        Source path -> identity key (its absolute path) from which the graph IRI is minted.
    source_dates : dict, optional
        Source path -> date of the document (recorded on observations).
    replaced : iterable of URIRef
        Graphs this write replaces (ignored in conflict checks).
    """
    try:
        from ..matching import classify
    except ImportError:  # pragma: no cover - the scheme ships with the package
        classify = None  # type: ignore[assignment]
    records = _check_conflicts(sources)
    _catalog_conflicts(catalog, records, set(replaced))
    for source in sources:
        for rec in source.entities:
            index.add(rec.id, rec.name, [*rec.aliases, *(str(v) for k, v in rec.extra if k == "hub_id")])
    batch = Batch()
    builder = _Builder(index, batch, classify)
    for source in sources:
        src = source_iri(source_keys[source.path])
        graph = Graph(store="SimpleMemory")  # no contexts, no events: a third cheaper per triple than the default
        batch.graphs[src] = graph
        batch.sources.append((src, source.path, source.format))
        graph.add((src, RDF.type, MG.SourceDocument))
        graph.add((src, MG.sourcePath, Literal(source.path)))
        when = (source_dates or {}).get(source.path)
        if when is not None:
            graph.add((src, PROV.generatedAtTime, _lit(when)))
        if source.title:
            graph.add((src, SCHEMA.headline, Literal(source.title)))
        if source.verdict:
            graph.add((src, MG.verdict, Literal(source.verdict)))
        for rec in source.entities:
            e = builder.entity(rec, graph, src)
            batch.defined.add(rec.id)
            if when is not None:
                for o in graph.subjects(MG.observedEntity, e):
                    graph.add((o, PROV.generatedAtTime, _lit(when)))
    stub_graph = Graph(store="SimpleMemory")
    for slug, name in sorted(batch.stubs.items()):
        if slug in batch.defined:
            continue
        e = entity_iri(slug)
        stub_graph.add((e, RDF.type, MG.Entity))
        stub_graph.add((e, DCTERMS.identifier, Literal(slug)))
        stub_graph.add((e, SCHEMA.name, Literal(name)))
        stub_graph.add((e, MG.isStub, Literal(True)))
    if len(stub_graph):
        batch.graphs[STUB_GRAPH] = stub_graph
    return batch
