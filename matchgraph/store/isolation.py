"""Run a piece of work on the store in a child process, so that an engine abort cannot take the caller down.

Oxigraph's engine aborts the whole process on some of its own bugs (pyoxigraph 0.5.13 panics,
"user-provided comparison function does not correctly implement a total order", on
``SELECT ?a ?b WHERE { ?a mg:derivedFrom* ?b } ORDER BY ?a`` and aborts: exit 134, a Rust
backtrace, no Python exception to catch). ``matchgraph serve`` already runs queries in worker
processes and answers 500 when one dies; :func:`call_isolated` gives a single command the same:
the work runs in a child process, its result (or its exception) comes back pickled over a pipe,
and a child killed by a signal becomes an :class:`EngineCrash` that says what happened, without
the backtrace. The catalog is as it was: the child's writes, if any, are all-or-nothing versions
(:mod:`matchgraph.store.versions`).

The child is a fork when the calling process has a single thread (a command line process: the
work opens the catalog itself, in the child). A process with other threads (a test runner, an
application that has opened stores: RocksDB's thread pool does not survive a fork, and a fork
waiting on it hangs) gets a fresh interpreter instead, ``python -m matchgraph.store.isolation``,
which is sent the work by reference (a module-level function) and its arguments pickled.
Figures (2-core Xeon, BENCHMARKS.md "An engine abort"): ``call_isolated(sum, [1, 2])`` 2.1 ms
with a fork, 38 ms with a fresh interpreter (plus the imports of the work); ``matchgraph sparql``
over the example catalog (every triple, 7,002 rows, CSV) 0.286 s against 0.285 s in-process
(``farm-bench -n 10 --vs``: 1.00x wall).
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import subprocess
import sys
import tempfile
from typing import Any, Callable, TypeVar

from ..errors import CatalogError, MatchgraphError

__all__ = ["call_isolated", "EngineCrash", "ENGINE_CRASH_HINT"]

T = TypeVar("T")

#: What to do when the engine crashed on a query (also the endpoint's advice).
ENGINE_CRASH_HINT = ("this is a bug of the query engine, not of the query or the catalog; rewriting the query "
                     "usually avoids it: order by strings (ORDER BY STR(?x)) or not at all, or use another "
                     "property path")

_PANIC = re.compile(r"panicked at [^\n]*:\n([^\n]+)")
#: Exit code of a child whose own machinery failed (not the work: its errors travel back).
_CHILD_FAILED = 70


class EngineCrash(CatalogError):
    """The query engine killed the process that ran the work (the catalog is unchanged)."""


def call_isolated(work: Callable[..., T], *args: Any, what: str = "the query", **kwargs: Any) -> T:
    """``work(*args, **kwargs)`` in a child process; its return value, or its exception raised here.

    Parameters
    ----------
    work : callable
        A module-level function (it may be sent to a fresh interpreter by reference) that opens
        what it needs itself and returns something picklable.
    *args, **kwargs
        Passed to ``work``; picklable.
    what : str, optional
        What the work is, for the error message.

    Returns
    -------
    object
        What ``work`` returned.

    Raises
    ------
    EngineCrash
        When the child died of a signal (an abort of the engine, an out-of-memory kill).
    MatchgraphError
        What ``work`` raised (the same class when it can be pickled).

    Examples
    --------
    >>> call_isolated(sum, [1, 2, 3])
    6
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if hasattr(os, "fork") and _single_threaded():
        status, data, stderr_text = _forked(work, args, kwargs)
    else:
        status, data, stderr_text = _spawned(work, args, kwargs)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT:
        raise KeyboardInterrupt
    if os.WIFSIGNALED(status) or not data:
        raise _crash(status, stderr_text, what)
    if stderr_text:  # the child's notes and warnings, as they would have been written
        sys.stderr.write(stderr_text)
        sys.stderr.flush()
    ok, value = pickle.loads(data)
    if ok:
        return value
    raise value


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: cannot tell, so no fork
        return False


