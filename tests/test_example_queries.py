"""Every commented query in examples/queries runs on the example catalog and answers its question."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matchgraph import Catalog
from matchgraph.store.sparql import run_sparql

QUERIES = sorted((Path(__file__).resolve().parent.parent / "examples" / "queries").glob("*.rq"))


@pytest.fixture(scope="module")
def example(example_catalog_dir: Path):  # type: ignore[no-untyped-def]
    cat = Catalog(example_catalog_dir)
    yield cat
    cat.close()


def _cells(catalog: Catalog, name: str) -> list[list[str]]:
    """The rows of an example query (SPARQL JSON through ``run_sparql``), as lists of values."""
    data = json.loads(run_sparql(catalog, (QUERIES[0].parent / name).read_text(encoding="utf-8"), fmt="json"))
    names = data["head"]["vars"]
    return [[b[n]["value"] for n in names if n in b] for b in data["results"]["bindings"]]


def test_there_are_at_least_eight_commented_queries() -> None:
    assert len(QUERIES) >= 8
    for path in QUERIES:
        assert path.read_text(encoding="utf-8").startswith("# "), f"{path.name} does not start with a comment"


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_query_runs_and_returns_rows(example: Catalog, path: Path) -> None:
    rows = _cells(example, path.name)
    assert rows, f"{path.name} returned no rows on the example catalog"


def test_the_pile_is_claimed_as_an_alternative_to_c4(example: Catalog) -> None:
    names = {v for row in _cells(example, "alternatives-to-c4.rq") for v in row}
    assert "The Pile" in names and "RedPajama" in names


def test_entities_without_licence_lists_common_crawl_and_not_the_pile(example: Catalog) -> None:
    cells = {v for row in _cells(example, "entities-without-licence.rq") for v in row}
    assert any("Common Crawl" in c or c.endswith("/common-crawl") for c in cells)
    assert not any(c == "The Pile" or c.endswith("/the-pile") for c in cells)
