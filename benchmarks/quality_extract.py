"""Extraction quality and speed on the HTML dev set, optionally against trafilatura/resiliparse.

    python benchmarks/quality_extract.py [--eval ../shared/eval/extraction] [--compare]
                                         [--out preds.jsonl] [--worst 15] [--rounds 1]

Runs `extract_html` over every `html/*.html.gz`, writes predictions JSONL, scores them with
the shared scorer (`../shared/tools/score_extraction.py`, run as a subprocess) and prints
F1/P/R and pages/s. `--worst N` prints per-page precision/recall for the N worst pages (our
own shingle count, for finding the rule that failed). `--compare` times trafilatura
(include_comments=False) and resiliparse in the same run when they are installed (the
`bench` extra) and prints speed ratios.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from cleaner.stages.extract import extract_html

HERE = Path(__file__).resolve().parent
DEFAULT_EVAL = HERE.parent.parent / "shared" / "eval" / "extraction"
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def load_pages(eval_dir: Path) -> list[tuple[str, str, str | None]]:
    truth_urls = {}
    for line in (eval_dir / "ground-truth.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        truth_urls[row["id"]] = row.get("url")
    pages = []
    for path in sorted((eval_dir / "html").glob("*.html.gz")):
        page_id = path.name.split(".")[0]
        html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        pages.append((page_id, html, truth_urls.get(page_id)))
    return pages


def run(name: str, fn: Callable[[str, str | None], str], pages: list[tuple[str, str, str | None]],
        rounds: int) -> tuple[dict[str, str], float]:
    """Predictions and the best pages/s over `rounds` passes."""
    best = float("inf")
    preds: dict[str, str] = {}
    for _ in range(rounds):
        start = time.perf_counter()
        preds = {pid: fn(html, url) or "" for pid, html, url in pages}
        best = min(best, time.perf_counter() - start)
    speed = len(pages) / best
    print(f"{name:<14} {speed:8.1f} pages/s", flush=True)
    return preds, speed


def score(eval_dir: Path, preds: dict[str, str], out: Path) -> tuple[str, dict[str, float]]:
    """Scorer's printed table and its overall numbers (f1, precision, recall, ...)."""
    with out.open("w", encoding="utf-8") as fh:
        for pid, text in preds.items():
            fh.write(json.dumps({"id": pid, "text": text}, ensure_ascii=False) + "\n")
    scorer = eval_dir.parent.parent / "tools" / "score_extraction.py"
    summary = out.with_suffix(".score.json")
    res = subprocess.run(
        [sys.executable, str(scorer), str(eval_dir / "ground-truth.jsonl"), str(out), "--json", str(summary)],
        capture_output=True, text=True, check=False,
    )
    overall = json.loads(summary.read_text("utf-8"))["ALL"] if summary.is_file() else {}
    return res.stdout.strip(), overall


def evaluate(eval_dir: Path = DEFAULT_EVAL) -> dict[str, float]:
    """Overall scores of `extract_html` on the dev set (used by the pinned floor test)."""
    pages = load_pages(eval_dir)
    preds = {pid: extract_html(html, url).text for pid, html, url in pages}
    out = Path(tempfile.mkdtemp(prefix="quality_extract_")) / "cleaner.jsonl"
    return score(eval_dir, preds, out)[1]


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if len(tokens) <= 4:
        return Counter([tuple(tokens)]) if tokens else Counter()
    return Counter(tuple(tokens[i:i + 4]) for i in range(len(tokens) - 3))


def per_page(eval_dir: Path, preds: dict[str, str], worst: int) -> None:
    """Print the pages with the lowest F1 (precision, recall, lengths) to find failing rules."""
    rows = []
    for line in (eval_dir / "ground-truth.jsonl").read_text(encoding="utf-8").splitlines():
        truth = json.loads(line)
        t, p = _shingles(truth["text"]), _shingles(preds.get(truth["id"], ""))
        tp = sum((t & p).values())
        prec = tp / max(1, sum(p.values()))
        rec = tp / max(1, sum(t.values()))
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        rows.append((f1, prec, rec, truth["id"][:12], truth.get("url", "")))
    rows.sort()
    print(f"\n{'F1':>5} {'P':>5} {'R':>5}  id            url")
    for f1, prec, rec, pid, url in rows[:worst]:
        print(f"{f1:5.2f} {prec:5.2f} {rec:5.2f}  {pid}  {url[:90]}")


def _trafilatura() -> Callable[[str, str | None], str] | None:
    try:
        import trafilatura
    except ImportError:
        return None
    return lambda html, url: trafilatura.extract(html, url=url, include_comments=False) or ""


def _resiliparse() -> Callable[[str, str | None], str] | None:
    try:
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree
    except ImportError:
        return None
    return lambda html, url: extract_plain_text(HTMLTree.parse(html), main_content=True, alt_texts=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval", type=Path, default=DEFAULT_EVAL, help="extraction eval folder")
    ap.add_argument("--compare", action="store_true", help="also run trafilatura and resiliparse")
    ap.add_argument("--out", type=Path, default=None, help="predictions JSONL (default: a temp file)")
    ap.add_argument("--worst", type=int, default=0, help="print the N worst pages")
    ap.add_argument("--rounds", type=int, default=1, help="timing passes, best one reported")
    args = ap.parse_args(argv)
    if not (args.eval / "ground-truth.jsonl").is_file():
        print(f"no eval data at {args.eval}", file=sys.stderr)
        return 2
    pages = load_pages(args.eval)
    tmp = Path(tempfile.mkdtemp(prefix="quality_extract_"))
    ours, speed = run("cleaner", lambda html, url: extract_html(html, url).text, pages, args.rounds)
    out = args.out or tmp / "cleaner.jsonl"
    print(score(args.eval, ours, out)[0])
    print(f"predictions: {out}")
    if args.worst:
        per_page(args.eval, ours, args.worst)
    if args.compare:
        for name, factory in (("trafilatura", _trafilatura), ("resiliparse", _resiliparse)):
            fn = factory()
            if fn is None:
                print(f"{name}: not installed (pip install '.[bench]')")
                continue
            preds, other = run(name, fn, pages, args.rounds)
            print(score(args.eval, preds, tmp / f"{name}.jsonl")[0])
            print(f"cleaner speed / {name} speed = {speed / other:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
