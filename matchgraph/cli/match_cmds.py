"""Commands that search the match graph: match, matches."""

from __future__ import annotations

from typing import Any

import click

from . import catalog_option, cli, echo_json, format_option, handle_errors, open_catalog

#: Widest a table cell gets before it is cut with an ellipsis.
CELL = 48


def _cut(text: str, width: int = CELL) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """Plain aligned columns (no rich: keeps a cold ``matchgraph match`` fast)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _why(item: dict[str, Any]) -> str:
    why = item["why"]
    parts = []
    if why.get("terms"):
        parts.append("terms: " + ", ".join(why["terms"][:4]))
    if why.get("concepts"):
        parts.append("concepts: " + ", ".join(c["concept"] for c in why["concepts"]))
    if why.get("components", {}).get("semantic"):
        parts.append(f"similar meaning {why['components']['semantic']:.2f}")
    if why.get("graph", {}).get("alternative_of"):
        parts.append("alternative to " + ", ".join(why["graph"]["alternative_of"][:2]))
    return "; ".join(parts) or "-"


def _print_results(data: dict[str, Any]) -> None:
    concepts = ", ".join(f"{c['concept']} ({c['score']:.2f})" for c in data["concepts"]) or "none"
    kind = f"; only {data['kind']}" if data["kind"] else ""
    if not kind and data["kind_hint"]:
        kind = f"; asks for a {data['kind_hint']}"
    click.echo(f"Need: {data['query']}")
    click.echo(f"Concepts: {concepts}{kind}")
    if not data["results"]:
        click.echo("No entity matches this need.")
        return
    rows = [[str(r["position"]), r["id"] + (" (stub)" if r["stub"] else ""), r["kind"] or "-", f"{r['score']:.3f}",
             _cut("; ".join(r["matched"][:2]) or "-"), _cut(_why(r), 64)] for r in data["results"]]
    click.echo("")
    click.echo(_table(["#", "ID", "KIND", "SCORE", "MATCHED", "WHY"], rows))


@cli.command("match")
@click.argument("text")
@click.option("--kind", metavar="KIND", help="Only entities of this kind (model, dataset, tool, library, ...).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="At most this many results.")
@click.option("--no-record", is_flag=True, help="Do not store this match as a match event.")
@click.option("--semantic", is_flag=True,
              help='Fuse in sentence-embedding similarity (pip install "matchgraph[semantic]").')
@catalog_option
@format_option("table", "json")
@handle_errors
def match_command(text: str, kind: str | None, limit: int, no_record: bool, semantic: bool,
                  catalog_location: str | None, fmt: str) -> None:
    """Rank entities for a need written in plain words, showing what matched and why.

    Each match is recorded in the catalog as a match event (evidence for Times Matched and the
    co-match edges of the match graph) unless --no-record is given or MATCHGRAPH_RECORD_MATCHES=0.

    \b
    Example:
        matchgraph match "small fast masked language model for CPU inference"
        matchgraph match "pretraining corpus with code" --kind dataset --format json --no-record
    """
    from ..match import match

    with open_catalog(catalog_location) as catalog:
        results = match(catalog, text, kind=kind, limit=limit, record=not no_record, semantic=semantic)
    data = results.to_dict()
    if fmt == "json":
        echo_json(data)
        return
    _print_results(data)
    if data["event"]:
        click.echo(f"\nRecorded as {data['event']} (--no-record to skip).", err=True)


@cli.command("matches")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="At most this many events.")
@catalog_option
@format_option("table", "json")
@handle_errors
def matches_command(limit: int, catalog_location: str | None, fmt: str) -> None:
    """List recent match events, newest first, with their top results.

    \b
    Example:
        matchgraph matches --limit 5
        matchgraph matches --format json
    """
    from ..events import list_events

    with open_catalog(catalog_location) as catalog:
        events = list_events(catalog, limit)
    if fmt == "json":
        echo_json({"events": [e.to_dict() for e in events]})
        return
    if not events:
        click.echo('No match events yet; run matchgraph match "..." to record one.')
        return
    rows = [[e.started, _cut(e.query, 40), str(len(e.results)), _cut(", ".join(r["id"] for r in e.results[:3]) or "-")]
            for e in events]
    click.echo(_table(["STARTED", "QUERY", "RESULTS", "TOP"], rows))
