"""Synthetic catalogs of any size, with the shape of a real one, for benchmarks and scale tests.

:func:`generate` writes ``n`` entities as Markdown entity cards (``fmt="cards"``, the format of
``docs/formats.md``) or as Turtle (``fmt="ttl"``, the triples ingest would build from those cards,
for very large catalogs). Both are read by ``matchgraph ingest DIR``. The shape:

- **kinds** in fixed shares (:data:`KIND_SHARES`): models 45 %, datasets 25 %, tools, libraries and
  frameworks 12 %, benchmarks 8 %, methods 6 %, formats 4 % (largest-remainder rounding);
- **heavy-tailed degrees**: every entity has a Zipf popularity within its kind
  (weight ``rank ** -ZIPF_EXPONENT``, ranks shuffled); relation targets and the entities claims
  name are drawn by popularity, so a few entities are named by very many others;
- **3-15 capabilities** per entity (3 plus a geometric tail), each built from one concept of the
  capability scheme (``ontology/capabilities.ttl``): its label as title, its definition and
  alternative labels as description, so the classifier finds realistic text;
- **claims**: a Unique claim (sometimes naming an entity it builds on) and a vs-alternatives claim
  naming 1-3 entities of the same kind by their names, with comparison words the aspect detector
  knows; claim texts use no other capitalised words, so every name the linker finds resolves;
- **metrics** (downloads, likes, stars, citations) log-normal and correlated with popularity;
- **lineage** (derivedFrom, subsetOf only towards earlier entities of the kind, so it is acyclic;
  trainedOn towards datasets) and **integrations** (integratesWith, supportsFormat, evaluatedOn,
  implements, usesMethod).

Every entity is drawn from its own random generator seeded with ``(seed, index)``, so the output
depends only on ``n`` and ``seed`` and entities can be streamed to disk one at a time.

Examples
--------
>>> from matchgraph.sources.synth import generate
>>> report = generate(200, "/tmp/synth-200", seed=1)        # doctest: +SKIP
>>> report.by_kind["model"]                                  # doctest: +SKIP
90
"""

from __future__ import annotations

import bisect
import json
import math
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .build import detect_aspects
from ..matching.classify import Concept, load_scheme
from ..errors import ConfigError, InputError, Location
from ..graph.progress import ProgressCallback
from ..vocab import ASPECT, CONCEPT, ID, KINDS, MG, SCHEMA, SOURCE, capability_iri, claim_iri, metric_iri, slugify

__all__ = ["KIND_SHARES", "FORMATS", "SynthCapability", "SynthEntity", "SynthReport", "SynthPlan",
           "plan", "entities", "card_text", "turtle_text", "generate"]

#: Share of each kind in a synthetic catalog.
KIND_SHARES: tuple[tuple[str, float], ...] = (
    ("model", 0.45), ("dataset", 0.25), ("tool", 0.05), ("library", 0.04), ("framework", 0.03),
    ("benchmark", 0.08), ("format", 0.04), ("method", 0.06))
#: Output formats of :func:`generate`.
FORMATS = ("cards", "ttl")
#: Exponent of the Zipf popularity within a kind (larger: a heavier head).
ZIPF_EXPONENT = 1.1
#: At most this many files per folder (cards) or entities per file (Turtle).
CHUNK = 1000
#: Capabilities per entity: at least, at most, and the mean of the tail above the minimum.
MIN_CAPABILITIES, MAX_CAPABILITIES, CAPABILITY_TAIL_MEAN = 3, 15, 2.5
#: Name of the hidden report file written next to the catalog files (ingest skips hidden files).
REPORT_FILE = ".synth-report.json"


_GROUPS: dict[str, tuple[str, ...]] = {
    "model": ("model",), "dataset": ("dataset",), "software": ("tool", "library", "framework"),
    "benchmark": ("benchmark",), "format": ("format",), "method": ("method",)}
_GROUP_OF = {kind: group for group, kinds in _GROUPS.items() for kind in kinds}
_PLURAL = {"model": "models", "dataset": "datasets", "tool": "tools", "library": "libraries",
           "framework": "frameworks", "benchmark": "benchmarks", "format": "formats", "method": "methods"}

