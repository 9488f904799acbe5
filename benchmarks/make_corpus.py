"""Deterministic benchmark corpus of scraped articles: `python benchmarks/make_corpus.py --n 5000 --out DIR`.

Writes DIR/raw/ (what `cleaner run` reads: one folder per fake site with .txt scrapes and some
.html pages, optionally JSONL feeds), DIR/labels.jsonl (ground truth per document) and
DIR/corpus.json (counts). The same --n and --seed always give the same bytes.

Recipe (defaults): log-normal body lengths (~5 KB a document with boilerplate); bodies made of
real paragraphs (raw/ samples; with --aeb also the extraction ground truth) mixed with generated
sentences; ~80% English, 6% German, 5% traditional Chinese (zh-Hant); site templates (header,
navigation, byline, related links, share/newsletter/legal footer) on 92% of documents; 10% of
documents mojibake (UTF-8 read as Windows-1252); 15% duplicates: exact copies, re-syndicated
(same article, another site's template), edited (a few words changed, maybe a paragraph
dropped), encoding-flipped and whitespace variants. `--hard-dups`, `--teasers` and `--lists` are
other recipes (see the constants below); the default corpus stays byte for byte what it was.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from html import escape
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_text import DE, EN, NO_SITE, SITES, ZH, ZH_NAMES, Site, headline, paragraph  # noqa: E402

REPO_RAW = Path(__file__).resolve().parent.parent / "raw"
LANG_SHARE = (("zh", 0.05), ("de", 0.06), ("en", 0.89))
DUP_SHARE = 0.15
DUP_KINDS = (("exact", 0.45), ("resyndicated", 0.2), ("edited", 0.2), ("encoding", 0.07), ("whitespace", 0.08))
# `--hard-dups`: also the copies LSH finds hardest (a dedup check on texts other than the dev set's)
HARD_DUP_KINDS = (("exact", 0.25), ("resyndicated", 0.15), ("edited", 0.2), ("truncated", 0.2),
                  ("reordered", 0.1), ("encoding", 0.05), ("whitespace", 0.05))
# `--teasers`: mostly feed teasers, the first paragraph or two of an article on another site with
# a link to the whole text (a tenth of a long article: too few shingles for the article's sample)
TEASER_DUP_KINDS = (("teaser", 0.6), ("exact", 0.2), ("resyndicated", 0.2))
TEASER_LINKS = {"en": "Read the full story at {host}", "de": "Den ganzen Artikel lesen Sie auf {host}",
                "zh": "閱讀全文：{host}"}
# `--lists`: half of the articles list-shaped (a sentence or two of prose, then 12-40 short items a
# line: products with prices, tour dates, ingredients; a third numbered), a third of those in a
# series whose parts share the intro and the closing paragraph and differ in every item (the
# parts of one meal plan: different stories, a hard negative for dedup)
LIST_SHARE, LIST_SERIES_SHARE, LIST_SERIES = 0.5, 0.35, 12
MOJIBAKE_SHARE = 0.10
NO_TEMPLATE_SHARE = 0.08
JSONL_LINES_PER_FILE = 500

# Windows-1252 as browsers and sloppy scrapers read it: the five undefined bytes map to U+0080..U+009F.
_CP1252 = {b: bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0xA0)}
_SLOPPY = str.maketrans({chr(b): c for b, c in _CP1252.items()})


def mojibake(text: str) -> str:
    """UTF-8 bytes decoded as Windows-1252: 'é' -> 'Ã©', '—' -> 'â€”'."""
    return text.encode("utf-8").decode("latin-1").translate(_SLOPPY)


@dataclass
class Article:
    idx: int
    lang: str
    site: Site
    title: str
    paras: list[str]
    author: str
    day: str
    mojibake: bool
    fmt: str  # txt | html | jsonl
    cluster: int
    dup_kind: str | None = None
    whitespace: bool = False
    related: list[str] = field(default_factory=list)


def _paragraphs(text: str, min_chars: int) -> list[str]:
    out = []
    for p in text.replace("\r\n", "\n").split("\n"):
        p = p.strip()
        if len(p) >= min_chars and p.count("|") < 3:
            out.append(p)
    return out


def _script(text: str) -> str:
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return "zh" if han > len(text) * 0.3 else "latin"


def real_paragraphs(raw_dir: Path, aeb: Path | None) -> dict[str, list[str]]:
    """Real paragraphs by language: the repo's raw/ samples, plus the ground-truth bodies if given."""
    pools: dict[str, list[str]] = {"en": [], "de": [], "zh": []}
    for path in sorted(raw_dir.glob("*.txt")):
        text = path.read_text("utf-8", errors="replace")
        lang = "zh" if _script(text) == "zh" else "de"  # the shipped samples are German and Chinese
        pools[lang].extend(_paragraphs(text, 40 if lang == "zh" else 80))
    if aeb is not None:
        for line in aeb.read_text("utf-8").splitlines():
            rec = json.loads(line)
            if rec.get("lang") in ("en", "de"):
                pools[rec["lang"]].extend(_paragraphs(rec.get("text") or "", 80))
    return pools


