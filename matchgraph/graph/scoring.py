"""Scores of every entity: Rank, Adoption, Quality, Ecosystem and Match Graph, each 0-100.

Every sub-score is a sum of *factors*, each worth ``weight x log-scaled evidence`` points (see
``weights.yaml`` and ``docs/scoring.md``), calibrated within the catalog as
``100 x raw / max(raw)``. The rank is the weighted mean of the sub-scores (halved for stubs),
calibrated the same way. Computing is deterministic: the same facts and weights give the same
numbers, so scores kept up to date from a delta equal those of a full rebuild.

:func:`compute_table` works on arrays only (the projection, PageRank on a ``scipy.sparse``
matrix, the per-entity evidence of :mod:`matchgraph.graph.facts`): it reads nothing from the
store. A :class:`ScoreTable` holds every entity's scores and factors; it is stored per catalog
version by :mod:`matchgraph.graph.derived`.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..vocab import KINDS
from .facts import Facts
from .projection import CompactProjection, Nodes
from .relations import LINEAGE_RELATIONS, NOT_LINKS, RELATION_KINDS
from .weights import LABELS, SCORE_KINDS, SUB_SCORES

__all__ = ["Factor", "EntityScores", "ScoreTable", "compute_table", "display", "log_points", "explanation",
           "weighted_pagerank"]

_LINEAGE = LINEAGE_RELATIONS
_LINEAGE_PHRASE = {"derivedFrom": ("derived from it", "derived from it"),
                   "trainedOn": ("trained on it", "trained on it"),
                   "subsetOf": ("is a subset of it", "are subsets of it")}
_PLURAL = {"library": "libraries"}
TABLE_FORMAT = 1


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


# ---------------------------------------------------------------------------------- evidence
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


def _gather(facts: Facts, nodes: Nodes) -> tuple[list[dict[str, float]], list[_Documentation]]:
    """Usage metrics and documentation facts of every node, from the facts (no store access)."""
    node_of = nodes.node_of
    metrics: list[dict[str, float]] = [{} for _ in nodes.slugs]
    for e, name, value in zip(node_of[facts.column("metric", 0)].tolist(), facts.column("metric", 1).tolist(),
                              facts.column("metric", 2).tolist()):
        if e >= 0 and not math.isnan(value):
            label = facts.strings[name]
            metrics[e][label] = max(metrics[e].get(label, value), value)
    docs = [_Documentation() for _ in nodes.slugs]
    for table in ("capabilities", "with_claims", "with_concepts", "dangling", "results"):
        for e, n in zip(node_of[facts.column(table, 0)].tolist(), facts.column(table, 1).tolist()):
            if e >= 0:
                setattr(docs[e], table, getattr(docs[e], table) + int(n))
    for table, attribute in (("described", "description"), ("homepage", "homepage"), ("source", "source")):
        for e in node_of[facts.column(table, 0)].tolist():
            if e >= 0:
                setattr(docs[e], attribute, True)
    for e, s in zip(node_of[facts.column("licence", 0)].tolist(), facts.column("licence", 1).tolist()):
        if e >= 0:
            licence = facts.strings[s] or None
            current = docs[e].licence
            docs[e].licence = min(current, licence or "") if current else licence
    return metrics, docs


# ---------------------------------------------------------------------------------- links
_SHOWN = 3


@dataclass
class _Links:
    """Distinct partners of every node by one kind of link: how many, the first few by name, and
    the kind they all share (None when mixed or unknown). The partners of a node are looked up
    when its evidence is put in words (``first``, ``kind``), not for every node up front."""

    def __init__(self, count: np.ndarray, node_s: np.ndarray, other_s: np.ndarray, low: np.ndarray,
                 high: np.ndarray) -> None:
        self.count, self._node_s, self._other_s, self._low, self._high = count, node_s, other_s, low, high
        self.first = _FirstPartners(self)
        self.kind = _SharedKind(self)


class _FirstPartners:
    def __init__(self, links: _Links) -> None:
        self.links = links

    def get(self, i: int, default: list[int] | None = None) -> list[int]:
        a = int(np.searchsorted(self.links._node_s, i, side="left"))
        found = self.links._other_s[a:a + _SHOWN][self.links._node_s[a:a + _SHOWN] == i].tolist()
        return found if found else (default if default is not None else [])


class _SharedKind:
    def __init__(self, links: _Links) -> None:
        self.links = links

    def get(self, i: int, default: str | None = None) -> str | None:
        kinds = list(KINDS)
        lo, hi = int(self.links._low[i]), int(self.links._high[i])
        if lo != hi or hi < 0:
            return default
        return kinds[lo] if lo < len(kinds) else None


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
        kinds = list(KINDS)
        low = np.full(self.p.n, len(kinds) + 1, dtype=np.int64)
        high = np.full(self.p.n, -1, dtype=np.int64)
        np.minimum.at(low, node, self.kind_code[other])
        np.maximum.at(high, node, self.kind_code[other])
        return _Links(np.bincount(node, minlength=p.n), node[order], other[order], low, high)

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
    metrics: list[dict[str, float]]
    docs: list[_Documentation]
    lineage: dict[str, _Links]
    derived: _Links
    claimants: _Links
    mentions: np.ndarray
    integrations: _Links
    formats: _Links
    neighbours: _Links
    pagerank: np.ndarray


def _evidence(facts: Facts, nodes: Nodes, p: CompactProjection, damping: float) -> _Evidence:
    ctx = _Context(p)
    metrics, docs = _gather(facts, nodes)
    alternative = p.mask("alternative")
    stated = tuple(r for r in RELATION_KINDS if r not in NOT_LINKS)
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
    for name, value in sorted(ev.metrics[i].items()):
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
    spread uniformly, parallel edges summed), vectorised over the edge arrays with NumPy only
    (each step one ``bincount``), so a recorded match updates scores without loading SciPy.

    Examples
    --------
    >>> from matchgraph.graph.facts import Facts, read_facts
    >>> from matchgraph.graph.projection import project
    >>> from matchgraph.store.catalog import Catalog
    >>> weighted_pagerank(project(read_facts(Catalog("memory:")))).shape
    (0,)
    """
    n = p.n
    if n == 0:
        return np.zeros(0)
    src, dst = p.src.astype(np.int64), p.dst.astype(np.int64)
    out = np.bincount(src, weights=p.weight, minlength=n)
    dangling = out == 0
    share = p.weight / np.where(dangling, 1.0, out)[src]
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = alpha * (np.bincount(dst, weights=x[src] * share, minlength=n) + x[dangling].sum() / n) + (1 - alpha) / n
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
#: The factors kept for every entity and version (score history): (sub-score, factor name).
HISTORY_FACTORS: tuple[tuple[str, str], ...] = (
    ("adoption", "usage metrics"), ("adoption", "derived works"), ("adoption", "alternative mentions"),
    ("adoption", "times matched"), ("quality", "capabilities with claims"), ("quality", "benchmark results"),
    ("quality", "description"), ("quality", "licence"), ("quality", "homepage"), ("quality", "source"),
    ("quality", "warnings"), ("ecosystem", "integrations"), ("ecosystem", "formats"), ("ecosystem", "derived works"),
    ("ecosystem", "distinct neighbours"), ("match_graph", "pagerank"), ("match_graph", "times matched"),
)


