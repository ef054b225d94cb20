"""``matchgraph site OUTDIR``: a static site that works from file:// and any static host."""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from browser import browser, canvas_drawn, open_page
from matchgraph import Catalog, ingest
from matchgraph.vocab import ID

PROBES = Path(__file__).parent / "data" / "probes"


class Links(HTMLParser):
    """Every href and src of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.targets.append(value)


def links_of(page: Path) -> list[str]:
    parser = Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.targets


@pytest.fixture(scope="module")
def site_catalog(example_catalog_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example catalog plus the probe entity (closed)."""
    gc.collect()
    path = tmp_path_factory.mktemp("site-catalog") / "catalog"
    shutil.copytree(example_catalog_dir, path)
    catalog = Catalog(path)
    ingest(catalog, [PROBES])
    catalog.close()
    del catalog
    gc.collect()  # a closed store stays locked until it is collected
    return path


@pytest.fixture(scope="module")
def site(site_catalog: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The site of the example catalog plus the probe entity, built with the CLI; and every entity id."""
    from click.testing import CliRunner

    from matchgraph.cli import cli

    path = site_catalog
    catalog = Catalog(path)
    slugs = sorted(str(e)[len(str(ID)):] for (e,) in catalog.rows("SELECT DISTINCT ?e WHERE { ?e a mg:Entity }")
                   if str(e).startswith(str(ID)))
    catalog.close()
    del catalog
    gc.collect()
    out = tmp_path_factory.mktemp("site") / "public"
    result = CliRunner().invoke(cli, ["site", str(out), "--catalog", str(path), "--format", "json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["entities"] == len(slugs) and report["compares"] > 0
    gc.collect()
    return out, slugs


def test_a_page_for_every_entity(site: tuple[Path, list[str]]) -> None:
    out, slugs = site
    pages = sorted(p.stem for p in (out / "entity").glob("*.html"))
    assert pages == slugs
    assert {"the-pile", "c4", "probe-entity"} <= set(pages)
    pile = (out / "entity" / "the-pile.html").read_text(encoding="utf-8")
    assert "Multi-domain corpus built from 22 sources" in pile  # capabilities with their claims
    assert "Unique:" in pile and "vs alternatives:" in pile


def test_every_link_resolves(site: tuple[Path, list[str]]) -> None:
    out, _ = site
    pages = sorted(out.rglob("*.html"))
    checked = 0
    for page in pages:
        for target in links_of(page):
            parts = urlsplit(target)
            if parts.scheme in ("http", "https"):
                assert page.parent.name == "entity", f"{page} links out to {target}"  # only entity websites
                continue
            if parts.scheme == "data":  # the icon, inlined
                assert target.startswith("data:image/svg+xml,"), f"{page}: {target[:60]}"
                continue
            assert not parts.scheme and not target.startswith("/"), f"{page}: {target} is not relative"
            if not parts.path:
                continue
            assert (page.parent / unquote(parts.path)).resolve().is_file(), f"{page}: broken link {target}"
            checked += 1
    assert checked > len(pages) * 3


def test_compare_pages_link_both_ways(site: tuple[Path, list[str]]) -> None:
    out, _ = site
    compares = sorted((out / "compare").glob("*.html"))
    assert compares
    for page in compares[:10]:
        a, b = page.stem.split("--")
        for slug in (a, b):
            entity_page = out / "entity" / f"{slug}.html"
            assert f"../compare/{page.name}" in links_of(entity_page)
        assert f"../entity/{a}.html" in links_of(page) and f"../entity/{b}.html" in links_of(page)


@pytest.mark.browser
def test_site_works_from_file_urls(site: tuple[Path, list[str]]) -> None:
    out, _ = site
    with browser() as b:
        with open_page(b, (out / "index.html").as_uri()) as (page, report):
            page.fill("#browse-q", "pile")
            page.press("#browse-q", "Enter")
            page.wait_for_url("**/index.html?q=pile")
            page.locator("#entity-rows a", has_text="The Pile").first.click()
            page.wait_for_url("**/entity/the-pile.html")
            page.wait_for_selector(".graph-canvas[data-stabilised=true]", timeout=30_000)
            page.wait_for_timeout(300)
            assert canvas_drawn(page, ".graph-canvas canvas") > 1000
            page.locator("a", has_text="compare").first.click()
            page.wait_for_url("**/compare/*.html")
            assert "The Pile" in page.inner_text("main")
            report.assert_clean()
            assert all(r.startswith("file://") for r in report.requests)
        with open_page(b, (out / "entity" / "probe-entity.html").as_uri()) as (page, report):
            page.wait_for_selector(".graph-canvas[data-stabilised=true]", timeout=30_000)
            assert page.inner_text("h1") == "<img src=x onerror=alert(1)>"
            assert "</script><script>alert(2)</script>" in page.inner_text(".description")
            page.wait_for_timeout(300)
            report.assert_clean()


def test_every_entity_has_linked_data_beside_its_page(site: tuple[Path, list[str]]) -> None:
    from rdflib import Graph, URIRef

    out, slugs = site
    for slug in ("the-pile", "probe-entity"):
        for suffix, fmt in ((".ttl", "turtle"), (".jsonld", "json-ld"), (".nt", "nt")):
            graph = Graph().parse(out / "entity" / f"{slug}{suffix}", format=fmt)
            assert (URIRef(str(ID) + slug), None, None) in graph
        assert f"../entity/{slug}.ttl" in links_of(out / "entity" / f"{slug}.html")
    assert len(list((out / "entity").glob("*.nt"))) == len(slugs)


STATES = ["", "?kind=dataset", "?sort=downloads", "?kind=model&sort=name", "?page=2", "?q=bert",
          "?status=stub&sort=likes", "?task=masked-language-modelling", "?licence=mit&q=a", "?sort=adoption&page=3"]


@pytest.mark.browser
def test_static_list_agrees_with_the_server(site: tuple[Path, list[str]], site_catalog: Path) -> None:
    """The same URL state gives the same rows and facet counts on the static site (browse.js) as on
    the server (SQL), and the static list filters, pages and searches from file://."""
    from browser import running_server
    from matchgraph.web.server import create_app

    out, _ = site

    def listing(page) -> dict:  # type: ignore[no-untyped-def]
        return page.evaluate("""() => ({
            rows: Array.from(document.querySelectorAll('#entity-rows .entity-row')).map(r => r.dataset.id),
            facts: Array.from(document.querySelectorAll('#entity-rows .row-facts')).map(r => r.textContent.trim()),
            summary: document.querySelector('#browse-summary strong').textContent,
            facets: Array.from(document.querySelectorAll('.facet')).map(f => [f.dataset.facet,
                Array.from(f.querySelectorAll('li a')).map(a => a.dataset.value + '=' +
                    a.parentNode.querySelector('.count').textContent)]),
            pager: Array.from(document.querySelectorAll('.pager > *')).map(e => e.tagName + ':' + e.textContent.trim())})""")

    catalog = Catalog(site_catalog)
    try:
        with running_server(create_app(catalog)) as base, browser() as b:
            for state in STATES:
                with open_page(b, base + "/" + state, viewport=(1280, 900)) as (page, report):
                    served = listing(page)
                    report.assert_clean()
                with open_page(b, (out / "index.html").as_uri() + state, viewport=(1280, 900)) as (page, report):
                    page.wait_for_selector("#browse[data-rendered=client]")
                    static = listing(page)
                    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
                    report.assert_clean()
                assert static == served, state
                assert served["rows"] or state in ("?q=bert",), state
            # clicking through the static list from file://: a facet, the next page, a search
            with open_page(b, (out / "index.html").as_uri(), viewport=(1280, 900)) as (page, report):
                page.click(".facet[data-facet=kind] a[data-value=dataset]")
                page.wait_for_url("**/index.html?kind=dataset")
                page.wait_for_selector("#browse[data-rendered=client]")
                badges = page.locator("#entity-rows .row-head .badge").all_inner_texts()
                assert badges and set(badges) == {"dataset"}
                page.click(".sorts a[data-sort=name]")
                page.wait_for_url("**/index.html?kind=dataset&sort=name")
                names = page.locator("#entity-rows .row-head a").all_inner_texts()
                assert [n.lower() for n in names] == sorted(n.lower() for n in names)
                report.assert_clean()
    finally:
        catalog.close()


def test_long_lists_on_an_entity_page_are_cut_and_counted(example_catalog: Catalog,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub of a large catalog is named by thousands: the page lists the first LIST_LIMIT and says
    how many more there are (the counts agree with the uncut lists)."""
    from matchgraph.web import site as site_module
    from matchgraph.web.server import ServerLinks

    full = site_module.entity_details(example_catalog, "the-pile")
    named, related = len(full["named_by"]), sum(len(r["entities"]) for r in full["relations"])
    assert named > 3 and related > 3 and full["named_by_left_out"] == full["relations_left_out"] == 0
    monkeypatch.setattr(site_module, "LIST_LIMIT", 3)
    cut = site_module.entity_details(example_catalog, "the-pile")
    assert len(cut["named_by"]) == 3 and cut["named_by_left_out"] == named - 3
    assert {r["id"] for r in cut["named_by"]} <= {r["id"] for r in full["named_by"]}
    listed = sum(len(r["entities"]) for r in cut["relations"])
    assert listed <= 6 and listed + cut["relations_left_out"] >= related
    ctx = site_module.PageContext(example_catalog, ServerLinks(), site_module.server_assets())
    page = site_module.render_entity(ctx, "the-pile")
    assert f"and {named - 3:,} more" in page and "more relations, not listed here" in page


# ---------------------------------------------------------------------- a site is put in place whole
def test_a_killed_run_leaves_the_previous_site_and_the_next_cleans_up(site: tuple[Path, list[str]],
                                                                       site_catalog: Path, tmp_path: Path) -> None:
    """kill -9 of a real `matchgraph site` while it writes: the folder holds the previous complete
    site (its marker, every page its browse data links to), never a part; the next run removes the
    abandoned folder and replaces the site whole (a page of an entity no longer there goes)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "public"
    shutil.copytree(site[0], out)
    (out / "entity" / "gone-entity.html").write_text("an entity removed since", encoding="utf-8")
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    process = subprocess.Popen([sys.executable, "-m", "matchgraph", "site", str(out), "--catalog", str(site_catalog),
                                "--compare", "0", "--no-progress"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    staging: list[Path] = []
    while time.monotonic() < deadline and process.poll() is None:
        staging = list(tmp_path.glob(".public.partial-*"))
        if staging and len(list(staging[0].rglob("*.html"))) >= 10:
            break
        time.sleep(0.02)
    assert process.poll() is None and staging, "the run ended before it could be killed mid-way"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before  # the previous site, as it was
    assert staging[0].exists()  # what the killed run wrote, beside it
    again = subprocess.run([sys.executable, "-m", "matchgraph", "site", str(out), "--catalog", str(site_catalog),
                            "--compare", "0", "--no-progress"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert [p.name for p in tmp_path.glob(".public.*")] == [], "an abandoned folder (or the lock file) was left"
    assert not (out / "entity" / "gone-entity.html").exists() and (out / ".matchgraph-site").exists()
    assert len(list((out / "entity").glob("*.html"))) == len(site[1])


def test_what_else_the_folder_holds_is_kept(site_catalog: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """A site folder's .git and CNAME (GitHub Pages) survive the swap; the site's own entries are
    replaced; a previous folder caught between two renames is put back by the next run, and a
    neighbour's leftover (pub.x beside pub) is not touched; a folder of someone else's index.html
    is refused, as are a second run at once and the current folder."""
    import fcntl
    import os

    from click.testing import CliRunner

    from matchgraph.cli import cli

    def site(target: Path) -> Any:
        return CliRunner().invoke(cli, ["site", str(target), "--catalog", str(site_catalog), "--compare", "0"])

    out = tmp_path / "pub"
    assert site(out).exit_code == 0
    (out / ".git").mkdir()
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main", encoding="utf-8")
    (out / "CNAME").write_text("docs.example.org", encoding="utf-8")
    (out / "entity" / "gone-entity.html").write_text("an entity removed since", encoding="utf-8")
    result = site(out)
    assert result.exit_code == 0, result.output
    assert (out / ".git" / "HEAD").read_text(encoding="utf-8") == "ref: refs/heads/main"
    assert (out / "CNAME").read_text(encoding="utf-8") == "docs.example.org"
    assert not (out / "entity" / "gone-entity.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pub"]  # the lock file beside it too is gone
    # killed between two renames (a dead process's PID): pub is only .pub.old-PID; beside it, the
    # leftover of another site, pub.x, which this run must not take for its own
    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    os.rename(out, tmp_path / f".pub.old-{gone}")
    (tmp_path / f".pub.x.old-{gone}").mkdir()
    (tmp_path / f".pub.x.old-{gone}" / "CNAME").write_text("the other site", encoding="utf-8")
    result = site(out)
    assert result.exit_code == 0, result.output
    assert (out / "CNAME").read_text(encoding="utf-8") == "docs.example.org" and (out / ".git" / "HEAD").exists()
    assert (tmp_path / f".pub.x.old-{gone}" / "CNAME").read_text(encoding="utf-8") == "the other site"
    # someone else's site-looking folder
    (tmp_path / "mine" / "static").mkdir(parents=True)
    (tmp_path / "mine" / "index.html").write_text("my own page", encoding="utf-8")
    refused = site(tmp_path / "mine")
    assert refused.exit_code == 1 and "index.html, static" in refused.output and "Hint:" in refused.output
    assert (tmp_path / "mine" / "index.html").read_text(encoding="utf-8") == "my own page"
    # a second run while one writes
    with open(tmp_path / ".pub.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = site(out)
        assert (tmp_path / ".pub.lock").exists(), "the lock another run holds was removed"
    assert busy.exit_code == 1 and "another matchgraph site run" in busy.output
    monkeypatch.chdir(out)
    here = site(Path("."))
    assert here.exit_code == 1 and "current folder" in here.output and f"from {tmp_path}" in here.output
