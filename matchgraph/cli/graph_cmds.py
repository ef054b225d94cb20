"""Commands over the match graph: scores, explain, neighbours, compare.

Library modules are imported inside the commands, so a cold ``matchgraph neighbours`` loads
neither networkx nor the scores.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import (atomic_output, catalog_option, cli, echo_json, echo_text, format_option, handle_errors, json_safe,
               open_catalog)

from ..graph.relations import RELATION_KINDS as _RELATIONS


def _table(headers: list[str], rows: list[list[str]], right: set[int] | frozenset[int] = frozenset()) -> str:
    """Plain aligned columns; columns in ``right`` are right-aligned (numbers)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


@cli.command()
@click.argument("entities", nargs=-1)
@click.option("--recompute", is_flag=True,
              help="Compute the scores again and write them to the catalog's score graph (a new catalog version).")
@click.option("--weights", "weights_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML or JSON file overriding the default weights (see docs/scoring.md): shown instead of the "
                   "catalog's weights; with --recompute, they become the catalog's.")
@click.option("--default-weights", is_flag=True,
              help="The package's default weights instead of the catalog's; with --recompute, they become the "
                   "catalog's again.")
@click.option("--limit", type=click.IntRange(0), default=25, show_default=True,
              help="Without ENTITY: show the N highest ranked (0 for all).")
@click.option("--history", is_flag=True,
              help="With one ENTITY: its Rank and sub-scores in every catalog version, with the factors that moved.")
@catalog_option
@format_option("table", "json")
@handle_errors
def scores(entities: tuple[str, ...], recompute: bool, weights_file: Path | None, default_weights: bool, limit: int,
           history: bool, catalog_location: str | None, fmt: str) -> None:
    """Show the Rank, Adoption, Quality, Ecosystem and Match Graph scores (0-100) of entities.

    Without ENTITY, lists the highest ranked entities. Showing scores only reads: they are
    computed when the catalog's data or the weights changed and kept beside the catalog. The
    catalog's score graph (for SPARQL) is kept current by recorded matches and rewritten with
    --recompute (after an ingest, or with other --weights).

    Scores are shown with the catalog's weights: those of its last --recompute (the defaults
    before any). --recompute alone keeps them; --recompute --weights FILE makes FILE's the
    catalog's, --recompute --default-weights goes back to the defaults. --history shows the
    default weights' scores, so versions compare.

    \b
    Example:
        matchgraph scores --limit 10
        matchgraph scores the-pile distilroberta-base --format json
        matchgraph scores --weights examples/weights/quality-first.yaml --limit 10
        matchgraph scores --recompute --weights examples/weights/quality-first.yaml
        matchgraph scores --recompute --default-weights
        matchgraph scores distilroberta-base --history
    """
    from ..graph.scores import score_table
    from ..graph.resolve import resolve_entity

    if weights_file is not None and default_weights:
        raise click.UsageError("give --weights FILE or --default-weights, not both")
    if history:
        if len(entities) != 1:
            raise click.UsageError("--history takes exactly one ENTITY, e.g. matchgraph scores the-pile --history")
        ignored = [flag for flag, given in (("--weights", weights_file is not None), ("--default-weights", default_weights),
                                            ("--recompute", recompute)) if given]
        if ignored:
            raise click.UsageError(f"--history shows the ranks each version stored; {' and '.join(ignored)} "
                                   "cannot change them (run `matchgraph scores --recompute ...` first, then --history)")
        _history(entities[0], catalog_location, fmt)
        return
    with open_catalog(catalog_location) as catalog:
        weights = {} if default_weights else weights_file  # None: the catalog's
        table = score_table(catalog, weights=weights, recompute=recompute, store=recompute)
        if entities:
            slugs = [resolve_entity(catalog, e).slug for e in entities]
            found = table.select(slugs, factors=False)
            chosen = [found[s] for s in dict.fromkeys(slugs)]
        else:
            order = sorted(range(table.n), key=lambda i: (-table.values[i, 0], table.slugs[i]))
            chosen = [table.entity(i, factors=False) for i in (order[:limit] if limit else order)]
    data = [s.to_dict() for s in chosen]
    if fmt == "json":
        echo_json(data)
        return
    headers = ["ID", "NAME", "KIND", "RANK", "ADOPTION", "QUALITY", "ECOSYSTEM", "MATCH GRAPH", "TIMES MATCHED"]
    rows = [[d["id"], d["name"], d["kind"] or ("stub" if d["stub"] else "-"), str(d["rank"]), str(d["adoption"]),
             str(d["quality"]), str(d["ecosystem"]), str(d["match_graph"]), str(d["times_matched"])] for d in data]
    echo_text(_table(headers, rows, right=set(range(3, 9))))


def _history(entity: str, catalog_location: str | None, fmt: str) -> None:
    """Print the score history of one entity."""
    from ..graph.scores import score_history
    from ..graph.resolve import resolve_entity

    with open_catalog(catalog_location) as catalog:
        ref = resolve_entity(catalog, entity)
        rows = score_history(catalog, ref.slug)
    if fmt == "json":
        echo_json({"entity": ref.to_dict(), "history": rows})
        return
    echo_text(f"Score history of {ref.name} ({ref.slug}), oldest first:")
    headers = ["VERSION", "TIME", "CHANGE", "RANK", "ADOPTION", "QUALITY", "ECOSYSTEM", "MATCH GRAPH", "FACTORS THAT MOVED"]
    table = [[r["data_version"][:12], r["time"], r["change"], *(str(r[k]) for k in
              ("rank", "adoption", "quality", "ecosystem", "match_graph")),
              "; ".join(f"{m['score']} {m['factor']} {m['before']:g} -> {m['after']:g} ({m['points']:+.2f} points)"
                        for m in r["moved"]) or "-"] for r in rows]
    echo_text(_table(headers, table, right=set(range(3, 8))))


