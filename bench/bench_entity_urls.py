"""Entity URLs of a running ``matchgraph serve``: RDF by suffix and unknown entities, against the
same RDF by content negotiation, timed in one run.

Run: ``matchgraph serve --port 8950 &`` in the catalog's folder, then
``python bench/bench_entity_urls.py http://127.0.0.1:8950 [--repeat 5]``. Each URL is asked once
(the first request) and then ``--repeat`` times (the median); the ratio is against the median of
``/entity/gzip`` with ``Accept: text/turtle``. Figures: BENCHMARKS.md, "Browsing at catalog scale".
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from _tables import table_head, table_row

#: (label, path, Accept header or None); the first is the reference the others are divided by.
URLS: list[tuple[str, str, str | None]] = [
    ("/entity/gzip, Accept: text/turtle", "/entity/gzip", "text/turtle"),
    ("/entity/gzip.jsonld", "/entity/gzip.jsonld", None),
    ("/entity/fashion-mnist.nt", "/entity/fashion-mnist.nt", None),
    ("/entity/nope (404)", "/entity/nope", None),
    ("/entity/nope.ttl (404)", "/entity/nope.ttl", None),
]


def timed(client: httpx.Client, path: str, accept: str | None) -> tuple[float, int, int]:
    """Seconds, status and body size of one GET."""
    headers = {"Accept": accept} if accept else {}
    started = time.perf_counter()
    response = client.get(path, headers=headers)
    return time.perf_counter() - started, response.status_code, len(response.content)


def main() -> None:
    """Print one Markdown table row per URL: status, bytes, first, median, ratio to the reference."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the server's URL, e.g. http://127.0.0.1:8950")
    parser.add_argument("--repeat", type=int, default=5, help="requests per URL after the first")
    args = parser.parse_args()
    with httpx.Client(base_url=args.base, timeout=120) as client:
        client.get("/")  # the server's own first page (match graph, browse index) is not what is timed
        rows = []
        for label, path, accept in URLS:
            first, status, size = timed(client, path, accept)
            median = statistics.median(timed(client, path, accept)[0] for _ in range(args.repeat))
            rows.append((label, status, size, first, median))
    reference = rows[0][4]
    print(table_head(["URL", "status", "bytes", "first s", "median s", "median / negotiated"]))
    for label, status, size, first, median in rows:
        print(table_row([f"`{label}`", status, f"{size:,}", f"{first:.3f}", f"{median:.3f}",
                         f"{median / reference:.1f}"]))


if __name__ == "__main__":
    main()
