"""Configuration: one frozen dataclass per stage; defaults < TOML file < CLEANER_* env < flags.

The field defaults here are the embedded defaults; `cleaner.toml` at the repository root
documents them one for one (a test keeps the two equal). Unknown keys are errors that name
the key and where it came from, so a typo never silently does nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from cleaner.errors import UsageError

STAGE_NAMES = ("decode", "extract", "repair", "strip", "convert", "dedup")


@dataclass(frozen=True)
class RunConfig:
    input: str = "raw"  # folder scanned for new inputs
    clean: str = "clean"  # JSONL shards of cleaned articles
    archive: str = "archive"  # WARC files and indexes
    state: str = "state"  # ledger, lock, run logs
    workers: int = 0  # 0 = one per CPU core
    engine: str = "local"  # local | ray
    ray_address: str = ""  # engine ray: cluster address (ray://host:10001, host:6379, auto); "" = start a local Ray
    skip: tuple[str, ...] = ()  # stages to skip, e.g. ("dedup",)
    max_input_bytes: int = 64_000_000  # larger inputs are quarantined (a WARC/WACZ/JSONL: larger records, lines)
    doc_timeout_s: float = 60.0  # per-document wall-clock budget in the worker
    worker_memory_mb: int = 2048  # a worker may grow this much; past it the document is quarantined
    log_format: str = "text"  # text | json
    progress_every_s: float = 30.0  # progress lines when stderr is not a TTY
    checkpoint_docs: int = 2000  # documents per checkpoint: outputs published + ledger committed


@dataclass(frozen=True)
class DecodeConfig:
    fallback_encodings: tuple[str, ...] = ("utf-8", "gb18030", "big5", "shift_jis", "cp1252")
    max_control_ratio: float = 0.05  # share of C0 control bytes that marks binary input


@dataclass(frozen=True)
class ExtractConfig:
    max_html_bytes: int = 20_000_000
    max_elements: int = 200_000  # pages with more parsed elements are quarantined (bounded time)


@dataclass(frozen=True)
class RepairConfig:
    fix_mojibake: bool = True
    fix_gbk_damage: bool = True
    remove_pinyin_glosses: bool = True


@dataclass(frozen=True)
class StripConfig:
    languages: tuple[str, ...] = ("de", "en", "es", "fr", "it", "ja", "ko", "pt", "ru", "zh")  # rule files applied, besides "any"
    template_min_pages: int = 3  # a line on this many pages of a site is a template candidate


@dataclass(frozen=True)
class ConvertConfig:
    opencc_config: str = "tw2s"
    ja_score: float = 0.5  # kana-free text that language ID calls ja at this score stays


@dataclass(frozen=True)
class DedupConfig:
    scope: str = "archive"  # archive (everything archived before) | run (this run only)
    threshold: float = 0.65  # estimated containment of the smaller document's content in the other
    shingle_words: int = 3  # word n-grams for spaced scripts (3 survives 3-10% word edits)
    shingle_chars: int = 5  # character n-grams for Chinese/Japanese/Thai (unspaced scripts)
    keep: str = "first"  # first | longest
    num_perm: int = 108  # MinHash values (one-permutation bins) = bands x rows
    bands: int = 36  # LSH bands: candidates from Jaccard ~0.3 (table in state/dedup_index.py)
    rows: int = 3  # MinHash values per band
    sketch_size: int = 64  # bottom-k shingle sample kept per document for verification (4 B each)
    content_ratio: float = 0.5  # a line with >= this share of the longest line's tokens is content
    content_tokens: int = 40  # ... or with at least this many tokens
    min_shingles: int = 8  # smaller documents only ever match exactly
    min_content: int = 32  # fewer content shingles (~ one long line): exact match only, of the same input text
    coverage: float = 0.4  # shared content must also be this share of the larger document's content
    short_content: int = 48  # a smaller document with fewer content shingles must match both ways
    anchored_coverage: float = 0.2  # ... unless both start alike (a truncated copy): then this share of the larger's content suffices
    short_sketch: int = 32  # short documents (under min_content): sample of their pre-strip shingles; near only if both texts match both ways (0: exact only)


@dataclass(frozen=True)
class CorpusConfig:
    shard_docs: int = 10_000  # documents per JSONL shard
    write_txt: bool = False  # also one .txt per article under clean/txt/


@dataclass(frozen=True)
class ArchiveConfig:
    prefix: str = "CLEANER"
    rotate_bytes: int = 1_000_000_000
    collection: str = "cleaner"
    operator: str = ""
    gzip_level: int = 6  # per-record gzip members 0-9 (0 stores); ISA-L's levels stop at 3: 3-9 are the same


@dataclass(frozen=True)
class Config:
    run: RunConfig = field(default_factory=RunConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    repair: RepairConfig = field(default_factory=RepairConfig)
    strip: StripConfig = field(default_factory=StripConfig)
    convert: ConvertConfig = field(default_factory=ConvertConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    archive: ArchiveConfig = field(default_factory=ArchiveConfig)

    def enabled(self, stage: str) -> bool:
        return stage not in self.run.skip

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return dataclasses.asdict(self)

    def sha256(self) -> str:
        """Hash of what changes outputs (paths and run mechanics excluded)."""
        d = self.to_dict()
        d["run"] = {"skip": sorted(d["run"]["skip"])}
        blob = json.dumps(d, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()


def _coerce(value: Any, typ: Any, where: str) -> Any:
    origin = get_origin(typ)
    if origin is tuple:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if not isinstance(value, list | tuple):
            raise UsageError(f"{where}: expected a list, got {value!r}")
        inner = get_args(typ)[0]
        return tuple(_coerce(v, inner, where) for v in value)
    if typ is bool:
        if isinstance(value, str):
            low = value.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
        if isinstance(value, bool):
            return value
        raise UsageError(f"{where}: expected true or false, got {value!r}")
    if typ is int:
        try:
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: expected an integer, got {value!r}") from None
    if typ is float:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: expected a number, got {value!r}") from None
    if typ is str:
        if not isinstance(value, str):
            raise UsageError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def merge(cfg: Config, layer: Mapping[str, Mapping[str, Any]], origin: str) -> Config:
    """Overlay one layer of `{section: {key: value}}`; unknown sections or keys are errors."""
    sections = {f.name: f for f in fields(Config)}
    updates: dict[str, Any] = {}
    for section, values in layer.items():
        if section not in sections:
            raise UsageError(f"{origin}: unknown section [{section}]")
        if not isinstance(values, Mapping):
            raise UsageError(f"{origin}: [{section}] must be a table")
        current = getattr(cfg, section)
        types = get_type_hints(type(current))
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key not in types:
                raise UsageError(f"{origin}: unknown key '{key}' in [{section}]")
            changes[key] = _coerce(value, types[key], f"{origin}: {section}.{key}")
        updates[section] = dataclasses.replace(current, **changes)
    cfg = dataclasses.replace(cfg, **updates)
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    bad = [s for s in cfg.run.skip if s not in STAGE_NAMES]
    if bad:
        raise UsageError(f"unknown stage to skip: {', '.join(bad)} (stages: {', '.join(STAGE_NAMES)})")
    if cfg.run.log_format not in ("text", "json"):
        raise UsageError(f"run.log_format must be text or json, got {cfg.run.log_format!r}")
    if cfg.run.engine not in ("local", "ray"):
        raise UsageError(f"run.engine must be local or ray, got {cfg.run.engine!r}")
    if cfg.run.workers < 0:
        raise UsageError("run.workers must be >= 0 (0 = one per core)")
    if cfg.dedup.scope not in ("run", "archive"):
        raise UsageError(f"dedup.scope must be run or archive, got {cfg.dedup.scope!r}")
    if cfg.dedup.keep not in ("first", "longest"):
        raise UsageError(f"dedup.keep must be first or longest, got {cfg.dedup.keep!r}")
    if not 0.0 < cfg.dedup.threshold <= 1.0:
        raise UsageError("dedup.threshold must be in (0, 1]")
    if not 0 <= cfg.archive.gzip_level <= 9:
        raise UsageError(f"archive.gzip_level must be 0-9, got {cfg.archive.gzip_level}")


def env_layer(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """CLEANER_<SECTION>_<KEY>=value, e.g. CLEANER_RUN_WORKERS=4, CLEANER_DEDUP_THRESHOLD=0.8."""
    layer: dict[str, dict[str, str]] = {}
    names = [f.name for f in fields(Config)]
    for name, value in environ.items():
        if not name.startswith("CLEANER_"):
            continue
        rest = name[len("CLEANER_") :].lower()
        section = next((s for s in names if rest.startswith(s + "_")), None)
        if section is None:
            raise UsageError(f"environment: {name} names no config section ({', '.join(names)})")
        layer.setdefault(section, {})[rest[len(section) + 1 :]] = value
    return layer


PATH_KEYS = ("input", "clean", "archive", "state")


def _anchor_paths(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Relative folders in a config file mean 'next to the file' (cron's cwd is $HOME)."""
    run = data.get("run")
    if not isinstance(run, dict):
        return data
    fixed = {k: (str(folder / v) if k in PATH_KEYS and isinstance(v, str) and not Path(v).is_absolute() else v)
             for k, v in run.items()}
    return {**data, "run": fixed}


