"""A file read by slices, like bytes, without holding it in memory.

For a WARC or WACZ input over the size limit (a Common Crawl segment is ~1 GB, a Browsertrix
WACZ often several): its records are framed one at a time from slices read on demand, so the
limit bounds a record (or a gzip member's output), not the file. Reads are positional
(os.pread): no file position is shared, and no page of the file counts towards this
process's memory once its slice is gone.
"""

from __future__ import annotations

import io
import os
from pathlib import Path


class FileBytes:
    """The bytes of a file, read by `[start:stop]` slices (no steps); `open` gives a file object
    for libraries that want one (zipfile). Use it as a context manager to close the file."""

    def __init__(self, path: str | Path, start: int = 0, size: int | None = None) -> None:
        self.path = str(path)
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        self._start = start  # a window of the file (`window`): its bytes from here
        whole = os.fstat(self._fd).st_size
        self._size = max(0, min(whole - start, whole if size is None else size))

    def window(self, start: int, size: int) -> FileBytes:
        """The bytes [start, start + size) of this file as a FileBytes of their own (a stored
        entry of a ZIP); close it too."""
        return FileBytes(self.path, self._start + start, size)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, key: slice) -> bytes:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("FileBytes supports [start:stop] slices only")
        start, stop, _ = key.indices(self._size)
        if stop <= start:
            return b""
        parts: list[bytes] = []
        while start < stop:
            piece = os.pread(self._fd, stop - start, self._start + start)
            if not piece:  # the file shrank since it was opened
                break
            parts.append(piece)
            start += len(piece)
        return b"".join(parts)

    def open(self) -> io.BufferedReader:
        """The file as a file object (its own position), for a FileBytes of the whole file."""
        if self._start:
            raise ValueError("open() of a window: slice it instead")
        return open(self.path, "rb")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> FileBytes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
