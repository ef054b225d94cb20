"""First pages of a served catalog: the time of the first request to each page in a new process.

Run: ``python bench/bench_pages.py CATALOG ENTITY`` (the catalog's derived state built first, so
the figure is the page, not the build). Figures: BENCHMARKS.md, "First pages of a version at 100k".
"""
import sys, time
from matchgraph import Catalog
from matchgraph.web.server import create_app, ServerConfig
from starlette.testclient import TestClient
cat = Catalog(sys.argv[1]); client = TestClient(create_app(cat, ServerConfig(build_wait=600)))
for path in ["/entity/" + sys.argv[2], "/", "/graph?center=" + sys.argv[2]]:
    t = time.perf_counter(); r = client.get(path); print(path, r.status_code, round(time.perf_counter() - t, 2))
