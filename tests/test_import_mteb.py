"""MTEB import: models, their datasets and benchmark tasks from a subset of the real catalog."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from matchgraph import Catalog
from matchgraph.errors import InputError, ParseError, SchemaError
from matchgraph.sources.importers import import_mteb
from matchgraph.sources.mteb import parse_mteb
from matchgraph.store.validate import validate_graph
from matchgraph.vocab import entity_iri, slugify

from conftest import assert_refused_unchanged, loaded_once

DATA = Path(__file__).resolve().parent / "data" / "mteb"
MODELS = [json.loads(line) for line in (DATA / "models.jsonl").read_text(encoding="utf-8").splitlines()]
TASKS = [json.loads(line) for line in (DATA / "tasks.jsonl").read_text(encoding="utf-8").splitlines()]


def _bind(sparql: str, entity) -> str:
    """Bind ?e to an entity (the store binds only projected variables)."""
    return sparql.replace("{", "{ VALUES ?e { " + entity.n3() + " } ", 1)


def _objects(catalog: Catalog, slug: str, prop: str) -> set[str]:
    rows = catalog.rows(_bind(f"SELECT ?o WHERE {{ ?e {prop} ?o }}", entity_iri(slug)))
    return {str(r[0]).rsplit("/", 1)[-1] for r in rows}


@pytest.fixture
def imported(catalog: Catalog):  # type: ignore[no-untyped-def]
    return catalog, import_mteb(catalog, DATA)


def test_models_tasks_and_datasets_become_entities(imported) -> None:  # type: ignore[no-untyped-def]
    catalog, summary = imported
    count = lambda cls: catalog.scalar(f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e a {cls} }}")  # noqa: E731
    assert count("mg:Model") == len(MODELS)
    assert count("mg:Benchmark") == len(TASKS) + 1  # the tasks and MTEB itself
    assert count("mg:Dataset") == len({t["dataset_path"] for t in TASKS})
    assert summary.created == len(MODELS) + len(TASKS) + 1 + len({t["dataset_path"] for t in TASKS})
    m3 = "baai-bge-m3"
    assert catalog.scalar(_bind("SELECT ?h WHERE { ?e mg:hubId ?h }", entity_iri(m3))) == "BAAI/bge-m3"
    assert _objects(catalog, m3, "mg:evaluatedOn") == {"mteb"}
    assert {"pytorch", "sentence-transformers"} <= _objects(catalog, m3, "mg:integratesWith")


def test_each_task_is_a_benchmark_on_its_dataset(imported) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = imported
    task = next(t for t in TASKS if t["name"] == "MSMARCO")
    slug = slugify(task["name"])
    assert _objects(catalog, slug, "mg:subsetOf") == {"mteb"}
    (dataset,) = _objects(catalog, slug, "mg:evaluatedOn")
    assert catalog.scalar(_bind("SELECT ?h WHERE { ?e mg:hubId ?h }", entity_iri(dataset))) == task["dataset_path"]
    shared = [t for t in TASKS if t["dataset_path"] == "mteb/BRIGHT"]
    targets = {frozenset(_objects(catalog, slugify(t["name"]), "mg:evaluatedOn")) for t in shared}
    assert len(shared) > 1 and len(targets) == 1  # several tasks, one dataset


def test_training_sets_resolve_to_datasets(imported) -> None:  # type: ignore[no-untyped-def]
    catalog, summary = imported
    task_names = {t["name"] for t in TASKS}
    names = {n for m in MODELS for n in (m.get("training_datasets") or []) if len(n) > 1}
    training = summary.details["training_sets"]
    assert training["names"] == len(names)
    assert training["via_task"] == len(names & task_names)
    assert training["to_datasets"] >= training["via_task"] > 0
    assert training["to_datasets"] + training["to_other"] + training["stubs"] == training["names"]
    # every task named as a training set leads to the task's dataset
    m3 = next(m for m in MODELS if m["name"] == "BAAI/bge-m3")
    trained = _objects(catalog, "baai-bge-m3", "mg:trainedOn")
    for name in set(m3["training_datasets"]) & task_names:
        (dataset,) = _objects(catalog, slugify(name), "mg:evaluatedOn")
        assert dataset in trained
    datasets = catalog.scalar(_bind("""SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?e mg:trainedOn ?d .
        ?d a mg:Dataset }""", entity_iri("baai-bge-m3")))
    assert datasets >= len({t["dataset_path"] for t in TASKS if t["name"] in set(m3["training_datasets"])})


def test_capabilities_follow_the_fields(imported) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = imported

    def concepts(slug: str) -> set[str]:
        return _objects(catalog, slug, "mg:hasCapability/mg:concept")

    assert {"text-embeddings", "retrieval", "multilingual-models", "long-context"} <= concepts("baai-bge-m3")
    assert "prompting" in concepts("nomic-ai-nomic-embed-text-v1")  # use_instructions
    assert "multilingual-models" not in concepts("sentence-transformers-all-minilm-l6-v2")  # one language
    assert "cpu-edge-inference" in concepts("sentence-transformers-all-minilm-l6-v2")  # 22M parameters
    assert "long-context" not in concepts("sentence-transformers-all-minilm-l6-v2")  # 256 tokens
    image = next(m["name"] for m in MODELS if "image" in (m.get("modalities") or []))
    assert "vision-language" in concepts(slugify(image))


def test_lineage_supersession_licence_and_size(imported) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = imported
    assert _objects(catalog, "baai-bge-small-en", "mg:supersededBy") == {"baai-bge-small-en-v1.5"}
    assert catalog.ask(_bind("ASK { ?e a mg:Model }", entity_iri("baai-bge-small-en-v1.5")))
    (base,) = _objects(catalog, "intfloat-multilingual-e5-small", "mg:derivedFrom")
    assert catalog.ask(_bind("ASK { ?e mg:isStub true }", entity_iri(base)))  # not in the subset: a stub
    minilm = next(m for m in MODELS if m["name"] == "sentence-transformers/all-MiniLM-L6-v2")
    e = entity_iri("sentence-transformers-all-minilm-l6-v2")
    assert catalog.scalar(_bind("SELECT ?l WHERE { ?e dcterms:license ?l }", e)) == minilm["license"]
    assert catalog.scalar(_bind("SELECT ?n WHERE { ?e mg:parameterCount ?n }", e)) == minilm["n_parameters"]
    assert {"safetensors", "onnx"} & _objects(catalog, "sentence-transformers-all-minilm-l6-v2", "mg:supportsFormat")


def test_reimport_is_idempotent(imported) -> None:  # type: ignore[no-untyped-def]
    catalog, first = imported
    before = catalog.triple_count()
    again = import_mteb(catalog, DATA)
    assert catalog.triple_count() == before
    assert (again.created, again.merged, again.stubs) == (0, 0, 0)
    assert again.updated == first.created
    assert again.details["training_sets"] == first.details["training_sets"]


def test_links_to_the_example_catalog(example_catalog: Catalog) -> None:
    summary = import_mteb(example_catalog, DATA)
    merged = {m.slug: m for m in summary.linking.merges}
    assert merged["all-minilm-l6-v2"].via == "hub id"
    assert merged["mteb"].via.endswith("stub filled")
    assert example_catalog.ask(_bind("ASK { ?e a mg:Model ; mg:hubId 'sentence-transformers/all-MiniLM-L6-v2' ; "
                                     "schema:name 'all-MiniLM-L6-v2' }", entity_iri("all-minilm-l6-v2")))
    assert not example_catalog.ask("ASK { ?e mg:hubId 'sentence-transformers/all-MiniLM-L6-v2' "
                                   "FILTER(?e != mgid:all-minilm-l6-v2) }")
    assert example_catalog.ask(_bind("ASK { ?e a mg:Benchmark }", entity_iri("mteb")))
    assert validate_graph(example_catalog.data_graph()).conforms


@pytest.mark.parametrize(("file", "line", "error", "message"), [
    ("models.jsonl", "{broken", ParseError, "not JSON"),
    ("models.jsonl", "[1, 2]", ParseError, "not a JSON object"),
    ("tasks.jsonl", '{"description": "no name", "dataset_path": "a/b"}', SchemaError, "missing name"),
    ("tasks.jsonl", '{"name": "T", "description": "no dataset"}', SchemaError, "missing dataset_path"),
    ("models.jsonl", '{"name": "a/b", "n_parameters": "many"}', SchemaError, "n_parameters must be a number"),
    ("models.jsonl", '{"name": "a/b", "training_datasets": "x", "languages": [1]}', SchemaError,
     "languages must be a list of strings"),
])
def test_malformed_records_name_the_line_and_write_nothing(catalog: Catalog, tmp_path: Path, file: str, line: str,
                                                            error: type, message: str) -> None:
    folder = tmp_path / "mteb"
    shutil.copytree(DATA, folder)
    path = folder / file
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(3, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(error) as info:
        import_mteb(catalog, folder)
    assert f"{path}:4" in str(info.value) and message in str(info.value)
    assert catalog.triple_count() == 0


def test_model_numbers_within_their_bounds_are_read(tmp_path: Path) -> None:
    """The bounds refuse only mistakes: the largest counts allowed, 0, floats and "inf"/Infinity tokens (no
    fixed input limit, as Python's json module writes MTEB's float("inf")) are read."""
    folder = tmp_path / "mteb"
    folder.mkdir()
    (folder / "models.jsonl").write_text(
        '{"name": "a/top", "n_parameters": 1000000000000000, "embed_dim": 10000000, "max_tokens": 1000000000, '
        '"memory_usage_mb": 1e9}\n'
        '{"name": "a/api", "n_parameters": 0, "embed_dim": [256, null, 1024.0], "max_tokens": Infinity}\n'
        '{"name": "a/api-2", "max_tokens": "inf", "embed_dim": 384.0}\n', encoding="utf-8")
    models = {rec.name: rec for _, source in parse_mteb(folder).sources for rec in source.entities}
    top, api, api2 = models["a/top"], models["a/api"], models["a/api-2"]
    assert ("parameters", 10 ** 15) in top.extra
    assert "10000000-dimensional embeddings, up to 1,000,000,000 input tokens" in (top.description or "")
    assert "unlimited input length" in (api.description or "") and "unlimited input length" in (api2.description or "")
    assert any("256/1024-dimensional" in c.description for c in api.capabilities)
    assert "384-dimensional embeddings" in (api2.description or "")
    assert any(c.title == "Long context" and "no fixed limit" in c.description for c in api.capabilities)


def test_a_folder_without_the_files_is_an_input_error(catalog: Catalog, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="neither models.jsonl nor tasks.jsonl"):
        import_mteb(catalog, tmp_path)


def test_line_separators_inside_strings_are_text_and_links_to_nothing_are_errors(catalog: Catalog,
                                                                                tmp_path: Path) -> None:
    folder = tmp_path / "mteb"
    folder.mkdir()
    # U+2028 may stand raw inside a JSON string; JSON Lines ends a record at "\n" only
    (folder / "models.jsonl").write_text('{"name": "org/odd-model", "reference": "a\u2028b"}\n'.replace(
        "\\u2028", "\u2028"), encoding="utf-8")
    assert "\u2028" in (folder / "models.jsonl").read_text(encoding="utf-8")
    import_mteb(catalog, folder)
    assert catalog.ask("ASK { ?e mg:hubId 'org/odd-model' }")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "models.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    with pytest.raises(InputError, match="symbolic link to nothing"):
        import_mteb(catalog, broken)


def test_cli_summary(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    location = tmp_path / "cat"
    result = invoke("--catalog", location, "import", "mteb", DATA, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["details"]["training_sets"]["to_datasets"] > 0
    assert any("not a licence" in reason for reason in data["skipped_by_reason"]) == any(
        (t.get("license") or "").lower() == "not specified" for t in TASKS + MODELS)
    text = invoke("--catalog", location, "import", "mteb", DATA)
    assert "Training sets:" in text.output and "distinct names link to datasets" in text.output


# ---------------------------------------------------------------------------- unseen shapes
# jsonl written after the extraction README's description with what a newer or older mteb may
# write: unknown keys, nulls everywhere, training sets as a mapping (name -> splits), a string or a
# list with a null, eval_langs as a mapping, float dimensions, a BOM, CRLF lines and blank lines.

UNSEEN = Path(__file__).resolve().parent / "data" / "unseen" / "mteb"
UNSEEN_BAD = Path(__file__).resolve().parent / "data" / "unseen" / "mteb-bad"


def _values(catalog: Catalog, slug: str, prop: str) -> set[str]:
    return {str(r[0]) for r in catalog.rows(_bind(f"SELECT ?o WHERE {{ ?e {prop} ?o }}", entity_iri(slug)))}


@pytest.fixture(scope="module")
def unseen_mteb(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A catalog holding the unseen MTEB variants, imported once for the module."""
    yield from loaded_once(tmp_path_factory, "mteb-unseen", lambda cat: import_mteb(cat, UNSEEN / "variants"))


