"""Fit the fusion of `matchgraph match` on the tune halves of the real-metadata sets (bench/eval_sets).

Two families, each scored on the *tune* halves only (hub and mteb, sentence and short-name needs;
the mean of recall@10 and nDCG@10 over the four columns is the objective):

- the shares of sentence similarity in :class:`matchgraph.matching.match.MatchWeights`
  (``semantic_plain`` / ``semantic_plain_long`` with the full encoder, ``dense_plain`` /
  ``dense_plain_long`` with the static vectors), through :func:`matchgraph.matching.match.rank` itself;
- reciprocal rank fusion of our lexical evidence with the encoder's (``a / (k + rank_lex) + 1 / (k +
  rank_dense)``) and a z-score fusion, for comparison.

The test halves are printed for the chosen rows only with ``--test`` (read them to report, never
to choose). Needs the ``semantic`` extra for the encoder rows.

Usage::

    python bench/eval_fusion.py --cache /tmp/enc.npz            # both families, tune halves
    python bench/eval_fusion.py --mode default                   # static-vector shares only
    python bench/eval_fusion.py --mode semantic --model all-mpnet-base-v2 --cache /tmp/enc.npz
    python bench/eval_fusion.py --mode ensemble --cache /tmp/enc.npz --test   # both encoders mixed

``--mode prf`` (session 10): pseudo-relevance feedback on the embeddings (the need's vector moved
toward its first k entities' vectors), alone and fused as ``--semantic``.

``--mode ensemble`` (round 7, tried and not taken): the cosine ``a * all-mpnet-base-v2 + (1 - a) *
all-MiniLM-L6-v2``, alone and fused as ``--semantic`` fuses its encoder (``a = 1`` is ``--semantic``).
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_match import metrics  # noqa: E402
from eval_real import SETS, K, cached_encoder, dense_matrix, entities_of, load_set  # noqa: E402
from matchgraph.matching.match import DEFAULT_WEIGHTS, rank  # noqa: E402
from matchgraph.matching.semantic import (MODEL_NAME, SEMANTIC_MODEL, feedback_similarity, load_encoder,  # noqa: E402
                                         rescale, similarity)
from matchgraph.matching.textindex import index_texts  # noqa: E402

COLUMNS = [f"{s} {style}" for s in ("hub", "mteb") for style in ("sentence", "short")]


def prepare(model: str = MODEL_NAME) -> list[tuple[str, Any, list[dict]]]:
    """Per set: the index, and per need its encoder's (``model``) cosines and our lexical evidence."""
    out = []
    for name in ("hub", "mteb"):
        records, needs = load_set(SETS[name])
        entities = entities_of(records)
        index = index_texts(entities)
        rows, vectors, encoder = dense_matrix(index, entities, model)
        lexical_only = replace(DEFAULT_WEIGHTS, dense=0.0, dense_plain=0.0, kind=0.0, alternative=0.0, prior=0.0)
        for n in needs:
            n["query"] = encoder.encode([n["need"]])[0]
            n["cos"] = similarity(rows, vectors, n["query"], len(index))
            n["rows"], n["vectors"] = rows, vectors
            parts = {r.id: r.why["components"] for r in rank(index, n["need"], limit=len(index),
                                                             weights=lexical_only).results}
            n["lexical"] = np.array([parts.get(s, {}).get("lexical", 0.0) for s in index.slugs])
        out.append((name, index, needs))
    return out


def score(prepared: list, run: Callable[[Any, dict], list[str]], split: str) -> dict[str, tuple[float, float]]:
    res = {}
    for name, index, needs in prepared:
        for style in ("sentence", "short"):
            ms = [metrics(run(index, n), n["relevant"], K) for n in needs if n["split"] == split and n["style"] == style]
            res[f"{name} {style}"] = (float(np.mean([m["recall@10"] for m in ms])),
                                      float(np.mean([m["ndcg@10"] for m in ms])))
    return res


def line(label: str, res: dict[str, tuple[float, float]]) -> str:
    mean = np.mean([v for pair in res.values() for v in pair])
    return f"| {label} | " + " | ".join(f"{res[c][0]:.3f} / {res[c][1]:.3f}" for c in COLUMNS) + f" | {mean:.3f} |"


def ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(-values, kind="stable")
    out = np.empty(len(values))
    out[order] = np.arange(1, len(values) + 1)
    return out


