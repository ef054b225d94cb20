"""Commands over the catalog itself: ingest, sparql, validate, stats, export, classify."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..web.params import DEPTH, SIZE
from . import (atomic_output, catalog_option, cli, echo_json, echo_text, format_option, handle_errors, open_catalog,
               progress_bar, terminal_safe)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--no-validate", is_flag=True, help="Skip the SHACL check (faster for very large trusted inputs).")
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
@catalog_option
@format_option("text", "json")
@handle_errors
def ingest(paths: tuple[Path, ...], no_validate: bool, no_progress: bool, catalog_location: str | None,
           fmt: str) -> None:
    """Ingest entity cards, comparison pages and RDF files (folders are read recursively).

    All or nothing: on any bad input the catalog is left exactly as it was.

    \b
    Example:
        matchgraph ingest examples/catalog
        matchgraph ingest examples/catalog/models examples/catalog/datasets/c4.md --format json
    """
    from ..sources.ingest import ingest as run

    progress, update = progress_bar(not no_progress)
    with open_catalog(catalog_location, create=True) as catalog:
        if progress is not None:
            with progress:
                report = run(catalog, paths, validate=not no_validate, progress=update)
        else:
            report = run(catalog, paths, validate=not no_validate)
    if fmt == "json":
        echo_json(report.to_dict())
        return
    added = report.triples_after - report.triples_before
    click.echo(f"Ingested {report.files} file{'s' if report.files != 1 else ''}: {report.entities} entities, "
               f"{report.capabilities} capabilities, {report.claims} claims, {report.stubs} new stubs.")
    click.echo(f"Catalog: {report.triples_after} triples ({added:+d}), version {report.version[:12]}.")
    for path, reason in report.skipped:
        click.echo(f"Skipped {path}: {reason}", err=True)
    for path, note in report.notes:
        click.echo(f"Note: {path}: {note}", err=True)


@cli.command()
@click.argument("query", required=False)
@click.option("-f", "--file", "query_file", type=click.File("rb"),
              help="Read the query from a file ('-' for stdin), UTF-8.")
@click.option("--update", "allow_update", is_flag=True, help="Allow SPARQL updates (the catalog is read-only otherwise).")
@click.option("--allow-service", "allow_service", multiple=True, metavar="HOST",
              help="Let SERVICE (and LOAD) reach this host; repeat for more. None by default.")
@catalog_option
@format_option("table", "json", "xml", "csv", "tsv", "turtle", "nt", "json-ld", "rdfxml", "n3")
@handle_errors
def sparql(query: str | None, query_file: click.utils.LazyFile | None, allow_update: bool,
           allow_service: tuple[str, ...], catalog_location: str | None, fmt: str) -> None:
    """Run a SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE) on the catalog.

    The prefixes mg:, mgid:, mgc: (capability concepts), mga: (comparison aspects), schema:,
    dcterms:, dcat:, prov:, skos:, rdf:, rdfs:, owl: and xsd: are predeclared, and relative IRIs
    resolve against the entity namespace (<the-pile> is mgid:the-pile). QUERY may be '-' to read standard input. SELECT and ASK write table, json,
    xml, csv or tsv; CONSTRUCT and DESCRIBE write turtle (also for table), nt, json-ld, rdfxml or
    n3. SERVICE and LOAD are refused unless --allow-service names the host.

    \b
    Example:
        matchgraph sparql "SELECT ?name WHERE { ?e a mg:Dataset ; schema:name ?name }"
        matchgraph sparql -f examples/queries/alternatives-to-c4.rq --format json
    """
    from ..store.isolation import call_isolated

    if query_file is not None and query:
        raise click.UsageError("give the query either as QUERY or with -f FILE, not both")
    if query_file is not None:
        text = _utf8(query_file.read(), getattr(query_file, "name", "<stdin>"))
    elif query == "-":
        text = _utf8(sys.stdin.buffer.read(), "<stdin>")
    elif query:
        text = query
    else:
        raise click.UsageError("give a query, -f FILE, or '-' to read standard input")
    # in a child process: an abort of the engine on its own bug becomes an error message
    data, version = call_isolated(_run_sparql, catalog_location, text, allow_update, allow_service, fmt.lower(),
                                  what="this query or update" if allow_update else "this query")
    if data is None:
        click.echo(f"Update applied; catalog version {version[:12]}.")
        return
    if fmt.lower() == "table":  # for people: catalog values' control characters shown, not obeyed
        data = terminal_safe(data.decode("utf-8")).encode("utf-8")
    stdout = sys.stdout.buffer
    stdout.write(data if data.endswith(b"\n") else data + b"\n")
    stdout.flush()


def _run_sparql(location: str | None, text: str, allow_update: bool, allow_service: tuple[str, ...],
                fmt: str) -> tuple[bytes | None, str]:
    """``matchgraph sparql``'s work, in its child process: (the written result or None for an
    update, the catalog version after an update)."""
    from ..store.sparql import check_query, run_sparql

    parsed = check_query(text, allow_update=allow_update, allow_service=allow_service, fmt=fmt)  # before the catalog
    with open_catalog(location, create=allow_update) as catalog:
        out = run_sparql(catalog, text, allow_update=allow_update, allow_service=allow_service, fmt=fmt,
                         parsed=parsed)
        return out, (catalog.version if out is None else "")


def _utf8(data: bytes, name: str) -> str:
    """A query file's text, or an InputError naming the line of the first byte that is not UTF-8."""
    from ..errors import InputError, Location

    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"byte {exc.start + 1} (0x{data[exc.start]:02x}) is not UTF-8",
                         location=Location(str(name), line=line),
                         hint="save the query as UTF-8 (iconv -f latin1 -t utf-8 FILE)") from None


