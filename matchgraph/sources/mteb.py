"""MTEB model and task catalog (``models.jsonl``, ``tasks.jsonl``) -> models, datasets, benchmarks.

The MTEB package registers embedding models (``ModelMeta``) and benchmark tasks
(``TaskMetadata``); a folder holding both as JSON Lines (and optionally the README that says
where they come from) is imported as:

- each model -> a Model entity (hub id = its name) with capabilities derived from its fields
  (embeddings, retrieval, multilingual, long context, instructions, modalities, compact size,
  open training recipe), ``training_datasets`` -> trainedOn (a task name stands for the task's
  dataset), ``adapted_from`` -> derivedFrom, ``framework`` -> integratesWith / supportsFormat,
  ``superseded_by`` -> supersededBy, licence, parameter count, languages, release date;
- each distinct ``dataset_path`` -> a Dataset (several tasks share one);
- each task -> a Benchmark, evaluatedOn its dataset and subsetOf MTEB itself.

A jsonl file is one source (one named graph); every record's location is its line.

>>> from pathlib import Path
>>> read = parse_mteb(Path("tests/data/mteb"))          # doctest: +SKIP
>>> len(read.sources)                                    # doctest: +SKIP
2
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..env import lower_scheme
from ..errors import InputError, Location, ParseError, SchemaError
from .records import CapabilityRecord, EntityRecord, SourceRecords
from .safe_load import (bounded_number, check_json_depth, loads_unique, missing_path_error, check_records, read_text,
                        unreadable_number)
from ..vocab import entity_iri, slugify
from .merge import CrossLinker

__all__ = ["MtebRead", "parse_mteb", "read_jsonl", "resolve_training_sets", "FRAMEWORKS", "FORMAT_FRAMEWORKS"]

#: MTEB framework names that are file formats (supportsFormat); the others are integrations.
FORMAT_FRAMEWORKS = {"safetensors": "SafeTensors", "ONNX": "ONNX", "GGUF": "GGUF"}
#: MTEB framework names -> the entity name they link to (None: not an entity, kept as a tag).
FRAMEWORKS: dict[str, str | None] = {
    "PyTorch": "PyTorch", "Sentence Transformers": "Sentence Transformers", "Transformers": "transformers",
    "TensorFlow": "TensorFlow", "NumPy": "NumPy", "OpenVINO": "OpenVINO", "ColBERT": "ColBERT",
    "ColPali": "ColPali", "PyLate": "PyLate", "GritLM": "GritLM", "LLM2Vec": "LLM2Vec", "Tevatron": "Tevatron",
    "API": None,
}
#: Task type -> capability concepts of the scheme.
TYPE_CONCEPTS: dict[str, list[str]] = {
    "Retrieval": ["retrieval"], "Any2AnyRetrieval": ["retrieval", "vision-language"],
    "Any2AnyMultilingualRetrieval": ["retrieval", "multilingual-models"],
    "InstructionRetrieval": ["retrieval", "prompting"], "Reranking": ["reranking"],
    "Any2AnyReranking": ["reranking", "vision-language"], "InstructionReranking": ["reranking", "prompting"],
    "AudioReranking": ["reranking", "audio-data"], "Classification": ["text-classification"],
    "MultilabelClassification": ["text-classification"], "ZeroShotClassification": ["zero-shot"],
    "ImageClassification": ["image-classification"], "AudioClassification": ["audio-data"],
    "AudioMultilabelClassification": ["audio-data"], "AudioZeroshotClassification": ["zero-shot", "audio-data"],
    "VideoClassification": ["vision-language"], "VideoZeroshotClassification": ["zero-shot", "vision-language"],
    "Clustering": ["clustering"], "ImageClustering": ["clustering", "vision-language"],
    "AudioClustering": ["clustering", "audio-data"], "VideoClustering": ["clustering", "vision-language"],
    "STS": ["semantic-similarity"], "VisualSTS(eng)": ["semantic-similarity", "vision-language"],
    "VisualSTS(multi)": ["semantic-similarity", "vision-language"], "PairClassification": ["semantic-similarity"],
    "AudioPairClassification": ["semantic-similarity", "audio-data"],
    "VideoPairClassification": ["semantic-similarity", "vision-language"], "BitextMining": ["translation"],
    "Summarization": ["summarization"], "DocumentUnderstanding": ["vision-language", "retrieval"],
    "VideoCentricQA": ["question-answering", "vision-language"],
    "VisionCentricQA": ["question-answering", "vision-language"], "Compositionality": ["vision-language", "reasoning"],
    "Regression": ["evaluation-metric"],
}
_MODEL_MODALITY = {"image": ("Image inputs", "vision-language"), "audio": ("Audio inputs", "audio-data"),
                   "video": ("Video inputs", "vision-language")}
_DATA_MODALITY = {"image": "image-data", "video": "image-data", "audio": "audio-data"}
_NO_LICENCE = {"not specified", "unknown", "none", ""}
#: Fields whose mapping form holds the values (subset -> languages); other mappings give their keys.
_FLATTENED = {"eval_langs", "languages"}
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_HUB_ID = re.compile(r"^[\w.\-]+/[\w.\-]+$")
#: Models with at most this many parameters get a "compact" capability.
COMPACT_PARAMETERS = 150_000_000
#: Models accepting at least this many tokens get a "long context" capability.
LONG_CONTEXT_TOKENS = 8192
#: The largest value a number of a model record may take, and why (said in the message): a larger one
#: is a mistake in the file, and would be written out as a 31-digit count or overflow a float.
NUMBER_LIMITS: dict[str, tuple[int, str]] = {
    "n_parameters": (10 ** 15, "a quadrillion; the largest models have a few trillion"),
    "max_tokens": (10 ** 9, "a billion; the longest inputs models take are a few million tokens"),
    "embed_dim": (10 ** 7, "ten million; vectors over a whole vocabulary have a few hundred thousand dimensions"),
    "memory_usage_mb": (10 ** 9, "a petabyte; the largest models take a few terabytes"),
}
#: Numbers that may be infinite: no fixed limit.
_UNLIMITED = {"max_tokens"}


@dataclass
class MtebRead:
    """What :func:`parse_mteb` read: the sources to import and what it set aside."""

    sources: list[tuple[Path, SourceRecords]] = field(default_factory=list)
    order: list[EntityRecord] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    training: dict[str, list[EntityRecord]] = field(default_factory=dict)
    task_dataset: dict[str, str] = field(default_factory=dict)


def read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Read a JSON Lines file into (line number, object) pairs.

    Raises
    ------
    ParseError
        A line is not JSON or not an object; the message names the line.
    """
    text = read_text(path).lstrip("\ufeff")
    out = []
    # JSON Lines ends a record at "\n" only: U+2028 and the like may stand raw inside a string
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        check_json_depth(line, str(path), first_line=number)
        try:
            obj = loads_unique(line, str(path), first_line=number)
        except json.JSONDecodeError as exc:
            raise ParseError(f"not JSON: {exc.msg} (column {exc.colno})", location=Location(str(path), number),
                             hint="each line of a .jsonl file is one JSON object") from exc
        except ValueError as exc:
            raise unreadable_number("not JSON", exc, Location(str(path), number)) from exc
        if not isinstance(obj, dict):
            raise ParseError("the line is not a JSON object", location=Location(str(path), number),
                             hint="each line of a .jsonl file is one JSON object")
        out.append((number, obj))
    return out


