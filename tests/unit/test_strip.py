"""Strip stage: rules as data, shapes, position, templates, replayable edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cleaner.config import StripConfig
from cleaner.document import Document, Source, replay
from cleaner.stages.strip import explain_lines, strip
from cleaner.stages.strip_rules import load_rules
from cleaner.stages.strip_shape import shape
from cleaner.state.templates import TemplateSnapshot, line_key

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted((ROOT / "tests" / "cases" / "strip").glob("*.json"))
CFG = StripConfig()


def _doc(text: str, html: bool = False) -> Document:
    doc = Document(id="t", source=Source(path="t.txt", sha256="0"), raw=b"", text=text)
    if html:
        doc.html = "<html></html>"
    return doc


def _run(text: str, **kw: object) -> Document:
    doc = _doc(text, bool(kw.pop("html", False)))
    strip(doc, CFG, **kw)  # type: ignore[arg-type]
    assert replay(text, doc.edits) == doc.text
    return doc


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_cases(path: Path) -> None:
    """A case holds for a plain-text scrape, and with "html": true also for text extracted
    from markup (where position does not apply: the rules alone must find the lines)."""
    case = json.loads(path.read_text(encoding="utf-8"))
    for html in (False, True) if case.get("html") else (False,):
        doc = _run(case["text"], html=html)
        for piece in case["kept"]:
            assert piece in doc.text, f"{path.stem} (html={html}): lost {piece!r}"
        for piece in case["removed"]:
            assert piece not in doc.text, f"{path.stem} (html={html}): kept {piece!r}"
        if not case["removed"]:
            assert doc.text == case["text"] and doc.edits == []


def _raw(name: str) -> str:
    return next((ROOT / "raw").glob(f"{name}_*.txt")).read_text(encoding="utf-8")


def test_sample_000_tail_offers_and_bio_go_article_stays() -> None:
    text = _raw("000")
    doc = _run(text)
    for gone in ("Join The Future", "HEUTE ABONNIEREN", "Sam Jeans", "Sam ist ein", "KOSTENLOSES PDF",
                 "Melden Sie sich", "Mit der Anmeldung", "Oktober 8, 2023", "\n×\n"):
        assert gone not in doc.text
    assert "Demonstranten kritisieren" in doc.text
    assert "Open-Source-KI wird ein kontroverses Thema bleiben" in doc.text
    rules = {e.rule for e in doc.edits}
    assert {"de:newsletter", "shape:author-bio", "any:symbol"} <= rules
    # paragraphs stay separated by exactly one blank line, no blank lines at the ends
    assert "\n\n\n" not in doc.text and not doc.text.startswith("\n")


def test_sample_001_head_labels_tail_bibliography() -> None:
    doc = _run(_raw("001"))
    for gone in ("Kategorien:", "No items found.", "Freigegeben:", "https://about.fb.com", "Was bedeutet das?",
                 "Bibliographie"):
        assert gone not in doc.text
    for kept in ("Einleitung", "Schlussfolgerung", "Die Open-Source-KI von Meta stellt"):
        assert kept in doc.text


def test_sample_004_bare_id_and_comment_prompt() -> None:
    doc = _run(_raw("004"))
    assert "source-116" not in doc.text and "Leave a Reply" not in doc.text
    assert doc.text.rstrip().endswith("so großes Chaos angerichtet hat.")


def test_sample_003_is_untouched() -> None:
    text = _raw("003")
    assert _run(text).text == text


def test_every_line_has_a_decision_and_explain_agrees_with_strip() -> None:
    text = _raw("000")
    decisions = explain_lines(text, CFG)
    assert [d.text for d in decisions] == text.split("\n")
    doc = _run(text)
    removed = {(e.rule, e.before.rstrip("\n")) for e in doc.edits if e.rule != "whitespace"}
    assert removed == {(d.rule, d.text) for d in decisions if not d.kept}
    assert all(d.rule for d in decisions if not d.kept)


def test_edits_name_file_and_rule() -> None:
    doc = _run(_raw("002"))
    rules = {e.rule for e in doc.edits}
    assert "zh:spam-adult" in rules and "zh:disclaimer" in rules and "zh:image-credit" in rules
    assert all(e.stage == "strip" for e in doc.edits)
    assert all(e.action == "remove" for e in doc.edits if e.rule != "whitespace")


def test_html_text_gets_no_position_cut() -> None:
    nav = "Home\nNews\nSports\nWeather\nOpinion\nArts\n\n"
    text = nav + "A long sentence of article prose that keeps going for a while here. " * 3
    doc = _run(text, html=True)
    assert doc.text.startswith("Home\nNews")
    plain = _run(text)
    assert "Home" not in plain.text and "News" not in plain.text
    assert plain.text.rstrip().endswith("for a while here.")


def test_no_prose_document_is_not_cut() -> None:
    text = "Stock Car 2018\n1a etapa: 10 de março\n2a etapa: 8 de abril\n3a etapa: 22 de abril"
    assert _run(text).text == text


def test_empty_text() -> None:
    assert _run("").text == ""


def test_template_lines_removed_with_page_counts() -> None:
    site = "example.com"
    header, footer = "Example Daily — your town, every day", "Powered by Example CMS"
    pages = [(site, [line_key(header), line_key(footer), line_key(f"unique {i}")]) for i in range(10)]
    snap = TemplateSnapshot.from_pages(pages)
    body = "The council voted on Tuesday to expand the library, a project that has divided the town for years."
    text = f"{header}\n\n{body}\n\n{body.replace('library', 'park')}\n\n{footer}"
    doc = _run(text, templates=snap, site=site, html=True)
    assert header not in doc.text and footer not in doc.text and body in doc.text
    notes = [e.note for e in doc.edits if e.rule == "template"]
    assert notes and notes[0] == "on 10 of 10 pages of example.com"


def test_template_never_removes_prose_in_the_middle() -> None:
    site = "example.com"
    repeated = "The company did not respond to a request for comment on Monday, a spokesperson said."
    snap = TemplateSnapshot.from_pages([(site, [line_key(repeated)])] * 10)
    first = "The mayor announced on Friday that the bridge will close for repairs during the summer months."
    last = "Drivers are advised to use the northern ring road, which will get an extra lane in June."
    text = f"{first}\n{repeated}\n{last}"
    assert _run(text, templates=snap, site=site, html=True).text == text


def test_template_needs_enough_pages() -> None:
    snap = TemplateSnapshot.from_pages([("a.org", [line_key("Menu line")])] * 2)
    text = "Menu line\n" + "A sentence of real article text that is long enough to count as prose. " * 2
    doc = _run(text, templates=snap, site="a.org", html=True)
    assert doc.text.startswith("Menu line")


def test_shape_counts_cjk_as_half_words() -> None:
    sh = shape("開放模型權重被指將導致失控，遭舉牌抗議。")
    assert sh.cjk == 18 and sh.units == pytest.approx(9.0) and sh.prose
    en = shape("Open models are debated in public.")
    assert en.units == 6 and en.ends


def test_rules_load_for_every_language_file() -> None:
    book = load_rules(("de", "en", "zh"))
    ids = {r.id for r in book.rules}
    assert {"de:newsletter", "en:newsletter", "zh:disclaimer", "any:bare-id"} <= ids
    rule = book.match("Leave a Reply", 3, False, False)
    assert rule is not None and rule.id == "en:comments"
    assert book.match("He decided to subscribe to the newsletter after the vote.", 10, False, False) is None


def test_unknown_language_is_a_usage_error() -> None:
    from cleaner.errors import UsageError

    with pytest.raises(UsageError):
        load_rules(("xx",))


def test_layout_markers_dates_and_comment_headers() -> None:
    from cleaner.stages.strip_layout import comment_header, dateish

    for line in ("November 19, 2019 at 6:34 am", "2 days ago at 07:52 am", "Wednesday November 20, 2019",
                 "Nov 7 23:05", "12.03.2021"):
        assert dateish(line, shape(line)), line
    for line in ("Week 12 power rankings (133)", "June 23 – Virginia Beach, VA @ Veterans United Amphitheater",
                 "The 2019 season was the best in years."):
        assert not dateish(line, shape(line)), line
    assert comment_header("joetoronto says:", shape("joetoronto says:"))
    assert comment_header("Gary M on September 17, 2018 at 8:50 pm said:", shape("x " * 10))
    assert not comment_header("He said, she said", shape("He said, she said"))


def test_timeline_of_dates_and_paragraphs_is_not_a_listing() -> None:
    from cleaner.stages.strip_layout import listings

    lines = []
    for day in range(1, 6):
        lines += [f"March {day}, 2021", f"On day {day} the river rose again, and the town moved sandbags."]
    assert listings(lines, [shape(x) for x in lines]) == []


def test_repeated_and_table_lines() -> None:
    from cleaner.stages.strip_layout import data_tables, repeated

    lines = ["Menu item", "A sentence of text.", "Menu item", "x"]
    assert repeated(lines, [shape(x) for x in lines]) == {0, 2}
    cells = ["Pos.", "Team", "Pts"]
    cells += [c for i in range(1, 5) for c in (str(i), f"Team {i}", str(40 - i))]
    assert data_tables(cells, [shape(x) for x in cells]) == set(range(len(cells)))
    menu = ["Home", "News", "Sport", "Weather", "Video", "Contact"] * 2
    assert data_tables(menu, [shape(x) for x in menu]) == set()


def test_about_heading_bio_at_the_end() -> None:
    body = "The council voted on Tuesday to expand the library, a project that has divided the town. " * 2
    bio = "Moritz Bachmann writes about local politics and has covered the town hall since 2015."
    text = f"{body}\n\n{body}\n\n{body}\n\nÜber Moritz Bachmann\n{bio}"
    doc = _run(text)
    assert "Über Moritz Bachmann" not in doc.text and bio not in doc.text and body.strip() in doc.text


# --- fast paths: each must give exactly what the full alternation gives -------------------

_TRICKY = [
    "Subscribe", "ſubscribe", "SUBSCRIBE NOW:", "Sign in", "Kontakt | Impressum | Datenschutz",
    "Share on Facebook", "3 Comments", "12 comments", "Posted on May 2, 2019", "By Jane Doe",
    "Tags: politics, city", "© 2024 Example Inc. All rights reserved.", "İmage: Reuters",
    "Photo: Getty Images", "We use cookies to improve your experience.", "This site uses cookies",
    "thiſ site uses cookies", "Read more »", "Mehr lesen", "分享到：微信 微博", "相关文章", "责任编辑：张三",
    "Buy viagra online without prescription, cheap pills", "casino | poker online | roulette",
    "x", "…", "#hashtag", "page-12", "0123456789abcdef0123", "Leave a Reply", "Weather",
]


def _sample_lines() -> list[str]:
    lines = {x.strip() for p in (ROOT / "raw").glob("*.txt") for x in p.read_text("utf-8").split("\n")}
    return sorted((lines | set(_TRICKY)) - {""})


def test_dispatch_gives_what_the_full_alternation_gives() -> None:
    from cleaner.stages.strip_match import fullmatch_rule, start_rule

    def rule_of(grp, m):  # type: ignore[no-untyped-def]
        return grp.rules[int(m.lastgroup[1:])] if m and m.lastgroup else None

    book = load_rules(("de", "en", "zh"))
    for rs in (book.latin, book.every):
        for s in _sample_lines():
            units = shape(s).units
            for disp in (rs.line_body, rs.line_edge, rs.line_edge_only):
                if disp.full is not None:
                    assert fullmatch_rule(disp, s) == rule_of(disp.full, disp.full.pattern.fullmatch(s)), s
            for groups in (rs.short_body, rs.short_edge, rs.short_edge_only):
                want = next((rule_of(d.full, d.full.pattern.match(s)) for lim, d in groups if units <= lim), None)
                assert start_rule(groups, s, units) == want, s
            for _, grp in rs.any_body:
                want = rule_of(grp, grp.pattern.search(s)) if grp.may_match(s.lower()) else None
                assert grp.search(s, s.lower()) == want, s
            if rs.spam is not None:
                want_spans = [m.span() for m in rs.spam.pattern.finditer(s)] if rs.spam.may_match(s.lower()) else []
                assert [m.span() for m in rs.spam.finditer(s, s.lower())] == want_spans, s


def test_edge_only_rules_finish_what_the_body_rules_left() -> None:
    book = load_rules(("de", "en", "zh"))
    for s in _sample_lines():
        sh = shape(s)
        if book.match(s, sh.units, False, sh.cjk > 0) is None:
            assert book.match_edge_only(s, sh.units, sh.cjk > 0) == book.match(s, sh.units, True, sh.cjk > 0), s


def test_first_matcher_follows_ignorecase() -> None:
    from cleaner.stages.strip_match import first_matcher

    m = first_matcher(r"(?:subscribe|sign ?in)", r"\s*:?")
    assert m is not None and all(m.match(c) for c in "sSſ") and not m.match("x")
    last = first_matcher(r"[a-z]+[-_]\d+", last=True)
    assert last is not None and last.match("7") and not last.match("a")
    assert first_matcher(r"(?:x)?") is None  # can match nothing: fires on any line


def test_dateish_long_line_counts_words_chunk_by_chunk() -> None:
    from cleaner.stages.strip_layout import _DATE_TOKENS, _WORD, dateish

    for line in ("Monday, March 3, 2021 at 10:15 am by the editors of this page " * 2,
                 "https://example.com/news/2024/07/a-story/ https://example.org/x/2023/01/y/",
                 "12.03.2021 " * 9):
        sh = shape(line.strip())
        direct = len(_WORD.findall(_DATE_TOKENS.sub(" ", line.strip()))) <= 3
        assert dateish(line.strip(), sh) == (direct and sh.units <= 12), line


# --- the per-line memo and the cheaper equivalents must not change a decision ------------------

_SAMPLES = sorted((ROOT / "raw").glob("*.txt"))
_ODD_TEXT = "  A\tb  12 \u00a0x\n\n\u3000Über  ẞ ١٢\x1c\n \n\u2028z\x0b\n\nMenu | Home | News | Sport\n"


def test_template_keys_are_line_keys() -> None:
    from cleaner.stages.strip_memo import template_keys
    from cleaner.state.templates import line_keys

    for text in [_ODD_TEXT, "", "\n\n", "a\udc80b\nc 1", *(p.read_text("utf-8") for p in _SAMPLES)]:
        assert template_keys(text) == line_keys(text)
        assert template_keys(text) == line_keys(text)  # from the memo


def test_decisions_do_not_depend_on_the_memo() -> None:
    """explain_lines with a cold memo, a warm one, and one emptied mid-way agree."""
    from cleaner.stages import strip_memo as strip_mod

    texts = [p.read_text("utf-8") for p in _SAMPLES] + [_ODD_TEXT]
    keys = [line_key(ln) for t in texts for ln in t.split("\n") if line_key(ln) is not None]
    snap = TemplateSnapshot({"s": (4, {k: 3 for k in keys})})

    def run() -> list[object]:
        return [explain_lines(t, CFG, snap, "s", html) for t in texts for html in (False, True)]

    strip_mod.clear_memo()
    cold = run()
    assert run() == cold
    old = strip_mod._MEMO_LINES
    try:
        strip_mod._MEMO_LINES = 5  # a new generation on every document
        strip_mod.clear_memo()
        assert run() == cold
        assert run() == cold
    finally:
        strip_mod._MEMO_LINES = old


def test_whitespace_pass_matches_lookbehind_pattern() -> None:
    import random
    import re

    from cleaner.stages.strip import _BLANK_RUN_AFTER_NL, _TRAIL, _WS, _WS_CHARS

    blank_run = re.compile(rf"(?<=\n){_WS}\n(?:{_WS}\n)+")
    rng = random.Random(3)
    for _ in range(3000):
        text = "".join(rng.choice(["\n", " ", "\t", "\u3000", "\u00a0", "x", "\n\n"]) for _ in range(rng.randint(0, 20)))
        want = [m.span() for m in blank_run.finditer(text)]
        assert [m.span(1) for m in _BLANK_RUN_AFTER_NL.finditer(text)] == want
        full = _TRAIL.search(text)
        tail = _TRAIL.search(text, len(text.rstrip(_WS_CHARS)))
        assert (full and full.span()) == (tail and tail.span())


def test_layout_markers_given_or_computed_agree() -> None:
    from cleaner.stages.strip_layout import comment_header, dateish, listings, repeated

    lines = [ln.strip() for p in _SAMPLES for ln in p.read_text("utf-8").split("\n") if ln.strip()]
    lines += ["Nov 19, 2019 at 6:34 am", "joe says:", "A title here", "Some prose that runs on. And on.",
              "Nov 20, 2019 at 7:00 am", "ann says:", "Another title", "More prose here, longer. Yes.",
              "Nov 21, 2019 at 8:00 am", "bob says:", "Third title", "Prose again and again. Fine.", "STRASSE x", "straße X"]
    shapes = [shape(t) for t in lines]
    markers = [(comment_header(t, s), dateish(t, s)) for t, s in zip(lines, shapes)]
    assert listings(lines, shapes, markers=markers) == listings(lines, shapes)
    want = {i for i, t in enumerate(lines) if shapes[i].units >= 2
            and sum(u.casefold() == t.casefold() for j, u in enumerate(lines) if shapes[j].units >= 2) > 1}
    assert repeated(lines, shapes) == want


_ARTICLE = (
    "The council approved the new budget on Tuesday after a long debate about the harbour.\n"
    "Members argued for hours over the cost of repairs, and the vote was closer than expected.\n"
    "The mayor said the decision would let work on the pier begin before the winter storms arrive."
)


def test_items_under_a_related_heading_go_with_it() -> None:
    text = (
        _ARTICLE + "\n\nMost read\n"
        "Nesta página você terá sempre a classificação atualizada da NASCAR até a última corrida!\n"
        "People across the nation are talking about it: the state is on the news again.\n"
        "Experience is thrilled to have a long time member as our new President and CEO.\n"
    )
    got = {d.text: d for d in explain_lines(text, StripConfig()) if d.text}
    assert all(got[line].kept for line in _ARTICLE.split("\n"))
    items = [line for line in text.split("Most read\n")[1].split("\n") if line]
    assert [got[line].rule for line in items] == ["layout:related-list"] * 3


def test_bulleted_items_under_a_related_heading_go_but_a_paragraph_after_a_blank_line_is_no_item() -> None:
    text = (
        "You may also like\n\n• Time is not on the senator's side.\n\n• Beauty company Coty is breaking out.\n\n"
        + _ARTICLE
        + "\n\nRelated\n\n"
        + "A paragraph after a blank line under the heading is not a list item: it has more words than a headline."
    )
    got = {d.text: d for d in explain_lines(text, StripConfig()) if d.text}
    assert got["• Time is not on the senator's side."].rule == "layout:related-list"
    assert got["• Beauty company Coty is breaking out."].rule == "layout:related-list"
    assert all(got[line].kept for line in _ARTICLE.split("\n"))
    assert got[text.rsplit("\n", 1)[1]].rule != "layout:related-list"  # (position may still cut it)


@pytest.mark.parametrize("byline", [
    "By Jane Doe | 2023-06-12", "Jane Doe · June 12, 2023 · 4 min read", "2023-06-12 — Jane Doe, Staff Writer",
    "June 12, 2023 — Jane Doe", "Von Jana Müller | 2023-06-12", "2023-06-12 · Text: Jana Müller",
    "12. März 2023 · Anna Schmidt", "記者王小明／2023-06-12", "2023-06-12 王小明報導",
])
def test_bylines_under_the_headline_go(byline: str) -> None:
    """Date and author lines in the shapes news and blog templates print them. They must go: the
    dedup head anchors on the first sentence-long line, and a byline (7-9 words with the date)
    is one, different on every site that carries the same article."""
    body = ("The council approved the plan to rebuild three bridges over the river after a decade of "
            "debate, officials said on Tuesday.\n\nEngineers expect the work to take four years and to "
            "cost about 120 million dollars, most of it paid by the state.")
    doc = _run(f"Bridges to be rebuilt\n\n{byline}\n\n{body}")
    assert byline not in doc.text and doc.text.startswith("Bridges to be rebuilt") and body in doc.text


def test_a_headline_cut_from_the_text_is_still_the_title() -> None:
    """A news scrape: menu, headline, 'Stand: <date>' line, text. Position cuts the headline
    with the menu (the text starts below the date line), but it is the page's title: strip
    records it in doc.title; a title already known (from markup) is left alone."""
    text = ("Politik\nWirtschaft\nSport\nHamburg: Neue Elbbrücke soll 2030 fertig sein\nStand: 12.03.2024, 09:41 Uhr\n"
            "Die Stadt Hamburg will bis 2030 eine neue Brücke über die Norderelbe bauen. Das hat der Senat am "
            "Dienstag beschlossen, nach langer Debatte.\nDie Kosten werden auf rund 400 Millionen Euro geschätzt. "
            "Der Bund übernimmt etwa die Hälfte davon.\n")
    doc = _run(text)
    assert doc.title == "Hamburg: Neue Elbbrücke soll 2030 fertig sein"
    assert "Hamburg: Neue Elbbrücke" not in doc.text and "Stand:" not in doc.text
    known = _doc(text)
    known.title = "From the markup"
    strip(known, CFG)
    assert known.title == "From the markup"


def test_date_stamps_between_headline_and_text_are_passed_over_to_the_headline() -> None:
    """'Headline, byline with date, date and reading time, text': the stamps are no rule's
    (position cuts them) and are neither the title nor headings; the headline above them is
    the title (tests/cases/strip/date_stamp_is_not_a_title_or_heading.json)."""
    case = json.loads((ROOT / "tests/cases/strip/date_stamp_is_not_a_title_or_heading.json").read_text(encoding="utf-8"))
    doc = _run(case["text"])
    assert doc.title == "Harbour Lights Festival 2018" and doc.text.startswith("The council met on Tuesday")
