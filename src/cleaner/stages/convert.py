"""Convert stage: traditional Chinese paragraphs to simplified (OpenCC tw2s), never Japanese or Korean.

Routing is per paragraph (line), so a mixed document converts only its Chinese paragraphs.
Conversion is by script only: tw2s is phrase-aware (乾隆 keeps 乾, 乾淨 -> 干净) and does not
rewrite regional vocabulary (軟體 -> 软体). Every changed run of characters is one edit.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import compress, count
from operator import ne

from cleaner.config import ConvertConfig
from cleaner.document import Action, Document, Edit
from cleaner.language import CJK, HAN, HANGUL, KANA, Route, opencc_converter, route, script_counts, text_language
from cleaner.stages.repair_pinyin import removed_glosses

STAGE = "convert"

# Runs of Han characters: counting them by run lengths builds one string per run, not one per
# character as `len(HAN.findall(line))` does (a Chinese line is nearly all Han).
_HAN_RUN = re.compile(HAN.pattern + "+")


def _han_count(text: str) -> int:
    """`len(HAN.findall(text))`, summed over runs."""
    return sum(map(len, _HAN_RUN.findall(text)))


def _target_lang(config: str) -> str:
    return "zh-Hans" if config.endswith("2s") or config.endswith("2sp") else "zh-Hant"


def _changed_runs(before: str, after: str) -> list[tuple[int, int]]:
    """[start, end) of each maximal run of positions where two equal-length strings differ.

    The comparison runs in C (map/compress); Python only steps over the differing positions.
    """
    runs: list[tuple[int, int]] = []
    start = end = -1
    for i in compress(count(), map(ne, before, after)):
        if i != end:
            if start >= 0:
                runs.append((start, end))
            start = i
        end = i + 1
    if start >= 0:
        runs.append((start, end))
    return runs


_new = tuple.__new__


class _Edits:
    """The edits `Rewriter.replace` per changed run + `Rewriter.apply` would emit for one pass
    over a text whose changes arrive in text order and never overlap (converted lines, front
    to back), made directly: a traditional document has hundreds, one per changed run."""

    def __init__(self, edits: list[Edit]) -> None:
        self.edits = edits
        self.delta = 0  # length change of the edits so far: positions in the rewritten text

    def record(self, pos: int, before: str, after: str, rule: str, note: str) -> None:
        """One edit per run of changed characters (one for the line if the lengths differ)."""
        if len(before) != len(after):
            end = pos + len(before)
            action: Action = "remove" if not after else ("insert" if pos == end else "replace")
            d = self.delta
            self.edits.append(Edit(STAGE, rule, action, pos + d, end + d, before, after, note))
            self.delta += len(after) - len(before)
            return
        at = pos + self.delta  # equal lengths: delta stays; every run is a "replace"
        # `_new(Edit, fields)` is `Edit._make(fields)` without its checks: the same Edit, built
        # in C (Edit(...) goes through a Python-level __new__), as a traditional line has
        # a dozen changed runs
        self.edits.extend(
            _new(Edit, (STAGE, rule, "replace", at + a, at + b, before[a:b], after[a:b], note))
            for a, b in _changed_runs(before, after)
        )


# A kana-free line that language ID alone calls Japanese is Chinese where the document has no
# kana and its Chinese lines hold this many times the line's Han characters.
_CHINESE_AROUND = 3


def _as_chinese(r: Route, why: str) -> tuple[str, Route]:
    lang = "zh-Hant" if r.trad > r.simp else "zh-Hans"
    return lang, Route(lang, f"{r.reason}, but no kana in {why}", r.trad, r.simp)


def _unconverted_lang(text: str, trad: int, simp: int) -> str | None:
    """Tag for text that needs no conversion, from whole-document evidence."""
    han = _han_count(text)
    if len(HANGUL.findall(text)) > han:
        return "ko"
    if KANA.search(text):
        return "ja"
    if han * 3 < len(text) - text.count(" ") - text.count("\n") - han:
        return text_language(text)  # mostly another language quoting some Chinese
    return "zh-Hant" if trad > simp else "zh-Hans"


def convert_text(
    text: str, cfg: ConvertConfig | None = None, *, glossed: bool = False
) -> tuple[str, list[Edit], str | None]:
    """(converted text, edits, language tag). Text without Han characters is only identified.

    `glossed`: repair removed Mandarin pinyin glosses of traditional characters from it
    (`repair_pinyin`), which no Japanese text carries: a kana-free line that language ID
    alone calls Japanese is Chinese then, however short the document ('開(kāi)源組(zǔ)織')."""
    cfg = cfg or ConvertConfig()
    edits: list[Edit] = []
    if not CJK.search(text):  # most documents: one scan instead of three
        return text, edits, text_language(text)
    if not HAN.search(text):
        if HANGUL.search(text):
            return text, edits, "ko"
        if KANA.search(text):
            return text, edits, "ja"
        return text, edits, text_language(text)
    converter = opencc_converter(cfg.opencc_config) if cfg.opencc_config else None
    target = _target_lang(cfg.opencc_config) if cfg.opencc_config else "zh-Hant"
    rule = f"opencc:{cfg.opencc_config}"
    doc_trad, doc_simp = script_counts(text)
    converted = converter.convert(text) if converter is not None else text
    if converter is None or converted == text:  # common case: nothing to convert
        return text, edits, _unconverted_lang(text, doc_trad, doc_simp)
    out = _Edits(edits)
    lines = text.split("\n")
    # OpenCC matches no phrase across a newline, so the whole text's conversion is its lines'
    # conversions joined: reuse them instead of converting every line a second time.
    done = converted.split("\n")
    if len(done) != len(lines):  # pragma: no cover - a converter that rewrote a newline
        done = [converter.convert(line) for line in lines]
    # each Han line's route: (Han characters, language, Route where the line would change)
    routed: list[tuple[int, str, Route | None]] = []
    for k, line in enumerate(lines):
        han = _han_count(line) if line else 0
        if not han:
            routed.append((0, "", None))
        elif done[k] == line:  # nothing to convert: only the language tag is wanted
            trad, simp = script_counts(line)
            lang = "zh-Hant" if trad > simp else "zh-Hans"
            if KANA.search(line):
                lang = "ja"
            elif HANGUL.search(line):
                lang = "ko"
            routed.append((han, lang, None))
        else:
            r = route(line, cfg.ja_score)
            routed.append((han, r.lang, r))
    chinese = sum(han for han, lang, _ in routed if lang.startswith("zh"))
    kana_free = not KANA.search(text)
    weight: Counter[str] = Counter()
    other = 0  # characters on lines without Han, for documents that only quote some Chinese
    pos = 0
    for k, (line, (han, lang, r)) in enumerate(zip(lines, routed)):
        if not han:
            other += len(line)
        elif r is not None:
            if lang == "ja" and r.reason.startswith("langid") and kana_free and (
                glossed or chinese >= _CHINESE_AROUND * han
            ):
                # language ID alone called a short kana-free line Japanese (a headline of
                # kanji); Japanese writing of any length has kana, this document has none, and
                # its other lines are Chinese (or it carried Mandarin glosses)
                lang, r = _as_chinese(r, "a document with pinyin glosses" if glossed else "a Chinese document")
            simplified_doc = r.simp > r.trad and doc_simp > doc_trad
            if lang in ("zh-Hant", "zh-Hans") and not simplified_doc:
                out.record(pos, line, done[k], rule, r.reason)
                lines[k] = done[k]
                lang = target
        if han:
            weight[lang or "zh-Hans"] += han
        pos += len(line) + 1
    cjk = sum(weight.values())
    if cjk * 3 >= other:
        lang_tag: str | None = weight.most_common(1)[0][0]
    else:
        lang_tag = text_language(text)
    return "\n".join(lines), edits, lang_tag


def convert(doc: Document, cfg: ConvertConfig) -> Document:
    doc.text, edits, lang = convert_text(doc.text, cfg, glossed=removed_glosses(doc.edits))
    doc.edits.extend(edits)
    if lang:
        doc.language = lang
    if edits and doc.title and cfg.opencc_config:
        doc.title = _converted_title(doc.title, cfg)
    return doc


def _converted_title(title: str, cfg: ConvertConfig) -> str:
    """The title in the script the text was converted to: clean/ carries both, and a
    traditional title over simplified text (from <title>, og:title) reads as two documents.
    A title with kana or Hangul is not Chinese and stays."""
    if not HAN.search(title) or KANA.search(title) or HANGUL.search(title):
        return title
    return opencc_converter(cfg.opencc_config).convert(title)