def _task_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """A task record with ``dataset_path``/``dataset_revision``: TaskMetadata itself (``model_dump()``,
    ``model_dump_json()``) writes them as ``"dataset": {"path": ..., "revision": ...}``.

    Examples
    --------
    >>> _task_fields({"name": "T", "dataset": {"path": "mteb/t", "revision": "abc"}})["dataset_path"]
    'mteb/t'
    """
    dataset = obj.get("dataset")
    if "dataset_path" in obj or not isinstance(dataset, dict):
        return obj
    return {**obj, "dataset_path": dataset.get("path"), "dataset_revision": dataset.get("revision")}


class _Fields:
    """Typed access to one jsonl record, raising SchemaError at its line."""

    def __init__(self, obj: dict[str, Any], path: str, line: int) -> None:
        self.obj, self.loc = obj, Location(path, line)

    def text(self, key: str, *, required: bool = False, hint: str | None = None) -> str | None:
        value = self.obj.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise SchemaError(f"missing {key}", location=self.loc, hint=hint or f"every record needs a {key!r}")
            return None
        if not isinstance(value, str):
            raise SchemaError(f"{key} must be a string, found {type(value).__name__}", location=self.loc,
                              hint=f"write \"{key}\": \"...\" (one string, or null)")
        return value.strip()

    def strings(self, key: str) -> list[str]:
        """A list of strings: a string, a list (nulls passed over), or a mapping.

        A mapping is read as mteb writes them: names to splits (``training_datasets``) give their
        keys, subsets to languages (``eval_langs``) their values.
        """
        value = self.obj.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return [value] if value.strip() else []
        if isinstance(value, dict):
            items = list(value) if not all(isinstance(v, (list, str)) for v in value.values()) or \
                key not in _FLATTENED else [x for v in value.values() for x in (v if isinstance(v, list) else [v])]
            value = list(dict.fromkeys(items))
        if not isinstance(value, list) or not all(v is None or isinstance(v, str) for v in value):
            raise SchemaError(f"{key} must be a list of strings, found {value!r}"[:200], location=self.loc,
                              hint="write a list such as [\"eng-Latn\"] (or null)")
        return [v for v in value if v is not None and v.strip()]

    def number(self, key: str) -> float | None:
        """A number of zero or more, at most its bound in :data:`NUMBER_LIMITS` (or null).

        Only ``max_tokens`` may be infinite (``"inf"``, or ``Infinity`` as Python's json module
        writes ``float("inf")``): MTEB's way of saying an API model has no fixed input limit.
        """
        value = self.obj.get(key)
        if value is None:
            return None
        if key in _UNLIMITED and (value == "inf" or value == float("inf")):
            return float("inf")
        return self._checked(key, value, key)

    def dimensions(self, key: str) -> list[float]:
        """The embedding sizes: one number, or a list of them (the sizes a Matryoshka model can
        be cut to), each checked as :meth:`number` checks (nulls in the list passed over)."""
        value = self.obj.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return [self._checked(key, v, f"{key}[{i}]") for i, v in enumerate(value) if v is not None]
        return [self._checked(key, value, key)]

    def _checked(self, key: str, value: Any, where: str) -> float:
        """``value`` as a float when it is a finite number from 0 to the bound of ``key``; else a SchemaError
        naming ``where`` (the field, or the item of a list), the bound and why it is there."""
        limit, reason = NUMBER_LIMITS.get(key, (10 ** 15, "a quadrillion"))
        hint = f"write \"{key}\": a number from 0 to {limit:,}, or null" + (
            " (or \"inf\" for no limit)" if key in _UNLIMITED else "")
        return bounded_number(value, where, self.loc, limit=limit, reason=reason, hint=hint)

    def flag(self, key: str) -> bool | None:
        value = self.obj.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            raise SchemaError(f"{key} must be true or false, found {value!r}"[:200], location=self.loc,
                              hint=f"write \"{key}\": true or false (or null)")
        return value


