"""Progress of long builds on the terminal (:mod:`matchgraph.graph.progress`)."""

from __future__ import annotations

import time

from matchgraph.graph.progress import BuildProgress


def test_a_build_bar_appears_at_the_delay_during_a_long_first_step() -> None:
    with BuildProgress("Embedding entity texts", total=3, delay=0.2, enabled=True) as progress:
        progress.step("texts 1-2,000 of 6,000")
        assert not progress.shown
        time.sleep(0.6)  # the first step is still running
        assert progress.shown
    assert not progress.shown
    with BuildProgress("Quick", total=2, delay=0.5, enabled=True) as quick:
        quick.step("one")
        quick.step("two")
    time.sleep(0.7)
    assert not quick.shown  # ended within the delay: never shown
