"""matchgraph: a knowledge-graph backed match engine for a catalog of AI artifacts."""

from __future__ import annotations

from .catalog import Catalog
from .errors import (
    AmbiguousEntity, CatalogError, ConfigError, ConflictError, EntityNotFound, InputError, MatchgraphError,
    ParseError, QueryError, RemoteError, SchemaError, ValidationError,
)
from .ingest import IngestReport, ingest

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Catalog",
    "ingest",
    "IngestReport",
    "MatchgraphError",
    "CatalogError",
    "RemoteError",
    "InputError",
    "ParseError",
    "SchemaError",
    "ConflictError",
    "ValidationError",
    "EntityNotFound",
    "AmbiguousEntity",
    "QueryError",
    "ConfigError",
]
