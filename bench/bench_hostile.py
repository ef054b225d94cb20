"""Time and peak memory of refusing each hostile input, against ingesting one small valid card (the anchor).

Each case runs ``python -m matchgraph ingest`` (or ``import croissant``) in its own process on a
copy of a catalog holding the comparison page; the peak RSS is the child's ``ru_maxrss``. The
inputs are the ones ``tests/test_hostile_inputs.py`` builds.

Run: ``python bench/bench_hostile.py`` (about a minute on 2 cores); ``python bench/bench_hostile.py
deep-turtle deep-trig`` for some cases only (the anchor always runs).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_hostile_inputs import CASES  # noqa: E402
from _tables import table_head, table_row  # noqa: E402

PAGE = ROOT / "tests" / "data" / "comparison_page.txt"


def run(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) and exit code of ``python -m matchgraph ARGS`` in a fresh grandchild."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "rc = subprocess.run(sys.argv[1:], capture_output=True).returncode; "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, rc)")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("MATCHGRAPH_CATALOG", None)
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "matchgraph", *args],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2])


def main(only: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seeded = work / "seeded"
        subprocess.run([sys.executable, "-m", "matchgraph", "ingest", "--catalog", str(seeded), str(PAGE)],
                       check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        card = work / "small-card.md"
        card.write_text("---\nid: small-card\nname: Small Card\nkind: model\n---\n## Fast\n\nIt is fast.\n",
                        encoding="utf-8")
        rows = []
        cases = [c for c in CASES if not only or c[0] in only]
        for name, make, _, command in [("anchor: a valid card", lambda d: card, "", ["ingest"]), *cases]:
            target = work / f"cat-{len(rows)}"
            shutil.copytree(seeded, target)
            folder = work / f"in-{len(rows)}"
            folder.mkdir()
            path = make(folder)
            wall, rss, code = run([*command, "--no-progress", "--catalog", str(target), str(path)]
                                  if command == ["ingest"] else [*command, "--catalog", str(target), str(path)])
            rows.append((name, path.stat().st_size, wall, rss, code))
        anchor = rows[0][2]
        print(table_head(["input", "size", "exit", "wall", "/ anchor", "peak RSS"]))
        for name, size, wall, rss, code in rows:
            print(table_row([name, f"{size:,} B", code, f"{wall:.2f} s", f"{wall / anchor:.2f}", f"{rss:.0f} MiB"]))


if __name__ == "__main__":
    start = time.perf_counter()
    main(sys.argv[1:])
    print(f"\n(total {time.perf_counter() - start:.0f} s; {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} "
          "MiB in this process)")
