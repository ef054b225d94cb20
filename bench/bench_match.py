"""Speed of `matchgraph match`: warm query latency and index build on a large synthetic catalog,
and a cold `matchgraph match` process on the example catalog.

Warm queries run :func:`matchgraph.matching.match.match` in one process after a first query has loaded the
index, so they measure what a server or a notebook sees: the data-version check, classifying the
need, BM25 and concept scoring over every entity, the rank prior, the alternatives pull and the
explanations of the top 10. Recorded matches (one small write each) are timed separately.

Usage::

    # the full path through the store (ingest the synthetic catalog first; slow but real)
    matchgraph synth -n 100000 -o /tmp/synth-100k --files ttl --seed 7
    matchgraph --catalog /tmp/cat-100k ingest /tmp/synth-100k --no-validate
    python bench/bench_match.py --catalog /tmp/cat-100k

    # without a store: the index is built straight from the synthetic records
    python bench/bench_match.py --entities 100000 --from-records
    # the same records without capabilities: a default match reads them with the sentence encoder
    python bench/bench_match.py --entities 100000 --from-records --plain
    python bench/bench_match.py --entities 20000 --from-records --plain --random-vectors --cold-runs 0

    python bench/bench_match.py --cold-only        # just the cold CLI on the example catalog
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matchgraph import Catalog, ingest  # noqa: E402
from matchgraph.matching.classify import load_scheme  # noqa: E402
from matchgraph.matching.match import match, rank  # noqa: E402
from matchgraph.matching.match import load_index  # noqa: E402
from matchgraph.matching.textindex import CapabilityText, EntityText, build_index, index_texts  # noqa: E402
from matchgraph.vocab import ID  # noqa: E402

NEED = "small fast masked language model for CPU inference"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def needs(count: int, seed: int = 11) -> list[str]:
    """Needs to time: the evaluation needs, then needs composed from concept labels."""
    import yaml

    data = yaml.safe_load((ROOT / "bench" / "eval_needs.yaml").read_text(encoding="utf-8"))
    out = [n["need"] for n in data["needs"]]
    rng = random.Random(seed)
    concepts = [c for c in load_scheme() if not c.top]
    kinds = ["model", "dataset", "library", "benchmark", "format", "corpus", "tool"]
    while len(out) < count:
        a, b = rng.sample(concepts, 2)
        la, lb = rng.choice(a.labels), rng.choice(b.labels)
        out.append(rng.choice([f"{la} {rng.choice(kinds)} for {lb}", f"fast {la} with {lb}", f"{la} and {lb}",
                               f"open {rng.choice(kinds)} for {la}"]))
    return out[:count]


def time_queries(catalog: Catalog, texts: list[str], *, record: bool) -> list[float]:
    """Milliseconds per match() call."""
    out = []
    for text in texts:
        start = time.perf_counter()
        match(catalog, text, record=record)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2), "p95_ms": round(percentile(ms, 95), 2),
            "max_ms": round(max(ms), 2), "mean_ms": round(statistics.fmean(ms), 2)}


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_store(location: str, queries: int, recorded: int) -> dict[str, Any]:
    """Index build through the store, then warm queries, on an ingested catalog."""
    from matchgraph.graph import derived

    with Catalog(location) as catalog:
        entities = int(catalog.scalar("SELECT (COUNT(?e) AS ?n) WHERE { ?e a mg:Entity }") or 0)
        start = time.perf_counter()
        index = build_index(catalog)
        build = time.perf_counter() - start
        state = derived.current(catalog)
        state.text_index(catalog)
        first_build = json.loads((state.directory / "textindex.json").read_text())["build"]
        size = dir_size(state.directory / first_build)
        derived._STATES.clear()
        start = time.perf_counter()
        load_index(catalog)
        load = time.perf_counter() - start
        texts = needs(queries)
        match(catalog, texts[0], record=False)  # warm: prior and scheme
        warm = time_queries(catalog, texts, record=False)
        rec = time_queries(catalog, texts[:recorded], record=True) if recorded else []
        # a recorded match changes no text: the new versions link the same build, not a new one
        after = derived.current(catalog)
        after.text_index(catalog)
        rebuilt = json.loads((after.directory / "textindex.json").read_text())["build"] != first_build
    return {"entities": entities, "segments": int(len(index.segment_labels)), "terms": len(index.terms),
            "build_s": round(build, 2), "load_s": round(load, 3), "index_bytes": size,
            "warm": summary(warm), "recorded": summary(rec) if rec else None,
            "rebuilt_after_recording": rebuilt}


def synthetic_texts(n: int, seed: int, *, plain: bool = False) -> dict[str, EntityText]:
    """EntityText records straight from the synthetic generator (what ingest would store); with
    ``plain``, a name and a description only (no capabilities), as most imported records are."""
    from matchgraph.sources.synth import entities, plan

    the_plan = plan(n, seed=seed)
    out: dict[str, EntityText] = {}
    for ent in entities(the_plan):
        text = EntityText(slug=ent.slug, name=ent.name, kind=ent.kind, description=ent.description,
                          aliases=list(ent.aliases))
        for pos, cap in enumerate([] if plain else ent.capabilities, start=1):
            text.capabilities[f"{ent.slug}/{pos}"] = CapabilityText(
                title=cap.title, position=pos, text=[cap.description], unique=[cap.unique] if cap.unique else [],
                alternatives=[cap.alternatives] if cap.alternatives else [], concepts={c: 1.0 for c in cap.concepts})
            for other in cap.alternative_names:
                iri = f"{ID}{the_plan.slugs[other]}"
                text.alternatives[iri] = text.alternatives.get(iri, 0.0) + 1
        out[f"{ID}{ent.slug}"] = text
    for iri, text in out.items():  # both directions, as read_entities gives them
        for other, count in list(text.alternatives.items()):
            back = out[other].alternatives
            back[iri] = back.get(iri, 0.0) + count
    return out


def bench_records(n: int, seed: int, queries: int, *, plain: bool = False,
                  random_vectors: bool = False) -> dict[str, Any]:
    """Index built from synthetic records (no store), then warm rank() queries.

    With ``plain`` the records have no capabilities and a default match reads them with the
    sentence encoder it chooses for that many (:func:`matchgraph.matching.semantic.plain_model`):
    the entity texts are embedded once (timed), and each query encodes the need, takes its cosine
    with every entity and ranks, against the same ranking with the static vectors alone
    (``--no-semantic``) in the same run. With ``random_vectors`` too, the entity texts are not
    embedded (random unit vectors of each encoder's size stand in: the time of a warm match does
    not depend on their values) and both encoders' paths are timed, need by need in turn."""
    from matchgraph.matching.semantic import (MODEL_NAME, PLAIN_TOP_COSINE, SEMANTIC_MODEL, _single_thread,
                                              entity_texts_of, load_encoder, plain_model, scores_from_vectors)
    from matchgraph.matching.textindex import save_index

    start = time.perf_counter()
    texts = synthetic_texts(n, seed, plain=plain)
    generate = time.perf_counter() - start
    start = time.perf_counter()
    index = index_texts(texts, data_version="synthetic")
    build = time.perf_counter() - start
    embed_s = None
    model = plain_model(int(index.plain.sum())) if plain else None
    readings: dict[str, tuple[Any, np.ndarray, np.ndarray]] = {}  # model -> (encoder, rows, vectors)
    if plain:
        pairs = entity_texts_of(texts, index)
        rows = np.array([r for r, _ in pairs], dtype=np.int64)
        for name in ([model, MODEL_NAME if model == SEMANTIC_MODEL else SEMANTIC_MODEL] if random_vectors
                     else [model]):
            encoder = load_encoder(name)
            if random_vectors:
                vectors = np.random.default_rng(seed).standard_normal((len(pairs), encoder.dim)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            else:
                start = time.perf_counter()
                vectors = encoder.encode([t for _, t in pairs])
                embed_s = time.perf_counter() - start
            readings[name] = (encoder, rows, vectors)
    del texts
    with tempfile.TemporaryDirectory(prefix="matchgraph-bench-") as tmp:
        name = save_index(index, Path(tmp))
        size = dir_size(Path(tmp) / name)
    items = needs(queries)

    def read_with(name: str) -> Callable[[str], Any]:
        encoder, rows, vectors = readings[name]

        def default(text: str) -> Any:
            with _single_thread():
                query = encoder.encode([text])[0]
            sim = scores_from_vectors(rows, vectors, query, len(index), top_floor=PLAIN_TOP_COSINE,
                                      feedback=name == SEMANTIC_MODEL, min_cosine=-1.0)
            return rank(index, text, plain_semantic=sim)

        return default

    out: dict[str, Any] = {"entities": len(index), "segments": len(index.segment_labels), "terms": len(index.terms),
                           "generate_s": round(generate, 1), "build_s": round(build, 1), "index_bytes": size}
    runs: dict[str, Callable[[str], Any]] = {"warm": read_with(model) if plain else (lambda text: rank(index, text))}
    for other in readings:
        if other != model:
            runs[f"warm_{other}"] = read_with(other)
    if plain:
        runs["warm_static_only"] = lambda text: rank(index, text)
    times: dict[str, list[float]] = {label: [] for label in runs}
    for run in runs.values():
        run(items[0])
    for text in items:  # each need through every path in turn: the machine's drift hits all alike
        for label, run in runs.items():
            start = time.perf_counter()
            run(text)
            times[label].append((time.perf_counter() - start) * 1000)
    out.update({label: summary(ms) for label, ms in times.items()})
    if plain:
        out["encoder"] = model
    if embed_s is not None:
        out["embed_s"] = round(embed_s, 1)
        out["embed_texts_per_s"] = round(len(rows) / embed_s)
    return out


def bench_cold(runs: int) -> dict[str, Any]:
    """`matchgraph match` as a fresh process on the example catalog (index already built)."""
    with tempfile.TemporaryDirectory(prefix="matchgraph-cold-") as tmp:
        location = str(Path(tmp) / "catalog")
        with Catalog(location) as catalog:
            ingest(catalog, [ROOT / "examples" / "catalog"])
            load_index(catalog)
        del catalog
        gc.collect()  # a closed store stays locked until its last reference is gone
        env = dict(os.environ, MATCHGRAPH_CATALOG=location)
        command = [sys.executable, "-m", "matchgraph", "match", NEED]
        subprocess.run(command, env=env, check=True, capture_output=True)  # first run: page cache
        walls, cpus, first = [], [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            first.append(next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("1 ")))
    return {"runs": runs, "wall_median_s": round(statistics.median(walls), 3), "wall_min_s": round(min(walls), 3),
            "cpu_median_s": round(statistics.median(cpus), 3), "first_result": sorted(set(first)),
            "load_average": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", help="An ingested (synthetic) catalog to time through the store.")
    parser.add_argument("--entities", type=int, default=100_000, help="Size for --from-records.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--from-records", action="store_true", help="Build the index from synthetic records.")
    parser.add_argument("--plain", action="store_true",
                        help="With --from-records: records without capabilities, read by the sentence encoder.")
    parser.add_argument("--random-vectors", action="store_true",
                        help="With --plain: random vectors instead of embedding the texts; both encoders timed.")
    parser.add_argument("--queries", type=int, default=300, help="Warm queries to time.")
    parser.add_argument("--recorded", type=int, default=30, help="Recorded matches to time (store only).")
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--cold-only", action="store_true")
    parser.add_argument("--json", help="Write the figures to this file.")
    args = parser.parse_args(argv)

    report: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_average_start": os.getloadavg()[0]}}
    if not args.cold_only:
        if args.catalog:
            report["store"] = bench_store(args.catalog, args.queries, args.recorded)
        if args.from_records:
            report["records"] = bench_records(args.entities, args.seed, args.queries, plain=args.plain,
                                              random_vectors=args.random_vectors)
    if args.cold_runs > 0:
        report["cold_cli"] = bench_cold(args.cold_runs)
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
