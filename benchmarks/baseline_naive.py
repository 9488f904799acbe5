"""The naive pipeline `cleaner run` is measured against: one process, the obvious library calls.

    python benchmarks/baseline_naive.py RAW_DIR --out DIR [--results R.json]

Per input document (RAW_DIR/**/*.txt, *.html via lxml text_content, *.jsonl lines):
ftfy.fix_text -> OpenCC t2s when the text has Han characters -> regex line strip -> xxhash
exact dedup -> datasketch MinHash (112 permutations, word 5-grams; character 5-grams for
CJK) + MinHashLSH (14 bands x 8 rows) -> kept docs to DIR/kept.jsonl and, for every input, a
gzipped WARC (warcio: `resource` with the raw bytes, `conversion` with the clean text).
Each component is timed with perf_counter; the results JSON gives seconds per component.
It exists to keep `cleaner run` honest: a pipeline that does more must still be faster.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import ftfy
import lxml.html
import opencc
import xxhash
from datasketch import MinHash, MinHashLSH
from warcio.warcwriter import WARCWriter

HAN = re.compile(r"[\u4e00-\u9fff]")
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
WORD = re.compile(r"\w+")
SPACE = re.compile(r"\s+")
BLANKS = re.compile(r"\n{3,}")
END = (".", "!", "?", "”", "\"", "’", "。", "！", "？", "」", ":", "：")
BOILERPLATE = re.compile(
    r"^(home\b|menu$|skip to|advertisement|anzeige$|share|teilen|subscribe|sign up|newsletter|follow us|"
    r"related|recent posts|you might also like|more from|trending|tags?:|schlagwörter|posted (on|in|by)|"
    r"by [A-Z]|von [A-Z]|updated|©|copyright|all rights reserved|alle rechte|privacy|impressum|cookie|"
    r"leave a reply|your email address|like this|proudly powered|we may earn|disclosure|buy now|"
    r"分享|相關閱讀|延伸閱讀|責任編輯|免責聲明|版權所有|首頁|廣告$)",
    re.IGNORECASE,
)


def strip_lines(text: str) -> str:
    """Drop lines that look like furniture: known phrases, and short lines without an end mark."""
    out = []
    for line in text.split("\n"):
        s = line.strip()
        if not s:
            out.append("")
        elif BOILERPLATE.match(s) or s.count("|") >= 3:
            continue
        elif len(s) < 40 and not s.endswith(END) and not CJK.search(s):
            continue
        else:
            out.append(s)
    return BLANKS.sub("\n\n", "\n".join(out)).strip()


def shingles(text: str, n: int = 5) -> list[bytes]:
    if CJK.search(text):
        t = SPACE.sub("", text.lower())
        return list({t[i : i + n].encode() for i in range(max(1, len(t) - n + 1))})
    w = WORD.findall(text.lower())
    return list({" ".join(w[i : i + n]).encode() for i in range(max(1, len(w) - n + 1))})


def documents(raw: Path) -> Iterator[tuple[str, str | None, bytes, str]]:
    """(path, member, raw bytes, text) per document, in sorted path order like `cleaner run`."""
    for path in sorted(p for p in raw.rglob("*") if p.is_file()):
        rel = path.relative_to(raw).as_posix()
        data = path.read_bytes()
        if path.suffix == ".jsonl":
            for n, line in enumerate(data.splitlines(), start=1):
                if line.strip():
                    rec = json.loads(line)
                    yield rel, f"line:{n}", line, rec.get("text") or rec.get("html") or ""
        elif path.suffix in (".html", ".htm"):
            yield rel, None, data, "\x00html"  # extracted (and timed) by the caller
        else:
            yield rel, None, data, data.decode("utf-8", errors="replace")


def html_text(data: bytes) -> str:
    root = lxml.html.fromstring(data)
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    return "\n".join(t.strip() for t in root.itertext() if t.strip())


def run(raw: Path, out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    t: dict[str, float] = defaultdict(float)
    clock = time.perf_counter
    converter = opencc.OpenCC("t2s")
    lsh = MinHashLSH(num_perm=112, params=(14, 8))
    seen: set[int] = set()
    docs = kept = in_bytes = 0
    started = clock()
    with open(out / "kept.jsonl", "w", encoding="utf-8") as corpus, open(out / "archive.warc.gz", "wb") as fh:
        warc = WARCWriter(fh, gzip=True)
        it = documents(raw)
        while True:
            a = clock()
            item = next(it, None)
            t["read"] += clock() - a
            if item is None:
                break
            rel, member, data, text = item
            docs += 1
            in_bytes += len(data)
            key = rel if member is None else f"{rel}#{member}"
            a = clock()
            if text == "\x00html":
                text = html_text(data)
            b = clock()
            text = ftfy.fix_text(text)
            c = clock()
            if HAN.search(text):
                text = converter.convert(text)
            d = clock()
            text = strip_lines(text)
            e = clock()
            digest = xxhash.xxh3_64_intdigest(SPACE.sub(" ", text).strip().lower().encode())
            dup = digest in seen
            seen.add(digest)
            f = clock()
            t["extract"] += b - a
            t["ftfy"] += c - b
            t["opencc"] += d - c
            t["strip"] += e - d
            t["exact"] += f - e
            if not dup:
                mh = MinHash(num_perm=112)
                mh.update_batch(shingles(text))
                g = clock()
                dup = bool(lsh.query(mh))
                if not dup:
                    lsh.insert(key, mh)
                h = clock()
                t["minhash"] += g - f
                t["lsh"] += h - g
            a = clock()
            uri = f"file:///{rel}" + (f"#{member}" if member else "")
            warc.write_record(warc.create_warc_record(uri, "resource", payload=BytesIO(data),
                                                      warc_content_type="application/octet-stream"))
            if not dup and text:
                kept += 1
                body = text.encode("utf-8")
                warc.write_record(warc.create_warc_record(uri, "conversion", payload=BytesIO(body),
                                                          warc_content_type="text/plain; charset=utf-8"))
                corpus.write(json.dumps({"id": key, "source": rel, "member": member, "text": text},
                                        ensure_ascii=False) + "\n")
            t["write"] += clock() - a
    wall = clock() - started
    return {"docs": docs, "kept": kept, "bytes": in_bytes, "seconds": wall,
            "components": {k: round(v, 3) for k, v in sorted(t.items(), key=lambda kv: -kv[1])}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("raw", type=Path, help="input folder (as given to cleaner run --input)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--results", type=Path, help="write the timing summary here as JSON")
    args = ap.parse_args(argv)
    result = run(args.raw, args.out)
    text = json.dumps(result, indent=2)
    if args.results:
        args.results.write_text(text + "\n", "utf-8")
    print(text, file=sys.stderr)


if __name__ == "__main__":
    main()
