"""Run a piece of work on the store in a child process, so that an engine abort cannot take the caller down.

Oxigraph's engine aborts the whole process on some of its own bugs (pyoxigraph 0.5.13 panics,
"user-provided comparison function does not correctly implement a total order", on ORDER BY over
dateTimes with and without a time zone, ``tests/data/engine_crash.rq``, and on some property paths
under ORDER BY, and aborts: exit 134, a Rust backtrace, no Python exception to catch), and aborts
too when an allocation fails. ``matchgraph serve`` runs queries in worker processes and answers 500
when one dies; :func:`call_isolated` gives a single command, and the server's updates, the same:
the work runs in a child process, its result (or its exception) comes back pickled over a pipe,
and a child killed by a signal becomes an :class:`EngineCrash` that says what happened (the
panic's message, or the allocation that failed), without the backtrace. The catalog is as it was:
the child's writes, if any, are all-or-nothing versions (:mod:`matchgraph.store.versions`).

- The child is a fork when the calling process has a single thread (a command line process: the
  work opens the catalog itself, in the child). A process with other threads (a server, a test
  runner, an application that has opened stores: RocksDB's thread pool does not survive a fork,
  and a fork waiting on it hangs) gets a fresh interpreter, ``python -P -m
  matchgraph.store.isolation``, sent the work by reference (a module-level function) and its
  arguments pickled.
- The child dies with its caller (Linux ``PR_SET_PDEATHSIG``): a killed command leaves no query
  running and no update that commits after it.
- What the child writes to stderr (a note that it waits for another writer's lock) is passed on
  as it comes, line by line, up to the first line of an abort, which is kept for the message.

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
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Callable, TypeVar

from ..errors import CatalogError, MatchgraphError

__all__ = ["call_isolated", "child_interpreter", "die_with_parent", "process_alive", "abandoned", "abandoned_matching", "EngineCrash", "ENGINE_CRASH_HINT"]

T = TypeVar("T")

#: What to do when the engine crashed on a query (also the endpoint's advice).
ENGINE_CRASH_HINT = ("this is a bug of the query engine, not of the query or the catalog; rewriting the query "
                     "usually avoids it: order by strings (ORDER BY STR(?x)) or not at all, or use another "
                     "property path")
MEMORY_HINT = "add a LIMIT, or run it on a machine with more memory"

_PANIC = re.compile(r"panicked at [^\n]*:\n([^\n]+)")
_NO_MEMORY = re.compile(r"memory allocation of \d+ bytes failed")
#: The first line of what an abort writes: from here on stderr is kept for the message, not shown.
_ABORT_STARTS = re.compile(r"^(thread '.*' .*panicked at|memory allocation of \d+ bytes failed|fatal runtime error"
                           r"|matchgraph child failed:)")
#: Exit code of a child whose own machinery failed (not the work: its errors travel back).
_CHILD_FAILED = 70
_PR_SET_PDEATHSIG = 1


class EngineCrash(CatalogError):
    """The process that ran the work died (an abort of the query engine, out of memory); the catalog is unchanged."""


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
        When the child died (an abort of the engine, an allocation that failed, a kill).
    KeyboardInterrupt
        When Ctrl-C stopped the child (in the main thread only: elsewhere the child ignores it).
    MatchgraphError
        What ``work`` raised (the same class when it can be pickled).

    Examples
    --------
    >>> call_isolated(sum, [1, 2, 3])
    6
    """
    sys.stdout.flush()
    sys.stderr.flush()
    interruptible = threading.current_thread() is threading.main_thread()
    if hasattr(os, "fork") and _single_threaded():
        status, reply, kept = _forked(work, args, kwargs, interruptible)
    else:
        status, reply, kept = _spawned(work, args, kwargs, interruptible)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT and interruptible:
        raise KeyboardInterrupt
    if reply is None:
        raise _crash(status, kept, what)
    ok, value = reply
    if ok:
        return value
    raise value


def _single_threaded() -> bool:
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: cannot tell, so no fork
        return False


def _forked(work: Callable[..., Any], args: tuple, kwargs: dict,
            interruptible: bool) -> tuple[int, tuple[bool, Any] | None, str]:
    """(wait status, reply or None, the kept end of stderr) of ``work`` run in a fork."""
    parent = os.getpid()
    reply_read, reply_write = os.pipe()
    err_read, err_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(reply_read)
        os.close(err_read)
        die_with_parent(parent)
        _serve(lambda: (work, args, kwargs), reply_write, err_write, interruptible)
    os.close(reply_write)
    os.close(err_write)
    with os.fdopen(err_read, "rb") as errors:
        pump = _StderrPump(errors)
        try:
            with os.fdopen(reply_read, "rb") as stream:
                reply = _read_reply(stream)
            status = os.waitpid(pid, 0)[1]
        except BaseException:  # Ctrl-C in the caller: the child goes too
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            raise
        finally:
            pump.join()
    return status, reply, pump.kept


