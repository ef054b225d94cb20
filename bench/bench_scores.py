"""Scores at graph-engine speed, and reads right after a recorded match.

1. ``scores --recompute`` against igraph at N synthetic entities (default 10k): each a new process.
   igraph reads the same weighted edges (the projection's, written as an edge list) and runs
   PageRank; ours recomputes every score from the version's derived state and brings the store's
   score graph up to date. The cold figure adds the full build of the derived state from the store.
2. After a recorded ``match``, the next ``neighbours the-pile``, ``scores`` and ``explain the-pile``
   against a warm call (same command, nothing changed), on the Quickstart catalog (examples/catalog,
   croissant, mteb) and on any other catalogs given with ``--after-match DIR`` (for example a copy of
   the 100k synthetic catalog; the bench writes match events into it). It also checks that the reads
   leave the catalog's CURRENT version where the match put it (a read path never writes).
3. With ``--before TREE --against DIR``: ``scores``, ``explain ENTITY`` and a recorded ``match`` on
   DIR with this tree against the same commands with the tree at TREE (another checkout, run with
   ``PYTHONPATH`` on it), alternating new processes; ``--weights FILE`` makes FILE's weights the
   catalog's first (``scores --recompute --weights FILE``), here and in 2.

Run: ``python bench/bench_scores.py [--entities 10000] [--catalog DIR] [--quickstart DIR]
[--after-match DIR ...] [--before TREE --against DIR ...] [--weights FILE] [--runs 3] [--no-write]``.
Figures go to BENCHMARKS.md (section "Scores and derived state").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "MATCHGRAPH_RECORD_MATCHES": "1"}

IGRAPH = """
import sys, igraph
g = igraph.Graph.Read_Ncol(sys.argv[1], names=True, weights=True, directed=True)
pr = g.pagerank(weights="weight", damping=0.85)
print(len(pr))
"""


#: Peak resident set size (KB) of the last command :func:`timed` ran (None without /usr/bin/time).
PEAK_KB: list[int | None] = [None]


def timed(args: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of a new process (its peak RSS in :data:`PEAK_KB`, measured by /usr/bin/time)."""
    rss = Path(tempfile.mkstemp(prefix="bench-rss-")[1]) if Path("/usr/bin/time").exists() else None
    wrapped = ["/usr/bin/time", "-f", "%M", "-o", str(rss), *args] if rss is not None else args
    start = time.perf_counter()
    subprocess.run(wrapped, check=True, env=env or ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if rss is not None:
        try:
            PEAK_KB[0] = int(rss.read_text().split()[-1])
        except (OSError, ValueError, IndexError):
            PEAK_KB[0] = None
        rss.unlink(missing_ok=True)
    return elapsed


def peak_gb() -> float | None:
    return round(PEAK_KB[0] / 1024 / 1024, 2) if PEAK_KB[0] else None


def mg(catalog: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "matchgraph", "--catalog", str(catalog), *args]


def synth_catalog(entities: int, work: Path) -> Path:
    source, catalog = work / "synth", work / "cat"
    subprocess.run([sys.executable, "-m", "matchgraph", "synth", "-n", str(entities), "-o", str(source),
                    "--files", "ttl", "--no-progress"], check=True, env=ENV, stdout=subprocess.DEVNULL)
    subprocess.run(mg(catalog, "ingest", str(source), "--no-validate"), check=True, env=ENV, stdout=subprocess.DEVNULL)
    return catalog


def edge_list(catalog: Path, path: Path) -> int:
    """Write the projection's weighted edges as an ncol file (what igraph reads)."""
    code = f"""
import sys
from matchgraph import Catalog
from matchgraph.graph.derived import current
with Catalog({str(catalog)!r}) as cat:
    p = current(cat).projection
    with open({str(path)!r}, "w") as fh:
        for a, b, w in zip(p.src.tolist(), p.dst.tolist(), p.weight.tolist()):
            fh.write(f"{{a}} {{b}} {{w}}\\n")
    print(len(p.src))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, env=ENV, capture_output=True, text=True)
    return int(out.stdout.strip())


def bench_igraph(catalog: Path, runs: int, cold_runs: int | None = None) -> dict[str, Any]:
    """igraph against ``scores --recompute`` with the derived state present, and (``cold_runs``
    of the runs; all by default) after removing it, with the peak RSS of each."""
    cold_runs = runs if cold_runs is None else cold_runs
    work = Path(tempfile.mkdtemp(prefix="bench-scores-"))
    try:
        edges = edge_list(catalog, work / "edges.ncol")
        # the score graph written once (reads never write it; --recompute is the write)
        subprocess.run(mg(catalog, "scores", "--recompute", "--limit", "1"), check=True, env=ENV,
                       stdout=subprocess.DEVNULL)
        igraph_s, warm, cold = [], [], []
        peaks: dict[str, float | None] = {}
        for _ in range(runs):  # alternating, so load on the machine falls on both alike
            igraph_s.append(timed([sys.executable, "-c", IGRAPH, str(work / "edges.ncol")]))
            peaks["igraph_peak_gb"] = peak_gb()
            warm.append(timed(mg(catalog, "scores", "--recompute", "--limit", "1")))
            peaks["recompute_peak_gb"] = peak_gb()
            if cold_runs:
                shutil.rmtree(catalog / "cache" / "derived", ignore_errors=True)
                cold.append(timed(mg(catalog, "scores", "--recompute", "--limit", "1")))
                peaks["cold_peak_gb"] = peak_gb()
                cold_runs -= 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ig = statistics.median(igraph_s)
    out = {"edges": edges, "igraph_s": round(ig, 3), "recompute_s": round(statistics.median(warm), 3),
           "recompute_ratio": round(statistics.median(warm) / ig, 2),
           "recompute_ratios_per_run": [round(w / i, 2) for w, i in zip(warm, igraph_s)], **peaks}
    if cold:
        out.update({"cold_build_s": round(statistics.median(cold), 3),
                    "cold_ratio": round(statistics.median(cold) / statistics.median(igraph_s[:len(cold)]), 2),
                    "cold_ratios_per_run": [round(c / i, 2) for c, i in zip(cold, igraph_s)]})
    return out


def quickstart(work: Path) -> Path:
    catalog = work / "quick"
    for args in (["ingest", str(ROOT / "examples/catalog")], ["import", "croissant", str(ROOT / "examples/croissant")],
                 ["import", "mteb", str(ROOT / "examples/mteb")]):
        subprocess.run(mg(catalog, *args), check=True, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return catalog


def current(catalog: Path) -> str:
    return (catalog / "CURRENT").read_text().strip()


def recompute(catalog: Path, weights: Path | None = None, env: dict[str, str] | None = None) -> None:
    """``scores --recompute`` (with ``--weights``: they become the catalog's)."""
    extra = ["--weights", str(weights)] if weights is not None else []
    subprocess.run(mg(catalog, "scores", "--recompute", "--limit", "1", *extra), check=True, env=env or ENV,
                   stdout=subprocess.DEVNULL)


def bench_after_match(catalog: Path, runs: int, entity: str = "the-pile",
                      weights: Path | None = None) -> dict[str, Any]:
    need = "small fast masked language model for CPU inference"
    out: dict[str, Any] = {}
    # the score graph current once (after an ingest that is the explicit step); matches keep it current
    recompute(catalog, weights)
    reads_wrote = 0
    for name, command in ((f"neighbours {entity}", ["neighbours", entity]), ("scores", ["scores", "--limit", "5"]),
                          (f"explain {entity}", ["explain", entity])):
        subprocess.run(mg(catalog, *command), check=True, env=ENV, stdout=subprocess.DEVNULL)
        warm, after, match_s = [], [], []
        for _ in range(runs):
            warm.append(timed(mg(catalog, *command)))
            match_s.append(timed(mg(catalog, "match", need)))
            version = current(catalog)
            after.append(timed(mg(catalog, *command)))
            reads_wrote += current(catalog) != version
        out[name] = {"warm_s": round(statistics.median(warm), 3), "after_match_s": round(statistics.median(after), 3),
                     "ratio": round(statistics.median(after) / statistics.median(warm), 2),
                     "match_s": round(statistics.median(match_s), 3)}
    out["reads_that_moved_CURRENT"] = reads_wrote
    return out


def bench_record(catalog: Path, runs: int) -> dict[str, Any]:
    """A recorded ``match`` against the same ``match --no-record`` (new processes, alternating)."""
    need = "small fast masked language model for CPU inference"
    subprocess.run(mg(catalog, "match", need, "--no-record"), check=True, env=ENV, stdout=subprocess.DEVNULL)
    recorded, plain, peaks = [], [], {}
    for _ in range(runs):
        plain.append(timed(mg(catalog, "match", need, "--no-record")))
        peaks["no_record_peak_gb"] = peak_gb()
        recorded.append(timed(mg(catalog, "match", need)))
        peaks["recorded_peak_gb"] = peak_gb()
    return {"no_record_s": round(statistics.median(plain), 3), "recorded_s": round(statistics.median(recorded), 3),
            "ratio": round(statistics.median(recorded) / statistics.median(plain), 2),
            "ratios_per_run": [round(r / p, 2) for r, p in zip(recorded, plain)], **peaks}


def bench_before(catalog: Path, before: Path, runs: int, entity: str, weights: Path | None = None) -> dict[str, Any]:
    """``scores``, ``explain ENTITY`` and a recorded ``match`` with this tree against the tree at
    ``before``, alternating new processes on the same catalog (each read warmed by both first)."""
    old = {**ENV, "PYTHONPATH": str(before)}
    need = "small fast masked language model for CPU inference"
    recompute(catalog, weights)
    out: dict[str, Any] = {}
    for name, command in (("scores --limit 5", ["scores", "--limit", "5"]), (f"explain {entity}", ["explain", entity]),
                          ("match (recorded)", ["match", need])):
        if name.startswith("match"):
            subprocess.run(mg(catalog, "match", need, "--no-record"), check=True, env=ENV, stdout=subprocess.DEVNULL)
        else:
            for env in (old, ENV):
                subprocess.run(mg(catalog, *command), check=True, env=env, stdout=subprocess.DEVNULL)
        then, now = [], []
        for _ in range(runs):
            then.append(timed(mg(catalog, *command), old))
            now.append(timed(mg(catalog, *command)))
        out[name] = {"before_s": round(statistics.median(then), 3), "after_s": round(statistics.median(now), 3),
                     "ratio": round(statistics.median(now) / statistics.median(then), 2),
                     "ratios_per_run": [round(n / t, 2) for n, t in zip(now, then)]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--catalog", type=Path, help="An ingested synthetic catalog (else one is made).")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="Print the figures only.")
    parser.add_argument("--quickstart", type=Path, help="A Quickstart catalog to use (else one is built).")
    parser.add_argument("--after-match", type=Path, action="append", default=[],
                        help="Another catalog to measure reads after a match on (match events are written to it).")
    parser.add_argument("--entity", default="the-pile", help="The entity of neighbours/explain on --after-match.")
    parser.add_argument("--skip-igraph", action="store_true", help="Only the reads after a match.")
    parser.add_argument("--skip-quickstart", action="store_true", help="No Quickstart catalog.")
    parser.add_argument("--cold-runs", type=int, help="Runs that also remove the derived state (default: all).")
    parser.add_argument("--record", type=Path, action="append", default=[],
                        help="A catalog to time a recorded match against `match --no-record` on.")
    parser.add_argument("--before", type=Path, help="The tree before a change, to time this one against on --against.")
    parser.add_argument("--against", type=Path, action="append", default=[],
                        help="A catalog to time scores, explain and a recorded match on, this tree against --before.")
    parser.add_argument("--weights", type=Path,
                        help="A weights file made the catalog's (scores --recompute --weights) before 2. and 3.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-scores-"))
    try:
        report: dict[str, Any] = {
            "machine": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}"}
        if not args.skip_igraph:
            catalog = args.catalog or synth_catalog(args.entities, work)
            report["scores_vs_igraph"] = {"entities": args.entities, "catalog": str(catalog),
                                          **bench_igraph(catalog, args.runs, args.cold_runs)}
        for other in args.record:
            report[f"record {other}"] = bench_record(other, args.runs)
        if not args.skip_quickstart:
            report["after_match_quickstart"] = bench_after_match(args.quickstart or quickstart(work), args.runs,
                                                                 weights=args.weights)
        for other in args.after_match:
            report[f"after_match {other}"] = bench_after_match(other, args.runs, args.entity, args.weights)
        for other in args.against:
            if args.before is None:
                parser.error("--against needs --before TREE")
            report[f"against {args.before} {other}"] = bench_before(other, args.before, args.runs, args.entity,
                                                                   args.weights)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report, indent=2))
    if not args.no_write and "scores_vs_igraph" in report and "after_match_quickstart" in report:
        s, q = report["scores_vs_igraph"], report["after_match_quickstart"]
        text = (f"\n## Scores and derived state (`bench/bench_scores.py`)\n\n"
                f"`python bench/bench_scores.py --runs {args.runs}`; each figure the median of new processes.\n\n"
                f"| {s['entities']:,} synthetic entities ({s['edges']:,} edges) | seconds | x igraph |\n|---|---|---|\n"
                f"| igraph: read the weighted edges + PageRank | {s['igraph_s']} | 1 |\n"
                f"| `scores --recompute` (derived state current) | {s['recompute_s']} | {s['recompute_ratio']} |\n"
                f"| `scores --recompute` after removing the derived state (full build from the store) | "
                f"{s['cold_build_s']} | {s['cold_ratio']} |\n\n"
                f"| Quickstart catalog, after a recorded `match` | warm s | after match s | ratio |\n|---|---|---|---|\n"
                + "".join(f"| `{k}` | {v['warm_s']} | {v['after_match_s']} | {v['ratio']} |\n" for k, v in q.items()
                          if isinstance(v, dict)))
        with (ROOT / "BENCHMARKS.md").open("a", encoding="utf-8") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
