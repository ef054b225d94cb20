"""The scores, explain, neighbours and compare commands: exact output on the hand graph, and the examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
HAND = DATA / "scoring_graph.ttl"


@pytest.fixture
def hand_path(tmp_path: Path, make_catalog) -> Path:  # type: ignore[no-untyped-def]
    """A closed on-disk catalog holding the hand-computed graph."""
    return make_catalog(tmp_path / "hand", HAND)


@pytest.fixture(scope="module")
def examples_path(tmp_path_factory: pytest.TempPathFactory, example_catalog_dir: Path) -> Path:
    """A private copy of the ingested example catalog, shared by this module's tests."""
    import shutil

    path = tmp_path_factory.mktemp("cli") / "catalog"
    shutil.copytree(example_catalog_dir, path)
    return path


SCORES = """\
ID  NAME   KIND       RANK  ADOPTION  QUALITY  ECOSYSTEM  MATCH GRAPH  TIMES MATCHED
--  -----  ---------  ----  --------  -------  ---------  -----------  -------------
a   Alpha  model       100       100      100        100           96              0
b   Beta   model        79        60       72         93           98              0
c   Gamma  benchmark    45        20       38         37          100              0
t   Tau    framework    38         0       15         69           82              0
f   Phi    format       33         0       15         46           89              0
s   Sigma  stub         20        40        0         46           82              0
"""

NEIGHBOURS = """\
Neighbours of Alpha (a):
ID  NAME   KIND       RELATIONS                                 DIRECTION  WEIGHT  RANK
--  -----  ---------  ----------------------------------------  ---------  ------  ----
b   Beta   model      alternative, derivedFrom, shared-concept  both         3.41    79
c   Gamma  benchmark  evaluatedOn                               out          1.00    45
t   Tau    framework  integratesWith                            out          1.00    38
s   Sigma  -          trainedOn                                 out          1.00    20
"""

EXPLAIN = """\
Beta (b, model)
Rank 79/100: weighted mean of Adoption 60 x 0.30, Quality 72 x 0.25, Ecosystem 93 x 0.25, Match Graph 98 x 0.20, \
scaled so the top entity has 100

Adoption 60: 1 model derived from it (Alpha), named as an alternative in 1 claim by Alpha
    +2.00  derived works             1 model derived from it (Alpha)
    +1.00  alternative mentions      named as an alternative in 1 claim by Alpha
    +0.00  times matched             never matched
     3.00  points in all (the Adoption score is 100 x points / the catalog's highest)

Quality 72: 2 of 2 capabilities with claims, a description, licence apache-2.0, 1 warning: 1 capability without a concept
    +3.17  capabilities with claims  2 of 2 capabilities with claims
    +0.00  benchmark results         0 benchmark results
    +1.00  description               a description
    +1.00  licence                   licence apache-2.0
    +0.00  homepage                  no homepage
    +0.00  source                    no source document
    -0.50  warnings                  1 warning: 1 capability without a concept
     4.67  points in all (the Quality score is 100 x points / the catalog's highest)

Ecosystem 93: 1 format link (Phi), 1 derived work, linked to 3 distinct entities
    +0.00  integrations              no integrations
    +1.00  formats                   1 format link (Phi)
    +1.00  derived works             1 derived work
    +2.00  distinct neighbours       linked to 3 distinct entities
     4.00  points in all (the Ecosystem score is 100 x points / the catalog's highest)

Match Graph 98: PageRank 0.1832 (1.1 times the average)
    +2.14  pagerank                  PageRank 0.1832 (1.1 times the average)
    +0.00  times matched             never matched
     2.14  points in all (the Match Graph score is 100 x points / the catalog's highest)
"""

COMPARE = """\
Alpha vs Beta
Alpha ranks higher at 100/100 vs Beta at 79/100.

Feature        Alpha           Beta
Type           Model           Model
Rank           100/100 *       79/100
Adoption       100 *           60
Quality        100 *           72
Ecosystem      100 *           93
Match Graph    96              98 *
Pricing        Unknown         Unknown
Capabilities   2 decomposed    2 decomposed
Times Matched  0               0
(* leads the row)

Alpha capabilities
1. One
   Quantized embeddings.
   Unique: Only Alpha does this.
   vs alternatives: Faster than Beta.
2. Two
   Embeddings.

Beta capabilities
1. One
   Quantization.
   vs alternatives: Better than Alpha and Gamma.
2. Two
   Something else.
   Unique: Only Beta.

Concepts
Concepts both cover: quantization
Only Alpha: text embeddings
Only Beta: none

Verdict
Alpha scores higher at 100/100 vs Beta at 79/100. Alpha leads on adoption, quality and ecosystem,
while Beta is stronger on match graph.
"""