def _spawned(work: Callable[..., Any], args: tuple, kwargs: dict,
             interruptible: bool) -> tuple[int, tuple[bool, Any] | None, str]:
    """(wait status, reply or None, the kept end of stderr) of ``work`` run in a fresh interpreter."""
    job = pickle.dumps((work, args, kwargs, interruptible, os.getpid()), protocol=pickle.HIGHEST_PROTOCOL)
    argv, env = child_interpreter("matchgraph.store.isolation")
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             close_fds=True)
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    pump = _StderrPump(child.stderr)
    try:
        try:
            child.stdin.write(job)
            child.stdin.close()
        except BrokenPipeError:  # it died at once; its stderr says why
            pass
        reply = _read_reply(child.stdout)
        code = child.wait()
    except BaseException:
        child.kill()
        child.wait()
        raise
    finally:
        pump.join()
        child.stdout.close()
        child.stderr.close()
    status = (-code) & 0x7F if code < 0 else (code & 0xFF) << 8  # as os.waitpid reports it
    return status, reply, pump.kept


def _read_reply(stream: IO[bytes]) -> tuple[bool, Any] | None:
    """The child's pickled (ok, value), read as it streams in; None when it died before the end."""
    try:
        reply = pickle.load(stream)
    except (EOFError, pickle.UnpicklingError, ValueError):
        return None
    except Exception as exc:  # noqa: BLE001 - a value that cannot be rebuilt here is an error of its own
        return False, MatchgraphError(f"the result could not be read back: {type(exc).__name__}: {exc}")
    if not (isinstance(reply, tuple) and len(reply) == 2):
        return None
    return reply


