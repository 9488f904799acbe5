"""One run at a time: an OS-level, non-blocking lock on the state folder.

The kernel drops the lock when the holder dies, so a crash never leaves a stale lock; the file's
content (pid, host, start time) is only there to name the holder in the message.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from cleaner.errors import LockHeld


class StateLock:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "cleaner.lock"
        self._fd: int | None = None

    def acquire(self) -> StateLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockHeld(f"another cleaner run {holder} holds {self.path}; nothing done") from None
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        os.write(fd, json.dumps(info).encode())
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StateLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        data = os.pread(fd, 4096, 0)
        info = json.loads(data or b"{}")
        return f"(pid {info.get('pid', '?')} on {info.get('host', '?')}, started {info.get('started', '?')})"
    except (OSError, ValueError):
        return "(pid unknown)"
