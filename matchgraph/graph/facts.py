"""Facts: what the catalog says that derived state is computed from, as keyed tables of arrays.

Every table is keyed by the IRI its rows are about (an entity, or a match event), so an update
that touched a few entities replaces exactly their rows: drop the rows of the touched keys, read
them again with small ``VALUES``-bound queries, append. A full read runs the same queries over
the whole store (bulk forms whose joins Oxigraph hashes), so both give the same rows and anything
computed from the facts is the same whether they were read at once or kept up to date.

Columns are integer codes into two tables of strings: ``terms`` (IRIs) and ``strings`` (names,
licences, metric names, aspects, concept IRIs); numbers are float64.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..vocab import KINDS, MATCH_GRAPH, MG
from .relations import STATED_RELATIONS
from .rows import chunks, select_values, values_clause

if TYPE_CHECKING:  # pragma: no cover
    from ..store.catalog import Catalog

__all__ = ["Facts", "TABLES", "read_facts", "FACTS_FORMAT"]

#: Bumped when the tables change shape, so facts stored by an older version are not read.
FACTS_FORMAT = 2

_KIND_VALUES = " ".join(f"<{iri}>" for iri in KINDS.values())
_STATED_PROPS = " ".join(f"<{MG[r]}>" for r in (*STATED_RELATIONS, "alternativeTo"))
#: Sub-select joining a capability ?c to its entity ?e (hash-joined by Oxigraph in bulk reads).
CAPABILITY_OF = "{ SELECT ?c ?e WHERE { ?c mg:capabilityOf ?e } }"
_CLAIMS_NAMING = (CAPABILITY_OF + " { SELECT ?cl ?c WHERE { ?cl mg:claimOf ?c } }"
                  " { SELECT ?cl ?b WHERE { ?cl mg:namesAlternative ?b } }")
_ENTITY = "{ SELECT ?e WHERE { ?e a mg:Entity } }"


@dataclass(frozen=True)
class _Spec:
    """One table: the bulk query, the keyed query (``{values}`` binds the key) and column types.

    Column types: ``t`` an IRI (code into terms), ``s`` a string, ``S`` space-separated strings
    (one row each), ``f`` a number, ``i`` an integer. The first column is the key (an IRI).
    """

    bulk: str
    keyed: str
    columns: str
    by_event: bool = False


TABLES: dict[str, _Spec] = {
    "entity": _Spec("SELECT ?e WHERE { ?e a mg:Entity }", "SELECT ?e WHERE { {values} ?e a mg:Entity }", "t"),
    "name": _Spec(f"SELECT ?e ?n WHERE {{ {_ENTITY} {{ SELECT ?e ?n WHERE {{ ?e schema:name ?n }} }} }}",
                  "SELECT ?e ?n WHERE { {values} ?e a mg:Entity ; schema:name ?n }", "ts"),
    "kind": _Spec(f"SELECT ?e ?c WHERE {{ VALUES ?c {{ {_KIND_VALUES} }} ?e a ?c }}",
                  f"SELECT ?e ?c WHERE {{ {{values}} VALUES ?c {{ {_KIND_VALUES} }} ?e a ?c }}", "ts"),
    "stub": _Spec("SELECT ?e WHERE { ?e mg:isStub true }", "SELECT ?e WHERE { {values} ?e mg:isStub true }", "t"),
    "stated": _Spec(f"SELECT ?e ?o ?p WHERE {{ VALUES ?p {{ {_STATED_PROPS} }} ?e ?p ?o }}",
                    f"SELECT ?e ?o ?p WHERE {{ {{values}} VALUES ?p {{ {_STATED_PROPS} }} ?e ?p ?o }}", "tts"),
    "named": _Spec(f"SELECT ?e ?b WHERE {{ {_CLAIMS_NAMING} }}",
                   "SELECT ?e ?b WHERE { {values} ?c mg:capabilityOf ?e . ?cl mg:claimOf ?c ; "
                   "mg:namesAlternative ?b }", "tt"),
    "aspect": _Spec(f"SELECT ?e ?b ?asp WHERE {{ {_CLAIMS_NAMING} {{ SELECT ?cl ?asp WHERE {{ ?cl mg:aspect ?asp }} }} }}",
                    "SELECT ?e ?b ?asp WHERE { {values} ?c mg:capabilityOf ?e . ?cl mg:claimOf ?c ; "
                    "mg:namesAlternative ?b ; mg:aspect ?asp }", "tts"),
    "concept": _Spec(f"""SELECT ?e (GROUP_CONCAT(STR(?k)) AS ?ks) WHERE {{
        {CAPABILITY_OF} {{ SELECT ?c ?k WHERE {{ ?c mg:concept ?k }} }} }} GROUP BY ?e""",
                     "SELECT ?e (GROUP_CONCAT(STR(?k)) AS ?ks) WHERE { {values} ?c mg:capabilityOf ?e ; mg:concept ?k } "
                     "GROUP BY ?e", "tS"),
    "match": _Spec(f"SELECT ?ev ?e ?n WHERE {{ GRAPH <{MATCH_GRAPH}> {{ ?ev mg:hasResultItem ?r . "
                   "?r mg:matchedEntity ?e ; mg:position ?n } }",
                   f"SELECT ?ev ?e ?n WHERE {{ {{values}} GRAPH <{MATCH_GRAPH}> {{ ?ev mg:hasResultItem ?r . "
                   "?r mg:matchedEntity ?e ; mg:position ?n } }", "ttf", by_event=True),
    "metric": _Spec("""SELECT ?e ?name ?v WHERE { { SELECT ?e ?m WHERE { ?e mg:hasMetric ?m } }
        { SELECT ?m ?name WHERE { ?m mg:metricName ?name } } { SELECT ?m ?v WHERE { ?m schema:value ?v } } }""",
                    "SELECT ?e ?name ?v WHERE { {values} ?e mg:hasMetric ?m . ?m mg:metricName ?name ; schema:value ?v }",
                    "tsf"),
    "capabilities": _Spec("SELECT ?e (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c mg:capabilityOf ?e } GROUP BY ?e",
                          "SELECT ?e (COUNT(DISTINCT ?c) AS ?n) WHERE { {values} ?c mg:capabilityOf ?e } GROUP BY ?e",
                          "ti"),
    "with_claims": _Spec(f"""SELECT ?e (COUNT(DISTINCT ?c) AS ?n) WHERE {{
        {CAPABILITY_OF} {{ SELECT ?cl ?c WHERE {{ ?cl mg:claimOf ?c }} }} }} GROUP BY ?e""",
                         "SELECT ?e (COUNT(DISTINCT ?c) AS ?n) WHERE { {values} ?c mg:capabilityOf ?e . "
                         "?cl mg:claimOf ?c } GROUP BY ?e", "ti"),
    "with_concepts": _Spec(f"""SELECT ?e (COUNT(DISTINCT ?c) AS ?n) WHERE {{
        {CAPABILITY_OF} {{ SELECT ?c ?k WHERE {{ ?c mg:concept ?k }} }} }} GROUP BY ?e""",
                           "SELECT ?e (COUNT(DISTINCT ?c) AS ?n) WHERE { {values} ?c mg:capabilityOf ?e ; "
                           "mg:concept ?k } GROUP BY ?e", "ti"),
    "dangling": _Spec(f"""SELECT ?e (COUNT(DISTINCT ?cl) AS ?n) WHERE {{
        {CAPABILITY_OF}
        {{ SELECT ?cl ?c WHERE {{ {{ SELECT ?cl WHERE {{ ?cl a mg:AlternativeClaim }} }}
                                {{ SELECT ?cl ?c WHERE {{ ?cl mg:claimOf ?c }} }} }} }}
        MINUS {{ {{ SELECT ?cl WHERE {{ ?cl mg:namesAlternative ?x }} }} }}
    }} GROUP BY ?e""",
                      "SELECT ?e (COUNT(DISTINCT ?cl) AS ?n) WHERE { {values} ?c mg:capabilityOf ?e . "
                      "?cl mg:claimOf ?c ; a mg:AlternativeClaim . FILTER NOT EXISTS { ?cl mg:namesAlternative ?x } } "
                      "GROUP BY ?e", "ti"),
    "results": _Spec("SELECT ?e (COUNT(DISTINCT ?r) AS ?n) WHERE { ?e mg:hasResult ?r } GROUP BY ?e",
                     "SELECT ?e (COUNT(DISTINCT ?r) AS ?n) WHERE { {values} ?e mg:hasResult ?r } GROUP BY ?e", "ti"),
    "described": _Spec(f"SELECT ?e WHERE {{ {_ENTITY} {{ SELECT DISTINCT ?e WHERE {{ ?e dcterms:description ?d }} }} }}",
                       "SELECT DISTINCT ?e WHERE { {values} ?e a mg:Entity ; dcterms:description ?d }", "t"),
    "licence": _Spec("SELECT ?e ?l WHERE { ?e dcterms:license ?l }",
                     "SELECT ?e ?l WHERE { {values} ?e dcterms:license ?l }", "ts"),
    "homepage": _Spec("SELECT DISTINCT ?e WHERE { ?e schema:url ?u }",
                      "SELECT DISTINCT ?e WHERE { {values} ?e schema:url ?u }", "t"),
    "source": _Spec(f"SELECT ?e WHERE {{ {_ENTITY} {{ SELECT DISTINCT ?e WHERE {{ ?e prov:wasDerivedFrom ?s }} }} }}",
                    "SELECT DISTINCT ?e WHERE { {values} ?e a mg:Entity ; prov:wasDerivedFrom ?s }", "t"),
}


def _number(text: str | None) -> float:
    try:
        return float(text or "nan")
    except ValueError:
        return math.nan


@dataclass
class Facts:
    """The keyed tables of facts (see the module docstring).

    Attributes
    ----------
    terms : list of str
        IRIs; table columns of type ``t`` hold indices into it. Grows only.
    strings : list of str
        Other strings; columns of type ``s`` hold indices into it. Grows only.
    tables : dict of str to dict of str to numpy.ndarray
        Table name -> column name (``c0`` is the key, then ``c1``, ...) -> array.
    """

    terms: list[str] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)
    tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    _term_ids: dict[str, int] | None = field(default=None, repr=False, compare=False)
    _string_ids: dict[str, int] | None = field(default=None, repr=False, compare=False)
    #: The directory the tables were loaded from, and the tables changed since (saved again).
    _source: Path | None = field(default=None, repr=False, compare=False)
    _changed: set[str] = field(default_factory=set, repr=False, compare=False)

    # ------------------------------------------------------------------ codes
    def term(self, iri: str) -> int:
        """The code of an IRI (added when new)."""
        ids = self._terms()
        code = ids.get(iri)
        if code is None:
            code = ids[iri] = len(self.terms)
            self.terms.append(iri)
        return code

    def string(self, text: str) -> int:
        """The code of a string (added when new)."""
        if self._string_ids is None:
            self._string_ids = {s: i for i, s in enumerate(self.strings)}
        code = self._string_ids.get(text)
        if code is None:
            code = self._string_ids[text] = len(self.strings)
            self.strings.append(text)
        return code

    def _terms(self) -> dict[str, int]:
        if self._term_ids is None:
            self._term_ids = {t: i for i, t in enumerate(self.terms)}
        return self._term_ids

    def known_terms(self, iris: Iterable[str]) -> np.ndarray:
        """Codes of those of ``iris`` already known (unknown ones cannot key any row)."""
        ids = self._terms()
        return np.array(sorted({ids[i] for i in iris if i in ids}), dtype=np.int64)

    def column(self, table: str, i: int) -> np.ndarray:
        """Column ``i`` of a table (``0`` is the key)."""
        return self.tables[table][f"c{i}"]

    # ------------------------------------------------------------------ rows
    def _rows_to_columns(self, spec: _Spec, rows: Iterable[tuple[str | None, ...]]) -> dict[str, np.ndarray]:
        cols: list[list[Any]] = [[] for _ in spec.columns]
        for row in rows:
            if row[0] is None:
                continue
            if spec.columns[1:2] == "S":
                for part in (row[1] or "").split():
                    cols[0].append(self.term(row[0]))
                    cols[1].append(self.string(part))
                continue
            out = []
            for kind, value in zip(spec.columns, row):
                if kind == "t":
                    out.append(self.term(value) if value is not None else -1)
                elif kind in "sS":
                    out.append(self.string(value) if value is not None else -1)
                elif kind == "f":
                    out.append(_number(value))
                else:
                    out.append(int(float(value or 0)))
            for c, v in zip(cols, out):
                c.append(v)
        dtypes = {"t": np.int64, "s": np.int64, "S": np.int64, "f": np.float64, "i": np.int64}
        return {f"c{i}": np.array(c, dtype=dtypes[k]) for i, (k, c) in enumerate(zip(spec.columns, cols))}

    def _codes(self, values: Iterable[str], kind: str) -> list[int]:
        """Codes of a column of IRIs (``t``) or strings (``s``); empty IRIs (unbound) are -1."""
        if kind == "t":
            ids, add = self._terms(), self.term
        else:
            if self._string_ids is None:
                self._string_ids = {x: i for i, x in enumerate(self.strings)}
            ids, add = self._string_ids, self.string
        get = ids.get
        out = list(map(get, values))
        if None in out:
            for k, v in enumerate(values):  # type: ignore[arg-type]
                if out[k] is None:
                    out[k] = -1 if (kind == "t" and v == "") else add(v)
        return out  # type: ignore[return-value]

    def _csv_to_columns(self, spec: _Spec, data: bytes) -> dict[str, np.ndarray]:
        """:meth:`_rows_to_columns` for a whole result serialised by the engine as SPARQL CSV.

        The engine writes the rows (no Python object per solution or term); columns are then
        coded in bulk. CSV gives an unbound value as an empty string: every bulk query binds
        its strings and numbers, and an IRI is never empty, so the rows are the same.
        """
        import csv
        import io

        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))[1:]
        if spec.columns[1:2] == "S":
            rows = [(r[0], part) for r in rows if r[0] for part in r[1].split()]
            columns = "ts"
        else:
            rows = [r for r in rows if r[0]]
            columns = spec.columns
        cols = list(zip(*rows)) if rows else [() for _ in columns]
        dtypes = {"t": np.int64, "s": np.int64, "f": np.float64, "i": np.int64}
        out = {}
        for i, (kind, col) in enumerate(zip(columns, cols)):
            if kind in "ts":
                values: Any = self._codes(col, kind)
            elif kind == "f":
                values = [_number(v) for v in col]
            else:
                values = [int(float(v or 0)) for v in col]
            out[f"c{i}"] = np.array(values, dtype=dtypes[kind])
        return out

    def read_table(self, catalog: Catalog, name: str, keys: list[str] | None = None) -> dict[str, np.ndarray]:
        """The rows of a table for every key (``keys`` None) or for the given keys only."""
        spec = TABLES[name]
        if keys is None:
            inner = catalog.oxigraph
            if inner is not None:
                import pyoxigraph as ox

                from ..vocab import sparql_prefixes

                data = inner.query(sparql_prefixes() + spec.bulk, use_default_graph_as_union=True).serialize(
                    format=ox.QueryResultsFormat.CSV)
                return self._csv_to_columns(spec, data)
            return self._rows_to_columns(spec, select_values(catalog, spec.bulk))
        var = "ev" if spec.by_event else "e"
        parts = [self._rows_to_columns(spec, select_values(
            catalog, spec.keyed.replace("{values}", values_clause(var, chunk)))) for chunk in chunks(sorted(keys))]
        return _concat(parts, spec)

    def replace(self, catalog: Catalog, entities: Iterable[str] = (), events: Iterable[str] = ()) -> None:
        """Read again the rows of the given entities and match events (a delta update, in place)."""
        entities, events = sorted(set(entities)), sorted(set(events))
        for name, spec in TABLES.items():
            keys = events if spec.by_event else entities
            if not keys:
                continue
            old = self.tables[name]
            drop = self.known_terms(keys)
            keep = ~np.isin(old["c0"], drop)
            new = self.read_table(catalog, name, keys)
            self.tables[name] = _concat([{k: v[keep] for k, v in old.items()}, new], spec)
            self._changed.add(name)

    def add_event(self, event: str, entities: list[str]) -> None:
        """Add the rows of a new match event whose results are ``entities``, best first.

        The rows the keyed read of the event would give (its match table rows), made from what
        the writer knows, so a recorded match updates the facts without reading the store.
        """
        spec = TABLES["match"]
        rows = [(event, entity, str(position)) for position, entity in enumerate(entities, start=1)]
        drop = self.known_terms([event])
        old = self.tables["match"]
        keep = ~np.isin(old["c0"], drop)
        self.tables["match"] = _concat([{k: v[keep] for k, v in old.items()}, self._rows_to_columns(spec, rows)], spec)
        self._changed.add("match")

    # ------------------------------------------------------------------ persistence
    def save(self, directory: Path) -> None:
        """Write ``facts.json`` and one ``facts-<table>.<column>.npy`` per column into a (staging)
        directory. Tables unchanged since they were loaded are hard-linked from the directory they
        came from (a recorded match writes its match table only, whatever the catalog size)."""
        for table, cols in self.tables.items():
            for col, array in cols.items():
                name = f"facts-{table}.{col}.npy"
                if self._source is not None and table not in self._changed:
                    try:
                        os.link(self._source / name, directory / name)
                        continue
                    except OSError:
                        pass
                np.save(directory / name, array)
        (directory / "facts.json").write_text(json.dumps({"format": FACTS_FORMAT, "terms": self.terms,
                                                          "strings": self.strings,
                                                          "tables": {t: sorted(c) for t, c in self.tables.items()}},
                                                         ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> Facts:
        """Read what :meth:`save` wrote (columns memory-mapped, read only)."""
        meta = json.loads((directory / "facts.json").read_text(encoding="utf-8"))
        tables: dict[str, dict[str, np.ndarray]] = {name: {} for name in TABLES}
        if meta.get("format") == 1:  # one facts.npz (written before columns were files of their own)
            with np.load(directory / "facts.npz") as data:
                for key in data.files:
                    table, col = key.split(".", 1)
                    tables[table][col] = data[key]
            return cls(meta["terms"], meta["strings"], tables)
        if meta.get("format") != FACTS_FORMAT:
            raise ValueError("facts format changed")
        for table, cols in meta["tables"].items():
            for col in cols:
                tables[table][col] = np.load(directory / f"facts-{table}.{col}.npy", mmap_mode="r")
        return cls(meta["terms"], meta["strings"], tables, _source=directory)

    def copy(self) -> Facts:
        """An independent copy (tables are copied on write, so arrays are shared)."""
        return Facts(list(self.terms), list(self.strings), {t: dict(c) for t, c in self.tables.items()},
                     _source=self._source, _changed=set(self._changed))

    def canonical(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table as sorted rows of plain values: equal for equal facts, however they were read."""
        out = {}
        for name, spec in TABLES.items():
            cols = self.tables[name]
            decoded = []
            for i, kind in enumerate(spec.columns):
                values = cols[f"c{i}"].tolist()
                if kind == "t":
                    decoded.append([self.terms[v] if v >= 0 else None for v in values])
                elif kind in "sS":
                    decoded.append([self.strings[v] if v >= 0 else None for v in values])
                else:
                    decoded.append([None if isinstance(v, float) and math.isnan(v) else v for v in values])
            out[name] = sorted(zip(*decoded), key=repr)
        return out