def load(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
) -> Config:
    """Effective configuration. `path=None` reads ./cleaner.toml if it exists."""
    cfg = Config()
    file = Path(path) if path is not None else Path("cleaner.toml")
    if path is not None and not file.is_file():
        raise UsageError(f"config file not found: {file}")
    if file.is_file():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise UsageError(f"{file}: not valid TOML: {err}") from None
        cfg = merge(cfg, _anchor_paths(data, file.parent), str(file))
    cfg = merge(cfg, env_layer(os.environ if environ is None else environ), "environment")
    if flags:
        cfg = merge(cfg, flags, "command line")
    # what is still relative (defaults, env, flags) is relative to where cleaner runs: pin it,
    # so the effective configuration printed or archived names the folders actually used
    run = {k: os.path.abspath(getattr(cfg.run, k)) for k in PATH_KEYS}
    return dataclasses.replace(cfg, run=dataclasses.replace(cfg.run, **run))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def to_toml(cfg: Config) -> str:
    """The effective configuration as TOML that `load` reads back to the same Config."""
    out: list[str] = []
    for section, values in cfg.to_dict().items():
        out.append(f"[{section}]")
        out.extend(f"{k} = {_toml_value(v)}" for k, v in values.items())
        out.append("")
    return "\n".join(out)
