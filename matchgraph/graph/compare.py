"""Compare two entities side by side: scores, capabilities with their claims, concepts, verdict.

:func:`compare` gathers everything from the store and the computed scores; :func:`render` prints
it as text, Markdown, HTML (a Jinja2 template with autoescaping) or JSON. The table always shows
matchgraph's own scores; figures a source page reported are listed apart as reported by it.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rdflib import URIRef

from ..store.catalog import Catalog
from ..errors import QueryError
from .rows import select_values
from .scores import scores_for
from .scoring import EntityScores, display
from .weights import LABELS, SUB_SCORES
from .resolve import EntityRef, resolve_entity
from ..vocab import CONCEPT

__all__ = ["Side", "Comparison", "compare", "render", "FORMATS", "ROWS"]

#: Output formats of :func:`render`.
FORMATS: tuple[str, ...] = ("text", "md", "html", "json")
#: Rows of the feature table: key -> label.
ROWS: dict[str, str] = {"type": "Type", "rank": "Rank", "adoption": "Adoption", "quality": "Quality",
                        "ecosystem": "Ecosystem", "match_graph": "Match Graph", "pricing": "Pricing",
                        "capabilities": "Capabilities", "times_matched": "Times Matched"}
#: Rows where one side can lead (higher is better).
RANKED_ROWS: tuple[str, ...] = ("rank", *SUB_SCORES, "capabilities", "times_matched")


@dataclass
class Side:
    """One entity of a comparison."""

    entity: EntityRef
    scores: EntityScores
    pricing: str | None
    capabilities: list[dict[str, Any]]
    declared_capabilities: int | None
    concepts: dict[str, str] = field(default_factory=dict)
    reported: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The entity's name."""
        return self.entity.name

    @property
    def more_capabilities(self) -> int:
        """Capabilities the source declared beyond those it described."""
        return max(0, (self.declared_capabilities or 0) - len(self.capabilities))

    @property
    def capability_count(self) -> int:
        """How many capabilities the entity has: those the source declared, at least those described."""
        return max(len(self.capabilities), self.declared_capabilities or 0)

    def value(self, row: str) -> float:
        """The number compared on a ranked row (scores as displayed)."""
        if row == "capabilities":
            return self.capability_count
        if row == "times_matched":
            return self.scores.times_matched
        return display(self.scores.score(row))

    def cell(self, row: str) -> str:
        """The table cell of a row, as text."""
        if row == "type":
            return (self.entity.kind or ("stub" if self.entity.stub else "unknown")).capitalize()
        if row == "rank":
            return f"{display(self.scores.rank)}/100"
        if row == "pricing":
            return self.pricing or "Unknown"
        if row == "capabilities":
            return f"{self.capability_count} decomposed"
        return str(int(self.value(row)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        data: dict[str, Any] = {"id": self.entity.slug, "name": self.name, "kind": self.entity.kind,
                                "stub": self.entity.stub}
        data.update({k: display(self.scores.score(k)) for k in ("rank", *SUB_SCORES)})
        data.update({"pricing": self.pricing, "capabilities": self.capabilities,
                     "declared_capabilities": self.declared_capabilities,
                     "more_capabilities": self.more_capabilities, "times_matched": self.scores.times_matched,
                     "concepts": [{"id": k, "label": v} for k, v in self.concepts.items()],
                     "reported": dict(self.reported)})
        return data


@dataclass
class Comparison:
    """Two entities compared: both sides, who leads each row, and the verdict."""

    left: Side
    right: Side
    leaders: dict[str, str]
    headline: str
    verdict: str
    shared_concepts: list[dict[str, str]]
    only_left: list[dict[str, str]]
    only_right: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (keys ``left``, ``right``, ``leaders``, ``headline``, ``verdict``, ...)."""
        return {"left": self.left.to_dict(), "right": self.right.to_dict(), "headline": self.headline,
                "verdict": self.verdict, "leaders": dict(self.leaders), "shared_concepts": self.shared_concepts,
                "only_left": self.only_left, "only_right": self.only_right}

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """The feature table: (key, label, left cell, right cell, leader or "")."""
        return [(k, label, self.left.cell(k), self.right.cell(k), self.leaders.get(k, "")) for k, label in ROWS.items()]


# ---------------------------------------------------------------------------------- gathering
def _one(catalog: Catalog, iri: URIRef, prop: str) -> str | None:
    rows = sorted(v for (v,) in select_values(catalog, f"SELECT ?v WHERE {{ {iri.n3()} {prop} ?v }}") if v)
    return rows[0] if rows else None


def _capabilities(catalog: Catalog, iri: URIRef) -> list[dict[str, Any]]:
    e = iri.n3()
    caps: dict[str, dict[str, Any]] = {}
    for c, title, desc, pos in select_values(catalog, f"""SELECT ?c ?t ?d ?p WHERE {{ {e} mg:hasCapability ?c .
            OPTIONAL {{ ?c schema:name ?t }} OPTIONAL {{ ?c dcterms:description ?d }} OPTIONAL {{ ?c mg:position ?p }} }}"""):
        cap = caps.setdefault(c or "", {"title": title, "description": desc, "unique": None, "alternatives": None,
                                         "concepts": [], "position": pos})
        cap["title"] = cap["title"] or title
        cap["description"] = cap["description"] or desc
    for c, kind, text in select_values(catalog, f"""SELECT ?c ?k ?t WHERE {{ {e} mg:hasCapability ?c .
            ?c mg:hasClaim ?cl . ?cl a ?k ; schema:text ?t . FILTER(?k IN (mg:UniqueClaim, mg:AlternativeClaim)) }}"""):
        # (a FILTER, not VALUES: Oxigraph joins a trailing VALUES with every claim of the catalog, 29 s at 100k)
        key = "unique" if (kind or "").endswith("UniqueClaim") else "alternatives"
        if c in caps and not caps[c][key]:
            caps[c][key] = text
    for c, concept in select_values(catalog, f"SELECT ?c ?k WHERE {{ {e} mg:hasCapability ?c . ?c mg:concept ?k }}"):
        if c in caps and concept:
            caps[c]["concepts"].append(_concept_slug(concept))

    def order(item: tuple[str, dict[str, Any]]) -> tuple[float, str]:
        try:
            return float(item[1]["position"]), item[0]
        except (TypeError, ValueError):
            return float("inf"), item[0]

    result = []
    for _, cap in sorted(caps.items(), key=order):
        cap.pop("position")
        cap["title"] = cap["title"] or _short(cap["description"] or "")
        cap["concepts"] = sorted(set(cap["concepts"]))
        result.append(cap)
    return result


def _short(text: str) -> str:
    return textwrap.shorten(text, 60, placeholder="...") if text else "Capability"


def _concept_slug(iri: str) -> str:
    return iri[len(str(CONCEPT)):] if iri.startswith(str(CONCEPT)) else iri


def _labels(slugs: set[str]) -> dict[str, str]:
    from ..matching.classify import load_scheme

    scheme = load_scheme()
    labels = {s: (scheme[s].pref_label if s in scheme else s.replace("-", " ")) for s in slugs}
    return dict(sorted(labels.items(), key=lambda kv: (kv[1].lower(), kv[0])))


def _reported(catalog: Catalog, iri: URIRef) -> dict[str, str]:
    rows = select_values(catalog, f"""SELECT ?f ?v WHERE {{ ?o mg:observedEntity {iri.n3()} ;
        mg:observedField ?f ; schema:value ?v }}""")
    return dict(sorted((f, v) for f, v in rows if f and v is not None))


def _side(catalog: Catalog, ref: EntityRef, scores: EntityScores) -> Side:
    declared = _one(catalog, ref.iri, "mg:declaredCapabilityCount")
    capabilities = _capabilities(catalog, ref.iri)
    concepts = {c for cap in capabilities for c in cap["concepts"]}
    return Side(ref, scores, _one(catalog, ref.iri, "mg:pricing"), capabilities,
                int(float(declared)) if declared else None, _labels(concepts), _reported(catalog, ref.iri))


# ---------------------------------------------------------------------------------- wording
def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _leaders(left: Side, right: Side) -> dict[str, str]:
    leaders = {}
    for row in RANKED_ROWS:
        a, b = left.value(row), right.value(row)
        leaders[row] = "left" if a > b else "right" if b > a else "tie"
    return leaders


def _headline(left: Side, right: Side) -> str:
    a, b = display(left.scores.rank), display(right.scores.rank)
    if a == b:
        return f"{left.name} and {right.name} rank level at {a}/100."
    high, low = (left, right) if a > b else (right, left)
    return f"{high.name} ranks higher at {display(high.scores.rank)}/100 vs {low.name} at {display(low.scores.rank)}/100."


def verdict_sentence(left: Side, right: Side, leaders: Mapping[str, str]) -> str:
    """The verdict: who scores higher, then which side leads which sub-score.

    The side leading on more sub-scores is named first (on equal counts, the higher ranked),
    e.g. ``"B scores higher at 59/100 vs A at 47/100. A leads on adoption and ecosystem, while
    B is stronger on quality."``; ties and one side leading everything are said as such.
    """
    a, b = display(left.scores.rank), display(right.scores.rank)
    if a == b:
        first = f"{left.name} and {right.name} score level at {a}/100."
    else:
        high, low = (left, right) if a > b else (right, left)
        first = (f"{high.name} scores higher at {display(high.scores.rank)}/100 "
                 f"vs {low.name} at {display(low.scores.rank)}/100.")
    words = {k: LABELS[k].lower() for k in SUB_SCORES}
    led = {side: [words[k] for k in SUB_SCORES if leaders[k] == side] for side in ("left", "right", "tie")}
    sides = {"left": left, "right": right}
    order = sorted(("left", "right"), key=lambda s: (-len(led[s]), -display(sides[s].scores.rank), s))
    one, two = order
    ties = f" They tie on {_join(led['tie'])}." if led["tie"] and led[one] else ""
    if led[one] and led[two]:
        second = f"{sides[one].name} leads on {_join(led[one])}, while {sides[two].name} is stronger on {_join(led[two])}."
    elif led[one] and len(led[one]) == len(SUB_SCORES):
        second = f"{sides[one].name} leads on every sub-score."
    elif led[one]:
        second = f"{sides[one].name} leads on {_join(led[one])}."
    else:
        second = "They tie on every sub-score."
    return f"{first} {second}{ties}"


def compare(catalog: Catalog, a: str | EntityRef, b: str | EntityRef, *,
            weights: str | os.PathLike[str] | Mapping[str, Any] | None = None) -> Comparison:
    """Compare two entities.

    Parameters
    ----------
    catalog : Catalog
    a, b : str or EntityRef
        Ids, names, aliases or IRIs; ``a`` is the left side.
    weights : path or mapping, optional
        Weight overrides for the scores.

    Returns
    -------
    Comparison

    Raises
    ------
    EntityNotFound
        Either name is unknown or ambiguous (with candidates).
    QueryError
        Both name the same entity.

    Examples
    --------
    >>> c = compare(catalog, "distilroberta-base", "the-pile")  # doctest: +SKIP
    >>> c.leaders["quality"]  # doctest: +SKIP
    'right'
    """
    left_ref = a if isinstance(a, EntityRef) else resolve_entity(catalog, a)
    right_ref = b if isinstance(b, EntityRef) else resolve_entity(catalog, b)
    if left_ref.slug == right_ref.slug:
        raise QueryError(f"both names refer to {left_ref.slug!r}", hint="compare two different entities")
    found = scores_for(catalog, [left_ref.slug, right_ref.slug], weights=weights)
    left = _side(catalog, left_ref, found[left_ref.slug])
    right = _side(catalog, right_ref, found[right_ref.slug])
    leaders = _leaders(left, right)
    both = set(left.concepts) & set(right.concepts)
    labels = {**left.concepts, **right.concepts}

    def listed(slugs: set[str]) -> list[dict[str, str]]:
        return [{"id": s, "label": labels[s]} for s in sorted(slugs, key=lambda s: (labels[s].lower(), s))]

    return Comparison(left, right, leaders, _headline(left, right), verdict_sentence(left, right, leaders),
                      listed(both), listed(set(left.concepts) - both), listed(set(right.concepts) - both))


# ---------------------------------------------------------------------------------- rendering
def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(" ".join(text.split()), 100, initial_indent=indent, subsequent_indent=indent)


def _text_capabilities(side: Side) -> list[str]:
    lines = ["", f"{side.name} capabilities"]
    for i, cap in enumerate(side.capabilities, start=1):
        lines.append(f"{i}. {cap['title']}")
        if cap["description"]:
            lines.append(_wrap(cap["description"], "   "))
        if cap["unique"]:
            lines.append(_wrap("Unique: " + cap["unique"], "   "))
        if cap["alternatives"]:
            lines.append(_wrap("vs alternatives: " + cap["alternatives"], "   "))
    if not side.capabilities:
        lines.append("(no capabilities described)")
    if side.more_capabilities:
        lines.append(f"+{side.more_capabilities} more capabilities")
    return lines


def _concept_lines(c: Comparison) -> list[tuple[str, str]]:
    def names(items: list[dict[str, str]]) -> str:
        return ", ".join(i["label"] for i in items) or "none"

    return [("Concepts both cover", names(c.shared_concepts)), (f"Only {c.left.name}", names(c.only_left)),
            (f"Only {c.right.name}", names(c.only_right))]


def _reported_lines(c: Comparison) -> list[str]:
    return [f"{side.name}: " + ", ".join(f"{k} {v}" for k, v in side.reported.items())
            for side in (c.left, c.right) if side.reported]


def _render_text(c: Comparison) -> str:
    rows = c.rows()
    width = [max(len(r[i]) for r in [("", "Feature", c.left.name, c.right.name, "")] + rows) for i in (1, 2, 3)]
    mark = {"left": (" *", ""), "right": ("", " *")}

    def line(label: str, a: str, b: str) -> str:
        return f"{label:<{width[0]}}  {a:<{width[1] + 2}}  {b}".rstrip()

    lines = [f"{c.left.name} vs {c.right.name}", c.headline, "", line("Feature", c.left.name, c.right.name)]
    for _, label, a, b, leader in rows:
        ma, mb = mark.get(leader, ("", ""))
        lines.append(line(label, a + ma, b + mb))
    lines.append("(* leads the row)")
    lines += _text_capabilities(c.left) + _text_capabilities(c.right)
    lines += ["", "Concepts"] + [_wrap(f"{k}: {v}", "") for k, v in _concept_lines(c)]
    if _reported_lines(c):
        lines += ["", "Reported by sources (not matchgraph scores)"] + [_wrap(x, "") for x in _reported_lines(c)]
    lines += ["", "Verdict", _wrap(c.verdict, "")]
    return "\n".join(lines) + "\n"


def _md(text: Any) -> str:
    """Markdown-safe text: HTML escaped (no raw tags survive), Markdown syntax backslashed, inline
    code kept as code (:func:`matchgraph.web.inline.to_markdown`, the same rule as every output)."""
    from ..web.inline import to_markdown

    return to_markdown(text)


def _md_capabilities(side: Side) -> list[str]:
    lines = ["", f"## {_md(side.name)} capabilities"]
    for cap in side.capabilities:
        lines += ["", f"### {_md(cap['title'])}"]
        if cap["description"]:
            lines += ["", _md(cap["description"])]
        extra = []
        if cap["unique"]:
            extra.append(f"- **Unique:** {_md(cap['unique'])}")
        if cap["alternatives"]:
            extra.append(f"- **vs alternatives:** {_md(cap['alternatives'])}")
        if extra:
            lines += [""] + extra
    if side.more_capabilities:
        lines += ["", f"*+{side.more_capabilities} more capabilities*"]
    return lines


def _render_md(c: Comparison) -> str:
    lines = [f"# {_md(c.left.name)} vs {_md(c.right.name)}", "", _md(c.headline), "",
             f"| Feature | {_md(c.left.name)} | {_md(c.right.name)} |", "|---|---|---|"]
    for _, label, a, b, leader in c.rows():
        a, b = _md(a), _md(b)
        a, b = (f"**{a}**" if leader == "left" else a), (f"**{b}**" if leader == "right" else b)
        lines.append(f"| {label} | {a} | {b} |")
    lines += ["", "Bold marks the leader of each row."]
    lines += _md_capabilities(c.left) + _md_capabilities(c.right)
    lines += ["", "## Concepts", ""] + [f"- **{_md(k)}:** {_md(v)}" for k, v in _concept_lines(c)]
    if _reported_lines(c):
        lines += ["", "## Reported by sources", "", "Figures the source pages gave; not matchgraph scores.", ""]
        lines += [f"- {_md(x)}" for x in _reported_lines(c)]
    lines += ["", "## Verdict", "", _md(c.verdict)]
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=1)
def _template() -> Any:
    """The compare page's template, compiled once per process: compiling it for every page was 35 ms
    of a site's 50 ms per compare page (13,417 pages of the Quickstart catalog)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    from ..web.inline import to_html, without_controls

    env = Environment(loader=PackageLoader("matchgraph", "templates"), autoescape=True, finalize=without_controls,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["inline"] = to_html
    return env.get_template("compare.html.j2")


def _render_html(c: Comparison) -> str:
    return _template().render(c=c, rows=c.rows(), concepts=_concept_lines(c), reported=_reported_lines(c))


def render(comparison: Comparison, fmt: str = "text") -> str:
    """Render a comparison.

    Parameters
    ----------
    comparison : Comparison
    fmt : str
        ``text``, ``md`` (Markdown), ``html`` (a standalone page; all catalog text escaped) or ``json``.

    Returns
    -------
    str

    Raises
    ------
    QueryError
        An unknown format.
    """
    if fmt == "json":
        return json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False) + "\n"
    renderers = {"text": _render_text, "md": _render_md, "html": _render_html}
    if fmt not in renderers:
        raise QueryError(f"unknown format {fmt!r}", hint="use one of: " + ", ".join(FORMATS))
    return renderers[fmt](comparison)

