"""The ``matchgraph`` command line: a thin click layer over the library.

Each command parses its options, calls one library function and prints. Library errors are
mapped to click errors here, once: usage problems exit 2, everything else exits 1, always with
the hint that says how to fix it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from importlib import import_module
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from ..errors import MatchgraphError

if TYPE_CHECKING:  # pragma: no cover
    from ..store.catalog import Catalog

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["main", "cli", "catalog_option", "format_option", "handle_errors", "atomic_output", "echo_json", "echo_text",
           "json_safe", "terminal_safe", "progress_bar", "open_catalog", "load_all_commands", "COMMAND_MODULES"]


class MatchgraphUsageError(click.UsageError):
    """A usage error that keeps the library's hint."""


def handle_errors(func: F) -> F:
    """Turn library errors into click errors with their hint (exit 1, or 2 for usage problems).

    A command run with ``--format json`` prints the error as one JSON object on standard error
    instead (:meth:`matchgraph.errors.MatchgraphError.to_dict`: ``error``, ``message``, ``hint``,
    ``exit_code``, and ``file``/``line``/``json_path`` or ``candidates`` when known), with the same
    exit code, so that a script reads what went wrong without parsing prose; standard output stays
    empty. So are the click usage errors the command raises once it runs (``error``: ``UsageError``);
    errors click finds in the options themselves, before the command runs, stay text.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = _json_output(kwargs)
        try:
            return func(*args, **kwargs)
        except MatchgraphError as exc:
            if as_json:
                _exit_json(exc.to_dict(), exc.exit_code)
            if exc.exit_code == 2:
                raise MatchgraphUsageError(str(exc)) from exc
            raise click.ClickException(str(exc)) from exc
        except click.ClickException as exc:  # a usage error the command itself found (options that exclude each other)
            if as_json:
                _exit_json({"error": type(exc).__name__, "message": exc.format_message(), "hint": None,
                            "exit_code": exc.exit_code}, exc.exit_code)
            raise
        except BrokenPipeError:  # the reader went away (| head): stop quietly, as other tools do
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except OSError as exc:  # the system said no: a missing folder, no permission, a full disk
            message = _os_message(exc)
            if as_json:
                text, _, hint = message.partition("\nHint: ")
                _exit_json({"error": type(exc).__name__, "message": text, "hint": hint or None, "exit_code": 1,
                            "file": exc.filename}, 1)
            raise click.ClickException(message) from exc

    return wrapper  # type: ignore[return-value]


def _json_output(kwargs: dict[str, Any]) -> bool:
    """Whether the command runs with the option ``--format json`` (``export json`` names a file
    format with an argument of the same name: its errors stay text)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or str(kwargs.get("fmt") or "").lower() != "json":
        return False
    return any(isinstance(p, click.Option) and p.name == "fmt" for p in ctx.command.params)


def _exit_json(error: dict[str, Any], code: int) -> None:
    """Print an error as one line of JSON on standard error and exit with ``code``."""
    click.echo(json_safe(json.dumps(error, ensure_ascii=False, default=str)), err=True)
    sys.exit(code)


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[IO[bytes]]:
    """A binary file that becomes ``path`` only when the block ends without an error: an
    interrupted export (Ctrl-C, a full disk) leaves the previous file as it was and no partial one.

    Raises
    ------
    OSError
        ``ELOOP`` when ``path`` is a symbolic link that leads back to itself (``ln -s l2 l1; ln -s l1 l2``),
        which :func:`handle_errors` prints as a message with a hint; pathlib raises a RuntimeError
        for it up to Python 3.12.
    """
    import errno
    import stat

    try:
        target = path.resolve() if path.is_symlink() else path  # a link keeps pointing at the new file
    except RuntimeError as exc:  # Python 3.13 returns a path here, and the stat below raises ELOOP
        raise OSError(errno.ELOOP, f"{os.strerror(errno.ELOOP)} (the links form a loop)", str(path)) from exc
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):  # /dev/stdout, a FIFO: written in place
        with target.open("wb") as handle:
            yield handle
        return
    _remove_abandoned_partials(target)
    partial = target.with_name(f".{target.name[:200]}.partial-{os.getpid()}")
    try:
        opened = partial.open("wb")
    except OSError as exc:  # said of the user's path, not of the hidden partial file beside it
        raise _about_target(exc, path) from None
    try:
        with opened as handle:
            if mode is not None:
                os.chmod(partial, stat.S_IMODE(mode))  # a private export stays private
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _about_target(exc: OSError, path: Path) -> OSError:
    """The error of opening an output's partial file, told of the output ``path`` the user gave: a
    missing folder says which folder does not exist (``/nonexistent/dir``), a refusal names ``path``.

    Examples
    --------
    >>> _about_target(FileNotFoundError(2, "No such file or directory", "/no/dir/.x.ttl.partial-1"),
    ...               Path("/no/dir/x.ttl")).strerror
    'No such file or directory (the folder /no/dir does not exist)'
    """
    import errno

    what = exc.strerror or str(exc)
    folder = path.parent
    if exc.errno == errno.ENOENT and not folder.exists():
        what = f"{what} (the folder {folder} does not exist)"
    elif exc.errno == errno.ENOTDIR:
        what = f"{what} (a part of {folder} is a file)"
    return OSError(exc.errno, what, str(path))


