"""Hugging Face Hub metadata -> models and datasets with adoption, capabilities and lineage.

Reads what the Hub API returns for model and dataset listings (``/api/models``,
``/api/datasets`` with ``full=true``/``cardData=true``: ``id``, ``author``, ``downloads``,
``likes``, ``tags``, ``pipeline_tag``, ``library_name``, ``cardData``, ...) and model-card READMEs
(YAML front matter with ``model-index``):

- downloads and likes -> adoption metrics;
- ``pipeline_tag`` and task-like tags -> capabilities with concepts of the scheme;
- ``library_name`` and library tags -> integratesWith (weight-format tags -> supportsFormat);
- ``base_model`` (card data or ``base_model:`` tags) -> derivedFrom;
- ``datasets`` (card data or ``dataset:`` tags) -> trainedOn;
- licence (card data or ``license:`` tag), languages, dates, ``model-index`` -> benchmark results.

The live mode (:func:`fetch_hub`) asks the Hub through ``huggingface_hub`` (the optional extra
``hf``) and saves the answer as a file of the same shape, so a live import is a file import.

>>> records = parse_hub_json([{"id": "acme/tiny", "downloads": 5, "pipeline_tag": "fill-mask"}], "m.json")
>>> records.entities[0].metrics
{'downloads': 5.0}
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError, Location, SchemaError
from .records import CapabilityRecord, EntityRecord, SourceRecords
from .cards import _as_list
from .safe_load import bounded_number, check_records, read_text, text_list, type_error
from ..vocab import slugify
from .croissant import load_json

__all__ = ["is_hub_json", "parse_hub_json", "read_hub_file", "parse_model_card", "fetch_hub",
           "PIPELINE_CONCEPTS", "LIBRARIES"]

#: Hub pipeline tags (and task categories) -> capability concepts of the scheme.
PIPELINE_CONCEPTS: dict[str, list[str]] = {
    "fill-mask": ["masked-language-modelling"], "feature-extraction": ["text-embeddings"],
    "sentence-similarity": ["sentence-embeddings", "semantic-similarity"],
    "text-classification": ["text-classification"], "token-classification": ["token-classification"],
    "question-answering": ["question-answering"], "table-question-answering": ["question-answering"],
    "text-generation": ["text-generation"], "text2text-generation": ["text-generation"],
    "summarization": ["summarization"], "translation": ["translation"],
    "image-classification": ["image-classification"], "object-detection": ["object-detection"],
    "image-segmentation": ["image-segmentation"], "text-to-image": ["image-generation"],
    "automatic-speech-recognition": ["speech-recognition"], "text-to-speech": ["speech-synthesis"],
    "text-to-audio": ["speech-synthesis"], "zero-shot-classification": ["zero-shot"],
    "zero-shot-image-classification": ["zero-shot", "vision-language"],
    "image-to-text": ["vision-language"], "image-text-to-text": ["vision-language"],
    "visual-question-answering": ["vision-language", "question-answering"],
    "document-question-answering": ["vision-language", "question-answering"],
    "text-ranking": ["reranking"], "time-series-forecasting": ["time-series-forecasting"],
    "conversational": ["instruction-following"], "audio-classification": ["audio-data"],
    "tabular-classification": ["tabular-data"], "tabular-regression": ["tabular-data"],
    "text-retrieval": ["retrieval"], "reinforcement-learning": [],
}
#: Library tags -> (relation, entity name).
LIBRARIES: dict[str, tuple[str, str]] = {
    "transformers": ("integratesWith", "transformers"), "sentence-transformers": ("integratesWith", "Sentence Transformers"),
    "pytorch": ("integratesWith", "PyTorch"), "tf": ("integratesWith", "TensorFlow"), "jax": ("integratesWith", "JAX"),
    "keras": ("integratesWith", "Keras"), "diffusers": ("integratesWith", "Diffusers"), "timm": ("integratesWith", "timm"),
    "peft": ("integratesWith", "PEFT"), "openvino": ("integratesWith", "OpenVINO"), "mlx": ("integratesWith", "MLX"),
    "transformers.js": ("integratesWith", "Transformers.js"), "tflite": ("integratesWith", "TensorFlow Lite"),
    "coreml": ("integratesWith", "Core ML"), "flair": ("integratesWith", "Flair"), "spacy": ("integratesWith", "spaCy"),
    "fasttext": ("integratesWith", "fastText"), "adapter-transformers": ("integratesWith", "Adapters"),
    "datasets": ("integratesWith", "Hugging Face Datasets"), "pandas": ("integratesWith", "pandas"),
    "polars": ("integratesWith", "Polars"), "dask": ("integratesWith", "Dask"),
    "mlcroissant": ("integratesWith", "Croissant"), "webdataset": ("supportsFormat", "WebDataset"),
    "onnx": ("supportsFormat", "ONNX"), "safetensors": ("supportsFormat", "SafeTensors"),
    "gguf": ("supportsFormat", "GGUF"),
}
#: Dataset ``format:`` tags -> format entity names (None: not a file format).
DATA_FORMATS: dict[str, str | None] = {
    "parquet": "Parquet", "json": "JSON", "csv": "CSV", "arrow": "Apache Arrow", "webdataset": "WebDataset",
    "text": "Plain text", "imagefolder": None, "audiofolder": None, "optimized-parquet": "Parquet",
}
_MODALITY_CONCEPT = {"image": "image-data", "audio": "audio-data", "tabular": "tabular-data", "video": "image-data",
                     "text": None, "timeseries": None, "geospatial": None, "3d": None, "document": None}
_STRUCTURED = ("dataset:", "license:", "arxiv:", "region:", "base_model:", "doi:", "task_categories:", "task_ids:",
               "modality:", "format:", "language:", "size_categories:", "library:", "annotations_creators:",
               "language_creators:", "source_datasets:", "multilinguality:", "benchmark:", "paperswithcode_id:")
_MODEL_HINTS = {"modelId", "pipeline_tag", "library_name", "safetensors", "siblings", "model-index", "config",
                "transformersInfo", "spaces", "gguf"}
_DATASET_TAG = re.compile(r"^(task_categories|size_categories|format|modality|task_ids|library):")


#: A Hub repository id: ``owner/name`` or a legacy bare ``name`` (the Hub allows letters, digits, -, _ and .).
_HUB_ID = re.compile(r"[\w.\-]+(?:/[\w.\-]+)?")
_HUB_KEYS = {"id", "modelId", "downloads", "likes", "cardData", "tags", "pipeline_tag", "library_name", "author"}


def _entries(data: Any, *, strict: bool = True) -> list[tuple[str, dict[str, Any]]] | None:
    """(JSON path, entry) of every listing entry, or None when this is not Hub JSON.

    ``strict`` (sniffing a file of unknown kind) wants the first entry to have an id; otherwise
    a list of objects with Hub keys is taken as a listing, so a bad entry is reported by its path.
    """
    if isinstance(data, dict) and any(isinstance(data.get(k), list) for k in ("models", "datasets")) \
            and not {"id", "modelId"} & set(data):
        out = []
        for key in ("models", "datasets"):
            out.extend((f"$.{key}[{i}]", e) for i, e in enumerate(data.get(key) or []))
        return out
    if isinstance(data, dict):
        return [("$", data)] if _looks_like_entry(data) else None
    if isinstance(data, list) and not strict and not data:
        return []  # a listing that found nothing
    if isinstance(data, list) and data and all(isinstance(e, dict) for e in data):
        if _looks_like_entry(data[0]) or (not strict and all(_HUB_KEYS & set(e) for e in data)):
            return [(f"$[{i}]", e) for i, e in enumerate(data)]
    if isinstance(data, list) and not strict and any(isinstance(e, dict) and _looks_like_entry(e) for e in data):
        return [(f"$[{i}]", e) for i, e in enumerate(data)]  # the entries that are not objects are reported
    return None


def _looks_like_entry(entry: dict[str, Any]) -> bool:
    has_id = isinstance(entry.get("id"), str) or isinstance(entry.get("modelId"), str)
    return has_id and "@context" not in entry and bool((_HUB_KEYS - {"id"}) & set(entry))


def is_hub_json(data: Any) -> bool:
    """Say whether parsed JSON is a Hugging Face Hub API answer (a listing or one entry).

    Examples
    --------
    >>> is_hub_json([{"id": "bert-base-uncased", "downloads": 10}])
    True
    >>> is_hub_json({"@context": {}, "name": "x"})
    False
    """
    return _entries(data) is not None


def _kind_of(entry: dict[str, Any], json_path: str) -> str | None:
    """``model`` or ``dataset`` by what the entry holds; None when nothing tells."""
    if json_path.startswith("$.datasets"):
        return "dataset"
    if json_path.startswith("$.models"):
        return "model"
    card = entry.get("cardData") if isinstance(entry.get("cardData"), dict) else {}
    if _MODEL_HINTS & set(entry) or {"model-index", "base_model", "model_name"} & set(card):
        return "model"
    tags = _as_list(entry.get("tags"))
    if any(_DATASET_TAG.match(t) for t in tags) or {"paperswithcode_id", "citation", "description"} & set(entry) \
            or {"task_categories", "pretty_name", "dataset_info", "configs", "size_categories"} & set(card):
        return "dataset"
    return None


def _listing_kinds(entries: list[tuple[str, Any]], path: str) -> list[str]:
    """The kind of every entry; an entry that does not tell takes the kind most of its listing has.

    A Hub listing comes from one endpoint, so a bare ``{"id": ..., "downloads": ...}`` in a list of
    datasets is a dataset. A listing where no entry tells is read by its file name (``datasets.json``),
    else as models.

    Examples
    --------
    >>> _listing_kinds([("$[0]", {"id": "a/b", "tags": ["format:csv"]}), ("$[1]", {"id": "c/d"})], "x.json")
    ['dataset', 'dataset']
    """
    told = [_kind_of(e, where) if isinstance(e, dict) else None for where, e in entries]
    known = [k for k in told if k]
    if known:
        default = max(("model", "dataset"), key=lambda k: (known.count(k), k == "model"))
    else:
        default = "dataset" if "dataset" in Path(path).name.lower() else "model"
    return [k or default for k in told]


def read_hub_file(path: Path) -> SourceRecords:
    """Read a Hub API JSON file or a model-card README (``.md``).

    Raises
    ------
    ParseError
        Not JSON (or not a card).
    SchemaError
        JSON that is not a Hub answer, or a malformed entry (the message names its JSON path).
    """
    text = read_text(path)
    if path.suffix.lower() in {".md", ".markdown"}:
        return parse_model_card(text, str(path))
    data = load_json(text, str(path), hint="give the JSON the Hub API returned, or a model-card README.md")
    return parse_hub_json(data, str(path))


def parse_model_card(text: str, path: str) -> SourceRecords:
    """Parse a Hugging Face model or dataset card README (YAML front matter, ``model-index``).

    The card reader of :mod:`matchgraph.sources.cards` reads the keys; a name that is a Hub id
    becomes the hub id. A README without front matter is a model named by its heading or folder.
    """
    from .cards import parse_card

    records = parse_card(text, path, hf=True)
    for rec in records.entities:
        if re.fullmatch(r"[\w.\-]+/[\w.\-]+", rec.name) and ("hub_id", rec.name) not in rec.extra:
            rec.extra.append(("hub_id", rec.name))
    return records


#: huggingface_hub's ModelInfo/DatasetInfo attribute names -> the Hub API's keys (an entry saved with
#: ``dataclasses.asdict(info)`` or ``vars(info)`` instead of the API's JSON).
_ATTRIBUTE_KEYS = {"card_data": "cardData", "created_at": "createdAt", "last_modified": "lastModified",
                   "model_index": "model-index", "transformers_info": "transformersInfo", "model_id": "modelId"}


def _api_keys(entry: Any) -> Any:
    """An entry with the Hub API's key names, where it uses huggingface_hub's attribute names instead.

    Examples
    --------
    >>> _api_keys({"id": "a/b", "created_at": "2022-03-02 23:29:05+00:00", "card_data": {}})
    {'id': 'a/b', 'createdAt': '2022-03-02 23:29:05+00:00'}
    """
    if not isinstance(entry, dict) or not _ATTRIBUTE_KEYS.keys() & entry.keys():
        return entry
    out = {}
    for key, value in entry.items():
        api = _ATTRIBUTE_KEYS.get(key)
        if api is None:
            out[key] = value
        elif api not in entry and value not in (None, {}, []):
            out[api] = value
    return out


def parse_hub_json(data: Any, path: str) -> SourceRecords:
    """Turn a Hub API answer (model or dataset listing, or one entry) into records.

    Parameters
    ----------
    data : object
        The parsed JSON: a list of entries, one entry, or ``{"models": [...], "datasets": [...]}``.
    path : str
        The file, for locations.

    Returns
    -------
    SourceRecords

    Raises
    ------
    SchemaError
        Not a Hub answer, or an entry with a missing id or a wrongly typed field.

    Examples
    --------
    >>> rec = parse_hub_json({"id": "acme/m", "likes": 3, "cardData": {"base_model": "bert-base-uncased"}},
    ...                      "m.json").entities[0]
    >>> rec.relations["derivedFrom"]
    ['bert-base-uncased']
    """
    entries = _entries(data, strict=False)
    if entries is None:
        raise SchemaError("not a Hugging Face Hub API answer (a list of models or datasets with an 'id')",
                          location=Location(path, json_path="$"),
                          hint="save what https://huggingface.co/api/models?full=true returns, or use --search")
    entries = [(where, _api_keys(e)) for where, e in entries]
    kinds = _listing_kinds(entries, path)
    records = [_entry(entry, path, json_path, kind) for (json_path, entry), kind in zip(entries, kinds)]
    seen: dict[str, str] = {}
    for rec, (json_path, _) in zip(records, entries):
        first = seen.setdefault(rec.name, json_path)
        if first != json_path:
            raise SchemaError(f"{rec.name!r} is listed twice: here and at {first}",
                              location=Location(path, json_path=f"{json_path}.id"),
                              hint="keep one entry per repository (two answers of the Hub joined into one file "
                                   "repeat the ones on both)")
    return check_records(SourceRecords(path=path, format="hf-hub", entities=records, title="Hugging Face Hub listing"))


def _entry(entry: dict[str, Any], path: str, json_path: str, kind: str) -> EntityRecord:
    at = lambda key: Location(path, json_path=f"{json_path}.{key}")  # noqa: E731
    if not isinstance(entry, dict):
        raise SchemaError(f"an entry must be an object, found {type(entry).__name__}",
                          location=Location(path, json_path=json_path),
                          hint="each entry of a Hub listing is an object such as {\"id\": \"owner/name\", ...}")
    hub_id = entry.get("id") if isinstance(entry.get("id"), str) else entry.get("modelId")
    if not isinstance(hub_id, str) or not hub_id.strip():
        raise SchemaError("missing id", location=at("id"), hint="every Hub entry has an 'id' such as 'owner/name'")
    hub_id = hub_id.strip()
    if not _HUB_ID.fullmatch(hub_id) or any(part in (".", "..") for part in hub_id.split("/")):
        raise SchemaError(f"id {hub_id[:200]!r} is not a Hub repository id", location=at("id"),
                          hint="a Hub id is 'owner/name' (or a bare 'name'): letters, digits, '-', '_' and '.', "
                               "no spaces, e.g. 'sentence-transformers/all-MiniLM-L6-v2'")
    card = entry.get("cardData")
    if card is not None and not isinstance(card, dict):
        raise SchemaError("cardData must be an object", location=at("cardData"),
                          hint="cardData holds the card's front matter as an object, e.g. {\"license\": \"mit\"}")
    card = card or {}
    _check_labels(entry, card, path, json_path)
    rec = EntityRecord(id=slugify(hub_id), name=hub_id, kind=kind, location=Location(path, json_path=json_path))
    rec.field_locations = {k: at(k) for k in ("name", "license", "url", "kind", "description")}
    rec.field_locations["relations.trainedOn"] = at("cardData.datasets")
    rec.field_locations["relations.derivedFrom"] = at("cardData.base_model")
    rec.extra.append(("hub_id", hub_id))
    rec.url = f"https://huggingface.co/{'datasets/' if kind == 'dataset' else ''}{hub_id}"
    for key in ("downloads", "likes"):
        value = entry.get(key)
        if value is not None:
            rec.metrics[key] = _count(key, value, at(key))
    raw_tags = entry.get("tags")
    if raw_tags is not None and not (isinstance(raw_tags, list) and all(isinstance(t, str) for t in raw_tags)):
        raise SchemaError("tags must be a list of strings", location=at("tags"),
                          hint="the Hub writes tags as [\"transformers\", \"license:mit\", ...]")
    tags = _as_list(raw_tags)
    _licence(rec, card, tags)
    _identity(rec, entry, card, kind)
    _tags(rec, tags, entry, card)
    _lineage(rec, card, tags)
    _drop_base_aliases(rec)
    _capabilities(rec, entry, card, tags, kind, Location(path, json_path=json_path))
    for key, index in (("cardData.model-index", card.get("model-index")), ("model-index", entry.get("model-index"))):
        if isinstance(index, list) and not rec.results:
            from .cards import _model_index

            rec.results.extend(_model_index(index, path, at(key)))
    rec.extra = list(dict.fromkeys(rec.extra))
    return rec


#: The largest count a Hub entry may give (the most downloaded models have a few billion downloads):
#: a larger one is a mistake in the file, and one past 10^308 would overflow a float.
MAX_COUNT = 10 ** 15


def _count(key: str, value: Any, location: Location) -> float:
    """A count of a Hub entry (downloads, likes), checked (:func:`~matchgraph.sources.safe_load.bounded_number`).

    Examples
    --------
    >>> _count("likes", 3, Location("m.json", json_path="$[0].likes"))
    3.0
    """
    return bounded_number(value, key, location, limit=MAX_COUNT, what="a count",
                          hint=f"write \"{key}\": 1200 (a whole number, zero or more, at most {MAX_COUNT:,})")


def _labels(value: Any, where: str, path: str) -> list[str]:
    """Labels of a Hub entry (a text or a list of texts); a mapping or nested list is an error at its JSON path.

    Examples
    --------
    >>> _labels(["mit", None, 3], "$.license", "x.json")
    ['mit', '3']
    """
    return text_list(value, where, lambda spot: Location(path, json_path=spot),
                     "the Hub writes these as a string or a list of strings")


#: Keys of a Hub entry and of its cardData that hold one text or a list of texts.
_ENTRY_LABELS = ("pipeline_tag", "library_name", "paperswithcode_id", "author")
_CARD_LABELS = ("license", "license_name", "pretty_name", "model_name", "datasets", "base_model", "new_version",
                "library_name", "pipeline_tag", "task_categories")
_ENTRY_TEXTS = ("description", "citation")


def _check_labels(entry: dict[str, Any], card: dict[str, Any], path: str, json_path: str) -> None:
    """Check the types of the text fields of a Hub entry before they are read (an error names the JSON path)."""
    for key in _ENTRY_LABELS:
        _labels(entry.get(key), f"{json_path}.{key}", path)
    for key in _CARD_LABELS:
        _labels(card.get(key), f"{json_path}.cardData.{key}", path)
    for key in _ENTRY_TEXTS:
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise type_error(key, value, Location(path, json_path=f"{json_path}.{key}"), expected="text",
                             hint=f"write \"{key}\": \"...\" (one string)")


def _licence(rec: EntityRecord, card: dict[str, Any], tags: list[str]) -> None:
    licences = _as_list(card.get("license")) or [t.split(":", 1)[1] for t in tags if t.startswith("license:")]
    if licences:
        rec.license = str(card.get("license_name")) if licences[0] == "other" and card.get("license_name") \
            else licences[0]
        rec.extra.extend(("note", f"also licensed as {other}") for other in licences[1:])


def _date(value: Any) -> str | None:
    if not value:
        return None
    text = str(value)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return text[:10] if re.match(r"\d{4}-\d\d-\d\d", text) else None


def _identity(rec: EntityRecord, entry: dict[str, Any], card: dict[str, Any], kind: str) -> None:
    author = entry.get("author") or (rec.name.split("/")[0] if "/" in rec.name else None)
    if author:
        rec.extra.append(("creator", str(author)))
    for alias in _as_list(card.get("pretty_name")) + _as_list(card.get("model_name")) + \
            _as_list(entry.get("paperswithcode_id")):
        if alias != rec.name:
            rec.aliases.append(alias)
    for key, extra in (("createdAt", "issued"), ("lastModified", "modified")):
        day = _date(entry.get(key))
        if day:
            rec.extra.append((extra, day))
    if isinstance(entry.get("description"), str) and entry["description"].strip():
        rec.description = re.sub(r"\s+", " ", entry["description"]).strip()[:2000]
    if isinstance(entry.get("citation"), str) and entry["citation"].strip():
        rec.extra.append(("citation", entry["citation"].strip()))
    for weights in (entry.get("safetensors"), entry.get("gguf")):
        total = weights.get("total") if isinstance(weights, dict) else None
        if isinstance(total, int) and not isinstance(total, bool) and total > 0:
            rec.extra.append(("parameters", total))
            break
    from .cards import _languages

    for lang in _languages(card.get("language")):
        rec.extra.append(("language", lang))
    if entry.get("gated") not in (None, False):
        rec.extra.append(("tag", "gated"))
    if rec.description is None:
        task = entry.get("pipeline_tag") or card.get("pipeline_tag")
        library = entry.get("library_name") or card.get("library_name")
        what = f"{str(task).replace('-', ' ')} {kind}" if task else kind
        article = "An" if what[:1].lower() in "aeiou" else "A"
        rec.description = (f"{article} {what} on the Hugging Face Hub" + (f", published by {author}" if author else "")
                           + (f", for the {library} library" if library else "") + ".")


def _tags(rec: EntityRecord, tags: list[str], entry: dict[str, Any], card: dict[str, Any]) -> None:
    for tag in tags:
        prefix, _, value = tag.partition(":")
        if tag.startswith("arxiv:"):
            rec.extra.append(("see_also", f"https://arxiv.org/abs/{value}"))
        elif tag.startswith("doi:") and value:
            rec.extra.append(("see_also", f"https://doi.org/{value}"))
        elif tag.startswith(("language:", "modality:", "task_ids:", "size_categories:")):
            key = {"language": "language", "modality": "modality"}.get(prefix, "keyword")
            rec.extra.append((key, value))
        elif tag.startswith("format:") and DATA_FORMATS.get(value):
            _relate(rec, "supportsFormat", DATA_FORMATS[value] or "")
        elif tag.startswith("library:") and value in LIBRARIES:
            _relate(rec, *LIBRARIES[value])
        elif not tag.startswith(_STRUCTURED):
            if tag in LIBRARIES:
                _relate(rec, *LIBRARIES[tag])
            rec.extra.append(("tag", tag))
    for library in _as_list(entry.get("library_name")) + _as_list(card.get("library_name")):
        relation, name = LIBRARIES.get(library, ("integratesWith", library))
        _relate(rec, relation, name)
    task = entry.get("pipeline_tag") or card.get("pipeline_tag")
    if task:
        rec.extra.append(("pipeline_tag", str(task)))


def _relate(rec: EntityRecord, relation: str, target: str) -> None:
    targets = rec.relations.setdefault(relation, [])
    if target and target not in targets:
        targets.append(target)


def _lineage(rec: EntityRecord, card: dict[str, Any], tags: list[str]) -> None:
    for name in _as_list(card.get("datasets")) + [t.split(":", 1)[1] for t in tags if t.startswith("dataset:")]:
        _relate(rec, "trainedOn", name)
    bases = _as_list(card.get("base_model"))
    bases += [t.rsplit(":", 1)[1] for t in tags if t.startswith("base_model:")]
    for name in bases:
        if name != rec.name:
            _relate(rec, "derivedFrom", name)
    for name in _as_list(card.get("new_version")):
        if name != rec.name:
            _relate(rec, "supersededBy", name)


def _drop_base_aliases(rec: EntityRecord) -> None:
    """Drop aliases that name a base model: a quantised repo's ``model_name`` is its original's name."""
    from .linking import normalise_name

    bases = {normalise_name(b.rsplit("/", 1)[-1]) for b in rec.relations.get("derivedFrom", [])}
    rec.aliases = [a for a in rec.aliases if normalise_name(a.rsplit("/", 1)[-1]) not in bases]


def _capabilities(rec: EntityRecord, entry: dict[str, Any], card: dict[str, Any], tags: list[str], kind: str,
                  loc: Location) -> None:
    tasks = _as_list(entry.get("pipeline_tag") or card.get("pipeline_tag"))
    tasks += [t.split(":", 1)[1] for t in tags if t.startswith("task_categories:")]
    tasks += _as_list(card.get("task_categories"))
    tasks += [t for t in tags if t in PIPELINE_CONCEPTS]
    seen: set[str] = set()
    for task in dict.fromkeys(tasks):
        concepts = PIPELINE_CONCEPTS.get(task, [])
        key = ",".join(concepts) or task
        if key in seen:
            continue
        seen.add(key)
        words = task.replace("-", " ")
        text = (f"Serves the Hugging Face '{task}' task ({words})." if kind == "model"
                else f"Data for the '{task}' task ({words}).")
        rec.capabilities.append(CapabilityRecord(title=words.capitalize(), description=text, concepts=concepts,
                                                 location=loc))
    for modality in [t.split(":", 1)[1] for t in tags if t.startswith("modality:")]:
        concept = _MODALITY_CONCEPT.get(modality)
        rec.capabilities.append(CapabilityRecord(
            title=f"{modality.capitalize()} data", description=f"Holds {modality} data (Hub modality tag).",
            concepts=[concept] if concept else [], location=loc))


# ---------------------------------------------------------------------------- live mode

def _info_dict(info: Any, kind: str) -> dict[str, Any]:
    """A ``huggingface_hub`` ModelInfo/DatasetInfo as the JSON the Hub API returns."""
    card = getattr(info, "card_data", None) or getattr(info, "cardData", None)
    if card is not None and hasattr(card, "to_dict"):
        card = card.to_dict()
    out: dict[str, Any] = {"id": info.id, "author": getattr(info, "author", None),
                           "downloads": getattr(info, "downloads", None), "likes": getattr(info, "likes", None),
                           "tags": list(getattr(info, "tags", None) or []), "cardData": card or None}
    for attr, key in (("created_at", "createdAt"), ("last_modified", "lastModified")):
        value = getattr(info, attr, None)
        if value is not None:
            out[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if kind == "model":
        out["pipeline_tag"] = getattr(info, "pipeline_tag", None)
        out["library_name"] = getattr(info, "library_name", None)
        st = getattr(info, "safetensors", None)
        if st is not None and getattr(st, "total", None):
            out["safetensors"] = {"total": st.total}
    else:
        for attr, key in (("description", "description"), ("citation", "citation"),
                          ("paperswithcode_id", "paperswithcode_id")):
            if getattr(info, attr, None):
                out[key] = getattr(info, attr)
    return {k: v for k, v in out.items() if v is not None}


def fetch_hub(kind: str = "model", *, search: str | None = None, author: str | None = None,
              limit: int = 50) -> dict[str, list[dict[str, Any]]]:  # pragma: no cover - needs the network
    """Ask the Hub for models or datasets (live mode; needs ``huggingface_hub`` and the network).

    Parameters
    ----------
    kind : {"model", "dataset"}
    search, author : str, optional
        Filters, as on the Hub's search page.
    limit : int
        At most this many entries, most downloaded first.

    Returns
    -------
    dict
        ``{"models": [...]}`` or ``{"datasets": [...]}`` in the shape of the Hub API answer.

    Examples
    --------
    >>> fetch_hub("model", author="sentence-transformers", limit=5)     # doctest: +SKIP
    """
    try:
        from huggingface_hub import HfApi
    except ImportError as exc:
        raise ConfigError("the live mode needs the huggingface_hub package",
                          hint="pip install 'matchgraph[hf]', or give a saved Hub JSON file") from exc
    api = HfApi()
    try:
        if kind == "dataset":
            infos = api.list_datasets(search=search, author=author, limit=limit, full=True, sort="downloads")
        else:
            infos = api.list_models(search=search, author=author, limit=limit, full=True, cardData=True,
                                    sort="downloads")
        entries = [_info_dict(i, kind) for i in infos]
    except Exception as exc:  # noqa: BLE001 - any transport or API error
        raise InputError(f"the Hugging Face Hub request failed: {exc}",
                         hint="check the network connection, or import a saved JSON file instead") from exc
    return {"datasets" if kind == "dataset" else "models": entries}
