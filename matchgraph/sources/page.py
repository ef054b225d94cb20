"""Comparison pages: "A vs B" with a feature table, each side's capabilities and a verdict.

The layout, line by line::

    A vs B                                   title
    B ranks higher at 59/100 vs A at 47/100. summary (optional)
    | Feature | A | B |                      the feature table
    |---|---|---|
    | Type | Model | Dataset |               ... one row per figure
    A Capabilities                           a side's capabilities:
    <description paragraph>                    each a description,
    Unique: ...                                its Unique claim
    vs alternatives: ...                       and its vs-alternatives claim
    +4 more capabilities                     declared but not described
    B Capabilities
    ...
    Verdict
    <verdict sentence>

Every table row is kept as a source observation of its entity; the Type row gives the kind,
Pricing the pricing and the Capabilities row ("12 decomposed") the declared capability count.
"""

from __future__ import annotations

import re

from ..errors import Location, ParseError
from .records import CapabilityRecord, EntityRecord, ObservationRecord, SourceRecords
from .safe_load import check_records
from ..vocab import normalise_kind, slugify

__all__ = ["parse_page", "is_page"]

_UNIQUE = re.compile(r"^\s*unique\s*:\s*", re.I)
_ALTERNATIVES = re.compile(r"^\s*(?:vs\.?|versus)\s+alternatives?\s*:\s*", re.I)
_MORE = re.compile(r"^\s*\+\s*(\d+)\s+more\s+capabilit(?:y|ies)\s*$", re.I)
_TRAILER = re.compile(r"^\s*(need something different\??|search the match graph.*)\s*$", re.I)


def is_page(text: str) -> bool:
    """Say whether a text is a comparison page (an "A vs B" title and a feature table)."""
    lines = [ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()]
    return (bool(lines) and " vs " in lines[0] and any(ln.lstrip().startswith("|") for ln in lines[:20])
            and any(re.match(r"^\s*\|\s*feature\s*\|", ln, re.I) for ln in lines[:20]))


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse_page(text: str, path: str) -> SourceRecords:
    """Parse a comparison page into its two entities, their capabilities and the page's figures.

    Parameters
    ----------
    text : str
        The page.
    path : str
        Its path, for error locations.
    """
    lines = text.lstrip("\ufeff").splitlines()
    numbered = [(i + 1, ln.rstrip()) for i, ln in enumerate(lines)]
    content = [(n, ln) for n, ln in numbered if ln.strip()]
    if not content:
        raise ParseError("the comparison page is empty", location=Location(path, 1),
                         hint="a comparison page starts with a title 'A vs B' and a feature table")
    title_line, title = content[0]
    parts = re.split(r"\s+vs\.?\s+", title.strip(), maxsplit=1)
    if len(parts) != 2 or not all(parts):
        raise ParseError("the first line must be the title 'A vs B'", location=Location(path, title_line),
                         hint="start the page with the two names, e.g. 'distilroberta-base vs The Pile'")
    names = [p.strip() for p in parts]
    table = [(n, ln) for n, ln in content if ln.lstrip().startswith("|")]
    if len(table) < 3:
        raise ParseError("no feature table ('| Feature | A | B |') found", location=Location(path, title_line + 1),
                         hint="the page needs a Markdown table with one row per figure")
    header_line, header = table[0]
    columns = _cells(header)
    if len(columns) != 3 or columns[0].lower() != "feature":
        raise ParseError(f"the table header must be '| Feature | {names[0]} | {names[1]} |'",
                         location=Location(path, header_line),
                         hint="the first table row names the columns: Feature, then the two sides of the title")
    table_names = columns[1:]
    records = [EntityRecord(id=slugify(n), name=n, location=Location(path, title_line)) for n in table_names]
    for rec in records:
        rec.field_locations["name"] = Location(path, header_line)
    for number, row in table[1:]:
        cells = _cells(row)
        if all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
            continue
        if len(cells) != 3:
            raise ParseError(f"table row has {len(cells)} cells, expected 3", location=Location(path, number),
                             hint="each row is '| Feature | left value | right value |'")
        field, *values = cells
        for rec, value in zip(records, values):
            _apply_row(rec, field, value, Location(path, number))
    summary = content[1][1] if len(content) > 1 and not content[1][1].lstrip().startswith("|") else None
    _read_sections(content, records, path, title_names=names)
    verdict = _verdict(content)
    source = SourceRecords(path=path, format="comparison-page", entities=records, title=title.strip(),
                           verdict=verdict)
    if summary:
        source.notes.append(summary)
    return check_records(source)


