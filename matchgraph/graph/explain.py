"""Why an entity scores what it does: every sub-score with its factors and their evidence."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ..store.catalog import Catalog
from ..errors import EntityNotFound
from .resolve import EntityRef, resolve_entity
from .scores import scores_for
from .scoring import EntityScores, display, explanation
from .weights import LABELS, SCORE_KINDS, SUB_SCORES

__all__ = ["Explanation", "explain"]


@dataclass
class Explanation:
    """The scores of one entity with the factors behind each."""

    entity: EntityRef
    scores: EntityScores

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form: the entity, its rank and, per score, its factors."""
        return {
            "entity": self.entity.to_dict(),
            "rank": display(self.scores.rank),
            "times_matched": self.scores.times_matched,
            "scores": {kind: {"score": display(self.scores.score(kind)),
                              "explanation": explanation(self.scores, kind),
                              "points": round(sum(f.points for f in self.scores.factors.get(kind, [])), 4),
                              "factors": [asdict(f) for f in self.scores.factors.get(kind, [])]}
                       for kind in SCORE_KINDS},
        }

    def to_text(self) -> str:
        """Plain text: a line per sub-score, then its factors with their points."""
        ref = self.entity
        kind = f", {ref.kind}" if ref.kind else (", stub" if ref.stub else "")
        lines = [f"{ref.name} ({ref.slug}{kind})", explanation(self.scores, "rank").replace(
            f"Rank {display(self.scores.rank)}:", f"Rank {display(self.scores.rank)}/100:", 1)]
        for sub in SUB_SCORES:
            factors = self.scores.factors.get(sub, [])
            lines += ["", explanation(self.scores, sub)]
            lines += [f"  {f.points + 0.0:+7.2f}  {f.name:<25} {f.evidence}" for f in factors]
            lines.append(f"  {sum(f.points for f in factors):7.2f}  points in all "
                         f"(the {LABELS[sub]} score is 100 x points / the catalog's highest)")
        return "\n".join(lines)


def explain(catalog: Catalog, entity: str | EntityRef, *,
            weights: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> Explanation:
    """Explain an entity's scores.

    Parameters
    ----------
    catalog : Catalog
    entity : str or EntityRef
        An id, name, alias or IRI.
    weights : path or mapping, optional
        Weight overrides (see :func:`matchgraph.graph.weights.load_weights`).

    Returns
    -------
    Explanation

    Raises
    ------
    EntityNotFound
        Unknown or ambiguous entity (with candidates).

    Examples
    --------
    >>> print(explain(catalog, "the-pile").to_text())  # doctest: +SKIP
    The Pile (the-pile, dataset)
    Rank 100/100: weighted mean of Adoption 69 x 0.30, ...
    """
    ref = entity if isinstance(entity, EntityRef) else resolve_entity(catalog, entity)
    found = scores_for(catalog, [ref.slug], weights=weights)
    if ref.slug not in found:  # pragma: no cover - every entity of the store is a projection node
        raise EntityNotFound(ref.slug)
    return Explanation(ref, found[ref.slug])
