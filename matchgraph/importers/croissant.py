"""Croissant (MLCommons dataset metadata, JSON-LD) -> a Dataset entity, its formats and capabilities.

Croissant is what Hugging Face, Kaggle and OpenML serve for their datasets. One file describes one
``sc:Dataset``: its name, description, licence, url, citation, creators, dates, keywords and
version, the files it is distributed in (``distribution``: ``cr:FileObject`` / ``cr:FileSet`` with an
``encodingFormat``) and the structure of its records (``recordSet``: fields with data types).
Keys are read by their local name, so ``name``, ``sc:name`` and ``https://schema.org/name`` are
the same key. See ``docs/importers.md`` for the field mapping.

>>> import json
>>> doc = {"@context": {"@vocab": "https://schema.org/"}, "@type": "sc:Dataset", "name": "tiny"}
>>> parse_croissant(doc, "tiny.json").entities[0].kind
'dataset'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InputError, Location, ParseError, SchemaError
from ..ingest import _read_text as read_text
from ..records import CapabilityRecord, EntityRecord, SourceRecords
from ..vocab import slugify
from .merge import hub_id_of_url

__all__ = ["is_croissant", "parse_croissant", "read_croissant", "collect_croissant", "load_json", "FORMATS"]

#: encodingFormat (MIME type, any case) -> (format name, aliases). ``None``: not a file format.
FORMATS: dict[str, tuple[str, list[str]] | None] = {
    "text/csv": ("CSV", ["Comma-separated values"]),
    "text/tab-separated-values": ("TSV", ["Tab-separated values"]),
    "application/jsonlines": ("JSON Lines", ["jsonl"]),
    "application/x-jsonlines": ("JSON Lines", ["jsonl"]),
    "application/jsonl": ("JSON Lines", ["jsonl"]),
    "application/x-ndjson": ("JSON Lines", ["jsonl"]),
    "application/json": ("JSON", ["JavaScript Object Notation"]),
    "application/x-parquet": ("Parquet", ["Apache Parquet"]),
    "application/parquet": ("Parquet", ["Apache Parquet"]),
    "application/vnd.apache.parquet": ("Parquet", ["Apache Parquet"]),
    "application/x-arrow": ("Apache Arrow", []),
    "application/vnd.apache.arrow.file": ("Apache Arrow", []),
    "application/zip": ("ZIP", ["zip archive"]),
    "application/x-zip-compressed": ("ZIP", ["zip archive"]),
    "application/x-tar": ("TAR", ["tar archive"]),
    "application/gzip": ("gzip", []),
    "application/x-gzip": ("gzip", []),
    "application/x-bzip2": ("bzip2", []),
    "application/x-7z-compressed": ("7z", []),
    "application/zstd": ("Zstandard", []),
    "application/x-zstd": ("Zstandard", []),
    "application/x-hdf5": ("HDF5", []),
    "application/x-hdf": ("HDF5", []),
    "application/x-tfrecord": ("TFRecord", []),
    "application/x-arff": ("ARFF", ["Attribute-Relation File Format"]),
    "https://ml.cms.waikato.ac.nz/weka/arff.html": ("ARFF", ["Attribute-Relation File Format"]),
    "application/xml": ("XML", []),
    "text/xml": ("XML", []),
    "text/plain": ("Plain text", []),
    "text/markdown": ("Markdown", []),
    "text/html": ("HTML", []),
    "image/jpeg": ("JPEG", []),
    "image/jpg": ("JPEG", []),
    "image/png": ("PNG", []),
    "image/tiff": ("TIFF", []),
    "image/webp": ("WebP", []),
    "audio/wav": ("WAV", []),
    "audio/x-wav": ("WAV", []),
    "audio/mpeg": ("MP3", []),
    "audio/flac": ("FLAC", []),
    "video/mp4": ("MP4", []),
    "application/x-sqlite3": ("SQLite", []),
    "application/vnd.sqlite3": ("SQLite", []),
    "git+https": None,
    "application/octet-stream": None,
}

#: Croissant data types -> the modality they carry.
_MODALITY_OF_TYPE = {
    "imageobject": "image", "audioobject": "audio", "videoobject": "video", "text": "text",
    "boundingbox": "image", "segmentationmask": "image", "integer": "tabular", "float": "tabular",
    "number": "tabular", "boolean": "tabular", "date": "tabular", "datetime": "tabular",
}
_MODALITY_OF_MIME = {"image": "image", "audio": "audio", "video": "video"}
#: modality -> (capability title, concept slug).
_MODALITY_CAPS = {
    "text": ("Text records", None),
    "image": ("Image data", "image-data"),
    "audio": ("Audio data", "audio-data"),
    "video": ("Video data", None),
    "tabular": ("Tabular records", "tabular-data"),
}
_STREAMABLE = {"Parquet", "JSON Lines", "Apache Arrow", "TFRecord"}
_CROISSANT_TYPES = {"dataset"}
_FILE_TYPES = {"fileobject", "fileset"}


def _local(key: str) -> str:
    """The local name of a JSON-LD key or type: ``sc:name`` and ``https://schema.org/name`` -> ``name``."""
    return re.split(r"[:/#]", str(key))[-1]