class _StderrPump:
    """Passes the child's stderr on line by line as it comes, until the first line of an abort;
    keeps that line and the rest (``kept``) for the error message."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.kept = ""
        self.thread = threading.Thread(target=self._run, name="matchgraph-child-stderr", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        kept: list[str] = []
        for raw in iter(self.stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if kept or _ABORT_STARTS.match(line):
                kept.append(line)
                continue
            try:
                sys.stderr.write(line)
                sys.stderr.flush()
            except (OSError, ValueError):  # the caller's stderr is gone: keep reading, so the child is not blocked
                pass
        self.kept = "".join(kept)

    def join(self) -> None:
        self.thread.join()


def child_interpreter(module: str) -> tuple[list[str], dict[str, str]]:
    """(argv, environment) that run ``python -m module`` of this matchgraph in a fresh interpreter:
    the package found first whatever the working directory and ``PYTHONPATH`` hold, and the working
    directory not on the path (``-P``: a ``pickle.py`` there would be imported). The server's query
    workers start the same way."""
    import matchgraph

    env = dict(os.environ)
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(matchgraph.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    flags = ["-P"] if sys.version_info >= (3, 11) else []
    return [sys.executable, *flags, "-m", module], env


def process_alive(pid: int) -> bool:
    """Whether a process of this id exists (one of another user's counts as alive).

    Examples
    --------
    >>> import os
    >>> process_alive(os.getpid())
    True
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: The highest process id Linux hands out (``/proc/sys/kernel/pid_max`` is at most 2**22).
PID_MAX = 4_194_304


def abandoned(folder: Path, stem: str, kinds: tuple[str, ...]) -> Iterator[tuple[Path, str]]:
    """The entries of ``folder`` named exactly ``.STEM.KIND-PID`` whose process is gone (what a
    killed writer left beside its target), with their kind (:func:`abandoned_matching`).

    Examples
    --------
    >>> list(abandoned(Path("/nonexistent"), "x", ("partial",)))
    []
    """
    name = re.compile(rf"\.{re.escape(stem)}\.(?P<kind>{'|'.join(map(re.escape, kinds))})-(?P<pid>\d+)")
    for entry, found in abandoned_matching(folder, name):
        yield entry, found["kind"]


def abandoned_matching(folder: Path, name: re.Pattern[str], *,
                       owner: int | None = None) -> Iterator[tuple[Path, re.Match[str]]]:
    """The entries of ``folder`` whose whole name matches ``name`` and whose process is gone, in
    name order, each with its match.

    Parameters
    ----------
    folder : Path
        Where to look; a folder that cannot be listed has no entries.
    name : re.Pattern
        The names of the entries a process leaves, with a group ``pid``: the id of that process.
        A PID no process can have (0, or past :data:`PID_MAX`) names no process: such an entry
        is left alone.
    owner : int, optional
        Only the entries this user id owns (the entry itself: a symbolic link's own owner, not
        its target's); a shared folder such as the temporary one holds other users' entries.

    Yields
    ------
    (Path, re.Match)
        An entry whose process is gone, and the match of its name.

    Examples
    --------
    No process has the id :data:`PID_MAX` (Linux gives ids below it), so ``job-4194304`` is
    abandoned; this process is alive, and ``job-0`` names no process:

    >>> import re, tempfile
    >>> with tempfile.TemporaryDirectory() as work:
    ...     for pid in (0, os.getpid(), PID_MAX):
    ...         (Path(work) / f"job-{pid}").mkdir()
    ...     [(entry.name, found["pid"]) for entry, found
    ...      in abandoned_matching(Path(work), re.compile(r"job-(?P<pid>[0-9]+)"), owner=os.getuid())]
    [('job-4194304', '4194304')]
    """
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        found = name.fullmatch(entry.name)
        if found is None or not 0 < int(found["pid"]) <= PID_MAX:  # no process had that id: not a writer's
            continue
        if process_alive(int(found["pid"])):
            continue
        if owner is not None:
            try:
                if entry.lstat().st_uid != owner:
                    continue
            except OSError:  # gone meanwhile
                continue
        yield entry, found


def die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent (pid ``parent``) dies, so that a killed
    caller leaves no work running here; exits at once if the parent is already gone (no-op where
    ``prctl`` does not exist)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(_CHILD_FAILED)


def _serve(job: Callable[[], tuple[Callable[..., Any], tuple, dict]], reply_fd: int, errors_fd: int,
           interruptible: bool) -> None:
    """The child's side: run the job, write the pickled (ok, value) to ``reply_fd``, exit."""
    code = 0
    try:
        # Ctrl-C stops a command's child at once (the parent says so); a server's child finishes its update
        signal.signal(signal.SIGINT, signal.SIG_DFL if interruptible else signal.SIG_IGN)
        import faulthandler

        faulthandler.disable()  # an abort is reported by the parent, not as a Python stack on a stray stream
        if errors_fd != 2:
            os.dup2(errors_fd, 2)
            os.close(errors_fd)
        # what the work writes to stderr reaches the parent even where sys.stderr is not file 2 (a test runner)
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        try:
            work, args, kwargs = job()
            payload = (True, work(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - carried to the parent, which raises it
            payload = (False, _portable(exc))
        with os.fdopen(reply_fd, "wb") as out:
            try:
                pickle.dump(payload, out, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - a result that cannot travel is an error of its own
                pickle.dump((False, MatchgraphError(f"the result could not be passed back: {exc}")), out)
    except BaseException:  # noqa: BLE001 - the child must not return into the caller's stack
        code = _CHILD_FAILED
    finally:
        try:
            sys.stderr.flush()
        finally:
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


def _crash(status: int, kept: str, what: str) -> EngineCrash:
    """The error for a child that died without a reply."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        died = f"was killed by {name}"
    else:
        died = f"exited with code {os.WEXITSTATUS(status)} without an answer"
    no_memory = _NO_MEMORY.search(kept)
    if no_memory:
        return EngineCrash(f"{what} ran out of memory ({no_memory.group(0)}); the catalog is unchanged",
                           hint=MEMORY_HINT)
    panic = _PANIC.search(kept)
    if panic:
        return EngineCrash(f"the query engine (Oxigraph) crashed on {what} ({died}: \"{panic.group(1).strip()}\"); "
                           "the catalog is unchanged", hint=ENGINE_CRASH_HINT)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return EngineCrash(f"{what} was stopped: its process {died} (out of memory?); the catalog is unchanged",
                           hint=MEMORY_HINT)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT:
        return EngineCrash(f"{what} was interrupted (SIGINT); the catalog is unchanged")
    lines = [x for x in kept.strip().splitlines() if not x.startswith(("note:", "stack backtrace", " "))]
    said = f": {lines[0]}" if lines else ""
    return EngineCrash(f"{what} failed: its process {died}{said}; the catalog is unchanged",
                       hint="if it happens again, report it with the query (a bug of matchgraph or of the engine)")


def _main() -> None:
    """``python -m matchgraph.store.isolation``: one pickled job on stdin, its pickled reply on stdout."""
    try:
        work, args, kwargs, interruptible, parent = pickle.loads(sys.stdin.buffer.read())
    except Exception as exc:  # noqa: BLE001 - said in one line, which the caller's message quotes
        sys.stderr.write(f"matchgraph child failed: {type(exc).__name__}: {exc}\n")
        raise SystemExit(_CHILD_FAILED) from None
    die_with_parent(parent)
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the reply
    _serve(lambda: (work, args, kwargs), reply_fd, 2, interruptible)


if __name__ == "__main__":
    _main()
