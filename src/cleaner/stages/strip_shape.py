"""Shape features of one line: script-aware length, prose punctuation, list and URL shapes.

These are cheap, language-free signals: article prose is long and sentence-punctuated;
menus, tag clouds, link lists and keyword stuffing are many short segments joined by
separators; reference residue is bare URLs. A CJK character counts as half a word, so a
Chinese sentence of 40 characters weighs like an English sentence of 20 words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CJK_CLASS = (
    "\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")
_CJK_RUN = re.compile(f"[{CJK_CLASS}\u3000-\u303f\uff00-\uff65]+")  # with CJK punctuation
# Every CJK character and full-width mark shape() looks for is >= U+3000: one single-range
# scan rules most non-ASCII lines (accents, dashes, curly quotes) out of those checks.
_WIDE = re.compile("[\u3000-\U0010ffff]")
# Sentence punctuation: Latin marks count only before a space or at the end (not in 3.1,
# example.com or U.S.A); CJK full-width marks count anywhere.
_CLOSERS = "\"”’'»)]」』 \t"
_END_MARKS = ".!?…:;。！？：；"
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SEP_HINTS = ("|", "｜", "·", "•", "丨", " / ", " » ", " > ", " - ", " – ", "   ")
_SEPARATORS = re.compile(r"\s[|/·•»>–-]\s|[|｜·•丨]|\s{3,}")
_SEGMENT_SPLIT = re.compile(r"\s[/»>–-]\s|[|｜·•丨]|\s{3,}")

GOOD_UNITS = 10.0  # a prose line of at least this many words is article-like


@dataclass(slots=True)
class Shape:
    """What the classifier needs to know about one line, computed once."""

    units: float  # words, with CJK characters counted as half a word
    cjk: int  # CJK characters (ideographs, kana, hangul)
    stops: int  # sentence punctuation marks
    ends: bool  # ends like a sentence (or a clause that a list follows)
    # Derived once here (read for every line by every pass, so not properties):
    prose: bool = field(init=False)  # reads as running text
    good: bool = field(init=False)  # prose of at least GOOD_UNITS words: article-like

    def __post_init__(self) -> None:
        self.prose = self.ends or self.stops >= 2 or (self.stops >= 1 and self.units >= GOOD_UNITS)
        self.good = self.prose and self.units >= GOOD_UNITS


def shape(line: str) -> Shape:
    """Features of a trimmed line; str.count and one character-class scan, no per-char Python."""
    # A count of "? " is 0 where the line has no "?": the one-character test is a fast C
    # scan (memchr-like), the two-character count is several times dearer, and "?", "!"
    # and a closing quote are rare in the lines strip sees.
    ascii_line = line.isascii()
    if ascii_line or _WIDE.search(line) is None:  # as below, where no CJK character or mark can occur
        cjk = 0
        units = float(line.count(" ") + 1)
        quote, stop = ('"', '." ') if ascii_line else ("”", ".” ")  # its kind of closing quote
        stops = line.count(". ") + (line.count(stop) if quote in line else 0)
        if "?" in line:
            stops += line.count("? ")
        if "!" in line:
            stops += line.count("! ")
    else:
        cjk = len(_CJK_CHAR.findall(line)) if _CJK_CHAR.search(line) else 0
        if cjk:
            units = len(_CJK_RUN.sub(" ", line).split()) + cjk / 2.0
        else:
            units = float(line.count(" ") + 1)
        stops = (
            line.count(". ") + line.count("? ") + line.count("! ") + line.count(".” ")
            + line.count("。") + line.count("！") + line.count("？")
            + line.count("；") + line.count("，")
        )
    tail = line.rstrip(_CLOSERS)
    ends = bool(tail) and tail[-1] in _END_MARKS
    if ends and tail[-1] in ".!?…":
        stops += 1
    return Shape(units, cjk, stops, ends)


def list_shape(line: str, sh: Shape) -> tuple[str, str] | None:
    """A link/keyword list or a URL list, or None. Returns (rule, note)."""
    urls = _URL.findall(line) if ("http" in line or "www." in line) else []
    if urls:
        rest = _URL.sub(" ", line).strip(" \t,;|·•-–")
        if len(rest) <= 0.2 * len(line) and len(rest.split()) <= 3:
            if len(urls) >= 2:
                return "shape:url-list", f"{len(urls)} bare URLs"
            return "shape:bare-url", "a bare URL"
    if sh.units < 4:
        return None
    for sep in _SEP_HINTS:  # a plain loop: most lines have none, and any() of a generator costs more
        if sep in line:
            break
    else:
        return None
    if _SEPARATORS.search(line) is None:
        return None
    if line.startswith("|") or line.endswith("|"):
        return None  # a table row as the extractor renders tables: content
    segments = [s for s in _SEGMENT_SPLIT.split(line) if s.strip()]
    if len(segments) < 4:
        return None
    numeric = sum(1 for s in segments if any(c.isdigit() for c in s))
    if 3 * numeric >= len(segments):
        return None  # a row of figures (a table, a score line), not a link list
    mean = sh.units / len(segments)
    if mean <= 4.0 and sh.stops <= len(segments) // 4:
        return "shape:keyword-list", f"{len(segments)} short segments joined by separators"
    return None


def segments(line: str) -> list[str]:
    """The parts of a keyword list (for spam vocabulary counting)."""
    return [s.strip() for s in _SEGMENT_SPLIT.split(line) if s.strip()]


# Author bios closing a post (strip.py): a name line, then a line that starts like a bio.
def is_name(stripped: str, sh: Shape) -> bool:
    """2-4 capitalised words without punctuation: a person's name above a bio."""
    if sh.stops:
        return False
    words = stripped.split()
    return (
        2 <= len(words) <= 4
        and all(w[:1].isupper() and w.replace("-", "").replace(".", "").isalpha() for w in words)
    )