def _concat(parts: list[dict[str, np.ndarray]], spec: _Spec) -> dict[str, np.ndarray]:
    dtypes = {"t": np.int64, "s": np.int64, "S": np.int64, "f": np.float64, "i": np.int64}
    return {f"c{i}": np.concatenate([p[f"c{i}"] for p in parts] + [np.empty(0, dtype=dtypes[k])]).astype(dtypes[k])
            for i, k in enumerate(spec.columns)}


#: The claims naming alternatives, with the claim (``named`` and ``aspect`` both come from it).
_NAMING_CLAIMS = f"SELECT ?cl ?e ?b WHERE {{ {_CLAIMS_NAMING} }}"
_ASPECTS = "SELECT ?cl ?asp WHERE { ?cl mg:aspect ?asp }"


#: A helper process reading the claims while this one reads the other tables: it opens the same
#: published (immutable) version read-only and writes each result as SPARQL CSV to a file.
_HELPER = """
import sys
from matchgraph.store.isolation import die_with_parent
die_with_parent(int(sys.argv[1]))  # a killed build leaves no reader behind
import pyoxigraph as ox
store = ox.Store.read_only(sys.argv[2])
for query, out in zip(sys.argv[3::2], sys.argv[4::2]):
    data = store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.CSV)
    with open(out + ".part", "wb") as fh:
        fh.write(data)
    import os
    os.replace(out + ".part", out)
"""


