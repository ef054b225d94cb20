"""Importers of the ecosystem's own metadata: Croissant, Hugging Face Hub, MTEB.

Each importer reads its format into :class:`~matchgraph.sources.records.SourceRecords`, places every
record on an entity with :class:`~matchgraph.sources.merge.CrossLinker` (so the C4 of a
Croissant file is the C4 a card already describes), then writes through
:func:`matchgraph.sources.ingest.write_sources`: the same linking, SHACL validation, provenance and
all-or-nothing write as ``matchgraph ingest``. Every source file is one named graph, so importing
a file again replaces what it said.

>>> from matchgraph import Catalog
>>> summary = import_croissant(Catalog("memory:"), ["examples/croissant"])     # doctest: +SKIP
>>> summary.created                                                          # doctest: +SKIP
14
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store.catalog import Catalog
from ..errors import InputError, Location, Problems
from ..graph.progress import ProgressCallback
from .ingest import IngestReport, write_sources
from .records import SourceRecords
from .safe_load import missing_path_error
from ..vocab import source_iri
from .croissant import collect_croissant, is_croissant, parse_croissant, read_croissant
from .hf import fetch_hub, is_hub_json, parse_hub_json, read_hub_file
from .merge import CrossLinker, MergeReport
from .mteb import parse_mteb, resolve_training_sets

__all__ = ["ImportSummary", "run_import", "import_croissant", "import_hf", "import_mteb",
           "save_hub_listing"]


@dataclass
class ImportSummary:
    """What an import did: entities created, updated, merged, stubs minted, what was skipped and why."""

    importer: str
    files: list[str] = field(default_factory=list)
    records: int = 0
    created: int = 0
    updated: int = 0
    merged: int = 0
    stubs: int = 0
    stubs_filled: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    linking: MergeReport = field(default_factory=MergeReport)
    details: dict[str, Any] = field(default_factory=dict)
    ingest: IngestReport | None = None
    seconds: float = 0.0

    def skipped_by_reason(self) -> dict[str, int]:
        """How many things were skipped for each reason (reasons with their quoted value folded)."""
        import re

        counts: dict[str, int] = {}
        for _, reason in self.skipped:
            key = re.sub(r"'[^']*'|\"[^\"]*\"", "…", reason)
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"importer": self.importer, "files": self.files, "records": self.records,
                "created": self.created, "updated": self.updated, "merged": self.merged, "stubs": self.stubs,
                "stubs_filled": self.stubs_filled, "seconds": round(self.seconds, 2),
                "skipped": [{"where": w, "reason": r} for w, r in self.skipped],
                "skipped_by_reason": self.skipped_by_reason(), **self.linking.to_dict(),
                "details": self.details, "catalog": self.ingest.to_dict() if self.ingest else None}


def run_import(catalog: Catalog, parsed: list[tuple[Path, SourceRecords]], *, importer: str,
               validate: bool = True, progress: ProgressCallback | None = None, skipped: Iterable[tuple[str, str]] = (),
               order: Iterable[Any] | None = None,
               after_linking: Callable[[CrossLinker], dict[str, Any]] | None = None) -> ImportSummary:
    """Link parsed sources to the catalog's entities and write them in one transaction.

    Parameters
    ----------
    catalog : Catalog
        Where to write.
    parsed : list of (Path, SourceRecords)
        The files read and their records.
    importer : str
        A short name of the source kind (``Croissant``, ``Hub``, ``MTEB``).
    validate : bool
        Check the staged triples against the SHACL shapes.
    progress : callable, optional
        ``progress(stage, done, total)``.
    skipped : iterable of (where, reason)
        What the reader set aside.
    order : iterable of EntityRecord, optional
        The order records are placed in (default: as read).
    after_linking : callable, optional
        Called with the linker once every record is placed; its dict goes into ``details``.

    Returns
    -------
    ImportSummary
    """
    start = time.perf_counter()
    replaced = [source_iri(str(p.resolve())) for p, _ in parsed]
    linker = CrossLinker(catalog, replaced)
    sources = [r for _, r in parsed]
    if progress:
        progress("linking", 0, 1)
    report = linker.plan(sources, source=importer, order=order)
    details = after_linking(linker) if after_linking is not None else {}
    ingest = write_sources(catalog, list(parsed), validate=validate, progress=progress)
    return ImportSummary(
        importer=importer, files=[str(p) for p, _ in parsed], records=sum(len(r.entities) for r in sources),
        created=report.created, updated=report.updated, merged=report.merged, stubs=ingest.stubs,
        stubs_filled=report.stubs_filled, skipped=[*skipped, *ingest.skipped], linking=report, details=details,
        ingest=ingest, seconds=time.perf_counter() - start)


def import_croissant(catalog: Catalog, paths: Iterable[str | os.PathLike[str]], *, validate: bool = True,
                     progress: ProgressCallback | None = None) -> ImportSummary:
    """Import Croissant files and folders of them, all or nothing.

    Parameters
    ----------
    catalog : Catalog
    paths : iterable of path
        Croissant JSON files, or folders (read recursively for ``.json``/``.jsonld``).

    Returns
    -------
    ImportSummary

    Raises
    ------
    InputError
        Any file that is not valid Croissant (every bad file is named); nothing is written.

    Examples
    --------
    >>> from matchgraph import Catalog
    >>> import_croissant(Catalog("memory:"), ["tests/data/croissant/huggingface-c4.json"]).created  # doctest: +SKIP
    2
    """
    paths = list(paths)  # read twice: by the search, and by the error when it finds nothing
    files, skipped = collect_croissant(paths)
    problems = Problems()
    parsed: list[tuple[Path, SourceRecords]] = []
    for i, path in enumerate(files):
        try:
            parsed.append((path, read_croissant(path)))
        except InputError as exc:
            problems.add(exc)
        if progress:
            progress("reading", i + 1, len(files))
    problems.raise_if_any()
    if not parsed:
        where = ", ".join(str(p) for p in paths)
        raise InputError(f"no Croissant files (.json, .jsonld) found in {where}",
                         hint="give Croissant JSON-LD files or a folder holding them, e.g. matchgraph import "
                              "croissant examples/croissant")
    return run_import(catalog, parsed, importer="Croissant", validate=validate, progress=progress, skipped=skipped)


def import_hf(catalog: Catalog, path: str | os.PathLike[str], *, validate: bool = True,
              progress: ProgressCallback | None = None) -> ImportSummary:
    """Import a Hugging Face Hub API answer (JSON) or a model-card README.

    Examples
    --------
    >>> from matchgraph import Catalog
    >>> import_hf(Catalog("memory:"), "tests/data/hf/models.json").created    # doctest: +SKIP
    3
    """
    file = Path(path)
    if not file.exists():
        raise missing_path_error(path, "give a saved Hub API answer (JSON) or a model card README.md, or use "
                                       "--search/--author", what="no such file")
    if file.is_dir():
        card = file / "README.md"
        raise InputError("a folder, not a file", location=Location(str(file)),
                         hint=f"give the model card in it: matchgraph import hf {shlex.quote(str(card))}" if card.is_file() else
                         "give a saved Hub API answer (JSON) or a model card README.md")
    records = read_hub_file(file)
    if progress:
        progress("reading", 1, 1)
    return run_import(catalog, [(file, records)], importer="Hub", validate=validate, progress=progress)


def save_hub_listing(kind: str, target: Path, *, search: str | None = None, author: str | None = None,
                     limit: int = 50) -> Path:  # pragma: no cover - needs the network
    """Fetch a Hub listing (live mode) and save it where :func:`import_hf` can read it."""
    import json

    data = fetch_hub(kind, search=search, author=author, limit=limit)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=1, sort_keys=True, default=str), encoding="utf-8")
    return target


def import_mteb(catalog: Catalog, directory: str | os.PathLike[str], *, validate: bool = True,
                progress: ProgressCallback | None = None) -> ImportSummary:
    """Import an MTEB folder (``models.jsonl``, ``tasks.jsonl``): models, datasets and benchmarks.

    The summary's ``details["training_sets"]`` says how many distinct training-set names resolved
    to dataset entities.

    Examples
    --------
    >>> from matchgraph import Catalog
    >>> s = import_mteb(Catalog("memory:"), "tests/data/mteb")                   # doctest: +SKIP
    >>> s.details["training_sets"]["to_datasets"]                                # doctest: +SKIP
    12
    """
    read = parse_mteb(Path(directory))
    if progress:
        progress("reading", 1, 1)
    return run_import(catalog, read.sources, importer="MTEB", validate=validate, progress=progress,
                      skipped=read.skipped, order=read.order,
                      after_linking=lambda linker: {"training_sets": resolve_training_sets(read, linker)})
