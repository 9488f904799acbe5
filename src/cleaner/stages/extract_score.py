"""Extract, step 2: find the element that holds the article (readability-style scoring).

Every paragraph-like element earns points for its length and punctuation; the points flow
to its parent (full), grandparent (half) and further ancestors (less). The best-scoring
container, discounted by its link density, is the article; its siblings that score well
enough, or read like prose, join it. Lengths are script-aware: a Chinese/Japanese character
carries about as much as a short English word, so it weighs 3 (see `wlen`), and the
full-width comma, enumeration comma and full stop count as punctuation.
"""

from __future__ import annotations

import re

from lxml import etree

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")
_PUNCT = re.compile(r"[,，、。;；]")
_POSITIVE = re.compile(
    r"article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story", re.I
)
_NEGATIVE = re.compile(
    r"-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|foot|footer|footnote"
    r"|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper"
    r"|sponsor|shopping|tags|tool|widget",
    re.I,
)
BLOCK_TAGS = frozenset(
    "address article aside blockquote dd details div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody thead tfoot tr td "
    "th ul center".split()
)
_BASE = {
    "div": 5, "article": 5, "section": 3, "main": 5,
    "pre": 3, "td": 3, "blockquote": 3,
    "address": -3, "ol": -3, "ul": -3, "dl": -3, "dd": -3, "dt": -3, "li": -3, "form": -3,
    "h1": -5, "h2": -5, "h3": -5, "h4": -5, "h5": -5, "h6": -5, "th": -5,
}
# A teaser card: a small container (at most _CARD_CHILDREN elements) opened by a headline that
# is a link (_CARD_LINKED of its text), its excerpt right below. A "More from" grid of eight
# cards outscored a two-paragraph article in its own <article>; the excerpts earn nothing.
_HEADINGS = ("h2", "h3", "h4", "h5", "h6")
_CARD_CHILDREN, _CARD_LINKED = 4, 0.8
_PARAGRAPH_TAGS = ("p", "pre", "td", "blockquote", "dd", "div", "section", "article", "center")


def collapse(text: str) -> str:
    """Whitespace runs collapsed to one space, trimmed: `re.sub(r"\\s+", " ", text).strip()`
    (str.split and the regex class \\s agree on what whitespace is), but one split/join
    instead of a substitution per space."""
    return " ".join(text.split())


def wlen(text: str) -> int:
    """Script-aware length: CJK characters weigh 3, other characters 1."""
    if text.isascii():
        return len(text)
    return len(text) + 2 * len(_CJK.findall(text))


def _ink(text: str | None) -> int:
    """Script-aware length without whitespace (markup indentation must not count)."""
    if not text:
        return 0
    n = len(text) - sum(map(text.count, (" ", "\n", "\t", "\r")))
    if n and not text.isascii():
        n += 2 * len(_CJK.findall(text))
    return n


def text_of(el: etree._Element) -> str:
    """Visible text of an element, whitespace collapsed."""
    return collapse(etree.tostring(el, method="text", encoding=str, with_tail=False))


def class_weight(el: etree._Element) -> int:
    weight = 0
    for value in (el.get("class"), el.get("id")):
        if value:
            if _NEGATIVE.search(value):
                weight -= 25
            if _POSITIVE.search(value):
                weight += 25
    return weight


def _direct_text(el: etree._Element) -> str:
    parts = [el.text or ""]
    for ch in el:
        if isinstance(ch.tag, str) and ch.tag not in BLOCK_TAGS:
            parts.append(etree.tostring(ch, method="text", encoding=str, with_tail=False))
        parts.append(ch.tail or "")
    return collapse("".join(parts))


def _has_block_child(el: etree._Element) -> bool:
    return any(isinstance(ch.tag, str) and ch.tag in BLOCK_TAGS for ch in el)


class Measure:
    """Text and link-text length of every element, computed bottom-up in one pass.

    Link density is then a lookup instead of a walk over the element's links each time.
    Recompute after the tree changes; `previous` (the measure before elements were removed)
    and `changed` (every ancestor of a removed element) let the recount take the unchanged
    elements' numbers as they were: an element's numbers depend only on its subtree.
    """

    def __init__(self, body: etree._Element, previous: Measure | None = None,
                 changed: frozenset[etree._Element] | set[etree._Element] = frozenset()) -> None:
        self.length: dict[etree._Element, int] = {}
        self.links: dict[etree._Element, int] = {}
        length, links = self.length, self.links
        old_length = previous.length if previous is not None else {}
        old_links = previous.links if previous is not None else {}
        for el in reversed(list(body.iter())):
            if el not in changed and el in old_length:
                length[el] = old_length[el]
                links[el] = old_links[el]
                continue
            n = _ink(el.text)
            k = 0
            for ch in el:
                n += length.get(ch, 0) + _ink(ch.tail)
                k += links.get(ch, 0)
            length[el] = n
            links[el] = n if el.tag == "a" else k

    def density(self, el: etree._Element) -> float:
        n = self.length.get(el, 0)
        return min(1.0, self.links.get(el, 0) / n) if n else 0.0


