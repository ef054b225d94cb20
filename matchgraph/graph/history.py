"""Score history: every computed version's default scores, kept compactly as deltas.

Each entry (``history/h<time>-<data version>.npz``) holds the rows that differ from the entry it
names as its base (the newest one when it was written; none when most rows changed, or after
:data:`MAX_DEPTH` entries, so reading one follows a short chain): the five scores and the
:data:`~matchgraph.graph.scoring.HISTORY_FACTORS` values and points of each changed entity, in
float32. An entity's history is read back by following those bases.
A version made by recorded matches writes, instead, the cells that differ from its parent's
entry, column by column (``<array>.<column>.rows`` / ``.cells``; ``"columns": true`` in its meta).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from .scoring import HISTORY_FACTORS, ScoreTable
from .weights import LABELS, SCORE_KINDS

__all__ = ["record", "entity_history", "history_dir"]


#: An entry holds every row (and names no base) when at least this share of the rows changed (a
#: recorded match moves PageRank, so Match Graph and Rank, nearly everywhere) ...
FULL_SHARE = 0.5
#: ... or when it would be more than this many entries from a whole one (reading an entry follows
#: its bases: the chain stays short whatever the number of versions).
MAX_DEPTH = 16


def history_dir(root: Path) -> Path:
    """The history directory under a derived-state root."""
    path = root / "history"
    path.mkdir(exist_ok=True)
    return path


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("h*.npz"), key=lambda p: p.name)


def _read(path: Path) -> dict[str, Any]:
    with np.load(path) as data:
        entry = {k: data[k] for k in data.files}
    entry["meta"] = json.loads(str(entry["meta"]))
    entry["slugs"] = entry["slugs"].tolist() if "slugs" in entry else []
    return entry


_ARRAYS = ("values", "fvalues", "fpoints")


def _columns_entry(directory: Path, table: ScoreTable, parent: ScoreTable, arrays: tuple[np.ndarray, ...]
                   ) -> tuple[Path, dict[str, np.ndarray], int] | None:
    """The cells that differ from the parent's, column by column, when the newest entry holds the
    parent's version, the rows are the same and the chain is short; else None."""
    entries = _entries(directory)
    if not entries or not entries[-1].name.endswith(f"-{parent.data_version}.npz") or parent.slugs != table.slugs:
        return None
    try:
        with np.load(entries[-1]) as data:
            depth = int(json.loads(str(data["meta"])).get("depth", 0)) + 1
    except (OSError, ValueError, KeyError):
        return None
    if depth > MAX_DEPTH:
        return None
    cells: dict[str, np.ndarray] = {}
    old = (parent.values.astype(np.float32), parent.factor_values.astype(np.float32),
           parent.factor_points.astype(np.float32))
    for name, new, before in zip(_ARRAYS, arrays, old):
        for c in range(new.shape[1]):
            rows = np.flatnonzero(new[:, c] != before[:, c]).astype(np.int32)
            if len(rows):
                cells[f"{name}.{c}.rows"], cells[f"{name}.{c}.cells"] = rows, new[rows, c]
    return entries[-1], cells, depth


def record(root: Path, table: ScoreTable, meta: dict[str, Any], *, parent: ScoreTable | None = None) -> None:
    """Add the scores of a version to the history (once per data version).

    ``parent``: the table of the version this one was made from by recorded matches, in memory:
    when the newest entry holds it, only the cells that differ are written, column by column (a
    match moves PageRank, Match Graph and Rank nearly everywhere, and little else), without
    reading any entry.
    """
    directory = history_dir(root)
    entries = _entries(directory)
    version = meta.get("data_version", table.data_version)
    if any(p.name.endswith(f"-{version}.npz") for p in entries):
        return
    values = table.values.astype(np.float32)
    fvalues, fpoints = table.factor_values.astype(np.float32), table.factor_points.astype(np.float32)
    found = _columns_entry(directory, table, parent, (values, fvalues, fpoints)) if parent is not None else None
    if found is not None:
        base_path, cells, depth = found
        info = {"data_version": version, "parent": meta.get("parent"), "change": meta.get("change", "full"),
                "time": time.time(), "base": base_path.name, "removed": [], "depth": depth, "columns": True}
        _write(directory, version, {**cells, "meta": np.array(json.dumps(info))})
        return
    changed = np.ones(table.n, dtype=bool)
    removed: list[str] = []
    depth = 0
    base = None
    if entries:
        base = entries[-1]
        previous = _materialise(directory, base)
        if previous is not None:
            rows = [previous["index"].get(s) for s in table.slugs]
            known = np.array([r is not None for r in rows], dtype=bool)
            where = np.array([r if r is not None else 0 for r in rows], dtype=np.int64)
            same = known.copy()
            if table.n and len(previous["values"]):
                same &= (previous["values"][where] == values).all(axis=1)
                same &= (previous["fvalues"][where] == fvalues).all(axis=1)
                same &= (previous["fpoints"][where] == fpoints).all(axis=1)
            else:
                same[:] = False
            changed = ~same
            removed = sorted(set(previous["index"]) - set(table.slugs))
            depth = int(previous["meta"].get("depth", 0)) + 1
            if changed.mean() >= FULL_SHARE or depth > MAX_DEPTH:  # a whole entry: no base to follow
                changed[:] = True
                base, removed, depth = None, [], 0
        else:
            base = None
    info = {"data_version": version, "parent": meta.get("parent"), "change": meta.get("change", "full"),
            "time": time.time(), "base": base.name if base is not None else None, "removed": removed,
            "depth": depth if base is not None else 0}
    _write(directory, version, {"slugs": np.array([s for s, c in zip(table.slugs, changed.tolist()) if c], dtype=str),
                                "values": values[changed], "fvalues": fvalues[changed], "fpoints": fpoints[changed],
                                "meta": np.array(json.dumps(info))})


