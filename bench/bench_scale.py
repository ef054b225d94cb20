"""Benchmark: matchgraph at 1k, 10k and 100k synthetic entities.

For each size it generates a synthetic catalog (``matchgraph synth``) and measures, each command
as its own process the way a user runs it:

- ingest throughput (triples per second) of the Turtle output with and without SHACL validation
  (validation only up to ``--validate-max`` entities), and of the Markdown cards (full pipeline:
  parsing, classification, linking, validation) up to ``--cards-max`` entities;
- score recomputation (``matchgraph scores --recompute``): wall time and peak RSS, once on a fresh
  catalog (projection built too) and once more (projection cached);
- ``matchgraph neighbours X`` latency as a cold CLI process (median of ``--runs``, interleaved over
  the sizes so that changes in the machine's load hit them alike) and as a warm
  library call (:func:`matchgraph.graph.neighbours.neighbours`, median of ``--calls``), for a typical
  entity (the model of median popularity) and for the most popular model (a hub).

Scores are measured after every catalog is ingested, the sizes back to back, for the same reason.
Peak RSS comes from ``os.wait4`` on each child. The figures, the exact command and the machine go
into the ``## Scale`` section of ``BENCHMARKS.md`` (the rest of the file is left alone); the raw
figures are printed as JSON. Everything is written in a temporary folder that is removed at the end.

Run: ``python bench/bench_scale.py`` (defaults: sizes 1000,10000,100000), or e.g.
``python bench/bench_scale.py --sizes 1000,10000 --no-write``; ``--profile 10000`` profiles the
in-process ingest of that many cards with cProfile and prints the hot spots instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
SECTION = "## Scale"
TARGETS = {"cold_neighbours_ratio": 2.0, "score_time_ratio": 15.0, "score_peak_gb": 4.0}


@dataclass
class Run:
    """One child process: wall seconds, CPU seconds, peak RSS in MiB, exit code and output."""

    wall: float
    cpu: float
    rss_mib: float
    code: int
    out: str
    err: str


def run(args: list[str], *, env: dict[str, str] | None = None) -> Run:
    """Run a command, measuring its wall time, CPU time and peak RSS (its own, via ``os.wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        result = Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode,
                     out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))
    if result.code != 0:
        raise RuntimeError(f"{shlex.join(args)} failed ({result.code}):\n{result.err[-3000:]}")
    return result


def matchgraph(*args: str | Path) -> list[str]:
    """The command line of a matchgraph command run with this interpreter."""
    return [sys.executable, "-m", "matchgraph", *(str(a) for a in args)]


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM, Python, library versions and the load when the run started."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines()
                   if x.startswith("MemTotal"))
        ram = f"{mem / 1024 ** 2:.1f} GiB"
    except (OSError, StopIteration):
        ram = "unknown"
    import pyoxigraph
    import rdflib

    from matchgraph import __version__

    return {"cpu": cpu, "cores": os.cpu_count(), "ram": ram, "python": platform.python_version(),
            "platform": platform.platform(), "matchgraph": __version__, "pyoxigraph": pyoxigraph.__version__,
            "rdflib": rdflib.__version__, "load": " ".join(f"{x:.1f}" for x in os.getloadavg())}


def ingest(catalog: Path, source: Path, *, validate: bool, batch: int = 0) -> dict[str, Any]:
    """Ingest a folder into a new catalog; wall time, triples added and triples per second.

    With ``batch`` > 0 and more files than that, the files are ingested ``batch`` at a time, one
    ``matchgraph ingest FILE...`` process each (times and triples summed, the largest peak RSS kept).
    """
    files = sorted(source.rglob("*.ttl")) if batch else []
    groups = [files[i:i + batch] for i in range(0, len(files), batch)] if len(files) > batch else [[source]]
    wall = cpu = rss = 0.0
    added = 0
    for group in groups:
        args = ["--catalog", catalog, "ingest", *group, "--no-progress", "--format", "json"]
        r = run(matchgraph(*args, *([] if validate else ["--no-validate"])))
        added += json.loads(r.out)["triples_added"]
        wall, cpu, rss = wall + r.wall, cpu + r.cpu, max(rss, r.rss_mib)
    return {"seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "triples": added,
            "triples_per_second": round(added / wall), "peak_rss_mib": round(rss), "processes": len(groups)}


