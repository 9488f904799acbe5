"""Extract stage: main content, metadata, dropped-block log, limits.

The case pages in tests/cases/extract/ are hand-written (English, German, Chinese, an old
table layout, hidden spam); each lists snippets that must be in the text and snippets that
must not, trafilatura-style.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cleaner.config import ExtractConfig
from cleaner.document import Document, Source
from cleaner.errors import InputError
from cleaner.stages.extract import extract, extract_html
from cleaner.stages.extract_blocks import is_dateline
from cleaner.stages.extract_metadata import normalise_date, normalise_language, strip_site
from cleaner.stages.extract_prune import name_rule
from cleaner.stages.extract_score import Scores, wlen

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "extract"
CASES = json.loads((CASES_DIR / "cases.json").read_text("utf-8"))


def _doc(html: str | None, url: str | None = None) -> Document:
    return Document(id="x", source=Source(path="a.html", sha256="0" * 64, url=url), raw=b"", html=html, url=url)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_case_pages(case: dict) -> None:
    html = (CASES_DIR / case["file"]).read_text("utf-8")
    out = extract_html(html, case["url"])
    for snippet in case["with"]:
        assert snippet in out.text, f"missing {snippet!r}"
    for snippet in case["without"]:
        assert snippet not in out.text, f"kept boilerplate {snippet!r}"
    assert out.title == case["title"]
    assert out.published == case["published"]
    assert out.language == case["language"]
    assert out.url == case["canonical"]
    rules = {rule for rule, _, _ in out.dropped}
    assert set(case["dropped_rules"]) <= rules
    assert "\n\n\n" not in out.text and out.text == out.text.strip()


def test_extract_sets_document_and_logs_drops() -> None:
    html = (CASES_DIR / "en_news_wordpress.html").read_text("utf-8")
    doc = extract(_doc(html, "https://riverside.example/?p=123"), ExtractConfig())
    assert doc.text.startswith("The city council voted")
    assert doc.title == "City Council Approves New Bike Lanes"
    assert doc.url == "https://riverside.example/news/2021/04/bike-lanes/"
    assert doc.source.url == "https://riverside.example/?p=123"  # the input URL stays on the source
    assert doc.published == "2021-04-12T08:30:00+02:00" and doc.language == "en"
    assert doc.edits and all(e.stage == "extract" and e.action == "remove" for e in doc.edits)
    assert all(e.start == -1 and e.end == -1 and e.before for e in doc.edits)
    comments = [e for e in doc.edits if e.rule == "comments"]
    assert comments and comments[0].note == "div#comments.comments-area"
    assert "Finally! I have been waiting" in comments[0].before
    spam = [e for e in doc.edits if e.rule == "hidden"]
    assert any("casino" in e.before for e in spam)


def test_extract_keeps_preset_url_without_canonical() -> None:
    html = "<html><body><article><p>" + "A sentence of the article, long enough. " * 5 + "</p></article></body></html>"
    doc = extract(_doc(html, "https://warc.example/target"), ExtractConfig())
    assert doc.url == "https://warc.example/target"
    assert doc.text.startswith("A sentence of the article")


def test_extract_leaves_non_html_alone() -> None:
    doc = _doc(None)
    doc.text = "plain text input"
    assert extract(doc, ExtractConfig()) is doc
    assert doc.text == "plain text input" and not doc.edits


def test_logged_text_is_truncated() -> None:
    html = "<html><body><nav>" + "menu " * 1000 + "</nav><p>" + "Body text, with commas, here. " * 10 + "</p></body></html>"
    out = extract_html(html)
    nav = [d for d in out.dropped if d[0] == "nav"]
    assert nav and len(nav[0][2]) == 2000


def test_page_over_byte_limit_is_quarantined() -> None:
    with pytest.raises(InputError) as err:
        extract(_doc("<p>" + "x" * 2000 + "</p>"), ExtractConfig(max_html_bytes=1000))
    assert err.value.stage == "extract" and "over the limit of 1000" in err.value.reason


def test_page_over_element_limit_is_quarantined() -> None:
    html = "<html><body>" + "<p>x</p>" * 5000 + "</body></html>"
    with pytest.raises(InputError) as err:
        extract(_doc(html), ExtractConfig(max_elements=1000))
    assert "page has 5002 elements, over the limit of 1000" in err.value.reason


def test_pathological_pages_finish_quickly() -> None:
    deep = "<html><body>" + "<div>" * 100_000 + "text" + "</div>" * 100_000 + "</body></html>"
    one_line = "<html><body><p>" + "word, " * 300_000 + "</p></body></html>"
    start = time.perf_counter()
    extract_html(deep)
    out = extract_html(one_line)
    assert time.perf_counter() - start < 5
    assert out.text.startswith("word, word,")


@pytest.mark.parametrize("html", ["", "   ", "<?xml version='1.0' encoding='utf-8'?>", "<html></html>", "just text, no tags"])
def test_degenerate_pages(html: str) -> None:
    out = extract_html(html)
    assert isinstance(out.text, str)


def test_xml_declaration_is_accepted() -> None:
    html = "<?xml version='1.0' encoding='utf-8'?><html><body><p>" + "Sentence, one more. " * 6 + "</p></body></html>"
    assert extract_html(html).text.startswith("Sentence, one more.")


def test_structure_headings_lists_tables() -> None:
    html = """<html><body><div class="post">
      <h2>Section heading</h2>
      <p>First paragraph of the article, with enough text to count as prose here.</p>
      <p>Second paragraph, also long enough, with a comma or two, to be scored.</p>
      <ol><li>one item</li><li>two <b>bold</b> item</li></ol>
      <table><tr><th>Name</th><th>Value</th></tr><tr><td>a</td><td>1</td></tr></table>
      <pre>code  keeps   spacing</pre>
      <p>Line one<br>line two</p>
    </div></body></html>"""
    text = extract_html(html).text
    assert text.split("\n\n") == [
        "Section heading",
        "First paragraph of the article, with enough text to count as prose here.",
        "Second paragraph, also long enough, with a comma or two, to be scored.",
        "- one item\n- two bold item",
        "Name | Value\na | 1",
        "code  keeps   spacing",
        "Line one\nline two",
    ]


def test_link_dense_list_inside_article_is_dropped() -> None:
    links = "".join(f'<li><a href="/{i}">Other story number {i}</a></li>' for i in range(8))
    html = f"""<html><body><article>
      <p>The article text goes on for a while, with commas, clauses and full stops.</p>
      <p>Another paragraph of the article, again with commas, so it scores well.</p>
      <ul>{links}</ul></article></body></html>"""
    out = extract_html(html)
    assert "Other story number" not in out.text
    assert any(rule == "link-density" for rule, _, _ in out.dropped)


def test_comments_do_not_win_over_a_short_article() -> None:
    comment = "<div class='comment'><p>" + "I disagree with this, strongly, and here is why. " * 4 + "</p></div>"
    html = f"""<html><body><div class="story"><p>A short article, with a comma, and a full stop at the end.</p>
      <p>It has two paragraphs, both of them modest in length, like many news briefs.</p></div>
      <div id="comments">{comment * 6}</div></body></html>"""
    out = extract_html(html)
    assert "short article" in out.text and "I disagree" not in out.text


def test_a_teaser_grid_does_not_win_over_a_short_article() -> None:
    """Eight cards (linked headline, excerpt) of a "More from" grid hold more prose than a
    two-paragraph article; the excerpts earn nothing, the article is the text."""
    cards = "".join(
        f'<div class="card"><h3><a href="/s{i}">Story number {i} about the town</a></h3><p>The teaser of '
        f"story {i}, which tells readers a little about what happened in the town this week, and more.</p></div>"
        for i in range(8)
    )
    html = f"""<html><body><main><article><h1>Bridge reopens after repairs</h1>
      <p>The old river bridge reopened to traffic on Friday after eight months of repairs.</p>
      <p>Drivers had faced a detour of twelve kilometres while it was closed.</p></article>
      <section class="more"><h2>More from the town</h2>{cards}</section></main></body></html>"""
    out = extract_html(html)
    assert "old river bridge reopened" in out.text and "The teaser of story" not in out.text


def test_a_long_reads_anchored_section_headings_are_not_teaser_cards() -> None:
    """A long read in <section>s, each a heading with an anchor (<a id>, the table of contents'
    target) and a paragraph: small containers opened by a link-like heading, but the link
    goes nowhere else. Its paragraphs keep their points, and the article wins over an
    'about us' block beside it."""
    secs = "".join(
        f'<section><h2><a id="part{i}">Part {i} of the story</a></h2><p>Paragraph {i} of a long read, with a '
        f"comma, and another clause, and a full stop.</p></section>"
        for i in range(6)
    )
    html = f"""<html><body><div><article><h1>A long read</h1>{secs}</article><div class="about"><p>We are a small
      magazine, founded in 2001, and we publish long reads, essays, and interviews, every week.</p><p>Our writers
      live in twelve countries, and they write, edit, and fact-check every story themselves.</p></div></div>
      </body></html>"""
    assert extract_html(html).text.count("of a long read") == 6


def test_a_twin_part_of_the_article_whose_paragraphs_lie_deep_is_kept() -> None:
    """An article in parts (the same tag and class, figures between), one of them wrapping its
    paragraphs in more layers than the points flow up through: it has no score, but as the
    top container's twin with text and few links it is the article's too."""
    deep = "<p>Deep part paragraph, with a comma, that starts the story and sets the scene for the rest.</p>" * 4
    for _ in range(6):
        deep = f"<div>{deep}</div>"
    flat = "".join(f"<p>Flat part paragraph {i}, with a comma, and some more words to score.</p>" for i in range(8))
    html = f"""<html><body><div id="postBody"><div class="acf-content">{deep}</div><figure></figure>
      <div class="acf-content">{flat}</div></div></body></html>"""
    out = extract_html(html)
    assert "Deep part paragraph" in out.text and "Flat part paragraph 7" in out.text


def test_a_listicles_linked_headlines_keep_their_paragraphs() -> None:
    """A buying guide's items are linked headlines and paragraphs too, but side by side in the
    article's one container: not teaser cards."""
    items = "".join(
        f'<h2><a href="https://shop.example/p{i}">Cordless drill model {i}</a></h2><p>This drill is light, quiet '
        f"and strong enough for brick walls, and its battery lasted longer than most in our test.</p>"
        for i in range(6)
    )
    html = f"""<html><body><div class="page"><div class="post"><h1>The best cordless drills</h1>
      <p>We tested eleven drills in a rented flat. These six are the ones worth your money.</p>{items}</div>
      <div class="about"><p>Tool Test is an independent review site, and we buy every product we test with our
      own money, so you can trust what we write.</p></div></div></body></html>"""
    out = extract_html(html)
    assert "Cordless drill model 5" in out.text and out.text.count("This drill is light") == 6


