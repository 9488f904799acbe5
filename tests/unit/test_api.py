import pytest

from cleaner import clean_text
from cleaner.document import replay


def test_clean_text_repairs_converts_and_reports_language() -> None:
    r = clean_text("開放模型權重被指將導致失控。這是一個關於開源社區的報導，內容完整。", skip=("strip",))
    assert r.text == "开放模型权重被指将导致失控。这是一个关于开源社区的报导，内容完整。"
    assert r.language == "zh-Hans"
    assert {e.stage for e in r.edits} == {"convert"}


def test_clean_text_edits_replay_stage_by_stage() -> None:
    text = "Caf\u00c3\u00a9 &amp; Bar\u200b\n\nLeave a Reply\n"
    r = clean_text(text)
    out = text
    for stage in ("repair", "strip", "convert"):
        out = replay(out, [e for e in r.edits if e.stage == stage])
    assert out == r.text
    assert "Café & Bar" in r.text and "Leave a Reply" not in r.text


def test_clean_text_leaves_clean_text_alone() -> None:
    text = "„Das ist sauber“, sagte sie – und ging.\n\n这是干净的简体中文，没有问题。"
    assert clean_text(text, skip=("strip",)).text == text


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match="decode"):
        clean_text("x", skip=("decode",))
