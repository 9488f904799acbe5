"""End-to-end throughput of `cleaner run` on a generated corpus, next to the naive baseline.

    python benchmarks/throughput.py --n 5000 --workers 1 --workers 2 [--no-baseline] [--keep] [--stages]

Generates a corpus (benchmarks/make_corpus.py; or reuses --corpus DIR), runs `cleaner run` in a
fresh output folder once per --workers value, and (unless --no-baseline) the naive pipeline
(benchmarks/baseline_naive.py) on the same raw/ in the same session, each as a subprocess.
Prints per run: wall seconds, docs/s, MB/s (raw input bytes), CPU ms/doc (user+sys of the whole
process tree, from wait4), "parent": the CPU ms/doc of the root process
alone (for cleaner: the single writer, whose serial share bounds what more workers can give;
sampled from /proc), peak RSS (sum over the process tree, sampled from /proc every 50 ms; the
largest single process of that run, from wait4, beside it), and the ratio of the baseline's CPU per
document to ours, and "calib ms": a fixed pure-Python loop timed before and after each run (this
machine's speed moves by ~30% within an hour; compare two runs only when theirs agree). Quality is
scored beside speed from the labels:
residual duplicates (kept documents beyond the first of their cluster) and lost clusters.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_corpus import build  # noqa: E402
from stage_clock import stage_functions  # noqa: E402

HERE = Path(__file__).resolve().parent
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Measured:
    name: str
    docs: int
    bytes: int
    wall_s: float
    cpu_s: float
    tree_rss_mb: float  # peak of the summed RSS of the process tree (0 when /proc is missing)
    max_rss_mb: float  # largest single process (getrusage)
    rc: int
    parent_cpu_s: float = 0.0  # the root process alone (sampled from /proc; 0 when missing)
    calib_ms: float = 0.0  # `calibrate()` around the run: the machine's speed then
    quality: dict[str, Any] = field(default_factory=dict)

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.wall_s if self.wall_s else 0.0

    @property
    def cpu_ms_per_doc(self) -> float:
        return 1000 * self.cpu_s / self.docs if self.docs else 0.0

    @property
    def parent_ms_per_doc(self) -> float:
        return 1000 * self.parent_cpu_s / self.docs if self.docs else 0.0

    def row(self) -> dict[str, Any]:
        return {**asdict(self), "docs_per_s": round(self.docs_per_s, 1),
                "mb_per_s": round(self.bytes / 1e6 / self.wall_s, 2) if self.wall_s else 0.0,
                "cpu_ms_per_doc": round(self.cpu_ms_per_doc, 3), "parent_ms_per_doc": round(self.parent_ms_per_doc, 3)}


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants (Linux /proc)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except (OSError, ValueError):
            continue
    return total


def _cpu_s(pid: int) -> float:
    """User + system seconds of one process so far (Linux /proc; 0.0 when unreadable)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, ValueError, IndexError):
        return 0.0


def _child_env() -> dict[str, str]:
    """This environment without CLEANER_ settings, and as installed: compiled modules cached.
    Some sandboxes set PYTHONDONTWRITEBYTECODE, and each run would then compile the package's
    modules again (~0.3 s of every run's serial start)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEANER_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def calibrate(rounds: int = 3) -> float:
    """CPU milliseconds of a fixed pure-Python loop, the least of `rounds` (one round alone
    jitters by ~10%). This shared machine's speed moves by ~30% within an hour; two runs compare
    only when their calibrations agree (printed per run)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        acc = 0
        for i in range(1_000_000):
            acc += i * i % 7
        best = min(best, 1000 * (time.process_time() - start))
    return best


def _failed(proc_returncode: int, err: bytes) -> bool:
    """Exit 1 is "some inputs quarantined", and also Python's own exit on an uncaught error (a
    stale editable install): a crashed run must not print as a 700x speed-up."""
    return proc_returncode not in (0, 1) or b"Traceback (most recent call last)" in err