#: Top concepts whose children a kind's capabilities are drawn from.
_CONCEPT_POOLS: dict[str, tuple[str, ...]] = {
    "model": ("model-tasks", "model-engineering"),
    "dataset": ("dataset-aspects", "model-tasks"),
    "tool": ("tooling-infrastructure", "model-engineering", "evaluation"),
    "library": ("tooling-infrastructure", "model-engineering", "model-tasks"),
    "framework": ("tooling-infrastructure", "model-engineering", "evaluation"),
    "benchmark": ("evaluation", "model-tasks"),
    "format": ("dataset-aspects", "tooling-infrastructure"),
    "method": ("model-engineering", "evaluation", "model-tasks"),
}

#: Relations an entity of a kind has: (relation, target group, min, max, probability, acyclic).
_RELATION_PLAN: dict[str, tuple[tuple[str, str, int, int, float, bool], ...]] = {
    "model": (("derivedFrom", "model", 1, 1, 0.35, True), ("trainedOn", "dataset", 1, 3, 0.9, False),
              ("integratesWith", "software", 1, 3, 0.8, False), ("supportsFormat", "format", 1, 2, 0.6, False),
              ("evaluatedOn", "benchmark", 1, 3, 0.5, False), ("usesMethod", "method", 1, 2, 0.3, False)),
    "dataset": (("derivedFrom", "dataset", 1, 2, 0.25, True), ("subsetOf", "dataset", 1, 1, 0.15, True),
                ("supportsFormat", "format", 1, 2, 0.8, False), ("integratesWith", "software", 1, 2, 0.3, False)),
    "software": (("integratesWith", "software", 1, 3, 0.7, False), ("supportsFormat", "format", 1, 3, 0.6, False),
                 ("implements", "method", 1, 2, 0.3, False)),
    "benchmark": (("derivedFrom", "dataset", 1, 2, 0.6, False), ("integratesWith", "software", 1, 1, 0.3, False)),
    "format": (("integratesWith", "software", 1, 2, 0.6, False), ("derivedFrom", "format", 1, 1, 0.1, True)),
    "method": (("derivedFrom", "method", 1, 1, 0.3, True), ("evaluatedOn", "benchmark", 1, 2, 0.5, False)),
}

#: Usage metrics per group: (name, log-mean for the most popular entity, log-sd).
_METRICS: dict[str, tuple[tuple[str, float, float], ...]] = {
    "model": (("downloads", 15.0, 1.5), ("likes", 8.0, 1.2)),
    "dataset": (("downloads", 13.0, 1.5), ("likes", 6.5, 1.2), ("citations", 7.5, 1.3)),
    "software": (("stars", 11.0, 1.3), ("downloads", 16.0, 1.6)),
    "benchmark": (("citations", 8.5, 1.3), ("downloads", 10.0, 1.5)),
    "format": (("stars", 9.0, 1.4),),
    "method": (("citations", 9.0, 1.4),),
}
#: How fast a metric falls with popularity rank (log-units per log-rank).
_METRIC_DECAY = 0.8

_NAME_SUFFIXES: dict[str, tuple[str, ...]] = {
    "model": ("-1B", "-3B", "-7B", "-13B", "-70B", "-base", "-small", "-large", "-mini", "-instruct"),
    "dataset": ("Corpus", "Web", "Set", "Pairs", "Crawl", "Instruct"),
    "tool": ("Kit", "Hub", "Serve", "Board"),
    "library": ("Lib", "Py", "Tensors", "Text"),
    "framework": ("Flow", "Engine", "Forge"),
    "benchmark": ("Bench", "Eval", "Arena", "Hard"),
    "format": ("Pack", "Store", "Record", "Tensor"),
    "method": ("Tuning", "Distill", "Quant", "Norm", "Attention"),
}
_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
_ENDINGS = "nrsx"
_LICENSES = ("apache-2.0", "mit", "cc-by-4.0", "cc-by-sa-4.0", "bsd-3-clause", "openrail", "cc0-1.0", "gpl-3.0")
_DOMAINS = ("legal", "biomedical", "financial", "news", "scientific", "conversational", "e-commerce", "educational",
            "customer support", "software engineering")