def _get(obj: dict[str, Any], key: str) -> Any:
    """A value by local name (``name``, ``sc:name``, ``schema:name``, full IRI)."""
    if key in obj:
        return obj[key]
    for k, v in obj.items():
        if not k.startswith("@") and _local(k) == key:
            return v
    return None


def _types(obj: dict[str, Any]) -> set[str]:
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {_local(str(v)).lower() for v in values if v}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _text(value: Any) -> str | None:
    """A plain string from a JSON-LD value (``{"@value": ...}``, ``{"name": ...}``, a string)."""
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("@value", "name", "@id", "url"):
            inner = _get(value, key) if not key.startswith("@") else value.get(key)
            if inner:
                return _text(inner)
        return None
    if isinstance(value, list):
        return _text(value[0]) if value else None
    text = str(value).strip()
    return text if text and text.lower() not in {"none", "null", "n/a"} else None


def _clean(text: str | None, limit: int = 2000) -> str | None:
    """Collapse the whitespace of a description (Hub descriptions carry tabs and blank runs)."""
    if not text:
        return None
    out = re.sub(r"[ \t\r\f\v]*\n[\s]*", "\n", text.strip())
    out = re.sub(r"[ \t]+", " ", out)
    out = re.sub(r"\n{2,}", "\n", out)
    return out[:limit].strip() or None


def is_croissant(data: Any) -> bool:
    """Say whether parsed JSON is Croissant metadata (JSON-LD of a schema.org Dataset).

    Examples
    --------
    >>> is_croissant({"@context": {}, "@type": "sc:Dataset", "name": "x",
    ...               "conformsTo": "http://mlcommons.org/croissant/1.0"})
    True
    >>> is_croissant({"id": "bert-base-uncased"})
    False
    """
    if not isinstance(data, dict) or "@context" not in data:
        return False
    context = json.dumps(data.get("@context"))
    return bool(_types(data) & _CROISSANT_TYPES) and (
        "mlcommons.org/croissant" in context or "conformsTo" in json.dumps(list(data)) or "recordSet" in context)


def read_croissant(path: Path) -> SourceRecords:
    """Read and parse one Croissant file.

    Raises
    ------
    ParseError
        The file is not UTF-8 JSON.
    SchemaError
        The JSON is not valid Croissant; the message names the JSON path.
    """
    data = load_json(read_text(path), str(path), hint="a Croissant file is JSON-LD; fix the JSON syntax at that line")
    return parse_croissant(data, str(path))


def load_json(text: str, path: str, *, hint: str) -> Any:
    """Parse JSON text; a syntax error becomes a ParseError naming the file and line.

    Examples
    --------
    >>> load_json('{"a": 1}', "x.json", hint="")
    {'a': 1}
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not JSON: {exc.msg}", location=Location(path, exc.lineno), hint=hint) from exc


def collect_croissant(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and folders into the ``.json``/``.jsonld`` files to import, and those skipped."""
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError("no such file or folder", location=Location(str(raw)),
                             hint="give a Croissant JSON file or a folder of them")
        if path.is_file():
            files.append(path)
            continue
        for sub in sorted(path.rglob("*")):
            if not sub.is_file() or any(p.startswith(".") for p in sub.relative_to(path).parts):
                continue
            if sub.suffix.lower() in {".json", ".jsonld"}:
                files.append(sub)
            else:
                skipped.append((str(sub), f"not a Croissant file ({sub.suffix or 'no suffix'})"))
    return files, skipped


