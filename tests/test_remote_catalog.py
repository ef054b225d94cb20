"""A catalog behind a SPARQL endpoint: ``Catalog("http://.../sparql")`` against ``matchgraph serve``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from browser import running_server
from matchgraph import Catalog, RemoteError, ingest
from matchgraph.graph.resolve import resolve_entity
from matchgraph.web.server import ServerConfig, create_app

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT / "examples" / "catalog" / "datasets"
TOKEN = "remote-token-93e1"


@pytest.fixture
def served(catalog: Catalog) -> Iterator[tuple[str, Catalog]]:
    """An empty on-disk catalog served with updates allowed for the token."""
    with running_server(create_app(catalog, ServerConfig(allow_update=True, token=TOKEN))) as url:
        yield url + "/sparql", catalog


def test_ingest_into_a_remote_catalog_and_query_it(served: tuple[str, Catalog],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url, local = served
    monkeypatch.setenv("MATCHGRAPH_TOKEN", TOKEN)
    remote = Catalog(url, update_url=url)
    report = ingest(remote, [DATASETS])
    assert report.entities == len(list(DATASETS.glob("*.md")))
    assert remote.triple_count() == local.triple_count() > 1000
    assert remote.version == local.version == report.version
    names = [str(r[0]) for r in remote.rows("SELECT ?n WHERE { ?e a mg:Dataset ; schema:name ?n } ORDER BY ?n")]
    assert "The Pile" in names and names == sorted(names)
    ref = resolve_entity(remote, "EleutherAI Pile")
    assert (ref.slug, ref.kind) == ("the-pile", "dataset")
    assert len(remote.data_graph()) == len(local.data_graph())
    again = ingest(remote, [DATASETS])  # re-ingesting replaces each file's graph: nothing doubles
    assert remote.triple_count() == local.triple_count() == again.triples_after


def test_remote_writes_need_the_token(served: tuple[str, Catalog], monkeypatch: pytest.MonkeyPatch) -> None:
    url, local = served
    monkeypatch.delenv("MATCHGRAPH_TOKEN", raising=False)
    before = local.triple_count()
    remote = Catalog(url)
    with pytest.raises(RemoteError, match="401"):
        ingest(remote, [DATASETS / "c4.md"])
    assert local.triple_count() == before
    assert remote.triple_count() == before  # the refused update is not replayed before later queries


def test_read_only_endpoint_refuses_remote_ingest(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHGRAPH_TOKEN", TOKEN)
    with running_server(create_app(catalog)) as url:
        with pytest.raises(RemoteError, match="403"):
            ingest(Catalog(url + "/sparql"), [DATASETS / "c4.md"])
    assert catalog.triple_count() == 0


def test_remote_ingest_notes_rdf_without_entities(served: tuple[str, Catalog], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A file sent to a remote catalog as triples gets the same note as one loaded locally."""
    url, _ = served
    monkeypatch.setenv("MATCHGRAPH_TOKEN", TOKEN)
    path = tmp_path / "catalog.ttl"
    path.write_text("@prefix dcat: <http://www.w3.org/ns/dcat#> .\n<https://example.org/d> a dcat:Dataset .\n",
                    encoding="utf-8")
    report = ingest(Catalog(url, update_url=url), [path])
    assert report.entities == 0
    assert len(report.notes) == 1 and "(it holds 1 dcat:Dataset)" in report.notes[0][1]


def test_a_url_scheme_in_capitals_is_the_same_endpoint(served: tuple[str, Catalog],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Schemes are case-insensitive (RFC 3986): ``HTTP://host:port/sparql`` was "a URL matchgraph cannot
    use" as a catalog, and not an http:// URL as MATCHGRAPH_UPDATE_URL."""
    from matchgraph.env import parse_url

    url, local = served
    shouted = "HTTP" + url[len("http"):]
    monkeypatch.setenv("MATCHGRAPH_TOKEN", TOKEN)
    monkeypatch.setenv("MATCHGRAPH_UPDATE_URL", shouted)
    remote = Catalog(shouted)
    assert remote.backend.query_url == remote.backend.update_url == url  # type: ignore[attr-defined]
    ingest(remote, [DATASETS / "the-pile.md"])
    assert remote.triple_count() == local.triple_count() > 100
    assert parse_url("--update-url", "Https://127.0.0.1:7878/update") == "https://127.0.0.1:7878/update"
    assert resolve_entity(remote, "HTTPS://w3id.org/matchgraph/id/the-pile").slug == "the-pile"
