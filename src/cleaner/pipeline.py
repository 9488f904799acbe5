"""Stage order and per-document error capture: the part of the pipeline that runs in workers.

`prepare` (decode, extract, repair) and `finish` (strip, convert, fingerprint) are pure
functions of a document; between them the parent counts each site's lines so that strip can
recognise the site's template from the first batch on. Anything a stage raises becomes a
quarantined outcome naming the stage and the reason: one bad input never stops a run.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from cleaner.config import Config
from cleaner.document import Document, Outcome
from cleaner.engines.local import budget
from cleaner.errors import InputError
from cleaner.stages import convert, decode, dedup, extract, repair, strip
from cleaner.stages.strip_memo import template_keys
from cleaner.state.templates import TemplateSnapshot
from cleaner.state.templates import site_of as templates_site_of

Stage = Callable[[Document, Config], Document]

PREPARE: tuple[tuple[str, Stage], ...] = (
    ("decode", lambda d, c: decode.decode(d, c.decode)),
    ("extract", lambda d, c: extract.extract(d, c.extract)),
    ("repair", lambda d, c: repair.repair(d, c.repair)),
)


def _run_stages(doc: Document, cfg: Config, stages: tuple[tuple[str, Stage], ...]) -> Document:
    """Apply stages in order; quarantine on the first failure, naming the stage."""
    for name, stage in stages:
        if doc.outcome is Outcome.QUARANTINED:
            return doc
        if not cfg.enabled(name) and name != "decode":
            continue
        try:
            doc = stage(doc, cfg)
        except InputError as err:
            return doc.quarantine(err.stage or name, err.reason)
        except MemoryError:
            return doc.quarantine(name, "out of memory (over the per-document budget)")
        except RecursionError:
            return doc.quarantine(name, "structure too deeply nested")
        except Exception as err:  # a bug in a stage must not lose the input: quarantine and say so
            last = traceback.extract_tb(err.__traceback__)[-1]
            return doc.quarantine(
                name, f"internal error {type(err).__name__}: {err} ({last.filename}:{last.lineno})"
            )
    return doc


def _guarded(doc: Document, cfg: Config, stages: tuple[tuple[str, Stage], ...]) -> Document:
    try:
        with budget(cfg.run.doc_timeout_s, f"{doc.source.path} {doc.source.member or ''}".strip()):
            return _run_stages(doc, cfg, stages)
    except InputError as err:
        return doc.quarantine("budget", err.reason)


def prepare(doc: Document, cfg: Config) -> Document:
    """decode -> extract -> repair."""
    if doc.outcome is not Outcome.CLEAN:
        return doc
    doc = _guarded(doc, cfg, PREPARE)
    if doc.outcome is Outcome.CLEAN and doc.html is not None and cfg.enabled("extract") is False:
        doc.quarantine("extract", "HTML input but the extract stage is skipped")
    if doc.outcome is Outcome.CLEAN and cfg.enabled("strip"):
        # here, not in the parent: the parent is the bottleneck; template_keys is
        # state.templates.line_keys through the per-line memo that strip reuses
        doc.template_keys = template_keys(doc.text)
    return doc


def finish(doc: Document, cfg: Config, templates: TemplateSnapshot | None = None) -> Document:
    """strip -> convert -> fingerprint."""
    if doc.outcome is not Outcome.CLEAN:
        return doc
    stages: tuple[tuple[str, Stage], ...] = (
        ("strip", lambda d, c: strip.strip(d, c.strip, templates, site_of(d))),
        ("convert", lambda d, c: convert.convert(d, c.convert)),
        ("dedup", lambda d, c: dedup.fingerprint(d, c.dedup)),
    )
    doc = _guarded(doc, cfg, stages)
    if doc.outcome is Outcome.CLEAN and not doc.text.strip():
        doc.quarantine("finish", "no article text left after cleaning (empty or boilerplate-only page)")
    if doc.title is None and not doc.from_html:
        doc.title = strip.headline(doc.text)
    return doc


def prepare_batch(docs: list[Document], cfg: Config) -> list[Document]:
    return [prepare(d, cfg) for d in docs]


@dataclass(frozen=True)
class FinishTask:
    docs: list[Document]
    templates: TemplateSnapshot | None


def finish_batch(task: FinishTask, cfg: Config) -> list[Document]:
    return [finish(d, cfg, task.templates) for d in task.docs]


def site_of(doc: Document) -> str:
    """The unit of template learning: the URL host, else the input's sub-folder."""
    return templates_site_of(doc.url or doc.source.url, doc.source.path)


def bind(fn: Callable[..., Any], cfg: Config) -> Callable[..., Any]:
    return partial(fn, cfg=cfg)


WARM_UP_TEXT = (
    "Ein kurzer Satz über das Wetter, damit jede Regel einmal geladen wird.\n\n"
    "這是一個關於開源社區的報導，權(quán)重很重要。\n\nLeave a Reply\n"
)


def warm_up(cfg: Config) -> None:
    """Load every lazily built table (rules, OpenCC, language model, readings) in this process,
    before a process pool forks: the workers inherit them instead of each building its own."""
    from cleaner.document import Source, document_id

    sha = "0" * 64
    doc = Document(id=document_id(sha), source=Source(path="<warm-up>", sha256=sha, media_type="text/plain"),
                   raw=WARM_UP_TEXT.encode())
    finish(prepare(doc, cfg), cfg)
