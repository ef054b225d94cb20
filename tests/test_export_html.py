"""``matchgraph export html``: one self-contained, offline, injection-safe interactive graph page."""

from __future__ import annotations

import gc
import random
import shutil
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pytest
from rdflib import RDF, Graph, Literal, URIRef

from browser import browser, canvas_drawn, open_page
from matchgraph import Catalog, ingest
from matchgraph.export.html import KIND_COLOURS, RELATION_STYLES, STUB_COLOUR, export_html, graph_view
from matchgraph.vocab import ID, KINDS, MG, RELATIONS, SCHEMA

PROBES = Path(__file__).parent / "data" / "probes"


class Resources(HTMLParser):
    """Collects every URL a page would load (src, href of link, url() in style attributes); a
    ``data:`` URL (the icon) is inline, not loaded."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts_with_src = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("src") and not str(values["src"]).startswith("data:"):
            self.urls.append(str(values["src"]))
        if tag == "link" and values.get("href") and not str(values["href"]).startswith("data:"):
            self.urls.append(str(values["href"]))
        if tag == "script" and "src" in values:
            self.scripts_with_src += 1


def view_data(html: str) -> dict:
    """The graph data a page embeds."""
    import json
    import re

    found = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', html, re.DOTALL)
    assert found, "no graph data in the page"
    return json.loads(found.group(1))


def tiny() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    G.add_node("a", name="A", kind="model", stub=False, rank=90.0)
    G.add_node("b", name="B", kind="dataset", stub=False, rank=10.0)
    G.add_node("s", name="S", kind="", stub=True)
    G.add_edge("a", "b", key="trainedOn", relation="trainedOn", weight=1.0)
    G.add_edge("a", "b", key="shared-concept", relation="shared-concept", weight=2.0)
    G.add_edge("b", "a", key="shared-concept", relation="shared-concept", weight=2.0)
    G.add_edge("s", "a", key="alternative", relation="alternative", weight=1.0, aspect="speed")
    return G


def test_graph_view_styles_nodes_and_edges() -> None:
    view = graph_view(tiny(), center="a")
    nodes = {n["id"]: n for n in view["nodes"]}
    assert nodes["a"]["color"] == KIND_COLOURS["model"] and nodes["b"]["color"] == KIND_COLOURS["dataset"]
    assert nodes["s"]["color"] == STUB_COLOUR
    assert nodes["a"]["size"] > nodes["b"]["size"] > nodes["s"]["size"]  # size follows rank
    assert nodes["a"]["borderWidth"] > nodes["b"]["borderWidth"]  # the centre stands out
    edges = [(e["from"], e["to"], e["relation"]) for e in view["edges"]]
    assert sorted(edges) == [("a", "b", "shared-concept"), ("a", "b", "trainedOn"), ("s", "a", "alternative")]
    styles = {e["relation"]: (e["color"], e["dashes"], e["label"]) for e in view["edges"]}
    assert styles["trainedOn"] == (*RELATION_STYLES["trainedOn"], "trainedOn")
    assert styles["alternative"][1] is True and styles["trainedOn"][1] is False
    assert [k["name"] for k in view["legend"]["kinds"]][:2] == ["dataset", "model"]
    assert [r["name"] for r in view["legend"]["relations"]] == ["alternative", "shared-concept", "trainedOn"]
    assert view["options"]["physics"]["stabilization"]["enabled"] is True


def test_big_views_stabilise_fewer_iterations_and_drop_edge_labels() -> None:
    G = nx.MultiDiGraph()
    for i in range(1500):
        G.add_node(f"n{i}", name=f"N{i}", kind="model")
    for i in range(1, 1500):
        G.add_edge(f"n{i}", f"n{i // 2}", relation="derivedFrom", weight=1.0)
    big, small = graph_view(G), graph_view(tiny())
    iterations = big["options"]["physics"]["stabilization"]["iterations"]
    assert iterations < small["options"]["physics"]["stabilization"]["iterations"]
    assert 0 < iterations <= 100
    assert "label" not in big["edges"][0] and big["edges"][0]["title"] == "derivedFrom"


@pytest.fixture(scope="module")
def probe_catalog_dir(example_catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example catalog plus an entity whose name and texts are script-injection probes."""
    gc.collect()
    path = tmp_path_factory.mktemp("probe-html") / "catalog"
    shutil.copytree(example_catalog_dir, path)
    catalog = Catalog(path)
    ingest(catalog, [PROBES])
    catalog.close()
    del catalog
    gc.collect()  # a closed store stays locked until it is collected
    return path


