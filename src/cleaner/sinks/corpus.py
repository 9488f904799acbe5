"""clean/: the corpus other tools read, as JSONL shards published atomically.

A shard is written as `NAME.open`, fsynced and renamed when complete, so a reader (or a crashed
run) never sees half a shard. Field names follow what Dolma, datatrove and HF datasets read:
`id`, `text`, `source`, `url`, `title`, `lang`, `added`, `metadata`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from cleaner.config import CorpusConfig
from cleaner.document import Document


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(open_path: Path, final_path: Path) -> None:
    """fsync the finished file, rename it into place, fsync the folder: durable or absent."""
    with open(open_path, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(open_path, final_path)
    fsync_dir(final_path.parent)


def rule_counts(doc: Document) -> dict[str, int]:
    """{stage:rule: edits}, in first-use order (the corpus metadata and the ledger row)."""
    rules: dict[str, int] = {}
    for e in doc.edits:
        key = f"{e.stage}:{e.rule}"
        rules[key] = rules.get(key, 0) + 1
    return rules


def article_record(
    doc: Document, added: str, extra: dict[str, Any] | None = None, rules: dict[str, int] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "source_sha256": doc.source.sha256,
        "encoding": doc.encoding,
        "edits": rule_counts(doc) if rules is None else rules,
    }
    if doc.source.member is not None:
        meta["member"] = doc.source.member
    if doc.source.fetched:
        meta["fetched"] = doc.source.fetched
    if doc.published:
        meta["published"] = doc.published
    if extra:
        meta.update(extra)
    return {
        "id": doc.id,
        "text": doc.text,
        "source": doc.source.path,
        "url": doc.url or doc.source.url,
        "title": doc.title,
        "lang": doc.language,
        "added": added,
        "metadata": meta,
    }


def added_now() -> str:
    now = datetime.now(UTC)
    return now.isoformat(timespec="seconds")[:19] + "Z" if now.year >= 1000 else now.strftime("%Y-%m-%dT%H:%M:%SZ")


# `json.dumps(obj, ensure_ascii=False)` builds this encoder anew on every call (~1 us): the
# workers encode two objects a document with it (its clean/ line, its rule counts)
LINE_ENCODER = json.JSONEncoder(ensure_ascii=False)


def article_line(
    doc: Document, added: str, extra: dict[str, Any] | None = None, rules: dict[str, int] | None = None
) -> str:
    """One shard line, newline included."""
    return LINE_ENCODER.encode(article_record(doc, added, extra, rules)) + "\n"


# control characters other than LF: JSON escapes them one by one (\t, \u0001, ...)
_CONTROLS_BUT_LF = bytes(c for c in range(32) if c != 10)


def json_text(text: str, utf8: bytes) -> bytes:
    """`json.dumps(text, ensure_ascii=False)` in UTF-8, given `utf8` = text.encode("utf-8").

    An article's text goes into two JSON lines (this shard line and the pages.jsonl entry);
    json's C encoder takes ~25 us for a 4 KB non-ASCII text, replacing in the UTF-8 bytes ~4.
    Same bytes: with ensure_ascii off, json escapes only '"', '\\' and characters below U+0020
    (those other than LF, rare in clean text, go to the encoder)."""
    if len(utf8.translate(None, _CONTROLS_BUT_LF)) != len(utf8):
        return json.encoder.encode_basestring(text).encode("utf-8")  # type: ignore[attr-defined]
    return b'"' + utf8.replace(b"\\", b"\\\\").replace(b'"', b'\\"').replace(b"\n", b"\\n") + b'"'


def article_line_bytes(doc: Document, added: str, extra: dict[str, Any] | None, rules: dict[str, int],
                       text_json: bytes) -> bytes:
    """`article_line` in UTF-8 with the text's JSON (`json_text`) given, as the workers build it:
    the record is encoded with an empty text and the text spliced in ("text" is its second key)."""
    record = article_record(doc, added, extra, rules)
    record["text"] = ""
    line = LINE_ENCODER.encode(record).encode("utf-8")
    head = f'{{"id": {LINE_ENCODER.encode(record["id"])}, "text": '.encode("utf-8")
    if not line.startswith(head + b'""'):  # a record laid out otherwise: encode it whole
        return article_line(doc, added, extra, rules).encode("utf-8")
    return b"".join((head, text_json, line[len(head) + 2 :], b"\n"))


@dataclass
class CorpusWriter:
    """Writes one run's articles; `close()` publishes, `abort()` leaves nothing behind."""

    clean_dir: Path
    cfg: CorpusConfig
    run_stamp: str  # ts14 of the run start, names the shards
    _fh: BinaryIO | None = None
    _open: Path | None = None
    _count: int = 0
    _serial: int = 0
    _pending: list[tuple[Path, Path]] = field(default_factory=list)
    published: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clean_dir.mkdir(parents=True, exist_ok=True)
        self._serial = _next_serial(self.clean_dir, self.run_stamp)

    def write(self, doc: Document, extra: dict[str, Any] | None = None) -> str:
        """Append an article; returns the shard name it goes to."""
        return self.write_line(article_line(doc, added_now(), extra), doc.id, doc.text)

    def write_line(self, line: str | bytes, doc_id: str, text: str | None) -> str:
        """Append a line made by `article_line` (or `article_line_bytes`: the workers encode it,
        so the single writer appends bytes); `text` is needed only with write_txt."""
        if self._fh is None or self._count >= self.cfg.shard_docs:
            self._rotate()
        assert self._fh is not None and self._open is not None
        self._fh.write(line if isinstance(line, bytes) else line.encode("utf-8"))
        self._count += 1
        if self.cfg.write_txt:
            if text is None:
                raise ValueError("corpus.write_txt needs the article text")
            txt_dir = self.clean_dir / "txt"
            txt_dir.mkdir(exist_ok=True)
            tmp = txt_dir / f"{doc_id}.txt.open"
            tmp.write_text(text + "\n", encoding="utf-8")
            self._pending.append((tmp, txt_dir / f"{doc_id}.txt"))
        return self._open.name.removesuffix(".open")

    def _rotate(self) -> None:
        self._finish_current()
        name = f"part-{self.run_stamp}-{self._serial:05d}.jsonl"
        self._serial += 1
        self._open = self.clean_dir / f"{name}.open"
        self._fh = open(self._open, "wb", buffering=1 << 20)  # noqa: SIM115
        self._count = 0

    def _finish_current(self) -> None:
        if self._fh is not None and self._open is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._pending.append((self._open, self._open.with_suffix("")))
        self._fh = None
        self._open = None

    def close(self) -> list[Path]:
        """Publish every file of this writer; returns the final paths."""
        self._finish_current()
        for tmp, final in self._pending:
            publish(tmp, final)
            self.published.append(final)
        self._pending.clear()
        return list(self.published)

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        paths = [tmp for tmp, _ in self._pending] + ([self._open] if self._open else [])
        for p in paths:
            p.unlink(missing_ok=True)
        self._pending.clear()


def _next_serial(clean_dir: Path, stamp: str) -> int:
    serials = [
        int(p.name.split("-")[2].split(".")[0])
        for p in clean_dir.glob(f"part-{stamp}-*.jsonl*")
        if p.name.split("-")[2].split(".")[0].isdigit()
    ]
    return max(serials, default=-1) + 1
