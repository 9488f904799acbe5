"""Inputs and output readers shared by the tests that compare whole runs (engines, worker counts)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from cleaner.state.ledger import Ledger

_RND = random.Random(11)
_VOCAB = ["".join(_RND.choice("abcdefghiklmnoprstuvwy") for _ in range(3 + i % 7)) for i in range(5000)]


def words(seed: int, n: int) -> list[str]:
    rnd = random.Random(seed)
    return [rnd.choice(_VOCAB) for _ in range(n)]


def para(ws: list[str], width: int = 60) -> str:
    """Long lines: every line is content for the verifier."""
    return "\n".join(" ".join(ws[i : i + width]) for i in range(0, len(ws), width))


def edited(ws: list[str], rate: float, seed: int) -> list[str]:
    rnd = random.Random(seed)
    return [w if rnd.random() > rate else rnd.choice(_VOCAB) for w in ws]


def clean_articles(clean: Path) -> list[tuple]:
    out = []
    for p in sorted(clean.glob("part-*.jsonl")):
        for line in p.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            out.append((r["id"], r["text"], r["lang"], r["source"]))
    return sorted(out)


def ledger_outcomes(state: Path) -> list[tuple]:
    ledger = Ledger(state, readonly=True)
    try:
        rows = ledger.conn.execute(
            "SELECT doc_id, input_path, outcome, duplicate_of, method, similarity FROM documents").fetchall()
    finally:
        ledger.close()
    return sorted(tuple(r) for r in rows)


def make_raw(folder: Path) -> None:
    """The samples plus near, exact and byte-identical copies of them, and a page set sharing a template."""
    samples = sorted(p for p in folder.iterdir() if p.suffix == ".txt")
    for i, p in enumerate(samples):
        text = p.read_text(encoding="utf-8")
        lines = text.splitlines()
        (folder / f"copy_{i}.txt").write_text(text + "\n", encoding="utf-8")  # same words: exact
        (folder / f"bytes_{i}.txt").write_bytes(p.read_bytes())  # same bytes: not cleaned again
        (folder / f"firstline_{i}.txt").write_text("\n".join(["Reposted " + lines[0], *lines[1:]]), encoding="utf-8")
        (folder / f"trunc_{i}.txt").write_text("\n".join(lines[: max(3, len(lines) * 2 // 3)]), encoding="utf-8")
    for i in range(30):
        body = para(words(500 + i, 150) + words(1, 120))
        (folder / f"site_{i:02d}.txt").write_text(f"Headline number {i}\n\n{body}\n", encoding="utf-8")
