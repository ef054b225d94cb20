"""Scores in the store: the score graph, so every score stays queryable with SPARQL.

Each entity gets, in :data:`matchgraph.vocab.SCORE_GRAPH`, one ``mg:Score`` node per kind with
its ``schema:value``, ``mg:explanation`` and ``prov:wasGeneratedBy`` the run, a single
``mg:ScoreRun`` recording when, with which weights and software and for which data version.

Writing is one transaction either way: when the stored scores belong to a version this one was
updated from by recorded matches only (whose explanations cannot differ but through the numbers),
only the score nodes whose numbers changed are replaced; otherwise the graph is removed and bulk
loaded. Never one delete per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from ..vocab import ID, PREFIXES, RUN, SCORE_GRAPH
from .rows import select_values
from .scoring import ScoreTable, explanation
from .weights import SCORE_KINDS

if TYPE_CHECKING:  # pragma: no cover
    from ..catalog import Catalog
    from .derived import State

__all__ = ["RUN_IRI", "stored_run", "store_scores"]

#: The score run (one at a time: each write replaces it).
RUN_IRI = str(RUN["scores"])
_XSD = "http://www.w3.org/2001/XMLSchema#"
_MG, _SCHEMA, _PROV = PREFIXES["mg"], PREFIXES["schema"], PREFIXES["prov"]
_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def _iri(slug: str) -> str:
    return slug if slug.startswith(("http://", "https://", "urn:")) else f"{ID}{slug}"


def _literal(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def stored_run(catalog: Catalog) -> tuple[str, str] | None:
    """(data version, weights JSON) of the scores in the store, or None when there are none."""
    rows = list(select_values(catalog, f"""SELECT ?cv ?w WHERE {{ GRAPH <{SCORE_GRAPH}> {{
        ?run a mg:ScoreRun ; mg:catalogVersion ?cv ; mg:weights ?w }} }}"""))
    return (rows[0][0] or "", rows[0][1] or "") if len(rows) == 1 else None


def _node_triples(table: ScoreTable, i: int, kinds: tuple[str, ...], *, full: bool) -> Iterator[str]:
    s = table.entity(i)
    e = f"<{_iri(s.slug)}>"
    for kind in kinds:
        node = f"<{_iri(s.slug)}/score/{kind}>"
        if full:
            yield f"{e} <{_MG}hasScore> {node} ."
            yield f"{node} {_RDF_TYPE} <{_MG}Score> ."
            yield f"{node} <{_MG}scoreKind> \"{kind}\" ."
            yield f"{node} <{_PROV}wasGeneratedBy> <{RUN_IRI}> ."
        yield f"{node} <{_SCHEMA}value> \"{s.score(kind):.2f}\"^^<{_XSD}decimal> ."
        yield f"{node} <{_MG}explanation> {_literal(explanation(s, kind))} ."


def _run_triples(weights: str, data_version: str, started: datetime) -> list[str]:
    from .. import __version__

    ended = datetime.now(timezone.utc).replace(microsecond=0)
    run = f"<{RUN_IRI}>"
    return [f"{run} {_RDF_TYPE} <{_MG}ScoreRun> .",
            f"{run} {_RDF_TYPE} <{_PROV}Activity> .",
            f"{run} <{_PROV}startedAtTime> \"{started.isoformat()}\"^^<{_XSD}dateTime> .",
            f"{run} <{_PROV}endedAtTime> \"{ended.isoformat()}\"^^<{_XSD}dateTime> .",
            f"{run} <{_MG}weights> {_literal(weights)} .",
            f"{run} <{_MG}softwareVersion> \"{__version__}\" .",
            f"{run} <{_MG}catalogVersion> {_literal(data_version)} ."]


def _replace_all(catalog: Catalog, table: ScoreTable, started: datetime) -> str:
    """Remove the score graph and bulk load it again, in one transaction (the next catalog version)."""
    import pyoxigraph as ox

    lines = [t for i in range(table.n) for t in _node_triples(table, i, SCORE_KINDS, full=True)]
    lines += _run_triples(table.weights, table.data_version, started)
    nquads = "".join(f"{line[:-1]}<{SCORE_GRAPH}> .\n" for line in lines).encode("utf-8")
    with catalog.transaction(derived=True) as t:
        if t.store is not None:
            t.store.remove_graph(ox.NamedNode(str(SCORE_GRAPH)))
            t.store.bulk_load(nquads, format=ox.RdfFormat.N_QUADS)
        else:  # a remote engine: the quads are staged in batches and published in one update
            t.update(f"DROP SILENT GRAPH <{SCORE_GRAPH}>")
            t.load(nquads, format=ox.RdfFormat.N_QUADS)
    return catalog.version


def _changed_kinds(table: ScoreTable, old: ScoreTable, i: int, j: int) -> tuple[str, ...]:
    """The score kinds of row ``i`` whose value or explanation text differ from row ``j`` of ``old``
    (both tables of versions that differ by recorded matches only, so only numbers can differ)."""
    from .scoring import HISTORY_FACTORS, display

    new_v, old_v = table.values[i].tolist(), old.values[j].tolist()
    text = [f"{a:.2f}" != f"{b:.2f}" for a, b in zip(new_v, old_v)]
    shown = [display(a) != display(b) for a, b in zip(new_v, old_v)]
    kinds = []
    if text[0] or any(shown) or bool(table.stub[i]) != bool(old.stub[j]):
        kinds.append("rank")
    for c, kind in enumerate(SCORE_KINDS[1:], start=1):
        moved = text[c] or shown[c]
        for k, (score, factor) in enumerate(HISTORY_FACTORS):
            if moved or score != kind:
                continue
            a, b = float(table.factor_values[i, k]), float(old.factor_values[j, k])
            if factor == "pagerank":
                moved = f"{a:.4f} {a * table.n:.1f}" != f"{b:.4f} {b * old.n:.1f}"
            else:
                moved = a != b or (table.factor_points[i, k] != 0) != (old.factor_points[j, k] != 0)
        if moved:
            kinds.append(kind)
    return tuple(kinds)


def _replace_changed(catalog: Catalog, table: ScoreTable, old: ScoreTable, started: datetime) -> str:
    """Replace the value and explanation of the score nodes whose numbers changed, and the run."""
    index = {s: i for i, s in enumerate(old.slugs)}
    deletes: list[str] = []
    inserts: list[str] = []
    gone = sorted(set(old.slugs) - set(table.slugs))
    rows = np.array([index.get(s, -1) for s in table.slugs], dtype=np.int64)
    same = np.zeros(table.n, dtype=bool)
    if old is not table and table.n and old.n and table.n == old.n:  # the number of entities is in the PageRank text
        known = rows >= 0
        j = np.where(known, rows, 0)
        same = known & (table.values == old.values[j]).all(axis=1) & (table.stub == old.stub[j])
        same &= (table.factor_values == old.factor_values[j]).all(axis=1)
        same &= (table.factor_points == old.factor_points[j]).all(axis=1)
    elif old is table:
        same[:] = True
    for i in np.flatnonzero(~same).tolist():
        slug, j = table.slugs[i], int(rows[i])
        if j < 0:
            inserts += _node_triples(table, i, SCORE_KINDS, full=True)
            continue
        kinds = _changed_kinds(table, old, i, j)
        if kinds:
            deletes += [f"<{_iri(slug)}/score/{k}>" for k in kinds]
            inserts += _node_triples(table, i, kinds, full=False)
    g = f"<{SCORE_GRAPH}>"
    parts = [f"DELETE {{ GRAPH {g} {{ ?run ?p ?o }} }} WHERE {{ GRAPH {g} {{ ?run a mg:ScoreRun ; ?p ?o }} }}"]
    for k in range(0, len(deletes), 2000):
        values = " ".join(deletes[k:k + 2000])
        parts.append(f"DELETE {{ GRAPH {g} {{ ?s schema:value ?v . ?s mg:explanation ?x }} }} WHERE {{ "
                     f"VALUES ?s {{ {values} }} GRAPH {g} {{ ?s schema:value ?v ; mg:explanation ?x }} }}")
    for slug in gone:
        parts.append(f"DELETE WHERE {{ GRAPH {g} {{ <{_iri(slug)}> mg:hasScore ?s . ?s ?p ?o }} }} ;\n"
                     f"DELETE WHERE {{ GRAPH {g} {{ <{_iri(slug)}> mg:hasScore ?s }} }}")
    parts.append(f"INSERT DATA {{ GRAPH {g} {{\n" + "\n".join(
        inserts + _run_triples(table.weights, table.data_version, started)) + "\n} }")
    return catalog.update(" ;\n".join(parts), derived=True)


def store_scores(catalog: Catalog, state: State, table: ScoreTable, *, force: bool = False) -> str | None:
    """Make the store's score graph hold ``table`` (of ``state``'s version); returns the new catalog
    version, or None when it already did.

    Parameters
    ----------
    catalog : Catalog
    state : State
        The derived state the table belongs to.
    table : ScoreTable
    force : bool
        Write (at least the run) even when the stored scores are these.
    """
    started = datetime.now(timezone.utc).replace(microsecond=0)
    run = stored_run(catalog)
    if run == (table.data_version, table.weights) and not force:
        return None
    old = _numbers_only_ancestor(catalog, state, run, table) if run is not None else None
    if old is not None:
        return _replace_changed(catalog, table, old, started)
    return _replace_all(catalog, table, started)


def _numbers_only_ancestor(catalog: Catalog, state: State, run: tuple[str, str], table: ScoreTable) -> ScoreTable | None:
    """The table the store holds, when this version descends from it by recorded matches only."""
    from .derived import load_state
    from .weights import weights_digest

    stored_version, stored_weights = run
    if stored_weights != table.weights:
        return None
    version, current = state.data_version, state
    for _ in range(200):
        if version == stored_version:
            try:
                name = f"scores-{weights_digest(json.loads(stored_weights))}"
                return ScoreTable.load(current.directory, name) if current is not state else table
            except (OSError, ValueError, KeyError):
                return None
        if current.meta.get("change") != "match" or not current.meta.get("parent"):
            return None
        version = current.meta["parent"]
        found = load_state(catalog, version)
        if found is None:
            return None
        current = found
    return None
