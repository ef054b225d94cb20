"""Independent SPARQL engines started by the tests: Oxigraph server and Virtuoso.

Each context manager starts the engine on free localhost ports in a temporary directory, waits
until it answers, yields its endpoints and stops it (and only it) afterwards. A missing engine
fails the test saying what to install; nothing is skipped.

- Oxigraph server: the ``oxigraph`` package on PyPI (``pip install oxigraph``, in the test extra).
- Virtuoso: the Debian package ``virtuoso-opensource`` (``apt-get install virtuoso-opensource``),
  which provides ``virtuoso-t`` and ``isql-vt``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Engine", "oxigraph_server", "virtuoso_server", "free_port"]


@dataclass(frozen=True)
class Engine:
    """A running SPARQL engine: its name and endpoints."""

    name: str
    query_url: str
    update_url: str
    store_url: str | None
    directory: Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    probe = url + ("&" if "?" in url else "?") + "query=ASK%7B%7D"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the engine exited with code {proc.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(probe, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the engine did not answer at {url} within {timeout:.0f} s:\n{_tail(log)}")
        time.sleep(0.1)


def _tail(log: Path) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-20:])
    except OSError:
        return "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _binary(name: str, install: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError(f"'{name}' is not installed; {install}")
    return found


@contextmanager
def oxigraph_server(*, union_default_graph: bool = False, location: Path | None = None) -> Iterator[Engine]:
    """Run ``oxigraph serve`` on a free port over a fresh on-disk store.

    Parameters
    ----------
    union_default_graph : bool
        Start the server with ``--union-default-graph`` (by default it is started without it, so
        the client has to ask for the union itself, as it must for any server run that way).
    location : Path, optional
        Serve this store directory (e.g. one filled by ``oxigraph load``) instead of a new one.
    """
    binary = _binary("oxigraph", "install it with: pip install oxigraph (in matchgraph's [test] extra)")
    with tempfile.TemporaryDirectory(prefix="matchgraph-oxigraph-") as tmp:
        directory = Path(tmp)
        port = free_port()
        log = directory / "server.log"
        args = [binary, "serve", "--location", str(location or directory / "store"), "--bind", f"127.0.0.1:{port}"]
        if union_default_graph:
            args.append("--union-default-graph")
        with log.open("wb") as out:
            proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base + "/query", proc, log, 30)
            yield Engine("oxigraph", base + "/query", base + "/update", base + "/store", directory)
        finally:
            _stop(proc)


_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {dir}, /usr/share/virtuoso-opensource-7/vad
VADInstallDir = /usr/share/virtuoso-opensource-7/vad/
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
ThreadsPerQuery = 2
MaxQueryMem = 500M
MaxSortedTopRows = 1000000
TransactionAfterImageLimit = 1500000000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 10
ServerThreads = 10
EnabledDavVSP = 0
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime = 120
"""


def _isql(isql: str, sql_port: int, statements: str) -> str:
    result = subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba"], input=statements.encode(),
                            capture_output=True, timeout=60, check=False)
    out = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    if result.returncode != 0 or "*** Error" in out:
        raise RuntimeError(f"isql-vt failed:\n{out}")
    return out


@contextmanager
def virtuoso_server(*, max_rows: int = 10_000) -> Iterator[Engine]:
    """Run Virtuoso (``virtuoso-t``) on free ports over a fresh database, with SPARQL updates allowed.

    ``MaxSortedTopRows`` is raised from 10,000 to 1,000,000 as docs/scale.md says to: the backend
    reads a large SELECT in ``ORDER BY ... LIMIT ... OFFSET`` pages, which Virtuoso refuses past
    that many sorted rows. ``TransactionAfterImageLimit`` is raised from 50 MB to 1.5 GB so that a
    large write can be published in one transaction.

    The SPARQL user gets the ``SPARQL_UPDATE`` role (Virtuoso's /sparql endpoint, and its Graph
    Store endpoint /sparql-graph-crud, refuse updates without it). ``max_rows`` is ``ResultSetMaxRows``: Virtuoso's own default of 10,000 unless
    a test asks otherwise, so paging is tested against the cap real installations have.
    """
    install = "install it with: apt-get install virtuoso-opensource"
    binary = _binary("virtuoso-t", install)
    isql = _binary("isql-vt", install)
    with tempfile.TemporaryDirectory(prefix="matchgraph-virtuoso-") as tmp:
        directory = Path(tmp)
        sql_port, http_port = free_port(), free_port()
        ini = directory / "virtuoso.ini"
        ini.write_text(_VIRTUOSO_INI.format(dir=directory, sql_port=sql_port, http_port=http_port,
                                            max_rows=max_rows))
        log = directory / "stdout.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([binary, "+foreground", "+configfile", str(ini)], cwd=directory,
                                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env={**os.environ, "LC_ALL": "C"})
        base = f"http://127.0.0.1:{http_port}"
        try:
            _wait_until_up(base + "/sparql", proc, directory / "virtuoso.log", 120)
            _isql(isql, sql_port, 'GRANT SPARQL_UPDATE TO "SPARQL";\nGRANT EXECUTE ON DB.DBA.L_O_LOOK TO "SPARQL";\n')
            yield Engine("virtuoso", base + "/sparql", base + "/sparql", base + "/sparql-graph-crud", directory)
        finally:
            _stop(proc)