@pytest.fixture(scope="module")
def pile_html(probe_catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``matchgraph export html --center the-pile -o pile.html``, run as a user would."""
    from click.testing import CliRunner

    from matchgraph.cli import cli

    out = tmp_path_factory.mktemp("html") / "pile.html"
    result = CliRunner().invoke(cli, ["export", "html", "--center", "the-pile", "--catalog", str(probe_catalog_dir),
                                      "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    gc.collect()
    return out


def test_exported_file_is_self_contained_and_escaped(pile_html: Path) -> None:
    text = pile_html.read_text(encoding="utf-8")
    parser = Resources()
    parser.feed(text)
    assert parser.urls == [] and parser.scripts_with_src == 0
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert "<img src=x onerror=alert(1)>" not in text
    assert "</script><script>alert(2)" not in text
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in text  # the probe is there, as inert JSON
    assert "the-pile" in text and "probe-entity" in text  # the probe is trained on the Pile: one hop away
    data = view_data(text)
    assert len(data["nodes"]) <= 150 and 'id="graph-search"' in text
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in data["nodes"])  # laid out already
    assert data["options"]["physics"]["enabled"] is False


@pytest.mark.browser
def test_exported_file_opens_offline_in_chromium(pile_html: Path) -> None:
    with browser() as b:
        with open_page(b, pile_html.as_uri()) as (page, report):
            page.wait_for_selector(".graph-canvas[data-stabilised=true]", timeout=60_000)
            page.wait_for_timeout(300)
            assert canvas_drawn(page, ".graph-canvas canvas") > 1000
            details = page.inner_text("#graph-details")
            assert "The Pile" in details and "dataset" in details  # the centre is selected
            info = page.evaluate("""() => {
                const v = window.matchgraphViews[0];
                const ids = v.network.body.data.nodes.getIds();
                const pos = v.network.getPositions(['probe-entity'])['probe-entity'];
                return {ids: ids.length, physics: v.network.physics.physicsEnabled,
                        probe: pos ? v.network.canvasToDOM(pos) : null};
            }""")
            assert info["ids"] > 10 and info["physics"] is False and info["probe"] is not None
            page.click(".graph-canvas canvas", position={"x": info["probe"]["x"], "y": info["probe"]["y"]})
            page.wait_for_function("document.querySelector('#graph-details h3').textContent.includes('onerror')")
            assert page.locator("#graph-details img").count() == 0  # the name is text, not markup
            box = page.locator(".graph-canvas canvas").bounding_box()
            page.mouse.move(box["x"] + info["probe"]["x"], box["y"] + info["probe"]["y"])
            page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5000)
            assert "onerror" in page.inner_text("div.vis-tooltip")
            assert page.locator("div.vis-tooltip img").count() == 0
            page.wait_for_timeout(200)
        assert report.requests == [pile_html.as_uri()]
        report.assert_clean()


def generated_catalog(path: Path, n: int, *, seed: int = 5) -> Catalog:
    """A catalog of ``n`` entities with random stated relations (about two per entity)."""
    rng = random.Random(seed)
    kinds = sorted(KINDS)[:8]
    relations = ["derivedFrom", "trainedOn", "integratesWith", "supportsFormat", "evaluatedOn"]
    graph = Graph()
    for i in range(n):
        e = ID[f"entity-{i}"]
        graph.add((e, RDF.type, MG.Entity))
        graph.add((e, RDF.type, KINDS[rng.choice(kinds)]))
        graph.add((e, SCHEMA.name, Literal(f"Entity {i}")))
        for _ in range(2 if i else 0):
            graph.add((e, RELATIONS[rng.choice(relations)], ID[f"entity-{rng.randrange(i)}"]))
    catalog = Catalog(path)
    catalog.write({URIRef("urn:generated"): graph})
    return catalog


def test_views_are_capped_at_150_by_weight_and_rank(tmp_path: Path) -> None:
    from matchgraph.web.graphview import DEFAULT_SIZE, select_view

    catalog = generated_catalog(tmp_path / "cap", 600)
    whole = select_view(catalog)  # no centre: the top-ranked
    around = select_view(catalog, center="entity-0", depth=3)
    bigger = select_view(catalog, center="entity-0", depth=3, size=400)
    ranks = {n: d.get("rank", 0.0) for n, d in whole.graph.nodes(data=True)}
    catalog.close()
    assert whole.graph.number_of_nodes() == DEFAULT_SIZE and whole.total == 600
    assert "the 150 top-ranked of 600" in whole.summary()
    assert around.graph.number_of_nodes() == DEFAULT_SIZE and "entity-0" in around.graph
    assert around.reachable is not None and around.reachable > DEFAULT_SIZE
    assert "150 nearest" in around.summary() and around.warning() is None
    assert bigger.graph.number_of_nodes() == min(400, bigger.reachable or 0)
    assert set(around.graph) <= set(bigger.graph)  # best first: a bigger view extends the smaller one
    assert min(ranks.values()) >= 0 and len(ranks) == DEFAULT_SIZE


def test_past_2000_entities_the_view_warns(tmp_path: Path) -> None:
    catalog = generated_catalog(tmp_path / "warn", 2100)
    from matchgraph.web.graphview import select_view

    view = select_view(catalog, size=2100)
    catalog.close()
    assert view.graph.number_of_nodes() == 2100
    assert view.warning() is not None and "2,100 entities" in view.warning()


@pytest.mark.browser
def test_graph_search_focuses_a_node_and_filters_hide(pile_html: Path) -> None:
    with browser() as b:
        with open_page(b, pile_html.as_uri(), viewport=(1280, 900)) as (page, report):
            page.wait_for_selector(".graph-canvas[data-stabilised=true]", timeout=60_000)
            assert page.locator("#graph-search").count() == 1
            page.fill("#graph-search", "falcon")
            page.wait_for_selector("#graph-hits button[data-node]")
            assert page.locator("#graph-hits button").first.inner_text() == "Falcon RefinedWeb"
            page.press("#graph-search", "Enter")
            page.wait_for_function("document.querySelector('.graph-canvas').getAttribute('data-focused') === 'falcon-refinedweb'")
            state = page.evaluate("""() => { const v = window.matchgraphViews[0];
                return {selected: v.network.getSelectedNodes(), focused: v.focused, highlighted: v.highlighted}; }""")
            assert state == {"selected": ["falcon-refinedweb"], "focused": "falcon-refinedweb",
                             "highlighted": "falcon-refinedweb"}
            assert "Falcon RefinedWeb" in page.inner_text("#graph-details h3")
            total = page.evaluate("window.matchgraphViews[0].nodes")
            page.uncheck("#graph-filters input[data-filter=kind][value=dataset]")
            shown = page.get_attribute(".graph-canvas", "data-shown")
            assert shown is not None and int(shown.split("/")[0]) < total
            assert "Showing" in page.inner_text("#graph-count")
            page.check("#graph-filters input[data-filter=kind][value=dataset]")
            assert int(page.get_attribute(".graph-canvas", "data-shown").split("/")[0]) == total
            page.uncheck("#graph-filters input[data-filter=relation][value=alternative]")
            assert int(page.get_attribute(".graph-canvas", "data-shown").split("/")[1]) < page.evaluate(
                "window.matchgraphViews[0].edges")
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        report.assert_clean()


@pytest.mark.browser
def test_1500_nodes_draw_when_the_size_is_raised(tmp_path: Path) -> None:
    catalog = generated_catalog(tmp_path / "big", 1500)
    assert len(view_data(export_html(catalog))["nodes"]) == 150  # by default at most 150
    html = export_html(catalog, size=1500)
    catalog.close()
    page_path = tmp_path / "big.html"
    page_path.write_text(html, encoding="utf-8")
    with browser() as b:
        with open_page(b, page_path.as_uri()) as (page, report):
            page.wait_for_selector(".graph-canvas[data-stabilised=true]", timeout=90_000)
            state = page.evaluate("""() => { const v = window.matchgraphViews[0];
                return {nodes: v.nodes, physics: v.network.physics.physicsEnabled}; }""")
            assert state["nodes"] == 1500 and state["physics"] is False
            assert "physics off" in page.inner_text(".graph-status")
            assert canvas_drawn(page, ".graph-canvas canvas") > 1000
            report.assert_clean()