_BIO_VERBS = (
    "is", "was", "has", "writes", "covers", "joined", "ist", "war", "hat", "schreibt",
    "arbeitet", "est", "a", "es", "è", "é", "是", "为", "為",
)


# "About Jane Doe" / "Über Moritz Bachmann" / "Sobre Carlos Nadalim" closing a post.
ABOUT = re.compile(
    r"(?i:about|über|sobre|à propos de|acerca de)\s+((?:[A-ZÄÖÜÀ-Ý][\w.\x27’-]*\s*){1,4}?)\s*:?"
)


# "Sofia Rossi is a senior writer at Example covering science. Follow her on Twitter": a name,
# a writer's role at a publication, and a second trait of a bio (beat, career, handle).
_BIO_SENTENCE = re.compile(
    r"(?:[A-ZÄÖÜ][\w.\x27’-]+\s+){1,3}(?:is|has been)\s+(?:an?|the)\s+(?:[\w-]+\s+){0,4}?"
    r"(?:writer|reporter|editor|journalist|correspondent|columnist|contributor|author|producer|critic|blogger)s?"
    r"\s+(?:at|for|with|of)\b"
)
_BIO_TRAIT = re.compile(
    r"(?i:\bcovering\b|\bcovers\b|\bbefore (?:that|joining)\b|\bpreviously\b|\bfollow (?:him|her|them|me)\b|"
    r"(?:his|her|their) work has appeared\b|(?<!\w)@\w{2,})"
)


# The heading of an author box ("About the author", "Über die Autorin").
AUTHOR_HEADING = re.compile(r"(?i:about the author|about the writer|author bio|über (?:den|die) autor(?:in)?)\s*:?")


def bio_sentence(stripped: str) -> bool:
    """A line that reads as an author's bio on its own (the name starts it)."""
    return _BIO_SENTENCE.match(stripped) is not None and _BIO_TRAIT.search(stripped) is not None


def bio_follows(name: str, nxt: str) -> bool:
    """`nxt` starts like a biography of `name`: 'Sam is a ...', 'Sam Jeans ist ...'."""
    words = name.split()
    for head in (name, words[0], words[-1]):
        if nxt.startswith(head + " "):
            rest = nxt[len(head) + 1 :].split(" ", 1)[0].lower()
            return rest in _BIO_VERBS
    return False