def _url(value: str | None) -> str | None:
    value = lower_scheme(value) if value else value
    return value if value and _URL.match(value) else None


def _licence(value: str | None, rec: EntityRecord, read: MtebRead) -> None:
    if value is None:
        return
    if value.strip().lower() in _NO_LICENCE:
        read.skipped.append((str(rec.location), f"licence {value!r} is not a licence"))
        return
    rec.license = value.strip()


# ---------------------------------------------------------------------------- tasks and datasets

def _mteb_entity(directory: Path, tasks: int, datasets: int, models: int) -> EntityRecord:
    readme = directory / "README.md"
    version = None
    loc = Location(str(readme if readme.exists() else directory / "tasks.jsonl"), 1)
    if readme.exists():
        m = re.search(r"`mteb`\s+v?([0-9][\w.]*)", read_text(readme))
        version = m.group(1) if m else None
    rec = EntityRecord(
        id="mteb", name="MTEB", kind="benchmark", location=loc,
        aliases=["Massive Text Embedding Benchmark", "embeddings-benchmark/mteb"],
        url="https://github.com/embeddings-benchmark/mteb", license="Apache-2.0",
        description=f"A benchmark of embedding models: {tasks} tasks over {datasets} datasets, "
                    f"with {models} registered models" + (f" (mteb {version})." if version else "."))
    if version:
        rec.extra.append(("version", version))
    rec.capabilities.append(CapabilityRecord(
        title="Embedding benchmark suite",
        description=f"Evaluates embedding models on {tasks} tasks (retrieval, classification, clustering, "
                    "reranking, semantic similarity, bitext mining and multimodal tasks) with one harness.",
        concepts=["benchmark-suite", "evaluation-harness"], location=loc))
    return rec


