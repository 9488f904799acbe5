"""Dedup fingerprints, computed in the worker: exact hash, MinHash for LSH, and a bottom-k sketch.

Pure and deterministic across processes and runs (the index that consumes them persists):
every hash parameter is a fixed constant, `SCHEME` names them, and the index refuses to mix
fingerprints of another scheme.

Text model (works for every script without a word tokenizer library):
* NFKC (only texts with a character it changes) + lowercase, so NFD, NBSP, full-width and
  case variants read the same; BOM, punctuation and whitespace only separate tokens.
* Tokens: runs of word characters; every Han, kana, Thai, Lao, Khmer or Myanmar character is
  a token of its own (those scripts do not put spaces between words). Punctuation and
  whitespace only separate tokens.
* Shingles: `cfg.shingle_words`-grams of tokens, or `cfg.shingle_chars`-grams when most tokens
  are single unspaced-script characters.
* Content lines: a line whose token count is at least `content_ratio` x the longest line's (or
  `content_tokens`, whichever is smaller) is "content". Site templates are mostly short lines
  (menus, share buttons, teaser titles, cookie notices) around one long body; the verifier in
  `cleaner.state.dedup_index` asks that the *content* of the smaller document be contained in
  the other, so two short bodies in one long template do not match on the template.

* Head: the first shingles of the first sentence-long line (16-bit hashes): where the text
  proper starts. A text contained in another that starts where the other starts is its
  beginning (a truncated copy); the verifier then asks for less coverage of the larger one.
  The head's first HEAD_SIZE shingles are also a lookup key beside the LSH bands
  (`lookup_keys`): a copy cut to a third of its original has a Jaccard of about a third, and
  often not one band in common. The rest of the head samples how the next sentence-long lines
  start (`_head`): a teaser of a long article is too small a part of it for the article's
  sketch to say much, but its paragraphs start as the article's first ones do.

Everything per token runs in numpy over the UTF-32 code points (no Python loop per word):
token hashes are position-free polynomial hashes from one prefix sum, shingle hashes combine
token hashes, MinHash uses datasketch-style affine permutations mod 2^32.

Identity of short documents: below `cfg.min_content` content shingles the cleaned text is too
little to identify a page (a cookie line or a site header that strip left when it removed a
short body is shared by many different pages). Its exact hash also covers its *input* text
(the text before strip and convert, rebuilt by undoing their edits; the raw bytes when that
fails): two short pages are the same page only when what they were before cleaning is the
same too. For a near match it carries a bottom-k sample of the input's shingles (`source`):
the index matches it near only to another short document whose cleaned AND input texts are
copies of its own both ways (the same strip of one page's copies).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import xxhash

from cleaner.config import DedupConfig
from cleaner.document import Document, Edit

SCHEME = "cleaner-dedup-6"  # bump when any hash below changes: persisted indexes must be rebuilt (or migrated: DedupIndex)

_BASE = 0x100000001B3  # odd: invertible mod 2^64 (FNV prime)
_BASE_INV = pow(_BASE, -1, 1 << 64)
_GRAM_MULT = (  # odd 64-bit multipliers, one per position inside a shingle
    0x9E3779B97F4A7C15,
    0xC2B2AE3D27D4EB4F,
    0x165667B19E3779F9,
    0xD6E8FEB86659FD93,
    0xFF51AFD7ED558CCD,
    0xC4CEB9FE1A85EC53,
    0x94D049BB133111EB,
    0xBF58476D1CE4E5B9,
)
HEAD_SIZE = 4  # shingles that anchor where a document's text starts (see `_head`): its lookup key
PREFIX_SIZE = 32  # shingles of the text proper kept as its head (`_head`): how a teaser of a long text is verified
FIRST_LINE_SIZE = 16  # of them from the first sentence-long line,
_PREFIX_NEXT = 8  # and from the start of each next one
_HEAD_LINE_TOKENS = 8  # the anchor starts on the first line with this many tokens: a sentence, not a label
_DENSIFY_TRIES = 64  # borrow attempts for an empty MinHash bin before the rotation fallback

_SEP, _WORD, _CHAR, _UNSTABLE = 0, 1, 2, 4


def _const(value: int) -> np.ndarray:
    """A read-only 0-d uint64 array. The constants are made once, and as 0-d arrays rather than
    numpy scalars: an operation of an array with a numpy scalar converts the scalar on every
    call (~0.3-0.7 us more on the short arrays here, ~40 such operations a document)."""
    c = np.array(value, dtype=np.uint64)
    c.setflags(write=False)
    return c


_U1, _U27, _U30, _U31, _U33, _U48 = (_const(k) for k in (1, 27, 30, 31, 33, 48))
_MIX1, _MIX2 = _const(0xBF58476D1CE4E5B9), _const(0x94D049BB133111EB)
_GOLDEN = _const(0x9E3779B97F4A7C15)
_GRAM_MULT_U64 = tuple(_const(m) for m in _GRAM_MULT)
_GRAM_LEN_U64 = tuple(_const(n) for n in range(len(_GRAM_MULT) + 1))  # what `_shingles` adds for n
# scripts written without spaces: one token per character
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x31F0, 0x31FF),  # katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width katakana (NFKC folds most of them anyway)
)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What the parent needs to decide duplicates; small and picklable (~1.4 KB with its band keys, short ones +128 B)."""

    exact: bytes  # xxh3_128 of the normalised token sequence (16 bytes; the index keeps 8); + input text when short
    minhash: np.ndarray  # uint32 (num_perm,): MinHash over all shingles, for LSH bands
    sketch: np.ndarray  # uint32 sorted: bottom-k of 31-bit shingle hashes << 1 | content flag
    shingles: int  # distinct shingles (0: no words at all: never matched)
    length: int  # characters of the normalised text
    content: int  # distinct shingles that start on a content line
    head: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint16))  # 16-bit hashes of the PREFIX_SIZE shingles that start the text proper (`_head`)
    source: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))  # short documents only: bottom-k 31-bit hashes of the input text's shingles
    source_shingles: int = 0  # distinct shingles of the input text (0: no source sample)
    # lookup keys (`lookup_keys`: LSH band keys, then the head key): computed in the worker, so the single parent does not
    bands: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    lines: int = 0  # lines with words: one short line is too little to be another text's beginning (DedupIndex rule 3)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fingerprint):
            return NotImplemented
        return (
            self.exact == other.exact
            and self.shingles == other.shingles
            and self.length == other.length
            and self.content == other.content
            and np.array_equal(self.minhash, other.minhash)
            and np.array_equal(self.sketch, other.sketch)
            and np.array_equal(self.head, other.head)
            and self.source_shingles == other.source_shingles
            and np.array_equal(self.source, other.source)
            and np.array_equal(self.bands, other.bands)
            and self.lines == other.lines
        )

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        """Pickled as its scalars and each array's bytes: every clean document's fingerprint
        travels from a worker to the parent, and numpy's own pickling of five small arrays cost
        30 us to write and 15 us to read, most of a document's result message."""
        arrays = tuple((a.dtype.str, a.tobytes()) for a in (self.minhash, self.sketch, self.head, self.source, self.bands))
        return _fingerprint, (self.exact, self.shingles, self.length, self.content, self.source_shingles, arrays, self.lines)