def test_old_table_layout_with_br_paragraphs_is_not_a_data_table() -> None:
    """An old CMS page: a menu cell, the article as text broken by <br><br>, an ad cell. The
    table lays out the page; read as a data table, the article came out as one row with a
    leading cell separator ("| Flood defences ...")."""
    html = """<html><body><table><tr><td class="nav"><a>Home</a><br><a>Archive</a><br><a>Contact</a></td>
      <td class="text"><b>Flood defences to be raised</b><br><br>The council will raise the flood wall along
      the harbour by half a metre next year, after two winters in which the water came over it.<br><br>Work
      will start in March and is expected to take six months.<br><br>Residents can see the plans at the town
      hall.</td><td class="ads"><a>Advertise here</a></td></tr></table></body></html>"""
    out = extract_html(html)
    assert out.text.startswith("Flood defences to be raised\n\nThe council will raise")
    assert "|" not in out.text and "Work will start in March" in out.text


def test_a_javascript_shell_is_cleaned_from_its_json_ld_article_body() -> None:
    """A page that renders its article with JavaScript: the markup holds a menu, a noscript
    notice and a footer, the text only the JSON-LD articleBody. Its paragraphs are the text."""
    body = "The council approved the budget on Tuesday.\\n\\nThe opposition called it short-sighted, &amp; said so."
    html = f"""<html><head><script type="application/ld+json">{{"@context": "https://schema.org", "@graph": [
      {{"@type": "WebPage"}}, {{"@type": "NewsArticle", "headline": "Budget", "articleBody": "{body}"}}]}}</script>
      </head><body><nav><a>Home</a> <a>News</a></nav><div id="app"><p>Please enable JavaScript to read this
      article.</p></div><footer>Valley News</footer></body></html>"""
    out = extract_html(html)
    assert out.text == "The council approved the budget on Tuesday.\n\nThe opposition called it short-sighted, &amp; said so."
    assert any(rule == "json-ld-body" for rule, _, _ in out.dropped)