def _raw(ev: _Evidence, i: int, w: Mapping[str, Any]) -> tuple[list[float], list[float], list[float]]:
    """Raw points of the four sub-scores of node ``i``, with the values and points of
    :data:`HISTORY_FACTORS`. The same sums, in the same order, as the factors' points (so the
    numbers are those :func:`_factor_lists` explains), without building any text."""
    a, q, e, m = w["adoption"], w["quality"], w["ecosystem"], w["match_graph"]
    metrics = sorted(ev.metrics[i].items())
    usage = 0.0
    adoption = 0.0
    for name, value in metrics:
        points = log_points(a["metrics"].get(name, a["metrics"]["other"]), value, 10.0)
        adoption += points
        usage += points
    derived = int(ev.derived.count[i])
    mentions = float(ev.mentions[i])
    times = int(ev.ctx.p.times_matched[i])
    p_derived, p_mentions, p_times = (log_points(a["derived_works"], derived),
                                      log_points(a["alternative_mentions"], mentions), log_points(a["times_matched"], times))
    adoption += p_derived
    adoption += p_mentions
    adoption += p_times
    doc = ev.docs[i]
    warnings = (doc.capabilities - doc.with_claims) + (doc.capabilities - doc.with_concepts) + doc.dangling
    qualities = [(doc.with_claims, log_points(q["capabilities_with_claims"], doc.with_claims)),
                 (doc.results, log_points(q["benchmark_results"], doc.results)),
                 (int(doc.description), q["description"] * doc.description),
                 (int(doc.licence is not None), q["licence"] * (doc.licence is not None)),
                 (int(doc.homepage), q["homepage"] * doc.homepage), (int(doc.source), q["source"] * doc.source),
                 (warnings, -q["warning_penalty"] * warnings)]
    quality = 0.0
    for _, points in qualities:
        quality += points
    integrations, formats = int(ev.integrations.count[i]), int(ev.formats.count[i])
    links = int(ev.neighbours.count[i])
    ecosystems = [(integrations, log_points(e["integrations"], integrations)),
                  (formats, log_points(e["formats"], formats)),
                  (derived, log_points(e["derived_works"], derived)),
                  (links, log_points(e["distinct_neighbours"], links))]
    ecosystem = 0.0
    for _, points in ecosystems:
        ecosystem += points
    pagerank = float(ev.pagerank[i])
    p_rank = log_points(m["pagerank"], pagerank * ev.ctx.p.n)
    p_mtimes = log_points(m["times_matched"], times)
    match_graph = 0.0 + p_rank + p_mtimes
    values = [float(len(metrics)), derived, mentions, times, *(v for v, _ in qualities), *(v for v, _ in ecosystems),
              round(pagerank, 8), times]
    points = [usage, p_derived, p_mentions, p_times, *(p for _, p in qualities), *(p for _, p in ecosystems),
              p_rank, p_mtimes]
    return [adoption, quality, ecosystem, match_graph], values, points