def parse_croissant(data: Any, path: str) -> SourceRecords:
    """Turn one parsed Croissant document into records.

    Parameters
    ----------
    data : object
        The parsed JSON.
    path : str
        The file it came from, for locations.

    Returns
    -------
    SourceRecords
        The Dataset entity first, then one Format entity per file format it is distributed in.

    Raises
    ------
    SchemaError
        Not valid Croissant: not an object, no ``@context``, ``@type`` not a Dataset, no ``name``,
        or a malformed distribution, record set or url; the message names the JSON path.

    Examples
    --------
    >>> doc = {"@context": {}, "@type": "sc:Dataset", "name": "Titanic", "license": "afl-3.0",
    ...        "distribution": [{"@type": "cr:FileObject", "name": "f", "encodingFormat": "text/csv"}]}
    >>> [(e.name, e.kind) for e in parse_croissant(doc, "t.json").entities]
    [('Titanic', 'dataset'), ('CSV', 'format')]
    """
    at = lambda json_path: Location(path, json_path=json_path)  # noqa: E731
    if not isinstance(data, dict):
        raise SchemaError("a Croissant document is a JSON object", location=at("$"),
                          hint="the file must hold one JSON-LD object with @context, @type and name")
    if "@context" not in data:
        raise SchemaError("missing @context", location=at("$.@context"),
                          hint="Croissant is JSON-LD: add the standard Croissant @context")
    if not _types(data) & _CROISSANT_TYPES:
        raise SchemaError(f"@type is {data.get('@type')!r}, not a schema.org Dataset", location=at("$.@type"),
                          hint="a Croissant document describes one \"@type\": \"sc:Dataset\"")
    name = _get(data, "name")
    if not isinstance(name, str) or not name.strip():
        raise SchemaError("missing name" if name is None else "name must be a non-empty string",
                          location=at("$.name"), hint="give the dataset a \"name\"")
    rec = EntityRecord(id=slugify(name), name=name.strip(), kind="dataset", location=at("$"))
    rec.field_locations = {k: at(f"$.{k}") for k in ("name", "description", "license", "url", "kind")}
    _identity(data, rec, at)
    _provenance(data, rec, at)
    formats, format_caps = _distribution(data, rec, at)
    rec.capabilities.extend(_record_sets(data, rec, at, formats))
    rec.capabilities.extend(format_caps)
    rec.capabilities.extend(_documentation(rec, at))
    entities = [rec, *_format_entities(formats, path)]
    return SourceRecords(path=path, format="croissant", entities=entities, title=rec.name)


def _identity(data: dict[str, Any], rec: EntityRecord, at: Any) -> None:
    rec.description = _clean(_text(_get(data, "description")))
    url = _get(data, "url")
    if url is not None:
        text = _text(url)
        if not text or not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", text):
            raise SchemaError(f"url {url!r} is not an http(s) URL", location=at("$.url"),
                              hint="write the full address, e.g. https://example.org/data")
        rec.url = text
    hub = hub_id_of_url(rec.url)
    if hub is None and "/" in rec.name and re.fullmatch(r"[\w.\-]+/[\w.\-]+", rec.name):
        hub = rec.name
    if hub:
        rec.extra.append(("hub_id", hub))
        if hub != rec.name:
            rec.aliases.append(hub)
    for alt in _as_list(_get(data, "alternateName")):
        if _text(alt):
            rec.aliases.append(str(_text(alt)))
    licences = [t for t in (_text(v) for v in _as_list(_get(data, "license"))) if t]
    if licences:
        rec.license = licences[0]
        for other in licences[1:]:
            rec.extra.append(("note", f"also licensed as {other}"))
    for same in _as_list(_get(data, "sameAs")):
        if _text(same):
            rec.extra.append(("see_also", str(_text(same))))


def _provenance(data: dict[str, Any], rec: EntityRecord, at: Any) -> None:
    for key in ("citeAs", "citation"):
        for cite in _as_list(_get(data, key)):
            if _text(cite):
                rec.extra.append(("citation", str(_text(cite)).strip()))
    for key, extra in (("creator", "creator"), ("publisher", "publisher")):
        for who in _as_list(_get(data, key)):
            if _text(who):
                rec.extra.append((extra, str(_text(who))))
    for key, extra in (("datePublished", "issued"), ("dateCreated", "issued"), ("dateModified", "modified")):
        value = _text(_get(data, key))
        if value:
            rec.extra.append((extra, value[:10] if re.match(r"\d{4}-\d\d-\d\d", value) else value))
    version = _text(_get(data, "version"))
    if version:
        rec.extra.append(("version", version))
    keywords = _get(data, "keywords")
    words = [w.strip() for w in keywords.split(",")] if isinstance(keywords, str) else \
        [str(_text(k)) for k in _as_list(keywords) if _text(k)]
    for word in words:
        if word:
            rec.extra.append(("keyword", word))
    for lang in _as_list(_get(data, "inLanguage")):
        if _text(lang):
            rec.extra.append(("language", str(_text(lang))))
    conforms = _text(_get(data, "conformsTo"))
    if conforms:
        rec.extra.append(("conforms_to", conforms))
    live = _get(data, "isLiveDataset")
    if live is True:
        rec.extra.append(("note", "live dataset: its content changes over time"))


