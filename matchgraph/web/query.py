"""The query page, like the Wikidata Query Service: an editor, example queries, a permalink.

The example queries (``examples/queries/*.rq`` in the repository) ship inside the package as
``matchgraph.example_queries``, so a plain ``pip install .`` has them too. The page keeps the
query in its URL (``/query?query=...``, run on load), shows results as a table whose entity IRIs
link to entity pages, offers CSV, TSV and JSON downloads (links to the endpoint with ``format=``)
and draws results with two entity columns as a graph.

Examples
--------
>>> [q["name"] for q in example_queries()][:1]
['alternatives-to-c4']
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

__all__ = ["examples_folder", "example_queries"]

PACKAGE = "matchgraph.example_queries"


def examples_folder() -> Path:
    """The folder of the bundled example queries: the checkout's ``examples/queries`` when run from
    a source tree, else the installed package's copy.

    Examples
    --------
    >>> sorted(examples_folder().glob("*.rq"))[0].name
    'alternatives-to-c4.rq'
    """
    local = Path(__file__).resolve().parent.parent.parent / "examples" / "queries"
    if local.is_dir():
        return local
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except ModuleNotFoundError:
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]) if locations else local


def example_queries(folder: Path | None = None) -> list[dict[str, Any]]:
    """The example queries (``*.rq``) with their title (the first comment line), sorted by file name.

    Parameters
    ----------
    folder : path, optional
        Another folder of ``*.rq`` files (``matchgraph serve --examples DIR``).
    """
    folder = folder if folder is not None else examples_folder()
    out = []
    for path in sorted(folder.glob("*.rq")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        first = next((line for line in text.splitlines() if line.strip()), "")
        title = first.lstrip("#").strip() if first.startswith("#") else path.stem.replace("-", " ")
        out.append({"name": path.stem, "title": title, "query": text})
    return out
