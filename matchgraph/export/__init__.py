"""Exporters: the catalog (or its projection) written in a file format.

Each exporter is ``f(catalog, **options) -> str | bytes`` registered in :data:`EXPORTERS` under
the format name ``matchgraph export FORMAT`` takes. The RDF dumps (``ttl``, ``nt``, ``nq``,
``trig``, ``jsonld``) are written by :func:`matchgraph.export.rdf.dump`, which streams (the CLI and
the server call it directly); graph files and HTML views register themselves from their own modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..store.catalog import Catalog
from ..errors import ConfigError

__all__ = ["EXPORTERS", "export", "register"]

Exporter = Callable[..., "str | bytes"]
EXPORTERS: dict[str, Exporter] = {}
DESCRIPTIONS: dict[str, str] = {}


def register(name: str, description: str) -> Callable[[Exporter], Exporter]:
    """Register an exporter under a format name."""

    def decorator(func: Exporter) -> Exporter:
        EXPORTERS[name] = func
        DESCRIPTIONS[name] = description
        return func

    return decorator


def _rdf_exporter(fmt: str) -> Exporter:
    def export_rdf(catalog: Catalog, **_: Any) -> bytes:
        import io

        from .rdf import dump

        out = io.BytesIO()
        dump(catalog, fmt, out)
        return out.getvalue()

    export_rdf.__name__ = f"export_{fmt}"
    export_rdf.__doc__ = f"The whole catalog as {fmt} (see :func:`matchgraph.export.rdf.dump`, which streams)."
    return export_rdf


for _fmt, _description in (
        ("ttl", "Turtle: every catalog triple, with the project prefixes"),
        ("nt", "N-Triples: every catalog triple, one per line"),
        ("nq", "N-Quads: every named graph (one per source document) with its triples"),
        ("trig", "TriG: every named graph (one per source document) with its triples"),
        ("jsonld", "JSON-LD (expanded): every catalog triple")):
    register(_fmt, _description)(_rdf_exporter(_fmt))


def _load_optional() -> None:
    for module in ("graphfiles", "html"):
        try:
            __import__(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise


def export(catalog: Catalog, fmt: str, **options: Any) -> str | bytes:
    """Export the catalog in a format.

    Parameters
    ----------
    catalog : Catalog
    fmt : str
        A key of :data:`EXPORTERS` (``ttl``, ``nt``, ``nq``, ``trig``, ``jsonld``, and the graph formats).
    **options
        Passed to the exporter (e.g. ``center``, ``depth`` for graph views).
    """
    _load_optional()
    try:
        exporter = EXPORTERS[fmt]
    except KeyError:
        raise ConfigError(f"unknown export format {fmt!r}", hint="use one of: " + ", ".join(sorted(EXPORTERS))) from None
    return exporter(catalog, **options)


def formats() -> dict[str, str]:
    """Every export format with its one-line description."""
    _load_optional()
    return dict(sorted(DESCRIPTIONS.items()))