def _write(directory: Path, version: str, arrays: dict[str, np.ndarray]) -> None:
    name = f"h{time.time_ns():020d}-{version}.npz"
    tmp = directory / f".{name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, directory / name)


_CACHE: dict[str, dict[str, Any]] = {}


def _materialise(directory: Path, path: Path, depth: int = 0) -> dict[str, Any] | None:
    """Every entity's row at an entry (following bases)."""
    if path.name in _CACHE:
        return _CACHE[path.name]
    try:
        entry = _read(path)
    except (OSError, ValueError, KeyError):
        return None
    base_name = entry["meta"].get("base")
    base = _materialise(directory, directory / base_name, depth + 1) if base_name and depth < 10_000 else None
    if entry["meta"].get("columns"):  # the cells that differ from the base, whose rows it keeps
        if base is None:
            return None
        result = {"index": base["index"], "meta": entry["meta"],
                  **{name: base[name].copy() for name in _ARRAYS}}
        for key in entry:
            if key.endswith(".rows"):
                name, c, _ = key.split(".")
                result[name][entry[key], int(c)] = entry[f"{name}.{c}.cells"]
        _cache(path.name, result)
        return result
    slugs, values, fvalues, fpoints = entry["slugs"], entry["values"], entry["fvalues"], entry["fpoints"]
    if base is not None:  # the base's rows not in this entry (nor removed by it), then this entry's
        drop = set(slugs) | set(entry["meta"].get("removed", []))
        kept = [i for s, i in base["index"].items() if s not in drop]
        slugs = [s for s in base["index"] if s not in drop] + list(slugs)
        values, fvalues, fpoints = (np.concatenate([base[k][kept], entry[k]]) for k in ("values", "fvalues", "fpoints"))
    order = sorted(range(len(slugs)), key=slugs.__getitem__)
    width = len(HISTORY_FACTORS)
    result = {"index": {slugs[i]: k for k, i in enumerate(order)}, "meta": entry["meta"],
              "values": np.asarray(values, dtype=np.float32)[order].reshape(-1, 5),
              "fvalues": np.asarray(fvalues, dtype=np.float32)[order].reshape(-1, width),
              "fpoints": np.asarray(fpoints, dtype=np.float32)[order].reshape(-1, width)}
    _cache(path.name, result)
    return result


def _cache(name: str, result: dict[str, Any]) -> None:
    _CACHE[name] = result
    if len(_CACHE) > 8:  # an entry's base is usually the one read just before it
        _CACHE.pop(next(iter(_CACHE)))


def entity_history(root: Path, slug: str) -> list[dict[str, Any]]:
    """The scores of an entity in every recorded version, oldest first, with the factors that moved.

    Returns
    -------
    list of dict
        ``data_version``, ``time`` (ISO 8601), ``change`` (full, match or ingest), the five scores
        (as displayed), and ``moved``: the factors whose value changed since the previous entry,
        each ``{"score", "factor", "before", "after", "points"}`` (``points``: the change in points).
    """
    from datetime import datetime, timezone

    from .scoring import display

    directory = history_dir(root)
    out: list[dict[str, Any]] = []
    before: tuple[np.ndarray, np.ndarray] | None = None
    for path in _entries(directory):
        state = _materialise(directory, path)
        if state is None or slug not in state["index"]:
            continue
        i = state["index"][slug]
        values, fvalues, fpoints = state["values"][i], state["fvalues"][i], state["fpoints"][i]
        moved = []
        if before is not None:
            for k, (kind, factor) in enumerate(HISTORY_FACTORS):
                if fvalues[k] != before[0][k] or abs(float(fpoints[k]) - float(before[1][k])) > 1e-6:
                    moved.append({"score": LABELS[kind], "factor": factor, "before": round(float(before[0][k]), 8),
                                  "after": round(float(fvalues[k]), 8),
                                  "points": round(float(fpoints[k]) - float(before[1][k]), 4)})
        meta = state["meta"]
        entry = {"data_version": meta["data_version"], "change": meta.get("change", "full"),
                 "time": datetime.fromtimestamp(meta["time"], timezone.utc).replace(microsecond=0).isoformat()}
        entry.update({kind: display(float(v)) for kind, v in zip(SCORE_KINDS, values.tolist())})
        entry["moved"] = moved
        out.append(entry)
        before = (fvalues, fpoints)
    return out
