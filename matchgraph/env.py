"""The ``MATCHGRAPH_*`` environment variables: what each holds, its default, and one reader for all.

Every module reads its variable with :func:`setting`, so a value that cannot be used is the same
error everywhere (a :class:`~matchgraph.errors.ConfigError` naming the variable, the value, what it
should be and an example), never a traceback and never silently the default.
``MATCHGRAPH_LOCK_TIMEOUT=abc`` used to be ignored until a second writer came, while
``MATCHGRAPH_MAX_FILE_SIZE=foo`` was an error at the first file read; the command line now checks
every variable that is set before a command runs (:func:`check_environment`).

Standard library only: the command line imports this before any command.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

__all__ = ["Setting", "SETTINGS", "setting", "check_environment", "parse_amount", "parse_url"]

_MIB = 1024 * 1024
_SCALE = {"": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": _MIB, "mb": _MIB, "mib": _MIB,
          "g": 1024 * _MIB, "gb": 1024 * _MIB, "gib": 1024 * _MIB}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_amount(name: str, text: str) -> int:
    """A size or count with an optional K, M or G (powers of 1024): ``128M`` -> 134217728.

    Examples
    --------
    >>> parse_amount("MATCHGRAPH_MAX_FILE_SIZE", "128M")
    134217728
    >>> parse_amount("MATCHGRAPH_MAX_DEPTH", "1_000")
    1000
    """
    m = re.fullmatch(r"\s*([0-9][0-9_]*)\s*([a-zA-Z]*)\s*", text)
    if not m or m.group(2).lower() not in _SCALE:
        raise ConfigError(f"{name}={text!r} is not a size or count",
                          hint=f"write a whole number, optionally with K, M or G, e.g. {name}=128M")
    return int(m.group(1).replace("_", "")) * _SCALE[m.group(2).lower()]


def _seconds(name: str, text: str, *, positive: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 if positive else value >= 0) or value == float("inf"):
        raise ConfigError(f"{name}={text!r} is not a number of seconds",
                          hint=f"write a number{' above 0' if positive else ' (0 or more)'}, e.g. {name}=600")
    return value


def _whole(name: str, text: str) -> int:
    if not re.fullmatch(r"\s*[0-9]+\s*", text) or int(text) < 1:
        raise ConfigError(f"{name}={text!r} is not a whole number of 1 or more", hint=f"e.g. {name}=5000")
    return int(text)


def _flag(name: str, text: str) -> bool:
    key = text.strip().lower()
    if key not in _TRUE + _FALSE:
        raise ConfigError(f"{name}={text!r} is neither on nor off",
                          hint=f"write {name}=0 (or false, no, off) to turn it off, 1 (true, yes, on) to turn it on")
    return key in _TRUE


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")


def lower_scheme(text: str) -> str:
    """``text`` with the scheme of a ``scheme://...`` URL in lower case, the rest as it is.

    Schemes are case-insensitive (RFC 3986, 3.1) and lower case is their canonical form, so
    ``HTTP://host/`` is the same address as ``http://host/``; hosts are left to the URL's readers.

    Examples
    --------
    >>> lower_scheme("HTTP://127.0.0.1:7878/Query")
    'http://127.0.0.1:7878/Query'
    >>> lower_scheme("RoBERTa-base")
    'RoBERTa-base'
    """
    match = _SCHEME.match(text)
    return text if match is None else match.group(1).lower() + text[match.end(1):]


def is_http_url(text: str) -> bool:
    """Whether ``text`` starts as an http:// or https:// URL, the scheme in any case.

    Examples
    --------
    >>> is_http_url("HTTPS://huggingface.co/gpt2"), is_http_url("gpt2")
    (True, False)
    """
    return lower_scheme(text[:9]).startswith(("http://", "https://"))


def parse_url(name: str, text: str) -> str:
    """An http:// or https:// URL, its scheme in lower case (``name`` is the variable or option that
    gave it, for the message).

    Examples
    --------
    >>> parse_url("--update-url", "localhost:7878/update")
    Traceback (most recent call last):
    ...
    matchgraph.errors.ConfigError: --update-url='localhost:7878/update' is not an http:// or https:// URL
    Hint: give the endpoint's full URL, e.g. --update-url=http://127.0.0.1:7878/update
    """
    url = lower_scheme(text.strip())
    if not re.fullmatch(r"https?://[^\s/]+\S*", url):
        raise ConfigError(f"{name}={text!r} is not an http:// or https:// URL",
                          hint=f"give the endpoint's full URL, e.g. {name}=http://127.0.0.1:7878/update")
    return url


#: What each kind of value accepts: the parser (variable name, text) -> value.
_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "amount": parse_amount,
    "seconds": lambda name, text: _seconds(name, text, positive=False),
    "positive seconds": lambda name, text: _seconds(name, text, positive=True),
    "whole": _whole,
    "flag": _flag,
    "url": parse_url,
    "text": lambda name, text: text,
}


@dataclass(frozen=True)
class Setting:
    """One environment variable.

    Attributes
    ----------
    name : str
        ``MATCHGRAPH_...``.
    kind : str
        A key of the parsers: ``amount`` (a count or size with K/M/G), ``seconds`` (0 or more),
        ``positive seconds``, ``whole`` (1 or more), ``flag`` (on/off), ``url`` (http/https), ``text``.
    default : object
        The value when the variable is unset or empty.
    meaning : str
        What it sets (for docs and messages).
    """

    name: str
    kind: str
    default: Any
    meaning: str


#: Every variable matchgraph reads, by name.
SETTINGS: dict[str, Setting] = {s.name: s for s in (
    Setting("MATCHGRAPH_CATALOG", "text", None, "default catalog location"),
    Setting("MATCHGRAPH_RECORD_MATCHES", "flag", True, "whether match records match events"),
    Setting("MATCHGRAPH_LOCK_TIMEOUT", "seconds", 600.0, "seconds a writer waits for another writer"),
    Setting("MATCHGRAPH_MAX_FILE_SIZE", "amount", 64 * _MIB, "bytes of a file read whole"),
    Setting("MATCHGRAPH_MAX_LITERAL_SIZE", "amount", 256 * 1024, "characters of one text value"),
    Setting("MATCHGRAPH_MAX_DEPTH", "amount", 100, "nesting of JSON and YAML"),
    Setting("MATCHGRAPH_MAX_YAML_VALUES", "amount", 100_000, "values of a YAML document once aliases expand"),
    Setting("MATCHGRAPH_UPDATE_URL", "url", None, "SPARQL Update URL of a remote catalog"),
    Setting("MATCHGRAPH_STORE_URL", "url", None, "Graph Store Protocol URL of a remote catalog"),
    Setting("MATCHGRAPH_TOKEN", "text", None, "bearer token (serve --allow-update; a remote catalog)"),
    Setting("MATCHGRAPH_USER", "text", None, "HTTP basic user of a remote catalog"),
    Setting("MATCHGRAPH_PASSWORD", "text", None, "HTTP basic password of a remote catalog"),
    Setting("MATCHGRAPH_PAGE_SIZE", "whole", None, "rows per SELECT page of a remote catalog"),
    Setting("MATCHGRAPH_TIMEOUT", "positive seconds", 600.0, "seconds per request to a remote catalog"),
    Setting("MATCHGRAPH_TEST_KILL_AT", "text", None, "crash tests: the commit step to die at"),
)}


def setting(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The value of a ``MATCHGRAPH_*`` variable: parsed, or its default when unset or empty.

    Parameters
    ----------
    name : str
        A key of :data:`SETTINGS`.
    environ : mapping, optional
        Where to look (default ``os.environ``).

    Returns
    -------
    object
        The parsed value (int, float, bool or str) or the default.

    Raises
    ------
    ConfigError
        The value cannot be used; the message names the variable and the value, the hint an example.

    Examples
    --------
    >>> setting("MATCHGRAPH_LOCK_TIMEOUT", {"MATCHGRAPH_LOCK_TIMEOUT": "30"})
    30.0
    >>> setting("MATCHGRAPH_LOCK_TIMEOUT", {})
    600.0
    >>> setting("MATCHGRAPH_LOCK_TIMEOUT", {"MATCHGRAPH_LOCK_TIMEOUT": "abc"})
    Traceback (most recent call last):
    ...
    matchgraph.errors.ConfigError: MATCHGRAPH_LOCK_TIMEOUT='abc' is not a number of seconds
    Hint: write a number (0 or more), e.g. MATCHGRAPH_LOCK_TIMEOUT=600
    """
    spec = SETTINGS[name]
    raw = (os.environ if environ is None else environ).get(name)
    if raw is None or raw.strip() == "":
        return spec.default
    return _PARSERS[spec.kind](name, raw)


def check_environment(environ: Mapping[str, str] | None = None) -> list[str]:
    """Check every ``MATCHGRAPH_*`` variable that is set, before a command runs.

    Parameters
    ----------
    environ : mapping, optional
        Where to look (default ``os.environ``).

    Returns
    -------
    list of str
        Notes for names that are not settings but are close to one (a typo is otherwise ignored).

    Raises
    ------
    ConfigError
        The first value that cannot be used.

    Examples
    --------
    >>> check_environment({"MATCHGRAPH_LOCK_TIMOUT": "5", "MATCHGRAPH_CHROMIUM": "/usr/bin/chromium"})
    ['MATCHGRAPH_LOCK_TIMOUT is not a matchgraph setting: did you mean MATCHGRAPH_LOCK_TIMEOUT?']
    """
    env = os.environ if environ is None else environ
    notes = []
    for name in sorted(k for k in env if k.startswith("MATCHGRAPH_")):
        if name in SETTINGS:
            setting(name, env)
            continue
        close = difflib.get_close_matches(name, list(SETTINGS), n=1, cutoff=0.85)
        if close:
            notes.append(f"{name} is not a matchgraph setting: did you mean {close[0]}?")
    return notes
