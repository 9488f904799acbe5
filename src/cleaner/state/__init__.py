"""Persistent state in the state folder: ledger (SQLite), lock, dedup index, template statistics."""
