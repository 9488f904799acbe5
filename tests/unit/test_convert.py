"""Convert stage: per-paragraph routing, tw2s semantics, Japanese and Korean never converted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaner.config import ConvertConfig
from cleaner.document import Document, Source, replay
from cleaner.stages.convert import convert, convert_text
from cleaner.stages.repair import repair_text

CASES = json.loads((Path(__file__).parent.parent / "cases" / "convert" / "cases.json").read_text("utf-8"))
RAW = Path(__file__).resolve().parents[2] / "raw"


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_case(case: dict[str, str]) -> None:
    out, edits, _ = convert_text(case["input"], ConvertConfig())
    assert out == case["expected"]
    assert replay(case["input"], edits) == out
    assert all(e.stage == "convert" and e.rule == "opencc:tw2s" for e in edits)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("這是一個開源模型。", "zh-Hans"),
        ("这是一个开源模型。", "zh-Hans"),
        ("東京都は計画を発表した。", "ja"),
        ("한국어 문장입니다.", "ko"),
        ("Die Größe der Modelle wächst schneller als die Rechenleistung.", "de"),
        ("", None),
    ],
)
def test_language_tag(text: str, lang: str | None) -> None:
    assert convert_text(text, ConvertConfig())[2] == lang


def test_unconverted_traditional_is_tagged_hant() -> None:
    out, edits, lang = convert_text("這是一個開源模型。", ConvertConfig(opencc_config=""))
    assert out == "這是一個開源模型。" and not edits and lang == "zh-Hant"


def test_edits_are_per_changed_run() -> None:
    _, edits, _ = convert_text("開放模型的權重", ConvertConfig())
    assert [(e.before, e.after) for e in edits] == [("開", "开"), ("權", "权")]


def test_sample_002_ends_simplified() -> None:
    text = (RAW / "002_3055a5f10925dd99.txt").read_text("utf-8")
    repaired, _ = repair_text(text)
    doc = Document(id="x", source=Source(path="002", sha256="0"), raw=b"", text=repaired)
    convert(doc, ConvertConfig())
    assert doc.language == "zh-Hans"
    assert replay(repaired, doc.edits) == doc.text
    assert "开放模型权重被指将导致AI失控" in doc.text
    assert "因为开源陷入了「麻烦」" in doc.text
    assert "特别是会影响独立研究人员。」" in doc.text


def test_title_follows_the_text_into_simplified_script() -> None:
    """A page's title (from <title> or og:title) is converted where its text was: clean/ does
    not pair a traditional title with simplified text. A Japanese title stays as it is."""
    text = "行政院今天公布多項新措施，協助中小企業度過難關。\n經濟部表示，這些措施將在下個月起實施。"
    doc = Document(id="x", source=Source(path="p.html", sha256="0"), raw=b"", text=text, title="經濟部公布新措施")
    convert(doc, ConvertConfig())
    assert doc.language == "zh-Hans" and doc.title == "经济部公布新措施"
    ja = Document(id="y", source=Source(path="p.html", sha256="0"), raw=b"", text=text, title="新しい駅が開業")
    convert(ja, ConvertConfig())
    assert ja.title == "新しい駅が開業"
    plain = Document(id="z", source=Source(path="p.html", sha256="0"), raw=b"", text="只有简体字的文本。", title="經濟")
    convert(plain, ConvertConfig())
    assert plain.title == "經濟"  # nothing in the text was converted: the title is left as given


def test_a_kanji_only_headline_of_a_chinese_document_is_converted_with_it() -> None:
    """Language ID calls some short kana-free lines Japanese ("基隆劇院啟動了年度教師": ja 0.71).
    Alone such a line is left as it is (it may be Japanese); in a document without any kana
    whose other lines are Chinese it is Chinese, and is converted with them. A Japanese
    document keeps its kanji-only line, by its kana."""
    headline = "基隆劇院啟動了年度教師"
    body = ("週五，酒莊與調查處公布了新的報告，說明了這座城市的交通問題與預算的變化，市民們對此表示關注。\n\n"
            "另一段：學校將在下個月開放新的圖書館，學生們都很期待。")
    out, edits, lang = convert_text(f"{headline}\n\n{body}")
    assert out.startswith("基隆剧院启动了年度教师\n\n周五") and lang == "zh-Hans"
    assert any("no kana in a Chinese document" in e.note for e in edits)
    assert convert_text(headline)[0] == headline  # alone: it may be Japanese
    japanese = f"{headline}\n\n東京都の新しい庁舎が完成しました。市民の皆さんは見学できます。"
    assert convert_text(japanese)[0] == japanese


def test_a_short_text_that_carried_pinyin_glosses_is_chinese_whatever_language_id_says() -> None:
    """'開(kāi)源組(zǔ)織' alone: language ID calls '開源組織' Japanese (ja 0.87) and the line
    has no other Chinese around it, so it stayed traditional after repair took the glosses
    out. Mandarin glosses of traditional characters are evidence no Japanese text carries:
    convert() reads them in the document's repair edits, and converts."""
    text, edits = repair_text("開(kāi)源組(zǔ)織")
    assert text == "開源組織"
    assert convert_text(text)[0] == text  # without the evidence: it may be Japanese
    doc = Document(id="d", source=Source(path="a.txt", sha256="0" * 64), raw=b"", text=text, edits=list(edits))
    out = convert(doc, ConvertConfig())
    assert out.text == "开源组织" and out.language == "zh-Hans"
    assert any("no kana in a document with pinyin glosses" in e.note for e in out.edits if e.stage == "convert")
    japanese, _ = repair_text("東京大学の組織")  # no glosses: no evidence, Japanese stays
    assert convert_text(japanese, glossed=False)[0] == "東京大学の組織"
