"""Benchmark: the catalog on independent SPARQL engines against the embedded one.

For one size (default 10,000 entities from ``matchgraph synth --files ttl``) it measures, each
command as its own process the way a user runs it, on three stores:

- ``embedded``: an on-disk catalog (pyoxigraph in the process);
- ``oxigraph``: Oxigraph server (``oxigraph serve``), loaded through matchgraph's remote write
  (``MATCHGRAPH_STORE_URL``: staged with Graph Store Protocol POSTs, published by one update);
- ``virtuoso``: Virtuoso 7 (Debian ``virtuoso-opensource``), loaded the same way (its
  ``/sparql-graph-crud`` Graph Store endpoint).

and for each: ingest (``--no-validate``; wall, peak RSS of the matchgraph process), ``scores
--recompute`` (projection and scores computed from paged SELECTs, scores written back), and
``neighbours`` of a typical and of the most popular model (median of ``--runs`` cold CLI
processes, after ``scores`` so the projection is cached). It also times Oxigraph's own bulk loader
(``oxigraph load`` of the embedded catalog's TriG dump into a fresh server directory), the way to
load a large catalog into a server in the first place. The engines run on this machine, so
"remote" here measures the protocol and paging, not a network.

Ratios (remote / embedded) come from this one run. The figures, command and machine go into the
``## Remote engines`` section of ``BENCHMARKS.md``; the raw figures are printed as JSON.

Run: ``python bench/bench_remote.py`` (``--entities 1000 --no-write`` for a quick check;
``--engines oxigraph`` to leave Virtuoso out).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from bench_scale import machine, matchgraph, probes, run  # noqa: E402
from engines import oxigraph_server, virtuoso_server  # noqa: E402

BENCHMARKS = ROOT / "BENCHMARKS.md"
SECTION = "## Remote engines"
SECTION_BULK = "## Remote engines, bulk loaded"


def _env(catalog: str, update: str = "", store: str = "", cache: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHGRAPH_")}
    env.update({"MATCHGRAPH_CATALOG": catalog, "MATCHGRAPH_UPDATE_URL": update, "MATCHGRAPH_STORE_URL": store,
                "XDG_CACHE_HOME": cache, "PYTHONPATH": str(ROOT)})
    return env


MATCH_TEXT = "small fast multilingual text classification model"


def measure(name: str, env: dict[str, str], source: Path | None, slugs: dict[str, str], runs: int,
            match: bool = False) -> dict[str, Any]:
    """Ingest (unless the store is already loaded: ``source`` None), scores, cold neighbours and
    (``match``) cold ``match --no-record`` on one store: the first ``match`` builds the text index
    from the store, the next ones read it from the client's cache."""
    out: dict[str, Any] = {"store": name}
    if source is not None:
        r = run(matchgraph("ingest", source, "--no-validate", "--no-progress", "--format", "json"), env=env)
        report = json.loads(r.out)
        out["ingest"] = {"seconds": round(r.wall, 1), "peak_rss_mib": round(r.rss_mib),
                         "triples": report["triples_added"]}
    r = run(matchgraph("scores", "--recompute", "--limit", "5", "--format", "json"), env=env)
    out["scores"] = {"seconds": round(r.wall, 1), "peak_rss_mib": round(r.rss_mib)}
    r = run(matchgraph("scores", "--limit", "5", "--format", "json"), env=env)
    out["scores_again"] = {"seconds": round(r.wall, 2)}
    for role, slug in slugs.items():
        walls = [run(matchgraph("neighbours", slug, "--format", "json"), env=env).wall for _ in range(runs)]
        out[f"neighbours_{role}"] = {"slug": slug, "median_ms": round(statistics.median(walls) * 1000)}
    if match:
        first = run(matchgraph("match", MATCH_TEXT, "--no-record", "--format", "json"), env=env)
        walls = [run(matchgraph("match", MATCH_TEXT, "--no-record", "--format", "json"), env=env).wall
                 for _ in range(runs)]
        out["match_first"] = {"seconds": round(first.wall, 1), "peak_rss_mib": round(first.rss_mib)}
        out["match"] = {"median_ms": round(statistics.median(walls) * 1000)}
    return out


