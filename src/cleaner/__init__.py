"""cleaner: turns messy web scrapes into a clean, deduplicated corpus and a lossless WARC archive.

Library entry point for other tools and for measurement:

    from cleaner import clean_text
    r = clean_text(text, skip=("strip",))
    r.text, r.edits, r.language
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from cleaner.document import Document, Edit, Outcome, Source, document_id

__version__ = "0.1.0"
__all__ = ["CleanResult", "Document", "Edit", "Outcome", "Source", "__version__", "clean_text"]

TEXT_STAGES = ("repair", "strip", "convert")


@dataclass(frozen=True)
class CleanResult:
    text: str
    edits: list[Edit] = field(default_factory=list)
    language: str | None = None


def clean_text(text: str, skip: Iterable[str] = (), config: object | None = None) -> CleanResult:
    """Run the per-document text stages (repair, strip, convert) on a string.

    `skip` names stages to leave out; `config` is a `cleaner.config.Config` (defaults if None).
    """
    from cleaner.config import Config
    from cleaner.stages import convert, repair, strip

    cfg = config if isinstance(config, Config) else Config()
    skipped = set(skip)
    unknown = skipped - set(TEXT_STAGES)
    if unknown:
        raise ValueError(f"unknown stage(s) {sorted(unknown)}; text stages are {TEXT_STAGES}")
    sha = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    doc = Document(id=document_id(sha), source=Source(path="<text>", sha256=sha), raw=b"", text=text)
    if "repair" not in skipped:
        doc = repair.repair(doc, cfg.repair)
    if "strip" not in skipped:
        doc = strip.strip(doc, cfg.strip, None, "")
    if "convert" not in skipped:
        doc = convert.convert(doc, cfg.convert)
    return CleanResult(doc.text, list(doc.edits), doc.language)
