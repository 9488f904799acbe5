"""Dedup index: exact and near decisions, scope, self-matches, incremental sessions, storage."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cleaner.config import DedupConfig
from cleaner.errors import UsageError
from cleaner.stages.dedup import Fingerprint, fingerprint_text
from cleaner.state import keyfilter
from cleaner.state.dedup_index import _BAND_CAP, DedupIndex, Match, containment, row_of, same_start, similarity

CFG = DedupConfig()
_RND = random.Random(7)
_VOCAB = ["".join(_RND.choice("abcdefghiklmnoprstuvwy") for _ in range(2 + i % 8)) for i in range(4000)]

TEMPLATE_HEAD = (
    "examplenews.com\nMenu\nNews | Technology | Business | Culture | Opinion | Science | Sports | World\n\n"
    "Cookie Notice: We and our partners use cookies to personalise content and ads. See our Cookie Policy.\n"
    "Accept all\nManage preferences\n\nSubscribe | Sign in | Search\n\n"
)
TEMPLATE_TAIL = (
    "\n\nShare this:\nFacebook\nTwitter\nLinkedIn\nEmail\nPrint\n\nSign up for our newsletter\n"
    "Get the latest headlines delivered to your inbox every morning.\nEnter your email address\nSubscribe\n"
    "By signing up you agree to our Terms of Use and Privacy Policy.\n\nMost read\n"
    "The moon's elusive water-vapor plumes do indeed seem to be real, scientists say.\n"
    "Experience is thrilled to have a new President and CEO after a long search.\n"
    "Remember the state's epic quest to find a slogan that everyone could agree on?\n\n"
    "About us | Contact | Advertise | Careers | Privacy Policy | Terms of Service | Sitemap\n\n"
    "© 2015 examplenews.com. All rights reserved. This material may not be published, broadcast, "
    "rewritten, or redistributed without permission."
)


def article(seed: int, paragraphs: int = 6, size: int = 50) -> str:
    rnd = random.Random(seed)
    return "\n\n".join(
        " ".join(rnd.choice(_VOCAB) for _ in range(size)) + "." for _ in range(paragraphs)
    )


def edit(text: str, rate: float, seed: int) -> str:
    rnd = random.Random(seed)
    return " ".join(w if rnd.random() > rate else rnd.choice(_VOCAB) for w in text.split(" "))


def fp(text: str, cfg: DedupConfig = CFG) -> Fingerprint:
    return fingerprint_text(text, cfg)


@pytest.fixture
def conn() -> sqlite3.Connection:
    c = sqlite3.connect(":memory:")
    yield c
    c.close()


def test_exact_and_near_duplicates(conn: sqlite3.Connection) -> None:
    index = DedupIndex(conn, CFG)
    orig = article(1)
    index.add("orig", fp(orig))
    m = index.check("crlf", fp(orig.replace("\n", "\r\n").upper()))
    assert m == Match("orig", "exact", 1.0, "same words in the same order")
    edited = index.check("edited", fp(edit(orig, 0.06, 2)))
    assert edited is not None and edited.duplicate_of == "orig" and edited.method == "near"
    assert CFG.threshold <= edited.similarity < 1.0 and "containment" in edited.note
    paras = orig.split("\n\n")
    truncated = "\n\n".join(paras[:4]) + "\n\nRead the full story at examplenews.com"
    assert index.check("trunc", fp(truncated)).duplicate_of == "orig"  # type: ignore[union-attr]
    wrapped = TEMPLATE_HEAD + orig + TEMPLATE_TAIL
    assert index.check("wrapped", fp(wrapped)).duplicate_of == "orig"  # type: ignore[union-attr]
    reordered = "\n\n".join(paras[3:] + paras[:3])
    assert index.check("reordered", fp(reordered)).duplicate_of == "orig"  # type: ignore[union-attr]
    assert index.check("other", fp(article(99))) is None


def test_short_bodies_in_one_long_template_are_not_duplicates(conn: sqlite3.Connection) -> None:
    index = DedupIndex(conn, CFG)
    pages = [TEMPLATE_HEAD + article(s, paragraphs=1, size=45) + TEMPLATE_TAIL for s in range(10, 16)]
    for i, page in enumerate(pages):
        assert index.check(f"p{i}", fp(page)) is None, i
        index.add(f"p{i}", fp(page))
    short = ["Update\n\n" + article(s, paragraphs=1, size=25) for s in (40, 41)]
    index.add("s0", fp(short[0]))
    assert index.check("s1", fp(short[1])) is None


def test_a_header_inside_a_long_article_is_not_a_duplicate(conn: sqlite3.Connection) -> None:
    """Containment alone is not enough: the shared text must also be a real part of the larger page."""
    index = DedupIndex(conn, CFG)
    header = "Disclosure: " + article(60, paragraphs=1, size=30)  # a long line many pages carry
    long = header + "\n\n" + article(61, paragraphs=8)
    index.add("long", fp(long))
    m = index.check("header-only", fp(header))
    assert m is None
    paras = long.split("\n\n")
    truncated = "\n\n".join(paras[:6])  # the first 2/3 of the paragraphs: a real copy
    assert index.check("truncated", fp(truncated)).duplicate_of == "long"  # type: ignore[union-attr]


def test_a_short_articles_beginning_is_a_copy_but_a_shared_block_is_not(conn: sqlite3.Connection) -> None:
    """Below short_content both ways is required, unless both texts start alike (a truncated copy)."""
    index = DedupIndex(conn, CFG)  # verification only: candidates are given (LSH is probabilistic)
    paras = [article(70 + i, paragraphs=1, size=s) for i, s in enumerate((20, 22, 35, 35))]
    full = fp("\n\n".join(paras))
    small = fp("\n\n".join(paras[:2]))  # 2 of 4 paragraphs: ~40% of the text, its beginning
    assert CFG.min_content <= small.content < CFG.short_content
    m = index.best_match("first-half", small, [row_of(1, "full", 0, full)])
    assert m is not None and m.duplicate_of == "full"
    # the same two paragraphs after another body: contained, but not where that page starts
    other = fp("\n\n".join([article(90, paragraphs=1, size=35), article(91, paragraphs=1, size=35), *paras[:2]]))
    assert index.best_match("first-half", small, [row_of(1, "other", 0, other)]) is None


def test_coverage_counts_the_larger_pages_own_content(conn: sqlite3.Connection) -> None:
    """Teaser lines are content in a remnant made only of them, side lines of a page with a body."""
    teasers = "\n".join(article(100 + i, paragraphs=1, size=14) for i in range(5))
    page = article(110, paragraphs=1, size=60) + "\n\nMost read\n" + teasers
    small, large = fp(teasers), fp(page)
    sim = similarity(small.sketch, small.shingles, large.sketch, large.shingles, small.content, large.content)
    assert sim.containment > 0.9 and sim.coverage < 0.2
    index = DedupIndex(conn, CFG)
    index.add("page", large)
    assert index.check("teasers", small) is None


def test_little_content_only_matches_exactly(conn: sqlite3.Connection) -> None:
    """Below min_shingles near matches are off; below min_content the exact hash needs the same input text."""
    index = DedupIndex(conn, CFG)
    line = "Disclosure: this post may contain affiliate links to shops"
    a = fingerprint_text(line, CFG, source=line + "\n\nBody of the first page about dogs")
    b = fingerprint_text(line, CFG, source=line + "\n\nBody of another page about cats")
    assert a.content < CFG.min_content
    index.add("a", a)
    assert index.check("b", b) is None  # same cleaned text, different pages
    same = fingerprint_text(line, CFG, source=(line + "\n\nBody of the first page about dogs").upper())
    assert index.check("a-again", same).method == "exact"  # type: ignore[union-attr]
    near = fingerprint_text(line + " now", CFG, source=line)
    assert index.check("near", near) is None
    assert index.size() == 1 and conn.execute("SELECT count(*) FROM dedup_bands").fetchone()[0] == 0


SHORT_HEADER = "Disclosure: this post may contain affiliate links, meaning we get a commission if you buy through our links at no cost to you."


def short(body: str, cfg: DedupConfig = CFG) -> Fingerprint:
    """A page whose body strip removed: the cleaned text is the header, the input had the body."""
    return fingerprint_text(SHORT_HEADER, cfg, source=SHORT_HEADER + "\n\n" + body)


def test_short_documents_match_near_only_when_their_inputs_are_copies_too(conn: sqlite3.Connection) -> None:
    index = DedupIndex(conn, CFG)
    body = article(60, paragraphs=3, size=40)
    a = short(body)
    assert CFG.min_shingles <= a.shingles and a.content < CFG.min_content and a.source_shingles > 0
    index.add("a", a)
    m = index.check("a-edited", short(edit(body, 0.03, 1)))
    assert m is not None and m.method == "near" and m.duplicate_of == "a"
    assert index.check("other-page", short(article(61, paragraphs=3, size=40))) is None  # same remnant, other input
    half = "\n\n".join(body.split("\n\n")[:1])
    assert index.check("a-truncated-input", short(half)) is None  # input one way only: not a copy
    wrapped = fp(SHORT_HEADER + "\n\n" + body)  # the same page where strip kept the body
    assert wrapped.source_shingles == 0 and index.check("long", wrapped) is None  # long never matches short
    off = dataclasses.replace(CFG, short_sketch=0)
    assert short(body, off).source_shingles == 0
    assert DedupIndex(sqlite3.connect(":memory:"), off).check("x", short(body, off)) is None


def test_the_same_short_text_of_several_lines_under_two_templates_is_one(conn: sqlite3.Connection) -> None:
    """A product box (a few short lines) that strip leaves of two sites' pages: the inputs differ
    by the sites' templates, the cleaned texts are the same text, so it is a duplicate. A
    one-line remnant (the header many pages share) still needs its input to be a copy."""
    box = "Powerbeats wireless earphones in black\n$119.00\nAvailable from the online store today"
    site_a = "Home | News | Deals\n\n" + box + "\n\nFollow us on every network we are on"
    site_b = "Menu\nSearch this site\n\n" + box + "\n\nCopyright the other site, all rights reserved"
    a, b = fingerprint_text(box, CFG, source=site_a), fingerprint_text(box, CFG, source=site_b)
    assert a.source_shingles > 0 and a.lines >= 2 and a.shingles >= CFG.min_shingles
    index = DedupIndex(conn, CFG)
    index.add("a", a)
    m = index.check("b", b)
    assert m is not None and m.duplicate_of == "a" and "the same text of several lines" in m.note
    index.add("header", short(article(62, paragraphs=3, size=40)))
    assert index.check("other-page", short(article(63, paragraphs=3, size=40))) is None  # one line


def test_a_short_teaser_is_the_beginning_of_the_one_article_it_starts_like(conn: sqlite3.Connection) -> None:
    """A short text of two or more lines that starts like a long kept text and is contained in
    it is a copy of its beginning; one line is not, nor a beginning that two kept texts share."""
    lead = article(70, paragraphs=2, size=12)  # two paragraphs: what a feed teaser carries
    body = article(71, paragraphs=3, size=30)  # up to ~8x the teaser: enough of it in the article's sketch

    def teaser(text: str) -> Fingerprint:
        return fingerprint_text(text, CFG, source=text + "\n\nRead the full story at example.com")

    t = teaser(lead)
    assert t.source_shingles > 0 and t.lines == 2  # short: matched near only by its inputs or this rule
    index = DedupIndex(conn, CFG)
    index.add("full", fp(lead + "\n\n" + body))
    m = index.check("teaser", t)
    assert m is not None and m.duplicate_of == "full" and m.method == "near"
    assert m.note.endswith("; the beginning of the one kept text that starts alike")
    assert index.check("one-line", teaser(lead.split("\n\n")[0])) is None
    assert index.check("other-start", teaser(article(72, paragraphs=2, size=12))) is None
    index.add("same-start", fp(lead + "\n\n" + article(73, paragraphs=3, size=30)))
    assert index.check("teaser", t) is None  # begins two kept articles: which one it copies is unknown


@pytest.mark.parametrize("seed", range(600, 606))
def test_a_teaser_of_a_long_article_is_found_by_how_its_paragraphs_start(conn: sqlite3.Connection, seed: int) -> None:
    """The first one or two paragraphs of a 1500-word article: too few of their shingles in the
    article's sketch to verify them, but they start as the article's first paragraphs do. A text
    that shares only the lead paragraph is not a teaser; nor is anything against a head stored
    before heads held the paragraph starts (HEAD_SIZE values)."""
    paras = article(seed, paragraphs=25, size=60).split("\n\n")
    full = fp("\n\n".join(paras))
    index = DedupIndex(conn, CFG)
    index.add("full", full)
    for k in (1, 2):
        m = index.check(f"teaser{k}", fp("\n\n".join(paras[:k])))
        assert m is not None and m.duplicate_of == "full", k
        assert "; the beginning of the one kept text that starts alike" in m.note
        sampled = int(m.note.split(" of ")[1].split()[0])
        assert m.note.endswith("start the other's)") == (sampled < 8)  # the note says which evidence decided
        assert k == 2 or sampled < 8  # one paragraph: too few samples alone
    assert index.check("same-lead", fp(paras[0] + "\n\n" + article(seed + 1000, paragraphs=1, size=60))) is None
    old = DedupIndex(sqlite3.connect(":memory:"), CFG)
    old.add("full", dataclasses.replace(full, head=full.head[:4]))
    assert old.check("teaser", fp(paras[0])) is None  # (one paragraph: the samples alone cannot tell)


def test_an_article_is_never_the_duplicate_of_an_earlier_teaser(conn: sqlite3.Connection) -> None:
    lead = article(70, paragraphs=2, size=12)
    index = DedupIndex(conn, CFG)
    index.add("teaser", fingerprint_text(lead, CFG, source=lead + "\n\nRead the full story at example.com"))
    assert index.check("full", fp(lead + "\n\n" + article(71, paragraphs=3, size=30))) is None


def test_a_document_never_matches_itself(conn: sqlite3.Connection) -> None:
    index = DedupIndex(conn, CFG)
    f = fp(article(3))
    index.add("doc", f)
    assert index.check("doc", f) is None  # a crash-rerun of an uncommitted attempt
    index.add("doc", f)  # idempotent
    assert index.size() == 1


def test_duplicates_are_not_chained(conn: sqlite3.Connection) -> None:
    """B ~ A (kept) is a duplicate and not indexed; C ~ B but not ~ A stays kept."""
    index = DedupIndex(conn, CFG)
    a = article(5)
    paras = a.split("\n\n")
    b = "\n\n".join(paras[2:] + [article(6, paragraphs=1)])
    c = "\n\n".join(paras[4:] + [article(6, paragraphs=1), article(7, paragraphs=3)])
    index.add("a", fp(a))
    mb = index.check("b", fp(b))
    assert mb is None or mb.duplicate_of == "a"
    if mb is None:
        pytest.skip("b not similar enough to a for this construction")
    assert index.check("c", fp(c)) is None


def test_scope_run_ignores_earlier_runs(conn: sqlite3.Connection) -> None:
    text = article(8)
    DedupIndex(conn, CFG, run_id=1).add("old", fp(text))
    conn.commit()
    run_scoped = DedupIndex(conn, dataclasses.replace(CFG, scope="run"), run_id=2)
    assert run_scoped.check("new", fp(text)) is None
    run_scoped.add("new", fp(text))
    assert run_scoped.check("newer", fp(text)) == Match("new", "exact", 1.0, "same words in the same order")
    archive = DedupIndex(conn, CFG, run_id=3)
    assert archive.check("newest", fp(text)).duplicate_of == "old"  # type: ignore[union-attr]


def test_never_commits(conn: sqlite3.Connection) -> None:
    DedupIndex(conn, CFG).add("a", fp(article(9)))
    conn.rollback()
    index = DedupIndex(conn, CFG)
    assert index.size() == 0
    index.add("a", fp(article(9)))
    index.flush()
    assert conn.in_transaction


def test_changed_scheme_is_refused(tmp_path: Path) -> None:
    c = sqlite3.connect(tmp_path / "s.sqlite")
    DedupIndex(c, CFG).add("a", fp(article(10)))
    c.commit()
    with pytest.raises(UsageError, match="dedup settings changed"):
        DedupIndex(c, dataclasses.replace(CFG, shingle_words=5))
    with pytest.raises(UsageError, match="exceeds"):
        DedupIndex(c, dataclasses.replace(CFG, bands=64, rows=4))
    c.close()


def test_an_empty_index_of_an_older_layout_is_rebuilt(tmp_path: Path) -> None:
    c = sqlite3.connect(tmp_path / "s.sqlite")
    c.execute("CREATE TABLE dedup_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    c.execute("INSERT INTO dedup_meta VALUES('scheme', 'cleaner-dedup-1 old')")
    c.execute("CREATE TABLE dedup_docs(id INTEGER PRIMARY KEY, doc_id TEXT, run INTEGER, exact BLOB,"
              " shingles INTEGER, length INTEGER, sketch BLOB)")
    index = DedupIndex(c, CFG)
    index.add("a", fp(article(11)))
    assert index.check("b", fp(article(11))) == Match("a", "exact", 1.0, "same words in the same order")
    c.close()


@pytest.mark.parametrize("seed", [303, 309, 311, 312, 315])
def test_a_truncated_copy_sharing_no_band_is_found_by_its_head(conn: sqlite3.Connection, seed: int) -> None:
    """The first 3 of 10 paragraphs: Jaccard ~0.3, so often not one LSH band in common (these
    seeds: none), but the copy starts where its original starts: the head key finds it."""
    full = article(seed, paragraphs=10)
    truncated = "\n\n".join(full.split("\n\n")[:3])
    a, b = fp(full), fp(truncated)
    assert not set(a.bands[:-1].tolist()) & set(b.bands[:-1].tolist()) and a.bands[-1] == b.bands[-1]
    index = DedupIndex(conn, CFG)
    index.add("a", a)
    m = index.check("b", b)
    assert m is not None and m.duplicate_of == "a" and m.method == "near"
    coverage = float(m.note.split("coverage ")[1][:4])  # where it is too low for the plain rule, the note says why
    assert m.note.endswith("both start alike: the smaller is the other's beginning") == (coverage < CFG.coverage)


def test_a_heading_joined_to_the_first_paragraph_still_starts_alike(conn: sqlite3.Connection) -> None:
    """One copy puts a short heading on its own line, the other joins it to the first paragraph:
    their first sentence-long lines start a few words apart, and the anchor is found there."""
    heading = "Die Rolle von Meta"  # under _HEAD_LINE_TOKENS words: not where the head starts
    paras = article(320, paragraphs=6, size=40).split("\n\n")
    own_line, joined = fp(heading + "\n\n" + "\n\n".join(paras)), fp(heading + " " + "\n\n".join(paras[:2]))
    assert not np.array_equal(own_line.head[:4], joined.head[:4])
    assert same_start(own_line.head, joined.head) and same_start(joined.head, own_line.head)
    assert not same_start(own_line.head, fp(heading + " " + article(321, paragraphs=2, size=40)).head)
    index = DedupIndex(conn, CFG)
    index.add("own-line", own_line)
    m = index.check("joined", joined)  # a third of the text: found as its beginning
    assert m is not None and m.duplicate_of == "own-line" and "start alike" in m.note


def test_a_shared_first_paragraph_alone_is_no_duplicate(conn: sqlite3.Connection) -> None:
    """Two stories that open with the same paragraph (a wire lead) share the head key; the
    rest differs, so verification keeps them apart."""
    lead = article(400, paragraphs=1)
    a, b = fp(lead + "\n\n" + article(401, paragraphs=9)), fp(lead + "\n\n" + article(402, paragraphs=9))
    assert a.bands[-1] == b.bands[-1]
    index = DedupIndex(conn, CFG)
    index.add("a", a)
    assert index.check("b", b) is None


def plan_part(seed: int, shared_lines: list[str]) -> str:
    """A list-shaped text: two long lines shared by every part of one plan, then 30 short items
    (three to six words) of its own, one a line."""
    rnd = random.Random(seed)
    items = [" ".join(rnd.choice(_VOCAB) for _ in range(rnd.randint(3, 6))) for _ in range(30)]
    return "\n".join(shared_lines[:1] + items[:15] + shared_lines[1:] + items[15:])


def test_parts_of_one_list_that_share_only_its_long_lines_are_not_duplicates(conn: sqlite3.Connection) -> None:
    """Content lines (the long ones) stand for a text where they are most of it. Two parts of one
    meal plan share its few long lines and differ in every item: their content is contained
    both ways, their words are not. An edited copy of one part still is its duplicate."""
    rnd = random.Random(5)
    shared = [" ".join(rnd.choice(_VOCAB) for _ in range(30)) + "." for _ in range(2)]
    a, b = fp(plan_part(1, shared)), fp(plan_part(2, shared))
    assert 2 * a.content < a.shingles  # list-shaped
    sim = similarity(a.sketch, a.shingles, b.sketch, b.shingles, a.content, b.content)
    assert sim.containment >= CFG.threshold and sim.coverage >= CFG.coverage  # what the content says
    index = DedupIndex(conn, CFG)
    index.add("a", a)
    assert index.check("b", b) is None
    copy = fp(edit(plan_part(1, shared).replace("\n", " \n "), 0.03, 9).replace(" \n ", "\n"))
    match = index.check("copy", copy)
    assert match is not None and match.duplicate_of == "a"


def test_parts_of_one_series_whose_intro_is_most_of_each_are_not_duplicates(conn: sqlite3.Connection) -> None:
    """Parts of one series share a long intro (more than half of each part's shingles) and
    differ in their 15 items: the items are a quarter of each and nearly none is in the other.
    A copy of one part with an item dropped is still its duplicate."""
    rnd = random.Random(6)
    intro = [" ".join(rnd.choice(_VOCAB) for _ in range(60)) + "."]
    def part(seed: int) -> str:
        r = random.Random(seed)
        return intro[0] + "\n" + "\n".join(" ".join(r.choice(_VOCAB) for _ in range(4)) for _ in range(15))
    a, b = fp(part(1)), fp(part(2))
    assert 2 * a.content >= a.shingles and 4 * (a.shingles - a.content) >= a.shingles  # not list-shaped, items a quarter
    index = DedupIndex(conn, CFG)
    index.add("a", a)
    assert index.check("b", b) is None
    copy = fp("\n".join(part(1).split("\n")[:-1]))
    match = index.check("copy", copy)
    assert match is not None and match.duplicate_of == "a"


def test_series_parts_with_a_dozen_different_items_are_not_duplicates(conn: sqlite3.Connection) -> None:
    """Parts of a series (one buying guide per month) share an intro and a closing paragraph and
    list 12 to 30 items of their own: the smaller part's items are a fifth to a quarter of it.
    Whether nearly none of them is in the other is counted on the sketch's own sample of them;
    derived from the Jaccard and containment estimates instead, the share came out at 0.3 or
    more for some pairs, and the parts merged. A copy of a part with an item dropped still is
    its duplicate."""
    rnd = random.Random(7)
    intro, closing = (" ".join(rnd.choice(_VOCAB) for _ in range(70)) + "." for _ in range(2))

    def part(seed: int, items: int) -> str:
        r = random.Random(seed)
        listed = [f"{r.randint(1, 4)} {' '.join(r.choice(_VOCAB) for _ in range(3))}" for _ in range(items)]
        return "\n".join([intro, *listed, closing])

    merged = []
    for seed in range(20):
        index = DedupIndex(conn, CFG, run_id=seed + 1)
        small, large = fp(part(100 + seed, 12)), fp(part(200 + seed, 30))
        assert 5 * (small.shingles - small.content) >= small.shingles  # the items: a fifth or more
        index.add(f"large-{seed}", large)
        if index.check(f"small-{seed}", small) is not None:
            merged.append(seed)
        copy = fp("\n".join(part(200 + seed, 30).split("\n")[:-2] + [closing]))
        match = index.check(f"copy-{seed}", copy)
        assert match is not None and match.duplicate_of == f"large-{seed}", seed
    assert merged == []


def _as_scheme_4(db: Path, fps: dict[str, Fingerprint]) -> None:
    """Rewrite an index as scheme 4 stored it: 16-byte exact hashes, 48-bit band keys (the same
    mixing, 17 more low bits kept), no head keys."""
    from cleaner.stages.dedup import SCHEME, _band_seeds, mix64

    c = sqlite3.connect(db)
    for doc_id, f in fps.items():
        c.execute("UPDATE dedup_docs SET exact = ? WHERE doc_id = ?", (f.exact, bytes.fromhex(doc_id)))
        m = f.minhash[: CFG.bands * CFG.rows].astype(np.uint64).reshape(CFG.bands, CFG.rows).T
        acc = _band_seeds(CFG.bands)
        for j in range(CFG.rows):
            acc = mix64(acc ^ m[j])
        (row,) = c.execute("SELECT id FROM dedup_docs WHERE doc_id = ?", (bytes.fromhex(doc_id),)).fetchone()
        for table in ("dedup_bands_0", "dedup_bands_1", "dedup_bands"):
            c.execute(f"DELETE FROM {table} WHERE doc = ?", (row,))
        c.executemany("INSERT INTO dedup_bands_0(key, doc) VALUES(?, ?)",
                      [(int(k), row) for k in (acc >> np.uint64(16)).astype(np.int64)])
    c.execute("UPDATE dedup_meta SET value = replace(value, ?, 'cleaner-dedup-4') WHERE key = 'scheme'", (SCHEME,))
    c.commit()
    c.close()


def _as_scheme_5(db: Path, fps: dict[str, Fingerprint]) -> None:
    """Rewrite an index as scheme 5 stored it: the band keys without the head keys."""
    from cleaner.stages.dedup import SCHEME, head_key

    c = sqlite3.connect(db)
    for doc_id, f in fps.items():
        (row,) = c.execute("SELECT id FROM dedup_docs WHERE doc_id = ?", (bytes.fromhex(doc_id),)).fetchone()
        for table in ("dedup_bands_0", "dedup_bands_1", "dedup_bands"):
            c.execute(f"DELETE FROM {table} WHERE key = ? AND doc = ?", (int(head_key(f.head)[0]), row))
    c.execute("UPDATE dedup_meta SET value = replace(value, ?, 'cleaner-dedup-5') WHERE key = 'scheme'", (SCHEME,))
    c.commit()
    c.close()


@pytest.mark.parametrize("older", [_as_scheme_4, _as_scheme_5], ids=["scheme-4", "scheme-5"])
def test_an_index_of_an_older_scheme_is_migrated_to_what_this_one_builds(
    tmp_path: Path, older: Callable[[Path, dict[str, Fingerprint]], None]
) -> None:
    """Scheme 4 stored 16-byte exact hashes and 48-bit band keys (this scheme's values are their
    prefixes), scheme 5 no head keys (computed from the stored heads): an old index is brought
    in place (once) to the index this scheme builds."""
    texts = {f"{i:032x}": article(7000 + i) for i in range(30)}
    texts["f" * 32] = texts[f"{0:032x}"][: len(texts[f"{0:032x}"]) // 2]  # a head shared by two documents
    lead = article(6999, paragraphs=1)
    texts |= {f"{1000 + i:032x}": lead + "\n\n" + article(8000 + i) for i in range(_BAND_CAP + 6)}  # a full head key
    fps = {k: fp(t) for k, t in texts.items()}

    def build(db: Path) -> None:
        c = sqlite3.connect(db)
        index = DedupIndex(c, CFG)
        for doc_id, f in fps.items():
            index.add(doc_id, f)
        index.flush()
        c.commit()
        c.close()

    def dump(db: Path) -> tuple[list[tuple], list[tuple], str]:
        c = sqlite3.connect(db)
        DedupIndex(c, CFG)  # opening it migrates an old one
        docs = c.execute("SELECT doc_id, exact, sketch FROM dedup_docs ORDER BY id").fetchall()
        bands = c.execute("SELECT key, doc FROM dedup_bands_0 ORDER BY key, doc").fetchall()
        (scheme,) = c.execute("SELECT value FROM dedup_meta WHERE key = 'scheme'").fetchone()
        c.commit()
        c.close()
        return docs, bands, scheme

    build(tmp_path / "new.sqlite")
    build(tmp_path / "old.sqlite")
    older(tmp_path / "old.sqlite", fps)
    c = sqlite3.connect(tmp_path / "old.sqlite")
    assert c.execute("SELECT count(*) FROM dedup_bands_0").fetchone()[0] == len(fps) * CFG.bands
    c.close()
    c = sqlite3.connect(tmp_path / "new.sqlite")
    shared = int(fps[f"{1000:032x}"].bands[-1])
    assert c.execute("SELECT count(*) FROM dedup_bands_0 WHERE key = ?", (shared,)).fetchone()[0] == _BAND_CAP
    c.close()
    assert dump(tmp_path / "old.sqlite") == dump(tmp_path / "new.sqlite")
    c = sqlite3.connect(tmp_path / "old.sqlite")
    index = DedupIndex(c, CFG)
    doc_id = next(iter(texts))
    assert index.check("x", fp(texts[doc_id])) == Match(doc_id, "exact", 1.0, "same words in the same order")
    near = index.check("y", fp(edit(texts[doc_id], 0.03, 1)))
    assert near is not None and near.duplicate_of == doc_id and near.method == "near"
    c.close()


def corpus(n_sources: int = 40) -> list[tuple[str, str]]:
    """Originals with edited, truncated, wrapped and exact copies, shuffled deterministically."""
    rnd = random.Random(0)
    docs: list[tuple[str, str]] = []
    for s in range(n_sources):
        text = article(1000 + s, paragraphs=rnd.randint(2, 8))
        docs.append((f"s{s}", text))
        docs.append((f"s{s}-edit", edit(text, 0.05, s)))
        docs.append((f"s{s}-copy", text.upper()))
        if s % 2:
            docs.append((f"s{s}-wrap", TEMPLATE_HEAD + text + TEMPLATE_TAIL))
    rnd.shuffle(docs)
    return docs


def decide(docs: list[tuple[str, str]], db: Path, sessions: int) -> list[str]:
    conn = sqlite3.connect(db)
    kept: list[str] = []
    per = -(-len(docs) // sessions)
    for r in range(sessions):
        index = DedupIndex(conn, CFG, run_id=r)
        for doc_id, text in docs[r * per : (r + 1) * per]:
            f = fp(text)
            if index.check(doc_id, f) is None:
                index.add(doc_id, f)
                kept.append(doc_id)
        index.flush()
        conn.commit()
    conn.close()
    return kept


def test_incremental_sessions_keep_the_same_documents(tmp_path: Path) -> None:
    docs = corpus()
    one = decide(docs, tmp_path / "one.sqlite", 1)
    three = decide(docs, tmp_path / "three.sqlite", 3)
    assert one == three
    # one survivor per source: every kept id names a different source
    assert len({k.split("-")[0] for k in one}) == len(one) == 40


def test_similarity_uses_consistent_samples() -> None:
    big = article(20, paragraphs=20)
    part = "\n\n".join(big.split("\n\n")[:5])
    a, b = fp(part), fp(big)
    assert a.sketch.size < a.shingles or b.sketch.size < b.shingles
    s = similarity(a.sketch, a.shingles, b.sketch, b.shingles)
    assert s.containment > 0.9 and 0.15 < s.jaccard < 0.4
    assert similarity(b.sketch, b.shingles, a.sketch, a.shingles) == s  # symmetric


def test_storage_per_document_is_under_one_kilobyte(tmp_path: Path) -> None:
    db = tmp_path / "size.sqlite"
    conn = sqlite3.connect(db)
    index = DedupIndex(conn, CFG)
    n = 600
    for i in range(n):
        index.add(f"{i:032x}", fp(article(5000 + i, paragraphs=8, size=100)))  # ~5 KB documents
    index.flush()
    conn.commit()
    conn.execute("VACUUM")
    conn.close()
    per_doc = db.stat().st_size / n
    assert per_doc < 1024, per_doc  # measured 860 B with the defaults (36 bands, 64-value sketch; 945 B with 48-bit band keys)


def test_candidate_lookup_uses_the_band_index(conn: sqlite3.Connection) -> None:
    DedupIndex(conn, CFG)
    plan = " ".join(
        str(r[-1]) for r in conn.execute("EXPLAIN QUERY PLAN SELECT doc FROM dedup_bands WHERE key IN (1, 2)")
    )
    assert "USING PRIMARY KEY" in plan or "USING COVERING INDEX" in plan
    assert np.int64  # keys are signed 64-bit integers: SQLite's INTEGER


def test_band_levels_merge_without_changing_decisions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny level sizes force merges at every flush: same kept set, every band row still found,
    level counts persisted for the next session."""
    import cleaner.state.dedup_index as di

    docs = corpus()
    big = decide(docs, tmp_path / "big.sqlite", 3)
    monkeypatch.setattr(di, "_LEVEL_ROWS", (40, 400))
    small = decide(docs, tmp_path / "small.sqlite", 3)
    assert small == big
    conn = sqlite3.connect(tmp_path / "small.sqlite")
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in di._LEVELS}
    stored = dict(conn.execute("SELECT key, value FROM dedup_meta WHERE key LIKE 'rows:%'").fetchall())
    total = conn.execute("SELECT count(*) FROM dedup_docs").fetchone()[0] * (CFG.bands + 1)  # + the head key
    assert sum(counts.values()) == total and counts["dedup_bands"] > 0
    assert all(int(stored[f"rows:{t}"]) == counts[t] for t in di._LEVELS[:-1])
    conn.close()


