"""Command that writes synthetic catalogs: synth."""

from __future__ import annotations

from pathlib import Path

import click

from . import cli, echo_json, handle_errors, progress_bar


@cli.command()
@click.option("-n", "--entities", "count", type=click.IntRange(min=1), required=True,
              help="Number of entities to generate.")
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder to write (new or empty).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed: same seed, same files.")
@click.option("--format", "fmt", type=click.Choice(["cards", "ttl"], case_sensitive=False), default="cards",
              show_default=True, help="Markdown entity cards, or Turtle (1000 entities per file) for large catalogs.")
@click.option("--force", is_flag=True, help="Write into a non-empty folder (same-named files are replaced).")
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@handle_errors
def synth(count: int, output: Path, seed: int, fmt: str, force: bool, no_progress: bool, as_json: bool) -> None:
    """Write a synthetic catalog with a realistic shape, for benchmarks and scale tests.

    Kinds in fixed shares (45% models, 25% datasets, ...), heavy-tailed popularity, 3-15
    capabilities per entity built from the capability concepts, claims naming other entities,
    usage metrics, lineage and integrations. Ingest the folder with 'matchgraph ingest'.

    \b
    Example:
        matchgraph synth --entities 1000 -o /tmp/synth-1k
        matchgraph synth -n 100000 -o /tmp/synth-100k --format ttl --seed 7
        matchgraph --catalog /tmp/cat ingest /tmp/synth-1k
    """
    from ..sources.synth import generate

    progress, update = progress_bar(not no_progress)
    if progress is not None:
        with progress:
            report = generate(count, output, seed=seed, fmt=fmt.lower(), overwrite=force, progress=update)
    else:
        report = generate(count, output, seed=seed, fmt=fmt.lower(), overwrite=force)
    if as_json:
        echo_json(report.to_dict())
        return
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(report.by_kind.items(), key=lambda kv: (-kv[1], kv[0])))
    click.echo(f"Wrote {report.entities} entities ({kinds}) in {report.files} "
               f"{'cards' if report.fmt == 'cards' else 'Turtle files'} under {output}.")
    click.echo(f"{report.capabilities} capabilities, {report.claims} claims ({report.unique_claims} unique, "
               f"{report.alternative_claims} vs alternatives), {report.relations} relations, "
               f"{report.metrics} metrics.")
    click.echo(f"Ingest with: matchgraph ingest {output}")
