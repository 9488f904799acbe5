"""Extract: page metadata (title, canonical URL, publication date, declared language).

Read from the markup before any pruning, in the order publishers fill them reliably:
Open Graph / article meta, JSON-LD, then plain HTML (`<title>`, `<h1>`, `<time>`, `lang`).
"""

from __future__ import annotations

import html as html_lib
import json
import re
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

_WS = re.compile(r"\s+")
_TITLE_SEP = re.compile(r"\s+(?:[|\-–—·•:»«]|::)\s+")
_DATE_META = (
    "article:published_time", "og:published_time", "og:article:published_time",
    "datepublished", "pubdate", "publishdate", "publish-date", "publish_date", "date",
    "dc.date", "dc.date.issued", "dcterms.created", "dcterms.date", "sailthru.date",
    "parsely-pub-date", "article.published", "published_time", "cxenseparse:recs:publishtime",
)
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?)\s*(Z|[+-]\d{2}:?\d{2})?)?")
_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
# A Chinese/Japanese date in a page's visible text: 2023年12月05日 09:15
_CJK_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日(?:\s*(\d{1,2}[:：]\d{2}(?:[:：]\d{2})?))?")
# Elements whose class or id names a date (span.date, div.publish-time, p#pubtime)
_DATE_REACH = 12  # elements after the <h1> searched for it
_MONTHS = {
    name: n
    for n, names in enumerate(
        (("january", "jan", "januar", "jänner"), ("february", "feb", "februar"), ("march", "mar", "märz", "maerz"),
         ("april", "apr"), ("may", "mai"), ("june", "jun", "juni"), ("july", "jul", "juli"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct", "oktober", "okt"), ("november", "nov"),
         ("december", "dec", "dezember", "dez")),
        start=1,
    )
    for name in names
}
_MONTH = r"([a-zä]{3,9})\.?"
_TIME = r"(?:[,\s-]+(?:um\s+|at\s+)?(\d{1,2}):(\d{2})\s*([ap]\.?m\.?)?)?"
_MONTH_FIRST = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}){_TIME}", re.I)
_DAY_FIRST = re.compile(rf"\b(\d{{1,2}})\.?\s+{_MONTH}\s+(\d{{4}}){_TIME}", re.I)
_DATE_NAME = re.compile(r"(?:^|[\s_-])(?:date|pub(?:lish(?:ed)?)?[-_]?(?:date|time)|pubtime|post[-_]?date|time)(?:$|[\s_-])", re.I)
_BREAKS = re.compile(r"<br\s*/?>|</p\s*>|</h[1-6]\s*>|</li\s*>", re.I)
_TAG = re.compile(r"<[^>]{0,500}>")


def _clean(text: str | None) -> str:
    return _WS.sub(" ", text or "").strip()


def meta_map(root: etree._Element) -> dict[str, str]:
    """First value per lower-cased meta name/property/itemprop."""
    out: dict[str, str] = {}
    for m in root.iter("meta"):
        key = m.get("property") or m.get("name") or m.get("itemprop") or m.get("http-equiv")
        content = m.get("content")
        if key and content:
            out.setdefault(key.strip().lower(), content.strip())
    return out


def title_of(root: etree._Element, meta: dict[str, str]) -> str | None:
    """The page's headline: an <h1> that og:title or the <title> contains, else og:title, else
    the <title>, each without its " | Site" part.

    An <h1> that is the site's name (og:site_name) is the site's branding, never the headline;
    so is an <h1> that is the other side of a <title> whose headline side og:title names ("The
    GitHub Blog" of "Leader spotlight: Erin Spiceland - The GitHub Blog"). Where og:title names
    no side, a short <h1> that is one whole side of a title's separator wins though the site's
    name is longer ("Escopete" of "Escopete - Biquipedia, a enciclopedia libre")."""
    og = _clean(meta.get("og:title") or meta.get("twitter:title"))
    head = root.find(".//title")
    page = _clean(head.text if head is not None else "")
    site = _clean(meta.get("og:site_name") or meta.get("application-name"))
    h1s = [_clean(etree.tostring(h, method="text", encoding=str, with_tail=False)) for h in root.iter("h1")]
    h1s = [h for h in h1s if h and h.casefold() != site.casefold()]
    for h1 in h1s:
        if len(h1) >= 10 and og and h1 in og:
            return h1
    sides = [p.casefold() for p in _TITLE_SEP.split(page)] if page else []
    named = og.casefold() in sides if og else False  # og:title is one side of the <title>
    for h1 in h1s:
        if len(h1) >= 10 and page and h1 in page:
            if named and h1.casefold() in sides and h1.casefold() != og.casefold():
                continue  # the other side of a title whose headline og:title names: branding
            return h1
    if not og or _TITLE_SEP.search(og):
        parts = {*sides, *(p.casefold() for p in _TITLE_SEP.split(og))} if og else set(sides)
        for h1 in h1s:
            if len(parts) > 1 and h1.casefold() in parts:
                return h1
    if og:
        return strip_site(og, site)
    if page:
        return strip_site(page, site)
    return next(iter(h1s), None)


