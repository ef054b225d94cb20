"""The catalog's weights: those of its stored score run. ``scores --recompute --weights FILE`` makes
FILE's the catalog's; every read (``scores``, ``explain``, ``compare``, ``neighbours``, a match's
Rank prior, the pages) then shows what SPARQL reads from the score graph, a recorded match and
``scores --recompute`` alone keep them, ``--default-weights`` goes back, ``--weights G`` on a read
only shows G (docs/scoring.md, "Changing the weights").
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from matchgraph import Catalog
from matchgraph.graph import derived, scoring
from matchgraph.graph.score_graph import stored_run
from matchgraph.graph.scoring import display
from matchgraph.graph.weights import SCORE_KINDS, load_weights, weights_json
from matchgraph.vocab import ID, SCORE_GRAPH

#: The example of docs/scoring.md: rank by quality alone, GitHub stars count double.
DOC_WEIGHTS = "rank: {adoption: 0, quality: 1, ecosystem: 0, match_graph: 0}\nadoption:\n  metrics: {stars: 2.0}\n"
ENTITY = "distilroberta-base"
NEED = "masked language model trained on a large English corpus"


@pytest.fixture
def doc_weights(tmp_path: Path) -> Path:
    """The weights file of docs/scoring.md."""
    path = tmp_path / "my-weights.yaml"
    path.write_text(DOC_WEIGHTS, encoding="utf-8")
    return path


def _graph(path: Path) -> tuple[dict[tuple[str, str], float], dict[str, str], str]:
    """(score values by (slug, kind), rank explanations by slug, the run's weights JSON) via SPARQL."""
    with Catalog(path) as cat:
        rows = cat.rows(f"""SELECT ?e ?kind ?v ?why WHERE {{ GRAPH <{SCORE_GRAPH}> {{
            ?e mg:hasScore ?s . ?s mg:scoreKind ?kind ; schema:value ?v ; mg:explanation ?why }} }}""")
        values = {(str(e).removeprefix(str(ID)), str(k)): float(v) for e, k, v, _ in rows}
        why = {str(e).removeprefix(str(ID)): str(w) for e, k, _, w in rows if str(k) == "rank"}
        run = stored_run(cat)
    assert run is not None
    return values, why, run[1]


def _json(outcome) -> object:  # type: ignore[no-untyped-def]
    assert outcome.exit_code == 0, outcome.output + outcome.stderr
    return json.loads(outcome.output)


def _shown(invoke, path: Path, *args: object) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The five displayed scores of ENTITY by ``matchgraph scores``."""
    found = _json(invoke("--catalog", path, "scores", ENTITY, "--format", "json", *args))[0]  # type: ignore[index]
    return {k: found[k] for k in SCORE_KINDS}


def _displayed(values: dict[tuple[str, str], float], slug: str = ENTITY) -> dict[str, int]:
    return {k: display(values[(slug, k)]) for k in SCORE_KINDS}


def test_reads_show_the_weights_recompute_stored(invoke, example_copy: Path, doc_weights: Path) -> None:  # type: ignore[no-untyped-def]
    default = _shown(invoke, example_copy)
    assert invoke("--catalog", example_copy, "scores", "--recompute", "--weights", doc_weights).exit_code == 0
    values, why, weights = _graph(example_copy)
    assert weights == weights_json(load_weights(doc_weights))
    assert _displayed(values) != default  # the weights matter for this entity
    assert _shown(invoke, example_copy) == _displayed(values)
    explained = _json(invoke("--catalog", example_copy, "explain", ENTITY, "--format", "json"))
    assert explained["rank"] == display(values[(ENTITY, "rank")])  # type: ignore[index]
    assert explained["scores"]["rank"]["explanation"] == why[ENTITY]  # type: ignore[index]
    compared = _json(invoke("--catalog", example_copy, "compare", ENTITY, "the-pile", "--format", "json"))
    for side, slug in (("left", ENTITY), ("right", "the-pile")):
        assert {k: compared[side][k] for k in SCORE_KINDS} == _displayed(values, slug)  # type: ignore[index]
    near = _json(invoke("--catalog", example_copy, "neighbours", "roberta-base", "--format", "json"))
    assert {n["id"]: n["rank"] for n in near["neighbours"]} == {  # type: ignore[index]
        n["id"]: display(values[(n["id"], "rank")]) for n in near["neighbours"]}  # type: ignore[index]
    found = _json(invoke("--catalog", example_copy, "match", NEED, "--no-record", "--format", "json"))
    priors = {r["id"]: r["why"]["graph"]["rank"] for r in found["results"]}  # type: ignore[index]
    assert priors and priors == pytest.approx({s: values[(s, "rank")] for s in priors}, abs=0.011)
    from matchgraph.graph.scores import load_scores  # what the pages, the site and the exports read

    with Catalog(example_copy) as cat:
        assert {k: display(load_scores(cat, factors=False)[ENTITY].score(k)) for k in SCORE_KINDS} == _displayed(values)


def test_a_recorded_match_keeps_the_catalogs_weights(invoke, example_copy: Path, doc_weights: Path) -> None:  # type: ignore[no-untyped-def]
    assert invoke("--catalog", example_copy, "scores", "--recompute", "--weights", doc_weights).exit_code == 0
    _, _, weights = _graph(example_copy)
    recorded = _json(invoke("--catalog", example_copy, "match", NEED, "--limit", "3", "--format", "json"))
    values, _, after = _graph(example_copy)
    assert after == weights
    with Catalog(example_copy) as cat:
        assert stored_run(cat)[0] == cat.data_version  # type: ignore[index]
        table = derived.current(cat).scores(load_weights(doc_weights))
    assert values == {(s, k): round(float(table.values[i, c]), 2) for i, s in enumerate(table.slugs)
                      for c, k in enumerate(SCORE_KINDS)}
    top = recorded["results"][0]["id"]  # type: ignore[index]
    assert _shown(invoke, example_copy) == _displayed(values)
    assert _json(invoke("--catalog", example_copy, "scores", top, "--format", "json"))[0]["times_matched"] == 1  # type: ignore[index]


def test_a_match_computes_the_catalogs_weights_from_the_parents(example_catalog: Catalog) -> None:
    from matchgraph.graph.scores import load_scores
    from matchgraph.matching.events import record_match

    quality = {"rank": {"adoption": 0, "quality": 1, "ecosystem": 0, "match_graph": 0}}
    load_scores(example_catalog, recompute=True, weights=quality)
    before = scoring.counters["evidence"]
    record_match(example_catalog, SimpleNamespace(query="a need", started=datetime.now(timezone.utc),
                                                  results=[SimpleNamespace(id="the-pile", score=1.0)]))
    assert scoring.counters["evidence"] == before  # no pass over every entity's evidence, for either table
    assert stored_run(example_catalog) == (example_catalog.data_version, weights_json(load_weights(quality)))
    state = derived.current(example_catalog)
    table, full = state.scores(quality), scoring.compute_table(state.facts, state.nodes, state.projection,
                                                                load_weights(quality))
    assert table.slugs == full.slugs and table.weights == full.weights
    for name in ("values", "factor_values", "factor_points", "pagerank"):
        np.testing.assert_allclose(getattr(table, name), getattr(full, name), rtol=0, atol=1e-9, err_msg=name)


def test_recompute_alone_keeps_the_catalogs_weights(invoke, example_copy: Path, doc_weights: Path,  # type: ignore[no-untyped-def]
                                                     tmp_path: Path) -> None:
    assert invoke("--catalog", example_copy, "scores", "--recompute", "--weights", doc_weights).exit_code == 0
    _, _, weights = _graph(example_copy)
    card = tmp_path / "new-model.md"
    card.write_text("---\nid: new-model\nname: New Model\nkind: model\nrelations:\n  trainedOn: [the-pile]\n---\n"
                    "\n## Masked-token prediction\nFills in masked tokens.\n", encoding="utf-8")
    assert invoke("--catalog", example_copy, "ingest", card).exit_code == 0
    assert _graph(example_copy)[2] == weights  # an ingest leaves the run (behind) with its weights
    assert invoke("--catalog", example_copy, "scores", "--recompute").exit_code == 0
    values, _, after = _graph(example_copy)
    assert after == weights and ("new-model", "rank") in values
    assert _shown(invoke, example_copy) == _displayed(values)


def test_default_weights_go_back_to_the_defaults(invoke, example_copy: Path, doc_weights: Path) -> None:  # type: ignore[no-untyped-def]
    default = _shown(invoke, example_copy)
    assert invoke("--catalog", example_copy, "scores", "--recompute", "--weights", doc_weights).exit_code == 0
    assert _shown(invoke, example_copy, "--default-weights") == default  # shown, not stored
    assert _graph(example_copy)[2] == weights_json(load_weights(doc_weights))
    assert invoke("--catalog", example_copy, "scores", "--recompute", "--default-weights").exit_code == 0
    values, _, weights = _graph(example_copy)
    assert weights == weights_json(load_weights()) and _shown(invoke, example_copy) == _displayed(values) == default
    both = invoke("--catalog", example_copy, "scores", "--weights", doc_weights, "--default-weights")
    assert both.exit_code == 2 and "not both" in both.output + both.stderr


def test_weights_on_a_read_show_them_without_storing(invoke, example_copy: Path, doc_weights: Path,  # type: ignore[no-untyped-def]
                                                     tmp_path: Path) -> None:
    assert invoke("--catalog", example_copy, "scores", "--recompute", "--weights", doc_weights).exit_code == 0
    with Catalog(example_copy) as cat:
        version = cat.version
    stored = _graph(example_copy)
    other = tmp_path / "adoption-only.yaml"
    other.write_text("rank: {adoption: 1, quality: 0, ecosystem: 0, match_graph: 0}\n", encoding="utf-8")
    shown = _shown(invoke, example_copy, "--weights", other)
    with Catalog(example_copy) as cat:
        expected = derived.current(cat).scores(load_weights(other))
        assert cat.version == version  # nothing written
    row = expected.row(ENTITY)
    assert shown == {k: display(float(expected.values[row, c])) for c, k in enumerate(SCORE_KINDS)}
    assert shown != _displayed(stored[0])
    assert _graph(example_copy) == stored and _shown(invoke, example_copy) == _displayed(stored[0])


NEW_ENTITY = """@prefix mg: <https://w3id.org/matchgraph/ns#> .
@prefix mgid: <https://w3id.org/matchgraph/id/> .
@prefix schema: <https://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
mgid:tiny-masked-lm a mg:Entity, mg:Model ; dcterms:identifier "tiny-masked-lm" ; schema:name "Tiny Masked LM" ;
    dcterms:description "A small masked language model trained on English text." ; mg:derivedFrom mgid:roberta-base .
"""


def test_a_write_publishes_the_catalogs_weights_and_reads_write_nothing(invoke, example_copy: Path,  # type: ignore[no-untyped-def]
                                                                       doc_weights: Path, tmp_path: Path) -> None:
    """After an ingest, the new version's state holds the table of the catalog's weights: a match,
    neighbours or scores read it and compute no score table (they computed and stored it before; the
    text index is still built by the first match, as for any catalog)."""
    from matchgraph.graph.weights import weights_digest

    assert invoke("--catalog", example_copy, "scores", "--recompute", "--weights", doc_weights).exit_code == 0
    card = tmp_path / "tiny.ttl"
    card.write_text(NEW_ENTITY, encoding="utf-8")
    assert invoke("--catalog", example_copy, "ingest", card).exit_code == 0
    with Catalog(example_copy) as cat:
        state = derived.latest(cat)
        assert state is not None and state.meta["data_version"] == cat.data_version
        folder = state.directory
    assert (folder / f"scores-{weights_digest(load_weights(doc_weights))}.json").exists()
    tables = sorted(p.name for p in folder.glob("scores-*"))
    for args in (("match", NEED, "--no-record"), ("neighbours", "tiny-masked-lm"), ("scores", "tiny-masked-lm")):
        assert invoke("--catalog", example_copy, *args).exit_code == 0
    assert sorted(p.name for p in folder.glob("scores-*")) == tables