def test_unseen_variants_import_models_datasets_and_tasks(unseen_mteb) -> None:  # type: ignore[no-untyped-def]
    catalog, summary = unseen_mteb
    assert summary.records == 9  # MTEB, 2 datasets, 3 tasks, 3 models (the repeated name once)
    assert any("defined again" in reason for _, reason in summary.skipped)
    assert _values(catalog, "mteb", "schema:version") == {"2.30.1"}
    small = "unseen-org-embed-small"
    assert _values(catalog, small, "dcterms:license") == {"apache-2.0"}
    assert _values(catalog, small, "schema:url") == {"https://huggingface.co/unseen-org/embed-small"}
    assert _values(catalog, small, "mg:language") == {"eng-Latn", "deu-Latn"}
    assert _objects(catalog, small, "mg:trainedOn") == {"unseen-org-retrieval", "msmarco"}  # mapping keys
    assert _objects(catalog, small, "mg:derivedFrom") == {"sentence-transformers-all-minilm-l6-v2"}
    assert any("384-dimensional embeddings" in d for d in _values(catalog, small, "dcterms:description"))
    large = "unseen-org-embed-large"
    assert _objects(catalog, large, "mg:trainedOn") == {"unseen-org-retrieval", "unseen-org-pairs"}  # null dropped
    assert _objects(catalog, large, "mg:derivedFrom") == {small}
    assert _objects(catalog, large, "mg:supportsFormat") == {"gguf"}
    assert _values(catalog, large, "mg:parameterCount") == {"335000000"}
    assert _values(catalog, large, "schema:url") == {"https://huggingface.co/unseen-org/embed-large"}