def _fingerprint(
    exact: bytes, shingles: int, length: int, content: int, source_shingles: int, arrays: tuple[tuple[str, bytes], ...],
    lines: int,
) -> Fingerprint:
    """A pickled Fingerprint back (`Fingerprint.__reduce__`); its arrays are read-only views of
    the pickled bytes, as nothing changes a fingerprint after it is made."""
    minhash, sketch, head, source, bands = (np.frombuffer(data, dtype=np.dtype(kind)) for kind, data in arrays)
    return Fingerprint(exact, minhash, sketch, shingles, length, content, head, source, source_shingles, bands, lines)


def mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads polynomial/linear hashes over all 64 bits.

    uint64 arrays (wrapping arithmetic, so no overflow warning); the input is not modified,
    the steps after the first work in place on the new array (fewer temporaries).
    """
    h = h ^ (h >> _U30)
    if not isinstance(h, np.ndarray):  # a numpy scalar: immutable, plain expressions
        h = h * _MIX1
        h = h ^ (h >> _U27)
        h = h * _MIX2
        return h ^ (h >> _U31)
    h *= _MIX1
    h ^= h >> _U27
    h *= _MIX2
    h ^= h >> _U31
    return h


@lru_cache(maxsize=8)
def _densify_order(num_perm: int) -> np.ndarray:
    """For each bin, the fixed pseudo-random sequence of bins an empty bin borrows from.

    "Optimal densification" (Shrivastava 2017): the sequence depends on the bin only, so two
    documents with the same non-empty bins fill their empty bins identically.
    """
    bins = np.arange(num_perm, dtype=np.uint64)[:, None]
    tries = np.arange(1, _DENSIFY_TRIES + 1, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        seq = mix64(bins * np.uint64(0x9E3779B97F4A7C15) + tries * np.uint64(0xD6E8FEB86659FD93))
    order = (seq % np.uint64(num_perm)).astype(np.intp)
    order.setflags(write=False)
    return order


@lru_cache(maxsize=1)
def _char_tables() -> tuple[np.ndarray, np.ndarray]:
    """Per BMP code point: token class, and simple lowercase (+1 slot for all astral ones).

    Built once per process (~50 ms). Lowercasing by table is casefold minus the rare
    multi-character folds (German sharp s) at a quarter of the cost. Class bit `_UNSTABLE`
    marks word characters and combining marks that NFKC may change (full-width letters,
    ligatures, decomposed accents): only texts containing one are normalised.
    """
    chars = [chr(c) for c in range(0x10000)]
    table = np.fromiter((_WORD if ch.isalnum() else _SEP for ch in chars), dtype=np.uint8, count=0x10000)
    for lo, hi in _UNSPACED:
        span = table[lo : hi + 1]
        span[span == _WORD] = _CHAR
    # combining marks inside words (Devanagari vowel signs, etc.) belong to the word
    marks = np.fromiter((unicodedata.category(ch)[0] == "M" for ch in chars), dtype=bool, count=0x10000)
    table[marks] = _WORD
    unstable = marks | np.fromiter(
        (ch.isalnum() and not unicodedata.is_normalized("NFKC", ch) for ch in chars), dtype=bool, count=0x10000
    )
    table[unstable] |= _UNSTABLE
    lower = np.fromiter(
        (ord(low) if len(low := ch.lower()) == 1 else ord(ch) for ch in chars), dtype=np.uint32, count=0x10000
    )
    table = np.append(table, np.uint8(_WORD))  # astral: CJK ext. B.., historic scripts, emoji
    lower = np.append(lower, np.uint32(0x10000))
    table.setflags(write=False)
    lower.setflags(write=False)
    return table, lower


@lru_cache(maxsize=1)
def _powers() -> tuple[np.ndarray, np.ndarray]:
    """BASE^i and BASE^-i mod 2^64 for texts up to 64 Ki code points (longer ones extend)."""
    return _power_table(_BASE, 1 << 16), _power_table(_BASE_INV, 1 << 16)


def _power_table(base: int, n: int) -> np.ndarray:
    t = np.full(n, base, dtype=np.uint64)
    t[0] = 1
    with np.errstate(over="ignore"):
        np.cumprod(t, out=t)
    t.setflags(write=False)
    return t


def _codepoints(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Lowercased code points and their token classes, NFKC-normalised when it matters."""
    classes, lower = _char_tables()
    try:
        raw = text.encode("utf-16-le")  # a third of utf-32's cost; code units = code points ...
    except UnicodeEncodeError:  # a lone surrogate: let the general path raise its error
        raw = b""
    if len(raw) == 2 * len(text) and raw:  # ... when nothing is astral (no surrogate pairs)
        units = np.frombuffer(raw, dtype=np.uint16)
        cls = classes.take(units)
        if cls.max() < _UNSTABLE:
            return lower.take(units), cls
    return _codepoints_any(text)


