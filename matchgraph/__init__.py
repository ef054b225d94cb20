"""matchgraph: a knowledge-graph backed match engine for a catalog of AI artifacts.

The public names are imported on first use (PEP 562), so that ``import matchgraph`` and a
command-line start stay fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS = {
    "Catalog": ".store.catalog",
    "ingest": ".sources.ingest",
    "IngestReport": ".sources.ingest",
    **{name: ".errors" for name in (
        "MatchgraphError", "CatalogError", "RemoteError", "InputError", "ParseError", "SchemaError",
        "ConflictError", "ValidationError", "EntityNotFound", "AmbiguousEntity", "QueryError", "ConfigError")},
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # pragma: no cover
    from .store.catalog import Catalog
    from .errors import (
        AmbiguousEntity, CatalogError, ConfigError, ConflictError, EntityNotFound, InputError, MatchgraphError,
        ParseError, QueryError, RemoteError, SchemaError, ValidationError,
    )
    from .sources.ingest import IngestReport, ingest


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'matchgraph' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
