"""Progress for builds: silent for the first second, then a bar on the terminal (stderr)."""

from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["BuildProgress"]


class BuildProgress:
    """Steps of a build, shown with rich on stderr once the build has taken more than ``delay`` seconds.

    Nothing is shown when stderr is not a terminal (pipes, tests, the server) or when the build
    ends within the delay, so quick reads stay quiet.

    Examples
    --------
    >>> with BuildProgress("Building", total=2) as progress:
    ...     progress.step("facts")
    ...     progress.step("scores")
    """

    def __init__(self, title: str, total: int, *, delay: float = 1.0, enabled: bool | None = None) -> None:
        self.title = title
        self.total = total
        self.delay = delay
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.perf_counter()
        self.done = 0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> BuildProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.total)
            self._bar.stop()
            self._bar = None

    def step(self, what: str) -> None:
        """Mark the start of a step (``what`` is shown next to the bar)."""
        self.done += 1
        if not self.enabled:
            return
        if self._bar is None and time.perf_counter() - self.started >= self.delay:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[what]}"),
                                 TimeElapsedColumn(), console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task(self.title, total=self.total, what=what)
            self._bar.start()
        if self._bar is not None:
            self._bar.update(self._task, completed=max(self.done - 1, 0), what=what)
