"""The relation kinds of the match graph, defined once for every module that names them."""

from __future__ import annotations

__all__ = ["RELATION_KINDS", "SYMMETRIC", "LINEAGE_RELATIONS", "INTEGRATION_RELATIONS", "STATED_RELATIONS",
           "NOT_LINKS", "MATCH_TOP"]

#: Every edge relation of the projection, in a fixed order (edge arrays store the index).
RELATION_KINDS: tuple[str, ...] = (
    "alternative", "shared-concept", "derivedFrom", "trainedOn", "subsetOf", "integratesWith",
    "supportsFormat", "evaluatedOn", "supersededBy", "co-matched",
)
#: Relations without a direction (stored both ways).
SYMMETRIC: frozenset[str] = frozenset({"shared-concept", "co-matched"})
#: Lineage relations: the subject was made from the object.
LINEAGE_RELATIONS: tuple[str, ...] = ("derivedFrom", "trainedOn", "subsetOf")
#: Integration relations: the subject works with the object.
INTEGRATION_RELATIONS: tuple[str, ...] = ("integratesWith", "supportsFormat")
#: Relations stated between entities in the sources (mg: properties of the same name).
STATED_RELATIONS: tuple[str, ...] = (*LINEAGE_RELATIONS, *INTEGRATION_RELATIONS, "evaluatedOn", "supersededBy")
#: Relations that are not links an entity makes or receives (similarity and co-occurrence).
NOT_LINKS: frozenset[str] = frozenset({"shared-concept", "co-matched"})
#: Match results at this position or better count as matched (times matched, co-matched edges).
MATCH_TOP = 10