def server_pid(location: Path) -> int | None:
    """The process id of the ``oxigraph serve`` running over ``location`` (found by its command line)."""
    for proc in Path("/proc").iterdir():
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(args) > 2 and args[1] == b"serve" and str(location).encode() in args:
            return int(proc.name)
    return None


def peak_rss_mib(pid: int | None) -> int | None:
    """A running process's peak resident memory so far (``VmHWM``), MiB."""
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return None


def disk_mib(path: Path) -> int:
    """Bytes under ``path`` (du), MiB."""
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20)


DUMP = """import sys, pyoxigraph as ox
from matchgraph import Catalog
with Catalog(sys.argv[1]) as cat:
    cat.oxigraph.dump(output=sys.argv[2], format=ox.RdfFormat.N_QUADS)
"""


def oxigraph_bulk_load(embedded: Path, work: Path) -> dict[str, Any]:
    """Dump the embedded catalog as N-Quads (every graph, the bookkeeping one too, so the server
    has the same catalog version) and time ``oxigraph load`` of it into a new directory."""
    dump = work / "catalog.nq"
    d = run([sys.executable, "-c", DUMP, str(embedded), str(dump)],
            env={**os.environ, "PYTHONPATH": str(ROOT)})
    binary = str(Path(sys.executable).parent / "oxigraph")
    r = run([binary, "load", "--location", str(work / "bulk"), "--file", str(dump)])
    return {"seconds": round(r.wall, 1), "peak_rss_mib": round(r.rss_mib), "dump_mib": round(dump.stat().st_size / 2**20),
            "dump_seconds": round(d.wall, 1), "dump_peak_rss_mib": round(d.rss_mib), "store_mib": disk_mib(work / "bulk")}


