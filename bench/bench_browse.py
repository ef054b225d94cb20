"""Benchmark: the catalog list, the graph view and the home page at catalog scale.

1. On a catalog (default: the Quickstart catalog, built in a temporary folder from
   ``examples/catalog``, ``examples/croissant`` and ``examples/mteb`` unless ``--catalog`` names
   one): the time to build the browse index, the size of the served home page and of a few other
   states, the size of ``matchgraph export html --center the-pile`` and of ``/graph``, and how
   many entities each graph view draws.
2. The list's page queries (:meth:`BrowseIndex.query`: filter, facet counts, sort, one page) on
   synthetic indexes of 5,000 (the anchor) and 100,000 entities, median of ``--runs`` over eight
   URL states, and the ratio 100k / 5k (the masks and counts grow with the catalog; what matters
   is that a page at 100k stays in milliseconds).
3. With ``--browser``: the first paint of the exported 150-entity view (the Quickstart's
   ``export html --center the-pile``) in headless Chromium: the time from navigation start to
   vis-network's first ``afterDrawing`` (so parsing the 0.8 MB page and vis-network counts), median of 5.

Run: ``python bench/bench_browse.py`` (add ``--browser`` for the first paint); prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATES = [{}, {"kind": "dataset"}, {"sort": "downloads"}, {"kind": "model", "sort": "likes", "page": "7"},
          {"task": "task-3", "licence": "mit"}, {"q": "bert"}, {"status": "stub", "sort": "name"},
          {"q": "a", "kind": "model", "sort": "adoption", "page": "3"}]


def quickstart(folder: Path) -> Path:
    path = folder / "catalog"
    for args in (["ingest", "examples/catalog"], ["import", "croissant", "examples/croissant"],
                 ["import", "mteb", "examples/mteb"]):
        subprocess.run([sys.executable, "-m", "matchgraph", *args, "--catalog", str(path)], cwd=ROOT, check=True,
                       capture_output=True)
    return path


def synthetic(n: int, seed: int = 7):  # type: ignore[no-untyped-def]
    from matchgraph.web.browse import BrowseIndex

    rng = random.Random(seed)
    kinds = ["model"] * 45 + ["dataset"] * 25 + ["benchmark"] * 10 + ["tool"] * 8 + ["library"] * 5 + [None] * 7
    licences = ["mit", "apache-2.0", "cc-by-4.0", "cc-by-sa-4.0", "other", "llama2", "gpl-3.0"]
    words = ["bert", "llama", "mistral", "web", "code", "vision", "speech", "math", "legal", "bio", "tiny", "base"]
    entities, facets, names = [], [], []
    for i in range(n):
        kind = rng.choice(kinds)
        name = f"{rng.choice(words)}-{rng.choice(words)}-{i}"
        downloads = int(10 ** rng.uniform(0, 7)) if rng.random() < 0.6 else None
        entities.append((i, name, name.title(), kind, kind is None, rng.uniform(0, 100), rng.uniform(0, 100),
                         downloads, int(downloads ** 0.5) if downloads else None, rng.choice(licences),
                         "A synthetic entity " * 5))
        for t in rng.sample(range(60), 3):
            facets.append((i, "task", f"task-{t}"))
        facets.append((i, "licence", rng.choice(licences)))
        facets.append((i, "library", f"lib-{rng.randrange(40)}"))
        names.append((i, f"alias {name}"))
    labels = {("task", f"task-{t}"): f"Task {t}" for t in range(60)}
    return BrowseIndex.from_rows(entities, facets, labels, names, f"synthetic-{n}")


def page_times(index, runs: int) -> float:  # type: ignore[no-untyped-def]
    from matchgraph.web.browse import BrowseState

    states = [BrowseState.from_params(s) for s in STATES]
    times = []
    for _ in range(runs):
        for state in states:
            started = time.perf_counter()
            index.query(state)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def first_paint(html: Path) -> float:
    sys.path.insert(0, str(ROOT / "tests"))
    from browser import browser, open_page

    paints = []
    with browser() as b:
        for _ in range(5):
            with open_page(b, html.as_uri(), viewport=(1280, 900)) as (page, _report):
                page.wait_for_selector(".graph-canvas[data-painted-at]", timeout=60_000)
                paints.append(float(page.get_attribute(".graph-canvas", "data-painted-at")) / 1000)
    return statistics.median(paints)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", help="a catalog to measure (default: build the Quickstart catalog)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--browser", action="store_true", help="also time the first paint in Chromium")
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from matchgraph import Catalog
    from matchgraph.export.html import export_html
    from matchgraph.web.server import create_app
    from matchgraph.web.browse import BrowseIndex

    out: dict[str, object] = {}
    folder = Path(tempfile.mkdtemp(prefix="bench-browse-"))
    try:
        path = Path(args.catalog) if args.catalog else quickstart(folder)
        catalog = Catalog(path)
        BrowseIndex.build(catalog)  # scores and projection computed and cached first
        started = time.perf_counter()
        index = BrowseIndex.build(catalog)
        out["entities"] = index.query(index_state()).catalog_total
        out["build_index_s"] = round(time.perf_counter() - started, 3)
        client = TestClient(create_app(catalog))
        client.get("/")
        out["home_page_bytes"] = len(client.get("/").content)
        out["other_states_max_bytes"] = max(len(client.get("/", params=s).content) for s in STATES)
        graph = client.get("/graph").text
        out["graph_nodes"] = len(json.loads(re.search(r'id="graph-data">(.*?)</script>', graph, re.S).group(1))["nodes"])
        html = export_html(catalog, center="the-pile", depth=2)
        out["export_html_nodes"] = len(json.loads(re.search(r'id="graph-data">(.*?)</script>', html, re.S).group(1))["nodes"])
        out["export_html_bytes"] = len(html.encode())
        page = folder / "pile.html"
        page.write_text(html, encoding="utf-8")
        out["catalog_page_query_ms"] = round(page_times(index, args.runs) * 1000, 2)
        catalog.close()
        small, big = synthetic(5_000), synthetic(100_000)
        out["synthetic_5k_page_query_ms"] = round(page_times(small, args.runs) * 1000, 2)
        out["synthetic_100k_page_query_ms"] = round(page_times(big, args.runs) * 1000, 2)
        out["ratio_100k_over_5k"] = round(out["synthetic_100k_page_query_ms"] / out["synthetic_5k_page_query_ms"], 2)  # type: ignore[operator]
        if args.browser:
            out["first_paint_150_nodes_s_since_navigation"] = round(first_paint(page), 3)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(out, indent=2))


def index_state():  # type: ignore[no-untyped-def]
    from matchgraph.web.browse import BrowseState

    return BrowseState()


if __name__ == "__main__":
    main()
