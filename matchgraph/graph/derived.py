"""The one owner of derived state: for a catalog data version, the facts, projection, scores,
neighbour index, text index and embeddings, built in one place and in one order.

Storage (under ``catalog.cache_dir / "derived"``)::

    v1-<data version>/          one directory per data version, immutable once published
        state.json              data version, parent version, what changed (full, match, ingest)
        facts.json facts-*.npy  the facts (:mod:`matchgraph.graph.facts`; a match hard-links the unchanged tables)
        projection.npz/.json    the projection (:mod:`matchgraph.graph.projection`)
        scores-<w>.npz/.json    the scores for weights with digest <w> (:mod:`matchgraph.graph.scoring`)
        neighbours-*.npy        the neighbour index, memory-mapped by readers
        textindex.json build-*  the text index (built by :func:`matchgraph.matching.textindex.build_index`)
        embeddings-all-mpnet-base-v2.npz  sentence embeddings of the entity texts (``match --semantic``)
        embeddings-plain-<model>.npz  of the entities without capabilities (a default ``match``)
        embeddings-imported-<model>.npz  of the imported records a default ``match`` read so far,
        embeddings-imported-<model>.<id>.npz  and the parts added since (merged past IMPORTED_PARTS)
    changes/<data version>.json what a write changed: its parent data version, entities, events
    history/                    every computed version's scores, as deltas (``scores --history``)

Every file is written under a name unique to the process (pid and uuid) and moved into place
with ``os.replace``; a whole version directory is staged the same way and renamed, so readers
never see a partial file and several processes can build, or read, at once (the last rename of
identical content wins). Nothing here writes to the store except :mod:`matchgraph.graph.score_graph`,
and read paths never write SQLite or pickles.

Writes own what they change: a recorded match builds the state of the version it writes inside
its own transaction (:func:`stage_match`), and the score graph follows in that transaction
(:func:`matchgraph.graph.score_graph.follow_match`); an ingest leaves a change note and updates the
state from it when the parent's is at hand (:func:`note_change`). Reads never write the store.

When only match events changed (a recorded match, or a chain of them), the new version reuses the
parent's: its nodes, the projection's other edges (the new co-matched edges are merged into them,
already in order), the factors of every entity that matches do not move (only Times Matched and
PageRank, and the sums and calibration they feed, are computed again) and the neighbour index's
other entries; no pass over every entity's evidence. Explanations are built for the entities
asked for only (:class:`~matchgraph.graph.scoring.LocalExplainer`: their own rows of the facts and
entries of the neighbour index), so ``explain``/``compare`` and the score cells a match rewrites
cost what those entities hold, not the catalog size. ``tests/test_incremental.py`` checks all of
it equal to a full rebuild.

Asked for the current version (:func:`current`), the owner loads it when present, else builds it:
from the parent version's facts plus what the write recorded as changed (a recorded match, an
ingest of a few cards: a delta, no full read of the store), or, failing that, from a full read,
with progress on the terminal when it takes more than a second.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .facts import TABLES, Facts, read_facts
from .neighbours_index import NeighbourIndex
from .progress import BuildProgress
from .projection import CompactProjection, Nodes, nodes_from, nodes_of, project
from .scoring import Explainer, LocalExplainer, ScoreTable, compute_table
from .weights import catalog_weights, load_weights, weights_digest

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx

    from ..store.catalog import Catalog
    from ..matching.textindex import TextIndex

__all__ = ["State", "current", "latest", "note_change", "advance", "stage_match", "touched_entities", "counters",
           "derived_root", "rank_prior", "prior_table", "FORMAT", "load_compact", "load_projection", "is_built"]

#: Bumped when the layout of a version directory changes (older ones are then rebuilt).
FORMAT = 1
#: Version directories kept (the newest; older ones are removed after a build).
KEEP_VERSIONS = 6
#: Change notes followed back to find a version to update from.
MAX_CHAIN = 50
#: A change to more entities than this (and to more than 1 in DELTA_SHARE of the parent's) is built
#: afresh: updating costs about 0.8 ms a changed entity (reading each back), a full build about
#: 0.035 ms an entity of the catalog. On the Quickstart catalog (5,178 entities) 200 new entities
#: were updated in 0.29 s against 0.38 s for a full build, 2,000 in 1.86 s against 0.47 s; 30,000
#: in a 35,000-entity catalog took about 50 s against 1.5 s (BENCHMARKS.md, session 10).
DELTA_MIN = 100
DELTA_SHARE = 25

#: What this process did (for tests and benchmarks): full builds, delta updates, loads.
counters: dict[str, int] = {"full": 0, "delta": 0, "loads": 0, "score_tables": 0, "text_builds": 0}

_STATES: dict[tuple[str, str], State] = {}
_LOCK = threading.RLock()


def derived_root(catalog: Catalog) -> Path:
    """The directory holding the derived state of a catalog."""
    root = catalog.cache_dir / "derived"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _dirname(data_version: str) -> str:
    return f"v{FORMAT}-{data_version}"


def _unique(prefix: str) -> str:
    return f".{prefix}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


@contextmanager
def _staged_files(directory: Path) -> Iterator[Path]:
    """A private staging directory whose files are moved into ``directory`` (``.json`` ones last)."""
    stage = directory / _unique("stage")
    stage.mkdir()
    try:
        yield stage
        for path in sorted(stage.iterdir(), key=lambda p: (p.suffix == ".json", p.name)):
            try:
                os.replace(path, directory / path.name)
            except OSError:  # a directory another process already published
                pass
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(_unique(path.name))
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


#: Entity texts are embedded in chunks of this many, one progress step each (100,000 records take
#: about four minutes on two cores).
EMBED_CHUNK = 2000


# ---------------------------------------------------------------------------------- one version
class State:
    """The derived state of one data version (a published, immutable directory); parts load on first use."""

    def __init__(self, catalog: Catalog, directory: Path, meta: dict[str, Any]) -> None:
        self.catalog_location = str(catalog.location)
        self.directory = directory
        self.meta = meta
        self.data_version: str = meta["data_version"]
        self._facts: Facts | None = None
        self._nodes: Nodes | None = None
        self._projection: CompactProjection | None = None
        self._tables: dict[str, ScoreTable] = {}
        self._neighbours: NeighbourIndex | None = None
        self._text: Any = None
        self._plain_texts: list[tuple[int, str]] | None = None  # read with the text index, until embedded
        self._imported: dict[str, dict[str, np.ndarray]] = {}  # per model, vectors of imported texts by key
        self._imported_next: dict[str, tuple[str, list[Path]]] = {}  # per model, how to keep new ones
        self._fresh: set[str] = set()  # digests of tables computed by this process (a recompute is a no-op)
        self._lock = threading.RLock()

    @property
    def facts(self) -> Facts:
        """The facts."""
        if self._facts is None:
            self._facts = Facts.load(self.directory)
        return self._facts

    @property
    def nodes(self) -> Nodes:
        """The nodes of the facts."""
        if self._nodes is None:
            self._nodes = nodes_from(self.facts, self.projection)
        return self._nodes

    @property
    def projection(self) -> CompactProjection:
        """The projection."""
        if self._projection is None:
            self._projection = CompactProjection.load(self.directory)
        return self._projection

    @property
    def neighbour_index(self) -> NeighbourIndex:
        """The neighbour index (memory-mapped)."""
        if self._neighbours is None:
            self._neighbours = NeighbourIndex.load(self.directory)
        return self._neighbours

    def scores(self, weights: str | os.PathLike[str] | Mapping[str, Any] | None = None, *,
               recompute: bool = False) -> ScoreTable:
        """The scores for ``weights`` (the package defaults when None; a catalog's own are
        :func:`matchgraph.graph.weights.catalog_weights`): read when stored (``scores-<digest>``),
        else computed and stored. A version made by recorded matches computes them from its
        parent's table for the same weights when one is kept (Times Matched, PageRank and what
        they move only), unless ``recompute``. The default weights' table goes to the history."""
        w = load_weights(weights)
        digest = weights_digest(w)
        with self._lock:
            table = None if recompute and digest not in self._fresh else self._tables.get(digest)
            if table is not None:
                return table
            name = f"scores-{digest}"
            if not recompute and (self.directory / f"{name}.json").exists():
                try:
                    table = ScoreTable.load(self.directory, name)
                except (OSError, ValueError, KeyError):
                    table = None
            if table is None:
                parent = None if recompute else self._parent_table(digest)
                table = compute_table(self.facts, self.nodes, self.projection, w, parent=parent)
                counters["score_tables"] += 1
                self._attach(table, w)
                self._fresh.add(digest)
                with _staged_files(self.directory) as stage:
                    table.save(stage, name)
                if digest == weights_digest(load_weights()):
                    from .history import record

                    record(self.directory.parent, table, self.meta)
            else:
                self._attach(table, w)
            self._tables[digest] = table
            return table

    def _parent_table(self, digest: str) -> ScoreTable | None:
        """The parent version's table for the weights of ``digest`` (in memory, or kept on disk)
        when this version differs from it by match events only, else None."""
        parent = self.meta.get("parent")
        if self.meta.get("change") != "match" or not parent:
            return None
        state = _STATES.get((str(self.directory.parent), parent))
        if state is not None:
            return state.kept_table(digest)
        return _stored_table(self.directory.parent / _dirname(parent), digest)

    def kept_table(self, digest: str) -> ScoreTable | None:
        """The score table for the weights of ``digest`` if this version keeps one (in memory, or
        stored), else None: never computed, and not kept in memory by this call.

        Parameters
        ----------
        digest : str
            :func:`matchgraph.graph.weights.weights_digest` of the weights.

        Returns
        -------
        ScoreTable or None
            The table, without the explanations :meth:`scores` attaches when it was read from disk.
        """
        table = self._tables.get(digest)
        return table if table is not None else _stored_table(self.directory, digest)

    def _attach(self, table: ScoreTable, weights: Mapping[str, Any]) -> None:
        """Let the table explain its numbers: a few entities from their own facts and neighbour
        index entries, many from the evidence of every entity (built on first use)."""
        if table.explainer is None:
            table.explainer = lambda: Explainer(self.facts, self.nodes, self.projection, weights,
                                                pagerank=table.pagerank)
        table.local = lambda: LocalExplainer(table, lambda: self.facts, lambda: self.neighbour_index, weights)

    def text_index(self, catalog: Catalog) -> TextIndex:
        """The text index of this version (built by :mod:`matchgraph.matching.textindex` when missing)."""
        from ..matching import textindex

        with self._lock:
            if self._text is not None:
                return self._text
            pointer = self.directory / "textindex.json"
            index = None
            if pointer.exists():
                index = _load_text(self.directory / json.loads(pointer.read_text(encoding="utf-8"))["build"])
            if index is None and self.meta.get("change") == "match":
                index = self._carry_text(catalog)
            if index is None:
                with BuildProgress("Building the text index", total=2) as progress:
                    progress.step("reading texts")
                    entities = textindex.read_entities(catalog)
                    index = textindex.build_index(catalog, entities=entities)
                    counters["text_builds"] += 1
                    self._plain_texts = _plain_texts(entities, index)
                    progress.step("saving")
                    build = textindex.save_index(index, self.directory)
                _write_json(pointer, {"build": build})
                index.build = build
            index.data_version = self.data_version
            self._text = index
            return index

    def _carry_text(self, catalog: Catalog) -> Any:
        """A recorded match changes no text: the parent's index is hard-linked into this version."""
        parent = self.meta.get("parent")
        if not parent:
            return None
        parent_dir = self.directory.parent / _dirname(parent)
        pointer = parent_dir / "textindex.json"
        if not pointer.exists():
            state = load_state(catalog, parent)
            if state is None or state.meta.get("change") != "match":
                return None
            state.text_index(catalog)  # carries further back, or builds
        try:
            build = json.loads(pointer.read_text(encoding="utf-8"))["build"]
            with _staged_files(self.directory) as stage:
                target = stage / build
                target.mkdir()
                for path in (parent_dir / build).iterdir():
                    os.link(path, target / path.name)
            _write_json(self.directory / "textindex.json", {"build": build})
        except (OSError, KeyError, ValueError):
            return None
        index = _load_text(self.directory / build)
        if index is not None:
            index.build = build
        return index

    def embeddings(self, catalog: Catalog, index: TextIndex, *, plain_only: bool = False,
                   model: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, vectors) of the embedded texts of the index's entities; vectors already computed for
        an identical text by the same model in any kept version are reused, only new texts are encoded.

        Without ``plain_only``, every text by ``model`` (default
        :data:`~matchgraph.matching.semantic.SEMANTIC_MODEL`: ``match --semantic``), kept in
        ``embeddings-<model>.npz``. With ``plain_only``, only the entities of
        :attr:`~matchgraph.matching.textindex.TextIndex.plain` (one text each: name as words,
        description, capability titles), kept in ``embeddings-plain-<model>.npz``: what a
        default ``match`` uses (its model from :func:`~matchgraph.matching.semantic.plain_model`).
        Vectors are reused from files of the same name only (the --semantic file of a large catalog
        can hold millions of vectors: not read to find a few)."""
        from ..matching import semantic

        model = model or semantic.SEMANTIC_MODEL
        name = f"embeddings-plain-{model}.npz" if plain_only else f"embeddings-{model}.npz"
        path = self.directory / name
        dim = semantic.load_encoder(model).dim
        kept = _kept_vectors(path, dim, "rows") if path.exists() else None  # a spoiled file: computed again
        if kept is not None and (not kept[0].size or int(kept[0].max()) < len(index)):
            rows, vectors = kept
            # kept by an older release, the file may hold another set of entities (what is read as
            # plain changed): computed again then, its vectors reused below
            if not plain_only or np.array_equal(rows, np.flatnonzero(index.plain)):
                if plain_only:
                    self._plain_texts = None
                return rows, vectors
        carried = self._carry_embeddings(name, getattr(index, "build", None), dim)
        if carried is not None:
            if plain_only:
                self._plain_texts = None
            return carried
        if plain_only and self._plain_texts is not None and self._text is index:
            texts = self._plain_texts  # this process built the index: the texts are not read twice
        elif plain_only:
            from ..matching.textindex import read_entities

            texts = _plain_texts(read_entities(catalog), index)
        else:
            texts = semantic.entity_texts(catalog, index)
        known: dict[str, np.ndarray] = {}
        for other in sorted(self.directory.parent.glob(f"v{FORMAT}-*/{name}"), key=_mtime, reverse=True):
            read = _kept_vectors(other, dim, "keys")
            if read is not None:
                known.update(zip(read[0].tolist(), read[1]))
                break
        keys = [semantic.text_key(t) for _, t in texts]
        missing = sorted({t for (_, t), k in zip(texts, keys) if k not in known})
        if missing:
            encoder = semantic.load_encoder(model)
            chunks = range(0, len(missing), EMBED_CHUNK)
            with BuildProgress("Embedding entity texts", total=len(chunks)) as progress:
                for start in chunks:
                    part = missing[start:start + EMBED_CHUNK]
                    progress.step(f"texts {start + 1:,}-{start + len(part):,} of {len(missing):,}")
                    known.update((semantic.text_key(t), v) for t, v in zip(part, encoder.encode(part)))
        rows = np.array([r for r, _ in texts], dtype=np.int64)
        matrix = np.stack([known[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, dim), np.float32)
        with _staged_files(self.directory) as stage:
            np.savez(stage / name, rows=rows, vectors=matrix, keys=np.array(keys),
                     build=np.array(getattr(index, "build", None) or ""))
        if plain_only:
            self._plain_texts = None
        return rows, matrix

    def imported_vectors(self, index: TextIndex, rows: np.ndarray, model: str) -> np.ndarray:
        """Sentence vectors by ``model`` of the :attr:`~matchgraph.matching.textindex.TextIndex.imported`
        entities at ``rows`` (index rows), each text embedded once per catalog.

        A default match embeds only the imported records that can reach its top, so what is kept
        grows as needs are matched, and is kept append-only: ``embeddings-imported-<model>.npz``
        (vectors by the hash of their text) and, beside it, one small part
        ``embeddings-imported-<model>.<id>.npz`` per call that embedded new texts, each written under
        a unique name and moved into place; past :data:`IMPORTED_PARTS` parts they are merged into
        the first file. A version without any starts from the newest version keeping some: linked
        as they are when made from the same text index build (a recorded match), else only the
        texts its index still holds, written as one file. Two processes merging at once may lose
        each other's newest part: what is lost is embedded again when asked for. A catalog that
        cannot be written (a read-only copy) embeds what it is asked for and keeps it in memory only.

        Parameters
        ----------
        index : TextIndex
            This version's text index (gives each imported entity's text).
        rows : numpy.ndarray
            Index rows of imported entities.
        model : str
            The encoder (:func:`matchgraph.matching.semantic.plain_model`).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(rows), dim)``, float32 unit vectors, in the order of ``rows``.
        """
        from ..matching import semantic

        position = np.cumsum(index.imported) - 1
        texts = [index.imported_texts[int(position[r])] for r in rows.tolist()]
        keys = [semantic.text_key(t) for t in texts]
        with self._lock:
            known = self._imported.get(model)
            if known is None:
                known = self._imported[model] = self._kept_imported(index, model)
            todo = {k: t for k, t in zip(keys, texts) if k not in known}
        if todo:  # encoded outside the lock: a server's other needs are not held up meanwhile
            encoder = semantic.load_encoder(model)
            # one text at a time: the int8 encoder quantises a batch's activations together, so a
            # text's vector would move (cosine up to 0.024) with the texts first embedded beside it,
            # and a need's ranking with the needs asked before it; alone, 50 texts take 1.5 s of
            # wall time on one thread against 1.2 s batched on two (and 1.5 s of CPU against 2.4)
            fresh = {k: encoder.encode([t])[0] for k, t in todo.items()}
            with self._lock:
                known.update(fresh)
                try:
                    self._keep_imported(index, model, fresh, known)
                except OSError:
                    pass  # kept in memory: a read-only catalog still matches
        with self._lock:
            if not keys:
                return np.zeros((0, semantic.load_encoder(model).dim), dtype=np.float32)
            return np.stack([known[k] for k in keys]).astype(np.float32)

    def _kept_imported(self, index: TextIndex, model: str) -> dict[str, np.ndarray]:
        """The imported vectors kept by this version, else by the newest version keeping any (only
        the texts ``index`` still holds); a file that is not whole vectors of ``model``'s size is
        passed over (its texts are embedded again, and the files written again as one).

        Notes for :meth:`_keep_imported` how the next new texts are to be kept
        (``self._imported_next[model]``): ``("part", [])`` (this version's files are sound: add a
        part), ``("link", files)`` (another version's sound files of the same text index build:
        link them, then add a part) or ``("whole", files)`` (write everything as one file, then
        remove ``files``, this version's parts).
        """
        from ..matching import semantic

        dim = semantic.load_encoder(model).dim
        own = _imported_files(self.directory, model)
        if own:
            kept, sound = _read_imported(own, dim)
            first = own[0].name == _imported_name(model)
            self._imported_next[model] = ("part", []) if sound else ("whole", own[1:] if first else own)
            return kept
        self._imported_next[model] = ("whole", [])
        build = getattr(index, "build", None)
        others = {path.parent for name in (_imported_name(model), _imported_name(model, "*"))
                  for path in self.directory.parent.glob(f"v{FORMAT}-*/{name}")}
        for other in sorted(others - {self.directory}, key=_mtime, reverse=True):
            files = _imported_files(other, model)
            if not files:
                continue
            kept, sound = _read_imported(files, dim)
            if sound and build and files[0].name == _imported_name(model) and _build_of(files[0]) == build:
                self._imported_next[model] = ("link", files)  # the same texts: nothing to leave out
                return kept
            wanted = {semantic.text_key(t) for t in index.imported_texts}
            return {k: v for k, v in kept.items() if k in wanted}
        return {}

    def _keep_imported(self, index: TextIndex, model: str, fresh: dict[str, np.ndarray],
                       known: dict[str, np.ndarray]) -> None:
        """Keep newly embedded imported vectors (``fresh``; ``known`` holds every vector this process
        has for the version) as :meth:`_kept_imported` noted; see :meth:`imported_vectors`."""
        from ..matching import semantic

        how, files = self._imported_next.get(model, ("whole", []))
        own = _imported_files(self.directory, model)
        if how == "link" and own:
            how = "part"  # another process kept this version's first files meanwhile
        if how == "part" and len(own) > IMPORTED_PARTS:  # merged: the parts any process added included
            merged, _ = _read_imported(own, semantic.load_encoder(model).dim)
            known.update({k: v for k, v in merged.items() if k not in known})
            how, files = "whole", [p for p in own if p.name != _imported_name(model)]
        first = self.directory / _imported_name(model)
        if first.exists() and not first.is_file():
            how = "part"  # a directory holds the first file's name: it cannot be put in place, parts can
        build = np.array(getattr(index, "build", None) or "")
        with _staged_files(self.directory) as stage:
            if how == "link":
                try:
                    for path in files:
                        os.link(path, stage / path.name)
                except OSError:  # the other version's files changed (merged, collected): one file then
                    for path in stage.iterdir():
                        path.unlink()
                    how, files = "whole", []
            if how == "whole":
                np.savez(stage / _imported_name(model), keys=np.array(list(known)),
                         vectors=np.stack(list(known.values())).astype(np.float32), build=build)
            else:
                np.savez(stage / _imported_name(model, uuid.uuid4().hex[:12]),
                         keys=np.array(list(fresh)), vectors=np.stack(list(fresh.values())).astype(np.float32),
                         build=build)
        if how == "whole":
            for path in files:
                path.unlink(missing_ok=True)
        self._imported_next[model] = ("part", [])

    def _carry_embeddings(self, name: str, build: str | None, dim: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The newest other version's embeddings when they were made from the same text index
        build (a recorded match changes no text): hard-linked into this version, nothing read from
        the store nor encoded."""
        if not build:
            return None
        for other in sorted(self.directory.parent.glob(f"v{FORMAT}-*/{name}"), key=_mtime, reverse=True):
            if other.parent == self.directory:  # this version's own file was found unfit: not carried
                continue
            kept = _kept_vectors(other, dim, "rows", build=build)
            if kept is None:
                return None
            try:
                with _staged_files(self.directory) as stage:
                    os.link(other, stage / name)
            except OSError:
                return None
            return kept
        return None


def _stored_table(directory: Path, digest: str) -> ScoreTable | None:
    """The score table for the weights of ``digest`` stored in a version's ``directory``, or None
    when there is none (or it cannot be read)."""
    try:
        return ScoreTable.load(directory, f"scores-{digest}")
    except (OSError, ValueError, KeyError):
        return None


def _plain_texts(entities: dict[str, Any], index: TextIndex) -> list[tuple[int, str]]:
    """The one embedded text of each entity read as plain (:attr:`TextIndex.plain`), by row: its
    static vector's text (name as words, aliases, description, capability titles)."""
    from ..matching.textindex import vector_text

    plain = index.plain
    return sorted((row, vector_text(ent)) for ent in entities.values()
                  if (row := index.row_of.get(ent.slug)) is not None and plain[row])


def _kept_vectors(path: Path, dim: int, by: str, *, build: str | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """``(by, vectors)`` of a kept ``embeddings-*.npz`` file, ``by`` being ``"keys"`` (text keys)
    or ``"rows"`` (index rows), or None when the file is not whole: unreadable (empty, truncated, a
    bad CRC, not a zip), without both arrays, keys not strings or rows not non-negative integers,
    vectors not ``(len(by), dim)`` floats or not finite; with ``build``, also when it was made from
    another text index build. It is a cache: what it cannot give is embedded again."""
    try:
        with np.load(path) as data:
            if build is not None and ("build" not in data.files or str(data["build"]) != build):
                return None  # made from another text index build
            labels, vectors = data[by], data["vectors"]
    except Exception:  # noqa: BLE001 - zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, ...
        return None
    if (labels.ndim != 1 or labels.dtype.kind not in ("U" if by == "keys" else "iu")
            or vectors.ndim != 2 or vectors.shape != (labels.size, dim) or vectors.dtype.kind != "f"
            or not np.isfinite(vectors.sum(dtype=np.float64))):  # one pass, no array of flags
        return None
    if by == "rows" and labels.size and int(labels.min()) < 0:
        return None
    return labels, vectors


#: Parts a version's imported vectors may have beside their first file before they are merged into it.
IMPORTED_PARTS = 16


def _imported_name(model: str, part: str | None = None) -> str:
    """The name of a version's first imported-vector file, or of a part added beside it (``part``
    its 12 hex digits)."""
    return f"embeddings-imported-{model}.{part}.npz" if part else f"embeddings-imported-{model}.npz"


def _imported_files(directory: Path, model: str) -> list[Path]:
    """A version's imported-vector files: the first (whole) file when present, then the parts added
    beside it, oldest first."""
    whole = directory / _imported_name(model)
    # only regular files named as this module names them: a directory, or a file another hand named
    # alike (``<name>.old.npz``), is not a part (it could be neither read nor removed, and would make
    # every later call write everything again)
    part = re.compile(re.escape(_imported_name(model, "@")).replace("@", "[0-9a-f]{12}"))
    parts = sorted((p for p in directory.glob(_imported_name(model, "*")) if part.fullmatch(p.name) and p.is_file()),
                   key=lambda p: (_mtime(p), p.name))
    return ([whole] if whole.is_file() else []) + parts


def _read_imported(files: list[Path], dim: int) -> tuple[dict[str, np.ndarray], bool]:
    """The vectors of imported-vector files by text key, and whether every file was sound."""
    kept: dict[str, np.ndarray] = {}
    sound = True
    for path in files:
        read = _kept_vectors(path, dim, "keys")
        if read is None:
            sound = False
            continue
        kept.update(zip(read[0].tolist(), read[1].astype(np.float32, copy=False)))
    return kept, sound


def _build_of(path: Path) -> str | None:
    """The text index build an embeddings file was made from (None when it does not say)."""
    try:
        with np.load(path) as data:
            return str(data["build"]) if "build" in data.files else None
    except Exception:  # noqa: BLE001 - a file _kept_vectors found sound a moment ago: treated as unknown
        return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _load_text(path: Path) -> Any:
    from ..matching import textindex

    try:
        return textindex.load_saved(path)
    except (OSError, ValueError, KeyError):
        return None


def is_built(catalog: Catalog, data_version: str) -> bool:
    """Whether the state of a data version is published (a file check: never waits for a build)."""
    return (derived_root(catalog) / _dirname(data_version) / "state.json").is_file()


def load_state(catalog: Catalog, data_version: str) -> State | None:
    """The published state of a data version, or None when it was never built (or was removed)."""
    root = derived_root(catalog)
    key = (str(root), data_version)
    with _LOCK:
        state = _STATES.get(key)
        if state is not None and state.directory.exists():
            return state
        directory = root / _dirname(data_version)
        try:
            meta = json.loads((directory / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        state = State(catalog, directory, meta)
        counters["loads"] += 1
        _STATES[key] = state
        if len(_STATES) > 4:
            _STATES.pop(next(iter(_STATES)))
        return state


# ---------------------------------------------------------------------------------- building
def _publish(catalog: Catalog, facts: Facts, meta: dict[str, Any], progress: BuildProgress,
             base: State | None = None) -> State:
    """Compute the projection, scores and neighbour index of ``facts`` and publish the version.

    ``base``: the parent's state when only match events changed. Its projection's other edges,
    its scores' factors that matches do not move and its neighbour index's other entries are
    kept; Times Matched, co-matched edges and PageRank (with what it moves) are computed again.
    """
    root = derived_root(catalog)
    data_version = meta["data_version"]
    weights = load_weights()
    progress.step("projection")
    parent_table: ScoreTable | None = None
    if base is not None:
        nodes = nodes_from(facts, base.projection)
        p = project(facts, data_version, base=base.projection, nodes=nodes)
        try:
            parent_table = base.scores()
        except (OSError, ValueError, KeyError):
            parent_table = None
    else:
        nodes = nodes_of(facts)
        p = project(facts, data_version)
    progress.step("scores")
    table = compute_table(facts, nodes, p, weights, parent=parent_table)
    # the catalog's own weights (its score run's), when not the defaults: every read asks for them
    # (a match's Rank prior, neighbours, scores), so the version is published with their table too
    own = catalog_weights(catalog)
    own_table: ScoreTable | None = None
    if weights_digest(own) != weights_digest(weights):
        own_parent = base.kept_table(weights_digest(own)) if base is not None else None
        own_table = compute_table(facts, nodes, p, own, parent=own_parent)
    progress.step("neighbour index")
    index = None
    if base is not None and base.projection.slugs == p.slugs:
        try:
            index = base.neighbour_index.with_matches(p)
        except (OSError, ValueError):
            index = None
    if index is None:
        index = NeighbourIndex.build(p)
    progress.step("saving")
    stage = root / _unique("stage")
    stage.mkdir()
    try:
        facts.save(stage)
        p.save(stage)
        table.save(stage, f"scores-{weights_digest(weights)}")
        if own_table is not None:
            own_table.save(stage, f"scores-{weights_digest(own)}")
        index.save(stage)
        (stage / "state.json").write_text(json.dumps({**meta, "format": FORMAT, "built": time.time()}),
                                          encoding="utf-8")
        try:
            os.rename(stage, root / _dirname(data_version))
        except OSError:  # another process published this version first: same content
            pass
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    state = load_state(catalog, data_version)
    assert state is not None
    facts._source, facts._changed = state.directory, set()  # what a next version can hard-link
    with state._lock:
        if state._facts is None:
            state._facts, state._nodes, state._projection, state._neighbours = facts, nodes, p, index
            for w, t in ((weights, table), (own, own_table)):
                if t is None:
                    continue
                if weights_digest(w) not in state._tables:
                    state._attach(t, w)
                    state._tables[weights_digest(w)] = t
                state._fresh.add(weights_digest(w))
    from .history import record

    record(root, table, state.meta, parent=parent_table)
    _collect(root)
    return state


def _collect(root: Path) -> None:
    """Remove all but the newest version directories, and change notes older than they are."""
    versions = sorted(root.glob(f"v{FORMAT}-*"), key=_mtime, reverse=True)
    for old in versions[KEEP_VERSIONS:]:
        if time.time() - _mtime(old) > 60:
            shutil.rmtree(old, ignore_errors=True)
    oldest = min((_mtime(v) for v in versions[:KEEP_VERSIONS]), default=0.0)
    for note in (root / "changes").glob("*.json") if (root / "changes").exists() else []:
        if _mtime(note) < oldest - 3600:
            note.unlink(missing_ok=True)
    # a process killed while it staged files leaves its stage: beside the versions, or inside one
    for stale in [*root.glob(".stage-*"), *root.glob(f"v{FORMAT}-*/.stage-*")]:
        if time.time() - _mtime(stale) > 3600:
            shutil.rmtree(stale, ignore_errors=True)


def _full(catalog: Catalog, data_version: str, *, parent: str | None = None, change: str = "full") -> State:
    """Build a version's state from the store; ``parent`` and ``change`` go to its metadata (and so
    to its score history) when the build stands for a known change."""
    counters["full"] += 1
    with BuildProgress("Building the match graph", total=len(TABLES) + 4) as progress:
        facts = read_facts(catalog, progress=lambda name: progress.step(f"reading {name}"))
        return _publish(catalog, facts, {"data_version": data_version, "parent": parent, "change": change}, progress)


def _note(root: Path, data_version: str) -> dict[str, Any] | None:
    try:
        return json.loads((root / "changes" / f"{data_version}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _chain(catalog: Catalog, data_version: str) -> tuple[State, set[str], set[str], bool] | None:
    """A published ancestor and what changed since (entities, events, whether only matches)."""
    root = derived_root(catalog)
    entities: set[str] = set()
    events: set[str] = set()
    only_matches = True
    version = data_version
    for _ in range(MAX_CHAIN):
        note = _note(root, version)
        if note is None:
            return None
        entities.update(note.get("entities", ()))
        events.update(note.get("events", ()))
        only_matches = only_matches and not note.get("entities")
        version = note["parent"]
        state = load_state(catalog, version)
        if state is not None:
            return state, entities, events, only_matches
    return None


def advance(catalog: Catalog, data_version: str | None = None) -> State | None:
    """Build the state of the catalog's data version from an ancestor's and the recorded changes.

    Returns None (and builds nothing) when no ancestor state or no change note leads there. A
    change large enough for a full build to be faster (:data:`DELTA_SHARE`) is built in full,
    recorded as the change from its parent all the same.
    """
    version = data_version or catalog.data_version
    found = _chain(catalog, version)
    if found is None:
        return None
    parent, entities, events, only_matches = found
    if len(entities) > max(DELTA_MIN, parent.projection.n / DELTA_SHARE):
        return _full(catalog, version, parent=parent.data_version, change="ingest")
    counters["delta"] += 1
    with BuildProgress("Updating the match graph", total=5) as progress:
        progress.step("reading the changes")
        facts = parent.facts.copy()
        facts.replace(catalog, entities, events)
        meta = {"data_version": version, "parent": parent.data_version, "change": "match" if only_matches else "ingest"}
        return _publish(catalog, facts, meta, progress, parent if only_matches else None)


def current(catalog: Catalog) -> State:
    """The derived state of the catalog's current data version: loaded, updated from a delta, or built.

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> current(Catalog("memory:")).projection.n
    0
    """
    version = catalog.data_version
    state = load_state(catalog, version)
    if state is not None:
        return state
    with _LOCK:
        state = load_state(catalog, version)
        if state is None:
            state = advance(catalog, version) or _full(catalog, version)
    return state


def load_compact(catalog: Catalog) -> CompactProjection:
    """The projection of the current version, as kept here (built first when missing).

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> load_compact(Catalog("memory:")).data_version
    'empty'
    """
    return current(catalog).projection


def load_projection(catalog: Catalog) -> nx.MultiDiGraph:
    """:func:`load_compact` as a networkx MultiDiGraph (a fresh object each call: callers may modify it).

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> load_projection(Catalog("memory:")).graph["data_version"]
    'empty'
    """
    return load_compact(catalog).to_networkx()


def latest(catalog: Catalog) -> State | None:
    """The current state when built, else the newest kept one (possibly stale); never builds."""
    state = load_state(catalog, catalog.data_version)
    if state is not None:
        return state
    root = derived_root(catalog)
    for directory in sorted(root.glob(f"v{FORMAT}-*"), key=_mtime, reverse=True):
        found = load_state(catalog, directory.name.split("-", 1)[1])
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------------------------- writes
def note_change(catalog: Catalog, parent: str, version: str, *, entities: Iterable[str] = (),
                events: Iterable[str] = (), apply: bool = True) -> None:
    """Record what a write changed, so the next state is updated from the parent's, not rebuilt.

    Parameters
    ----------
    catalog : Catalog
    parent, version : str
        The data version before the write (read inside the write) and the one it produced.
    entities : iterable of str
        IRIs of the entities whose facts the write may have changed.
    events : iterable of str
        IRIs of the match events it added.
    apply : bool
        Update the derived state now when the parent's is at hand (so the next read is warm).
    """
    root = derived_root(catalog)
    (root / "changes").mkdir(exist_ok=True)
    _write_json(root / "changes" / f"{version}.json",
                {"parent": parent, "version": version, "entities": sorted(set(entities)), "events": sorted(set(events))})
    if apply and load_state(catalog, parent) is not None and catalog.data_version == version:
        with _LOCK:
            if load_state(catalog, version) is None:
                advance(catalog, version)


def stage_match(catalog: Catalog, txn: Any, parent: str, event: str, entities: list[str]) -> State | None:
    """Inside a recorded match's transaction: the derived state of the version it writes.

    The match event is the whole change: its rows are added to the parent's facts without reading
    the store (:meth:`~matchgraph.graph.facts.Facts.add_event`), the projection, scores and
    neighbour index are updated from the parent's (Times Matched, co-matched edges, PageRank and
    what it moves; see :func:`_publish`) and the version directory published under the transaction's version token (which becomes the data
    version at commit; a transaction that does not commit leaves an unused directory, collected
    later). The writer then calls :func:`matchgraph.graph.score_graph.follow_match` to replace
    the score cells the event moved in the same transaction. Returns None (and does nothing)
    when the parent's state was never built.

    Parameters
    ----------
    catalog : Catalog
    txn : Transaction
        The open transaction of the match (its ``version`` is the new data version).
    parent : str
        The data version the match was recorded against.
    event : str
        The event IRI.
    entities : list of str
        IRIs of its results, best first.
    """
    base = load_state(catalog, parent)
    if base is None:
        return None
    with _LOCK:
        counters["delta"] += 1
        with BuildProgress("Updating the match graph", total=5) as progress:
            progress.step("the match event")
            facts = base.facts.copy()
            facts.add_event(event, entities)
            meta = {"data_version": txn.version, "parent": parent, "change": "match"}
            return _publish(catalog, facts, meta, progress, base)


def touched_entities(catalog: Catalog, graphs: Mapping[Any, Any], replaced: Iterable[Any] = (),
                     clear_stubs: Iterable[Any] = ()) -> set[str]:
    """The entities whose facts a write of ``graphs`` (replacing ``replaced``) may change.

    Call it before the write: the subjects of the replaced graphs are read from the store, those
    of the new graphs from the rdflib graphs, plus the entities of every capability in them.
    """
    from rdflib import URIRef

    from ..vocab import MG
    from .rows import select_values

    touched = {str(e) for e in clear_stubs}
    for graph in graphs.values():
        touched.update(str(s) for s in graph.subjects(unique=True) if isinstance(s, URIRef))
        touched.update(str(o) for o in graph.objects(None, MG.capabilityOf) if isinstance(o, URIRef))
    for g in replaced:
        name = URIRef(str(g)).n3()
        for (x,) in select_values(catalog, f"SELECT DISTINCT ?x WHERE {{ GRAPH {name} {{ "
                                           f"{{ ?x ?p ?o }} UNION {{ ?c mg:capabilityOf ?x }} }} FILTER(isIRI(?x)) }}"):
            if x:
                touched.add(x)
    return touched


def rank_prior(catalog: Catalog, slugs: list[str], *, static: bool = True,
               table: ScoreTable | None = None, key: str | None = None) -> np.ndarray | None:
    """Ranks (0-100) for ``slugs`` (NaN where unknown) from the newest computed scores with the
    catalog's weights (those of its score run), or None.

    ``static`` (what a match's prior reads): the Rank with match events left out
    (:meth:`~matchgraph.graph.scoring.ScoreTable.static_ranks`), so that a ranking does not lean
    toward what earlier needs were shown; else the Rank the score graph holds. ``table``: read
    from that table (what :func:`prior_table` gave), so that two reads agree on the version.
    ``key``: names ``slugs`` (a text index build), so that the table finds their rows once.

    Never builds a version: a prior may be a little stale, a search should not wait for one. The
    newest version's table for the catalog's weights is published with it (:func:`_publish`);
    only a state published before its catalog's weights changed lacks it, and then asks its owner.
    """
    table = table if table is not None else prior_table(catalog)
    if table is None:
        return None
    rows = table.rows_of(slugs, key)
    ranks = table.static_ranks() if static else table.values[:, 0]
    if not table.n:
        return np.full(len(rows), np.nan)
    return np.where(rows >= 0, ranks[rows], np.nan).astype(np.float64)


def prior_table(catalog: Catalog) -> ScoreTable | None:
    """The newest computed score table with the catalog's weights, or None (see :func:`rank_prior`)."""
    state = latest(catalog)
    if state is None:
        return None
    weights = catalog_weights(catalog)
    table = state._tables.get(weights_digest(weights))
    if table is None:
        try:
            table = state.scores(weights)
        except (OSError, ValueError):
            return None
    return table


class WriteChange:
    """What a write of source graphs changes, recorded for the next derived state.

    Made before the write (:meth:`before`), it reads which entities the replaced graphs held; its
    :attr:`stamp` goes into the write, recording there the data version the write started from;
    :meth:`written` then leaves a change note, so the next state is a delta from the parent's.
    """

    def __init__(self, catalog: Catalog, entities: set[str]) -> None:
        from ..vocab import CATALOG, META_GRAPH, MG

        self.catalog = catalog
        self.entities = entities
        meta, parent, dv = f"<{META_GRAPH}>", f"<{MG.parentDataVersion}>", f"<{MG.dataVersion}>"
        self.stamp = (f"DELETE {{ GRAPH {meta} {{ <{CATALOG}> {parent} ?old }} }} "
                      f"INSERT {{ GRAPH {meta} {{ <{CATALOG}> {parent} ?v }} }} WHERE {{ "
                      f"OPTIONAL {{ GRAPH {meta} {{ <{CATALOG}> {parent} ?old }} }} "
                      f"OPTIONAL {{ GRAPH {meta} {{ <{CATALOG}> {dv} ?v }} }} }}")
        self._query = (f"SELECT ?v ?p WHERE {{ GRAPH {meta} {{ <{CATALOG}> {dv} ?v . "
                       f"OPTIONAL {{ <{CATALOG}> {parent} ?p }} }} }}")

    @classmethod
    def before(cls, catalog: Catalog, graphs: Mapping[Any, Any], replaced: Iterable[Any] = (),
               clear_stubs: Iterable[Any] = ()) -> WriteChange:
        """Note what a write of ``graphs`` replacing ``replaced`` will touch (call before writing)."""
        return cls(catalog, touched_entities(catalog, graphs, replaced, clear_stubs))

    def written(self, version: str) -> None:
        """The write produced data version ``version``: leave the change note (and update now when cheap)."""
        from .rows import select_values

        rows = list(select_values(self.catalog, self._query))
        if len(rows) == 1 and rows[0][0] == version and rows[0][1]:
            note_change(self.catalog, rows[0][1], version, entities=self.entities)
