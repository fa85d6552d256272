"""Collecting website activity: the tables behind visitors and companies, and `ingest`, which
stores a parsed batch and keeps their aggregates up to date (`hearth.tracking` is the pure
core; this is the imperative shell around it)."""
