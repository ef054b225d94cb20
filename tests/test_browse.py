"""Browsing the served catalog: the list (facets, sort, paging, search, permalinks), the query page,
linked data on entity pages and the graph view, in Chromium where it matters."""

from __future__ import annotations

import gc
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from browser import browser, open_page, running_server
from matchgraph import Catalog, ingest
from matchgraph.web.server import create_app
from matchgraph.web.browse import FACETS, PER_PAGE, BrowseIndex, BrowseState, fmt_count

PROBES = Path(__file__).parent / "data" / "probes"


@pytest.fixture(scope="module")
def probe_catalog(example_catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    """The example catalog plus the injection-probe entity."""
    gc.collect()
    path = tmp_path_factory.mktemp("browse") / "catalog"
    shutil.copytree(example_catalog_dir, path)
    catalog = Catalog(path)
    ingest(catalog, [PROBES])
    yield catalog
    catalog.close()


@pytest.fixture(scope="module")
def server(probe_catalog: Catalog) -> Iterator[str]:
    with running_server(create_app(probe_catalog)) as url:
        yield url


@pytest.fixture(scope="module")
def index(probe_catalog: Catalog) -> BrowseIndex:
    return BrowseIndex.build(probe_catalog)


# ---------------------------------------------------------------------- the list, without a browser
def test_facet_counts_add_up_and_filters_narrow(index: BrowseIndex, probe_catalog: Catalog) -> None:
    everything = index.query(BrowseState())
    entities = probe_catalog.scalar("SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a mg:Entity }")
    assert everything.total == everything.catalog_total == entities
    assert set(everything.facets) == set(FACETS)
    assert sum(v["count"] for v in everything.facets["kind"]) == entities
    assert sum(v["count"] for v in everything.facets["status"]) == entities
    datasets = next(v for v in everything.facets["kind"] if v["value"] == "dataset")
    chosen = index.query(BrowseState.from_params({"kind": "dataset"}))
    assert chosen.total == datasets["count"] and {r["kind"] for r in chosen.rows} == {"dataset"}
    assert any(v["chosen"] for v in chosen.facets["kind"])  # the kind facet still lists the others
    assert len(chosen.facets["kind"]) == len(everything.facets["kind"])
    licences = {v["value"]: v["count"] for v in chosen.facets["licence"]}
    mit = index.query(BrowseState.from_params({"kind": "dataset", "licence": "mit"}))
    assert mit.total == licences["mit"] and all("mit" in (r["licence"] or "") for r in mit.rows)
    nothing = index.query(BrowseState.from_params({"kind": "dataset", "licence": "no-such-licence"}))
    assert nothing.total == 0 and nothing.facets["licence"][0] == {
        "value": "no-such-licence", "label": "no-such-licence", "count": 0, "chosen": True}


def test_sorts_pages_and_search(index: BrowseIndex) -> None:
    by_rank = index.query(BrowseState())
    ranks = [r["rank"] for r in by_rank.rows]
    assert ranks == sorted(ranks, reverse=True) and len(by_rank.rows) == PER_PAGE
    assert by_rank.pages == -(-by_rank.total // PER_PAGE)
    second = index.query(BrowseState(page=2))
    assert not {r["id"] for r in second.rows} & {r["id"] for r in by_rank.rows}
    last = index.query(BrowseState(page=999))  # past the end: the last page
    assert last.state.page == last.pages and last.rows
    downloads = index.query(BrowseState(sort="downloads")).rows
    assert downloads[0]["downloads"] != "–" and downloads[-1]["downloads"] == "–"  # unknown counts last
    datasets = index.query(BrowseState.from_params({"kind": "dataset", "sort": "downloads"})).rows
    assert [r["id"] for r in datasets[:2]] == ["wikitext", "c4"] and datasets[0]["downloads"] == "1M"
    names = [r["name"].lower() for r in index.query(BrowseState(sort="name")).rows]
    assert names == sorted(names)
    pile = index.query(BrowseState.from_params({"q": "Pile"})).rows
    assert pile[0]["id"] == "the-pile"  # an alias ("Pile") matches exactly, first
    assert BrowseState.from_params({"sort": "bogus", "page": "x"}) == BrowseState()


def test_every_state_is_a_url() -> None:
    state = BrowseState.from_params({"q": "bert", "licence": "mit", "kind": "model", "sort": "likes", "page": "3"})
    assert state.query_string() == "?q=bert&kind=model&licence=mit&sort=likes&page=3"
    assert BrowseState.from_params({k: v[0] for k, v in parse_qs(state.query_string()[1:]).items()}) == state
    assert state.with_facet("kind", None).query_string() == "?q=bert&licence=mit&sort=likes"  # back to page 1
    assert state.with_sort("name").page == 1 and state.with_page(4).page == 4
    assert (fmt_count(1_500_000), fmt_count(950), fmt_count(None)) == ("1.5M", "950", "–")


def test_home_page_is_small_and_escaped(server: str) -> None:
    response = httpx.get(server + "/")
    assert response.status_code == 200 and len(response.content) < 250_000
    assert "<img src=x onerror" not in response.text
    assert response.text.count('class="entity-row"') == PER_PAGE
    probe = httpx.get(server + "/", params={"q": "onerror"})
    assert "&lt;img src=x onerror=alert(1)&gt;" in probe.text and "<img src=x" not in probe.text


# ---------------------------------------------------------------------- linked data
def test_entity_pages_answer_rdf_by_content_negotiation(server: str) -> None:
    from rdflib import Graph, Literal, URIRef

    pile = URIRef("https://w3id.org/matchgraph/id/the-pile")
    name = URIRef("https://schema.org/name")
    for accept, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                        ("application/n-triples", "nt")):
        response = httpx.get(server + "/entity/the-pile", headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
        assert "accept" in response.headers["vary"].lower()
        graph = Graph().parse(data=response.text, format=fmt)
        assert (pile, name, Literal("The Pile")) in graph, accept
    for suffix in (".ttl", ".jsonld", ".nt"):
        assert httpx.get(server + "/entity/the-pile" + suffix).status_code == 200
    assert httpx.get(server + "/entity/Pile.ttl").headers["location"] == "/entity/the-pile.ttl"
    html = httpx.get(server + "/entity/the-pile", headers={"Accept": "text/html,*/*;q=0.8"})
    assert html.headers["content-type"].startswith("text/html")
    assert 'href="/entity/the-pile.ttl"' in html.text and 'rel="alternate" type="application/ld+json"' in html.text
    assert httpx.get(server + "/entity/the-pile", params={"format": "xml"}).status_code == 400
    assert httpx.get(server + "/entity/no-such-thing.ttl").status_code == 404


class _QueryLog:
    """Records every SPARQL text a catalog sends to its store (``Catalog.query`` and the bulk reads
    of ``Catalog.oxigraph``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        self.on = False
        query, oxigraph = Catalog.query, Catalog.oxigraph
        log = self

        class Store:
            def __init__(self, inner: object) -> None:
                self.inner = inner

            def query(self, sparql: str, *args: object, **kwargs: object) -> object:
                log.seen(sparql)
                return self.inner.query(sparql, *args, **kwargs)  # type: ignore[attr-defined]

            def __getattr__(self, name: str) -> object:
                return getattr(self.inner, name)

        def counted_query(catalog: Catalog, sparql: str, *args: object, **kwargs: object) -> object:
            self.seen(sparql)
            return query(catalog, sparql, *args, **kwargs)

        def counted_store(catalog: Catalog) -> object:
            inner = oxigraph.fget(catalog)  # type: ignore[attr-defined]
            return None if inner is None else Store(inner)

        monkeypatch.setattr(Catalog, "query", counted_query)
        monkeypatch.setattr(Catalog, "oxigraph", property(counted_store))

    def seen(self, sparql: str) -> None:
        if self.on:
            self.texts.append(sparql)


def test_rdf_suffixes_and_unknown_entities_scan_no_labels(probe_catalog: Catalog,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """``/entity/ID.ttl`` and a miss read no label of the store per request (it took 1.2-3.6 s at 5k
    entities: every name scanned for the whole ``ID.ttl``, then for candidates, up to three times);
    the labels are read once per version, and what is answered is the same."""
    from starlette.testclient import TestClient

    queries = _QueryLog(monkeypatch)
    app = create_app(probe_catalog)
    with TestClient(app) as client:
        assert client.get("/entity/no-such-entity").status_code == 404  # the labels read (once per version)
        negotiated = client.get("/entity/the-pile", headers={"Accept": "text/turtle"})
        queries.on = True
        by_suffix = client.get("/entity/the-pile.ttl")
        by_alias = client.get("/entity/Pile.jsonld", follow_redirects=False)
        unknown = client.get("/entity/the-pilf")
        unknown_suffix = client.get("/entity/the-pilf.nt")
        unknown_centre = client.get("/graph", params={"center": "the-pilf"})
        named_centre = client.get("/graph", params={"center": "Pile", "size": 5})
    assert by_suffix.status_code == 200 and by_suffix.content == negotiated.content
    assert by_alias.status_code == 302 and by_alias.headers["location"] == "/entity/the-pile.jsonld"
    assert unknown.status_code == 404 and "no entity called &#39;the-pilf&#39;" in unknown.text
    assert unknown_suffix.status_code == 404 and "the-pilf.nt" in unknown_suffix.text
    assert 'href="/entity/the-pile"' in unknown.text and 'href="/entity/the-pile"' in unknown_suffix.text
    assert unknown_centre.status_code == 404 and 'href="/entity/the-pile"' in unknown_centre.text
    assert named_centre.status_code == 200 and "Match graph around The Pile" in named_centre.text
    scans = [q for q in queries.texts if "alternateName" in q]
    assert queries.texts and not scans, scans


def test_the_cached_lookup_resolves_as_the_store_does(probe_catalog: Catalog) -> None:
    """What the server resolves from memory (``CachedLookup``) is what a command resolves with
    queries: the same entity, or the same error with the same candidates."""
    from matchgraph.errors import MatchgraphError
    from matchgraph.graph.resolve import CachedLookup, resolve_entity

    cached = CachedLookup(probe_catalog, probe_catalog.version)
    names = ["the-pile", "Pile", "THE PILE", "EleutherAI/pile", "allenai/c4", "c4", "C4", "the-pilf", "pile.ttl",
             "nope", "roberta", "RoBERTa-base", "https://w3id.org/matchgraph/id/c4", "", "Ω", "bert base"]

    def outcome(name: str, lookup: CachedLookup | None) -> object:
        try:
            return resolve_entity(probe_catalog, name, lookup=lookup)
        except MatchgraphError as exc:
            return type(exc).__name__, exc.message, getattr(exc, "candidates", None)

    for name in names:
        assert outcome(name, cached) == outcome(name, None), name
    assert resolve_entity(probe_catalog, "Pile", lookup=cached).slug == "the-pile"


# ---------------------------------------------------------------------- the graph view
def test_graph_starts_from_the_top_ranked(server: str) -> None:
    import json
    import re

    def nodes(response: httpx.Response) -> int:
        found = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', response.text, re.DOTALL)
        assert found, response.text[:500]
        return len(json.loads(found.group(1))["nodes"])

    whole = httpx.get(server + "/graph")
    assert whole.status_code == 200 and nodes(whole) <= 150 and 'id="graph-search"' in whole.text
    assert "top-ranked" in whole.text
    assert nodes(httpx.get(server + "/graph", params={"size": 40})) == 40
    around = httpx.get(server + "/graph", params={"center": "Pile", "depth": 1})
    assert around.status_code == 200 and "Match graph around The Pile" in around.text
    assert httpx.get(server + "/graph", params={"relation": "nonsense"}).status_code == 400
    assert httpx.get(server + "/graph", params={"center": "the-pilf"}).status_code == 404


@pytest.mark.parametrize("path, option, value", [
    ("/graph?size=0", "--size", "0"), ("/graph?size=20001", "--size", "20001"), ("/graph?depth=abc", "--depth", "abc"),
    ("/graph?depth=-1", "--depth", "-1"), ("/graph?depth=11", "--depth", "11"),
    ("/match?kind=spaceship", "--kind", "spaceship"), ("/match?q=web+corpus&kind=spaceship", "--kind", "spaceship")])
def test_bad_page_parameters_are_a_400_page_saying_what_the_command_says(server: str, invoke, path: str,  # type: ignore[no-untyped-def]
                                                                          option: str, value: str) -> None:
    """Values the command refuses were clamped (``size=0`` drew 1), replaced by the default
    (``depth=abc``) or ignored (``kind``); the page now refuses them with the command's words."""
    import html as markup

    response = httpx.get(server + path)
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
    text = markup.unescape(response.text)
    command = ["export", "html", option, value] if option != "--kind" else ["--catalog", "memory:", "match", "web corpus",
                                                                              "--no-record", option, value]
    said = invoke(*command)
    assert said.exit_code != 0
    error = said.stderr.split("Error: ", 1)[1].splitlines()[0]  # e.g. "Invalid value for '--size': 0 is not ..."
    error = error.replace(f"'{option}'", f"'{option[2:]}'")  # the URL's parameter for the option
    assert error in text and option[2:] in error and value in error, (error, text)
    allowed = {"--size": "from 1 to 20000", "--depth": "from 0 to 10", "--kind": "model, dataset, tool"}[option]
    assert allowed in text


def test_good_page_parameters_are_taken_as_the_command_takes_them(server: str) -> None:
    deep = httpx.get(server + "/graph", params={"center": "the-pile", "depth": 8, "size": 5})
    assert deep.status_code == 200 and 'name="depth" min="0" max="10" value="8"' in deep.text  # was cut to 6
    assert httpx.get(server + "/graph", params={"size": ""}).status_code == 200  # an emptied field: the default
    datasets = httpx.get(server + "/match", params={"q": "web text corpus", "kind": "datasets"})
    assert datasets.status_code == 200 and "among the dataset entities" in datasets.text
    kinds = re.findall(r'</strong> <span class="badge">(\w+)</span>', datasets.text)
    assert kinds and set(kinds) == {"dataset"}, kinds
    everything = httpx.get(server + "/match", params={"q": "web text corpus"}).text
    assert set(re.findall(r'</strong> <span class="badge">(\w+)</span>', everything)) != {"dataset"}  # was ignored


# ---------------------------------------------------------------------- in Chromium
def rows(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all("#entity-rows .entity-row", "els => els.map(e => e.dataset.id)")


@pytest.mark.browser
def test_facets_paging_search_and_permalinks_in_chromium(server: str) -> None:
    with browser() as b:
        with open_page(b, server + "/", viewport=(1280, 900)) as (page, report):
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no horizontal scrollbar
            # facet filtering
            count = int(page.inner_text(".facet[data-facet=kind] a[data-value=dataset] + .count").replace(",", ""))
            page.click(".facet[data-facet=kind] a[data-value=dataset]")
            page.wait_for_url("**/?kind=dataset")
            assert page.inner_text("#browse-summary strong") == str(count)
            assert set(page.locator("#entity-rows .row-head .badge").all_inner_texts()) == {"dataset"}
            page.click(".sorts a[data-sort=downloads]")
            page.wait_for_url("**/?kind=dataset&sort=downloads")
            assert rows(page)[0] == "wikitext"
            page.click(".facet[data-facet=kind] li.chosen a")  # un-choose
            page.wait_for_url("**/?sort=downloads")
            # paging
            first = rows(page)
            page.click(".pager a[rel=next]")
            page.wait_for_url("**/?sort=downloads&page=2")
            second = rows(page)
            assert second and not set(first) & set(second)
            assert page.get_attribute("#entity-rows", "start") == str(PER_PAGE + 1)
            # search keeps the sort, and starts at page 1
            page.fill("#browse-q", "bert")
            page.press("#browse-q", "Enter")
            page.wait_for_url("**/?q=bert&sort=downloads")
            found = rows(page)
            assert found and all("bert" in r for r in found[:3])
            permalink = page.url
            report.assert_clean()
        # a permalink round trip: the same URL opened afresh shows the same list
        with open_page(b, permalink, viewport=(1280, 900)) as (page, report):
            assert rows(page) == found
            assert page.input_value("#browse-q") == "bert"
            assert page.inner_text(".sorts .sort-current") == "Downloads"
            report.assert_clean()


@pytest.mark.browser
def test_no_horizontal_scrollbar_at_1280(server: str) -> None:
    with browser() as b:
        for path in ("/", "/?kind=model&sort=likes", "/entity/the-pile", "/entity/probe-entity", "/graph",
                     "/query", "/compare/the-pile/c4", "/match?q=masked+language+model"):
            with open_page(b, server + path, viewport=(1280, 900)) as (page, report):
                page.wait_for_timeout(200)
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 1280, (path, width)
                report.assert_clean()


@pytest.mark.browser
def test_query_page_permalink_links_downloads_and_graph(server: str) -> None:
    query = ("SELECT ?model ?modelName ?data WHERE { ?model mg:trainedOn ?data ; schema:name ?modelName } "
             "ORDER BY ?model ?data LIMIT 20")
    with browser() as b:
        with open_page(b, server + "/query?query=" + quote(query), viewport=(1280, 900)) as (page, report):
            page.wait_for_selector("#query-form[data-done]")  # run on load
            assert page.input_value("#query") == query
            links = page.eval_on_selector_all("a.entity-iri", "els => els.map(e => e.getAttribute('href'))")
            assert links and all(href.startswith("/entity/") for href in links)
            assert page.locator("#query-highlight .tok-kw").count() >= 3  # highlighted
            for fmt, media in (("csv", "text/csv"), ("tsv", "text/tab-separated-values"),
                               ("json", "application/sparql-results+json")):
                href = page.get_attribute(f"#download-{fmt}", "href")
                assert parse_qs(urlsplit(href).query)["query"] == [query]
                response = httpx.get(server + href)
                assert response.status_code == 200 and response.headers["content-type"].startswith(media)
            page.click("#show-graph")
            page.wait_for_selector("#query-graph:not(.hidden)")
            assert int(page.get_attribute("#query-graph", "data-nodes")) > 2
            report.assert_clean()
        with open_page(b, server + "/query", viewport=(1280, 900)) as (page, report):
            names = page.locator("#examples option[data-name]").count()
            assert names >= 8
            page.select_option("#examples", index=2)
            page.wait_for_selector("#query-form[data-done]")
            url = page.url
            assert "query=" in url and page.locator("#query-error.hidden").count() == 1
            chosen = page.input_value("#query")
            report.assert_clean()
        with open_page(b, url, viewport=(1280, 900)) as (page, report):  # the permalink round trip
            page.wait_for_selector("#query-form[data-done]")
            assert page.input_value("#query") == chosen
            report.assert_clean()


# ---------------------------------------------------------------------- score history
def test_score_history_chart_from_entries() -> None:
    from matchgraph.web.history import HEIGHT, history_chart

    assert history_chart([]) is None and history_chart([{"rank": 50}]) is None  # nothing to draw
    chart = history_chart([{"time": "2026-01-01T10:00:00+00:00", "rank": 0, "adoption": 100},
                           {"time": "2026-01-02T10:00:00+00:00", "rank": 50},
                           {"time": "2026-01-03T10:00:00+00:00", "rank": 100, "adoption": 40}])
    assert chart is not None and chart["count"] == 3
    assert (chart["first"], chart["last"]) == ("2026-01-01", "2026-01-03")
    rank = chart["series"][0]
    assert rank["name"] == "Rank" and rank["last"] == 100
    points = [tuple(map(float, p.split(","))) for p in rank["points"].split()]
    assert [y for _, y in points] == [HEIGHT - 10, (HEIGHT - 10 + 10) / 2, 10.0]  # 0, 50, 100 bottom to top
    assert points[0][0] < points[1][0] < points[2][0]
    assert [s["name"] for s in chart["series"]] == ["Rank", "Adoption"]  # only scores with two values


def test_entity_page_draws_the_score_history(example_catalog: Catalog) -> None:
    """Recorded matches are kept in the score history (``matchgraph.graph.scores.score_history``) and
    give the entity page a chart."""
    from starlette.testclient import TestClient

    from matchgraph.graph.scores import score_history
    from matchgraph.matching.match import match

    for need in ("large web text corpus for pretraining", "web corpus for language model pretraining"):
        match(example_catalog, need, limit=5, record=True)
    page = TestClient(create_app(example_catalog)).get("/entity/the-pile").text
    assert len(score_history(example_catalog, "the-pile")) >= 2
    assert '<figure class="score-history"' in page and "<polyline" in page
