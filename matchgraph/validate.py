"""SHACL validation of staged triples and of the whole catalog, reported in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rdflib import RDF, SH, Graph, URIRef

from .ontology import shapes_graph
from .vocab import MG, SCHEMA, slug_of

__all__ = ["ValidationReport", "validate_graph"]


@dataclass
class ValidationReport:
    """The outcome of a SHACL run: conforms, and one sentence per violation."""

    conforms: bool
    problems: list[str] = field(default_factory=list)
    focus: list[URIRef] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"conforms": self.conforms, "violations": len(self.problems), "problems": self.problems}


def _short(node: Any) -> str:
    text = str(node)
    for sep in ("#", "/"):
        if sep in text:
            text = text.rsplit(sep, 1)[1] if sep == "#" else text
    return text


def _path_name(path: Any, graph: Graph) -> str:
    if path is None:
        return "(the node itself)"
    try:
        return graph.namespace_manager.normalizeUri(path) if isinstance(path, URIRef) else str(path)
    except Exception:  # noqa: BLE001 - any unprintable path is shown raw
        return str(path)


def _describe(focus: Any, data: Graph) -> str:
    name = data.value(focus, SCHEMA.name)
    kinds = {str(t).rsplit("#", 1)[-1] for t in data.objects(focus, RDF.type)}
    kind = next((k for k in ("Capability", "UniqueClaim", "AlternativeClaim", "UsageMetric", "SourceObservation",
                             "Score", "MatchEvent", "MatchResult") if k in kinds), None)
    label = slug_of(str(focus))
    if kind:
        return f"{kind} {label}"
    return f"entity {label}" + (f" ({name})" if name and str(name) != label else "")


def validate_graph(data: Graph, *, inplace: bool = False) -> ValidationReport:
    """Check a graph against the catalog shapes.

    Parameters
    ----------
    data : rdflib.Graph
        The triples to check (include the types of entities they point to). Every entity carries
        ``a mg:Entity`` explicitly, so no RDFS inference is needed.
    inplace : bool
        Let pyshacl work on ``data`` directly instead of a copy (for throwaway graphs).

    Returns
    -------
    ValidationReport
        ``conforms`` and, for each violation, a sentence naming the entity, the property and what
        was expected.
    """
    import pyshacl

    for prefix, ns in [("mg", MG), ("schema", SCHEMA)]:
        data.bind(prefix, ns)
    conforms, results, _ = pyshacl.validate(
        data, shacl_graph=shapes_graph(), inference="none", inplace=inplace,
        abort_on_first=False, allow_warnings=True, meta_shacl=False, advanced=False)
    if conforms:
        return ValidationReport(True)
    problems: list[str] = []
    focus_nodes: list[URIRef] = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        path = results.value(result, SH.resultPath)
        message = results.value(result, SH.resultMessage)
        value = results.value(result, SH.value)
        severity = results.value(result, SH.resultSeverity)
        if severity is not None and severity != SH.Violation:
            continue
        where = ""
        line = data.value(focus, MG.sourceLine)
        if line is not None:
            where = f" (line {line})"
        got = f"; found {value.n3() if hasattr(value, 'n3') else value}" if value is not None else ""
        problems.append(f"{_describe(focus, data)}{where}: {_path_name(path, data)}: {message}{got}")
        focus_nodes.append(focus)
    problems = sorted(set(problems))
    return ValidationReport(not problems, problems, focus_nodes)
