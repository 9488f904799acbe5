"""decode: encoding choice and evidence for each case; binary input rejected."""

from __future__ import annotations

import codecs

import pytest

from cleaner.config import DecodeConfig
from cleaner.document import Document, Source
from cleaner.errors import InputError
from cleaner.stages import decode as decode_mod
from cleaner.stages.decode import decode, normalise

CFG = DecodeConfig()
DE = "Die Bürger äußern sich über die Größe der Straßenbahn. Für Köln ist das schön."
ZH = "这是一个关于中国经济发展的新闻报道。数据显示，今年第一季度国内生产总值增长百分之五。"
TW = "這是一個關於台灣經濟發展的新聞報導。資料顯示，今年第一季國內生產毛額成長百分之五。"
JA = "これは日本の経済発展に関するニュース記事です。データによると、国内総生産は増加しました。"


def doc(raw: bytes, media: str | None = "text/plain", charset: str | None = None) -> Document:
    return Document(id="x", source=Source("a", "0" * 64, media_type=media, charset=charset), raw=raw)


def page(body: str, head: str = "") -> str:
    return f"<!DOCTYPE html>\n<html><head>{head}<title>t</title></head><body><p>{body}</p></body></html>"


def test_jsonl_documents_pass_through() -> None:
    d = doc(b'{"text": "x"}')
    d.text = "x"
    assert decode(d, CFG) is d and d.encoding is None


@pytest.mark.parametrize("sep", ["\r\n", "\r", "\u2028", "\u2029"])
def test_line_ends_become_lf(sep: str) -> None:
    """A scrape saved on Windows (CRLF) or an old Mac (CR alone): LF, so that strip sees its
    lines (a CR-only text was one line) and clean/ holds no CR; the raw record keeps the bytes.
    JSONL text too."""
    lines = ["Home | News", DE, "© 2024 Example"]
    d = decode(doc(sep.join(lines).encode("utf-8")), CFG)
    assert d.text == "\n".join(lines) and d.raw == sep.join(lines).encode("utf-8")
    j = doc(b"{}")
    j.text = sep.join(lines)
    assert decode(j, CFG).text == "\n".join(lines)


def test_utf8_fast_path_and_html_media() -> None:
    d = decode(doc(page(DE).encode(), media="text/html"), CFG)
    assert d.html == page(DE) and d.text == "" and (d.encoding, d.encoding_evidence) == ("utf-8", "utf-8")


def test_text_plain_that_is_an_html_document_becomes_html() -> None:
    d = decode(doc(b"  \n" + page("x").encode()), CFG)
    assert d.html is not None and d.text == ""
    d = decode(doc(b"Just text with <b>a tag</b>."), CFG)
    assert d.html is None and d.text == "Just text with <b>a tag</b>."


@pytest.mark.parametrize(
    ("bom", "codec"),
    [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
     (codecs.BOM_UTF32_LE, "utf-32-le")],
)
def test_bom(bom: bytes, codec: str) -> None:
    raw = bom + page(ZH).encode(codec)
    d = decode(doc(raw), CFG)
    assert d.html == page(ZH) and (d.encoding, d.encoding_evidence) == (codec, "bom")


def test_declared_charset_gbk_alias() -> None:
    d = decode(doc(ZH.encode("gbk"), charset="GB2312"), CFG)
    assert d.text == ZH and (d.encoding, d.encoding_evidence) == ("gb18030", "http-header")


def test_declared_charset_that_lies_is_not_trusted() -> None:
    d = decode(doc(ZH.encode("gbk"), charset="utf-8"), CFG)
    assert d.text == ZH and d.encoding == "gb18030" and d.encoding_evidence != "http-header"


def test_valid_utf8_beats_a_declared_legacy_charset() -> None:
    d = decode(doc(DE.encode("utf-8"), charset="iso-8859-1"), CFG)
    assert d.text == DE and (d.encoding, d.encoding_evidence) == ("utf-8", "utf-8")


def test_ascii_keeps_the_declared_label() -> None:
    d = decode(doc(b"plain ascii", charset="gb2312"), CFG)
    assert d.text == "plain ascii" and (d.encoding, d.encoding_evidence) == ("gb18030", "http-header")


def test_meta_charset_german_cp1252_page() -> None:
    html = page(DE + " Preis: 5 €", head='<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">')
    d = decode(doc(html.encode("cp1252"), media="text/html"), CFG)
    assert d.html == html and (d.encoding, d.encoding_evidence) == ("cp1252", "meta")
    html5 = page(ZH, head='<meta charset="gbk">')
    d = decode(doc(html5.encode("gbk"), media="text/html"), CFG)
    assert d.html == html5 and (d.encoding, d.encoding_evidence) == ("gb18030", "meta")


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [(DE, "cp1252", "cp1252"), (ZH, "gbk", "gb18030"), (TW, "big5", "big5hkscs"), (JA, "shift_jis", "shift_jis")],
)
def test_undeclared_legacy_encodings_are_detected(text: str, codec: str, expected: str) -> None:
    d = decode(doc(text.encode(codec)), CFG)
    assert d.text == text and d.encoding == expected and d.encoding_evidence == "detected:charset-normalizer"


def test_gbk_body_after_long_ascii_markup() -> None:
    html = "<html><body>" + "<div class='nav'><a href='/x'>Link</a></div>\n" * 2000 + f"<p>{ZH}</p></body></html>"
    d = decode(doc(html.encode("gbk"), media="text/html"), CFG)
    assert d.html == html and d.encoding == "gb18030"


def test_fallback_and_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode_mod, "_detect", lambda raw, cfg: None)
    d = decode(doc(ZH.encode("gbk")), DecodeConfig(fallback_encodings=("utf-8", "gb18030")))
    assert d.text == ZH and (d.encoding, d.encoding_evidence) == ("gb18030", "fallback")
    d = decode(doc(b"caf\xe9 \x81"), DecodeConfig(fallback_encodings=("utf-8",)))
    assert (d.encoding, d.encoding_evidence) == ("utf-8", "replace") and "\ufffd" in d.text


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(b"text\x00with NUL", "binary content (NUL bytes)"),
     (b"\x89PNG\r\n\x1a\n" + b"x" * 50, "binary content (PNG image)"),
     (b"ab\x01\x02\x03\x04cd" * 10, "control bytes"),
     (b"   \n", "empty content")],
)
def test_binary_and_empty_are_rejected(raw: bytes, reason: str) -> None:
    with pytest.raises(InputError) as err:
        decode(doc(raw), CFG)
    assert reason in err.value.reason and err.value.stage == "decode"


def test_utf16_declared_without_bom_is_text() -> None:
    d = decode(doc(DE.encode("utf-16-le"), charset="utf-16le"), CFG)
    assert d.text == DE and d.encoding_evidence == "http-header"


def test_escape_bytes_of_iso2022_are_not_binary() -> None:
    d = decode(doc(JA.encode("iso2022_jp"), charset="iso-2022-jp"), CFG)
    assert d.text == JA and d.encoding == "iso2022_jp"


def test_normalise_labels() -> None:
    assert [normalise(x) for x in ("latin1", "x-sjis", "Big5", "GBK", "UTF8", "nonsense", None)] == [
        "cp1252", "shift_jis", "big5hkscs", "gb18030", "utf-8", None, None]