def _overlapping_pages(n: int) -> list[str]:
    """Pages sharing a third of their text: not copies of each other (all kept), shared band keys."""
    shared = article(77, paragraphs=2)
    return [shared + "\n\n" + article(900 + i, paragraphs=4) for i in range(n)]


@pytest.mark.parametrize("flush_every", [1, 0])
def test_a_band_key_lists_at_most_band_cap_documents(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, flush_every: int
) -> None:
    """A key that many kept pages share stops growing at _BAND_CAP (reads stay bounded), whether
    its rows are buffered or written; a page added later keeps its other keys, so its copy is found."""
    import cleaner.state.dedup_index as di

    monkeypatch.setattr(di, "_BAND_CAP", 4)
    pages = _overlapping_pages(30)
    index = DedupIndex(conn, CFG)
    for i, text in enumerate(pages):
        f = fp(text)
        assert index.check(f"p{i}", f) is None
        index.add(f"p{i}", f)
        if flush_every:
            index.flush()
    index.flush()
    sizes = [n for (n,) in conn.execute("SELECT count(*) FROM dedup_bands_0 GROUP BY key")]
    assert max(sizes) == 4  # the shared keys filled up, and stayed full
    assert sum(sizes) < 30 * CFG.bands
    listed = conn.execute("SELECT count(DISTINCT doc) FROM dedup_bands_0").fetchone()[0]
    assert listed == 30  # every page is still listed under keys of its own
    match = index.check("copy", fp(edit(pages[-1], 0.03, 5)))
    assert match is not None and match.duplicate_of == "p29"


