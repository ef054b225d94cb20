"""Graph files (GraphML, GEXF, node-link JSON) of the match graph, read back with networkx."""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx
import pytest
from rdflib import Graph, URIRef

from matchgraph import Catalog, ConfigError, QueryError
from matchgraph.export import export
from matchgraph.export.graphfiles import (
    SCORE_FIELDS, annotate, catalog_graph, construct_graph, ego_view, filter_relations, to_gexf, to_graphml, to_node_link,
)

TINY = """
@prefix mg: <https://w3id.org/matchgraph/ns#> . @prefix mgid: <https://w3id.org/matchgraph/id/> .
@prefix schema: <https://schema.org/> .
mgid:a a mg:Entity, mg:Model ; schema:name "Model A" ; mg:trainedOn mgid:d ; mg:derivedFrom mgid:b .
mgid:b a mg:Entity, mg:Model ; schema:name "Model B" .
mgid:d a mg:Entity, mg:Dataset ; schema:name "Data D" ; mg:supportsFormat mgid:f .
mgid:f a mg:Entity, mg:Format ; schema:name "Format F" .
"""


class Scores:
    """The attributes :func:`matchgraph.graph.scores.load_scores` gives each entity."""

    def __init__(self, rank: float) -> None:
        self.rank, self.adoption, self.quality, self.ecosystem, self.match_graph = rank, rank / 2, 10.0, 20.0, 30.0


def tiny_graph() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    G.add_node("a", kind="model", name="Model A", stub=False, times_matched=0)
    G.add_node("b", kind="model", name="Model B", stub=False, times_matched=0)
    G.add_node("d", kind="dataset", name="Data D", stub=False, times_matched=0)
    G.add_node("s", kind=None, name="Some stub", stub=True, times_matched=0)
    G.add_edge("a", "d", key="trainedOn", relation="trainedOn", weight=1.0, aspect="")
    G.add_edge("a", "b", key="alternative", relation="alternative", weight=2.0, aspect="memory,speed")
    G.add_edge("b", "s", key="derivedFrom", relation="derivedFrom", weight=1.0, aspect="")
    return G


def test_annotate_sets_every_attribute() -> None:
    H = annotate(tiny_graph(), {"a": Scores(80.0), "b": Scores(40.0)})
    assert list(H.nodes) == ["a", "b", "d", "s"]
    assert H.nodes["a"] == {"kind": "model", "name": "Model A", "stub": False, "rank": 80.0, "adoption": 40.0,
                            "quality": 10.0, "ecosystem": 20.0, "match_graph": 30.0}
    assert H.nodes["s"] == {"kind": "", "name": "Some stub", "stub": True}
    assert H.edges["a", "b", "alternative"] == {"relation": "alternative", "weight": 2.0, "aspect": "memory,speed"}
    assert "aspect" not in H.edges["a", "d", "trainedOn"]


@pytest.mark.parametrize("write, read", [
    (to_graphml, lambda text: nx.read_graphml(io.BytesIO(text.encode()), force_multigraph=True)),
    (to_gexf, lambda text: nx.read_gexf(io.BytesIO(text.encode()))),
    (to_node_link, lambda text: nx.node_link_graph(json.loads(text))),
])
def test_files_read_back_with_attributes(write, read) -> None:  # type: ignore[no-untyped-def]
    H = annotate(tiny_graph(), {"a": Scores(80.0)})
    text = write(H)
    assert text == write(annotate(tiny_graph(), {"a": Scores(80.0)}))  # deterministic
    back = read(text)
    assert back.is_directed() and back.number_of_nodes() == 4 and back.number_of_edges() == 3
    assert back.nodes["a"]["kind"] == "model" and float(back.nodes["a"]["rank"]) == 80.0
    assert back.nodes["s"]["stub"] in (True, "true")
    relations = sorted(d["relation"] for _, _, d in back.edges(data=True))
    assert relations == ["alternative", "derivedFrom", "trainedOn"]
    alt = next(d for _, _, d in back.edges(data=True) if d["relation"] == "alternative")
    assert float(alt["weight"]) == 2.0 and alt["aspect"] == "memory,speed"


def test_gexf_has_no_export_date() -> None:
    assert "lastmodifieddate" not in to_gexf(annotate(tiny_graph()))


def test_filter_relations_and_ego_view() -> None:
    G = tiny_graph()
    lineage = filter_relations(G, ["TrainedOn", "derivedFrom"])
    assert sorted(d["relation"] for _, _, d in lineage.edges(data=True)) == ["derivedFrom", "trainedOn"]
    assert set(lineage) == set(G)
    assert sorted(ego_view(G, "d", depth=1)) == ["a", "d"]
    assert sorted(ego_view(G, "d", depth=2)) == ["a", "b", "d"]
    assert sorted(ego_view(lineage, "s", depth=3)) == ["b", "s"]  # the a-b edge was an alternative
    with pytest.raises(ConfigError, match="unknown relation"):
        filter_relations(G, ["likes"])