def top(index: Any, values: np.ndarray) -> list[str]:
    return [index.slugs[i] for i in np.argsort(-values, kind="stable")[:K]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("all", "semantic", "default", "ensemble", "prf"), default="all")
    parser.add_argument("--cache", help="A .npz file keeping the encoder's outputs between runs.")
    parser.add_argument("--test", action="store_true", help="Also print the test halves (to report only).")
    parser.add_argument("--model", choices=(MODEL_NAME, SEMANTIC_MODEL), default=MODEL_NAME,
                        help="The encoder of the sentence-similarity rows (the default's, or --semantic's).")
    args = parser.parse_args(argv)
    cache = Path(args.cache) if args.cache else None
    if cache is not None and args.model != MODEL_NAME:  # eval_real.py's file for this model
        cache = cache.with_name(f"{cache.stem}-{args.model}{cache.suffix}")
    if args.mode == "prf":
        args.model = SEMANTIC_MODEL
        cache = Path(args.cache).with_name(f"{Path(args.cache).stem}-{SEMANTIC_MODEL}{Path(args.cache).suffix}") \
            if args.cache else None
    if args.mode == "ensemble":
        args.model = SEMANTIC_MODEL
        cache = Path(args.cache).with_name(f"{Path(args.cache).stem}-{SEMANTIC_MODEL}{Path(args.cache).suffix}") \
            if args.cache else None
        cached_encoder(load_encoder(MODEL_NAME), Path(args.cache) if args.cache else None)
    cached_encoder(load_encoder(args.model), cache)
    prepared = prepare(args.model)
    rows: list[tuple[str, Callable[[Any, dict], list[str]]]] = []
    d = DEFAULT_WEIGHTS
    if args.mode == "ensemble":
        for (_, _, needs), (_, _, small) in zip(prepared, prepare(MODEL_NAME)):
            for n, m in zip(needs, small):
                n["cos_small"] = m["cos"]
        for a in (1.0, 0.8, 0.7, 0.6, 0.5):
            rows.append((f"dense ensemble, mpnet share {a}",
                         (lambda a: lambda index, n: top(index, a * n["cos"] + (1 - a) * n["cos_small"]))(a)))
            rows.append((f"--semantic with the ensemble, mpnet share {a}",
                         (lambda a: lambda index, n: rank(index, n["need"], limit=K, weights=d, semantic=rescale(
                             a * n["cos"] + (1 - a) * n["cos_small"])).ids)(a)))
    if args.mode == "prf":
        rows.append(("dense alone", lambda index, n: top(index, n["cos"])))
        rows.append(("--semantic", lambda index, n: rank(index, n["need"], limit=K, weights=d,
                                                         semantic=rescale(n["cos"])).ids))
        for k, beta in itertools.product((3, 5, 10), (0.25, 0.5, 1.0)):
            rows.append((f"dense with feedback, top {k}, weight {beta}",
                         (lambda k, b: lambda index, n: top(index, feedback(index, n, k, b)))(k, beta)))
            rows.append((f"--semantic with feedback, top {k}, weight {beta}",
                         (lambda k, b: lambda index, n: rank(index, n["need"], limit=K, weights=d,
                                                             semantic=rescale(feedback(index, n, k, b))).ids)(k, beta)))
    if args.mode in ("all", "semantic"):
        rows.append(("dense alone", lambda index, n: top(index, n["cos"])))
        for a, b in itertools.product((0.5, 0.6, 0.7, 0.8), (0.7, 0.8, 0.9, 1.0)):
            if b < a:
                continue
            w = replace(d, semantic_plain=a, semantic_plain_long=b)
            rows.append((f"--semantic, plain share {a} rising to {b}",
                         (lambda w: lambda index, n: rank(index, n["need"], limit=K, weights=w,
                                                          semantic=rescale(n["cos"])).ids)(w)))
        for k, a in itertools.product((10, 30, 60), (0.3, 0.5, 1.0)):
            rows.append((f"RRF k={k}, lexical weight {a}",
                         (lambda k, a: lambda index, n: top(index, a / (k + ranks(n["lexical"]))
                                                            + 1 / (k + ranks(n["cos"]))))(k, a)))
        for a in (0.2, 0.3, 0.5):
            rows.append((f"z-scores, lexical weight {a}",
                         (lambda a: lambda index, n: top(index, a * _z(n["lexical"]) + _z(n["cos"])))(a)))
    if args.mode in ("all", "default"):
        for a, b in itertools.product((0.3, 0.4, 0.5, 0.6), (0.6, 0.7, 0.8)):
            if b < a:
                continue
            w = replace(d, dense_plain=a, dense_plain_long=b)
            rows.append((f"default, plain share {a} rising to {b}",
                         (lambda w: lambda index, n: rank(index, n["need"], limit=K, weights=w).ids)(w)))
    for split in ("tune", "test") if args.test else ("tune",):
        print(f"\n{split} halves, recall@10 / nDCG@10\n")
        print("| Fusion | " + " | ".join(COLUMNS) + " | mean |")
        print("|---|" + "---:|" * (len(COLUMNS) + 1))
        for label, run in rows:
            print(line(label, score(prepared, run, split)), flush=True)
    return 0


def feedback(index: Any, need: dict, k: int, beta: float) -> np.ndarray:
    """The need's cosines after pseudo-relevance feedback (the product's :func:`feedback_similarity`)."""
    return feedback_similarity(need["rows"], need["vectors"], need["query"], len(index), top=k, weight=beta)


def _z(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() + 1e-9)


if __name__ == "__main__":
    raise SystemExit(main())
