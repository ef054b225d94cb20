"""Hostile inputs are refused quickly, in bounded memory, with the file named and the catalog unchanged.

Each case runs the real ``matchgraph`` command in a subprocess capped at 1 GiB of address space
(``RLIMIT_AS``) and 30 seconds, on a catalog that already holds the comparison page, then compares
a sorted N-Quads dump of the catalog with the one taken before. The inputs are written by the
tests (a 2 MB claim is not kept in the repository).

The two RDF cases of issue 12 (a Turtle file re-typing or renaming another source's entity) are
tested with the entity rules, in the store's tests.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from matchgraph import Catalog

from conftest import DATA, EXAMPLES, ROOT, release

MEMORY_CAP = 1 << 30  # bytes of address space for the command
TIMEOUT = 30  # seconds


def _cap_memory() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def canonical(path: Path) -> list[str]:
    """Every quad of a closed on-disk catalog as sorted N-Quads lines (the version token included)."""
    import pyoxigraph as ox

    release()
    catalog = Catalog(path)
    try:
        dump = catalog.oxigraph.dump(format=ox.RdfFormat.N_QUADS)
    finally:
        catalog.close()
        del catalog
        release()
    return sorted(dump.decode("utf-8").splitlines())


def run_matchgraph(*args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m matchgraph ARGS`` in a subprocess with the memory cap and the timeout."""
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH", "")]))
    full_env.pop("MATCHGRAPH_CATALOG", None)
    full_env.setdefault("OPENBLAS_NUM_THREADS", "1")  # each BLAS thread reserves address space
    full_env.setdefault("MALLOC_ARENA_MAX", "2")  # and so does each malloc arena (64 MB), one per busy thread
    return subprocess.run([sys.executable, "-m", "matchgraph", *map(str, args)], capture_output=True, text=True,
                          timeout=TIMEOUT, preexec_fn=_cap_memory, env=full_env, cwd=ROOT)


@pytest.fixture
def seeded(page_catalog_dir: Path, tmp_path: Path) -> Path:
    """A closed catalog directory holding the comparison page (so it is not empty)."""
    path = tmp_path / "seeded"
    shutil.copytree(page_catalog_dir, path)
    return path


# ---------------------------------------------------------------------------- the inputs

def alias_bomb(folder: Path) -> Path:
    """600 bytes of front matter whose aliases expand to 9^9 (387 million) values."""
    rows = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        rows.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = folder / "alias-bomb.md"
    path.write_text("---\nid: bomb\nname: Bomb\nkind: model\n" + "\n".join(rows) + "\n---\n# Bomb\n", encoding="utf-8")
    return path


def entity_expansion(folder: Path) -> Path:
    """1 KB of RDF/XML whose nested entities expand to a billion characters ("billion laughs")."""
    entities = ['<!ENTITY a0 "' + "ha" * 50 + '">'] + [
        f'<!ENTITY a{i} "' + f"&a{i - 1};" * 10 + '">' for i in range(1, 8)]
    path = folder / "laughs.rdf"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n' + "\n".join(entities) + "\n]>\n"
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:s="https://schema.org/">\n'
        ' <rdf:Description rdf:about="https://w3id.org/matchgraph/id/laughs"><s:name>&a7;</s:name>'
        "</rdf:Description>\n</rdf:RDF>\n", encoding="utf-8")
    return path


def xxe(folder: Path) -> Path:
    """RDF/XML reading a local file through an external entity."""
    path = folder / "xxe.rdf"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n <!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:s="https://schema.org/">\n'
        ' <rdf:Description rdf:about="https://w3id.org/matchgraph/id/xxe"><s:name>&secret;</s:name>'
        "</rdf:Description>\n</rdf:RDF>\n", encoding="utf-8")
    return path


def external_dtd(folder: Path) -> Path:
    """RDF/XML naming an external DTD."""
    path = folder / "dtd.rdf"
    path.write_text('<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF SYSTEM "http://example.org/rdf.dtd">\n'
                    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n', encoding="utf-8")
    return path


def deep_json(folder: Path) -> Path:
    """200,000 nested arrays in a .json file."""
    path = folder / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000, encoding="utf-8")
    return path


def deep_jsonld(folder: Path) -> Path:
    """200,000 nested arrays in a .jsonld file."""
    path = folder / "deep.jsonld"
    path.write_text('{"@context": {"@vocab": "https://schema.org/"},\n "name": ' + "[" * 200_000 + "]" * 200_000 + "}",
                    encoding="utf-8")
    return path


def deep_yaml(folder: Path) -> Path:
    """50,000 nested flow sequences in a card's front matter."""
    path = folder / "deep-yaml.md"
    path.write_text("---\nid: deep\nkind: model\nx: " + "[" * 50_000 + "]" * 50_000 + "\n---\n", encoding="utf-8")
    return path


def deep_block_yaml(folder: Path) -> Path:
    """500 nested block sequences (below libyaml's own limit, above ours)."""
    path = folder / "deep-block.md"
    path.write_text("---\nid: deep\nkind: model\nx:\n" + "".join("  " * i + "-\n" for i in range(500)) + "---\n",
                    encoding="utf-8")
    return path


def big_claim(folder: Path) -> Path:
    """A card whose Unique claim is 2 MB long."""
    path = folder / "big-claim.md"
    path.write_text("---\nid: big-claim\nname: Big Claim\nkind: model\n---\n## Fast\n\nIt is fast.\n\n"
                    f"Unique: {'x' * 2_000_000}\n", encoding="utf-8")
    return path


def big_literal_ttl(folder: Path) -> Path:
    """A Turtle description of 1 MB."""
    path = folder / "big-literal.ttl"
    path.write_text("@prefix schema: <https://schema.org/> .\n\n"
                    f'<https://w3id.org/matchgraph/id/big> schema:description "{"y" * 1_000_000}" .\n',
                    encoding="utf-8")
    return path


