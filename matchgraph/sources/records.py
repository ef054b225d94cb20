"""What the importers read, before it becomes RDF: entities, capabilities, claims, observations.

Every parser (cards, comparison pages, Croissant, Hugging Face, MTEB) produces these records with
the location of every fact; :mod:`matchgraph.sources.build` turns them into triples. Keeping one record
shape means linking, conflict checks and provenance are written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Location


@dataclass
class CapabilityRecord:
    """One decomposed capability: a description and its Unique and vs-alternatives claims."""

    description: str
    title: str | None = None
    unique: str | None = None
    alternatives: str | None = None
    concepts: list[str] = field(default_factory=list)
    location: Location | None = None
    unique_location: Location | None = None
    alternatives_location: Location | None = None


@dataclass
class ObservationRecord:
    """A figure a source reports about an entity (kept as evidence, never as our score)."""

    field: str
    value: str
    location: Location | None = None


@dataclass
class ResultRecord:
    """A reported result on a benchmark: evidence for Quality."""

    benchmark: str
    metric: str
    value: float
    dataset: str | None = None
    location: Location | None = None


@dataclass
class EntityRecord:
    """An entity as a source describes it.

    ``relations`` maps a relation key (``derivedFrom``, ``trainedOn``, ...) to the names or ids
    of the entities it points to; linking resolves them. ``extra`` holds further literal facts as
    (property key, value) pairs, e.g. ``("tag", "fill-mask")``; see :data:`matchgraph.sources.build.EXTRA_PROPERTIES`.
    """

    id: str
    name: str
    kind: str | None = None
    aliases: list[str] = field(default_factory=list)
    description: str | None = None
    pricing: str | None = None
    license: str | None = None
    url: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    relations: dict[str, list[str]] = field(default_factory=dict)
    capabilities: list[CapabilityRecord] = field(default_factory=list)
    declared_capabilities: int | None = None
    observations: list[ObservationRecord] = field(default_factory=list)
    results: list[ResultRecord] = field(default_factory=list)
    extra: list[tuple[str, Any]] = field(default_factory=list)
    location: Location | None = None
    field_locations: dict[str, Location] = field(default_factory=dict)

    def where(self, key: str) -> Location | None:
        """The location of one field, or of the record."""
        return self.field_locations.get(key, self.location)


@dataclass
class SourceRecords:
    """Everything one source file said."""

    path: str
    format: str
    entities: list[EntityRecord] = field(default_factory=list)
    title: str | None = None
    verdict: str | None = None
    date: str | None = None
    notes: list[str] = field(default_factory=list)