def _weighted(rng: random.Random, table: tuple[tuple[str, float], ...]) -> str:
    x = rng.random()
    for name, share in table:
        x -= share
        if x < 0:
            return name
    return table[-1][0]


def _body(rng: random.Random, lang: str, pools: dict[str, list[str]], target_bytes: int) -> list[str]:
    real = pools.get(lang) or []
    p_real = 0.7 if lang == "en" and len(real) > 200 else 0.3
    paras: list[str] = []
    size = 0
    while size < target_bytes:
        p = rng.choice(real) if real and rng.random() < p_real else paragraph(rng, lang)
        paras.append(p)
        size += len(p.encode("utf-8")) + 2
    return paras


def _author(rng: random.Random, lang: str) -> str:
    if lang == "zh":
        return rng.choice(ZH_NAMES)
    return f"{rng.choice(EN['first'])} {rng.choice(EN['last'])}"


def _day(rng: random.Random) -> str:
    return (date(2023, 1, 1) + timedelta(days=rng.randrange(600))).isoformat()


def _site_for(rng: random.Random, lang: str, exclude: Site | None = None) -> Site:
    if rng.random() < NO_TEMPLATE_SHARE:
        return NO_SITE
    choices = [s for s in SITES if s.lang == lang and s is not exclude] or [NO_SITE]
    return rng.choice(choices)


def original(rng: random.Random, idx: int, pools: dict[str, list[str]], html: float, jsonl: float,
             lists: bool = False) -> Article:
    lang = _weighted(rng, LANG_SHARE)
    target = int(min(40_000, max(400, rng.lognormvariate(math.log(3500), 0.6))))
    site = _site_for(rng, lang)
    fmt = "html" if rng.random() < html else ("jsonl" if rng.random() < jsonl else "txt")
    art = Article(idx, lang, site, headline(rng, lang), _body(rng, lang, pools, target), _author(rng, lang),
                  _day(rng), rng.random() < MOJIBAKE_SHARE, fmt, cluster=idx,
                  related=[headline(rng, lang) for _ in range(3)])
    if lists and rng.random() < LIST_SHARE:  # (only --lists draws more: the other recipes stay as they were)
        art.paras = _list_body(rng, lang, art.paras)
    return art


_MONTHS = {"en": "January|February|March|April|May|June|July|August|September|October|November|December",
           "de": "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember",
           "zh": "一月|二月|三月|四月|五月|六月|七月|八月|九月|十月|十一月|十二月"}


def _item(rng: random.Random, lang: str, kind: str) -> str:
    """One short list line: a product and its price, a tour date, an ingredient."""
    t = {"en": EN, "de": DE, "zh": ZH}[lang]
    c = rng.choice
    if kind == "product":
        return f"{c(t['adj'])} {c(t['noun'])} {c(t['noun'])} {rng.randint(2, 64)}GB – ${rng.randint(9, 900)}.{rng.randint(0, 99):02d}"
    if kind == "date":
        return f"{c(_MONTHS[lang].split('|'))} {rng.randint(1, 28)} – {c(t['place'])} @ {c(t['noun'])} {c(t['noun'])}"
    return f"{rng.randint(1, 4)} {c(('cups', 'tbsp.', 'oz.', 'tsp.', 'slices'))} {c(t['adj'])} {c(t['noun'])}"


_SERIES: dict[tuple[str, int], tuple[str, str, str]] = {}  # (lang, n) -> intro, closing, item kind


def _list_body(rng: random.Random, lang: str, prose: list[str]) -> list[str]:
    """A list-shaped body: one or two paragraphs of prose, 12-40 items, sometimes a closing one."""
    if rng.random() < LIST_SERIES_SHARE:
        key = (lang, rng.randrange(LIST_SERIES))
        if key not in _SERIES:
            _SERIES[key] = (paragraph(rng, lang), paragraph(rng, lang), rng.choice(("product", "date", "ingredient")))
        intro, closing, kind = _SERIES[key]
        head, tail = [intro], [closing]
    else:
        head, tail, kind = prose[: rng.randint(1, 2)], [], rng.choice(("product", "date", "ingredient"))
    items = [_item(rng, lang, kind) for _ in range(rng.randint(12, 40))]
    if rng.random() < 0.3:
        items = [f"{k}) {x}" for k, x in enumerate(items, 1)]
    return head + items + tail