def test_scores_table(invoke, hand_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = invoke("scores", "--catalog", hand_path, "--limit", "0")
    assert (out.exit_code, out.output) == (0, SCORES)
    out = invoke("scores", "--catalog", hand_path, "Beta", "a", "--format", "json")
    assert [(d["id"], d["rank"], d["adoption"]) for d in json.loads(out.output)] == [("b", 79, 60), ("a", 100, 100)]


def test_neighbours_table_and_json(invoke, hand_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = invoke("neighbours", "a", "--catalog", hand_path)
    assert (out.exit_code, out.output) == (0, NEIGHBOURS)
    out = invoke("neighbours", "Beta", "--relation", "ALTERNATIVE", "--format", "json", "--catalog", hand_path)
    data = json.loads(out.output)
    assert data["entity"]["id"] == "b"
    assert [(n["id"], n["relations"], n["direction"], n["weight"], n["rank"]) for n in data["neighbours"]] == [
        ("a", ["alternative"], "both", 2.0, 100), ("c", ["alternative"], "out", 1.0, 45)]
    out = invoke("neighbours", "f", "--relation", "co-matched", "--catalog", hand_path)
    assert out.output == "Phi (f) has no neighbours by these relations.\n"


def test_explain_text_and_json(invoke, hand_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = invoke("explain", "b", "--catalog", hand_path)
    assert (out.exit_code, out.output) == (0, EXPLAIN)
    data = json.loads(invoke("explain", "Sigma", "--format", "json", "--catalog", hand_path).output)
    assert data["entity"]["stub"] is True and data["rank"] == 20
    assert [f["name"] for f in data["scores"]["rank"]["factors"]] == [
        "adoption", "quality", "ecosystem", "match_graph", "stub"]
    assert data["scores"]["adoption"]["explanation"] == "Adoption 40: 1 model trained on it (Alpha)"


def test_compare_text(invoke, hand_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = invoke("compare", "a", "b", "--catalog", hand_path)
    assert (out.exit_code, out.output) == (0, COMPARE)


def test_unknown_entities_exit_2_with_candidates(invoke, hand_path: Path) -> None:  # type: ignore[no-untyped-def]
    for args in (["neighbours", "Alphaa"], ["explain", "Alphaa"], ["compare", "a", "Alphaa"], ["scores", "Alphaa"]):
        out = invoke(*args, "--catalog", hand_path)
        assert out.exit_code == 2 and "no entity called 'Alphaa'" in out.output + out.stderr
        assert "did you mean: a" in out.output + out.stderr


def test_weights_file_overrides_and_bad_weights_exit_2(invoke, hand_path: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    weights = tmp_path / "adoption-only.yaml"
    weights.write_text("rank: {adoption: 1, quality: 0, ecosystem: 0, match_graph: 0}\n")
    out = invoke("scores", "--weights", weights, "--format", "json", "--limit", "0", "--catalog", hand_path)
    assert [(d["id"], d["rank"]) for d in json.loads(out.output)] == [
        ("a", 100), ("b", 60), ("c", 20), ("s", 20), ("f", 0), ("t", 0)]
    bad = tmp_path / "bad.yaml"
    bad.write_text("rank:\n  popularity: 1\n")
    out = invoke("scores", "--weights", bad, "--catalog", hand_path)
    assert out.exit_code == 2 and "unknown weight 'rank.popularity'" in out.output + out.stderr


def test_recomputed_scores_print_identical_numbers(invoke, examples_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = invoke("scores", "--recompute", "--limit", "0", "--catalog", examples_path)
    second = invoke("scores", "--recompute", "--limit", "0", "--catalog", examples_path)
    assert first.exit_code == 0 and first.output == second.output
    assert len(first.output.splitlines()) > 40 and "the-pile" in first.output


def test_the_pile_neighbours(invoke, examples_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = invoke("neighbours", "the-pile", "--format", "json", "--catalog", examples_path)
    data = json.loads(out.output)
    assert {"c4", "redpajama", "falcon-refinedweb", "common-crawl"} <= {n["id"] for n in data["neighbours"]}
    assert all({"id", "name", "kind", "relations", "weight", "rank", "direction"} <= set(n) for n in data["neighbours"])
    table = invoke("neighbours", "The Pile", "--catalog", examples_path).output
    assert table.startswith("Neighbours of The Pile (the-pile):\n") and "Falcon RefinedWeb" in table


def test_explain_the_pile(invoke, examples_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = invoke("explain", "the-pile", "--catalog", examples_path)
    lines = out.output.splitlines()
    assert out.exit_code == 0 and lines[0] == "The Pile (the-pile, dataset)" and lines[1].startswith("Rank ")
    headers = [line.split(":")[0] for line in lines if line[:1].isalpha()]
    assert [h.rsplit(" ", 1)[0] for h in headers[2:]] == ["Adoption", "Quality", "Ecosystem", "Match Graph"]
    assert "100,000 downloads" in out.output and "integrates with" in out.output


@pytest.mark.parametrize("fmt", ["text", "md", "html", "json"])
def test_compare_distilroberta_and_the_pile(invoke, examples_path: Path, fmt: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = invoke("compare", "distilroberta-base", "the-pile", "--format", fmt, "--catalog", examples_path)
    assert out.exit_code == 0
    if fmt == "json":
        data = json.loads(out.output)
        assert data["left"]["id"] == "distilroberta-base" and data["right"]["id"] == "the-pile"
        assert data["verdict"].split(". ")[0].endswith("/100")
    else:
        assert "distilroberta-base" in out.output and "The Pile" in out.output
    target = tmp_path / f"compare.{fmt}"
    written = invoke("compare", "distilroberta-base", "the-pile", "--format", fmt, "-o", target,
                     "--catalog", examples_path)
    assert written.exit_code == 0 and target.read_text(encoding="utf-8") == out.output