_UNIQUE_PLAIN = (
    "It is the only {kind} of its family that combines {a} with {b} in one release.",
    "It ships {a} as a first-class feature rather than an add-on, with documented defaults.",
    "It treats {a} and {b} as one problem, so a single configuration serves both.",
)
_UNIQUE_NAMED = (
    "Building on {x}, it adds {a} without retraining from scratch.",
    "It was the first {kind} to pair {a} with {b}, a design later adopted by {x}.",
    "It reuses the {a} pipeline of {x} and extends it with {b}.",
)
_ALTERNATIVE_NAMED = (
    "It is faster than {names} for {a}, though {first} reaches higher quality on hard cases.",
    "It offers broader coverage of {a} than {names}, at the cost of a larger memory footprint.",
    "Compared with {names}, it is smaller and cheaper to run for {a}, with competitive accuracy.",
    "It needs less memory than {names} for {a}, but {first} remains more widely adopted.",
    "It is more transparent about {a} than {names}, with documented provenance for every release.",
    "For {a} it is simpler to set up than {names} and scales to larger inputs.",
)
_ALTERNATIVE_PLAIN = "It is simpler to set up than most alternatives for {a}, with competitive quality."


@dataclass
class SynthCapability:
    """One generated capability with its claims; names in claims are given as entity indices."""

    title: str
    description: str
    concepts: list[str]
    unique: str | None = None
    unique_mentions: list[int] = field(default_factory=list)
    alternatives: str | None = None
    alternative_names: list[int] = field(default_factory=list)


@dataclass
class SynthEntity:
    """One generated entity; relation targets are entity indices into the plan."""

    index: int
    slug: str
    name: str
    kind: str
    description: str
    license: str | None
    pricing: str
    url: str | None
    aliases: list[str]
    metrics: dict[str, int]
    relations: dict[str, list[int]]
    capabilities: list[SynthCapability]
    declared_capabilities: int | None = None


@dataclass
class SynthReport:
    """What :func:`generate` wrote: counts that ``matchgraph stats`` reports after ingesting it."""

    entities: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    capabilities: int = 0
    unique_claims: int = 0
    alternative_claims: int = 0
    relations: int = 0
    metrics: int = 0
    files: int = 0
    out_dir: str = ""
    fmt: str = "cards"
    seed: int = 0

    @property
    def claims(self) -> int:
        """Unique plus vs-alternatives claims."""
        return self.unique_claims + self.alternative_claims

    def add(self, entity: SynthEntity) -> None:
        """Count one generated entity."""
        self.entities += 1
        self.by_kind[entity.kind] = self.by_kind.get(entity.kind, 0) + 1
        self.capabilities += len(entity.capabilities)
        self.unique_claims += sum(1 for c in entity.capabilities if c.unique)
        self.alternative_claims += sum(1 for c in entity.capabilities if c.alternatives)
        self.relations += sum(len(v) for v in entity.relations.values())
        self.metrics += len(entity.metrics)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"entities": self.entities, "by_kind": dict(sorted(self.by_kind.items())),
                "capabilities": self.capabilities, "claims": self.claims, "unique_claims": self.unique_claims,
                "alternative_claims": self.alternative_claims, "relations": self.relations,
                "metrics": self.metrics, "files": self.files, "out_dir": self.out_dir, "format": self.fmt,
                "seed": self.seed}


# ---------------------------------------------------------------------------------------- plan

def _quotas(n: int) -> list[tuple[str, int]]:
    """Split ``n`` over the kinds by :data:`KIND_SHARES`, largest remainder first."""
    raw = [(kind, n * share) for kind, share in KIND_SHARES]
    counts = {kind: int(x) for kind, x in raw}
    order = sorted(raw, key=lambda kv: (-(kv[1] - int(kv[1])), kv[0]))
    for kind, _ in order[: n - sum(counts.values())]:
        counts[kind] += 1
    return [(kind, counts[kind]) for kind, _ in KIND_SHARES]


def _pseudo_words(n: int, seed: int) -> list[str]:
    """``n`` distinct pronounceable words (consonant-vowel syllables), scrambled by the seed."""
    syllables = [c + v for c in _CONSONANTS for v in _VOWELS]
    base = len(syllables)
    length = 3
    while base ** length < n:
        length += 1
    space = base ** length
    step = next(p for p in range(7919, space * 2) if math.gcd(p, space) == 1)
    offset = random.Random(f"{seed}:names").randrange(space)
    words = []
    for i in range(n):
        code = (i * step + offset) % space
        parts = []
        for _ in range(length):
            code, digit = divmod(code, base)
            parts.append(syllables[digit])
        words.append("".join(parts).capitalize() + _ENDINGS[i % len(_ENDINGS)])
    return words


