"""Convert stage: traditional Chinese paragraphs to simplified (OpenCC tw2s), never Japanese or Korean.

Routing is per paragraph (line), so a mixed document converts only its Chinese paragraphs.
Conversion is by script only: tw2s is phrase-aware (乾隆 keeps 乾, 乾淨 -> 干净) and does not
rewrite regional vocabulary (軟體 -> 软体). Every changed run of characters is one edit.
"""

from __future__ import annotations

from collections import Counter

from cleaner.config import ConvertConfig
from cleaner.document import Document, Edit, Rewriter
from cleaner.language import CJK, HAN, HANGUL, KANA, opencc_converter, route, script_counts, text_language

STAGE = "convert"


def _target_lang(config: str) -> str:
    return "zh-Hans" if config.endswith("2s") or config.endswith("2sp") else "zh-Hant"


def _record(rw: Rewriter, pos: int, before: str, after: str, rule: str, note: str) -> None:
    """One edit per run of changed characters (one for the line if the lengths differ)."""
    if len(before) != len(after):
        rw.replace(pos, pos + len(before), after, rule, note)
        return
    start = -1
    for i, (a, b) in enumerate(zip(before, after)):
        if a != b:
            if start < 0:
                start = i
        elif start >= 0:
            rw.replace(pos + start, pos + i, after[start:i], rule, note)
            start = -1
    if start >= 0:
        rw.replace(pos + start, pos + len(before), after[start:], rule, note)


def _unconverted_lang(text: str, trad: int, simp: int) -> str | None:
    """Tag for text that needs no conversion, from whole-document evidence."""
    han = len(HAN.findall(text))
    if len(HANGUL.findall(text)) > han:
        return "ko"
    if KANA.search(text):
        return "ja"
    if han * 3 < len(text) - text.count(" ") - text.count("\n") - han:
        return text_language(text)  # mostly another language quoting some Chinese
    return "zh-Hant" if trad > simp else "zh-Hans"


def convert_text(text: str, cfg: ConvertConfig | None = None) -> tuple[str, list[Edit], str | None]:
    """(converted text, edits, language tag). Text without Han characters is only identified."""
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
    if converter is None or converter.convert(text) == text:  # common case: nothing to convert
        return text, edits, _unconverted_lang(text, doc_trad, doc_simp)
    rw = Rewriter(text, STAGE)
    weight: Counter[str] = Counter()
    other = 0  # characters on lines without Han, for documents that only quote some Chinese
    pos = 0
    for line in text.split("\n"):
        han = len(HAN.findall(line)) if line else 0
        if not han:
            other += len(line)
        else:
            after = converter.convert(line) if converter is not None else line
            if after == line:  # nothing to convert: only the language tag is wanted
                trad, simp = script_counts(line)
                lang = "zh-Hant" if trad > simp else "zh-Hans"
                if KANA.search(line):
                    lang = "ja"
                elif HANGUL.search(line):
                    lang = "ko"
            else:
                r = route(line, cfg.ja_score)
                lang = r.lang
                simplified_doc = r.simp > r.trad and doc_simp > doc_trad
                if lang in ("zh-Hant", "zh-Hans") and not simplified_doc:
                    _record(rw, pos, line, after, rule, r.reason)
                    lang = target
            weight[lang or "zh-Hans"] += han
        pos += len(line) + 1
    cjk = sum(weight.values())
    if cjk * 3 >= other:
        lang_tag: str | None = weight.most_common(1)[0][0]
    else:
        lang_tag = text_language(text)
    return rw.apply(edits), edits, lang_tag


def convert(doc: Document, cfg: ConvertConfig) -> Document:
    doc.text, edits, lang = convert_text(doc.text, cfg)
    doc.edits.extend(edits)
    if lang:
        doc.language = lang
    return doc
