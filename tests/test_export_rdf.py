"""RDF dumps (``matchgraph export ttl|nt|nq|trig|jsonld``): pyoxigraph's writers, streamed, with
the project prefixes and plain strings."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, Literal, URIRef

from matchgraph import Catalog
from matchgraph.export.rdf import DUMP_FORMATS, PROGRESS_STEP, dump
from matchgraph.vocab import ID, META_GRAPH, SCHEMA


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    cat = Catalog("memory:")
    one, two = Graph(), Graph()
    one.add((ID["alpha"], SCHEMA.name, Literal("Alpha")))
    one.add((ID["alpha"], SCHEMA.description, Literal("tab\there", lang="en")))
    two.add((ID["alpha"], SCHEMA.name, Literal("Alpha")))  # the same triple in a second graph
    for i in range(PROGRESS_STEP + 5):
        two.add((ID[f"filler-{i}"], SCHEMA.value, Literal(i)))
    cat.write({URIRef("urn:test:one"): one, URIRef("urn:test:two"): two})
    return cat


def written(catalog: Catalog, fmt: str) -> str:
    out = io.BytesIO()
    dump(catalog, fmt, out)
    return out.getvalue().decode("utf-8")


def test_turtle_has_our_prefixes_and_plain_strings(catalog: Catalog) -> None:
    text = written(catalog, "ttl")
    assert text.startswith("@prefix") and "@prefix mg: <https://w3id.org/matchgraph/ns#>" in text
    assert "mgid:alpha" in text and 'schema:name "Alpha"' in text
    assert "^^xsd:string" not in text and "XMLSchema#string" not in text
    graph = Graph().parse(data=text, format="turtle")
    assert len(graph) == PROGRESS_STEP + 7  # the shared triple once, the bookkeeping left out


def test_dataset_formats_keep_the_graphs_and_leave_out_the_bookkeeping(catalog: Catalog) -> None:
    for fmt, parser in (("trig", "trig"), ("nq", "nquads")):
        data = Dataset()
        data.parse(data=written(catalog, fmt), format=parser)
        graphs = {str(g.identifier) for g in data.graphs() if len(g)}
        assert {"urn:test:one", "urn:test:two"} <= graphs and str(META_GRAPH) not in graphs
    trig = written(catalog, "trig")
    assert "@prefix mg:" in trig and "ns1:" not in trig


def test_progress_is_reported(catalog: Catalog) -> None:
    seen: list[int] = []
    dump(catalog, "nt", io.BytesIO(), progress=seen.append)
    assert seen == [PROGRESS_STEP, PROGRESS_STEP + 7]


@pytest.mark.parametrize("fmt", sorted(DUMP_FORMATS))
def test_cli_export_streams_every_format(invoke, make_catalog, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    from conftest import PAGE

    source = make_catalog(tmp_path / "cat", PAGE)
    target = tmp_path / f"catalog.{fmt}"
    result = invoke("export", fmt, "-o", target, "--catalog", source)
    assert result.exit_code == 0, result.output
    assert f"Wrote {target}" in result.stderr and target.stat().st_size > 1000
    to_stdout = invoke("export", fmt, "--catalog", source)
    assert to_stdout.output.encode() == target.read_bytes()
