"""Page-layout evidence for the strip stage: listings, repeated lines and data tables.

A plain-text scrape holds the article next to blocks that also contain sentences: teaser
listings ("title / author / date / excerpt" per record), comment threads ("name says: /
date / text") and the same promo or menu block printed twice. What gives them away is not
a single line but the LAYOUT of several lines:

- a listing is a run of records, each opened by a marker line (a date-only line, a comment
  header "X says:"), with at least one title or name line and some prose per record; three
  such records in a row are a listing, never article text (a timeline "date / paragraph /
  date / paragraph" has no title lines and is not taken);
- teaser records are >= 3 "headline (+ label, author) / ONE excerpt paragraph" records
  whose excerpts have nearly the same length (cut by the site at N characters) or end
  in an ellipsis;
- a line printed more than once on the page is chrome (menus, promo blocks, repeated
  headlines), except where its copy sits inside running text;
- a data table scraped one cell a line is a long run of short lines, many of them bare
  numbers: content, although no line of it is a sentence.

The functions take the trimmed line texts and their `Shape`s (non-blank lines only) and
return indices; strip.py turns them into decisions and window weights.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from cleaner.stages.strip_shape import Shape

_MONTH_NAMES = (
    "jan(?:uary|vier|eiro|uar)?", "feb(?:ruary|ruar|rero)?", "fév(?:rier)?", "fev(?:ereiro)?",
    "mar(?:ch|s|zo|ço)?", "märz", "apr(?:il|ile)?", "abr(?:il)?", "avr(?:il)?", "may", "mai",
    "mag(?:gio)?", "mayo", "maio", "jun(?:e|i|io|ho)?", "juin", "giu(?:gno)?", "jul(?:y|i|io|ho)?",
    "juil(?:let)?", "lug(?:lio)?", "aug(?:ust)?", "ago(?:sto)?", "août",
    "sep(?:t|tember|tembre|tiembre|tembro)?", "set(?:tembre|embro)?", "oct(?:ober|obre|ubre)?",
    "okt(?:ober)?", "out(?:ubro)?", "ott(?:obre)?", "nov(?:ember|embre|iembre|embro)?",
    "dec(?:ember|embre)?", "dez(?:ember|embro)?", "déc(?:embre)?", "dic(?:iembre|embre)?",
)
_DAY_NAMES = (
    "mon(?:day)?", "tue(?:s|sday)?", "wed(?:nesday)?", "thu(?:rs|rsday)?", "fri(?:day)?",
    "sat(?:urday)?", "sun(?:day)?", "montag", "dienstag", "mittwoch", "donnerstag", "freitag",
    "samstag", "sonntag", "today", "yesterday", "heute", "gestern",
)
_TIME_WORDS = (
    "at", "on", "um", "am", "de", "del", "of", "ago", "hours?", "hrs?", "mins?", "minutes?", "days?",
    "weeks?", "months?", "years?", "updated", "posted", "published", "uhr", "et", "gmt", "utc", "est",
    "edt", "pst", "pdt", "cet", "cest", "bst", "vor", "stunden?", "tagen?",
)


def _by_first(words: tuple[str, ...]) -> str:
    """`"|".join(words)` regrouped by first letter, order kept within a letter: the same
    matches (words with different first letters never match at the same place, also under
    re.IGNORECASE), but `re` tries one group per position, not every word: with IGNORECASE
    it cannot skip an alternative on its first letter, and the date sub ran ~12 us a line."""
    heads: dict[str, list[str]] = {}
    for w in words:
        heads.setdefault(w[0], []).append(w[1:])
    return "|".join(f"{c}(?:{'|'.join(rest)})" for c, rest in heads.items())


_MONTHS = _by_first(_MONTH_NAMES)
_DAYS = _by_first(_DAY_NAMES)
# Tokens a date/time line is made of; what is left after removing them must be (almost) nothing.
_DATE_TOKENS = re.compile(
    rf"\b(?:{_by_first(_MONTH_NAMES + _DAY_NAMES)})\b\.?|\b\d+(?:st|nd|rd|th|h|m|d)?\b|[ap]\.?m\.?\b"
    rf"|\b(?:{_by_first(_TIME_WORDS)})\b",
    re.IGNORECASE,
)
# What names a day or a time: a time of day, a numeric date, "ago", a month and its day.
_DAY_PARTS = (r"\d{1,2}:\d{2}", r"\b\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b", r"\bago\b",
              rf"\b(?:{_MONTHS})\b\.?\s*\d{{1,2}}\b")
# Any date, a year alone included (dateish).
_HAS_DATE = re.compile(
    "|".join((*_DAY_PARTS, r"\b\d{4}\b", r"\bvor\b", rf"\b\d{{1,2}}\.?\s*(?:{_MONTHS})\b")), re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_COMMENT_HEAD = re.compile(
    r"^.{1,80}?\s(?:says|said|wrote|writes|replied|sagt|schreibt|schrieb|disse|diz|dice|dit|a écrit)\s*:\s*$",
    re.IGNORECASE,
)
_NUMERIC = re.compile(r"[-+–]?[\d.,:%/ ]*\d[\d.,:%/ ]*[%]?")
_DIGITS = re.compile(r"\d+")
_LETTERS = re.compile(r"[^\W\d_]+")
_ELLIPSIS = ("…", "...", "[…]", "[...]")
_CHUNKED = 80  # dateish: longer lines are scanned a whitespace-separated chunk at a time


def dateish(text: str, sh: Shape) -> bool:
    """A short line that is a date or time stamp (plus at most a few words, e.g. a name)."""
    if sh.units > 12 or sh.cjk or _DIGITS.search(text) is None:
        return False
    if _HAS_DATE.search(text) is None:
        return False
    if len(text) <= _CHUNKED:
        return len(_WORD.findall(_DATE_TOKENS.sub(" ", text))) <= 3
    # A long line with few spaces (a run of URLs): no date token and no word spans
    # whitespace, so the words left can be counted chunk by chunk, stopping at the fourth.
    left = 0
    for chunk in text.split():
        left += len(_WORD.findall(_DATE_TOKENS.sub(" ", chunk)))
        if left > 3:
            return False
    return True


# A day of a month or a time of day, not a year alone ("Milan Design Week 2018" is a headline).
_DAY_OR_TIME = re.compile(
    "|".join((*_DAY_PARTS, r"\b\d{4}-\d{1,2}-\d{1,2}\b", rf"\b\d{{1,2}}\.?\s*(?:de\s+)?(?:{_MONTHS})\b")),
    re.IGNORECASE,
)


# The words of a byline or a post's header beside its date, not counted as a stamp's words.
_STAMP_WORDS = re.compile(
    r"\b(?:by|von|par|por|door|di|posted|published|updated|publiziert|veröffentlicht|aktualisiert"
    r"|publié|publicado|pubblicato|gepubliceerd|written|text|texto|autor|author|comments?|kommentare?)\b",
    re.IGNORECASE,
)
_STAMP_MAX_UNITS = 16


def date_stamp(text: str, sh: Shape) -> bool:
    """A line that names a day or a time and, beside it, at most three words that are not a
    byline's or a post header's ("Nov 18, 2019 at 9:24 pm ET", "Chris Davies - Nov 19, 2019",
    "Posted by Michael David Smith on November 19, 2019, 6:21 AM EST", "Von Moritz Bachmann
    publiziert am 25. September 2018"): a publication stamp, never a page's title or a heading."""
    if sh.units > _STAMP_MAX_UNITS or sh.cjk or _DAY_OR_TIME.search(text) is None:
        return False
    return len(_WORD.findall(_STAMP_WORDS.sub(" ", _DATE_TOKENS.sub(" ", text)))) <= 3


def comment_header(text: str, sh: Shape) -> bool:
    """'name says:', 'name on May 2, 2019 at 5:23 pm said:' - a comment's head line."""
    # The pattern ends in ':' (then only spaces): test that first, the lazy scan is dear.
    return sh.units <= 16 and text.rstrip().endswith(":") and _COMMENT_HEAD.match(text) is not None


def _records(markers: list[int], shapes: Sequence[Shape], heads: set[int]) -> bool:
    """Do the marked records look like a listing: per record a title/name line and prose?
    A comment header is its record's title."""
    titled = prosy = 0
    bounds = [*markers, min(len(shapes), markers[-1] + (markers[-1] - markers[-2]))]
    for a, b in zip(bounds, bounds[1:]):
        body = range(a + 1, b)
        if a in heads or any(not shapes[i].prose and 1 <= shapes[i].units <= 20 for i in body):
            titled += 1
        if any(shapes[i].prose and shapes[i].units >= 5 for i in body):
            prosy += 1
    n = len(markers)
    return 3 * titled >= 2 * n and 2 * prosy >= n


def _template(text: str) -> str:
    """A date line's format: 'Nov 19, 2019 at 6:34 am' -> 'a 0, 0 a 0:0 a'."""
    return _LETTERS.sub("a", _DIGITS.sub("0", text))


def _linked(
    chain: list[int], b: int, texts: Sequence[str], shapes: Sequence[Shape], heads: set[int], max_gap: int
) -> bool:
    """Can marker b continue the listing? A teaser record holds an excerpt, not an article:
    more than two sentence-long lines between two date lines end the chain, unless the
    listing already repeats this very date format (a long comment, a longer excerpt); a
    comment (after a comment header) may be longer."""
    a = chain[-1]
    if a in heads:
        return b - a <= 2 * max_gap
    if b - a > 2 * max_gap:
        return False
    if b - a <= max_gap and sum(shapes[i].good for i in range(a + 1, b)) <= 2:
        return True
    form = _template(texts[b])
    return sum(_template(texts[i]) == form for i in chain) >= 2


def listings(
    texts: Sequence[str],
    shapes: Sequence[Shape],
    max_gap: int = 12,
    markers: Sequence[tuple[bool, bool]] | None = None,
) -> list[tuple[int, int, int]]:
    """Dated listings and comment threads: (first line, last line, records) per listing.

    `markers`: (comment_header, dateish) of each line where the caller already knows them
    (strip remembers them per distinct line across documents)."""
    if markers is None:
        markers = [(comment_header(t, s), dateish(t, s)) for t, s in zip(texts, shapes, strict=True)]
    heads = {i for i, (head, _) in enumerate(markers) if head}
    marks = sorted(heads | {i for i, (_, date) in enumerate(markers) if date})
    out: list[tuple[int, int, int]] = []
    chain: list[int] = []
    for m in [*marks, 1 << 30]:
        if chain and _linked(chain, m, texts, shapes, heads, max_gap):
            chain.append(m)
            continue
        thread = [i for i in chain if i in heads]
        if thread:
            # A comment thread starts at its first comment header (the article's own date
            # line above it is not a record); a date right above a header belongs to it.
            first = thread[0] - 1 if thread[0] - 1 in chain else thread[0]
            chain = [i for i in chain if i >= first]
            records = thread if len(thread) >= 3 else chain
        else:
            records = chain
        if len(records) >= 3 and _records(records, shapes, heads):
            gaps = sorted(b - a for a, b in zip(records, records[1:]))
            typical = gaps[len(gaps) // 2]
            start = chain[0]
            # The first record's title and name lines stand above its marker.
            while start > 0 and chain[0] - start < typical - 1 and not shapes[start - 1].good:
                start -= 1
            end = min(len(texts) - 1, chain[-1] + typical - 1)
            out.append((start, end, len(records)))
        chain = [m]
    return out


def teaser_records(texts: Sequence[str], shapes: Sequence[Shape]) -> list[tuple[int, int]]:
    """Runs of >= 3 teaser records: one to four short lines (a headline among them) and ONE
    excerpt paragraph, where most excerpts end in an ellipsis."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(texts)
    while i < n:
        recs: list[tuple[int, int]] = []
        j = i
        while j < n:
            k = j
            while k < n and k - j < 4 and not shapes[k].good:
                k += 1
            if k == j or k >= n or not shapes[k].good or (k + 1 < n and shapes[k + 1].good):
                break
            if not any(_headline(texts[x], shapes[x]) for x in range(j, k)):
                break
            recs.append((j, k))
            j = k + 1
        if len(recs) >= 4:  # _trim keeps fewer as they are
            recs = _trim(recs, texts)
        if len(recs) >= 3 and _teasers(recs, texts):
            out.append((recs[0][0], recs[-1][1]))
            i = j
        else:
            i = recs[0][1] + 1 if recs else i + 1
    return out


def _trim(recs: list[tuple[int, int]], texts: Sequence[str]) -> list[tuple[int, int]]:
    """Drop a first or last record whose paragraph is far longer than the teasers': the
    article itself often directly precedes or follows its 'you may also like' list."""
    if len(recs) < 4:
        return recs
    median = sorted(len(texts[k]) for _, k in recs)[len(recs) // 2]
    long = [i for i, (_, k) in enumerate(recs) if len(texts[k]) > 1.5 * median]
    head = [i for i in long if i < 2]
    tail = [i for i in long if i >= len(recs) - 2]
    return recs[head[-1] + 1 if head else 0 : tail[0] if tail else len(recs)]


def _teasers(recs: list[tuple[int, int]], texts: Sequence[str]) -> bool:
    """Teasers are excerpts cut short: most end in an ellipsis. Equal lengths alone are not
    evidence: an article's own sections (heading + one paragraph each) look the same."""
    cut = sum(texts[k].endswith(_ELLIPSIS) for _, k in recs)
    return 2 * cut >= len(recs)


# Where a teaser card's headline runs into its summary: a lower-case letter or digit (or a
# closing quote, bracket, ?, !, %) directly before an upper-case letter that starts a word
# (or is one: "A").
_GLUE = re.compile(r"(?<=[a-z0-9)?!%’'\"])(?=[A-Z][a-z ])")
_GLUED_MIN = 3  # such lines a document needs: cards come in groups, a brand name alone does not
_GLUE_RUN = re.compile(r"[A-Za-z]+$|\d+$")
_LOWER_WORD = re.compile(r"\s[a-z][a-z]{3}")


def glued_teasers(texts: Sequence[str]) -> list[int]:
    """Lines that are a Title-Case headline run into its summary sentence without a space
    ("Customers Leave Without Paying $690 Bill At Troy SteakhouseA party of six left ..."):
    a scraper that joined a teaser card's two elements. Only where a document has
    `_GLUED_MIN` of them. Brand names glue words too (MacBook, McKinley, WeWork): the word
    before the join must be four letters or more (or digits), the part before it a headline
    (its words of four letters or more all capitalised), and the part after it a sentence
    (five words or more, its second word not capitalised)."""
    found = [i for i, t in enumerate(texts) if _glued(t)]
    return found if len(found) >= _GLUED_MIN else []


def _glued(text: str) -> bool:
    if len(text) < 40 or text[0].islower():
        return False
    # the join is in the headline, so not past the first word of four letters or more that is
    # not capitalised (a prose line has one a few words in): a short scan, not the whole line's
    # (0.089 -> 0.012-0.017 ms a document of the 5k corpus)
    prose = _LOWER_WORD.search(text)
    if prose is not None and text.count(" ", 0, prose.start()) < 2:
        return False  # a lower-case word among the first three: no headline of three words
    for m in _GLUE.finditer(text, 0, prose.end() if prose else len(text)):
        head, tail = text[: m.start()], text[m.start() :].split()
        run = _GLUE_RUN.search(head)
        if run is None or (run.group().isalpha() and len(run.group()) < 4):
            continue
        words = head.split()
        long = [w for w in words if sum(c.isalpha() for c in w) >= 4]
        if (len(words) >= 3 and len(long) >= 2 and all(w[0].isupper() or not w[0].isalpha() for w in long)
                and len(tail) >= 5 and not tail[1][0].isupper()):
            return True
    return False


def _headline(text: str, sh: Shape) -> bool:
    return 3 <= sh.units <= 22 and not text.endswith((".", ":", ";", ","))


def repeated(
    texts: Sequence[str], shapes: Sequence[Shape], keys: Sequence[int] | None = None
) -> set[int]:
    """Lines (of >= 2 words) printed more than once on the page (equal after casefold).

    `keys`: each line's `templates.line_key` where the caller knows them all (strip has them
    from template counting). The key is a function of the casefolded line, so two lines
    with equal casefolds have equal keys: only lines whose key recurs need a casefold."""
    if keys is not None:
        if len(set(keys)) == len(keys):
            return set()  # no key recurs, so no casefold does (most pages): one C pass
        groups: dict[int, list[int]] = {}
        for i, (key, sh) in enumerate(zip(keys, shapes, strict=True)):
            if sh.units >= 2:
                got = groups.get(key)
                if got is None:
                    groups[key] = [i]
                else:
                    got.append(i)
        folded = {i: texts[i].casefold() for group in groups.values() if len(group) > 1 for i in group}
        seen = Counter(folded.values())
        return {i for i, f in folded.items() if seen[f] > 1}
    # One casefold of the joined lines (casefold never makes a newline): line i of the
    # result is texts[i].casefold(), at the cost of one call instead of one per line.
    folded = "\n".join(texts).casefold().split("\n")
    if len(folded) != len(texts):  # a line with a newline in it: not from strip
        folded = [t.casefold() for t in texts]
    keys = [f if s.units >= 2 else "" for f, s in zip(folded, shapes, strict=True)]
    counts = Counter(k for k in keys if k)
    return {i for i, k in enumerate(keys) if k and counts[k] > 1}


def data_tables(texts: Sequence[str], shapes: Sequence[Shape], min_lines: int = 12) -> set[int]:
    """Lines of runs of short lines of which >= 40% are bare numbers (a table, one cell a line)."""
    out: set[int] = set()
    i, n = 0, len(texts)
    while i < n:
        if shapes[i].units > 6:
            i += 1
            continue
        j = i
        while j < n and shapes[j].units <= 6:
            j += 1
        if j - i >= min_lines:
            numeric = sum(_NUMERIC.fullmatch(texts[k]) is not None for k in range(i, j))
            if 5 * numeric >= 2 * (j - i):
                out.update(range(i, j))
        i = j
    return out


_WORDS_AND_SPACE = re.compile(r"[^\W\d_]+|\s+")
_DIGIT_RUNS = re.compile(r"\d+")


def skeleton(text: str) -> str:
    """What is left of a line without its words and spaces, a digit run as one 0: "Bergen @
    May 12 – $9.50" -> "@0–$0.0". The rows of one list printed from a template share it."""
    return _DIGIT_RUNS.sub("0", _WORDS_AND_SPACE.sub("", text))


def row_key(text: str, sh: Shape) -> str:
    """A line's `templated_rows` key: its skeleton where it is a row of 4-20 words, else ""."""
    return skeleton(text) if 4 <= sh.units <= 20 else ""


def templated_rows(keys: Sequence[str], min_lines: int = 4) -> set[int]:
    """Lines of runs of at least `min_lines` lines of 4-20 words that share a skeleton with a
    digit and a symbol in it: the rows of a list printed from one template (a product and its
    price, a date and its venue, a quantity and its ingredient). A category list with counts
    ("Politik (3)") or a monthly archive ("July 2018") has shorter rows. `keys`: each line's
    `row_key` (strip remembers them per distinct line). A run goes on over rows whose
    skeleton extends the first one's, and over a single odd row between two of its own: the
    names in a tour's venue column bring their own dots, brackets and ampersands."""
    out: set[int] = set()
    i, n = 0, len(keys)
    while i < n:
        key = keys[i]
        j = i + 1
        while j < n:
            if keys[j] == key or key and keys[j].startswith(key):
                j += 1  # the same row, or one with more symbols at its end ("(Formerly X)", "BB&T")
            elif key and j + 1 < n and keys[j] and keys[j + 1] == key:
                j += 2  # one odd row between two of the template's ("St. Louis": a dot inside)
            else:
                break
        if j - i >= min_lines and "0" in key and key.strip("0.,") != "":
            out.update(range(i, j))
        i = j
    return out


_ITEM = re.compile(r"^(?:[•·*▪◦›»–-]\s|\d{1,2}[.)]\s)")  # a bullet or a list number
_MAX_ITEMS = 15
_ITEM_UNITS = 25  # a teaser headline; an article paragraph is longer
# A Chinese or Japanese sentence: fifteen characters or more after a Han character, ending in
# a full-width full stop, question or exclamation mark. Headlines do not end so (25 units
# are 50 CJK characters, a whole sentence), so an unbulleted list stops there.
_CJK_SENTENCE = re.compile(r"[\u3400-\u9fff].{14,}[。！？]$")


def related_lists(
    texts: Sequence[str], shapes: Sequence[Shape], rules: Sequence[str], rows: Sequence[int]
) -> list[tuple[int, int]]:
    """The list under a 'Related' / 'Most read' heading (a teaser rule already marked the
    heading): the bulleted items, or the headline-length lines printed right under each
    other, that follow it, up to the first line that is neither. `rows` are the lines'
    numbers on the page: a blank line ends an unbulleted list (the article may follow)."""
    out: list[tuple[int, int]] = []
    if ":teaser\n" not in "\n".join([*rules, ""]):
        return out  # no heading (most pages): one scan instead of a test per line
    for i, rule in enumerate(rules):
        if not rule.endswith(":teaser"):
            continue
        j = i + 1
        while j < len(texts) and j - i <= _MAX_ITEMS:
            t, sh = texts[j], shapes[j]
            item = _ITEM.match(t) is not None
            line = (rows[j] == rows[j - 1] + 1 and sh.units <= _ITEM_UNITS and not t.endswith((":", "："))
                    and not (sh.cjk and _CJK_SENTENCE.search(t)))
            if not (rules[j] or item or line):
                break
            j += 1
        if j - i >= 3:  # at least two items
            out.append((i + 1, j - 1))
    return out
