"""Entities named by a local ``file:`` IRI: what an update sent to the catalog may not add.

Ingest refuses such an entity in a file (``@base <file:///etc/>`` made ``<passwd>`` the entity
``file:///etc/passwd``): the IRI names a file on this machine, not the entity, gets no page and
puts a local path in every export and answer. An update (``matchgraph sparql --update``, the
endpoint's ``--allow-update``) is held to the same rule by :func:`refuse_local_entities`, which
:meth:`Transaction.update_checked <matchgraph.store.catalog.Transaction.update_checked>` calls
after the update has run on the staged version. An entity is a subject typed ``mg:Entity`` or one
of its kinds (``mg:Model``, ``mg:Dataset``...); a ``file:`` IRI that is no entity (``<>``, the
document of a DCAT file) is stored, as ingest stores it.

The check costs next to nothing whatever the catalog's size, since the text says where to look
(:func:`graphs_to_check`, which reads the text and never the catalog):

- most updates cannot add such an entity: they add no triples (DELETE, DROP, CLEAR, COPY), or only
  triples they spell out (INSERT DATA without the letters ``file:``), or insert from a pattern
  with templates that type nothing (``INSERT { ?e schema:url <...> } WHERE ...``). Nothing is asked;
- a template that may type its subject (``?e a mg:Entity``, ``?s ?p ?o``) in the graphs it names
  (or the default graph): only the entity type triples of those graphs are looked at (a notes
  graph: well under a millisecond);
- anything else (a template in ``GRAPH ?g``, a LOAD, a text that names ``file:``): the entity type
  triples of the whole catalog (20 to 30 ms of CPU at 200,000 quads and 5,000 entities).

Entities found there that the catalog held before the update (written before this check
existed) are let be.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import QueryError
from ..vocab import ID, KINDS, MG, PREFIXES, slug_for

__all__ = ["ENTITY_CLASSES", "graphs_to_check", "refuse_local_entities", "local_entity_error"]

#: The classes that make a subject an entity: mg:Entity and its kinds.
ENTITY_CLASSES = (MG.Entity, *KINDS.values())
_TYPED = "VALUES ?c { " + " ".join(f"<{c}>" for c in ENTITY_CLASSES) + " } ?e a ?c"
_LOCAL = 'FILTER(isIRI(?e) && STRSTARTS(LCASE(STR(?e)), "file:"))'
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: In a text in lower case: an INSERT from a pattern (INSERT, then '{' or a comment), and a LOAD
#: (LOAD, SILENT perhaps, then an IRI, a prefixed name or a comment). Oxigraph reads keywords
#: without word boundaries (LOADSILENT, LOAD:x); a match in a string only costs a reading of the
#: text token by token.
_INSERT_PATTERN = re.compile(r"insert\s*[{#]")
_LOAD = re.compile(r"load\s*(?:silent\s*)?(?:[<#]|[^\s:]*:)")
#: Texts longer than this are not read token by token (the lexer takes about 0.6 ms a kilobyte).
_LEXED_AT_MOST = 20_000


def graphs_to_check(text: str) -> set[str] | None:
    """Where an update may write a triple that makes a local ``file:`` IRI an entity.

    Only INSERT and LOAD add triples (ADD, COPY and MOVE copy what the catalog holds). INSERT DATA
    spells its IRIs out, so a file: IRI among them has the letters ``file:`` in the text (in the
    IRI, or in the BASE or PREFIX it resolves against) unless written with ``\\u`` escapes. An
    INSERT from a pattern adds an entity only through a template triple whose verb may be
    ``rdf:type`` (``a``, a variable...), in the graph the template names. An INSERT DATA costs a
    few searches of its text (about 3 ms a megabyte; Oxigraph takes 35 or more to apply it), an
    INSERT from a pattern a reading of its tokens.

    Returns
    -------
    set of str or None
        Empty when the update cannot write such a triple; else the graphs it may write one to
        (``""`` for the default graph); None for any graph (a LOAD, a text that names ``file:``,
        a template in ``GRAPH ?g``, a BASE, a text too long to read token by token).

    Examples
    --------
    >>> graphs_to_check('INSERT DATA { mgid:x schema:name "X" }'), graphs_to_check("DROP SILENT ALL")
    (set(), set())
    >>> graphs_to_check("DELETE { ?e schema:url ?u } INSERT { ?e schema:url <https://x.org/> } WHERE { ?e schema:url ?u }")
    set()
    >>> graphs_to_check("INSERT { GRAPH <urn:notes> { ?e a mg:Entity } } WHERE { ?e a dcat:Dataset }")
    {'urn:notes'}
    >>> graphs_to_check("INSERT DATA { <file:///etc/passwd> a mg:Entity }") is None
    True
    """
    low = text.lower()
    if "insert" not in low and "load" not in low:
        return set()
    if "file:" in low or "\\u" in low:
        return None
    if not _INSERT_PATTERN.search(low) and not _LOAD.search(low):
        return set()  # INSERT DATA only
    if len(text) > _LEXED_AT_MOST:
        return None
    from .sparql import scan_tokens  # here: most updates never need the lexer, nor its import

    return _typing_graphs(scan_tokens(text))


def refuse_local_entities(text: str, staged: Any, before: Any) -> None:
    """Raise if the update ``text``, run on ``staged``, made a local ``file:`` IRI an entity.

    Parameters
    ----------
    text : str
        The update, as run.
    staged : pyoxigraph.Store
        The store it ran on.
    before : pyoxigraph.Store or None
        The store as it was before: an entity it held already is let be.

    Raises
    ------
    QueryError
        Naming the first such entity (:func:`local_entity_error`).
    """
    graphs = graphs_to_check(text)
    if graphs is not None and not graphs:
        return
    if graphs is None:
        query, union = f"SELECT DISTINCT ?e WHERE {{ {_TYPED} {_LOCAL} }}", True
    else:  # those graphs only; the default graph as the store's own, not the union
        named = " ".join(f"<{g}>" for g in sorted(graphs) if g)
        parts = ([f"{{ VALUES ?g {{ {named} }} GRAPH ?g {{ {_TYPED} }} }}"] if named else []) + (
            [f"{{ {_TYPED} }}"] if "" in graphs else [])
        query, union = f"SELECT DISTINCT ?e WHERE {{ {' UNION '.join(parts)} {_LOCAL} }}", False
    found = {row[0].value for row in staged.query(query, use_default_graph_as_union=union)}
    if found and before is not None:
        values = " ".join(f"<{iri}>" for iri in sorted(found))
        found -= {row[0].value for row in before.query(f"SELECT DISTINCT ?e WHERE {{ VALUES ?e {{ {values} }} {_TYPED} }}",
                                                       use_default_graph_as_union=True)}
    if found:
        raise local_entity_error(sorted(found))


def local_entity_error(added: list[str]) -> QueryError:
    """The error for an update that would add the entities ``added`` (their file: IRIs, sorted).

    Examples
    --------
    >>> print(local_entity_error(["file:///etc/passwd"]))
    the update makes file:///etc/passwd an entity, and a file: IRI names a file on this machine, not the entity; nothing was changed
    Hint: give the entity an http(s) IRI, e.g. mgid:passwd (<https://w3id.org/matchgraph/id/passwd>)
    """
    more = f" (and {len(added) - 1} more)" if len(added) > 1 else ""
    slug = slug_for(added[0])
    return QueryError(f"the update makes {added[0]}{more} an entity, and a file: IRI names a file on this machine, "
                      "not the entity; nothing was changed",
                      hint=f"give the entity an http(s) IRI, e.g. mgid:{slug} (<{ID}{slug}>)")


# ---------------------------------------------------------------------- reading the templates
_TERMS = ("var", "iri", "pname", "bnode", "string", "number")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_AFTER_TERM = {"subject": "verb", "object": "after", "item": "item"}


def _name(kind: str, token: str, declared: dict[str, str]) -> str | None:
    """The IRI a graph name or a verb stands for (None for a variable, or a prefix not declared)."""
    if kind == "iri":  # a relative one as the engine resolves it (there is no BASE: the reader stops at one)
        from .sparql import resolve_iri

        return token[1:-1] if _SCHEME.match(token, 1) else resolve_iri(str(ID), token[1:-1])
    if kind == "pname":
        prefix, _, local = token.partition(":")
        return declared[prefix] + re.sub(r"\\(.)", r"\1", local) if prefix in declared else None
    return None


def _typing_graphs(tokens: list[tuple[str, str, int]]) -> set[str] | None:
    """:func:`graphs_to_check` for a (valid) update's tokens: the graphs of its INSERT templates'
    triples whose verb may be ``rdf:type``; None for a LOAD, a BASE, a template in a graph named by
    a variable, or anything the reader does not follow."""
    declared = {name: str(namespace) for name, namespace in PREFIXES.items()}
    graphs: set[str] = set()
    target: str | None = ""  # where a template's triples outside GRAPH go: the default graph, or WITH's
    depth = 0
    i = 0
    while i < len(tokens):
        kind, token, _ = tokens[i]
        upper = token.upper()
        following = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        i += 1
        if kind == "word" and upper == "PREFIX" and i + 1 < len(tokens) and tokens[i + 1][0] == "iri":
            declared[tokens[i][1][:-1]] = _name(*tokens[i + 1][:2], declared) or ""
            i += 2
        elif kind == "word" and upper == "BASE":
            return None  # relative IRIs resolve against it: not followed here
        elif kind == "word" and upper == "WITH" and depth == 0 and i < len(tokens):
            target = _name(*tokens[i][:2], declared)
            i += 1
        elif kind == "other" and token in "{};":
            depth += {"{": 1, "}": -1, ";": 0}[token]
            if token == ";" and depth == 0:
                target = ""  # the next operation
        elif kind == "word" and upper == "INSERT" and following.upper() == "DATA":
            i += 1  # every IRI of the data is spelled out, and none holds "file:"
        elif kind == "word" and upper == "INSERT" and following == "{" and target is not None:
            found, i = _template_graphs(tokens, i + 1, declared, target)
            if found is None:
                return None
            graphs |= found
        elif kind in ("word", "pname") and any(k in upper.partition(":")[0] for k in ("INSERT", "LOAD")):
            return None  # a LOAD, keywords run together (LOADSILENT, LOAD:x), or WITH a graph not followed
    return graphs


def _verb_may_type(kind: str, token: str, declared: dict[str, str]) -> bool:
    """Whether a template's verb may be ``rdf:type``: ``a``, a variable, the IRI or a prefixed name for it."""
    if kind not in ("iri", "pname"):
        return True
    name = _name(kind, token, declared)
    return name is None or name.lower() == _RDF_TYPE.lower()


def _template_graphs(tokens: list[tuple[str, str, int]], i: int, declared: dict[str, str],
                     target: str) -> tuple[set[str] | None, int]:
    """Read an INSERT template from ``tokens[i]``, just after its ``{``: the graphs of its triples
    whose verb may be ``rdf:type`` (None: any graph), and the index after its ``}``.

    The template is valid SPARQL (Oxigraph refuses the update otherwise, before anything is
    written): triples ``subject verb object (, object)* (; verb object...)*`` separated by ``.``,
    ``GRAPH name { ... }`` blocks, ``[ verb object ... ]`` and ``( item ... )`` for blank nodes and
    lists, literals with a language or a datatype. Anything else (RDF 1.2 triple terms and
    annotations) is a None.
    """
    opened: list[tuple[str, str, str | None]] = []  # each open '{' (of GRAPH), '[' or '(': the place after it, the graph
    graphs: set[str] = set()
    place, typed = "subject", "after"  # typed: the place a literal's '^^' datatype leaves
    while i < len(tokens):
        kind, token, _ = tokens[i]
        i += 1
        mark = token if kind == "other" else ""
        graph = opened[-1][2] if opened else target
        if place == "graph":  # the graph's name, then its '{'
            if kind not in ("var", "iri", "pname") or i >= len(tokens) or tokens[i][1] != "{":
                return None, i
            opened.append(("{", "subject", _name(kind, token, declared)))
            place, i = "subject", i + 1
        elif place == "datatype":  # after '^^': then on as after the literal
            if kind not in ("iri", "pname"):
                return None, i
            place = typed
        elif mark == "}":
            if not opened:
                return graphs, i
            if opened.pop()[0] != "{":
                return None, i
            place = "subject"
        elif mark in ("]", ")"):
            if not opened or opened[-1][0] != ("[" if mark == "]" else "("):
                return None, i
            place = opened.pop()[1]
        elif mark in ("[", "(") and place in _AFTER_TERM:
            opened.append((mark, _AFTER_TERM[place], graph))
            place = "verb" if mark == "[" else "item"
        elif place == "subject" and kind == "word" and token.upper() == "GRAPH":
            place = "graph"
        elif place == "subject" and mark == ".":
            continue
        elif place == "verb":
            if mark in (".", ";"):  # after a '[ ... ]' subject with no verb, or a ';' with none after it
                place = "subject" if mark == "." else "verb"
                continue
            if _verb_may_type(kind, token, declared):
                if graph is None:
                    return None, i
                graphs.add(graph)
            place = "object"
        elif place in _AFTER_TERM and (kind in _TERMS or token in ("true", "false")):
            place = _AFTER_TERM[place]
        elif place in ("object", "item") and mark in ("+", "-"):
            continue
        elif place in ("after", "item") and kind == "lang":
            continue
        elif place in ("after", "item") and mark == "^" and i < len(tokens) and tokens[i][1] == "^":
            typed, place, i = place, "datatype", i + 1
        elif place == "after" and mark in (",", ";", "."):
            place = {",": "object", ";": "verb", ".": "subject"}[mark]
        else:
            return None, i
    return None, i
