"""cleaner: turns messy web scrapes into a clean, deduplicated corpus and a lossless WARC archive."""

from __future__ import annotations

__version__ = "0.1.0"
