"""Outputs: clean/ corpus shards and the archive/ WARC files."""
