"""Dedup quality on the labelled dev set: the product's text stages, fingerprints, index, score.

    python benchmarks/quality_dedup.py [--eval ../shared/eval/dedup] [--runs 3] [--templates]
        [--bands 32 --rows 4 --threshold 0.75 --shingle-words 3] [--kept kept.txt] [--shuffle SEED] [--errors]
    python benchmarks/quality_dedup.py --pipeline [--workers 2]   # through `cleaner run` itself

Input order of corpus.jsonl is the arrival order ("keep the first"). The texts go through the
stages the product runs before fingerprinting (repair, strip, convert; each skipped with a
warning if its module is missing). `--templates` also gives strip the site-template counts of
the whole corpus (all documents are one site here, as files in one input folder are), which is
what the pipeline does with its template statistics. `--runs N` splits the corpus into N index
sessions over one SQLite file with a commit between them (the incremental case); the kept set
must not change. `--shuffle SEED` changes the arrival order (another copy is then the first:
the scores, not the kept ids, are comparable). `--pipeline` instead runs the product, `cleaner
run` over EVAL/txt/ (file order, its site-template statistics, its worker processes), and scores
the documents it wrote to clean/. Scores with ../shared/tools/score_dedup.py. `--errors` then lists
each wrong removal and residual duplicate with the exact overlap of the two cleaned texts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cleaner.config import Config, DedupConfig
from cleaner.document import Document, Source
from cleaner.stages.dedup import Fingerprint, exact_overlap, fingerprint_text
from cleaner.state.dedup_index import DedupIndex, Match

ROOT = Path(__file__).resolve().parents[1]


def text_stages(cfg: Config, use_templates: bool, texts: list[str]) -> Callable[[str], tuple[str, str]]:
    """The product's repair -> strip -> convert on plain text, each optional.

    Returns (cleaned text, text before strip): the pipeline's fingerprint also sees the latter
    (by undoing strip's edits) for documents left with too little content.
    """
    steps: list[Callable[[str], str]] = []
    first: list[Callable[[str], str]] = []
    try:
        from cleaner.stages.repair import repair_text

        first.append(lambda t: repair_text(t, cfg.repair)[0])
    except ImportError as err:
        print(f"warning: repair unavailable ({err}); raw text", file=sys.stderr)
    try:
        from cleaner.stages.strip import strip

        snapshot = None
        if use_templates:
            from cleaner.state.templates import TemplateSnapshot, line_keys

            fix = first[0] if first else (lambda t: t)
            snapshot = TemplateSnapshot.from_pages(("", line_keys(fix(t))) for t in texts)

        def _strip(t: str) -> str:
            doc = Document(id="x", source=Source(path="x.txt", sha256=""), raw=b"", text=t)
            return strip(doc, cfg.strip, snapshot, "").text

        steps.append(_strip)
    except ImportError as err:
        print(f"warning: strip unavailable ({err}); not stripped", file=sys.stderr)
    try:
        from cleaner.stages.convert import convert_text

        steps.append(lambda t: convert_text(t, cfg.convert)[0])
    except ImportError as err:
        print(f"warning: convert unavailable ({err}); not converted", file=sys.stderr)

    def run(t: str) -> tuple[str, str]:
        for step in first:
            t = step(t)
        source = t
        for step in steps:
            t = step(t)
        return t, source

    return run


def decide(
    ids: list[str], fps: list[Fingerprint], cfg: DedupConfig, runs: int, db: Path, matches: dict[str, Match] | None = None
) -> list[str]:
    """Keep-first decisions over `runs` index sessions on one SQLite file; returns kept ids
    (and fills `matches` with each removed id's Match, when given)."""
    kept: list[str] = []
    conn = sqlite3.connect(db)
    per = -(-len(ids) // runs)
    for r in range(runs):
        index = DedupIndex(conn, cfg, run_id=r + 1)
        for i in range(r * per, min(len(ids), (r + 1) * per)):
            match = index.check(ids[i], fps[i])
            if match is None:
                index.add(ids[i], fps[i])
                kept.append(ids[i])
            elif matches is not None:
                matches[ids[i]] = match
        index.flush()
        conn.commit()
    conn.close()
    return kept


def error_report(
    ev: Path, ids: list[str], texts: list[str], kept: list[str], matches: dict[str, Match], cfg: DedupConfig
) -> None:
    """Each wrong removal (its cluster kept nothing) and each residual duplicate, with the exact
    overlap of the two cleaned texts, beside the overlap of the labelled true pairs per kind
    (variant vs its cluster's original): where a wrong pair overlaps as much as true pairs do,
    no threshold on text similarity separates them."""
    labels = {d["id"]: d for d in map(json.loads, (ev / "labels.jsonl").open(encoding="utf-8"))}
    text = dict(zip(ids, texts))
    alive: dict[str, str] = {}  # cluster -> its first kept document
    for i in kept:
        alive.setdefault(labels[i]["cluster"], i)

    def pair(a: str, b: str) -> str:
        c, j = exact_overlap(text[a], text[b], cfg)
        la, lb = labels[a], labels[b]
        return f"{a} ({la['kind']}, {la['lang']}) ~ {b} ({lb['kind']}, {lb['lang']}): containment {c:.2f}, jaccard {j:.2f}"

    wrong = [i for i in matches if labels[i]["cluster"] not in alive]
    print(f"\nwrong removals ({len(wrong)}): exact overlap with the kept document they were matched to")
    for i in wrong:
        print(f"  {pair(i, matches[i].duplicate_of)}; {matches[i].method}: {matches[i].note}")
    residual = [i for i in kept if alive[labels[i]["cluster"]] != i]
    print(f"\nresidual duplicates ({len(residual)}): exact overlap with their cluster's first kept document")
    for i in residual:
        print(f"  {pair(i, alive[labels[i]['cluster']])}")
    original = {lab["cluster"]: i for i, lab in labels.items() if lab["role"] == "original" and i in text}
    by_kind: dict[str, list[float]] = {}
    for i, lab in labels.items():
        o = original.get(lab["cluster"])
        if lab["role"] == "variant" and o is not None and i in text:
            by_kind.setdefault(lab["kind"], []).append(exact_overlap(text[i], text[o], cfg)[0])
    print("\ntrue pairs, exact containment (variant vs its original), quantiles 5% / 25% / 50%:")
    for kind, vals in sorted(by_kind.items()):
        vals.sort()
        q = [vals[int(f * (len(vals) - 1))] for f in (0.05, 0.25, 0.5)]
        print(f"  {kind:12} {len(vals):5}  {q[0]:.2f} / {q[1]:.2f} / {q[2]:.2f}")


def evaluate(ev: Path, templates: bool = False) -> dict[str, float]:
    """Default config, keep-first in corpus order: {"precision", "recall", "lost_clusters"} (floor test)."""
    base = Config()
    docs = [json.loads(line) for line in (ev / "corpus.jsonl").open(encoding="utf-8")]
    stage = text_stages(base, templates, [d["text"] for d in docs])
    cleaned = [stage(d["text"]) for d in docs]
    fps = [fingerprint_text(text, base.dedup, source) for text, source in cleaned]
    with tempfile.TemporaryDirectory() as tmp:
        kept = decide([d["id"] for d in docs], fps, base.dedup, 1, Path(tmp) / "state.sqlite")
        out = Path(tmp) / "kept.txt"
        out.write_text("".join(i + "\n" for i in kept), encoding="utf-8")
        score = ROOT.parent / "shared/tools/score_dedup.py"
        res = subprocess.run(
            [sys.executable, str(score), str(ev / "labels.jsonl"), str(out)], capture_output=True, text=True, check=True
        )
    last = res.stdout.strip().splitlines()[-1]  # "precision=P recall=R lost_clusters=L"
    return {k: float(v) for k, v in (part.split("=") for part in last.split())}


def pipeline_kept(ev: Path, workers: int, out: Path) -> None:
    """Run `cleaner run` over EVAL/txt/ in a fresh folder; write the ids it kept (file stems) to `out`."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cmd = [sys.executable, "-m", "cleaner", "run", "--input", str(ev / "txt"), "--clean", str(work / "clean"),
               "--archive", str(work / "archive"), "--state", str(work / "state"), "--workers", str(workers),
               "--no-progress", "-q"]
        t = time.perf_counter()
        subprocess.run(cmd, cwd=work, check=True)
        kept = [
            Path(json.loads(line)["source"]).stem  # the input path, relative to --input
            for shard in sorted((work / "clean").glob("*.jsonl"))
            for line in shard.open(encoding="utf-8")
        ]
        print(f"cleaner run --workers {workers}: {len(kept)} kept in {time.perf_counter() - t:.1f} s")
    out.write_text("".join(i + "\n" for i in kept), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--eval", default=str(ROOT.parent / "shared/eval/dedup"))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--templates", action="store_true")
    ap.add_argument("--no-stages", action="store_true", help="fingerprint the raw texts")
    ap.add_argument("--shuffle", type=int, help="arrival order: corpus.jsonl shuffled with this seed")
    ap.add_argument("--kept", help="write kept ids here (default: a temporary file)")
    ap.add_argument("--pipeline", action="store_true", help="score `cleaner run` itself (default config)")
    ap.add_argument("--workers", type=int, default=2, help="with --pipeline")
    ap.add_argument("--errors", action="store_true", help="list wrong removals and residuals with their exact overlap")
    for f in dataclasses.fields(DedupConfig):
        if f.type in ("int", "float"):
            ap.add_argument("--" + f.name.replace("_", "-"), type=int if f.type == "int" else float)
    args = ap.parse_args(argv)
    over = {f.name: getattr(args, f.name) for f in dataclasses.fields(DedupConfig) if getattr(args, f.name, None) is not None}
    base = Config()
    cfg = dataclasses.replace(base.dedup, **over)
    ev = Path(args.eval)
    score = ROOT.parent / "shared/tools/score_dedup.py"
    if args.pipeline:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(args.kept) if args.kept else Path(tmp) / "kept.txt"
            pipeline_kept(ev, args.workers, out)
            return subprocess.run([sys.executable, str(score), str(ev / "labels.jsonl"), str(out)], check=False).returncode
    docs = [json.loads(line) for line in (ev / "corpus.jsonl").open(encoding="utf-8")]
    if args.shuffle is not None:
        random.Random(args.shuffle).shuffle(docs)
    ids = [d["id"] for d in docs]
    texts = [d["text"] for d in docs]

    t0 = time.perf_counter()
    sources = texts
    if not args.no_stages:
        stage = text_stages(base, args.templates, texts)
        texts, sources = map(list, zip(*(stage(t) for t in texts))) if texts else ([], [])
    t1 = time.perf_counter()
    fps = [fingerprint_text(t, cfg, s) for t, s in zip(texts, sources)]
    t2 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        matches: dict[str, Match] = {}
        kept = decide(ids, fps, cfg, args.runs, Path(tmp) / "state.sqlite", matches)
        t3 = time.perf_counter()
        if args.runs > 1:
            same = kept == decide(ids, fps, cfg, 1, Path(tmp) / "one.sqlite")
            print(f"incremental ({args.runs} sessions) == one session: {same}")
        out = Path(args.kept) if args.kept else Path(tmp) / "kept.txt"
        out.write_text("".join(i + "\n" for i in kept), encoding="utf-8")
        n = len(docs)
        print(f"config: {cfg}")
        print(
            f"stages {1e3 * (t1 - t0) / n:.3f} ms/doc, fingerprint {1e3 * (t2 - t1) / n:.3f} ms/doc, "
            f"index check+add {1e3 * (t3 - t2) / n:.3f} ms/doc over {n} docs"
        )
        res = subprocess.run([sys.executable, str(score), str(ev / "labels.jsonl"), str(out)], check=False)
        if args.errors:
            error_report(ev, ids, texts, kept, matches, cfg)
        return res.returncode


if __name__ == "__main__":
    sys.exit(main())
