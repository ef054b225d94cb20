"""Matching: rank entities for a need typed in plain words (text index, concepts, vectors) and record each match as evidence."""
