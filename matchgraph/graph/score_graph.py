"""Scores in the store: the score graph, so every score stays queryable with SPARQL.

Each entity gets, in :data:`matchgraph.vocab.SCORE_GRAPH`, one ``mg:Score`` node per kind with
its ``schema:value``, ``mg:explanation`` and ``prov:wasGeneratedBy`` the run, a single
``mg:ScoreRun`` recording when, with which weights and software and for which data version.

Only writes write it (a read path never does):

- a recorded match, inside its own transaction (:func:`follow_match`): when the score graph held
  the scores of the version the match was recorded against, the cells the event moved are
  replaced, so the version the match publishes holds its own scores;
- ``scores --recompute`` (:func:`store_scores`), the explicit step after an ingest or with other
  weights: one transaction of its own.

The run's weights are the catalog's weights (:func:`matchgraph.graph.weights.catalog_weights`):
what every read shows by default, what a recorded match and ``scores --recompute`` without
``--weights`` keep.

When the stored scores belong to a version this one descends from by recorded matches only (so an
explanation can change only through the numbers it prints), only the differing cells are
replaced: a value whose two-decimal number moved (one event moves PageRank everywhere, so most
values), an explanation only when a number it prints moved (a displayed integer score, a factor
value, PageRank to four places): about 100 explanations per event on the Quickstart catalog
instead of 3,800. Otherwise the graph is dropped and bulk loaded. Never one delete per row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from ..env import is_http_url, lower_scheme
from ..vocab import ID, PREFIXES, RUN, SCORE_GRAPH
from .rows import select_values
from .scoring import ScoreTable, explanation
from .weights import SCORE_KINDS, weights_from_json

if TYPE_CHECKING:  # pragma: no cover
    from ..store.catalog import Catalog, Transaction
    from .derived import State

__all__ = ["RUN_IRI", "stored_run", "store_scores", "follow_match"]

#: The score run (one at a time: each write replaces it).
RUN_IRI = str(RUN["scores"])
_XSD = "http://www.w3.org/2001/XMLSchema#"
_MG, _SCHEMA, _PROV = PREFIXES["mg"], PREFIXES["schema"], PREFIXES["prov"]
_RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def _iri(slug: str) -> str:
    return lower_scheme(slug) if is_http_url(slug) or slug.startswith("urn:") else f"{ID}{slug}"


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


def _nquads(lines: list[str]) -> bytes:
    return "".join(f"{line[:-1]}<{SCORE_GRAPH}> .\n" for line in lines).encode("utf-8")


def _stage_all(txn: Transaction, table: ScoreTable, started: datetime) -> None:
    """Remove the score graph and bulk load it again, in an open transaction."""
    import pyoxigraph as ox

    table.prepare(range(table.n))
    lines = [t for i in range(table.n) for t in _node_triples(table, i, SCORE_KINDS, full=True)]
    lines += _run_triples(table.weights, table.data_version, started)
    if txn.store is not None:
        txn.store.remove_graph(ox.NamedNode(str(SCORE_GRAPH)))
        txn.store.bulk_load(_nquads(lines), format=ox.RdfFormat.N_QUADS)
    else:  # a remote engine: the quads are staged in batches and published in one update
        txn.update(f"DROP SILENT GRAPH <{SCORE_GRAPH}>")
        txn.load(_nquads(lines), format=ox.RdfFormat.N_QUADS)


@dataclass
class _Delta:
    """What differs between the score graph of ``old`` and that of ``table`` (score node cells)."""

    values: list[tuple[int, str]]  # (row of table, kind): the schema:value to replace
    texts: list[tuple[int, str]]  # (row of table, kind): the mg:explanation to replace
    new: list[int]  # rows of table with no score nodes yet
    gone: list[str]  # slugs of old with no row in table


def _delta(table: ScoreTable, old: ScoreTable) -> _Delta:
    """The cells of the score graph that differ, for two tables of versions that differ by recorded
    matches only (so an explanation can only change through the numbers it prints).

    Vectorised: a value cell differs when its two-decimal number does; an explanation when a
    displayed (integer) score it prints does, or one of its factors' values (PageRank compared as
    printed, to four places and relative to the average to one).
    """
    from .scoring import HISTORY_FACTORS

    index = {s: i for i, s in enumerate(old.slugs)}
    rows = np.array([index.get(s, -1) for s in table.slugs], dtype=np.int64)
    known = rows >= 0
    j = np.where(known, rows, 0)
    if not old.n:
        known[:] = False
        j[:] = 0
        ov, ostub, ofv, ofp, opr = (np.zeros_like(table.values), np.zeros_like(table.stub),
                                    np.zeros_like(table.factor_values), np.zeros_like(table.factor_points),
                                    np.zeros_like(table.pagerank))
    else:
        ov, ostub, ofv, ofp, opr = old.values[j], old.stub[j], old.factor_values[j], old.factor_points[j], old.pagerank[j]
    value_moved = (table.values != ov) & known[:, None]
    shown = (np.floor(table.values + 0.5) != np.floor(ov + 0.5)) & known[:, None]
    factor_moved = ((table.factor_values != ofv) | ((table.factor_points != 0) != (ofp != 0))) & known[:, None]
    k_pr = HISTORY_FACTORS.index(("match_graph", "pagerank"))
    for i in np.flatnonzero(factor_moved[:, k_pr]).tolist():
        a, b = float(table.factor_values[i, k_pr]), float(ofv[i, k_pr])
        factor_moved[i, k_pr] = f"{a:.4f} {a * table.n:.1f}" != f"{b:.4f} {b * old.n:.1f}"
    text_moved = np.zeros_like(value_moved)
    text_moved[:, 0] = shown.any(axis=1) | ((table.stub.astype(bool) != ostub.astype(bool)) & known)
    for c, kind in enumerate(SCORE_KINDS[1:], start=1):
        columns = [k for k, (score, _) in enumerate(HISTORY_FACTORS) if score == kind]
        text_moved[:, c] = shown[:, c] | factor_moved[:, columns].any(axis=1)
    cells = lambda mask: [(int(i), SCORE_KINDS[int(c)]) for i, c in zip(*np.nonzero(mask))]  # noqa: E731
    return _Delta(cells(value_moved), cells(text_moved), np.flatnonzero(~known).tolist(),
                  sorted(set(old.slugs) - set(table.slugs)))


def _value_triple(table: ScoreTable, i: int, kind: str) -> str:
    return f"<{_iri(table.slugs[i])}/score/{kind}> <{_SCHEMA}value> \"{table.values[i, SCORE_KINDS.index(kind)]:.2f}\"^^<{_XSD}decimal> ."


def _stage_changed(txn: Transaction, table: ScoreTable, old: ScoreTable, started: datetime) -> int:
    """Replace, in an open transaction, the score cells that differ from ``old``'s, and the run.

    Returns the number of score nodes touched.
    """
    d = _delta(table, old)
    entities: dict[int, Any] = {}
    table.prepare(sorted({i for i, _ in d.texts} | set(d.new)))  # their evidence, gathered at once

    def entity(i: int) -> Any:
        if i not in entities:
            entities[i] = table.entity(i)
        return entities[i]

    inserts = [t for i in d.new for t in _node_triples(table, i, SCORE_KINDS, full=True)]
    inserts += [_value_triple(table, i, kind) for i, kind in d.values]
    inserts += [f"<{_iri(table.slugs[i])}/score/{kind}> <{_MG}explanation> {_literal(explanation(entity(i), kind))} ."
                for i, kind in d.texts]
    inserts += _run_triples(table.weights, table.data_version, started)
    value_nodes = [f"{_iri(table.slugs[i])}/score/{kind}" for i, kind in d.values]
    text_nodes = [f"{_iri(table.slugs[i])}/score/{kind}" for i, kind in d.texts]
    if txn.store is not None:
        import pyoxigraph as ox

        store, g = txn.store, ox.NamedNode(str(SCORE_GRAPH))
        gone: list[Any] = list(store.quads_for_pattern(ox.NamedNode(RUN_IRI), None, None, g))
        for nodes, predicate in ((value_nodes, f"{_SCHEMA}value"), (text_nodes, f"{_MG}explanation")):
            p = ox.NamedNode(predicate)
            for node in nodes:
                gone.extend(store.quads_for_pattern(ox.NamedNode(node), p, None, g))
        for slug in d.gone:
            for q in list(store.quads_for_pattern(ox.NamedNode(_iri(slug)), ox.NamedNode(f"{_MG}hasScore"), None, g)):
                gone.append(q)
                gone.extend(store.quads_for_pattern(q.object, None, None, g))
        for q in gone:
            store.remove(q)
        store.load(_nquads(inserts), format=ox.RdfFormat.N_QUADS)
        return len(set(value_nodes) | set(text_nodes)) + len(d.new)
    gr = f"<{SCORE_GRAPH}>"
    parts = [f"DELETE {{ GRAPH {gr} {{ ?run ?p ?o }} }} WHERE {{ GRAPH {gr} {{ ?run a mg:ScoreRun ; ?p ?o }} }}"]
    for nodes, predicate in ((value_nodes, "schema:value"), (text_nodes, "mg:explanation")):
        for k in range(0, len(nodes), 2000):
            values = " ".join(f"<{n}>" for n in nodes[k:k + 2000])
            parts.append(f"DELETE {{ GRAPH {gr} {{ ?s {predicate} ?v }} }} WHERE {{ "
                         f"VALUES ?s {{ {values} }} GRAPH {gr} {{ ?s {predicate} ?v }} }}")
    for slug in d.gone:
        parts.append(f"DELETE WHERE {{ GRAPH {gr} {{ <{_iri(slug)}> mg:hasScore ?s . ?s ?p ?o }} }} ;\n"
                     f"DELETE WHERE {{ GRAPH {gr} {{ <{_iri(slug)}> mg:hasScore ?s }} }}")
    parts.append(f"INSERT DATA {{ GRAPH {gr} {{\n" + "\n".join(inserts) + "\n} }")
    txn.update(" ;\n".join(parts))
    return len(set(value_nodes) | set(text_nodes)) + len(d.new)


def _run_in(txn: Transaction | None, catalog: Catalog) -> tuple[str, str] | None:
    """The stored run, read in the staged version when there is one (else from the catalog)."""
    if txn is None or txn.store is None:
        return stored_run(catalog)
    rows = list(txn.query(f"""SELECT ?cv ?w WHERE {{ GRAPH <{SCORE_GRAPH}> {{
        ?run a mg:ScoreRun ; mg:catalogVersion ?cv ; mg:weights ?w }} }}"""))
    return (rows[0]["cv"].value, rows[0]["w"].value) if len(rows) == 1 else None


def store_scores(catalog: Catalog, state: State, table: ScoreTable, *, force: bool = False) -> str | None:
    """Make the store's score graph hold ``table`` (of ``state``'s version), as the next catalog
    version; returns that version, or None when the score graph already held these scores.

    A write: called by ``scores --recompute``, never by a read. Only the changed score cells are
    replaced when the stored scores belong to a version this one descends from by recorded
    matches only; otherwise the graph is dropped and bulk loaded.

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
    with catalog.transaction(derived=True) as txn:
        if old is not None:
            _stage_changed(txn, table, old, started)
        else:
            _stage_all(txn, table, started)
    return txn.version


def follow_match(txn: Transaction, catalog: Catalog, state: State) -> int | None:
    """Keep the score graph current inside a recorded match's transaction (``state``: the match's).

    When the score graph held the scores of the version the match was recorded against (or of one
    it descends from by recorded matches only), the score cells the match moved are replaced in the
    same transaction, so the version the match writes holds its scores. Otherwise (the score graph
    was already behind, or there is none) it is left as it was: bringing it up to date after an
    ingest is ``scores --recompute``'s job. Returns the score nodes touched, or None.
    """
    run = _run_in(txn, catalog)
    weights = weights_from_json(run[1]) if run is not None else None
    if run is None or weights is None:
        return None
    table = state.scores(weights)  # the catalog's weights, kept
    old = _numbers_only_ancestor(catalog, state, run, table)
    if old is None:
        return None
    return _stage_changed(txn, table, old, datetime.now(timezone.utc).replace(microsecond=0))


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
                digest = weights_digest(json.loads(stored_weights))
                if current is state:
                    return table
                return current._tables.get(digest) or ScoreTable.load(current.directory, f"scores-{digest}")
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