def _remove_abandoned_partials(target: Path) -> None:
    """Delete the partial files of earlier writes of ``target`` whose process is gone (a ``kill -9``
    leaves its ``.NAME.partial-PID`` beside the file; a 22 MB export's stayed for good)."""
    from ..store.isolation import abandoned

    for partial, _ in abandoned(target.parent, target.name[:200], ("partial",)):
        if partial.is_file():
            partial.unlink(missing_ok=True)


def _os_message(exc: OSError) -> str:
    """An operating system error as one sentence with a hint (no traceback)."""
    import errno

    what = exc.strerror or str(exc)
    where = f": {exc.filename}" if exc.filename else ""
    hints = {errno.ENOENT: "create the folder first (mkdir -p), or give a path in a folder that exists",
             errno.EACCES: "this user may not write there: choose another path, or ask for write access "
                           "(a read-only catalog can still be read)",
             errno.EROFS: "the file system is read-only: write somewhere else",
             errno.ENOSPC: "free some disk space, or write somewhere else",
             errno.EEXIST: "choose a path that is not taken", errno.ENOTDIR: "a part of the path is a file",
             errno.ELOOP: "a symbolic link in the path leads back to itself through other links: remove it or "
                          "point it at a real file or folder (ls -l shows where a link leads), or write to another "
                          "path"}
    hint = hints.get(exc.errno or 0)
    if hint is None and "Permission denied" in what:
        hint = hints[errno.EACCES]
    return f"{what}{where}" + (f"\nHint: {hint}" if hint else "")


def catalog_option(func: F) -> F:
    """``--catalog PATH``: the catalog location (else $MATCHGRAPH_CATALOG, else ./.matchgraph)."""
    return click.option(
        "--catalog", "catalog_location", metavar="PATH|memory:|URL", envvar="MATCHGRAPH_CATALOG",
        help="Catalog directory (embedded Oxigraph), 'memory:' or a SPARQL endpoint URL. "
             "Default: $MATCHGRAPH_CATALOG or ./.matchgraph",
    )(func)


def format_option(*choices: str, default: str | None = None) -> Callable[[F], F]:
    """``--format`` with the given choices; the first is the default."""

    def decorator(func: F) -> F:
        return click.option("--format", "fmt", type=click.Choice(list(choices), case_sensitive=False),
                            default=default or choices[0], show_default=True,
                            help="Output format (json for scripts).")(func)

    return decorator


def open_catalog(location: str | None, *, update_url: str | None = None, create: bool = False) -> Catalog:
    """Open the catalog a command works on.

    Commands that only read refuse a location without a catalog (``create=False``); the ones that
    write (ingest, import) create it, but not in a folder of other files. Notices from the store
    (an interrupted write rolled back, a wait for another writer) go to stderr.

    Raises
    ------
    CatalogError
        No catalog at the location (``create=False``), or one may not be made there.
    click.UsageError
        ``--update-url`` given on the command line for a catalog that is not at a URL.
    """
    from ..store.catalog import Catalog

    def notify(message: str) -> None:
        click.echo(f"Note: {message}", err=True)

    catalog = Catalog(location, update_url=update_url, notify=notify)
    try:
        _check_update_url(catalog)
        if create:
            catalog.check_creatable()
        else:
            catalog.require()
    except BaseException:
        catalog.close()
        raise
    return catalog


def _check_update_url(catalog: Catalog) -> None:
    """Refuse ``--update-url`` typed for a catalog that is a folder or ``memory:``: it would be ignored.
    ($MATCHGRAPH_UPDATE_URL set in the shell for another catalog is left alone.)"""
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx is not None else None
    if root is None or (catalog.path is None and catalog.location != "memory:"):
        return
    if root.get_parameter_source("update_url") == ParameterSource.COMMANDLINE:
        raise click.UsageError(f"--update-url is for a catalog at a SPARQL endpoint URL; the catalog here is "
                               f"{catalog.location}. Give --catalog the endpoint's query URL as well, or leave "
                               "--update-url out")


def echo_json(data: Any) -> None:
    r"""Print JSON for scripts. JSON escapes the C0 control characters itself; DEL and the C1 ones
    (``\x85``, the 8-bit CSI ``\x9b``), which it may carry raw, are escaped by :func:`json_safe`."""
    click.echo(json_safe(json.dumps(data, indent=2, ensure_ascii=False, default=str)))


def json_safe(text: str) -> str:
    r"""JSON text with DEL and the C1 control characters written ``\u00XX`` (JSON may carry them raw;
    a terminal may act on them); ``json.loads`` reads the same value back."""
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