class Scores:
    """Readability scores per element, computed once per page state.

    `previous` and `changed` as for `Measure`: after furniture is removed, a paragraph outside
    `changed` has the same subtree, so the same text, length and verdict as before; only the
    points are credited again, in the same order (the same sums, the same ranking order).
    """

    def __init__(self, body: etree._Element, previous: Scores | None = None,
                 changed: frozenset[etree._Element] | set[etree._Element] = frozenset()) -> None:
        self.measure = Measure(body, previous.measure if previous is not None else None, changed)
        self.score: dict[etree._Element, float] = {}
        # paragraph -> (holder, text, wlen) when it earns points, None when it does not
        self._seen: dict[etree._Element, tuple[bool, str, int] | None] = {}
        seen = self._seen
        old = previous._seen if previous is not None else {}
        for el in body.iter(*_PARAGRAPH_TAGS):
            if el not in changed and el in old:
                got = old[el]
            else:
                got = self._paragraph(el)
            seen[el] = got
            if got is not None:
                holder, text, n = got
                self._credit(el if holder else el.getparent(), text, n)

    def _paragraph(self, el: etree._Element) -> tuple[bool, str, int] | None:
        """(text sits directly in this container, its text, wlen) if it earns points."""
        holder = False  # text sits directly in a container: the container is its parent
        if el.tag in ("div", "section", "article", "center", "td", "blockquote") and _has_block_child(el):
            text = _direct_text(el)
            holder = True
        else:
            if self.measure.length.get(el, 0) < 20:
                return None
            text = text_of(el)
        n = wlen(text)
        if n < 25:
            return None
        if not holder and self._teaser(el):
            return None
        return (holder, text, n)

    def _teaser(self, el: etree._Element) -> bool:
        """A teaser card's excerpt: the paragraph right under a linked headline, in a small
        container that the headline opens (a card of a "More from" grid). A listicle's items
        are headline and paragraph too, but side by side in the article's one container."""
        parent = el.getparent()
        if parent is None or len(parent) > _CARD_CHILDREN:  # len: O(1), the common exit
            return False
        children = [ch for ch in parent if isinstance(ch.tag, str)]
        if len(children) > _CARD_CHILDREN:
            return False
        heading = children[0]
        if heading.tag not in _HEADINGS or children.index(el) > 2 or self.measure.density(heading) < _CARD_LINKED:
            return False
        # a link to another page, not an anchor (<a id="part-2">) that a long read's sections carry
        return any(a.get("href", "").strip()[:1] not in ("", "#") for a in heading.iter("a"))

    def _credit(self, node: etree._Element | None, text: str, n: int) -> None:
        """Points to the paragraph's container (full), its parent (half) and three more levels."""
        points = 1 + len(_PUNCT.findall(text)) + min(n // 100, 3)
        for level in range(5):
            if node is None:
                return
            if node not in self.score:
                self.score[node] = _BASE.get(node.tag, 0) + class_weight(node)
            self.score[node] += points / (1 if level == 0 else 2 if level == 1 else level * 3)
            node = node.getparent()

    def final(self, el: etree._Element) -> float:
        base = self.score.get(el)
        if base is None:
            return 0.0
        return base * (1 - self.measure.density(el))


def pick_top(body: etree._Element, scores: Scores) -> etree._Element | None:
    """Best container: highest link-discounted score, moved up where readability would."""
    order = sorted(((scores.final(el), i, el) for i, el in enumerate(scores.score)), reverse=True)
    ranked = [(s, el) for s, _, el in order if el.tag not in ("html", "body")]
    if not ranked:
        return None
    top_score, top = ranked[0]
    final = {el: s for s, el in ranked[:5]}
    # several near-equal candidates under one ancestor: the ancestor is the article
    alts = [el for s, el in ranked[1:5] if top_score and s / top_score >= 0.75]
    if len(alts) >= 3:
        parent = top.getparent()
        while parent is not None and parent.tag not in ("body", "html"):
            holders = sum(1 for a in alts if _is_ancestor(parent, a))
            if holders >= 3:
                top = parent
                break
            parent = parent.getparent()
    parent = top.getparent()
    last = final.get(top, scores.final(top))
    threshold = last / 3
    while parent is not None and parent.tag not in ("body", "html"):
        if parent not in scores.score:
            parent = parent.getparent()
            continue
        ps = scores.final(parent)
        if ps < threshold:
            break
        if ps > last:
            top = parent
            break
        last = ps
        parent = parent.getparent()
    parent = top.getparent()
    while parent is not None and parent.tag not in ("body", "html") and len(parent) == 1:
        top = parent
        parent = top.getparent()
    return top


def _is_ancestor(anc: etree._Element, el: etree._Element) -> bool:
    return any(a is anc for a in el.iterancestors())


_TWIN_TEXT = 200  # characters of a scoreless twin sibling that make it part of the article
_SENTENCE_END = re.compile(r"[.!?。！？][\"'”’」』)]?$|\.( |$)")


def with_siblings(top: etree._Element, scores: Scores) -> list[etree._Element]:
    """The top container plus its siblings that score or read like the article's prose."""
    parent = top.getparent()
    if parent is None:
        return [top]
    top_score = scores.final(top)
    threshold = max(10.0, top_score * 0.2)
    cls = top.get("class") or ""
    keep: list[etree._Element] = []
    for sib in parent:
        if not isinstance(sib.tag, str):
            continue
        if sib is top:
            keep.append(sib)
            continue
        twin = bool(cls) and sib.get("class") == cls and sib.tag == top.tag
        bonus = top_score * 0.2 if twin else 0.0
        s = scores.final(sib) if sib in scores.score else None
        if s is not None and s + bonus >= threshold:
            keep.append(sib)
            continue
        # a twin of the top (same tag and class: the article's next part) whose paragraphs lie
        # deeper than the points flow up (five levels) has no score, but it has the text
        text_len = scores.measure.length.get(sib, 0)
        if twin and s is None and text_len >= _TWIN_TEXT and scores.measure.density(sib) < 0.25:
            keep.append(sib)
            continue
        if sib.tag in ("p", "blockquote", "pre") or (sib.tag == "div" and not _has_block_child(sib)):
            text = text_of(sib)
            n = wlen(text)
            ld = scores.measure.density(sib)
            if n > 80 and ld < 0.25:
                keep.append(sib)
            elif 0 < n <= 80 and ld == 0 and _SENTENCE_END.search(text):
                keep.append(sib)
    return keep
