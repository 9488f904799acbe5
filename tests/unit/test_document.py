import re

import pytest

from cleaner.document import Edit, Rewriter, document_id, replay


def test_rewriter_edits_replay_to_the_output() -> None:
    text = "a &amp; b &lt;c&gt; d"
    rw = Rewriter(text, "repair")
    rw.sub(re.compile(r"&(amp|lt|gt);"), lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], "html-entity")
    edits: list[Edit] = []
    out = rw.apply(edits)
    assert out == "a & b <c> d"
    assert [e.before for e in edits] == ["&amp;", "&lt;", "&gt;"]
    assert replay(text, edits) == out


def test_rewriter_keeps_first_of_overlapping_changes() -> None:
    rw = Rewriter("abcdef", "strip")
    rw.remove(1, 4, "one")
    rw.remove(2, 5, "two")
    edits: list[Edit] = []
    assert rw.apply(edits) == "aef"
    assert [e.rule for e in edits] == ["one"]


def test_replay_rejects_an_edit_that_does_not_fit() -> None:
    with pytest.raises(ValueError):
        replay("abc", [Edit("s", "r", "remove", 0, 1, "x")])


def test_document_id_is_stable_and_member_sensitive() -> None:
    assert document_id("ab") == document_id("ab")
    assert document_id("ab", "m1") != document_id("ab", "m2")
    assert len(document_id("ab")) == 32


def test_same_bytes_at_two_paths_are_two_documents() -> None:
    assert document_id("ab", None, "a.txt") != document_id("ab", None, "b.txt")
