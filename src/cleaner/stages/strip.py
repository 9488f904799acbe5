"""Strip stage: remove boilerplate and spam lines, each removal logged with the rule that fired.

Decisions are made per line, in this order (first hit wins):

1. injected spam: keyword lists and link lists built from spam vocabulary (`<file>:spam-*`);
2. rules kept as data in rules/<lang>.toml (`<file>:<name>`), some valid only at the edges
   (before the first / after the last prose line; a prose line at an end that an edge rule
   removes, "The post X appeared first on Y.", does not count as one);
3. shapes: bare URL lists, keyword/link lists (`shape:*`), author bio blocks at the end;
   everything after a comment section's heading that follows the article ("12 comments",
   "Kommentare (8)", "Leave a Reply": `layout:comments`; a bare "Comments" is a button or a
   tag as often as a heading);
4. site templates: a line that recurs on many pages of the same site (`template`), unless
   it reads as article prose in the middle of the page;
5. layout (plain-text scrapes only, strip_layout.py): listings of dated records and
   comment threads (`layout:listing`), runs of headline/excerpt teasers (`layout:teasers`),
   the items under a "Related" / "Most read" heading (`layout:related-list`);
   lines printed twice on the page, data tables scraped one cell a line and the rows of a
   list printed from one template (a product and its price, a date and its venue: rows that
   share their digits and symbols, `templated_rows`) are marked as evidence for step 6;
6. position (plain-text scrapes only): the article is the highest-scoring run of lines, where
   a long, sentence-punctuated line scores its length and a short or unpunctuated line costs a
   little (a line-level body-text-extraction window, as in Finn et al.'s BTE and boilerpipe),
   a repeated line is neutral, a table cell earns a little, plus runs beside it that score
   most of what it scores (a quarter, for a run before it with only removed lines between:
   the article's opening, cut off by an inline block). Lines outside the runs are menus,
   teasers and footers (`position:head`, `position:tail`, `position:gap`), except a
   title-like first line and up to two headings right above a run (not the last items of a
   menu). The headline above the text is the page's title (`doc.title`) where position cuts
   it too. Short lines INSIDE a run (subheadings, list items) stay.
   A numbered list right after a run (1), 2), 3) ... in sequence) continues it. A run on
   the far side of a list (lines led by quantities or bullets: a recipe's ingredients) needs
   only a quarter too, and lines between two runs that no rule removed are the article's.
   Beyond an interruption (an ad marker, a "Read also: ..." line) any sentence of prose is
   the article's, and a widened weak run (below) passes over interruptions. A weak
   main run (a sentence or two of prose) is no evidence that the lines around it are
   furniture: it takes in the unruled lines around it, up to a ruled line or a menu (a
   list-shaped article: a meal plan, a schedule, a checklist).

Text extracted from HTML is already mostly article, so there only 1-4 apply.
Every check of steps 1-3 (and the layout markers) is a function of the line's text alone,
so its result is remembered per distinct line across documents (`_Seen`): menus, footers and
template lines recur on every page of a site and are looked at once per process.
`explain_lines` returns the decisions; `strip` applies exactly those, so the two never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from cleaner.config import StripConfig
from cleaner.document import Document, Edit, Rewriter
from cleaner.stages.strip_layout import (
    comment_header,
    data_tables,
    date_stamp,
    dateish,
    glued_teasers,
    listings,
    related_lists,
    repeated,
    row_key,
    teaser_records,
    templated_rows,
)
from cleaner.stages.strip_memo import _UNSET, _Check, _line_key, _memo, _Seen, known_key
from cleaner.stages.strip_rules import Rule, RuleBook, load_rules
from cleaner.stages.strip_shape import (
    ABOUT,
    AUTHOR_HEADING,
    Shape,
    bio_follows,
    bio_sentence,
    is_name,
    list_shape,
    segments,
    shape,
)
from cleaner.state.templates import TemplateSnapshot

STAGE = "strip"
_EDGE_PROSE = 3  # prose lines at each end of a document that get every rule check


@dataclass(frozen=True, slots=True)
class LineDecision:
    """One line of the stage input and what strip does with it (for `cleaner explain`)."""

    text: str
    kept: bool
    rule: str = ""
    note: str = ""
    start: int = 0  # offset of the line in the stage input
    end: int = 0  # offset just past the line (its newline excluded)


@dataclass(slots=True)
class _Line:
    index: int
    start: int
    end: int
    text: str
    stripped: str
    shape: Shape
    seen: _Seen
    rule: str = ""
    note: str = ""
    repeat: bool = False  # printed more than once on the page
    table: bool = False  # part of a data table scraped one cell a line
    url: bool = False  # a bare URL (residue only at the edges)
    headline: bool = False  # the page's headline, kept or not (`strip` sets doc.title from it)


_Spam = tuple[str, str, int] | None


def _spam(book: RuleBook, stripped: str, sh: Shape, low: str | None = None) -> _Spam:
    """Spam vocabulary in a line that does not read as prose: (rule, note, hits) or None."""
    if sh.prose:
        return None  # running text (an article about gambling law stays)
    hits, vocab = book.spam_hits(stripped, sh.cjk > 0, low)
    if hits == 0:
        return None
    parts = len(segments(stripped))
    return vocab, f"{hits} spam terms in {parts} segment(s)", hits if parts < 4 else hits + 1


def _spam_pass(book: RuleBook, nonblank: list[_Line]) -> None:
    """Keyword lists and keyword-stuffed lines (>= 3 terms, or >= 2 in a list of >= 4
    segments); runs of >= 3 short lines that each carry a spam term (hidden link lists)."""
    found: list[_Spam] = []
    for ln in nonblank:
        seen = ln.seen
        hit = seen.spam  # a menu printed twice (or on every page) is looked at once
        if hit is _UNSET:
            if ln.shape.prose:
                hit = seen.spam = None  # as _spam
            else:
                # A line that is not prose always gets the full check (_classify): both
                # searches take the same lower-cased line, made once here.
                low = ln.stripped.lower()
                hit = seen.spam = _spam(book, ln.stripped, ln.shape, low)
                if seen.check_full is _UNSET:
                    seen.check_full = _check(book, ln.stripped, ln.shape, True, low)
        found.append(hit)  # type: ignore[arg-type]
    if found.count(None) == len(found):
        return  # no spam vocabulary on the page (most pages)
    for i, (ln, hit) in enumerate(zip(nonblank, found, strict=True)):
        if hit is None:
            continue
        rule, note, score = hit
        if score >= 3:
            ln.rule, ln.note = rule, note
            continue
        lo, hi = i, i
        while lo > 0 and found[lo - 1] is not None:
            lo -= 1
        while hi + 1 < len(found) and found[hi + 1] is not None:
            hi += 1
        if hi - lo >= 2:
            ln.rule, ln.note = rule, f"{note}, in a run of {hi - lo + 1} spam lines"


def _template(
    ln: _Line, pages: int, total: int, site: str, min_pages: int, edge: bool
) -> tuple[str, str] | None:
    """Site chrome: the line recurs on `pages` of the site's `total` pages; article prose in
    the middle of a page is never template (repeated body text is dedup's business)."""
    if pages < min_pages:
        return None
    share = pages / total
    if edge:
        ok = share >= 0.2 or (ln.shape.units < 6 and share >= 0.05)
    else:
        ok = share >= 0.5 and not ln.shape.good
    return ("template", f"on {pages} of {total} pages of {site or '(root folder)'}") if ok else None


# Window scoring (tuned on the extraction dev set, see benchmarks/quality_strip.py): prose
# earns its length minus a toll, other lines cost a base plus a share of their length, a
# line a rule already removed is a strong boundary.
_W_RULE = -20.0
_W_GOOD_TOLL = 6.0
_W_PROSE_CAP, _W_PROSE_TOLL = 8.0, 4.0
_W_OTHER_BASE, _W_OTHER_SLOPE, _W_OTHER_CAP = 3.0, 0.75, 12.0
_W_TABLE = 1.0
_W_REPEAT = 0.0
_W_LONG = 15.0  # a line this long without sentence marks is a list item or a caption, not a menu
_MIN_RUN = 20.0  # a run must score this much to count as text at all
_SIDE_SHARE = 0.75  # a further run beside the main one must reach this share of its score
# ... or this share, for a run before a taken one with only removed lines between them: the
# article's opening, cut off from its body by a block a rule removed (an inline "More from"
# list, an ad marker, an image credit). Not after one: there, removed lines (a comment form,
# share buttons) usually end the article, and prose beyond them is a legal footer.
_OPENING_SHARE = 0.25
# A main run under this score is a sentence or two of prose: too little to call the lines
# around it furniture. A list-shaped article (a meal plan, a schedule, a spec sheet) looks
# like that, its items costing what menu entries cost. Its run then takes in the unruled
# lines around it, up to a line a rule removed or a menu (_MENU_LINES lines of one or two
# words in a row).
_WEAK_RUN = 40.0
_MENU_LINES, _MENU_UNITS = 3, 2
# A numbered list right after a run ("1) ...", "2) ...", in sequence, at least _LIST_ITEMS items,
# each item's link or note on up to _LIST_GAP lines of its own) continues the article: a
# listicle's products, a recipe's steps. Its items cost what menu entries cost, but menus and
# related-link lists are not numbered in sequence right below the text (a numbered "Most read"
# list sits under a heading a rule removes, and a removed line ends the list here).
_LIST_ITEM = re.compile(r"(\d{1,3})[.)]\s+\S")
_LIST_ITEMS, _LIST_GAP = 3, 2
# A list that a line ending with a colon introduces at a run's end continues it too: its items
# are 3-30 units long and no sentences (a game's features, a product's selling points).
_COLON_ITEM_UNITS = (3, 30)
# A list between two runs of prose (a recipe's ingredients between its introduction and its
# method, the products of a buying guide, tour dates): at least _LIST_ITEMS short lines that
# no rule removed, two thirds of them led by a quantity or a bullet (_ITEM_LEAD). The run on
# its far side then needs only _OPENING_SHARE of the main run's score: a quarter, like an
# opening cut off by an inline block. Without it, a list longer than a paragraph outweighs the
# prose beyond it, and a short introduction or closing paragraph was cut with the list.
_ITEM_LEAD = re.compile(r"[\d½¼¾⅓⅔⅛•·▪▸►✓✔*+–-]")
# An ad marker, a "Read also: ..." line, a site's promotion, an embedded player's placeholder or a shortcode
# printed unrendered between two paragraphs interrupts the article: the prose beyond it is the
# article's, down to one sentence (a positive score, _INLINE_MIN; a short news paragraph or a
# live blog's next entry scores well under a quarter of the main run), with at most
# _INLINE_BESIDE short unruled lines beside the interruption. The rule ids' last part names
# the interruptions. An image credit interrupts only below a run and alone: its caption sits
# above it, and the extraction dev set does not count captions as text; "SOURCE: News
# agencies" above tags ends a page.
_INLINE_RULES = ("ad-marker", "teaser-prefix", "media-embed", "shortcode", "promo", "caption")
_INLINE_MIN = 1.0
_RELATED = "layout:related-list"  # the rule id of a related-links box's items
_RELATED_BETWEEN = 9  # a related box between two runs of the text: its heading and up to 8 items
_INLINE_BESIDE = 2
_HEADLINE_REACH = 4  # lines above the text searched for its headline (_mark_headline)
# The tags under a bare "Tags" heading: one line of segments of at most _TAG_WORDS words.
_TAG_SPLIT = re.compile(r"\s*[,;|，、]\s*")
_TAG_WORDS = 6
# The heading of a comment section (what follows it is the readers'), in the languages of the
# rule files: the headings their `comments` rules know with a count or a call to write, not a
# bare "Comments" (a share bar's button, a tag) nor the buttons ("Reply", "Antworten").
_COMMENTS_HEADING = re.compile(
    r"\d+\s+(?:comments?|kommentare?)|(?:comments?|kommentare?|leserkommentare)\s*\(\d+\)"
    r"|leave a (?:reply|comment)|join the (?:discussion|conversation)"
    r"|schreibe einen kommentar|kommentar (?:schreiben|verfassen|hinterlassen)|diskutieren sie mit"
    r"|\d+\s*[条條]?[评評][论論]|(?:网友|網友)?[评評][论論]\s*[(（]\d+[)）]"
    r"|[发發]表[评評][论論]|我要[评評][论論]"
    r"|\d+\s+(?:comentários?|comentarios?|commentaires?|commenti|комментари(?:й|я|ев))"
    r"|(?:comentários|comentarios|commentaires|commenti|комментарии)\s*\(\d+\)"
    r"|deixe (?:um|seu) comentário|deja (?:un|tu) comentario|laisser un commentaire|lascia un commento"
    r"|оставить комментарий"
)
_COMMENTS_AFTER = 40.0  # units of article prose before a comment section's heading


def _weight(ln: _Line) -> float:
    """Score of a line for the main-run window: prose earns its length, the rest costs."""
    sh = ln.shape
    if ln.rule:
        return _W_RULE
    if ln.table:
        return _W_TABLE
    if ln.repeat:
        return _W_REPEAT
    if sh.good:
        return sh.units - _W_GOOD_TOLL
    if sh.prose or sh.units >= _W_LONG:
        return min(sh.units, _W_PROSE_CAP) - _W_PROSE_TOLL
    return -_W_OTHER_BASE - min(sh.units, _W_OTHER_CAP) * _W_OTHER_SLOPE


def _best_window(w: list[float], lo: int, hi: int) -> tuple[float, int, int]:
    """Max-sum window of w[lo:hi] (Kadane): (score, first, last)."""
    best, best_s, best_e = 0.0, -1, -1
    cur, cur_s = 0.0, lo
    for i in range(lo, hi):
        if cur <= 0:
            cur, cur_s = w[i], i
        else:
            cur += w[i]
        if cur > best:
            best, best_s, best_e = cur, cur_s, i
    return best, best_s, best_e


def _main_runs(lines: list[_Line]) -> list[tuple[int, int]]:
    """The main run plus runs beside it that score a fair share of it (an article split by
    a gallery or an embedded list); [] if the document has no prose run at all."""
    w = [_weight(ln) for ln in lines]
    score, s, e = _best_window(w, 0, len(w))
    if s < 0 or score < _MIN_RUN:
        return []
    if score < _WEAK_RUN:
        return [_widened(lines, s, e)]
    runs = [(s, e)]
    floor = max(_MIN_RUN, _SIDE_SHARE * score)
    opening = max(_MIN_RUN, _OPENING_SHARE * score)
    todo = [(0, s), (e + 1, len(w))]
    while todo:
        lo, hi = todo.pop()
        if hi - lo <= 0:
            continue
        sc, a, b = _best_window(w, lo, hi)
        if a >= 0 and (
            sc >= floor
            or sc >= opening and (_cut_off_before(lines, a, b, runs) or _list_between(lines, a, b, runs))
            or sc >= _INLINE_MIN and (_interrupted(lines, a, b, runs) or _related_between(lines, a, b, runs))
        ):
            runs.append((a, b))
            todo += [(lo, a), (b + 1, hi)]
    return [(a, _colon_list_end(lines, _list_end(lines, b))) for a, b in sorted(runs)]


def _colon_list_end(lines: list[_Line], e: int) -> int:
    """The last item of a list that a line ending with a colon, among a run's last two lines,
    introduces ("The game has:", then its features one a line): items of _COLON_ITEM_UNITS
    units that are not sentences, at least _LIST_ITEMS - 1 of them, up to a ruled line, a
    sentence or a label-short line (an image's file name). e where there is none. A related
    list's heading ends with a colon too, but a rule removes it, and so it ends no run."""
    intro = next((k for k in (e, e - 1) if k >= 0 and lines[k].stripped.endswith((":", "："))), None)
    if intro is None:
        return e
    lo, hi = _COLON_ITEM_UNITS
    j = intro + 1
    while j < len(lines) and not lines[j].rule and lo <= lines[j].shape.units <= hi and not lines[j].shape.good:
        j += 1
    last = j - 1
    return last if last - intro >= _LIST_ITEMS - 1 and last > e else e


def _list_end(lines: list[_Line], e: int) -> int:
    """The last line of the numbered list that starts within _LIST_GAP lines after line e
    (its items in sequence, each within _LIST_GAP + 1 lines of the one before; no line
    between removed, but an item's bare URL, which stays removed as at the page's end), or
    e where none does."""
    i = e + 1
    while i < len(lines) and i - e <= _LIST_GAP and _in_list(lines[i]) and not _LIST_ITEM.match(lines[i].stripped):
        i += 1
    m = _LIST_ITEM.match(lines[i].stripped) if i < len(lines) and not lines[i].rule else None
    if m is None:
        return e
    last, items, want = i, 1, int(m.group(1)) + 1
    j = i + 1
    while j < len(lines) and _in_list(lines[j]) and j - last <= _LIST_GAP + 1:
        m = _LIST_ITEM.match(lines[j].stripped)
        if m is not None and int(m.group(1)) == want:
            last, items, want = j, items + 1, want + 1
        j += 1
    if items < _LIST_ITEMS:
        return e
    while last + 1 < len(lines) and lines[last + 1].url and _in_list(lines[last + 1]):
        last += 1
    return last


def _in_list(ln: _Line) -> bool:
    return not ln.rule or ln.rule == "shape:bare-url"


def _gaps(lines: list[_Line], a: int, b: int, runs: list[tuple[int, int]]) -> Iterator[tuple[list[_Line], bool]]:
    """For each taken run: the lines between it and run a..b, and whether a..b lies below it."""
    for s, e in runs:
        yield (lines[e + 1 : a], True) if s < a else (lines[b + 1 : s], False)


def _list_between(lines: list[_Line], a: int, b: int, runs: list[tuple[int, int]]) -> bool:
    """Run a..b and a taken run have a list between them, and nothing else (_ITEM_LEAD)."""
    for gap, _ in _gaps(lines, a, b, runs):
        if len(gap) < _LIST_ITEMS or any(ln.rule or ln.shape.good for ln in gap):
            continue
        if 3 * sum(1 for ln in gap if _ITEM_LEAD.match(ln.stripped)) >= 2 * len(gap):
            return True
    return False


def _related_between(lines: list[_Line], a: int, b: int, runs: list[tuple[int, int]]) -> bool:
    """Run a..b lies below a taken run with only a related-links box between them: a teaser
    heading and the items its list rule removed ('Related' and two headlines in the middle
    of an article, whose text goes on below). Like an ad marker, the box interrupts the
    article: the prose below it is the article's down to one sentence (_INLINE_MIN). A box of
    headlines with excerpts does not pass: its list needs two headlines in a row
    (`strip_layout.related_lists`), and an excerpt follows each of its headlines."""
    for gap, below in _gaps(lines, a, b, runs):
        if below and 2 <= len(gap) <= _RELATED_BETWEEN and gap[0].rule.endswith(":teaser") and (
            _past_related_box(gap, 0) == len(gap)
        ):
            return True
    return False


def _past_related_box(lines: list[_Line], i: int) -> int:
    """Going down from line i of a related-links box (its teaser heading or an item of the
    list under it): the first line past the box; -1 where line i is neither, or is a heading
    with no list under it (the page's furniture)."""
    heading = lines[i].rule.endswith(":teaser")
    if not heading and lines[i].rule != _RELATED:
        return -1
    j = i + 1
    while j < len(lines) and lines[j].rule == _RELATED:
        j += 1
    return -1 if heading and j == i + 1 else j


def _inline(ln: _Line, after: bool = False) -> bool:
    """An interruption inside an article (an ad marker, a "Read also: ..." teaser); `after`:
    seen from the text above it, where an image credit is one too (its caption is above)."""
    kind = ln.rule.rpartition(":")[2]
    return kind in _INLINE_RULES or after and kind == "image-credit"


def _interrupted(lines: list[_Line], a: int, b: int, runs: list[tuple[int, int]]) -> bool:
    """Run a..b and a taken run have an interruption between them (_INLINE_RULES), with at
    most _INLINE_BESIDE short unruled lines beside it (a live blog's next time stamp; a
    footer menu with an "Advertising" link is many more); or, below a taken run, an image
    credit and nothing else ("SOURCE: agencies" above the tags ends a page)."""
    for gap, below in _gaps(lines, a, b, runs):
        inline = sum(1 for ln in gap if _inline(ln))
        if inline and len(gap) - inline <= _INLINE_BESIDE and all(
            _inline(ln) or not ln.rule and not ln.shape.good for ln in gap
        ):
            return True
        if below and gap and all(_inline(ln, True) for ln in gap):
            return True
    return False


def _cut_off_before(lines: list[_Line], a: int, b: int, runs: list[tuple[int, int]]) -> bool:
    """Run a..b lies above a taken run with only removed lines between them."""
    return any(not below and all(ln.rule for ln in gap) for gap, below in _gaps(lines, a, b, runs))


def _widened(lines: list[_Line], s: int, e: int) -> tuple[int, int]:
    """A weak run with the unruled lines around it, up to a ruled line or a menu; an
    interruption (_INLINE_RULES) does not stop it."""
    while s > 0 and _widens(lines, s - 1, -1):
        s -= 1
    while e + 1 < len(lines) and _widens(lines, e + 1, 1):
        e += 1
    return s, e


def _widens(lines: list[_Line], i: int, step: int) -> bool:
    """Line i is unruled and starts no menu, or is an interruption (one or more lines) with
    prose beyond it (an "Advertising" link in a footer menu has more menu beyond); below the
    run, a related-links box (a teaser heading, the items of its list) is one too."""
    if not lines[i].rule:
        return not _menu_from(lines, i, step)
    j = i
    while 0 <= j < len(lines) and _inline(lines[j], step > 0):
        j += step
    if j == i and step > 0:
        j = _past_related_box(lines, i)
        if j < 0:
            return False
    return j != i and 0 <= j < len(lines) and not lines[j].rule and lines[j].shape.good


def _menu_from(lines: list[_Line], i: int, step: int) -> bool:
    """Lines i, i + step, ... start a menu: _MENU_LINES short unruled lines in a row."""
    for k in range(_MENU_LINES):
        j = i + k * step
        if not 0 <= j < len(lines) or lines[j].rule or lines[j].shape.units > _MENU_UNITS:
            return False
    return True


_METADATA = ("date-line", "tags", "byline")


def _is_metadata(ln: _Line) -> bool:
    return ln.rule.rpartition(":")[2] in _METADATA


def _title_like(ln: _Line) -> bool:
    """A headline: not a label (':'), not a menu ("News | Politics | Economy": three
    segments or more), not a date stamp."""
    sh = ln.shape
    return (not ln.rule and 2 <= sh.units <= 30 and not ln.stripped.endswith((":", "："))
            and len(segments(ln.stripped)) < 3 and not _stamp(ln))


def _heading_like(ln: _Line) -> bool:
    """A heading above a run: short, not prose, not a menu of three segments or more, not a
    date stamp."""
    sh = ln.shape
    return (not ln.rule and 1 <= sh.units <= 14 and not sh.prose and len(segments(ln.stripped)) < 3
            and not _stamp(ln))


def _stamp(ln: _Line) -> bool:
    """`strip_layout.date_stamp`, remembered per distinct line."""
    got = ln.seen.stamp
    if got is None:
        got = ln.seen.stamp = date_stamp(ln.stripped, ln.shape)
    return got


def _layout(nonblank: list[_Line]) -> None:
    """Listings, teaser pairs, repeated lines and data tables (see strip_layout)."""
    texts = [ln.stripped for ln in nonblank]
    shapes = [ln.shape for ln in nonblank]
    markers = []
    rows = []
    for ln in nonblank:
        seen = ln.seen
        if seen.date is None:
            seen.head = comment_header(ln.stripped, ln.shape)
            seen.date = dateish(ln.stripped, ln.shape)
            seen.row = row_key(ln.stripped, ln.shape)
        markers.append((seen.head, seen.date))
        rows.append(seen.row or "")
    for a, b, n in listings(texts, shapes, markers=markers):
        for ln in nonblank[a : b + 1]:
            if not ln.rule:
                ln.rule, ln.note = "layout:listing", f"in a listing of {n} dated records or comments"
    for a, b in teaser_records(texts, shapes):
        for ln in nonblank[a : b + 1]:
            if not ln.rule:
                ln.rule, ln.note = "layout:teasers", "in a run of headline/excerpt teasers"
    for i in glued_teasers(texts):
        ln = nonblank[i]
        if not ln.rule:
            ln.rule, ln.note = "layout:glued-teaser", "a headline run into its summary: a teaser card scraped as one line"
    rules = [ln.rule for ln in nonblank]
    for a, b in related_lists(texts, shapes, rules, [ln.index for ln in nonblank]):
        for ln in nonblank[a : b + 1]:
            if not ln.rule:
                ln.rule, ln.note = _RELATED, "an item of the list under a related-links heading"
    for i in repeated(texts, shapes, _known_keys(nonblank)):
        nonblank[i].repeat = True
    for i in data_tables(texts, shapes) | templated_rows(rows):
        nonblank[i].table = True


def _known_keys(nonblank: list[_Line]) -> list[int] | None:
    """Every line's template key where all are known already (template counting keyed the
    page before strip), else None: computing missing keys costs more than they save."""
    keys: list[object] = []
    for ln in nonblank:
        key = ln.seen.key
        if key is _UNSET:
            key = known_key(ln.stripped)
            if key is _UNSET:
                return None
            ln.seen.key = key
        if key is None:
            return None
        keys.append(key)
    return keys  # type: ignore[return-value]


def _author_bio(nonblank: list[_Line], i: int, last_good: int) -> None:
    """Mark line i and its partner as an author box (`shape:author-bio`) where they read as one:
    a name line over a bio of that name, "About <name>" over a bio, or a bio sentence ("Name is
    a senior writer at ...", with a second trait of a bio) under an author-box heading or closing
    the page. Names and "About" lines only count in the second half of the page."""
    ln = nonblank[i]
    late = 2 * i >= len(nonblank)
    if late and i + 1 < len(nonblank) and is_name(ln.stripped, ln.shape):
        nxt = nonblank[i + 1]
        if not nxt.rule and bio_follows(ln.stripped, nxt.stripped):
            ln.rule, ln.note = "shape:author-bio", "author name above a biography"
            nxt.rule, nxt.note = "shape:author-bio", f"biography of {ln.stripped}"
    if not ln.rule and late and i + 1 < len(nonblank) and ln.shape.units <= 6:
        m = ABOUT.fullmatch(ln.stripped)
        nxt = nonblank[i + 1]
        if m and not nxt.rule and nxt.shape.prose and m.group(1).split()[-1] in nxt.stripped:
            ln.rule, ln.note = "shape:author-bio", "'About <name>' above a biography"
            nxt.rule, nxt.note = "shape:author-bio", f"biography of {m.group(1)}"
    if not ln.rule and ln.shape.prose and i > 0:
        above = nonblank[i - 1]
        boxed = above.shape.units <= 4 and AUTHOR_HEADING.fullmatch(above.stripped) is not None
        closing = late and i >= last_good  # the last prose line, late in the page
        if (boxed or closing) and bio_sentence(ln.stripped):
            if boxed and not above.rule:
                above.rule, above.note = "shape:author-bio", "the heading of an author box"
            ln.rule, ln.note = "shape:author-bio", "an author's biography" + (" under its heading" if boxed else " closing the page")


def _position(nonblank: list[_Line], book: RuleBook) -> None:
    """Mark lines outside the main runs of a plain-text scrape."""
    _layout(nonblank)
    runs = _main_runs(nonblank)
    if not runs:
        return
    # Outside the main text the edge-only rules hold, though a standfirst or a caption above
    # the text read as prose when the edges were first drawn: a byline under it is no heading
    # of the text and no title.
    s, e = runs[0][0], runs[-1][1]  # the main text's first and last line
    for i, ln in enumerate(nonblank):
        if not ln.rule and (i < s or i > e):
            _edge_rule(book, ln)
    keep = [False] * len(nonblank)
    for run_start, run_end in runs:
        # Headings right above a run belong to the article ("Einleitung", a subtitle).
        k = run_start
        while (k > 0 and run_start - k < 2 and _heading_like(nonblank[k - 1])
               and not _menu_from(nonblank, k - 1, -1)):
            if k >= 2 and _is_metadata(nonblank[k - 2]) and nonblank[k - 1].shape.units <= 3:
                break  # a category label under the date line is metadata, not a heading
            k -= 1
        for i in range(k, run_end + 1):
            keep[i] = True
    # Between two runs of the article, lines that no rule removed are the article's too (a
    # list, a table, short paragraphs): furniture inside an article (a "Related" box, share
    # buttons, an ad marker) nearly always holds a line some rule knows.
    for (_, end), (start, _) in zip(runs, runs[1:]):
        if not any(ln.rule and not _inline(ln) for ln in nonblank[end + 1 : start]):
            keep[end + 1 : start] = [True] * (start - end - 1)
    # The document's own title: the first candidate line, when the text starts close below it.
    first = next((i for i, ln in enumerate(nonblank) if not ln.rule), None)
    if first is not None and first < s and s - first <= 8 and _title_like(nonblank[first]):
        keep[first] = True  # the title: `headline()` reads it from the text
    else:
        _mark_headline(nonblank, s)
    for i, ln in enumerate(nonblank):
        if ln.rule or keep[i]:
            continue
        if i < s:
            ln.rule, ln.note = "position:head", f"before the main text (line {nonblank[s].index + 1})"
        elif i > e:
            ln.rule, ln.note = "position:tail", f"after the main text (line {nonblank[e].index + 1})"
        else:
            ln.rule, ln.note = "position:gap", "between runs of main text"


def _check(book: RuleBook, stripped: str, sh: Shape, full: bool, low: str | None = None) -> _Check:
    """List shapes and the rules valid anywhere: ((rule, note) or None, is a bare URL).
    `low`: `stripped.lower()` where the caller has it already."""
    hit = list_shape(stripped, sh) if full or sh.stops < 2 else None
    url = hit is not None and hit[0] == "shape:bare-url"
    if url:
        hit = None  # a single URL is residue only at the edges (see _classify)
    if hit is None:
        rule = book.match(stripped, sh.units, False, sh.cjk > 0, full, low)
        hit = (rule.id, f"{rule.kind} rule") if rule else None
    return hit, url


def _classify(
    text: str,
    cfg: StripConfig,
    templates: TemplateSnapshot | None,
    site: str,
    is_html: bool,
) -> list[_Line]:
    """The non-blank lines of `text` with their decisions (a blank line is always kept)."""
    languages = tuple(cfg.languages)
    book = load_rules(languages)
    memo, previous = _memo(languages)
    nonblank: list[_Line] = []
    pos = 0
    for i, raw in enumerate(text.split("\n")):
        stripped = raw.strip()
        end = pos + len(raw)
        if stripped:
            seen = memo.get(stripped)
            if seen is None:
                seen = previous.get(stripped)
                if seen is None:
                    seen = _Seen(shape(stripped))
                memo[stripped] = seen
            nonblank.append(_Line(i, pos, end, raw, stripped, seen.shape, seen))
        pos = end + 1
    # 1-3: vocabulary and shape rules valid anywhere in the document.
    _spam_pass(book, nonblank)
    # Prose in the middle of the document only needs the `any` rules' checks: the first and
    # last few prose lines get every check (offers and bios sit there).
    prose = [i for i, ln in enumerate(nonblank) if ln.shape.good]
    full_check = set(prose[:_EDGE_PROSE] + prose[-_EDGE_PROSE:])
    for i, ln in enumerate(nonblank):
        if ln.rule:
            continue
        seen = ln.seen
        if not ln.shape.good or i in full_check:
            got = seen.check_full
            if got is _UNSET:
                got = seen.check_full = _check(book, ln.stripped, ln.shape, True)
        else:
            got = seen.check_mid
            if got is _UNSET:
                got = seen.check_mid = _check(book, ln.stripped, ln.shape, False)
        hit, ln.url = got  # type: ignore[misc]
        if hit is not None:
            ln.rule, ln.note = hit
    good = [i for i, ln in enumerate(nonblank) if not ln.rule and ln.shape.good]
    # A trailer can be a sentence itself ("The post X appeared first on Y."): prose lines at
    # either end that an edge-only rule removes do not bound the edges (only lines that had
    # every check above: the edge-only rules assume the others found nothing).
    while good and good[-1] in full_check and _edge_rule(book, nonblank[good[-1]]):
        good.pop()
    while good and good[0] in full_check and _edge_rule(book, nonblank[good[0]]):
        good.pop(0)
    first_good, last_good = (good[0], good[-1]) if good else (len(nonblank), -1)
    # The site's template counts, looked up once per document (TemplateSnapshot.site_pages
    # and line_pages read the same entry).
    min_pages = cfg.template_min_pages
    entry = templates.sites.get(site) if templates is not None else None
    total, counts = entry if entry else (0, {})
    use_templates = templates is not None and total >= min_pages
    # Edge-only rules and templates; author bio blocks after the middle of the document.
    for i, ln in enumerate(nonblank):
        if ln.rule:
            continue
        edge = i < first_good or i > last_good
        if edge:
            # Every edge line went through the full check above (it is not prose in the
            # middle): the rules valid anywhere and the list shapes found nothing, so only
            # the edge-only rules and a bare URL are left to find.
            if _edge_rule(book, ln):
                continue
            if ln.url:
                ln.rule, ln.note = "shape:bare-url", "a bare URL"
                continue
        if use_templates:
            key = ln.seen.key
            if key is _UNSET:
                key = ln.seen.key = _line_key(ln.stripped)
            pages = counts.get(key, 0) if key is not None else 0  # type: ignore[call-overload]
            if pages >= min_pages and key is not None:  # else _template finds nothing: no call
                hit = _template(ln, pages, total, site, min_pages, edge)
                if hit is not None:
                    ln.rule, ln.note = hit
                    continue
        _author_bio(nonblank, i, last_good)
    _comment_section(nonblank)
    _tag_list(nonblank)
    if not is_html:
        _position(nonblank, book)
    return nonblank


def _tag_list(nonblank: list[_Line]) -> None:
    """The line of tags under a bare 'Tags' / 'Schlagwörter' heading (which a tags rule
    removed): three or more short segments separated by commas (`layout:tags`)."""
    for i, ln in enumerate(nonblank[:-1]):
        if not ln.rule.endswith(":tags") or ln.shape.units > 3:
            continue
        nxt = nonblank[i + 1]
        parts = [p.strip() for p in _TAG_SPLIT.split(nxt.stripped)]
        if (not nxt.rule and len(parts) >= 3 and all(p and len(p.split()) <= _TAG_WORDS for p in parts)
                and not nxt.stripped.endswith((".", "!", "?", "。"))):
            nxt.rule, nxt.note = "layout:tags", f"the tags under {ln.stripped!r}"


def _mark_headline(nonblank: list[_Line], s: int) -> None:
    """The headline of a text whose first run starts at line s, in the common layout
    'headline, byline or date line(s), text': the title-like line right above the byline and
    date lines (those a rule removed, or date stamps that position will). Position cuts it
    from the text (the dev set's articles leave headlines out); the title field keeps it. Without a byline or date line between, nothing is marked: a
    first line kept as the title, or a lead sentence, is what `headline()` reads."""
    i = s - 1
    while i >= 0 and s - i <= _HEADLINE_REACH and (
        (nonblank[i].rule and _is_metadata(nonblank[i])) or (not nonblank[i].rule and _stamp(nonblank[i]))
    ):
        i -= 1
    if i < 0 or i == s - 1 or s - i > _HEADLINE_REACH:
        return
    ln = nonblank[i]
    if not ln.rule and _title_like(ln) and not ln.shape.prose:
        ln.headline = True


def _comment_section(nonblank: list[_Line]) -> None:
    """Everything after a comment section's heading ("3 comments", "Kommentare (8)") that
    follows the article's prose is the readers' (`layout:comments`). "Follows the article":
    two prose lines and _COMMENTS_AFTER units of prose before it, so a "12 Comments" link
    under a standfirst at the top of a blog post cuts nothing."""
    prose_lines, prose_units = 0, 0.0
    for i, ln in enumerate(nonblank):
        if not ln.rule and ln.shape.good:
            prose_lines += 1
            prose_units += ln.shape.units
        elif (prose_lines >= 2 and prose_units >= _COMMENTS_AFTER and ln.rule.endswith(":comments")
              and _COMMENTS_HEADING.fullmatch(ln.stripped.casefold())):
            for later in nonblank[i + 1 :]:
                if not later.rule:
                    later.rule, later.note = "layout:comments", f"in the comment section under {ln.stripped!r}"
            return


def _edge_rule(book: RuleBook, ln: _Line) -> bool:
    """Mark `ln` with the first edge-only rule that fires on it (remembered per distinct line)."""
    rule = ln.seen.edge
    if rule is _UNSET:
        rule = ln.seen.edge = book.match_edge_only(ln.stripped, ln.shape.units, ln.shape.cjk > 0)
    if isinstance(rule, Rule):
        ln.rule, ln.note = rule.id, f"{rule.kind} rule, outside the prose lines"
        return True
    return False


def explain_lines(
    text: str,
    cfg: StripConfig,
    templates: TemplateSnapshot | None = None,
    site: str = "",
    is_html: bool = False,
) -> list[LineDecision]:
    """Every line of `text` with the decision strip takes on it (blank lines are kept here;
    the whitespace pass that closes the gaps is in `strip`)."""
    decided = {ln.index: ln for ln in _classify(text, cfg, templates, site, is_html)}
    out: list[LineDecision] = []
    pos = 0
    for i, raw in enumerate(text.split("\n")):
        end = pos + len(raw)
        ln = decided.get(i)
        if ln is None:  # blank: kept
            out.append(LineDecision(raw, True, "", "", pos, end))
        else:
            out.append(LineDecision(ln.text, not ln.rule, ln.rule, ln.note, ln.start, ln.end))
        pos = end + 1
    return out


def _whitespace(text: str, edits: list[Edit]) -> str:
    """Close the gaps removals left: one blank line between paragraphs, none at the ends."""
    rw = Rewriter(text, STAGE)
    # The newline before each run is matched, not looked behind: the same spans (a run
    # takes every blank line it can, so the newline in front of the next run is never
    # inside this one), found by a literal scan for "\n".
    for m in _BLANK_RUN_AFTER_NL.finditer(text):
        rw.replace(m.start(1), m.end(1), "\n", "whitespace", "blank lines left by removals")
    m = _LEAD.match(text)
    if m and m.end() > 0:
        rw.remove(0, m.end(), "whitespace", "blank lines at the start")
    # Only the trailing whitespace can match: searching from there finds the same match
    # without trying the pattern at every position of the text.
    m = _TRAIL.search(text, len(text.rstrip(_WS_CHARS)))
    if m and m.start() < len(text) and m.start() > 0:
        rw.replace(m.start(), len(text), "\n", "whitespace", "blank lines at the end")
    return rw.apply(edits)


def strip(
    doc: Document,
    cfg: StripConfig,
    templates: TemplateSnapshot | None = None,
    site: str = "",
) -> Document:
    """Remove the lines `explain_lines` marks, one Edit per line, then close the gaps."""
    text = doc.text
    if not text:
        return doc
    rw = Rewriter(text, STAGE)
    for ln in _classify(text, cfg, templates, site, doc.from_html):  # as explain_lines
        if ln.headline and doc.title is None:
            doc.title = ln.stripped
        if ln.rule:  # (blank lines are always kept)
            end = ln.end + 1 if ln.end < len(text) else ln.end
            rw.remove(ln.start, end, ln.rule, ln.note)
    if not rw.changed:
        return doc
    text = rw.apply(doc.edits)
    doc.text = _whitespace(text, doc.edits)
    return doc


_WS = r"[ \t\u3000\u00a0]*"
_WS_CHARS = "\n \t\u3000\u00a0"  # what _TRAIL consumes
# Group 1 is a run of blank lines: what (?<=\n){_WS}\n(?:{_WS}\n)+ matches.
_BLANK_RUN_AFTER_NL = re.compile(rf"\n({_WS}\n(?:{_WS}\n)+)")
_LEAD = re.compile(rf"(?:{_WS}\n)+")
_TRAIL = re.compile(rf"(?:\n{_WS})+\Z")


def headline(text: str) -> str | None:
    """A plain-text scrape's title: its first line when that reads as a headline, not a sentence."""
    first = next((ln.strip() for ln in text.split("\n", 8)[:8] if ln.strip()), "")
    if not first or len(first) > 200:
        return None
    sh = shape(first)
    return first if 2 <= sh.units <= 30 and not sh.ends else None