def strip_site(title: str, site: str = "") -> str:
    """Drop the site name from "Headline | Site" or "Site - Headline".

    The declared site name is removed where it is given; otherwise the headline is taken to
    be the longer side of the first or last separator (site names are short).
    """
    parts = _TITLE_SEP.split(title)
    if len(parts) < 2:
        return title
    if site:
        kept = [p for p in parts if p.casefold() != site.casefold()]
        if kept and len(kept) < len(parts):
            return " - ".join(kept) if len(kept) > 1 else kept[0]
    seps = list(_TITLE_SEP.finditer(title))
    lead, tail = title[: seps[0].start()], title[seps[-1].end() :]
    if len(tail) <= len(lead):
        return title[: seps[-1].start()]
    return title[seps[0].end() :]


def canonical_url(root: etree._Element, meta: dict[str, str], base: str | None) -> str | None:
    href = None
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            href = link.get("href", "").strip()
            break
    href = href or meta.get("og:url")
    if not href:
        return None
    url = urljoin(base, href) if base else href
    return url if url.startswith(("http://", "https://")) else None


def normalise_date(value: str) -> str | None:
    """ISO 8601 from the usual date formats: date only, or date and time with offset."""
    m = _ISO_DATE.search(value)
    if m:
        y, mo, d, time, tz = m.groups()
    else:
        cjk = _CJK_DATE.search(value)
        if not cjk:
            return None
        y, mo, d, time = cjk.groups()
        time, tz = time.replace("：", ":") if time else None, None
    try:
        datetime(int(y), int(mo), int(d))
    except ValueError:
        return None
    date = f"{int(y):04d}-{int(mo):02d}-{int(d):02d}"
    if not time:
        return date
    fields = [int(f) for f in time.split(".")[0].split(":")] + [0]
    hour, minute, second = fields[0], fields[1], fields[2]
    if hour > 23 or minute > 59 or second > 59:
        return date
    time = f"{hour:02d}:{minute:02d}:{second:02d}"
    if tz == "Z":
        tz = "+00:00"
    elif tz and ":" not in tz:
        tz = tz[:3] + ":" + tz[3:]
    return f"{date}T{time}{tz or ''}"


def published_of(root: etree._Element, meta: dict[str, str]) -> str | None:
    for key in _DATE_META:
        if key in meta:
            d = normalise_date(meta[key])
            if d:
                return d
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            m = _JSONLD_DATE.search(script.text)
            if m:
                d = normalise_date(m.group(1))
                if d:
                    return d
    for el in root.xpath("//*[@itemprop='datePublished']"):
        d = normalise_date(el.get("content") or el.get("datetime") or _clean(el.text))
        if d:
            return d
    for t in root.iter("time"):
        d = normalise_date(t.get("datetime") or "")
        if d:
            return d
    # last: the visible date under the headline, in an element named for it (no markup for
    # machines: many Chinese portals); only a short text, the date and little else, among the
    # elements right after the first <h1> (a sidebar's dated list lies elsewhere)
    for el in root.xpath(f"(//body//h1)[1]/following::*[@class or @id][position() <= {_DATE_REACH}]"):
        if _DATE_NAME.search(f"{el.get('class') or ''} {el.get('id') or ''}"):
            text = _clean(etree.tostring(el, method="text", encoding=str, with_tail=False))
            if len(text) <= 60:
                d = normalise_date(text) or _named_month_date(text)
                if d:
                    return d
    return None


