"""Exporters: the catalog (or its projection) written in a file format.

Each exporter is ``f(catalog, **options) -> str | bytes`` registered in :data:`EXPORTERS` under
the format name ``matchgraph export FORMAT`` takes. RDF dumps live here; graph files and HTML
views register themselves from their own modules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..catalog import Catalog
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


@register("ttl", "Turtle: every catalog triple")
def export_turtle(catalog: Catalog, **_: Any) -> str:
    """The whole catalog as Turtle."""
    return catalog.serialize("turtle")


@register("nt", "N-Triples: every catalog triple, one per line")
def export_ntriples(catalog: Catalog, **_: Any) -> str:
    """The whole catalog as N-Triples, sorted so exports diff well."""
    text = catalog.serialize("nt")
    return "\n".join(sorted(line for line in text.splitlines() if line.strip())) + "\n"


@register("jsonld", "JSON-LD with the matchgraph context")
def export_jsonld(catalog: Catalog, **_: Any) -> str:
    """The whole catalog as JSON-LD, compacted with the bundled context."""
    return catalog.serialize("json-ld")


@register("trig", "TriG: every named graph (one per source document) with its triples")
def export_trig(catalog: Catalog, **_: Any) -> str:
    """The whole dataset, graphs kept, as TriG."""
    from rdflib import Dataset

    ds = Dataset()
    for g in catalog.dataset.graphs():
        if len(g) == 0:
            continue
        target = ds.graph(g.identifier)
        for triple in g:
            target.add(triple)
    return ds.serialize(format="trig")


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
        A key of :data:`EXPORTERS` (``ttl``, ``nt``, ``jsonld``, ``trig``, and the graph formats).
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