@cli.command()
@catalog_option
@format_option("text", "json")
@handle_errors
def validate(catalog_location: str | None, fmt: str) -> None:
    """Check the whole catalog against the SHACL shapes; exit 0 only when it conforms.

    \b
    Example:
        matchgraph validate --format json
    """
    from ..store.validate import validate_catalog

    with open_catalog(catalog_location) as catalog:
        report = validate_catalog(catalog)
    if fmt == "json":
        echo_json(report.to_dict())
    elif report.conforms:
        click.echo("The catalog conforms to the shapes.")
    else:
        click.echo(f"{len(report.problems)} violation{'s' if len(report.problems) != 1 else ''}:")
        for problem in report.problems:
            echo_text(f"  - {problem}")
    if not report.conforms:
        sys.exit(1)


@cli.command()
@catalog_option
@format_option("table", "json")
@handle_errors
def stats(catalog_location: str | None, fmt: str) -> None:
    """Count entities by kind, stubs, capabilities, claims and triples.

    \b
    Example:
        matchgraph stats --format json
    """
    from ..graph.stats import catalog_stats

    with open_catalog(catalog_location) as catalog:
        data = catalog_stats(catalog)
    if fmt == "json":
        echo_json(data)
        return
    click.echo(f"Entities      {data['entities']} ({data['stubs']} stubs)")
    for kind, n in data["by_kind"].items():
        click.echo(f"  {kind:<12}{n}")
    click.echo(f"Capabilities  {data['capabilities']}")
    click.echo(f"Claims        {data['claims']} ({data['unique_claims']} unique, {data['alternative_claims']} vs alternatives)")
    click.echo(f"Observations  {data['observations']}")
    click.echo(f"Sources       {data['sources']}")
    click.echo(f"Triples       {data['triples']} (and {data['bookkeeping_triples']} of bookkeeping: the version "
               "and where each source was read from)")
    click.echo(f"Version       {data['version'][:12]}")


