"""Entity cards: Markdown with YAML front matter, one ``##`` section per capability.

Hugging Face model and dataset card READMEs are cards too: their keys (``license``, ``datasets``,
``base_model``, ``library_name``, ``pipeline_tag``, ``tags``, ``language``, ``model-index``) are
understood, and their id comes from the heading or the folder name. See ``docs/formats.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..env import lower_scheme
from ..errors import Location, ParseError, SchemaError
from .records import CapabilityRecord, EntityRecord, ObservationRecord, ResultRecord, SourceRecords
from .safe_load import check_records, load_yaml, text_list, type_error
from ..vocab import RELATIONS, is_slug, normalise_kind, slugify

__all__ = ["parse_card", "is_card", "split_front_matter", "parse_number", "texts"]

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


def _blank_lead(text: str) -> int:
    """How many blank lines come before the first line of a text (the Hub's card reader skips them)."""
    lines = text.lstrip("\ufeff").splitlines()
    return next((i for i, line in enumerate(lines) if line.strip()), len(lines))


def is_card(text: str) -> bool:
    """Say whether a text starts with YAML front matter (blank lines before it are allowed, as on the Hub).

    Examples
    --------
    >>> is_card("---\\nlicense: mit\\n---\\n"), is_card("\\n\\n---\\nlicense: mit\\n---\\n"), is_card("# Title\\n")
    (True, True, False)
    """
    text = text.lstrip("\ufeff")
    return text.startswith("---") or text.lstrip(" \t\r\n").startswith("---") and _blank_lead(text) > 0


def split_front_matter(text: str, path: str) -> tuple[str, str, int]:
    """Split a card into (front matter, body, line number where the body starts).

    Blank lines before the opening ``---`` are skipped; the front matter then starts on line
    ``_blank_lead(text) + 2``.
    """
    lines = text.lstrip("\ufeff").splitlines()
    lead = _blank_lead(text)
    if lead >= len(lines) or lines[lead].strip() != "---":
        raise ParseError("no YAML front matter", location=Location(path, 1),
                         hint="start the file with a line '---', the YAML keys, then another '---'")
    for i in range(lead + 1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[lead + 1:i]), "\n".join(lines[i + 1:]), i + 2
    raise ParseError("the YAML front matter is never closed", location=Location(path, lead + 1),
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


def _key_lines(node: Any, first_line: int) -> dict[str, int]:
    """Line of each top-level key and each nested key (``relations.trainedOn``) of composed front matter."""
    import yaml

    lines: dict[str, int] = {}
    if not isinstance(node, yaml.MappingNode):
        return lines
    for key_node, value_node in node.value:
        key = str(key_node.value)
        lines[key] = key_node.start_mark.line + first_line
        if isinstance(value_node, yaml.MappingNode):
            for sub_key, _ in value_node.value:
                lines[f"{key}.{sub_key.value}"] = sub_key.start_mark.line + first_line
        elif isinstance(value_node, yaml.SequenceNode):
            for i, item in enumerate(value_node.value):
                lines[f"{key}[{i}]"] = item.start_mark.line + first_line
    return lines


def _as_list(value: Any) -> list[str]:
    """Labels as a list, leniently (Hugging Face Hub JSON, where a structure is passed over by the caller)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return [str(value)] if str(value).strip() else []


_TEXT_HINTS = {
    "name": "write one name, e.g. 'name: Tiny Model'; put other names under 'aliases: [...]'",
    "description": "write the description as text; for several lines use a block: 'description: |'",
    "id": "write one slug, e.g. 'id: tiny-model' (quote it if it looks like a number: id: \"2024\")",
}


def text(data: dict[str, Any], key: str, loc: Any, *, numbers: bool = True, dates: bool = False) -> str | None:
    """One text value of front matter: a string or a number (or a date where dates are allowed), else an error.

    A list, mapping or true/false where one text belongs is refused at its line, never turned into
    text (``name: [a, b]`` would otherwise become the name "['a', 'b']").

    Examples
    --------
    >>> text({"name": 1984}, "name", lambda k: None)
    '1984'
    """
    import datetime as dt

    value = data.get(key)
    if value is None or isinstance(value, str):
        return value
    if numbers and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if dates and isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise type_error(key, value, loc(key), expected="one text value",
                     hint=_TEXT_HINTS.get(key, f"write '{key}: <text>' (quote the text if YAML would read it as "
                                                "a number, date, true/false or list)"))


def texts(data: dict[str, Any], key: str, loc: Any) -> list[str]:
    """Labels of front matter (aliases, tags, relation targets): one text or a list of texts.

    Numbers in a list are labels too (``tags: [2023]``); a mapping or a nested list is an error
    at its line. Empty and null items are passed over.

    Examples
    --------
    >>> texts({"tags": ["a", 2, None]}, "tags", lambda k: None)
    ['a', '2']
    """
    value = data.get(key)
    return text_list(value, key, lambda spot: loc(spot) if isinstance(value, list) else loc(key),
                     f"write '{key}: [first, second]' with one text per item")


def _load_yaml(front: str, path: str, first_line: int = 2) -> tuple[dict[str, Any], Any]:
    data, node = load_yaml(front, path, first_line=first_line, what="YAML front matter") if front.strip() \
        else ({}, None)
    if not isinstance(data, dict):
        raise ParseError("the front matter is not a mapping of keys to values", location=Location(path, first_line),
                         hint="write one 'key: value' per line")
    return data, node


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
    first = 2
    if hf and not is_card(text):
        front, body, body_line = "", text.lstrip("\ufeff"), 1
    else:
        front, body, body_line = split_front_matter(text, path)
        first = _blank_lead(text) + 2
    data, node = _load_yaml(front, path, first)
    lines = _key_lines(node, first)
    loc = lambda key: Location(path, lines.get(str(key), lines.get(re.split(r"[\[.]", str(key))[0], first)))  # noqa: E731
    is_hf = _is_hf(data, path, hf=hf)
    rec = EntityRecord(id="", name="", location=Location(path, 1))
    rec.field_locations = {k: Location(path, v) for k, v in lines.items()}
    heading = _first_heading(body)
    if is_hf:
        _read_hf(data, rec, path, heading, loc)
    else:
        _read_identity(data, rec, path, loc)
    _read_common(data, rec, path, loc, is_hf=is_hf)
    rec.capabilities.extend(_sections(body, body_line, path, keep_prose=not is_hf))
    if is_hf and not rec.description:
        rec.description = _first_paragraph(body)
    return check_records(SourceRecords(path=path, format="hf-card" if is_hf else "card", entities=[rec]))


def _read_identity(data: dict[str, Any], rec: EntityRecord, path: str, loc: Any) -> None:
    raw_id = text(data, "id", loc)
    if raw_id is None or not raw_id.strip():
        suggestion = slugify(text(data, "name", loc) or Path(path).stem)
        raise SchemaError("missing id", location=loc("id"),
                          hint=f"add a line 'id: {suggestion}' (a lowercase kebab-case slug)")
    rec.id = raw_id.strip()
    if not is_slug(rec.id):
        raise SchemaError(f"id {rec.id!r} is not a slug", location=loc("id"),
                          hint=f"use lowercase letters, digits and dashes, e.g. 'id: {slugify(rec.id)}'")
    rec.name = (text(data, "name", loc) or rec.id).strip()
    kind = text(data, "kind" if "kind" in data else "type", loc)
    if kind is None:
        raise SchemaError(f"entity {rec.id!r} has no kind", location=loc("kind"),
                          hint="add 'kind: model' (or dataset, tool, library, framework, benchmark, format, method)")
    if normalise_kind(str(kind)) is None:
        raise SchemaError(f"unknown kind {kind!r}", location=loc("kind" if "kind" in data else "type"),
                          hint="use one of: model, dataset, tool, library, framework, benchmark, format, method, "
                               "metric, service, paper")
    rec.kind = normalise_kind(str(kind))


def _read_hf(data: dict[str, Any], rec: EntityRecord, path: str, heading: str | None, loc: Any) -> None:
    """Identity of a Hugging Face card: its model name, heading or folder."""
    name = text(data, "model_name", loc) or text(data, "pretty_name", loc)
    index = data.get("model-index")
    if not name and isinstance(index, list) and index and isinstance(index[0], dict):
        name = index[0].get("name")
    p = Path(path)
    folder = p.parent.name if p.stem.lower() == "readme" else p.stem
    name = str(name or heading or folder).strip() or folder
    rec.name = name
    rec.id = (text(data, "id", loc) or "").strip() or slugify(name)
    if not is_slug(rec.id):
        raise SchemaError(f"id {rec.id!r} is not a slug", location=loc("id"),
                          hint=f"use lowercase letters, digits and dashes, e.g. 'id: {slugify(rec.id)}'")
    is_dataset = bool(_HF_DATASET_KEYS & set(data)) and not {"model-index", "base_model", "pipeline_tag"} & set(data)
    rec.kind = "dataset" if is_dataset else "model"
    pipeline = next(iter(texts(data, "pipeline_tag", loc)), None)
    if pipeline:
        rec.extra.append(("pipeline_tag", str(pipeline)))
        words = str(pipeline).replace("-", " ")
        rec.capabilities.append(CapabilityRecord(
            title=words.capitalize(), description=f"Serves the Hugging Face '{pipeline}' task ({words}).",
            location=loc("pipeline_tag")))
    for cat in texts(data, "task_categories", loc):
        words = cat.replace("-", " ")
        rec.capabilities.append(CapabilityRecord(title=words.capitalize(),
                                                 description=f"Data for the '{cat}' task ({words}).",
                                                 location=loc("task_categories")))
    if data.get("datasets"):
        rec.relations.setdefault("trainedOn", []).extend(texts(data, "datasets", loc))
    if data.get("base_model"):
        rec.relations.setdefault("derivedFrom", []).extend(b for b in texts(data, "base_model", loc) if b != name)
    if data.get("new_version"):
        rec.relations.setdefault("supersededBy", []).extend(texts(data, "new_version", loc))
    if data.get("library_name"):
        rec.relations.setdefault("integratesWith", []).extend(texts(data, "library_name", loc))
    for tag in texts(data, "tags", loc):
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
    """Benchmark results of a ``model-index``; entries, results and metrics of other shapes are passed over.

    A result names its benchmark by its ``dataset``; one without a dataset is passed over too, as the
    Hub passes it over (its task, ``image-classification``, is a kind of task, not a benchmark).

    Examples
    --------
    >>> index = [{"results": [{"task": {"type": "image-classification"}, "metrics": [{"type": "acc", "value": 0.9}]},
    ...                       {"dataset": {"name": "beans"}, "metrics": [{"type": "acc", "value": 0.8}]}]}]
    >>> [(r.benchmark, r.value) for r in _model_index(index, "README.md", Location("README.md", 2))]
    [('beans', 0.8)]
    """
    out: list[ResultRecord] = []
    for entry in index:
        results = entry.get("results") if isinstance(entry, dict) else None
        for result in results if isinstance(results, list) else []:
            if not isinstance(result, dict):
                continue
            ds = _named(result.get("dataset"))
            bench = ds.get("name") or ds.get("type")
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


def _read_common(data: dict[str, Any], rec: EntityRecord, path: str, loc: Any, *, is_hf: bool = False) -> None:
    rec.aliases = texts(data, "aliases" if "aliases" in data else "alias", loc)
    description = text(data, "description", loc)
    if description is not None:
        rec.description = description.strip()
    pricing = text(data, "pricing", loc, numbers=True)
    if pricing is not None:
        rec.pricing = pricing.strip()
    if data.get("license") is not None:
        licences = texts(data, "license", loc)
        rec.license = licences[0] if licences else None
        licence_name = text(data, "license_name", loc)
        if licence_name and rec.license == "other":
            rec.license = licence_name
    url_key = "url" if "url" in data else "homepage"
    url = text(data, url_key, loc)
    if url is not None:
        url = lower_scheme(url.strip())  # HTTP://... is http://...
        if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", url):
            raise SchemaError(f"url {url!r} is not an http(s) URL", location=loc(url_key),
                              hint="write the full address, e.g. https://example.org/")
        rec.url = url
    _read_metrics(data, rec, loc, is_hf=is_hf)
    relations = data.get("relations")
    if relations is not None:
        if not isinstance(relations, dict):
            raise SchemaError("relations must be a mapping such as {derivedFrom: [roberta-base]}",
                              location=loc("relations"),
                              hint="write one relation per line under 'relations:', e.g. "
                                   "'relations:' then '  trainedOn: [the-pile]'")
        for key, targets in relations.items():
            canonical = _RELATION_KEYS.get(re.sub(r"[^a-z]", "", str(key).lower()))
            if canonical is None:
                raise SchemaError(f"unknown relation {key!r}", location=loc(f"relations.{key}"),
                                  hint="use one of: " + ", ".join(RELATIONS))
            rec.relations.setdefault(canonical, []).extend(
                texts(relations, key, lambda k, key=key: loc(f"relations.{key}")))
    declared_key = "capabilities_declared" if "capabilities_declared" in data else "declared_capabilities"
    declared = data.get(declared_key)
    if declared is not None:
        if isinstance(declared, bool) or not (isinstance(declared, int) or (
                isinstance(declared, str) and declared.strip().isdigit())):
            raise SchemaError(f"{declared_key} must be a whole number, found {declared!r}"[:200],
                              location=loc(declared_key), hint=f"write the count, e.g. '{declared_key}: 12'")
        rec.declared_capabilities = int(declared)
    for key in ("hub_id", "hf_id"):
        hub = text(data, key, loc)
        if hub:
            rec.extra.append(("hub_id", hub))
    version = text(data, "version", loc, numbers=True)
    if version is not None:
        rec.extra.append(("version", version))
    released_key = "released" if "released" in data else "release_date"
    released = data.get(released_key)
    if released is not None:
        text(data, released_key, loc, numbers=True, dates=True)  # checks the type; dates stay dates
        rec.extra.append(("issued", released))
    citation = text(data, "citation", loc)
    if citation:
        rec.extra.append(("citation", citation))
    for creator in texts(data, "creators", loc):
        rec.extra.append(("creator", creator))
    publisher = text(data, "publisher", loc)
    if publisher:
        rec.extra.append(("publisher", publisher))
    for kw in texts(data, "keywords", loc):
        rec.extra.append(("keyword", kw))
    if "kind" in data or "type" in data:
        for tag in texts(data, "tags", loc):
            rec.extra.append(("tag", tag))
    for key in data:
        if key not in _KNOWN:
            rec.observations.append(ObservationRecord(field=str(key), value=str(data[key]), location=loc(key)))


def _read_metrics(data: dict[str, Any], rec: EntityRecord, loc: Any, *, is_hf: bool) -> None:
    """Usage counts (``metrics: {downloads: 1200}``); a Hugging Face card's ``metrics`` lists metric names."""
    metrics = data.get("metrics")
    if metrics is None:
        return
    if isinstance(metrics, dict):
        for name, value in metrics.items():
            if not isinstance(value, (str, int, float)):
                raise type_error(f"metric {name!r}", value, loc(f"metrics.{name}"), expected="a count",
                                 hint="write a count such as 12000 or 1.2M")
            try:
                number = parse_number(value)
            except ValueError as exc:
                raise SchemaError(f"metric {name!r}: {exc}", location=loc(f"metrics.{name}"),
                                  hint="write a count such as 12000 or 1.2M") from exc
            if number < 0:
                raise SchemaError(f"metric {name!r} is negative", location=loc(f"metrics.{name}"),
                                  hint="usage counts are zero or more")
            rec.metrics[str(name)] = number
        return
    if is_hf and isinstance(metrics, list):
        return  # Hugging Face: the metrics the model is evaluated with (names), not usage counts
    raise type_error("metrics", metrics, loc("metrics"), expected="a mapping of names to counts",
                     hint="write 'metrics: {downloads: 1200, stars: 40}'" + (
                         " (a Hugging Face card lists metric names: metrics: [accuracy])" if is_hf else ""))


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
    """The first prose paragraph of a README body: fenced code and headings are left out (a heading
    ends a paragraph, so the text right under one is a paragraph of its own); tables, lists, images
    and HTML blocks are passed over.

    Examples
    --------
    >>> _first_paragraph("# LaBSE\\nA port of LaBSE.\\n\\nUse it so:\\n```python\\nx = 1\\n\\ny = 2\\n```\\n")
    'A port of LaBSE.'
    >>> _first_paragraph("```\\ncode\\n\\nmore code\\n```\\n\\n## Usage\\nCall it.\\n")
    'Call it.'
    """
    paragraphs: list[list[str]] = [[]]
    fence: str | None = None
    for line in body.splitlines():
        stripped = line.strip()
        opening = re.match(r"(`{3,}|~{3,})", stripped)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
        elif stripped and not re.match(r"#{1,6}(\s|$)", stripped):
            paragraphs[-1].append(stripped)
            continue
        paragraphs.append([])
    for lines in paragraphs:
        text = " ".join(lines).strip()
        if text and not text.startswith(("|", "<", "!", "-", "*")):
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