def _run_checked(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    if _failed(done.returncode, done.stderr):
        sys.stderr.write(done.stderr.decode("utf-8", "replace")[-3000:])
        raise SystemExit(f"{' '.join(cmd)} failed (exit {done.returncode})")


def measure(name: str, cmd: list[str], cwd: Path, docs: int, size: int) -> Measured:
    """Run `cmd`; CPU and the largest RSS of its process tree from wait4 (this child's usage with
    that of the descendants it reaped: getrusage(RUSAGE_CHILDREN) keeps the largest RSS of every
    child so far, so a run would inherit an earlier run's), tree RSS by sampling /proc, and the
    root process's own CPU (its last sample: the final <50 ms are not seen)."""
    env = _child_env()
    calib = calibrate()
    peak = [0]
    parent = [0.0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            parent[0] = _cpu_s(proc.pid) or parent[0]

    sampler = threading.Thread(target=sample, daemon=True)
    if Path("/proc").is_dir():
        sampler.start()
    err_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    err = b"".join(err_chunks)
    done.set()
    cpu = usage.ru_utime + usage.ru_stime
    if proc.returncode != 0:
        sys.stderr.write(err.decode("utf-8", "replace")[-3000:])
    if _failed(proc.returncode, err):
        raise SystemExit(f"{name}: {' '.join(cmd)} failed (exit {proc.returncode})")
    calib = (calib + calibrate()) / 2  # before and after: a change during the run shows as a mean
    return Measured(name, docs, size, wall, cpu, peak[0] / 2**20, usage.ru_maxrss / 1024, proc.returncode, parent[0],
                    round(calib, 1))


def _labels(corpus: Path) -> dict[tuple[str, str | None], dict[str, Any]]:
    out = {}
    for line in (corpus / "labels.jsonl").read_text("utf-8").splitlines():
        lab = json.loads(line)
        out[(lab["path"], lab["member"])] = lab
    return out


def score(labels: dict[tuple[str, str | None], dict[str, Any]], kept: list[tuple[str, str | None]]) -> dict[str, Any]:
    """Residual duplicates and lost clusters of the kept documents, overall and per language."""
    clusters: dict[str, list[dict[str, Any]]] = {}
    for lab in labels.values():
        clusters.setdefault(lab["cluster"], []).append(lab)
    survivors: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    unknown = 0
    for key in kept:
        found = labels.get(key)
        if found is None:
            unknown += 1
            continue
        lab = found
        survivors[lab["cluster"]] = survivors.get(lab["cluster"], 0) + 1
        if survivors[lab["cluster"]] > 1:  # which copy survives first depends on order: count the later ones
            kind = lab["dup_kind"] or "original"
            by_kind[kind] = by_kind.get(kind, 0) + 1
    dup_docs = sum(len(m) - 1 for m in clusters.values())
    resid = sum(max(0, n - 1) for n in survivors.values())
    lost: dict[str, int] = {}
    for c, members in clusters.items():
        if c not in survivors:
            lost[members[0]["lang"]] = lost.get(members[0]["lang"], 0) + 1
    return {"kept": len(kept), "unmatched": unknown, "clusters": len(clusters), "labelled_dups": dup_docs,
            "residual_dups": resid, "residual_pct": round(100 * resid / dup_docs, 2) if dup_docs else 0.0,
            "residual_by_kind": dict(sorted(by_kind.items())),
            "lost_clusters": sum(lost.values()), "lost_by_lang": dict(sorted(lost.items()))}


# The outputs are read a line at a time: this process stays small. The runs it starts are
# forked from it, and a forked child's peak RSS (wait4's ru_maxrss) counts what it shared with
# this process before exec: reading a 20k run's kept texts whole grew it to ~730 MB, and that
# stood as every later run's "max RSS" (the runs themselves peaked at 240 MB).
def cleaner_kept(clean: Path) -> list[tuple[str, str | None]]:
    kept = []
    for shard in sorted(clean.glob("part-*.jsonl")):
        with shard.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                kept.append((rec["source"], rec.get("metadata", {}).get("member")))
    return kept


def baseline_kept(out: Path) -> list[tuple[str, str | None]]:
    with (out / "kept.jsonl").open(encoding="utf-8") as fh:
        return [(r["source"], r["member"]) for r in map(json.loads, fh)]


def run_cleaner(work: Path, raw: Path, workers: int, docs: int, size: int, keep: str = "first") -> Measured:
    out = work / f"cleaner-w{workers}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = [sys.executable, "-m", "cleaner", "run", "--input", str(raw), "--clean", str(out / "clean"),
           "--archive", str(out / "archive"), "--state", str(out / "state"), "--workers", str(workers),
           "--no-progress", "-q"] + (["--keep", keep] if keep != "first" else [])
    name = f"cleaner --workers {workers}" + (f" --keep {keep}" if keep != "first" else "")
    m = measure(name, cmd, out, docs, size)
    m.quality = score(_labels(raw.parent), cleaner_kept(out / "clean")) if (raw.parent / "labels.jsonl").exists() else {}
    return m


def run_baseline(work: Path, raw: Path, docs: int, size: int) -> Measured:
    out = work / "baseline"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = [sys.executable, str(HERE / "baseline_naive.py"), str(raw), "--out", str(out),
           "--results", str(out / "results.json")]
    m = measure("baseline_naive", cmd, out, docs, size)
    if m.rc == 0:
        m.quality = score(_labels(raw.parent), baseline_kept(out)) if (raw.parent / "labels.jsonl").exists() else {}
        m.quality["components_s"] = json.loads((out / "results.json").read_text())["components"]
    return m


def profile(work: Path, raw: Path, docs: int) -> str:
    """cProfile one `cleaner run --workers 1`; cumulative seconds per stage (profiler overhead included)."""
    import pstats

    out = work / "profile"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    prof = out / "run.prof"
    cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", "cleaner", "run", "--input", str(raw),
           "--clean", str(out / "clean"), "--archive", str(out / "archive"), "--state", str(out / "state"),
           "--workers", "1", "--no-progress", "-q"]
    _run_checked(cmd, out, _child_env())
    stats = pstats.Stats(str(prof)).stats  # type: ignore[attr-defined]
    from cleaner import runner

    # the stages stage_clock.py clocks, found in the profile by their code's file, line and name
    stages = [(fn, label) for _, _, fn, label in stage_functions()] + [(runner._process, "TOTAL run")]
    total = 0.0
    lines = [f"{'stage':<32} {'calls':>7} {'cum s':>7} {'ms/doc':>7}"]
    for fn, label in stages:
        code = fn.__code__
        _, calls, _, cum, _ = stats.get((code.co_filename, code.co_firstlineno, code.co_name), (0, 0, 0, 0.0, 0))
        if label == "TOTAL run":
            total = cum
        lines.append(f"{label:<32} {calls:>7} {cum:>7.2f} {1000 * cum / docs:>7.3f}")
    lines.append(f"(cProfile inflates Python-heavy stages; total under the profiler {total:.1f}s)")
    return "\n".join(lines)


