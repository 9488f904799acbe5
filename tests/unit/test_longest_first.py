"""keep = "longest" over a whole run: the longest copy is kept wherever in the run its copies arrive."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.run_fixtures import clean_articles, ledger_outcomes, para, words

Cli = Callable[..., tuple[int, str, str]]


def _article(seed: int, paragraphs: int) -> list[str]:
    return [para(words(seed * 100 + k, 70)) for k in range(paragraphs)]


def _raw(folder: Path) -> None:
    """A truncated copy first, 12 unrelated articles, the full article last, then a teaser of
    another article followed, 10 articles later, by that article itself."""
    folder.mkdir()

    def page(name: str, title: str, paragraphs: list[str]) -> None:
        (folder / name).write_text(title + "\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")

    full, long = _article(1, 10), _article(2, 12)
    page("a00_truncated.txt", "Story one", full[:6])
    for i in range(12):
        page(f"b{i:02d}_other.txt", f"Other {i}", _article(10 + i, 4))
    page("c00_full.txt", "Story one", full)
    page("d00_teaser.txt", "Story two", long[:2])
    for i in range(10):
        page(f"e{i:02d}_other.txt", f"More {i}", _article(40 + i, 3))
    page("f00_article.txt", "Story two", long)


def _run(cli: Cli, project: Path, name: str, *extra: str) -> dict[str, tuple[str, str | None]]:
    out = project / name
    args = ("run", "--no-progress", "-q", "--input", str(project / "in"), "--clean", str(out / "clean"),
            "--archive", str(out / "archive"), "--state", str(out / "state"), *extra)
    code, _, err = cli(*args)
    assert code == 0, err
    from cleaner.sinks.archive_check import verify_archive

    assert verify_archive(out / "archive") == []
    assert not list((out / "state").glob("*.spool")), "the spool is removed when the run ends"
    paths = {r[0]: r[1] for r in ledger_outcomes(out / "state")}
    return {paths[r[0]]: (r[2], paths.get(r[3])) for r in ledger_outcomes(out / "state")}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_longest_copy_in_the_run_is_kept_however_far_apart_they_arrive(
    project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    _raw(project / "in")
    monkeypatch.setenv("CLEANER_RUN_CHECKPOINT_DOCS", "3")  # steps of 3 documents: the copies in different ones
    first = _run(cli, project, "first", "--workers", workers)
    assert first["a00_truncated.txt"] == ("clean", None)
    assert first["c00_full.txt"] == ("duplicate", "a00_truncated.txt")
    assert first["d00_teaser.txt"] == ("clean", None)
    assert first["f00_article.txt"] == ("clean", None)  # a long text is not lost to its teaser
    monkeypatch.setenv("CLEANER_DEDUP_KEEP", "longest")
    longest = _run(cli, project, "longest", "--workers", workers)
    assert longest["c00_full.txt"] == ("clean", None)
    assert longest["a00_truncated.txt"] == ("duplicate", "c00_full.txt")
    assert longest["f00_article.txt"] == ("clean", None)
    assert longest["d00_teaser.txt"] == ("duplicate", "f00_article.txt")
    others = {k: v for k, v in longest.items() if k[0] in "be"}
    assert len(others) == 22 and set(others.values()) == {("clean", None)}


def test_keep_longest_writes_what_keep_first_writes_when_no_copies_compete(project: Path, cli: Cli,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The samples have no copies: the same articles and outcomes, only the order they were written in differs."""
    (project / "raw").rename(project / "in")
    _run(cli, project, "first")
    monkeypatch.setenv("CLEANER_DEDUP_KEEP", "longest")
    _run(cli, project, "longest")
    assert clean_articles(project / "longest" / "clean") == clean_articles(project / "first" / "clean")
    assert ledger_outcomes(project / "longest" / "state") == ledger_outcomes(project / "first" / "state")


def test_a_second_run_keeps_what_the_first_archived(project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """An archived document is never un-archived: a longer copy in a later run is its duplicate."""
    _raw(project / "in")
    later = project / "later"
    later.mkdir()
    for name in ("c00_full.txt", "f00_article.txt"):
        (project / "in" / name).rename(later / name)
    monkeypatch.setenv("CLEANER_DEDUP_KEEP", "longest")
    _run(cli, project, "out")
    for p in later.iterdir():
        p.rename(project / "in" / p.name)
    second = _run(cli, project, "out")
    assert second["a00_truncated.txt"] == ("clean", None)
    assert second["c00_full.txt"] == ("duplicate", "a00_truncated.txt")


def test_a_dry_run_with_keep_longest_writes_nothing(project: Path, cli: Cli) -> None:
    code, _, err = cli("run", "--dry-run", "--keep", "longest", "--no-progress")
    assert code == 0, err
    assert sorted(p.name for p in project.iterdir()) == ["raw"]
