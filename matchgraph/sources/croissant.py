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

import html
import json
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..env import is_http_url
from ..errors import Location, SchemaError
from .records import CapabilityRecord, EntityRecord, SourceRecords
from . import safe_load
from .safe_load import (check_readable_tree, check_records, inline_contexts, missing_path_error, read_text,
                        type_error)
from ..vocab import is_fallback_slug, slugify
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
_FILE_TYPES = {"fileobject", "fileset", "datadownload"}
_URL_RE = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$", re.I)
_HTML_DROP = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.I | re.S)
_HTML_BREAK = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr)\b[^>]*>", re.I)
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9-]*(\s[^<>]*)?/?>")
#: Date layouts seen in Croissant files besides ISO 8601.
_DATE_FORMATS = ("%Y/%m/%d", "%Y.%m.%d", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y",
                 "%d/%m/%Y", "%Y%m%d")


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


def _one_text(value: Any, key: str, at: Any, *, hint: str | None = None, numbers: bool = True) -> str | None:
    """One text value: a string, a number, ``{"@value": ...}``, or language-tagged values (English first).

    A list of several plain values or an object without ``@value`` where one text belongs is an
    error at its JSON path, never turned into text.

    Examples
    --------
    >>> _one_text([{"@value": "Zug", "@language": "de"}, {"@value": "Train", "@language": "en"}], "name", None)
    'Train'
    """
    if value is None or isinstance(value, str):
        return value.strip() if isinstance(value, str) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not numbers:
            raise type_error(key, value, at(f"$.{key}") if at is not None else None, expected="a non-empty string",
                             hint=hint or f"write \"{key}\": \"...\"")
        return str(value)
    if isinstance(value, dict) and "@value" in value and not isinstance(value["@value"], (dict, list, bool)):
        return _one_text(value["@value"], key, at, hint=hint, numbers=numbers)
    if isinstance(value, list):
        if len(value) == 1:
            return _one_text(value[0], key, at, hint=hint, numbers=numbers)
        tagged = [v for v in value if isinstance(v, dict) and "@language" in v and "@value" in v]
        if value and len(tagged) == len(value):
            best = next((v for v in tagged if str(v["@language"]).lower().startswith("en")), tagged[0])
            return _one_text(best, key, at, hint=hint, numbers=numbers)
    raise type_error(key, value, at(f"$.{key}") if at is not None else None, expected="one text value",
                     hint=hint or f"write \"{key}\": \"...\" (one string; language variants as "
                                  "[{\"@value\": ..., \"@language\": ...}])")


def _strip_html(text: str) -> str:
    """Drop HTML markup from a description, keeping its text (scripts, styles and comments go whole).

    Examples
    --------
    >>> _strip_html("<b>Fast</b> &amp; <i>small</i><script>x()</script>")
    'Fast & small'
    """
    if "<" not in text and "&" not in text:
        return text
    out = _HTML_DROP.sub("", text)
    out = _HTML_BREAK.sub("\n", out)
    out = _HTML_TAG.sub("", out)
    return html.unescape(out)


def _clean(text: str | None, limit: int = 2000) -> str | None:
    """Collapse the whitespace of a description (Hub descriptions carry tabs and blank runs) and drop HTML."""
    if not text:
        return None
    text = _strip_html(text)
    out = re.sub(r"[ \t\r\f\v]*\n[\s]*", "\n", text.strip())
    out = re.sub(r"[ \t]+", " ", out)
    out = re.sub(r"\n{2,}", "\n", out)
    return out[:limit].strip() or None


def _day(value: Any) -> str | None:
    """A date as ISO ``YYYY-MM-DD`` when it can be read as one; otherwise the text as written.

    Examples
    --------
    >>> [_day(v) for v in ("2024-03-05T14:30:00+01:00", "2020/11/02", "March 5, 2021", 2022, "spring 2020")]
    ['2024-03-05', '2020-11-02', '2021-03-05', '2022', 'spring 2020']
    """
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    m = re.match(r"^(\d{4}-\d\d-\d\d)[T ]", text)
    if m:
        return _day(m.group(1)) or m.group(1)
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(text, layout).date().isoformat()
        except ValueError:
            continue
    return text


