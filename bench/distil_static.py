"""Distil the static token table of matchgraph.matching.static_vectors from all-MiniLM-L6-v2 (Model2Vec-style).

Every token of the encoder's WordPiece vocabulary goes through the full network on its own
(``[CLS] token [SEP]``; the output at the token's position is kept); the outputs are centred and
reduced by PCA to ``--dims`` dimensions; each token vector is multiplied by a smooth inverse
frequency weight ``a / (a + p(rank))``, with ``p`` the Zipf probability of the token's id as a rank
(BERT's vocabulary is roughly in frequency order), and stored as float16 with the vocabulary in
``matchgraph/data/static-minilm.vectors.npy`` with the vocabulary in ``static-minilm.vocab.txt``.

Needs the ``semantic`` extra (the encoder's weights); takes some minutes on two cores.

Usage::

    python bench/distil_static.py                      # writes matchgraph/data/static-minilm.*
    python bench/distil_static.py --dims 128 --sif 1e-4 --out /tmp/table   # /tmp/table.vectors.npy, .vocab.txt
    python bench/distil_static.py --outputs /tmp/token_out.npy   # reuse the network outputs
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def token_outputs(batch: int = 1024) -> np.ndarray:
    """The encoder's output for every vocabulary token on its own (``[CLS] token [SEP]``)."""
    from matchgraph.matching.semantic import load_encoder

    enc = load_encoder()
    w = enc.weights
    vocab_size = w["embeddings.word_embeddings.weight"].shape[0]
    cls, sep = enc.tokenizer.token_to_id("[CLS]"), enc.tokenizer.token_to_id("[SEP]")
    out = np.zeros((vocab_size, enc.dim), dtype=np.float32)
    start_time = time.perf_counter()
    for start in range(0, vocab_size, batch):
        ids_ = np.arange(start, min(start + batch, vocab_size))
        ids = np.stack([np.full_like(ids_, cls), ids_, np.full_like(ids_, sep)], 1)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][np.arange(3)]
             + w["embeddings.token_type_embeddings.weight"][np.zeros_like(ids)])
        x = enc._layer_norm(x, "embeddings.LayerNorm")
        mask = np.zeros((len(ids_), 1, 1, 3), dtype=np.float32)
        for i in range(enc.layers):
            x = enc._layer(x, mask, i)
        out[ids_] = x[:, 1]          # the token's own output (better than pooling in [CLS] and [SEP])
        print(f"{start + len(ids_)}/{vocab_size} tokens, {time.perf_counter() - start_time:.0f} s", file=sys.stderr)
    return out


def vocabulary() -> list[str]:
    from matchgraph.matching.semantic import load_encoder

    tok = load_encoder().tokenizer
    vocab = [""] * tok.get_vocab_size()
    for token, i in tok.get_vocab().items():
        vocab[i] = token
    return vocab


def table(outputs: np.ndarray, dims: int, sif: float) -> np.ndarray:
    """PCA to ``dims`` and smooth-inverse-frequency weights by Zipf rank."""
    centred = outputs - outputs.mean(0)
    if dims < outputs.shape[1]:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        reduced = centred @ vt[:dims].T
    else:
        reduced = centred
    ranks = np.arange(1, len(outputs) + 1, dtype=np.float64)
    p = (1 / ranks) / (1 / ranks).sum()
    weights = sif / (sif + p)
    return (reduced * weights[:, None]).astype(np.float16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, default=128)
    parser.add_argument("--sif", type=float, default=1e-4)
    parser.add_argument("--outputs", help="A .npy of token outputs to reuse (written there when missing).")
    parser.add_argument("--out", default=str(ROOT / "matchgraph" / "data" / "static-minilm"),
                        help="Prefix of the two files written (.vectors.npy and .vocab.txt).")
    args = parser.parse_args(argv)
    if args.outputs and Path(args.outputs).is_file():
        outputs = np.load(args.outputs)
    else:
        outputs = token_outputs()
        if args.outputs:
            np.save(args.outputs, outputs)
    vocab = vocabulary()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    np.save(f"{args.out}.vectors.npy", table(outputs, args.dims, args.sif))
    Path(f"{args.out}.vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(vocab)} tokens x {args.dims} dims", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
