"""Reading untrusted input safely: bounded sizes, depths and YAML aliases, no XML entities, no remote contexts.

Every reader of user files (cards, comparison pages, RDF, Croissant, Hugging Face, MTEB) goes
through this module, so a hostile file is refused in milliseconds with its location, whatever
format it comes in:

=============================  ===============================================  ==========================
limit                          what it bounds                                   environment variable
=============================  ===============================================  ==========================
file size (64 MiB)             a file read whole (cards, pages, JSON, JSON-LD)  ``MATCHGRAPH_MAX_FILE_SIZE``
literal size (256 KiB)         one text value: a name, description, claim       ``MATCHGRAPH_MAX_LITERAL_SIZE``
nesting depth (100)            JSON arrays/objects, YAML sequences/mappings     ``MATCHGRAPH_MAX_DEPTH``
YAML values (100,000)          values of a YAML document with aliases expanded  ``MATCHGRAPH_MAX_YAML_VALUES``
=============================  ===============================================  ==========================

Sizes accept a suffix: ``512K``, ``64M``, ``1G``. Besides the limits, two features are refused
outright: XML entity declarations and external DTDs in RDF/XML (an entity can expand a 1 KB file
to gigabytes, an external one reads local files), and JSON-LD contexts that would be fetched from
the network: the contexts matchgraph knows (its own, schema.org, Croissant) are bundled and used
in their place (:func:`bundled_context`).

>>> load_json('{"a": [1, 2]}', "x.json")
{'a': [1, 2]}
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..env import SETTINGS, setting
from ..errors import InputError, LimitError, Location, ParseError, SchemaError, UnsafeInputError

__all__ = ["Limits", "limits", "read_bytes", "read_text", "check_size", "check_regular", "check_readable_tree", "load_json", "unreadable_number", "check_json_depth",
           "load_yaml", "check_literal", "check_not_url", "missing_path_error", "check_records", "precheck_rdf_file", "check_xml", "bundled_context",
           "check_turtle_depth", "inline_contexts", "load_jsonld", "WHOLE_FILE_RDF", "describe", "type_error", "bounded_number", "ENV"]

_MIB = 1024 * 1024
#: Limit name -> environment variable (whose default, in :data:`matchgraph.env.SETTINGS`, is the limit's).
ENV = {"file_size": "MATCHGRAPH_MAX_FILE_SIZE", "literal_size": "MATCHGRAPH_MAX_LITERAL_SIZE",
       "depth": "MATCHGRAPH_MAX_DEPTH", "yaml_values": "MATCHGRAPH_MAX_YAML_VALUES"}


@dataclass(frozen=True)
class Limits:
    """The limits in force; :func:`limits` reads them from the environment.

    Attributes
    ----------
    file_size : int
        Bytes of a file that is read whole.
    literal_size : int
        Characters of one text value.
    depth : int
        Nesting of JSON arrays/objects and YAML collections.
    yaml_values : int
        Values of a YAML document once its aliases are expanded.
    """

    file_size: int = SETTINGS[ENV["file_size"]].default
    literal_size: int = SETTINGS[ENV["literal_size"]].default
    depth: int = SETTINGS[ENV["depth"]].default
    yaml_values: int = SETTINGS[ENV["yaml_values"]].default


def limits() -> Limits:
    """The limits in force: the defaults, overridden by the ``MATCHGRAPH_MAX_*`` environment variables
    (read with :func:`matchgraph.env.setting`, as every ``MATCHGRAPH_*`` variable is)."""
    return Limits(**{f.name: setting(ENV[f.name]) for f in fields(Limits)})


def describe(amount: int) -> str:
    """A size for people: ``65536`` -> ``64 KiB``.

    >>> describe(2 * 1024 * 1024), describe(1500)
    ('2 MiB', '1,500 bytes')
    """
    for unit, scale in (("GiB", 1024 * _MIB), ("MiB", _MIB), ("KiB", 1024)):
        if amount >= scale and amount % scale == 0:
            return f"{amount // scale} {unit}"
    return f"{amount:,} bytes"


def _raise_hint(name: str, needed: int | None = None) -> str:
    env = ENV[name]
    example = f"{env}={needed}" if needed is not None else f"{env}=<larger>"
    return f"if the input is trusted, raise the limit: {example} matchgraph ..."


# ---------------------------------------------------------------------------- files


def check_size(path: Path, *, what: str = "file") -> int:
    """Raise :class:`LimitError` when a file read whole is larger than the file-size limit; return its size."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", location=Location(str(path)),
                         hint="check that the file exists and that you may read it") from exc
    limit = limits().file_size
    if size > limit:
        raise LimitError(f"the {what} is {describe(size)}, over the limit of {describe(limit)} "
                         f"for a file read whole ({ENV['file_size']})", location=Location(str(path)),
                         hint="split it into smaller files, or " + _raise_hint("file_size", size))
    return size


def check_readable_tree(root: Path) -> None:
    """Raise for a folder below ``root`` that cannot be listed (pathlib's glob passes over it in
    silence, and its files would be left out of a write that says it read the folder)."""
    errors: list[OSError] = []
    for _ in os.walk(root, onerror=errors.append):
        pass
    for exc in errors:
        where = Path(exc.filename or root)
        rel = where.relative_to(root) if where.is_relative_to(root) else where
        if not any(part.startswith(".") for part in rel.parts):  # hidden folders are skipped anyway
            raise InputError(f"cannot read the folder: {exc.strerror or exc}", location=Location(str(where)),
                             hint="give this user read access to it, or move it out of the folder ingested")