def _dataset_record(path_id: str, tasks: list[tuple[int, _Fields]], source: str, read: MtebRead) -> EntityRecord:
    line, first = tasks[0]
    rec = EntityRecord(id=slugify(path_id), name=path_id, kind="dataset", location=Location(source, line))
    if _HUB_ID.match(path_id):
        rec.extra.append(("hub_id", path_id))
        rec.url = f"https://huggingface.co/datasets/{path_id}"
    names = [f.text("name") or "" for _, f in tasks]
    if len(tasks) == 1:
        rec.description = first.text("description")
    else:
        shown = ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")
        rec.description = f"Evaluation data on the Hugging Face Hub used by {len(tasks)} MTEB tasks: {shown}."
    licences = sorted({lic for _, f in tasks if (lic := f.text("license")) and lic.lower() not in _NO_LICENCE})
    if licences:
        rec.license = licences[0]
        rec.extra.extend(("note", f"also licensed as {other}") for other in licences[1:])
    languages = sorted({lang for _, f in tasks for lang in f.strings("eval_langs")})
    modalities = sorted({m for _, f in tasks for m in f.strings("modalities")})
    domains = sorted({d for _, f in tasks for d in f.strings("domains")})
    rec.extra.extend(("language", lang) for lang in languages)
    rec.extra.extend(("modality", m) for m in modalities)
    rec.extra.extend(("keyword", d) for d in domains)
    loc = Location(source, line)
    for modality in modalities:
        concept = _DATA_MODALITY.get(modality)
        if concept:
            rec.capabilities.append(CapabilityRecord(
                title=f"{modality.capitalize()} data", description=f"Holds {modality} examples for "
                f"{', '.join(sorted({f.text('type') or '' for _, f in tasks}))} evaluation.",
                concepts=[concept], location=loc))
    if len([x for x in languages if not x.startswith("zxx")]) > 1:
        rec.capabilities.append(CapabilityRecord(
            title="Multilingual data", description=f"Covers {len(languages)} languages: "
            f"{', '.join(languages[:12])}{' ...' if len(languages) > 12 else ''}.",
            concepts=["multilingual-data"], location=loc))
    annotations = sorted({a for _, f in tasks if (a := f.text("annotations_creators"))})
    creation = sorted({c for _, f in tasks if (c := f.text("sample_creation"))})
    if any(a in {"human-annotated", "expert-annotated"} for a in annotations):
        rec.capabilities.append(CapabilityRecord(
            title="Annotated examples", description=f"Labels made by people ({', '.join(annotations)}); "
            f"samples {', '.join(creation)}.", concepts=["labelled-data"], location=loc))
    if any("LM-generated" in a or "LM-generated" in c or "machine-translated" in c for a in annotations for c in creation):
        rec.capabilities.append(CapabilityRecord(
            title="Generated or translated samples", description=f"Samples {', '.join(creation)}; "
            f"annotations {', '.join(annotations)}.", concepts=["synthetic-data"], location=loc))
    specific = [d for d in domains if d not in {"Written", "Web", "Spoken", "Non-fiction", "Social"}]
    if specific:
        rec.capabilities.append(CapabilityRecord(
            title="Domain coverage", description=f"Text and data from the {', '.join(specific)} domain(s).",
            concepts=["domain-specific-data"], location=loc))
    return rec


