"""Template learning demo: fake sites whose header/footer lines no rule list anticipates.

    python benchmarks/template_corpus.py [--pages 40] [--sites 3] [--seed 7]

Generates N pages per site (deterministic, seeded): article paragraphs drawn from the
samples in raw/, wrapped in each site's own chrome (masthead, slogan, footer lines made of
words no rule file knows). Pages are fed one at a time, as runs would: after each page the
site's counts grow (TemplateStats on an in-memory SQLite), a snapshot is taken and the
next page is stripped with it (HTML-derived mode, so only rules + templates act). Prints
the share of template lines removed and of article lines kept against pages seen.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
from pathlib import Path

from cleaner.config import StripConfig
from cleaner.stages.strip import explain_lines
from cleaner.state.templates import TemplateStats, line_keys

ROOT = Path(__file__).resolve().parent.parent
_WORDS = "quill amber harbor lantern meadow cobalt fennel juniper orchid pebble saffron thistle".split()


def paragraphs() -> list[str]:
    """Article paragraphs of the samples: long, punctuated lines that strip keeps."""
    out: list[str] = []
    for path in sorted((ROOT / "raw").glob("*.txt")):
        for d in explain_lines(path.read_text(encoding="utf-8"), StripConfig()):
            line = d.text.strip()
            if d.kept and len(line) > 120 and line[-1] in ".!?。」\"“”":
                out.append(line)
    return out


def site_chrome(rng: random.Random, name: str) -> tuple[list[str], list[str]]:
    """A site's own header and footer lines: invented names, no rule keyword in them."""
    def phrase(n: int) -> str:
        return " ".join(rng.choice(_WORDS).capitalize() for _ in range(n))

    head = [f"{name} {phrase(2)}", phrase(3), f"{phrase(1)} · {phrase(1)} · {phrase(1)}"]
    foot = [f"{phrase(4)} {name}", f"{name} {phrase(2)} {rng.randint(1990, 2020)}", phrase(5)]
    return head, foot


def page(rng: random.Random, paras: list[str], head: list[str], foot: list[str]) -> tuple[str, int]:
    body = rng.sample(paras, k=min(len(paras), rng.randint(3, 6)))
    return "\n\n".join([*head, *body, *foot]), len(body)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=40, help="pages per site")
    ap.add_argument("--sites", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    paras = paragraphs()
    sites = [f"site{i}.example" for i in range(args.sites)]
    chrome = {s: site_chrome(rng, s.split(".")[0].capitalize()) for s in sites}
    conn = sqlite3.connect(":memory:")
    stats = TemplateStats(conn)
    cfg = StripConfig()
    print(f"{'pages seen':>10}  {'template lines removed':>22}  {'article lines kept':>18}")
    for n in range(args.pages):
        removed = total_t = kept = total_a = 0
        for s in sites:
            head, foot = chrome[s]
            text, _ = page(rng, paras, head, foot)
            snap = stats.snapshot([s])
            chrome_lines = set(head) | set(foot)
            for d in explain_lines(text, cfg, snap, s, is_html=True):
                if not d.text.strip():
                    continue
                if d.text in chrome_lines:
                    total_t += 1
                    removed += not d.kept
                else:
                    total_a += 1
                    kept += d.kept
            stats.add_page(s, line_keys(text))
        if n in (0, 1, 2, 3, 4, 5, 9, 19, 39) or n == args.pages - 1:
            print(f"{n:>10}  {removed / total_t:>22.0%}  {kept / total_a:>18.0%}")
    conn.commit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
