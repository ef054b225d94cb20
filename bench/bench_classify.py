"""Benchmark: how fast the capability classifier labels short texts.

Run: python bench/bench_classify.py [N]
"""

from __future__ import annotations

import sys
import time

from matchgraph.matching.classify import classify


def main(n: int = 100_000) -> None:
    """Classify ``n`` short texts and print the CPU and wall time."""
    classify("warm up")
    texts = [f"int8 quantized embedding model number {i} for semantic search on CPU. Runs on laptops."
             for i in range(n)]
    wall, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        classify(text)
    print(f"classified {n} texts: {time.process_time() - cpu:.1f} s CPU, {time.perf_counter() - wall:.1f} s wall")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
