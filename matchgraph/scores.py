"""Scores of every entity: Rank, Adoption, Quality, Ecosystem and Match Graph, each 0-100.

Every sub-score is a sum of *factors*, each worth ``weight x log-scaled evidence`` points (see
``weights.yaml`` and ``docs/scoring.md``), calibrated within the catalog as
``100 x raw / max(raw)``. The rank is the weighted mean of the sub-scores (halved for stubs),
calibrated the same way. Computing is deterministic: the same catalog and weights give the same
numbers.

Scores are written to the store in :data:`matchgraph.vocab.SCORE_GRAPH` with the run's provenance
(time, weights, software version, data version), and kept with their factors in a SQLite file
under ``catalog.cache_dir``; :func:`load_scores` recomputes only when the data or the weights
changed.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .catalog import Catalog
from .errors import ConfigError
from .projection import CAPABILITY_OF, RELATION_KINDS, select_values
from .vocab import ID, KINDS, PREFIXES, RUN, SCORE_GRAPH, slug_of

if TYPE_CHECKING:  # pragma: no cover
    from .projection import CompactProjection

__all__ = [
    "Factor", "EntityScores", "SUB_SCORES", "SCORE_KINDS", "LABELS", "default_weights", "load_weights",
    "weights_json", "compute_scores", "load_scores", "scores_for", "current_ranks", "display", "log_points",
    "weighted_pagerank",
]

#: The four sub-scores, in display order.
SUB_SCORES: tuple[str, ...] = ("adoption", "quality", "ecosystem", "match_graph")
#: Every score kind written to the store.
SCORE_KINDS: tuple[str, ...] = ("rank", *SUB_SCORES)
#: How each score is called in prose and tables.
LABELS: dict[str, str] = {"rank": "Rank", "adoption": "Adoption", "quality": "Quality",
                          "ecosystem": "Ecosystem", "match_graph": "Match Graph"}
_FORMAT = 1
_NOT_LINKS = frozenset({"shared-concept", "co-matched"})
_LINEAGE = ("derivedFrom", "trainedOn", "subsetOf")
_LINEAGE_PHRASE = {"derivedFrom": ("derived from it", "derived from it"),
                   "trainedOn": ("trained on it", "trained on it"),
                   "subsetOf": ("is a subset of it", "are subsets of it")}
_PLURAL = {"library": "libraries"}


@dataclass(slots=True)
class Factor:
    """One piece of evidence behind a sub-score.

    Attributes
    ----------
    name : str
        What is counted, e.g. ``downloads`` or ``derived works``.
    value : float
        The count or value found.
    points : float
        What it adds to the raw sub-score (``weight x log-scaled value``; negative for penalties).
    evidence : str
        The evidence in words, e.g. ``"3 models derived from it (A, B, C)"``.
    """

    name: str
    value: float
    points: float
    evidence: str


@dataclass
class EntityScores:
    """The scores of one entity (each 0-100; see :func:`display` for the shown integers)."""

    slug: str
    name: str
    kind: str | None
    rank: float
    adoption: float
    quality: float
    ecosystem: float
    match_graph: float
    times_matched: int
    factors: dict[str, list[Factor]] = field(default_factory=dict)
    stub: bool = False

    def score(self, kind: str) -> float:
        """The score of a kind (``rank`` or a sub-score)."""
        return float(getattr(self, kind))

    def to_dict(self, *, factors: bool = False) -> dict[str, Any]:
        """A JSON-friendly form with the displayed (integer) scores."""
        data: dict[str, Any] = {"id": self.slug, "name": self.name, "kind": self.kind, "stub": self.stub}
        data.update({k: display(self.score(k)) for k in SCORE_KINDS})
        data["times_matched"] = self.times_matched
        if factors:
            data["factors"] = {k: [asdict(f) for f in fs] for k, fs in self.factors.items()}
        return data


def display(value: float) -> int:
    """Round a score for display, halves up (``display(70.5) == 71``)."""
    return int(math.floor(value + 0.5))


def log_points(weight: float, count: float, base: float = 2.0) -> float:
    """``weight x log_base(1 + count)``: the points of a count (0 for a count of 0).

    Examples
    --------
    >>> log_points(2.0, 3)
    4.0
    """
    return weight * math.log(1.0 + max(count, 0.0), base)


# ---------------------------------------------------------------------------------- weights
def default_weights() -> dict[str, Any]:
    """The package's default weights (``matchgraph/weights.yaml``)."""
    import yaml

    return yaml.safe_load(resources.files("matchgraph").joinpath("weights.yaml").read_text(encoding="utf-8"))