def _encodings(item: dict[str, Any]) -> list[str]:
    return [str(_text(v)) for v in _as_list(_get(item, "encodingFormat")) if _text(v)]


def _distribution(data: dict[str, Any], rec: EntityRecord,
                  at: Any) -> tuple[dict[str, tuple[str, list[str], list[str]]], list[CapabilityRecord]]:
    """Read the files: their formats become supportsFormat links and a storage capability."""
    raw = _get(data, "distribution")
    if raw is not None and not isinstance(raw, (list, dict)):
        raise SchemaError("distribution must be a list of FileObject/FileSet objects", location=at("$.distribution"))
    formats: dict[str, tuple[str, list[str], list[str]]] = {}
    files: list[str] = []
    for i, item in enumerate(_as_list(raw)):
        where = f"$.distribution[{i}]"
        if not isinstance(item, dict):
            raise SchemaError("a distribution item must be an object", location=at(where))
        if not _types(item) & _FILE_TYPES:
            raise SchemaError(f"@type is {item.get('@type')!r}, expected cr:FileObject or cr:FileSet",
                              location=at(f"{where}.@type"), hint="each file is a cr:FileObject or a cr:FileSet")
        for enc in _encodings(item):
            rec.extra.append(("encoding_format", enc))
            mapped = FORMATS.get(enc.lower().split(";")[0].strip())
            if mapped is None:
                continue
            fmt, aliases = mapped
            entry = formats.setdefault(fmt, (fmt, list(aliases), []))
            if enc not in entry[2]:
                entry[2].append(enc)
            rec.relations.setdefault("supportsFormat", [])
            if fmt not in rec.relations["supportsFormat"]:
                rec.relations["supportsFormat"].append(fmt)
            rec.field_locations.setdefault("relations.supportsFormat", at(f"{where}.encodingFormat"))
        label = _text(_get(item, "name")) or _text(item.get("@id")) or f"file {i + 1}"
        pattern = _text(_get(item, "includes"))
        files.append(f"{label} ({pattern})" if pattern else label)
    rec.extra = list(dict.fromkeys(rec.extra))
    caps: list[CapabilityRecord] = []
    if formats:
        names = sorted(formats)
        streams = sorted(set(names) & _STREAMABLE)
        text = (f"Distributed as {', '.join(names)} in {len(files)} file object(s) or file set(s): "
                f"{', '.join(files[:8])}{' ...' if len(files) > 8 else ''}.")
        if streams:
            text += f" {', '.join(streams)} can be read in chunks without loading the whole dataset."
        caps.append(CapabilityRecord(
            title=f"{' and '.join(names[:3])} files", description=text,
            concepts=["storage-format-compression", *(["streaming-loading"] if streams else [])],
            location=at("$.distribution")))
    return formats, caps