def _codepoints_any(text: str) -> tuple[np.ndarray, np.ndarray]:
    """`_codepoints` for any text: astral characters, NFKC, the empty text."""
    classes, lower = _char_tables()
    cp = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    bmp = np.minimum(cp, 0x10000)
    cls = classes.take(bmp)
    if cls.size and cls.max() >= _UNSTABLE:
        cp = np.frombuffer(unicodedata.normalize("NFKC", text).encode("utf-32-le"), dtype=np.uint32)
        bmp = np.minimum(cp, 0x10000)
        cls = classes.take(bmp) & np.uint8(_UNSTABLE - 1)
    low = lower.take(bmp)
    if cls.size and bmp.max() == 0x10000:
        astral = cp > 0xFFFF
        low[astral] = cp[astral]
    return low, cls


def _token_bounds(cls: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each token in a class array, and whether it is an
    unspaced-script character. Without such characters (most texts) the tokens are the runs of
    word characters: four array operations instead of the eleven of the general case."""
    n = cls.size
    if cls.max() <= _WORD:
        padded = np.zeros(n + 2, dtype=np.uint8)  # 0 ... 0: every run starts and ends inside
        padded[1:-1] = cls
        bounds = (padded[1:] != padded[:-1]).nonzero()[0]  # start, end, start, end, ...
        return bounds[0::2], bounds[1::2], np.zeros(bounds.size // 2, dtype=bool)
    return _token_bounds_any(cls)


def _token_bounds_any(cls: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_token_bounds` for any classes: every unspaced-script character is a token of its own."""
    word = cls != _SEP
    single = cls == _CHAR
    edge = np.empty(cls.size + 1, dtype=bool)  # edge[i]: class changes between i-1 and i
    edge[0] = edge[-1] = True
    np.not_equal(cls[1:], cls[:-1], out=edge[1:-1])
    starts = (word & (edge[:-1] | single)).nonzero()[0]
    ends = (word & (edge[1:] | single)).nonzero()[0]
    ends += 1
    return starts, ends, single[starts]


def _tokens(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Token hashes (uint64), their line numbers, whether each is an unspaced-script char,
    and the normalised length."""
    cp, cls = _codepoints(text)
    n = cp.size
    if n == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.intp), np.zeros(0, dtype=bool), 0
    starts, ends, singles = _token_bounds(cls)
    pw, inv = _powers()
    if n > pw.size:
        pw, inv = _power_table(_BASE, n), _power_table(_BASE_INV, n)
    # uint64 arrays wrap silently: no errstate needed (only numpy scalars warn on overflow)
    prefix = np.empty(n + 1, dtype=np.uint64)
    prefix[0] = 0
    np.multiply(cp, pw[:n], out=prefix[1:])
    np.cumsum(prefix[1:], out=prefix[1:])
    # position-free polynomial hash of each token: (P[end] - P[start]) * BASE^-start
    h = prefix[ends]
    h -= prefix[starts]
    h *= inv[starts]
    length = ends - starts  # non-negative intp: where it is 64 bits, they are the uint64 value
    length = length.view(np.uint64) if length.itemsize == 8 else length.astype(np.uint64)
    length *= _GOLDEN
    h ^= length
    h = mix64(h)
    newlines = (cp == 0x0A).nonzero()[0]  # CRLF ends in \n too; a lone \r only separates
    lines = newlines.searchsorted(starts)
    return h, lines, singles, n


def _shingles(tok: np.ndarray, n: int) -> np.ndarray:
    """n-gram hashes (uint64); a text shorter than n tokens is one shingle."""
    n = max(1, min(n, tok.size, len(_GRAM_MULT)))
    m = tok.size - n + 1
    acc = tok[:m] * _GRAM_MULT_U64[0]
    for j in range(1, n):
        acc += tok[j : j + m] * _GRAM_MULT_U64[j]
    acc += _GRAM_LEN_U64[n]
    return mix64(acc)


def _content_flags(
    lines: np.ndarray, m: int, ratio: float, cap: int, counts: np.ndarray | None = None
) -> np.ndarray:
    """For each of the first m tokens: does it sit on a content line (long relative to the doc)?

    `counts`: np.bincount(lines) when the caller has it already.
    """
    if counts is None:
        counts = np.bincount(lines)
    need = max(1.0, min(ratio * float(counts.max()), float(cap)))
    return (counts >= need)[lines[:m]]


def _head(sh: np.ndarray, lines: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Where the text proper starts, and how its first paragraphs start: the first
    `FIRST_LINE_SIZE` shingles of its first sentence-long line, then the first `_PREFIX_NEXT` of
    each next sentence-long line, PREFIX_SIZE in all. The first HEAD_SIZE are the anchor
    (`same_start`, `head_key`); the rest tell a teaser (the first paragraphs of an article,
    each starting where the article's do) from a text that shares only the lead paragraph.

    An absolute length (not the content ratio, which depends on the longest line) keeps the
    anchor where it is when the end of the text is cut: a truncated copy has its original's
    head, while a block that many pages share (an "About us" paragraph, teaser lines after the
    body) rarely sits where another page starts.
    """
    if counts is None:
        counts = np.bincount(lines)
    long_lines = (counts >= _HEAD_LINE_TOKENS).nonzero()[0][: 1 + (PREFIX_SIZE - FIRST_LINE_SIZE) // _PREFIX_NEXT]
    starts = lines.searchsorted(long_lines).tolist() if long_lines.size else [0]
    starts[0] = min(starts[0], max(sh.size - HEAD_SIZE, 0))
    ends = [*starts[1:], sh.size]
    sizes = [FIRST_LINE_SIZE] + [_PREFIX_NEXT] * (len(starts) - 1)
    picked = [np.arange(s, min(s + k, e, sh.size)) for s, k, e in zip(starts, sizes, ends)]
    return (sh[np.concatenate(picked)] >> _U48).astype(np.uint16)  # 16 bits: an anchor, not an identity


def band_keys(minhash: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 31-bit key per band, band number mixed in: SQLite stores it in 4 bytes (48 bits took
    6, and 64 bits 8): the band rows are half of the index's bytes.

    A chance collision only adds a candidate that verification then rejects (the prefilter on
    shared sketch hashes drops it before `similarity`): each of a query's keys meets one of the
    bands x N keys of N documents with probability bands x N / 2^31, so ~0.6 extra candidates
    per query at 1M documents, ~6 at 10M, each one more row read.
    """
    m = minhash[: bands * rows].astype(np.uint64).reshape(bands, rows).T  # row j: m[j]
    acc = _band_seeds(bands)
    for j in range(rows):
        acc = mix64(acc ^ m[j])
    return (acc >> _U33).astype(np.int64)


_HEAD_SEED = _const(0x2545F4914F6CDD1D)  # the head key's own seed (band b mixes b x golden first)


def head_key(head: np.ndarray) -> np.ndarray:
    """The head's lookup key (one 31-bit value, as `band_keys` makes them): where the text
    proper starts. A truncated copy shares few bands with its original (its Jaccard is about
    its share of the original's length) but starts with the same shingles."""
    return head_keys([head.astype("<u2").tobytes()])  # (head_keys reads the anchor alone)


def head_keys(heads: list[bytes]) -> np.ndarray:
    """`head_key` of each head given as the bytes the index stores (little-endian uint16; the
    first HEAD_SIZE values count, so heads stored before PREFIX_SIZE existed give the same keys)."""
    size = 2 * HEAD_SIZE  # bytes of the anchor: the key reads nothing after it
    packed = np.frombuffer(b"".join(h.ljust(size, b"\0")[:size] for h in heads), dtype="<u8")
    return (mix64(packed ^ _HEAD_SEED) >> _U33).astype(np.int64)


def lookup_keys(minhash: np.ndarray, head: np.ndarray, cfg: DedupConfig) -> np.ndarray:
    """The keys the index lists a document under: its `cfg.bands` LSH band keys, then its head key."""
    return np.concatenate((band_keys(minhash, cfg.bands, cfg.rows), head_key(head)))


@lru_cache(maxsize=8)
def _band_seeds(bands: int) -> np.ndarray:
    """Band number x golden ratio: what `band_keys` mixes first (read only, shared)."""
    seeds = np.arange(bands, dtype=np.uint64) * _GOLDEN
    seeds.setflags(write=False)
    return seeds


def one_permutation_minhash(h31: np.ndarray, num_perm: int) -> np.ndarray:
    """MinHash by one permutation hashing with optimal densification, from sorted distinct hashes.

    The 31-bit hash range is cut into `num_perm` equal bins; a bin's value is the smallest hash
    falling in it (sorted input: the first one, found by binary search). Bins left empty (short
    texts) borrow a filled bin's value along `_densify_order`. Collision probability per bin
    approximates the Jaccard similarity like num_perm independent permutations, at the cost of
    one sort instead of num_perm x shingles multiplications (Li et al. 2012).
    """
    out = np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32)
    if h31.size == 0:
        return out
    pos = h31.searchsorted(_bin_edges(num_perm))
    filled = pos[1:] > pos[:-1]
    out[filled] = h31[pos[:-1][filled]]
    empty = (~filled).nonzero()[0]
    if empty.size:
        order = _densify_order(num_perm)[empty]  # (empty, tries)
        ok = filled[order]
        first = ok.argmax(axis=1)
        found = ok[np.arange(empty.size), first]
        src = order[np.arange(empty.size), first]
        out[empty[found]] = out[src[found]]
        full = filled.nonzero()[0]
        for e in empty[~found]:  # rotation fallback: the next filled bin to the right
            out[e] = out[full[np.searchsorted(full, e) % full.size]]
    return out


@lru_cache(maxsize=8)
def _bin_edges(num_perm: int) -> np.ndarray:
    """The bounds of `one_permutation_minhash`'s bins over the 31-bit range (read only)."""
    edges = (np.arange(num_perm + 1, dtype=np.uint64) << _U31) // np.uint64(num_perm)
    edges.setflags(write=False)
    return edges


def fingerprint_text(text: str, cfg: DedupConfig, source: str | bytes | None = None) -> Fingerprint:
    """Fingerprint of one text; the same text gives the same bytes in any process, any run.

    `source` is what the text was before cleaning (see the module docstring): it only enters
    the exact hash of a document with fewer than `cfg.min_content` content shingles.
    """
    tok, lines, single, length = _tokens(text)
    exact = xxhash.xxh3_128_digest(tok.tobytes())
    if tok.size == 0:
        none = np.zeros(0, dtype=np.uint32)
        return Fingerprint(exact, one_permutation_minhash(none, cfg.num_perm), none, 0, length, 0)
    n = _gram(single, cfg)
    sh = _shingles(tok, n)
    counts = np.bincount(lines)
    flag = _content_flags(lines, sh.size, cfg.content_ratio, cfg.content_tokens, counts)
    # 31-bit hash << 1 | (1 - content): sorting puts the content occurrence of a hash first
    key = sh >> _U33
    key <<= _U1
    key |= ~flag
    key.sort()
    h31 = key >> _U1
    first = np.empty(key.size, dtype=bool)
    first[0] = True
    np.not_equal(h31[1:], h31[:-1], out=first[1:])
    distinct = key[first]
    # stored form: low bit 1 = the shingle starts on a content line
    sketch = (distinct[: cfg.sketch_size] ^ _U1).astype(np.uint32)
    minhash = one_permutation_minhash(h31[first], cfg.num_perm)
    content = int(distinct.size - np.count_nonzero(distinct & _U1))
    src, n_src = np.zeros(0, dtype=np.uint32), 0
    if content < cfg.min_content and source is not None:
        if isinstance(source, bytes):
            exact = xxhash.xxh3_128_digest(exact + b"raw:" + xxhash.xxh3_128_digest(source))
        else:
            src_tok = _tokens(source)[0]
            exact = xxhash.xxh3_128_digest(exact + b"text:" + xxhash.xxh3_128_digest(src_tok.tobytes()))
            if cfg.short_sketch > 0 and distinct.size >= cfg.min_shingles:
                src, n_src = _source_sample(src_tok, n, cfg.short_sketch)
    head = _head(sh, lines, counts)
    keys = lookup_keys(minhash, head, cfg) if cfg.bands * cfg.rows <= cfg.num_perm else np.zeros(0, np.int64)
    n_lines = int(np.count_nonzero(counts))
    return Fingerprint(exact, minhash, sketch, int(distinct.size), length, content, head, src, n_src, keys, n_lines)


def shingle_set(text: str, cfg: DedupConfig) -> np.ndarray:
    """All distinct shingle hashes of `text` (31-bit, as the sketch holds them): the exact
    sets whose overlap a fingerprint's sample estimates, for evaluation and explanations."""
    tok, _, single, _ = _tokens(text)
    if tok.size == 0:
        return np.zeros(0, dtype=np.uint64)
    return np.unique(_shingles(tok, _gram(single, cfg)) >> _U33)


def exact_overlap(a: str, b: str, cfg: DedupConfig) -> tuple[float, float]:
    """(containment of the smaller text's shingles in the other's, Jaccard), exactly: what the
    index estimates from samples (over all shingles, where its rules weigh content lines)."""
    return set_overlap(shingle_set(a, cfg), shingle_set(b, cfg))


def set_overlap(sa: np.ndarray, sb: np.ndarray) -> tuple[float, float]:
    """`exact_overlap` of two `shingle_set`s already at hand."""
    if not (sa.size and sb.size):
        return 0.0, 0.0
    shared = np.intersect1d(sa, sb, assume_unique=True).size
    return shared / min(sa.size, sb.size), shared / (sa.size + sb.size - shared)


def _gram(single: np.ndarray, cfg: DedupConfig) -> int:
    """Tokens per shingle: characters where most tokens are unspaced-script characters, else words."""
    return cfg.shingle_chars if 2 * int(np.count_nonzero(single)) > single.size else cfg.shingle_words


def _source_sample(tok: np.ndarray, n: int, k: int) -> tuple[np.ndarray, int]:
    """Bottom-k of the input text's shingles (sketch layout) and its distinct shingle count.

    Lets a short document match near (see `cleaner.state.dedup_index`) only when what it was
    before cleaning is a near copy too, not merely its remnant (a shared header or teaser).
    """
    if tok.size == 0:
        return np.zeros(0, dtype=np.uint32), 0
    h31 = np.unique(_shingles(tok, n) >> _U33)
    return ((h31[:k] << _U1) | _U1).astype(np.uint32), int(h31.size)  # sketch layout, all content


def undo(text: str, edits: list[Edit], stages: tuple[str, ...]) -> str | None:
    """The text before the named stages, by undoing their edits newest first; None if the log does not fit."""
    for e in reversed(edits):
        if e.stage not in stages:
            continue
        end = e.start + len(e.after)
        if text[e.start : end] != e.after:
            return None
        text = text[: e.start] + e.before + text[end:]
    return text


def fingerprint(doc: Document, cfg: DedupConfig) -> Document:
    """Worker-side dedup stage: sets doc.fingerprint; the parent decides with DedupIndex."""
    fp = fingerprint_text(doc.text, cfg)
    if fp.content < cfg.min_content and fp.shingles:  # short: identity needs the input too (rare, cheap)
        source: str | bytes | None = undo(doc.text, doc.edits, ("strip", "convert"))
        fp = fingerprint_text(doc.text, cfg, doc.raw if source is None else source)
    doc.fingerprint = fp
    return doc


def order_key(doc: Document) -> int:
    """Sort key for keep="longest": longest first; a stable sort keeps arrival order on ties.

    `cleaner.longest_first` hands a run's documents to the writer in this order, so of the
    copies a run brings the longest is kept. A copy kept in an earlier run stays kept: its
    outputs are already written (an archived document is never un-archived).
    """
    fp = doc.fingerprint
    return -(fp.length if isinstance(fp, Fingerprint) else len(doc.text))