def test_of_several_json_ld_bodies_the_one_headed_by_the_title() -> None:
    """A JSON-LD list of articles, each with its body: the page's is the one whose headline is
    the page's title; with no such one, none is used."""
    items = [{"@type": "NewsArticle", "headline": h, "articleBody": f"{h} body, which is long enough to matter here."}
             for h in ("Other story", "Budget passes", "Third story")]
    ld = json.dumps({"@graph": items})
    page = "<html><head><title>{t}</title><script type='application/ld+json'>{ld}</script></head><body><p>x</p></body></html>"
    assert extract_html(page.format(t="Budget passes", ld=ld)).text == "Budget passes body, which is long enough to matter here."
    assert extract_html(page.format(t="Something else", ld=ld)).text == "x"


def test_visible_text_wins_over_a_json_ld_summary() -> None:
    """An articleBody shorter than the visible text (a summary) changes nothing."""
    html = """<html><head><script type="application/ld+json">{"articleBody": "A short summary."}</script></head>
      <body><article><p>The full article, with a comma, is here, and it is longer than the summary.</p>
      <p>A second paragraph, with a comma too, follows it.</p></article></body></html>"""
    out = extract_html(html)
    assert "The full article" in out.text and "A short summary" not in out.text


def _story(headline: str, words: str, n: int, tag: str = "h1") -> str:
    paragraphs = "".join(f"<p>{words} {i}: it was decided, after a long debate, and people were pleased.</p>" for i in range(n))
    return f'<article class="story"><{tag}>{headline}</{tag}>{paragraphs}</article>'