def check_regular(path: Path) -> None:
    """Raise :class:`InputError` unless ``path`` (links followed) is a regular file: a device or a
    FIFO reports size 0 and would be read forever (``/dev/zero``) or wait forever (a FIFO)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", location=Location(str(path)),
                         hint="check that the file exists and that you may read it") from exc
    if not stat.S_ISREG(mode):
        kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
                "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "not a regular file")
        raise InputError(f"cannot read the file: it is {kind}, not a regular file", location=Location(str(path)),
                         hint="save the input to a file and give that file")


def read_bytes(path: Path, *, sized: bool = True) -> bytes:
    """The bytes of a regular file, after checking its size against the limit (unless ``sized`` is False)."""
    check_regular(path)
    if sized:
        check_size(path)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", location=Location(str(path)),
                         hint="check that the file exists and that you may read it") from exc


def read_text(path: Path, *, sized: bool = True) -> str:
    """The UTF-8 text of a file (a byte-order mark dropped), after checking its size against the limit.

    ``sized=False`` skips the size check, for formats parsed as a stream.

    Raises
    ------
    LimitError
        The file is over the file-size limit.
    ParseError
        The file is not UTF-8 (the message gives the line of the first bad byte).
    """
    data = read_bytes(path, sized=sized)
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # editors on Windows may start with a byte-order mark
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ParseError("the file is not UTF-8 text", location=Location(str(path), line),
                         hint="save the file as UTF-8") from exc


# ---------------------------------------------------------------------------- JSON

_JSON_QUOTE_ESCAPE = re.compile(rb'\\["\\]')
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_BRACKET_STEPS = bytes(1 if b in b"[{" else 255 if b in b"]}" else 0 for b in range(256))


def check_json_depth(text: str, path: str, *, first_line: int = 1) -> None:
    """Raise :class:`LimitError` when JSON nests arrays and objects deeper than the depth limit.

    The check runs on the text before it is parsed (Python's parser raises RecursionError on
    200,000 nested ``[``) in C-speed passes: escapes dropped, the strings cut out by splitting at
    quotes, the brackets kept as +1/-1 steps and their running sum taken by numpy.
    """
    limit = limits().depth
    if text.count("[") + text.count("{") <= limit:
        return
    if _max_depth(text) <= limit:
        return
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        token = m.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                line = first_line + text.count("\n", 0, m.start())
                raise LimitError(f"the JSON nests arrays and objects more than {limit} deep "
                                 f"({ENV['depth']})", location=Location(path, line),
                                 hint="flatten the structure, or " + _raise_hint("depth"))
        elif token in "]}":
            depth -= 1


def _max_depth(text: str, *, block: int = 8 * _MIB) -> int:
    """The deepest nesting of arrays and objects in JSON text (brackets inside strings ignored).

    Works on blocks of the UTF-8 bytes with numpy, carrying the in-string parity and the depth
    from block to block, so memory stays a few times the block whatever the file's size.

    >>> _max_depth('{"a": [1, "]]\\\\", {"b": ["\\\\"[["]}]}')
    4
    """
    import numpy as np

    raw = text.encode("utf-8", "surrogatepass")
    if b"\\" in raw:
        raw = _JSON_QUOTE_ESCAPE.sub(b"", raw)  # only escaped quotes and backslashes change where strings end
    inside, depth, best = 0, 0, 0
    for start in range(0, len(raw), block):
        piece = raw[start:start + block]
        quotes = np.frombuffer(piece, dtype=np.uint8) == ord('"')
        parity = np.bitwise_xor.accumulate(quotes.view(np.uint8)) ^ inside
        inside = int(parity[-1])
        steps = np.frombuffer(piece.translate(_BRACKET_STEPS), dtype=np.int8)
        steps = steps[(steps != 0) & (parity == 0)]
        if len(steps):
            running = np.cumsum(steps, dtype=np.int64) + depth
            best = max(best, int(running.max()))
            depth = int(running[-1])
    return best


def unreadable_number(prefix: str, exc: ValueError, location: Location, *, quoted: bool = False) -> ParseError:
    """The parse error for a number Python will not read (over 4,300 digits), which the JSON and
    YAML readers raise as a bare ValueError; the message drops Python's own advice."""
    return ParseError(f"{prefix}: {exc}".split("; use sys.")[0], location=location,
                      hint="write the number with fewer digits" + (", or quote it" if quoted else ""))


class _KeyTwice(Exception):
    """A JSON object names a key twice (raised from inside the C parser's pairs hook)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        raise _KeyTwice(next(k for k, _ in pairs if k in seen or seen.add(k)))  # type: ignore[func-returns-value]
    return obj


def _object_line(text: str) -> int:
    """The line (1-based) where the first object naming a key twice starts: read again by the
    pure-Python parser, which tells where each object starts (only after the fast one found one)."""
    import json.decoder
    import json.scanner

    starts: list[int] = []

    def parse_object(s_and_end: tuple[str, int], strict: bool, scan_once: Any, object_hook: Any,
                     object_pairs_hook: Any, memo: Any = None) -> tuple[dict[str, Any], int]:
        pairs, end = json.decoder.JSONObject(s_and_end, strict, scan_once, None, list, memo)
        if not starts and len({k for k, _ in pairs}) != len(pairs):
            starts.append(s_and_end[1] - 1)
        return dict(pairs), end

    decoder = json.JSONDecoder()
    decoder.parse_object = parse_object  # type: ignore[attr-defined]
    decoder.scan_once = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        decoder.decode(text)
    except (ValueError, RecursionError):
        return 1
    return text.count("\n", 0, starts[0]) + 1 if starts else 1


def loads_unique(text: str, path: str, *, first_line: int = 1) -> Any:
    """``json.loads``, with a key given twice in one object a :class:`ParseError` at the line where
    the object starts (JSON readers differ in which of the two they keep; matchgraph keeps neither).

    Examples
    --------
    >>> loads_unique('{"a": 1, "b": {"c": 2}}', "x.json")
    {'a': 1, 'b': {'c': 2}}
    >>> loads_unique('{"a": 1, "b": {"c": 2, "c": 3}}', "x.json")
    Traceback (most recent call last):
    ...
    matchgraph.errors.ParseError: x.json:1: the key 'c' is given twice in the object that starts on this line
    Hint: keep one of the two values
    """
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except _KeyTwice as twice:
        raise ParseError(f"the key {twice.key!r} is given twice in the object that starts on this line",
                         location=Location(path, first_line + _object_line(text) - 1),
                         hint="keep one of the two values") from None


def load_json(text: str, path: str, *, hint: str = "fix the JSON syntax at that line", first_line: int = 1,
              prefix: str = "not JSON") -> Any:
    """Parse JSON text with the depth checked first; a syntax error names the file and line.

    ``prefix`` starts the syntax error's message ("not JSON: Expecting ',' delimiter").

    Examples
    --------
    >>> load_json("[[1]]", "x.json")
    [[1]]
    """
    text = text.removeprefix("\ufeff")
    check_json_depth(text, path, first_line=first_line)
    try:
        return loads_unique(text, path, first_line=first_line)
    except json.JSONDecodeError as exc:
        raise ParseError(f"{prefix}: {exc.msg}", location=Location(path, first_line + exc.lineno - 1),
                         hint=hint) from exc
    except ValueError as exc:
        raise unreadable_number(prefix, exc, Location(path, first_line)) from exc
    except RecursionError as exc:  # pragma: no cover - the depth check comes first
        raise LimitError("the JSON nests too deep", location=Location(path, first_line),
                         hint=_raise_hint("depth")) from exc


# ---------------------------------------------------------------------------- YAML


_LOADERS: dict[str, type] = {}


def _yaml_loader() -> type:
    """The safe loader (libyaml's when installed) whose dates that cannot be (2023-02-30) are a
    YAML error at their line instead of a ValueError from inside the constructor."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = _LOADERS.get(base.__name__)
    if loader is None:
        def timestamp(self: Any, node: Any) -> Any:
            try:
                return yaml.SafeLoader.construct_yaml_timestamp(self, node)
            except (ValueError, OverflowError) as exc:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{node.value!r} is not a date that exists ({exc}); quote it to keep it as text",
                    node.start_mark) from exc

        def mapping(self: Any, node: Any) -> Any:
            # PyYAML keeps the last of two equal keys without a word ('name: A' then 'name: B'); YAML
            # requires keys to be unique. Keys merged in with '<<' may be overridden, as YAML allows.
            seen: dict[tuple[str, str], int] = {}
            for key, _ in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    first = seen.get((key.tag, key.value))
                    seen.setdefault((key.tag, key.value), key.start_mark.line)
                    if first is not None:
                        error = yaml.constructor.ConstructorError(
                            None, None, f"the key {key.value[:80]!r} is given twice in one mapping", key.start_mark)
                        error.first_line = first  # type: ignore[attr-defined]  # 0-based, in the YAML text
                        raise error
            return (yield from yaml.SafeLoader.construct_yaml_map(self, node))

        loader = type(f"Matchgraph{base.__name__}", (base,), {})
        loader.add_constructor("tag:yaml.org,2002:timestamp", timestamp)  # type: ignore[attr-defined]
        loader.add_constructor("tag:yaml.org,2002:map", mapping)  # type: ignore[attr-defined]
        _LOADERS[base.__name__] = loader
    return loader


def _yaml_mark_line(exc: Exception, first_line: int) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + first_line if mark is not None else first_line


def _check_yaml_events(text: str, path: str, first_line: int, what: str) -> None:
    """Walk the YAML events once: bound the nesting depth and the values aliases expand to.

    The expanded size is computed exactly without expanding anything: each anchored value
    remembers its size and an alias adds it, so a 600-byte alias bomb of 10^9 values is refused
    after a few hundred events.
    """
    import yaml

    lim = limits()
    stack: list[list[Any]] = []      # [size so far, anchor] of each open collection
    anchors: dict[str, int] = {}
    total = 0
    for event in yaml.parse(text, Loader=_yaml_loader()):
        line = first_line + event.start_mark.line if event.start_mark is not None else first_line
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= lim.depth:
                raise LimitError(f"the {what} nests lists and mappings more than {lim.depth} deep "
                                 f"({ENV['depth']})", location=Location(path, line),
                                 hint="flatten the structure, or " + _raise_hint("depth"))
            stack.append([1, event.anchor])
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            size, anchor = stack.pop()
            if anchor is not None:
                anchors[anchor] = size
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor is not None:
                anchors[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            if any(a == event.anchor for _, a in stack):
                raise UnsafeInputError(f"the {what} has an alias *{event.anchor} inside its own anchor "
                                       f"&{event.anchor} (a value that contains itself)",
                                       location=Location(path, line),
                                       hint="write the value out instead of referring to it")
            size = anchors.get(event.anchor, 1)
        else:
            continue
        if stack:
            stack[-1][0] += size
        else:
            total += size
        if total + sum(s for s, _ in stack) > lim.yaml_values:
            raise LimitError(f"the {what} expands to more than {lim.yaml_values:,} values once its aliases "
                             f"(*name) are expanded ({ENV['yaml_values']})", location=Location(path, line),
                             hint="write the values out instead of repeating aliases, or "
                                  + _raise_hint("yaml_values"))


def load_yaml(text: str, path: str, *, first_line: int = 1, what: str = "YAML",
              hint: str = "check the indentation and quote values that contain ':' or '#'") -> tuple[Any, Any]:
    """Parse YAML safely: depth and alias expansion bounded first, then the safe constructor.

    Parameters
    ----------
    text : str
        The YAML document.
    path : str
        The file, for error locations.
    first_line : int
        The file line the text starts on (front matter starts on line 2).
    what : str
        What the YAML is, for messages ("YAML front matter").

    Returns
    -------
    (object, yaml.Node or None)
        The value and the composed node tree (whose marks give the line of every key).

    Raises
    ------
    ParseError
        Invalid YAML, at its line.
    LimitError
        Nested deeper than the depth limit, or aliases that expand past the value limit.
    """
    import yaml

    loader_cls = _yaml_loader()
    try:
        _check_yaml_events(text, path, first_line, what)
        loader = loader_cls(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except ValueError as exc:
        raise unreadable_number(f"invalid {what}", exc, Location(path, first_line), quoted=True) from exc
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "nesting depth" in str(exc):  # libyaml stops at 1,000 levels, before our own check sees them
            raise LimitError(f"the {what} nests lists and mappings more than {min(limits().depth, 1000)} deep "
                             f"({ENV['depth']}; the YAML parser itself reads at most 1,000 levels)",
                             location=Location(path, _yaml_mark_line(exc, first_line)),
                             hint="flatten the structure") from exc
        first = getattr(exc, "first_line", None)
        if first is not None:
            raise ParseError(f"invalid {what}: {problem} (first on line {first + first_line}): the second value "
                             "would silently replace the first", location=Location(path, _yaml_mark_line(exc, first_line)),
                             hint="keep one of the two lines (several values are written as a list: 'key: [a, b]')") \
                from exc
        better = _python_yaml_error(text) if loader_cls is not yaml.SafeLoader else None
        if better is not None:
            exc = better
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ParseError(f"invalid {what}: {problem}", location=Location(path, _yaml_mark_line(exc, first_line)),
                         hint=hint) from exc
    return data, node


def _python_yaml_error(text: str) -> Exception | None:
    """The error PyYAML's pure-Python parser gives (clearer than libyaml's), without composing anything."""
    import yaml

    try:
        for _ in yaml.parse(text, Loader=yaml.SafeLoader):
            pass
    except yaml.YAMLError as exc:
        return exc
    except RecursionError:  # pragma: no cover - the parser is iterative
        return None
    return None


# ---------------------------------------------------------------------------- literals and records


def check_literal(value: Any, what: str, location: Location | None) -> None:
    """Raise :class:`LimitError` when a text value is longer than the literal limit.

    Examples
    --------
    >>> check_literal("short", "the name", None)
    """
    if not isinstance(value, str):
        return
    limit = limits().literal_size
    if len(value) > limit:
        raise LimitError(f"{what} is {len(value):,} characters long, over the limit of {limit:,} "
                         f"({ENV['literal_size']})", location=location,
                         hint="shorten it (a claim or description is a few sentences), or "
                              + _raise_hint("literal_size", len(value)))


def _record_texts(rec: Any) -> Iterator[tuple[str, Any, Location | None]]:
    """(what, text, location) of every text an entity record carries."""
    yield "the id", rec.id, rec.where("id")
    yield "the name", rec.name, rec.where("name")
    for key in ("description", "pricing", "license", "url"):
        yield f"the {key}", getattr(rec, key), rec.where(key)
    for alias in rec.aliases:
        yield "an alias", alias, rec.where("aliases")
    for key, targets in rec.relations.items():
        for target in targets:
            yield f"a {key} target", target, rec.where(f"relations.{key}")
    for key, value in rec.extra:
        yield f"the {key}", value, rec.location
    for obs in rec.observations:
        yield f"the value of {obs.field!r}", obs.value, obs.location or rec.location
    for cap in rec.capabilities:
        where = cap.location or rec.location
        yield "a capability title", cap.title, where
        yield "a capability description", cap.description, where
        yield "a Unique claim", cap.unique, cap.unique_location or where
        yield "a vs-alternatives claim", cap.alternatives, cap.alternatives_location or where
    for res in rec.results:
        yield "a benchmark name", res.benchmark, res.location or rec.location


def check_records(source: Any) -> Any:
    """Check every text of parsed records against the literal limit; return the records.

    Parameters
    ----------
    source : SourceRecords
        What a parser read from one file.
    """
    where = Location(source.path)
    for text, what in ((source.title, "the title"), (source.verdict, "the verdict")):
        check_literal(text, what, where)
    for note in source.notes:
        check_literal(note, "a note", where)
    for rec in source.entities:
        for what, text, location in _record_texts(rec):
            check_literal(text, f"{what} of {rec.name[:60]!r}" if what != "the name" else what,
                          location or where)
    return source


# ---------------------------------------------------------------------------- paths

_URL_PATH = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/+(.*)$")


def check_not_url(raw: str | os.PathLike[str]) -> None:
    """Refuse a missing path that is a URL (``http://...``, ``file:///...``), saying what to do.

    matchgraph reads local files and never downloads; a URL given where a path belongs reached the
    reader as a path that does not exist (``Path`` folds ``//`` into ``/``), and the message named a
    mangled ``http:/host/...``.

    Parameters
    ----------
    raw : path
        A command's argument, known not to exist.

    Raises
    ------
    InputError
        ``raw`` starts with a URL scheme.
    """
    text = str(raw)
    match = _URL_PATH.match(text)
    if match is None or os.sep == "\\" and len(match.group(1)) == 1:  # C:/ on Windows is a path
        return
    scheme, rest = match.group(1).lower(), match.group(2)
    if scheme == "file":
        raise InputError(f"file:///{rest} is a URL; give the path itself", location=None,
                         hint=f"write it as a path: /{rest}")
    raise InputError(f"{scheme}://{rest} is a URL, and matchgraph reads local files only (it never downloads)",
                     location=None, hint=f"download it first (curl -LO {shlex.quote(f'{scheme}://{rest}')}) and give the file")


def missing_path_error(raw: str | os.PathLike[str], hint: str, *, what: str = "no such file or folder") -> InputError:
    """The error for a command's path argument that does not exist, named as it was given.

    A URL given where the path belongs is refused here, saying what to do (:func:`check_not_url`);
    any other missing path gets the error this returns, for the caller to raise.

    Parameters
    ----------
    raw : path
        The argument as given, known not to exist.
    hint : str
        What to give instead (each reader reads different files).
    what : str
        The message after the path (``no such file`` where only a file will do).

    Returns
    -------
    InputError
        ``PATH: no such file or folder`` with the hint.

    Raises
    ------
    InputError
        ``raw`` is a URL.

    Examples
    --------
    >>> str(missing_path_error("cards/nowhere.md", "check the path"))
    'cards/nowhere.md: no such file or folder\\nHint: check the path'
    """
    check_not_url(raw)
    return InputError(what, location=Location(str(raw)), hint=hint)


# ---------------------------------------------------------------------------- XML


_XML_DECL = re.compile(rb"<!(DOCTYPE|ENTITY)\b")
_EXTERNAL_DTD = re.compile(rb"<!DOCTYPE\s+[^\s\[>]+\s+(SYSTEM|PUBLIC)\b")


def _xml_declarations(chunks: Iterator[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line, text from there) of every ``<!DOCTYPE`` and ``<!ENTITY`` in XML given as chunks of bytes.

    Chunks overlap by a few bytes, so a declaration split between two is still found; only the
    matches are kept, so a large file is scanned in constant memory.
    """
    lines = 0
    tail = b""
    overlap = 16
    for chunk in chunks:
        block = tail + chunk
        for m in _XML_DECL.finditer(block):
            if m.end() <= len(tail):
                continue  # wholly inside the overlap: seen in the previous block
            yield lines + block.count(b"\n", 0, m.start()), block[m.start():m.start() + 512]
        keep = min(len(block), overlap)
        lines += block.count(b"\n", 0, len(block) - keep)
        tail = block[len(block) - keep:]


def _xml_depth_checked(chunks: Iterator[bytes], path: str) -> Iterator[bytes]:
    """The chunks, passed on after expat has counted how deep their elements nest: past the depth
    limit a :class:`LimitError` at the line (RDF/XML parsers take time quadratic in the depth:
    40,000 levels, 1.5 MB, took 18.6 s). Entity declarations stop expat before any expansion; a
    document expat cannot read is left to the RDF/XML parser, whose message is the one shown."""
    from xml.parsers import expat

    limit = limits().depth
    parser = expat.ParserCreate()
    depth = 0

    def start(name: str, attrs: Any) -> None:
        nonlocal depth
        depth += 1
        if depth > limit:
            raise LimitError(f"the XML nests elements more than {limit} deep ({ENV['depth']})",
                             location=Location(path, parser.CurrentLineNumber),
                             hint="flatten the RDF/XML (or convert it to Turtle), or " + _raise_hint("depth"))

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    def declared(*args: Any) -> None:
        raise _StopScan

    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.EntityDeclHandler = declared
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    counting = True
    for chunk in chunks:
        if counting:
            try:
                parser.Parse(chunk, False)
            except (expat.ExpatError, _StopScan, LookupError, ValueError):  # LookupError: an unknown encoding
                counting = False  # not for this check to judge: the declaration scan or the parser says why
        yield chunk
    if counting and depth > 0:
        # Oxigraph's RDF/XML parser stops without an error at the end of a file cut short inside an
        # element, having given the triples before the cut: a truncated download loaded half-way
        raise ParseError(f"the XML ends inside {depth} element{'s' if depth > 1 else ''} never closed: "
                         "the file is cut short", location=Location(path, parser.CurrentLineNumber),
                         hint="complete the file (its last line closes the root element, </rdf:RDF>), or "
                              "download or export it again")


class _StopScan(Exception):
    """An entity declaration: the depth count stops before expat could expand anything."""


def check_xml(data: bytes | Iterator[bytes], path: str) -> None:
    """Refuse XML that declares entities or points at an external DTD, naming the line.

    pyoxigraph's RDF/XML parser expands internal entities (a 1 KB file can become gigabytes);
    matchgraph never lets it: any ``<!ENTITY`` declaration is refused, and so is a DOCTYPE with
    a ``SYSTEM`` or ``PUBLIC`` identifier (XXE). A DOCTYPE without either is harmless and kept.

    Parameters
    ----------
    data : bytes or iterator of bytes
        The file's content, whole or in chunks.
    path : str
        The file, for the message.
    """
    chunks = iter([data]) if isinstance(data, bytes) else data
    for line0, text in _xml_declarations(_xml_depth_checked(chunks, path)):
        line = line0 + 1
        if text.startswith(b"<!ENTITY"):
            raise UnsafeInputError(
                "the XML declares an entity (<!ENTITY ...>); matchgraph never expands XML entities, since a "
                "few nested ones expand a small file to gigabytes and external ones read other files",
                location=Location(path, line),
                hint="write the values out in place of each &name; reference (or use XML namespaces for IRI "
                     "prefixes), or convert the file to Turtle")
        external = _EXTERNAL_DTD.match(text)
        if external is not None:
            raise UnsafeInputError(
                f"the XML refers to an external DTD ({external.group(1).decode()}); matchgraph never loads "
                "external DTDs or entities", location=Location(path, line),
                hint="remove the <!DOCTYPE ...> declaration: RDF/XML needs no DTD")


# ---------------------------------------------------------------------------- JSON-LD contexts

_CONTEXT_FILES = {
    "schemaorg.jsonld": ("https://schema.org", "http://schema.org", "https://schema.org/", "http://schema.org/",
                         "https://schema.org/docs/jsonldcontext.jsonld", "http://schema.org/docs/jsonldcontext.jsonld",
                         "https://schema.org/docs/jsonldcontext.json", "http://schema.org/docs/jsonldcontext.json"),
    "croissant.jsonld": ("http://mlcommons.org/croissant/1.0", "https://mlcommons.org/croissant/1.0",
                         "http://mlcommons.org/croissant/1.0/", "https://mlcommons.org/croissant/1.0/"),
}
_OWN_CONTEXTS = ("https://w3id.org/matchgraph/context.jsonld", "https://w3id.org/matchgraph/context")


@lru_cache(maxsize=None)
def _context_file(name: str) -> dict[str, Any]:
    text = resources.files("matchgraph.sources").joinpath("contexts", name).read_text(encoding="utf-8")
    return json.loads(text)["@context"]


def bundled_context(url: str) -> dict[str, Any] | None:
    """The bundled JSON-LD context for a context URL, or None when matchgraph does not bundle it.

    Bundled: matchgraph's own context, schema.org's (``https://schema.org`` and its variants) and
    Croissant 1.0's. Nothing is ever fetched.

    Examples
    --------
    >>> bundled_context("https://schema.org/")["@vocab"]
    'http://schema.org/'
    >>> bundled_context("https://example.org/context.jsonld") is None
    True
    """
    if url in _OWN_CONTEXTS:
        from ..ontology import jsonld_context

        return jsonld_context()
    for name, urls in _CONTEXT_FILES.items():
        if url in urls:
            return _context_file(name)
    return None


def inline_contexts(data: Any, path: str) -> Any:
    """Replace every context URL of a JSON-LD document by the bundled context; refuse any other.

    Every ``@context`` (at any depth, also scoped contexts inside term definitions) and every
    ``@import`` is looked at, so a JSON-LD processor given the result has nothing to fetch.

    Raises
    ------
    UnsafeInputError
        A context URL (or a relative reference to a context file) matchgraph does not bundle;
        the message gives its JSON path.
    """

    def context_value(value: Any, where: str) -> Any:
        if isinstance(value, str):
            found = bundled_context(value)
            if found is None:
                raise UnsafeInputError(
                    f"the JSON-LD @context {value!r} would have to be fetched, and matchgraph never fetches "
                    "contexts", location=Location(path, json_path=where),
                    hint="inline the context: replace the URL by the context object itself "
                         "(\"@context\": {...}); bundled are schema.org, Croissant 1.0 and matchgraph's own")
            return found
        if isinstance(value, list):
            return [context_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key == "@import":
                    if not isinstance(item, str):
                        out[key] = item
                        continue
                    imported = context_value(item, f"{where}.@import")
                    out.update({k: v for k, v in imported.items() if k not in value})
                    continue
                out[key] = walk(item, f"{where}.{key}") if isinstance(item, (dict, list)) else item
            return out
        return value

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            return {k: context_value(v, f"{where}.{k}") if k == "@context" else walk(v, f"{where}.{k}")
                    for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(node)]
        return node

    return walk(data, "$")


def load_jsonld(text: str, path: str) -> Any:
    """Parse a JSON-LD document (depth checked) with every context inlined from the bundled ones."""
    return inline_contexts(load_json(text, path, hint="fix the JSON syntax at that line", prefix="invalid JSON"), path)


# ---------------------------------------------------------------------------- RDF files

#: RDF formats (rdflib names) that are read whole, so the file-size limit applies; the others stream.
WHOLE_FILE_RDF = {"json-ld", "n3"}


def precheck_rdf_file(path: str | os.PathLike[str], fmt: str, data: bytes | None = None) -> None:
    """The checks an RDF file passes before any parser sees it.

    Parameters
    ----------
    path : path
        The file.
    fmt : str
        rdflib format name (``turtle``, ``xml``, ``json-ld``, ...) or a pyoxigraph ``RdfFormat``.
    data : bytes, optional
        The content, when already read; else the file is scanned in chunks (RDF/XML, Turtle, TriG) or only sized.

    Raises
    ------
    LimitError
        A JSON-LD or N3 file (read whole) over the file-size limit.
    LimitError
        Turtle, TriG or N3 nesting blank nodes, collections (or formulas) deeper than the depth
        limit (with the line).
    UnsafeInputError
        RDF/XML declaring entities or an external DTD (with the line).

    Notes
    -----
    Remote JSON-LD contexts are handled by :func:`load_jsonld` (the document must be rewritten
    with the bundled contexts before any JSON-LD parser runs); per-literal sizes by
    :func:`check_literal` on each parsed literal.
    """
    file = Path(path)
    name = _format_name(fmt)
    if name in WHOLE_FILE_RDF:
        check_size(file)
    if name == "xml":
        check_xml(data if data is not None else _file_chunks(file), str(file))
    elif name in _NESTING_RDF:
        check_turtle_depth(data if data is not None else _file_chunks(file), str(file), n3=name == "n3")


#: RDF syntaxes in the Turtle family, whose blank nodes ``[ ]``, collections ``( )`` (and N3's formulas
#: ``{ }``) nest: Oxigraph's parser keeps about 1.4 KB per open level (an 8 MB file of 1,000,000
#: nested ``[`` took 1.41 GB and 19.7 s to ingest), so the nesting is counted before any parser runs.
_NESTING_RDF = {"turtle", "trig", "n3"}

# A token of the Turtle family that may hold brackets which do not nest: long and short strings
# (their loops unrolled: 0.05 s for 10 MB of Turtle, which Oxigraph parses in 0.16 s), IRIs (with
# their \u escapes), comments, escapes in prefixed names. Short strings, IRIs and comments end on their line; a long
# string may run on, which the token-by-token scan carries from chunk to chunk. Three quotes always
# open a long string, never an empty short one and a third quote: a long string left open in a chunk
# leaves its quotes behind, and the chunk is scanned token by token.
_LONG_STRINGS = rb'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""' rb"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
_SHORT_TOKENS = (rb'"(?!"")[^"\\\n]*(?:\\.[^"\\\n]*)*"' rb"|'(?!'')[^'\\\n]*(?:\\.[^'\\\n]*)*'"
                 rb'|<(?:[^<>"{}|^`\\\s]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>|\#[^\n]*|\\.')
_TURTLE_SKIP = re.compile(_LONG_STRINGS + b"|" + _SHORT_TOKENS, re.S)
_TURTLE_SCAN = re.compile(_LONG_STRINGS + rb"""|(?P<open>"{3}|'{3})|""" + _SHORT_TOKENS + rb"|(?P<bracket>[\[\](){}])",
                          re.S)
_LONG_STRING_END = {b'"""': re.compile(rb'[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""', re.S),
                    b"'''": re.compile(rb"[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''", re.S)}
_TURTLE_STEPS = bytes(1 if b in b"[(" else 255 if b in b"])" else 0 for b in range(256))
_N3_STEPS = bytes(1 if b in b"[({" else 255 if b in b"])}" else 0 for b in range(256))


def check_turtle_depth(data: bytes | Iterator[bytes], path: str, *, n3: bool = False) -> None:
    """Raise :class:`LimitError` when Turtle or TriG nests blank nodes ``[ ]`` and collections
    ``( )`` (N3 also its formulas ``{ }``) deeper than the depth limit, naming the line.

    Brackets inside strings, IRIs and comments do not count. Each chunk, cut at a line end, has
    its strings, IRIs and comments removed by one regular expression (C speed) and its brackets
    summed by numpy; a chunk where a long string runs on past its end (or that goes over the
    limit, to find the line) is scanned token by token.

    Parameters
    ----------
    data : bytes or iterator of bytes
        The file's content, whole or in chunks.
    path : str
        The file, for the message.
    n3 : bool
        Count ``{ }`` too (TriG's graph blocks do not nest; N3's formulas do).

    Raises
    ------
    LimitError
        Nested deeper than the depth limit (``MATCHGRAPH_MAX_DEPTH``), with the line.

    Examples
    --------
    >>> check_turtle_depth(b'<a> <b> [ <c> ( "((((]" <d(> ) ] . # [[[[', "x.ttl")
    """
    import numpy as np

    limit = limits().depth
    steps_table = _N3_STEPS if n3 else _TURTLE_STEPS
    depth, line, carry = 0, 1, b""
    for chunk in _line_chunks(iter([data]) if isinstance(data, bytes) else data):
        start = 0
        if carry:  # inside a long string begun in an earlier chunk
            end = _LONG_STRING_END[carry].match(chunk)
            if end is None:
                line += chunk.count(b"\n")
                continue
            start, carry = end.end(), b""
        rest = _TURTLE_SKIP.sub(b"", chunk[start:] if start else chunk)
        precise = b'"' in rest or b"'" in rest  # a long string runs on (or a stray quote, the parser's to report)
        if not precise:
            steps = np.frombuffer(rest.translate(steps_table), dtype=np.int8)
            steps = steps[steps != 0]
            if len(steps):
                running = np.cumsum(steps, dtype=np.int64) + depth
                # over the limit (to find the line), or below 0: a closer without its opener is the
                # parser's error to report, and must not buy room for openers after it
                precise = int(running.max()) > limit or int(running.min()) < 0
                if not precise:
                    depth = int(running[-1])
        if precise:
            depth, carry = _scan_turtle_chunk(chunk, start, depth, line, path, limit, n3=n3)
        line += chunk.count(b"\n")


def _scan_turtle_chunk(chunk: bytes, start: int, depth: int, line: int, path: str, limit: int, *,
                       n3: bool) -> tuple[int, bytes]:
    """Count one chunk's brackets token by token from ``start``; return the depth at its end and the
    quotes of a long string left open there (empty if none)."""
    opening, closing = (b"[({", b"])}") if n3 else (b"[(", b"])")
    for m in _TURTLE_SCAN.finditer(chunk, start):
        kind = m.lastgroup
        if kind == "open":
            return depth, m.group()
        if kind != "bracket":
            continue
        char = m.group()
        if char in opening:
            depth += 1
            if depth > limit:
                what = "blank nodes [ ], collections ( ) and formulas { }" if n3 else "blank nodes [ ] and collections ( )"
                raise LimitError(f"the RDF nests {what} more than {limit} deep "
                                 f"({ENV['depth']})", location=Location(path, line + chunk.count(b"\n", 0, m.start())),
                                 hint="give the nested nodes IRIs of their own, or " + _raise_hint("depth"))
        elif char in closing:
            depth = max(depth - 1, 0)
    return depth, b""


def _line_chunks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The same bytes in chunks that end at a line end (but the last)."""
    tail = b""
    for chunk in chunks:
        block = tail + chunk if tail else chunk
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            tail = block
            continue
        tail = block[cut:]
        yield block[:cut]
    if tail:
        yield tail


def _format_name(fmt: Any) -> str:
    if isinstance(fmt, str):
        return fmt
    label = str(getattr(fmt, "name", fmt)).lower()
    return {"rdf/xml": "xml", "json-ld": "json-ld", "streaming json-ld": "json-ld", "n3": "n3"}.get(label, label)


def _file_chunks(file: Path) -> Iterator[bytes]:
    try:
        with file.open("rb") as handle:
            while chunk := handle.read(_MIB):
                yield chunk
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", location=Location(str(file)),
                         hint="check that the file exists and that you may read it") from exc


def bounded_number(value: Any, where: str, location: Location | None, *, limit: float, what: str = "a number",
                   reason: str = "", hint: str) -> float:
    """A number read from an input as a float, checked: a number (not true/false), finite, from 0
    to ``limit``; else a :class:`SchemaError` naming ``where`` and what was found.

    Python's json module reads ``NaN``, ``Infinity`` and ``1e999`` (infinite), and integers of
    hundreds of digits that no float holds: each is named as such.

    Parameters
    ----------
    value : object
        What the input gives.
    where : str
        The field (``downloads``, ``embed_dim[1]``), for the message.
    location : Location or None
        The file and line or JSON path.
    limit : float
        The largest value accepted.
    what : str
        What the field holds, for the message: ``a number``, ``a count``.
    reason : str
        Why the limit is where it is, said beside it.
    hint : str
        How to write the field.

    Examples
    --------
    >>> bounded_number(3, "likes", None, limit=10, hint="write a count")
    3.0
    >>> bounded_number(float("nan"), "likes", None, limit=10, what="a count", hint="write a count")
    Traceback (most recent call last):
    ...
    matchgraph.errors.SchemaError: likes must be a count, found NaN (not a number)
    Hint: write a count
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaError(f"{where} must be {what}, found {value!r}"[:200], location=location, hint=hint)
    if value != value:
        raise SchemaError(f"{where} must be {what}, found NaN (not a number)", location=location, hint=hint)
    if value in (float("inf"), float("-inf")):
        raise SchemaError(f"{where} must be {what}, found {'-' if value < 0 else ''}Infinity (or a number too "
                          "large for a float, such as 1e999)", location=location, hint=hint)
    if value < 0:
        raise SchemaError(f"{where} must be {what} of zero or more, found {value!r}"[:200], location=location,
                          hint=hint)
    if value > limit:
        shown = f"a number of {len(str(int(value)))} digits" if value >= 10 ** 20 else f"{value:,}"
        raise SchemaError(f"{where} must be {what} of at most {limit:,}{f' ({reason})' if reason else ''}, "
                          f"found {shown}", location=location, hint=hint)
    return float(value)


def type_error(key: str, value: Any, location: Location | None, *, expected: str, hint: str) -> SchemaError:
    """A :class:`SchemaError` saying a value has the wrong type (what was found, what is expected)."""
    found = {list: "a list", tuple: "a list", dict: "a mapping", bool: "true/false", int: f"the number {value!r}",
             float: f"the number {value!r}", type(None): "nothing"}.get(type(value), f"a {type(value).__name__}")
    return SchemaError(f"{key} must be {expected}, found {found}", location=location, hint=hint)


def text_list(value: Any, where: str, location: Callable[[str], Location], hint: str) -> list[str]:
    """The texts of a value that is a text or a list of texts (numbers count as texts); a mapping or a
    nested list is a type error located by ``location(spot)``, where ``spot`` is ``where`` or
    ``where[i]``. Empty and null items are passed over.

    Examples
    --------
    >>> text_list(["a", 2, None], "tags", lambda spot: Location("x.md"), "one text per item")
    ['a', '2']
    """
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for i, item in enumerate(items):
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            spot = f"{where}[{i}]" if isinstance(value, list) else where
            raise type_error(spot.rsplit(".", 1)[-1], item, location(spot),
                             expected="text" if isinstance(value, list) else "text or a list of texts", hint=hint)
        if str(item).strip():
            out.append(str(item).strip())
    return out