def _merge(base: dict[str, Any], override: Mapping[str, Any], where: str) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        dotted = f"{where}{key}"
        if key not in base and where != "adoption.metrics.":
            raise ConfigError(f"unknown weight {dotted!r}", hint="known here: " + ", ".join(sorted(base)))
        if isinstance(base.get(key), dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"weight {dotted!r} must be a mapping of weights")
            merged[key] = _merge(base[key], value, dotted + ".")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or math.isnan(value):
            raise ConfigError(f"weight {dotted!r} must be a number of zero or more, not {value!r}")
        merged[key] = float(value)
    return merged


def load_weights(source: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The default weights overlaid with a mapping or a YAML/JSON file; only given keys change.

    Parameters
    ----------
    source : path or mapping, optional
        A weights file (YAML or JSON) or an already parsed mapping.

    Returns
    -------
    dict
        The full weights, every value a float.

    Raises
    ------
    ConfigError
        The file cannot be read, has unknown keys or values that are not numbers >= 0.

    Examples
    --------
    >>> load_weights({"rank": {"quality": 1}})["rank"]["quality"]
    1.0
    """
    import yaml

    defaults = _merge(default_weights(), {}, "")
    if source is None:
        override: Any = {}
    elif isinstance(source, Mapping):
        override = source
    else:
        path = Path(source)
        try:
            override = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read the weights file {path}: {exc.strerror or exc}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"the weights file {path} is not valid YAML or JSON: {exc}") from exc
    if not isinstance(override, Mapping):
        raise ConfigError("a weights file holds a mapping such as {rank: {quality: 0.5}}")
    weights = _merge(defaults, override, "")
    weights = {k: (dict(v) if isinstance(v, dict) else v) for k, v in weights.items()}
    rank = {k: weights["rank"][k] for k in SUB_SCORES}
    if sum(rank.values()) <= 0:
        raise ConfigError("the rank weights of the sub-scores add up to 0", hint="give at least one a positive weight")
    if not 0 < weights["match_graph"]["damping"] < 1:
        raise ConfigError("match_graph.damping must lie strictly between 0 and 1")
    return weights


def weights_json(weights: Mapping[str, Any]) -> str:
    """The canonical JSON of weights (what a score run records and caches compare)."""
    return json.dumps(weights, sort_keys=True, separators=(",", ":"))


# ---------------------------------------------------------------------------------- evidence
# Joins are written as sub-selects (hash joins in Oxigraph), as in matchgraph.projection; only
# per-entity groups are formed in the engine.
_METRICS = """SELECT ?e ?name ?v WHERE {
    { SELECT ?e ?m WHERE { ?e mg:hasMetric ?m } }
    { SELECT ?m ?name WHERE { ?m mg:metricName ?name } }
    { SELECT ?m ?v WHERE { ?m schema:value ?v } }
}"""
_CAPABILITIES = "SELECT ?e (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c mg:capabilityOf ?e } GROUP BY ?e"
_WITH_CLAIMS = f"""SELECT ?e (COUNT(DISTINCT ?c) AS ?n) WHERE {{
    {CAPABILITY_OF} {{ SELECT ?cl ?c WHERE {{ ?cl mg:claimOf ?c }} }}
}} GROUP BY ?e"""
_WITH_CONCEPTS = f"""SELECT ?e (COUNT(DISTINCT ?c) AS ?n) WHERE {{
    {CAPABILITY_OF} {{ SELECT ?c ?k WHERE {{ ?c mg:concept ?k }} }}
}} GROUP BY ?e"""
_DANGLING = f"""SELECT ?e (COUNT(DISTINCT ?cl) AS ?n) WHERE {{
    {CAPABILITY_OF}
    {{ SELECT ?cl ?c WHERE {{ {{ SELECT ?cl WHERE {{ ?cl a mg:AlternativeClaim }} }}
                            {{ SELECT ?cl ?c WHERE {{ ?cl mg:claimOf ?c }} }} }} }}
    MINUS {{ {{ SELECT ?cl WHERE {{ ?cl mg:namesAlternative ?x }} }} }}
}} GROUP BY ?e"""
_RESULTS = "SELECT ?e (COUNT(DISTINCT ?r) AS ?n) WHERE { ?e mg:hasResult ?r } GROUP BY ?e"
_ENTITY = "{ SELECT ?e WHERE { ?e a mg:Entity } }"
_DESCRIBED = f"SELECT ?e WHERE {{ {_ENTITY} {{ SELECT ?e WHERE {{ ?e dcterms:description ?d }} }} }}"
_LICENCES = "SELECT ?e ?l WHERE { ?e dcterms:license ?l }"
_HOMEPAGES = "SELECT ?e WHERE { ?e schema:url ?u }"
_SOURCED = f"SELECT ?e WHERE {{ {_ENTITY} {{ SELECT ?e WHERE {{ ?e prov:wasDerivedFrom ?s }} }} }}"


@dataclass
class _Documentation:
    capabilities: int = 0
    with_claims: int = 0
    with_concepts: int = 0
    dangling: int = 0
    results: int = 0
    description: bool = False
    licence: str | None = None
    homepage: bool = False
    source: bool = False


def _gather(catalog: Catalog, nodes: Iterable[str]) -> tuple[dict[str, dict[str, float]], dict[str, _Documentation]]:
    """Usage metrics and documentation facts of every entity (ten bulk queries)."""
    metrics: dict[str, dict[str, float]] = defaultdict(dict)
    for e, name, value in select_values(catalog, _METRICS):
        try:
            metrics[slug_of(e or "")][str(name)] = float(value or 0)
        except ValueError:
            continue
    docs = {slug: _Documentation() for slug in nodes}

    def each(query: str) -> Iterator[tuple[_Documentation, tuple[str | None, ...]]]:
        for row in select_values(catalog, query):
            doc = docs.get(slug_of(row[0] or ""))
            if doc is not None:
                yield doc, row[1:]

    for doc, (n,) in each(_CAPABILITIES):
        doc.capabilities = int(n or 0)
    for doc, (n,) in each(_WITH_CLAIMS):
        doc.with_claims = int(n or 0)
    for doc, (n,) in each(_WITH_CONCEPTS):
        doc.with_concepts = int(n or 0)
    for doc, (n,) in each(_DANGLING):
        doc.dangling = int(n or 0)
    for doc, (n,) in each(_RESULTS):
        doc.results = int(n or 0)
    for doc, _ in each(_DESCRIBED):
        doc.description = True
    for doc, (licence,) in each(_LICENCES):
        doc.licence = min(doc.licence, licence or "") if doc.licence else (licence or None)
    for doc, _ in each(_HOMEPAGES):
        doc.homepage = True
    for doc, _ in each(_SOURCED):
        doc.source = True
    return metrics, docs


# ---------------------------------------------------------------------------------- links
_SHOWN = 3


@dataclass
class _Links:
    """Distinct partners of every node by one kind of link: how many, the first few by name, and
    the kind they all share (None when mixed or unknown)."""

    count: np.ndarray
    first: dict[int, list[int]]
    kind: dict[int, str | None]


class _Context:
    """The compact projection with what factors need to say who is linked to whom."""

    def __init__(self, p: CompactProjection) -> None:
        self.p = p
        order = sorted(range(p.n), key=lambda i: (p.names[i], p.slugs[i]))
        self.name_rank = np.empty(p.n, dtype=np.int64)
        self.name_rank[order] = np.arange(p.n)
        kinds = list(KINDS)
        self.kind_code = np.array([kinds.index(k) if k else len(kinds) for k in p.kinds], dtype=np.int64)

    def links(self, relations: tuple[str, ...], *, incoming: bool = True, outgoing: bool = False) -> _Links:
        """Partners through edges of ``relations`` pointing to the node (and/or from it)."""
        p, n = self.p, max(self.p.n, 1)
        mask = p.mask(*relations)
        ends = ([(p.dst[mask], p.src[mask])] if incoming else []) + ([(p.src[mask], p.dst[mask])] if outgoing else [])
        codes = np.unique(np.concatenate([a.astype(np.int64) * n + b for a, b in ends]))
        node, other = codes // n, codes % n
        order = np.lexsort((self.name_rank[other], node))
        node_s, other_s = node[order], other[order]
        shown = (np.arange(len(node_s)) - np.searchsorted(node_s, node_s, side="left")) < _SHOWN
        first: dict[int, list[int]] = defaultdict(list)
        for i, j in zip(node_s[shown].tolist(), other_s[shown].tolist()):
            first[i].append(j)
        return _Links(np.bincount(node, minlength=p.n), first, self._shared_kind(node, other, list(first)))

    def _shared_kind(self, node: np.ndarray, other: np.ndarray, nodes: list[int]) -> dict[int, str | None]:
        """For each of ``nodes``, the kind all its partners have (None if unknown), when they share one."""
        kinds = list(KINDS)
        low = np.full(self.p.n, len(kinds) + 1, dtype=np.int64)
        high = np.full(self.p.n, -1, dtype=np.int64)
        np.minimum.at(low, node, self.kind_code[other])
        np.maximum.at(high, node, self.kind_code[other])
        return {i: (kinds[lo] if lo < len(kinds) else None)
                for i, lo, hi in zip(nodes, low[nodes].tolist(), high[nodes].tolist()) if lo == hi}

    def names(self, links: _Links, i: int) -> str:
        """``"(A, B, C and 4 more)"``."""
        text = ", ".join(self.p.names[j] for j in links.first.get(i, []))
        extra = int(links.count[i]) - len(links.first.get(i, []))
        return f"({text}{f' and {extra} more' if extra > 0 else ''})"


def _count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def _noun(links: _Links, i: int) -> str:
    word = links.kind.get(i) or "entity"
    if links.count[i] == 1:
        return word
    return _PLURAL.get(word, "entities" if word == "entity" else word + "s")


def _times(n: int) -> str:
    return "never matched" if n == 0 else ("matched once" if n == 1 else f"matched {n:,} times")


# ---------------------------------------------------------------------------------- factors
@dataclass
class _Evidence:
    """Everything the factors of every entity are computed from."""

    ctx: _Context
    metrics: dict[str, dict[str, float]]
    docs: dict[str, _Documentation]
    lineage: dict[str, _Links]
    derived: _Links
    claimants: _Links
    mentions: np.ndarray
    integrations: _Links
    formats: _Links
    neighbours: _Links
    pagerank: np.ndarray


def _evidence(catalog: Catalog, p: CompactProjection, damping: float) -> _Evidence:
    ctx = _Context(p)
    metrics, docs = _gather(catalog, p.slugs)
    alternative = p.mask("alternative")
    stated = tuple(r for r in RELATION_KINDS if r not in _NOT_LINKS)
    return _Evidence(
        ctx, metrics, docs, {r: ctx.links((r,)) for r in _LINEAGE}, ctx.links(_LINEAGE), ctx.links(("alternative",)),
        np.bincount(p.dst[alternative], weights=p.weight[alternative], minlength=p.n),
        ctx.links(("integratesWith",), outgoing=True), ctx.links(("supportsFormat",), outgoing=True),
        ctx.links(stated, outgoing=True), weighted_pagerank(p, alpha=damping))


def _derived_evidence(ev: _Evidence, i: int) -> str:
    parts = []
    for relation in _LINEAGE:
        links = ev.lineage[relation]
        if links.count[i]:
            phrase = _LINEAGE_PHRASE[relation][0 if links.count[i] == 1 else 1]
            parts.append(f"{links.count[i]} {_noun(links, i)} {phrase} {ev.ctx.names(links, i)}")
    return "; ".join(parts) or "nothing derived from it"


def _adoption(ev: _Evidence, i: int, w: Mapping[str, Any]) -> list[Factor]:
    factors = []
    for name, value in sorted(ev.metrics.get(ev.ctx.p.slugs[i], {}).items()):
        weight = w["metrics"].get(name, w["metrics"]["other"])
        label = name.replace("_", " ")
        factors.append(Factor(label, value, log_points(weight, value, 10.0), f"{_count(value)} {label}"))
    derived = int(ev.derived.count[i])
    factors.append(Factor("derived works", derived, log_points(w["derived_works"], derived), _derived_evidence(ev, i)))
    n = float(ev.mentions[i])
    factors.append(Factor(
        "alternative mentions", n, log_points(w["alternative_mentions"], n),
        f"named as an alternative in {_count(n)} claim{'s' if n != 1 else ''} by {ev.ctx.names(ev.claimants, i)[1:-1]}"
        if n else "named as an alternative in no claim"))
    times = int(ev.ctx.p.times_matched[i])
    factors.append(Factor("times matched", times, log_points(w["times_matched"], times), _times(times)))
    return factors


def _quality(doc: _Documentation, w: Mapping[str, Any]) -> list[Factor]:
    n = doc.with_claims
    factors = [
        Factor("capabilities with claims", n, log_points(w["capabilities_with_claims"], n),
               f"{n} of {doc.capabilities} capabilit{'y' if doc.capabilities == 1 else 'ies'} with claims"
               if doc.capabilities else "no capabilities described"),
        Factor("benchmark results", doc.results, log_points(w["benchmark_results"], doc.results),
               f"{doc.results} benchmark result{'s' if doc.results != 1 else ''}"),
        Factor("description", int(doc.description), w["description"] * doc.description,
               "a description" if doc.description else "no description"),
        Factor("licence", int(doc.licence is not None), w["licence"] * (doc.licence is not None),
               f"licence {doc.licence}" if doc.licence else "no licence"),
        Factor("homepage", int(doc.homepage), w["homepage"] * doc.homepage,
               "a homepage" if doc.homepage else "no homepage"),
        Factor("source", int(doc.source), w["source"] * doc.source,
               "described by a source document" if doc.source else "no source document"),
    ]
    problems = [(doc.capabilities - doc.with_claims, "capability without claims", "capabilities without claims"),
                (doc.capabilities - doc.with_concepts, "capability without a concept", "capabilities without a concept"),
                (doc.dangling, "alternative claim naming no entity", "alternative claims naming no entity")]
    count = sum(k for k, _, _ in problems)
    words = ", ".join(f"{k} {one if k == 1 else many}" for k, one, many in problems if k)
    factors.append(Factor("warnings", count, -w["warning_penalty"] * count,
                          f"{count} warning{'s' if count != 1 else ''}" + (f": {words}" if words else "")))
    return factors


def _ecosystem(ev: _Evidence, i: int, w: Mapping[str, Any]) -> list[Factor]:
    integrations, formats = int(ev.integrations.count[i]), int(ev.formats.count[i])
    links, derived = int(ev.neighbours.count[i]), int(ev.derived.count[i])
    return [
        Factor("integrations", integrations, log_points(w["integrations"], integrations),
               f"integrates with {integrations} {_noun(ev.integrations, i)} {ev.ctx.names(ev.integrations, i)}"
               if integrations else "no integrations"),
        Factor("formats", formats, log_points(w["formats"], formats),
               f"{formats} format link{'s' if formats != 1 else ''} {ev.ctx.names(ev.formats, i)}"
               if formats else "no format links"),
        Factor("derived works", derived, log_points(w["derived_works"], derived),
               f"{derived} derived work{'s' if derived != 1 else ''}"),
        Factor("distinct neighbours", links, log_points(w["distinct_neighbours"], links),
               f"linked to {links} distinct entit{'y' if links == 1 else 'ies'}"),
    ]


def _match_graph(ev: _Evidence, i: int, w: Mapping[str, Any]) -> list[Factor]:
    pagerank = float(ev.pagerank[i])
    relative = pagerank * ev.ctx.p.n
    times = int(ev.ctx.p.times_matched[i])
    return [
        Factor("pagerank", round(pagerank, 8), log_points(w["pagerank"], relative),
               f"PageRank {pagerank:.4f} ({relative:.1f} times the average)"),
        Factor("times matched", times, log_points(w["times_matched"], times), _times(times)),
    ]


def weighted_pagerank(p: CompactProjection, *, alpha: float = 0.85, tol: float = 1e-12,
                      max_iter: int = 1000) -> np.ndarray:
    """PageRank of every node of a compact projection, following edges with their weights.

    The same power iteration as :func:`networkx.pagerank` (uniform teleport, dangling nodes
    spread uniformly, parallel edges summed), on a sparse matrix.

    Examples
    --------
    >>> from matchgraph.projection import build_compact
    >>> weighted_pagerank(build_compact(Catalog("memory:"))).shape
    (0,)
    """
    from scipy import sparse

    n = p.n
    if n == 0:
        return np.zeros(0)
    matrix = sparse.csr_matrix((p.weight, (p.src, p.dst)), shape=(n, n))
    out = np.asarray(matrix.sum(axis=1)).ravel()
    dangling = out == 0
    matrix = sparse.diags(np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out))) @ matrix
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = alpha * (x @ matrix + x[dangling].sum() / n) + (1 - alpha) / n
        if np.abs(x - last).sum() < n * tol:
            break
    return x


def _rank_factors(scores: Mapping[str, float], stub: bool, w: Mapping[str, float]) -> list[Factor]:
    total = sum(w[k] for k in SUB_SCORES)
    factors = [Factor(k, scores[k], w[k] * scores[k] / total,
                      f"{LABELS[k]} {display(scores[k])} x {w[k] / total:.2f}") for k in SUB_SCORES]
    if stub:
        subtotal = sum(f.points for f in factors)
        factors.append(Factor("stub", 1, subtotal * (w["stub_multiplier"] - 1),
                              f"a stub: multiplied by {w['stub_multiplier']:g}"))
    return factors


# ---------------------------------------------------------------------------------- computing
def _calibrate(raw: list[float]) -> list[float]:
    """``100 x raw / max(raw)``, rounded to 2 places (all 0 when nothing scores)."""
    top = max(raw, default=0.0)
    return [round(100.0 * v / top, 2) if top > 0 else 0.0 for v in raw]


def compute_scores(catalog: Catalog, weights: Mapping[str, Any] | None = None, *,
                   projection: CompactProjection | None = None) -> dict[str, EntityScores]:
    """Compute every entity's scores from the projection and a few bulk queries (nothing is written).

    Parameters
    ----------
    catalog : Catalog
    weights : mapping, optional
        Full weights (:func:`load_weights`); the package defaults by default.
    projection : CompactProjection, optional
        The projection, when the caller already has it.

    Returns
    -------
    dict of str to EntityScores
        By slug, sorted by slug.

    Examples
    --------
    >>> compute_scores(Catalog("memory:"))
    {}
    """
    from .projection import load_compact

    w = dict(weights) if weights is not None else load_weights()
    p = projection if projection is not None else load_compact(catalog)
    ev = _evidence(catalog, p, w["match_graph"]["damping"])
    factors = [{"adoption": _adoption(ev, i, w["adoption"]),
                "quality": _quality(ev.docs[p.slugs[i]], w["quality"]),
                "ecosystem": _ecosystem(ev, i, w["ecosystem"]),
                "match_graph": _match_graph(ev, i, w["match_graph"])} for i in range(p.n)]
    calibrated = {k: _calibrate([max(0.0, sum(f.points for f in fs[k])) for fs in factors]) for k in SUB_SCORES}
    for i, fs in enumerate(factors):
        fs["rank"] = _rank_factors({k: calibrated[k][i] for k in SUB_SCORES}, bool(p.stub[i]), w["rank"])
    ranks = _calibrate([sum(f.points for f in fs["rank"]) for fs in factors])
    return {slug: EntityScores(slug, p.names[i], p.kinds[i], ranks[i], *(calibrated[k][i] for k in SUB_SCORES),
                               int(p.times_matched[i]), {k: factors[i][k] for k in SCORE_KINDS}, bool(p.stub[i]))
            for i, slug in enumerate(p.slugs)}


def explanation(scores: EntityScores, kind: str) -> str:
    """One line in words: ``"Adoption 71: 100,000 downloads, 2 models trained on it (...)"``."""
    factors = scores.factors.get(kind, [])
    if kind == "rank":
        parts = [f.evidence for f in factors]
        return f"Rank {display(scores.rank)}: weighted mean of " + ", ".join(parts) + ", scaled so the top entity has 100"
    shown = [f.evidence for f in factors if f.value and f.points]
    return f"{LABELS[kind]} {display(scores.score(kind))}: " + (", ".join(shown) if shown else "no evidence")


# ---------------------------------------------------------------------------------- the store
def _iri(slug: str) -> str:
    return slug if slug.startswith(("http://", "https://", "urn:")) else f"{ID}{slug}"


def _rdf_chunks(scores: Mapping[str, EntityScores], run: str, chunk: int = 300) -> Iterator[str]:
    """The score triples in Turtle syntax (prefixes as in every query), ``chunk`` entities at a time."""
    lines: list[str] = []
    for i, (slug, s) in enumerate(sorted(scores.items()), start=1):
        e = _iri(slug)
        for kind in SCORE_KINDS:
            node = f"<{e}/score/{kind}>"
            lines.append(f"<{e}> mg:hasScore {node} . {node} a mg:Score ; mg:scoreKind \"{kind}\" ; "
                         f"schema:value {s.score(kind):.2f} ; mg:explanation {json.dumps(explanation(s, kind), ensure_ascii=False)} ; "
                         f"prov:wasGeneratedBy <{run}> .")
        if i % chunk == 0:
            yield "\n".join(lines)
            lines = []
    yield "\n".join(lines)


def _flush(catalog: Catalog) -> None:
    """Write buffered changes to disk, which also frees the memory holding them."""
    store = catalog.oxigraph
    if store is not None:
        store.flush()


def _clear_scores(catalog: Catalog, batch: int = 50_000) -> None:
    """Empty the score graph in small deletes (one big one holds every deletion in memory)."""
    g = f"<{SCORE_GRAPH}>"
    if catalog.oxigraph is None:  # a remote engine drops a graph in one step
        catalog.update(f"DROP SILENT GRAPH {g}", derived=True)
        return
    rounds = 0
    while catalog.ask(f"ASK {{ GRAPH {g} {{ ?s ?p ?o }} }}"):
        catalog.update(f"DELETE {{ GRAPH {g} {{ ?s ?p ?o }} }} WHERE {{ "
                       f"{{ SELECT ?s ?p ?o WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }} LIMIT {batch} }} }}", derived=True)
        rounds += 1
        if rounds % 10 == 0:
            _flush(catalog)
    _flush(catalog)


def _insert_scores(catalog: Catalog, scores: Mapping[str, EntityScores], run: str) -> None:
    """Add the score triples: one bulk load into an embedded store, else small INSERT DATA updates."""
    g = f"<{SCORE_GRAPH}>"
    store = catalog.oxigraph
    if store is None:  # a remote engine: a batched bulk load (engines cap the size of one update)
        header = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items())
        catalog.backend.load(header + "\n".join(_rdf_chunks(scores, run, chunk=2000)), graph=str(SCORE_GRAPH))
        return
    import pyoxigraph as ox

    path = catalog.cache_dir / f"scores-{os.getpid()}.trig"
    try:
        with path.open("w", encoding="utf-8") as fh:
            fh.write("".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items()))
            for body in _rdf_chunks(scores, run, chunk=2000):
                fh.write(f"{g} {{\n{body}\n}}\n")
        store.bulk_load(path=str(path), format=ox.RdfFormat.TRIG)
    finally:
        path.unlink(missing_ok=True)


def _write_run(catalog: Catalog, weights: Mapping[str, Any], data_version: str, started: datetime) -> str:
    """Record the run (replacing the previous one); returns the new catalog version."""
    from . import __version__

    g = f"<{SCORE_GRAPH}>"
    run = str(RUN[f"scores-{data_version}"])
    ended = datetime.now(timezone.utc).replace(microsecond=0)
    return catalog.update(f"""DELETE {{ GRAPH {g} {{ ?run ?p ?o }} }} WHERE {{ GRAPH {g} {{ ?run a mg:ScoreRun ; ?p ?o }} }} ;
        INSERT DATA {{ GRAPH {g} {{ <{run}> a mg:ScoreRun ;
        prov:startedAtTime "{started.isoformat()}"^^xsd:dateTime ; prov:endedAtTime "{ended.isoformat()}"^^xsd:dateTime ;
        mg:weights {json.dumps(weights_json(weights), ensure_ascii=False)} ; mg:softwareVersion "{__version__}" ;
        mg:catalogVersion {json.dumps(data_version)} }} }}""", derived=True)


def _write_rdf(catalog: Catalog, scores: Mapping[str, EntityScores], weights: Mapping[str, Any],
               data_version: str, started: datetime) -> str:
    """Replace the score graph; the run, written last, says which data the scores belong to, so an
    interrupted write is never taken for current scores."""
    _clear_scores(catalog)
    _insert_scores(catalog, scores, str(RUN[f"scores-{data_version}"]))
    version = _write_run(catalog, weights, data_version, started)
    _flush(catalog)
    return version


def _stored_run(catalog: Catalog) -> tuple[str, str] | None:
    rows = list(select_values(catalog, f"""SELECT ?cv ?w WHERE {{ GRAPH <{SCORE_GRAPH}> {{
        ?run a mg:ScoreRun ; mg:catalogVersion ?cv ; mg:weights ?w }} }}"""))
    return (rows[0][0] or "", rows[0][1] or "") if len(rows) == 1 else None


# ---------------------------------------------------------------------------------- the cache
def _cache_path(catalog: Catalog, data_version: str) -> Path:
    return catalog.cache_dir / f"scores-v{_FORMAT}-{data_version}.sqlite"


def _write_cache(path: Path, scores: Mapping[str, EntityScores], weights: Mapping[str, Any]) -> str:
    """Write every entity's scores and factors to SQLite; returns a digest of the content."""
    digest = hashlib.sha1(weights_json(weights).encode())

    def rows() -> Iterator[tuple[Any, ...]]:
        for s in scores.values():
            factors = json.dumps({k: [[f.name, f.value, f.points, f.evidence] for f in fs]
                                  for k, fs in s.factors.items()}, separators=(",", ":"))
            row = (s.slug, s.name, s.kind, int(s.stub), s.rank, s.adoption, s.quality, s.ecosystem, s.match_graph,
                   s.times_matched, factors)
            digest.update(json.dumps(row).encode())
            yield row

    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with closing(sqlite3.connect(tmp)) as conn:
        conn.executescript("""PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
            CREATE TABLE scores (slug TEXT PRIMARY KEY, name TEXT, kind TEXT, stub INTEGER, rank REAL,
                adoption REAL, quality REAL, ecosystem REAL, match_graph REAL, times_matched INTEGER,
                factors TEXT) WITHOUT ROWID;""")
        conn.executemany("INSERT INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
        conn.executemany("INSERT INTO meta VALUES (?, ?)",
                         [("weights", weights_json(weights)), ("digest", digest.hexdigest()), ("stored", "")])
        conn.commit()
    os.replace(tmp, path)
    for old in path.parent.glob("scores-*.sqlite"):
        if old != path:
            old.unlink(missing_ok=True)
    return digest.hexdigest()


def _meta(path: Path, key: str) -> str | None:
    if not path.exists():
        return None
    with closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _mark_stored(path: Path, digest: str) -> None:
    """Note that the store's score graph holds exactly the cached scores of this digest."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('stored', ?)", (digest,))
        conn.commit()


def _row_scores(row: tuple[Any, ...]) -> EntityScores:
    slug, name, kind, stub, rank, adoption, quality, ecosystem, match_graph, times, factors = row
    parsed = {k: [Factor(*f) for f in fs] for k, fs in json.loads(factors).items()}
    return EntityScores(slug, name, kind, rank, adoption, quality, ecosystem, match_graph, times, parsed, bool(stub))


def _cached_weights(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'weights'").fetchone()
    return row[0] if row else None


def _read_cache(path: Path, weights: Mapping[str, Any], slugs: list[str] | None) -> dict[str, EntityScores] | None:
    if not path.exists():
        return None
    with closing(sqlite3.connect(path)) as conn:
        if _cached_weights(conn) != weights_json(weights):
            return None
        if slugs is None:
            rows = conn.execute("SELECT * FROM scores ORDER BY slug").fetchall()
        else:
            rows = []
            for i in range(0, len(slugs), 500):
                chunk = slugs[i:i + 500]
                rows += conn.execute(f"SELECT * FROM scores WHERE slug IN ({','.join('?' * len(chunk))})",
                                     chunk).fetchall()
    return {s.slug: s for s in map(_row_scores, rows)}


_STORED_RANKS = f"""SELECT ?e ?v WHERE {{ GRAPH <{SCORE_GRAPH}> {{
    {{ SELECT ?e ?s WHERE {{ ?e mg:hasScore ?s }} }} {{ SELECT ?s WHERE {{ ?s mg:scoreKind "rank" }} }}
    {{ SELECT ?s ?v WHERE {{ ?s schema:value ?v }} }} }} }}"""


def current_ranks(catalog: Catalog) -> dict[str, float] | None:
    """The ranks of the stored scores when they are current for the catalog's data (whatever their
    weights), else None. Nothing is computed.

    Examples
    --------
    >>> current_ranks(Catalog("memory:")) is None
    True
    """
    run = _stored_run(catalog)
    if run is None or run[0] != catalog.data_version:
        return None
    path = _cache_path(catalog, run[0])
    if path.exists():
        with closing(sqlite3.connect(path)) as conn:
            if _cached_weights(conn) == run[1]:
                return {slug: rank for slug, rank in conn.execute("SELECT slug, rank FROM scores")}
    return {slug_of(e or ""): float(v or 0) for e, v in select_values(catalog, _STORED_RANKS)}


# ---------------------------------------------------------------------------------- public API
def _current(catalog: Catalog, weights: Mapping[str, Any], slugs: list[str] | None,
             recompute: bool) -> dict[str, EntityScores]:
    from .neighbours import sync_ranks

    version = catalog.data_version
    path = _cache_path(catalog, version)
    current = _stored_run(catalog) == (version, weights_json(weights))
    if current and not recompute:
        cached = _read_cache(path, weights, slugs)
        if cached is not None:
            if slugs is None:
                sync_ranks(catalog, {s: v.rank for s, v in cached.items()})
            return cached
    stored = _meta(path, "stored") if current else None
    started = datetime.now(timezone.utc).replace(microsecond=0)
    scores = compute_scores(catalog, weights)
    digest = _write_cache(path, scores, weights)
    if digest == stored:  # the store already holds these very scores: only the run is renewed
        new_version = _write_run(catalog, weights, version, started)
    else:
        new_version = _write_rdf(catalog, scores, weights, version, started)
    _mark_stored(path, digest)
    sync_ranks(catalog, {s: v.rank for s, v in scores.items()}, new_version)
    return scores if slugs is None else {s: scores[s] for s in slugs if s in scores}


def load_scores(catalog: Catalog, *, recompute: bool = False,
                weights: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> dict[str, EntityScores]:
    """Every entity's scores, recomputed only when the data or the weights changed.

    Stored scores are used when their run's ``mg:catalogVersion`` is the catalog's
    :attr:`~matchgraph.catalog.Catalog.data_version` and its weights are the ones asked for;
    otherwise they are computed, written to the store (score graph, with provenance) and cached.

    Parameters
    ----------
    catalog : Catalog
    recompute : bool
        Compute (and write) even when stored scores are current.
    weights : path or mapping, optional
        Overrides of the default weights (see :func:`load_weights`).

    Returns
    -------
    dict of str to EntityScores
        By slug.

    Examples
    --------
    >>> load_scores(Catalog("memory:"))
    {}
    """
    return _current(catalog, load_weights(weights), None, recompute)


def scores_for(catalog: Catalog, slugs: Iterable[str], *,
               weights: str | os.PathLike[str] | Mapping[str, Any] | None = None,
               recompute: bool = False) -> dict[str, EntityScores]:
    """The scores of a few entities, reading only their rows when the stored scores are current.

    Parameters
    ----------
    catalog : Catalog
    slugs : iterable of str
        Entity slugs (unknown ones are left out of the result).
    weights, recompute
        As in :func:`load_scores`.

    Examples
    --------
    >>> scores_for(Catalog("memory:"), ["the-pile"])
    {}
    """
    return _current(catalog, load_weights(weights), list(dict.fromkeys(slugs)), recompute)
