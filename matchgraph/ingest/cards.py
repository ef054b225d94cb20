"""Entity cards: Markdown with YAML front matter, one ``##`` section per capability.

Hugging Face model and dataset card READMEs are cards too: their keys (``license``, ``datasets``,
``base_model``, ``library_name``, ``pipeline_tag``, ``tags``, ``language``, ``model-index``) are
understood, and their id comes from the heading or the folder name. See ``docs/formats.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import Location, ParseError, SchemaError
from ..records import CapabilityRecord, EntityRecord, ObservationRecord, ResultRecord, SourceRecords
from ..vocab import RELATIONS, is_slug, normalise_kind, slugify

__all__ = ["parse_card", "is_card", "split_front_matter", "parse_number"]

#: Front-matter keys of Hugging Face dataset cards (besides task_categories, size_categories, ...).
_HF_DATASET_KEYS = {"task_categories", "size_categories", "task_ids", "pretty_name", "dataset_info", "configs",
                    "annotations_creators", "language_creators", "multilinguality", "source_datasets",
                    "train-eval-index", "paperswithcode_id", "viewer"}
_HF_KEYS = {"license", "datasets", "base_model", "library_name", "pipeline_tag", "tags", "language",
            "model-index", "model_name", "license_name", "license_link", "license_details", "metrics_hf",
            "inference", "widget", "co2_eq_emissions", "thumbnail", "new_version", "base_model_relation",
            "model_creator", "model_type", "quantized_by", "prompt_template", "language_details",
            "extra_gated_prompt", "extra_gated_fields", "extra_gated_heading", "extra_gated_description",
            "extra_gated_button_content", "duplicated_from", *_HF_DATASET_KEYS}
_KNOWN = {"id", "name", "kind", "type", "aliases", "alias", "description", "pricing", "license", "url", "homepage",
          "metrics", "relations", "capabilities_declared", "declared_capabilities", "hub_id", "hf_id", "version",
          "released", "release_date", "citation", "creators", "publisher", "keywords", "concepts",
          *_HF_KEYS}
_RELATION_KEYS = {re.sub(r"[^a-z]", "", k.lower()): k for k in RELATIONS}
_UNIQUE = re.compile(r"^\s*(?:\*\*|__)?unique(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*", re.I)
_ALTERNATIVES = re.compile(r"^\s*(?:\*\*|__)?(?:vs\.?|versus)\s+alternatives?(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*", re.I)


#: libyaml's loader when PyYAML has it (ten times faster); it builds the same values as SafeLoader.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _fast_load(front: str) -> Any:
    """Load YAML with the fast loader; on an error, load again with SafeLoader for its clearer messages."""
    try:
        return yaml.load(front, Loader=_FAST_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return yaml.safe_load(front)


def is_card(text: str) -> bool:
    """Say whether a text starts with YAML front matter."""
    return text.lstrip("\ufeff").startswith("---")


def split_front_matter(text: str, path: str) -> tuple[str, str, int]:
    """Split a card into (front matter, body, line number where the body starts)."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        raise ParseError("no YAML front matter", location=Location(path, 1),
                         hint="start the file with a line '---', the YAML keys, then another '---'")
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1:]), i + 2
    raise ParseError("the YAML front matter is never closed", location=Location(path, 1),
                     hint="end the front matter with a line '---'")


def parse_number(value: Any) -> float:
    """Read a count as people write it: 1200, "1,200", "1.2k", "3M", "2.5B"."""
    if isinstance(value, bool):
        raise ValueError("a count cannot be true/false")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace(",", "").replace("_", "")
    m = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*([kKmMbB]?)\+?", text)
    if not m:
        raise ValueError(f"{value!r} is not a number")
    scale = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9}[m.group(2).lower()]
    return float(m.group(1)) * scale


