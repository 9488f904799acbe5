"""Fingerprint shortcuts (UTF-16 code points, in-place mixing, cached tables) change no bit."""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import pytest

from cleaner.stages.dedup import (
    _bin_edges,
    _codepoints,
    _codepoints_any,
    band_keys,
    mix64,
    one_permutation_minhash,
)


def _mix64_reference(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain ASCII text, with\nlines",
        "Größe “quoted” — dash",
        "數據顯示 開源模型 正在迅速追趕",
        "full-width ＡＢＣ and ligature ﬁ and e\u0301",  # NFKC path
        "emoji 😀 and ext-B 𠀀 here",  # astral: UTF-32 path
        "ΟΔΟΣ İstanbul ß",
        "\ufeffBOM and nbsp\xa0here",
    ],
)
def test_codepoints_fast_path_is_the_general_one(text: str) -> None:
    fast, general = _codepoints(text), _codepoints_any(text)
    for a, b in zip(fast, general):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_codepoints_random_bmp_texts() -> None:
    rng = random.Random(9)
    alphabet = [chr(c) for c in range(0x20, 0x2500)] + [chr(c) for c in range(0x3000, 0x3100)] + ["\n", "\t"]
    alphabet = [c for c in alphabet if unicodedata.category(c) != "Cs"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 200)))
        for a, b in zip(_codepoints(text), _codepoints_any(text)):
            assert a.dtype == b.dtype and np.array_equal(a, b)


def test_lone_surrogate_fails_as_before() -> None:
    with pytest.raises(UnicodeEncodeError):
        _codepoints("bad \ud800 text")


def test_mix64_matches_reference_and_keeps_its_input() -> None:
    rng = np.random.default_rng(1)
    h = rng.integers(0, 2**63, size=257, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    copy = h.copy()
    assert np.array_equal(mix64(h), _mix64_reference(h))
    assert np.array_equal(h, copy)
    with np.errstate(over="ignore"):
        assert mix64(np.uint64(12345)) == _mix64_reference(np.uint64(12345))


def test_band_keys_match_reference_and_keep_tables() -> None:
    rng = np.random.default_rng(2)
    for bands, rows in ((36, 3), (14, 8), (5, 1), (4, 0)):
        mh = rng.integers(0, 2**32, size=max(bands * rows, 1) + 3, dtype=np.uint64).astype(np.uint32)
        m = mh[: bands * rows].astype(np.uint64).reshape(bands, rows)
        acc = np.arange(bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        for j in range(rows):
            acc = _mix64_reference(acc ^ m[:, j])
        want = (acc >> np.uint64(33)).astype(np.int64)  # 31 bits: 4 bytes in SQLite
        assert np.array_equal(band_keys(mh, bands, rows), want)
        assert want.size == 0 or int(want.max()) < 2**31
        assert np.array_equal(band_keys(mh, bands, rows), want)  # the cached seeds stay as they were


def test_minhash_bin_edges_are_fixed() -> None:
    for num_perm in (108, 112, 7):
        want = (np.arange(num_perm + 1, dtype=np.uint64) << np.uint64(31)) // np.uint64(num_perm)
        assert np.array_equal(_bin_edges(num_perm), want)
        assert not _bin_edges(num_perm).flags.writeable
    h31 = np.unique(np.random.default_rng(3).integers(0, 2**31, size=500, dtype=np.uint64))
    assert one_permutation_minhash(h31, 108).shape == (108,)
