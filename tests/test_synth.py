"""The synthetic catalog generator: deterministic, realistic shape, and ingestible as written."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path

import pytest

from matchgraph import Catalog, ConfigError, InputError, ingest
from matchgraph.sources.linking import EntityIndex, find_mentions
from matchgraph.sources.synth import (
    KIND_SHARES, MAX_CAPABILITIES, MIN_CAPABILITIES, REPORT_FILE, SynthReport, card_text, entities, generate, plan,
)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sample() -> tuple[object, list]:
    """A 600-entity plan and its entities (generated once for the module)."""
    p = plan(600, seed=11)
    return p, list(entities(p))


def test_same_seed_writes_identical_files(tmp_path: Path) -> None:
    for fmt in ("cards", "ttl"):
        a = generate(80, tmp_path / f"a-{fmt}", seed=3, fmt=fmt)
        b = generate(80, tmp_path / f"b-{fmt}", seed=3, fmt=fmt)
        c = generate(80, tmp_path / f"c-{fmt}", seed=4, fmt=fmt)
        tree_a, tree_b, tree_c = (_tree(tmp_path / f"{x}-{fmt}") for x in "abc")
        tree_a.pop(REPORT_FILE), tree_b.pop(REPORT_FILE), tree_c.pop(REPORT_FILE)
        assert tree_a == tree_b
        assert tree_a != tree_c
        assert a.to_dict() | {"out_dir": ""} == b.to_dict() | {"out_dir": ""}
        assert c.capabilities != a.capabilities or c.claims != a.claims or tree_a.keys() != tree_c.keys()
    assert len(list((tmp_path / "a-cards").rglob("*.md"))) == 80
    assert len(list((tmp_path / "a-ttl").rglob("*.ttl"))) == 1


def test_kind_proportions() -> None:
    for n in (200, 1000, 5003):
        counts = Counter(plan(n, seed=0).kinds)
        assert sum(counts.values()) == n
        for kind, share in KIND_SHARES:
            assert abs(counts[kind] - n * share) < 1, (n, kind, counts[kind])
    models = Counter(plan(1000, seed=0).kinds)["model"]
    assert models == 450


def test_names_are_unique_and_slugs_are_ids() -> None:
    p = plan(3000, seed=2)
    assert len(set(p.names)) == 3000
    assert len(set(p.slugs)) == 3000
    assert len({n.lower().replace("-", "") for n in p.names}) == 3000


def test_three_to_fifteen_capabilities_each(sample: tuple) -> None:
    _, ents = sample
    counts = [len(e.capabilities) for e in ents]
    assert min(counts) >= MIN_CAPABILITIES and max(counts) <= MAX_CAPABILITIES
    assert max(counts) >= 9, "the tail above three capabilities is missing"
    assert 4 <= statistics.mean(counts) <= 7
    for e in ents:
        titles = [c.title for c in e.capabilities]
        assert len(set(titles)) == len(titles)
        assert all(c.description and c.concepts for c in e.capabilities)


def test_claims_name_existing_entities_the_linker_resolves(sample: tuple) -> None:
    p, ents = sample
    index = EntityIndex()
    for i in range(p.n):
        index.add(p.slugs[i], p.names[i])
    named = 0
    for e in ents:
        for cap in e.capabilities:
            for text, expected in ((cap.unique, cap.unique_mentions), (cap.alternatives, cap.alternative_names)):
                if not text:
                    continue
                assert all(0 <= x < p.n and x != e.index for x in expected)
                found = find_mentions(text, index, exclude=[e.slug])
                assert [slug for _, slug in found] == [p.slugs[x] for x in expected], text
                named += len(expected)
            for x in cap.alternative_names:
                assert p.kinds[x] in ({"tool", "library", "framework"} if e.kind in {"tool", "library", "framework"}
                                      else {e.kind})
    assert named > len(ents) * 3


def test_degrees_are_heavy_tailed_and_lineage_acyclic(sample: tuple) -> None:
    p, ents = sample
    indegree = Counter()
    for e in ents:
        for relation, targets in e.relations.items():
            assert e.index not in targets
            if relation in ("derivedFrom", "subsetOf") and p.kinds[targets[0]] == e.kind:
                assert all(t < e.index for t in targets), "lineage must point to earlier entities"
            indegree.update(targets)
        for cap in e.capabilities:
            indegree.update(cap.alternative_names)
    degrees = sorted((indegree[i] for i in range(p.n)), reverse=True)
    assert degrees[0] >= 20 * max(1, statistics.median(degrees))
    assert sum(degrees[: p.n // 100]) >= 0.15 * sum(degrees)


def test_metrics_are_log_normal_and_follow_popularity(sample: tuple) -> None:
    p, ents = sample
    models = [e for e in ents if e.kind == "model"]
    downloads = sorted(e.metrics["downloads"] for e in models)
    assert downloads[-1] > 100 * statistics.median(downloads)
    top = [e.metrics["downloads"] for e in models if p.ranks[e.index] <= 10]
    tail = [e.metrics["downloads"] for e in models if p.ranks[e.index] > 100]
    assert statistics.median(top) > 10 * statistics.median(tail)


def test_cards_parse_back(sample: tuple) -> None:
    from matchgraph.sources.cards import parse_card

    p, ents = sample
    for e in ents[:40]:
        rec = parse_card(card_text(e, p), f"{e.slug}.md").entities[0]
        assert (rec.id, rec.name, rec.kind) == (e.slug, e.name, e.kind)
        assert len(rec.capabilities) == len(e.capabilities)
        assert {k: [p.slugs[t] for t in v] for k, v in e.relations.items()} == rec.relations


def _check_ingested(cat: Catalog, report: object, ents: list) -> None:
    from matchgraph.graph.stats import catalog_stats

    stats = catalog_stats(cat)
    assert stats["entities"] == report.entities
    assert stats["stubs"] == 0
    assert stats["by_kind"] == dict(sorted(report.by_kind.items()))
    assert stats["capabilities"] == report.capabilities
    assert stats["unique_claims"] == report.unique_claims
    assert stats["alternative_claims"] == report.alternative_claims
    alternatives = cat.scalar("SELECT (COUNT(*) AS ?n) WHERE { ?c mg:namesAlternative ?x . ?x a mg:Model }")
    want = sum(1 for e in ents for c in e.capabilities for x in c.alternative_names if e.kind == "model")
    assert alternatives == want


def test_cards_ingest_with_validation_and_stats_match(tmp_path: Path, invoke) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "synth"
    result = invoke("synth", "--entities", 200, "-o", out, "--seed", 5, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["entities"] == 200 and report["files"] == 200
    assert all(len(list(folder.glob("*/*.md"))) <= 1000 for folder in out.iterdir() if folder.is_dir())
    result = invoke("ingest", out, "--catalog", tmp_path / "cat", "--format", "json")
    assert result.exit_code == 0, result.output
    ingested = json.loads(result.output)
    assert ingested["stubs"] == 0 and not ingested["skipped"]
    result = invoke("stats", "--catalog", tmp_path / "cat", "--format", "json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    for key in ("entities", "by_kind", "capabilities", "claims", "unique_claims", "alternative_claims"):
        assert stats[key] == report[key], key
    assert stats["stubs"] == 0
    with Catalog(tmp_path / "cat") as cat:
        _check_ingested(cat, SynthReport(**{k: report[k] for k in ("entities", "by_kind", "capabilities",
                                                                   "unique_claims", "alternative_claims")}),
                        list(entities(plan(200, seed=5))))


def test_turtle_ingests_with_validation_like_the_cards(tmp_path: Path) -> None:
    report = generate(150, tmp_path / "ttl", seed=8, fmt="ttl")
    with Catalog(tmp_path / "cat") as cat:
        ingested = ingest(cat, [tmp_path / "ttl"], validate=True)
        assert ingested.entities == 150
        _check_ingested(cat, report, list(entities(plan(150, seed=8))))
        concepts = cat.scalar("SELECT (COUNT(DISTINCT ?k) AS ?n) WHERE { ?c a mg:Capability ; mg:concept ?k }")
        assert concepts > 30


def test_refuses_a_non_empty_folder_and_bad_arguments(tmp_path: Path, invoke) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.md").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError):
        generate(5, tmp_path / "full")
    generate(5, tmp_path / "full", overwrite=True)
    assert (tmp_path / "full" / "keep.md").read_text(encoding="utf-8") == "mine"
    with pytest.raises(ConfigError):
        generate(0, tmp_path / "zero")
    with pytest.raises(ConfigError):
        generate(5, tmp_path / "bad", fmt="xml")
    result = invoke("synth", "-n", 5, "-o", tmp_path / "full")
    assert result.exit_code == 1 and "not empty" in result.output + result.stderr
    result = invoke("synth", "-n", 12, "-o", tmp_path / "cli", "--files", "ttl")
    assert result.exit_code == 0 and "Wrote 12 entities" in result.output and "Turtle files" in result.output


def test_the_report_format_is_format_as_everywhere_and_the_old_spellings_still_work(tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                                  invoke, runner) -> None:
    """synth printed JSON with --json where every other command takes --format json (--format chose
    cards or Turtle); now --format text|json is the report and --files cards|ttl what is written."""
    from matchgraph.cli import cli

    result = invoke("synth", "-n", 3, "-o", tmp_path / "a", "--files", "ttl", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.output)["format"] == "ttl"
    old = runner.invoke(cli, ["synth", "-n", "3", "-o", str(tmp_path / "b"), "--format", "ttl", "--json"])
    assert old.exit_code == 0 and json.loads(old.stdout)["format"] == "ttl"  # scripts from before still run
    assert "--format ttl is now --files ttl" in old.stderr and "--json is now --format json" in old.stderr
    helped = invoke("synth", "--help").output
    assert "--format [text|json]" in helped and "--files [cards|ttl]" in helped and "--json" not in helped
    assert invoke("synth", "-n", 3, "-o", tmp_path / "c", "--format", "ttl", "--files", "cards").exit_code == 2