def _apply_row(rec: EntityRecord, field: str, value: str, where: Location) -> None:
    rec.observations.append(ObservationRecord(field=field, value=value, location=where))
    key = field.strip().lower()
    if key in ("type", "kind"):
        kind = normalise_kind(value)
        rec.kind = kind or value
        rec.field_locations["kind"] = where
    elif key == "pricing":
        rec.pricing = value
        rec.field_locations["pricing"] = where
    elif key == "capabilities":
        m = re.match(r"\s*(\d+)", value)
        if m:
            rec.declared_capabilities = int(m.group(1))


def _read_sections(content: list[tuple[int, str]], records: list[EntityRecord], path: str, *,
                   title_names: list[str] | None = None) -> None:
    """Read the '<Name> Capabilities' sections; one named after a side of the title that the
    table's columns do not name is an error (its capabilities would be lost)."""
    heads = {f"{rec.name} capabilities".lower(): rec for rec in records}
    orphans = {f"{n} capabilities".lower(): n for n in title_names or []} if title_names else {}
    current: EntityRecord | None = None
    cap: CapabilityRecord | None = None
    more: dict[str, int] = {}
    for number, line in content:
        text = line.strip()
        low = text.lower()
        if low in heads:
            current, cap = heads[low], None
            continue
        if low in orphans:
            columns = " and ".join(repr(rec.name) for rec in records)
            raise ParseError(f"the section '{text}' is about {orphans[low]!r} of the title, but the feature "
                             f"table's columns are {columns}", location=Location(path, number),
                             hint="name the table's columns as the title does: "
                                  f"'| Feature | {title_names[0]} | {title_names[1]} |'")
        if current is None or text.startswith("|"):
            continue
        if low == "verdict" or _TRAILER.match(text):
            current, cap = None, None
            continue
        m = _MORE.match(text)
        if m:
            more[current.id] = int(m.group(1))
            continue
        if _UNIQUE.match(text):
            if cap is None:
                raise ParseError("a 'Unique:' line comes before any capability description",
                                 location=Location(path, number),
                                 hint="put the capability's description on the line before its 'Unique:' line")
            cap.unique = _UNIQUE.sub("", text).strip()
            cap.unique_location = Location(path, number)
        elif _ALTERNATIVES.match(text):
            if cap is None:
                raise ParseError("a 'vs alternatives:' line comes before any capability description",
                                 location=Location(path, number),
                                 hint="put the capability's description (and its 'Unique:' line) before "
                                      "its 'vs alternatives:' line")
            cap.alternatives = _ALTERNATIVES.sub("", text).strip()
            cap.alternatives_location = Location(path, number)
        elif cap is not None and cap.unique is None and cap.alternatives is None:
            cap.description = f"{cap.description} {text}"
        else:
            cap = CapabilityRecord(description=text, location=Location(path, number))
            current.capabilities.append(cap)
    for rec in records:
        described = len(rec.capabilities)
        if rec.id in more:
            total = described + more[rec.id]
            if rec.declared_capabilities is None:
                rec.declared_capabilities = total
        elif rec.declared_capabilities is None and described:
            rec.declared_capabilities = described


def _verdict(content: list[tuple[int, str]]) -> str | None:
    for i, (_, line) in enumerate(content):
        if line.strip().lower() == "verdict":
            rest = [ln.strip() for _, ln in content[i + 1:] if not _TRAILER.match(ln.strip())]
            return " ".join(rest).strip() or None
    return None