def _task_record(f: _Fields, dataset: EntityRecord, mteb: EntityRecord, read: MtebRead) -> EntityRecord:
    name = f.text("name", required=True) or ""
    rec = EntityRecord(id=slugify(name), name=name, kind="benchmark", location=f.loc)
    rec.description = f.text("description")
    ref = f.text("reference")
    rec.url = _url(ref)
    if ref and rec.url is None:
        read.skipped.append((str(f.loc), f"reference {ref!r} is not an http(s) URL"))
    _licence(f.text("license"), rec, read)
    task_type = f.text("type") or "Task"
    category = f.text("category")
    rec.extra.append(("tag", task_type))
    if category:
        rec.extra.append(("tag", category))
    rec.extra.extend(("keyword", k) for k in dict.fromkeys([*f.strings("domains"), *f.strings("task_subtypes")]))
    rec.extra.extend(("modality", m) for m in f.strings("modalities"))
    bibtex = f.text("bibtex_citation")
    if bibtex:
        rec.extra.append(("citation", bibtex))
    rec.relations = {"evaluatedOn": [str(entity_iri(dataset.id))], "subsetOf": [str(entity_iri(mteb.id))]}
    splits = ", ".join(f.strings("eval_splits")) or "its"
    langs = f.strings("eval_langs")
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", task_type).replace("Any2 Any", "Any-to-any").lower()
    rec.capabilities.append(CapabilityRecord(
        title=f"{words.capitalize()} evaluation",
        description=f"Scores embeddings by {f.text('main_score') or 'its main score'} on the {splits} split(s) "
                    f"in {len(langs)} language(s)" + (f" ({', '.join(langs[:6])})" if langs else "") + ".",
        concepts=TYPE_CONCEPTS.get(task_type, ["evaluation-metric"]), location=f.loc))
    return rec


# ---------------------------------------------------------------------------- models

def _number_words(n: float) -> str:
    if n >= 1e9:
        return f"{n / 1e9:.1f}B"
    if n >= 1e6:
        return f"{n / 1e6:.0f}M"
    return f"{n:,.0f}"


