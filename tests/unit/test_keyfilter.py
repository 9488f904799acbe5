"""The dedup index's key filter: never "absent" for a key it was given; a damaged file is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cleaner.state import keyfilter
from cleaner.state.keyfilter import KeyFilter


def test_no_key_it_holds_is_called_absent_and_few_others_are_called_present() -> None:
    rng = np.random.default_rng(3)
    keys = rng.integers(-(1 << 47), 1 << 47, size=200_000, dtype=np.int64)
    filt = KeyFilter.sized(keys.size)
    filt.add(keys[:100_000])
    filt.add(keys[100_000:])
    assert filt.may_hold(keys).all() and filt.keys == keys.size and not filt.full
    others = rng.integers(-(1 << 47), 1 << 47, size=200_000, dtype=np.int64)
    assert filt.may_hold(others).mean() < 0.08  # ~5% at 8 bits a key, two positions
    filt.add(others)
    assert filt.full  # twice the keys it was sized for: the index rebuilds it bigger


def test_saved_and_loaded_bit_for_bit_and_a_damaged_file_is_refused(tmp_path: Path) -> None:
    filt = KeyFilter.sized(1000)
    filt.add(np.arange(1000, dtype=np.int64) * 1_000_003)
    path = tmp_path / "f"
    keyfilter.save(path, filt, 5)
    generation, back = keyfilter.load(path)
    assert generation == 5 and back.log2 == filt.log2 and back.keys == 1000 and (back.words == filt.words).all()
    data = path.read_bytes()
    for bad in (data[:-8], data[:10], data[:-1] + bytes([data[-1] ^ 1])):
        path.write_bytes(bad)
        assert keyfilter.load(path) is None
    assert keyfilter.load(tmp_path / "missing") is None


def test_recovery_removes_a_filter_file_a_crash_left_unfinished(tmp_path: Path) -> None:
    from cleaner.recovery import recover
    from cleaner.state.ledger import Ledger

    ledger = Ledger(tmp_path / "state")
    done = tmp_path / "state" / f"ledger.sqlite{keyfilter.FILTER_SUFFIX}dedup_bands"
    keyfilter.save(done, KeyFilter.sized(10), 1)
    left = done.with_name(done.name + ".open")
    left.write_bytes(b"half a filter")
    notes = recover(ledger, tmp_path / "archive", tmp_path / "clean")
    ledger.close()
    assert not left.exists() and done.exists() and any("temporary" in n for n in notes)
