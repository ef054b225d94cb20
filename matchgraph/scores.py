"""Scores (kept at this path for existing imports; they live in :mod:`matchgraph.graph`).

Weights: :mod:`matchgraph.graph.weights`; computing: :mod:`matchgraph.graph.scoring`; the score
graph in the store: :mod:`matchgraph.graph.score_graph`; reading: :mod:`matchgraph.graph.scores`.
"""

from __future__ import annotations

from .graph.scores import compute_scores, current_ranks, load_scores, score_history, scores_for
from .graph.scoring import EntityScores, Factor, display, explanation, log_points, weighted_pagerank
from .graph.weights import LABELS, SCORE_KINDS, SUB_SCORES, default_weights, load_weights, weights_json

__all__ = [
    "Factor", "EntityScores", "SUB_SCORES", "SCORE_KINDS", "LABELS", "default_weights", "load_weights",
    "weights_json", "compute_scores", "load_scores", "scores_for", "current_ranks", "display", "log_points",
    "weighted_pagerank", "explanation", "score_history",
]