def _whole(value: Any) -> str:
    """A number as written for people: ``384.0`` -> ``384``."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _model_capabilities(f: _Fields, rec: EntityRecord) -> None:
    loc = f.loc
    modalities = f.strings("modalities") or ["text"]
    dims = f.dimensions("embed_dim")
    dim_text = f"{'/'.join(_whole(d) for d in dims)}-dimensional" if dims else "dense"
    sim = f.text("similarity_fn_name")
    multi_vector = sim == "MaxSim"
    what = " and ".join(modalities)
    rec.capabilities.append(CapabilityRecord(
        title="Embeddings for semantic search" if modalities == ["text"] else "Multimodal embeddings for search",
        description=(f"Encodes {what} into {'multi-vector (late interaction) ' if multi_vector else ''}"
                     f"{dim_text} embeddings" + (f" compared by {sim} similarity" if sim else "")
                     + ", to rank documents for a query, cluster texts or score their similarity (the MTEB tasks)."),
        concepts=["text-embeddings", "retrieval", "semantic-similarity",
                  *(["vision-language"] if set(modalities) & {"image", "video"} else [])],
        location=loc))
    languages = f.strings("languages")
    if len(languages) > 1:
        rec.capabilities.append(CapabilityRecord(
            title="Multilingual", description=f"Supports {len(languages)} languages: "
            f"{', '.join(languages[:12])}{' ...' if len(languages) > 12 else ''}.",
            concepts=["multilingual-models"], location=loc))
    tokens = f.number("max_tokens")
    if tokens is not None and tokens >= LONG_CONTEXT_TOKENS:
        rec.capabilities.append(CapabilityRecord(
            title="Long context", description="Embeds long inputs: " + (
                "no fixed limit on input length." if tokens == float("inf") else f"up to {tokens:,.0f} tokens."),
            concepts=["long-context"], location=loc))
    if f.flag("use_instructions"):
        rec.capabilities.append(CapabilityRecord(
            title="Instruction-aware embeddings",
            description="Takes a task instruction or prompt with the input, so one model adapts its embeddings "
                        "to retrieval, classification or clustering.", concepts=["prompting"], location=loc))
    for modality in modalities:
        if modality in _MODEL_MODALITY:
            title, concept = _MODEL_MODALITY[modality]
            rec.capabilities.append(CapabilityRecord(
                title=title, description=f"Accepts {modality} as input, in the same vector space as "
                f"{', '.join(m for m in modalities if m != modality) or 'other inputs'}.",
                concepts=[concept], location=loc))
    params, memory = f.number("n_parameters"), f.number("memory_usage_mb")
    if params is not None and 0 < params <= COMPACT_PARAMETERS:
        rec.capabilities.append(CapabilityRecord(
            title="Compact model", description=f"Small enough for CPU inference: {_number_words(params)} parameters"
            + (f", {memory:,.0f} MB of weights." if memory else "."), concepts=["cpu-edge-inference"], location=loc))
    code, data = f.obj.get("public_training_code"), f.obj.get("public_training_data")
    if isinstance(code, str) or isinstance(data, str) or data is True:
        parts = ([f"training code at {code}"] if isinstance(code, str) else []) + (
            [f"training data at {data}"] if isinstance(data, str) else ["public training data"] if data is True else [])
        rec.capabilities.append(CapabilityRecord(
            title="Open training recipe", description=f"Publishes its {' and '.join(parts)}.",
            concepts=["provenance-documentation"], location=loc))


def _model_record(f: _Fields, models: dict[str, EntityRecord], task_dataset: dict[str, str],
                  read: MtebRead) -> EntityRecord:
    name = f.text("name", required=True) or ""
    rec = models[name]
    params, tokens, dims = f.number("n_parameters"), f.number("max_tokens"), f.dimensions("embed_dim")
    release, languages = f.text("release_date"), f.strings("languages")
    one_size = bool(dims) and not isinstance(f.obj.get("embed_dim"), list)
    facts = [f"{_number_words(params)} parameters" if params else None,
             f"{_whole(dims[0])}-dimensional embeddings" if one_size else None,
             ("unlimited input length" if tokens == float("inf") else f"up to {tokens:,.0f} input tokens")
             if tokens else None,
             f"{len(languages)} language(s)" if languages else None, f"released {release}" if release else None]
    rec.description = "Embedding model registered in MTEB: " + ", ".join(x for x in facts if x) + "."
    ref = f.text("reference")
    rec.url = _url(ref) or (f"https://huggingface.co/{name}" if _HUB_ID.match(name) and f.flag("open_weights") else None)
    _licence(f.text("license"), rec, read)
    if _HUB_ID.match(name):
        rec.extra.append(("hub_id", name))
    if params:
        rec.extra.append(("parameters", int(params)))
    if release:
        rec.extra.append(("issued", release))
    if f.text("revision"):
        rec.extra.append(("version", f.text("revision")))
    rec.extra.extend(("language", lang) for lang in languages)
    rec.extra.extend(("modality", m) for m in f.strings("modalities"))
    if f.flag("open_weights") is False:
        rec.extra.append(("tag", "closed weights"))
    _model_relations(f, rec, models, task_dataset, read)
    _model_capabilities(f, rec)
    return rec


def _target(name: str, models: dict[str, EntityRecord]) -> str:
    """A model named by another record: the IRI of its record, else the name (linked later)."""
    return str(entity_iri(models[name].id)) if name in models else name


def _model_relations(f: _Fields, rec: EntityRecord, models: dict[str, EntityRecord],
                     task_dataset: dict[str, str], read: MtebRead) -> None:
    rel: dict[str, list[str]] = {"evaluatedOn": [str(entity_iri("mteb"))]}
    adapted, newer = f.text("adapted_from"), f.text("superseded_by")
    if adapted and adapted != f.text("name"):
        rel["derivedFrom"] = [_target(adapted, models)]
    if newer and newer != f.text("name"):
        rel["supersededBy"] = [_target(newer, models)]
    for fw in f.strings("framework"):
        if fw in FORMAT_FRAMEWORKS:
            rel.setdefault("supportsFormat", []).append(FORMAT_FRAMEWORKS[fw])
        elif FRAMEWORKS.get(fw, fw) is None:
            rec.extra.append(("tag", f"{fw} access"))
        else:
            rel.setdefault("integratesWith", []).append(FRAMEWORKS.get(fw) or fw)
    trained: list[str] = []
    for name in f.strings("training_datasets"):
        if len(name.strip()) < 2:
            read.skipped.append((str(f.loc), f"training set {name!r} is not a dataset name"))
            continue
        read.training.setdefault(name, []).append(rec)
        target = str(entity_iri(task_dataset[name])) if name in task_dataset else name
        if target not in trained:
            trained.append(target)
    if trained:
        rel["trainedOn"] = trained
    rec.relations = rel


# ---------------------------------------------------------------------------- the folder

class _Claimer:
    """Gives every record of the import its own provisional slug (``x``, ``x-2``, ...), so that
    relations written before linking point at exactly one record."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def __call__(self, rec: EntityRecord) -> EntityRecord:
        base, n = rec.id, 1
        while rec.id in self.taken:
            n += 1
            rec.id = f"{base}-{n}"
        self.taken.add(rec.id)
        return rec


