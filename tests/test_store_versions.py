"""The versioned store: RDF input obeys the entity rules, reading never creates, several processes
share a catalog (readers see one version, one writer at a time, a running server follows writes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from matchgraph import Catalog, ingest
from matchgraph.errors import CatalogError, ConflictError
from matchgraph.store.versions import VersionedStore

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "catalog"
PILE = "https://w3id.org/matchgraph/id/the-pile"


def mg(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "matchgraph", *args], capture_output=True, text=True,
                           timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    location = tmp_path_factory.mktemp("versions") / "catalog"
    done = mg("--catalog", str(location), "ingest", str(EXAMPLES), "--no-progress")
    assert done.returncode == 0, done.stderr
    return location


def _copy(example_dir: Path, tmp_path: Path) -> Path:
    import shutil

    target = tmp_path / "catalog"
    shutil.copytree(example_dir, target)
    return target


# ------------------------------------------------------------------ RDF input obeys the entity rules

RETYPE = f"""@prefix mg: <https://w3id.org/matchgraph/ns#> .
@prefix schema: <https://schema.org/> .
<{PILE}> a mg:Entity, mg:Model ;
    schema:name "The Pile" .
"""
RENAME = f"""@prefix schema: <https://schema.org/> .
<{PILE}> schema:name "Hijacked" .
"""


@pytest.mark.parametrize("text,words", [(RETYPE, ["model", "dataset", "one kind"]),
                                        (RENAME, ["Hijacked", "The Pile", "one name"])])
def test_rdf_cannot_retype_or_rename_another_sources_entity(example_dir: Path, tmp_path: Path, text: str,
                                                             words: list[str]) -> None:
    location = _copy(example_dir, tmp_path)
    bad = tmp_path / "hijack.ttl"
    bad.write_text(text, encoding="utf-8")
    with Catalog(location) as catalog:
        before = (catalog.triple_count(), catalog.version)
    done = mg("--catalog", str(location), "ingest", str(bad))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{bad}:3" in done.stderr or f"{bad}:2" in done.stderr
    assert "the-pile" in done.stderr and "Hint:" in done.stderr
    assert "the-pile.md" in done.stderr  # names the other source
    for word in words:
        assert word in done.stderr
    with Catalog(location) as catalog:
        assert (catalog.triple_count(), catalog.version) == before


def test_rdf_may_repeat_what_the_other_source_says(example_dir: Path, tmp_path: Path) -> None:
    location = _copy(example_dir, tmp_path)
    same = tmp_path / "same.ttl"
    same.write_text(f"""@prefix mg: <https://w3id.org/matchgraph/ns#> .
