"""Scores for readers: every entity's or a few entities' scores for the current version and their
history, read from the owner of derived state. Reading never writes the store: the score graph is
written by writes only (a recorded match keeps it current, ``scores --recompute`` rewrites it;
see :mod:`matchgraph.graph.score_graph`).

Unless told other weights, everything here uses the catalog's weights, those of its stored score
run (:func:`~matchgraph.graph.weights.catalog_weights`), so what is shown is what SPARQL reads
from the score graph; ``weights={}`` asks for the package defaults."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .derived import current, derived_root, latest
from .scoring import EntityScores, ScoreTable, compute_table
from .weights import catalog_weights, load_weights

if TYPE_CHECKING:  # pragma: no cover
    from ..store.catalog import Catalog
    from .projection import CompactProjection

__all__ = ["load_scores", "scores_for", "current_ranks", "compute_scores", "score_table", "score_history"]

Weights = str | os.PathLike[str] | Mapping[str, Any] | None


def _weights(catalog: Catalog, weights: Weights) -> str | os.PathLike[str] | Mapping[str, Any]:
    """``weights`` as given, or the catalog's (those of its stored score run) when None."""
    return catalog_weights(catalog) if weights is None else weights


def score_table(catalog: Catalog, *, weights: Weights = None, recompute: bool = False,
                store: bool = False) -> ScoreTable:
    """The score table of the current version; with ``store``, the store's score graph is made to hold it.

    Parameters
    ----------
    catalog : Catalog
    weights : path or mapping, optional
        Overrides of the default weights (see :func:`matchgraph.graph.weights.load_weights`);
        ``{}`` for the defaults themselves. None (the default): the catalog's weights.
    recompute : bool
        Compute the scores again (from the current projection) instead of reading the stored table.
    store : bool
        A write: bring the store's score graph to these scores (a new catalog version; with
        ``recompute``, at least the run is renewed), so their weights become the catalog's.
        Without it nothing is written to the store.
    """
    from .score_graph import store_scores

    weights = _weights(catalog, weights)
    state = current(catalog)
    table = state.scores(weights, recompute=recompute)
    if store:
        store_scores(catalog, state, table, force=recompute)
    return table


def load_scores(catalog: Catalog, *, recompute: bool = False, weights: Weights = None,
                factors: bool = True) -> dict[str, EntityScores]:
    """Every entity's scores for the current version and weights (computed when not yet; a read).

    With ``recompute`` the scores are computed again and written to the store's score graph with
    their provenance (the one write here, as ``matchgraph scores --recompute``).

    Parameters
    ----------
    catalog : Catalog
    recompute : bool
        Compute again, and write the score graph (its weights become the catalog's).
    weights : path or mapping, optional
        Overrides of the default weights (``{}``: the defaults); None: the catalog's weights.
    factors : bool
        Build each entity's factors with their evidence in words (slower for large catalogs).

    Returns
    -------
    dict of str to EntityScores
        By slug.

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> load_scores(Catalog("memory:"))
    {}
    """
    return score_table(catalog, weights=weights, recompute=recompute, store=recompute).select(factors=factors)


def scores_for(catalog: Catalog, slugs: Iterable[str], *, weights: Weights = None,
               recompute: bool = False, store: bool = False) -> dict[str, EntityScores]:
    """The scores of a few entities (unknown ones are left out); nothing is written unless ``store``.

    ``weights`` as :func:`score_table` takes them (None: the catalog's).

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> scores_for(Catalog("memory:"), ["the-pile"])
    {}
    """
    table = score_table(catalog, weights=weights, recompute=recompute, store=store)
    return table.select(list(dict.fromkeys(slugs)))


def current_ranks(catalog: Catalog) -> dict[str, float] | None:
    """The ranks of the current version with the catalog's weights when its scores were computed,
    else None (nothing is computed).

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> current_ranks(Catalog("memory:")) is None
    True
    """
    state = latest(catalog)
    if state is None or state.data_version != catalog.data_version:
        return None
    return state.scores(_weights(catalog, None)).ranks()


def compute_scores(catalog: Catalog, weights: Mapping[str, Any] | None = None, *,
                   projection: CompactProjection | None = None) -> dict[str, EntityScores]:
    """Compute every entity's scores afresh from the current version's facts (nothing is written),
    with ``weights`` (full weights) or the catalog's.

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> compute_scores(Catalog("memory:"))
    {}
    """
    state = current(catalog)
    w = load_weights(_weights(catalog, weights))
    return compute_table(state.facts, state.nodes, projection or state.projection, w).select()


def score_history(catalog: Catalog, slug: str) -> list[dict[str, Any]]:
    """Rank and sub-scores of an entity in every recorded catalog version, with the factors that moved.

    The history keeps the scores of the default weights (so versions compare whatever weights the
    catalog had); the current version's are computed first when they were not yet.
    """
    from .history import entity_history

    current(catalog).scores()
    return entity_history(derived_root(catalog), slug)
