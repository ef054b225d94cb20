"""The neighbours of an entity in the match graph, read from an on-disk index.

When the projection (:mod:`matchgraph.projection`) is built, its adjacency is also written to a
SQLite file next to it, clustered by node. A lookup reads only the rows of the nodes it visits,
so its cost depends on the entity's degree, not on the catalog size, and a cold process answers
without loading the projection, networkx or the scores. Ranks are copied into the index whenever
scores are computed or read (:func:`sync_ranks`).
"""

from __future__ import annotations

import os
import uuid
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import Catalog
from .errors import QueryError
from .resolve import EntityRef, resolve_entity

if TYPE_CHECKING:  # pragma: no cover
    from .projection import CompactProjection

__all__ = ["Neighbour", "neighbours", "index_path", "write_index", "sync_ranks", "node_info", "RELATIONS"]

#: The relation kinds of the match graph (kept here so lookups need not import the projection).
RELATIONS: tuple[str, ...] = (
    "alternative", "shared-concept", "derivedFrom", "trainedOn", "subsetOf", "integratesWith",
    "supportsFormat", "evaluatedOn", "supersededBy", "co-matched",
)
_SYMMETRIC = frozenset({"shared-concept", "co-matched"})
_FORMAT = 1

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE nodes (slug TEXT PRIMARY KEY, name TEXT, kind TEXT, stub INTEGER, times_matched INTEGER,
                    rank REAL) WITHOUT ROWID;
CREATE TABLE adj (node TEXT, other TEXT, relation TEXT, direction TEXT, weight REAL, aspect TEXT,
                  PRIMARY KEY (node, other, relation, direction)) WITHOUT ROWID;
"""


@dataclass
class Neighbour:
    """An entity next to another in the match graph.

    Attributes
    ----------
    slug, name, kind : str, str, str or None
        The neighbour.
    relations : list of str
        The relations linking it (sorted).
    direction : str
        ``out`` when the entity's directed edges only point to it, ``in`` when its directed edges
        only point to the entity, else ``both`` (edges both ways, or only symmetric relations
        such as shared-concept).
    weight : float
        Sum of the weights of those edges.
    rank : float or None
        Its rank (0-100), None before scores were computed.
    depth : int
        Hops from the entity.
    """

    slug: str
    name: str
    kind: str | None
    relations: list[str]
    direction: str
    weight: float
    rank: float | None
    depth: int = 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (rank rounded as displayed)."""
        return {"id": self.slug, "name": self.name, "kind": self.kind, "relations": list(self.relations),
                "direction": self.direction, "weight": round(self.weight, 4),
                "rank": None if self.rank is None else round(self.rank), "depth": self.depth}


# ---------------------------------------------------------------------------------- the index
def index_path(catalog: Catalog, data_version: str | None = None) -> Path:
    """Where the neighbour index of a data version lives (by default the current one)."""
    return catalog.cache_dir / f"neighbours-v{_FORMAT}-{data_version or catalog.data_version}.sqlite"


def _adjacency_rows(compact: CompactProjection) -> Iterator[tuple[str, str, str, str, float, str]]:
    for a, b, relation, weight, aspect in compact.edges():
        if relation in _SYMMETRIC:
            yield a, b, relation, "both", weight, ""
        else:
            yield a, b, relation, "out", weight, aspect
            yield b, a, relation, "in", weight, aspect