def _edit(rng: random.Random, paras: list[str], lang: str) -> list[str]:
    """A copy-edited version: ~4% of words (Chinese: characters) replaced or dropped, maybe a paragraph cut."""
    out = []
    for p in paras:
        units = list(p) if lang == "zh" else p.split(" ")
        pool = units[:]
        sep = "" if lang == "zh" else " "
        kept = [u if rng.random() > 0.04 else (rng.choice(pool) if rng.random() < 0.5 else "") for u in units]
        out.append(sep.join(u for u in kept if u))
    if len(out) > 4 and rng.random() < 0.3:
        del out[rng.randrange(len(out))]
    return out


def duplicate(rng: random.Random, idx: int, of: Article, kinds: tuple[tuple[str, float], ...] = DUP_KINDS) -> Article:
    kind = _weighted(rng, kinds)
    dup = replace(of, idx=idx, dup_kind=kind, paras=list(of.paras))
    if kind in ("resyndicated", "truncated", "teaser") and (kind != "truncated" or rng.random() < 0.5):
        dup.site = _site_for(rng, of.lang, exclude=of.site)
        dup.day, dup.author = _day(rng), _author(rng, of.lang)
        dup.related = [headline(rng, of.lang) for _ in range(3)]
    if kind == "edited":
        dup.paras = _edit(rng, of.paras, of.lang)
    elif kind == "truncated":  # the first 35-80% of the paragraphs (at least one), here or on another site
        dup.paras = of.paras[: max(1, round(len(of.paras) * rng.uniform(0.35, 0.8)))]
    elif kind == "teaser":  # the first paragraph or two (at most a fifth of them, at least one), and a link
        link = TEASER_LINKS[of.lang].format(host=of.site.host if of.site is not NO_SITE else "misc.example")
        dup.paras = of.paras[: max(1, min(2, len(of.paras) // 5))] + [link]
    elif kind == "reordered":  # paragraphs moved: two swapped, or all shuffled
        if len(dup.paras) > 2 and rng.random() < 0.5:
            rng.shuffle(dup.paras)
        elif len(dup.paras) > 1:
            i, j = rng.sample(range(len(dup.paras)), 2)
            dup.paras[i], dup.paras[j] = dup.paras[j], dup.paras[i]
    elif kind == "encoding":
        dup.mojibake = not of.mojibake
    elif kind == "whitespace":
        dup.whitespace = True
    return dup


def render_text(a: Article, rng: random.Random) -> str:
    s = a.site
    lines: list[str] = list(s.header)
    lines += ["", a.title, ""]
    if s.byline:
        lines += [s.byline.format(name=a.author, date=a.day), ""]
    for p in a.paras:
        lines += [p, ""]
    if s.related:
        lines += [s.related, *a.related, ""]
    lines += list(s.footer)
    text = "\n".join(lines).strip("\n") + "\n"
    if a.whitespace:
        text = "\n".join((ln + rng.choice(("", " ", "  ", "\t"))) if ln else rng.choice(("", "", "\n", " "))
                         for ln in text.split("\n"))
    return text


def render_html(a: Article, rng: random.Random) -> str:
    s = a.site
    e = escape
    nav = "".join(f"<li><a href=\"/{i}\">{e(x)}</a></li>" for i, x in enumerate(re.split(r"\s*[|·]\s*|\s{2,}", s.header[1])[:8])) \
        if len(s.header) > 1 else ""
    head = f"<div class=\"logo\">{e(s.header[0])}</div><nav><ul>{nav}</ul></nav>" if s.header else ""
    by = f"<p class=\"byline\">{e(s.byline.format(name=a.author, date=a.day))}</p>" if s.byline else ""
    body = "\n".join(f"<p>{e(p)}</p>" for p in a.paras)
    rel = ("<aside><h3>" + e(s.related) + "</h3><ul>" +
           "".join(f"<li><a href=\"/r{i}\">{e(t)}</a></li>" for i, t in enumerate(a.related)) + "</ul></aside>"
           ) if s.related else ""
    foot = "".join(f"<p>{e(x)}</p>" for x in s.footer)
    html = (f"<!DOCTYPE html>\n<html lang=\"{a.lang}\"><head><meta charset=\"utf-8\"><title>{e(a.title)}</title>"
            f"<script>window.dataLayer=[];function gtag(){{dataLayer.push(arguments)}}</script>"
            f"<style>body{{font-family:serif}}</style></head>\n<body><header>{head}</header>\n"
            f"<main><article><h1>{e(a.title)}</h1>{by}\n{body}\n</article>{rel}</main>\n"
            f"<footer>{foot}</footer></body></html>\n")
    if a.whitespace:
        html = html.replace("\n", "\n\n  ")
    return html


def url_of(a: Article) -> str:
    host = a.site.host if a.site is not NO_SITE else "misc.example"
    return f"https://{host}/{a.day.replace('-', '/')}/article-{a.cluster}.html"


def build(out: Path, n: int, seed: int, aeb: Path | None = None, html: float = 0.1, jsonl: float = 0.0,
          raw_samples: Path = REPO_RAW, hard_dups: bool = False, teasers: bool = False,
          lists: bool = False) -> dict[str, Any]:
    """Write the corpus under `out`; returns the summary also written to corpus.json."""
    rng = random.Random(seed)
    pools = real_paragraphs(raw_samples, aeb)
    n_dup = round(n * DUP_SHARE)
    _SERIES.clear()
    arts = [original(rng, i, pools, html, jsonl, lists) for i in range(n - n_dup)]
    kinds = TEASER_DUP_KINDS if teasers else HARD_DUP_KINDS if hard_dups or lists else DUP_KINDS
    arts += [duplicate(rng, 0, rng.choice(arts[: n - n_dup]), kinds) for _ in range(n_dup)]
    rng.shuffle(arts)
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    labels: list[dict[str, Any]] = []
    feeds: list[str] = []
    stats: Counter[str] = Counter()
    total_bytes = 0
    for pos, a in enumerate(arts):
        a.idx = pos
        key = f"d{pos:06d}"
        text = render_html(a, rng) if a.fmt == "html" else render_text(a, rng)
        if a.mojibake:  # an exact copy renders byte for byte like its original (same fields, no rng)
            text = mojibake(text)
        member = None
        if a.fmt == "jsonl":
            feeds.append(json.dumps({"url": url_of(a), "title": a.title, "text": text}, ensure_ascii=False))
            path = f"feeds/feed-{(len(feeds) - 1) // JSONL_LINES_PER_FILE:03d}.jsonl"
            member = f"line:{(len(feeds) - 1) % JSONL_LINES_PER_FILE + 1}"
        else:
            folder = a.site.host if a.site is not NO_SITE else "misc"
            path = f"{folder}/{key}.{a.fmt}"
            (raw / folder).mkdir(exist_ok=True)
            (raw / path).write_bytes(text.encode("utf-8"))
        size = len(text.encode("utf-8"))
        total_bytes += size
        stats[f"lang:{a.lang}"] += 1
        stats[f"fmt:{a.fmt}"] += 1
        stats[f"dup:{a.dup_kind or 'original'}"] += 1
        stats["mojibake"] += a.mojibake
        stats["no_template"] += a.site is NO_SITE
        labels.append({"id": key, "path": path, "member": member, "cluster": f"c{a.cluster:06d}",
                       "dup_kind": a.dup_kind, "lang": a.lang, "site": a.site.host, "format": a.fmt,
                       "mojibake": a.mojibake, "bytes": size})
    for k in range(0, len(feeds), JSONL_LINES_PER_FILE):
        (raw / "feeds").mkdir(exist_ok=True)
        body = "\n".join(feeds[k : k + JSONL_LINES_PER_FILE]) + "\n"
        (raw / f"feeds/feed-{k // JSONL_LINES_PER_FILE:03d}.jsonl").write_text(body, "utf-8")
    with open(out / "labels.jsonl", "w", encoding="utf-8") as fh:
        for lab in labels:
            fh.write(json.dumps(lab, ensure_ascii=False) + "\n")
    summary = {"n": n, "seed": seed, "bytes": total_bytes, "aeb": bool(aeb),
               "real_paragraphs": {k: len(v) for k, v in pools.items()}, "counts": dict(sorted(stats.items()))}
    (out / "corpus.json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000, help="documents (default 5000)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--out", type=Path, required=True, help="output folder (raw/, labels.jsonl, corpus.json)")
    ap.add_argument("--aeb", type=Path, help="extraction ground-truth.jsonl: real English/German paragraphs")
    ap.add_argument("--html", type=float, default=0.1, help="share of documents written as HTML pages")
    ap.add_argument("--jsonl", type=float, default=0.0, help="share of the rest written into JSONL feeds")
    ap.add_argument("--hard-dups", action="store_true",
                    help="duplicates also truncated (first 35-80%% of paragraphs) and reordered (HARD_DUP_KINDS)")
    ap.add_argument("--teasers", action="store_true",
                    help="duplicates mostly feed teasers: an article's first paragraph or two and a link (TEASER_DUP_KINDS)")
    ap.add_argument("--lists", action="store_true",
                    help="half of the articles list-shaped, some in series sharing intro and closing (LIST_SHARE); "
                         "duplicates as --hard-dups")
    args = ap.parse_args(argv)
    if sum((args.hard_dups, args.teasers, args.lists)) > 1:
        ap.error("--hard-dups, --teasers and --lists are recipes: choose one")
    if (args.out / "raw").exists() and any((args.out / "raw").iterdir()):
        ap.error(f"{args.out}/raw is not empty")
    summary = build(args.out, args.n, args.seed, args.aeb, args.html, args.jsonl, hard_dups=args.hard_dups,
                    teasers=args.teasers, lists=args.lists)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
