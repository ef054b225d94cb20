"""The ``matchgraph`` command line: a thin click layer over the library.

Each command parses its options, calls one library function and prints. Library errors are
mapped to click errors here, once: usage problems exit 2, everything else exits 1, always with
the hint that says how to fix it.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..catalog import Catalog
from ..errors import MatchgraphError

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["main", "cli", "catalog_option", "format_option", "handle_errors", "echo_json", "open_catalog"]


class MatchgraphUsageError(click.UsageError):
    """A usage error that keeps the library's hint."""


def handle_errors(func: F) -> F:
    """Turn library errors into click errors with their hint (exit 1, or 2 for usage problems)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MatchgraphError as exc:
            if exc.exit_code == 2:
                raise MatchgraphUsageError(str(exc)) from exc
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


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


def open_catalog(location: str | None, *, update_url: str | None = None) -> Catalog:
    """Open the catalog a command works on."""
    return Catalog(location, update_url=update_url)


def echo_json(data: Any) -> None:
    """Print JSON for scripts."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.commands)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="matchgraph")
@click.option("--catalog", "catalog_location", metavar="PATH|memory:|URL", expose_value=True,
              help="Catalog for every command (same as each command's --catalog).")
def cli(catalog_location: str | None) -> None:
    """matchgraph: a knowledge-graph backed match engine for AI artifacts.

    \b
    Example:
        matchgraph ingest examples/catalog
        matchgraph neighbours the-pile
        matchgraph match "small fast masked language model for CPU inference"
    """
    if catalog_location:
        os.environ["MATCHGRAPH_CATALOG"] = catalog_location


def _register() -> None:
    from . import catalog_cmds  # noqa: F401

    for name in ("graph_cmds", "match_cmds", "serve_cmds", "import_cmds", "synth_cmds"):
        try:
            __import__(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise


_register()


def main() -> None:
    """Entry point of the ``matchgraph`` console script."""
    cli(prog_name="matchgraph")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
