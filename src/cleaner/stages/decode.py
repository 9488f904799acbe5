"""decode: raw bytes -> str, with the encoding chosen and the evidence for it recorded.

Order (first that decodes strictly wins): BOM; declared charset (HTTP header); <meta> charset
in the first 4 KB of HTML; UTF-8; charset-normalizer on a head+tail sample (trafilatura#541:
a head-only sample of English markup misses a GBK body); cfg.fallback_encodings; finally
UTF-8 with replacement characters (evidence "replace").

One exception to "declared first": when the bytes are non-ASCII and valid UTF-8 but the page
declares a legacy charset, UTF-8 wins. Mislabelled UTF-8 (servers defaulting to ISO-8859-1)
is common, while legacy-encoded text that happens to be valid UTF-8 practically never
occurs beyond a few bytes; decoding it as declared would manufacture mojibake.

Decode is lossless apart from the encoding and the line ends: a plain text's CRLF, lone CR and
U+2028/U+2029 become LF here (universal newlines, as Python's text mode and every HTML parser read them; the
later stages split lines at LF, and clean/ holds LF), without edits, and the raw bytes are
archived as they are. Binary input (NUL bytes, many control bytes,
known binary signatures) is an InputError; UTF-16/32 text is recognised by its BOM or a
declared charset.
"""

from __future__ import annotations

import codecs
import re
from functools import lru_cache

from cleaner.config import DecodeConfig
from cleaner.document import Document
from cleaner.errors import InputError

STAGE = "decode"

