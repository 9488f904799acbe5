"""Extract stage: HTML -> the article's plain text, title, canonical URL, date and language.

Steps (one module each): prune what is never article text (`extract_prune`), score the
remaining blocks and pick the article's container (`extract_score`), render it as text with
paragraph structure (`extract_render`); metadata comes from the untouched markup
(`extract_metadata`), and so does the JSON-LD articleBody that stands in for the visible text
when that is under half of it (a page rendered by JavaScript). The HTML is parsed once with
lxml (libxml2), which is what beautifulsoup4's "lxml" builder runs underneath, without bs4's
Python-side tree.

Because this stage turns markup into text, its edits are not replayable spans: it logs one
`remove` edit per dropped block (start = end = -1) with the rule that dropped it, the block's
visible text and `tag#id.class` in the note. That is the documented exception to `replay`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from cleaner.config import ExtractConfig
from cleaner.document import Document, Edit
from cleaner.errors import InputError
from cleaner.stages.extract_blocks import filter_blocks
from cleaner.stages.extract_metadata import (
    canonical_url,
    json_ld_body,
    json_ld_scripts,
    language_of,
    meta_map,
    published_of,
    title_of,
)
from cleaner.stages.extract_prune import drop_junk, element_rule, furniture, remove_keep_tail
from cleaner.stages.extract_render import join_blocks, render
from cleaner.stages.extract_score import Scores, collapse, pick_top, text_of, with_siblings, wlen

STAGE = "extract"
MAX_ELEMENTS = 200_000
MAX_LOGGED_CHARS = 2000
# A page whose visible text is under this share of its JSON-LD articleBody (a JavaScript
# shell, a teaser above a script-rendered body) is cleaned from the articleBody.
_JSON_LD_SHARE = 0.5
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


@dataclass(slots=True)
class Extracted:
    text: str
    title: str | None = None
    url: str | None = None
    published: str | None = None
    language: str | None = None
    dropped: list[tuple[str, str, str]] = field(default_factory=list)  # (rule, note, text)


def describe(el: etree._Element) -> str:
    """tag#id.class1.class2: enough to find the element again in the page."""
    out = str(el.tag)
    ident = el.get("id")
    if ident:
        out += "#" + ident.strip()
    cls = el.get("class")
    if cls:
        out += "".join("." + c for c in cls.split())
    return out[:200]


class _Log:
    """Collects dropped blocks that had visible text."""

    def __init__(self) -> None:
        self.dropped: list[tuple[str, str, str]] = []

    def __call__(self, el: etree._Element, rule: str) -> None:
        text = text_of(el)
        if text:
            self.dropped.append((rule, describe(el), text[:MAX_LOGGED_CHARS]))


def parse(html: str, max_elements: int = MAX_ELEMENTS) -> etree._Element | None:
    """Parse with libxml2's HTML parser (no huge-tree mode); refuse pages over the element cap."""
    html = _XML_DECL.sub("", html, count=1)
    if not html.strip():
        return None
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = etree.fromstring(html, parser)
    except (etree.ParserError, ValueError):
        return None
    if root is None:
        return None
    count = 0
    for _ in root.iter():
        count += 1
        if count > max_elements:
            count = sum(1 for _ in root.iter())
            raise InputError(
                f"extract: page has {count} elements, over the limit of {max_elements}",
                stage=STAGE,
            )
    return root


def extract_html(html: str, url: str | None = None, max_elements: int = MAX_ELEMENTS) -> Extracted:
    """Main content and metadata of one HTML page (pure: no I/O, no global state)."""
    root = parse(html, max_elements)
    if root is None:
        return Extracted(text="")
    meta = meta_map(root)
    result = Extracted(
        text="",
        title=title_of(root, meta),
        url=canonical_url(root, meta, url),
        published=published_of(root, meta),
        language=language_of(root, meta),
    )
    ld_scripts = json_ld_scripts(root)  # before drop_junk removes the scripts
    log = _Log()
    drop_junk(root, log)
    body = root.find("body")
    if body is None:
        body = root
    scores = _prune_furniture(root, body, log)
    top = pick_top(body, scores)
    elements = with_siblings(top, scores) if top is not None else [body]
    elements = _one_story(elements, result.title, log)
    _log_outside(body, elements, log)
    blocks = render(elements, log, scores.measure)
    blocks, dropped = filter_blocks(blocks, result.title)
    log.dropped.extend((rule, "block", text[:MAX_LOGGED_CHARS]) for rule, text in dropped)
    result.text = join_blocks(blocks)
    # parsed only where the visible text could be under half of a body (a script's own length
    # bounds its articleBody's): most pages with JSON-LD show their article
    seen = wlen(result.text)
    ld_body = None
    if ld_scripts and seen < _JSON_LD_SHARE * max(map(wlen, ld_scripts)):
        ld_body = json_ld_body(ld_scripts, result.title)
    if ld_body is not None and seen < _JSON_LD_SHARE * wlen(ld_body):
        if result.text:
            note = f"visible text under half of the JSON-LD articleBody ({len(ld_body)} chars), which replaces it"
            log.dropped.append(("json-ld-body", note, result.text[:MAX_LOGGED_CHARS]))
        result.text = ld_body
    result.dropped = log.dropped
    return result


