"""Comparisons: leaders, headline and verdict wording, concepts, and safe rendering in every format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from matchgraph import Catalog, QueryError, ingest
from matchgraph.graph.compare import Side, compare, render, verdict_sentence
from matchgraph.graph.resolve import EntityRef
from matchgraph.graph.scoring import EntityScores
from matchgraph.vocab import entity_iri

DATA = Path(__file__).resolve().parent / "data"


def _side(name: str, rank: float, adoption: float, quality: float, ecosystem: float, match_graph: float) -> Side:
    slug = name.lower().replace(" ", "-")
    ref = EntityRef(slug, entity_iri(slug), name, "model", False)
    return Side(ref, EntityScores(slug, name, "model", rank, adoption, quality, ecosystem, match_graph, 0), "Free",
                [], None)


def _verdict(left: Side, right: Side) -> str:
    leaders = {k: "left" if left.value(k) > right.value(k) else "right" if right.value(k) > left.value(k) else "tie"
               for k in ("adoption", "quality", "ecosystem", "match_graph")}
    return verdict_sentence(left, right, leaders)


@pytest.mark.parametrize("left, right, expected", [
    # the side leading on more sub-scores is named first, ties are said
    (_side("Small", 47, 71, 10, 60, 5), _side("Big Corpus", 59, 40, 80, 30, 5),
     "Big Corpus scores higher at 59/100 vs Small at 47/100. Small leads on adoption and ecosystem, "
     "while Big Corpus is stronger on quality. They tie on match graph."),
    # as many leads each: the higher ranked first
    (_side("A", 40, 90, 10, 90, 10), _side("B", 60, 10, 90, 10, 90),
     "B scores higher at 60/100 vs A at 40/100. B leads on quality and match graph, while A is stronger on "
     "adoption and ecosystem."),
    (_side("A", 80.4, 90, 90, 90, 90), _side("B", 20, 10, 10, 10, 10),
     "A scores higher at 80/100 vs B at 20/100. A leads on every sub-score."),
    (_side("A", 50, 50, 50, 50, 50), _side("B", 60, 50, 70, 50, 50.4),
     "B scores higher at 60/100 vs A at 50/100. B leads on quality. They tie on adoption, ecosystem and match graph."),
    (_side("A", 49.5, 1, 2, 3, 4), _side("B", 50.4, 1, 2, 3, 4),
     "A and B score level at 50/100. They tie on every sub-score."),
])
def test_verdict_wording(left: Side, right: Side, expected: str) -> None:
    assert _verdict(left, right) == expected


def test_compare_gathers_both_sides(example_catalog: Catalog) -> None:
    c = compare(example_catalog, "distilroberta-base", "the-pile")
    data = c.to_dict()
    for side in ("left", "right"):
        assert {"id", "name", "kind", "rank", "adoption", "quality", "ecosystem", "match_graph", "pricing",
                "capabilities", "declared_capabilities", "times_matched"} <= set(data[side])
        assert all(set(cap) >= {"title", "description", "unique", "alternatives", "concepts"}
                   for cap in data[side]["capabilities"])
    assert (data["left"]["kind"], data["right"]["kind"]) == ("model", "dataset")
    assert data["right"]["declared_capabilities"] == 12 and data["right"]["more_capabilities"] == 12 - len(
        data["right"]["capabilities"])
    assert data["left"]["pricing"] == data["right"]["pricing"] == "Free"
    assert set(data["leaders"]) == {"rank", "adoption", "quality", "ecosystem", "match_graph", "capabilities",
                                    "times_matched"}
    high, low = (c.left, c.right) if c.left.value("rank") > c.right.value("rank") else (c.right, c.left)
    assert data["headline"] == (f"{high.name} ranks higher at {high.value('rank'):.0f}/100 vs {low.name} at "
                                f"{low.value('rank'):.0f}/100.")
    assert re.match(rf"{re.escape(high.name)} scores higher at \d+/100 vs {re.escape(low.name)} at \d+/100\. \S",
                    data["verdict"])
    shared = {x["id"] for x in data["shared_concepts"]}
    left_only, right_only = {x["id"] for x in data["only_left"]}, {x["id"] for x in data["only_right"]}
    left_all = {k for cap in data["left"]["capabilities"] for k in cap["concepts"]}
    right_all = {k for cap in data["right"]["capabilities"] for k in cap["concepts"]}
    assert shared == left_all & right_all and left_only == left_all - right_all and right_only == right_all - left_all


def test_every_format_renders(example_catalog: Catalog) -> None:
    c = compare(example_catalog, "distilroberta-base", "the-pile")
    text, md, page, raw = (render(c, f) for f in ("text", "md", "html", "json"))
    assert text.startswith("distilroberta-base vs The Pile\n") and "Verdict" in text and "+4 more capabilities" in text
    assert "| Times Matched | 0 | 0 |" in md and "## Verdict" in md
    assert page.startswith("<!DOCTYPE html>") and 'data-row="rank"' in page and c.verdict in page
    assert json.loads(raw)["verdict"] == c.verdict
    with pytest.raises(QueryError):
        render(c, "pdf")


def test_catalog_text_is_escaped(example_catalog: Catalog) -> None:
    ingest(example_catalog, [DATA / "probes" / "probe-card.md"])
    c = compare(example_catalog, "probe-entity", "the-pile")
    page = render(c, "html")
    assert "<script>alert" not in page and "<img src=" not in page
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    md = render(c, "md")
    assert "<script>" not in md and "<img" not in md and "&lt;script&gt;alert(4)&lt;/script&gt;" in md


def test_the_same_entity_twice_is_refused(example_catalog: Catalog) -> None:
    with pytest.raises(QueryError, match="both names refer to 'the-pile'"):
        compare(example_catalog, "the-pile", "Pile")
