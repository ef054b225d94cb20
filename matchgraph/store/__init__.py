"""Where the catalog lives: store backends.

- :mod:`matchgraph.store.versions`: the embedded catalog's versions on disk (checkpoints, locks).
- :mod:`matchgraph.store.remote`: a catalog on an independent SPARQL 1.1 engine (Oxigraph server,
  Virtuoso, ``matchgraph serve``, any engine speaking the SPARQL 1.1 Protocol).

The embedded Oxigraph backend and :class:`~matchgraph.store.catalog.Catalog` are in :mod:`matchgraph.store.catalog`.
"""

__all__: list[str] = []
