"""What a new user met on the Quickstart catalog: each bad input an error that names the file or
value, says what is wrong and how to fix it, exits non-zero without a traceback, and leaves the
catalog (and the user's own folders) exactly as they were."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from matchgraph import Catalog
from matchgraph.errors import CatalogError

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
CARDS = DATA / "cards"


def _tree(folder: Path) -> list[str]:
    """Every path below ``folder``, relative and sorted (what a refused command must not change)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# ------------------------------------------------------------------ 1. --catalog on a folder of other files


def test_a_folder_of_other_files_is_not_made_a_catalog(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``--catalog examples ingest examples/catalog`` wrote CURRENT, locks/ and versions/ among the sources."""
    source = tmp_path / "examples"
    shutil.copytree(CARDS, source / "cards")
    (source / "README.md").write_text("# my notes\n", encoding="utf-8")
    before = _tree(source)
    for args in (["--catalog", source, "ingest", source / "cards"], ["ingest", source / "cards", "--catalog", source],
                 ["import", "croissant", DATA / "croissant" / "huggingface-c4.json", "--catalog", source]):
        out = invoke(*args)
        assert out.exit_code == 1, out.output
        assert f"{source} is a folder of other files (README.md, cards)" in out.output
        assert "Hint: name an empty or new folder" in out.output and "Traceback" not in out.output
        assert _tree(source) == before
    with pytest.raises(CatalogError, match="not a catalog"):  # the library refuses it too
        with Catalog(source) as cat:
            cat.write({})
    assert _tree(source) == before


def test_an_empty_or_new_folder_and_an_existing_catalog_still_work(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty"
    empty.mkdir()
    marked = tmp_path / "marked"  # what a file manager, git or a file system leave in an empty folder
    (marked / "lost+found").mkdir(parents=True)
    (marked / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (marked / ".gitkeep").write_text("", encoding="utf-8")
    for location in (empty, marked, tmp_path / "new" / "catalog"):
        first = invoke("--catalog", location, "ingest", CARDS / "toy-corpus.md")
        assert first.exit_code == 0, first.output
        again = invoke("--catalog", location, "ingest", CARDS / "toy-bench.md")  # a catalog now: written again
        assert again.exit_code == 0, again.output
        assert invoke("--catalog", location, "stats").exit_code == 0


def test_locations_that_are_not_folders_are_said_so(invoke, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An endpoint without ``http://`` became a folder named ``localhost:7878``; ``--update-url`` for a
    folder catalog was ignored."""
    monkeypatch.chdir(tmp_path)
    out = invoke("--catalog", "localhost:7878/query", "ingest", CARDS / "toy-corpus.md")
    assert out.exit_code == 1 and "reads as a server address" in out.output
    assert "http://localhost:7878/query" in out.output and not (tmp_path / "localhost:7878").exists()
    out = invoke("--catalog", "ftp://example.org/catalog", "stats")
    assert out.exit_code == 1 and "is a URL matchgraph cannot use" in out.output and "http://" in out.output
    assert list(tmp_path.iterdir()) == []
    catalog = tmp_path / "catalog"
    assert invoke("--catalog", catalog, "ingest", CARDS / "toy-corpus.md").exit_code == 0
    out = invoke("--catalog", catalog, "--update-url", "http://127.0.0.1:7878/update", "stats")
    assert out.exit_code == 2 and "--update-url is for a catalog at a SPARQL endpoint URL" in out.output
    monkeypatch.setenv("MATCHGRAPH_UPDATE_URL", "http://127.0.0.1:7878/update")  # set for another catalog: fine
    assert invoke("--catalog", catalog, "stats").exit_code == 0


# ------------------------------------------------------------------ 3. a missing input is named


@pytest.mark.parametrize("command", [["import", "hf"], ["import", "croissant"], ["import", "mteb"], ["ingest"]])
def test_a_missing_input_is_named_by_every_importer_and_ingest(invoke, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               command: list[str]) -> None:
    """``import hf models.json`` said only "no such file"."""
    missing = tmp_path / "models.json"
    out = invoke(*command, missing, "--catalog", tmp_path / "catalog")
    assert out.exit_code == 1 and f"Error: {missing}: no such" in out.output and "Hint:" in out.output
    assert not (tmp_path / "catalog").exists()


def test_a_folder_or_file_given_for_the_other_says_which_to_give(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``import mteb examples/mteb/models.jsonl`` and ``import hf FOLDER`` name what to give instead."""
    mteb = ROOT / "examples" / "mteb"
    out = invoke("import", "mteb", mteb / "models.jsonl", "--catalog", tmp_path / "catalog")
    assert out.exit_code == 1 and "a file, not a folder" in out.output and f"matchgraph import mteb {mteb}" in out.output
    card = DATA / "hf" / "legal-retriever"
    out = invoke("import", "hf", card, "--catalog", tmp_path / "catalog")
    assert out.exit_code == 1 and f"matchgraph import hf {card / 'README.md'}" in out.output
    out = invoke("import", "croissant", CARDS, "--catalog", tmp_path / "catalog")
    assert out.exit_code == 1 and f"no Croissant files (.json, .jsonld) found in {CARDS}" in out.output
    assert not (tmp_path / "catalog").exists()


# ------------------------------------------------------------------ 5. site / gets a hint that helps


def test_a_site_in_the_root_folder_gets_a_sensible_hint(invoke, example_catalog_dir: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                        monkeypatch) -> None:
    """``matchgraph site /`` hinted "run it from outside the folder, e.g. from /"."""
    monkeypatch.chdir(tmp_path)
    out = invoke("site", "/", "--catalog", example_catalog_dir)
    assert out.exit_code == 1 and "Hint: give the site a folder of its own, e.g. matchgraph site ./site" in out.output
    assert "from /" not in out.output
    here = invoke("site", ".", "--catalog", example_catalog_dir)
    assert here.exit_code == 1 and f"run it from {tmp_path.parent} (cd ..) as matchgraph site {tmp_path.name}" \
        in here.output
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ 6. ingest points to the importer


def test_ingest_of_an_importers_file_names_the_import_command(invoke, peek, example_copy: Path,  # type: ignore[no-untyped-def]
                                                               tmp_path: Path) -> None:
    """``ingest examples/mteb/models.jsonl`` said only which suffixes ingest reads; a Croissant file whose
    dataset a card describes too was a conflict with no word of ``import croissant``, which merges them."""
    catalog = example_copy
    before = peek(catalog)
    mteb = ROOT / "examples" / "mteb"
    out = invoke("ingest", mteb / "models.jsonl", "--catalog", catalog)
    assert out.exit_code == 1 and f"Hint: models.jsonl is part of the MTEB catalog: matchgraph import mteb {mteb}" \
        in out.output
    c4 = ROOT / "examples" / "croissant" / "huggingface-c4.json"
    out = invoke("ingest", c4, "--catalog", catalog)
    assert out.exit_code == 1 and f"This is a Croissant file: matchgraph import croissant {c4} reads it" in out.output
    hub = tmp_path / "hub.json"
    hub.write_text('[{"id": "a/b", "modelId": "a/b", "downloads": "many", "tags": []}]', encoding="utf-8")
    out = invoke("ingest", hub, "--catalog", catalog)
    assert out.exit_code == 1 and f"is a Hugging Face Hub answer: matchgraph import hf {hub} reads it" in out.output
    assert "Traceback" not in out.output and peek(catalog) == before
    assert invoke("import", "croissant", c4, "--catalog", catalog).exit_code == 0  # what the hint says works


# ------------------------------------------------------------------ 7. every MATCHGRAPH_* variable checked alike


@pytest.mark.parametrize("name,value,expected", [
    ("MATCHGRAPH_LOCK_TIMEOUT", "abc", "is not a number of seconds"),
    ("MATCHGRAPH_MAX_FILE_SIZE", "foo", "is not a size or count"),
    ("MATCHGRAPH_RECORD_MATCHES", "maybe", "is neither on nor off"),
    ("MATCHGRAPH_PAGE_SIZE", "many", "is not a whole number of 1 or more"),
    ("MATCHGRAPH_TIMEOUT", "0", "is not a number of seconds"),
    ("MATCHGRAPH_UPDATE_URL", "localhost:7878/update", "is not an http:// or https:// URL"),
])
def test_every_matchgraph_variable_is_checked_the_same_way(invoke, example_catalog_dir: Path, monkeypatch,  # type: ignore[no-untyped-def]
                                                           name: str, value: str, expected: str) -> None:
    """``MATCHGRAPH_LOCK_TIMEOUT=abc`` was ignored (read only when a second writer waits) while
    ``MATCHGRAPH_MAX_FILE_SIZE=foo`` was an error; a command that does not read the variable ran on."""
    monkeypatch.setenv(name, value)
    out = invoke("stats", "--catalog", example_catalog_dir)
    assert out.exit_code == 2 and f"Error: {name}={value!r} {expected}\nHint: " in out.output
    assert f"e.g. {name}=" in out.output or f"{name}=0" in out.output


def test_the_library_reads_every_variable_through_one_helper(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No module reads ``os.environ`` for a MATCHGRAPH_ variable of its own (the one reader is matchgraph.env)."""
    import re

    from matchgraph.env import SETTINGS, check_environment, setting
    from matchgraph.errors import ConfigError

    readers = [str(p.relative_to(ROOT)) for p in (ROOT / "matchgraph").rglob("*.py") if p.name != "env.py"
               and re.search(r"(os\.environ\.get|os\.getenv)\(\s*(\"MATCHGRAPH|[A-Z_]*(VAR|ENV)\b)"
                             r"|os\.environ\[[^\]]*(MATCHGRAPH|VAR|ENV)[^\]]*\](?!\s*=)", p.read_text(encoding="utf-8"))]
    assert readers == []
    monkeypatch.setenv("MATCHGRAPH_LOCK_TIMEOUT", "abc")
    with pytest.raises(ConfigError, match="MATCHGRAPH_LOCK_TIMEOUT='abc'"):
        setting("MATCHGRAPH_LOCK_TIMEOUT")
    assert check_environment({"MATCHGRAPH_LOCK_TIMOUT": "5"}) == [
        "MATCHGRAPH_LOCK_TIMOUT is not a matchgraph setting: did you mean MATCHGRAPH_LOCK_TIMEOUT?"]
    documented = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert [n for n in SETTINGS if n not in documented and "TEST" not in n] == []


# ------------------------------------------------------------------ 8. a stub's neighbours point to what is described


def test_a_stub_says_so_and_suggests_described_entities_with_close_names(invoke, example_catalog_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """``neighbours bert`` said "BERT (bert) has no neighbours." with no word of bert-base-uncased."""
    out = invoke("neighbours", "bert", "--catalog", example_catalog_dir)
    assert out.exit_code == 0
    lines = out.output.splitlines()
    assert lines[0] == "BERT (bert) is a stub: other entries name it but no source describes it, and it has no neighbours."
    assert lines[1].startswith("Hint: described entities with close names: bert-base-uncased, ")
    assert lines[1].endswith("(matchgraph neighbours bert-base-uncased)") and "bert," not in lines[1]
    data = invoke("neighbours", "bert", "--format", "json", "--catalog", example_catalog_dir)
    import json

    assert json.loads(data.output)["described_alternatives"][0] == "bert-base-uncased"
    described = invoke("neighbours", "the-pile", "--limit", "1", "--format", "json", "--catalog", example_catalog_dir)
    assert "described_alternatives" not in json.loads(described.output)  # JSON of a described entity as before


# ------------------------------------------------------------------ 9. Ctrl-C exits 130


def test_ctrl_c_exits_130_with_one_line(invoke, example_catalog_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C printed "Aborted!" and exited 1; the convention (128 + SIGINT) is 130."""
    import matchgraph.graph.stats

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(matchgraph.graph.stats, "catalog_stats", interrupted)
    out = invoke("stats", "--catalog", example_catalog_dir)
    assert out.exit_code == 130 and "Aborted!" not in out.output
    assert out.stderr.strip().splitlines() == [
        "Interrupted (Ctrl-C): the command stopped; an unfinished write leaves the catalog and any output file as "
        "they were."]


def _reading_stdin(pid: int) -> bool:
    """Whether the process is blocked in read(0, ...): its standard input, not another pipe (an
    import reading a helper's output also waits in pipe_read, and a SIGINT there is not this test's)."""
    import platform

    number = {"x86_64": "0", "aarch64": "63"}.get(platform.machine())
    if number is None:
        return "pipe_read" in Path(f"/proc/{pid}/wchan").read_text()
    fields = Path(f"/proc/{pid}/syscall").read_text().split()
    return len(fields) > 1 and fields[0] == number and int(fields[1], 16) == 0


def test_a_real_sigint_exits_130(example_catalog_dir: Path) -> None:
    """The console script itself: SIGINT while ``sparql -`` waits for its query on standard input."""
    import signal
    import subprocess
    import sys
    import time

    # as a terminal starts it: a test run started in the background of a shell without job control
    # ignores SIGINT, and a child inherits that (Python then installs no Ctrl-C handler at all)
    proc = subprocess.Popen([sys.executable, "-m", "matchgraph", "sparql", "-", "--catalog", str(example_catalog_dir)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not _reading_stdin(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # until it blocks reading the query
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)  # standard input stays open: the command must stop on the signal, not on its end
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.startswith("Interrupted (Ctrl-C)") and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ------------------------------------------------------------------ 10. ingesting nothing writes nothing


def test_ingest_of_a_folder_without_input_files_is_an_error_and_writes_nothing(invoke, peek, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                              example_copy: Path) -> None:
    """``ingest docs/`` said "Ingested 0 files", exited 0 and wrote a new catalog version."""
    catalog = example_copy
    before = peek(catalog)
    docs = ROOT / "docs"
    out = invoke("ingest", docs, "--catalog", catalog)
    assert out.exit_code == 1 and f"Error: {docs}: no input files found (ingest reads .json, .jsonld, .markdown, .md" \
        in out.output
    assert "x Markdown without front matter (not a card)" in out.output and "Hint: give entity cards" in out.output
    assert peek(catalog) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    out = invoke("ingest", empty, "--catalog", tmp_path / "new")
    assert out.exit_code == 1 and f"{empty}: no input files found" in out.output and not (tmp_path / "new").exists()


# ------------------------------------------------------------------ 11. --help says what each option does


def _commands() -> list[tuple[str, object]]:
    """Every command and subcommand with its full name."""
    import click

    from matchgraph.cli import load_all_commands

    out: list[tuple[str, object]] = []
    for name, command in sorted(load_all_commands().items()):
        out.append((name, command))
        if isinstance(command, click.Group):
            out += [(f"{name} {sub}", c) for sub, c in sorted(command.commands.items())]
    return out


def test_every_option_of_every_command_says_what_it_does() -> None:
    """``classify --help`` gave --limit no description."""
    import click

    bare = [f"{name} {'/'.join(p.opts)}" for name, command in _commands() for p in command.params  # type: ignore[attr-defined]
            if isinstance(p, click.Option) and not p.hidden and not p.help]
    assert bare == []


def test_sparql_help_names_every_predeclared_prefix(invoke) -> None:  # type: ignore[no-untyped-def]
    """``sparql --help`` left out mga:, which works."""
    from matchgraph.vocab import PREFIXES

    text = " ".join(invoke("sparql", "--help").output.split())
    assert [p for p in PREFIXES if f"{p}:" not in text] == []


# ------------------------------------------------------------------ 12. a long need fits the terminal


def test_a_long_need_is_cut_to_the_terminal_width_like_the_cells(invoke, example_catalog_dir: Path,  # type: ignore[no-untyped-def]
                                                                 monkeypatch) -> None:
    """A 100 KB need was printed whole on the ``Need:`` line (its newlines too) above a table that fits 80 columns."""
    monkeypatch.setenv("COLUMNS", "80")
    need = "small fast masked language model for CPU inference\n" * 400
    out = invoke("match", need, "--no-record", "--limit", "3", "--catalog", example_catalog_dir)
    assert out.exit_code == 0
    lines = out.output.splitlines()
    assert lines[0].startswith("Need: small fast masked language model for CPU inference small fast") and \
        lines[0].endswith("…") and len(lines[0]) == 80
    assert lines[1].startswith("Concepts: ") and max(len(line) for line in lines) <= 80
    short = invoke("match", "small fast model", "--no-record", "--limit", "1", "--catalog", example_catalog_dir)
    assert short.output.splitlines()[0] == "Need: small fast model"


def test_a_folder_name_with_a_colon_and_digits_is_still_a_folder(invoke, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Only a whole HOST:PORT[/PATH] reads as a server address: 'backup:2024-01' (a name that merely
    starts like one) was refused as 'reads as a server address'."""
    monkeypatch.chdir(tmp_path)
    out = invoke("--catalog", "backup:2024-01", "ingest", CARDS / "toy-corpus.md")
    assert out.exit_code == 0, out.output
    assert (tmp_path / "backup:2024-01" / "CURRENT").is_file()
