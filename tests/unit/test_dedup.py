"""Dedup fingerprints: normalisation, scripts, determinism, MinHash quality."""

from __future__ import annotations

import pickle
import random
import subprocess
import sys
import unicodedata

import numpy as np
import pytest

from cleaner.config import DedupConfig
from cleaner.document import Document, Source
from cleaner.stages.dedup import (
    HEAD_SIZE,
    PREFIX_SIZE,
    Fingerprint,
    _tokens,
    fingerprint,
    fingerprint_text,
    one_permutation_minhash,
    order_key,
    shingle_set,
    undo,
)
from cleaner.document import Edit, replay

CFG = DedupConfig()

ARTICLE = (
    "Café owners in the old town say the new parking rules have cut their trade by a third.\n\n"
    "“We used to see the same faces every morning,” said Zoë Müller, who has run the bakery "
    "on the corner for twenty years. The council says the rules will be reviewed in spring.\n\n"
    "Residents, however, welcome the quieter streets and the wider pavements near the school."
)


def words(seed: int, n: int) -> list[str]:
    rnd = random.Random(seed)
    vocab = ["".join(rnd.choice("abcdefghijklmnoprstuvwyz") for _ in range(rnd.randint(2, 9))) for _ in range(3000)]
    return [rnd.choice(vocab) for _ in range(n)]


def article(seed: int, paragraphs: int = 6, size: int = 60) -> str:
    w = words(seed, paragraphs * size)
    return "\n\n".join(" ".join(w[i * size : (i + 1) * size]) + "." for i in range(paragraphs))


@pytest.mark.parametrize(
    "variant",
    [
        lambda t: unicodedata.normalize("NFD", t),
        lambda t: t.replace(" ", "\u00a0"),
        lambda t: t.replace("\n", "\r\n"),
        lambda t: "\ufeff" + t,
        lambda t: t.replace("\n", "  \n") + "   ",
        lambda t: t.replace("\n\n", "\n \n"),
        lambda t: t.upper(),
        lambda t: t.replace(",", "").replace(".", " ."),
        lambda t: unicodedata.normalize("NFKC", t).replace("a", "\uff41"),  # full-width a
    ],
)
def test_unicode_and_layout_variants_are_exact_matches(variant) -> None:
    a = fingerprint_text(ARTICLE, CFG)
    b = fingerprint_text(variant(ARTICLE), CFG)
    assert a.exact == b.exact
    assert np.array_equal(a.minhash, b.minhash)


def test_different_words_differ() -> None:
    a = fingerprint_text(ARTICLE, CFG)
    b = fingerprint_text(ARTICLE.replace("third", "quarter"), CFG)
    assert a.exact != b.exact
    assert len(a.exact) == 16


def test_fields_and_types() -> None:
    fp = fingerprint_text(ARTICLE, CFG)
    assert fp.minhash.dtype == np.uint32 and fp.minhash.shape == (CFG.num_perm,)
    assert fp.sketch.dtype == np.uint32 and fp.sketch.size == min(CFG.sketch_size, fp.shingles)
    assert np.all(np.diff(fp.sketch.astype(np.int64) >> 1) > 0)  # sorted, distinct hashes
    assert fp.shingles == shingle_set(ARTICLE, CFG).size
    assert fp.length == len(ARTICLE)
    assert pickle.loads(pickle.dumps(fp)) == fp


