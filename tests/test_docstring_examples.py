"""Every ``Examples`` section of the library's docstrings runs and prints what it shows.

The examples are the reference a reader copies from; a stale one is a bug. Examples marked
``# doctest: +SKIP`` (they open a server or read files a reader has) are not run.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import matchgraph


def _modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(matchgraph.__path__, prefix="matchgraph."):
        if info.name.endswith("__main__"):
            continue  # runs the CLI when imported
        module = importlib.import_module(info.name)
        if any(t.examples for t in doctest.DocTestFinder().find(module)):
            names.append(info.name)
    return names


MODULES = _modules_with_examples()


def test_the_library_has_examples() -> None:
    assert len(MODULES) >= 20


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(module):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (output above)"
