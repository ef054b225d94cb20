"""Readers of input formats, and the safe loaders every reader goes through (:mod:`.safe_load`)."""
