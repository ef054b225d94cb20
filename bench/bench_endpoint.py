"""The SPARQL endpoint under load, and RDF dumps against pyoxigraph's ``Store.dump``.

Usage (on the Quickstart catalog)::

    matchgraph --catalog /tmp/qs ingest examples/catalog
    matchgraph --catalog /tmp/qs import croissant examples/croissant
    matchgraph --catalog /tmp/qs import mteb examples/mteb
    python bench/bench_endpoint.py --catalog /tmp/qs            # both
    python bench/bench_endpoint.py --catalog /tmp/qs --load     # only the load test
    python bench/bench_endpoint.py --catalog /tmp/qs --export   # only the dumps

Load: a fresh ``matchgraph serve`` process over a copy of the catalog gets ``--requests``
requests (SPARQL queries of every form through the protocol, and HTML pages) with
``--concurrency`` in flight; it reports errors (any status but 200) and the p50 / p99 latency.
Each page is requested once first, in turn, so the pages' derived data (projection, neighbour
index) is built before the load (``--cold`` skips this).

Export: each dump format written by :func:`matchgraph.export.rdf.dump` to a file, against the
anchor ``Store.dump`` of the same store to the same syntax (for the triple formats, which hold
the union of the named graphs once, the anchor is the dataset form of the syntax: TriG for
Turtle, N-Quads for N-Triples, JSON-LD with graphs for JSON-LD). Best of ``--repeat`` runs each,
measured in the same process, so the ratio holds on a loaded machine.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERIES = [
    "SELECT ?name WHERE { ?e a mg:Dataset ; schema:name ?name } ORDER BY ?name LIMIT 20",
    "PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> SELECT ?e WHERE { ?e rdf:type mg:Model } LIMIT 50",
    "ASK { mgid:the-pile a mg:Dataset }",
    "CONSTRUCT { mgid:the-pile ?p ?o } WHERE { mgid:the-pile ?p ?o }",
    "DESCRIBE mgid:distilroberta-base",
    "SELECT (COUNT(*) AS ?n) WHERE { ?e a mg:Entity }",
]
PAGES = ["/", "/entity/the-pile", "/query", "/match?q=small+fast+masked+language+model"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _load(url: str, requests: int, concurrency: int, sparql_only: bool = False) -> dict[str, object]:
    import httpx

    targets = []
    for i in range(requests):
        if i % 3 == 2 and not sparql_only:
            targets.append(("GET", url + PAGES[(i // 3) % len(PAGES)], None))
        else:
            targets.append(("POST", url + "/sparql", {"query": QUERIES[i % len(QUERIES)]}))
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {"sparql": [], "page": []}
    errors: list[str] = []
    slots = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=concurrency)) as client:
        async def one(method: str, target: str, data: dict[str, str] | None) -> None:
            async with slots:
                started = time.perf_counter()
                try:
                    response = await client.request(
                        method, target, data=data,
                        headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"})
                except httpx.TransportError as exc:
                    errors.append(f"{type(exc).__name__} {target}")
                    return
                finally:
                    latencies.append(time.perf_counter() - started)
                    by_kind["page" if method == "GET" else "sparql"].append(latencies[-1])
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {target}: {response.text[:120]}")

        started = time.perf_counter()
        await asyncio.gather(*(one(*t) for t in targets))
        wall = time.perf_counter() - started
    latencies.sort()

    def pct(values: list[float], p: float) -> float:
        values = sorted(values)
        return round(1000 * values[min(len(values) - 1, int(p * len(values)))], 1)

    kinds = {k: {"n": len(v), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99)} for k, v in by_kind.items() if v}
    return {"by_kind": kinds, "requests": requests, "concurrency": concurrency, "errors": len(errors), "error_samples": errors[:5],
            "p50_ms": round(1000 * statistics.median(latencies), 1),
            "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1),
            "wall_s": round(wall, 2), "requests_per_s": round(requests / wall, 1)}


def load_test(catalog: Path, requests: int, concurrency: int, workers: int, warm: bool,
              sparql_only: bool = False) -> dict[str, object]:
    """Serve a copy of the catalog from a fresh process and measure it."""
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "catalog"
        shutil.copytree(catalog, copy, ignore=shutil.ignore_patterns("cache"))
        port = _free_port()
        log = (Path(tmp) / "serve.log").open("w+b")
        process = subprocess.Popen([sys.executable, "-m", "matchgraph", "--catalog", str(copy), "serve",
                                    "--port", str(port), "--workers", str(workers)],
                                   stdout=subprocess.DEVNULL, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(url + "/sparql", timeout=2)
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise SystemExit("matchgraph serve did not start: " + log.read().decode()[-2000:])
                    time.sleep(0.2)
            if warm:  # one of each, in turn: the pages' derived data is built once, not by 20 at a time
                for page in PAGES:
                    httpx.get(url + page, timeout=300)
            result = asyncio.run(_load(url, requests, concurrency, sparql_only))
            result["workers"] = workers
            result["warmed_pages_first"] = warm
            log.seek(0)
            problems = [line for line in log.read().decode(errors="replace").splitlines()
                        if "Traceback" in line or "ERROR" in line]
            result["log_problems"] = problems[:10]
            if os.environ.get("BENCH_LOG"):
                log.seek(0)
                Path(os.environ["BENCH_LOG"]).write_bytes(log.read())
            return result
        finally:
            process.terminate()
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def export_bench(catalog: Path, repeat: int) -> dict[str, object]:
    """Each dump format against Store.dump of the same store to the same syntax."""
    import pyoxigraph as ox

    from matchgraph import Catalog
    from matchgraph.export.rdf import DUMP_FORMATS, dump
    from matchgraph.vocab import PREFIXES

    anchors = {"ttl": "TRIG", "nt": "N_QUADS", "nq": "N_QUADS", "trig": "TRIG", "jsonld": "JSON_LD"}
    prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "catalog"
        shutil.copytree(catalog, copy, ignore=shutil.ignore_patterns("cache"))
        cat = Catalog(copy)
        store = cat.oxigraph
        out["quads"] = len(store)
        target = Path(tmp) / "dump"
        for fmt in DUMP_FORMATS:
            ours, anchor = [], []
            for _ in range(repeat):
                started = time.perf_counter()
                with target.open("wb") as fh:
                    dump(cat, fmt, fh)
                ours.append(time.perf_counter() - started)
                size = target.stat().st_size
                started = time.perf_counter()
                store.dump(str(target), getattr(ox.RdfFormat, anchors[fmt]), prefixes=prefixes)
                anchor.append(time.perf_counter() - started)
            out[fmt] = {"export_s": round(min(ours), 2), "store_dump_s": round(min(anchor), 2),
                        "anchor": anchors[fmt], "ratio": round(min(ours) / min(anchor), 2),
                        "bytes": size}
        cat.close()
        del cat, store
        gc.collect()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, required=True, help="an ingested catalog directory (not served)")
    parser.add_argument("--load", action="store_true", help="only the load test")
    parser.add_argument("--export", action="store_true", help="only the dumps")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sparql-only", action="store_true", help="only SPARQL requests, no pages")
    parser.add_argument("--cold", action="store_true",
                        help="no warm-up request per page before the load (pages then build their data under load)")
    args = parser.parse_args()
    both = not args.load and not args.export
    result: dict[str, object] = {"machine": f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"}
    if args.export or both:
        result["export"] = export_bench(args.catalog, args.repeat)
    if args.load or both:
        result["load"] = load_test(args.catalog, args.requests, args.concurrency, args.workers, not args.cold,
                                   args.sparql_only)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
