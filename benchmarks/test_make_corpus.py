"""make_corpus.py: the same arguments give the same bytes, and --hard-dups makes what it says."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_corpus  # noqa: E402


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_same_arguments_give_the_same_corpus(tmp_path: Path) -> None:
    make_corpus.build(tmp_path / "a", 120, 5)
    make_corpus.build(tmp_path / "b", 120, 5)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_hard_dups_adds_truncated_and_reordered_copies(tmp_path: Path) -> None:
    summary = make_corpus.build(tmp_path / "h", 400, 5, hard_dups=True)
    assert summary["counts"]["dup:truncated"] > 0 and summary["counts"]["dup:reordered"] > 0
    kinds = {json.loads(line)["dup_kind"] for line in (tmp_path / "h" / "labels.jsonl").open(encoding="utf-8")}
    assert {"truncated", "reordered", "exact"} <= kinds
    plain = make_corpus.build(tmp_path / "p", 400, 5)
    assert "dup:truncated" not in plain["counts"]  # the default corpus keeps its recipe


def test_a_truncated_copy_is_a_prefix_and_a_reordered_one_the_same_paragraphs() -> None:
    rng = random.Random(1)
    pools = make_corpus.real_paragraphs(make_corpus.REPO_RAW, None)
    original = make_corpus.original(rng, 0, pools, 0.0, 0.0)
    original.paras = [f"Paragraph {i}." for i in range(10)]
    kinds = {"truncated": 0, "reordered": 0}
    for _ in range(200):
        dup = make_corpus.duplicate(rng, 1, original, make_corpus.HARD_DUP_KINDS)
        if dup.dup_kind == "truncated":
            assert 1 <= len(dup.paras) < len(original.paras) and dup.paras == original.paras[: len(dup.paras)]
        elif dup.dup_kind == "reordered":
            assert sorted(dup.paras) == sorted(original.paras) and dup.paras != original.paras
        else:
            continue
        kinds[dup.dup_kind] += 1
    assert min(kinds.values()) > 0


def test_teasers_are_an_articles_first_paragraphs_and_a_link() -> None:
    rng = random.Random(2)
    pools = make_corpus.real_paragraphs(make_corpus.REPO_RAW, None)
    original = make_corpus.original(rng, 0, pools, 0.0, 0.0)
    original.paras = [f"Paragraph {i}." for i in range(12)]
    seen = 0
    for _ in range(100):
        dup = make_corpus.duplicate(rng, 1, original, make_corpus.TEASER_DUP_KINDS)
        if dup.dup_kind != "teaser":
            continue
        seen += 1
        *lead, link = dup.paras
        assert 1 <= len(lead) <= 2 and lead == original.paras[: len(lead)]
        assert link == make_corpus.TEASER_LINKS[original.lang].format(host=original.site.host)
        assert dup.site != original.site
    assert seen > 0


def test_lists_are_short_items_under_prose_and_series_share_intro_and_closing() -> None:
    rng = random.Random(3)
    pools = make_corpus.real_paragraphs(make_corpus.REPO_RAW, None)
    make_corpus._SERIES.clear()
    arts = [make_corpus.original(rng, i, pools, 0.0, 0.0, lists=True) for i in range(400)]
    listed = [a for a in arts if len(a.paras) >= 13 and all(len(p.split()) <= 12 for p in a.paras[2:-1])]
    assert 0.3 < len(listed) / len(arts) < 0.7  # LIST_SHARE of the articles
    by_intro: dict[str, list[make_corpus.Article]] = {}
    for a in listed:
        by_intro.setdefault(a.paras[0], []).append(a)
    series = [v for v in by_intro.values() if len(v) > 1]
    assert series  # parts of one series: the same intro and closing, other items
    for parts in series:
        assert len({p.paras[-1] for p in parts}) == 1
        assert len({tuple(p.paras[1:-1]) for p in parts}) == len(parts)
