"""Entities named by a local ``file:`` IRI: what an update sent to the catalog may not add.

Ingest refuses such an entity in a file (``@base <file:///etc/>`` made ``<passwd>`` the entity
``file:///etc/passwd``): the IRI names a file on this machine, not the entity, gets no page and
puts a local path in every export and answer. An update (``matchgraph sparql --update``, the
endpoint's ``--allow-update``) is held to the same rule by :func:`refuse_local_entities`, which
:meth:`Transaction.update_checked <matchgraph.store.catalog.Transaction.update_checked>` calls
after the update has run on the staged version. An entity is a subject typed ``mg:Entity`` or one
of its kinds (``mg:Model``, ``mg:Dataset``...); a ``file:`` IRI that is no entity (``<>``, the
document of a DCAT file) is stored, as ingest stores it.

Most updates are not looked at after they run (:func:`may_add_local_entity` reads the text, never
the catalog): those that add no triple (DELETE, DROP, CLEAR, COPY, MOVE, ADD copy what the catalog
holds) and those that add only triples they spell out without the letters ``file:`` (INSERT DATA).
The rest (an INSERT from a pattern, a LOAD, a text naming ``file:``) have the entity type triples of
the whole catalog looked at: 20 to 30 ms of CPU at 200,000 quads and 5,000 entities, against about
50 ms for the update itself.

Entities found there that the catalog held before the update (written before this check
existed) are let be.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import QueryError
from ..vocab import ID, KINDS, MG, slug_for

__all__ = ["ENTITY_CLASSES", "may_add_local_entity", "refuse_local_entities", "local_entity_error"]

#: The classes that make a subject an entity: mg:Entity and its kinds.
ENTITY_CLASSES = (MG.Entity, *KINDS.values())
_TYPED = "VALUES ?c { " + " ".join(f"<{c}>" for c in ENTITY_CLASSES) + " } ?e a ?c"
_LOCAL = 'FILTER(isIRI(?e) && STRSTARTS(LCASE(STR(?e)), "file:"))'
#: In a text in lower case: an INSERT from a pattern (INSERT, then '{' or a comment), and a LOAD
#: (LOAD, SILENT perhaps, then an IRI, a prefixed name or a comment). Oxigraph reads keywords
#: without word boundaries (LOADSILENT, LOAD:x); a match inside a string only costs a look.
_INSERT_PATTERN = re.compile(r"insert\s*[{#]")
_LOAD = re.compile(r"load\s*(?:silent\s*)?(?:[<#]|[^\s:]*:)")


def may_add_local_entity(text: str) -> bool:
    """Whether the update ``text`` may make a local ``file:`` IRI an entity, read from the text alone.

    Only INSERT and LOAD add triples. INSERT DATA spells its IRIs out, so a file: IRI among them
    has the letters ``file:`` in the text (in the IRI, or in the BASE or PREFIX it resolves
    against) unless written with ``\\u`` escapes. An INSERT from a pattern or a LOAD may write any
    IRI. Three searches of the text (about 3 ms a megabyte; Oxigraph takes 35 or more to apply it).

    Examples
    --------
    >>> may_add_local_entity('INSERT DATA { mgid:x schema:name "X" }'), may_add_local_entity("DROP SILENT ALL")
    (False, False)
    >>> may_add_local_entity("INSERT { ?e a mg:Entity } WHERE { ?e a dcat:Dataset }")
    True
    >>> may_add_local_entity("INSERT DATA { <file:///etc/passwd> a mg:Entity }")
    True
    """
    low = text.lower()
    if "insert" not in low and "load" not in low:
        return False
    if "file:" in low or "\\u" in low:
        return True
    return bool(_INSERT_PATTERN.search(low) or _LOAD.search(low))


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
    if not may_add_local_entity(text):
        return
    query = f"SELECT DISTINCT ?e WHERE {{ {_TYPED} {_LOCAL} }}"
    found = {row[0].value for row in staged.query(query, use_default_graph_as_union=True)}
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
