"""Extract, step 1: drop what a reader never sees or never reads as the article.

Three kinds of removal, each named by the rule the edit log records:
* markup that renders no text (script, style, svg, form controls ...): removed silently;
* hidden elements (`display:none`, `hidden`, `aria-hidden`): rule "hidden";
* page furniture recognised by tag (nav, aside, header, footer) or by the words in its
  class/id/role (menu, sidebar, comments, share, related, newsletter, cookie, ad ...).

Furniture rules guess from names, so they are guarded: the best-scoring container of the
page and the elements wrapping it are never removed by a name (a `sliderBox` or
`content-sidebar-wrap` around the whole article), and state words (`has-sidebar`,
`content-with-sidebar`, `modal-enabled`) say nothing about the element's role.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

# Elements whose content is never article text.
JUNK_TAGS = frozenset(
    "script style noscript template svg math iframe object embed canvas video audio source track "
    "map area input select option optgroup button textarea datalist output progress meter "
    "dialog head link meta base param picture img".split()
)

# Hidden by CSS, including the SEO-spam tricks of pushing text off-screen or shrinking it to nothing.
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|(?:left|top)\s*:\s*-\d{4,}(?:\.\d+)?px|text-indent\s*:\s*-\d{3,}"
    r"|font-size\s*:\s*0(?:px|em|pt|%)?\s*(?:;|$|!)|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$|!)",
    re.I,
)
_HIDDEN_CLASSES = frozenset(
    "hidden hide d-none sr-only visually-hidden visuallyhidden screen-reader-text "
    "screen-reader-only invisible is-hidden u-hidden".split()
)

# Word in a class/id/role name -> rule that removes the element.
TOKEN_RULES: dict[str, str] = {}
for _rule, _words in {
    "nav": "nav navbar navigation menu menubar submenu megamenu breadcrumb breadcrumbs crumbs "
    "pagination pager skiplink skip topbar toolbar tabbar "
    "editsection noprint",  # MediaWiki's [edit] links, and what a page leaves out of its printout
    "header": "masthead",
    "footer": "footer colophon copyright",
    "aside": "sidebar aside rail widgets widgetarea sidecol",
    "comments": "comment comments commentlist disqus respond replies discussion",
    "share": "share sharing shares sharebar social sociallinks socialmedia addthis sharethis "
    "shareaholic",
    "related": "related recommended recommendations recommend outbrain taboola trending popular "
    "mostread mostpopular morestories readmore",
    "newsletter": "newsletter newsletters subscribe subscription signup optin mailchimp",
    "cookie": "cookie cookies consent gdpr",
    "ad": "ad ads advert adverts advertisement advertisements advertising adsense adslot dfp "
    "sponsor sponsored promo promotion promoted banner",
    "popup": "popup modal overlay lightbox",
    "caption": "caption figcaption credit credits",
    "gallery": "gallery slideshow carousel slider",
}.items():
    for _w in _words.split():
        TOKEN_RULES[_w] = _rule

_ROLE_RULES = {
    "navigation": "nav",
    "banner": "header",
    "contentinfo": "footer",
    "complementary": "aside",
    "search": "nav",
    "menu": "nav",
    "menubar": "nav",
    "dialog": "popup",
    "alertdialog": "popup",
}
_TAG_RULES = {
    "nav": "nav", "aside": "aside", "footer": "footer", "header": "header", "figcaption": "caption",
}
# Distinctive stems also found inside run-together names ("relatedpoststitle", "sharebuttons").
_STEMS = re.compile(
    r"related|sidebar|breadcrumb|newsletter|subscribe|cookie|consent|social|sharing|share(?:bar|buttons|tools|links)"
    r"|masthead|recommend|taboola|outbrain|sponsor|advert|popup|pagination|navbar|navigation|footer"
    r"|comment(?!ary)|gallery|slideshow|carousel|widget ?area|widgets"
)
_STEM_RULES = {
    "related": "related", "sidebar": "aside", "breadcrumb": "nav", "newsletter": "newsletter",
    "subscribe": "newsletter", "cookie": "cookie", "consent": "cookie", "social": "share",
    "sharing": "share", "masthead": "header", "recommend": "related",
    "taboola": "related", "outbrain": "related", "sponsor": "ad", "advert": "ad", "popup": "popup",
    "pagination": "nav", "navbar": "nav", "navigation": "nav", "footer": "footer", "comment": "comments",
    "gallery": "gallery", "slideshow": "gallery", "carousel": "gallery",
    "widget area": "aside", "widgetarea": "aside", "widgets": "aside",
}
_CONTENT_HEADS = frozenset("embed embedded content body text article story entry".split())
_VERBS = frozenset("share sharing subscribe signup".split())  # "share-article" is a share bar
_STATE_WORDS = frozenset("has no is with w without show hide enable disable js".split())
_STATE_SUFFIXES = frozenset("enabled disabled open opened active visible loaded ready".split())
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")

Drop = Callable[[etree._Element, str], None]  # logs one dropped element with its rule


def name_rule(name: str) -> str | None:
    """Rule named by one class/id value, or None; the last furniture word in it wins
    ("article-footer" is a footer, "share-article" a share bar). Words after a state word
    ("content-with-sidebar", "has-comments") and names ending in a state ("modal-enabled")
    describe the page's layout, not the element's role."""
    words = [w for w in _SPLIT.split(_CAMEL.sub(" ", name).lower()) if w]
    if not words or words[-1] in _STATE_SUFFIXES:
        return None
    role: list[str] = []
    for w in words:
        if w in _STATE_WORDS:
            break
        role.append(w)
    rule = None
    verb = decided = False
    for w in role:
        if w in TOKEN_RULES:
            rule = TOKEN_RULES[w]
            verb = w in _VERBS
            decided = True
        elif w in _CONTENT_HEADS and not verb:
            rule = None  # the head noun comes last: "social-media-embed" is an embed
    if not decided:
        stems = _STEMS.findall(" ".join(role))
        if stems:
            rule = "share" if stems[-1].startswith("share") else _STEM_RULES[stems[-1]]
    return rule


def element_rule(el: etree._Element) -> str | None:
    """Furniture rule for an element from its tag, role, id and classes."""
    tag = el.tag
    rule = _TAG_RULES.get(tag) if isinstance(tag, str) else None
    if rule:
        return rule
    role = el.get("role")
    if role:
        r = _ROLE_RULES.get(role.strip().lower())
        if r:
            return r
    ident = el.get("id")
    if ident:
        r = name_rule(ident)
        if r:
            return r
    cls = el.get("class")
    if cls:
        for name in cls.split():
            r = name_rule(name)
            if r:
                return r
    return None


def is_hidden(el: etree._Element) -> bool:
    if el.get("hidden") is not None or el.get("aria-hidden", "").strip().lower() == "true":
        return True
    style = el.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    cls = el.get("class")
    if cls and not _HIDDEN_CLASSES.isdisjoint(cls.lower().split()):
        return True
    return el.get("type", "").lower() == "hidden"


def remove_keep_tail(el: etree._Element) -> None:
    """Detach an element; its tail text belongs to the parent and stays."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def drop_junk(root: etree._Element, drop: Drop) -> None:
    """Remove non-text markup silently and hidden elements with a logged "hidden" rule."""
    junk = [el for el in root.iter(*JUNK_TAGS)]
    for el in junk:
        remove_keep_tail(el)
    hidden = root.xpath(
        "//body//*[@hidden or @aria-hidden or @style or @class or @type]"
    )
    removed: set[etree._Element] = set()
    for el in hidden:
        if is_hidden(el) and not _inside(el, removed):
            removed.add(el)
            drop(el, "hidden")
            remove_keep_tail(el)


def _inside(el: etree._Element, removed: set[etree._Element]) -> bool:
    for anc in el.iterancestors():
        if anc in removed:
            return True
    return False


def furniture(root: etree._Element, top: etree._Element | None) -> list[tuple[etree._Element, str]]:
    """Outermost elements to remove as page furniture, with their rule.

    `top` is the best-scoring container of the page found before furniture was considered:
    it and the elements that wrap it are the article and its frame, whatever their names say.
    """
    out: list[tuple[etree._Element, str]] = []
    wraps_top = {top, *top.iterancestors()} if top is not None else set()
    body = root.find("body")
    if body is None:
        body = root
    stack = list(body)
    while stack:
        el = stack.pop()
        tag = el.tag
        if not isinstance(tag, str):
            continue
        rule = None if el.get("itemprop") == "articleBody" or tag in ("main", "article") else element_rule(el)
        if rule and el not in wraps_top:
            out.append((el, rule))
            continue
        stack.extend(el)
    return out
