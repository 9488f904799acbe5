"""Flattened pinyin annotations (`權(quán)重`): spam from s2t converters, removed; real pinyin stays.

The spam annotates traditional-only characters, every time, with one of their readings.
Language-learning text annotates whatever it teaches, script-neutral characters included
(我(wǒ)愛(ài)你(nǐ)). So the decision is per document: glosses are removed only when they sit on
traditional-only characters, and only those whose syllable is a reading of the character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cleaner.document import Edit, Rewriter
from cleaner.language import HAN, traditional_only
from cleaner.stages.repair_gbk import SYLLABLE, readings

STAGE = "repair"
GLOSS_RULE = "pinyin-gloss"

_GLOSS = re.compile(rf"([\u3400-\u9fff])([(（])({SYLLABLE})([)）])")
_HINT = re.compile(rf"[(（]{SYLLABLE}[)）]")
_NEUTRAL_SHARE = 0.1  # annotations on other characters tolerated before the text counts as teaching


def remove_pinyin_glosses(text: str, edits: list[Edit]) -> str:
    """Remove `(syllable)` after traditional-only characters when the document shows the spam pattern."""
    if "(" not in text and "（" not in text or not HAN.search(text) or not _HINT.search(text):
        return text
    glosses = [
        m for m in _GLOSS.finditer(text)
        if (m.group(2) == "(") == (m.group(4) == ")") and m.group(3) in readings(m.group(1))
    ]
    if not glosses:
        return text
    trad = traditional_only()
    spam = [m for m in glosses if m.group(1) in trad]
    neutral = len(glosses) - len(spam)
    if not spam or neutral > _NEUTRAL_SHARE * len(glosses):
        return text
    rw = Rewriter(text, STAGE)
    for m in spam:
        rw.remove(m.start(2), m.end(4), GLOSS_RULE,
                  f"reading of traditional-only {m.group(1)}; {len(spam)} such in the document")
    return rw.apply(edits)


def removed_glosses(edits: Iterable[Edit]) -> bool:
    """Did repair remove pinyin glosses (edits of a document or of `repair_text`)? Convert
    takes it as evidence: Mandarin glosses of traditional characters mean Chinese text."""
    return any(e.rule == GLOSS_RULE and e.stage == STAGE for e in edits)
