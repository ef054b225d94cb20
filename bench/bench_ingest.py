"""Ingest against its anchor: raw ``pyoxigraph.Store.bulk_load`` of the same Turtle files.

Each measurement is a new process (wall time and the peak RSS of that process, from
``wait4``), run alternately with the anchor so both see the same machine load. Our side is the
real command, ``matchgraph ingest DIR`` with validation on, into a new catalog.

Usage::

    python bench/bench_ingest.py --entities 10000 --runs 2 --work /tmp/bench-ingest
    python bench/bench_ingest.py --entities 100000 --runs 1 --work /tmp/bench-ingest --json out.json
    python bench/bench_ingest.py --entities 3000 --into /tmp/quickstart-catalog --runs 2

With ``--into CATALOG`` both sides start from a copy of an existing catalog (made before the clock
starts): ours ingests into the copy, the anchor bulk loads into a copy of that catalog's current
version (the RocksDB store itself) -- the cost of adding to a catalog that already holds data.

Prints a Markdown table row per size (and JSON with ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ANCHOR = """
import glob, sys, pyoxigraph as ox
store = ox.Store(sys.argv[1])
for i, f in enumerate(sorted(glob.glob(sys.argv[2] + '/**/*.ttl', recursive=True))):
    store.bulk_load(path=f, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(f'urn:x-bench:{i}'))
store.flush()
"""


def measure(command: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of a command run as a new process."""
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"{command} failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-ingest"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--into", type=Path, help="an existing catalog to ingest into (copied for each run)")
    args = parser.parse_args()
    synth = args.work / f"synth-{args.entities}"
    if not synth.exists():
        subprocess.run([sys.executable, "-m", "matchgraph", "synth", "-n", str(args.entities), "--files", "ttl",
                        "-o", str(synth), "--no-progress"], check=True)
    rows: dict[str, list[tuple[float, float]]] = {"anchor": [], "ingest": []}
    disk = {}
    for run in range(args.runs):
        for side in ("anchor", "ingest"):
            target = args.work / f"{side}-{args.entities}-{run}"
            shutil.rmtree(target, ignore_errors=True)
            if args.into:
                current = (args.into / "CURRENT").read_text().strip()
                source = args.into / "versions" / current if side == "anchor" else args.into
                shutil.copytree(source, target, symlinks=True)
            if side == "anchor":
                command = [sys.executable, "-c", ANCHOR, str(target), str(synth)]
            else:
                command = [sys.executable, "-m", "matchgraph", "--catalog", str(target), "ingest", str(synth),
                           "--no-progress"]
            rows[side].append(measure(command))
            disk[side] = disk_mb(target)
            shutil.rmtree(target, ignore_errors=True)
            print(side, run, rows[side][-1], flush=True)
    anchor = statistics.median(w for w, _ in rows["anchor"])
    ours = statistics.median(w for w, _ in rows["ingest"])
    result = {
        "entities": args.entities, "runs": args.runs, "into": str(args.into) if args.into else None,
        "anchor_wall_s": anchor, "ingest_wall_s": ours, "ratio": ours / anchor,
        "anchor_peak_rss_mb": max(r for _, r in rows["anchor"]), "ingest_peak_rss_mb": max(r for _, r in rows["ingest"]),
        "anchor_disk_mb": disk["anchor"], "ingest_disk_mb": disk["ingest"], "raw": rows,
    }
    print(f"| {args.entities:,} | {anchor:.1f} s | {ours:.1f} s | {ours / anchor:.2f} | "
          f"{result['anchor_peak_rss_mb']:.0f} MB | {result['ingest_peak_rss_mb']:.0f} MB | "
          f"{disk['ingest']:.0f} MB |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
