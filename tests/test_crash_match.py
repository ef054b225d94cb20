"""kill -9 of a real recorded ``matchgraph match`` at any moment: the match event is all there or not
there, and the reads and the next match carry on (the derived state a match writes is staged and
published whole, beside the store's own atomic version switch)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

NEED = "web text corpus for pretraining"
ENV = {**os.environ, "MATCHGRAPH_RECORD_MATCHES": "1"}


def mg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "matchgraph", *args], capture_output=True, text=True,
                          timeout=300, env=ENV)


def events(location: Path) -> int:
    done = mg("--catalog", str(location), "matches", "--format", "json", "--limit", "1000")
    assert done.returncode == 0, done.stderr
    return len(json.loads(done.stdout)["events"])


def test_kill_a_recorded_match_at_many_moments(example_copy: Path, tmp_path: Path) -> None:
    base = example_copy
    assert mg("--catalog", str(base), "neighbours", "the-pile").returncode == 0  # derived state built
    before = events(base)
    timing = tmp_path / "timing"
    shutil.copytree(base, timing)
    start = time.monotonic()
    assert mg("--catalog", str(timing), "match", NEED, "--limit", "3").returncode == 0
    whole = time.monotonic() - start
    assert events(timing) == before + 1
    outcomes = []
    for i, fraction in enumerate((0.15, 0.3, 0.45, 0.6, 0.7, 0.8, 0.9, 0.97)):
        location = tmp_path / f"kill{i}"
        shutil.copytree(base, location)
        proc = subprocess.Popen([sys.executable, "-m", "matchgraph", "--catalog", str(location), "match", NEED,
                                 "--limit", "3"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        time.sleep(whole * fraction)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=120)
        found = events(location)
        assert found in (before, before + 1), (fraction, found)
        outcomes.append(found - before)
        for args in (("neighbours", "the-pile", "--format", "json"), ("scores", "the-pile", "--format", "json"),
                     ("explain", "the-pile"), ("validate",)):
            done = mg("--catalog", str(location), *args)
            assert done.returncode == 0 and "Traceback" not in done.stderr, (fraction, args, done.stderr[-2000:])
        assert mg("--catalog", str(location), "match", NEED, "--limit", "3").returncode == 0
        assert events(location) == found + 1
        shutil.rmtree(location)
    assert 0 in outcomes, f"no kill landed before the commit: {outcomes}"
