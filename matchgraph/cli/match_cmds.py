"""Commands that search the match graph: match, matches."""

from __future__ import annotations

from typing import Any

import click

from . import catalog_option, cli, echo_json, echo_text, format_option, handle_errors, open_catalog, terminal_safe

#: Widest a table cell gets before it is cut with an ellipsis.
CELL = 48


def _cut(text: str, width: int = CELL) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _cut_middle(text: str, width: int) -> str:
    """Cut the middle out of a long identifier, keeping its start and its (distinguishing) end.

    Examples
    --------
    >>> _cut_middle("rikkabotan-stable-static-embedding-fast-retrieval-mrl-en", 24)
    'rikkabotan-s…eval-mrl-en'
    """
    if len(text) <= width:
        return text
    tail = (width - 1) // 2
    return text[:width - 1 - tail] + "…" + text[len(text) - tail:]


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
        parts.append("terms: " + ", ".join(why["terms"][:3]))
    if why.get("concepts"):
        parts.append("concepts: " + ", ".join(c["concept"] for c in why["concepts"][:2]))
    if why.get("components", {}).get("semantic"):
        parts.append(f"similar meaning {why['components']['semantic']:.2f}")
    if why.get("graph", {}).get("alternative_of"):
        parts.append("alternative to " + why["graph"]["alternative_of"][0])
    if not parts and why.get("components", {}).get("dense"):  # the static vectors alone: say so
        parts.append(f"similar words {why['components']['dense']:.2f}")
    return "; ".join(parts) or "-"


#: Narrowest each flexible column of the match table gets before WHY moves to its own line; an ID
#: is cut only beyond MAX_ID characters when the whole row does not fit (or the terminal is too narrow).
MIN_ID, MIN_MATCHED, MIN_WHY, MAX_ID = 14, 16, 40, 40
GAP = 2


def terminal_width() -> int:
    """Columns of the terminal (``COLUMNS`` wins; 80 when the output is not a terminal)."""
    import shutil

    return max(40, shutil.get_terminal_size((80, 24)).columns)