def card(name: str, body: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_text(f"---\nid: odd\nkind: model\n{body}\n---\n", encoding="utf-8")
        return path

    make.__name__ = name
    return make


def croissant(name: str, change: Callable[[dict], None]) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        doc = json.loads((EXAMPLES.parent / "croissant" / "titanic.json").read_text(encoding="utf-8"))
        change(doc)
        path = folder / name
        path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        return path

    make.__name__ = name
    return make


def remote_context(folder: Path) -> Path:
    path = folder / "remote-context.jsonld"
    path.write_text('{"@context": "https://example.org/context.jsonld",\n "@id": "https://w3id.org/matchgraph/id/r",'
                    ' "name": "R"}', encoding="utf-8")
    return path


def imported_remote_context(folder: Path) -> Path:
    path = folder / "import-context.jsonld"
    path.write_text('{"@context": {"@import": "https://example.org/base.jsonld", "@vocab": "https://schema.org/"},\n'
                    ' "@id": "https://w3id.org/matchgraph/id/r", "name": "R"}', encoding="utf-8")
    return path


def fifo(folder: Path) -> Path:
    """A named pipe: its size reads 0 and a read would wait for a writer forever."""
    path = folder / "pipe-card.md"
    os.mkfifo(path)
    return path


def device(folder: Path) -> Path:
    """A link to /dev/zero: size 0, and endless zeros when read."""
    path = folder / "zero-card.md"
    path.symlink_to("/dev/zero")
    return path


def written(name: str, text: str) -> Callable[[Path], Path]:
    """A maker of the file ``name`` holding ``text``."""
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_text(text, encoding="utf-8")
        return path

    make.__name__ = name
    return make


def mteb_folder(name: str, line: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.mkdir()
        (path / "models.jsonl").write_text(line + "\n", encoding="utf-8")
        return path

    make.__name__ = name
    return make


#: (case, how to make the file, what the message says, command before the file)
CASES = [
    ("fifo", fifo, "pipe-card.md: cannot read the file: it is a FIFO (named pipe), not a regular file", ["ingest"]),
    ("dev-zero", device, "zero-card.md: cannot read the file: it is a device, not a regular file", ["ingest"]),
    ("huge-integer-yaml", card("bigint.md", "name: N\nmetrics: {downloads: " + "9" * 5000 + "}"),
     "bigint.md:2: invalid YAML front matter: Exceeds the limit (4300 digits)", ["ingest"]),
    ("huge-integer-jsonld", written("bigint.jsonld", '{"@context": {"@vocab": "https://schema.org/"}, '
                                                     '"@id": "https://w3id.org/matchgraph/id/n", "size": '
                                                     + "9" * 5000 + "}"),
     "bigint.jsonld:1: invalid JSON: Exceeds the limit", ["ingest"]),
    ("impossible-date", card("baddate.md", "name: N\nreleased: 2023-02-30"),
     "baddate.md:5: invalid YAML front matter: '2023-02-30' is not a date that exists", ["ingest"]),
    ("term-over-16mib", written("huge-term.ttl", '<https://w3id.org/matchgraph/id/h> <https://schema.org/name> "H" .\n'
                                                 '<https://w3id.org/matchgraph/id/h> <https://schema.org/description> "'
                                                 + "z" * 17_000_000 + '" .\n'),
     "huge-term.ttl:2: a literal or an IRI is longer than 16 MiB", ["ingest"]),
    ("unterminated-term-over-16mib", written("open-term.ttl", '<urn:x:a> <urn:x:b> "c" .\n' * 3
                                             + '<urn:x:h> <urn:x:d> "' + "z" * 17_000_000),
     "open-term.ttl:4: a literal or an IRI is longer than 16 MiB", ["ingest"]),
    ("deep-rdfxml", written("deep.rdf", '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                                        'xmlns:s="https://schema.org/">\n<rdf:Description rdf:about="urn:x:d">\n'
                                        + '<s:p rdf:parseType="Resource">\n' * 40_000 + "</s:p>\n" * 40_000
                                        + "</rdf:Description>\n</rdf:RDF>\n"),
     "deep.rdf:101: the XML nests elements more than 100 deep", ["ingest"]),
    # was loaded without an error up to the cut (Oxigraph's RDF/XML parser ends quietly inside an element)
    ("truncated-rdfxml", written("cut.rdf", '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                                            'xmlns:s="https://schema.org/">\n<rdf:Description rdf:about="urn:x:a">'
                                            '<s:name>A</s:name></rdf:Description>\n<rdf:Description rdf:about='
                                            '"urn:x:b"><s:name>B</s:name>\n<s:description>half a sent'),
     "cut.rdf:4: the XML ends inside 3 elements never closed: the file is cut short", ["ingest"]),
    ("deep-turtle", written("deep.ttl", "@prefix s: <https://schema.org/> .\n<urn:x:d> s:p\n"
                                        + "[ s:p\n" * 1_000_000 + "s:o" + " ]" * 1_000_000 + " .\n"),
     "deep.ttl:103: the RDF nests blank nodes [ ] and collections ( ) more than 100 deep", ["ingest"]),
    ("deep-turtle-collection", written("deep-list.ttl", "<urn:x:d> <urn:x:p> " + "(" * 1_000_000 + ")" * 1_000_000
                                       + " .\n"), "deep-list.ttl:1: the RDF nests", ["ingest"]),
    ("deep-trig", written("deep.trig", "<urn:x:g> {\n<urn:x:d> <urn:x:p> " + "[ <urn:x:p> " * 1000 + "1"
                                       + " ]" * 1000 + " .\n}\n"), "deep.trig:2: the RDF nests", ["ingest"]),
    ("deep-turtle-behind-closers", written("closers.ttl", "<urn:x:s> <urn:x:p> <urn:x:\\u0041" + ")" * 2000
                                           + "> .\n<urn:x:d> <urn:x:p> " + "[ <urn:x:p> " * 150 + "1" + " ]" * 150
                                           + " .\n"),
     "closers.ttl:2: the RDF nests blank nodes [ ] and collections ( ) more than 100 deep", ["ingest"]),
    ("deep-n3-formulas", written("deep.n3", "<urn:x:d> <urn:x:p> " + "{ <urn:x:a> <urn:x:b> " * 5000 + "<urn:x:c>"
                                       + " }" * 5000 + " .\n"),
     "deep.n3:1: the RDF nests blank nodes [ ], collections ( ) and formulas { } more than 100 deep", ["ingest"]),
    ("jsonld-null", written("null.jsonld", "null"),
     "null.jsonld:1: a JSON-LD document is an object or an array, not null", ["ingest"]),
    ("mteb-nan", mteb_folder("mteb-nan", '{"name": "m/x", "n_parameters": NaN}'),
     "models.jsonl:1: n_parameters must be a number, found NaN (not a number)", ["import", "mteb"]),
    ("mteb-huge-integer", mteb_folder("mteb-int", '{"name": "m/x", "n_parameters": ' + "9" * 5000 + "}"),
     "models.jsonl:1: not JSON: Exceeds the limit", ["import", "mteb"]),
    # were an OverflowError traceback (int(inf)); NaN and 10^30 were written out, -5 stored as a parameter count
    ("mteb-infinity", mteb_folder("mteb-inf", '{"name": "m/x", "n_parameters": Infinity}'),
     "models.jsonl:1: n_parameters must be a number, found Infinity", ["import", "mteb"]),
    ("mteb-1e999", mteb_folder("mteb-1e999", '{"name": "m/x", "n_parameters": 1e999}'),
     "models.jsonl:1: n_parameters must be a number, found Infinity (or a number too large for a float, "
     "such as 1e999)", ["import", "mteb"]),
    ("mteb-inf-text-parameters", mteb_folder("mteb-inf-text", '{"name": "m/x", "n_parameters": "inf"}'),
     "models.jsonl:1: n_parameters must be a number, found 'inf'", ["import", "mteb"]),
    ("mteb-400-digit-parameters", mteb_folder("mteb-400", '{"name": "m/x", "n_parameters": 1' + "0" * 400 + "}"),
     "models.jsonl:1: n_parameters must be a number of at most 1,000,000,000,000,000 (a quadrillion; the largest models have a "
     "few trillion), found a number of 401 digits", ["import", "mteb"]),
    ("mteb-negative-parameters", mteb_folder("mteb-neg", '{"name": "m/x", "n_parameters": -5}'),
     "models.jsonl:1: n_parameters must be a number of zero or more, found -5", ["import", "mteb"]),
    ("mteb-nan-dimensions", mteb_folder("mteb-nan-dim", '{"name": "m/x", "embed_dim": NaN}'),
     "models.jsonl:1: embed_dim must be a number, found NaN", ["import", "mteb"]),
    ("mteb-nan-in-dimension-list", mteb_folder("mteb-nan-dims", '{"name": "m/x", "embed_dim": [256, NaN]}'),
     "models.jsonl:1: embed_dim[1] must be a number, found NaN", ["import", "mteb"]),
    ("mteb-huge-dimensions", mteb_folder("mteb-big-dim", '{"name": "m/x", "embed_dim": 100000000}'),
     "models.jsonl:1: embed_dim must be a number of at most 10,000,000", ["import", "mteb"]),
    ("mteb-31-digit-tokens", mteb_folder("mteb-tokens", '{"name": "m/x", "max_tokens": ' + str(10 ** 30) + "}"),
     "models.jsonl:1: max_tokens must be a number of at most 1,000,000,000 (a billion; the longest inputs models take are a "
     "few million tokens), found a number of 31 digits", ["import", "mteb"]),
    ("mteb-negative-memory", mteb_folder("mteb-memory", '{"name": "m/x", "memory_usage_mb": -1.5}'),
     "models.jsonl:1: memory_usage_mb must be a number of zero or more, found -1.5", ["import", "mteb"]),
    # was "OverflowError: int too large to convert to float"; NaN and Infinity were a shape violation without the path
    ("hf-400-digit-downloads", written("hf-bigint.json", '[{"id": "a/b", "downloads": 1' + "0" * 400 + "}]"),
     "hf-bigint.json at $[0].downloads: downloads must be a count of at most 1,000,000,000,000,000, found a number "
     "of 401 digits", ["import", "hf"]),
    ("hf-nan-downloads", written("hf-nan.json", '[{"id": "a/b", "likes": 2}, {"id": "c/d", "downloads": NaN}]'),
     "hf-nan.json at $[1].downloads: downloads must be a count, found NaN", ["import", "hf"]),
    ("hf-infinite-likes", written("hf-inf.json", '{"models": [{"id": "a/b", "likes": Infinity}]}'),
     "hf-inf.json at $.models[0].likes: likes must be a count, found Infinity", ["import", "hf"]),
    ("hf-1e999-likes", written("hf-1e999.json", '[{"id": "a/b", "likes": 1e999}]'),
     "hf-1e999.json at $[0].likes: likes must be a count, found Infinity (or a number too large for a float",
     ["import", "hf"]),
    ("hf-absurd-downloads", written("hf-absurd.json", '[{"id": "a/b", "downloads": 2e15}]'),
     "hf-absurd.json at $[0].downloads: downloads must be a count of at most 1,000,000,000,000,000, found "
     "2,000,000,000,000,000.0", ["import", "hf"]),
    # was "a term cannot be written as RDF: Invalid IRI code point ' '" without the file
    ("hf-id-with-spaces", written("hf-space.json", '[{"id": "a/b", "likes": 1}, {"id": "my org/my model", "likes": 2}]'),
     "hf-space.json at $[1].id: id 'my org/my model' is not a Hub repository id", ["import", "hf"]),
    ("hf-id-climbing", written("hf-dots.json", '[{"id": "../../etc/passwd", "likes": 2}]'),
     "hf-dots.json at $[0].id: id '../../etc/passwd' is not a Hub repository id", ["import", "hf"]),
    # was a shape violation of "UsageMetric dup-x/metric/downloads" naming neither entry
    ("hf-id-twice", written("hf-twice.json", '[{"id": "dup/x", "downloads": 3}, {"id": "dup/x", "downloads": 5}]'),
     "hf-twice.json at $[1].id: 'dup/x' is listed twice: here and at $[0]", ["import", "hf"]),
    ("alias-bomb", alias_bomb, "expands to more than 100,000 values", ["ingest"]),
    ("entity-expansion", entity_expansion, "declares an entity", ["ingest"]),
    ("xxe", xxe, "xxe.rdf:3: the XML declares an entity", ["ingest"]),
    ("external-dtd", external_dtd, "dtd.rdf:2: the XML refers to an external DTD", ["ingest"]),
    ("deep-json", deep_json, "deep.json:1: the JSON nests arrays and objects more than 100 deep", ["ingest"]),
    ("deep-jsonld", deep_jsonld, "deep.jsonld:2: the JSON nests", ["ingest"]),
    ("deep-yaml", deep_yaml, "deep-yaml.md:4: the YAML front matter nests", ["ingest"]),
    ("deep-block-yaml", deep_block_yaml, "the YAML front matter nests lists and mappings more than 100 deep",
     ["ingest"]),
    ("2mb-claim", big_claim, "big-claim.md:10: a Unique claim of 'Big Claim' is 2,000,000 characters long",
     ["ingest"]),
    ("1mb-turtle-literal", big_literal_ttl, "big-literal.ttl:3: a literal is 1,000,000 characters long", ["ingest"]),
    # were read without a word, the last value kept ('name: A' lost)
    ("key-twice", card("key-twice.md", "name: First\nname: Second"),
     "key-twice.md:5: invalid YAML front matter: the key 'name' is given twice in one mapping (first on line 4)",
     ["ingest"]),
    ("key-twice-in-flow-mapping", card("flow-twice.md", "metrics: {downloads: 1, downloads: 2}"),
     "flow-twice.md:4: invalid YAML front matter: the key 'downloads' is given twice", ["ingest"]),
    ("list-as-name", card("list-name.md", "name: [a, b]"), "list-name.md:4: name must be one text value, found a list",
     ["ingest"]),
    ("mapping-as-description", card("dict-description.md", "description: {a: 1}"),
     "dict-description.md:4: description must be one text value, found a mapping", ["ingest"]),
    ("list-as-metrics", card("list-metrics.md", "metrics: [1, 2]"),
     "list-metrics.md:4: metrics must be a mapping of names to counts, found a list", ["ingest"]),
    ("mapping-as-alias", card("dict-alias.md", "aliases: [ok, {a: 1}]"),
     "dict-alias.md:4: aliases[1] must be text, found a mapping", ["ingest"]),
    ("remote-context", remote_context, "remote-context.jsonld at $.@context: the JSON-LD @context "
     "'https://example.org/context.jsonld' would have to be fetched", ["ingest"]),
    ("imported-context", imported_remote_context, "at $.@context.@import", ["ingest"]),
    ("croissant-list-name", croissant("list-name.json", lambda d: d.update(name=["a", "b"])),
     "list-name.json at $.name: name must be one text value, found a list", ["import", "croissant"]),
    ("croissant-remote-context", croissant("remote.json", lambda d: d.update({"@context": "https://example.org/c"})),
     "remote.json at $.@context", ["import", "croissant"]),
    # JSON readers differ in which value of a key given twice they keep (this one kept the last)
    ("json-key-twice", written("key-twice.jsonld", '{"@context": {"@vocab": "https://schema.org/"},\n'
                                                    ' "@id": "https://example.org/d", "name": "A",\n "name": "B"}'),
     "key-twice.jsonld:1: the key 'name' is given twice in the object that starts on this line", ["ingest"]),
    ("croissant-key-twice", written("twice.json", '{"@context": {"@vocab": "https://schema.org/", "cr": '
                                                  '"http://mlcommons.org/croissant/"},\n "@type": "Dataset",\n'
                                                  ' "distribution": [{"name": "a",\n "name": "b"}]}'),
     "twice.json:3: the key 'name' is given twice in the object that starts on this line", ["import", "croissant"]),
    ("mteb-key-twice", mteb_folder("twice-mteb", '{"name": "m", "name": "n"}'),
     "models.jsonl:1: the key 'name' is given twice", ["import", "mteb"]),
    ("croissant-mapping-description", croissant("desc.json", lambda d: d.update(description={"a": 1})),
     "desc.json at $.description: description must be one text value, found a mapping", ["import", "croissant"]),
    # JSON-LD drops a node whose @id is not an IRI: was exit 0 and +0 triples ('<bad>': a traceback)
    ("jsonld-id-with-space", written("space-id.jsonld", '{"@context": {"@vocab": "https://schema.org/"},\n'
                                                        ' "@id": "http://ex.org/a b", "name": "A"}'),
     "space-id.jsonld at $.@id: the @id 'http://ex.org/a b' is not a valid IRI: it holds a space", ["ingest"]),
    ("jsonld-id-in-angle-brackets", written("angle-id.jsonld", '{"@context": {"@vocab": "https://schema.org/"},'
                                                               ' "@id": "<bad>", "name": "A"}'),
     "angle-id.jsonld at $.@id: the @id '<bad>' is not a valid IRI: it holds the character '<'", ["ingest"]),
    ("jsonld-type-with-space", written("space-type.jsonld", '{"@context": {"@vocab": "https://schema.org/"}, '
                                                            '"@id": "https://w3id.org/matchgraph/id/t", '
                                                            '"@type": ["Thing", "http://ex.org/a b"], "name": "T"}'),
     "space-type.jsonld at $.@type[1]: the @type 'http://ex.org/a b' is not a valid IRI", ["ingest"]),
    # was "cannot read JSON-LD: 'int' object has no attribute 'get'" naming no place
    ("jsonld-context-number", written("context-1.jsonld", '{"@context": 1, "@id": "https://w3id.org/matchgraph/id/c",'
                                                          ' "https://schema.org/name": "C"}'),
     "context-1.jsonld at $.@context: a JSON-LD @context must be an object of term definitions", ["ingest"]),
    # was a shape violation "an entity needs a name" at line 2, saying nothing of the map
    ("jsonld-empty-language-map", written("empty-map.jsonld", '{"@context": {"@vocab": "https://schema.org/", '
                                                              '"name": {"@container": "@language"}},\n'
                                                              ' "@id": "https://w3id.org/matchgraph/id/m", "@type": '
                                                              '"https://w3id.org/matchgraph/ns#Entity", "name": {}}'),
     "empty-map.jsonld at $.name: the language map is empty, so it gives no value", ["ingest"]),
    # were stored: entities named by a file on this machine (nothing was read), with no page
    ("turtle-file-base", written("file-base.ttl", "@base <file:///etc/> .\n@prefix mg: <https://w3id.org/matchgraph/"
                                                  'ns#> .\n<passwd> a mg:Entity, mg:Tool ; <https://schema.org/name> '
                                                  '"Passwd" .\n'),
     "file-base.ttl:1: the entity file:///etc/passwd has a local file: IRI: the file sets its base IRI to "
     "file:///etc/", ["ingest"]),
    ("turtle-relative-entity", written("relative.ttl", '@prefix mg: <https://w3id.org/matchgraph/ns#> .\n<#rel> a '
                                                       'mg:Entity, mg:Tool ; <https://schema.org/name> "Rel" .\n'),
     "relative.ttl#rel has a local file: IRI: the relative IRI '#rel' resolves against the file's own path",
     ["ingest"]),
    ("jsonld-file-base", written("file-base.jsonld", '{"@context": {"@vocab": "https://schema.org/", "@base": '
                                                     '"file:///etc/"},\n "@id": "passwd", "@type": '
                                                     '"https://w3id.org/matchgraph/ns#Entity", "name": "P"}'),
     "file-base.jsonld:1: the entity file:///etc/passwd has a local file: IRI", ["ingest"]),
]


@pytest.mark.parametrize(("make", "message", "command"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_input_is_refused_in_bounded_time_and_memory(make, message, command, seeded: Path,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    before = canonical(seeded)
    assert len(before) > 1000
    path = make(tmp_path)
    result = run_matchgraph(*command, "--catalog", seeded, path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert "MemoryError" not in output and "RecursionError" not in output
    assert output.startswith("Error: "), output
    assert path.name in output
    assert message in output, output
    assert "\nHint: " in output, output
    assert canonical(seeded) == before, "the catalog changed"


# ---------------------------------------------------------------------------- weights files

def sparse(name: str, size: int) -> Callable[[Path], Path]:
    """A maker of the file ``name`` of ``size`` bytes written as a hole (no disk used, no time spent)."""
    def make(folder: Path) -> Path:
        path = folder / name
        with path.open("wb") as handle:
            handle.truncate(size)
        return path

    make.__name__ = name
    return make


def written_bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    """A maker of the file ``name`` holding ``data``."""
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    make.__name__ = name
    return make


#: (case, how to make the weights file, what the message says, the command taking --weights, its environment).
#: Were a UnicodeDecodeError, a RecursionError and an OverflowError/ValueError traceback, and a file of any size
#: read whole (300 MB: 85 seconds).
WEIGHTS_CASES = [
    ("not-utf8", written_bytes("latin1.yaml", b"rank:\n  quality: 0.5 # \xe9t\xe9\n"),
     "cannot use the weights file {path}:2: the file is not UTF-8 text", ["explain", "the-pile"], {}),
    ("deep-json", written("deep-weights.json", "[" * 100_000 + "]" * 100_000),
     "cannot use the weights file {path}:1: the YAML or JSON nests lists and mappings more than",
     ["explain", "the-pile"], {}),
    ("deep-yaml", written("deep-weights.yaml", "rank:\n" + "".join("  " * i + "-\n" for i in range(1, 300))),
     "cannot use the weights file {path}:101: the YAML or JSON nests lists and mappings more than 100 deep "
     "(MATCHGRAPH_MAX_DEPTH)", ["compare", "the-pile", "distilroberta-base"], {}),
    ("300-mb", sparse("huge-weights.yaml", 300 * 1024 * 1024),
     "cannot use the weights file {path}: the file is 300 MiB, over the limit of 64 MiB for a file read whole "
     "(MATCHGRAPH_MAX_FILE_SIZE)", ["scores"], {}),
    ("over-a-lowered-limit", written("weights.yaml", "rank: {quality: 0.5}\n" + "#" * 3000 + "\n"),
     "cannot use the weights file {path}: the file is 3,022 bytes, over the limit of 2 KiB", ["explain", "the-pile"],
     {"MATCHGRAPH_MAX_FILE_SIZE": "2K"}),
    ("400-digit-weight", written("bigint-weights.yaml", "rank: {quality: 1" + "0" * 400 + "}\n"),
     "weight 'rank.quality' must be a number of zero or more (and finite), not a number of 401 digits",
     ["explain", "the-pile"], {}),
    ("5000-digit-weight", written("longint-weights.json", '{"rank": {"quality": ' + "9" * 5000 + "}}"),
     "the weights file {path}:1 is not valid YAML or JSON: Exceeds the limit (4300 digits)", ["scores"], {}),
]


@pytest.mark.parametrize(("make", "message", "command", "env"), [c[1:] for c in WEIGHTS_CASES],
                         ids=[c[0] for c in WEIGHTS_CASES])
def test_hostile_weights_file_is_refused(make, message, command, env, seeded: Path,  # type: ignore[no-untyped-def]
                                         tmp_path: Path) -> None:
    """A weights file is read through the safe readers: a message naming it (a usage error: exit 2), no traceback."""
    before = canonical(seeded)
    path = make(tmp_path)
    result = run_matchgraph(*command, "--catalog", seeded, "--weights", path, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert "MemoryError" not in output and "RecursionError" not in output
    assert "\nError: " in output, output
    assert message.format(path=path) in output, output
    assert "\nHint: " in output, output
    assert canonical(seeded) == before, "the catalog changed"


def test_limits_are_named_and_can_be_raised(seeded: Path, tmp_path: Path) -> None:
    """The message names the environment variable; setting it lets a trusted input through."""
    path = big_claim(tmp_path)
    refused = run_matchgraph("ingest", "--catalog", seeded, path)
    assert "MATCHGRAPH_MAX_LITERAL_SIZE" in refused.stderr and "MATCHGRAPH_MAX_LITERAL_SIZE=2000000" in refused.stderr
    accepted = run_matchgraph("ingest", "--catalog", seeded, path, env={"MATCHGRAPH_MAX_LITERAL_SIZE": "3M"})
    assert accepted.returncode == 0, accepted.stderr
    deep = deep_block_yaml(tmp_path)
    assert run_matchgraph("ingest", "--catalog", seeded, deep).returncode == 1
    # not a card that can be ingested even when read (no name), but the depth is no longer the problem
    allowed = run_matchgraph("ingest", "--catalog", seeded, deep, env={"MATCHGRAPH_MAX_DEPTH": "1000"})
    assert "nests" not in allowed.stderr


def test_file_size_limit(seeded: Path, tmp_path: Path) -> None:
    path = tmp_path / "large.json"
    path.write_text(json.dumps({"@context": {"@vocab": "https://schema.org/"}, "name": "x" * 3000}), encoding="utf-8")
    result = run_matchgraph("ingest", "--catalog", seeded, path, env={"MATCHGRAPH_MAX_FILE_SIZE": "2K"})
    assert result.returncode == 1
    assert "large.json: the file is 3,0" in result.stderr and "over the limit of 2 KiB for a file read whole " \
        "(MATCHGRAPH_MAX_FILE_SIZE)" in result.stderr
    bad = run_matchgraph("ingest", "--catalog", seeded, path, env={"MATCHGRAPH_MAX_FILE_SIZE": "lots"})
    assert bad.returncode == 2 and "MATCHGRAPH_MAX_FILE_SIZE='lots' is not a size" in bad.stderr


def test_bounded_inputs_still_read(catalog: Catalog, tmp_path: Path) -> None:
    """Aliases that expand a little, a harmless DOCTYPE and a schema.org context URL are all fine."""
    from matchgraph import ingest

    (tmp_path / "aliases.md").write_text(
        "---\nid: aliased\nname: Aliased\nkind: model\ntags: &t [fast, small]\nkeywords: *t\n---\n", encoding="utf-8")
    (tmp_path / "plain.rdf").write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:s="https://schema.org/">\n'
        ' <rdf:Description rdf:about="https://w3id.org/matchgraph/id/aliased"><s:alternateName>A</s:alternateName>'
        "</rdf:Description>\n</rdf:RDF>\n", encoding="utf-8")
    (tmp_path / "schema.jsonld").write_text(json.dumps({
        "@context": "https://schema.org/", "@id": "https://w3id.org/matchgraph/id/aliased",
        "url": "https://example.org/aliased", "datePublished": "2024-01-02"}), encoding="utf-8")
    ingest(catalog, [tmp_path], validate=False)
    rows = {(str(p), str(o)) for p, o in catalog.rows(
        "SELECT ?p ?o WHERE { <https://w3id.org/matchgraph/id/aliased> ?p ?o }")}
    assert ("https://schema.org/alternateName", "A") in rows
    # schema.org's own context maps to http://schema.org/, url to an IRI and dates to schema:Date
    assert ("http://schema.org/url", "https://example.org/aliased") in rows
    kinds = catalog.rows("SELECT (datatype(?d) AS ?t) (isIRI(?u) AS ?iri) WHERE { "
                         "<https://w3id.org/matchgraph/id/aliased> <http://schema.org/datePublished> ?d ; "
                         "<http://schema.org/url> ?u }")
    assert [(str(t), bool(i.toPython())) for t, i in kinds] == [("http://schema.org/Date", True)]


def test_json_ld_contexts_are_never_fetched(catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With every socket refused, bundled contexts still work and other remote ones are refused before any fetch."""
    import socket

    from matchgraph import ingest
    from matchgraph.errors import UnsafeInputError

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("matchgraph tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    (tmp_path / "ok.jsonld").write_text(json.dumps({
        "@context": ["https://schema.org", {"mg": "https://w3id.org/matchgraph/ns#"}],
        "@id": "https://w3id.org/matchgraph/id/ctx", "name": "Ctx"}), encoding="utf-8")
    ingest(catalog, [tmp_path / "ok.jsonld"], validate=False)
    assert catalog.rows("SELECT ?n WHERE { <https://w3id.org/matchgraph/id/ctx> <http://schema.org/name> ?n }")
    (tmp_path / "scoped.jsonld").write_text(json.dumps({
        "@context": {"@vocab": "https://schema.org/", "author": {"@id": "author", "@context": "https://e.org/c"}},
        "@id": "https://w3id.org/matchgraph/id/ctx2", "author": {"name": "x"}}), encoding="utf-8")
    with pytest.raises(UnsafeInputError, match=r"scoped.jsonld at \$.@context.author.@context"):
        ingest(catalog, [tmp_path / "scoped.jsonld"], validate=False)


def test_bundled_contexts_are_package_data() -> None:
    from matchgraph.sources.safe_load import bundled_context

    assert bundled_context("http://schema.org")["url"] == {"@id": "schema:url", "@type": "@id"}
    assert bundled_context("http://mlcommons.org/croissant/1.0")["cr"] == "http://mlcommons.org/croissant/"
    assert bundled_context("https://w3id.org/matchgraph/context.jsonld")["mg"] == "https://w3id.org/matchgraph/ns#"
    assert bundled_context("https://example.org/") is None


def test_json_depth_check_matches_the_parser() -> None:
    """The fast bracket count agrees with the real nesting, with brackets and escapes inside strings."""
    import random

    from matchgraph.sources.safe_load import _max_depth

    def depth(value: object) -> int:
        if isinstance(value, dict):
            return 1 + max(map(depth, value.values()), default=0)
        if isinstance(value, list):
            return 1 + max(map(depth, value), default=0)
        return 0

    rng = random.Random(12)

    def make(level: int) -> object:
        r = rng.random()
        if level > 7 or r < 0.3:
            return rng.choice(['a"]', "[\\", 1, "x{", '\\"', '\\\\"]', None])
        if r < 0.65:
            return [make(level + 1) for _ in range(rng.randint(0, 3))]
        return {rng.choice(["k", '"[', "]", "\\"]): make(level + 1) for _ in range(rng.randint(0, 3))}

    for i in range(300):
        value = make(0)
        text = json.dumps(value, ensure_ascii=bool(i % 2))
        for block in (1, 5, 1 << 20):
            assert _max_depth(text, block=block) == depth(value), text


def test_turtle_depth_check_matches_the_parser() -> None:
    """The nesting counted before parsing is the real one (brackets inside short and long strings,
    IRIs, comments and escapes do not count), whatever the chunks the file is read in; every
    generated document is Turtle that Oxigraph parses."""
    import random

    import pyoxigraph as ox

    from matchgraph.errors import LimitError
    from matchgraph.sources.safe_load import check_turtle_depth

    rng = random.Random(7)
    noise = ['"a ( [ \\" ]"', "'(('", '"""x\n( [ \\""" ]\n"""', "'''] ) '\n'''", "<urn:x:a(b)((>",
             r"<urn:x:\u0041)))>", r"<urn:x:\u0041((>", "3",
             '""', "<urn:x:o>"]

    def node(level: int) -> tuple[str, int]:
        r = rng.random()
        if level > 6 or r < 0.35:
            return rng.choice(noise), 0
        if r < 0.7:
            inner = [node(level + 1) for _ in range(rng.randint(0, 3))]
            return "(" + " ".join(t for t, _ in inner) + ")", 1 + max((d for _, d in inner), default=0)
        inner = [node(level + 1) for _ in range(rng.randint(1, 3))]
        props = " ; ".join(f"<urn:x:p> {t}" for t, _ in inner)
        return "[ " + props + " # ] [ ( comment\n]", 1 + max(d for _, d in inner)

    for _ in range(200):
        statements = [node(0) for _ in range(rng.randint(1, 4))]
        text = "".join(f"<urn:x:s> <urn:x:p> {t} .\n" for t, _ in statements)
        deepest = max(d for _, d in statements)
        assert sum(1 for _ in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)) > 0
        data = text.encode()
        for size in (1, 3, 17, 1 << 20):
            chunks = [data[i:i + size] for i in range(0, len(data), size)]
            os.environ["MATCHGRAPH_MAX_DEPTH"] = str(deepest)
            try:
                check_turtle_depth(iter(chunks), "t.ttl")
                if deepest:
                    os.environ["MATCHGRAPH_MAX_DEPTH"] = str(deepest - 1)
                    with pytest.raises(LimitError, match="more than"):
                        check_turtle_depth(iter(chunks), "t.ttl")
            finally:
                del os.environ["MATCHGRAPH_MAX_DEPTH"]


def test_turtle_within_the_depth_limit_is_read(catalog: Catalog, tmp_path: Path) -> None:
    """100 levels of blank nodes, with brackets in every literal, is ingested in full."""
    from matchgraph import ingest

    text = ("<https://w3id.org/matchgraph/id/nested> <https://schema.org/name> \"Nested ((\" ;\n"
            "  <https://schema.org/about> " + '[ <https://schema.org/name> "[[[" ; <https://schema.org/about>\n' * 99
            + '[ <https://schema.org/name> """deepest ]]\n((""" ]' + " ]" * 99 + " .\n")
    (tmp_path / "nested.ttl").write_text(text, encoding="utf-8")
    ingest(catalog, [tmp_path / "nested.ttl"], validate=False)
    [(count,)] = catalog.rows("SELECT (COUNT(*) AS ?n) WHERE { ?s <https://schema.org/about> ?o }")
    assert int(count) == 100


# ---------------------------------------------------------------------------- every input error has a hint

INPUT_ERRORS = {"InputError", "ParseError", "SchemaError", "ConflictError", "LimitError", "UnsafeInputError"}


def test_every_input_error_raised_by_readers_has_a_hint() -> None:
    """Scan the readers: every InputError they construct passes a hint (ValidationError brings its own)."""
    import ast

    missing = []
    package = ROOT / "matchgraph"
    files = sorted((package / "sources").glob("*.py"))
    assert len(files) > 10  # the readers, linking and build all live in sources/
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in INPUT_ERRORS \
                    and not any(k.arg == "hint" for k in node.keywords):
                missing.append(f"{file.relative_to(ROOT)}:{node.lineno}")
    assert not missing, "input errors without a hint: " + ", ".join(missing)


def _bad_files() -> list[tuple[str, Path]]:
    unseen = DATA / "unseen"
    cases = [("ingest", p) for p in sorted((DATA / "bad").iterdir())]
    cases += [("ingest", p) for p in sorted((unseen / "cards-bad").iterdir())]
    cases += [("croissant", p) for p in sorted((unseen / "croissant-bad").iterdir())]
    cases += [("hf", p) for p in sorted((unseen / "hf-bad").iterdir())]
    cases += [("mteb", p) for p in sorted((unseen / "mteb-bad").iterdir())]
    return cases


@pytest.mark.parametrize(("reader", "path"), _bad_files(), ids=lambda v: v if isinstance(v, str) else v.name)
def test_every_bad_file_is_refused_with_a_hint(reader: str, path: Path) -> None:
    """Each bad file of the test data is refused by its reader (or by ingest) with a location and a hint."""
    from matchgraph.errors import InputError

    with pytest.raises(InputError) as info:
        _read_or_ingest(reader, path)
    error = info.value
    assert error.hint, f"{path.name}: {error}"
    assert path.name in str(error) or any(part in str(error) for part in path.parts[-2:]), str(error)


def _read_or_ingest(reader: str, path: Path) -> None:
    from matchgraph import ingest
    from matchgraph.sources.croissant import read_croissant
    from matchgraph.sources.hf import read_hub_file
    from matchgraph.sources.mteb import parse_mteb

    if reader == "croissant":
        read_croissant(path)
    elif reader == "hf":
        read_hub_file(path)
    elif reader == "mteb":
        parse_mteb(path)
    else:  # some files conflict with what the catalog holds: the comparison page is there first
        with Catalog("memory:") as memory:
            ingest(memory, [DATA / "comparison_page.txt"])
            ingest(memory, [path])


_ENTITY = '"@id": "https://w3id.org/matchgraph/id/j", "@type": "mg:Entity", "name": "J"'
_CONTEXT = '"@vocab": "https://schema.org/", "mg": "https://w3id.org/matchgraph/ns#"'


@pytest.mark.parametrize(("text", "message"), [
    ('{"@context": {%s}, "@id": "http://ex.org/a b", "@type": "mg:Entity", "name": "J"}' % _CONTEXT,
     "at $.@id: the @id 'http://ex.org/a b' is not a valid IRI: it holds a space"),
    ('{"@context": {%s}, "@id": "a b", "name": "J"}' % _CONTEXT, "at $.@id: the @id 'a b'"),
    ('{"@context": {%s}, %s, "sameAs": {"@id": "http://ex.org/a b"}}' % (_CONTEXT, _ENTITY), "at $.sameAs.@id"),
    ('{"@context": {%s}, %s, "http://ex.org/a b": "x"}' % (_CONTEXT, _ENTITY),
     'at $["http://ex.org/a b"]: the property'),
    ('{"@context": {%s}, %s, "my name": "x"}' % (_CONTEXT, _ENTITY), 'at $["my name"]: the property'),
    ('{"@context": {%s, "bad": {"@id": "http://ex.org/a b"}}, %s, "bad": "x"}' % (_CONTEXT, _ENTITY),
     "at $.@context.bad.@id: the term 'bad': its @id"),
    ('{"@context": {%s, "url": {"@id": "https://schema.org/url", "@type": "@id"}}, %s, "url": "http://e.org/a b"}'
     % (_CONTEXT, _ENTITY), 'at $.url: the value \'http://e.org/a b\' is not a valid IRI: it holds a space; its '
                            'property is declared "@type": "@id"'),
    ('{"@context": {%s}, %s, "description": {"@value": "d", "@type": "http://e.org/a b"}}' % (_CONTEXT, _ENTITY),
     "at $.description.@type: the datatype"),
    ('{"@context": {%s}, %s, "description": {"@value": "d", "@language": "en us"}}' % (_CONTEXT, _ENTITY),
     "at $.description.@language: the @language 'en us' is not a language tag"),
    ('{"@context": {%s, "@language": "en_GB"}, %s}' % (_CONTEXT, _ENTITY), "at $.@context.@language"),
    ('{"@context": {%s, "@base": "http://e.org/a b/"}, %s}' % (_CONTEXT, _ENTITY), "at $.@context.@base"),
    ('{"@context": {%s}, %s, "url": "http://e.org/100%%"}' % (_CONTEXT.replace('"mg"', '"url": {"@type": "@id"}, "mg"'),
                                                             _ENTITY), "invalid IRI percent encoding"),
    ('{"@context": {%s}, "@graph": [{%s}, {"@id": "http://e.org/{x}", "name": "X"}]}' % (_CONTEXT, _ENTITY),
     "at $.@graph[1].@id: the @id 'http://e.org/{x}' is not a valid IRI: it holds the character '{'"),
])
def test_jsonld_iris_a_processor_would_drop_are_refused(text: str, message: str, tmp_path: Path) -> None:
    """Each IRI or language tag the JSON-LD processor drops, keeps as a term the store refuses without a
    location, or misreads (as the file's own path) is an error at its JSON path, with a hint."""
    from matchgraph.errors import ParseError

    assert isinstance(_jsonld_refused(text, message, tmp_path), ParseError)


def _jsonld_refused(text: str, message: str, folder: Path) -> Exception:
    """The error reading ``text`` as a JSON-LD file raises, checked to start with the file and a JSON
    path, to hold ``message`` and to come with a hint."""
    from matchgraph.errors import InputError
    from matchgraph.sources.rdf import parse_rdf

    path = folder / "bad.jsonld"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        parse_rdf(text, str(path), "json-ld")
    assert str(info.value).startswith(f"{path} at $"), str(info.value)
    assert message in str(info.value), str(info.value)
    assert info.value.hint
    return info.value


@pytest.mark.parametrize(("text", "message"), [
    ('{"@context": 1, %s}' % _ENTITY, "at $.@context: a JSON-LD @context must be an object of term definitions "
                                      "(or the URL of a bundled context, or a list of these), found the number 1"),
    ('{"@context": [{%s}, true], %s}' % (_CONTEXT, _ENTITY), "at $.@context[1]: a JSON-LD @context must be"),
    ('{"@context": {%s, "name": 3}, %s}' % (_CONTEXT, _ENTITY),
     "at $.@context.name: the definition of the term 'name' must be an IRI (text), an object such as "
     '{"@id": ...} or null, found the number 3'),
    ('{"@context": {%s, "name": {"@container": "@language"}}, %s}' % (_CONTEXT, _ENTITY.replace('"J"', "{}")),
     "at $.name: the language map is empty, so it gives no value"),
    ('{"@context": {%s, "name": {"@container": "@language"}}, %s}' % (_CONTEXT, _ENTITY.replace('"J"', '{"en": "J", '
                                                                                               '"de": 5}')),
     "at $.name.de: a value of a language map must be a text (or a list of texts) in that language, found the "
     "number 5"),
    ('{"@context": {%s, "name": {"@container": "@language"}}, %s}' % (_CONTEXT, _ENTITY.replace('"J"', '{"en us": '
                                                                                               '"J"}')),
     '$.name["en us"]: the language-map key \'en us\' is not a language tag'),
])
def test_jsonld_context_and_language_map_mistakes_are_named(text: str, message: str, tmp_path: Path) -> None:
    """A @context that is not an object, a term defined as a number, an empty language map or one holding
    a number: each an error at its JSON path saying what a JSON-LD document has there instead."""
    _jsonld_refused(text, message, tmp_path)


def test_jsonld_check_passes_what_is_valid(tmp_path: Path) -> None:
    """Terms, keyword aliases, compact IRIs, blank nodes, relative IRIs, language maps and JSON literals
    (whose keys are data) pass; the valid part of a document is read as before."""
    from matchgraph.sources.rdf import parse_rdf

    text = ('{"@context": {%s, "id": "@id", "label": {"@id": "https://schema.org/name", "@container": "@language"}, '
            '"data": {"@id": "https://e.org/data", "@type": "@json"}, "ref": {"@id": "https://e.org/ref", '
            '"@type": "@id"}}, "id": "https://w3id.org/matchgraph/id/j", "@type": "mg:Entity", "name": "J", '
            '"label": {"en": "J", "de-CH": "J"}, "data": {"a key": {"@id": "a b"}}, "ref": "mg:x", '
            '"knows": {"@id": "_:b 1"}, "sameAs": {"@id": "other#frag"}, "mg:note": {"@value": "n", "@language": "en-US"}}'
            % _CONTEXT)
    path = tmp_path / "ok.jsonld"
    path.write_text(text, encoding="utf-8")
    graph = parse_rdf(text, str(path), "json-ld")
    assert len(graph) == 9, sorted(graph)


def test_json_ld_files_of_the_repository_pass_the_check() -> None:
    """No JSON-LD document of the examples or the test data is refused by the check (the bad ones aside)."""
    from matchgraph.sources.jsonld_check import check_jsonld
    from matchgraph.sources.safe_load import load_jsonld

    files = [p for root in (EXAMPLES, DATA) for p in root.rglob("*")
             if p.is_file() and (p.suffix == ".jsonld" or p.suffix == ".json" and b'"@context"' in p.read_bytes())
             and "bad" not in p.parent.name]
    assert len(files) > 20
    for path in files:
        check_jsonld(load_jsonld(path.read_text(encoding="utf-8"), str(path)), str(path))