def _agent(value: Any) -> str | None:
    """The name of a creator or publisher: text, a Person/Organization, or givenName + familyName."""
    if isinstance(value, dict) and _text(_get(value, "name")) is None:
        parts = [_text(_get(value, k)) for k in ("givenName", "additionalName", "familyName")]
        if any(parts):
            return " ".join(p for p in parts if p)
    return _text(value)


def _mime(value: str) -> str:
    """A MIME type as a key: lowercase, without parameters (``TEXT/CSV; charset=utf-8`` -> ``text/csv``)."""
    text = value.strip()
    if re.match(r"^[\w.+-]+/[\w.+-]+\s*(;.*)?$", text):
        return text.split(";")[0].strip().lower()
    return text


def _url(value: Any, at: Any) -> str | None:
    """The dataset's url: an http(s) address (scheme in any case, blanks trimmed); empty means none."""
    text = _text(value)
    if value is None or not text:
        return None
    if not _URL_RE.match(text):
        raise SchemaError(f"url {value!r} is not an http(s) URL", location=at("$.url"),
                          hint="write the full address, e.g. https://example.org/data")
    scheme, rest = text.split(":", 1)
    return scheme.lower() + ":" + rest


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
    try:
        data, _ = _dataset_node(data, "")
    except SchemaError:
        return False
    if "@context" not in data:
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
    """Parse JSON text, its nesting depth checked first; a syntax error becomes a ParseError naming the file and line.

    Examples
    --------
    >>> load_json('{"a": 1}', "x.json", hint="")
    {'a': 1}
    """
    return safe_load.load_json(text.lstrip("\ufeff"), path, hint=hint)