def _share(natural: list[int], minimum: list[int], room: int) -> list[int]:
    """Widths for flexible columns: each gets its minimum, then the room left is shared out evenly
    among the columns that want more, none beyond its natural width.

    Examples
    --------
    >>> _share([30, 10, 50], [10, 10, 10], 60)
    [25, 10, 25]
    """
    widths = [min(n, m) for n, m in zip(natural, minimum)]
    left = room - sum(widths)
    while left > 0:
        wanting = [i for i, (w, n) in enumerate(zip(widths, natural)) if w < n]
        if not wanting:
            break
        step = max(1, left // len(wanting))
        for i in wanting:
            give = min(step, natural[i] - widths[i], left)
            widths[i] += give
            left -= give
    return widths


def match_table(data: dict[str, Any], width: int) -> str:
    """The match results as aligned columns that fit ``width`` characters.

    ``#``, ``KIND`` and ``SCORE`` keep their width; ``ID``, ``MATCHED`` and ``WHY`` share what is
    left, cut with an ellipsis when they do not fit (an ID loses its middle, so that IDs that
    differ only at the end stay apart). When WHY would get fewer than
    :data:`MIN_WHY` characters it is printed on its own indented line under each result instead.

    Examples
    --------
    >>> data = {"results": [{"position": 1, "id": "distilroberta-base", "stub": False, "kind": "model",
    ...          "score": 1.5, "matched": ["Masked-token prediction"], "why": {"terms": ["masked"]}}]}
    >>> print(match_table(data, 80))
    #  ID                  KIND   SCORE  MATCHED                  WHY
    -  ------------------  -----  -----  -----------------------  -------------
    1  distilroberta-base  model  1.500  Masked-token prediction  terms: masked
    """
    results = data["results"]
    ids = [r["id"] + (" (stub)" if r["stub"] else "") for r in results]
    matched = [(r["matched"][0] + (f" (+{len(r['matched']) - 1})" if len(r["matched"]) > 1 else ""))
               if r["matched"] else "-" for r in results]
    whys = [_why(r) for r in results]
    fixed_rows = [[str(r["position"]), r["kind"] or "-", f"{r['score']:.3f}"] for r in results]
    fixed = [max(len(h), *(len(row[i]) for row in fixed_rows)) for i, h in enumerate(["#", "KIND", "SCORE"])]
    natural = [max(len(h), *(len(x) for x in col)) for h, col in (("ID", ids), ("MATCHED", matched), ("WHY", whys))]
    room = width - sum(fixed) - 5 * GAP
    want_id = min(natural[0], max(MAX_ID, room - natural[1] - natural[2]))
    if room >= want_id + min(natural[1], MIN_MATCHED) + min(natural[2], MIN_WHY):
        w_id = want_id
        w_matched, w_why = _share(natural[1:], [MIN_MATCHED, MIN_WHY], room - w_id)
        headers = ["#", "ID", "KIND", "SCORE", "MATCHED", "WHY"]
        rows = [[f[0], _cut_middle(i, w_id), f[1], f[2], _cut(m, w_matched), _cut(y, w_why)]
                for f, i, m, y in zip(fixed_rows, ids, matched, whys)]
        return _table(headers, rows)
    w_id = max(min(want_id, room + GAP - MIN_MATCHED), MIN_ID)
    w_matched = max(min(natural[1], room + GAP - w_id), 4)
    rows = [[f[0], _cut_middle(i, w_id), f[1], f[2], _cut(m, w_matched)] for f, i, m in zip(fixed_rows, ids, matched)]
    lines = _table(["#", "ID", "KIND", "SCORE", "MATCHED"], rows).splitlines()
    indent = " " * (fixed[0] + GAP)
    out = lines[:2]
    for line, why in zip(lines[2:], whys):
        out += [line, indent + _cut("why: " + why, max(10, width - len(indent)))]
    return "\n".join(out)


def _print_results(data: dict[str, Any], width: int | None = None) -> None:
    concepts = ", ".join(f"{c['concept']} ({c['score']:.2f})" for c in data["concepts"]) or "none"
    kind = f"; only {data['kind']}" if data["kind"] else ""
    if not kind and data["kind_hint"]:
        kind = f"; asks for a {data['kind_hint']}"
    width = width or terminal_width()
    # a 100 KB need on one line, cut as the cells are (its control characters shown first: they widen it)
    click.echo(_cut(terminal_safe(" ".join(f"Need: {data['query']}".split())), width))
    echo_text(_cut(f"Concepts: {concepts}{kind}", width))
    if not data["results"]:
        echo_text("No entity matches this need.")
        return
    echo_text("")
    echo_text(match_table(data, width))


@cli.command("match")
@click.argument("text")
@click.option("--kind", metavar="KIND", help="Only entities of this kind (model, dataset, tool, library, ...).")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="At most this many results.")
@click.option("--no-record", is_flag=True, help="Do not store this match as a match event.")
@click.option("--semantic/--no-semantic", default=None,
              help="--semantic: the larger sentence encoder (all-mpnet-base-v2) for every entity and each "
                   "of its capabilities (the first such match of a catalog embeds them: about 150 texts a "
                   "second). --no-semantic: the static sentence vectors alone. Default: the same encoder "
                   "for entities described only by a name and a sentence or two (the smaller "
                   "all-MiniLM-L6-v2 when there are more than 20,000 of them), the static vectors for the "
                   "others (and, beside cards, the encoder too for the imported records that can reach "
                   "the top).")
@catalog_option
@format_option("table", "json")
@handle_errors
def match_command(text: str, kind: str | None, limit: int, no_record: bool, semantic: bool | None,
                  catalog_location: str | None, fmt: str) -> None:
    """Rank entities for a need written in plain words, showing what matched and why.

    Each match is recorded in the catalog as a match event (evidence for Times Matched and the
    co-match edges of the match graph) unless --no-record is given or MATCHGRAPH_RECORD_MATCHES=0.

    \b
    Example:
        matchgraph match "small fast masked language model for CPU inference"
        matchgraph match "pretraining corpus with code" --kind dataset --format json --no-record
    """
    from ..matching.match import match

    with open_catalog(catalog_location) as catalog:
        record = not no_record
        if record and not catalog.writable:
            record = False
            echo_text("Note: the catalog is read-only for this user, so this match is not recorded "
                       "(--no-record says so quietly).", err=True)
        results = match(catalog, text, kind=kind, limit=limit, record=record, semantic=semantic)
    data = results.to_dict()
    if results.not_recorded:
        echo_text(f"Note: the match is {results.not_recorded}.", err=True)
    if fmt == "json":
        echo_json(data)
        return
    _print_results(data)
    if data["event"]:
        echo_text(f"\nRecorded as {data['event']} (--no-record to skip).", err=True)


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
    from ..matching.events import list_events

    with open_catalog(catalog_location) as catalog:
        events = list_events(catalog, limit)
    if fmt == "json":
        echo_json({"events": [e.to_dict() for e in events]})
        return
    if not events:
        echo_text('No match events yet; run matchgraph match "..." to record one.')
        return
    rows = [[e.started, _cut(e.query, 40), str(len(e.results)), _cut(", ".join(r["id"] for r in e.results[:3]) or "-")]
            for e in events]
    echo_text(_table(["STARTED", "QUERY", "RESULTS", "TOP"], rows))
