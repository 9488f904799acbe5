"""GBK damage: UTF-8 read as GBK (mojibake), and sample-002 byte damage (annotations spliced into GBK bytes).

Both are undone at the byte level: characters are encoded back to the GBK bytes the faulty
decoder read, regrouped, and decoded again. A result is accepted only when it decodes
strictly and consists of common characters (GB2312 or Big5); where the bytes do not make the
original certain, the span is marked, not guessed.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

from cleaner.document import Edit, Rewriter
from cleaner.language import HAN, opencc_converter

STAGE = "repair"

# A run of non-ASCII characters, the only place GBK mojibake can be.
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]{3,}")
# Two or more complete UTF-8 multibyte sequences in the GBK bytes of a run.
_UTF8_SEQ = re.compile(
    rb"(?:[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}){2,}"
)

# Cheap whole-text test: two 3-byte UTF-8 sequences (CJK) in a row among the GBK bytes.
_TWO_CJK_IN_UTF8 = re.compile(rb"(?:[\xe0-\xef][\x80-\xbf]{2}){2}")

TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
SYLLABLE = rf"[a-zü{TONED}]{{1,7}}"
_HAN = r"\u4e00-\u9fff"
# `X?pinyin)`: the `?` swallowed a byte and the `(` of an annotation (straddle or misread run).
_ANNOTATION_AFTER_Q = re.compile(rf"\?({SYLLABLE})\)")
_STRADDLE = re.compile(rf"[{_HAN}](?=\?{SYLLABLE}\))")
# `?!` before a misread run: a stray byte in front of 。 (A1 A3) pushed the decoder out of step.
_STRAY_BEFORE_STOP = re.compile(rf"\?[!！](?=[{_HAN}\uff01-\uff5e])")
# `?!?/span>`: 。」</span> read one byte out of step; the last `?` swallowed the tag's `<`.
_STOP_QUOTE_TAG = re.compile(r"\?[!！]\?/(?:span|strong|em|b|i|a|font|u|p|div)>")
_DAMAGE_HINT = re.compile(rf"\?(?:[!！]|{SYLLABLE}\))")
_LEFTOVER = re.compile(rf"[{_HAN}]\?{SYLLABLE}\)|\?[!！](?=\?|[{_HAN}]{{1,12}}\?)")

_OPENING = set("「『“‘《〈（【〔")
_MAX_RUN = 40  # characters a misread run may last before it must realign


# --- character classes -------------------------------------------------------------------


@lru_cache(maxsize=65536)
def is_common(ch: str) -> bool:
    """In GB2312 or Big5: the characters real Chinese text is made of (mojibake often is not)."""
    if ch < "\x80":
        return ch.isprintable() or ch in "\t\n"
    for codec in ("gb2312", "big5"):
        try:
            ch.encode(codec)
            return True
        except UnicodeEncodeError:
            pass
    return False


@lru_cache(maxsize=65536)
def is_frequent(ch: str) -> bool:
    """GB2312 level 1 (the 3755 most used characters), after t2s for traditional ones."""
    simple = opencc_converter("t2s").convert(ch)
    try:
        b = simple.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and (0xB0 <= b[0] <= 0xD7 or b[0] <= 0xA9)


def _gbk(ch: str) -> bytes | None:
    try:
        return ch.encode("gbk")
    except UnicodeEncodeError:
        return None


@lru_cache(maxsize=1)
def pinyin_table() -> Mapping[int, str]:
    """pypinyin's single-character readings ({code point: "líng,yuán"}), read straight from
    its data file: importing pypinyin also parses its phrase dictionary (0.2 s of start-up
    and tens of MB), which cleaner never uses. Falls back to the import if the file moved."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is not None and spec.origin:
        path = Path(spec.origin).with_name("pinyin_dict.json")
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            return {int(k): v for k, v in data.items()}
    from pypinyin.constants import PINYIN_DICT  # pragma: no cover - another pypinyin layout

    return PINYIN_DICT  # type: ignore[no-any-return]  # pragma: no cover