@dataclass
class _Pool:
    """Entities of a group in index order, with cumulative popularity weights for sampling."""

    members: list[int]
    cumulative: list[float]

    def draw(self, rng: random.Random, *, below: int | None = None) -> int | None:
        """Draw one member by popularity; with ``below``, only members with a smaller index."""
        hi = len(self.members) if below is None else bisect.bisect_left(self.members, below)
        if hi == 0:
            return None
        x = rng.random() * self.cumulative[hi - 1]
        return self.members[min(bisect.bisect_right(self.cumulative, x, 0, hi), hi - 1)]


@dataclass
class SynthPlan:
    """The catalog-wide decisions: each entity's kind, name and popularity, and sampling pools.

    Use :func:`plan` to make one.
    """

    n: int
    seed: int
    kinds: list[str]
    names: list[str]
    slugs: list[str]
    ranks: list[int]
    pools: dict[str, _Pool]
    concepts: dict[str, list[Concept]]

    positions: list[int] = field(default_factory=list)

    def path(self, index: int, fmt: str) -> Path:
        """Path of an entity's file relative to the output folder (cards), or of its chunk (Turtle)."""
        if fmt == "ttl":
            return Path("ttl") / f"part-{index // CHUNK:05d}.ttl"
        kind = self.kinds[index]
        return Path(_PLURAL[kind]) / f"{self.positions[index] // CHUNK:03d}" / f"{self.slugs[index]}.md"


def _concept_pools() -> dict[str, list[Concept]]:
    """The concepts each kind's capabilities are drawn from (children of the kind's top concepts)."""
    scheme = load_scheme()

    def top_of(concept: Concept) -> str:
        seen = concept
        for _ in range(10):
            if seen.top or not seen.broader or seen.broader[0] not in scheme:
                break
            seen = scheme[seen.broader[0]]
        return seen.slug

    tops: dict[str, list[Concept]] = {}
    for concept in scheme:
        if not concept.top:
            tops.setdefault(top_of(concept), []).append(concept)
    pools = {kind: [c for top in wanted for c in tops.get(top, [])] for kind, wanted in _CONCEPT_POOLS.items()}
    everything = sorted((c for c in scheme if not c.top), key=lambda c: c.slug)
    return {kind: (pool if len(pool) >= MAX_CAPABILITIES else everything) for kind, pool in pools.items()}


def plan(n: int, *, seed: int = 0) -> SynthPlan:
    """Decide the kinds, names and popularity of ``n`` synthetic entities.

    Parameters
    ----------
    n : int
        Number of entities (1 or more).
    seed : int
        Random seed; the same ``(n, seed)`` always gives the same plan.

    Returns
    -------
    SynthPlan

    Examples
    --------
    >>> p = plan(100, seed=0)
    >>> sum(1 for k in p.kinds if k == "model")
    45
    """
    if n < 1:
        raise ConfigError(f"a synthetic catalog needs at least one entity, not {n}",
                          hint="pass --entities 1 or more")
    rng = random.Random(f"{seed}:plan")
    kinds = [kind for kind, count in _quotas(n) for _ in range(count)]
    rng.shuffle(kinds)
    words = _pseudo_words(n, seed)
    names = [words[i] + rng.choice(_NAME_SUFFIXES[kind]) for i, kind in enumerate(kinds)]
    slugs = [slugify(name) for name in names]
    ranks = [0] * n
    positions = [0] * n
    members: dict[str, list[int]] = {}
    for i, kind in enumerate(kinds):
        positions[i] = len(members.setdefault(kind, []))
        members[kind].append(i)
    for kind in sorted(members):
        order = list(range(1, len(members[kind]) + 1))
        rng.shuffle(order)
        for i, rank in zip(members[kind], order):
            ranks[i] = rank
    pools: dict[str, _Pool] = {}
    for group, group_kinds in _GROUPS.items():
        group_members = sorted(i for kind in group_kinds for i in members.get(kind, []))
        total, cumulative = 0.0, []
        for i in group_members:
            total += ranks[i] ** -ZIPF_EXPONENT
            cumulative.append(total)
        pools[group] = _Pool(group_members, cumulative)
    return SynthPlan(n=n, seed=seed, kinds=kinds, names=names, slugs=slugs, ranks=ranks, pools=pools,
                     concepts=_concept_pools(), positions=positions)


