"""The score history of an entity as a small chart (inline SVG, no script, works offline).

The history itself is kept by the derived state (:func:`matchgraph.graph.scores.score_history`: one entry
per recorded catalog version with the five displayed scores). Where an entity has fewer than two
entries, the entity page shows no chart.

Examples
--------
>>> chart = history_chart([{"time": "2026-01-01T00:00:00+00:00", "rank": 40, "adoption": 10},
...                        {"time": "2026-02-01T00:00:00+00:00", "rank": 60, "adoption": 30}])
>>> chart["series"][0]["name"], chart["series"][0]["points"]
('Rank', '40.0,82.0 580.0,58.0')
"""

from __future__ import annotations

from typing import Any

from ..store.catalog import Catalog

__all__ = ["entity_history", "history_chart", "WIDTH", "HEIGHT"]

WIDTH, HEIGHT, PAD = 600, 140, 40
SERIES = (("rank", "Rank", "#0b5cad", 2.5), ("adoption", "Adoption", "#f28e2b", 1.2),
          ("quality", "Quality", "#59a14f", 1.2), ("ecosystem", "Ecosystem", "#b07aa1", 1.2),
          ("match_graph", "Match graph", "#e15759", 1.2))


def entity_history(catalog: Catalog, slug: str) -> list[dict[str, Any]]:
    """The entity's recorded scores, oldest first ([] when none are kept for it)."""
    from ..graph.scores import score_history

    try:
        return list(score_history(catalog, slug))
    except (KeyError, OSError, ValueError):
        return []


def history_chart(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Polylines (0-100 scale) of each score over the entries, or None for fewer than two.

    Returns
    -------
    dict or None
        ``width``, ``height``, ``series`` (``name``, ``colour``, ``width``, ``points`` as SVG
        ``x,y`` pairs, ``last``), ``first`` and ``last`` (dates), ``count``.
    """
    if len(entries) < 2:
        return None
    n = len(entries)
    inner_w, inner_h = WIDTH - 2 * PAD + 20, HEIGHT - 20

    def x(i: int) -> float:
        return round(PAD + inner_w * i / (n - 1), 1)

    def y(v: float) -> float:
        return round(10 + inner_h * (1 - max(0.0, min(100.0, float(v))) / 100), 1)

    series = []
    for key, name, colour, width in SERIES:
        values = [(i, e[key]) for i, e in enumerate(entries) if e.get(key) is not None]
        if len(values) < 2:
            continue
        series.append({"name": name, "colour": colour, "width": width, "last": values[-1][1],
                       "points": " ".join(f"{x(i)},{y(v)}" for i, v in values)})
    return {"width": WIDTH, "height": HEIGHT, "series": series, "count": n,
            "first": str(entries[0].get("time", ""))[:10], "last": str(entries[-1].get("time", ""))[:10],
            "gridlines": [{"y": y(v), "label": v} for v in (0, 50, 100)]}