def _key_lines(front: str, first_line: int) -> dict[str, int]:
    """Line of each top-level key and each nested key (``relations.trainedOn``)."""
    lines: dict[str, int] = {}
    try:
        node = yaml.compose(front, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return lines
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key_node, value_node in node.value:
        key = str(key_node.value)
        lines[key] = key_node.start_mark.line + first_line
        if isinstance(value_node, yaml.MappingNode):
            for sub_key, _ in value_node.value:
                lines[f"{key}.{sub_key.value}"] = sub_key.start_mark.line + first_line
    return lines


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return [str(value)] if str(value).strip() else []


def _load_yaml(front: str, path: str) -> dict[str, Any]:
    try:
        data = _fast_load(front) if front.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParseError(f"invalid YAML front matter: {problem}", location=Location(path, line),
                         hint="check the indentation and quote values that contain ':' or '#'") from exc
    if not isinstance(data, dict):
        raise ParseError("the front matter is not a mapping of keys to values", location=Location(path, 2),
                         hint="write one 'key: value' per line")
    return data


def _is_hf(data: dict[str, Any], path: str, *, hf: bool) -> bool:
    """Whether front matter is a Hugging Face card's: HF keys, nothing at all, or a README without id and kind."""
    if "kind" in data or "type" in data:
        return False
    return hf or not data or bool(_HF_KEYS & set(data)) or (
        "id" not in data and Path(path).stem.lower() == "readme")


def parse_card(text: str, path: str, *, hf: bool = False) -> SourceRecords:
    """Parse one entity card.

    Parameters
    ----------
    text : str
        The file's content.
    path : str
        Its path, for error locations.
    hf : bool
        Read it as a Hugging Face card (a README.md of a Hub repository), which may lack front matter.

    Returns
    -------
    SourceRecords
        One entity with its capabilities.

    Examples
    --------
    >>> rec = parse_card("# Tiny Model\\n\\nA tiny model.\\n", "tiny/README.md", hf=True).entities[0]
    >>> rec.name, rec.kind, rec.description
    ('Tiny Model', 'model', 'A tiny model.')
    """
    if hf and not is_card(text):
        front, body, body_line = "", text.lstrip("\ufeff"), 1
    else:
        front, body, body_line = split_front_matter(text, path)
    data = _load_yaml(front, path)
    lines = _key_lines(front, 2)
    loc = lambda key: Location(path, lines.get(key, 2))  # noqa: E731
    is_hf = _is_hf(data, path, hf=hf)
    rec = EntityRecord(id="", name="", location=Location(path, 1))
    rec.field_locations = {k: Location(path, v) for k, v in lines.items()}
    heading = _first_heading(body)
    if is_hf:
        _read_hf(data, rec, path, heading, loc)
    else:
        _read_identity(data, rec, path, loc)
    _read_common(data, rec, path, loc)
    rec.capabilities.extend(_sections(body, body_line, path, keep_prose=not is_hf))
    if is_hf and not rec.description:
        rec.description = _first_paragraph(body)
    return SourceRecords(path=path, format="hf-card" if is_hf else "card", entities=[rec])


def _read_identity(data: dict[str, Any], rec: EntityRecord, path: str, loc: Any) -> None:
    raw_id = data.get("id")
    if raw_id is None or not str(raw_id).strip():
        suggestion = slugify(str(data.get("name") or Path(path).stem))
        raise SchemaError("missing id", location=Location(path, 2),
                          hint=f"add a line 'id: {suggestion}' (a lowercase kebab-case slug)")
    rec.id = str(raw_id).strip()
    if not is_slug(rec.id):
        raise SchemaError(f"id {rec.id!r} is not a slug", location=loc("id"),
                          hint=f"use lowercase letters, digits and dashes, e.g. 'id: {slugify(rec.id)}'")
    rec.name = str(data.get("name") or rec.id).strip()
    kind = data.get("kind", data.get("type"))
    if kind is None:
        raise SchemaError(f"entity {rec.id!r} has no kind", location=Location(path, 2),
                          hint="add 'kind: model' (or dataset, tool, library, framework, benchmark, format, method)")
    if normalise_kind(str(kind)) is None:
        raise SchemaError(f"unknown kind {kind!r}", location=loc("kind" if "kind" in data else "type"),
                          hint="use one of: model, dataset, tool, library, framework, benchmark, format, method, "
                               "metric, service, paper")
    rec.kind = normalise_kind(str(kind))


def _read_hf(data: dict[str, Any], rec: EntityRecord, path: str, heading: str | None, loc: Any) -> None:
    """Identity of a Hugging Face card: its model name, heading or folder."""
    name = data.get("model_name") or data.get("pretty_name")
    index = data.get("model-index")
    if not name and isinstance(index, list) and index and isinstance(index[0], dict):
        name = index[0].get("name")
    p = Path(path)
    folder = p.parent.name if p.stem.lower() == "readme" else p.stem
    name = str(name or heading or folder).strip() or folder
    rec.name = name
    rec.id = str(data.get("id") or slugify(name))
    if not is_slug(rec.id):
        raise SchemaError(f"id {rec.id!r} is not a slug", location=loc("id"),
                          hint=f"use lowercase letters, digits and dashes, e.g. 'id: {slugify(rec.id)}'")
    is_dataset = bool(_HF_DATASET_KEYS & set(data)) and not {"model-index", "base_model", "pipeline_tag"} & set(data)
    rec.kind = "dataset" if is_dataset else "model"
    pipeline = next(iter(_as_list(data.get("pipeline_tag"))), None)
    if pipeline:
        rec.extra.append(("pipeline_tag", str(pipeline)))
        words = str(pipeline).replace("-", " ")
        rec.capabilities.append(CapabilityRecord(
            title=words.capitalize(), description=f"Serves the Hugging Face '{pipeline}' task ({words}).",
            location=loc("pipeline_tag")))
    for cat in _as_list(data.get("task_categories")):
        words = cat.replace("-", " ")
        rec.capabilities.append(CapabilityRecord(title=words.capitalize(),
                                                 description=f"Data for the '{cat}' task ({words}).",
                                                 location=loc("task_categories")))
    if data.get("datasets"):
        rec.relations.setdefault("trainedOn", []).extend(_as_list(data["datasets"]))
    if data.get("base_model"):
        rec.relations.setdefault("derivedFrom", []).extend(b for b in _as_list(data["base_model"]) if b != name)
    if data.get("new_version"):
        rec.relations.setdefault("supersededBy", []).extend(_as_list(data["new_version"]))
    if data.get("library_name"):
        rec.relations.setdefault("integratesWith", []).extend(_as_list(data["library_name"]))
    for tag in _as_list(data.get("tags")):
        rec.extra.append(("tag", tag))
    for lang in _languages(data.get("language")):
        rec.extra.append(("language", lang))
    if isinstance(index, list):
        rec.results.extend(_model_index(index, path, loc("model-index")))


def _languages(value: Any) -> list[str]:
    """Language codes of a card: a code, a list, or a mapping of codes to names.

    YAML 1.1 reads the Norwegian code ``no`` as false; it is read back as ``no``.

    Examples
    --------
    >>> _languages(["en", False, None]), _languages({"de": "German"}), _languages("fr")
    (['en', 'no'], ['de'], ['fr'])
    """
    values = list(value) if isinstance(value, (dict, list, tuple)) else [value]
    out = []
    for v in values:
        if v is False:
            out.append("no")
        elif v is not None and v is not True and str(v).strip():
            out.append(str(v).strip())
    return out


def _named(value: Any) -> dict[str, Any]:
    """A model-index ``task`` or ``dataset``: a mapping, or a bare name written as a string."""
    if isinstance(value, dict):
        return value
    return {"name": str(value)} if isinstance(value, (str, int, float)) and str(value).strip() else {}


def _model_index(index: list[Any], path: str, where: Location) -> list[ResultRecord]:
    """Benchmark results of a ``model-index``; entries, results and metrics of other shapes are passed over."""
    out: list[ResultRecord] = []
    for entry in index:
        results = entry.get("results") if isinstance(entry, dict) else None
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            ds, task = _named(result.get("dataset")), _named(result.get("task"))
            bench = ds.get("name") or ds.get("type") or task.get("name") or task.get("type")
            metrics = result.get("metrics")
            for metric in metrics if isinstance(metrics, list) else []:
                if not isinstance(metric, dict) or not bench or isinstance(metric.get("value"), bool):
                    continue
                try:
                    value = float(metric.get("value"))
                except (TypeError, ValueError):
                    continue
                name = metric.get("type") or metric.get("name")
                if value != value or value in (float("inf"), float("-inf")) or not name:
                    continue
                dataset = ds.get("type")
                out.append(ResultRecord(benchmark=str(bench), metric=str(name), value=value,
                                        dataset=str(dataset) if dataset else None, location=where))
    return out


def _read_common(data: dict[str, Any], rec: EntityRecord, path: str, loc: Any) -> None:
    rec.aliases = _as_list(data.get("aliases", data.get("alias")))
    if data.get("description") is not None:
        rec.description = str(data["description"]).strip()
    if data.get("pricing") is not None:
        rec.pricing = str(data["pricing"]).strip()
    lic = data.get("license")
    if lic is not None:
        licences = _as_list(lic)
        rec.license = licences[0] if licences else None
        if data.get("license_name") and rec.license == "other":
            rec.license = str(data["license_name"])
    url = data.get("url", data.get("homepage"))
    if url is not None:
        url = str(url).strip()
        if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", url):
            raise SchemaError(f"url {url!r} is not an http(s) URL", location=loc("url" if "url" in data else "homepage"),
                              hint="write the full address, e.g. https://example.org/")
        rec.url = url
    metrics = data.get("metrics")
    if isinstance(metrics, dict):
        for name, value in metrics.items():
            try:
                number = parse_number(value)
            except ValueError as exc:
                raise SchemaError(f"metric {name!r}: {exc}", location=loc(f"metrics.{name}"),
                                  hint="write a count such as 12000 or 1.2M") from exc
            if number < 0:
                raise SchemaError(f"metric {name!r} is negative", location=loc(f"metrics.{name}"),
                                  hint="usage counts are zero or more")
            rec.metrics[str(name)] = number
    elif metrics is not None and not isinstance(metrics, list):  # HF 'metrics' is a list of metric names
        raise SchemaError("metrics must be a mapping such as {downloads: 1200, stars: 40}", location=loc("metrics"))
    relations = data.get("relations")
    if relations is not None:
        if not isinstance(relations, dict):
            raise SchemaError("relations must be a mapping such as {derivedFrom: [roberta-base]}",
                              location=loc("relations"))
        for key, targets in relations.items():
            canonical = _RELATION_KEYS.get(re.sub(r"[^a-z]", "", str(key).lower()))
            if canonical is None:
                raise SchemaError(f"unknown relation {key!r}", location=loc(f"relations.{key}"),
                                  hint="use one of: " + ", ".join(RELATIONS))
            rec.relations.setdefault(canonical, []).extend(_as_list(targets))
    declared = data.get("capabilities_declared", data.get("declared_capabilities"))
    if declared is not None:
        try:
            rec.declared_capabilities = int(declared)
        except (TypeError, ValueError) as exc:
            key = "capabilities_declared" if "capabilities_declared" in data else "declared_capabilities"
            raise SchemaError(f"{key} must be a whole number", location=loc(key)) from exc
    for key in ("hub_id", "hf_id"):
        if data.get(key):
            rec.extra.append(("hub_id", str(data[key])))
    if data.get("version") is not None:
        rec.extra.append(("version", str(data["version"])))
    released = data.get("released", data.get("release_date"))
    if released is not None:
        rec.extra.append(("issued", released))
    if data.get("citation"):
        rec.extra.append(("citation", str(data["citation"])))
    for creator in _as_list(data.get("creators")):
        rec.extra.append(("creator", creator))
    if data.get("publisher"):
        rec.extra.append(("publisher", str(data["publisher"])))
    for kw in _as_list(data.get("keywords")):
        rec.extra.append(("keyword", kw))
    if "kind" in data or "type" in data:
        for tag in _as_list(data.get("tags")):
            rec.extra.append(("tag", tag))
    for key in data:
        if key not in _KNOWN:
            rec.observations.append(ObservationRecord(field=str(key), value=str(data[key]), location=loc(key)))


def _first_heading(body: str) -> str | None:
    """The text of the first ``#`` heading, without markup or a "Model Card for" lead.

    Examples
    --------
    >>> _first_heading('# Dataset Card for "squad-like"\\n')
    'squad-like'
    >>> _first_heading("# <img src='x.png'/> **[Tiny](https://x.org)** model\\n")
    'Tiny model'
    """
    m = re.search(r"^#\s+(.+?)\s*#*\s*$", body, re.M)
    if not m:
        return None
    text = re.sub(r"<[^>]*>", "", m.group(1))
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\*{1,3}|`+|(?<!\w)_{1,3}|_{1,3}(?!\w)", "", text)
    text = re.sub(r"^(model|dataset)\s+card\s+(for|of)\s+", "", text.strip(), flags=re.I)
    text = text.strip().strip("\"'“”‘’").strip()
    return text or None


def _first_paragraph(body: str) -> str | None:
    for block in re.split(r"\n\s*\n", body):
        text = block.strip()
        if text and not text.startswith(("#", "|", "```", "<", "!", "-", "*")):
            return re.sub(r"\s+", " ", text)[:1000]
    return None


def _sections(body: str, first_line: int, path: str, *, keep_prose: bool) -> list[CapabilityRecord]:
    """Split the body into ``##`` sections and read each as a capability."""
    caps: list[CapabilityRecord] = []
    current: tuple[str, int, list[tuple[int, str]]] | None = None
    sections: list[tuple[str, int, list[tuple[int, str]]]] = []
    in_code = False
    for offset, line in enumerate(body.splitlines()):
        number = first_line + offset
        if line.strip().startswith("```"):
            in_code = not in_code
        m = None if in_code else re.match(r"^##\s+(.+?)\s*#*\s*$", line)
        if m and not line.startswith("###"):
            current = (m.group(1).strip(), number, [])
            sections.append(current)
        elif current is not None:
            current[2].append((number, line))
    for title, line, content in sections:
        cap = _capability(title, line, content, path)
        if cap is not None and (keep_prose or cap.unique or cap.alternatives):
            caps.append(cap)
    return caps


def _capability(title: str, line: int, content: list[tuple[int, str]], path: str) -> CapabilityRecord | None:
    paragraphs: list[tuple[int, str]] = []
    buf: list[str] = []
    start = line
    in_code = False
    for number, text in content + [(line + len(content) + 1, "")]:
        if text.strip().startswith(("```", "~~~")):
            in_code = not in_code
            text = ""
        elif in_code:
            continue
        heading = re.match(r"^#{3,}\s+(.+?)\s*#*\s*$", text)
        if heading:
            text = heading.group(1).rstrip(":.") + ":"
        if text.strip():
            if not buf:
                start = number
            buf.append(text.strip())
        elif buf:
            paragraphs.append((start, " ".join(buf)))
            buf = []
    cap = CapabilityRecord(description="", title=title, location=Location(path, line))
    described: list[str] = []
    target = "description"
    for number, para in paragraphs:
        if _UNIQUE.match(para):
            cap.unique = _UNIQUE.sub("", para).strip()
            cap.unique_location = Location(path, number)
            target = "unique"
        elif _ALTERNATIVES.match(para):
            cap.alternatives = _ALTERNATIVES.sub("", para).strip()
            cap.alternatives_location = Location(path, number)
            target = "alternatives"
        elif target == "description":
            described.append(para)
        elif target == "unique":
            cap.unique = f"{cap.unique} {para}"
        else:
            cap.alternatives = f"{cap.alternatives} {para}"
    cap.description = " ".join(described).strip()
    if not cap.description and not cap.unique and not cap.alternatives:
        return None
    if not cap.description:
        cap.description = cap.unique or cap.alternatives or title
    return cap