def parse_mteb(directory: Path) -> MtebRead:
    """Read an MTEB folder (``models.jsonl``, ``tasks.jsonl``, optional ``README.md``).

    Parameters
    ----------
    directory : Path
        The folder. Either jsonl file may be missing, not both.

    Returns
    -------
    MtebRead
        The two sources (tasks first), the order records are linked in (MTEB, datasets,
        benchmarks, models) and the training-set names with the models that name them.

    Raises
    ------
    InputError
        The folder holds neither file, or a record is malformed (the message names file and line).
    """
    directory = Path(directory)
    if not directory.is_dir():
        if directory.is_file():
            raise InputError("a file, not a folder", location=Location(str(directory)),
                             hint=f"give the folder that holds models.jsonl and tasks.jsonl: matchgraph import mteb "
                                  f"{directory.parent}")
        raise missing_path_error(directory, "give the folder holding models.jsonl and tasks.jsonl, e.g. matchgraph "
                                            "import mteb examples/mteb", what="no such folder")
    tasks_path, models_path = directory / "tasks.jsonl", directory / "models.jsonl"
    for link in (tasks_path, models_path):
        if link.is_symlink() and not link.exists():
            raise InputError("the file is a symbolic link to nothing (broken, or a loop)", location=Location(str(link)),
                             hint="point the link at the file, or remove it")
    if not tasks_path.exists() and not models_path.exists():
        raise InputError("neither models.jsonl nor tasks.jsonl is here", location=Location(str(directory)),
                         hint="an MTEB folder holds models.jsonl and/or tasks.jsonl")
    read = MtebRead()
    task_rows = [(n, _Fields(_task_fields(o), str(tasks_path), n)) for n, o in read_jsonl(tasks_path)] \
        if tasks_path.exists() else []
    model_rows = [(n, _Fields(o, str(models_path), n)) for n, o in read_jsonl(models_path)] \
        if models_path.exists() else []
    by_dataset: dict[str, list[tuple[int, _Fields]]] = {}
    for line, f in task_rows:
        f.text("name", required=True)
        by_dataset.setdefault(f.text("dataset_path", required=True, hint="every task needs a 'dataset_path' (or "
                                     "'dataset': {'path': ..., 'revision': ...}, as TaskMetadata writes it)") or "",
                              []).append((line, f))
    claim = _Claimer()
    mteb = claim(_mteb_entity(directory, len(task_rows), len(by_dataset), len(model_rows)))
    datasets = {p: claim(_dataset_record(p, rows, str(tasks_path), read)) for p, rows in sorted(by_dataset.items())}
    tasks: list[EntityRecord] = []
    for _, f in task_rows:
        dataset = datasets[f.text("dataset_path") or ""]
        tasks.append(claim(_task_record(f, dataset, mteb, read)))
        read.task_dataset[f.text("name") or ""] = dataset.id
    if task_rows:
        read.sources.append((tasks_path, check_records(SourceRecords(
            path=str(tasks_path), format="mteb-tasks", entities=[mteb, *datasets.values(), *tasks], title="MTEB tasks"))))
    models: dict[str, EntityRecord] = {}
    for line, f in model_rows:
        name = f.text("name", required=True) or ""
        if name in models:
            read.skipped.append((str(f.loc), f"model {name!r} is defined again (first definition kept)"))
            continue
        models[name] = claim(EntityRecord(id=slugify(name), name=name, kind="model", location=f.loc))
    model_records = [_model_record(f, models, read.task_dataset, read) for _, f in model_rows
                     if models.get(f.text("name") or "") is not None and models[f.text("name") or ""].location == f.loc]
    if model_rows:
        entities = model_records if task_rows else [mteb, *model_records]
        read.sources.append((models_path, check_records(SourceRecords(
            path=str(models_path), format="mteb-models", entities=entities, title="MTEB models"))))
    read.order = [mteb, *datasets.values(), *tasks, *model_records]
    return read


