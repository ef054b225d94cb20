"""Parameters of graph views, checked alike on the command line and in the server's page URLs.

``matchgraph export html --depth/--size`` take :data:`DEPTH` and :data:`SIZE` as their click
types; ``/graph?depth=&size=`` are read with :func:`number` through the same types, so a value the
command refuses is refused by the page too (a 400 naming the parameter, the value and the range)
instead of being clamped or replaced by the default. Kinds (``match --kind``, ``/match?kind=``)
are checked by :func:`matchgraph.matching.match.wanted_kind`.

Examples
--------
>>> number({"size": "40"}, "size", SIZE)
40
>>> number({"size": "0"}, "size", SIZE)
Traceback (most recent call last):
...
matchgraph.errors.ConfigError: Invalid value for 'size': 0 is not in the range 1<=x<=20000.
Hint: use a whole number from 1 to 20000
"""

from __future__ import annotations

from collections.abc import Mapping

import click

from ..errors import ConfigError

__all__ = ["MAX_DEPTH", "MAX_SIZE", "DEPTH", "SIZE", "number"]

#: Hops a graph view follows from its centre at most.
MAX_DEPTH = 10
#: The most entities a graph view draws, whatever is asked.
MAX_SIZE = 20_000
#: Hops from the centre: 0 to :data:`MAX_DEPTH`.
DEPTH = click.IntRange(0, MAX_DEPTH)
#: Entities drawn: 1 to :data:`MAX_SIZE`.
SIZE = click.IntRange(1, MAX_SIZE)


def number(params: Mapping[str, str], name: str, kind: click.IntRange, default: int | None = None) -> int | None:
    """The whole number in URL parameter ``name``, checked as the command-line option of that type.

    Parameters
    ----------
    params : mapping
        The URL's query parameters.
    name : str
        The parameter.
    kind : click.IntRange
        Its type (:data:`DEPTH`, :data:`SIZE`).
    default : int, optional
        The value when the parameter is absent or empty (an emptied form field).

    Returns
    -------
    int or None
        The number, or ``default``.

    Raises
    ------
    ConfigError
        The value is not a whole number or out of range; the message names the parameter, the value
        and the range, as the command's error does.
    """
    raw = params.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(kind.convert(raw, None, None))
    except click.BadParameter as exc:  # the command's own words, with the range also for 'abc'
        raise ConfigError(f"Invalid value for {name!r}: {exc.message}",
                          hint=f"use a whole number from {kind.min} to {kind.max}") from None
