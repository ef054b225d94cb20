"""``matchgraph import``: Croissant, Hugging Face Hub metadata and the MTEB catalog."""

from __future__ import annotations

from pathlib import Path

import click

from . import catalog_option, cli, echo_json, echo_text, format_option, handle_errors, open_catalog, progress_bar

#: How many merges, near-misses and skipped reasons the text summary lists.
SHOWN = 8


@cli.group("import")
def import_group() -> None:
    """Import the ecosystem's own metadata: Croissant, Hugging Face Hub, MTEB.

    Each import links what it reads to the entities the catalog already has (by hub id, URL and
    name), writes everything in one transaction, and can be run again to refresh.

    \b
    Example:
        matchgraph import croissant examples/croissant
        matchgraph import mteb examples/mteb
    """


def _run(fmt: str, no_progress: bool, catalog_location: str | None, call):  # type: ignore[no-untyped-def]
    progress, update = progress_bar(not no_progress)
    with open_catalog(catalog_location, create=True) as catalog:
        if progress is not None:
            with progress:
                summary = call(catalog, update)
        else:
            summary = call(catalog, None)
    if fmt == "json":
        echo_json(summary.to_dict())
    else:
        _print_summary(summary)


def _print_summary(summary) -> None:  # type: ignore[no-untyped-def]
    files = len(summary.files)
    click.echo(f"Imported {summary.records} records from {files} {summary.importer} file{'s' if files != 1 else ''} "
               f"in {summary.seconds:.1f} s.")
    click.echo(f"Entities: {summary.created} created ({summary.stubs_filled} of them filled stubs), "
               f"{summary.updated} updated, {summary.merged} merged into entities other sources describe; "
               f"{summary.stubs} new stubs.")
    training = summary.details.get("training_sets")
    if training:
        click.echo(f"Training sets: {training['to_datasets']} of {training['names']} distinct names link to "
                   f"datasets ({training['via_task']} through MTEB tasks, {training['via_catalog']} by name); "
                   f"{training['to_other']} to other entities, {training['stubs']} became stubs.")
    merges = summary.linking.merges
    if merges:
        click.echo(f"Merged ({len(merges)}):")
        for m in merges[:SHOWN]:
            echo_text(f"  {m.record} -> {m.slug} ({m.target}) by {m.via}")
        if len(merges) > SHOWN:
            click.echo(f"  ... and {len(merges) - SHOWN} more (--format json lists all)")
    near = summary.linking.near_misses
    if near:
        click.echo(f"Near-misses to confirm ({len(near)}), kept separate:")
        for n in near[:SHOWN]:
            names = ", ".join(f"{s} ({name})" for s, name in n.candidates)
            echo_text(f"  {n.record} [{n.slug}] ~ {names}: {n.reason}")
        if len(near) > SHOWN:
            click.echo(f"  ... and {len(near) - SHOWN} more (--format json lists all)")
    if summary.linking.kept:
        click.echo(f"Facts kept as observations because another source already gives them: "
                   f"{len(summary.linking.kept)}.")
    reasons = summary.skipped_by_reason()
    if reasons:
        click.echo(f"Skipped ({len(summary.skipped)}):")
        for reason, n in list(reasons.items())[:SHOWN]:
            click.echo(f"  {n} x {reason}")
    if summary.ingest is not None:
        added = summary.ingest.triples_after - summary.ingest.triples_before
        click.echo(f"Catalog: {summary.ingest.triples_after} triples ({added:+d}), "
                   f"version {summary.ingest.version[:12]}.")


def _common(func):  # type: ignore[no-untyped-def]
    func = click.option("--no-validate", is_flag=True, help="Skip the SHACL check.")(func)
    func = click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")(func)
    return func


@import_group.command("croissant")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_common
@catalog_option
@format_option("text", "json")
@handle_errors
def croissant(paths: tuple[Path, ...], no_validate: bool, no_progress: bool, catalog_location: str | None,
              fmt: str) -> None:
    """Import Croissant (MLCommons) dataset metadata: files or folders of JSON-LD.

    Each file becomes a Dataset with its licence, url, citation, creators, dates, keywords,
    file formats and record structure; any invalid file stops the import and is named.

    \b
    Example:
        matchgraph import croissant examples/croissant
        matchgraph import croissant examples/croissant/huggingface-c4.json --format json
    """
    from ..sources.importers import import_croissant

    _run(fmt, no_progress, catalog_location,
         lambda cat, update: import_croissant(cat, paths, validate=not no_validate, progress=update))


@import_group.command("hf")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--search", help="Live mode: search the Hub for this text.")
@click.option("--author", help="Live mode: only this user's or organisation's repositories.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True,
              help="Live mode: at most this many, most downloaded first.")
@click.option("--datasets", "kind", flag_value="dataset", help="Live mode: list datasets instead of models.")
@click.option("--models", "kind", flag_value="model", default=True, hidden=True)
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path),
              help="Live mode: where to keep the Hub's answer (default: in the catalog's cache).")
@_common
@catalog_option
@format_option("text", "json")
@handle_errors
def hf(file: Path | None, search: str | None, author: str | None, limit: int, kind: str, save: Path | None,
       no_validate: bool, no_progress: bool, catalog_location: str | None, fmt: str) -> None:
    """Import Hugging Face Hub metadata: an API answer (JSON) or a model-card README.md.

    Downloads and likes become adoption metrics, pipeline tags and tags capabilities, libraries
    integrations, base_model derivedFrom, datasets trainedOn, model-index benchmark results.
    With --search or --author (and no FILE) it asks the Hub live (needs 'pip install matchgraph[hf]').

    \b
    Example:
        matchgraph import hf --author sentence-transformers --limit 20 --save models.json
        matchgraph import hf models.json
    """
    from ..sources.importers import import_hf, save_hub_listing
    from ..vocab import slugify

    if file is None and not (search or author):
        raise click.UsageError("give a FILE, or --search/--author to ask the Hub")
    if file is not None and (search or author):
        raise click.UsageError("give either a FILE or --search/--author, not both")

    def call(catalog, update):  # type: ignore[no-untyped-def]
        path = file
        if path is None:  # pragma: no cover - live mode needs the network
            name = slugify(f"{kind}-{search or ''}-{author or ''}-{limit}")
            path = save_hub_listing(kind, save or catalog.cache_dir / "hub" / f"{name}.json",
                                    search=search, author=author, limit=limit)
        return import_hf(catalog, path, validate=not no_validate, progress=update)

    _run(fmt, no_progress, catalog_location, call)


@import_group.command("mteb")
@click.argument("directory", type=click.Path(path_type=Path))
@_common
@catalog_option
@format_option("text", "json")
@handle_errors
def mteb(directory: Path, no_validate: bool, no_progress: bool, catalog_location: str | None, fmt: str) -> None:
    """Import the MTEB model and task catalog (a folder with models.jsonl and tasks.jsonl).

    Models become Model entities with capabilities from their fields, each task's dataset a
    Dataset and each task a Benchmark; training sets, adapted-from, frameworks and superseded-by
    become relations. The summary says how many training-set names resolved to datasets.

    \b
    Example:
        matchgraph import mteb examples/mteb
        matchgraph import mteb examples/mteb --format json
    """
    from ..sources.importers import import_mteb

    _run(fmt, no_progress, catalog_location,
         lambda cat, update: import_mteb(cat, directory, validate=not no_validate, progress=update))
