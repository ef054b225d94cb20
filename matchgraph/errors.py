"""The exceptions matchgraph raises.

Every error a user can cause is a :class:`MatchgraphError`; the CLI maps them to click errors
(usage problems exit 2, everything else exits 1) and prints the hint. The hierarchy::

    MatchgraphError
    ├── CatalogError              the store cannot be opened, read or written
    │   └── RemoteError           a remote SPARQL endpoint failed or refused
    ├── InputError                a file or record is bad (carries file, line or JSON path)
    │   ├── ParseError            syntax: YAML, Markdown, Turtle, JSON, comparison page
    │   ├── SchemaError           well formed but wrong: unknown kind, missing id, bad value
    │   ├── ConflictError         the same id with conflicting facts
    │   ├── ValidationError       the SHACL shapes are not satisfied
    │   ├── LimitError            over a size, depth or YAML-alias limit (the limit is named)
    │   └── UnsafeInputError      XML entities/DTDs, remote JSON-LD contexts
    ├── EntityNotFound            a name matches no entity (carries close candidates)
    │   └── AmbiguousEntity       a name matches several entities
    ├── QueryError                a SPARQL query is malformed or not allowed
    └── ConfigError               a configuration or weights file is wrong
"""

from __future__ import annotations

from dataclasses import dataclass, field


class MatchgraphError(Exception):
    """Base class of every matchgraph error.

    Parameters
    ----------
    message : str
        What is wrong.
    hint : str, optional
        How to fix it.
    """

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f"\nHint: {self.hint}" if self.hint else "")

    def to_dict(self) -> dict[str, object]:
        """The error for scripts (what ``--format json`` prints on standard error).

        Examples
        --------
        >>> MatchgraphError("the need is empty", hint="describe what you need").to_dict()
        {'error': 'MatchgraphError', 'message': 'the need is empty', 'hint': 'describe what you need', 'exit_code': 1}
        """
        return {"error": type(self).__name__, "message": self.message, "hint": self.hint, "exit_code": self.exit_code}


class CatalogError(MatchgraphError):
    """The catalog store cannot be opened, read or written."""


class CatalogBusy(CatalogError):
    """Another process held the catalog's write lock longer than ``MATCHGRAPH_LOCK_TIMEOUT``."""


class RemoteError(CatalogError):
    """A remote SPARQL endpoint failed or refused the request."""


@dataclass
class Location:
    """Where in an input a problem is: a file and a line, or a file and a JSON path."""

    path: str
    line: int | None = None
    json_path: str | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.path}:{self.line}"
        if self.json_path is not None:
            return f"{self.path} at {self.json_path}"
        return self.path


class InputError(MatchgraphError):
    """A bad input file or record; the message starts with its location."""

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None) -> None:
        self.location = location
        self.detail = message
        full = f"{location}: {message}" if location else message
        super().__init__(full, hint=hint)

    def to_dict(self) -> dict[str, object]:
        """:meth:`MatchgraphError.to_dict` with ``detail`` (the message without its location) and
        ``file``, ``line``, ``json_path`` when known."""
        out = super().to_dict()
        out["detail"] = self.detail
        if self.location is not None:
            out.update(file=self.location.path, line=self.location.line, json_path=self.location.json_path)
        return out


class ParseError(InputError):
    """The input is not well formed (YAML, Markdown, Turtle, JSON, comparison page)."""


class SchemaError(InputError):
    """The input is well formed but says something matchgraph cannot accept."""


class ConflictError(InputError):
    """The same entity id is given conflicting facts."""


class ValidationError(InputError):
    """The staged triples do not satisfy the SHACL shapes.

    Parameters
    ----------
    problems : list of str
        One sentence per violation: which entity, which property, what was expected.
    """

    def __init__(self, problems: list[str], *, location: Location | None = None) -> None:
        self.problems = problems
        text = "the data does not satisfy the catalog shapes:\n" + "\n".join(f"  - {p}" for p in problems)
        super().__init__(text, location=location, hint="fix the listed properties and ingest again")


class EntityNotFound(MatchgraphError):
    """No entity has this id, name, alias or IRI.

    Parameters
    ----------
    name : str
        What the user asked for.
    candidates : list of str
        The closest slugs, best first.
    """

    exit_code = 2

    def __init__(self, name: str, candidates: list[str] | None = None) -> None:
        self.name = name
        self.candidates = candidates or []
        hint = ("did you mean: " + ", ".join(self.candidates)) if self.candidates else (
            "run 'matchgraph stats' to see what the catalog holds")
        super().__init__(f"no entity called {name!r}", hint=hint)

    def to_dict(self) -> dict[str, object]:
        """:meth:`MatchgraphError.to_dict` with the ``name`` asked for and the ``candidates``."""
        return {**super().to_dict(), "name": self.name, "candidates": list(self.candidates)}


class AmbiguousEntity(EntityNotFound):
    """Several entities answer to this name."""

    def __init__(self, name: str, candidates: list[str]) -> None:
        super().__init__(name, candidates)
        self.message = f"{name!r} names several entities: {', '.join(candidates)}"
        self.hint = "use the id (slug) or the full IRI of the one you mean"


class QueryError(MatchgraphError):
    """A SPARQL query is malformed, or an update was sent where only reads are allowed."""

    exit_code = 2


class ConfigError(MatchgraphError):
    """A configuration or weights file is wrong."""

    exit_code = 2


@dataclass
class Problems:
    """Collects input errors so one run can report all of them together."""

    errors: list[InputError] = field(default_factory=list)

    def add(self, error: InputError) -> None:
        """Remember an error."""
        self.errors.append(error)

    def raise_if_any(self) -> None:
        """Raise the first error, with the others appended to its message."""
        if not self.errors:
            return
        if len(self.errors) == 1:
            raise self.errors[0]
        first = self.errors[0]
        rest = "\n".join(str(e) for e in self.errors[1:])
        first.message = f"{first.message}\n{rest}"
        raise first


class LimitError(InputError):
    """An input is over a size, nesting-depth or expansion limit (YAML aliases); the message names the limit.

    Limits are set by environment variables (see :mod:`matchgraph.sources.safe_load`), which the
    message and the hint name, so a trusted large input can still be read.
    """


class UnsafeInputError(InputError):
    """An input uses a feature matchgraph refuses: XML entity declarations or external DTDs, remote JSON-LD contexts."""