def resolve_training_sets(read: MtebRead, linker: CrossLinker) -> dict[str, Any]:
    """Point training-set names at dataset entities and count how many resolved.

    A name that is an MTEB task stands for the task's dataset; other names are looked up among the
    catalog's entities (and this import's). Runs after every record is placed and the linker has
    finished (so the slugs it writes are final).

    Returns
    -------
    dict
        ``names`` (distinct names), ``to_datasets`` (resolved to a Dataset entity), ``via_task``,
        ``via_catalog``, ``to_other`` (resolved to an entity of another kind), ``stubs`` (unknown),
        and ``unresolved`` (a sample of the unknown names).
    """
    counts = {"names": len(read.training), "to_datasets": 0, "via_task": 0, "via_catalog": 0, "to_other": 0,
              "stubs": 0}
    unresolved: list[str] = []
    for name, recs in sorted(read.training.items()):
        if name in read.task_dataset:
            counts["to_datasets"] += 1
            counts["via_task"] += 1
            continue
        hits = [h for h in linker.resolve(name) if h not in {r.id for r in recs}]
        datasets = [h for h in hits if linker.kind_of(h) == "dataset" and not linker.is_stub(h)]
        if datasets:
            counts["to_datasets"] += 1
            counts["via_catalog"] += 1
            target = str(entity_iri(datasets[0]))
            for rec in recs:
                rec.relations["trainedOn"] = list(dict.fromkeys(
                    target if t == name else t for t in rec.relations.get("trainedOn", [])))
        elif any(not linker.is_stub(h) for h in hits):
            counts["to_other"] += 1
        else:
            counts["stubs"] += 1
            unresolved.append(name)
    counts["unresolved"] = unresolved[:25]
    return counts
