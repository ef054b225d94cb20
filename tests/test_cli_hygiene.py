"""What a new user and a script writer ran into (a probe of every command): exports that are all
or nothing, system errors as messages, options that do what they say, weights as JSON writes
numbers, a taken port said before anything claims to serve."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from matchgraph.cli import atomic_output


def test_an_interrupted_output_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "catalog.ttl"
    target.write_bytes(b"the previous export\n")
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(target) as handle:
            handle.write(b"half of a new ")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["catalog.ttl"]  # no partial file left
    with atomic_output(target) as handle:
        handle.write(b"the new export\n")
    assert target.read_bytes() == b"the new export\n"
    # a private file stays private, a link keeps pointing at the file it names
    target.chmod(0o600)
    link = tmp_path / "latest.ttl"
    link.symlink_to(target)
    with atomic_output(link) as handle:
        handle.write(b"through the link\n")
    assert link.is_symlink() and target.read_bytes() == b"through the link\n"
    assert target.stat().st_mode & 0o777 == 0o600
    with atomic_output(Path("/dev/null")) as handle:  # not a regular file: written in place, left alone
        handle.write(b"nothing")
    assert Path("/dev/null").is_char_device()


def test_export_to_a_missing_folder_is_a_message(invoke, example_catalog_dir: Path,  # type: ignore[no-untyped-def]
                                                tmp_path: Path) -> None:
    """The message named the hidden partial file (``.x.ttl.partial-11078``); now the user's path and the folder."""
    for fmt in ("ttl", "graphml", "json"):
        target = tmp_path / "no-such-folder" / f"x.{fmt}"
        out = invoke("export", fmt, "-o", target, "--catalog", example_catalog_dir)
        assert out.exit_code == 1 and "Hint: create the folder first" in out.output
        assert f"No such file or directory (the folder {target.parent} does not exist): {target}\n" in out.output
        assert ".partial-" not in out.output
    compared = invoke("compare", "the-pile", "c4", "-o", tmp_path / "nope" / "c.md", "--catalog", example_catalog_dir)
    assert compared.exit_code == 1 and f"(the folder {tmp_path / 'nope'} does not exist): " in compared.output
    assert ".partial-" not in compared.output


def test_output_through_a_symlink_loop_is_a_message(invoke, example_catalog_dir: Path,  # type: ignore[no-untyped-def]
                                                      tmp_path: Path) -> None:
    """-o naming a link that leads back to itself (was a RuntimeError traceback from Path.resolve)."""
    loop = tmp_path / "l1"
    (tmp_path / "l2").symlink_to("l1")
    loop.symlink_to("l2")
    for args in (["export", "ttl"], ["export", "json", "--center", "the-pile"],
                 ["compare", "the-pile", "c4", "--format", "html"]):
        out = invoke(*args, "-o", loop, "--catalog", example_catalog_dir)
        assert out.exit_code == 1, out.output
        assert f"Too many levels of symbolic links (the links form a loop): {loop}" in out.output, out.output
        assert "\nHint: a symbolic link in the path leads back to itself" in out.output
    inside = invoke("export", "ttl", "-o", loop / "x.ttl", "--catalog", example_catalog_dir)
    assert inside.exit_code == 1 and "Hint: a symbolic link in the path leads back" in inside.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l1", "l2"]  # no partial file left
    with pytest.raises(OSError, match="the links form a loop"):
        with atomic_output(loop):
            pass


def test_a_killed_exports_partial_file_is_removed_by_the_next(invoke, example_catalog_dir: Path,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    """kill -9 during an export leaves .NAME.partial-PID; the next export of that file deletes the
    ones whose process is gone, not one a live process is writing."""
    import os
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f".out.ttl.partial-{int(gone.stdout)}"
    live = tmp_path / f".out.ttl.partial-{os.getppid()}"
    for path in (dead, live):
        path.write_bytes(b"half an export")
    out = invoke("export", "ttl", "-o", tmp_path / "out.ttl", "--catalog", example_catalog_dir)
    assert out.exit_code == 0, out.output
    assert not dead.exists() and live.exists() and (tmp_path / "out.ttl").stat().st_size > 1000


def test_a_partial_file_whose_number_is_no_process_id_is_left_alone(invoke, example_catalog_dir: Path,  # type: ignore[no-untyped-def]
                                                                    tmp_path: Path) -> None:
    """``.out.ttl.partial-99999999999`` beside the output (no process has that id) made the export
    end in an OverflowError traceback from os.kill; it is not a writer's file: left as it is."""
    odd = tmp_path / ".out.ttl.partial-99999999999"
    odd.write_bytes(b"not ours")
    out = invoke("export", "ttl", "-o", tmp_path / "out.ttl", "--catalog", example_catalog_dir)
    assert out.exit_code == 0, out.output
    assert odd.read_bytes() == b"not ours" and (tmp_path / "out.ttl").stat().st_size > 1000


def test_graph_view_options_are_refused_for_a_whole_dump(invoke, example_catalog_dir: Path) -> None:  # type: ignore[no-untyped-def]
    out = invoke("export", "ttl", "--center", "the-pile", "--catalog", example_catalog_dir)
    assert out.exit_code == 2 and "--center" in out.output and "CONSTRUCT" in out.output


def test_depth_zero_is_the_centre_alone(invoke, example_catalog_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sizes = []
    for depth in (0, 1):
        path = tmp_path / f"d{depth}.json"
        assert invoke("export", "json", "--center", "the-pile", "--depth", depth, "-o", path,
                      "--catalog", example_catalog_dir).exit_code == 0
        sizes.append(len(json.loads(path.read_text(encoding="utf-8"))["nodes"]))
    assert sizes[0] == 1 and sizes[1] > 1


def test_weights_files_take_exponents_and_refuse_infinity(invoke, example_catalog_dir: Path,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    exponent = tmp_path / "w.json"
    exponent.write_text('{"rank": {"adoption": 2e-1}}', encoding="utf-8")
    assert invoke("scores", "--weights", exponent, "--limit", "2", "--catalog", example_catalog_dir).exit_code == 0
    infinite = tmp_path / "inf.yaml"
    infinite.write_text("rank: {adoption: .inf}\n", encoding="utf-8")
    out = invoke("scores", "--weights", infinite, "--catalog", example_catalog_dir)
    assert out.exit_code != 0 and "and finite" in out.output


def test_a_taken_port_is_an_error_before_serving_is_announced(example_catalog_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "matchgraph", "--catalog", str(example_catalog_dir), "serve",
                               "--port", str(port)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "cannot listen" in done.stderr and "--port" in done.stderr
    assert "Serving" not in done.stderr and "Traceback" not in done.stderr
