import subprocess
import sys
from pathlib import Path

import pytest

from cleaner.errors import LockHeld
from cleaner.state.lock import StateLock

HOLD = """
import sys, time
from pathlib import Path
from cleaner.state.lock import StateLock
with StateLock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(30)
"""


def test_second_holder_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld, match=f"pid {proc.pid}"):
            StateLock(tmp_path).acquire()
    finally:
        proc.kill()
        proc.wait()
    # the kernel released the dead holder's lock: no stale lock
    with StateLock(tmp_path):
        pass
