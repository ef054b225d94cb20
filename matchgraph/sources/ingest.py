"""Ingest files into the catalog: parse, link, validate, then write everything in one transaction.

>>> from matchgraph import Catalog, ingest
>>> report = ingest(Catalog("memory:"), ["examples/catalog"])   # doctest: +SKIP
"""

from __future__ import annotations

import gc
import os
import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rdflib import RDF, Graph, URIRef

from .build import build_batch
from ..store.catalog import Catalog
from ..errors import InputError, Location, ParseError, Problems, ValidationError
from ..graph.progress import ProgressCallback
from .linking import EntityIndex, load_index
from .records import SourceRecords
from .sniff import sniff_json
from .croissant import is_croissant
from .hf import is_hub_json
from ..store.shapes import graph_store, load_triples
from .safe_load import WHOLE_FILE_RDF, check_readable_tree, load_json, missing_path_error, precheck_rdf_file, read_text
from ..store.validate import validate_store
from ..ontology import ontology_graph
from ..vocab import ID, META_GRAPH, MG, ONTOLOGY_GRAPH, SCHEMA, STUB_GRAPH, slug_for, source_iri
from .cards import is_card, parse_card
from .page import is_page, parse_page
from .rdf import RDF_SUFFIXES, STREAMED_FORMATS, check_rdf_syntax, entities_in, load_rdf_file, parse_rdf

__all__ = ["ingest", "IngestReport", "RdfFile", "collect_files", "read_source", "write_sources"]

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}


@dataclass(frozen=True)
class RdfFile:
    """An RDF file Oxigraph parses itself: it is streamed into the staged version, never held in Python.

    Attributes
    ----------
    path : Path
        The file.
    fmt : str
        rdflib format name (``turtle``, ``nt``, ``xml``, ``trig``, ``nquads``).
    """

    path: Path
    fmt: str
    blank: bool | None = True  # None: not checked yet (the writer checks it beside the bulk load)


SUPPORTED = TEXT_SUFFIXES | set(RDF_SUFFIXES) | {".json"}

#: Record formats an importer reads too -> what the file is and the import command, which also links
#: the records to the entities the catalog already has (ingest reads each file on its own).
IMPORT_COMMANDS = {"croissant": ("a Croissant file", "matchgraph import croissant"),
                   "hf-hub": ("a Hugging Face Hub answer", "matchgraph import hf"),
                   "hf-card": ("a Hugging Face model card", "matchgraph import hf")}
#: The MTEB catalog's files, which only ``matchgraph import mteb`` reads (as a folder).
MTEB_FILES = {"models.jsonl", "tasks.jsonl"}


def _import_hint(exc: InputError, fmt: str) -> InputError:
    """``exc`` with a hint that names the import command for the file it is about (``fmt`` a key of
    :data:`IMPORT_COMMANDS`).

    Examples
    --------
    >>> _import_hint(InputError("clash", location=Location("c4.json")), "croissant").hint
    'this is a Croissant file: matchgraph import croissant c4.json reads it and links its records to the entities the catalog already has'
    """
    what, command = IMPORT_COMMANDS[fmt]
    where = exc.location.path if exc.location is not None else "FILE"
    advice = f"this is {what}: {command} {shlex.quote(where)} reads it and links its records to the entities the catalog already has"
    exc.hint = f"{exc.hint}. {advice[0].upper()}{advice[1:]}" if exc.hint else advice
    return exc


def _mteb_advice(path: Path) -> str:
    """The hint for a JSON Lines file met by ingest: the MTEB catalog is read by ``import mteb``."""
    if path.name.lower() in MTEB_FILES:
        return f"{path.name} is part of the MTEB catalog: matchgraph import mteb {shlex.quote(str(path.parent))}"
    return "JSON Lines is read by matchgraph import mteb FOLDER (the MTEB catalog's models.jsonl and tasks.jsonl)"



@dataclass
class IngestReport:
    """What an ingest did."""

    files: int = 0
    entities: int = 0
    capabilities: int = 0
    claims: int = 0
    stubs: int = 0
    links: int = 0
    triples_before: int = 0
    triples_after: int = 0
    version: str = ""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)
    #: (path, note) for an RDF file stored as given that describes no matchgraph entity.
    notes: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"files": self.files, "entities": self.entities, "capabilities": self.capabilities,
                "claims": self.claims, "stubs": self.stubs, "links": self.links,
                "triples_before": self.triples_before, "triples_after": self.triples_after,
                "triples_added": self.triples_after - self.triples_before, "version": self.version,
                "formats": self.formats, "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
                "notes": [{"path": p, "note": n} for p, n in self.notes]}


