"""Extract, step 3: turn the chosen elements into plain text with paragraph structure.

One block per paragraph, blocks separated by a blank line; list items one per line with a
"- " prefix; headings and preformatted text their own block; rows of a data table one line,
cells separated by " | ". Inside the article, blocks that are mostly links (tag clouds,
"more stories" lists) are dropped and logged, as readability's conditional clean does.
A table that lays out the page (nested tables, cells holding paragraphs) is not a data
table: its cells become blocks of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from cleaner.stages.extract_score import BLOCK_TAGS, Measure, class_weight, text_of

# Whitespace inside a line collapses to one space, and a line's edges lose what str.strip
# strips, but for two characters: in UTF-8 read as cp1252 or Latin-1 (mojibake) the no-break
# space is the byte A0 of a character ("Ã\xa0" is à, "æ\x93\xa0" is 擠) and NEL the byte 85
# ("Ñ\x85" is х), and repair, which runs next, can only decode such a sequence whole. Repair
# turns the no-break spaces left afterwards into spaces (`repair.fix_invisibles`).
_INLINE_WS = re.compile(r"[ \t\n\r\f\v\u200b]+")
# str.strip's whitespace less A0 and 85 (tests/unit/test_extract.py derives it), and ZWSP
_EDGE_WS = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
            "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u200b")
_ASCII_SEPARATORS = re.compile(r"[\x1c-\x1f]")  # ASCII whitespace to str.split, not in _INLINE_WS
_PUNCT = re.compile(r"[,，、。;；.!?！？]")
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_CHECKED = frozenset("ul ol dl div section table form p nav aside header footer center article".split())
_MAX_DEPTH = 400
# A block inside the article whose text is this much link text is navigation even where it
# reads like prose: a "Recommended for you" block of cards, each a link around its headline and
# teaser sentence. (Below it, punctuated prose with many links stays: a paragraph citing sources.)
_ALL_LINKS = 0.9

Drop = Callable[[etree._Element, str], None]


class _Out:
    """Accumulates inline text into lines and lines into blocks of a kind."""

    def __init__(self) -> None:
        self.blocks: list[tuple[str, str]] = []
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.kind = "p"

    def add(self, text: str | None) -> None:
        if text:
            self.parts.append(text)

    def _end_line(self) -> bool:
        joined = "".join(self.parts)
        if joined.isascii() and not _ASCII_SEPARATORS.search(joined):
            # ASCII without \x1c-\x1f: _INLINE_WS's characters are exactly the whitespace
            # str.split splits at, so split/join is the substitution plus strip, cheaper
            line = " ".join(joined.split())
        else:
            line = _INLINE_WS.sub(" ", joined).strip(_EDGE_WS)
            if line.isspace():  # no-break spaces alone (an "&nbsp;" paragraph): no line
                line = ""
        self.parts = []
        if line:
            self.lines.append(line)
        return bool(line)

    def newline(self) -> None:
        """A <br>: ends the line; an empty line (<br><br>) ends the paragraph."""
        if not self._end_line() and self.lines and self.kind == "p":
            self.flush()

    def flush(self, next_kind: str = "p") -> None:
        self._end_line()
        if self.lines:
            self.blocks.append((self.kind, "\n".join(self.lines)))
        self.lines = []
        self.kind = next_kind

    def raw_block(self, kind: str, text: str) -> None:
        self.flush()
        text = text.strip("\n")
        if text.strip():
            self.blocks.append((kind, text))


def is_layout_table(table: etree._Element, measure: Measure) -> bool:
    """Tables used to lay out a page: nested tables, or cells holding paragraphs (as elements,
    or as text broken by an empty line, <br><br>, as old CMS pages write them) or long text."""
    for cell in table.iter("td", "th"):
        for ch in cell:
            if ch.tag in ("table", "p", "div", "ul", "ol", "h1", "h2", "h3", "blockquote"):
                return True
            if ch.tag == "br" and not (ch.tail or "").strip():
                nxt = ch.getnext()
                if nxt is not None and nxt.tag == "br":
                    return True
    return any(measure.length.get(cell, 0) > 400 for cell in table.iter("td"))


def _boring(el: etree._Element, measure: Measure) -> str | None:
    """Rule for a block inside the article that is navigation rather than prose, else None."""
    if not measure.length.get(el):
        return None
    tag = el.tag
    if tag == "td":  # a cell of a layout table: the page's menu column, a footer row
        return "layout-table" if measure.density(el) > 0.5 else None
    if tag == "article":
        outer = next((a for a in el.iterancestors("article")), None)
        if outer is not None and measure.length.get(el, 0) < 0.5 * measure.length.get(outer, 0):
            return "related"  # a small article inside an article is a teaser for another one
    ld = measure.density(el)
    if tag in ("ul", "ol", "dl"):
        return "link-density" if ld > 0.5 else None
    if ld <= 0.33:
        return None
    if ld < _ALL_LINKS and len(_PUNCT.findall(text_of(el))) >= 10:
        return None
    if tag == "p":
        if ld > 0.6 and not _linked_sentence(el, ld):
            return "link-density"
        return None
    weight = class_weight(el)
    if weight < 0:
        return "low-score"
    if ld > (0.5 if weight >= 25 else 0.33):
        return "link-density"
    return None


_SENTENCE_END = (".", "!", "?", "。", "！", "？", ".)", ".\"", ".”")


_LINK_WORDS = 8  # the most words a link of a linked sentence holds (a name, a term)


def _linked_sentence(p: etree._Element, ld: float) -> bool:
    """A sentence whose nouns are links (a wiki's lead: "Escopete ye un municipio d'a provincia
    de Guadalachara, en a comunidat autonoma de ..."): twelve words or more, a sentence's end,
    a share of words outside the links, and short links (terms and names). Menus and link
    lists end without a sentence's end; a paragraph that carries headlines in its links (hover
    cards, "related" inlines) has long ones."""
    text = text_of(p)
    if ld > 0.85 or len(text.split()) < 12 or not text.rstrip().endswith(_SENTENCE_END):
        return False
    return all(len(text_of(a).split()) <= _LINK_WORDS for a in p.iter("a"))


def render(elements: list[etree._Element], drop: Drop, measure: Measure) -> list[tuple[str, str]]:
    """Blocks (kind, text) of the given elements in order; kinds: p, h, li, pre, row."""
    out = _Out()
    for el in elements:
        out.flush()
        _walk(el, out, drop, measure, 0, in_data_table=False)
        out.flush()
    return out.blocks


def _walk(el: etree._Element, out: _Out, drop: Drop, measure: Measure, depth: int, in_data_table: bool) -> None:
    tag = el.tag
    if not isinstance(tag, str):
        return
    if depth > _MAX_DEPTH:
        out.add(text_of(el))
        return
    if tag == "br":
        out.newline()
        return
    if tag == "pre":
        out.raw_block("pre", etree.tostring(el, method="text", encoding=str, with_tail=False))
        return
    if tag == "table" and not in_data_table:
        in_data_table = not is_layout_table(el, measure)
    if in_data_table:
        if tag == "tr":
            out.flush("row")
        elif tag in ("td", "th") and out.parts:
            out.add(" | ")
    elif tag in _HEADINGS:
        out.flush("h")
    elif tag == "li" or tag == "dt" or tag == "dd":
        out.flush("li")
    elif tag in BLOCK_TAGS:
        out.flush(out.kind if out.kind == "li" and tag not in ("ul", "ol", "dl") else "p")
    out.add(el.text)
    for ch in el:
        ctag = ch.tag
        if isinstance(ctag, str) and not in_data_table and (ctag in _CHECKED or ctag == "td"):
            rule = _boring(ch, measure)
            if rule:
                drop(ch, rule)
                out.add(ch.tail)
                continue
        _walk(ch, out, drop, measure, depth + 1, in_data_table)
        out.add(ch.tail)
    if tag in BLOCK_TAGS or tag in _HEADINGS:
        if in_data_table and tag in ("td", "th"):
            return
        out.flush()


def join_blocks(blocks: list[tuple[str, str]]) -> str:
    """List items and table rows that follow each other share a block (one per line)."""
    parts: list[str] = []
    prev = ""
    for kind, text in blocks:
        if kind == "li":
            text = "- " + text
        if parts and kind == prev and kind in ("li", "row"):
            parts[-1] += "\n" + text
        else:
            parts.append(text)
        prev = kind
    return "\n\n".join(parts)
