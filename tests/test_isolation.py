"""An abort of the query engine is an error message, not a dead process: ``matchgraph sparql``
runs its query in a child process (:mod:`matchgraph.store.isolation`), the endpoint in workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from browser import running_server
from matchgraph import Catalog
from matchgraph.errors import QueryError
from matchgraph.store import isolation
from matchgraph.store.isolation import EngineCrash, call_isolated
from matchgraph.store.sparql import check_query
from matchgraph.web.server import ServerConfig, create_app

CRASH = Path(__file__).parent / "data" / "engine_crash.rq"


@pytest.fixture(params=["fork", "fresh interpreter"])
def method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of making the child: a fork (single-threaded callers) and a fresh interpreter."""
    monkeypatch.setattr(isolation, "_single_threaded", lambda: request.param == "fork")
    return str(request.param)


def test_the_work_returns_its_value(method: str) -> None:
    assert call_isolated(sorted, [3, 1, 2]) == [1, 2, 3]
    assert call_isolated(os.getpid) != os.getpid()  # it really ran elsewhere


def test_an_abort_is_an_engine_crash_naming_the_signal(method: str) -> None:
    with pytest.raises(EngineCrash) as caught:
        call_isolated(os.abort, what="this query")
    assert "this query" in str(caught.value) and "SIGABRT" in str(caught.value)
    assert "catalog is unchanged" in str(caught.value)


def test_errors_of_the_work_arrive_as_themselves(method: str) -> None:
    with pytest.raises(QueryError) as caught:
        call_isolated(check_query, "SELECT ?x WHERE { ?x ?y }")
    assert caught.value.exit_code == 2 and "line 1" in str(caught.value) and caught.value.hint