def _rank_points(scores: list[float], stub: bool, w: Mapping[str, float]) -> float:
    """The raw rank: the same sum as the points of :func:`_rank_factors`."""
    total = sum(w[k] for k in SUB_SCORES)
    raw = 0.0
    for k, score in zip(SUB_SCORES, scores):
        raw += w[k] * score / total
    if stub:
        raw += raw * (w["stub_multiplier"] - 1)
    return raw


def _calibrate(raw: np.ndarray) -> np.ndarray:
    """``100 x raw / max(raw)``, rounded to 2 places (all 0 when nothing scores)."""
    top = float(raw.max()) if raw.size else 0.0
    return np.array([round(100.0 * v / top, 2) if top > 0 else 0.0 for v in raw.tolist()], dtype=np.float64)


class Explainer:
    """Builds the factors (with their evidence in words) of any entity of a version on demand."""

    def __init__(self, facts: Facts, nodes: Nodes, p: CompactProjection, weights: Mapping[str, Any]) -> None:
        self.w = weights
        self.ev = _evidence(facts, nodes, p, weights["match_graph"]["damping"])

    def factors(self, i: int, values: np.ndarray) -> dict[str, list[Factor]]:
        """The factors of node ``i`` whose scores are ``values`` (in :data:`SCORE_KINDS` order)."""
        ev, w = self.ev, self.w
        out = {"adoption": _adoption(ev, i, w["adoption"]), "quality": _quality(ev.docs[i], w["quality"]),
               "ecosystem": _ecosystem(ev, i, w["ecosystem"]), "match_graph": _match_graph(ev, i, w["match_graph"])}
        subs = dict(zip(SUB_SCORES, values.tolist()[1:]))
        return {"rank": _rank_factors(subs, bool(ev.ctx.p.stub[i]), w["rank"]), **out}


