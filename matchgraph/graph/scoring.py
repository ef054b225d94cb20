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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..vocab import KINDS
from .facts import Facts
from .projection import CompactProjection, Nodes
from .relations import LINEAGE_RELATIONS, NOT_LINKS, RELATION_KINDS
from .weights import LABELS, SCORE_KINDS, SUB_SCORES, load_weights, weights_from_json

__all__ = ["Factor", "EntityScores", "ScoreTable", "compute_table", "display", "log_points", "explanation",
           "weighted_pagerank"]

_LINEAGE = LINEAGE_RELATIONS
_LINEAGE_PHRASE = {"derivedFrom": ("derived from it", "derived from it"),
                   "trainedOn": ("trained on it", "trained on it"),
                   "subsetOf": ("is a subset of it", "are subsets of it")}
_PLURAL = {"library": "libraries"}
#: What this process built (for tests and benchmarks): passes over every entity's evidence.
counters: dict[str, int] = {"evidence": 0}
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


def _collect(facts: Facts, size: int, slots: Callable[[str], tuple[np.ndarray, np.ndarray]],
             ) -> tuple[list[dict[str, float]], list[_Documentation]]:
    """Usage metrics and documentation facts of ``size`` slots; ``slots(table)`` gives the rows of a
    facts table that belong to a slot and the slot of each, in table order."""
    metrics: list[dict[str, float]] = [{} for _ in range(size)]
    found, where = slots("metric")
    for k, name, value in zip(where.tolist(), facts.column("metric", 1)[found].tolist(),
                              facts.column("metric", 2)[found].tolist()):
        if not math.isnan(value):
            label = facts.strings[name]
            metrics[k][label] = max(metrics[k].get(label, value), value)
    docs = [_Documentation() for _ in range(size)]
    for table in ("capabilities", "with_claims", "with_concepts", "dangling", "results"):
        found, where = slots(table)
        for k, n in zip(where.tolist(), facts.column(table, 1)[found].tolist()):
            setattr(docs[k], table, getattr(docs[k], table) + int(n))
    for table, attribute in (("described", "description"), ("homepage", "homepage"), ("source", "source")):
        for k in slots(table)[1].tolist():
            setattr(docs[k], attribute, True)
    found, where = slots("licence")
    for k, s in zip(where.tolist(), facts.column("licence", 1)[found].tolist()):
        licence = facts.strings[s] or None
        current = docs[k].licence
        docs[k].licence = min(current, licence or "") if current else licence
    return metrics, docs


def _gather(facts: Facts, nodes: Nodes) -> tuple[list[dict[str, float]], list[_Documentation]]:
    """Usage metrics and documentation facts of every node, from the facts (no store access)."""
    node_of = nodes.node_of

    def slots(table: str) -> tuple[np.ndarray, np.ndarray]:
        node = node_of[facts.column(table, 0)]
        found = np.flatnonzero(node >= 0)
        return found, node[found]

    return _collect(facts, len(nodes.slugs), slots)


# ---------------------------------------------------------------------------------- links
_SHOWN = 3


class _Links:
    """Distinct partners of every node by one kind of link: how many (``count``), the first few by
    name (``first``) and the kind they all share (``kind``; None when mixed or unknown). Counts are
    all scores need; the order by name and the kinds are worked out when first put in words."""

    def __init__(self, ctx: _Context, node: np.ndarray, other: np.ndarray) -> None:
        self._ctx, self._node, self._other = ctx, node, other
        self.count = np.bincount(node, minlength=ctx.p.n)
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None
        self._range: tuple[np.ndarray, np.ndarray] | None = None
        self.first = _FirstPartners(self)
        self.kind = _SharedKind(self)

    def by_name(self) -> tuple[np.ndarray, np.ndarray]:
        """(node, other) sorted by node, then by the other's name and id."""
        if self._sorted is None:
            order = np.lexsort((self._ctx.name_rank[self._other], self._node))
            self._sorted = self._node[order], self._other[order]
        return self._sorted

    def kind_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest kind code of each node's partners."""
        if self._range is None:
            n, kinds = self._ctx.p.n, list(KINDS)
            low = np.full(n, len(kinds) + 1, dtype=np.int64)
            high = np.full(n, -1, dtype=np.int64)
            np.minimum.at(low, self._node, self._ctx.kind_code[self._other])
            np.maximum.at(high, self._node, self._ctx.kind_code[self._other])
            self._range = low, high
        return self._range


class _FirstPartners:
    def __init__(self, links: _Links) -> None:
        self.links = links

    def get(self, i: int, default: list[int] | None = None) -> list[int]:
        node_s, other_s = self.links.by_name()
        a = int(np.searchsorted(node_s, i, side="left"))
        found = other_s[a:a + _SHOWN][node_s[a:a + _SHOWN] == i].tolist()
        return found if found else (default if default is not None else [])


