"""Documentation: every command has help with an example and a section in docs/cli.md; formats.md
covers every input key."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from matchgraph.cli import COMMAND_MODULES, cli, load_all_commands
from matchgraph.sources.cards import _HF_KEYS
from matchgraph.vocab import KINDS, RELATIONS

DOCS = Path(__file__).resolve().parent.parent / "docs"
CLI_MD = (DOCS / "cli.md").read_text(encoding="utf-8")
FORMATS_MD = (DOCS / "formats.md").read_text(encoding="utf-8")

#: Commands a help text may show in its examples before a later issue adds them (none at present).
PENDING: set[str] = set()


def command_paths(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand, as word tuples: ("ingest",), ("import", "hf"), ..."""
    paths: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, (*prefix, name)))
    return paths


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for word in path:
        assert isinstance(command, click.Group)
        command = command.commands[word]
    return command


def section(path: tuple[str, ...]) -> str:
    """The part of docs/cli.md under the heading of a command."""
    title = re.escape(f"`matchgraph {' '.join(path)}`")
    m = re.search(rf"^(#{{2,3}}) {title}\s*$", CLI_MD, re.M)
    assert m, f"docs/cli.md has no heading for matchgraph {' '.join(path)}"
    rest = CLI_MD[m.end():]
    end = re.search(rf"^#{{1,{len(m.group(1))}}} ", rest, re.M)
    return rest[:end.start()] if end else rest


def example_lines(help_text: str) -> list[str]:
    block = help_text.split("Example:", 1)[1]
    return [ln.strip() for ln in block.splitlines() if ln.strip()]


COMMANDS = load_all_commands()
ALL = command_paths()


def test_every_command_module_is_named_for_lazy_loading() -> None:
    """The lazy group must know every command, and find each in the module it names."""
    assert set(COMMANDS) == set(COMMAND_MODULES)
    for name, command in COMMANDS.items():
        assert command.callback is not None
        assert command.callback.__module__.endswith(f".cli.{COMMAND_MODULES[name]}"), name


