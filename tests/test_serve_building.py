"""Pages of a catalog version whose match graph is not built yet: "building" with progress, never a
hang or a 500, and the page itself once the build is done (also in Chromium, which reloads by itself)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from browser import browser, open_page, running_server
from matchgraph import Catalog
from matchgraph.graph import derived
from matchgraph.web.server import BUILD_RETRY, ServerConfig, create_app

QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s a mg:Entity }"


@pytest.fixture
def unbuilt(example_catalog_dir: Path, tmp_path: Path) -> Iterator[Catalog]:
    """A copy of the example catalog without any derived state (as after an ingest by another process)."""
    path = tmp_path / "catalog"
    shutil.copytree(example_catalog_dir, path)
    shutil.rmtree(path / "cache" / "derived", ignore_errors=True)
    catalog = Catalog(path)
    assert not derived.is_built(catalog, catalog.data_version)
    yield catalog
    catalog.close()


def test_pages_say_building_then_show_the_page(unbuilt: Catalog) -> None:
    with running_server(create_app(unbuilt, ServerConfig(build_wait=0))) as url:
        first = httpx.get(url + "/entity/the-pile", timeout=30)
        assert first.status_code == 503
        assert first.headers["retry-after"] == str(BUILD_RETRY)
        assert first.headers["cache-control"] == "no-store"
        assert "<h1>Building the match graph</h1>" in first.text
        assert f'<meta http-equiv="refresh" content="{BUILD_RETRY}">' in first.text
        # the SPARQL endpoint reads the store and never waits for the build
        sparql = httpx.get(url + "/sparql", params={"query": QUERY},
                           headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert sparql.status_code == 200 and int(sparql.json()["results"]["bindings"][0]["n"]["value"]) > 40
        statuses = []
        deadline = time.monotonic() + 120
        while True:
            page = httpx.get(url + "/entity/the-pile", timeout=30)
            statuses.append(page.status_code)
            if page.status_code == 200:
                break
            assert page.status_code == 503 and "Building the match graph" in page.text
            assert time.monotonic() < deadline, f"the build did not finish in 120 s: {statuses}"
            time.sleep(0.1)
        assert "The Pile" in page.text
        assert derived.is_built(unbuilt, unbuilt.data_version)
        # every other page is ready at once now
        for path in ("/", "/compare/the-pile/wikitext", "/match?q=web+text+corpus", "/graph?center=the-pile"):
            assert httpx.get(url + path, timeout=60).status_code == 200, path


def test_a_page_waits_for_a_build_shorter_than_build_wait(unbuilt: Catalog) -> None:
    with running_server(create_app(unbuilt, ServerConfig(build_wait=120))) as url:
        page = httpx.get(url + "/entity/the-pile", timeout=150)
        assert page.status_code == 200 and "The Pile" in page.text


def test_concurrent_first_requests_during_a_build_get_no_error(unbuilt: Catalog) -> None:
    from concurrent.futures import ThreadPoolExecutor

    builds = derived.counters["full"]
    with running_server(create_app(unbuilt, ServerConfig(build_wait=0.5))) as url:
        with ThreadPoolExecutor(10) as pool:
            codes = list(pool.map(lambda _: httpx.get(url + "/entity/the-pile", timeout=120).status_code, range(20)))
        while httpx.get(url + "/entity/the-pile", timeout=120).status_code == 503:
            time.sleep(0.1)
    assert set(codes) <= {200, 503}, codes
    assert derived.counters["full"] - builds == 1  # one build for twenty requests


def test_the_build_wait_must_not_be_negative() -> None:
    from matchgraph.errors import ConfigError

    with pytest.raises(ConfigError, match="build wait"):
        ServerConfig(build_wait=-1)


@pytest.mark.browser
def test_chromium_reloads_the_building_page_into_the_entity_page(unbuilt: Catalog) -> None:
    with running_server(create_app(unbuilt, ServerConfig(build_wait=0))) as url:
        with browser() as b:
            with open_page(b, url + "/entity/the-pile") as (page, report):
                assert page.inner_text("h1") == "Building the match graph"
                page.wait_for_selector("h1:has-text('The Pile')", timeout=120_000)
                assert page.url == url + "/entity/the-pile"
                assert not report.page_errors and not report.blocked and not report.dialogs