def scores(catalog: Path) -> dict[str, Any]:
    """``scores --recompute``: wall time and peak RSS of the process."""
    r = run(matchgraph("--catalog", catalog, "scores", "--recompute", "--limit", "5", "--format", "json"))
    return {"seconds": round(r.wall, 2), "cpu_seconds": round(r.cpu, 1), "peak_rss_mib": round(r.rss_mib)}


def cold_neighbours(targets: list[tuple[Path, str]], runs: int) -> list[dict[str, Any]]:
    """Median wall time of ``matchgraph neighbours SLUG`` in fresh processes, for several catalogs.

    The runs are interleaved (one per target in turn, after one unmeasured round), so a change in
    the machine's load hits every catalog alike and the ratios between them stay fair.
    """
    times: list[list[float]] = [[] for _ in targets]
    found: list[int] = [0] * len(targets)
    for round_ in range(runs + 1):
        for i, (catalog, slug) in enumerate(targets):
            r = run(matchgraph("--catalog", catalog, "neighbours", slug, "--format", "json"))
            if round_ == 0:
                found[i] = len(json.loads(r.out)["neighbours"])
            else:
                times[i].append(r.wall)
    return [{"median_ms": round(statistics.median(t) * 1000, 1), "min_ms": round(min(t) * 1000, 1), "runs": runs,
             "neighbours": f} for t, f in zip(times, found)]


def warm_neighbours(catalog: Path, slug: str, calls: int) -> dict[str, Any]:
    """Median time of the library call in one process holding the catalog open (in a child process)."""
    code = f"""
import json, statistics, time
from matchgraph import Catalog
from matchgraph.graph.neighbours import neighbours
with Catalog({str(catalog)!r}) as cat:
    neighbours(cat, {slug!r})
    times = []
    for _ in range({calls}):
        t = time.perf_counter(); found = neighbours(cat, {slug!r}); times.append(time.perf_counter() - t)
print(json.dumps({{"median_ms": statistics.median(times) * 1000, "found": len(found)}}))
"""
    r = run([sys.executable, "-c", code])
    data = json.loads(r.out)
    return {"median_ms": round(data["median_ms"], 2), "calls": calls, "neighbours": data["found"]}


