"""Where the vocabulary, the shapes, the concept scheme and the JSON-LD context live, and loading them."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from rdflib import Graph

__all__ = ["ontology_path", "ontology_graph", "shapes_graph", "jsonld_context"]


def ontology_path(name: str) -> Path:
    """Return the path of an ontology file (``matchgraph.ttl``, ``shapes.ttl``, ``capabilities.ttl``, ...).

    A source checkout uses ``ontology/`` next to the package; an installed package uses its copy.
    """
    local = Path(__file__).resolve().parent.parent / "ontology" / name
    if local.exists():
        return local
    return Path(str(resources.files("matchgraph.ontology_files").joinpath(name)))


@lru_cache(maxsize=None)
def ontology_graph() -> Graph:
    """The vocabulary (``matchgraph.ttl``) and the capability scheme as one rdflib Graph."""
    graph = Graph()
    graph.parse(ontology_path("matchgraph.ttl"), format="turtle")
    caps = ontology_path("capabilities.ttl")
    if caps.exists():
        graph.parse(caps, format="turtle")
    return graph


@lru_cache(maxsize=None)
def shapes_graph() -> Graph:
    """The SHACL shapes every catalog must satisfy."""
    graph = Graph()
    graph.parse(ontology_path("shapes.ttl"), format="turtle")
    return graph


@lru_cache(maxsize=None)
def jsonld_context() -> dict[str, Any]:
    """The JSON-LD context of the vocabulary (the value of ``@context``)."""
    data = json.loads(ontology_path("context.jsonld").read_text(encoding="utf-8"))
    return data["@context"]