def test_construct_graph(catalog: Catalog) -> None:
    catalog.write({URIRef("urn:tiny"): Graph().parse(data=TINY, format="turtle")})
    G = construct_graph(catalog, """CONSTRUCT { ?a mg:trainedOn ?d . ?a schema:name ?n . ?d schema:name ?m }
                                    WHERE { ?a mg:trainedOn ?d ; schema:name ?n . ?d schema:name ?m }""")
    assert sorted(G.nodes) == ["a", "d"]
    assert G.nodes["a"]["name"] == "Model A" and G.nodes["d"]["kind"] == "dataset"
    assert [(u, v, d["relation"]) for u, v, d in G.edges(data=True)] == [("a", "d", "trainedOn")]
    with pytest.raises(QueryError, match="CONSTRUCT"):
        construct_graph(catalog, "SELECT * WHERE { ?s ?p ?o }")
    # a drawing sends no request on the network (Oxigraph would have tried the host)
    with pytest.raises(QueryError, match="SERVICE <http://127.0.0.1:9/> would send a request"):
        construct_graph(catalog, "CONSTRUCT { ?s ?p ?o } WHERE { # x\rSERVICE <http://127.0.0.1:9/> { ?s ?p ?o }\n }")


def test_graphml_of_the_example_catalog(example_catalog: Catalog, tmp_path: Path) -> None:
    text = export(example_catalog, "graphml")
    G = nx.read_graphml(io.BytesIO(text.encode() if isinstance(text, str) else text), force_multigraph=True)
    pile = G.nodes["the-pile"]
    assert (pile["kind"], pile["name"], pile["stub"]) == ("dataset", "The Pile", False)
    for field in SCORE_FIELDS:
        assert 0.0 <= float(pile[field]) <= 100.0, field
    stubs = [n for n, d in G.nodes(data=True) if d["stub"]]
    assert stubs and all(G.nodes[n]["kind"] == "" for n in stubs)
    relations = {d["relation"] for _, _, d in G.edges(data=True)}
    assert {"derivedFrom", "alternative", "integratesWith"} <= relations
    assert all(float(d["weight"]) > 0 for _, _, d in G.edges(data=True))
    assert any(d.get("aspect") for _, _, d in G.edges(data=True) if d["relation"] == "alternative")


def test_export_view_options(example_catalog: Catalog) -> None:
    full = nx.node_link_graph(json.loads(export(example_catalog, "json")))
    around = nx.node_link_graph(json.loads(export(example_catalog, "json", center="the-pile", depth=1)))
    assert "the-pile" in around and around.number_of_nodes() < full.number_of_nodes()
    assert all(nx.has_path(around.to_undirected(), "the-pile", n) for n in around)
    lineage = nx.node_link_graph(json.loads(export(example_catalog, "json", relations=["derivedFrom"])))
    assert {d["relation"] for _, _, d in lineage.edges(data=True)} == {"derivedFrom"}
    gexf = nx.read_gexf(io.BytesIO(export(example_catalog, "gexf", center="the-pile", depth=1).encode()))
    assert set(gexf.nodes) == set(around.nodes)


def test_names_with_control_characters(tmp_path: Path) -> None:
    """A name imported with a bell and an escape sequence: GraphML and GEXF stay XML (the character
    becomes U+FFFD), and the terminal is shown the characters, not sent them."""
    import xml.etree.ElementTree as ET

    from click.testing import CliRunner

    from matchgraph import ingest
    from matchgraph.cli import cli

    (tmp_path / "ctrl.ttl").write_text(
        '@prefix mg: <https://w3id.org/matchgraph/ns#> . @prefix schema: <https://schema.org/> .\n'
        '<https://w3id.org/matchgraph/id/ctrl-tool> a mg:Tool, mg:Entity ; '
        'schema:name "Bell\\u0007Esc\\u001B]0;pwned\\u0007 Tool\\u009B" ; mg:trainedOn <https://w3id.org/matchgraph/id/other> .\n'
        '<https://w3id.org/matchgraph/id/other> a mg:Dataset, mg:Entity ; schema:name "Other" .\n', encoding="utf-8")
    catalog = Catalog(tmp_path / "c")
    ingest(catalog, [tmp_path / "ctrl.ttl"], validate=False)
    G = catalog_graph(catalog)
    catalog.close()
    for text in (to_graphml(G), to_gexf(G)):
        tree = ET.fromstring(text.encode("utf-8"))  # well-formed
        values = [e.text for e in tree.iter()] + [v for e in tree.iter() for v in e.attrib.values()]
        assert "Bell\ufffdEsc\ufffd]0;pwned\ufffd Tool\x9b" in values
    for args in (["explain", "ctrl-tool"], ["neighbours", "other"], ["compare", "ctrl-tool", "other"]):
        out = CliRunner().invoke(cli, [*args, "--catalog", str(tmp_path / "c")])
        assert out.exit_code == 0, out.output
        assert "\x07" not in out.output and "\x1b" not in out.output and "Bell\\x07Esc\\x1b]0;pwned" in out.output
    page = CliRunner().invoke(cli, ["compare", "ctrl-tool", "other", "--format", "html", "-o", str(tmp_path / "p.html"),
                                    "--catalog", str(tmp_path / "c")])
    html = (tmp_path / "p.html").read_text(encoding="utf-8")
    assert page.exit_code == 0 and "Bell\ufffdEsc" in html  # HTML allows none of them
    assert not any(c in html for c in "\x07\x1b\x9b")
    for args in (["explain", "ctrl-tool", "--format", "json"], ["compare", "ctrl-tool", "other", "--format", "json"]):
        out = CliRunner().invoke(cli, [*args, "--catalog", str(tmp_path / "c")])
        assert out.exit_code == 0 and "\x9b" not in out.output, out.output
        def strings(value: object) -> list[str]:
            if isinstance(value, dict):
                return [s for v in value.values() for s in strings(v)]
            if isinstance(value, list):
                return [s for v in value for s in strings(v)]
            return [value] if isinstance(value, str) else []

        assert "Bell\x07Esc\x1b]0;pwned\x07 Tool\x9b" in strings(json.loads(out.output))  # the value, read back