def _named_month_date(text: str) -> str | None:
    """'November 19, 2019, 9:02 AM', '19 NOV 2019', '12. März 2024, 09:41': the visible
    date of an English or German page, as ISO 8601 (no offset: a zone name is not one)."""
    for pattern, order in ((_MONTH_FIRST, "mdy"), (_DAY_FIRST, "dmy")):
        m = pattern.search(text)
        if not m:
            continue
        a, b, year, hour, minute, ampm = m.groups()
        month_name, day = (a, b) if order == "mdy" else (b, a)
        month = _MONTHS.get(month_name.lower())
        if month is None:
            continue
        try:
            datetime(int(year), month, int(day))
        except ValueError:
            continue
        date = f"{int(year):04d}-{month:02d}-{int(day):02d}"
        if hour is None:
            return date
        h = int(hour) % 12 + (12 if ampm and ampm.lower().startswith("p") else 0) if ampm else int(hour)
        if h > 23 or int(minute) > 59:
            return date
        return f"{date}T{h:02d}:{int(minute):02d}:00"
    return None


def normalise_language(tag: str | None) -> str | None:
    """BCP 47 hint: primary subtag, except Chinese keeps its script (zh-Hans / zh-Hant)."""
    if not tag:
        return None
    parts = [p for p in re.split(r"[-_]", tag.strip().split(",")[0].strip()) if p]
    if not parts or not parts[0].isalpha() or len(parts[0]) > 3:
        return None
    primary = parts[0].lower()
    if primary != "zh":
        return primary
    rest = {p.lower() for p in parts[1:]}
    if rest & {"hant", "tw", "hk", "mo"}:
        return "zh-Hant"
    if rest & {"hans", "cn", "sg", "my"}:
        return "zh-Hans"
    return "zh"


def language_of(root: etree._Element, meta: dict[str, str]) -> str | None:
    for value in (
        root.get("lang"),
        root.get("{http://www.w3.org/XML/1998/namespace}lang"),
        root.get("xml:lang"),
        meta.get("content-language"),
        meta.get("language"),
        meta.get("og:locale"),
        meta.get("dc.language"),
    ):
        lang = normalise_language(value)
        if lang:
            return lang
    return None


def json_ld_scripts(root: etree._Element) -> list[str]:
    """The text of the page's ld+json scripts that mention an articleBody (not parsed yet)."""
    return [
        script.text for script in root.iter("script")
        if script.text and "articleBody" in script.text
        and (script.get("type") or "").lower() == "application/ld+json"
    ]


def json_ld_body(scripts: list[str], title: str | None = None) -> str | None:
    """The page's JSON-LD `articleBody` (from `json_ld_scripts`), as paragraphs (one per line
    break of the value, markup reduced to text), or None. Pages that render their article with
    JavaScript ship an empty shell and the text only here. Where several objects carry a body
    (a list of articles), the one whose headline is the page's `title`; none if no single one is."""
    bodies: list[tuple[str, str]] = []  # (body, headline)
    for text in scripts:
        try:
            data = json.loads(text)
        except ValueError:
            continue
        for obj in _objects_with(data, "articleBody"):
            body, headline = obj.get("articleBody"), obj.get("headline") or obj.get("name") or ""
            if isinstance(body, str) and body.strip():
                bodies.append((body, headline if isinstance(headline, str) else ""))
    if len({b for b, _ in bodies}) > 1:
        wanted = _clean(title).casefold()
        bodies = [(b, h) for b, h in bodies if wanted and _clean(h).casefold() == wanted]
        if len({b for b, _ in bodies}) != 1:
            return None
    if not bodies:
        return None
    best = bodies[0][0]
    if "<" in best:
        best = html_lib.unescape(_TAG.sub("", _BREAKS.sub("\n", best)))
    paragraphs = [_clean(p) for p in best.splitlines()]
    return "\n\n".join(p for p in paragraphs if p) or None


def _objects_with(data: object, key: str, depth: int = 0) -> list[dict]:  # type: ignore[type-arg]
    """Every object in nested JSON (objects, lists, @graph) that has `key`, a few levels deep."""
    if depth > 6:
        return []
    if isinstance(data, dict):
        found = [data] if key in data else []
        for value in data.values():
            if isinstance(value, (dict, list)):
                found += _objects_with(value, key, depth + 1)
        return found
    if isinstance(data, list):
        return [o for item in data for o in _objects_with(item, key, depth + 1)]
    return []
