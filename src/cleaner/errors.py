"""Exception tree and its mapping to exit codes.

* CleanerError
  + InputError      one input cannot be processed: quarantined, the run goes on (exit 1)
  + UsageError      bad flag, bad config key, missing path: nothing is done (exit 2)
  + FatalError      cannot write outputs or state: stop cleanly (exit 3)
  + LockHeld        another run holds the state lock (exit 75)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_QUARANTINED = 1
EXIT_USAGE = 2
EXIT_FATAL = 3
EXIT_LOCKED = 75


class CleanerError(Exception):
    exit_code = EXIT_FATAL


class InputError(CleanerError):
    """Raised by a stage or a reader: the document is quarantined with this reason."""

    exit_code = EXIT_QUARANTINED

    def __init__(self, reason: str, stage: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stage = stage


class UsageError(CleanerError):
    exit_code = EXIT_USAGE


class FatalError(CleanerError):
    exit_code = EXIT_FATAL


class LockHeld(CleanerError):
    exit_code = EXIT_LOCKED
