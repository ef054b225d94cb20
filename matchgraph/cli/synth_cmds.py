"""Command that writes synthetic catalogs: synth."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import click

from . import cli, echo_json, handle_errors, progress_bar


class _ReportFormat(click.ParamType):
    """``--format text|json``, the report's format as for every other command; the values ``cards`` and
    ``ttl``, which ``--format`` meant here before ``--files``, are still taken (with a note)."""

    name = "format"

    def get_metavar(self, *args: Any, **kwargs: Any) -> str:
        return "[text|json]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).lower()
        if text in ("text", "json", "cards", "ttl"):
            return text
        self.fail(f"{value!r} is not one of 'text', 'json' (what to write is --files cards|ttl)", param, ctx)


@cli.command()
@click.option("-n", "--entities", "count", type=click.IntRange(min=1), required=True,
              help="Number of entities to generate.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write (new or empty).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: same seed, same files.")
@click.option("--files", "files", type=click.Choice(["cards", "ttl"], case_sensitive=False), default=None,
              help="What to write: Markdown entity cards, or Turtle (1000 entities per file) for large catalogs. "
                   "Default: cards")
@click.option("--force", is_flag=True, help="Write into a non-empty folder (same-named files are replaced).")
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
@click.option("--format", "fmt", type=_ReportFormat(), default="text", show_default=True,
              help="The report: text, or JSON for scripts.")
@click.option("--json", "as_json", is_flag=True, hidden=True, help="Deprecated: --format json.")
@handle_errors
def synth(count: int, output: Path, seed: int, files: str | None, force: bool, no_progress: bool, fmt: str,
          as_json: bool) -> None:
    """Write a synthetic catalog with a realistic shape, for benchmarks and scale tests.

    Kinds in fixed shares (45% models, 25% datasets, ...), heavy-tailed popularity, 3-15
    capabilities per entity built from the capability concepts, claims naming other entities,
    usage metrics, lineage and integrations. Ingest the folder with 'matchgraph ingest'.

    \b
    Example:
        matchgraph synth --entities 1000 -o /tmp/synth-1k
        matchgraph synth -n 100000 -o /tmp/synth-100k --files ttl --seed 7 --format json
        matchgraph --catalog /tmp/cat ingest /tmp/synth-1k
    """
    from ..sources.synth import generate

    if fmt in ("cards", "ttl"):  # --format cards|ttl from before --files
        if files is not None and files.lower() != fmt:
            raise click.UsageError(f"--format {fmt} (the old spelling of --files {fmt}) and --files {files} disagree")
        click.echo(f"Note: --format {fmt} is now --files {fmt} (--format sets the report: text or json).", err=True)
        files, fmt = fmt, "text"
    if as_json:
        click.echo("Note: --json is now --format json.", err=True)
        fmt = "json"
    files = (files or "cards").lower()
    progress, update = progress_bar(not no_progress)
    if progress is not None:
        with progress:
            report = generate(count, output, seed=seed, fmt=files, overwrite=force, progress=update)
    else:
        report = generate(count, output, seed=seed, fmt=files, overwrite=force)
    if fmt == "json":
        echo_json(report.to_dict())
        return
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(report.by_kind.items(), key=lambda kv: (-kv[1], kv[0])))
    click.echo(f"Wrote {report.entities} entities ({kinds}) in {report.files} "
               f"{'cards' if report.fmt == 'cards' else 'Turtle files'} under {output}.")
    click.echo(f"{report.capabilities} capabilities, {report.claims} claims ({report.unique_claims} unique, "
               f"{report.alternative_claims} vs alternatives), {report.relations} relations, "
               f"{report.metrics} metrics.")
    click.echo(f"Ingest with: matchgraph ingest {shlex.quote(str(output))}")
