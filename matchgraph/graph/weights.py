"""Score weights: the package defaults (``weights.yaml``) overlaid with a user's file, and the
catalog's weights (:func:`catalog_weights`: those its stored score run records)."""

from __future__ import annotations

import functools
import json
import math
import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from ..store.catalog import Catalog

__all__ = ["SUB_SCORES", "SCORE_KINDS", "LABELS", "default_weights", "load_weights", "weights_json",
           "weights_digest", "weights_from_json", "catalog_weights"]

#: The four sub-scores, in display order.
SUB_SCORES: tuple[str, ...] = ("adoption", "quality", "ecosystem", "match_graph")
#: Every score kind written to the store.
SCORE_KINDS: tuple[str, ...] = ("rank", *SUB_SCORES)
#: How each score is called in prose and tables.
LABELS: dict[str, str] = {"rank": "Rank", "adoption": "Adoption", "quality": "Quality",
                          "ecosystem": "Ecosystem", "match_graph": "Match Graph"}


def default_weights() -> dict[str, Any]:
    """The package's default weights (``matchgraph/weights.yaml``): a fresh copy, read once a process."""
    return json.loads(_default_json())


@functools.cache
def _default_json() -> str:
    """``weights.yaml`` parsed (about 7 ms with the pure-Python YAML reader), as JSON to copy from."""
    import yaml

    text = resources.files("matchgraph").joinpath("weights.yaml").read_text(encoding="utf-8")
    return json.dumps(yaml.safe_load(text))


_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _finite(value: Any) -> float | None:
    """A weight as a finite float, or None when it is not a number or not finite (an integer too
    large for a float, such as 1 followed by 400 zeros, is not finite either).

    >>> _finite(2), _finite(float("nan")), _finite(10 ** 400), _finite("2")
    (2.0, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


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
        if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
            value = float(value)  # 2e-1: a number in JSON and YAML 1.2, a string to YAML 1.1's reader
        number = _finite(value)
        if number is None or number < 0:
            shown = f"a number of {len(str(abs(value)))} digits" if isinstance(value, int) and number is None \
                else repr(value)[:100]
            raise ConfigError(f"weight {dotted!r} must be a number of zero or more (and finite), not {shown}",
                              hint=f"write a number such as {dotted.rsplit('.', 1)[-1]}: 0.5")
        merged[key] = number
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
        The file cannot be read, is over the file-size limit, is not UTF-8, is not valid YAML or
        JSON, nests deeper than the depth limit, has unknown keys or values that are not finite
        numbers >= 0.

    Examples
    --------
    >>> load_weights({"rank": {"quality": 1}})["rank"]["quality"]
    1.0
    """
    defaults = _merge(default_weights(), {}, "")
    if source is None:
        override: Any = {}
    elif isinstance(source, Mapping):
        override = source
    else:
        override = _read_weights_file(Path(source))
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


def _read_weights_file(path: Path) -> Any:
    """The parsed content of a weights file (YAML or JSON), read through the safe readers.

    The file-size limit, UTF-8, the nesting-depth and the YAML alias limits are checked before
    anything is parsed, so a hostile file is a message naming it, not a traceback.

    Parameters
    ----------
    path : Path
        The weights file.

    Returns
    -------
    object
        What the file holds (an empty file gives ``{}``, as before).

    Raises
    ------
    ConfigError
        The file cannot be read, is over the file-size limit, is not UTF-8, is not valid YAML or
        JSON, or nests too deep; the message names the file (and the line) and keeps the reader's hint.
    """
    from ..errors import InputError, ParseError
    from ..sources.safe_load import load_yaml, read_text

    try:
        text = read_text(path)
    except InputError as exc:
        raise ConfigError(f"cannot use the weights file {exc.location or path}: {exc.detail}", hint=exc.hint) from exc
    try:
        override, _ = load_yaml(text, str(path), what="YAML or JSON")
    except ParseError as exc:  # a syntax error, or a number too long to read
        problem = exc.detail.removeprefix("invalid YAML or JSON: ")
        raise ConfigError(f"the weights file {exc.location} is not valid YAML or JSON: {problem}",
                          hint=exc.hint) from exc
    except InputError as exc:  # over the depth or YAML-alias limit, an alias inside its own anchor
        raise ConfigError(f"cannot use the weights file {exc.location or path}: {exc.detail}", hint=exc.hint) from exc
    return override or {}


def weights_json(weights: Mapping[str, Any]) -> str:
    """The canonical JSON of weights (what a score run records and caches compare)."""
    return json.dumps(weights, sort_keys=True, separators=(",", ":"))


def weights_digest(weights: Mapping[str, Any]) -> str:
    """A short digest of weights (names the stored scores computed with them)."""
    import hashlib

    return hashlib.sha1(weights_json(weights).encode()).hexdigest()[:12]


def weights_from_json(text: str) -> dict[str, Any] | None:
    """The full weights a score run's ``mg:weights`` JSON records, or None when it does not read as
    weights (not JSON, or a weight this version does not know).

    Examples
    --------
    >>> weights_from_json(weights_json(load_weights())) == load_weights(), weights_from_json("{")
    (True, None)
    """
    try:
        return load_weights(json.loads(text))
    except (ValueError, ConfigError):
        return None


def catalog_weights(catalog: Catalog) -> dict[str, Any]:
    """The catalog's weights: those its stored score run records (``mg:ScoreRun`` ``mg:weights``),
    else the package defaults (no run yet, or weights this version no longer reads).

    What every read shows unless given other weights, and what ``scores --recompute`` alone and a
    recorded match keep; ``scores --recompute --weights FILE`` changes them
    (:mod:`matchgraph.graph.score_graph` writes the run). One small query, the run's own triple,
    whatever the catalog size; nothing is computed or written.

    Parameters
    ----------
    catalog : Catalog

    Returns
    -------
    dict
        Full weights, as :func:`load_weights` returns.

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> catalog_weights(Catalog("memory:")) == load_weights()
    True
    """
    from ..vocab import RUN, SCORE_GRAPH
    from .rows import select_values

    run = f"<{RUN['scores']}>"
    rows = list(select_values(catalog, f"SELECT ?w WHERE {{ GRAPH <{SCORE_GRAPH}> {{ {run} mg:weights ?w }} }}"))
    found = weights_from_json(rows[0][0] or "") if len(rows) == 1 else None
    return found if found is not None else load_weights()