def test_there_are_commands() -> None:
    assert {("ingest",), ("sparql",), ("validate",), ("stats",), ("export",)} <= set(ALL)


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_help_has_a_summary_and_an_example(invoke, path: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    assert f"Usage: matchgraph {' '.join(path)}" in result.output
    assert "Example:" in result.output, f"matchgraph {' '.join(path)} --help shows no example"
    assert any(line.startswith(f"matchgraph {' '.join(path)}") for line in example_lines(result.output))
    assert command_at(path).get_short_help_str(limit=200).strip()


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_every_command_and_option_is_documented(path: tuple[str, ...]) -> None:
    text = section(path)
    assert "```" in text, "the section shows an example"
    for param in command_at(path).params:
        if isinstance(param, click.Option) and param.name != "help" and not param.hidden:
            for name in [*param.opts, *param.secondary_opts]:
                if name.startswith("--"):
                    assert name in text, f"docs/cli.md does not mention {name} of matchgraph {' '.join(path)}"


def test_top_level_help_lists_every_command(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--help")
    assert result.exit_code == 0
    listed = result.output.split("Commands:", 1)[1]
    for name in cli.commands:
        assert re.search(rf"^\s+{re.escape(name)}\s", listed, re.M), name


def test_examples_only_use_commands_that_exist(invoke) -> None:  # type: ignore[no-untyped-def]
    unknown = set()
    for path in [(), *ALL]:
        for line in example_lines(invoke(*path, "--help").output):
            words = line.split()
            if words[0] != "matchgraph":
                continue
            words = words[1:]
            while words and words[0].startswith("--"):  # global options such as --catalog PATH
                words = words[2:]
            if words and words[0] not in cli.commands:
                unknown.add(words[0])
    assert unknown <= PENDING, sorted(unknown - PENDING)


def test_version_option(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--version")
    assert result.exit_code == 0 and re.search(r"\d+\.\d+\.\d+", result.output)


# ------------------------------------------------------------------ docs/formats.md


@pytest.mark.parametrize("key", ["id", "name", "kind", "aliases", "description", "pricing", "license", "url",
                                 "metrics", "relations", "capabilities_declared", "hub_id", "version",
                                 "released", "citation", "creators", "publisher", "keywords", "tags"])
def test_formats_documents_every_card_key(key: str) -> None:
    assert f"`{key}`" in FORMATS_MD


@pytest.mark.parametrize("key", sorted(_HF_KEYS & {"license", "datasets", "base_model", "library_name",
                                                   "pipeline_tag", "tags", "language", "model-index"}))
def test_formats_documents_the_hugging_face_keys(key: str) -> None:
    assert f"`{key}`" in FORMATS_MD


@pytest.mark.parametrize("relation", sorted(RELATIONS))
def test_formats_documents_every_relation(relation: str) -> None:
    assert f"`{relation}`" in FORMATS_MD


def test_formats_documents_kinds_sections_pages_rdf_linking_and_guarantees() -> None:
    for kind in KINDS:
        assert f"`{kind}`" in FORMATS_MD, kind
    for phrase in ("## ", "Unique:", "vs alternatives:", "+4 more capabilities", "| Feature |",
                   "mg:SourceObservation", "Turtle", "N-Triples", "JSON-LD", "stub", "mg:namesAlternative",
                   "idempotent", "atomic", "shapes.ttl"):
        assert phrase in FORMATS_MD, phrase


def test_serve_documents_every_route_of_the_server() -> None:
    """docs/cli.md's list of the server's pages named four of the six (not /match, which every
    page's Match box opens, nor /compare) and not /static: each route now has a bullet or a
    mention there, and each path it documents is a route."""
    from starlette.routing import Route

    from matchgraph import Catalog
    from matchgraph.web.server import create_app

    text = section(("serve",))
    routes = [r.path for r in create_app(Catalog("memory:")).routes if isinstance(r, Route)]
    fixed = {path for path in routes if "{" not in path}  # "/", "/query", "/favicon.ico" ...
    prefixes = {path.split("{", 1)[0] for path in routes if "{" in path}  # "/entity/", "/compare/" ...
    documented = set(re.findall(r"`(/[^`?\s]*)", text))  # "/entity/ID.ttl", "/" from "/?kind=..."
    for path in fixed:
        assert path in documented, f"docs/cli.md does not document {path}"
    for prefix in prefixes:
        assert any(d.startswith(prefix) for d in documented), f"docs/cli.md does not document {prefix}..."
    for path in documented:
        assert path in fixed or path.startswith(tuple(prefixes)), f"docs/cli.md documents {path}, not a route"
    for page in ("/match?q=NEED&kind=KIND", "/compare/A/B", "/graph?center=ID&depth=N&size=N&relation=R"):
        assert f"`{page}`" in text, page


# ------------------------------------------------------------------ examples run as written


def _example_units() -> list[tuple[str, list[str]]]:
    """(where, command lines) of every example: each --help's Example block, and each doc's fenced
    blocks and inline ``matchgraph ...`` code, in order (what a unit writes, a later line may read)."""
    units = [(f"matchgraph {' '.join(path)} --help", [ln for ln in example_lines(command_at(path).help or "")
                                                      if ln.startswith("matchgraph ")]) for path in ALL]
    root = DOCS.parent
    for doc in [*sorted(DOCS.glob("*.md")), root / "README.md", root / "examples" / "README.md"]:
        lines, block = [], False
        for line in doc.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("```"):
                block = not block
            elif block:
                m = re.match(r"\s*(?:\$ )?(matchgraph\s.*)", line)
                lines += [m.group(1)] if m else []
            else:
                lines += re.findall(r"`(matchgraph [^`]*)`", line)
        units.append((str(doc.relative_to(root)), lines))
    return units


def _paths_read(words: list[str]) -> tuple[list[str], list[str]]:
    """The files and folders a command line reads, and those it writes (``-o``, ``--save``, site's OUTDIR)."""
    command: click.Command = cli
    path: list[str] = []
    reads, writes = [], []
    i = 0
    while i < len(words):
        word = words[i]
        params = {name: p for p in command.params if isinstance(p, click.Option) for name in p.opts}
        if word.startswith("-"):
            option = params.get(word.split("=", 1)[0])
            takes_value = option is not None and not option.is_flag and "=" not in word
            value = words[i + 1] if takes_value and i + 1 < len(words) else word.partition("=")[2]
            if word in ("-f", "--file", "--weights", "--examples"):
                reads.append(value)
            elif word in ("-o", "--output", "--save"):
                writes.append(value)
            i += 2 if takes_value else 1
            continue
        if isinstance(command, click.Group):
            if word not in command.commands:
                return [], []  # COMMAND, or a usage line
            command = command.commands[word]
            path.append(word)
        elif tuple(path) in {("ingest",), ("import", "croissant"), ("import", "hf"), ("import", "mteb")}:
            reads.append(word)
        elif path == ["site"]:
            writes.append(word)
        i += 1
    return reads, writes


def test_every_example_names_files_that_exist_or_a_placeholder() -> None:
    """``ingest page.txt cards/ extra.ttl``, ``import croissant c4.json``, ``import hf models.json`` and
    ``scores --weights my-weights.yaml`` failed as written from a clone's root: each file an example
    reads exists there (examples/...), is written by a line before it, or is a placeholder (PATH/TO/...)."""
    import shlex

    root = DOCS.parent
    missing = []
    for where, lines in _example_units():
        written: set[str] = set()
        for line in lines:
            words = shlex.split(line, comments=True)[1:]
            reads, writes = _paths_read(words)
            for path in reads:
                placeholder = re.search(r"[A-Z]{2,}", path) or path in ("...", "-")
                if not placeholder and path.rstrip("/") not in written and not (root / path).exists():
                    missing.append(f"{where}: {line}  ({path})")
            written |= {w.rstrip("/") for w in writes}
    assert missing == []