def _prune_furniture(root: etree._Element, body: etree._Element, log: _Log) -> Scores:
    """Remove furniture (nav, sidebars, comments ...) and return scores of what is left.

    Names can mislead: "content-w-sidebar" on the article's column, a "sliderBox" wrapping
    the whole page. So the best-scoring container of the untouched page is found first, and
    furniture rules never remove an element that wraps it. Comment sections are the
    exception: when the best container sits in one, a long discussion outscored a short
    article, and the comments go.
    """
    full = Scores(body)
    anchor = pick_top(body, full)
    if anchor is not None and any(element_rule(a) == "comments" for a in (anchor, *anchor.iterancestors())):
        anchor = None
    found = furniture(root, anchor)
    if not found:
        return full
    changed: set[etree._Element] = set()  # what a removal changes: the removed elements' ancestors
    for el, rule in found:
        log(el, rule)
        changed.update(el.iterancestors())
        remove_keep_tail(el)
    return Scores(body, full, changed)


def _one_story(elements: list[etree._Element], title: str | None, log: _Log) -> list[etree._Element]:
    """The page's own article where the chosen content holds several whole articles, each with
    its own <h1> (a site that loads the next story below the first as the reader scrolls):
    the one whose headline is the page's title; the others are logged as "another-article".
    Entries of a live blog or teasers of an index page have no <h1> of their own."""
    if not title:
        return elements
    stories = [a for el in elements for a in _outer_articles(el) if a.find(".//h1") is not None]
    if len(stories) < 2:
        return elements
    wanted = collapse(title).casefold()
    own = [a for a in stories if any(text_of(h).casefold() == wanted for h in a.iter("h1"))]
    if len(own) != 1:
        return elements
    for other in stories:
        if other is not own[0]:
            log(other, "another-article")
            remove_keep_tail(other)
    return [el for el in elements if el is own[0] or el.getparent() is not None]


def _outer_articles(el: etree._Element) -> list[etree._Element]:
    """<article> elements at or under `el` that no other <article> under it contains."""
    if el.tag == "article":
        return [el]
    out = []
    for art in el.iter("article"):
        anc = art.getparent()
        while anc is not None and anc is not el and anc.tag != "article":
            anc = anc.getparent()
        if anc is None or anc is el:
            out.append(art)
    return out


def _log_outside(body: etree._Element, kept: list[etree._Element], log: _Log) -> None:
    """Log the page's blocks that lie outside the chosen elements, as "low-score"."""
    keep = set(kept)
    if body in keep:
        return
    holders: set[etree._Element] = set()
    for el in kept:
        holders.update(el.iterancestors())
    stack = [body]
    while stack:
        node = stack.pop()
        for ch in node:
            if ch in keep or not isinstance(ch.tag, str):
                continue
            if ch in holders:
                stack.append(ch)
            else:
                log(ch, "layout-table" if ch.tag in ("td", "tr", "tbody", "table") else "low-score")


def extract(doc: Document, cfg: ExtractConfig) -> Document:
    """Set doc.text and metadata from doc.html; one logged edit per dropped block."""
    if doc.html is None:
        return doc
    if len(doc.html) * 4 > cfg.max_html_bytes:  # else it cannot be over the limit: skip encoding
        size = len(doc.html.encode("utf-8", "surrogatepass"))
        if size > cfg.max_html_bytes:
            raise InputError(f"extract: page is {size} bytes, over the limit of {cfg.max_html_bytes}", stage=STAGE)
    out = extract_html(doc.html, doc.url or doc.source.url, cfg.max_elements)
    doc.text = out.text
    doc.title = out.title or doc.title
    if out.url:
        doc.url = out.url
    elif doc.url is None:
        doc.url = doc.source.url
    doc.published = out.published or doc.published
    doc.language = out.language or doc.language
    doc.edits.extend(
        Edit(STAGE, rule, "remove", -1, -1, text, "", note) for rule, note, text in out.dropped
    )
    doc.html = ""  # consumed: free the markup (often 100+ KB) while the document waits to be written
    return doc
