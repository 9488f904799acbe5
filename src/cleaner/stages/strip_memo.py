"""Strip's memory of lines it has seen: everything derived from one trimmed line alone.

Shape, spam vocabulary, rule checks, listing markers and template keys are functions of the
line's text and the rule book only, so their results are shared by every line with that text,
in this document and in later ones: menus, footers and template lines recur page after page
(40% of non-blank lines in the benchmark corpus, 78% in the dedup dev texts) and are looked at
once per process. Memory stays bounded: two generations of `_MEMO_LINES` lines each.
"""

from __future__ import annotations

from dataclasses import dataclass

from cleaner.stages.strip_shape import Shape
from cleaner.state.templates import line_key, line_keys

_BLANK = Shape(0.0, 0, 0, False)
_Check = tuple[tuple[str, str] | None, bool]  # _check's result: (rule, note) or None, bare URL
_UNSET: object = object()


@dataclass(slots=True)
class _Seen:
    """Everything strip derives from one distinct trimmed line alone (its shape, spam
    vocabulary, rule checks, listing markers), computed on first need. These are functions
    of the text and the rule book only, so the entry is shared by every line with that text
    in this and later documents: menus, footers and template lines recur page after page."""

    shape: Shape
    spam: object = _UNSET  # _Spam
    check_full: object = _UNSET  # _Check with every check
    check_mid: object = _UNSET  # _Check for prose in the middle (disclaimers only)
    edge: object = _UNSET  # Rule | None: the edge-only rule that fires
    date: bool | None = None  # strip_layout.dateish
    head: bool | None = None  # strip_layout.comment_header
    key: object = _UNSET  # int | None: templates.line_key (through _line_key's own memo)
    row: str | None = None  # strip_layout.row_key
    stamp: bool | None = None  # strip_layout.date_stamp


# Distinct lines remembered per rule book, in two generations: when the current one is
# full it becomes the previous one (looked up second, its hits carried over) and the one
# before is dropped. Lines that recur (menus, footers, template lines) stay; one-off prose
# ages out, and memory stays bounded (~0.5 KB a line, 2 x _MEMO_LINES lines at most).
_MEMO_LINES = 10_000
_MEMOS: dict[tuple[str, ...], tuple[dict[str, _Seen], dict[str, _Seen]]] = {}


def _memo(languages: tuple[str, ...]) -> tuple[dict[str, _Seen], dict[str, _Seen]]:
    """(current, previous) generation of the line memo for these rules."""
    got = _MEMOS.get(languages)
    if got is None:
        got = _MEMOS[languages] = ({"": _Seen(_BLANK)}, {})
    elif len(got[0]) > _MEMO_LINES:
        got = _MEMOS[languages] = ({"": got[0][""]}, got[0])
    return got


def clear_memo() -> None:
    """Forget every remembered line (benchmarks of first-sight cost; tests)."""
    _MEMOS.clear()
    _KEYS.clear()
    _KEYS_BEFORE.clear()


def _line_key(stripped: str) -> int | None:
    """`templates.line_key` of a trimmed line, remembered per distinct line (two generations,
    as `_MEMOS`). Raises UnicodeEncodeError where line_key does (lone surrogates)."""
    global _KEYS, _KEYS_BEFORE
    key = _KEYS.get(stripped, _UNSET)
    if key is _UNSET:
        key = _KEYS_BEFORE.get(stripped, _UNSET)
        if key is _UNSET:
            key = line_key(stripped)
        if len(_KEYS) > _MEMO_LINES:
            _KEYS_BEFORE, _KEYS = _KEYS, {}
        _KEYS[stripped] = key
    return key  # type: ignore[return-value]


def known_key(stripped: str) -> object:
    """The remembered `_line_key` of a trimmed line, or _UNSET when it is not remembered
    (never computes one)."""
    key = _KEYS.get(stripped, _UNSET)
    return _KEYS_BEFORE.get(stripped, _UNSET) if key is _UNSET else key


def template_keys(text: str) -> list[int]:
    """`templates.line_keys(text)` (the keys of the non-blank lines, for template counting),
    through the per-line memo that strip's template lookups share."""
    keys: list[int] = []
    append = keys.append
    try:
        for raw in text.split("\n"):
            stripped = raw.strip()
            if not stripped:
                continue  # line_key of a blank line is None: not counted
            key = _KEYS.get(stripped, _UNSET)  # the common case inline, without a call
            if key is _UNSET:
                key = _line_key(stripped)
            if key is not None:
                append(key)  # type: ignore[arg-type]
    except UnicodeEncodeError:  # lone surrogates: line_keys hashes them with surrogatepass
        return line_keys(text)
    return keys


_KEYS: dict[str, int | None] = {}  # trimmed line -> line key
_KEYS_BEFORE: dict[str, int | None] = {}  # the previous generation
