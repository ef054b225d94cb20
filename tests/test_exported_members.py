"""Every name a module exports in ``__all__`` exists, and the package exports what users need."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import pytest

import matchgraph


def modules() -> list[str]:
    """Every module of the package (``__main__`` modules run the command line, so not those)."""
    names = [matchgraph.__name__]
    for info in pkgutil.walk_packages(matchgraph.__path__, prefix=f"{matchgraph.__name__}."):
        if not info.name.endswith(".__main__"):
            names.append(info.name)
    return sorted(names)


def test_package_exports_the_core_api() -> None:
    assert {"Catalog", "ingest", "IngestReport", "MatchgraphError", "InputError", "ParseError", "SchemaError",
            "ConflictError", "ValidationError", "QueryError", "EntityNotFound", "__version__"} <= set(matchgraph.__all__)


@pytest.mark.parametrize("name", matchgraph.__all__)
def test_every_exported_name_of_the_package_exists(name: str) -> None:
    assert hasattr(matchgraph, name), name
    assert getattr(matchgraph, name) is not None


def test_exported_names_are_unique() -> None:
    assert len(matchgraph.__all__) == len(set(matchgraph.__all__))


def test_version_matches_the_installed_distribution() -> None:
    from importlib.metadata import version

    assert matchgraph.__version__ == version("matchgraph")


@pytest.mark.parametrize("module_name", modules())
def test_every_module_imports_and_its_all_exists(module_name: str) -> None:
    module: ModuleType = importlib.import_module(module_name)
    exported = getattr(module, "__all__", [])
    missing = [name for name in exported if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ names missing members: {missing}"
    assert len(exported) == len(set(exported)), f"{module_name}.__all__ repeats a name"


def test_errors_form_one_hierarchy() -> None:
    for name in matchgraph.__all__:
        value = getattr(matchgraph, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, matchgraph.MatchgraphError), name