@cli.command()
@click.argument("fmt", metavar="FORMAT")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
@click.option("--center", help="Graph views: the entity at the centre.")
@click.option("--depth", type=DEPTH, default=2, show_default=True, help="Graph views: hops from --center.")
@click.option("--query", "construct", help="Graph views: a CONSTRUCT query selecting what to draw.")
@click.option("--relation", "relations", multiple=True, help="Graph views: keep only these relation kinds.")
@click.option("--size", type=SIZE, default=None,
              help="html: draw at most this many entities (default 150: the centre's nearest by relation "
                   "weight and rank, or the top-ranked without --center); warns past 2,000.")
@catalog_option
@handle_errors
def export(fmt: str, output: Path | None, center: str | None, depth: int, construct: str | None,
           relations: tuple[str, ...], size: int | None, catalog_location: str | None) -> None:
    """Export the catalog: ttl, nt, nq, trig, jsonld (RDF dumps) and graph formats (graphml, gexf, json, html).

    RDF dumps are streamed as the store is read (with a progress bar on a terminal).

    \b
    Example:
        matchgraph export ttl -o catalog.ttl
        matchgraph export html --center the-pile --depth 2 -o pile.html
    """
    from ..export import export as run
    from ..export.rdf import DUMP_FORMATS

    fmt = fmt.lower()
    if fmt in DUMP_FORMATS:
        given = [name for name, value in (("--center", center), ("--query", construct), ("--relation", relations),
                                          ("--size", size)) if value]
        if given:
            raise click.UsageError(f"{', '.join(given)} shape graph views (graphml, gexf, json, html); a {fmt} "
                                   "dump is the whole catalog. For part of it as RDF use matchgraph sparql "
                                   "'CONSTRUCT ...' --format turtle")
        _dump(fmt, output, catalog_location)
        return
    with open_catalog(catalog_location) as catalog:
        data = run(catalog, fmt, center=center, depth=depth, query=construct, relations=list(relations),
                   size=size)
    if output is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            click.echo(data, nl=not data.endswith("\n"))
        return
    with atomic_output(output) as handle:
        handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    click.echo(f"Wrote {output} ({output.stat().st_size} bytes).", err=True)


def _dump(fmt: str, output: Path | None, catalog_location: str | None) -> None:
    """Stream an RDF dump to a file or standard output, with a progress bar on a terminal."""
    from contextlib import ExitStack

    from ..export.rdf import dump

    with open_catalog(catalog_location) as catalog, ExitStack() as stack:
        progress = None
        if sys.stderr.isatty():
            store = catalog.oxigraph
            bar = stack.enter_context(click.progressbar(
                length=len(store) if store is not None else 0, label=f"Writing {fmt}", file=sys.stderr,
                show_pos=True))
            done = [0]

            def progress(n: int) -> None:
                bar.update(n - done[0])
                done[0] = n
        target = stack.enter_context(atomic_output(output)) if output is not None else sys.stdout.buffer
        dump(catalog, fmt, target, progress=progress)
        target.flush()
    if output is not None:
        click.echo(f"Wrote {output} ({output.stat().st_size} bytes).", err=True)


@cli.command()
@click.argument("text")
@click.option("--limit", type=click.IntRange(1, 20), default=3, show_default=True,
              help="At most this many concepts, best first (1-20).")
@format_option("text", "json")
@handle_errors
def classify(text: str, limit: int, fmt: str) -> None:
    """Show which capability concepts a text is classified into, and why.

    \b
    Example:
        matchgraph classify "int8 quantization for CPU inference"
    """
    from ..matching import classify as clf

    matches = clf.classify(text, limit=limit)
    if fmt == "json":
        echo_json([{"concept": str(m.concept), "slug": m.slug, "label": m.label, "score": round(m.score, 4),
                    "evidence": list(m.evidence)} for m in matches])
        return
    if not matches:
        click.echo("No concept matched.")
        return
    click.echo(clf.explain(matches))