_BOMS = (  # longest first: the UTF-32-LE BOM starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# WHATWG Encoding Standard label mapping, for the labels that matter in practice:
# browsers decode these labels with the superset codec, so pages rely on it.
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "chinese": "gb18030", "csgb2312": "gb18030", "euc-cn": "gb18030", "cp936": "gb18030",
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "l1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "windows-1252": "cp1252",
    "iso-8859-9": "cp1254", "latin5": "cp1254", "iso-8859-11": "cp874", "tis-620": "cp874",
    "x-sjis": "shift_jis", "sjis": "shift_jis", "shift-jis": "shift_jis", "ms_kanji": "shift_jis",
    "windows-31j": "cp932", "big5": "big5hkscs", "big5-hkscs": "big5hkscs", "x-x-big5": "big5hkscs",
    "cn-big5": "big5hkscs", "x-euc-jp": "euc_jp", "ks_c_5601-1987": "euc_kr", "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8", "x-mac-roman": "mac_roman",
}
_UTF16_32 = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be")
_META = re.compile(rb"<meta[^>]{0,512}?charset\s*=\s*[\"']?\s*([A-Za-z0-9_:.\-]{1,40})", re.I)
_HTML_HEAD = re.compile(rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)", re.I | re.S)
# C0 controls that never occur in text (TAB, LF, VT, FF, CR and ESC, used by ISO-2022, are allowed)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
_SIGNATURES = (
    (b"%PDF-", "PDF document"), (b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"), (b"PK\x03\x04", "ZIP archive"), (b"\x1f\x8b", "gzip data"),
    (b"RIFF", "RIFF media"), (b"\x7fELF", "executable"), (b"OggS", "Ogg media"),
    (b"wOFF", "web font"), (b"wOF2", "web font"),
)
_SAMPLE = 16_384  # bytes from each end handed to the detector


@lru_cache(maxsize=256)
def normalise(label: str | None) -> str | None:
    """Python codec name for a charset label (WHATWG aliases applied), None if unknown."""
    if not label:
        return None
    low = label.strip().strip("\"'").lower()
    low = _ALIASES.get(low, low)
    try:
        name = codecs.lookup(low).name
    except LookupError:
        return None
    return _ALIASES.get(name, name)  # codecs.lookup('latin1') -> 'iso8859-1' etc.


def _strict(raw: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return raw.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def looks_html(head: bytes | str) -> bool:
    """An HTML document: doctype or <html> first (after whitespace, an XML prolog, comments)."""
    if isinstance(head, str):
        head = head[:1024].encode("utf-8", "replace")
    return _HTML_HEAD.match(head[:1024].lstrip(codecs.BOM_UTF8)) is not None


def _binary_reason(raw: bytes, cfg: DecodeConfig) -> str | None:
    for magic, what in _SIGNATURES:
        if raw.startswith(magic):
            return f"binary content ({what})"
    if b"\x00" in raw:
        return "binary content (NUL bytes)"
    controls = len(raw) - len(raw.translate(None, _CONTROL))
    if controls and controls > cfg.max_control_ratio * len(raw):
        return f"binary content ({100 * controls / len(raw):.0f}% control bytes)"
    return None


_HIGH_RUNS = re.compile(rb"[^<>\n]*[\x80-\xff][^<>\n]*")


def _sample(raw: bytes) -> bytes:
    """The text runs holding non-ASCII bytes, from the head and the tail of the document.

    ASCII markup says nothing about the encoding but dilutes the detector's statistics,
    so a page of English markup with a GBK body reads as cp1252 (trafilatura#541).
    """
    runs = _HIGH_RUNS.findall(raw)
    sample = b"\n".join(runs)
    if len(sample) <= 2 * _SAMPLE:
        return sample
    head = b"\n".join(runs[: max(1, _count(runs, _SAMPLE))])
    tail = b"\n".join(runs[len(runs) - max(1, _count(reversed(runs), _SAMPLE)) :])
    return head[: 2 * _SAMPLE] + b"\n" + tail[-2 * _SAMPLE :]


def _count(runs: object, budget: int) -> int:
    n = 0
    for run in runs:  # type: ignore[attr-defined]
        budget -= len(run) + 1
        if budget < 0:
            break
        n += 1
    return n


# Encodings the detector may answer: what web pages use. Left open, it names exotic code
# pages (cp1006, cp037) for short texts, which decode "cleanly" to nonsense.
_WEB_ENCODINGS = (
    "utf_8", "gb18030", "big5", "cp932", "shift_jis", "euc_jp", "euc_kr", "cp1250", "cp1251",
    "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "iso8859_2",
    "iso8859_5", "iso8859_7", "iso8859_15", "koi8_r", "koi8_u", "cp874",
)


def _detect(raw: bytes, cfg: DecodeConfig) -> str | None:
    """charset-normalizer's answer; ties (short texts) go to the earliest cfg.fallback_encodings."""
    from charset_normalizer import from_bytes  # import cost paid only by undeclared legacy text

    matches = list(from_bytes(_sample(raw), cp_isolation=list(_WEB_ENCODINGS)))
    if not matches:
        return None
    preferred = [normalise(e) for e in cfg.fallback_encodings]

    def rank(m: object) -> tuple[float, float, int]:
        codec = normalise(m.encoding)  # type: ignore[attr-defined]
        pref = preferred.index(codec) if codec in preferred else len(preferred)
        return (round(m.chaos, 2), -round(m.coherence, 2), pref)  # type: ignore[attr-defined]

    return normalise(min(matches, key=rank).encoding)


def choose(raw: bytes, declared: str | None, is_html: bool, cfg: DecodeConfig) -> tuple[str, str, str]:
    """(text, codec, evidence) for `raw`; raises InputError for binary content."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            text = _strict(raw[len(bom) :], codec)
            if text is not None:
                return text, codec, "bom"
            break
    header = normalise(declared)
    if header in _UTF16_32:  # ASCII-incompatible: must be tried before the NUL check
        text = _strict(raw, header)
        if text is not None:
            return text, header, "http-header"
    reason = _binary_reason(raw, cfg)
    if reason:
        raise InputError(reason, stage=STAGE)
    meta = None
    if is_html:
        m = _META.search(raw, 0, 4096)
        meta = normalise(m.group(1).decode("ascii")) if m else None
        if meta in _UTF16_32:
            meta = "utf-8"  # WHATWG: a meta utf-16 label in bytes we can read means utf-8
    utf8 = _strict(raw, "utf-8")
    if utf8 is not None:
        if raw.isascii():  # 7-bit text: the declared label is right (and ISO-2022 needs it)
            for label, evidence in ((header, "http-header"), (meta, "meta")):
                text = _strict(raw, label) if label not in _UTF16_32 else None
                if text is not None and label is not None:
                    return text, label, evidence
        evidence = "http-header" if header == "utf-8" else "meta" if meta == "utf-8" else "utf-8"
        return utf8, "utf-8", evidence
    for label, evidence in ((header, "http-header"), (meta, "meta")):
        text = _strict(raw, label)
        if text is not None and label is not None:
            return text, label, evidence
    detected = _detect(raw, cfg)
    found = _strict(raw, detected)
    if found is not None and detected is not None:
        for label in cfg.fallback_encodings:  # same text under a preferred label: use that name
            alias = normalise(label)
            if alias == detected:
                break
            if alias is not None and _strict(raw, alias) == found:
                return found, alias, "detected:charset-normalizer"
        return found, detected, "detected:charset-normalizer"
    for label in cfg.fallback_encodings:
        alias = normalise(label)
        found = _strict(raw, alias)
        if found is not None and alias is not None:
            return found, alias, "fallback"
    return raw.decode("utf-8", "replace"), "utf-8", "replace"


def decode(doc: Document, cfg: DecodeConfig) -> Document:
    """Set doc.html (HTML media, or a text/plain body that is an HTML document) or doc.text."""
    if doc.text or doc.html is not None:  # already Unicode (JSONL)
        if doc.text:
            doc.text = universal_newlines(doc.text)
        return doc
    raw = doc.raw
    if not raw.strip():
        raise InputError("empty content", stage=STAGE)
    media = doc.source.media_type
    is_html = media in ("text/html", "application/xhtml+xml") or (
        media in (None, "text/plain") and looks_html(raw[:1024])
    )
    text, codec, evidence = choose(raw, doc.source.charset, is_html, cfg)
    if not is_html and media in (None, "text/plain") and evidence == "bom" and codec != "utf-8":
        is_html = looks_html(text[:512])  # UTF-16 bytes hide the markup from the byte sniff
    doc.encoding, doc.encoding_evidence = codec, evidence
    if is_html:
        doc.html = text
    else:
        doc.text = universal_newlines(text)
    return doc


def universal_newlines(text: str) -> str:
    """CRLF, lone CR and the Unicode line and paragraph separators as LF (a scrape saved on
    Windows, an old Mac file, text from JSON or a word processor: one line to strip otherwise,
    and CR left in the corpus)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return text