@prefix schema: <https://schema.org/> .
<{PILE}> a mg:Dataset ; schema:name "The Pile" ; schema:alternateName "Pile-800GB" .
""", encoding="utf-8")
    done = mg("--catalog", str(location), "ingest", str(same), "--no-progress")
    assert done.returncode == 0, done.stderr


def test_library_raises_conflict_error_for_rdf(tmp_path: Path) -> None:
    first, second = tmp_path / "a.ttl", tmp_path / "b.ttl"
    first.write_text(f'<{PILE}> a <https://w3id.org/matchgraph/ns#Dataset> ; <https://schema.org/name> "The Pile" .\n')
    second.write_text(f'<{PILE}> a <https://w3id.org/matchgraph/ns#Tool> ; <https://schema.org/name> "The Pile" .\n')
    with Catalog(tmp_path / "cat") as catalog:
        ingest(catalog, [first], validate=False)
        with pytest.raises(ConflictError, match="one kind"):
            ingest(catalog, [second], validate=False)


# ------------------------------------------------------------------ reading never creates


@pytest.mark.parametrize("command", [["stats"], ["neighbours", "the-pile"], ["sparql", "ASK {}"], ["scores"],
                                     ["match", "a dataset"], ["validate"]])
def test_a_command_that_reads_refuses_a_location_without_a_catalog(tmp_path: Path, command: list[str]) -> None:
    location = tmp_path / "no" / "such" / "dir"
    done = mg("--catalog", str(location), *command)
    assert done.returncode == 1, done.stdout
    assert f"no catalog at {location}" in done.stderr
    assert "matchgraph ingest" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "no").exists()


def test_ingest_creates_the_catalog(tmp_path: Path) -> None:
    location = tmp_path / "new"
    assert not Catalog(location).exists
    done = mg("--catalog", str(location), "ingest", str(EXAMPLES / "datasets"), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert Catalog(location).exists and (location / "CURRENT").is_file()


# ------------------------------------------------------------------ versions: readers and one writer


def test_a_reader_keeps_its_version_while_a_writer_commits(example_dir: Path, tmp_path: Path) -> None:
    location = _copy(example_dir, tmp_path)
    reader = Catalog(location)
    seen = reader.triple_count()
    name = reader.backend.version_name
    extra = tmp_path / "extra.ttl"
    extra.write_text('<https://w3id.org/matchgraph/id/x> <https://schema.org/description> "x" .\n')
    done = mg("--catalog", str(location), "ingest", str(extra), "--no-validate", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert reader.triple_count() == seen  # one version from start to end
    assert (location / "versions" / name).is_dir()  # not deleted under the reader's feet
    assert reader.refresh() and reader.triple_count() > seen
    reader.close()


def test_one_writer_at_a_time_the_second_waits(example_dir: Path, tmp_path: Path) -> None:
    location = _copy(example_dir, tmp_path)
    store = VersionedStore(location)
    staged = store.begin()  # this process holds the write lock
    try:
        extra = tmp_path / "extra.ttl"
        extra.write_text('<https://w3id.org/matchgraph/id/y> <https://schema.org/description> "y" .\n')
        done = mg("--catalog", str(location), "ingest", str(extra), "--no-validate", "--no-progress",
                  env={"MATCHGRAPH_LOCK_TIMEOUT": "1"})
        assert done.returncode == 1
        assert "waiting for another matchgraph process" in done.stderr
        assert "MATCHGRAPH_LOCK_TIMEOUT" in done.stderr and "Traceback" not in done.stderr
    finally:
        store.abort(staged)
    done = mg("--catalog", str(location), "ingest", str(extra), "--no-validate", "--no-progress")
    assert done.returncode == 0, done.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_other_processes_read_and_write_while_serve_runs(example_dir: Path, tmp_path: Path) -> None:
    location = _copy(example_dir, tmp_path)
    port = _free_port()
    # pages wait up to 60 s for the one build of the match graph (past --build-wait they say "building")
    server = subprocess.Popen([sys.executable, "-m", "matchgraph", "--catalog", str(location), "serve",
                               "--port", str(port), "--build-wait", "60"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/sparql", params={"query": "ASK {}"}, timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
            time.sleep(0.2)
        # 20 concurrent first requests: no error
        codes: list[int] = []

        def hit(i: int) -> None:
            path = ["/", "/entity/the-pile", "/sparql?query=ASK%20%7B%7D", "/graph"][i % 4]
            codes.append(httpx.get(base + path, timeout=120).status_code)

        threads = [threading.Thread(target=hit, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if codes != [200] * 20:
            server.terminate()
            raise AssertionError(server.stderr.read()[-4000:])
        # other processes: stats, sparql, ingest
        assert mg("--catalog", str(location), "stats").returncode == 0
        assert mg("--catalog", str(location), "sparql", "ASK { ?s ?p ?o }").stdout.strip() in ("true", "yes", "True")
        card = tmp_path / "brand-new.md"
        card.write_text("---\nid: brand-new-model\nname: Brand New Model\nkind: model\n"
                        "description: A model added while the server runs.\n---\n", encoding="utf-8")
        done = mg("--catalog", str(location), "ingest", str(card), "--no-progress")
        assert done.returncode == 0, done.stderr
        ask = "ASK { <https://w3id.org/matchgraph/id/brand-new-model> ?p ?o }"
        deadline = time.monotonic() + 15
        while True:
            answer = httpx.get(f"{base}/sparql", params={"query": ask},
                               headers={"Accept": "application/sparql-results+json"}, timeout=10)
            assert answer.status_code == 200
            if answer.json()["boolean"]:
                break
            assert time.monotonic() < deadline, "the server did not move to the new version within 15 s"
            time.sleep(0.5)
        assert httpx.get(f"{base}/entity/brand-new-model", timeout=60).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    err = server.stderr.read()
    assert "Traceback" not in err, err[-3000:]


def test_a_missing_version_pointer_target_is_reported(tmp_path: Path) -> None:
    location = tmp_path / "cat"
    location.mkdir()
    (location / "CURRENT").write_text("../../etc\n")
    with pytest.raises(CatalogError, match="damaged.*does not name a catalog version"):
        Catalog(location)


def test_a_missing_live_version_is_damage_with_the_way_back(tmp_path: Path) -> None:
    """A deleted live version said "changed too often to be opened... try again when the writers are done"."""
    import shutil

    location = tmp_path / "cat"
    for folder in ("datasets", "models"):
        assert mg("--catalog", str(location), "ingest", str(EXAMPLES / folder), "--no-progress").returncode == 0
    live = (location / "CURRENT").read_text().strip()
    shutil.rmtree(location / "versions" / live)
    for command in (["stats"], ["ingest", str(EXAMPLES / "tools"), "--no-progress"]):
        done = mg("--catalog", str(location), *command)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert f"the catalog at {location} is damaged: CURRENT names the version {live}" in done.stderr
        assert f"{location / 'versions' / live} is missing" in done.stderr and "changed too often" not in done.stderr
        assert f"echo v00000001 > {location / 'CURRENT'}" in done.stderr and "docs/store.md" in done.stderr
    (location / "CURRENT").write_text("v00000001\n")  # what the hint says: the previous version is live again
    stats = mg("--catalog", str(location), "stats", "--format", "json")
    assert stats.returncode == 0 and '"stubs"' in stats.stdout
    assert mg("--catalog", str(location), "ingest", str(EXAMPLES / "models"), "--no-progress").returncode == 0
    assert mg("--catalog", str(location), "validate").returncode == 0


# ------------------------------------------------------------------ the catalog checks itself


def test_validate_checks_integrity(tmp_path: Path) -> None:
    from rdflib import Graph, Literal, URIRef
    from rdflib.namespace import RDF

    from matchgraph.store.validate import validate_catalog
    from matchgraph.vocab import KINDS, ONTOLOGY_GRAPH, SCHEMA

    with Catalog(tmp_path / "cat") as catalog:
        ingest(catalog, [EXAMPLES / "datasets"])
        assert validate_catalog(catalog).conforms
        # written around ingest's rules: a second kind and a second name from another graph, a graph no
        # source records, and the vocabulary dropped
        g = Graph()
        g.add((URIRef(PILE), RDF.type, KINDS["model"]))
        g.add((URIRef(PILE), SCHEMA.name, Literal("Hijacked")))
        catalog.write({URIRef("urn:x-test:rogue"): g})
        catalog.update(f"DROP GRAPH <{ONTOLOGY_GRAPH}>")
        report = validate_catalog(catalog)
    assert not report.conforms
    text = "\n".join(report.problems)
    assert "vocabulary graph is missing" in text
    assert "urn:x-test:rogue holds triples but no source records it" in text
    assert "has two kinds: dataset in" in text and "model in urn:x-test:rogue" in text
    assert "'Hijacked'" in text and "'The Pile'" in text


def test_a_catalog_from_before_versions_becomes_version_one(tmp_path: Path) -> None:
    import pyoxigraph as ox

    location = tmp_path / "old"
    location.mkdir()
    legacy = ox.Store(str(location / "store"))  # the layout earlier matchgraph versions wrote
    legacy.add(ox.Quad(ox.NamedNode(PILE), ox.NamedNode("https://schema.org/name"), ox.Literal("The Pile"),
                       ox.NamedNode("urn:x-test:g")))
    legacy.flush()
    del legacy
    import gc

    gc.collect()
    notes: list[str] = []
    with Catalog(location, notify=notes.append) as catalog:
        assert catalog.exists
        assert catalog.scalar(f"SELECT ?n WHERE {{ <{PILE}> schema:name ?n }}") == "The Pile"
    assert any("converted to versioned storage" in n for n in notes)
    assert (location / "CURRENT").read_text().strip() == "v00000001" and not (location / "store").exists()


def test_a_refused_write_leaves_nothing_taken_for_an_interrupted_one(tmp_path: Path) -> None:
    """An aborted write's directory is renamed .discarded-* before deletion; if anything is left (the
    engine still writing into it), the next write deletes it without saying a write was interrupted."""
    import pyoxigraph as ox

    from matchgraph.store.versions import VersionedStore

    said: list[str] = []
    store = VersionedStore(tmp_path / "c", notify=said.append)
    staged = store.begin()
    staged.store.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.Literal("c")))
    store.commit(staged)
    staged = store.begin()
    staged.store.add(ox.Quad(ox.NamedNode("urn:x"), ox.NamedNode("urn:y"), ox.Literal("z")))
    name = staged.directory.name
    store.abort(staged)
    assert not list((tmp_path / "c" / "versions").glob(".next-*"))
    leftover = tmp_path / "c" / "versions" / (".discarded-" + name[len(".next-"):])
    (leftover / "000123.sst").parent.mkdir(parents=True)  # as a late flush of the engine would leave it
    (leftover / "000123.sst").write_bytes(b"x")
    store.commit(store.begin())
    assert not leftover.exists() and not any("interrupted" in s for s in said)


def test_the_way_back_is_a_command_that_runs_for_a_path_with_spaces(tmp_path: Path) -> None:
    """The recovery hint's ``echo VERSION > PATH`` wrote the path unquoted: for a catalog in a folder
    with a space, pasted into a shell it wrote a file named after the first word, or failed."""
    import re
    import shutil

    location = tmp_path / "my catalogs" / "team's catalog"
    for name in ("the-pile.md", "c4.md"):
        with Catalog(location) as catalog:
            ingest(catalog, [EXAMPLES / "datasets" / name])
    live = (location / "CURRENT").read_text().strip()
    shutil.rmtree(location / "versions" / live)
    with pytest.raises(CatalogError) as info:
        Catalog(location).require()
    command = re.search(r"run: (.*?); or ", info.value.hint or "")
    assert command is not None, info.value.hint
    done = subprocess.run(["sh", "-c", command.group(1)], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my catalogs"]  # nothing written beside
    with Catalog(location) as catalog:
        assert catalog.triple_count() > 100
