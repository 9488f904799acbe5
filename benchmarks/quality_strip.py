"""Score the strip stage on plain-text page scrapes against a ground truth article body.

    python benchmarks/quality_strip.py [EVAL_DIR] [--pages] [--worst N] [--out preds.jsonl]
    python benchmarks/quality_strip.py --html [EVAL_DIR]   # strip after the HTML extractor

EVAL_DIR defaults to ../shared/eval/extraction (text/<id>.txt + ground-truth.jsonl). The
metric is the article-extraction-benchmark one (4-token shingles, CJK characters one token
each; see score_extraction.py next to the data), re-implemented here so the floor test
needs no script outside the repository. `--pages` prints per-page precision/recall to find
failure patterns; `--worst N` the N pages with the lowest F1. `--html` scores the text
the HTML extractor gives (html/<id>.html.gz) with and without strip: strip must not lower it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from cleaner.config import StripConfig
from cleaner.document import Document, Source, replay
from cleaner.stages.strip import strip

DEFAULT_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "extraction"
_CJK = (
    "\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
_TOKEN = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    if len(tokens) <= n:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def page_scores(true: str, pred: str) -> tuple[float, float]:
    """(precision, recall) of one page; precision is NaN-free: empty output scores 0 recall."""
    ts, ps = _shingles(true), _shingles(pred)
    tp = sum((ts & ps).values())
    fp = sum(ps.values()) - tp
    fn = sum(ts.values()) - tp
    p = 1.0 if fp == fn == 0 else (tp / (tp + fp) if tp + fp else 0.0)
    r = 1.0 if fp == fn == 0 else (tp / (tp + fn) if tp + fn else 0.0)
    return p, r


def strip_text(text: str, cfg: StripConfig, html: bool = False) -> str:
    doc = Document(id="x", source=Source(path="x.txt", sha256="0"), raw=b"", text=text)
    if html:
        doc.html = ""
    strip(doc, cfg)
    assert replay(text, doc.edits) == doc.text, "strip edits do not replay"
    return doc.text


def _extracted(eval_dir: Path, gid: str, url: str | None) -> str:
    import gzip

    from cleaner.stages.extract import extract_html

    html = gzip.decompress((eval_dir / "html" / f"{gid}.html.gz").read_bytes()).decode("utf-8", "replace")
    return extract_html(html, url).text


def evaluate(
    eval_dir: Path, cfg: StripConfig | None = None, mode: str = "text"
) -> dict[str, object]:
    """Mean precision over pages with output, mean recall, F1 of the means, per-page rows.

    mode "text": strip on the plain-text scrapes; "html": strip on the extractor's text;
    "extract": the extractor's text alone (the baseline strip must not lower)."""
    cfg = cfg or StripConfig()  # the rule files the product applies by default
    truth = [json.loads(x) for x in (eval_dir / "ground-truth.jsonl").read_text().splitlines() if x]
    rows = []
    t0 = time.process_time()
    size = 0
    for g in truth:
        if mode == "text":
            raw = (eval_dir / "text" / f"{g['id']}.txt").read_text(encoding="utf-8")
        else:
            raw = _extracted(eval_dir, g["id"], g.get("url"))
        size += len(raw.encode())
        pred = raw if mode == "extract" else strip_text(raw, cfg, html=mode == "html")
        p, r = page_scores(g["text"], pred)
        rows.append({"id": g["id"], "url": g.get("url", ""), "p": p, "r": r, "text": pred})
    cpu = time.process_time() - t0
    with_output = [x for x in rows if x["text"].strip()]
    mp = sum(x["p"] for x in with_output) / max(1, len(with_output))
    mr = sum(x["r"] for x in rows) / max(1, len(rows))
    f1 = 2 * mp * mr / (mp + mr) if mp + mr else 0.0
    return {"f1": f1, "p": mp, "r": mr, "pages": len(rows), "cpu_s": cpu, "mb": size / 1e6, "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("eval_dir", nargs="?", type=Path, default=DEFAULT_EVAL)
    ap.add_argument("--pages", action="store_true", help="print per-page P/R")
    ap.add_argument("--worst", type=int, default=0, help="print the N worst pages")
    ap.add_argument("--out", type=Path, help="write predictions JSONL (for score_extraction.py)")
    ap.add_argument("--html", action="store_true", help="strip the HTML extractor's text instead")
    args = ap.parse_args()
    if not (args.eval_dir / "ground-truth.jsonl").is_file():
        print(f"no eval data at {args.eval_dir}", file=sys.stderr)
        return 2
    if args.html:
        base = evaluate(args.eval_dir, mode="extract")
        print(f"extract alone: F1 {base['f1']:.3f}  P {base['p']:.3f}  R {base['r']:.3f}")
    res = evaluate(args.eval_dir, mode="html" if args.html else "text")
    rows = res["rows"]
    assert isinstance(rows, list)
    if args.out:
        with args.out.open("w", encoding="utf-8") as fh:
            for x in rows:
                fh.write(json.dumps({"id": x["id"], "text": x["text"]}, ensure_ascii=False) + "\n")
    ranked = sorted(rows, key=lambda x: 2 * x["p"] * x["r"] / (x["p"] + x["r"] or 1))
    shown = rows if args.pages else ranked[: args.worst]
    for x in shown:
        print(f"P={x['p']:.3f} R={x['r']:.3f}  {x['id'][:12]}  {x['url'][:90]}")
    what = "extracted pages" if args.html else "text scrapes"
    print(
        f"strip on {res['pages']} {what}: F1 {res['f1']:.3f}  P {res['p']:.3f}  R {res['r']:.3f}"
        f"  ({res['cpu_s']:.2f} s CPU, {res['mb']:.1f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