def collect_files(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and folders (recursively) into the files to read, and those skipped with why.

    Hidden files and folders are skipped; so are files of a kind ingest does not read.
    """
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        _check_link(path)
        if not path.exists():
            raise missing_path_error(raw, "check the path; folders are read recursively")
        if path.is_dir():
            check_readable_tree(path)
            for sub in sorted(path.rglob("*")):
                rel = sub.relative_to(path)
                if any(part.startswith(".") for part in rel.parts):
                    continue
                if sub.suffix.lower() in SUPPORTED:
                    _check_link(sub)
                if not sub.is_file():
                    continue
                if sub.suffix.lower() in SUPPORTED:
                    files.append(sub)
                elif sub.name.lower() in MTEB_FILES:
                    skipped.append((str(sub), f"not a format ingest reads ({_mteb_advice(sub)})"))
                else:
                    skipped.append((str(sub), f"not a format ingest reads ({sub.suffix or 'no suffix'})"))
        else:
            files.append(path)
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, skipped


def _check_link(path: Path) -> None:
    """Raise for a symbolic link whose target is missing: the file it stands for cannot be read."""
    if path.is_symlink() and not path.exists():
        raise InputError(f"cannot read the file: it is a broken symbolic link to {os.readlink(path)}",
                         location=Location(str(path)), hint="fix or remove the link")


def _read_text(path: Path) -> str:
    """The UTF-8 text of a file, its size checked first (:func:`matchgraph.sources.safe_load.read_text`)."""
    return read_text(path)


def read_source(path: Path, *, explicit: bool = True) -> SourceRecords | Graph | RdfFile | None:
    """Read one file into records (cards, pages, importers), a graph (JSON-LD, N3) or, for the RDF
    syntaxes Oxigraph parses, an :class:`RdfFile` to stream into the store.

    Returns None for a Markdown file without front matter found while walking a folder (a README).
    """
    suffix = path.suffix.lower()
    if suffix in RDF_SUFFIXES and RDF_SUFFIXES[suffix] in STREAMED_FORMATS:
        if not path.is_file():
            raise InputError("cannot read the file: it is not a regular file", location=Location(str(path)),
                             hint="give a file or a folder")
        precheck_rdf_file(str(path), RDF_SUFFIXES[suffix])  # entities and DTDs before any parser
        return RdfFile(path, RDF_SUFFIXES[suffix], None)  # parsed for syntax beside the bulk load
    # RDF that pyoxigraph parses as a stream is not bound by the file-size limit (its literals are)
    text = read_text(path, sized=suffix not in RDF_SUFFIXES or RDF_SUFFIXES[suffix] in WHOLE_FILE_RDF)
    name = str(path)
    if suffix in RDF_SUFFIXES:
        return parse_rdf(text, name, RDF_SUFFIXES[suffix])
    if suffix == ".json":
        return _read_json(text, name)
    if suffix not in TEXT_SUFFIXES:
        hint = ("give Markdown cards (.md), comparison pages (.txt/.md), RDF (.ttl, .nt, .jsonld) "
                "or JSON-LD/Croissant (.json)")
        raise InputError(f"ingest does not read {suffix + ' files' if suffix else 'files without a suffix'}",
                         location=Location(name), hint=_mteb_advice(path) if suffix == ".jsonl" else hint)
    if is_card(text):
        return parse_card(text, name)
    if is_page(text):
        return parse_page(text, name)
    if not explicit:
        return None
    raise ParseError("neither an entity card (YAML front matter) nor a comparison page ('A vs B' and a table)",
                     location=Location(name, 1), hint="see docs/formats.md for both formats")


def _nothing_to_ingest(paths: Iterable[str | os.PathLike[str]], skipped: list[tuple[str, str]]) -> InputError:
    """The error for an ingest that found no file to read (``ingest docs/`` wrote an empty version
    and exited 0): where it looked, the suffixes it reads, and what it passed over, and why.

    Examples
    --------
    >>> print(_nothing_to_ingest(["docs"], [("docs/a.md", "Markdown without front matter (not a card)")]))
    docs: no input files found (ingest reads .json, .jsonld, .markdown, .md, .n3, .nq, .nt, .owl, .rdf, .trig, .ttl, .txt); skipped 1 x Markdown without front matter (not a card)
    Hint: give entity cards (Markdown with YAML front matter), comparison pages or RDF files (docs/formats.md); Croissant, Hugging Face and MTEB files go to matchgraph import
    """
    names = [str(p) for p in paths]
    reasons: dict[str, int] = {}
    for _, reason in skipped:
        reasons[reason] = reasons.get(reason, 0) + 1
    why = "; skipped " + ", ".join(f"{n} x {reason}" for reason, n in reasons.items()) if reasons else ""
    return InputError(f"no input files found (ingest reads {', '.join(sorted(SUPPORTED))}){why}",
                      location=Location(", ".join(names)) if names else None,
                      hint="give entity cards (Markdown with YAML front matter), comparison pages or RDF files "
                           "(docs/formats.md); Croissant, Hugging Face and MTEB files go to matchgraph import")


def _read_json(text: str, name: str) -> SourceRecords | Graph:
    data = load_json(text, name, hint="fix the JSON syntax at that line", prefix="invalid JSON")
    try:
        records = sniff_json(data, name)
    except InputError as exc:  # a Croissant or Hub file that is wrong: its importer's command too
        kind = "croissant" if is_croissant(data) else "hf-hub" if is_hub_json(data) else None
        raise (_import_hint(exc, kind) if kind else exc) from None
    if records is not None:
        return records
    first = data[0] if isinstance(data, list) and data else data  # a JSON-LD document: an object, or a list of them
    if isinstance(first, dict) and "@context" in first:
        return parse_rdf(text, name, "json-ld")
    raise ParseError("this JSON is neither JSON-LD nor a metadata format matchgraph imports",
                     location=Location(name, 1), hint="use 'matchgraph import' for Hugging Face or MTEB files")


def _file_date(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).replace(microsecond=0)


def ingest(catalog: Catalog, paths: Iterable[str | os.PathLike[str]], *, validate: bool = True,
           progress: ProgressCallback | None = None) -> IngestReport:
    """Ingest files and folders into a catalog, all or nothing.

    Parameters
    ----------
    catalog : Catalog
        Where to write.
    paths : iterable of path
        Files and folders (read recursively).
    validate : bool
        Check the staged triples against the SHACL shapes before writing.
    progress : callable, optional
        Called as ``progress(stage, done, total)``.

    Returns
    -------
    IngestReport

    Raises
    ------
    InputError
        For any bad input, and when no file is found to read; nothing is written.
    """
    paths = list(paths)
    files, skipped = collect_files(paths)
    explicit = {Path(p).resolve() for p in paths if Path(p).is_file()}
    problems = Problems()
    parsed: list[tuple[Path, SourceRecords | Graph | RdfFile]] = []
    for i, path in enumerate(files):
        try:
            result = read_source(path, explicit=path.resolve() in explicit)
        except InputError as exc:
            problems.add(exc)
            continue
        if result is None:
            skipped.append((str(path), "Markdown without front matter (not a card)"))
        else:
            parsed.append((path, result))
        if progress:
            progress("reading", i + 1, len(files))
    if problems.errors:  # report the streamed files' syntax too, all in one message
        for path, result in parsed:
            if isinstance(result, RdfFile) and result.blank is None:
                try:
                    check_rdf_syntax(path, result.fmt, prechecked=True)
                except InputError as exc:
                    problems.add(exc)
    problems.raise_if_any()
    if not parsed:
        raise _nothing_to_ingest(paths, skipped)
    try:
        report = write_sources(catalog, parsed, validate=validate, progress=progress)
    except InputError as exc:  # a Croissant file's dataset that clashes with a card's: import links them
        formats = {str(p): r.format for p, r in parsed if isinstance(r, SourceRecords) and r.format in IMPORT_COMMANDS}
        where = exc.location.path if exc.location is not None else None
        raise (_import_hint(exc, formats[where]) if where in formats else exc) from None
    report.skipped = skipped + report.skipped
    return report


def write_sources(catalog: Catalog, parsed: list[tuple[Path, SourceRecords | Graph | RdfFile]], *, validate: bool = True,
                  progress: ProgressCallback | None = None) -> IngestReport:
    """Link, validate and write parsed sources in one transaction (the second half of :func:`ingest`).

    Importers call this with the records they made, so every format gets the same linking,
    validation, provenance and atomicity.
    """
    with _gc_paused():
        return _write_sources(catalog, parsed, validate=validate, progress=progress)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector.

    Staging a large import allocates millions of long-lived objects (terms, triples, index
    entries) and every full collection walks all of them again: about a quarter of the CPU time
    of an MTEB import, for almost no garbage.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _write_sources(catalog: Catalog, parsed: list[tuple[Path, SourceRecords | Graph | RdfFile]], *, validate: bool,
                   progress: ProgressCallback | None) -> IngestReport:
    if catalog.oxigraph is None:  # a remote catalog: RDF files are parsed here and sent as triples
        parsed = [(p, parse_rdf(_read_text(p), str(p), r.fmt) if isinstance(r, RdfFile) else r) for p, r in parsed]
    report = IngestReport(files=len(parsed))
    report.triples_before = catalog.triple_count()
    keys = {str(p): str(p.resolve()) for p, _ in parsed}
    record_sources = [r for _, r in parsed if isinstance(r, SourceRecords)]
    graphs_in = [(p, g) for p, g in parsed if isinstance(g, Graph)]
    files_in = [(p, r) for p, r in parsed if isinstance(r, RdfFile)]
    replaced = [source_iri(keys[str(p)]) for p, _ in parsed]
    for r in record_sources:
        report.formats[r.format] = report.formats.get(r.format, 0) + 1
    for _ in [*graphs_in, *files_in]:
        report.formats["rdf"] = report.formats.get("rdf", 0) + 1
    index = load_index(catalog) if record_sources else EntityIndex()  # RDF alone links nothing
    dates = {str(p): _file_date(p) for p, r in parsed if isinstance(r, SourceRecords) and p.exists()}
    batch = build_batch(catalog, record_sources, index=index, source_keys=keys, source_dates=dates,
                        replaced=replaced)
    rdf_graphs: dict[URIRef, str] = {}
    rdf_entities: set[URIRef] = set()
    for path, graph in graphs_in:
        src = source_iri(keys[str(path)])
        batch.graphs[src] = graph
        batch.sources.append((src, str(path), "rdf"))
        rdf_graphs[src] = str(path)
        found = entities_in(graph)
        _check_entity_iris(found, lambda entity, path=path: str(path))
        rdf_entities |= found
    if progress:
        progress("linking", 1, 1)
    paths = {g: p for g, p, _ in batch.sources}
    if validate and catalog.oxigraph is None:
        _validate(catalog, batch.graphs, progress, paths)
    batch.graphs[ONTOLOGY_GRAPH] = ontology_graph()
    replaced.append(ONTOLOGY_GRAPH)
    # each streamed file's syntax pass (syntax errors with their line, blank nodes, literal sizes) runs on
    # a thread while the bulk loader, which releases the GIL, takes the file before it: 0.20 s of each
    # 1.1 s file hidden on two cores (see BENCHMARKS.md, store-native ingest)
    checker = ThreadPoolExecutor(max_workers=1)
    checks = [checker.submit(check_rdf_syntax, p, r.fmt, prechecked=True) if r.blank is None else None for p, r in files_in]
    with _shut_down(checker), catalog.transaction() as txn:
        for g in replaced:
            txn.drop_graph(g)
        for i, (path, rdf_file) in enumerate(files_in):
            src = source_iri(keys[str(path)])
            blank = rdf_file.blank if checks[i] is None else _checked(checks, i)
            load_rdf_file(txn, path, rdf_file.fmt, src, blank=blank)
            batch.sources.append((src, str(path), "rdf"))
            rdf_graphs[src] = paths[src] = str(path)
            if progress:
                progress("loading", i + 1, len(files_in))
        streamed = [source_iri(keys[str(p)]) for p, _ in files_in]
        typed = _staged_subjects(txn, streamed) if streamed else {}
        rdf_entities |= typed.get(MG.Entity, set())
        _check_entity_iris(typed.get(MG.Entity, set()), lambda entity: _graph_of(txn, streamed, entity, rdf_graphs))
        defined = {URIRef(ID[s]) for s in batch.defined} | rdf_entities
        orphans = _orphaned_stubs(catalog, replaced, batch.graphs, txn, streamed)
        change = _derived_change(catalog, batch.graphs, replaced, sorted(defined | orphans))
        if streamed:  # what the streamed files describe, read where it lies
            change.entities |= _staged_touched(txn, streamed, rdf_entities)
        Catalog.stage(txn, batch.graphs, clear_stubs=sorted(defined | orphans),
                      sources=[(g, p, f) for g, p, f in batch.sources], extra_updates=[change.stamp])
        if txn.store is not None:
            _check_rdf_entities(txn, rdf_graphs, replaced)
            report.notes = _without_entities(txn, rdf_graphs)
            if validate:
                _validate_staged(txn, [g for g in paths], paths, progress, whole=report.triples_before == 0)
        else:
            report.notes = _graphs_without_entities(graphs_in)
        if progress:
            progress("writing", 1, 1)
    report.version = txn.version
    change.written(report.version)
    report.entities = len(defined)
    report.capabilities = batch.capabilities + sum(
        len(set(g.subjects(RDF.type, MG.Capability))) for _, g in graphs_in)
    report.claims = batch.claims + sum(len(set(g.subjects(RDF.type, MG.Claim))) for _, g in graphs_in)
    if streamed:
        report.capabilities += typed[MG.Capability]
        report.claims += typed[MG.Claim]
    report.stubs = len([s for s in batch.stubs if s not in batch.defined])
    report.links = batch.links
    report.triples_after = catalog.triple_count()
    return report


@contextmanager
def _shut_down(pool: ThreadPoolExecutor) -> Iterator[None]:
    try:
        yield
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _checked(checks: list[Future[bool] | None], i: int) -> bool:
    """The blank-node flag of streamed file ``i`` once its syntax pass is done; if that pass found a
    problem, every problem the passes of the files from ``i`` on find, raised together."""
    try:
        return checks[i].result()  # type: ignore[union-attr]
    except InputError:
        problems = Problems()
        for future in checks[i:]:
            if future is not None and future.exception() is not None:
                error = future.exception()
                if not isinstance(error, InputError):
                    raise error  # type: ignore[misc]
                problems.add(error)
        problems.raise_if_any()
        raise


def _in_graphs(graphs: Iterable[URIRef], pattern: str, var: str = "?g") -> str:
    """A group matching ``pattern`` in each of some named graphs, ``var`` bound to the graph.

    One ``GRAPH <g>`` branch per graph: Oxigraph answers a constant graph name from its graph-first
    indexes, but ``VALUES ?g {...} GRAPH ?g {...}`` by scanning the pattern in every graph of the
    store (3.5 s against 0.65 s for three source graphs of a 640k-triple catalog).
    """
    return "{ " + " UNION ".join(f"{{ GRAPH {g.n3()} {{ {pattern} }} BIND({g.n3()} AS {var}) }}"
                                 for g in graphs) + " }"


def _staged_touched(txn: Any, graphs: list[URIRef], entities: set[URIRef]) -> set[str]:
    """The entities some named graphs of a staged version describe (``entities``, typed mg:Entity
    there) or hold capabilities of (for the derived state)."""
    return {str(e) for e in entities} | {row["x"].value for row in txn.store.query(
        f"SELECT DISTINCT ?x WHERE {{ {_in_graphs(graphs, f'?c <{MG.capabilityOf}> ?x')} "
        f"FILTER(isIRI(?x)) }}")}


def _staged_subjects(txn: Any, graphs: list[URIRef]) -> dict[URIRef, Any]:
    """What some named graphs of a staged version describe: the set of entity IRIs (typed mg:Entity),
    and how many capabilities and claims (counted in the store, not brought into Python)."""
    found: dict[URIRef, Any] = {MG.Entity: {URIRef(row["s"].value) for row in txn.store.query(
        f"SELECT DISTINCT ?s WHERE {{ {_in_graphs(graphs, f'?s a <{MG.Entity}>')} FILTER(isIRI(?s)) }}")}}
    for cls in (MG.Capability, MG.Claim):
        rows = list(txn.store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {_in_graphs(graphs, f'?s a <{cls}>')} }}"))
        found[cls] = int(rows[0]["n"].value)
    return found


def _without_entities(txn: Any, rdf_graphs: dict[URIRef, str]) -> list[tuple[str, str]]:
    """A note for each RDF file of a staged version that types no subject ``mg:Entity``: its
    triples answer SPARQL, but matching, neighbours and pages see none of them."""
    if not rdf_graphs:
        return []
    values = " ".join(f"<{g}>" for g in rdf_graphs)
    with_entities = {row["g"].value for row in txn.store.query(
        f"SELECT DISTINCT ?g WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s a <{MG.Entity}> }} }}")}
    bare = [g for g in rdf_graphs if str(g) not in with_entities]
    if not bare:
        return []
    classes: dict[str, list[tuple[str, int]]] = {str(g): [] for g in bare}
    values = " ".join(f"<{g}>" for g in bare)
    for row in txn.store.query(f"""SELECT ?g ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ VALUES ?g {{ {values} }}
            GRAPH ?g {{ ?s a ?c }} }} GROUP BY ?g ?c ORDER BY ?g DESC(?n) ?c"""):
        classes[row["g"].value].append((row["c"].value, int(row["n"].value)))
    return [(rdf_graphs[g], _no_entity_note(classes[str(g)])) for g in bare]


def _graphs_without_entities(graphs_in: list[tuple[Path, Graph]]) -> list[tuple[str, str]]:
    """:func:`_without_entities` for files parsed into rdflib graphs (a remote catalog)."""
    from collections import Counter

    notes = []
    for path, graph in graphs_in:
        if entities_in(graph):
            continue
        counts = Counter(str(c) for s, c in set(graph.subject_objects(RDF.type)))
        notes.append((str(path), _no_entity_note(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))))
    return notes


def _no_entity_note(classes: list[tuple[str, int]]) -> str:
    """The note on an RDF file without entities, naming the classes it does use (most used first).

    Examples
    --------
    >>> print(_no_entity_note([("http://www.w3.org/ns/dcat#Dataset", 2)]))  # doctest: +ELLIPSIS
    it describes no matchgraph entity (it holds 2 dcat:Dataset): its triples are stored ...
    """
    from ..vocab import PREFIXES

    def short(iri: str) -> str:
        for prefix, ns in PREFIXES.items():
            if iri.startswith(str(ns)) and iri != str(ns):
                return f"{prefix}:{iri[len(str(ns)):]}"
        return f"<{iri}>"

    held = ", ".join(f"{n} {short(c)}" for c, n in classes[:3]) + (", ..." if len(classes) > 3 else "")
    what = f" (it holds {held})" if held else ""
    return (f"it describes no matchgraph entity{what}: its triples are stored and answer SPARQL, but match, "
            "neighbours and pages read only subjects typed mg:Entity with a schema:name (docs/formats.md, "
            "'RDF files'); schema.org or Croissant JSON-LD datasets are read by `matchgraph import croissant`")


def _check_rdf_entities(txn: Any, rdf_graphs: dict[URIRef, str], replaced: list[URIRef]) -> None:
    """RDF input obeys the entity rules of cards: it cannot give an entity described by another
    source a second kind or another name."""
    if not rdf_graphs:
        return
    from .build import KINDS
    from ..errors import ConflictError

    kinds = " ".join(k.n3() for k in KINDS.values())
    # hash joins of what the written graphs state with what every graph states (two subqueries):
    # about 2x faster than a lookup per written entity
    others = f"FILTER(?other != {STUB_GRAPH.n3()} && ?other != {ONTOLOGY_GRAPH.n3()})"
    checks = [
        ("kind", f"""SELECT ?e ?mine ?theirs ?g ?other WHERE {{
            {{ SELECT ?e ?mine ?g WHERE {{ VALUES ?mine {{ {kinds} }} {_in_graphs(rdf_graphs, '?e a ?mine')} }} }}
            {{ SELECT ?e ?theirs ?other WHERE {{ VALUES ?theirs {{ {kinds} }} GRAPH ?other {{ ?e a ?theirs }} {others} }} }}
            FILTER(?mine != ?theirs && ?other != ?g) }} LIMIT 1"""),
        ("name", f"""SELECT ?e ?mine ?theirs ?g ?other WHERE {{
            {{ SELECT ?e ?mine ?g WHERE {{ {_in_graphs(rdf_graphs, f'?e <{SCHEMA.name}> ?mine')} }} }}
            {{ SELECT ?e ?theirs ?other WHERE {{ GRAPH ?other {{ ?e <{SCHEMA.name}> ?theirs }} {others} }} }}
            FILTER(STR(?mine) != STR(?theirs) && ?other != ?g) }} LIMIT 1"""),
    ]
    local = {str(k): name for name, k in KINDS.items()}
    for key, query in checks:
        for row in txn.store.query(query):
            entity = row["e"].value
            mine, theirs = row["mine"].value, row["theirs"].value
            here = rdf_graphs[URIRef(row["g"].value)]
            there = _source_path(txn, row["other"].value)
            if key == "kind":
                mine, theirs = local.get(mine, mine), local.get(theirs, theirs)
                message = (f"{entity} is a {mine} here but {there} describes it as a {theirs}; "
                           f"an entity has one kind")
            else:
                message = f"{entity} is named {mine!r} here but {theirs!r} in {there}; an entity has one name"
            raise ConflictError(message, location=Location(here, _line_of(Path(here), URIRef(entity))),
                                hint="edit one of the two files so they agree, or describe the entity in "
                                     "one of them only (use schema:alternateName for another name)")


#: A base IRI a file sets (Turtle's @base and BASE, JSON-LD's "@base", RDF/XML's xml:base) to a file: IRI.
_FILE_BASE = re.compile(r"""(?:@base|\bBASE|"@base"|\bxml:base)\s*[:=]?\s*["'<]?\s*(file:[^\s"'>]*)""", re.I)


def _check_entity_iris(entities: Iterable[URIRef], path_of: Callable[[URIRef], str]) -> None:
    """Refuse an entity whose IRI is a local ``file:`` IRI (``path_of`` tells the file describing it).

    A relative IRI in an RDF file resolves against the file's own path (``<#x>`` in
    ``/home/me/data.ttl`` is ``file:///home/me/data.ttl#x``), and ``@base <file:///etc/>`` makes
    ``<passwd>`` ``file:///etc/passwd``: nothing is read, but such an entity's IRI names a file on
    this machine, changes with the folder the file is read from, gets no page (pages are for
    ``mgid:`` entities) and puts the local path in every export and answer.
    """
    local = sorted(e for e in entities if str(e)[:5].lower() == "file:")
    if not local:
        return
    from ..errors import SchemaError

    entity = local[0]
    path = path_of(entity)
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    base = _FILE_BASE.search(text)
    if base is not None:
        cause = f"the file sets its base IRI to {base.group(1)}, and relative IRIs resolve against it"
        line: int | None = text.count("\n", 0, base.start()) + 1
    elif str(entity) in text:
        cause = "it is written as one"
        line = _line_of(Path(path), entity)
    else:
        relative = str(entity).removeprefix(Path(path).resolve().as_uri())
        cause = f"the relative IRI {relative!r} resolves against the file's own path"
        at = next((text.find(form) for form in (f"<{relative}>", f'"{relative}"') if form in text), -1)
        line = text.count("\n", 0, at) + 1 if at >= 0 else None
    more = f" (and {len(local) - 1} more)" if len(local) > 1 else ""
    slug = slug_for(entity)
    raise SchemaError(f"the entity {entity}{more} has a local file: IRI: {cause}; a file: IRI names a file on this "
                      "machine, not the entity, and changes with the folder the file is read from",
                      location=Location(path, line),
                      hint=f"give the entity an absolute http(s) IRI, e.g. <{ID}{slug}> (mgid:{slug}), or set "
                           f"the base to the catalog's namespace: @base <{ID}> (JSON-LD: \"@base\": \"{ID}\")")


def _graph_of(txn: Any, graphs: list[URIRef], entity: URIRef, paths: dict[URIRef, str]) -> str:
    """The file of the first staged source graph (of ``graphs``) that types ``entity`` mg:Entity."""
    rows = list(txn.store.query(f"SELECT ?g WHERE {{ {_in_graphs(graphs, f'<{entity}> a <{MG.Entity}>')} }} LIMIT 1"))
    return paths.get(URIRef(rows[0]["g"].value), str(entity)) if rows else str(entity)


def _source_path(txn: Any, graph: str) -> str:
    rows = list(txn.store.query(
        f"SELECT ?p WHERE {{ GRAPH {META_GRAPH.n3()} {{ <{graph}> mg:sourcePath ?p }} }}",
        prefixes={"mg": str(MG)}))
    return rows[0]["p"].value if rows else graph


def _validate_staged(txn: Any, graphs: list[URIRef], paths: dict[URIRef, str], progress: ProgressCallback | None,
                     *, whole: bool = False) -> None:
    """Check the staged version with the compiled shapes, where it lies: a violation counts when its
    focus node is described by one of the sources this write adds.

    With ``whole`` (a first write: the staged version is all new) the union of the graphs is checked,
    which Oxigraph evaluates about twice as fast as the same data named as a list of graphs.
    """
    import pyoxigraph as ox

    from ..store.shapes import check_store, shape_program

    # the written graphs, the vocabulary, and what they point to: the kinds and names of the entities
    # they name that other sources describe (copied into a scratch graph of the staged version)
    if whole:
        found = check_store(txn.store, union=True)
        return _raise_violations(txn, found, graphs, paths)
    context = ox.NamedNode(f"urn:x-matchgraph:validation-context:{txn.version}")
    # only what the written graphs point to and do not type themselves (a hash anti-join): copying the
    # kinds of everything they name took 31 s of a 3,000-entity ingest into a 352k-triple catalog
    linking = " ".join(f"<{p}>" for p in shape_program().class_paths())
    pointed = f"""{{ SELECT DISTINCT ?o WHERE {{ VALUES ?p {{ {linking} }} {_in_graphs(graphs, '?s ?p ?o')}
            FILTER(isIRI(?o)) }} }}
        MINUS {{ {_in_graphs(graphs, '?o a ?any')} }}"""
    outside = [row["o"] for row in txn.store.query(f"SELECT ?o WHERE {{ {pointed} }}")]
    for i in range(0, len(outside), 1000):
        nodes = " ".join(str(o) for o in outside[i:i + 1000])
        txn.store.update(f"""INSERT {{ GRAPH <{context.value}> {{ ?o a ?t . ?o <{SCHEMA.name}> ?n }} }} WHERE {{
            VALUES ?o {{ {nodes} }}
            {{ GRAPH ?h {{ ?o a ?t }} OPTIONAL {{ GRAPH ?h {{ ?o <{SCHEMA.name}> ?n }} }} FILTER(?h != {STUB_GRAPH.n3()}) }}
            UNION {{ GRAPH {STUB_GRAPH.n3()} {{ ?o a ?t OPTIONAL {{ ?o <{SCHEMA.name}> ?n }} }} }} }}""")
    try:
        found = check_store(txn.store, graphs=[*graphs, ONTOLOGY_GRAPH, URIRef(context.value)])
    finally:
        txn.store.remove_graph(context)
    if progress:
        progress("validating", 1, 1)
    _raise_violations(txn, found, graphs, paths)


def _raise_violations(txn: Any, found: list[Any], graphs: list[URIRef], paths: dict[URIRef, str]) -> None:
    """Raise a ValidationError for the violations whose focus node a written source describes."""
    if not found:
        return
    mine = []
    for v in found:
        if not isinstance(v.focus, URIRef):
            continue
        rows = list(txn.store.query(f"SELECT ?g ?line WHERE {{ {_in_graphs(graphs, f'<{v.focus}> ?p ?o OPTIONAL {{ <{v.focus}> <{MG.sourceLine}> ?line }}')} }} LIMIT 1"))
        if rows:
            g = URIRef(rows[0]["g"].value)
            line = int(rows[0]["line"].value) if rows[0]["line"] is not None else _line_of(Path(paths[g]), v.focus)
            mine.append((v, Location(paths[g], line)))
    if not mine:
        return
    report = _report_for(txn, [v for v, _ in mine])
    places = [loc for _, loc in mine]
    problems = list(report.problems)
    others = sorted({loc.path for loc in places[1:]} - {places[0].path})
    if others:
        problems.append("other files with violations: " + ", ".join(others))
    raise ValidationError(problems, location=places[0])


def _report_for(txn: Any, violations: list[Any]) -> Any:
    """The validation report (messages with the entities' names) for some violations."""
    from ..store.shapes import node_triples
    from ..store.validate import _prefixed, _report

    data = node_triples(txn.store, {v.focus for v in violations}, [RDF.type, SCHEMA.name, MG.sourceLine], union=True)
    return _report(violations, data, _prefixed(Graph()))


def _derived_change(catalog: Catalog, graphs: dict[URIRef, Graph], replaced: list[URIRef],
                    clear_stubs: list[URIRef]) -> Any:
    """What this write changes, for the owner of derived state (a delta update, not a rebuild)."""
    from ..graph.derived import WriteChange

    return WriteChange.before(catalog, {g: x for g, x in graphs.items() if g != ONTOLOGY_GRAPH},
                              [g for g in replaced if g != ONTOLOGY_GRAPH], clear_stubs)


def _orphaned_stubs(catalog: Catalog, replaced: list[URIRef], graphs: dict[URIRef, Graph], txn: Any = None,
                    streamed: list[URIRef] = ()) -> set[URIRef]:  # type: ignore[assignment]
    """Stubs that only the replaced sources named and the new ones no longer do: they go too."""
    if not replaced:
        return set()
    olds = " ".join(g.n3() for g in replaced)
    rows = catalog.rows(f"""SELECT DISTINCT ?e WHERE {{
        VALUES ?old {{ {olds} }}
        GRAPH ?old {{ ?x ?p ?e }}
        GRAPH {STUB_GRAPH.n3()} {{ ?e mg:isStub true }}
        FILTER NOT EXISTS {{ GRAPH ?g {{ ?y ?q ?e }}
            FILTER(?g != {STUB_GRAPH.n3()} && ?g NOT IN ({", ".join(g.n3() for g in replaced)})) }} }}""")
    candidates = {URIRef(r[0]) for r in rows}
    if not candidates:
        return set()
    still_named = {o for g in graphs.values() for o in g.objects() if o in candidates}
    if streamed and txn is not None and txn.store is not None:
        for chunk in range(0, len(candidates), 1000):
            cands = " ".join(c.n3() for c in sorted(candidates)[chunk:chunk + 1000])
            still_named |= {URIRef(r["e"].value) for r in txn.store.query(
                f"SELECT DISTINCT ?e WHERE {{ VALUES ?e {{ {cands} }} {_in_graphs(streamed, '?x ?p ?e')} }}")}
    return candidates - still_named


def _validate(catalog: Catalog, graphs: dict[URIRef, Graph], progress: ProgressCallback | None,
              paths: dict[URIRef, str]) -> None:
    """Validate the staged graphs, with the types (and names) of the entities they point to from the store.

    Everything is loaded once into an in-memory Oxigraph store and checked with the shapes
    compiled to SPARQL (:func:`matchgraph.store.validate.validate_store`). ``paths`` maps each source
    graph to its file, so a violation names the file (and the line).
    """
    try:
        store = graph_store(graphs.values())
    except SyntaxError as exc:
        raise InputError(f"a staged term cannot be written as RDF: {exc}",
                         hint="check the IRIs of the input for spaces or angle brackets") from exc
    missing = sorted(URIRef(row["o"].value) for row in store.query(
        f"SELECT DISTINCT ?o WHERE {{ ?s ?p ?o FILTER(isIRI(?o) && STRSTARTS(STR(?o), \"{ID}\")) "
        f"FILTER NOT EXISTS {{ ?o a ?t }} }}"))
    for i in range(0, len(missing), 1000):
        values = " ".join(m.n3() for m in missing[i:i + 1000])
        rows = catalog.rows(
            f"SELECT ?e ?t ?n WHERE {{ VALUES ?e {{ {values} }} ?e a ?t OPTIONAL {{ ?e schema:name ?n }} }}")
        load_triples(store, [(e, RDF.type, t) for e, t, _ in rows]
                     + [(e, SCHEMA.name, n) for e, _, n in rows if n is not None])
    report = validate_store(store)
    if progress:
        progress("validating", 1, 1)
    if not report.conforms:
        places = [loc for loc in (_locate(focus, graphs, paths) for focus in report.focus) if loc is not None]
        problems = list(report.problems)
        others = sorted({loc.path for loc in places[1:]} - {places[0].path}) if places else []
        if others:
            problems.append("other files with violations: " + ", ".join(others))
        raise ValidationError(problems, location=places[0] if places else None)


def _locate(focus: URIRef, graphs: dict[URIRef, Graph], paths: dict[URIRef, str]) -> Location | None:
    """The file (and line, when known) a node that failed validation was read from."""
    for g_iri, graph in graphs.items():
        if (focus, None, None) not in graph or g_iri not in paths:
            continue
        line = graph.value(focus, MG.sourceLine)
        if line is not None:
            return Location(paths[g_iri], int(line))
        return Location(paths[g_iri], _line_of(Path(paths[g_iri]), focus))
    return None


def _line_of(path: Path, node: URIRef) -> int | None:
    """The first line of an RDF file that names ``node`` (by its full IRI or as ``mgid:slug``)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    needles = [str(node)]
    if str(node).startswith(str(ID)):
        needles.append("mgid:" + str(node)[len(str(ID)):])
    as_subject = [f"<{needles[0]}>", *needles[1:]]
    for match in (lambda s: s.lstrip().startswith(tuple(as_subject)), lambda s: any(n in s for n in needles)):
        line = next((i for i, text in enumerate(lines, start=1) if match(text)), None)
        if line is not None:
            return line
    return None