def test_the_child_s_stderr_comes_as_it_is_written(method: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import time

    written: list[tuple[float, str]] = []

    class Clock(io.StringIO):
        def write(self, text: str) -> int:
            written.append((time.monotonic(), text))
            return len(text)

    monkeypatch.setattr(sys, "stderr", Clock())
    call_isolated(exec, "import sys, time; sys.stderr.write('Note: waiting\\n'); sys.stderr.flush(); time.sleep(1.5)")
    done = time.monotonic()
    assert [t for _, t in written] == ["Note: waiting\n"]
    assert done - written[0][0] > 1.0  # shown while the child still worked, not after it


def test_a_failed_allocation_is_named_with_its_own_hint(method: str, capsys: pytest.CaptureFixture[str]) -> None:
    # what Rust's allocator writes before it aborts the process
    with pytest.raises(EngineCrash) as caught:
        call_isolated(exec, "import os, sys; sys.stderr.write('memory allocation of 2077753344 bytes failed\\n'); "
                            "sys.stderr.flush(); os.abort()")
    assert "ran out of memory (memory allocation of 2077753344 bytes failed)" in str(caught.value)
    assert "LIMIT" in (caught.value.hint or "") and "ORDER BY" not in (caught.value.hint or "")
    assert "memory allocation" not in capsys.readouterr().err  # said once, in the message


def test_a_module_in_the_working_directory_does_not_shadow_the_child_s(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    monkeypatch.setattr(isolation, "_single_threaded", lambda: False)  # a fresh interpreter
    (tmp_path / "pickle.py").write_text("raise ImportError('not the standard pickle')\n")
    monkeypatch.chdir(tmp_path)
    assert call_isolated(sorted, [2, 1]) == [1, 2]


def processes_in_group(group: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                found.append(int(entry.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_command_leaves_no_child_and_commits_nothing(example_copy: Path, sig: int) -> None:
    location = example_copy
    endless = ("INSERT { GRAPH <urn:test:g> { <urn:test:killed> <urn:test:n> ?n } } WHERE { SELECT (COUNT(*) AS ?n) "
               "WHERE { GRAPH ?x { ?a ?b ?c } GRAPH ?y { ?d ?e ?f } GRAPH ?z { ?g ?h ?i } } }")
    command = subprocess.Popen([sys.executable, "-m", "matchgraph", "--catalog", str(location), "sparql", "--update",
                                endless], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(processes_in_group(command.pid)) < 2 and time.monotonic() < deadline:  # the child is working
            time.sleep(0.05)
        assert len(processes_in_group(command.pid)) == 2
        time.sleep(0.5)
        os.kill(command.pid, sig)  # the command only, as a calling program's timeout does
        command.wait(timeout=30)
        deadline = time.monotonic() + 10
        while processes_in_group(command.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_in_group(command.pid) == []
    finally:  # whatever happened, nothing of it runs on
        try:
            os.killpg(command.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        command.wait(timeout=30)
    asked = sparql(location, "ASK { <urn:test:killed> ?p ?o }")
    assert asked.returncode == 0 and asked.stdout.strip() == "false"


def sparql(location: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "matchgraph", "--catalog", str(location), "sparql", *args],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "120"})


def test_the_cli_survives_an_engine_abort(example_copy: Path) -> None:
    location = example_copy
    before = sparql(location, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--format", "csv")
    crashed = sparql(location, "-f", str(CRASH), "--format", "csv")
    if crashed.returncode == 0:  # an engine without the bug: the sixty values, in SPARQL's order
        assert len(crashed.stdout.splitlines()) == 61
    else:
        assert crashed.returncode == 1, crashed.stderr
        assert "the query engine (Oxigraph) crashed on this query" in crashed.stderr
        assert "total order" in crashed.stderr and "Hint: " in crashed.stderr
        for noise in ("stack backtrace", "Traceback", "panicked at"):
            assert noise not in crashed.stderr
        assert crashed.stdout == ""
    after = sparql(location, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--format", "csv")
    assert after.returncode == 0 and after.stdout == before.stdout


def test_the_cli_in_a_threaded_process_survives_an_engine_abort(invoke, example_catalog_dir: Path) -> None:  # type: ignore[no-untyped-def]
    # in-process (a test runner has threads): the query runs in a fresh interpreter
    outcome = invoke("--catalog", example_catalog_dir, "sparql", "-f", CRASH, "--format", "csv")
    if outcome.exit_code:
        assert outcome.exit_code == 1 and "crashed on this query" in outcome.output
    else:
        assert len(outcome.output.splitlines()) == 61
    outcome = invoke("--catalog", example_catalog_dir, "sparql", "ASK { ?s ?p ?o }")
    assert outcome.exit_code == 0 and outcome.output.strip() == "true"


def test_the_endpoint_answers_500_and_goes_on() -> None:
    catalog = Catalog("memory:")
    app = create_app(catalog, ServerConfig(timeout=30.0, workers=1))
    with running_server(app) as url:
        crashed = httpx.post(f"{url}/sparql", data={"query": CRASH.read_text()}, timeout=60)
        if crashed.status_code != 200:
            assert crashed.status_code == 500
            assert "crashed on this query" in crashed.text and "Hint: " in crashed.text
        ask = httpx.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=60)
        assert ask.status_code == 200 and "true" in ask.text


def test_an_update_that_aborts_the_engine_leaves_the_server_and_the_catalog(example_copy: Path) -> None:
    catalog = Catalog(example_copy)
    values = CRASH.read_text().split("VALUES ?o {", 1)[1].split("}", 1)[0]
    crashing = ("INSERT { GRAPH <urn:test:g> { <urn:test:s> <urn:test:p> ?o } } WHERE { SELECT ?o WHERE { "
                f"VALUES ?o {{{values}}} }} ORDER BY ?o LIMIT 1 }}")
    auth = {"Authorization": "Bearer t0ken"}
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    try:
        with running_server(create_app(catalog, ServerConfig(allow_update=True, token="t0ken", timeout=30.0))) as url:
            before = httpx.post(f"{url}/sparql", data={"query": count}, headers={"Accept": "text/csv"}, timeout=60).text
            version = catalog.version
            crashed = httpx.post(f"{url}/sparql", data={"update": crashing}, headers=auth, timeout=60)
            if crashed.status_code == 200:  # an engine without the bug: the update applied
                assert catalog.version != version
            else:
                assert crashed.status_code == 500 and "crashed on this update" in crashed.text
                assert catalog.version == version
                after = httpx.post(f"{url}/sparql", data={"query": count}, headers={"Accept": "text/csv"}, timeout=60)
                assert after.status_code == 200 and after.text == before
            fine = httpx.post(f"{url}/sparql", data={"update": "INSERT DATA { GRAPH <urn:test:g> { <urn:test:a> "
                                                               "<urn:test:b> 'c' } }"}, headers=auth, timeout=60)
            assert fine.status_code == 200
            seen = httpx.post(f"{url}/sparql", data={"query": "ASK { <urn:test:a> <urn:test:b> 'c' }"}, timeout=60)
            assert seen.status_code == 200 and "true" in seen.text
    finally:
        catalog.close()


def test_a_killed_server_leaves_no_worker_running_a_query(example_catalog_dir: Path) -> None:
    from engines import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "matchgraph", "--catalog", str(example_catalog_dir), "serve",
                               "--port", str(port), "--timeout", "600", "--workers", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, params={"query": "ASK {}"}, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        endless = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        import threading

        client = threading.Thread(target=lambda: _ignore(lambda: httpx.post(url, data={"query": endless}, timeout=60)))
        client.start()
        time.sleep(1.5)  # the worker is counting
        assert len(processes_in_group(server.pid)) >= 2
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        client.join(timeout=60)
        deadline = time.monotonic() + 10
        while processes_in_group(server.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_in_group(server.pid) == []
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.wait(timeout=30)


def _ignore(call):  # type: ignore[no-untyped-def]
    try:
        call()
    except httpx.HTTPError:
        pass
