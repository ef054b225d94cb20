"""Everything that turns files into catalog data, one module per format and one per step.

- Readers: :mod:`.cards` (entity cards), :mod:`.page` (comparison pages), :mod:`.rdf` (RDF syntaxes,
  streamed into the store), :mod:`.croissant`, :mod:`.hf` (Hugging Face Hub answers), :mod:`.mteb`;
  all of them read through :mod:`.safe_load` (limits: sizes, depth, aliases, XML entities).
- :mod:`.records` (what the readers produce), :mod:`.linking` (names to entity IRIs),
  :mod:`.build` (records to triples), :mod:`.merge` (cross-source linking for imports).
- :mod:`.ingest` writes sources into a catalog version (staged, checked, published atomically);
  :mod:`.importers` runs the import commands through it; :mod:`.sniff` tells ingest which reader a
  JSON file needs (apart, so that ingest and importers do not import each other).
"""
