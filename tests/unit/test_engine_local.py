import subprocess
import sys
import time

import pytest

from cleaner.engines.local import LocalEngine, budget
from cleaner.errors import InputError

LIMITED = """
from cleaner.engines.local import LocalEngine
with LocalEngine(1, memory_mb=200):
    try:
        block = bytearray(1_500_000_000)
        print("not limited")
    except MemoryError:
        print("limited")
big = bytearray(1_500_000_000)  # the limit ends with the run
print("restored")
"""


def test_time_budget_turns_an_overrun_into_an_input_error() -> None:
    with pytest.raises(InputError, match="timeout: slow.txt took longer than the 0.2s budget"):
        with budget(0.2, "slow.txt"):
            time.sleep(2)


def test_memory_budget_makes_allocation_fail_instead_of_the_run() -> None:
    out = subprocess.run([sys.executable, "-c", LIMITED], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["limited", "restored"], out.stderr


def test_pool_keeps_input_order() -> None:
    with LocalEngine(2) as engine:
        assert list(engine.map(abs, range(-50, 0))) == list(range(50, 0, -1))