def section(results: list[dict[str, Any]], bulk: dict[str, Any] | None, n: int, info: dict[str, Any],
            command: str) -> str:
    base = results[0]
    lines = [SECTION, "",
             f"The catalog on SPARQL engines running on this machine, against the embedded store: {n:,} synthetic "
             "entities (`matchgraph synth --files ttl`), every command its own process. docs/scale.md says "
             "what each number means for choosing an engine.", "",
             f"Command: `{command}` ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)", "",
             f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, Python {info['python']}; "
             f"pyoxigraph and oxigraph server {info['pyoxigraph']}. Load average at the start: {info['load']} "
             "(a machine shared by several engineers: wall times are noisy, ratios come from this one run).", "",
             "| Store | Ingest (s) | Ingest peak RSS (MiB) | `scores --recompute` (s) | ratio | `scores` again (s) "
             "| `neighbours` typical (ms) | ratio | `neighbours` hub (ms) | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        ingest = r.get("ingest")
        lines.append(
            f"| {r['store']} | {ingest['seconds'] if ingest else '-'} | "
            f"{format(ingest['peak_rss_mib'], ',') if ingest else '-'} | {r['scores']['seconds']} | "
            f"{r['scores']['seconds'] / base['scores']['seconds']:.2f} | {r['scores_again']['seconds']} | "
            f"{r['neighbours_typical']['median_ms']} | "
            f"{r['neighbours_typical']['median_ms'] / base['neighbours_typical']['median_ms']:.2f} | "
            f"{r['neighbours_hub']['median_ms']} | {r['neighbours_hub']['median_ms'] / base['neighbours_hub']['median_ms']:.2f} |")
    lines.append("")
    lines.append(f"Triples ingested: {base['ingest']['triples']:,}. Neighbours: `{base['neighbours_typical']['slug']}` "
                 f"(typical) and `{base['neighbours_hub']['slug']}` (hub), median of cold CLI processes.")
    if bulk:
        lines.append("")
        lines.append(f"Oxigraph's bulk loader: `oxigraph load --location DIR --file catalog.nq` of the embedded "
                     f"catalog's N-Quads dump ({bulk['dump_mib']} MiB, written by pyoxigraph's `Store.dump` in "
                     f"{bulk['dump_seconds']} s) took {bulk['seconds']} s (peak RSS {bulk['peak_rss_mib']:,} MiB).")
    return "\n".join(lines) + "\n"


def write_section(text: str, path: Path = BENCHMARKS, section_name: str = SECTION) -> None:
    """Replace (or append) the section in BENCHMARKS.md, leaving the rest alone."""
    current = path.read_text(encoding="utf-8")
    start = current.find(section_name + "\n")
    if start < 0:
        path.write_text(current.rstrip("\n") + "\n\n" + text, encoding="utf-8")
        return
    end = current.find("\n## ", start + len(section_name))
    tail = current[end + 1:] if end >= 0 else ""
    path.write_text(current[:start] + text + ("\n" + tail if tail else ""), encoding="utf-8")


def raw_load(opts: argparse.Namespace, work: Path) -> dict[str, Any]:
    """The path for a catalog too large to build embedded first (``--raw-load``).

    ``matchgraph synth`` (unless ``--source``); a small embedded catalog ingested from the first
    Turtle file (it gives the vocabulary graph, the bookkeeping graph with a version, and that
    file's source graph); its N-Quads dump; ``oxigraph load`` of the dump and of the other Turtle
    files (``--files``: only the first that many) into a new store; then, with ``--scores``,
    ``scores --recompute`` through the remote backend on ``oxigraph serve`` over it. Every step:
    wall time, peak RSS (the process's own), disk.
    """
    out: dict[str, Any] = {"entities": opts.entities}
    source = opts.source
    if source is None:
        source = work / "synth"
        r = run(matchgraph("synth", "-n", str(opts.entities), "-o", source, "--files", "ttl",
                           "--seed", str(opts.seed), "--no-progress"))
        out["synth"] = {"seconds": round(r.wall, 1), "peak_rss_mib": round(r.rss_mib), "disk_mib": disk_mib(source)}
        print(json.dumps(out), flush=True)
    files = sorted(source.rglob("*.ttl"))[:opts.files or None]
    out["files"] = len(files)
    out["input_mib"] = round(sum(f.stat().st_size for f in files) / 2**20)
    tiny = work / "first-file"
    r = run(matchgraph("--catalog", tiny, "ingest", files[0], "--no-validate", "--no-progress"),
            env={**os.environ, "PYTHONPATH": str(ROOT)})
    dump = work / "first-file.nq"
    run([sys.executable, "-c", DUMP, str(tiny), str(dump)], env={**os.environ, "PYTHONPATH": str(ROOT)})
    binary = str(Path(sys.executable).parent / "oxigraph")
    store = work / "raw"
    r = run([binary, "load", "--location", str(store), "--file", str(dump), *(str(f) for f in files[1:])])
    out["oxigraph_load"] = {"seconds": round(r.wall, 1), "peak_rss_mib": round(r.rss_mib), "store_mib": disk_mib(store)}
    print(json.dumps(out), flush=True)
    if opts.scores:
        with oxigraph_server(location=store) as engine:
            pid = server_pid(store)
            env = _env(engine.query_url, engine.update_url, engine.store_url or "", str(work / "cache-raw"))
            r = run(matchgraph("scores", "--recompute", "--limit", "5", "--format", "json"), env=env)
            out["scores"] = {"seconds": round(r.wall, 1), "peak_rss_mib": round(r.rss_mib),
                             "server_peak_rss_mib": peak_rss_mib(pid)}
            print(json.dumps(out), flush=True)
    return out


def bulk_section(results: list[dict[str, Any]], bulk: dict[str, Any] | None, n: int, info: dict[str, Any],
                 command: str) -> str:
    """The ``--bulk-only`` figures: the embedded catalog against Oxigraph server filled by its bulk loader."""
    base = results[0]

    def ratio(r: dict[str, Any], key: str, field: str) -> str:
        return f"{r[key][field]} ({r[key][field] / base[key][field]:.2f}x)" if key in r else "-"

    lines = [SECTION_BULK, "",
             f"{n:,} synthetic entities: the embedded catalog against Oxigraph server filled by its own bulk "
             "loader from a dump of that catalog, every command its own process (docs/scale.md).", "",
             f"Command: `{command}` ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)", "",
             f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, Python {info['python']}; "
             f"pyoxigraph and oxigraph server {info['pyoxigraph']}. Load average at the start: {info['load']}.", "",
             (f"Load: N-Quads dump of the embedded catalog {bulk['dump_seconds']} s (peak RSS "
              f"{bulk['dump_peak_rss_mib']:,} MiB, {bulk['dump_mib']:,} MiB on disk); `oxigraph load` {bulk['seconds']} s "
              f"(peak RSS {bulk['peak_rss_mib']:,} MiB, store {bulk['store_mib']:,} MiB on disk)." if bulk else
              "Load: an Oxigraph store filled beforehand (`--oxigraph-store`), see the notes."), "",
             "| Store | `scores --recompute` (s) | client peak RSS (MiB) | server peak RSS (MiB) | `scores` again (s) "
             "| `neighbours` typical (ms) | `neighbours` hub (ms) | first `match` (s) | `match` (ms) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['store']} | {ratio(r, 'scores', 'seconds')} | {r['scores']['peak_rss_mib']:,} | "
                     f"{r.get('server_peak_rss_mib') or '-'} | {r['scores_again']['seconds']} | "
                     f"{ratio(r, 'neighbours_typical', 'median_ms')} | {ratio(r, 'neighbours_hub', 'median_ms')} | "
                     f"{ratio(r, 'match_first', 'seconds')} | {ratio(r, 'match', 'median_ms')} |")
    lines.append("")
    lines.append(f"Ratios: remote / embedded in this run. Neighbours: `{base['neighbours_typical']['slug']}` (typical) "
                 f"and `{base['neighbours_hub']['slug']}` (hub); `match \"{MATCH_TEXT}\" --no-record`; medians of "
                 "cold CLI processes.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--engines", default="oxigraph,virtuoso")
    parser.add_argument("--runs", type=int, default=3, help="cold neighbours processes per entity")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="do not edit BENCHMARKS.md")
    parser.add_argument("--no-bulk", action="store_true", help="skip the oxigraph load measurement")
    parser.add_argument("--oxigraph-bulk", action="store_true",
                        help="fill Oxigraph server with its bulk loader (a dump of the embedded catalog) "
                             "instead of matchgraph ingest, then measure scores and neighbours on it")
    parser.add_argument("--bulk-only", action="store_true",
                        help="no matchgraph ingest into the engines: the embedded catalog (--catalog, or ingested "
                             "here) against Oxigraph server filled by `oxigraph load` of its dump; also times "
                             "`match`; writes its own section of BENCHMARKS.md")
    parser.add_argument("--no-match", action="store_true", help="with --bulk-only: leave `match` out (its first "
                                                                  "run builds the text index: 18 min at 100k here)")
    parser.add_argument("--raw-load", action="store_true",
                        help="the path past what the embedded store builds here: synth, then `oxigraph load` of the "
                             "Turtle files (plus a small catalog of the first file for the vocabulary and version); "
                             "prints JSON only")
    parser.add_argument("--files", type=int, help="with --raw-load: load only the first N Turtle files")
    parser.add_argument("--scores", action="store_true", help="with --raw-load: then `scores --recompute` "
                                                              "through the remote backend")
    parser.add_argument("--source", type=Path, help="an existing `matchgraph synth --files ttl` folder of "
                                                    "--entities entities (default: generate one)")
    parser.add_argument("--catalog", type=Path, help="an existing embedded catalog ingested from --source "
                                                     "(copied, never written)")
    parser.add_argument("--oxigraph-store", type=Path,
                        help="with --bulk-only: an Oxigraph store already filled by `oxigraph load` of --catalog's "
                             "N-Quads dump (copied, never written); skips the dump and load")
    parser.add_argument("--work", type=Path, help="work directory, kept afterwards (default: a temporary one)")
    opts = parser.parse_args(argv)
    command = "python bench/bench_remote.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    info = machine()
    results: list[dict[str, Any]] = []
    if opts.raw_load:
        work = Path(tempfile.mkdtemp(prefix="matchgraph-bench-raw-", dir=opts.work))
        print(json.dumps({"work": str(work), **raw_load(opts, work)}), flush=True)
        return 0
    with tempfile.TemporaryDirectory(prefix="matchgraph-bench-remote-", dir=opts.work) as tmp:
        work = Path(tmp)
        source = opts.source or work / "synth"
        if opts.source is None:
            subprocess.run(matchgraph("synth", "-n", str(opts.entities), "-o", source, "--files", "ttl",
                                      "--seed", str(opts.seed), "--no-progress"), check=True, capture_output=True)
        slugs = probes(opts.entities, opts.seed)
        embedded = work / "embedded"
        if opts.catalog is not None:
            subprocess.run(["cp", "-a", str(opts.catalog), str(embedded)], check=True)
        results.append(measure("embedded", _env(str(embedded), cache=str(work / "cache")),
                               None if opts.catalog else source, slugs, opts.runs,
                               match=opts.bulk_only and not opts.no_match))
        print(json.dumps(results[-1]), flush=True)
        if opts.bulk_only:
            if opts.oxigraph_store is not None:
                subprocess.run(["cp", "-a", str(opts.oxigraph_store), str(work / "bulk")], check=True)
                bulk = None
            else:
                bulk = oxigraph_bulk_load(embedded, work)
                (work / "catalog.nq").unlink()
            print(json.dumps(bulk), flush=True)
            with oxigraph_server(location=work / "bulk") as engine:
                pid = server_pid(work / "bulk")
                env = _env(engine.query_url, engine.update_url, engine.store_url or "", str(work / "cache-oxigraph"))
                results.append(measure("oxigraph (bulk loaded)", env, None, slugs, opts.runs, match=not opts.no_match))
                results[-1]["server_peak_rss_mib"] = peak_rss_mib(pid)
                print(json.dumps(results[-1]), flush=True)
            text = bulk_section(results, bulk, opts.entities, info, command)
            print(text)
            if not opts.no_write:
                write_section(text, section_name=SECTION_BULK)
            return 0
        bulk = None if opts.no_bulk and not opts.oxigraph_bulk else oxigraph_bulk_load(embedded, work)
        for name in opts.engines.split(","):
            preloaded = name == "oxigraph" and opts.oxigraph_bulk
            if name == "oxigraph":
                start = functools.partial(oxigraph_server, location=work / "bulk" if preloaded else None)
            else:
                start = virtuoso_server
            with start() as engine:
                t = time.perf_counter()
                env = _env(engine.query_url, engine.update_url, engine.store_url or "", str(work / f"cache-{name}"))
                results.append(measure(name + (" (bulk loaded)" if preloaded else ""), env,
                                       None if preloaded else source, slugs, opts.runs))
                results[-1]["total_seconds"] = round(time.perf_counter() - t, 1)
                print(json.dumps(results[-1]), flush=True)
    text = section(results, bulk, opts.entities, info, command)
    print(text)
    if not opts.no_write:
        write_section(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
