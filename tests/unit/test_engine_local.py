import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from run_fixtures import clean_articles, ledger_outcomes, make_raw

from cleaner import runner, sources
from cleaner.checkpoint import PendingInput
from cleaner.config import Config
from cleaner.engines.local import LocalEngine, alarms, budget
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


def test_time_budget_inside_a_batch_of_alarms_still_fires_and_the_handler_comes_back() -> None:
    import signal

    before = signal.getsignal(signal.SIGALRM)
    with alarms(5):
        held = signal.getsignal(signal.SIGALRM)
        with budget(0.2, "fast.txt"):
            pass
        assert signal.getsignal(signal.SIGALRM) is held  # a block inside leaves the batch's handler
        with pytest.raises(InputError, match="timeout: slow.txt took longer than the 0.2s budget"):
            with budget(0.2, "slow.txt"):
                time.sleep(2)
        with budget(0.2, "next.txt"):  # the next document gets its own full budget
            time.sleep(0.05)
    assert signal.getsignal(signal.SIGALRM) is before


def test_memory_budget_makes_allocation_fail_instead_of_the_run() -> None:
    out = subprocess.run([sys.executable, "-c", LIMITED], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["limited", "restored"], out.stderr


def test_pool_keeps_input_order() -> None:
    with LocalEngine(2) as engine:
        assert list(engine.map(abs, range(-50, 0))) == list(range(50, 0, -1))


def _large(n: int) -> bytes:
    return bytes([n % 256]) * 700_000


@pytest.mark.skipif(not Path("/proc/sys/fs/pipe-max-size").exists(), reason="Linux pipe sizes")
def test_pool_pipes_carry_a_batch_in_one_round() -> None:
    """The task and result pipes hold a whole result message (~0.7 MB), not 64 KiB of it."""
    import fcntl

    want = min(1 << 20, int(Path("/proc/sys/fs/pipe-max-size").read_text()))
    with LocalEngine(2) as engine:
        pool = engine._pool
        ends = [e for q in (pool._inqueue, pool._outqueue) for e in (q._reader, q._writer)]
        assert all(fcntl.fcntl(e.fileno(), fcntl.F_GETPIPE_SZ) >= want for e in ends)
        assert [r[0] for r in engine.map(_large, range(6))] == list(range(6))


def test_a_pool_run_writes_what_one_process_writes(
    project: Path, cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many small chunks, several tasks each, prepared ahead of the parent: the pool's outputs and
    dedup decisions are those of the in-process run, whatever order the tasks finish in."""
    make_raw(project / "raw")
    monkeypatch.setenv("CLEANER_RUN_CHECKPOINT_DOCS", "7")
    monkeypatch.setattr(runner, "BATCH_DOCS", 2)
    results = {}
    for workers in ("1", "2"):
        out = project / f"w{workers}"
        code, _, err = cli("run", "--workers", workers, "--no-progress", "--clean", str(out / "clean"),
                           "--archive", str(out / "archive"), "--state", str(out / "state"))
        assert code == 0, err
        results[workers] = (clean_articles(out / "clean"), ledger_outcomes(out / "state"))
    assert results["2"] == results["1"]
    rows = results["1"][1]
    outcomes = [r[2] for r in rows]
    assert len(outcomes) == 55 and outcomes.count("duplicate") >= 15 and outcomes.count("clean") >= 20
    path_of = {r[0]: r[1] for r in rows}  # keep first: each copy points back to an earlier input
    assert all(path_of[r[3]] < r[1] for r in rows if r[2] == "duplicate")


def test_collector_threshold_is_raised_for_the_run_and_restored() -> None:
    import gc

    before = gc.get_threshold()
    with LocalEngine(1):
        assert gc.get_threshold()[0] >= 10_000
    assert gc.get_threshold() == before


def test_a_small_run_with_the_default_worker_count_stays_in_process(tmp_path: Path) -> None:
    """A pool and a full warm-up cost more than a second core gives back on a few small inputs;
    an explicit --workers N, a big input or many inputs get the pool as asked."""

    def todo(n: int, size: int) -> list[PendingInput]:
        return [PendingInput(sources.InputFile(str(tmp_path / f"{i}.txt"), f"{i}.txt", size, 0), "") for i in range(n)]

    default = Config()
    explicit = dataclasses.replace(default, run=dataclasses.replace(default.run, workers=2))
    ray = dataclasses.replace(default, run=dataclasses.replace(default.run, engine="ray"))
    assert runner._small_run(default, todo(5, 5000))
    assert runner._small_run(default, todo(5, 5000) + [PendingInput(sources.Rejected("x", "bad name"), "")])
    assert not runner._small_run(explicit, todo(5, 5000))
    assert not runner._small_run(ray, todo(5, 5000))
    assert not runner._small_run(default, todo(runner.SMALL_RUN_INPUTS + 1, 100))
    assert not runner._small_run(default, todo(1, runner.SMALL_RUN_BYTES + 1))  # one big WARC file
