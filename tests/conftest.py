"""Shared fixtures: real on-disk Oxigraph catalogs in temporary directories."""

from __future__ import annotations

import gc
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    del cat
    release()  # really closed, so no background compaction runs while a test copies it
    return path


@pytest.fixture
def example_copy(example_catalog_dir: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the ingested example catalog at ``tmp_path / "catalog"``, closed, for
    commands (``invoke``, a subprocess) to open.

    Use ``example_catalog`` for an open one.
    """
    release()  # no catalog of an earlier test still holds its store
    path = tmp_path / "catalog"
    shutil.copytree(example_catalog_dir, path)
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


PAGE = DATA / "comparison_page.txt"


@pytest.fixture(scope="session")
def page_catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding a catalog with only the comparison page ingested, once per session.

    Tests must not write to it: copy it with the ``page_catalog`` fixture to change it.
    """
    path = tmp_path_factory.mktemp("page") / "catalog"
    with Catalog(path) as cat:
        ingest(cat, [PAGE])
    del cat
    release()  # really closed, so no background compaction runs while a test copies it
    return path


@pytest.fixture
def page_catalog(page_catalog_dir: Path, tmp_path: Path) -> Iterator[Catalog]:
    """A private, writable copy of the catalog holding only the comparison page."""
    path = tmp_path / "page-catalog"
    shutil.copytree(page_catalog_dir, path)
    cat = Catalog(path)
    yield cat
    cat.close()


@dataclass(frozen=True)
class Outcome:
    """What a command run by the ``invoke`` fixture did."""

    exit_code: int
    output: str
    stderr: str


def release() -> None:
    """Let go of closed catalogs: ``Catalog.close`` leaves the store locked until garbage collection."""
    gc.collect()


@pytest.fixture
def invoke(runner: CliRunner, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run ``matchgraph ARGS...`` in-process and return its :class:`Outcome`.

    ``$MATCHGRAPH_CATALOG`` is restored afterwards, since the group's ``--catalog`` sets it, and
    ``$MATCHGRAPH_UPDATE_URL`` after each run, since ``--update-url`` sets it (it sent a later test's
    remote writes to the URL an earlier test gave).
    """
    import os

    from matchgraph.cli import cli

    monkeypatch.delenv("MATCHGRAPH_CATALOG", raising=False)

    def run(*args: object, input: str | None = None) -> Outcome:
        release()
        update_url = os.environ.get("MATCHGRAPH_UPDATE_URL")
        try:
            result = runner.invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False,
                                   prog_name="matchgraph")
        finally:
            if update_url is None:
                os.environ.pop("MATCHGRAPH_UPDATE_URL", None)
            else:
                os.environ["MATCHGRAPH_UPDATE_URL"] = update_url
        outcome = Outcome(result.exit_code, result.output, result.stderr)
        del result  # its traceback would keep the command's catalog open
        release()
        return outcome

    return run


@pytest.fixture
def make_catalog():  # type: ignore[no-untyped-def]
    """``make_catalog(path, *sources)``: ingest sources into a catalog at ``path`` and close it."""

    def make(path: Path, *sources: Path) -> Path:
        release()
        cat = Catalog(path)
        try:
            if sources:
                ingest(cat, list(sources))
        finally:
            cat.close()
            del cat
            release()
        return path

    return make


@pytest.fixture
def peek():  # type: ignore[no-untyped-def]
    """``peek(path)``: (triple count, version) of a closed on-disk catalog, leaving it closed."""

    def look(path: Path) -> tuple[int, str]:
        release()
        cat = Catalog(path)
        try:
            return cat.triple_count(), cat.version
        finally:
            cat.close()
            del cat
            release()

    return look


def loaded_once(factory: pytest.TempPathFactory, name: str,
                load: Callable[[Catalog], Any]) -> Iterator[tuple[Catalog, Any]]:
    """Body of a module-scoped fixture: a new catalog, ``load(catalog)`` run once, both yielded."""
    cat = Catalog(factory.mktemp(name) / "catalog")
    outcome = load(cat)
    yield cat, outcome
    cat.close()


def assert_refused_unchanged(catalog: Catalog, attempt: Callable[[], Any], error: type[Exception],
                             where: str) -> None:
    """``attempt()`` raises ``error`` naming ``where`` and leaves the catalog's triples and version as they were."""
    before = (catalog.triple_count(), catalog.version)
    with pytest.raises(error) as info:
        attempt()
    assert where in str(info.value)
    assert (catalog.triple_count(), catalog.version) == before