def test_the_next_story_loaded_below_the_page_is_not_its_text() -> None:
    """A site that appends the next story (a whole <article> with its own <h1>) as the reader
    scrolls: the text is the article whose headline is the page's title."""
    html = f"""<html><head><title>Council spends more on roads | Town Times</title></head><body><main>
      {_story("Council spends more on roads", "Council paragraph", 4)}<div>Next story</div>
      {_story("Club signs new coach", "Club paragraph", 6)}</main></body></html>"""
    out = extract_html(html)
    assert "Council paragraph 3" in out.text and "Club paragraph" not in out.text
    assert any(rule == "another-article" for rule, _, _ in out.dropped)


def test_live_blog_entries_are_all_kept() -> None:
    """Entries of a live blog are <article> elements too, headed by <h2>: all of them stay."""
    entries = "".join(_story(f"10:{i}0 update", f"Entry {i} paragraph", 1, "h2") for i in range(5))
    html = f"""<html><head><title>Storm live | Town Times</title></head><body><main><h1>Storm live</h1>
      {entries}</main></body></html>"""
    out = extract_html(html)
    assert all(f"Entry {i} paragraph 0" in out.text for i in range(5))


def test_cards_that_are_links_inside_the_article_column_are_dropped() -> None:
    """A "Recommended for you" block in the article's column: each card a link around its
    headline and a punctuated teaser sentence. Nearly all of its text is link text: it goes,
    though it reads like prose."""
    cards = "".join(
        f'<a class="rec" href="/r{i}"><h3>Recommended story {i}</h3><p>A teaser for story {i}, which is about '
        f"something else, entirely, and longer.</p></a>"
        for i in range(6)
    )
    html = f"""<html><body><div class="col"><h1>Ferry service resumes</h1>
      <p>The ferry between the island and the mainland resumed on Thursday, after the pier was repaired.</p>
      <p>The operator said timetables would be back to normal by the weekend, and tickets refunded.</p>
      <div class="recs"><h2>Recommended for you</h2>{cards}</div></div></body></html>"""
    out = extract_html(html)
    assert "The ferry between the island" in out.text and "A teaser for story" not in out.text


def test_title_prefers_h1_and_strips_site_name() -> None:
    html = "<html><head><title>Big News Today | The Paper</title></head><body><h1>Big News Today</h1></body></html>"
    assert extract_html(html).title == "Big News Today"
    assert strip_site("Big News Today | The Paper") == "Big News Today"
    assert strip_site("The Paper - Big News Today, in full") == "Big News Today, in full"
    assert strip_site("Story title — Section — Site") == "Story title — Section"
    assert strip_site("News | The Paper", "The Paper") == "News"
    assert strip_site("No separator here") == "No separator here"


