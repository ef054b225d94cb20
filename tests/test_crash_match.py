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


def test_a_match_shows_its_results_when_a_writer_holds_the_catalog(example_catalog_dir: Path, tmp_path: Path) -> None:
    """A match waits for another writer up to MATCHGRAPH_LOCK_TIMEOUT to record itself; past it, it still
    shows its results and says they were not recorded (it was exit code 1 and no results: a read refused
    because the evidence could not be written)."""
    import fcntl

    base = tmp_path / "busy"
    shutil.copytree(example_catalog_dir, base)
    before = events(base)
    (base / "locks").mkdir(exist_ok=True)
    fd = os.open(base / "locks" / "write.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the lock a real writer (an ingest in another process) holds
        done = subprocess.run([sys.executable, "-m", "matchgraph", "--catalog", str(base), "match", NEED, "--limit", "3"],
                              capture_output=True, text=True, timeout=300,
                              env={**ENV, "MATCHGRAPH_LOCK_TIMEOUT": "0.5"})
        as_json = subprocess.run([sys.executable, "-m", "matchgraph", "--catalog", str(base), "match", NEED, "--limit",
                                  "3", "--format", "json"], capture_output=True, text=True, timeout=300,
                                 env={**ENV, "MATCHGRAPH_LOCK_TIMEOUT": "0"})
    finally:
        os.close(fd)
    assert done.returncode == 0, done.stderr
    assert "Need: web text corpus for pretraining" in done.stdout and "why: terms:" in done.stdout
    assert "Traceback" not in done.stderr
    assert "not recorded: another process kept the catalog" in done.stderr
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["event"] is None and data["results"]
    assert events(base) == before
    # with the lock free again, the match is recorded as ever
    assert mg("--catalog", str(base), "match", NEED, "--limit", "3").returncode == 0
    assert events(base) == before + 1