def probes(n: int, seed: int) -> dict[str, str]:
    """The entities whose neighbours are looked up: the median-popularity model and the top model."""
    from matchgraph.sources.synth import plan

    p = plan(n, seed=seed)
    models = sorted((p.ranks[i], i) for i, kind in enumerate(p.kinds) if kind == "model")
    return {"typical": p.slugs[models[len(models) // 2][1]], "hub": p.slugs[models[0][1]]}


def prepare(n: int, work: Path, opts: argparse.Namespace) -> dict[str, Any]:
    """Generate a catalog of ``n`` entities and measure its ingest; the catalog is kept for the next phases."""
    out: dict[str, Any] = {"entities": n, "catalog": str(work / f"catalog-{n}")}
    say = lambda msg: print(f"[{n}] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    ttl = work / f"synth-{n}-ttl"
    r = run(matchgraph("synth", "-n", n, "-o", ttl, "--files", "ttl", "--seed", opts.seed, "--no-progress", "--format", "json"))
    out["synth_ttl_seconds"] = round(r.wall, 1)
    out["synth"] = {k: v for k, v in json.loads(r.out).items() if k not in ("out_dir", "format", "seed")}
    say(f"generated in {r.wall:.1f} s; ingesting Turtle without validation")
    batch = opts.batch_files if n > opts.batch_above else 0
    out["ingest_ttl"] = ingest(Path(out["catalog"]), ttl, validate=False, batch=batch)
    say(f"ingest: {out['ingest_ttl']}")
    if n <= opts.validate_max:
        checked = work / f"catalog-{n}-validated"
        out["ingest_ttl_validated"] = ingest(checked, ttl, validate=True)
        shutil.rmtree(checked)
        say(f"ingest with validation: {out['ingest_ttl_validated']}")
    if n <= opts.cards_max:
        cards = work / f"synth-{n}-cards"
        run(matchgraph("synth", "-n", n, "-o", cards, "--seed", opts.seed, "--no-progress"))
        checked = work / f"catalog-{n}-cards"
        out["ingest_cards_validated"] = ingest(checked, cards, validate=True)
        shutil.rmtree(checked)
        shutil.rmtree(cards)
        say(f"ingest of cards with validation: {out['ingest_cards_validated']}")
    shutil.rmtree(ttl)
    return out


def measure_scores(results: list[dict[str, Any]]) -> None:
    """``scores --recompute`` twice per catalog, the sizes back to back."""
    for out in results:
        for key in ("scores_first", "scores_again"):
            try:
                out[key] = scores(Path(out["catalog"]))
            except RuntimeError as exc:  # reported as missing instead of losing the other figures
                out[key] = {"error": str(exc).splitlines()[-1]}
            print(f"[{out['entities']}] {key}: {out[key]}", file=sys.stderr, flush=True)


def measure_neighbours(results: list[dict[str, Any]], opts: argparse.Namespace) -> None:
    """Cold (interleaved over the sizes) and warm ``neighbours`` latency of a typical entity and a hub."""
    targets = [(out, role, slug) for out in results for role, slug in probes(out["entities"], opts.seed).items()]
    try:
        cold = cold_neighbours([(Path(out["catalog"]), slug) for out, _, slug in targets], opts.runs)
    except RuntimeError as exc:  # reported as missing instead of losing the other figures
        cold = [{"error": str(exc).splitlines()[-1]}] * len(targets)
    for (out, role, slug), c in zip(targets, cold):
        block: dict[str, Any] = {"entity": slug, "cold": c}
        if "error" in c:
            block = {"entity": slug, "error": c["error"]}
        else:
            try:
                block["warm"] = warm_neighbours(Path(out["catalog"]), slug, opts.calls)
            except RuntimeError as exc:
                block = {"entity": slug, "error": str(exc).splitlines()[-1]}
        out[f"neighbours_{role}"] = block
        print(f"[{out['entities']}] neighbours {role}: {block}", file=sys.stderr, flush=True)


def verdicts(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The three targets, computed from one run's figures (None when a size is missing)."""
    by = {r["entities"]: r for r in results}
    small, mid, large = by.get(1000), by.get(10_000), by.get(100_000)
    def cold_ratio(role: str) -> float | None:
        key = f"neighbours_{role}"
        if not (small and large and "cold" in small.get(key, {}) and "cold" in large.get(key, {})):
            return None
        return large[key]["cold"]["median_ms"] / small[key]["cold"]["median_ms"]

    cold, cold_hub = cold_ratio("typical"), cold_ratio("hub")
    def ratio(key: str) -> float | None:
        if not (mid and large and "seconds" in mid[key] and "seconds" in large[key]):
            return None
        return large[key]["seconds"] / mid[key]["seconds"]

    score, score_again = ratio("scores_first"), ratio("scores_again")
    peak = large["scores_first"]["peak_rss_mib"] / 1024 if large and "peak_rss_mib" in large["scores_first"] else None
    return {"cold_neighbours_ratio": cold, "cold_neighbours_ratio_hub": cold_hub, "score_time_ratio": score, "score_time_ratio_cached_projection": score_again,
            "score_peak_gb": peak}


def _ok(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return f"**{value:.2f}** (target <= {limit:g}: {'met' if value <= limit else 'MISSED'})"


def _rate(block: dict[str, Any] | None) -> str:
    if not block:
        return "-"
    return f"{block['triples_per_second']:,} ({block['triples']:,} in {block['seconds']:.0f} s)"


def section(results: list[dict[str, Any]], verdict: dict[str, Any], info: dict[str, Any], command: str) -> str:
    """The Markdown of the ``## Scale`` section."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [SECTION, "",
             "Synthetic catalogs from `matchgraph synth` (Turtle output; kinds 45 % models, 25 % datasets, ...;"
             " Zipf popularity; 3-15 capabilities each), every command run as its own process.", "",
             f"Command: `{command}` ({when})", "",
             f"Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, Python {info['python']}, "
             f"{info['platform']}; matchgraph {info['matchgraph']}, pyoxigraph {info['pyoxigraph']}, "
             f"rdflib {info['rdflib']}. Load average at the start: {info['load']} (a shared machine: wall "
             "times are noisy, ratios come from this one run).", "",
             "Targets: " + "; ".join([
                 "cold `neighbours` 100k / 1k, typical entity " + _ok(verdict["cold_neighbours_ratio"],
                                                                        TARGETS["cold_neighbours_ratio"]),
                 "the same for the hub " + _ok(verdict.get("cold_neighbours_ratio_hub"), TARGETS["cold_neighbours_ratio"]),
                 "`scores --recompute` 100k / 10k " + _ok(verdict["score_time_ratio"], TARGETS["score_time_ratio"]),
                 "scoring peak at 100k (GB) " + _ok(verdict["score_peak_gb"], TARGETS["score_peak_gb"])]) + ".", ""]
    if verdict.get("score_time_ratio_cached_projection") is not None:
        lines += [f"With the projection already cached, `scores --recompute` 100k / 10k is "
                  f"{verdict['score_time_ratio_cached_projection']:.2f}.", ""]
    lines += ["| Entities | Triples | Ingest Turtle, no validation (triples/s) | Ingest Turtle, validated (triples/s) "
              "| Ingest cards, validated (triples/s) | Ingest peak RSS (MiB) |", "|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        batches = r["ingest_ttl"].get("processes", 1)
        note = f" in {batches} processes" if batches > 1 else ""
        lines.append(f"| {r['entities']:,} | {r['ingest_ttl']['triples']:,} | {_rate(r['ingest_ttl'])}{note} "
                     f"| {_rate(r.get('ingest_ttl_validated'))} | {_rate(r.get('ingest_cards_validated'))} "
                     f"| {r['ingest_ttl']['peak_rss_mib']:,} |")
    lines += ["", "| Entities | `scores --recompute` fresh (s) | peak RSS (MiB) | again, projection cached (s) "
              "| peak RSS (MiB) |", "|---:|---:|---:|---:|---:|"]
    for r in results:
        a, b = r["scores_first"], r["scores_again"]
        if "error" in a or "error" in b:
            lines.append(f"| {r['entities']:,} | failed: {a.get('error') or b.get('error')} | - | - | - |")
            continue
        lines.append(f"| {r['entities']:,} | {a['seconds']:.1f} | {a['peak_rss_mib']:,} | {b['seconds']:.1f} "
                     f"| {b['peak_rss_mib']:,} |")
    lines += ["", "| Entities | Entity | Neighbours | Cold CLI median (ms) | Warm library median (ms) |",
              "|---:|---|---:|---:|---:|"]
    for r in results:
        for role in ("typical", "hub"):
            block = r[f"neighbours_{role}"]
            if "error" in block:
                lines.append(f"| {r['entities']:,} | {role}: `{block['entity']}` | failed: {block['error']} | - | - |")
                continue
            lines.append(f"| {r['entities']:,} | {role}: `{block['entity']}` | {block['cold']['neighbours']} "
                         f"| {block['cold']['median_ms']:.0f} | {block['warm']['median_ms']:.2f} |")
    lines += ["", "The typical entity is the model of median popularity (its degree stays about the same at every "
              "size); the hub is the most popular model (its degree grows with the catalog). Cold times are the "
              "median of fresh `matchgraph neighbours X --format json` processes, interleaved over the sizes after "
              "one unmeasured round; warm "
              "times the median of library calls in one process.", ""]
    return "\n".join(lines)


def write_section(text: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) the ``## Scale`` section of BENCHMARKS.md, leaving the other sections as they are."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\s*$.*?(?=^## |\Z)", re.M | re.S)
    if pattern.search(old):
        new = pattern.sub(lambda _: text.rstrip() + "\n\n", old, count=1)
    else:
        new = old.rstrip() + "\n\n" + text.rstrip() + "\n"
    path.write_text(new.rstrip() + "\n", encoding="utf-8")


def profile_ingest(n: int, seed: int, top: int = 30) -> None:
    """Profile the in-process ingest of ``n`` synthetic cards (with validation) and print the hot spots."""
    from matchgraph import Catalog
    from matchgraph import ingest as run_ingest
    from matchgraph.sources.synth import generate

    with tempfile.TemporaryDirectory(prefix="mg-profile-") as tmp:
        generate(n, Path(tmp) / "cards", seed=seed)
        with Catalog(Path(tmp) / "catalog") as catalog:
            profiler = cProfile.Profile()
            wall = time.perf_counter()
            profiler.enable()
            report = run_ingest(catalog, [Path(tmp) / "cards"], validate=True)
            profiler.disable()
            wall = time.perf_counter() - wall
        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf)
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)
        print(f"ingest of {n} cards: {report.triples_after - report.triples_before} triples in {wall:.1f} s "
              "(under cProfile)")
        print(buf.getvalue())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="Comma-separated entity counts.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=7, help="Cold neighbours processes per entity.")
    parser.add_argument("--calls", type=int, default=200, help="Warm neighbours calls per entity.")
    parser.add_argument("--validate-max", type=int, default=10_000, help="Also ingest with validation up to this size.")
    parser.add_argument("--cards-max", type=int, default=10_000, help="Also ingest Markdown cards up to this size.")
    parser.add_argument("--batch-above", type=int, default=10_000,
                        help="Above this size, ingest the Turtle files in batches (one process each).")
    parser.add_argument("--batch-files", type=int, default=10,
                        help="Turtle files (1000 entities each) per ingest process above --batch-above.")
    parser.add_argument("--work", type=Path, help="Work folder (default: a new temporary folder, removed).")
    parser.add_argument("--no-write", action="store_true", help="Do not update BENCHMARKS.md.")
    parser.add_argument("--profile", type=int, metavar="N", help="Only profile the ingest of N cards.")
    parser.add_argument("--from-json", type=Path, metavar="FILE",
                        help="Only write the section from the JSON a previous run printed.")
    opts = parser.parse_args(argv)
    if opts.profile:
        profile_ingest(opts.profile, opts.seed)
        return 0
    if opts.from_json:
        data = json.loads(opts.from_json.read_text(encoding="utf-8"))
        write_section(section(data["results"], verdicts(data["results"]), data["machine"], data["command"]))
        return 0
    sizes = [int(x) for x in opts.sizes.split(",") if x.strip()]
    info = machine()
    command = "python bench/bench_scale.py" + ("" if argv is None and len(sys.argv) == 1 else " " + shlex.join(
        argv if argv is not None else sys.argv[1:]))
    work = opts.work or Path(tempfile.mkdtemp(prefix="mg-bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = [prepare(n, work, opts) for n in sizes]
        measure_scores(results)
        measure_neighbours(results, opts)
        for out in results:
            shutil.rmtree(out.pop("catalog"), ignore_errors=True)
    finally:
        if opts.work is None:
            shutil.rmtree(work, ignore_errors=True)
    verdict = verdicts(results)
    print(json.dumps({"machine": info, "command": command, "results": results, "targets": verdict}, indent=2))
    if not opts.no_write:
        write_section(section(results, verdict, info, command))
        print(f"updated the '{SECTION}' section of {BENCHMARKS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