def stage_times(work: Path, raw: Path, docs: int) -> str:
    """CPU ms/doc per stage of one in-process run, by clocks around the stages (stage_clock.py):
    no profiler overhead, so the shares are the real ones."""
    out = work / "stages"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = _child_env()
    cmd = [sys.executable, str(HERE / "stage_clock.py"), "--json", str(out / "stages.json"), "--input", str(raw),
           "--clean", str(out / "clean"), "--archive", str(out / "archive"), "--state", str(out / "state")]
    _run_checked(cmd, out, env)
    totals = json.loads((out / "stages.json").read_text("utf-8"))
    lines = [f"{'stage (clocked, one process)':<34} {'calls':>7} {'CPU s':>7} {'ms/doc':>7}"]
    for label, (seconds, calls) in totals.items():
        lines.append(f"{label:<34} {calls:>7} {seconds:>7.2f} {1000 * seconds / docs:>7.3f}")
    return "\n".join(lines)


def _table(rows: list[Measured], base: Measured | None) -> str:
    head = f"{'run':<22} {'docs':>6} {'wall s':>7} {'docs/s':>7} {'MB/s':>6} {'CPU ms/doc':>10} {'parent':>6} " \
           f"{'tree RSS MB':>11} {'max RSS MB':>10} {'CPU vs base':>11} {'resid dups':>10} {'lost':>5} {'calib ms':>8}"
    lines = [head]
    for m in rows:
        r = m.row()
        ratio = f"{base.cpu_ms_per_doc / m.cpu_ms_per_doc:.2f}x" if base and m.cpu_s else "-"
        q = m.quality
        lines.append(f"{m.name:<22} {m.docs:>6} {m.wall_s:>7.1f} {r['docs_per_s']:>7.0f} {r['mb_per_s']:>6.2f} "
                     f"{r['cpu_ms_per_doc']:>10.2f} {r['parent_ms_per_doc']:>6.2f} {m.tree_rss_mb:>11.0f} {m.max_rss_mb:>10.0f} {ratio:>11} "
                     f"{q.get('residual_dups', '-'):>10} {q.get('lost_clusters', '-'):>5} {m.calib_ms:>8.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000, help="documents to generate (default 5000)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--workers", type=int, action="append", help="worker count; repeat to compare (default 1)")
    ap.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                    help="also run the naive baseline on the same corpus (default on)")
    ap.add_argument("--keep", action="store_true", help="keep the corpus and outputs (the folder is printed)")
    ap.add_argument("--corpus", type=Path, help="reuse a corpus folder made by make_corpus.py (has raw/)")
    ap.add_argument("--aeb", type=Path, help="extraction ground-truth.jsonl for real paragraphs")
    ap.add_argument("--json", type=Path, help="also write all measurements here")
    ap.add_argument("--profile", action="store_true", help="also cProfile one --workers 1 run: seconds per stage")
    ap.add_argument("--dedup-keep", choices=("first", "longest"), default="first",
                    help="cleaner run --keep (longest: the run is spooled, then written longest first)")
    ap.add_argument("--stages", action="store_true",
                    help="also clock the stages of one in-process run (stage_clock.py: no profiler overhead)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="cleaner-throughput-"))
    try:
        corpus = args.corpus or work / "corpus"
        if args.corpus is None:
            t = time.perf_counter()
            build(corpus, args.n, args.seed, args.aeb)
            print(f"corpus: {args.n} docs in {time.perf_counter() - t:.1f}s at {corpus}", file=sys.stderr)
        raw = corpus / "raw"
        labels = _labels(corpus) if (corpus / "labels.jsonl").exists() else {}
        docs = len(labels) or sum(1 for p in raw.rglob("*") if p.is_file())
        size = sum(p.stat().st_size for p in raw.rglob("*") if p.is_file())
        rows: list[Measured] = []
        base = None
        if args.baseline:
            base = run_baseline(work, raw, docs, size)
            rows.append(base)
        for w in args.workers or [1]:
            rows.append(run_cleaner(work, raw, w, docs, size, args.dedup_keep))
        print(_table(rows, base))
        if args.profile:
            print(profile(work, raw, docs))
        if args.stages:
            print(stage_times(work, raw, docs))
        for m in rows:
            print(f"{m.name}: quality {json.dumps(m.quality, ensure_ascii=False)}")
        if args.json:
            args.json.write_text(json.dumps([m.row() for m in rows], indent=2) + "\n", "utf-8")
        return 0 if all(m.rc in (0, 1) for m in rows) else 1
    finally:
        if args.keep:
            print(f"kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
