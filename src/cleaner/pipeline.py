"""Stage order and per-document error capture: the part of the pipeline that runs in workers.

`prepare` (decode, extract, repair) and `finish` (strip, convert, fingerprint) are pure
functions of a document; between them the parent counts each site's lines so that strip can
recognise the site's template from the first batch on. The worker tasks around them
(`prepare_and_seal`, `finish_and_pack`) also seal prepared batches for the trip through the
parent and build clean documents' outputs (sinks/packed.py), so the parent only appends. Anything a stage raises becomes a
quarantined outcome naming the stage and the reason: one bad input never stops a run.
"""

from __future__ import annotations

import pickle
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from cleaner.config import Config
from cleaner.document import Document, Outcome
from cleaner.engines.local import alarms, budget
from cleaner.errors import InputError
from cleaner.language import predict_text_languages
from cleaner.sinks.packed import Packed, PackSpec, pack_all
from cleaner.stages import convert, decode, dedup, extract, repair, strip
from cleaner.stages.strip_memo import template_keys
from cleaner.state.templates import TemplateSnapshot, line_keys
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


def _strip_stage(templates: TemplateSnapshot | None) -> tuple[tuple[str, Stage], ...]:
    return (("strip", lambda d, c: strip.strip(d, c.strip, templates, site_of(d))),)


FINISH_AFTER_STRIP: tuple[tuple[str, Stage], ...] = (
    ("convert", lambda d, c: convert.convert(d, c.convert)),
    ("dedup", lambda d, c: dedup.fingerprint(d, c.dedup)),
)


def finish(doc: Document, cfg: Config, templates: TemplateSnapshot | None = None) -> Document:
    """strip -> convert -> fingerprint."""
    if doc.outcome is not Outcome.CLEAN:
        return doc
    return _finished(_guarded(doc, cfg, _strip_stage(templates) + FINISH_AFTER_STRIP))


def _finished(doc: Document) -> Document:
    if doc.outcome is Outcome.CLEAN and not doc.text.strip():
        doc.quarantine("finish", "no article text left after cleaning (empty or boilerplate-only page)")
    if doc.title is None and not doc.from_html:
        doc.title = strip.headline(doc.text)
    return doc


def prepare_batch(docs: list[Document], cfg: Config) -> list[Document]:
    with alarms(cfg.run.doc_timeout_s):
        return [prepare(d, cfg) for d in docs]


@dataclass(frozen=True)
class FinishTask:
    docs: list[Document]
    templates: TemplateSnapshot | None


def finish_batch(task: FinishTask, cfg: Config) -> list[Document]:
    """`finish` for each document, a stage at a time over the batch: strip all, then predict
    their languages back to back (`language.predict_text_languages`: the model stays in the CPU
    caches, ~0.2 ms a document less), then convert and fingerprint. The same results: the stages
    are per-document functions. Each document's budget covers each of the two halves."""
    docs = list(task.docs)
    todo = [i for i, d in enumerate(docs) if d.outcome is Outcome.CLEAN]
    strip_stage = _strip_stage(task.templates)
    with alarms(cfg.run.doc_timeout_s):
        for i in todo:
            docs[i] = _guarded(docs[i], cfg, strip_stage)
        if cfg.enabled("convert"):
            predict_text_languages(docs[i].text for i in todo if docs[i].outcome is Outcome.CLEAN)
        for i in todo:
            docs[i] = _finished(_guarded(docs[i], cfg, FINISH_AFTER_STRIP))
    return docs


def site_of(doc: Document) -> str:
    """The unit of template learning: the URL host, else the input's sub-folder."""
    return templates_site_of(doc.url or doc.source.url, doc.source.path)


class Sealed(NamedTuple):
    """A prepared batch as the parent gets it: the documents stay pickled (the parent only
    forwards them to a finish task, so it never unpickles and re-pickles them), beside the
    one thing it reads, each clean page's site and line keys for the template counts."""

    blob: bytes | list[Document]  # the documents themselves when the work runs in this process
    pages: list[tuple[str, list[int]]]


def prepare_and_seal(docs: list[Document], cfg: Config, seal: bool = True) -> Sealed:
    """Worker side of the first half: decode, extract, repair; then seal the batch."""
    docs = prepare_batch(docs, cfg)
    pages = []
    for d in docs:
        if d.outcome is Outcome.CLEAN and d.text:
            pages.append((site_of(d), d.template_keys if d.template_keys is not None else line_keys(d.text)))
        d.template_keys = None  # counted by the parent: no need to ship them on
    return Sealed(pickle.dumps(docs, protocol=pickle.HIGHEST_PROTOCOL) if seal else docs, pages)


def finish_and_pack(
    task: tuple[bytes | list[Document], TemplateSnapshot | None], cfg: Config, spec: PackSpec | None
) -> list[tuple[Document, Packed | None]]:
    """Worker side of the second half: strip, convert, fingerprint a sealed batch, then (spec
    given: not a dry run) build each clean document's records and lines: the parent appends them."""
    blob, snapshot = task
    docs = finish_batch(FinishTask(pickle.loads(blob) if isinstance(blob, bytes) else blob, snapshot), cfg)
    if spec is None:
        return [(d, None) for d in docs]
    return pack_all(docs, spec)


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
