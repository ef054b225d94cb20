"""kill -9 of a real ``matchgraph ingest`` at any moment leaves the catalog exactly as before or after.

The harness runs the real command in a subprocess and kills it with SIGKILL at 24 moments spread
over the whole write (from the moment the staged version appears to the end of the process), at
a few moments before it, and at every step of the final switch (the store kills itself there with
SIGKILL when ``MATCHGRAPH_TEST_KILL_AT`` names the step). After each kill a canonical dump of the
catalog (every quad, sorted, with the version tokens and ingest times masked) must equal the dump
before the command or the dump after an uninterrupted run, and the next command must carry on
(saying that an interrupted write was rolled back when there was one).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from matchgraph import Catalog
from matchgraph.store.versions import CRASH_AT_VAR
from matchgraph.vocab import META_GRAPH, MG

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "catalog"
SYNTH_ENTITIES = 300
MOMENTS_IN_WRITE = 24


def run(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "matchgraph", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})
    if check and done.returncode != 0:
        raise AssertionError(f"matchgraph {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


_VOLATILE = re.compile(rf'^(<[^>]+> <{re.escape(str(MG))}(?:version|dataVersion|parentDataVersion)>|'
                       r'<[^>]+> <http://www.w3.org/ns/prov#generatedAtTime>) .* (<[^>]+>) \.$')


def canonical(location: Path) -> list[str]:
    """Every quad of the catalog as sorted N-Quads lines, version tokens and ingest times masked."""
    with Catalog(location) as catalog:
        store = catalog.oxigraph
        lines = []
        for quad in store.quads_for_pattern(None, None, None, None):
            line = f"{quad.subject} {quad.predicate} {quad.object} {quad.graph_name} ."
            if str(quad.graph_name) == f"<{META_GRAPH}>":
                line = _VOLATILE.sub(r"\1 MASKED \2 .", line)
            lines.append(line)
    return sorted(lines)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    work = tmp_path_factory.mktemp("crash")
    synth = work / "synth"
    run("synth", "-n", str(SYNTH_ENTITIES), "--files", "ttl", "-o", str(synth), "--no-progress")
    base = work / "base"
    run("--catalog", str(base), "ingest", str(EXAMPLES), "--no-progress")
    before = canonical(base)
    # one uninterrupted run: the expected result, and how long the write phase lasts
    full = work / "full"
    shutil.copytree(base, full)
    launched = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "matchgraph", "--catalog", str(full), "ingest", str(synth),
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = _wait_for_staging(full, proc)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    write_seconds = time.monotonic() - started
    after = canonical(full)
    assert after != before and len(after) > len(before) + 1000
    return {"work": work, "synth": synth, "base": base, "before": before, "after": after,
            "write_seconds": write_seconds, "seconds_to_staging": started - launched}


def _wait_for_staging(location: Path, proc: subprocess.Popen[str]) -> float:
    """Poll until the command has staged its next version (the store starts changing)."""
    versions = location / "versions"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if versions.is_dir() and any(p.name.startswith(".next-") for p in versions.iterdir()):
            return time.monotonic()
        if proc.poll() is not None:
            raise AssertionError("the command ended before it staged a version: " + proc.stderr.read())
        time.sleep(0.002)
    raise AssertionError("the command never staged a version")


def _fresh_copy(setup: dict[str, object], name: str) -> Path:
    target = Path(str(setup["work"])) / name
    shutil.copytree(Path(str(setup["base"])), target)
    return target


def _check_after_kill(setup: dict[str, object], location: Path, *, validate: bool = False) -> str:
    state = canonical(location)
    if state == setup["before"]:
        outcome = "before"
    elif state == setup["after"]:
        outcome = "after"
    else:
        raise AssertionError(f"the catalog at {location} is neither as before nor as after the command: "
                             f"{len(state)} quads (before {len(setup['before'])}, after {len(setup['after'])})")
    # the next command carries on, and says so when it rolled an interrupted write back
    leftovers = [p for p in (location / "versions").iterdir() if p.name.startswith(".next-")]
    done = run("--catalog", str(location), "stats")
    if leftovers:
        assert "interrupted write was rolled back" in done.stderr
        assert not [p for p in (location / "versions").iterdir() if p.name.startswith(".next-")]
    assert canonical(location) == state
    if validate:
        assert "conforms" in run("--catalog", str(location), "validate").stdout
    return outcome


def test_kill_at_moments_spread_over_the_write(setup: dict[str, object]) -> None:
    span = float(setup["write_seconds"])  # type: ignore[arg-type]
    outcomes = []
    for i in range(MOMENTS_IN_WRITE):
        location = _fresh_copy(setup, f"timed-{i}")
        proc = subprocess.Popen([sys.executable, "-m", "matchgraph", "--catalog", str(location), "ingest",
                                 str(setup["synth"]), "--no-progress"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        _wait_for_staging(location, proc)
        time.sleep(span * i / MOMENTS_IN_WRITE)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        outcomes.append(_check_after_kill(setup, location))
        shutil.rmtree(location)
    assert "before" in outcomes  # the kills did land inside the write


def test_kill_before_the_write_starts(setup: dict[str, object]) -> None:
    # moments before the command stages its version, as measured on this machine (fixed delays
    # were after the whole write on a fast one)
    lead = float(setup["seconds_to_staging"])  # type: ignore[arg-type]
    for i, delay in enumerate((0.05 * lead, 0.3 * lead, 0.6 * lead)):
        location = _fresh_copy(setup, f"early-{i}")
        proc = subprocess.Popen([sys.executable, "-m", "matchgraph", "--catalog", str(location), "ingest",
                                 str(setup["synth"]), "--no-progress"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert _check_after_kill(setup, location) == "before"
        shutil.rmtree(location)


@pytest.mark.parametrize("step,expected", [
    ("before-flush", "before"), ("after-close", "before"), ("after-rename", "before"),
    ("before-pointer", "before"), ("after-pointer", "after"), ("after-gc", "after"),
])
def test_kill_inside_the_final_switch(setup: dict[str, object], step: str, expected: str) -> None:
    location = _fresh_copy(setup, f"switch-{step}")
    done = run("--catalog", str(location), "ingest", str(setup["synth"]), "--no-progress",
               env={CRASH_AT_VAR: step}, check=False)
    assert done.returncode == -signal.SIGKILL
    assert _check_after_kill(setup, location, validate=True) == expected
    # and a later write works from whatever state the kill left
    run("--catalog", str(location), "ingest", str(setup["synth"]), "--no-progress")
    assert canonical(location) == setup["after"]
    shutil.rmtree(location)
