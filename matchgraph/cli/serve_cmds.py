"""Commands that publish the catalog: serve (SPARQL endpoint and pages) and site (static pages)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click

from . import catalog_option, cli, echo_json, format_option, handle_errors, open_catalog, progress_bar


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--allow-update", is_flag=True, help="Accept SPARQL updates from clients that send the --token.")
@click.option("--token", envvar="MATCHGRAPH_TOKEN", metavar="TOKEN",
              help="Bearer token updates must carry (needed with --allow-update). Default: $MATCHGRAPH_TOKEN")
@click.option("--timeout", type=click.FloatRange(min=0.01), default=30.0, show_default=True, metavar="S",
              help="Seconds a query may run before the client gets 503.")
@click.option("--max-rows", type=click.IntRange(min=1), default=10_000, show_default=True, metavar="N",
              help="Result rows (or triples) returned at most; the rest are cut.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, metavar="N",
              help="Queries that run at once, each in its own worker process.")
@click.option("--queue", type=click.IntRange(min=0), default=32, show_default=True, metavar="N",
              help="Queries that may wait for a worker; more get 503 with Retry-After.")
@click.option("--max-body", type=click.IntRange(min=1), default=1_000_000, show_default=True, metavar="BYTES",
              help="Largest request body; larger ones get 413.")
@click.option("--allow-service", "allow_service", multiple=True, metavar="HOST",
              help="Let SERVICE clauses (and LOAD, with --allow-update) reach this host; repeat for more. "
                   "None by default: the server sends no request on a client's behalf.")
@click.option("--examples", "examples_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder of *.rq example queries for the query page. Default: examples/queries")
@click.option("--build-wait", type=click.FloatRange(min=0), default=3.0, show_default=True, metavar="S",
              help="Seconds a page waits for the match graph of a new catalog version; past that it shows "
                   "'building' with progress and reloads itself until the build is done.")
@catalog_option
@handle_errors
def serve(host: str, port: int, allow_update: bool, token: str | None, timeout: float, max_rows: int,
          workers: int, queue: int, max_body: int, allow_service: tuple[str, ...], examples_dir: Path | None,
          build_wait: float, catalog_location: str | None) -> None:
    """Serve the catalog: a SPARQL 1.1 endpoint at /sparql and HTML pages.

    Read-only unless started with --allow-update and a --token; clients then send
    'Authorization: Bearer TOKEN' with their updates. Queries run in --workers processes; one past
    --timeout is stopped (its process killed) and gets 503. The whole catalog downloads from
    /dump/catalog.ttl (also .nt, .nq, .trig, .jsonld). Other processes may read and
    write the catalog while the server runs; it follows each new version on its next request,
    and while the match graph of a large new version is built, pages say 'building' with progress.

    \b
    Example:
        matchgraph serve --port 8000
        curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * WHERE { ?s ?p ?o } LIMIT 3' http://127.0.0.1:8000/sparql
        matchgraph serve --allow-update --token "$(openssl rand -hex 16)"
    """
    from ..web.server import ServerConfig, serve as run

    if token and not allow_update:
        raise click.UsageError("--token only matters with --allow-update")
    config = ServerConfig(allow_update=allow_update, token=token, timeout=timeout, max_rows=max_rows,
                          examples_dir=examples_dir, workers=workers, queue=queue, max_body=max_body,
                          allow_service=allow_service, build_wait=build_wait)
    mode = "updates with the token" if allow_update else "read-only"
    run(catalog_location, host=host, port=port, config=config,
        announce=lambda url: click.echo(f"Serving the catalog on {url} (SPARQL at /sparql, {mode}); Ctrl-C stops.",
                                        err=True))


@cli.command()
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--compare", "compare_neighbours", type=click.IntRange(0, 20), default=3, show_default=True,
              help="Compare pages per entity (with its closest neighbours).")
@click.option("--no-progress", is_flag=True, help="Do not show a progress bar.")
@catalog_option
@format_option("text", "json")
@handle_errors
def site(outdir: Path, compare_neighbours: int, no_progress: bool, catalog_location: str | None, fmt: str) -> None:
    """Write a static site: a page per entity, compare pages, an index with search.

    The pages link to each other with relative links and load nothing from the network, so
    OUTDIR works opened from disk (file://) or copied to any static host. The site is put in
    place only when complete (an interrupted run leaves the previous one); its own files are
    replaced, anything else in OUTDIR (.git, CNAME) is kept.

    \b
    Example:
        matchgraph site public/
        python -m http.server -d public/ 8080
    """
    from ..web.site import build_site

    progress, update = progress_bar(not no_progress)
    with open_catalog(catalog_location) as catalog, progress or contextlib.nullcontext():
        report = build_site(catalog, outdir, compare_neighbours=compare_neighbours, progress=update)
    if fmt == "json":
        echo_json(report.to_dict())
        return
    click.echo(f"Wrote {report.files} files to {outdir}: {report.entities} entity pages, "
               f"{report.compares} compare pages. Open {outdir / 'index.html'}.")
    for what, reason in report.skipped:
        click.echo(f"Skipped {what}: {reason}", err=True)
