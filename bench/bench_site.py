"""``matchgraph site`` of this tree against another checkout on the same catalog.

Run: ``python bench/bench_site.py CATALOG --before TREE [--runs 3] [--compare 3]``. Each run
writes the whole site twice, alternating new processes (this tree, then ``TREE`` through
``PYTHONPATH``), and takes the child's CPU seconds (user + system, from ``os.wait4``) and wall
seconds; the figures are medians and the ratio is taken run by run, so that a machine shared with
other work moves both sides alike. The two sites must be the same files, byte for byte (checked
after the first run). Figures: BENCHMARKS.md, "Static site".
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _site(catalog: Path, out: Path, compare: int, pythonpath: str | None) -> tuple[float, float]:
    """(wall s, CPU s) of one ``matchgraph site`` process."""
    env = {**os.environ, "MATCHGRAPH_RECORD_MATCHES": "0"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "matchgraph", "--catalog", str(catalog), "site", str(out),
                             "--compare", str(compare), "--no-progress"], env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"site failed ({status}) with PYTHONPATH={pythonpath}")
    return wall, usage.ru_utime + usage.ru_stime


def _same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(_same_tree(a / d, b / d) for d in cmp.common_dirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("catalog", type=Path)
    parser.add_argument("--before", type=Path, required=True, help="A checkout of the tree to time against.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--compare", type=int, default=3, help="site --compare (compare pages per entity).")
    args = parser.parse_args()
    rows: dict[str, list[float]] = {"wall_after": [], "wall_before": [], "cpu_after": [], "cpu_before": [],
                                    "cpu_ratio": [], "wall_ratio": []}
    with tempfile.TemporaryDirectory() as tmp:
        files = 0
        for run in range(args.runs):
            after, before = Path(tmp) / "after", Path(tmp) / "before"
            wa, ca = _site(args.catalog, after, args.compare, None)
            wb, cb = _site(args.catalog, before, args.compare, str(args.before))
            if run == 0:
                if not _same_tree(after, before):
                    raise SystemExit("the two sites differ")
                files = sum(1 for p in after.rglob("*") if p.is_file())
            for key, value in (("wall_after", wa), ("wall_before", wb), ("cpu_after", ca), ("cpu_before", cb),
                               ("cpu_ratio", ca / cb), ("wall_ratio", wa / wb)):
                rows[key].append(value)
            print(f"run {run + 1}: this tree {wa:.1f} s wall, {ca:.1f} s CPU; before {wb:.1f} s, {cb:.1f} s",
                  file=sys.stderr)
    report = {k: round(statistics.median(v), 3) for k, v in rows.items()}
    report.update(files=files, runs=args.runs, load=os.getloadavg()[0])
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