@pytest.mark.parametrize(
    ("head", "h1s", "expected"),
    [
        # the site's branding <h1>, named by og:site_name: the post's own <h1> is the headline
        ('<title>Team spotlight: Ada Quinn - The Harbour Blog</title><meta property="og:title" '
         'content="Team spotlight: Ada Quinn"><meta property="og:site_name" content="The Harbour Blog">',
         ["The Harbour Blog", "Team spotlight: Ada Quinn"], "Team spotlight: Ada Quinn"),
        # without og:site_name, og:title names the headline side: the other side is branding
        ('<title>Council backs the new ferry - News from the Valley</title>'
         '<meta property="og:title" content="Council backs the new ferry">',
         ["News from the Valley"], "Council backs the new ferry"),
        # a short headline beside a longer site name, no og:title naming a side
        ("<title>Oakhollow - Wikimundo, the open encyclopedia</title>", ["Oakhollow"], "Oakhollow"),
        # the <h1> headline that the <title> holds wins over a shorter social og:title
        ('<title>Volunteers Rescue Stranded Hikers After Two Nights on the Ridge - Valley News</title>'
         '<meta property="og:title" content="Volunteers rescue stranded hikers">',
         ["Volunteers Rescue Stranded Hikers After Two Nights on the Ridge"],
         "Volunteers Rescue Stranded Hikers After Two Nights on the Ridge"),
    ],
)
def test_title_is_the_headline_not_the_sites_branding(head: str, h1s: list[str], expected: str) -> None:
    body = "".join(f"<h1>{h}</h1>" for h in h1s) + "<p>" + "Some words of the article body. " * 20 + "</p>"
    assert extract_html(f"<html><head>{head}</head><body>{body}</body></html>").title == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("en-US", "en"), ("de_DE", "de"), ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"), ("zh-Hant-TW", "zh-Hant"),
     ("zh-CN", "zh-Hans"), ("zh-hans", "zh-Hans"), ("zh", "zh"), ("", None), ("12", None), ("ja", "ja")],
)
def test_normalise_language(tag: str, expected: str | None) -> None:
    assert normalise_language(tag) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2019-11-19T13:03:00.000Z", "2019-11-19T13:03:00+00:00"), ("2020-1-5", "2020-01-05"),
     ("2021-04-12T08:30+0200", "2021-04-12T08:30:00+02:00"), ("Posted 2018-10-09 7:05", "2018-10-09T07:05:00"),
     ("2019-02-30", None), ("yesterday", None)],
)
def test_normalise_date(value: str, expected: str | None) -> None:
    assert normalise_date(value) == expected


def test_published_from_jsonld_and_time() -> None:
    ld = '<script type="application/ld+json">{"datePublished": "2020-05-01T10:00:00Z"}</script>'
    assert extract_html(f"<html><head>{ld}</head><body><p>x</p></body></html>").published == "2020-05-01T10:00:00+00:00"
    timed = '<html><body><time datetime="2018-03-04">4 March</time><p>x</p></body></html>'
    assert extract_html(timed).published == "2018-03-04"


@pytest.mark.parametrize(
    ("shown", "expected"),
    [("2023年12月05日 09:15", "2023-12-05T09:15:00"), ("November 19, 2019, 07:47 PM EST", "2019-11-19T19:47:00"),
     ("19 NOV 2019", "2019-11-19"), ("12. März 2024, 09:41 Uhr", "2024-03-12T09:41:00"), ("5 min read", None)],
)
def test_published_from_the_visible_date_under_the_headline(shown: str, expected: str | None) -> None:
    """No date for machines (meta, JSON-LD, itemprop, <time>): the date shown under the <h1>,
    in an element named for it, as Chinese portals and many blogs print it."""
    html = f"""<html><body><div class="sidebar"><span class="date">1 January 2001</span></div>
      <h1>Headline</h1><div class="meta"><span class="date">{shown}</span></div><p>Text.</p></body></html>"""
    assert extract_html(html).published == expected