def test_unseen_nulls_and_unknown_values_are_skipped_not_fatal(unseen_mteb) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = unseen_mteb
    voyage = "voyage-unseen-3"
    assert _values(catalog, voyage, "schema:name") == {voyage}
    assert _values(catalog, voyage, "dcterms:license") == set()
    assert _values(catalog, voyage, "mg:tag") == {"API access", "closed weights"}
    assert _objects(catalog, voyage, "mg:supersededBy") == {"voyage-unseen-4"}
    assert _values(catalog, "unseenretrieval", "dcterms:license") == set()  # 'not specified'
    assert _values(catalog, "unseen-org-retrieval", "mg:language") == {"eng-Latn", "deu-Latn"}  # mapping values
    assert _objects(catalog, "unseennewtype", "mg:evaluatedOn") == {"local-only-dataset"}
    assert _values(catalog, "unseennewtype", "mg:tag") == {"FutureTaskType"}


@pytest.mark.parametrize(("folder", "records"), [("models-only", 3), ("tasks-only", 3)])
def test_unseen_folder_with_one_file(catalog: Catalog, folder: str, records: int) -> None:
    assert import_mteb(catalog, UNSEEN / folder).records == records


@pytest.mark.parametrize(("folder", "error", "where"), [
    ("bad-json", ParseError, "bad-json/tasks.jsonl:3: not JSON"),
    ("bad-array", ParseError, "bad-array/models.jsonl:2: the line is not a JSON object"),
    ("missing-name", SchemaError, "missing-name/models.jsonl:2: missing name"),
    ("wrong-number", SchemaError, "wrong-number/models.jsonl:1: n_parameters must be a number"),
    ("languages-number", SchemaError, "languages-number/models.jsonl:2: languages must be a list of strings"),
    ("missing-dataset-path", SchemaError, "missing-dataset-path/tasks.jsonl:1: missing dataset_path"),
    ("empty-dir", InputError, "empty-dir: neither models.jsonl nor tasks.jsonl is here"),
])
def test_unseen_broken_mteb_folders_are_refused(tmp_path: Path, folder: str, error: type, where: str) -> None:
    with Catalog(tmp_path / "cat") as catalog:
        import_mteb(catalog, UNSEEN / "tasks-only")
        assert_refused_unchanged(catalog, lambda: import_mteb(catalog, UNSEEN_BAD / folder), error, where)


