"""Per-document stages: pure functions, safe to run in worker processes. Order: decode, extract, repair, strip, convert, dedup."""