class _SharedKind:
    def __init__(self, links: _Links) -> None:
        self.links = links

    def get(self, i: int, default: str | None = None) -> str | None:
        kinds = list(KINDS)
        low, high = self.links.kind_range()
        lo, hi = int(low[i]), int(high[i])
        if lo != hi or hi < 0:
            return default
        return kinds[lo] if lo < len(kinds) else None


def _distinct(codes: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` by sorting: faster on large integer arrays)."""
    codes = np.sort(codes)
    return codes[np.concatenate([[True], codes[1:] != codes[:-1]])] if len(codes) else codes


class _Context:
    """The compact projection with what factors need to say who is linked to whom."""

    def __init__(self, p: CompactProjection) -> None:
        self.p = p
        self._name_rank: np.ndarray | None = None
        self._kind_code: np.ndarray | None = None

    @property
    def name_rank(self) -> np.ndarray:
        """Position of each node in the order by name, then id."""
        if self._name_rank is None:
            p = self.p
            order = sorted(range(p.n), key=lambda i: (p.names[i], p.slugs[i]))
            self._name_rank = np.empty(p.n, dtype=np.int64)
            self._name_rank[order] = np.arange(p.n)
        return self._name_rank

    @property
    def kind_code(self) -> np.ndarray:
        """Index of each node's kind in KINDS (``len(KINDS)`` when it has none)."""
        if self._kind_code is None:
            kinds = list(KINDS)
            self._kind_code = np.array([kinds.index(k) if k else len(kinds) for k in self.p.kinds], dtype=np.int64)
        return self._kind_code

    def links(self, relations: tuple[str, ...], *, incoming: bool = True, outgoing: bool = False) -> _Links:
        """Partners through edges of ``relations`` pointing to the node (and/or from it)."""
        p, n = self.p, max(self.p.n, 1)
        mask = p.mask(*relations)
        ends = ([(p.dst[mask], p.src[mask])] if incoming else []) + ([(p.src[mask], p.dst[mask])] if outgoing else [])
        codes = _distinct(np.concatenate([a.astype(np.int64) * n + b for a, b in ends]))
        return _Links(self, codes // n, codes % n)


def _count(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}"


def _times(n: int) -> str:
    return "never matched" if n == 0 else ("matched once" if n == 1 else f"matched {n:,} times")




# ---------------------------------------------------------------------------------- factors
#: The groups of partners factors name: (relations, incoming, outgoing). Partners are distinct nodes.
LINK_GROUPS: dict[str, tuple[tuple[str, ...], bool, bool]] = {
    **{r: ((r,), True, False) for r in _LINEAGE},
    "derived": (_LINEAGE, True, False),
    "claimants": (("alternative",), True, False),
    "integrations": (("integratesWith",), True, True),
    "formats": (("supportsFormat",), True, True),
    "neighbours": (tuple(r for r in RELATION_KINDS if r not in NOT_LINKS), True, True),
}


@dataclass
class _Partners:
    """The partners of one entity in one group: how many, the names of the first few (by name,
    then id) and the kind they all share (None when mixed or unknown)."""

    count: int
    first: list[str]
    kind: str | None


@dataclass
class _One:
    """Everything the factors of one entity are put in words from."""

    metrics: dict[str, float]
    doc: _Documentation
    links: dict[str, _Partners]
    mentions: float
    pagerank: float
    n: int
    times: int
    stub: bool


@dataclass
class _Evidence:
    """Everything the factors of every entity are computed from (one pass over all of them).
    ``metrics`` and ``docs`` (per node, for putting factors in words) are gathered on first use."""

    ctx: _Context
    facts: Facts
    nodes: Nodes
    links: dict[str, _Links]
    mentions: np.ndarray
    pagerank: np.ndarray
    _gathered: tuple[list[dict[str, float]], list[_Documentation]] | None = None

    @property
    def metrics(self) -> list[dict[str, float]]:
        """Usage metrics of every node."""
        if self._gathered is None:
            self._gathered = _gather(self.facts, self.nodes)
        return self._gathered[0]

    @property
    def docs(self) -> list[_Documentation]:
        """Documentation facts of every node."""
        if self._gathered is None:
            self._gathered = _gather(self.facts, self.nodes)
        return self._gathered[1]

    def one(self, i: int) -> _One:
        """The evidence of node ``i``."""
        p = self.ctx.p
        links = {name: _Partners(int(group.count[i]), [p.names[j] for j in group.first.get(i, [])],
                                 group.kind.get(i)) for name, group in self.links.items()}
        return _One(self.metrics[i], self.docs[i], links, float(self.mentions[i]), float(self.pagerank[i]), p.n,
                    int(p.times_matched[i]), bool(p.stub[i]))


def _evidence(facts: Facts, nodes: Nodes, p: CompactProjection, damping: float | None,
              pagerank: np.ndarray | None = None) -> _Evidence:
    """The evidence of every node; PageRank given, or computed with ``damping``."""
    counters["evidence"] += 1
    ctx = _Context(p)
    alternative = p.mask("alternative")
    if pagerank is None:
        pagerank = weighted_pagerank(p, alpha=damping if damping is not None else 0.85)
    return _Evidence(ctx, facts, nodes,
                     {name: ctx.links(rel, incoming=inc, outgoing=out) for name, (rel, inc, out) in LINK_GROUPS.items()},
                     np.bincount(p.dst[alternative], weights=p.weight[alternative], minlength=p.n), pagerank)


def _names(group: _Partners) -> str:
    """``"(A, B, C and 4 more)"``."""
    extra = group.count - len(group.first)
    return f"({', '.join(group.first)}{f' and {extra} more' if extra > 0 else ''})"


def _noun(group: _Partners) -> str:
    word = group.kind or "entity"
    if group.count == 1:
        return word
    return _PLURAL.get(word, "entities" if word == "entity" else word + "s")


def _derived_evidence(ev: _One) -> str:
    parts = []
    for relation in _LINEAGE:
        group = ev.links[relation]
        if group.count:
            phrase = _LINEAGE_PHRASE[relation][0 if group.count == 1 else 1]
            parts.append(f"{group.count} {_noun(group)} {phrase} {_names(group)}")
    return "; ".join(parts) or "nothing derived from it"


def _adoption(ev: _One, w: Mapping[str, Any]) -> list[Factor]:
    factors = []
    for name, value in sorted(ev.metrics.items()):
        weight = w["metrics"].get(name, w["metrics"]["other"])
        label = name.replace("_", " ")
        factors.append(Factor(label, value, log_points(weight, value, 10.0), f"{_count(value)} {label}"))
    derived = ev.links["derived"].count
    factors.append(Factor("derived works", derived, log_points(w["derived_works"], derived), _derived_evidence(ev)))
    n = ev.mentions
    factors.append(Factor(
        "alternative mentions", n, log_points(w["alternative_mentions"], n),
        f"named as an alternative in {_count(n)} claim{'s' if n != 1 else ''} by {_names(ev.links['claimants'])[1:-1]}"
        if n else "named as an alternative in no claim"))
    times = ev.times
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


def _ecosystem(ev: _One, w: Mapping[str, Any]) -> list[Factor]:
    integrations, formats = ev.links["integrations"], ev.links["formats"]
    links, derived = ev.links["neighbours"].count, ev.links["derived"].count
    return [
        Factor("integrations", integrations.count, log_points(w["integrations"], integrations.count),
               f"integrates with {integrations.count} {_noun(integrations)} {_names(integrations)}"
               if integrations.count else "no integrations"),
        Factor("formats", formats.count, log_points(w["formats"], formats.count),
               f"{formats.count} format link{'s' if formats.count != 1 else ''} {_names(formats)}"
               if formats.count else "no format links"),
        Factor("derived works", derived, log_points(w["derived_works"], derived),
               f"{derived} derived work{'s' if derived != 1 else ''}"),
        Factor("distinct neighbours", links, log_points(w["distinct_neighbours"], links),
               f"linked to {links} distinct entit{'y' if links == 1 else 'ies'}"),
    ]


def _match_graph(ev: _One, w: Mapping[str, Any]) -> list[Factor]:
    pagerank = ev.pagerank
    relative = pagerank * ev.n
    times = ev.times
    return [
        Factor("pagerank", round(pagerank, 8), log_points(w["pagerank"], relative),
               f"PageRank {pagerank:.4f} ({relative:.1f} times the average)"),
        Factor("times matched", times, log_points(w["times_matched"], times), _times(times)),
    ]



def weighted_pagerank(p: CompactProjection, *, alpha: float = 0.85, tol: float = 1e-12,
                      max_iter: int = 1000) -> np.ndarray:
    """PageRank of every node of a compact projection, following edges with their weights.

    The same power iteration as :func:`networkx.pagerank` (uniform teleport, dangling nodes
    spread uniformly, parallel edges summed), vectorised over the edge arrays: each step one
    ``bincount`` with NumPy only (so a recorded match on a small catalog does not load SciPy), or,
    above :data:`SPARSE_EDGES` edges, one product with a ``scipy.sparse`` matrix whose columns are
    the projection's sources (already in order: no sort), about twice as fast.

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
    if len(src) > SPARSE_EDGES and bool(np.all(src[1:] >= src[:-1])):
        from scipy import sparse

        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
        matrix = sparse.csc_matrix((share, dst, indptr), shape=(n, n))
        step = lambda x: matrix @ x  # noqa: E731
    else:
        step = lambda x: np.bincount(dst, weights=x[src] * share, minlength=n)  # noqa: E731
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        x = alpha * (step(x) + x[dangling].sum() / n) + (1 - alpha) / n
        if np.abs(x - last).sum() < n * tol:
            break
    return x


#: Above this many edges PageRank multiplies by a ``scipy.sparse`` matrix (see :func:`weighted_pagerank`).
SPARSE_EDGES = 200_000


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


#: Columns of :data:`HISTORY_FACTORS` that move with match events (Times Matched, PageRank); the
#: others depend only on an entity's own facts and its stated links.
MATCH_COLUMNS: tuple[int, ...] = (3, 15, 16)
#: The columns of :data:`HISTORY_FACTORS` summed (in this order) into each sub-score's raw points.
_SUB_COLUMNS: tuple[tuple[int, ...], ...] = tuple(
    tuple(k for k, (score, _) in enumerate(HISTORY_FACTORS) if score == sub) for sub in SUB_SCORES)


def _by_value(function: Callable[[float], float], values: np.ndarray) -> np.ndarray:
    """``[function(v) for v in values]``, calling it once per distinct value (the same numbers)."""
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return np.zeros(0)
    distinct, where = np.unique(values, return_inverse=True)
    return np.array([function(v) for v in distinct.tolist()], dtype=np.float64)[where.reshape(-1)]


def _static_columns(ev: _Evidence, w: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Values and points of the :data:`HISTORY_FACTORS` that matches do not move (0 in
    :data:`MATCH_COLUMNS`), for every node at once with array operations: the numbers the factors
    of :class:`Explainer` explain, each point computed by the same function and sums added in the
    same order (``tests/test_incremental.py`` checks them against a per-entity computation)."""
    facts, node_of, n = ev.facts, ev.nodes.node_of, ev.ctx.p.n
    a, q, e = w["adoption"], w["quality"], w["ecosystem"]
    fv = np.zeros((n, len(HISTORY_FACTORS)))
    fp = np.zeros((n, len(HISTORY_FACTORS)))
    # usage metrics: the largest value per (node, metric), points added in the order of the metric names
    node, name, value = node_of[facts.column("metric", 0)], facts.column("metric", 1), facts.column("metric", 2)
    ok = (node >= 0) & ~np.isnan(value)
    node, name, value = node[ok], name[ok], value[ok]
    if len(node):
        names = sorted(set(name.tolist()), key=lambda c: facts.strings[c])
        rank = np.zeros(int(max(names)) + 1, dtype=np.int64)
        rank[names] = np.arange(len(names))
        order = np.lexsort((-value, rank[name], node))  # per (node, name): the largest value first
        node, name, value = node[order], name[order], value[order]
        first = np.concatenate([[True], (node[1:] != node[:-1]) | (name[1:] != name[:-1])])
        node, name, value = node[first], name[first], value[first]
        weights = {c: a["metrics"].get(facts.strings[c], a["metrics"]["other"]) for c in names}
        pairs = np.stack([name.astype(np.float64), value], axis=1)
        distinct, where = np.unique(pairs, axis=0, return_inverse=True)
        points = np.array([log_points(weights[int(c)], v, 10.0) for c, v in distinct.tolist()])[where.reshape(-1)]
        position = np.arange(len(node)) - np.searchsorted(node, node, side="left")
        usage = np.zeros(n)
        for k in range(int(position.max()) + 1):  # the k-th metric of every node, in name order
            at = position == k
            usage[node[at]] = usage[node[at]] + points[at]
        fv[:, 0] = np.bincount(node, minlength=n)
        fp[:, 0] = usage
    derived = ev.links["derived"].count.astype(np.float64)
    fv[:, 1], fp[:, 1] = derived, _by_value(lambda v: log_points(a["derived_works"], int(v)), derived)
    fv[:, 2], fp[:, 2] = ev.mentions, _by_value(lambda v: log_points(a["alternative_mentions"], v), ev.mentions)

    def counts(table: str) -> np.ndarray:
        keys = node_of[facts.column(table, 0)]
        ok = keys >= 0
        out = np.zeros(n, dtype=np.int64)
        np.add.at(out, keys[ok], facts.column(table, 1)[ok].astype(np.int64))
        return out

    def present(table: str) -> np.ndarray:
        keys = node_of[facts.column(table, 0)]
        out = np.zeros(n, dtype=bool)
        out[keys[keys >= 0]] = True
        return out

    capabilities, with_claims, with_concepts = counts("capabilities"), counts("with_claims"), counts("with_concepts")
    dangling, results = counts("dangling"), counts("results")
    licence = _has_licence(facts, node_of, n)
    warnings = (capabilities - with_claims) + (capabilities - with_concepts) + dangling
    flags = ((6, "description", present("described")), (7, "licence", licence), (8, "homepage", present("homepage")),
             (9, "source", present("source")))
    fv[:, 4], fp[:, 4] = with_claims, _by_value(lambda v: log_points(q["capabilities_with_claims"], int(v)), with_claims)
    fv[:, 5], fp[:, 5] = results, _by_value(lambda v: log_points(q["benchmark_results"], int(v)), results)
    for k, key, flag in flags:
        fv[:, k] = flag
        fp[:, k] = np.where(flag, q[key] * True, q[key] * False)
    fv[:, 10], fp[:, 10] = warnings, _by_value(lambda v: -q["warning_penalty"] * int(v), warnings)
    for k, group, weight in ((11, "integrations", "integrations"), (12, "formats", "formats"),
                             (13, "derived", "derived_works"), (14, "neighbours", "distinct_neighbours")):
        count = ev.links[group].count
        fv[:, k] = count
        fp[:, k] = _by_value(lambda v, weight=weight: log_points(e[weight], int(v)), count)
    return fv, fp


def _has_licence(facts: Facts, node_of: np.ndarray, n: int) -> np.ndarray:
    """Whether :func:`_gather` ends with a licence for each node (it keeps the least, but an empty
    one on the way can reset it: those few nodes follow its steps one by one)."""
    keys = node_of[facts.column("licence", 0)]
    codes = facts.column("licence", 1)
    ok = keys >= 0
    keys, codes = keys[ok], codes[ok]
    out = np.zeros(n, dtype=bool)
    out[keys] = True
    empty = np.array([not facts.strings[c] for c in codes.tolist()], dtype=bool) if len(codes) else np.zeros(0, bool)
    for node in np.unique(keys[empty]).tolist():
        current: str | None = None
        for c in codes[keys == node].tolist():
            licence = facts.strings[c] or None
            current = min(current, licence or "") if current else licence
        out[node] = current is not None
    return out


def _match_columns(fv: np.ndarray, fp: np.ndarray, p: CompactProjection, pagerank: np.ndarray,
                   w: Mapping[str, Any]) -> None:
    """Fill in the :data:`MATCH_COLUMNS` of every node (Times Matched, PageRank), in place."""
    a, m = w["adoption"], w["match_graph"]
    times = p.times_matched.tolist()
    by_times = {t: (log_points(a["times_matched"], t), log_points(m["times_matched"], t)) for t in set(times)}
    fv[:, 3] = times
    fv[:, 16] = times
    fp[:, 3] = [by_times[t][0] for t in times]
    fp[:, 16] = [by_times[t][1] for t in times]
    ranks = pagerank.tolist()
    fv[:, 15] = round_places(pagerank, 8)
    fp[:, 15] = [log_points(m["pagerank"], x * p.n) for x in ranks]


def _raw_subs(fp: np.ndarray) -> np.ndarray:
    """Raw points of the four sub-scores: their factors' points added in order (from 0.0)."""
    out = np.zeros((fp.shape[0], len(SUB_SCORES)))
    for c, columns in enumerate(_SUB_COLUMNS):
        total = np.zeros(fp.shape[0])
        for k in columns:
            total = total + fp[:, k]
        out[:, c] = total
    return out


def _rank_points(subs: np.ndarray, stub: np.ndarray, w: Mapping[str, float]) -> np.ndarray:
    """The raw ranks: the same sums as the points of :func:`_rank_factors`."""
    total = sum(w[k] for k in SUB_SCORES)
    raw = np.zeros(subs.shape[0])
    for c, k in enumerate(SUB_SCORES):
        raw = raw + w[k] * subs[:, c] / total
    return np.where(stub.astype(bool), raw + raw * (w["stub_multiplier"] - 1), raw)


def _calibrate(raw: np.ndarray) -> np.ndarray:
    """``100 x raw / max(raw)``, rounded to 2 places (all 0 when nothing scores)."""
    top = float(raw.max()) if raw.size else 0.0
    if top <= 0:
        return np.zeros(raw.shape, dtype=np.float64)
    return round_places(100.0 * raw / top, 2)


def round_places(values: np.ndarray, places: int) -> np.ndarray:
    """``[round(v, places) for v in values]`` (Python's correctly rounded ``round``), vectorised.

    ``rint(v x 10^places) / 10^places`` is that same double unless ``v x 10^places`` lies within
    rounding error of a half (where the product's rounding could decide): those few are rounded
    one by one with :func:`round`.

    Examples
    --------
    >>> round_places(np.array([0.125, 2.675, 70.5049999]), 2).tolist()
    [0.12, 2.67, 70.5]
    """
    values = np.asarray(values, dtype=np.float64)
    scale = 10.0 ** places
    scaled = values * scale
    out = np.rint(scaled) / scale
    near = ~(np.abs(scaled - np.floor(scaled) - 0.5) > 1e-6) | ~np.isfinite(scaled)
    if near.any():
        out[near] = [round(v, places) for v in values[near].tolist()]
    return out


def _factors_of(one: _One, values: np.ndarray, w: Mapping[str, Any]) -> dict[str, list[Factor]]:
    out = {"adoption": _adoption(one, w["adoption"]), "quality": _quality(one.doc, w["quality"]),
           "ecosystem": _ecosystem(one, w["ecosystem"]), "match_graph": _match_graph(one, w["match_graph"])}
    subs = dict(zip(SUB_SCORES, values.tolist()[1:]))
    return {"rank": _rank_factors(subs, one.stub, w["rank"]), **out}


class Explainer:
    """Builds the factors (with their evidence in words) of any entity of a version, from the
    evidence of every entity (one pass over all: for many entities at once)."""

    def __init__(self, facts: Facts, nodes: Nodes, p: CompactProjection, weights: Mapping[str, Any], *,
                 pagerank: np.ndarray | None = None, evidence: _Evidence | None = None) -> None:
        self.w = weights
        self.ev = evidence if evidence is not None else _evidence(facts, nodes, p, weights["match_graph"]["damping"],
                                                                  pagerank)

    def factors(self, i: int, values: np.ndarray) -> dict[str, list[Factor]]:
        """The factors of node ``i`` whose scores are ``values`` (in :data:`SCORE_KINDS` order)."""
        return _factors_of(self.ev.one(i), values, self.w)

    def prepare(self, rows: Iterable[int]) -> None:
        """Nothing to do: the evidence of every node is at hand."""


class LocalExplainer:
    """Builds the factors of a few entities of a version from its stored parts only: each entity's
    own rows of the facts, its entries in the neighbour index, and the score table (names and
    kinds of partners, PageRank, Times Matched). No pass over every entity; the evidence in
    words is the :class:`Explainer`'s (the same partners, in the same order).

    Parameters
    ----------
    table : ScoreTable
    facts, index : callables
        Return the version's :class:`~matchgraph.graph.facts.Facts` and
        :class:`~matchgraph.graph.neighbours_index.NeighbourIndex` (loaded on first use).
    weights : mapping
    """

    def __init__(self, table: ScoreTable, facts: Callable[[], Facts], index: Callable[[], Any],
                 weights: Mapping[str, Any]) -> None:
        self.table, self.w = table, weights
        self._facts, self._index = facts, index
        self._ones: dict[int, _One] = {}

    def factors(self, i: int, values: np.ndarray) -> dict[str, list[Factor]]:
        """The factors of row ``i`` whose scores are ``values``."""
        self.prepare([i])
        return _factors_of(self._ones[i], values, self.w)

    def prepare(self, rows: Iterable[int]) -> None:
        """Gather the evidence of these rows at once (one pass over each facts table)."""
        rows = [i for i in dict.fromkeys(int(r) for r in rows) if i not in self._ones]
        if not rows:
            return
        facts, index = self._facts(), self._index()
        codes = _entity_codes(facts, [self.table.slugs[i] for i in rows])
        metrics, docs = _gather_some(facts, codes)
        other, relation, direction, weight = (np.asarray(a) for a in index.entries(rows))
        bounds = np.concatenate([[0], np.cumsum([int(index.indptr[i + 1] - index.indptr[i]) for i in rows])])
        for k, i in enumerate(rows):
            part = slice(int(bounds[k]), int(bounds[k + 1]))
            self._ones[i] = self._one(i, metrics[k], docs[k], other[part], relation[part], direction[part],
                                      weight[part])

    def _one(self, i: int, metrics: dict[str, float], doc: _Documentation, other: np.ndarray, relation: np.ndarray,
             direction: np.ndarray, weight: np.ndarray) -> _One:
        t = self.table
        entries = list(zip(other.tolist(), relation.tolist(), direction.tolist(), weight.tolist()))
        links = {}
        for name, (relations, incoming, outgoing) in LINK_GROUPS.items():
            codes = {RELATION_KINDS.index(r) for r in relations}
            partners = sorted({o for o, r, d, _ in entries
                               if r in codes and (d == 2 or (d == 1 and incoming) or (d == 0 and outgoing))})
            ordered = sorted(partners, key=lambda j: (t.names[j], t.slugs[j]))
            kinds = {t.kinds[j] for j in partners}
            links[name] = _Partners(len(partners), [t.names[j] for j in ordered[:_SHOWN]],
                                    next(iter(kinds)) if len(kinds) == 1 else None)
        mentions = 0.0
        alternative = RELATION_KINDS.index("alternative")
        for _, r, d, value in entries:  # in the order np.bincount adds them
            if r == alternative and d == 1:
                mentions += value
        return _One(metrics, doc, links, mentions, float(t.pagerank[i]), t.n, int(t.times_matched[i]),
                    bool(t.stub[i]))


def _entity_codes(facts: Facts, slugs: list[str]) -> list[int]:
    """The term codes of these entities in the facts (-1 when unknown)."""
    from ..vocab import ID

    ids = facts._terms()
    entities = set(facts.column("entity", 0).tolist())
    out = []
    for slug in slugs:
        found = -1
        for iri in (f"{ID}{slug}", slug):
            code = ids.get(iri)
            if code is not None and code in entities:
                found = code
                break
        out.append(found)
    return out


def _gather_some(facts: Facts, codes: list[int]) -> tuple[list[dict[str, float]], list[_Documentation]]:
    """:func:`_gather` for a few entities (term codes; -1 has no facts): their rows, in table order."""
    slot = {c: k for k, c in enumerate(codes) if c >= 0}
    wanted = np.array(sorted(slot), dtype=np.int64)

    def slots(table: str) -> tuple[np.ndarray, np.ndarray]:
        found = np.flatnonzero(np.isin(facts.column(table, 0), wanted))
        return found, np.array([slot[c] for c in facts.column(table, 0)[found].tolist()], dtype=np.int64)

    return _collect(facts, len(codes), slots)


#: Above this many entities at once, factors come from one pass over every entity.
LOCAL_LIMIT = 2000


@dataclass
class ScoreTable:
    """Every entity's scores (one row per projection node), with the factors behind them on demand.

    ``values[i]`` holds the five scores of node ``i`` in :data:`SCORE_KINDS` order (0-100, two
    decimals); ``factor_values`` / ``factor_points`` the :data:`HISTORY_FACTORS` of each node.
    Factors with their evidence in words come from an explainer attached by whoever loaded the
    table: ``local`` (a :class:`LocalExplainer`, or a callable making one) for a few entities,
    ``explainer`` (an :class:`Explainer`, or a callable making one) for many.
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
    local: Any = field(default=None, repr=False, compare=False)
    _rows: dict[str, int] | None = field(default=None, repr=False, compare=False)
    _static: np.ndarray | None = field(default=None, repr=False, compare=False)
    _aligned: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        """Number of entities."""
        return len(self.slugs)

    def row(self, slug: str) -> int | None:
        """The row of an entity (None when unknown)."""
        if self._rows is None:
            self._rows = {s: i for i, s in enumerate(self.slugs)}
        return self._rows.get(slug)

    def rows_of(self, slugs: list[str], key: str | None = None) -> np.ndarray:
        """The row of each slug (-1 when unknown), kept under ``key`` when one is given (a text index
        build: every match of a version asks for the same slugs, 100,000 lookups cost 25 ms)."""
        if key is not None and key in self._aligned:
            return self._aligned[key]
        if self._rows is None:
            self._rows = {s: i for i, s in enumerate(self.slugs)}
        rows = np.fromiter((self._rows.get(s, -1) for s in slugs), dtype=np.int64, count=len(slugs))
        if key is not None:
            self._aligned[key] = rows
        return rows

    def ranks(self) -> dict[str, float]:
        """Slug -> rank."""
        return dict(zip(self.slugs, self.values[:, 0].tolist()))

    def static_ranks(self) -> np.ndarray:
        """Every node's Rank (0-100) from the factors match events do not move: the Rank these
        weights give with Times Matched and the Match Graph score (PageRank over match edges) left
        out, the other three sub-scores calibrated and weighed as :func:`compute_table` does.

        What a match takes as its prior (:func:`matchgraph.graph.derived.rank_prior`): a recorded
        match lists what was shown, not what was chosen, so counting it would make each ranking
        lean toward whatever earlier needs happened to show.

        Returns
        -------
        numpy.ndarray
            One value per row, float64, 0 to 100 (two decimals); NaN in every row when these
            weights give Adoption, Quality and Ecosystem nothing (the Rank is then match events
            alone, and a prior reading none is neutral rather than the bottom of the scale).
        """
        if self._static is not None:
            return self._static
        if not self.n:
            return np.zeros(0)
        points = self.factor_points.copy()
        points[:, list(MATCH_COLUMNS)] = 0.0
        raw = _raw_subs(points)
        subs = np.stack([_calibrate(np.maximum(0.0, raw[:, k])) for k in range(len(SUB_SCORES))], axis=1)
        rank_weights = dict((weights_from_json(self.weights) or load_weights())["rank"])
        rank_weights["match_graph"] = 0.0
        if sum(rank_weights[k] for k in SUB_SCORES) <= 0:
            self._static = np.full(self.n, np.nan)
        else:
            self._static = _calibrate(_rank_points(subs, self.stub, rank_weights))
        return self._static

    def _explainer(self, many: bool = False) -> Any:
        """The explainer to use: one already built for every entity, else a local one (unless
        ``many``), else one built for every entity; None when none is attached."""
        if isinstance(self.explainer, Explainer):
            return self.explainer
        if self.local is not None and not many:
            if not isinstance(self.local, LocalExplainer):
                self.local = self.local()
            return self.local
        if callable(self.explainer):
            self.explainer = self.explainer()
            return self.explainer
        return self.local() if callable(self.local) and not isinstance(self.local, LocalExplainer) else self.local

    def prepare(self, rows: Iterable[int]) -> None:
        """Gather at once the evidence of rows whose factors are asked for next."""
        rows = list(rows)
        explainer = self._explainer(many=len(rows) > LOCAL_LIMIT)
        if explainer is not None:
            explainer.prepare(rows)

    def entity(self, i: int, *, factors: bool = True) -> EntityScores:
        """The scores of row ``i``, with their factors (built on demand) unless ``factors`` is False."""
        found: dict[str, list[Factor]] = {}
        if factors:
            explainer = self._explainer()
            found = explainer.factors(i, self.values[i]) if explainer is not None else {}
            found = {k: found[k] for k in SCORE_KINDS if k in found}
        v = self.values[i].tolist()
        return EntityScores(self.slugs[i], self.names[i], self.kinds[i], *v, int(self.times_matched[i]), found,
                            bool(self.stub[i]))

    def select(self, slugs: Iterable[str] | None = None, *, factors: bool = True) -> dict[str, EntityScores]:
        """EntityScores by slug: of the given entities (unknown ones left out), or of all."""
        rows = list(range(self.n)) if slugs is None else [i for s in slugs if (i := self.row(s)) is not None]
        if factors:
            self.prepare(rows)
        return {self.slugs[i]: self.entity(i, factors=factors) for i in rows}

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


def compute_table(facts: Facts, nodes: Nodes, p: CompactProjection, weights: Mapping[str, Any], *,
                  parent: ScoreTable | None = None) -> ScoreTable:
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
    parent : ScoreTable, optional
        The table of facts that differ from these by match events only, with the same weights:
        its factors that matches do not move are kept (no pass over every entity's evidence),
        Times Matched and PageRank are computed again. The numbers equal a full computation's.

    Returns
    -------
    ScoreTable
        With an :class:`Explainer` attached when the evidence of every entity was gathered.
    """
    from .weights import weights_json

    w = weights
    pagerank = weighted_pagerank(p, alpha=w["match_graph"]["damping"])
    shape = (p.n, len(HISTORY_FACTORS))
    explainer = None
    static = None
    if (parent is not None and parent.weights == weights_json(w) and parent.factor_values.shape == shape
            and parent.slugs == p.slugs):
        fv, fp = parent.factor_values.copy(), parent.factor_points.copy()
        if np.array_equal(parent.stub, p.stub):
            static = parent._static  # match events move none of what static_ranks reads
    else:
        ev = _evidence(facts, nodes, p, None, pagerank)
        explainer = Explainer(facts, nodes, p, w, evidence=ev)
        fv, fp = _static_columns(ev, w)
    _match_columns(fv, fp, p, pagerank, w)
    raw_subs = _raw_subs(fp)
    subs = np.stack([_calibrate(np.maximum(0.0, raw_subs[:, k])) for k in range(4)], axis=1) if p.n \
        else np.zeros((0, 4))
    ranks = _calibrate(_rank_points(subs, p.stub, w["rank"]))
    table = np.concatenate([ranks.reshape(-1, 1), subs], axis=1) if p.n else np.zeros((0, 5))
    return ScoreTable(list(p.slugs), list(p.names), list(p.kinds), p.stub.copy(), p.times_matched.copy(), table,
                      pagerank, fv, fp, p.data_version, weights_json(w), explainer, _static=static)


def explanation(scores: EntityScores, kind: str) -> str:
    """One line in words: ``"Adoption 71: 100,000 downloads, 2 models trained on it (...)"``."""
    factors = scores.factors.get(kind, [])
    if kind == "rank":
        parts = [f.evidence for f in factors]
        return f"Rank {display(scores.rank)}: weighted mean of " + ", ".join(parts) + ", scaled so the top entity has 100"
    shown = [f.evidence for f in factors if f.value and f.points]
    return f"{LABELS[kind]} {display(scores.score(kind))}: " + (", ".join(shown) if shown else "no evidence")