@cli.command()
@click.argument("entity")
@click.option("--weights", "weights_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML or JSON file overriding the default weights, shown instead of the catalog's.")
@catalog_option
@format_option("text", "json")
@handle_errors
def explain(entity: str, weights_file: Path | None, catalog_location: str | None, fmt: str) -> None:
    """Explain an entity's scores: each sub-score with its factors and the evidence behind them.

    \b
    Example:
        matchgraph explain the-pile
        matchgraph explain "The Pile" --format json
    """
    from ..graph.explain import explain as run

    with open_catalog(catalog_location) as catalog:
        result = run(catalog, entity, weights=weights_file)
    if fmt == "json":
        echo_json(result.to_dict())
    else:
        echo_text(result.to_text())


@cli.command()
@click.argument("entity")
@click.option("--relation", "relations", multiple=True, type=click.Choice(_RELATIONS, case_sensitive=False),
              help="Follow only this relation (repeat for several).")
@click.option("--depth", type=click.IntRange(1, 5), default=1, show_default=True, help="Hops to follow.")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True, help="At most this many neighbours.")
@catalog_option
@format_option("table", "json")
@handle_errors
def neighbours(entity: str, relations: tuple[str, ...], depth: int, limit: int, catalog_location: str | None,
               fmt: str) -> None:
    """List the entities next to ENTITY in the match graph, strongest first.

    Each shows the relations linking it (alternative, shared-concept, derivedFrom, ...), their
    direction (out: ENTITY points to it, in: it points to ENTITY, both), the summed edge weight
    and its rank.

    \b
    Example:
        matchgraph neighbours the-pile
        matchgraph neighbours "The Pile" --relation alternative --relation derivedFrom --format json
        matchgraph neighbours distilroberta-base --depth 2 --limit 30
    """
    from ..graph.neighbours import neighbours as run
    from ..graph.resolve import described_alternatives, resolve_entity

    with open_catalog(catalog_location) as catalog:
        ref = resolve_entity(catalog, entity)
        found = run(catalog, ref, relations=relations or None, depth=depth, limit=limit)
        alternatives = described_alternatives(catalog, ref)
    if fmt == "json":
        echo_json({"entity": ref.to_dict(), "neighbours": [n.to_dict() for n in found],
                   **({"described_alternatives": alternatives} if ref.stub else {})})
        return
    if not found:
        none = "has no neighbours" + (" by these relations" if relations else "")
        if ref.stub:
            echo_text(f"{ref.name} ({ref.slug}) is a stub: other entries name it but no source describes it, "
                      f"and it {none}.")
            echo_text(_stub_hint(alternatives))
        else:
            echo_text(f"{ref.name} ({ref.slug}) {none}.")
        return
    headers = ["ID", "NAME", "KIND", "RELATIONS", "DIRECTION", "WEIGHT", "RANK"] + (["DEPTH"] if depth > 1 else [])
    rows = [[n.slug, n.name, n.kind or "-", ", ".join(n.relations), n.direction, f"{n.weight:.2f}",
             "-" if n.rank is None else str(n.to_dict()["rank"])] + ([str(n.depth)] if depth > 1 else [])
            for n in found]
    echo_text(f"Neighbours of {ref.name} ({ref.slug}{', a stub: named by other entries, described by none' if ref.stub else ''}):")
    echo_text(_table(headers, rows, right={5, 6, 7}))
    if ref.stub:
        echo_text(_stub_hint(alternatives))


def _stub_hint(alternatives: list[str]) -> str:
    """The line after a stub's neighbours: the described entities with close names, the first as a command.

    Examples
    --------
    >>> _stub_hint(["bert-base-uncased", "sergeyzh-berta"])
    'Hint: described entities with close names: bert-base-uncased, sergeyzh-berta (matchgraph neighbours bert-base-uncased)'
    """
    if not alternatives:
        return "Hint: no described entity has a close name; a card or an import that describes it gives it neighbours"
    return (f"Hint: described entities with close names: {', '.join(alternatives)} "
            f"(matchgraph neighbours {alternatives[0]})")


@cli.command()
@click.argument("a")
@click.argument("b")
@click.option("--weights", "weights_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML or JSON file overriding the default weights, shown instead of the catalog's.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
@catalog_option
@format_option("text", "md", "html", "json")
@handle_errors
def compare(a: str, b: str, weights_file: Path | None, output: Path | None, catalog_location: str | None,
            fmt: str) -> None:
    """Compare two entities: scores with the leader of each row, capabilities, concepts, verdict.

    \b
    Example:
        matchgraph compare distilroberta-base the-pile
        matchgraph compare distilroberta-base "The Pile" --format html -o compare.html
    """
    from ..graph.compare import compare as run
    from ..graph.compare import render

    with open_catalog(catalog_location) as catalog:
        text = render(run(catalog, a, b, weights=weights_file), fmt)
    if output is None:
        if fmt == "json":
            click.echo(json_safe(text), nl=False)
        else:
            echo_text(text, nl=False)
        return
    with atomic_output(output) as handle:
        handle.write(text.encode("utf-8"))
    echo_text(f"Wrote {output} ({output.stat().st_size} bytes).", err=True)