@dataclass
class ScoreTable:
    """Every entity's scores (one row per projection node), with the factors behind them on demand.

    ``values[i]`` holds the five scores of node ``i`` in :data:`SCORE_KINDS` order (0-100, two
    decimals); ``factor_values`` / ``factor_points`` the :data:`HISTORY_FACTORS` of each node.
    Factors with their evidence in words come from an :class:`Explainer` (attached by whoever
    loaded the table: building one takes the version's facts and projection).
    """

    slugs: list[str]
    names: list[str]
    kinds: list[str | None]
    stub: np.ndarray
    times_matched: np.ndarray
    values: np.ndarray
    pagerank: np.ndarray
    factor_values: np.ndarray
    factor_points: np.ndarray
    data_version: str = ""
    weights: str = ""
    explainer: Any = field(default=None, repr=False, compare=False)
    _rows: dict[str, int] | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        """Number of entities."""
        return len(self.slugs)

    def row(self, slug: str) -> int | None:
        """The row of an entity (None when unknown)."""
        if self._rows is None:
            self._rows = {s: i for i, s in enumerate(self.slugs)}
        return self._rows.get(slug)

    def ranks(self) -> dict[str, float]:
        """Slug -> rank."""
        return dict(zip(self.slugs, self.values[:, 0].tolist()))

    def entity(self, i: int, *, factors: bool = True) -> EntityScores:
        """The scores of row ``i``, with their factors (built on demand) unless ``factors`` is False."""
        found: dict[str, list[Factor]] = {}
        if factors:
            explainer = self.explainer() if callable(self.explainer) and not isinstance(self.explainer, Explainer) \
                else self.explainer
            self.explainer = explainer
            found = explainer.factors(i, self.values[i]) if explainer is not None else {}
            found = {k: found[k] for k in SCORE_KINDS if k in found}
        v = self.values[i].tolist()
        return EntityScores(self.slugs[i], self.names[i], self.kinds[i], *v, int(self.times_matched[i]), found,
                            bool(self.stub[i]))

    def select(self, slugs: Iterable[str] | None = None, *, factors: bool = True) -> dict[str, EntityScores]:
        """EntityScores by slug: of the given entities (unknown ones left out), or of all."""
        if slugs is None:
            return {s: self.entity(i, factors=factors) for i, s in enumerate(self.slugs)}
        return {s: self.entity(i, factors=factors) for s in slugs if (i := self.row(s)) is not None}

    def save(self, directory: Path, name: str) -> None:
        """Write ``{name}.npz`` and ``{name}.json`` into a (staging) directory."""
        np.savez(directory / f"{name}.npz", stub=self.stub, times_matched=self.times_matched, values=self.values,
                 pagerank=self.pagerank, factor_values=self.factor_values, factor_points=self.factor_points)
        meta = {"format": TABLE_FORMAT, "slugs": self.slugs, "names": self.names, "kinds": self.kinds,
                "data_version": self.data_version, "weights": self.weights}
        (directory / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, name: str) -> ScoreTable:
        """Read what :meth:`save` wrote."""
        meta = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        if meta.get("format") != TABLE_FORMAT:
            raise ValueError("score table format changed")
        with np.load(directory / f"{name}.npz") as data:
            arrays = {k: data[k] for k in data.files}
        return cls(meta["slugs"], meta["names"], meta["kinds"], arrays["stub"], arrays["times_matched"],
                   arrays["values"], arrays["pagerank"], arrays["factor_values"], arrays["factor_points"],
                   meta["data_version"], meta["weights"])


def compute_table(facts: Facts, nodes: Nodes, p: CompactProjection, weights: Mapping[str, Any]) -> ScoreTable:
    """Compute every entity's scores from the facts and their projection (nothing is read or written).

    Parameters
    ----------
    facts : Facts
    nodes : Nodes
        ``nodes_of(facts)``: the same nodes as the projection's.
    p : CompactProjection
        ``project(facts)``.
    weights : mapping
        Full weights (:func:`matchgraph.graph.weights.load_weights`).

    Returns
    -------
    ScoreTable
        With an :class:`Explainer` attached.
    """
    from .weights import weights_json

    explainer = Explainer(facts, nodes, p, weights)
    ev, w = explainer.ev, weights
    raws, values, points = [], [], []
    for i in range(p.n):
        raw, v, pts = _raw(ev, i, w)
        raws.append(raw)
        values.append(v)
        points.append(pts)
    raw_subs = np.array(raws, dtype=np.float64).reshape(p.n, 4)
    calibrated = [_calibrate(np.maximum(0.0, raw_subs[:, k])) for k in range(4)]
    subs = np.stack(calibrated, axis=1) if p.n else np.zeros((0, 4))
    ranks = _calibrate(np.array([_rank_points(row, bool(stub), w["rank"])
                                 for row, stub in zip(subs.tolist(), p.stub.tolist())], dtype=np.float64))
    table = np.concatenate([ranks.reshape(-1, 1), subs], axis=1) if p.n else np.zeros((0, 5))
    shape = (p.n, len(HISTORY_FACTORS))
    return ScoreTable(list(p.slugs), list(p.names), list(p.kinds), p.stub.copy(), p.times_matched.copy(), table,
                      ev.pagerank, np.array(values, dtype=np.float64).reshape(shape),
                      np.array(points, dtype=np.float64).reshape(shape), p.data_version, weights_json(w),
                      explainer)


def explanation(scores: EntityScores, kind: str) -> str:
    """One line in words: ``"Adoption 71: 100,000 downloads, 2 models trained on it (...)"``."""
    factors = scores.factors.get(kind, [])
    if kind == "rank":
        parts = [f.evidence for f in factors]
        return f"Rank {display(scores.rank)}: weighted mean of " + ", ".join(parts) + ", scaled so the top entity has 100"
    shown = [f.evidence for f in factors if f.value and f.points]
    return f"{LABELS[kind]} {display(scores.score(kind))}: " + (", ".join(shown) if shown else "no evidence")


