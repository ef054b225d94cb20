"""Progress for builds: silent for the first second, then a bar on the terminal (stderr).

Every build running in this process is also listed by :func:`running`, so that a server can say
what it is building (the web pages answer "building, step 3 of 18" instead of hanging).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["BuildProgress", "ProgressCallback", "running"]

#: What long library calls (ingest, import, synth, site) report to: ``progress(stage, done, total)``.
ProgressCallback = Callable[[str, int, int], None]

_RUNNING: dict[int, BuildProgress] = {}
_RUNNING_LOCK = threading.Lock()


def running() -> list[dict[str, Any]]:
    """The builds running in this process now, oldest first.

    Returns
    -------
    list of dict
        ``title``, ``step`` (steps started), ``total``, ``what`` (the current step) and
        ``seconds`` (since the build began) of each.

    Examples
    --------
    >>> with BuildProgress("Building", total=2, enabled=False) as progress:
    ...     progress.step("facts")
    ...     [(b["title"], b["step"], b["total"], b["what"]) for b in running()]
    [('Building', 1, 2, 'facts')]
    >>> running()
    []
    """
    with _RUNNING_LOCK:
        builds = sorted(_RUNNING.values(), key=lambda b: b.started)
        return [{"title": b.title, "step": b.done, "total": b.total, "what": b.what,
                 "seconds": time.perf_counter() - b.started} for b in builds]


class BuildProgress:
    """Steps of a build, shown with rich on stderr once the build has taken more than ``delay`` seconds.

    Nothing is shown when stderr is not a terminal (pipes, tests, the server) or when the build
    ends within the delay, so quick reads stay quiet. The bar appears at the delay even when the
    first step is still running (a first ``match --semantic`` embeds 2,000 texts a step, about
    13 s on two cores).

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
        self.what = ""
        self._bar: Any = None
        self._task: Any = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self) -> BuildProgress:
        with _RUNNING_LOCK:
            _RUNNING[id(self)] = self
        return self

    def __exit__(self, *exc: object) -> None:
        with _RUNNING_LOCK:
            _RUNNING.pop(id(self), None)
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None:
                self._bar.update(self._task, completed=self.total)
                self._bar.stop()
                self._bar = None

    def step(self, what: str) -> None:
        """Mark the start of a step (``what`` is shown next to the bar)."""
        self.done += 1
        self.what = what
        if not self.enabled:
            return
        waited = time.perf_counter() - self.started
        if waited >= self.delay:
            self._show()
        elif self._timer is None:  # the bar comes at the delay, whether or not a step ends by then
            self._timer = threading.Timer(self.delay - waited, self._show)
            self._timer.daemon = True
            self._timer.start()
        with self._lock:
            if self._bar is not None:
                self._bar.update(self._task, completed=max(self.done - 1, 0), what=what)

    @property
    def shown(self) -> bool:
        """True while the bar is on the terminal."""
        return self._bar is not None

    def _show(self) -> None:
        with self._lock:
            if self._bar is not None or self._closed:
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                                 TextColumn("{task.fields[what]}", markup=False), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task(self.title, total=self.total, completed=max(self.done - 1, 0),
                                            what=self.what)
            self._bar.start()
