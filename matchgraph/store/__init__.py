"""Where the catalog lives: store backends.

- :mod:`matchgraph.store.remote`: a catalog on an independent SPARQL 1.1 engine (Oxigraph server,
  Virtuoso, ``matchgraph serve``, any engine speaking the SPARQL 1.1 Protocol).

The embedded Oxigraph backend is in :mod:`matchgraph.catalog` for now.
"""

__all__: list[str] = []