def test_unseen_broken_mteb_folder_fails_the_cli(invoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    failed = invoke("--catalog", str(tmp_path / "cat"), "import", "mteb", "--no-progress", UNSEEN_BAD / "missing-name")
    assert failed.exit_code == 1 and "models.jsonl:2: missing name" in failed.output + failed.stderr


REAL_DUMP = Path(__file__).resolve().parent / "data" / "real" / "mteb-dump"


def test_the_shapes_mteb_writes_are_read(catalog: Catalog) -> None:
    """TaskMetadata as mteb dumps it ("dataset": {"path", "revision"}) was refused with 'missing
    dataset_path'; model_meta.json lines as the results repository holds them are models."""
    import_mteb(catalog, REAL_DUMP)
    assert _objects(catalog, "msmarco", "mg:evaluatedOn") == {"mteb-msmarco"}
    assert catalog.scalar(_bind("SELECT ?h WHERE { ?e mg:hubId ?h }", entity_iri("mteb-msmarco"))) == "mteb/msmarco"
    assert {"deu-Latn", "cmn-Hans", "jpn-Hira"} <= _objects(catalog, "mteb-pawsxpairclassification", "mg:language")
    # a training set named by a task links to the task's dataset
    assert _objects(catalog, "sdadas-mmlw-roberta-base", "mg:trainedOn") == {"mteb-msmarco"}
    assert "mteb-pawsxpairclassification" in _objects(catalog, "dmetasoul-sbert-chinese-general-v1", "mg:trainedOn")
    assert _objects(catalog, "sdadas-mmlw-roberta-base", "mg:derivedFrom") == {"sdadas-polish-roberta-base-v2"}


def test_a_task_without_a_dataset_says_both_shapes(tmp_path: Path, catalog: Catalog) -> None:
    (tmp_path / "tasks.jsonl").write_text('{"name": "T", "dataset": {"revision": "r"}}\n', encoding="utf-8")
    assert_refused_unchanged(catalog, lambda: import_mteb(catalog, tmp_path), SchemaError, "tasks.jsonl:1")
    with pytest.raises(SchemaError) as info:
        import_mteb(catalog, tmp_path)
    assert "'dataset': {'path'" in info.value.hint
