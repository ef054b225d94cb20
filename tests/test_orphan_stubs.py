"""Stubs nobody names any more are removed when the sources that named them are re-ingested."""

from __future__ import annotations

from pathlib import Path

from matchgraph import Catalog, ingest

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "data" / "comparison_page.txt"
EXAMPLES = ROOT / "examples" / "catalog"


def _entities(catalog: Catalog) -> set[str]:
    return {str(r[0]) for r in catalog.rows("SELECT DISTINCT ?e WHERE { ?e a mg:Entity }")}


def _stubs(catalog: Catalog) -> set[str]:
    return {str(r[0]) for r in catalog.rows("SELECT DISTINCT ?e WHERE { ?e mg:isStub true }")}


def test_reingesting_drops_stubs_that_now_resolve(catalog: Catalog) -> None:
    ingest(catalog, [PAGE])
    ingest(catalog, [EXAMPLES])
    before = _stubs(catalog)
    ingest(catalog, [PAGE])
    after = _stubs(catalog)
    assert after < before  # e.g. the page's "BERT-base" stub now resolves to the bert-base-uncased card
    named = {str(r[0]) for r in catalog.rows(
        "SELECT DISTINCT ?e WHERE { GRAPH ?g { ?x ?p ?e } ?e mg:isStub true FILTER(?g != <https://w3id.org/matchgraph/graph/stubs>) }")}
    assert after == named  # every remaining stub is still named by some source


def test_the_order_of_ingests_does_not_change_the_result(tmp_path: Path) -> None:
    with Catalog(tmp_path / "a") as first:
        ingest(first, [PAGE])
        ingest(first, [EXAMPLES])
        ingest(first, [PAGE])
        a = (_entities(first), first.triple_count())
    with Catalog(tmp_path / "b") as second:
        ingest(second, [EXAMPLES])
        ingest(second, [PAGE])
        b = (_entities(second), second.triple_count())
    assert a == b
