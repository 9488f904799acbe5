"""Extract, step 4: drop rendered blocks that are page metadata rather than article text.

These are whole blocks whose job on the page is to label the article, not to be read as
part of it: the headline (kept in doc.title), a lone date/time line (kept in
doc.published), a bare URL (the permalink printed under the headline) and a lone
advertising label left where an ad slot was. Each is checked only on short blocks, so
prose that merely mentions a date or a link is never touched.
"""

from __future__ import annotations

import re

Block = tuple[str, str]  # (kind, text)

_WS = re.compile(r"\s+")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b|(?:19|20)\d\d年")
_MONTHS = (
    r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|june|july"
    r"|august|september|october|november|december|januar|februar|märz|juni|juli|oktober|dezember"
    r"|janeiro|fevereiro|março|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro"
    r"|enero|febrero|marzo|mayo|junio|julio|septiembre|octubre|noviembre|diciembre"
    r"|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
)
_DATE_SIGN = re.compile(
    rf"\b\d{{1,2}}:\d{{2}}\b|\b(?:{_MONTHS})\b\.?|\b\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}}\b|\d{{1,2}}月\d{{1,2}}日",
    re.I,
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_SENTENCE_END = re.compile(r"[.!?。！？]\s*$")
_URL = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
_AD_LABELS = frozenset(
    "advertisement advertisements advert ad ads sponsored anzeige werbung publicidade publicidad "
    "publicité реклама 广告 廣告 広告 광고".split()
)
MAX_DATELINE = 90


def is_dateline(text: str) -> bool:
    """A short line that is a date/time stamp, maybe with a byline: "Updated 5:27 am, Nov 20, 2019"."""
    if len(text) > MAX_DATELINE or "\n" in text or _SENTENCE_END.search(text):
        return False
    if text[:1] in "—–-*" or "@" in text:
        return False  # "— Name (@handle) November 18, 2019" closes a quoted post: it is content
    if not _YEAR.search(text) or not _DATE_SIGN.search(text):
        return False
    return len(text.split()) <= 8 or bool(_TIME.search(text))


def filter_blocks(blocks: list[Block], title: str | None) -> tuple[list[Block], list[tuple[str, str]]]:
    """Blocks to keep, and (rule, text) for each block dropped."""
    kept: list[Block] = []
    dropped: list[tuple[str, str]] = []
    norm_title = _WS.sub(" ", title).strip().casefold() if title else None
    for i, (kind, text) in enumerate(blocks):
        rule = None
        if norm_title and i < 3 and _WS.sub(" ", text).strip().casefold() == norm_title:
            rule = "title"
        elif kind in ("p", "li") and len(text) <= MAX_DATELINE:
            bare = text.strip()
            if _URL.match(bare.strip("-–—|·•: ")):
                rule = "url"
            elif bare.casefold() in _AD_LABELS:
                rule = "ad-label"
            elif is_dateline(bare):
                rule = "dateline"
        if rule:
            dropped.append((rule, text))
        else:
            kept.append((kind, text))
    return kept, dropped
