"""The match graph: derived state with one owner (:mod:`.derived`) and pure reads over it.

- :mod:`.relations` the relation kinds, defined once;
- :mod:`.rows` bulk reads from the store; :mod:`.facts` what the catalog says, as keyed tables;
- :mod:`.projection` entities and typed, weighted edges, as arrays;
- :mod:`.weights`, :mod:`.scoring`, :mod:`.score_graph`, :mod:`.history`, :mod:`.scores` the scores:
  weights, computing, the score graph in the store, history, and reading them;
- :mod:`.neighbours_index`, :mod:`.neighbours` the neighbour index and lookups;
- :mod:`.derived` the owner: builds and keeps all of it per catalog version, updated from deltas;
- :mod:`.progress` progress on the terminal for builds.

Imports go one way, from the top of this list down; nothing here imports the CLI or the web.
"""