@lru_cache(maxsize=4096)
def readings(ch: str) -> tuple[str, ...]:
    return tuple(pinyin_table().get(ord(ch), "").split(","))


def _plausible(decoded: str) -> bool:
    return bool(decoded) and all(is_common(c) for c in decoded)


# --- UTF-8 read as GBK ---------------------------------------------------------------------


def _char_offsets(run: str) -> list[int]:
    """Byte offset of each character's GBK encoding within the run, plus the end."""
    offs = [0]
    for ch in run:
        b = _gbk(ch)
        offs.append(offs[-1] + (len(b) if b is not None else 1))
    return offs


def _mojibake_spans(run: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, repaired) character spans of `run` whose GBK bytes are UTF-8 text."""
    raw = run.encode("gbk", errors="replace")
    if not _UTF8_SEQ.search(raw):
        return
    offs = _char_offsets(run)
    index = {b: i for i, b in enumerate(offs)}
    for m in _UTF8_SEQ.finditer(raw):
        start = m.start()
        while start < m.end() and (start not in index or raw[start] < 0xC2 or raw[start] > 0xF4):
            start += 1
        end = m.end()
        if end not in index and end + 1 in index and raw[end] < 0x80:
            end += 1  # an odd byte count: the decoder paired the last byte with an ASCII one
        while end > start and end not in index:
            end -= 1
        if start not in index or end - start < 6:
            continue
        try:
            fixed = raw[start:end].decode("utf-8")
        except UnicodeDecodeError:
            continue
        i, j = index[start], index[end]
        if _accept_mojibake(run[i:j], fixed):
            yield i, j, fixed


def _accept_mojibake(before: str, fixed: str) -> bool:
    """Clean Chinese must never be 'repaired': the result must be made of frequent characters
    (GB2312 level 1, after t2s for traditional text), and more so than the text it replaces."""
    if len(fixed) < 2 or not _plausible(fixed) or "\ufffd" in before:
        return False
    han = [c for c in fixed if "\u4e00" <= c <= "\u9fff"]
    if not han:
        return False
    rare_after = sum(not is_frequent(c) for c in han)
    if rare_after > (len(han) // 10 if len(han) >= 6 else 0):
        return False
    rare_before = sum(not is_frequent(c) for c in before)
    return rare_before / len(before) > rare_after / len(han)


def fix_gbk_mojibake(text: str, edits: list[Edit]) -> str:
    """Repair runs of UTF-8 text that were decoded as GBK (鏁版嵁 -> 数据)."""
    if text.isascii() or not HAN.search(text):
        return text  # the misread text is made of CJK characters
    if not _TWO_CJK_IN_UTF8.search(text.encode("gbk", errors="replace")):
        return text
    rw = Rewriter(text, STAGE)
    for m in _NON_ASCII_RUN.finditer(text):
        for i, j, fixed in _mojibake_spans(m.group()):
            rw.replace(m.start() + i, m.start() + j, fixed, "gbk-mojibake", "encode gbk, decode utf-8")
    return rw.apply(edits)


# --- sample-002 byte damage ----------------------------------------------------------------

_FULLWIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _lost_bytes(prev: int, syllable: str) -> list[int]:
    """Bytes u such that GBK [prev, u] is a character read `syllable`: the annotated pair.

    u is >= 0x81: the decoder took it as a lead byte, which the `(` after it made invalid.
    """
    found = []
    for u in range(0x81, 0xFF):
        try:
            ch = bytes([prev, u]).decode("gbk")
        except UnicodeDecodeError:
            continue
        if len(ch) == 1 and is_common(ch) and syllable in readings(ch):
            found.append(u)
    return found


def _realign(
    text: str, pos: int, buf: bytes, annotated: bool = False, depth: int = 0
) -> Iterator[tuple[int, str]]:
    """Rebuild the original bytes from `pos` on; yields (end, decoded) at each clean realignment.

    `buf` holds original bytes that start on a character boundary. A `?pinyin)` stands for a
    lost byte fixed by the annotated reading; a misread character contributes its GBK bytes;
    an ASCII character is one byte (the decoder realigns) or a folded full-width form. The run
    may only end after an annotation was consumed: that is the evidence of the damage.
    """
    if depth > _MAX_RUN or pos >= len(text) or text[pos] in "\n\r":
        return
    ch = text[pos]
    if ch == "?":
        m = _ANNOTATION_AFTER_Q.match(text, pos)
        if not m or not buf:
            return
        for u in _lost_bytes(buf[-1], m.group(1)):
            nb = buf + bytes([u])
            done = _decoded(nb)
            if done is not None:
                yield m.end(), done
            else:
                yield from _realign(text, m.end(), nb, True, depth + 1)
        return
    if ch < "\x80":
        done = _decoded(buf + ch.encode()) if annotated else None
        if done is not None:
            yield pos + 1, done
        wide = _FULLWIDTH.get(ch)
        if wide is not None:
            yield from _realign(text, pos + 1, buf + wide.encode("gbk"), annotated, depth + 1)
        return
    b = _gbk(ch)
    if b is not None:
        yield from _realign(text, pos + 1, buf + b, annotated, depth + 1)


def _rarity(decoded: str) -> int:
    """Infrequent characters (see `is_frequent`): the fewer, the likelier the reading."""
    return sum(not is_frequent(c) for c in decoded if c > "\x7f")


def _best(candidates: Iterator[tuple[int, str]]) -> tuple[int, str] | None:
    """The single most plausible rebuild; None when two different ones tie (not certain)."""
    found = sorted({(_rarity(d), end, d) for end, d in itertools.islice(candidates, 16)})
    if not found:
        return None
    if len(found) > 1 and found[0][0] == found[1][0]:
        return None
    return found[0][1], found[0][2]


def _decoded(buf: bytes) -> str | None:
    try:
        out = buf.decode("gbk")
    except UnicodeDecodeError:
        return None
    return out if _plausible(out) else None


def fix_gbk_damage(text: str, edits: list[Edit]) -> str:
    """Undo annotations spliced into GBK bytes (因?yàn)殚_源 -> 因為開源); mark what stays uncertain."""
    if "?" not in text or not _DAMAGE_HINT.search(text):
        return text
    rw = Rewriter(text, STAGE)
    for m in _STOP_QUOTE_TAG.finditer(text):
        rw.replace(
            m.start(), m.end(), "。」", "gbk-damage",
            "stray byte before 。」</tag>: decoder read A1 A3 A1 B9 3C one byte late",
        )
    taken = [(m.start(), m.end()) for m in _STOP_QUOTE_TAG.finditer(text)]
    for m in _STRAY_BEFORE_STOP.finditer(text):
        got = _best(_realign(text, m.end(), b"\xa1\xa3\xa1", True))
        if got and not _ANNOTATION_AFTER_Q.search(text, m.end(), got[0]):
            # No annotation to pin the bytes down: demand an opening quote and a clear gain.
            if got[1][1:2] not in _OPENING or _rarity(text[m.end() : got[0]]) <= _rarity(got[1]):
                got = None
        if got:
            rw.replace(m.start(), got[0], got[1], "gbk-damage",
                       "stray byte before 。: re-read the run one byte earlier")
            taken.append((m.start(), got[0]))
    for m in _STRADDLE.finditer(text):
        if any(s <= m.start() < e for s, e in taken):
            continue
        lead = _gbk(m.group())
        if lead is None or len(lead) != 2:
            continue
        got = _best(_realign(text, m.end(), lead))
        if got:
            rw.replace(m.start(), got[0], got[1], "gbk-damage",
                       "annotation spliced into GBK bytes: lost byte restored from its reading")
            taken.append((m.start(), got[0]))
    out = rw.apply(edits)
    _mark_leftovers(out, edits)
    return out


def _mark_leftovers(text: str, edits: list[Edit]) -> None:
    """Flag damage the bytes cannot undo; the text is left as it is."""
    for m in _LEFTOVER.finditer(text):
        edits.append(Edit(
            STAGE, "gbk-damage-unrecoverable", "mark", m.start(), m.end(), m.group(), m.group(),
            "GBK byte damage: a '?' swallowed bytes the original needs; not guessed",
        ))