# ---------------------------------------------------------------------------------------- entities

def _label(concept: Concept) -> str:
    """A concept's preferred label in lowercase, safe inside claim text (no capitals, no digits)."""
    text = concept.pref_label.lower()
    return text if re.fullmatch(r"[a-z][a-z ,\-]*[a-z]", text) else "this task"


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


def _draw_distinct(rng: random.Random, pool: _Pool, k: int, exclude: int, *, below: int | None = None) -> list[int]:
    """Up to ``k`` distinct members drawn by popularity, never ``exclude``."""
    out: list[int] = []
    for _ in range(k * 4):
        if len(out) == k:
            break
        pick = pool.draw(rng, below=below)
        if pick is None:
            break
        if pick != exclude and pick not in out:
            out.append(pick)
    return out


def _names_list(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class _EntityMaker:
    """Builds entity ``i`` of a plan from its own random generator."""

    def __init__(self, p: SynthPlan) -> None:
        self.p = p
        self.everyone = _Pool(list(range(p.n)), [float(i + 1) for i in range(p.n)])

    def __call__(self, i: int) -> SynthEntity:
        p = self.p
        rng = random.Random(f"{p.seed}:entity:{i}")
        kind = p.kinds[i]
        group = _GROUP_OF[kind]
        relations = self.relations(rng, i, group)
        capabilities = self.capabilities(rng, i, kind, group, relations)
        declared = len(capabilities) + rng.randint(1, 10) if rng.random() < 0.25 else None
        first = capabilities[0].concepts[0]
        second = capabilities[1].concepts[0] if len(capabilities) > 1 else first
        labels = {c.slug: c for c in p.concepts[kind]}
        description = (f"{p.names[i]} is a synthetic {kind} for {labels[first].pref_label} and "
                       f"{labels[second].pref_label}, tuned on {rng.choice(_DOMAINS)} data.")
        return SynthEntity(
            index=i, slug=p.slugs[i], name=p.names[i], kind=kind, description=description,
            license=rng.choice(_LICENSES) if rng.random() < 0.9 else None,
            pricing=rng.choices(("Free", "Freemium", "Paid"), weights=(85, 10, 5))[0],
            url=f"https://example.org/synth/{p.slugs[i]}" if rng.random() < 0.9 else None,
            aliases=[f"synth/{p.slugs[i]}"] if rng.random() < 0.3 else [],
            metrics=self.metrics(rng, i, group), relations=relations, capabilities=capabilities,
            declared_capabilities=declared)

    def metrics(self, rng: random.Random, i: int, group: str) -> dict[str, int]:
        out = {}
        for name, mu, sigma in _METRICS[group]:
            out[name] = int(rng.lognormvariate(mu - _METRIC_DECAY * math.log(self.p.ranks[i]), sigma))
        return out

    def relations(self, rng: random.Random, i: int, group: str) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for relation, target, lo, hi, probability, acyclic in _RELATION_PLAN[group]:
            if rng.random() >= probability:
                continue
            below = i if acyclic else None
            picks = _draw_distinct(rng, self.p.pools[target], rng.randint(lo, hi), i, below=below)
            if picks:
                out[relation] = picks
        return out

    def capabilities(self, rng: random.Random, i: int, kind: str, group: str,
                     relations: dict[str, list[int]]) -> list[SynthCapability]:
        pool = self.p.concepts[kind]
        count = MIN_CAPABILITIES + min(MAX_CAPABILITIES - MIN_CAPABILITIES,
                                       int(rng.expovariate(1 / CAPABILITY_TAIL_MEAN)))
        chosen = rng.sample(pool, min(count, len(pool)))
        related = [t for targets in relations.values() for t in targets]
        return [self.capability(rng, i, kind, group, concept, pool, related) for concept in chosen]

    def capability(self, rng: random.Random, i: int, kind: str, group: str, concept: Concept,
                   pool: list[Concept], related: list[int]) -> SynthCapability:
        other = rng.choice(pool)
        alts = list(concept.alt_labels)
        detail = ", ".join(rng.sample(alts, min(2, len(alts)))) if alts else concept.pref_label
        definition = concept.definition or f"Handles {concept.pref_label}."
        description = f"{_sentence(definition)} It covers {detail} for {rng.choice(_DOMAINS)} use."
        concepts = [concept.slug]
        if other.slug != concept.slug and rng.random() < 0.3:
            description += f" It also supports {other.pref_label}."
            concepts.append(other.slug)
        title = concept.pref_label[:1].upper() + concept.pref_label[1:]
        cap = SynthCapability(title=title, description=description, concepts=concepts)
        a, b = _label(concept), _label(other)
        if rng.random() < 0.9:
            mention = rng.choice(related) if related and rng.random() < 0.5 else None
            template = rng.choice(_UNIQUE_NAMED if mention is not None else _UNIQUE_PLAIN)
            cap.unique = template.format(kind=kind, a=a, b=b, x=self.p.names[mention] if mention is not None else "")
            cap.unique_mentions = [mention] if mention is not None else []
        if rng.random() < 0.9:
            same = self.p.pools[group] if len(self.p.pools[group].members) > 1 else self.everyone
            names = _draw_distinct(rng, same, rng.randint(1, 3), i)
            if names:
                written = [self.p.names[x] for x in names]
                cap.alternatives = rng.choice(_ALTERNATIVE_NAMED).format(
                    names=_names_list(written), first=written[0], a=a)
            else:
                cap.alternatives = _ALTERNATIVE_PLAIN.format(a=a)
            cap.alternative_names = names
        return cap


def entities(p: SynthPlan | int, *, seed: int = 0) -> Iterator[SynthEntity]:
    """Generate the entities of a plan (or of ``plan(n, seed=seed)``), in index order.

    Parameters
    ----------
    p : SynthPlan or int
        A plan, or a number of entities.
    seed : int
        Random seed when ``p`` is a number.

    Yields
    ------
    SynthEntity

    Examples
    --------
    >>> first = next(entities(50, seed=3))
    >>> 3 <= len(first.capabilities) <= 15
    True
    """
    the_plan = plan(p, seed=seed) if isinstance(p, int) else p
    make = _EntityMaker(the_plan)
    for i in range(the_plan.n):
        yield make(i)


# ---------------------------------------------------------------------------------------- writers

#: Property of each single-valued fact of :func:`_scalars` (as ingest builds it from a card).
_SCALAR_PROPERTIES = {"description": "http://purl.org/dc/terms/description", "pricing": str(MG.pricing),
                      "license": "http://purl.org/dc/terms/license", "url": str(SCHEMA.url)}


def _scalars(entity: SynthEntity) -> list[tuple[str, str]]:
    """The single-valued facts an entity has, as (card key, value), in card order."""
    facts = [("description", entity.description), ("pricing", entity.pricing), ("license", entity.license),
             ("url", entity.url)]
    return [(key, value) for key, value in facts if value]


def _yaml_str(text: str) -> str:
    """A YAML scalar that reads back as exactly ``text``."""
    return json.dumps(text, ensure_ascii=False)


def card_text(entity: SynthEntity, p: SynthPlan) -> str:
    """Write an entity as a Markdown entity card (YAML front matter, one ``##`` section per capability).

    Parameters
    ----------
    entity : SynthEntity
        What :func:`entities` generated.
    p : SynthPlan
        Its plan (relation targets are written by id).

    Returns
    -------
    str
        The card text.
    """
    lines = ["---", f"id: {entity.slug}", f"name: {_yaml_str(entity.name)}", f"kind: {entity.kind}"]
    if entity.aliases:
        lines.append("aliases: [" + ", ".join(_yaml_str(a) for a in entity.aliases) + "]")
    lines += [f"{key}: {_yaml_str(value)}" for key, value in _scalars(entity)]
    lines.append("metrics: {" + ", ".join(f"{k}: {v}" for k, v in entity.metrics.items()) + "}")
    if entity.declared_capabilities is not None:
        lines.append(f"capabilities_declared: {entity.declared_capabilities}")
    if entity.relations:
        lines.append("relations:")
        for relation, targets in entity.relations.items():
            lines.append(f"  {relation}: [" + ", ".join(p.slugs[t] for t in targets) + "]")
    lines.append("---")
    for cap in entity.capabilities:
        lines += ["", f"## {cap.title}", cap.description]
        if cap.unique:
            lines += ["", f"Unique: {cap.unique}"]
        if cap.alternatives:
            lines += ["", f"vs alternatives: {cap.alternatives}"]
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    """A Turtle string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def _capability_keys(entity: SynthEntity) -> list[str]:
    """The capability IRI keys ingest mints from the titles (see :mod:`matchgraph.sources.build`)."""
    used: set[str] = set()
    keys = []
    for position, cap in enumerate(entity.capabilities, start=1):
        key = slugify(cap.title)[:60].strip("-") or str(position)
        if key in used:
            key = f"{key}-{position}"
        used.add(key)
        keys.append(key)
    return keys


def turtle_text(entity: SynthEntity, p: SynthPlan, source: str) -> str:
    """Write an entity as the Turtle triples ingesting its card would build.

    Capability concepts are the generator's (given by the source) instead of the classifier's.

    Parameters
    ----------
    entity : SynthEntity
        What :func:`entities` generated.
    p : SynthPlan
        Its plan.
    source : str
        IRI of the source document (``prov:wasDerivedFrom`` of every described node).

    Returns
    -------
    str
        Turtle statements (no prefix declarations; full IRIs throughout).
    """
    e = f"<{ID[entity.slug]}>"
    src = f"<{source}>"
    out = [f"{e} a <{MG.Entity}>, <{KINDS[entity.kind]}> ;",
           f"  <http://purl.org/dc/terms/identifier> {_q(entity.slug)} ;",
           f"  <{SCHEMA.name}> {_q(entity.name)} ;"]
    out += [f"  <{SCHEMA.alternateName}> {_q(a)} ;" for a in entity.aliases]
    out += [f"  <{_SCALAR_PROPERTIES[key]}> {f'<{value}>' if key == 'url' else _q(value)} ;"
            for key, value in _scalars(entity)]
    if entity.declared_capabilities is not None:
        out.append(f"  <{MG.declaredCapabilityCount}> {entity.declared_capabilities} ;")
    for relation, targets in entity.relations.items():
        out.append(f"  <{MG[relation]}> " + ", ".join(f"<{ID[p.slugs[t]]}>" for t in targets) + " ;")
    metrics = {name: metric_iri(entity.slug, name) for name in sorted(entity.metrics)}
    caps = [f"{str(capability_iri(entity.slug, 0))[:-2]}/{key}" for key in _capability_keys(entity)]
    out += [f"  <{MG.hasMetric}> <{m}> ;" for m in metrics.values()]
    out += [f"  <{MG.hasCapability}> <{c}> ;" for c in caps]
    out.append(f"  <http://www.w3.org/ns/prov#wasDerivedFrom> {src} .")
    for name, m in metrics.items():
        out.append(f"<{m}> a <{MG.UsageMetric}> ; <{MG.metricName}> {_q(name)} ; "
                   f"<{SCHEMA.value}> {entity.metrics[name]} ; <http://www.w3.org/ns/prov#wasDerivedFrom> {src} .")
    for position, (c, cap) in enumerate(zip(caps, entity.capabilities), start=1):
        out.append(_capability_turtle(c, cap, position, e, src, p))
    return "\n".join(out) + "\n"


def _capability_turtle(c: str, cap: SynthCapability, position: int, e: str, src: str, p: SynthPlan) -> str:
    derived = f"<http://www.w3.org/ns/prov#wasDerivedFrom> {src}"
    evidence = "\n".join(f"{slug}: given by the source" for slug in cap.concepts)
    lines = [f"<{c}> a <{MG.Capability}> ; <{MG.capabilityOf}> {e} ; <{SCHEMA.name}> {_q(cap.title)} ;",
             f"  <http://purl.org/dc/terms/description> {_q(cap.description)} ; <{MG.position}> {position} ;",
             "  " + ", ".join(f"<{MG.concept}> <{CONCEPT[s]}>" if i == 0 else f"<{CONCEPT[s]}>"
                              for i, s in enumerate(cap.concepts)) + f" ; <{MG.conceptEvidence}> {_q(evidence)} ;"]
    claims = [(kind, text, names) for kind, text, names in (("unique", cap.unique, cap.unique_mentions),
                                                            ("alternative", cap.alternatives, cap.alternative_names))
              if text]
    for kind, _, _ in claims:
        lines.append(f"  <{MG.hasClaim}> <{claim_iri(c, kind)}> ;")  # type: ignore[arg-type]
    lines.append(f"  {derived} .")
    for kind, text, names in claims:
        cl = f"<{claim_iri(c, kind)}>"  # type: ignore[arg-type]
        cls = MG.UniqueClaim if kind == "unique" else MG.AlternativeClaim
        prop = SCHEMA.mentions if kind == "unique" else MG.namesAlternative
        lines.append(f"{cl} a <{MG.Claim}>, <{cls}> ; <{MG.claimOf}> <{c}> ; <{SCHEMA.text}> {_q(text or '')} ;")
        for x in names:
            lines.append(f"  <{prop}> <{ID[p.slugs[x]]}> ;")
        if kind == "alternative":
            for aspect in detect_aspects(text or ""):
                lines.append(f"  <{MG.aspect}> <{ASPECT[aspect]}> ;")
        lines.append(f"  {derived} .")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- generate

def _check_out_dir(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError("the output path is a file", location=Location(str(out)), hint="give a folder")
    if out.is_dir() and not overwrite and any(out.iterdir()):
        raise InputError("the output folder is not empty", location=Location(str(out)),
                         hint="give a new or empty folder, or pass --force to write into it anyway")


def generate(n: int, out_dir: str | Path, *, seed: int = 0, fmt: str = "cards", overwrite: bool = False,
             progress: ProgressCallback | None = None) -> SynthReport:
    """Write a synthetic catalog of ``n`` entities that ``matchgraph ingest out_dir`` reads.

    Parameters
    ----------
    n : int
        Number of entities.
    out_dir : str or path
        Output folder (created; must be new or empty unless ``overwrite``).
    seed : int
        Random seed: the same ``(n, seed, fmt)`` writes byte-identical files.
    fmt : {"cards", "ttl"}
        Markdown entity cards in ``{kind}s/NNN/{id}.md`` (at most 1000 per folder), or Turtle in
        ``ttl/part-NNNNN.ttl`` (1000 entities per file, concepts given, no classification needed;
        ``prov:wasDerivedFrom`` names ``https://w3id.org/matchgraph/source/synth-{n}-{seed}/part-NNNNN``
        so the files do not depend on where they are written).
    overwrite : bool
        Write into a non-empty folder (files of the same name are replaced, nothing is deleted).
    progress : callable, optional
        Called as ``progress("generating", done, n)``.

    Returns
    -------
    SynthReport
        The counts written; also saved as ``.synth-report.json`` in ``out_dir`` (hidden, so ingest
        skips it).

    Examples
    --------
    >>> report = generate(100, "/tmp/synth-100", fmt="ttl")   # doctest: +SKIP
    >>> report.entities, report.files                          # doctest: +SKIP
    (100, 1)
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown synthetic catalog format {fmt!r}", hint="use cards or ttl")
    out = Path(out_dir)
    _check_out_dir(out, overwrite)
    p = plan(n, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    report = SynthReport(out_dir=str(out), fmt=fmt, seed=seed)
    chunk: list[str] = []
    step = max(1, n // 200)
    for entity in entities(p):
        report.add(entity)
        if fmt == "cards":
            _write(out / p.path(entity.index, fmt), card_text(entity, p))
            report.files += 1
        else:
            target = out / p.path(entity.index, fmt)
            chunk.append(turtle_text(entity, p, str(SOURCE[f"synth-{n}-{seed}/{target.stem}"])))
            if len(chunk) == CHUNK or entity.index == n - 1:
                _write(target, "\n".join(chunk))
                report.files += 1
                chunk = []
        if progress and (entity.index % step == 0 or entity.index == n - 1):
            progress("generating", entity.index + 1, n)
    (out / REPORT_FILE).write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
    return report


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
