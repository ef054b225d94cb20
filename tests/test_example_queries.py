"""Every commented query in examples/queries runs on the example catalog and answers its question."""

from __future__ import annotations

from pathlib import Path

import pytest

from matchgraph import Catalog
from matchgraph.sparql import run_sparql

QUERIES = sorted((Path(__file__).resolve().parent.parent / "examples" / "queries").glob("*.rq"))


@pytest.fixture(scope="module")
def example(example_catalog_dir: Path):  # type: ignore[no-untyped-def]
    cat = Catalog(example_catalog_dir)
    yield cat
    cat.close()


def _values(result, column: str) -> set[str]:  # type: ignore[no-untyped-def]
    names = [str(v) for v in result.vars]
    index = names.index(column)
    return {str(row[index]) for row in result if row[index] is not None}


def test_there_are_at_least_eight_commented_queries() -> None:
    assert len(QUERIES) >= 8
    for path in QUERIES:
        assert path.read_text(encoding="utf-8").startswith("# "), f"{path.name} does not start with a comment"


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_query_runs_and_returns_rows(example: Catalog, path: Path) -> None:
    result = run_sparql(example, path.read_text(encoding="utf-8"))
    assert result is not None
    rows = list(result)
    assert rows, f"{path.name} returned no rows on the example catalog"


def test_the_pile_is_claimed_as_an_alternative_to_c4(example: Catalog) -> None:
    result = run_sparql(example, (QUERIES[0].parent / "alternatives-to-c4.rq").read_text(encoding="utf-8"))
    names = {str(v) for row in result for v in row if v is not None}
    assert "The Pile" in names and "RedPajama" in names


def test_entities_without_licence_lists_common_crawl_and_not_the_pile(example: Catalog) -> None:
    result = run_sparql(example, (QUERIES[0].parent / "entities-without-licence.rq").read_text(encoding="utf-8"))
    cells = {str(v) for row in result for v in row if v is not None}
    assert any("Common Crawl" in c or c.endswith("/common-crawl") for c in cells)
    assert not any(c == "The Pile" or c.endswith("/the-pile") for c in cells)
