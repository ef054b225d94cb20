"""Shared fixtures: real on-disk Oxigraph catalogs in temporary directories."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from matchgraph import Catalog, ingest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "catalog"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[Catalog]:
    """An empty on-disk catalog."""
    cat = Catalog(tmp_path / "catalog")
    yield cat
    cat.close()


@pytest.fixture(scope="session")
def example_catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the bundled example catalog, ingested once per test session.

    Tests must not write to it: copy it with the ``example_catalog`` fixture to change it.
    """
    path = tmp_path_factory.mktemp("examples") / "catalog"
    with Catalog(path) as cat:
        ingest(cat, [EXAMPLES])
    return path


@pytest.fixture
def example_catalog(example_catalog_dir: Path, tmp_path: Path) -> Iterator[Catalog]:
    """A private, writable copy of the ingested example catalog."""
    path = tmp_path / "example-catalog"
    shutil.copytree(example_catalog_dir, path)
    cat = Catalog(path)
    yield cat
    cat.close()


@pytest.fixture
def runner() -> CliRunner:
    """A click test runner."""
    return CliRunner()
