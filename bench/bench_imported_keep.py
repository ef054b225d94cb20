"""What keeping the imported records' vectors costs a need that embeds new ones, when many are kept.

A default ``match`` on a catalog of cards beside imported records embeds the imported records that
can reach its top (at most 50 per need) and keeps their vectors by the hash of their text
(``State.imported_vectors``). This script enters the *hub* set's 276 records as a Hub listing
beside the 42 example cards, gives the current version ``--kept`` vectors already kept (random unit
vectors under made-up keys, as after some hundreds of needs), then asks ``--calls`` times for
``--rows`` imported records not embedded yet, timing each call and counting the bytes written into
the version's directory. Run it with ``PYTHONPATH`` set to each tree to compare them.

Usage::

    python bench/bench_imported_keep.py --kept 20000 --calls 8 --rows 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from eval_hub_import import build_catalog, load_hub_set  # noqa: E402


def _files(directory: Path) -> dict[Path, tuple[int, int, int]]:
    """Each imported-vector file with its inode, modification time and size."""
    return {p: (p.stat().st_ino, p.stat().st_mtime_ns, p.stat().st_size)
            for p in directory.glob("embeddings-imported-*.npz")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kept", type=int, default=20000, help="Vectors kept before the calls.")
    parser.add_argument("--calls", type=int, default=8, help="Calls that each embed new records.")
    parser.add_argument("--rows", type=int, default=10, help="New records per call.")
    args = parser.parse_args(argv)
    from matchgraph.graph import derived
    from matchgraph.matching.match import load_index
    from matchgraph.matching.semantic import load_encoder, plain_model

    records, _, task_types = load_hub_set()
    with tempfile.TemporaryDirectory(prefix="matchgraph-keep-") as tmp:
        catalog = build_catalog("mixed", records, task_types, Path(tmp))
        index = load_index(catalog)
        state = derived.current(catalog)
        model = plain_model(0)
        dim = load_encoder(model).dim
        rng = np.random.default_rng(0)
        vectors = rng.standard_normal((args.kept, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        keys = np.array([f"{i:040x}" for i in range(args.kept)])
        np.savez(state.directory / f"embeddings-imported-{model}.npz", keys=keys, vectors=vectors,
                 build=np.array(getattr(index, "build", "") or ""))
        derived._STATES.clear()
        state = derived.current(catalog)
        rows = np.flatnonzero(index.imported)
        state.imported_vectors(index, rows[:1], model)  # the encoder loaded and the kept file read
        times, written = [], []
        for call in range(args.calls):
            ask = rows[1 + call * args.rows:1 + (call + 1) * args.rows]
            before = _files(state.directory)
            start = time.perf_counter()
            state.imported_vectors(index, ask, model)
            times.append(time.perf_counter() - start)
            written.append(sum(f[2] for p, f in _files(state.directory).items() if before.get(p) != f))
        catalog.close()
    print(f"kept {args.kept:,} vectors, {args.calls} calls of {args.rows} new records ({model}):")
    print(f"  call: median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    print(f"  bytes written per call: median {statistics.median(written) / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