def _forked(work: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[int, bytes, str]:
    """(wait status, reply, stderr) of ``work`` run in a fork."""
    read_end, write_end = os.pipe()
    with tempfile.TemporaryFile() as errors:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _serve(lambda: (work, args, kwargs), write_end, errors.fileno())
        os.close(write_end)
        try:
            with os.fdopen(read_end, "rb") as reply:
                data = reply.read()
            status = os.waitpid(pid, 0)[1]
        except BaseException:  # Ctrl-C: the child goes too
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            raise
        errors.seek(0)
        return status, data, errors.read().decode("utf-8", "replace")


def _spawned(work: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[int, bytes, str]:
    """(wait status, reply, stderr) of ``work`` run in a fresh interpreter."""
    job = pickle.dumps((work, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    with tempfile.TemporaryFile() as errors:
        done = subprocess.run([sys.executable, "-m", "matchgraph.store.isolation"], input=job,
                              stdout=subprocess.PIPE, stderr=errors, check=False)
        errors.seek(0)
        stderr_text = errors.read().decode("utf-8", "replace")
    code = done.returncode
    status = (-code) & 0x7F if code < 0 else (code & 0xFF) << 8  # as os.waitpid reports it
    return status, done.stdout, stderr_text


def _serve(job: Callable[[], tuple[Callable[..., Any], tuple, dict]], reply_fd: int, errors_fd: int) -> None:
    """The child's side: run the job, write the pickled (ok, value) to ``reply_fd``, exit."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C stops the child at once; the parent says so
        import faulthandler

        faulthandler.disable()  # an abort is reported by the parent, not as a Python stack on a stray stream
        os.dup2(errors_fd, 2)
        # what the work writes to stderr reaches the file even where sys.stderr is not file 2 (a test runner)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        try:
            work, args, kwargs = job()
            payload = (True, work(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - carried to the parent, which raises it
            payload = (False, _portable(exc))
        try:
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - a result that cannot travel is an error of its own
            data = pickle.dumps((False, MatchgraphError(f"the result could not be passed back: {exc}")))
        with os.fdopen(reply_fd, "wb") as out:
            out.write(data)
    except BaseException:  # noqa: BLE001 - the child must not return into the caller's stack
        code = _CHILD_FAILED
    finally:
        sys.stderr.flush()
        os._exit(code)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives a pickle round trip, else a MatchgraphError saying the same."""
    try:
        back = pickle.loads(pickle.dumps(exc))
        if type(back) is type(exc) and str(back) == str(exc):
            return exc
    except Exception:  # noqa: BLE001 - unpicklable exceptions are rebuilt below
        pass
    if isinstance(exc, MatchgraphError):
        clone = MatchgraphError(exc.message, hint=exc.hint)
        clone.exit_code = exc.exit_code
        return clone
    if isinstance(exc, KeyboardInterrupt):
        return KeyboardInterrupt()
    return RuntimeError(f"{type(exc).__name__}: {exc}")


def _crash(status: int, stderr_text: str, what: str) -> EngineCrash:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        died = f"was killed by {name}"
    else:
        died = f"exited with code {os.WEXITSTATUS(status)} without an answer"
    panic = _PANIC.search(stderr_text)
    if panic:
        return EngineCrash(f"the query engine (Oxigraph) crashed on {what} ({died}: \"{panic.group(1).strip()}\"); "
                           "the catalog is unchanged", hint=ENGINE_CRASH_HINT)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return EngineCrash(f"{what} was stopped: its process {died} (out of memory?); the catalog is unchanged",
                           hint="add a LIMIT, or run it on a machine with more memory")
    tail = stderr_text.strip().splitlines()[-1:] or [""]
    return EngineCrash(f"{what} failed: its process {died}{': ' + tail[0] if tail[0] else ''}; "
                       "the catalog is unchanged", hint=ENGINE_CRASH_HINT)


def _main() -> None:
    """``python -m matchgraph.store.isolation``: one pickled job on stdin, its pickled reply on stdout."""
    job = pickle.loads(sys.stdin.buffer.read())
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the reply
    _serve(lambda: job, reply_fd, 2)


if __name__ == "__main__":
    _main()
