"""One linked catalog: cards + Croissant + MTEB + Hub metadata describe each thing once."""

from __future__ import annotations

from pathlib import Path

import pytest

from matchgraph import Catalog
from matchgraph.errors import Location
from matchgraph.sources.importers import import_croissant, import_hf, import_mteb, run_import
from matchgraph.sources.records import EntityRecord, SourceRecords
from matchgraph.store.validate import validate_graph
from matchgraph.vocab import entity_iri

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
C4_CROISSANT = ROOT / "examples" / "croissant" / "huggingface-c4.json"


@pytest.fixture
def linked(example_catalog: Catalog) -> Catalog:
    """The example catalog with the bundled Croissant files, an MTEB subset and Hub listings."""
    import_croissant(example_catalog, [ROOT / "examples" / "croissant"])
    import_mteb(example_catalog, TESTS / "data" / "mteb")
    import_hf(example_catalog, TESTS / "data" / "hf" / "models.json")
    import_hf(example_catalog, TESTS / "data" / "hf" / "datasets.json")
    return example_catalog


def test_the_pile_names_the_croissant_c4(linked: Catalog) -> None:
    # The Pile's card compares it with C4; the Croissant file describes allenai/c4: one entity
    c4 = linked.rows("""SELECT DISTINCT ?alt WHERE { mgid:the-pile mg:hasCapability/mg:hasClaim ?cl .
        ?cl a mg:AlternativeClaim ; mg:namesAlternative ?alt . ?alt mg:hubId 'allenai/c4' }""")
    assert [str(r[0]) for r in c4] == [str(entity_iri("c4"))]
    graphs = {str(r[0]) for r in linked.rows("""SELECT ?path WHERE { GRAPH ?g { mgid:c4 a mg:Dataset }
        ?g mg:sourcePath ?path }""")}
    assert str(C4_CROISSANT) in graphs and any(p.endswith("c4.md") for p in graphs)
    assert linked.ask("ASK { mgid:c4 dcterms:conformsTo ?x ; mg:supportsFormat mgid:parquet }")


def test_neighbours_of_the_pile_reach_the_croissant_c4(linked: Catalog) -> None:
    from matchgraph.graph.neighbours import neighbours
    from matchgraph.graph.resolve import EntityRef

    pile = EntityRef("the-pile", entity_iri("the-pile"), "The Pile", "dataset", False)
    found = {n.slug: n for n in neighbours(linked, pile, limit=100)}
    assert "c4" in found and "alternative" in found["c4"].relations


def test_one_entity_per_hub_id_across_sources(linked: Catalog) -> None:
    rows = linked.rows("""SELECT ?h (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e mg:hubId ?h } GROUP BY ?h HAVING (?n > 1)""")
    assert rows == []
    minilm = linked.rows("""SELECT DISTINCT ?path WHERE { GRAPH ?g { mgid:all-minilm-l6-v2 a mg:Model }
        ?g mg:sourcePath ?path }""")
    sources = {Path(str(r[0])).name for r in minilm}
    assert {"all-minilm-l6-v2.md", "models.jsonl", "models.json"} <= sources


def test_the_linked_catalog_conforms_to_the_shapes(linked: Catalog) -> None:
    report = validate_graph(linked.data_graph())
    assert report.conforms, report.problems[:5]


def test_imports_are_idempotent_after_merges_and_filled_stubs(linked: Catalog) -> None:
    assert linked.ask("ASK { mgid:ms-marco a mg:Dataset ; schema:alternateName 'MS MARCO' }")  # the card's stub
    before = linked.triple_count()
    croissant = import_croissant(linked, [ROOT / "examples" / "croissant"])
    mteb = import_mteb(linked, TESTS / "data" / "mteb")
    assert linked.triple_count() == before
    for summary in (croissant, mteb):
        assert (summary.created, summary.merged, summary.stubs) == (0, 0, 0)
    assert linked.ask("ASK { mgid:ms-marco a mg:Dataset ; schema:alternateName 'MS MARCO' }")


def _records(path: Path, *records: EntityRecord) -> list[tuple[Path, SourceRecords]]:
    path.write_text("{}", encoding="utf-8")
    return [(path, SourceRecords(path=str(path), format="test", entities=list(records)))]


def test_records_naming_one_thing_merge_and_keep_their_differences(catalog: Catalog, tmp_path: Path) -> None:
    recs = [EntityRecord(id=f"acme-data-{i}", name="Acme Data", kind="dataset", description=f"Version {i}.",
                         license="mit" if i == 1 else "cc0-1.0", location=Location(str(tmp_path / "s.json"), i))
            for i in (1, 2, 3)]
    summary = run_import(catalog, _records(tmp_path / "s.json", *recs), importer="test")
    assert summary.created == 1 and summary.records == 3
    assert catalog.scalar("SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a mg:Dataset }") == 1
    kept = {str(r[0]) for r in catalog.rows("SELECT ?f WHERE { ?o mg:observedField ?f }")}
    assert {"description", "description (2)", "license", "license (2)"} <= kept
    assert validate_graph(catalog.data_graph()).conforms


def test_same_repo_name_under_another_owner_is_not_merged(example_catalog: Catalog, tmp_path: Path) -> None:
    fork = EntityRecord(id="someone-all-minilm-l6-v2", name="someone/all-MiniLM-L6-v2", kind="model",
                        extra=[("hub_id", "someone/all-MiniLM-L6-v2")])
    summary = run_import(example_catalog, _records(tmp_path / "fork.json", fork), importer="test")
    assert summary.created == 1 and summary.merged == 0
    near = {n.slug: [c for c, _ in n.candidates] for n in summary.linking.near_misses}
    assert near == {"someone-all-minilm-l6-v2": ["all-minilm-l6-v2"]}
