"""Which reader a JSON file met by ``matchgraph ingest`` belongs to (Croissant, a Hub API answer).

Apart from :mod:`.importers` (which writes through :mod:`.ingest`) so that ingest can ask without an
import cycle.
"""

from __future__ import annotations

from typing import Any

from .croissant import is_croissant, parse_croissant
from .hf import is_hub_json, parse_hub_json
from .records import SourceRecords

__all__ = ["sniff_json"]


def sniff_json(data: Any, path: str) -> SourceRecords | None:
    """Records for a JSON file ``matchgraph ingest`` meets: Croissant or a Hub API answer, else None.

    ``ingest`` reads each file on its own; ``matchgraph import`` also links records to the
    entities other sources describe (see :mod:`matchgraph.sources.merge`).

    Examples
    --------
    >>> sniff_json({"@context": {}, "@type": "sc:Dataset", "name": "x", "conformsTo": "cr"}, "x.json").format
    'croissant'
    >>> sniff_json({"hello": "world"}, "x.json") is None
    True
    """
    if is_croissant(data):
        return parse_croissant(data, path)
    if is_hub_json(data):
        return parse_hub_json(data, path)
    return None
