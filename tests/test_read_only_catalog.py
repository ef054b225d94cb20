"""A catalog this user may only read (shared read-only, a mounted snapshot): every reading command
works, a match is shown but not recorded, writes fail with a message and leave it as it was.

The commands run as real processes whose permissions are checked by the kernel: as root, without
the capabilities that let root write anywhere (``setpriv``, util-linux)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "catalog"
_NO_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner",
                "--inh-caps=-dac_override,-dac_read_search,-fowner"]


def _chmod_tree(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


@pytest.fixture
def read_only(example_catalog_dir: Path, tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    catalog = tmp_path / "shared" / "catalog"
    shutil.copytree(example_catalog_dir, catalog)
    (tmp_path / "home").mkdir()
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "home" / ".cache"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                       os.environ.get("PYTHONPATH")]))}
    _chmod_tree(catalog, writable=False)
    yield catalog, env
    _chmod_tree(catalog, writable=True)


def run(catalog: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    prefix = _NO_OVERRIDE if os.geteuid() == 0 else []
    return subprocess.run([*prefix, sys.executable, "-m", "matchgraph", "--catalog", str(catalog), *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_reading_commands_work_and_writes_fail_cleanly(read_only: tuple[Path, dict[str, str]]) -> None:
    catalog, env = read_only
    before = sorted((p.relative_to(catalog), p.stat().st_size) for p in catalog.rglob("*") if p.is_file())
    probe = run(catalog, env, "ingest", str(EXAMPLES))  # the kernel must refuse this process
    assert probe.returncode == 1, probe.stdout + probe.stderr
    assert "Permission denied" in probe.stderr and "Traceback" not in probe.stderr

    stats = run(catalog, env, "stats", "--format", "json")
    assert stats.returncode == 0, stats.stderr
    for args in (["neighbours", "the-pile", "--limit", "3"], ["scores", "--limit", "3"], ["explain", "the-pile"],
                 ["sparql", "ASK { ?s ?p ?o }"], ["match", "fast masked language model", "--no-record"]):
        done = run(catalog, env, *args)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
    recorded = run(catalog, env, "match", "fast masked language model", "--format", "json")
    assert recorded.returncode == 0, recorded.stderr
    assert "not recorded" in recorded.stderr
    assert '"event": null' in recorded.stdout
    after = sorted((p.relative_to(catalog), p.stat().st_size) for p in catalog.rglob("*") if p.is_file())
    assert after == before  # nothing written inside the catalog
    assert any((Path(env["XDG_CACHE_HOME"]) / "matchgraph").glob("read-only-*/derived"))  # derived state: user's cache


def test_a_folder_this_user_cannot_list_is_an_error_not_a_silent_gap(tmp_path: Path) -> None:
    source = tmp_path / "cards"
    (source / "open").mkdir(parents=True)
    (source / "locked").mkdir()
    card = "---\nid: {0}\nname: {0}\nkind: model\ndescription: A model.\n---\n"
    (source / "open" / "a.md").write_text(card.format("visible-model"), encoding="utf-8")
    (source / "locked" / "b.md").write_text(card.format("hidden-model"), encoding="utf-8")
    (source / "locked").chmod(0)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent),
                                                                      os.environ.get("PYTHONPATH")]))}
    try:
        for command in (["ingest"], ["import", "croissant"]):
            done = run(tmp_path / "catalog", env, *command, str(source))
            assert done.returncode == 1, done.stdout + done.stderr
            assert "locked: cannot read the folder: Permission denied" in done.stderr, done.stderr
            assert "Traceback" not in done.stderr
        assert not (tmp_path / "catalog" / "versions").exists() or not any((tmp_path / "catalog" / "versions").iterdir())
    finally:
        (source / "locked").chmod(0o755)