def test_band_cap_counts_the_same_with_and_without_a_prior_lookup(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`add` without a `check` first (the band shuffle's fallback) counts keys by a query: same rows."""
    import cleaner.state.dedup_index as di

    monkeypatch.setattr(di, "_BAND_CAP", 5)
    pages = [fp(t) for t in _overlapping_pages(20)]
    other = sqlite3.connect(":memory:")
    checked, blind = DedupIndex(conn, CFG), DedupIndex(other, CFG)
    for i, f in enumerate(pages):
        assert checked.check(f"p{i}", f) is None
        checked.add(f"p{i}", f)
        blind.add(f"p{i}", f)
        if i == 9:
            checked.flush()
            blind.flush()
    checked.flush()
    blind.flush()
    q = "SELECT key, doc FROM dedup_bands_0 ORDER BY key, doc"
    assert conn.execute(q).fetchall() == other.execute(q).fetchall()
    other.close()


def test_pipeline_ids_are_stored_packed_and_read_back(conn: sqlite3.Connection) -> None:
    kept = "0123456789abcdef0123456789abcdef"  # a pipeline id: 32 lowercase hex digits
    index = DedupIndex(conn, CFG)
    index.add(kept, fp(article(31)))
    index.add("Not-Hex-" + "x" * 24, fp(article(32)))
    assert conn.execute("SELECT typeof(doc_id) FROM dedup_docs ORDER BY id").fetchall() == [("blob",), ("text",)]
    assert index.check("f" * 32, fp(article(31))) == Match(kept, "exact", 1.0, "same words in the same order")
    near = index.check("e" * 32, fp(edit(article(31), 0.03, 1)))
    assert near is not None and near.duplicate_of == kept and near.method == "near"
    assert index.check(kept, fp(article(31))) is None  # never itself


def _reference_similarity(a: np.ndarray, n_a: int, b: np.ndarray, n_b: int, c_a: int, c_b: int) -> tuple:
    """The estimate written plainly with numpy sets: what `similarity` must equal, value for value."""
    tau = min(int(a[-1]) >> 1 if a.size < n_a else 1 << 31, int(b[-1]) >> 1 if b.size < n_b else 1 << 31)
    sa, sb = a[(a >> 1) <= tau], b[(b >> 1) <= tau]
    if (n_a, sa.size) > (n_b, sb.size):
        sa, sb, c_a, c_b = sb, sa, c_b, c_a
    inter = np.isin(sa >> 1, sb >> 1)
    union = sa.size + sb.size - int(inter.sum())
    jaccard = float(inter.sum()) / union if union else 0.0
    content = (sa & 1).astype(bool)
    if not content.any():
        content = np.ones(sa.size, dtype=bool)
    contained = float(inter[content].sum()) / int(content.sum()) if content.size else 0.0
    own = (sb & 1).astype(bool)
    if not (c_a and c_b):
        coverage = 1.0
    elif not own.any():
        coverage = min(1.0, contained * c_a / c_b)
    else:
        coverage = float(np.isin(sb[own] >> 1, sa >> 1).sum()) / int(own.sum())
    n_small, n_large = min(n_a, n_b), max(n_a, n_b)
    shared = jaccard * (n_small + n_large) / (1.0 + jaccard)
    short = ~content
    short_found = float(inter[short].sum()) / int(short.sum()) if short.any() else 1.0
    return (contained, jaccard, int(content.sum()), coverage, min(1.0, shared / n_large) if n_large else 0.0,
            min(1.0, shared / n_small) if n_small else 0.0, short_found, int(short.sum()))


def _sketch(hashes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sorted sketch values: 31-bit hash << 1 | a random content flag per value."""
    return ((hashes << np.uint64(1)) | rng.integers(0, 2, hashes.size, dtype=np.uint64)).astype(np.uint32)


def test_similarity_equals_the_plain_numpy_estimate() -> None:
    rng = np.random.default_rng(3)
    for trial in range(300):
        pool = rng.integers(0, 1 << 31, 120, dtype=np.uint64)  # overlapping samples
        k_a, k_b = int(rng.integers(1, 65)), int(rng.integers(1, 65))
        a, b = (_sketch(np.unique(rng.choice(pool, k)), rng) for k in (k_a, k_b))
        n_a = a.size + int(rng.integers(0, 3)) * 50  # full sketch or a bottom-k sample
        n_b = b.size + int(rng.integers(0, 3)) * 50
        c_a, c_b = int(rng.integers(0, n_a + 1)), int(rng.integers(0, n_b + 1))
        got = dataclasses.astuple(similarity(a, n_a, b, n_b, c_a, c_b))
        assert got == _reference_similarity(a, n_a, b, n_b, c_a, c_b), trial


def test_containment_alone_equals_similaritys() -> None:
    """The cheap first check must agree exactly: a candidate it turns away could not verify."""
    rng = np.random.default_rng(4)
    for trial in range(300):
        pool = rng.integers(0, 1 << 31, 120, dtype=np.uint64)
        k_a, k_b = int(rng.integers(1, 65)), int(rng.integers(1, 65))
        a, b = (_sketch(np.unique(rng.choice(pool, k)), rng) for k in (k_a, k_b))
        n_a = a.size + int(rng.integers(0, 3)) * 50
        n_b = b.size + int(rng.integers(0, 3)) * 50
        sim = similarity(a, n_a, b, n_b, 10, 20)
        assert containment(a.tolist(), n_a, b.tolist(), n_b) == (sim.containment, sim.evidence), trial


def test_shared_counts_of_all_candidates_equal_one_set_intersection_each() -> None:
    """The prefilter's vectorised count is the plain count, whatever the content flags."""
    from cleaner.state.dedup_index import _shared_counts

    rng = np.random.default_rng(5)
    for trial in range(200):
        pool = rng.integers(0, 1 << 31, 150, dtype=np.uint64)
        mine = _sketch(np.unique(rng.choice(pool, int(rng.integers(1, 65)))), rng)
        others = [_sketch(np.unique(rng.choice(pool, int(rng.integers(1, 65)))), rng) for _ in range(rng.integers(0, 9))]
        want = [len({v >> 1 for v in mine.tolist()} & {v >> 1 for v in o.tolist()}) for o in others]
        assert _shared_counts(mine, [o.astype(np.uint32).tobytes() for o in others]) == want, trial


def _last_level_keys(db: Path) -> np.ndarray:
    conn = sqlite3.connect(db)
    keys = np.array([r[0] for r in conn.execute("SELECT key FROM dedup_bands")], dtype=np.int64)
    conn.close()
    return keys


def _loaded_filter(db: Path, level: str = "dedup_bands"):  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(db)
    index = DedupIndex(conn, CFG, run_id=99)
    conn.close()
    return index._filters.get(level), keyfilter.load(Path(str(db) + keyfilter.FILTER_SUFFIX + level))


def test_key_filters_are_cached_beside_the_ledger_and_hold_every_key_of_their_level(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny levels: both filtered levels fill in the first session. A level's filter file holds
    every key of the level; a missing or damaged file, or one of another generation than the
    ledger's (a merge rolled back after the file was written), is rebuilt from the level."""
    import cleaner.state.dedup_index as di

    monkeypatch.setattr(di, "_LEVEL_ROWS", (40, 400))
    monkeypatch.setattr(di, "_FILTER_MIN_ROWS", 100)
    db = tmp_path / "f.sqlite"
    decide(corpus(), db, 3)
    conn = sqlite3.connect(db)
    gens = {k[11:]: int(v) for k, v in conn.execute("SELECT key, value FROM dedup_meta WHERE key LIKE 'filter_gen:%'")}
    level_keys = {t: np.array([r[0] for r in conn.execute(f"SELECT key FROM {t}")], dtype=np.int64)
                  for t in di._LEVELS[1:]}
    conn.close()
    assert set(gens) == {"dedup_bands_1", "dedup_bands"} and all(g >= 1 for g in gens.values())
    for level, keys in level_keys.items():
        path = Path(str(db) + keyfilter.FILTER_SUFFIX + level)
        if not keys.size:  # emptied by its last merge: no file, no filter
            assert not path.exists() and _loaded_filter(db, level)[0] is None
            continue
        gen, filt = keyfilter.load(path)
        assert gen == gens[level] and filt.may_hold(keys).all()
        path.unlink()  # missing: rebuilt at open, and saved
        loaded, saved = _loaded_filter(db, level)
        assert loaded.may_hold(keys).all() and saved is not None and saved[1].may_hold(keys).all()
        data = bytearray(path.read_bytes())  # damaged
        data[-1] ^= 0xFF
        path.write_bytes(bytes(data))
        assert _loaded_filter(db, level)[0].may_hold(keys).all()
        keyfilter.save(path, keyfilter.KeyFilter.sized(10), gen + 1)  # an empty filter of another generation
        assert _loaded_filter(db, level)[0].may_hold(keys).all()
    # merges whose transaction rolls back after their files were written: rebuilt, not trusted
    keys = level_keys["dedup_bands"]
    conn = sqlite3.connect(db)
    index = DedupIndex(conn, CFG, run_id=7)
    for i in range(40):
        index.add(f"extra-{i}", fp(article(7000 + i)))
    index.flush()
    assert keyfilter.load(Path(str(db) + keyfilter.FILTER_SUFFIX + "dedup_bands"))[0] > gens["dedup_bands"]
    conn.rollback()
    conn.close()
    assert (_last_level_keys(db) == keys).all()
    loaded, saved = _loaded_filter(db)
    assert saved[0] == gens["dedup_bands"] and loaded.may_hold(keys).all()


def test_filtered_levels_give_the_decisions_of_unfiltered_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cleaner.state.dedup_index as di

    monkeypatch.setattr(di, "_LEVEL_ROWS", (40, 400))
    monkeypatch.setattr(di, "_FILTER_MIN_ROWS", 100)
    docs = corpus()
    filtered = decide(docs, tmp_path / "a.sqlite", 2)
    monkeypatch.setattr(keyfilter.KeyFilter, "may_hold", lambda self, keys: np.ones(keys.size, dtype=bool))
    assert decide(docs, tmp_path / "b.sqlite", 2) == filtered