#: The temporary folder of a :class:`_ClaimsReader` is named this, its process id, ``-`` and what
#: ``tempfile`` adds (:data:`_WORK_NAME`).
_WORK_PREFIX = "matchgraph-facts-"
_WORK_NAME = re.compile(rf"{re.escape(_WORK_PREFIX)}(?P<pid>\d+)-[A-Za-z0-9_]+")


def _remove_abandoned_work() -> None:
    """Remove the folders of :class:`_ClaimsReader` that a killed build left in the temporary
    folder (``matchgraph-facts-PID-*``, this user's, whose process is gone): at 100,000 entities
    each holds hundreds of megabytes of claims."""
    import shutil
    import tempfile

    from ..store.isolation import abandoned_matching

    for entry, _ in abandoned_matching(Path(tempfile.gettempdir()), _WORK_NAME, owner=os.getuid()):
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


class _ClaimsReader:
    """The two claim reads, in a helper process when the catalog is an embedded on-disk version.

    The engine spends most of a full read turning term ids into IRIs, with the GIL held, so a
    thread does not help; a second process reading the same immutable version does (two cores).
    Anywhere else (memory, remote, no version directory, a failing helper) the reads run here.
    """

    QUERIES = ("claims", "aspects")
    #: Tables the helper reads too, so both processes spend about as long in the engine.
    TABLES = ("stated", "concept", "dangling")

    def __init__(self, catalog: Catalog) -> None:
        import subprocess
        import sys
        import tempfile

        from ..vocab import sparql_prefixes

        self.catalog = catalog
        self.proc: Any = None
        self.work: Any = None
        versions = getattr(catalog.backend, "versions", None)
        name = getattr(catalog.backend, "version_name", None)
        if versions is None or name is None or not (versions.versions_dir / name).is_dir():
            return
        _remove_abandoned_work()
        self.work = tempfile.TemporaryDirectory(prefix=f"{_WORK_PREFIX}{os.getpid()}-")
        args = []
        queries = [_NAMING_CLAIMS, _ASPECTS, *(TABLES[name].bulk for name in self.TABLES)]
        for key, query in zip((*self.QUERIES, *self.TABLES), queries):
            args += [sparql_prefixes() + query, str(Path(self.work.name) / key)]
        try:
            self.proc = subprocess.Popen([sys.executable, "-c", _HELPER, str(os.getpid()),
                                          str(versions.versions_dir / name), *args],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            self.proc = None

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables of :attr:`TABLES` the helper reads (none when there is no helper)."""
        return self.TABLES if self.proc is not None else ()

    def results(self) -> tuple[bytes, ...]:
        """The CSV of the claims, of the aspects and of each of :attr:`tables`."""
        keys = (*self.QUERIES, *self.tables)
        try:
            if self.proc is not None and self.proc.wait() == 0:
                return tuple((Path(self.work.name) / key).read_bytes() for key in keys)
        except OSError:
            pass
        finally:
            if self.work is not None:
                self.work.cleanup()
        return tuple(_serialised(self.catalog, q) for q in
                     (_NAMING_CLAIMS, _ASPECTS, *(TABLES[name].bulk for name in self.tables)))

    def close(self) -> None:
        """Stop the helper if it still runs and remove its folder (a read given up half way: Ctrl-C,
        an error) so that neither outlives the build."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.work is not None:
            self.work.cleanup()


def _serialised(catalog: Catalog, query: str) -> bytes:
    import pyoxigraph as ox

    from ..vocab import sparql_prefixes

    return catalog.oxigraph.query(sparql_prefixes() + query, use_default_graph_as_union=True).serialize(
        format=ox.QueryResultsFormat.CSV)


def _csv_rows(data: bytes) -> list[tuple[str, ...]]:
    import csv
    import io

    return [tuple(r) for r in csv.reader(io.StringIO(data.decode("utf-8"), newline=""))][1:]


def _read_claim_tables(facts: Facts, claims_csv: bytes, aspects_csv: bytes) -> None:
    """The ``named`` and ``aspect`` tables from two reads instead of their two bulk queries.

    The aspect query repeats both entity IRIs on every (claim, aspect) row, which makes it the
    costliest read of all (about a third of the rows of a full read); here the claims are read
    once with their IRI and joined to a scan of ``mg:aspect`` by claim in NumPy. The join is the
    SPARQL join of the bulk query, so the rows (with their multiplicities) are the same.
    """
    claims = [r for r in _csv_rows(claims_csv) if r[1]]
    aspects = _csv_rows(aspects_csv)
    claim_ids: dict[str, int] = {}
    cl = np.array([claim_ids.setdefault(r[0], len(claim_ids)) for r in claims], dtype=np.int64)
    e = np.array(facts._codes([r[1] for r in claims], "t"), dtype=np.int64)
    b = np.array(facts._codes([r[2] for r in claims], "t"), dtype=np.int64)
    facts.tables["named"] = {"c0": e, "c1": b}
    known = [(claim_ids[c], a) for c, a in aspects if c in claim_ids]
    a_cl = np.array([k for k, _ in known], dtype=np.int64)
    a_asp = np.array(facts._codes([a for _, a in known], "s"), dtype=np.int64)
    order = np.argsort(cl, kind="stable")
    sorted_cl = cl[order]
    start = np.searchsorted(sorted_cl, a_cl, side="left")
    stop = np.searchsorted(sorted_cl, a_cl, side="right")
    counts = stop - start
    rows_a = np.repeat(np.arange(len(a_cl)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    rows_c = order[np.repeat(start, counts) + offsets]
    facts.tables["aspect"] = {"c0": e[rows_c], "c1": b[rows_c], "c2": a_asp[rows_a]}


def read_facts(catalog: Catalog, progress: Callable[[str], None] | None = None) -> Facts:
    """Read every table from the store (one bulk query each, whatever the catalog size).

    Examples
    --------
    >>> from matchgraph.store.catalog import Catalog
    >>> read_facts(Catalog("memory:")).tables["entity"]["c0"].size
    0
    """
    facts = Facts()
    claims = _ClaimsReader(catalog) if catalog.oxigraph is not None else None
    try:
        for name in TABLES:
            if progress is not None:
                progress(name)
            if claims is None or name not in ("named", "aspect", *claims.tables):
                facts.tables[name] = facts.read_table(catalog, name)
        if claims is not None:
            helper_tables = claims.tables
            claims_csv, aspects_csv, *others = claims.results()
            _read_claim_tables(facts, claims_csv, aspects_csv)
            for name, data in zip(helper_tables, others):
                facts.tables[name] = facts._csv_to_columns(TABLES[name], data)
            facts.tables = {name: facts.tables[name] for name in TABLES}
    finally:
        if claims is not None:
            claims.close()
    return facts


def rows_of(facts: Facts, table: str) -> Iterator[tuple[int, ...]]:
    """The rows of a table as tuples of codes (for small tables and tests)."""
    cols = facts.tables[table]
    yield from zip(*(cols[f"c{i}"].tolist() for i in range(len(cols))))