@pytest.mark.parametrize(
    ("name", "rule"),
    [("article-footer", "footer"), ("has-sidebar", None), ("content-with-sidebar", None), ("sidebar", "aside"),
     ("relatedPosts", "related"), ("relatedpoststitle", "related"), ("social-media-embed", None),
     ("share-article", "share"), ("modal-enabled", None), ("comment-list", "comments"), ("commentary", None),
     ("main-content", None), ("cookie-consent", "cookie"), ("ad-slot", "ad"), ("header", None), ("thread", None)],
)
def test_name_rule(name: str, rule: str | None) -> None:
    assert name_rule(name) == rule


def test_script_aware_length() -> None:
    assert wlen("abc") == 3
    assert wlen("中文字") == 9  # a CJK character weighs about as much as a short word
    assert wlen("a中") == 4


@pytest.mark.parametrize(
    ("line", "expected"),
    [("Updated 5:27 am CST, Wednesday, November 20, 2019", True), ("November 20, 2019 Emiliano Bellini", True),
     ("segunda-feira, 22 de janeiro de 2018 às 0:13", True), ("2022年3月5日", True),
     ("— Rep. Someone (@handle) November 19, 2019", False), ("Results of the 2019 election", False),
     ("It happened on November 20, 2019.", False)],
)
def test_dateline(line: str, expected: bool) -> None:
    assert is_dateline(line) is expected


def test_extract_html_is_pure() -> None:
    html = (CASES_DIR / "de_blog.html").read_text("utf-8")
    assert extract_html(html) == extract_html(html)


def test_page_without_prose_keeps_its_text_and_logs_nothing_it_kept() -> None:
    out = extract_html("<html><body><div>short one</div><div>short two</div></body></html>")
    assert out.text == "short one\n\nshort two"
    assert out.dropped == []


def test_whitespace_collapse_is_the_regex() -> None:
    """split/join stands in for the \\s+ substitution; the renderer's ASCII fast path for
    its own whitespace class."""
    import re

    from cleaner.stages.extract_render import _ASCII_SEPARATORS, _INLINE_WS
    from cleaner.stages.extract_score import collapse

    space = re.compile(r"\s+")
    for c in range(0x3100):  # every whitespace character Python knows is below U+3100
        ch = chr(c)
        if 0xD800 <= c <= 0xDFFF:
            continue
        for text in (f" a{ch}b ", ch, f"{ch}{ch}x", f"x {ch}\t"):
            assert collapse(text) == space.sub(" ", text).strip()
            if text.isascii() and not _ASCII_SEPARATORS.search(text):
                assert " ".join(text.split()) == _INLINE_WS.sub(" ", text).strip()


def test_rescoring_after_removals_reuses_only_unchanged_paragraphs() -> None:
    """Scores(body, previous, changed) equals a fresh Scores(body): same scores in the same
    order, same lengths, after removing elements at several depths (tails kept)."""
    from lxml import etree

    from cleaner.stages.extract import parse
    from cleaner.stages.extract_prune import remove_keep_tail

    for case in CASES:
        html = (CASES_DIR / case["file"]).read_text("utf-8")
        for step in (2, 3, 5):
            root = parse(html)
            assert root is not None
            body = root.find("body")
            body = root if body is None else body
            full = Scores(body)
            victims = [el for el in body.iter() if isinstance(el.tag, str) and el is not body][1::step]
            changed: set[etree._Element] = set()
            for el in victims[:40]:
                changed.update(el.iterancestors())
                remove_keep_tail(el)
            fresh, reused = Scores(body), Scores(body, full, changed)
            assert list(reused.score.items()) == list(fresh.score.items())
            assert reused.measure.length == fresh.measure.length
            assert reused.measure.links == fresh.measure.links


def test_line_edges_strip_what_str_strip_does_but_the_mojibake_bytes() -> None:
    """extract_render._EDGE_WS, written out: every character str.strip removes but the no-break
    space and NEL (bytes A0 and 85 of a character read as cp1252 or Latin-1), plus ZWSP."""
    from cleaner.stages.extract_render import _EDGE_WS

    expected = {chr(c) for c in range(0x110000) if chr(c).isspace()} - {"\xa0", "\x85"} | {"\u200b"}
    assert set(_EDGE_WS) == expected