def collect_croissant(paths: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and folders into the ``.json``/``.jsonld`` files to import, and those skipped."""
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise missing_path_error(raw, "give a Croissant JSON file or a folder of them")
        if not path.is_dir():  # a file, or something that is not (refused, by name, when it is read)
            files.append(path)
            continue
        check_readable_tree(path)
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
    data = inline_contexts(data, path)  # a context URL matchgraph does not bundle is refused, never fetched
    data, root = _dataset_node(data, path)
    data = _expand_language_maps(data, _language_terms(data.get("@context")))
    at = lambda json_path: Location(path, json_path=root + json_path[1:])  # noqa: E731
    if "@context" not in data:
        raise SchemaError("missing @context", location=at("$.@context"),
                          hint="Croissant is JSON-LD: add the standard Croissant @context")
    if not _types(data) & _CROISSANT_TYPES:
        raise SchemaError(f"@type is {data.get('@type')!r}, not a schema.org Dataset", location=at("$.@type"),
                          hint="a Croissant document describes one \"@type\": \"sc:Dataset\"")
    raw_name = _get(data, "name")
    name = _one_text(raw_name, "name", at, numbers=False,
                     hint="give the dataset one \"name\": \"...\" (other names go in \"alternateName\")")
    if not name or name.lower() in {"none", "null", "n/a"}:
        raise SchemaError("missing name" if raw_name is None else "name must be a non-empty string",
                          location=at("$.name"), hint="give the dataset a \"name\"")
    rec = EntityRecord(id=slugify(name), name=name, kind="dataset", location=at("$"))
    rec.field_locations = {k: at(f"$.{k}") for k in ("name", "description", "license", "url", "kind")}
    _identity(data, rec, at)
    if is_fallback_slug(rec.id):  # nothing of the name is ASCII (e.g. only CJK): a slug from another label
        rec.id = _fallback_slug(rec, path)
    _provenance(data, rec, at)
    formats, format_caps = _distribution(data, rec, at)
    rec.capabilities.extend(_record_sets(data, rec, at, formats))
    rec.capabilities.extend(format_caps)
    rec.capabilities.extend(_documentation(rec, at))
    entities = [rec, *_format_entities(formats, path)]
    return check_records(SourceRecords(path=path, format="croissant", entities=entities, title=rec.name))


def _language_terms(context: Any) -> set[str]:
    """The terms a JSON-LD context declares as language maps (``"name": {"@container": "@language"}``).

    Examples
    --------
    >>> sorted(_language_terms([{"name": {"@container": "@language"}, "url": "sc:url"},
    ...                         {"description": {"@id": "sc:description", "@container": ["@language", "@set"]}}]))
    ['description', 'name']
    """
    terms: set[str] = set()
    for ctx in _as_list(context):
        if not isinstance(ctx, dict):
            continue
        for term, definition in ctx.items():
            if isinstance(definition, dict) and "@language" in _as_list(definition.get("@container")):
                terms.add(term)
    return terms


def _expand_language_maps(node: Any, terms: set[str], depth: int = 0) -> Any:
    """Language maps (``{"en": "...", "de": "..."}`` under a term the context declares so, as
    Croissant 1.1 writes multilingual names and descriptions) as language-tagged values, the form
    the rest of the reader takes (``[{"@value": "...", "@language": "en"}, ...]``)."""
    if not terms or depth > 64:
        return node
    if isinstance(node, list):
        return [_expand_language_maps(v, terms, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in terms and isinstance(value, dict) and not any(k.startswith("@") for k in value):
            out[key] = [{"@value": text, "@language": lang} for lang, texts in value.items()
                        for text in _as_list(texts) if isinstance(text, (str, int, float)) and not isinstance(text, bool)]
        elif key == "@context":
            out[key] = value
        else:
            out[key] = _expand_language_maps(value, terms, depth + 1)
    return out


def _nodes(data: Any) -> tuple[list[tuple[str, Any]], Any]:
    """The top-level JSON-LD nodes of a document with their JSON paths, and the document's @context.

    A document is one object, an object whose ``@graph`` lists the nodes, or a list of objects.
    """
    if isinstance(data, list):
        nodes = [(f"$[{i}]", n) for i, n in enumerate(data)]
        context = next((n["@context"] for _, n in nodes if isinstance(n, dict) and "@context" in n), None)
        return nodes, context
    if isinstance(data, dict) and isinstance(data.get("@graph"), list) and not _types(data) & _CROISSANT_TYPES:
        return [(f"$.@graph[{i}]", n) for i, n in enumerate(data["@graph"])], data.get("@context")
    return [("$", data)], data.get("@context") if isinstance(data, dict) else None


def _inline(value: Any, ids: dict[str, dict[str, Any]], depth: int = 0) -> Any:
    """Replace references (``{"@id": "#files"}``) by the nodes of the same document they name."""
    if depth > 6:
        return value
    if isinstance(value, list):
        return [_inline(v, ids, depth + 1) for v in value]
    if isinstance(value, dict):
        if set(value) == {"@id"} and isinstance(value["@id"], str) and value["@id"] in ids:
            return _inline(ids[value["@id"]], ids, depth + 1)
        return {k: (v if k.startswith("@") else _inline(v, ids, depth + 1)) for k, v in value.items()}
    return value


def _dataset_node(data: Any, path: str) -> tuple[dict[str, Any], str]:
    """The one Dataset node of a Croissant document (a plain object, ``@graph`` or list) and its JSON path.

    References to other nodes of the document are inlined and the document's ``@context`` kept.

    Raises
    ------
    SchemaError
        No node, or several nodes, of type Dataset.
    """
    if not isinstance(data, (dict, list)):
        raise SchemaError("a Croissant document is a JSON object", location=Location(path, json_path="$"),
                          hint="the file must hold one JSON-LD object with @context, @type and name")
    nodes, context = _nodes(data)
    if nodes == [("$", data)]:
        return data, "$"
    if not any(isinstance(n, dict) for _, n in nodes):
        raise SchemaError("a Croissant document is a JSON object", location=Location(path, json_path="$"),
                          hint="the file must hold one JSON-LD object with @context, @type and name")
    datasets = [(where, n) for where, n in nodes if isinstance(n, dict) and _types(n) & _CROISSANT_TYPES]
    container = "$.@graph" if isinstance(data, dict) else "$"
    if not datasets:
        raise SchemaError("no node of the document is a schema.org Dataset", location=Location(path, json_path=container),
                          hint="a Croissant document describes one \"@type\": \"sc:Dataset\"")
    if len(datasets) > 1:
        raise SchemaError(f"the document holds {len(datasets)} Dataset nodes ({', '.join(w for w, _ in datasets)}); "
                          "a Croissant file describes one", location=Location(path, json_path=container),
                          hint="split the file into one Croissant file per dataset")
    ids = {n["@id"]: n for _, n in nodes if isinstance(n, dict) and isinstance(n.get("@id"), str)}
    where, node = datasets[0]
    node = _inline(node, {k: v for k, v in ids.items() if v is not node})
    if "@context" not in node and context is not None:
        node = {"@context": context, **node}
    return node, where


def _identity(data: dict[str, Any], rec: EntityRecord, at: Any) -> None:
    rec.description = _clean(_one_text(_get(data, "description"), "description", at))
    rec.url = _url(_get(data, "url"), at)
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
    licences = [t for t in (_licence(_text(v)) for v in _as_list(_get(data, "license"))) if t]
    if licences:
        rec.license = licences[0]
        for other in licences[1:]:
            rec.extra.append(("note", f"also licensed as {other}"))
    for same in _as_list(_get(data, "sameAs")):
        if _text(same):
            rec.extra.append(("see_also", str(_text(same))))


_CHOOSEALICENSE = re.compile(r"^https?://(?:www\.)?choosealicense\.com/licenses/([^/?#\s]+)/?$", re.I)


def _licence(text: str | None) -> str | None:
    """A licence as the Hub names it: Hugging Face's Croissant writes the repository's licence id
    as a choosealicense.com page (``.../licenses/mit/``), and ``undefined`` when the card gives none.

    Examples
    --------
    >>> [_licence(t) for t in ("https://choosealicense.com/licenses/cc-by-sa-4.0/",
    ...                         "https://choosealicense.com/licenses/undefined/", "afl-3.0")]
    ['cc-by-sa-4.0', None, 'afl-3.0']
    """
    m = _CHOOSEALICENSE.match(text or "")
    if m is None:
        return text
    licence = m.group(1).lower()
    return None if licence in {"undefined", "unknown-license", "none"} else licence


def _fallback_slug(rec: EntityRecord, path: str) -> str:
    """A slug for a dataset whose name gives none: from its hub id, an alias, its url or the file name."""
    hub = next((str(v) for k, v in rec.extra if k == "hub_id"), None)
    candidates = [hub, *rec.aliases, re.sub(r"^https?://(www\.)?", "", rec.url or "") or None,
                  Path(path).stem]
    for text in candidates:
        if text and not is_fallback_slug(slugify(text)):
            return slugify(text)
    return rec.id


def _provenance(data: dict[str, Any], rec: EntityRecord, at: Any) -> None:
    for key in ("citeAs", "citation"):
        for cite in _as_list(_get(data, key)):
            if _text(cite):
                rec.extra.append(("citation", str(_text(cite)).strip()))
    for key, extra in (("creator", "creator"), ("publisher", "publisher")):
        for who in _as_list(_get(data, key)):
            name = _agent(who)
            if name:
                rec.extra.append((extra, name))
    issued = _day(_get(data, "datePublished")) or _day(_get(data, "dateCreated"))
    modified = _day(_get(data, "dateModified"))
    rec.extra.extend((k, v) for k, v in (("issued", issued), ("modified", modified)) if v)
    version = _one_text(_get(data, "version"), "version", at)
    if version:
        rec.extra.append(("version", version))
    keywords = _get(data, "keywords")
    words = [w.strip() for w in re.split(r"[,;]", keywords)] if isinstance(keywords, str) else \
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
    _derived_from(data, rec)
    live = _get(data, "isLiveDataset")
    if live is True or str(_text(live)).lower() == "true":
        rec.extra.append(("note", "live dataset: its content changes over time"))


def _derived_from(data: dict[str, Any], rec: EntityRecord) -> None:
    """Croissant 1.1 provenance: ``prov:wasDerivedFrom`` the datasets this one was made from.

    A source is named by the Hub id of its location (``prov:atLocation``, ``prov:locatedAt``, ``url``,
    ``sameAs``), else by its label or name, and becomes a ``derivedFrom`` relation; a source known
    only by a URL off the Hub becomes a note (``schema:comment``) "derived from URL".

    Examples
    --------
    >>> rec = EntityRecord(id="squad-v2", name="squad_v2")
    >>> _derived_from({"prov:wasDerivedFrom": {"@id": "squad1",
    ...                "prov:locatedAt": "https://huggingface.co/datasets/rajpurkar/squad"}}, rec)
    >>> rec.relations["derivedFrom"]
    ['rajpurkar/squad']
    """
    for source in _as_list(_get(data, "wasDerivedFrom")):
        where = label = None
        if isinstance(source, dict):
            where = next((t for k in ("atLocation", "locatedAt", "url", "sameAs") if (t := _text(_get(source, k)))),
                         None)
            label = _text(_get(source, "label")) or _text(_get(source, "name"))
        elif isinstance(source, str) and _URL_RE.match(source.strip()):
            where = source.strip()
        hub = hub_id_of_url(where)
        name = hub or label
        if name and name != rec.name:
            targets = rec.relations.setdefault("derivedFrom", [])
            if name not in targets:
                targets.append(name)
        elif where and _URL_RE.match(where):
            rec.extra.append(("note", f"derived from {where}"))


def _encodings(item: dict[str, Any]) -> list[str]:
    return [_mime(str(_text(v))) for v in _as_list(_get(item, "encodingFormat")) if _text(v)]


def _distribution(data: dict[str, Any], rec: EntityRecord,
                  at: Any) -> tuple[dict[str, tuple[str, list[str], list[str]]], list[CapabilityRecord]]:
    """Read the files: their formats become supportsFormat links and a storage capability."""
    raw = _get(data, "distribution")
    if raw is not None and not isinstance(raw, (list, dict)):
        raise SchemaError("distribution must be a list of FileObject/FileSet objects", location=at("$.distribution"),
                          hint="write \"distribution\": [{\"@type\": \"cr:FileObject\", \"name\": ..., "
                               "\"encodingFormat\": ...}]")
    formats: dict[str, tuple[str, list[str], list[str]]] = {}
    files: list[str] = []
    for i, item in enumerate(_as_list(raw)):
        where = f"$.distribution[{i}]"
        if not isinstance(item, dict):
            raise SchemaError("a distribution item must be an object", location=at(where),
                              hint="each item is {\"@type\": \"cr:FileObject\" or \"cr:FileSet\", \"name\": ..., "
                                   "\"encodingFormat\": ...}")
        if set(item) == {"@id"}:
            raise SchemaError(f"refers to {item['@id']!r}, which no node of the file describes",
                              location=at(f"{where}.@id"), hint="describe the file object in the document, or "
                                                                 "write it inline with its @type and encodingFormat")
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
        raise SchemaError("recordSet must be a list of RecordSet objects", location=at("$.recordSet"),
                          hint="write \"recordSet\": [{\"@type\": \"cr:RecordSet\", \"name\": ..., \"field\": [...]}]")
    by_modality: dict[str, list[str]] = {}
    labelled: list[str] = []
    sets: list[str] = []
    for i, rs in enumerate(_as_list(raw)):
        where = f"$.recordSet[{i}]"
        if not isinstance(rs, dict):
            raise SchemaError("a record set must be an object", location=at(where),
                              hint="each record set is {\"@type\": \"cr:RecordSet\", \"name\": ..., \"field\": [...]}")
        rs_name = _text(_get(rs, "name")) or _text(rs.get("@id")) or f"record set {i + 1}"
        enumeration = "enumeration" in {_local(str(_text(t))).lower() for t in _as_list(_get(rs, "dataType"))} \
            or _get(rs, "isEnumeration") is True  # Croissant 0.8
        fields = _get(rs, "field")
        if fields is not None and not isinstance(fields, (list, dict)):
            raise SchemaError("field must be a list of Field objects", location=at(f"{where}.field"),
                              hint="write \"field\": [{\"@type\": \"cr:Field\", \"name\": ..., \"dataType\": ...}]")
        names = []
        for j, fld in enumerate(_as_list(fields)):
            if not isinstance(fld, dict):
                raise SchemaError("a field must be an object", location=at(f"{where}.field[{j}]"),
                                  hint="each field is {\"@type\": \"cr:Field\", \"name\": ..., \"dataType\": ...}")
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
        fmt.extra = [("encoding_format", m) for m in mimes if "/" in m and not is_http_url(m)]
        out.append(fmt)
    return out
