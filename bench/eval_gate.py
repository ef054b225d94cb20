"""How close the sentence encoders put meaningless needs and real ones to a catalog's records.

For each evaluation set (``bench/eval_sets/``) and each bundled encoder, the best cosine of every
real need over the set's records against that of 30 meaningless needs (stop words, gibberish,
a dash, everyday phrases), and whether each need shares a word with the catalog: the figures behind
:data:`matchgraph.matching.semantic.MIN_COSINE` and ``UNANCHORED_MIN_COSINE`` (BENCHMARKS.md,
round 9).

Usage::

    python bench/eval_gate.py --cache /tmp/enc.npz
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_real as E  # noqa: E402
from _tables import table_head, table_row  # noqa: E402
from matchgraph.matching.semantic import MODEL_NAME, SEMANTIC_MODEL, load_encoder, similarity  # noqa: E402

MEANINGLESS = ["the and of for with", "zzyzx qwvv", "foo", "-", "asdf", "hello", "lorem ipsum dolor sit amet", "xyz",
               "qwerty uiop", "a", "what", "test", "blah blah", "12345", "???", "hjkl", "banana", "my cat is sleeping",
               "weather tomorrow", "buy cheap shoes", "pizza recipe", "the", "it is", "ok", "nothing", "something",
               "stuff", "aaaa", "kjhsdf kjhsdf", "..."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="The .npz cache of bench/eval_real.py (the encoders' outputs).")
    args = parser.parse_args(argv)
    for model in (MODEL_NAME, SEMANTIC_MODEL):
        path = Path(args.cache) if args.cache else None
        if path is not None and model != MODEL_NAME:
            path = path.with_name(f"{path.stem}-{model}{path.suffix}")
        E.cached_encoder(load_encoder(model), path)
    print(table_head(["set", "encoder", "real: lowest, p5, median best cosine", "meaningless: median, highest",
                      "real needs sharing no word", "meaningless sharing no word"]))
    for name, path in E.SETS.items():
        records, needs = E.load_set(path)
        entities = E.entities_of(records)
        index = E.index_texts(entities)
        for model in (MODEL_NAME, SEMANTIC_MODEL):
            rows, vectors, encoder = E.dense_matrix(index, entities, model)

            def best(text: str) -> float:
                return float(similarity(rows, vectors, encoder.encode([text])[0], len(index)).max())

            real = np.array([best(n["need"]) for n in needs])
            noise = np.array([best(t) for t in MEANINGLESS])
            alone = sum(not index.shares_a_word(n["need"]) for n in needs)
            noise_alone = sum(not index.shares_a_word(t) for t in MEANINGLESS)
            print(table_row([name, model, f"{real.min():.3f}, {np.percentile(real, 5):.3f}, {np.median(real):.3f}",
                             f"{np.median(noise):.3f}, {noise.max():.3f}", f"{alone} of {len(needs)}",
                             f"{noise_alone} of {len(MEANINGLESS)}"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