#: DEL and the C1 control characters, which JSON need not escape but a terminal may act on.
_C1 = re.compile(r"[\x7f-\x9f]")


#: Control characters a terminal acts on (bell, escape sequences, 8-bit CSI), but for newline and tab.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    r"""Text for a terminal with its control characters shown, not obeyed: a name imported with
    ``ESC ]0;...BEL`` in it would otherwise set the terminal's title (or worse) when printed.

    Examples
    --------
    >>> terminal_safe("Bell\x07 and \x1b]0;title\x07\ttab")
    'Bell\\x07 and \\x1b]0;title\\x07\ttab'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def echo_text(text: str = "", **kwargs: Any) -> None:
    """``click.echo`` of text that holds catalog values (names, descriptions, claims): :func:`terminal_safe`."""
    click.echo(terminal_safe(text), **kwargs)


def progress_bar(enabled: bool):  # type: ignore[no-untyped-def]
    """A rich progress bar on stderr when it is a terminal, else a silent callback."""
    if not enabled or not sys.stderr.isatty():
        return None, None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=True)
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return progress, update


#: Command name -> the module of this package that defines it. Modules are imported only when
#: their command runs (or help lists it), so a command starts without loading the others.
COMMAND_MODULES = {
    **dict.fromkeys(("ingest", "sparql", "validate", "stats", "export", "classify"), "catalog_cmds"),
    **dict.fromkeys(("scores", "explain", "neighbours", "compare"), "graph_cmds"),
    **dict.fromkeys(("match", "matches"), "match_cmds"),
    **dict.fromkeys(("serve", "site"), "serve_cmds"),
    "import": "import_cmds",
    "synth": "synth_cmds",
}


class _LazyGroup(click.Group):
    """A group whose commands register themselves when their module is imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            import_module(f"{__name__}.{COMMAND_MODULES[cmd_name]}")
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; Ctrl-C exits 130 with one line (click's own handling says "Aborted!" and exits 1)."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            _interrupted()
            raise click.exceptions.Exit(INTERRUPTED) from None


#: Exit status after Ctrl-C (SIGINT): 128 + 2, as shells report a command stopped by the signal.
INTERRUPTED = 130


def _interrupted() -> None:
    """Say on stderr, in one line, that Ctrl-C stopped the command and what that left."""
    start = "\n" if sys.stderr.isatty() else ""  # past the terminal's ^C
    click.echo(f"{start}Interrupted (Ctrl-C): the command stopped; an unfinished write leaves the catalog "
               "and any output file as they were.", err=True)


def load_all_commands() -> dict[str, click.Command]:
    """Import every command module (as ``--help`` does) and return the registered commands by name."""
    for module in sorted(set(COMMAND_MODULES.values())):
        import_module(f"{__name__}.{module}")
    return dict(cli.commands)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="matchgraph")
@click.option("--catalog", "catalog_location", metavar="PATH|memory:|URL", expose_value=True,
              help="Catalog for every command (same as each command's --catalog).")
@click.option("--update-url", metavar="URL", envvar="MATCHGRAPH_UPDATE_URL",
              help="SPARQL Update endpoint of a remote catalog when it is not the query URL "
                   "(Oxigraph server: http://HOST:PORT/update). Default: $MATCHGRAPH_UPDATE_URL")
def cli(catalog_location: str | None, update_url: str | None) -> None:
    """matchgraph: a knowledge-graph backed match engine for AI artifacts.

    \b
    Example:
        matchgraph ingest examples/catalog
        matchgraph neighbours the-pile
        matchgraph match "small fast masked language model for CPU inference"
    """
    _check_environment(update_url)
    if catalog_location:
        os.environ["MATCHGRAPH_CATALOG"] = catalog_location
    if update_url:
        os.environ["MATCHGRAPH_UPDATE_URL"] = update_url


class _SettingError(click.ClickException):
    """A ``MATCHGRAPH_*`` variable (or ``--update-url``) that cannot be used: exit 2, without the usage
    lines (they say nothing about the environment)."""

    exit_code = 2


def _check_environment(update_url: str | None) -> None:
    """Every ``MATCHGRAPH_*`` variable that is set, checked before the command runs (a bad value is an
    error naming it, whichever command would read it), and ``--update-url``; a near-miss of a
    variable's name gets a note."""
    from ..env import check_environment, parse_url

    try:
        notes = check_environment()
        if update_url:
            parse_url("--update-url", update_url)
    except MatchgraphError as exc:
        raise _SettingError(str(exc)) from exc
    for note in notes:
        click.echo(f"Note: {note}", err=True)


def main() -> None:
    """Entry point of the ``matchgraph`` console script."""
    import logging

    # rdflib logs a literal it cannot convert ("abc"^^xsd:integer) with a traceback before our own
    # error names the file and line; the command line shows the error alone
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    try:
        cli(prog_name="matchgraph")
    except KeyboardInterrupt:  # before a command runs (while click parses, or imports a command)
        _interrupted()
        sys.exit(INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
