"""Evaluate `matchgraph match` on real metadata we did not write (bench/eval_sets/mteb.json).

Records are a name and one sentence each (MTEB task descriptions, Croissant descriptions); needs are
MTEB categories written as a short name and as a real one-sentence task description (see
``bench/make_eval_sets.py``). Rankers, all on the same records:

- ``BM25 (bm25s)``: bm25s with its English stop words removed, over name + description (the baseline);
- ``dense``: cosine of all-MiniLM-L6-v2 sentence embeddings alone (needs the ``semantic`` extra);
- ``ours default``: :func:`matchgraph.matching.match.rank` with the default weights and whatever the default
  install has (all-mpnet-base-v2 for records without capabilities up to 20,000 of them);
- ``ours --semantic``: with dense similarity fused in;
- ablations of ours;
- with ``--experiments``, two rankers that were tried and not taken (BENCHMARKS.md, round 3): the
  need through the encoder against the entities' static vectors, and dense alone with each
  entity's name as written.

Reports recall@10, nDCG@10 and MRR@10 per split (``tune`` is the only part used to choose weights)
and style (sentence / short name). Also runs ``bench/eval_needs.yaml`` over the example cards.

Usage::

    python bench/eval_real.py                    # all sets, all rankers
    python bench/eval_real.py --json out.json --no-cards
    python bench/eval_real.py --cache /tmp/enc.npz --experiments
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_match import load_needs, metrics  # noqa: E402
from matchgraph.matching.match import DEFAULT_WEIGHTS, MatchWeights, rank  # noqa: E402
from matchgraph.matching.textindex import EntityText, TextIndex, index_texts  # noqa: E402

K = 10
Ranker = Callable[[str], list[str]]


def load_set(path: Path) -> tuple[list[dict], list[dict]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["records"], data["needs"]


def entities_of(records: list[dict]) -> dict[str, EntityText]:
    return {f"urn:eval:{r['id']}": EntityText(slug=r["id"], name=r["name"], kind=r.get("kind"),
                                               description=r.get("description", "")) for r in records}


def bm25s_ranker(records: list[dict]) -> Ranker:
    """The baseline: bm25s over name + description, English stop words removed."""
    import bm25s

    corpus = [f"{r['name']} {r.get('description', '')}" for r in records]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    ids = [r["id"] for r in records]

    def run(need: str) -> list[str]:
        tokens = bm25s.tokenize([need], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        docs, scores = retriever.retrieve(tokens, k=min(K, len(ids)), show_progress=False)
        return [ids[int(d)] for d, s in zip(docs[0], scores[0]) if s > 0]

    return run


def dense_matrix(index: TextIndex, entities: dict[str, EntityText], model: str) -> Any:
    """(rows, vectors, encoder) of ``model`` for the entities of an in-memory index, or None when it cannot run."""
    try:
        from matchgraph.matching.semantic import SemanticUnavailable, entity_texts_of, load_encoder
        encoder = load_encoder(model)
    except (ImportError, SemanticUnavailable) as exc:
        print(f"dense rankers skipped: {exc}", file=sys.stderr)
        return None
    pairs = entity_texts_of(entities, index)
    vectors = encoder.encode([t for _, t in pairs])
    return np.array([r for r, _ in pairs], dtype=np.int64), vectors, encoder


def evaluate(ranker: Ranker, needs: list[dict]) -> dict[str, Any]:
    per = []
    for n in needs:
        ranked = ranker(n["need"])
        per.append({"need": n["need"], "ranked": ranked[:K], **metrics(ranked, n["relevant"], K)})
    means = {m: float(np.mean([p[m] for p in per])) if per else float("nan")
             for m in ("recall@10", "ndcg@10", "mrr@10")}
    return {"means": means, "per_need": per}


def ours(index: TextIndex, weights: MatchWeights, dense: Any = None, *, semantic: bool | None = None,
         feedback: bool = True) -> Ranker:
    """``matchgraph match`` on an in-memory index: ``semantic`` None is the default (the encoder for
    entities without capabilities when ``dense`` is given), True ``--semantic``, False
    ``--no-semantic``; ``feedback`` the pseudo-relevance feedback round (``match`` takes it with
    all-mpnet-base-v2's vectors, not with all-MiniLM-L6-v2's)."""
    from matchgraph.matching.semantic import PLAIN_TOP_COSINE, min_cosine_for, scores_from_vectors

    plain = index.plain

    def run(need: str) -> list[str]:
        sim = plain_sim = None
        if semantic is not False and dense is not None:
            rows, vectors, encoder = dense
            keep = np.ones(len(rows), dtype=bool) if semantic else plain[rows]
            sim = scores_from_vectors(rows[keep], vectors[keep], encoder.encode([need])[0], len(index),
                                      top_floor=-1.0 if semantic else PLAIN_TOP_COSINE,
                                      feedback=feedback,
                                      min_cosine=min_cosine_for(index, need))
            if not semantic:
                sim, plain_sim = None, (sim if plain.any() else None)
        return rank(index, need, limit=K, weights=weights, semantic=sim, plain_semantic=plain_sim).ids

    return run


def dense_only(index: TextIndex, dense: Any) -> Ranker:
    from matchgraph.matching.semantic import similarity

    rows, vectors, encoder = dense

    def run(need: str) -> list[str]:
        cos = similarity(rows, vectors, encoder.encode([need])[0], len(index))
        order = np.argsort(-cos, kind="stable")[:K]
        return [index.slugs[i] for i in order]

    return run


def static_only(index: TextIndex) -> Ranker:
    from matchgraph.matching.match import static_similarity

    def run(need: str) -> list[str]:
        sim = static_similarity(index, need, floor=0.0)
        if sim is None:
            return []
        return [index.slugs[i] for i in np.argsort(-sim, kind="stable")[:K]]

    return run


def asymmetric(index: TextIndex, dense: Any) -> Ranker:
    """The need through the full encoder, the entities by their static vectors (the default
    install's): the table's space is a rotation of the encoder's (``bench/distil_static.py``), found
    here by orthogonal Procrustes on the MTEB sentences the table was fitted on (no record, no need)."""
    from distil_static import domain_sentences
    from matchgraph.matching.static_vectors import load_static

    _, _, encoder = dense
    sentences = domain_sentences()
    u, _, vt = np.linalg.svd(encoder.encode(sentences).T @ load_static().encode(sentences))
    rotation = u @ vt

    def run(need: str) -> list[str]:
        query = encoder.encode([need])[0] @ rotation
        cos = index.vectors32 @ (query / max(float(np.linalg.norm(query)), 1e-12))
        return [index.slugs[i] for i in np.argsort(-cos, kind="stable")[:K]]

    return run


def raw_name_dense(index: TextIndex, entities: dict[str, EntityText], dense: Any) -> Ranker:
    """Dense alone with each entity's first text as before this round: the name as written (a hub id)."""
    from matchgraph.matching.semantic import similarity

    _, _, encoder = dense
    pairs = sorted((index.row_of[e.slug], f"{e.name}. {e.description}".strip()) for e in entities.values())
    rows = np.array([r for r, _ in pairs], dtype=np.int64)
    vectors = encoder.encode([t for _, t in pairs])

    def run(need: str) -> list[str]:
        cos = similarity(rows, vectors, encoder.encode([need])[0], len(index))
        return [index.slugs[i] for i in np.argsort(-cos, kind="stable")[:K]]

    return run


def rankers(index: TextIndex, records: list[dict] | None, dense: Any, *, big: Any = None,
            entities: dict[str, EntityText] | None = None, experiments: bool = False) -> dict[str, Ranker]:
    """Every ranker of the tables: ``dense`` is all-MiniLM-L6-v2's (rows, vectors, encoder) (the
    default's), ``big`` all-mpnet-base-v2's (``--semantic``'s)."""
    out: dict[str, Ranker] = {}
    if records is not None:
        out["BM25 (bm25s, stop words removed)"] = bm25s_ranker(records)
    if dense is not None:
        out["dense (all-MiniLM-L6-v2) alone"] = dense_only(index, dense)
    if big is not None:
        out["dense (all-mpnet-base-v2) alone"] = dense_only(index, big)
    if dense is not None:
        if experiments and entities is not None:
            out["dense alone, names as written (round 2)"] = raw_name_dense(index, entities, dense)
            out["asymmetric: encoder need × static entities"] = asymmetric(index, dense)
    out["static vectors alone"] = static_only(index)
    from matchgraph.matching.semantic import SEMANTIC_MODEL, plain_model
    plain = big if plain_model(int(index.plain.sum())) == SEMANTIC_MODEL and big is not None else dense
    feedback = plain is big  # the feedback round goes with all-mpnet-base-v2's reading, as in match()
    out["ours default"] = ours(index, DEFAULT_WEIGHTS, plain, feedback=feedback)
    for name, w in ablations().items():
        out[f"  {name}"] = ours(index, w, plain, feedback=feedback)
    if plain is not dense and dense is not None:
        out["ours default without feedback"] = ours(index, DEFAULT_WEIGHTS, plain, feedback=False)
        out["ours default, records read by all-MiniLM-L6-v2 (round 8)"] = ours(index, DEFAULT_WEIGHTS, dense,
                                                                               feedback=False)
    out["ours --no-semantic (the default before round 4)"] = ours(index, DEFAULT_WEIGHTS, dense, semantic=False)
    if big is not None:
        out["ours --semantic"] = ours(index, DEFAULT_WEIGHTS, big, semantic=True)
        for name, w in semantic_ablations().items():
            out[f"  --semantic {name}"] = ours(index, w, big, semantic=True)
        out["ours --semantic without feedback (round 6)"] = ours(index, DEFAULT_WEIGHTS, big, semantic=True,
                                                                  feedback=False)
    if dense is not None:
        out["ours --semantic with all-MiniLM-L6-v2 (round 5)"] = ours(index, DEFAULT_WEIGHTS, dense, semantic=True,
                                                                      feedback=False)
    return out


def ablations() -> dict[str, MatchWeights]:
    """Ablations of the default ranker."""
    d = DEFAULT_WEIGHTS
    return {"without static vectors": replace(d, dense=0.0, dense_plain=0.0), "without concepts": replace(d, concept=0.0),
            "without coverage": replace(d, coverage=0.0), "without kind hint": replace(d, kind=0.0),
            "without alternatives pull": replace(d, alternative=0.0)}


def semantic_ablations() -> dict[str, MatchWeights]:
    """Ablations of the ranker with ``--semantic``."""
    d = DEFAULT_WEIGHTS
    return {"without concepts": replace(d, concept=0.0), "without coverage": replace(d, coverage=0.0),
            "without kind hint": replace(d, kind=0.0)}


def table(results: dict[str, dict[str, dict[str, Any]]], columns: list[str]) -> str:
    head = "| Ranker | " + " | ".join(f"{c} R@10 | nDCG@10 | MRR" for c in columns) + " |"
    lines = [head, "|---|" + "---:|---:|---:|" * len(columns)]
    for name, by in results.items():
        cells = []
        for c in columns:
            m = by.get(c, {}).get("means")
            cells.append(" | ".join(f"{m[k]:.3f}" for k in ("recall@10", "ndcg@10", "mrr@10")) if m else " | | ")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cards_rankers(dense_ok: bool) -> tuple[dict[str, Ranker], int]:
    """Rankers over the ingested example cards, for bench/eval_needs.yaml."""
    from matchgraph import Catalog, ingest
    from matchgraph.matching.semantic import semantic_scores
    from matchgraph.matching.match import load_index
    from matchgraph.matching.textindex import read_entities

    tmp = tempfile.mkdtemp(prefix="matchgraph-eval-")
    catalog = Catalog(str(Path(tmp) / "catalog"))
    ingest(catalog, [ROOT / "examples" / "catalog"])
    index = load_index(catalog)
    out: dict[str, Ranker] = {}
    records = [{"id": e.slug, "name": e.name,
                "description": " ".join([e.description, *e.aliases, *e.keywords,
                                         *(" ".join([c.title, *c.text, *c.unique, *c.alternatives])
                                           for c in e.capabilities.values())])}
               for e in read_entities(catalog).values()]
    out["BM25 (bm25s, stop words removed)"] = bm25s_ranker(records)
    sem = (lambda need: semantic_scores(catalog, index, need)) if dense_ok else None
    if sem is not None:
        def dense_alone(need: str) -> list[str]:
            s = sem(need)
            return [index.slugs[i] for i in np.argsort(-s, kind="stable")[:K]]
        out["dense (all-mpnet-base-v2) alone"] = dense_alone
    out["static vectors alone"] = static_only(index)
    plain = semantic_plain(catalog, index) if dense_ok else None
    out["ours default"] = lambda need: rank(index, need, limit=K, plain_semantic=plain(need) if plain else None).ids
    for name, w in ablations().items():
        out[f"  {name}"] = (lambda w: lambda need: rank(index, need, limit=K, weights=w,
                                                        plain_semantic=plain(need) if plain else None).ids)(w)
    out["ours --no-semantic (the default before round 4)"] = lambda need: rank(index, need, limit=K).ids
    if sem is not None:
        out["ours --semantic"] = lambda need: rank(index, need, limit=K, semantic=sem(need)).ids
        for name, w in semantic_ablations().items():
            out[f"  --semantic {name}"] = (lambda w: lambda need: rank(index, need, limit=K, weights=w,
                                                                       semantic=sem(need)).ids)(w)
    return out, len(index)


def semantic_plain(catalog: Any, index: TextIndex) -> Callable[[str], np.ndarray] | None:
    """What a default ``matchgraph match`` fuses in: the encoder's similarity of the entities
    without capabilities (None when the catalog has none)."""
    from matchgraph.graph.derived import current
    from matchgraph.matching.semantic import PLAIN_TOP_COSINE, SEMANTIC_MODEL, plain_model, semantic_scores

    model = plain_model(int(index.plain.sum())) if bool(index.plain.any()) else None
    if model is None:
        return None
    vectors = current(catalog).embeddings(catalog, index, plain_only=True, model=model)
    return lambda need: semantic_scores(catalog, index, need, vectors=vectors, top_floor=PLAIN_TOP_COSINE,
                                        model=model, feedback=model == SEMANTIC_MODEL)


SETS = {"mteb": ROOT / "bench" / "eval_sets" / "mteb.json", "hub": ROOT / "bench" / "eval_sets" / "hub.json",
        "heldout_mix": ROOT / "bench" / "eval_sets" / "heldout_mix.json"}


def cached_encoder(encoder: Any, path: Path | None) -> Any:
    """The encoder with its outputs kept by text (in memory, and in ``path`` when given): each of
    the many rankers embeds the same needs."""
    import hashlib

    cache: dict[str, np.ndarray] = {}
    if path is not None and path.is_file():
        with np.load(path) as data:
            cache.update({k: data[k] for k in data.files})
    encode = encoder.encode

    def run(texts: list[str], **kw: Any) -> np.ndarray:
        keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
        missing = list(dict.fromkeys(t for k, t in zip(keys, texts) if k not in cache))
        if missing:
            for t, v in zip(missing, encode(missing, **kw)):
                cache[hashlib.sha1(t.encode("utf-8")).hexdigest()] = v
            if path is not None:
                np.savez(path, **cache)
        return np.stack([cache[k] for k in keys]) if keys else np.zeros((0, encoder.dim), dtype=np.float32)

    encoder.encode = run
    return encoder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="hub,mteb", help="Comma-separated sets: " + ", ".join(SETS))
    parser.add_argument("--no-cards", action="store_true", help="Skip bench/eval_needs.yaml over the cards.")
    parser.add_argument("--only", help="Comma-separated ranker names to run (substring match).")
    parser.add_argument("--cache", help="A .npz file keeping the encoder's outputs between runs.")
    parser.add_argument("--json", help="Write all results here.")
    parser.add_argument("--experiments", action="store_true",
                        help="Also the rejected rankers: asymmetric (encoder need x static entities), dense "
                             "alone with names as written.")
    args = parser.parse_args(argv)

    from matchgraph.matching.semantic import MODEL_NAME, SEMANTIC_MODEL, load_encoder
    for model in (MODEL_NAME, SEMANTIC_MODEL):  # one cache file per model
        path = Path(args.cache) if args.cache else None
        if path is not None and model != MODEL_NAME:
            path = path.with_name(f"{path.stem}-{model}{path.suffix}")
        try:
            cached_encoder(load_encoder(model), path)
        except Exception as exc:  # noqa: BLE001 -- the dense rankers are skipped below, saying why
            print(f"encoder {model} not loaded: {exc}", file=sys.stderr)
    report: dict[str, Any] = {}
    columns = ["tune sentence", "tune short", "test sentence", "test short"]
    for set_name in [s for s in args.sets.split(",") if s]:
        records, needs = load_set(SETS[set_name])
        entities = entities_of(records)
        index = index_texts(entities)
        dense = dense_matrix(index, entities, MODEL_NAME)
        big = dense_matrix(index, entities, SEMANTIC_MODEL)
        groups: dict[str, list[dict]] = {}
        for n in needs:
            for key in (f"{n['split']} {n['style']}", f"all {n['style']}"):
                groups.setdefault(key, []).append(n)
        results: dict[str, dict[str, dict[str, Any]]] = {}
        for name, ranker in rankers(index, records, dense, big=big, entities=entities, experiments=args.experiments).items():
            if args.only and not any(s in name for s in args.only.split(",")):
                continue
            start = time.perf_counter()
            results[name] = {c: evaluate(ranker, groups.get(c, [])) for c in columns}
            results[name]["seconds"] = time.perf_counter() - start
        counts = {c: len(groups.get(c, [])) for c in columns}
        print(f"\n{set_name} set: {len(records)} records, {len(needs)} needs {counts}\n")
        print(table(results, columns))
        report[set_name] = results
    if not args.no_cards:
        from matchgraph.matching.semantic import available
        cards, n = cards_rankers(available(SEMANTIC_MODEL))
        card_needs = load_needs(ROOT / "bench" / "eval_needs.yaml")
        card_results = {name: {"eval_needs": evaluate(r, card_needs)} for name, r in cards.items()
                        if not args.only or any(s in name for s in args.only.split(","))}
        print(f"\nbench/eval_needs.yaml: {len(card_needs)} needs over the example cards ({n} entities)\n")
        print(table(card_results, ["eval_needs"]))
        report["eval_needs"] = card_results
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