def _record_sets(data: dict[str, Any], rec: EntityRecord, at: Any,
                 formats: dict[str, tuple[str, list[str], list[str]]]) -> list[CapabilityRecord]:
    """Record sets and their fields -> modality capabilities and labelled-data hints."""
    raw = _get(data, "recordSet")
    if raw is not None and not isinstance(raw, (list, dict)):
        raise SchemaError("recordSet must be a list of RecordSet objects", location=at("$.recordSet"))
    by_modality: dict[str, list[str]] = {}
    labelled: list[str] = []
    sets: list[str] = []
    for i, rs in enumerate(_as_list(raw)):
        where = f"$.recordSet[{i}]"
        if not isinstance(rs, dict):
            raise SchemaError("a record set must be an object", location=at(where))
        rs_name = _text(_get(rs, "name")) or _text(rs.get("@id")) or f"record set {i + 1}"
        enumeration = "enumeration" in {_local(str(_text(t))).lower() for t in _as_list(_get(rs, "dataType"))}
        fields = _get(rs, "field")
        if fields is not None and not isinstance(fields, (list, dict)):
            raise SchemaError("field must be a list of Field objects", location=at(f"{where}.field"))
        names = []
        for j, fld in enumerate(_as_list(fields)):
            if not isinstance(fld, dict):
                raise SchemaError("a field must be an object", location=at(f"{where}.field[{j}]"))
            fname = (_text(_get(fld, "name")) or _text(fld.get("@id")) or f"field {j + 1}").rsplit("/", 1)[-1]
            written = [_local(str(_text(t))) for t in _as_list(_get(fld, "dataType")) if _text(t)]
            names.append(f"{fname} ({', '.join(written) or 'untyped'})")
            types = [t.lower() for t in written]
            for t in types:
                modality = _MODALITY_OF_TYPE.get(t)
                if modality:
                    by_modality.setdefault(modality, []).append(f"{rs_name}/{fname}")
                if t in {"label", "classlabel", "boundingbox", "segmentationmask"}:
                    labelled.append(f"{rs_name}/{fname}")
            if not enumeration and re.search(r"(^|_)(label|class|target|category|answer|chosen|rejected)s?$",
                                             fname.lower()):
                labelled.append(f"{rs_name}/{fname}")
        sets.append(f"{rs_name}: {', '.join(names[:12])}{' ...' if len(names) > 12 else ''}" if names else rs_name)
    for fmt in formats.values():
        for enc in fmt[2]:
            modality = _MODALITY_OF_MIME.get(enc.split("/")[0])
            if modality:
                by_modality.setdefault(modality, []).append(f"{enc} files")
    if "image" in by_modality or "audio" in by_modality or "video" in by_modality:
        by_modality.pop("tabular", None)
    caps: list[CapabilityRecord] = []
    for modality in ("image", "audio", "video", "text", "tabular"):
        if modality not in by_modality:
            continue
        title, concept = _MODALITY_CAPS[modality]
        rec.extra.append(("modality", modality))
        where = sorted(dict.fromkeys(by_modality[modality]))
        caps.append(CapabilityRecord(
            title=title, description=f"{title} in {', '.join(where[:8])}{' ...' if len(where) > 8 else ''}.",
            concepts=[concept] if concept else [], location=at("$.recordSet")))
    if labelled:
        caps.append(CapabilityRecord(
            title="Labelled examples",
            description=f"Records carry labels or targets for supervised learning: {', '.join(sorted(set(labelled))[:8])}.",
            concepts=["labelled-data"], location=at("$.recordSet")))
    if sets:
        caps.append(CapabilityRecord(
            title="Typed record structure",
            description="Record sets with typed fields that Croissant readers load directly: " + "; ".join(sets[:6])
                        + (" ..." if len(sets) > 6 else ""),
            concepts=["data-loading"], location=at("$.recordSet")))
    hints = _task_hints(rec)
    if hints:
        caps.append(hints)
    return caps


_TASK_WORDS = re.compile(
    r"classification|detection|segmentation|caption|question|answer|translation|summari[sz]|retrieval|"
    r"recommend|rating|regression|forecast|preference|dialogue|conversation|instruction|synthetic|distillation|"
    r"rlhf|harmless|helpful|language model|pretrain|vision-language|multimodal|ocr",
    re.I)


def _task_hints(rec: EntityRecord) -> CapabilityRecord | None:
    """Task hints in keywords and description, for the classifier to place."""
    words = [str(v) for k, v in rec.extra if k == "keyword"]
    hinted = [w for w in words if _TASK_WORDS.search(w)]
    sentences = re.split(r"(?<=[.!?])\s+", (rec.description or "").replace("\n", " "))
    hinted_sentences = [s for s in sentences if _TASK_WORDS.search(s)][:2]
    if not hinted and not hinted_sentences:
        return None
    text = " ".join(hinted_sentences)
    if hinted:
        text = (text + " " if text else "") + f"Keywords: {', '.join(hinted)}."
    return CapabilityRecord(title="Task hints", description=text[:600],
                            location=rec.where("description"))


def _documentation(rec: EntityRecord, at: Any) -> list[CapabilityRecord]:
    """Documentation and provenance: what the file records about where the data comes from."""
    present = []
    extras = {k for k, _ in rec.extra}
    for key, label in (("citation", "a citation"), ("creator", "its creators"), ("publisher", "its publisher"),
                       ("version", "a version"), ("issued", "a publication date"), ("modified", "a modification date")):
        if key in extras:
            present.append(label)
    if rec.license:
        present.append(f"its licence ({rec.license})")
    if len(present) < 2:
        return []
    concepts = ["provenance-documentation", *(["licensing"] if rec.license else [])]
    return [CapabilityRecord(title="Documented provenance",
                             description=f"The Croissant metadata records {', '.join(present)}, and every file "
                                         "and field it lists, so users can cite it and check its terms.",
                             concepts=concepts, location=at("$"))]


def _format_entities(formats: dict[str, tuple[str, list[str], list[str]]], path: str) -> list[EntityRecord]:
    out = []
    for name, aliases, mimes in formats.values():
        fmt = EntityRecord(id=slugify(name), name=name, kind="format", aliases=[*aliases, *mimes],
                           location=Location(path, json_path="$.distribution"))
        fmt.extra = [("encoding_format", m) for m in mimes if "/" in m and not m.startswith("http")]
        out.append(fmt)
    return out
