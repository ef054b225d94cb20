"""No import cycles among matchgraph's modules, counting imports inside functions too.

The imports are read statically (``ast``), so a cycle hidden by a function-level import is found
as well; imports under ``if TYPE_CHECKING:`` do not run and are left out. Cycles that existed
before this test are listed in :data:`KNOWN` to be removed; any other cycle fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PACKAGE = Path(__file__).resolve().parent.parent / "matchgraph"

#: Cycles present when this test was written (outside the match graph), to be broken; none may be added.
KNOWN: set[frozenset[str]] = set()  # the last one (ingest <-> importers) went with matchgraph/sources/sniff.py


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package modules a module imports (at any depth of its code)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - child.level + 1]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                found.add(target)
                found.update(f"{target}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in modules and m != name}


def import_graph() -> nx.DiGraph:
    """Module -> the package modules it imports."""
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    graph = nx.DiGraph()
    for path in paths:
        graph.add_node(_module_name(path))
        for target in _imports(path, modules):
            graph.add_edge(_module_name(path), target)
    return graph


def cycles(graph: nx.DiGraph) -> set[frozenset[str]]:
    """The strongly connected groups of more than one module (each holds at least one cycle)."""
    return {frozenset(c) for c in nx.strongly_connected_components(graph) if len(c) > 1}


def test_the_reader_finds_function_level_imports_and_skips_type_checking(tmp_path: Path) -> None:
    graph = import_graph()
    assert graph.has_edge("matchgraph.matching.match", "matchgraph.graph.derived")  # imported inside a function
    assert not graph.has_edge("matchgraph.graph.scoring", "matchgraph.store.catalog")  # only under TYPE_CHECKING


def test_no_new_import_cycles() -> None:
    found = cycles(import_graph())
    new = found - KNOWN
    assert not new, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in sorted(new, key=sorted))


def test_the_match_graph_package_has_no_cycle() -> None:
    graph = import_graph()
    for group in cycles(graph):
        assert not any(m.startswith("matchgraph.graph") for m in group), sorted(group)
