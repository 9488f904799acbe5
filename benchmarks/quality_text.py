"""Score repair + convert on the text-normalisation cases (exact match per case, per kind).

Usage: python benchmarks/quality_text.py [CASES.jsonl] [--preds OUT.jsonl] [--failures N]
Runs repair_text then convert_text on every case input, writes predictions {id, output} and
prints the summary of ../shared/tools/score_text.py (the shared scorer) when it is there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from cleaner.config import ConvertConfig, RepairConfig
from cleaner.stages.convert import convert_text
from cleaner.stages.repair import repair_text
from cleaner.stages.repair_pinyin import removed_glosses

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CASES = ROOT / ".." / "shared" / "eval" / "text" / "cases.jsonl"
SCORER = ROOT / ".." / "shared" / "tools" / "score_text.py"


def normalise(text: str) -> str:
    repaired, edits = repair_text(text, RepairConfig())
    converted, _, _ = convert_text(repaired, ConvertConfig(), glossed=removed_glosses(edits))  # as convert() does
    return converted


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="?", default=str(DEFAULT_CASES))
    ap.add_argument("--preds", default=str(ROOT / "benchmarks" / "out" / "text_preds.jsonl"))
    ap.add_argument("--failures", type=int, default=0)
    args = ap.parse_args(argv)
    cases = [json.loads(line) for line in open(args.cases, encoding="utf-8") if line.strip()]
    Path(args.preds).parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(args.preds, "w", encoding="utf-8") as out:
        for case in cases:
            out.write(json.dumps({"id": case["id"], "output": normalise(case["input"])},
                                 ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases in {time.perf_counter() - t0:.2f} s (first call loads models)")
    if not SCORER.is_file():
        print(f"scorer not found at {SCORER}; predictions in {args.preds}")
        return 0
    cmd = [sys.executable, str(SCORER), args.cases, args.preds, "--failures", str(args.failures)]
    return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
