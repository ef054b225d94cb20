"""What a plain (not editable) ``pip install .`` ships: the example queries the query page names."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
import matchgraph
from matchgraph import Catalog
from matchgraph.web.server import create_app
from matchgraph.web.query import example_queries, examples_folder
from starlette.testclient import TestClient
page = TestClient(create_app(Catalog("memory:"))).get("/query").text
examples = example_queries()
print(json.dumps({"package": matchgraph.__file__, "folder": str(examples_folder()),
                  "names": [e["name"] for e in examples],
                  "on_page": all(e["title"] in page or e["title"].replace('"', "&#34;") in page for e in examples)}))
"""


def test_installed_wheel_ships_the_example_queries(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("matchgraph", "ontology", "examples/queries"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                            "-w", str(wheels), str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next(wheels.glob("matchgraph-*.whl"))
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
                                str(target), str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    shutil.rmtree(source)  # nothing may come from a checkout
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["package"].startswith(str(target))
    assert found["folder"].startswith(str(target))
    expected = sorted(p.stem for p in (ROOT / "examples" / "queries").glob("*.rq"))
    assert found["names"] == expected and len(expected) >= 8
    assert found["on_page"]
