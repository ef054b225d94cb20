"""SPARQL text: parse it, check what it may do, run it on the catalog and write results.

Before a text runs, three things are read from it: its form (SELECT, ASK, CONSTRUCT, DESCRIBE or
an update), whether it names its own dataset (FROM / FROM NAMED), and which remote services
(SERVICE) or documents (LOAD) it would make the engine fetch. Oxigraph parses and runs it; its
messages give the line and column of a syntax error.

- The form and the dataset are read by :func:`scan_tokens`, a SPARQL lexer (strings, IRIs,
  comments, prefixed names, variables and keywords; one regular expression, linear, no
  recursion). Written by hand because rdflib's pyparsing grammar, the one alternative (Oxigraph
  parses only to evaluate), recurses past Python's limit on 40 nested groups, refuses valid SPARQL
  1.1 (``VALUES ?x { -1.0 }``) and all of SPARQL 1.2, and is slow: a 49 KB ``VALUES`` query takes
  it 2.8 s against 0.029 s for the lexer (97x; ``python bench/bench_sparql_parse.py``,
  BENCHMARKS.md). Only a text holding a character no SPARQL token starts with goes to rdflib.
- What a text would reach is read from the same tokens, as Oxigraph reads them: a comment ends at
  ``\\r`` or ``\\n``, ``\\u`` escapes count only inside strings and IRIs, keywords need no word
  boundary (``SERVICESILENT``, ``1SERVICE``); each SERVICE endpoint and LOAD document is resolved
  against the BASE and PREFIX declarations before it (:func:`_reach`). A text in which the letters
  ``service`` and ``load`` appear nowhere, in any case, cannot reach the network. (An earlier
  version asked rdflib's grammar, whose comments end only at ``\\n``: ``# x\\rSERVICE <...>`` was
  hidden from it and run by Oxigraph.)

Results are written by pyoxigraph's own serialisers (SPARQL JSON, XML, CSV, TSV; Turtle,
N-Triples, JSON-LD, RDF/XML, N3). A format that does not fit the query form is an error that
lists the formats that do; there is never a silent swap.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from rdflib import XSD, BNode, Literal, URIRef
from rdflib.query import Result

from .catalog import Catalog
from .serialize import Unwritable, write_solutions, write_triples
from ..errors import QueryError

__all__ = ["ParsedQuery", "parse_query", "query_kind", "check_reach", "run_sparql", "check_query", "write_result",
           "QUERY_FORMATS", "format_result", "result_to_json", "syntax_message", "base_iri", "with_using",
           "is_empty_update"]

_QUERY_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
                "DescribeQuery": "DESCRIBE"}
_EXAMPLE = "for example: SELECT ?name WHERE { ?e schema:name ?name } LIMIT 10"
_UPDATE_EXAMPLE = ("for example: INSERT DATA { GRAPH <https://example.org/notes> "
                   "{ mgid:the-pile schema:description \"...\" } }")


def base_iri() -> str:
    """The base IRI relative IRIs in a query resolve against: the entity namespace, so ``<the-pile>``
    is ``mgid:the-pile``."""
    from ..vocab import ID

    return str(ID)


@dataclass(frozen=True)
class ParsedQuery:
    """What the parser found in a SPARQL text.

    Attributes
    ----------
    form : str
        ``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE`` or ``UPDATE``.
    services : tuple of str
        The endpoint of every SERVICE clause, as an absolute IRI (``?var`` for a variable endpoint).
    loads : tuple of str
        The document IRI of every LOAD operation (updates only).
    has_dataset : bool
        True when the query names its own dataset with FROM or FROM NAMED.
    """

    form: str
    services: tuple[str, ...] = ()
    loads: tuple[str, ...] = ()
    has_dataset: bool = False
    text: str = field(default="", repr=False)

    @property
    def is_update(self) -> bool:
        """True for a SPARQL update."""
        return self.form == "UPDATE"

    @property
    def returns_graph(self) -> bool:
        """True for CONSTRUCT and DESCRIBE, whose results are RDF triples."""
        return self.form in ("CONSTRUCT", "DESCRIBE")


_PATCHED = False


def _patch_rdflib_service_text() -> None:
    """Work around an rdflib parser bug that refuses valid SERVICE queries written on one line.

    rdflib keeps the source text of each SERVICE clause by searching the *whole* query again
    (``original_text_for(expr).search_string(query)``) with comments ignored, so a ``#`` inside an
    earlier IRI on the same line (``PREFIX rdf: <...rdf-syntax-ns#> ... SERVICE``, as SPARQLWrapper
    sends every query) hides the clause and the parse fails. The fallback finds the clause's text
    from where the clause ends instead; every other behaviour stays rdflib's.
    """
    global _PATCHED
    if _PATCHED:
        return
    from pyparsing import ParseBaseException, original_text_for
    from rdflib.plugins.sparql import parser

    element = parser.ServiceGraphPattern
    original = type(element).postParse
    clause = original_text_for(element.expr)

    def post_parse(instring: str, loc: int, tokens: Any) -> Any:
        try:
            return original(element, instring, loc, tokens)
        except IndexError:
            pass
        upper, start = instring.upper(), loc
        text = ""
        while (start := upper.rfind("SERVICE", 0, start)) >= 0:
            try:
                text = clause.parse_string(instring[start:loc], parse_all=True)[0]
                break
            except ParseBaseException:
                continue
        from rdflib.plugins.sparql.parserutils import CompValue, ParamValue

        result = CompValue("ServiceGraphPattern")  # what rdflib's Comp.postParse builds
        result["service_string"] = text
        for token in tokens:
            if isinstance(token, ParamValue):
                if token.isList:
                    result.setdefault(token.name, []).append(token.tokenList)
                else:
                    result[token.name] = token.tokenList
        return result

    element.postParse = post_parse  # type: ignore[method-assign]
    _PATCHED = True


def syntax_message(exc: BaseException, *, line_shift: int = 0) -> str:
    """The message of a parser error with its line and column, as people count them.

    Examples
    --------
    >>> syntax_message(SyntaxError("error at 3:17: expected '}'"))
    "SPARQL syntax error at line 3, column 17: expected '}'"
    """
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "col", None)
    msg = getattr(exc, "msg", None)
    if isinstance(line, int) and isinstance(col, int) and msg and not isinstance(exc, SyntaxError):
        found = str(exc).split("  (at char")[0]
        return f"SPARQL syntax error at line {line - line_shift}, column {col}: {found}"
    text = str(exc)
    if text.startswith("error at ") and ":" in text[9:]:
        where, _, rest = text[9:].partition(": ")
        row, _, column = where.partition(":")
        if row.isdigit() and column.isdigit():
            detail = " ".join(rest.split())
            if len(detail) > 200:  # Oxigraph lists every token it expected; the first few say enough
                detail = detail[:200].rsplit(",", 1)[0] + ", ..."
            return f"SPARQL syntax error at line {int(row) - line_shift}, column {column}: {detail}"
    return f"SPARQL syntax error: {' '.join(text.split())}"


# ---------------------------------------------------------------------- the lexer
# The terminals of the SPARQL 1.1 grammar (section 19.8), character classes as written there.
_PN_CHARS_BASE = ("A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
                  "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN_PREFIX = f"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_ECHAR = r"\\[tbnrf\\\"']"
_VARNAME = f"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00B7\u0300-\u036F\u203F-\u2040]*"
_STRINGS = (f'"""(?:[^"\\\\]|{_ECHAR}|{_UCHAR}|"(?!""))*"""'
            f"|'''(?:[^'\\\\]|{_ECHAR}|{_UCHAR}|'(?!''))*'''"
            f'|"(?:[^"\\\\\\n\\r]|{_ECHAR}|{_UCHAR})*"'
            f"|'(?:[^'\\\\\\n\\r]|{_ECHAR}|{_UCHAR})*'")

#: One SPARQL token at a time, tried in this order: long and short strings (with their escapes),
#: IRIs, variables, blank node labels, language tags, numbers, prefixed names, keywords, then any
#: other single character.
_TOKEN = re.compile(
    r"(?P<ws>\s+)|(?P<comment>#[^\r\n]*)"
    f"|(?P<string>{_STRINGS})"
    f"|(?P<iri><(?:[^<>\"{{}}|^`\\\\\\x00-\\x20]|{_UCHAR})*>)"
    f"|(?P<var>[?$]{_VARNAME})"
    f"|(?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)"
    r"|(?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?:--[A-Za-z]+)?)"
    r"|(?P<number>(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?))"
    f"|(?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)"
    r"|(?P<word>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<other>.)",
    re.DOTALL)
#: Characters that stand alone in SPARQL (punctuation, operators, the property path marks).
_PUNCTUATION = set("{}()[].,;*+-/!=<>|^?&")

_QUERY_KEYWORDS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
_UPDATE_KEYWORDS = {"INSERT", "DELETE", "WITH", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY"}


def scan_tokens(text: str) -> list[tuple[str, str, int]]:
    """The SPARQL tokens of a text (whitespace and comments left out): ``(kind, text, offset)``.

    Kinds: ``string``, ``iri``, ``var``, ``bnode``, ``lang``, ``number``, ``pname`` (a prefixed
    name, ``schema:name``), ``word`` (a keyword or ``a``) and ``other`` (punctuation and operators,
    or a character no SPARQL token starts with). The terminals are the grammar's own (section
    19.8 of SPARQL 1.1), escapes included; the lexer never fails.

    Examples
    --------
    >>> [(k, t) for k, t, _ in scan_tokens('SELECT * FROM <g> { ?e mg:derivedFrom "from" } # from')]
    [('word', 'SELECT'), ('other', '*'), ('word', 'FROM'), ('iri', '<g>'), ('other', '{'), ('var', '?e'), ('pname', 'mg:derivedFrom'), ('string', '"from"'), ('other', '}')]
    """
    out: list[tuple[str, str, int]] = []
    for found in _TOKEN.finditer(text):
        kind = found.lastgroup or "other"
        if kind not in ("ws", "comment"):
            out.append((kind, found.group(), found.start()))
    return out


def _prologue_end(tokens: list[tuple[str, str, int]]) -> int:
    """The index of the first token after the prologue (BASE <iri>, PREFIX p: <iri>, VERSION "1.2")."""
    position = 0
    while position < len(tokens):
        kind, word, _ = tokens[position]
        upper = word.upper()
        if kind == "word" and upper in ("BASE", "VERSION"):
            position += 2
        elif kind == "word" and upper == "PREFIX":
            position += 3
        else:
            break
    return position


def is_empty_update(text: str) -> bool:
    """True when a text holds no operation: nothing, comments or a prologue only. That is a valid
    SPARQL update (``Update ::= Prologue ( Update1 ( ';' Update )? )?``, the W3C tests
    syntax-update-38 to 40) that changes nothing, and never a query.

    Examples
    --------
    >>> is_empty_update("# nothing to do"), is_empty_update("PREFIX : <http://example/>"), is_empty_update("CLEAR ALL")
    (True, True, False)
    """
    tokens = scan_tokens(text.removeprefix("\ufeff"))
    return _prologue_end(tokens) >= len(tokens)


def _lexical_parse(text: str, tokens: list[tuple[str, str, int]]) -> ParsedQuery | None:
    """Form and dataset of a text, read from its tokens (see the module docstring); None
    when it holds a character the lexer cannot place (rdflib's grammar reads the text then)."""
    if not tokens:
        raise QueryError("the query is empty (it holds only comments)", hint=_EXAMPLE)
    if any(kind == "other" and token not in _PUNCTUATION for kind, token, _ in tokens):
        return None  # a character no SPARQL token starts with: not for the lexer to judge
    position = _prologue_end(tokens)
    if position >= len(tokens):
        raise QueryError("SPARQL syntax error: the text has a prologue (PREFIX, BASE) but no query after it",
                         hint=_EXAMPLE)
    kind, word, offset = tokens[position]
    upper = word.upper() if kind == "word" else ""
    if upper in _QUERY_KEYWORDS:
        form = upper
    elif upper in _UPDATE_KEYWORDS:
        form = "UPDATE"
    else:
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        shown = word if len(word) <= 40 else word[:40] + "..."
        raise QueryError(f"SPARQL syntax error at line {line}, column {column}: expected SELECT, ASK, "
                         f"CONSTRUCT, DESCRIBE or an update (INSERT, DELETE...), found {shown!r}", hint=_EXAMPLE)
    has_dataset = form != "UPDATE" and any(k == "word" and t.upper() == "FROM" for k, t, _ in tokens)
    return ParsedQuery(form, has_dataset=has_dataset, text=text)


_LOCAL_ESCAPE = re.compile(r"\\(.)")


def resolve_iri(base: str, reference: str) -> str:
    """An IRI reference, as written between ``<`` and ``>`` (``\\u`` escapes and all), resolved
    against a base by Oxigraph's own resolver (RFC 3986, strictly: ``http:x`` is absolute even
    against an ``http:`` base, ``//`` an empty authority), so the guard and the engine agree on where
    a request would go; Python's ``urljoin`` fills in the base's host there. A reference the
    resolver refuses (the engine's parser would too) is returned as written.

    Examples
    --------
    >>> resolve_iri("https://w3id.org/a/b", "../c?q"), resolve_iri("http://h/a", "http:x")
    ('https://w3id.org/c?q', 'http:x')
    >>> resolve_iri("https://w3id.org/id/", "//"), resolve_iri("https://w3id.org/id/", "//h:1/p")
    ('https://', 'https://h:1/p')
    """
    import pyoxigraph as ox

    try:
        triple = next(iter(ox.parse(f"<{reference}> <urn:x:p> <urn:x:o> .".encode("utf-8", "surrogatepass"),
                                    format=ox.RdfFormat.TURTLE, base_iri=base)))
    except (SyntaxError, ValueError, StopIteration):
        return reference
    return triple.subject.value


def _reach(tokens: list[tuple[str, str, int]], prefixes: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """The endpoint of every SERVICE and the document of every LOAD, as absolute IRIs (``?x`` for a
    variable endpoint), read from the tokens with the prologue in force where each stands.

    Oxigraph reads keywords without a word boundary: ``SERVICESILENT <x>`` is ``SERVICE SILENT
    <x>``, ``trueSERVICE`` is ``true SERVICE``, and ``SERVICE:x {`` (or ``SERVICEp:x {``) is
    ``SERVICE :x {``, which the lexer sees as one prefixed name; so is ``LOAD:x`` where an
    operation starts. A word that holds SERVICE or LOAD and is not one of them (with SILENT) is
    refused rather than guessed at; a prefixed name that starts with one where the keyword could
    stand counts as the keyword (every reading of an optional SILENT counted).
    """
    declared, base = dict(prefixes), base_iri()
    services: list[str] = []
    loads: list[str] = []

    def named(target_kind: str, target: str) -> str:
        if target_kind == "iri":
            return resolve_iri(base, target[1:-1])
        if target_kind == "pname":
            prefix, _, local = target.partition(":")
            return declared[prefix] + _LOCAL_ESCAPE.sub(r"\1", local) if prefix in declared else target
        return target if target_kind == "var" else f"?{target or 'nothing'}"  # the engine's parser refuses it

    depth, starting, i = 0, True, 0
    while i < len(tokens):
        kind, token, _ = tokens[i]
        following = tokens[i + 1:i + 3]
        upper = token.upper()
        if kind == "word" and upper in ("BASE", "VERSION") and following:
            if upper == "BASE" and following[0][0] == "iri":
                base = resolve_iri(base, following[0][1][1:-1])
            i += 2
            continue
        if kind == "word" and upper == "PREFIX" and len(following) == 2 and following[0][1].endswith(":") \
                and following[1][0] == "iri":
            declared[following[0][1][:-1]] = resolve_iri(base, following[1][1][1:-1])
            i += 3
            continue
        if kind == "other" and token in "{}":
            depth += 1 if token == "{" else -1
        if kind == "word" and ("SERVICE" in upper or "LOAD" in upper):
            keyword = upper.removesuffix("SILENT")
            if keyword not in ("SERVICE", "LOAD"):
                raise QueryError(f"the word {token!r} holds the keyword "
                                 f"{'SERVICE' if 'SERVICE' in upper else 'LOAD'}, which the engine would read on "
                                 "its own", hint="put a space between keywords")
            if keyword == upper and following and following[0][0] == "word" and following[0][1].upper() == "SILENT":
                following = following[1:]
            (services if keyword == "SERVICE" else loads).append(named(*following[0][:2]) if following else "?nothing")
        elif kind == "pname":
            head = upper.partition(":")[0]
            for keyword, found in (("SERVICE", services), ("LOAD", loads)):
                viable = (following and following[0][1] == "{") if keyword == "SERVICE" else starting and depth == 0
                if head.startswith(keyword) and viable:
                    rest = token[len(keyword):]
                    readings = [rest] + ([rest[len("SILENT"):]] if rest.upper().startswith("SILENT") else [])
                    found.extend(named("pname", reading) for reading in readings)
        starting = depth == 0 and kind == "other" and token == ";"
        i += 1
    return services, loads


def parse_query(text: str, *, prefixes: Mapping[str, str] | None = None) -> ParsedQuery:
    """Parse a SPARQL query or update and say what it is and what it would reach.

    Parameters
    ----------
    text : str
        The query or update, as sent (one line or many, comments allowed).
    prefixes : mapping, optional
        Prefixes predeclared for the text (default: the project's, ``mg:``, ``schema:``...).

    Raises
    ------
    QueryError
        The text is not SPARQL; the message gives the line and column where parsing stopped.

    Examples
    --------
    >>> parse_query("PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> SELECT ?s WHERE { ?s rdf:type ?t }").form
    'SELECT'
    >>> parse_query("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }").services
    ('http://example.org/sparql',)
    """
    if prefixes is None:
        from ..vocab import PREFIXES

        prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
    text = text.removeprefix("\ufeff")  # a byte order mark some editors write first
    if not text.strip():
        raise QueryError("the query is empty", hint=_EXAMPLE)
    lowered = text.lower()
    tokens = scan_tokens(text)
    parsed = _lexical_parse(text, tokens) or _rdflib_form(text)
    if "service" not in lowered and "load" not in lowered:
        return parsed  # no keyword of the text can reach the network
    services, loads = _reach(tokens, prefixes)
    return ParsedQuery(parsed.form, services=tuple(services), loads=tuple(loads),
                       has_dataset=parsed.has_dataset, text=text)


def _rdflib_form(text: str) -> ParsedQuery:
    """Form and dataset of a text holding a character the lexer cannot place, read by rdflib's
    grammar (its syntax error is the one shown when it cannot read the text either)."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    _patch_rdflib_service_text()
    errors: list[Any] = []
    for parse in (parseQuery, parseUpdate):
        try:
            tree = parse(text)
        except (ParseBaseException, ValueError, TypeError, RecursionError) as exc:
            errors.append(exc)
            continue
        if parse is parseQuery:
            return ParsedQuery(_QUERY_FORMS.get(tree[1].name, "SELECT"), has_dataset="datasetClause" in tree[1],
                               text=text)
        if "request" in tree:
            return ParsedQuery("UPDATE", text=text)
    best = max(errors, key=lambda e: getattr(e, "loc", -1))
    if isinstance(best, RecursionError):
        raise QueryError("the query nests groups too deeply to be read", hint="write it with fewer nested { } or ( )")
    if isinstance(best, ParseBaseException):
        raise QueryError(syntax_message(best), hint=_EXAMPLE)
    raise QueryError(f"SPARQL syntax error: {best}", hint=_EXAMPLE)


def with_using(text: str, graphs: Sequence[str] = (), named: Sequence[str] = ()) -> str:
    """An update with ``USING <g>`` and ``USING NAMED <g>`` put before the WHERE of each of its
    ``DELETE``/``INSERT`` ... ``WHERE`` operations: the dataset the protocol's ``using-graph-uri``
    and ``using-named-graph-uri`` parameters give an update (SPARQL 1.1 Protocol, 2.2.3).

    Parameters
    ----------
    text : str
        The update.
    graphs, named : sequence of str
        Absolute graph IRIs.

    Raises
    ------
    QueryError
        The update names its own dataset (``USING``, ``USING NAMED`` or ``WITH``): the protocol
        makes that, with the parameters, an error; or it has a ``DELETE WHERE``, which cannot
        take them. Operations without a WHERE clause (``INSERT DATA``, ``CLEAR``...) read no
        dataset and are left as they are.

    Examples
    --------
    >>> with_using("INSERT { ?s a ?o } WHERE { ?s ?p ?o }", ["urn:g"])
    'INSERT { ?s a ?o }  USING <urn:g> WHERE { ?s ?p ?o }'
    """
    if not graphs and not named:
        return text
    clause = " " + " ".join([f"USING <{g}>" for g in graphs] + [f"USING NAMED <{g}>" for g in named]) + " "
    depth, operation, previous, places = 0, "", "", []
    for kind, token, offset in scan_tokens(text):
        if kind == "other" and token in "{}":
            depth += 1 if token == "{" else -1
        elif depth == 0 and kind == "other" and token == ";":
            operation = ""
        elif depth == 0 and kind == "word":
            upper = token.upper()
            if upper in ("USING", "WITH"):
                raise QueryError(f"the update names its own dataset ({upper}) and the request gives "
                                 "using-graph-uri / using-named-graph-uri too",
                                 hint="give the graphs one way: in the update, or as parameters")
            if not operation and upper not in ("PREFIX", "BASE"):
                operation = upper
            if upper == "WHERE" and operation in ("DELETE", "INSERT"):
                if previous != "}":  # DELETE WHERE: its pattern is its template, and it takes no USING
                    raise QueryError("using-graph-uri / using-named-graph-uri cannot apply to a DELETE WHERE "
                                     "operation (SPARQL has no USING for it)",
                                     hint="write it as DELETE { ... } WHERE { ... }, or name the graph inside: "
                                          "DELETE WHERE { GRAPH <g> { ... } }")
                places.append(offset)
        previous = token
    for offset in reversed(places):
        text = text[:offset] + clause + text[offset:]
    return text


def query_kind(text: str) -> str:
    """Return ``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE`` or ``UPDATE`` for a SPARQL text.

    Examples
    --------
    >>> query_kind("PREFIX a: <x:> SELECT * WHERE { ?s ?p ?o }")
    'SELECT'
    >>> query_kind("INSERT DATA { <a:b> <a:c> 1 }")
    'UPDATE'
    """
    return parse_query(text).form


def _host_allowed(iri: str, allowed: Iterable[str]) -> bool:
    try:
        parts = urlsplit(iri)
        port = parts.port
    except ValueError:  # a port that is no port (+18765, 99999), a broken [IPv6]: never allowed
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = _canonical_host(parts.hostname)
    netloc = f"{host}:{port}" if port else host
    for entry in allowed:
        name, number = entry.lower(), ""
        if name.startswith("[") and "]:" in name:  # [::1]:8890
            name, _, number = name[1:].partition("]:")
        elif name.count(":") == 1:  # example.org:8890 (an IPv6 address has more)
            name, _, number = name.partition(":")
        if _canonical_host(name) + (f":{number}" if number else "") in (host, netloc):
            return True
    return False


def _canonical_host(host: str) -> str:
    """A host as the engine's resolver reads it: ``127.1``, ``0x7f.1``, ``2130706433`` and
    ``0177.0.0.1`` are all ``127.0.0.1`` (inet_aton's forms), an IPv6 address in its short form, a
    trailing dot dropped; so an allowed host and a requested one are compared as the same machine.

    Examples
    --------
    >>> _canonical_host("0x7f.1"), _canonical_host("[::0:1]"), _canonical_host("Example.org.")
    ('127.0.0.1', '::1', 'example.org')
    """
    import ipaddress
    import socket

    name = host.strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(name))
    except OSError:
        return name


def _host_of(iri: str) -> str:
    try:
        return urlsplit(iri).hostname or "HOST"
    except ValueError:
        return "HOST"


def check_reach(parsed: ParsedQuery, *, allow_service: Sequence[str] = (), option: str | None = "--allow-service") -> None:
    """Refuse a query that would make this process fetch from the network, unless allowed.

    Parameters
    ----------
    parsed : ParsedQuery
    allow_service : sequence of str
        Hosts (``example.org`` or ``example.org:8890``) that SERVICE and LOAD may reach.
    option : str or None
        The option that allows a host, for the hint; None where no option can (``export --query``).

    Raises
    ------
    QueryError
        For a SERVICE (or LOAD) whose host is not allowed, or whose endpoint is a variable.
    """
    for iri in parsed.services:
        if iri.startswith("?"):
            raise QueryError(f"SERVICE {iri} asks for a federated query to an endpoint chosen while the query "
                             "runs; this endpoint does not send requests to other servers on a client's behalf",
                             hint="name the endpoint as an IRI of a host the operator allows "
                                  f"(started with {option} HOST)" if option else
                                  "a drawing shows what the catalog holds: leave the SERVICE part out")
        if not _host_allowed(iri, allow_service):
            host = _host_of(iri)
            raise QueryError(f"SERVICE <{iri}> would send a request to another endpoint, which matchgraph does "
                             "not do on a client's behalf",
                             hint=f"run the query against <{iri}> directly, or start with {option} {host} to allow "
                                  "that host" if option else
                                  f"a drawing shows what the catalog holds: fetch what <{iri}> has with 'matchgraph "
                                  f"sparql --allow-service {host}' and ingest it first")
    for iri in parsed.loads:
        if not _host_allowed(iri, allow_service):
            raise QueryError(f"LOAD <{iri}> would fetch a document from the network, which matchgraph does "
                             "not do on a client's behalf",
                             hint="download the document and ingest it ('matchgraph ingest FILE')"
                                  + (f", or allow the host with {option} {_host_of(iri)}"
                                     if option else ""))


# ---------------------------------------------------------------------- result formats
#: Output format name -> (pyoxigraph format attribute, media type), per kind of result.
QUERY_FORMATS: dict[str, dict[str, tuple[str, str]]] = {
    "results": {
        "json": ("JSON", "application/sparql-results+json"),
        "xml": ("XML", "application/sparql-results+xml"),
        "csv": ("CSV", "text/csv"),
        "tsv": ("TSV", "text/tab-separated-values"),
    },
    "graph": {
        "turtle": ("TURTLE", "text/turtle"),
        "nt": ("N_TRIPLES", "application/n-triples"),
        "json-ld": ("JSON_LD", "application/ld+json"),
        "rdfxml": ("RDF_XML", "application/rdf+xml"),
        "n3": ("N3", "text/n3"),
    },
}


def _family(form: str) -> str:
    return "graph" if form in ("CONSTRUCT", "DESCRIBE") else "results"


def _fitting(form: str, fmt: str) -> str:
    """The output format ``fmt`` for a query form, or a QueryError listing the ones that fit."""
    family = QUERY_FORMATS[_family(form)]
    if fmt == "table" or fmt in family:
        return fmt
    offered = ["table", *family] if form != "ASK" else ["table", "json", "xml", "csv", "tsv"]
    raise QueryError(f"a {form} query cannot be written as {fmt}: its results are "
                     f"{'RDF triples' if _family(form) == 'graph' else 'a table of solutions' if form == 'SELECT' else 'true or false'}",
                     hint="use --format " + ", ".join(offered))


def _short(term: Any, namespaces: list[tuple[str, str]]) -> str:
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, ns in namespaces:
            if term.value.startswith(ns) and len(term.value) > len(ns):
                return f"{prefix}:{term.value[len(ns):]}"
        return term.value
    if isinstance(term, ox.Literal):
        return term.value
    return str(term)


def _table(names: list[str], rows: list[list[str]]) -> str:
    from rich.table import Table
    from rich.console import Console
    from rich.text import Text

    # cells are data, never rich markup: "[/i]" in a literal is printed as written
    table = Table(show_lines=False)
    for name in names:
        table.add_column(Text(name))
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console = Console(file=io.StringIO(), width=160, force_terminal=False, color_system=None)
    console.print(table)
    console.print(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")
    return console.file.getvalue()  # type: ignore[attr-defined]


def write_result(result: Any, form: str, fmt: str) -> bytes:
    """Write a pyoxigraph query result with pyoxigraph's serialisers.

    Parameters
    ----------
    result : pyoxigraph.QuerySolutions, QueryBoolean or QueryTriples
    form : str
        The query form (``SELECT``, ``ASK``, ``CONSTRUCT``, ``DESCRIBE``).
    fmt : str
        ``table`` or a key of :data:`QUERY_FORMATS` for the form's kind of result.

    Raises
    ------
    QueryError
        When ``fmt`` does not fit the form; the hint lists the formats that do.
    """
    import pyoxigraph as ox

    from ..vocab import PREFIXES

    fmt = _fitting(form, fmt)
    prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
    if isinstance(result, ox.QueryBoolean):
        if fmt == "table":
            return b"true\n" if bool(result) else b"false\n"
        return result.serialize(format=getattr(ox.QueryResultsFormat, QUERY_FORMATS["results"][fmt][0]))
    if isinstance(result, ox.QueryTriples):
        key = "turtle" if fmt == "table" else fmt
        try:
            return write_triples(result, QUERY_FORMATS["graph"][key][0], prefixes)
        except Unwritable as exc:  # a format that cannot hold the result
            raise QueryError(str(exc), hint="use --format turtle or nt") from None
    if fmt == "table":
        names = [v.value for v in result.variables]
        namespaces = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
        rows = [[_short(s[n], namespaces) for n in names] for s in result]
        return _table(names, rows).encode("utf-8")
    try:
        return write_solutions(result, QUERY_FORMATS["results"][fmt][0])
    except Unwritable as exc:  # XML, and a literal it cannot carry
        raise QueryError(str(exc), hint="use --format json, csv or tsv") from None


def check_query(text: str, *, allow_update: bool = False, allow_service: Sequence[str] = (),
                fmt: str = "table") -> ParsedQuery:
    """Everything :func:`run_sparql` refuses before it touches a catalog: syntax, an update without
    permission, SERVICE or LOAD beyond the allowed hosts, a format that does not fit the form.

    Raises
    ------
    QueryError
        As :func:`run_sparql`.
    """
    parsed = parse_query(text)
    text = parsed.text
    if parsed.is_update and not allow_update:
        raise QueryError("this is a SPARQL update and the catalog is opened read-only",
                         hint="add --update to change the catalog")
    check_reach(parsed, allow_service=allow_service)
    if not parsed.is_update:
        _fitting(parsed.form, fmt)
    if parsed.services or parsed.loads:
        return parsed  # an allowed request is sent once, by the real run (which reports syntax errors too)
    import pyoxigraph as ox

    from ..vocab import PREFIXES

    try:  # Oxigraph's own parser has the last word (scope rules rdflib's grammar lets through)
        empty = ox.Store()
        if parsed.is_update:
            empty.update(text, prefixes={p: str(n) for p, n in PREFIXES.items()}, base_iri=base_iri())
        else:
            # parsing is all this is for: solutions and triples are lazy and are not asked for
            empty.query(text, prefixes={p: str(n) for p, n in PREFIXES.items()}, base_iri=base_iri(),
                        use_default_graph_as_union=True)
    except SyntaxError as exc:
        raise QueryError(syntax_message(exc), hint=_UPDATE_EXAMPLE if parsed.is_update else _EXAMPLE) from exc
    except (OSError, ValueError, RuntimeError):
        pass  # not a syntax problem (DROP GRAPH of a graph the empty store lacks): the real run reports it
    return parsed


def run_sparql(catalog: Catalog, text: str, *, allow_update: bool = False,
               allow_service: Sequence[str] = (), fmt: str = "table",
               parsed: ParsedQuery | None = None) -> bytes | None:
    """Run a query (or, when allowed, an update) with the project prefixes predeclared.

    Parameters
    ----------
    catalog : Catalog
    text : str
        The SPARQL text.
    allow_update : bool
        Accept updates (the catalog is read-only otherwise).
    allow_service : sequence of str
        Hosts that SERVICE and LOAD may reach (none by default).
    fmt : str
        Output format (see :func:`write_result`).
    parsed : ParsedQuery, optional
        What :func:`check_query` returned for ``text``, so that it is not read twice.

    Returns
    -------
    bytes or None
        The written result; None for an update.

    Raises
    ------
    QueryError
        When the text is malformed, reaches out without permission, is an update and updates are
        not allowed, or ``fmt`` does not fit the query form.
    """
    if parsed is None:
        parsed = parse_query(text)
    text = parsed.text
    if parsed.is_update:
        if not allow_update:
            raise QueryError("this is a SPARQL update and the catalog is opened read-only",
                             hint="add --update to change the catalog")
        check_reach(parsed, allow_service=allow_service)
        catalog.update(text)
        return None
    check_reach(parsed, allow_service=allow_service)
    _fitting(parsed.form, fmt)  # refuse a format that does not fit before running anything
    store = catalog.oxigraph
    if store is None:  # a remote catalog: its endpoint runs the query
        return format_result(catalog.query(text), fmt, catalog).encode("utf-8")
    from ..vocab import PREFIXES

    options: dict[str, Any] = {"prefixes": {p: str(ns) for p, ns in PREFIXES.items()}, "base_iri": base_iri()}
    if not parsed.has_dataset:
        options["use_default_graph_as_union"] = True
    try:
        result = store.query(text, **options)
        return write_result(result, parsed.form, fmt)
    except SyntaxError as exc:
        raise QueryError(syntax_message(exc), hint=_EXAMPLE) from None
    except (OSError, ValueError, RuntimeError) as exc:
        raise QueryError(f"the query failed: {exc}") from None


# ---------------------------------------------------------------------- rdflib results (remote catalogs)
def _term_json(term: Any) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    out = {"type": "literal", "value": str(term)}
    if isinstance(term, Literal):
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype and str(term.datatype) != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = str(term.datatype)
    return out


def result_to_json(result: Result) -> dict[str, Any]:
    """SPARQL 1.1 Query Results JSON for an rdflib SELECT or ASK result."""
    if result.type == "ASK":
        return {"head": {}, "boolean": bool(result.askAnswer)}
    names = [str(v) for v in result.vars or []]
    bindings = []
    for row in result:
        bindings.append({n: _term_json(v) for n, v in zip(names, row) if v is not None})
    return {"head": {"vars": names}, "results": {"bindings": bindings}}


def _plain(term: Any) -> str:
    return "" if term is None else str(term)


_TSV_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _tsv_term(term: Any) -> str:
    """A term as SPARQL 1.1 TSV writes it: one line of N-Triples syntax, plain strings without a datatype.

    Examples
    --------
    >>> _tsv_term(Literal("two\\tcells"))
    '"two\\\\tcells"'
    """
    if term is None:
        return ""
    if not isinstance(term, Literal):
        return term.n3()
    body = '"' + "".join(_TSV_ESCAPES.get(c, c) for c in str(term)) + '"'
    if term.language:
        return f"{body}@{term.language}"
    if term.datatype is not None and term.datatype != XSD.string:
        return f"{body}^^<{term.datatype}>"
    return body


def _rdflib_short(term: Any, catalog: Catalog | None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef) and catalog is not None:
        try:
            return catalog.dataset.namespace_manager.normalizeUri(term)
        except Exception:  # noqa: BLE001
            return str(term)
    return str(term)


def format_result(result: Result, fmt: str, catalog: Catalog | None = None) -> str:
    """Write an rdflib query result (a remote catalog's): table, json, xml, csv, tsv for SELECT/ASK;
    turtle, nt, json-ld, rdfxml, n3 for graphs. A format that does not fit the form is a QueryError."""
    fmt = _fitting(str(result.type), fmt)
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        graph = result.graph
        rdf_fmt = {"table": "turtle", "turtle": "turtle", "nt": "nt", "json-ld": "json-ld", "rdfxml": "xml",
                   "n3": "n3"}[fmt]
        if catalog is not None:
            for prefix, ns in catalog.dataset.namespace_manager.namespaces():
                graph.bind(prefix, ns)
        return graph.serialize(format=rdf_fmt)
    if fmt == "json":
        return json.dumps(result_to_json(result), indent=2, ensure_ascii=False)
    if fmt == "xml":
        data = result.serialize(format="xml")
        return data.decode("utf-8") if isinstance(data, bytes) else str(data)
    if result.type == "ASK":
        return ("true" if result.askAnswer else "false") + ("\r\n" if fmt == "csv" else "\n")
    names = [str(v) for v in result.vars or []]
    rows = [list(r) for r in result]
    if fmt in ("csv", "tsv"):
        buf = io.StringIO()
        if fmt == "csv":
            writer = csv.writer(buf, lineterminator="\r\n")
            writer.writerow(names)
            writer.writerows([[_plain(v) for v in row] for row in rows])
        else:
            buf.write("\t".join(f"?{n}" for n in names) + "\n")
            for row in rows:
                buf.write("\t".join(_tsv_term(v) for v in row) + "\n")
        return buf.getvalue()
    return _table(names, [[_rdflib_short(v, catalog) for v in row] for row in rows])
