"""What people see in a browser: the pages of the server and the static site.

Modules
-------
browse
    The catalog list: facets with counts, sort, paging and a name search over a per-version index.
graphview
    Readable graph views: the part of the match graph worth drawing (by edge weight and rank).
linked
    Entity descriptions as Turtle, JSON-LD or N-Triples (content negotiation).
"""