def write_index(compact: CompactProjection, path: Path) -> None:
    """Write the adjacency and node attributes of a projection to a SQLite index at ``path``.

    Parameters
    ----------
    compact : CompactProjection
        A projection (:func:`matchgraph.projection.build_compact`).
    path : pathlib.Path
        The index file; replaced atomically.
    """
    tmp = path.with_name(path.name + f".{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.unlink(missing_ok=True)
    with closing(sqlite3.connect(tmp)) as conn:
        conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
        conn.executemany("INSERT INTO nodes VALUES (?, ?, ?, ?, ?, NULL)",
                         zip(compact.slugs, compact.names, compact.kinds, compact.stub.astype(int).tolist(),
                             compact.times_matched.tolist()))
        conn.executemany("INSERT OR REPLACE INTO adj VALUES (?, ?, ?, ?, ?, ?)", _adjacency_rows(compact))
        conn.executemany("INSERT INTO meta VALUES (?, ?)",
                         [("data_version", compact.data_version), ("ranks_version", "")])
        conn.commit()
    os.replace(tmp, path)


def sync_ranks(catalog: Catalog, ranks: Mapping[str, float], version: str | None = None) -> None:
    """Copy ranks into the current neighbour index, unless it already holds them.

    Parameters
    ----------
    catalog : Catalog
    ranks : mapping of str to float
        Entity slug -> rank.
    version : str, optional
        The catalog version the ranks belong to (by default the current one).
    """
    path = index_path(catalog)
    if not path.exists():
        return
    version = version or catalog.version
    with closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'ranks_version'").fetchone()
        if row and row[0] == version:
            return
        conn.executemany("UPDATE nodes SET rank = ? WHERE slug = ?", ((r, s) for s, r in ranks.items()))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('ranks_version', ?)", (version,))
        conn.commit()


@contextmanager
def _open_index(catalog: Catalog) -> Iterator[sqlite3.Connection]:
    """Open the current index, building the projection (once) and syncing ranks when needed."""
    path = index_path(catalog)
    if not path.exists():
        from .projection import load_compact

        load_compact(catalog)
    with closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'ranks_version'").fetchone()
        if not row or row[0] != catalog.version:
            from .scores import current_ranks, load_scores

            ranks = current_ranks(catalog)
            if ranks is None:
                load_scores(catalog)  # computes, stores and copies the ranks here
            else:
                sync_ranks(catalog, ranks)
        yield conn


def node_info(conn: sqlite3.Connection, slugs: Iterable[str]) -> dict[str, tuple[str, str | None, float | None]]:
    """Name, kind and rank of nodes of an open index: slug -> (name, kind, rank)."""
    wanted = list(dict.fromkeys(slugs))
    info: dict[str, tuple[str, str | None, float | None]] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        marks = ",".join("?" * len(chunk))
        for slug, name, kind, rank in conn.execute(
                f"SELECT slug, name, kind, rank FROM nodes WHERE slug IN ({marks})", chunk):
            info[slug] = (name, kind, rank)
    return info


# ---------------------------------------------------------------------------------- lookups
def _direction(directions: set[str]) -> str:
    """``out``, ``in`` or ``both`` from the directed edges; symmetric edges alone count as both."""
    directed = directions - {"both"}
    return next(iter(directed)) if len(directed) == 1 else "both"


def _check_relations(relations: Iterable[str] | None) -> list[str] | None:
    if relations is None:
        return None
    by_lower = {r.lower(): r for r in RELATIONS}
    chosen = []
    for relation in relations:
        if relation.lower() not in by_lower:
            raise QueryError(f"unknown relation {relation!r}", hint="use one of: " + ", ".join(RELATIONS))
        chosen.append(by_lower[relation.lower()])
    return sorted(set(chosen))


#: One hop, aggregated and ordered by SQLite: the edges of a hub are summed where they lie, and
#: only the ``limit`` strongest partners come back to Python with their name, kind and rank.
_LAYER_SQL = """
SELECT a.other, group_concat(DISTINCT a.relation), group_concat(DISTINCT a.direction), SUM(a.weight) AS w,
       n.name, n.kind, n.rank
FROM adj AS a LEFT JOIN nodes AS n ON n.slug = a.other
WHERE a.node IN (SELECT slug FROM temp.frontier) AND a.other NOT IN (SELECT slug FROM temp.seen) {relations}
GROUP BY a.other
ORDER BY ROUND(w, 9) DESC, COALESCE(n.rank, 0.0) DESC, a.other
LIMIT ?
"""


def _fill(conn: sqlite3.Connection, table: str, slugs: Iterable[str]) -> None:
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (slug TEXT PRIMARY KEY) WITHOUT ROWID")
    conn.execute(f"DELETE FROM temp.{table}")
    conn.executemany(f"INSERT OR IGNORE INTO temp.{table} VALUES (?)", ((s,) for s in slugs))


def _layer(conn: sqlite3.Connection, frontier: list[str], seen: set[str], relations: list[str] | None,
           depth: int, limit: int) -> list[Neighbour]:
    """The ``limit`` strongest partners of the frontier that were not seen yet."""
    _fill(conn, "frontier", frontier)
    _fill(conn, "seen", seen)
    params: list[object] = []
    where = ""
    if relations is not None:
        where = f"AND a.relation IN ({','.join('?' * len(relations))})"
        params += relations
    rows = conn.execute(_LAYER_SQL.format(relations=where), [*params, limit]).fetchall()
    return [Neighbour(other, name if name is not None else other, kind, sorted(set(rels.split(","))),
                      _direction(set(dirs.split(","))), weight, rank, depth)
            for other, rels, dirs, weight, name, kind, rank in rows]


def neighbours(catalog: Catalog, entity: str | EntityRef, *, relations: Iterable[str] | None = None,
               depth: int = 1, limit: int = 20) -> list[Neighbour]:
    """The entities next to ``entity`` in the match graph, strongest first.

    Parameters
    ----------
    catalog : Catalog
    entity : str or EntityRef
        An id, name, alias (any case) or IRI; see :func:`matchgraph.resolve.resolve_entity`.
    relations : iterable of str, optional
        Keep only edges of these relations (see :data:`RELATIONS`; any case).
    depth : int
        Hops to follow. Each further hop expands the ``limit`` strongest neighbours of the
        previous one. SQLite sums and orders the edges, so only ``limit`` neighbours per hop
        reach Python, however many edges a hub has.
    limit : int
        Neighbours returned.

    Returns
    -------
    list of Neighbour
        By depth, then weight (descending), then rank (descending), then id.

    Raises
    ------
    EntityNotFound
        The entity is unknown or ambiguous (with candidates).
    QueryError
        An unknown relation.

    Examples
    --------
    >>> cat = Catalog("memory:")
    >>> from matchgraph import ingest
    >>> _ = ingest(cat, ["examples/catalog"])  # doctest: +SKIP
    >>> [n.slug for n in neighbours(cat, "the-pile", relations=["derivedFrom"])][:1]  # doctest: +SKIP
    ['common-crawl']
    """
    wanted = _check_relations(relations)
    ref = entity if isinstance(entity, EntityRef) else resolve_entity(catalog, entity)
    found: list[Neighbour] = []
    with _open_index(catalog) as conn:
        seen = {ref.slug}
        frontier = [ref.slug]
        for hop in range(1, max(depth, 1) + 1):
            layer = _layer(conn, frontier, seen, wanted, hop, limit)
            found.extend(layer)
            if len(found) >= limit:  # a full first hop leaves no room for further ones
                break
            seen.update(n.slug for n in layer)
            frontier = [n.slug for n in layer]
            if not frontier:
                break
    return found[:limit]


def entity_rank(catalog: Catalog, slug: str) -> float | None:
    """The rank of one entity as held by the neighbour index (None before scores exist)."""
    with _open_index(catalog) as conn:
        return node_info(conn, [slug]).get(slug, (slug, None, None))[2]