def test_head_anchors_where_the_text_proper_starts() -> None:
    """The head skips short label lines and does not move when the end of the text is cut."""
    body = ARTICLE.split("\n\n")
    full = fingerprint_text("Menu\nHome | News\n\n" + ARTICLE, CFG)
    cut = fingerprint_text("\n\n".join(body[: max(1, len(body) // 2)]), CFG)
    assert full.head.size == PREFIX_SIZE and np.array_equal(full.head[: cut.head.size], cut.head)
    other = fingerprint_text("Menu\nHome | News\n\n" + article(5), CFG)
    assert not np.array_equal(full.head[:HEAD_SIZE], other.head[:HEAD_SIZE])
    assert fingerprint_text("", CFG).head.size == 0


def test_the_head_samples_how_the_first_paragraphs_start() -> None:
    """A teaser (the first paragraphs) has its article's head; a text that shares only the lead
    paragraph shares only the head's first part."""
    body = ARTICLE.split("\n\n")
    full = fingerprint_text(ARTICLE, CFG).head
    teaser = fingerprint_text("\n\n".join(body[:2]), CFG).head
    assert teaser.size < full.size and np.array_equal(full[: teaser.size], teaser)
    lead_only = fingerprint_text(body[0] + "\n\n" + article(5), CFG).head
    first = int(np.argmax(full != lead_only))  # where they part: the second paragraph's start
    assert HEAD_SIZE <= first < PREFIX_SIZE and len(set(full.tolist()) & set(lead_only.tolist())) <= first + 1


def test_same_fingerprint_in_another_process() -> None:
    """The index persists across runs: hashes must not depend on the process (no hash())."""
    code = (
        "import sys; from cleaner.config import DedupConfig; from cleaner.stages.dedup import fingerprint_text;"
        "fp = fingerprint_text(sys.stdin.read(), DedupConfig());"
        "sys.stdout.write(fp.exact.hex() + fp.minhash.tobytes().hex() + fp.sketch.tobytes().hex())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input=ARTICLE, capture_output=True, text=True, check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
    ).stdout
    fp = fingerprint_text(ARTICLE, CFG)
    assert out == fp.exact.hex() + fp.minhash.tobytes().hex() + fp.sketch.tobytes().hex()


def test_no_words_gives_an_empty_fingerprint() -> None:
    for text in ("", "   \n\n ", "--- !!! ..."):
        fp = fingerprint_text(text, CFG)
        assert fp.shingles == 0 and fp.sketch.size == 0


def test_short_text_is_one_shingle() -> None:
    assert fingerprint_text("two words", CFG).shingles == 1


def test_cjk_runs_are_character_shingles() -> None:
    zh = "北京市政府今天宣布，从下个月起公共交通票价将下调百分之十，以鼓励市民绿色出行。"
    tok, _, single, _ = _tokens(zh)
    assert single.all() and tok.size == sum(1 for c in zh if c.isalnum())
    fp = fingerprint_text(zh, CFG)
    assert fp.shingles == tok.size - CFG.shingle_chars + 1  # all 5-grams of this sentence differ
    ja = "東京では今日、桜の開花が発表されました。例年より五日早いということです。"
    assert fingerprint_text(ja, CFG).shingles > 20
    # a Latin word inside Chinese stays one token
    tok2 = _tokens("我们使用Python编程")[0]
    assert tok2.size == 4 + 1 + 2


def test_shingle_set_is_what_the_sketch_samples() -> None:
    """The exact set (for evaluation) and the fingerprint's sample come from one shingling:
    the sketch is the bottom of the set, and its size the fingerprint's shingle count."""
    words = " ".join(f"word{i % 97} token{i % 89}" for i in range(400))
    for text in (words, "北京市政府今天宣布，从下个月起公共交通票价将下调百分之十，以鼓励市民绿色出行。"):
        fp = fingerprint_text(text, CFG)
        exact = shingle_set(text, CFG)
        assert exact.size == fp.shingles
        assert (fp.sketch >> 1).tolist() == exact[: fp.sketch.size].tolist()
    assert shingle_set("", CFG).size == 0


def test_spaced_scripts_are_word_tokens() -> None:
    assert _tokens("Привет, мир! 안녕하세요 세계")[0].size == 4
    assert _tokens("नमस्ते दुनिया")[0].size == 2  # combining vowel signs stay in the word


def test_content_lines_flag_the_body_not_the_menu() -> None:
    menu = "Home | News | Sport\nShare\nTweet\n"
    body = " ".join(words(1, 80))
    fp = fingerprint_text(menu + body + "\nAbout us | Contact", CFG)
    assert 0 < fp.content < fp.shingles
    flags = (fp.sketch & 1).astype(bool)
    assert flags.sum() >= fp.sketch.size * 0.8


def test_one_permutation_minhash_estimates_jaccard() -> None:
    """OPH + densification must estimate Jaccard like independent permutations (~0.04 MAE)."""
    errors = []
    for seed in range(40):
        base = words(seed, 400)
        rnd = random.Random(seed)
        edited = [w if rnd.random() > 0.12 else "zz" + w for w in base]
        a, b = " ".join(base), " ".join(edited)
        sa, sb = set(shingle_set(a, CFG).tolist()), set(shingle_set(b, CFG).tolist())
        true = len(sa & sb) / len(sa | sb)
        fa, fb = fingerprint_text(a, CFG), fingerprint_text(b, CFG)
        est = float(np.mean(fa.minhash == fb.minhash))
        errors.append(est - true)
    assert abs(float(np.mean(errors))) < 0.02  # unbiased
    assert float(np.mean(np.abs(errors))) < 0.06


def test_densification_fills_every_bin_consistently() -> None:
    h = np.sort(np.array([5, 1 << 20, 1 << 29, (1 << 31) - 7], dtype=np.uint64))
    mh = one_permutation_minhash(h, 128)
    assert set(mh.tolist()) <= set(h.tolist())
    assert np.array_equal(mh, one_permutation_minhash(h.copy(), 128))


def test_fingerprint_stage_and_order_key() -> None:
    short = Document(id="a", source=Source(path="a.txt", sha256="0"), raw=b"", text="short text here")
    long = Document(id="b", source=Source(path="b.txt", sha256="1"), raw=b"", text=ARTICLE)
    for d in (short, long):
        fingerprint(d, CFG)
        assert isinstance(d.fingerprint, Fingerprint)
    assert [d.id for d in sorted([short, long], key=order_key)] == ["b", "a"]


def test_undo_reverses_a_stage_edit_log() -> None:
    before = "Menu | Home\nThe body of the page.\nShare"
    edits = [
        Edit("strip", "menu", "remove", 0, 12, "Menu | Home\n"),
        Edit("convert", "quote", "replace", 4, 8, "body", "BODY"),
        Edit("strip", "share", "remove", 21, 27, "\nShare"),
    ]
    after = replay(before, edits)
    assert after == "The BODY of the page."
    assert undo(after, edits, ("strip", "convert")) == before
    assert undo(after, edits[2:], ("strip",)) == "The BODY of the page.\nShare"
    assert undo("something else", edits, ("strip", "convert")) is None


def test_short_cleaned_text_is_identified_with_its_input() -> None:
    """Two pages whose bodies strip removed keep only a shared header: not the same page."""
    header = "Disclosure: this post may contain affiliate links"

    def page(body: str) -> Document:
        before = header + "\n\n" + body
        edit = Edit("strip", "body", "remove", len(header), len(before), before[len(header) :])
        return Document(id=body, source=Source(path="p.txt", sha256=body), raw=before.encode(), text=header, edits=[edit])

    a, b, a2 = (fingerprint(page(body), CFG).fingerprint for body in ("dogs and cats", "tax rules", "dogs and cats"))
    assert a.content < CFG.min_content
    assert a.exact != b.exact and a.exact == a2.exact
    assert a.exact != fingerprint_text(header, CFG).exact
    long = fingerprint_text(ARTICLE, CFG, source="anything")
    assert long.content >= CFG.min_content and long.exact == fingerprint_text(ARTICLE, CFG).exact
    assert a.source_shingles == 0  # too few shingles to compare near: exact only
    assert long.source_shingles == 0 and long.source.size == 0


def test_short_document_keeps_a_sample_of_its_input() -> None:
    """Only short documents with a text input carry the input sample (raw bytes: exact only)."""
    header = "Disclosure: this post may contain affiliate links, meaning we get a commission at no cost to you."
    source = header + "\n\n" + ARTICLE
    f = fingerprint_text(header, CFG, source=source)
    assert f.content < CFG.min_content and f.source_shingles > f.shingles
    assert f.source.size == min(CFG.short_sketch, f.source_shingles) and np.all(f.source & 1)
    assert np.all(np.diff(f.source.astype(np.int64)) > 0)
    assert f == fingerprint_text(header, CFG, source=source) and f != fingerprint_text(header, CFG, source=header)
    assert fingerprint_text(header, CFG, source=source.encode()).source_shingles == 0


def test_token_bounds_fast_path_is_the_general_one() -> None:
    """Texts without unspaced-script characters take the run-length shortcut: same tokens."""
    from cleaner.stages.dedup import _token_bounds, _token_bounds_any

    rnd = random.Random(5)
    cases = [np.array(c, dtype=np.uint8) for c in ([0], [1], [1, 1], [0, 1, 0], [1, 0, 1], [0, 0, 1, 1, 0, 1])]
    cases += [np.array([rnd.random() < p for _ in range(rnd.randint(1, 300))], dtype=np.uint8)
              for p in (0.1, 0.5, 0.9) for _ in range(50)]
    for cls in cases:
        fast, general = _token_bounds(cls), _token_bounds_any(cls)
        for a, b in zip(fast, general):
            assert np.array_equal(a, b) and a.dtype == b.dtype
    mixed = np.array([0, 1, 2, 2, 1, 0, 2], dtype=np.uint8)  # unspaced characters: the general path
    starts, ends, single = _token_bounds(mixed)
    assert starts.tolist() == [1, 2, 3, 4, 6] and ends.tolist() == [2, 3, 4, 5, 7]
    assert single.tolist() == [False, True, True, False, True]


def test_a_fingerprint_pickles_compactly_and_comes_back_equal() -> None:
    """Fingerprints cross from the workers to the parent pickled: scalars and each array's bytes
    (dtypes kept), equal after the round trip, for long, short and empty texts."""
    cfg = DedupConfig()
    texts = [
        "Ein langer Artikel über die Stadt und ihre Brücken. " * 40,
        "Short line.",
        "",
        "這是一個關於開源社區的報導，權重很重要。" * 10,
    ]
    for text in texts:
        fp = fingerprint_text(text, cfg)
        back = pickle.loads(pickle.dumps(fp, protocol=pickle.HIGHEST_PROTOCOL))
        assert back == fp
        for name in ("minhash", "sketch", "head", "source", "bands"):
            assert getattr(back, name).dtype == getattr(fp, name).dtype, name
