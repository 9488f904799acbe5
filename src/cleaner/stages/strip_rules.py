"""Boilerplate rules as data: load `rules/<lang>.toml` files and compile them once per process.

Each file holds `[[rule]]` tables (name, kind, patterns, optional max_units and zone) and
`[[spam]]` tables (name, terms); see rules/any.toml for the format. Adding a language is
dropping a file. Rules matched anywhere ("any", spam) are compiled into one alternation per
group with one named group per rule, so a line costs one regex search per group and the
match names the rule that fired; whole-line and line-start rules are compiled one pattern at
a time and tried only where the line's first (last) character allows (strip_match.Dispatch).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from cleaner.errors import UsageError
from cleaner.stages.strip_match import (
    LINE_MAX,
    Dispatch,
    Group,
    Rule,
    compile_group,
    fullmatch_rule,
    start_rule,
)

KINDS = ("line", "short", "any")
ZONES = ("any", "edge")
DEFAULT_MAX_UNITS = 30
UNLIMITED = 1 << 30
# Prose in the middle of a text is checked against the length-limited `any` rules only up to
# this many units; longer lines get the unlimited rules alone. Boilerplate sentences are
# short, a long paragraph that mentions a newsletter is the article's, and paragraphs are
# most of what strip reads: every limited rule on every line cost 8-10% of strip (3000
# generated texts), up to 40 units 2-4%; 80 units would keep one more dev page's teaser
# excerpts out at the full cost.
MID_ANY_UNITS = 40


@dataclass(frozen=True)
class _Set:
    """The compiled groups for one script class of lines."""

    line_body: Dispatch  # whole-line rules valid anywhere
    line_edge: Dispatch  # whole-line rules incl. edge-only ones
    line_edge_only: Dispatch  # whole-line rules valid only at the edges
    any_body: tuple[tuple[int, Group], ...]  # (max units, rules allowing that length)
    short_body: tuple[tuple[int, Dispatch], ...]  # (max units, rules allowing that length)
    short_edge: tuple[tuple[int, Dispatch], ...]
    short_edge_only: tuple[tuple[int, Dispatch], ...]
    spam: Group | None  # one named group per spam vocabulary


@dataclass(frozen=True)
class RuleBook:
    """Compiled rules of the "any" file plus the configured languages.

    Lines without CJK text skip files declared `script = "cjk"` (`latin`); lines with CJK
    text are checked against every file (`every`)."""

    rules: tuple[Rule, ...]
    latin: _Set
    every: _Set

    def match(
        self, stripped: str, units: float, edge: bool, cjk: bool, full: bool = True, low: str | None = None
    ) -> Rule | None:
        """The first rule that fires on a line (trimmed), or None. `full=False` is for prose
        in the middle of a document: only the `any` rules (unmistakable phrases, within their
        length limits; on lines over MID_ANY_UNITS the unlimited ones), not the start-anchored
        and whole-line ones.
        `low`: `stripped.lower()` where the caller has it already."""
        rs = self.every if cjk else self.latin
        if not full:
            for limit, grp in rs.any_body:
                if units <= limit and (units <= MID_ANY_UNITS or limit >= UNLIMITED):
                    return grp.search(stripped, stripped.lower() if low is None else low)
            return None
        if len(stripped) <= LINE_MAX:
            rule = _fullmatch_undecorated(rs.line_edge if edge else rs.line_body, stripped)
            if rule is not None:
                return rule
        for limit, grp in rs.any_body:
            if units <= limit:
                rule = grp.search(stripped, stripped.lower() if low is None else low)
                if rule is not None:
                    return rule
                break
        return start_rule(rs.short_edge if edge else rs.short_body, stripped, units)

    def match_edge_only(self, stripped: str, units: float, cjk: bool) -> Rule | None:
        """The first edge-only rule that fires on a line. For a line on which
        `match(..., edge=False)` found nothing this is what `match(..., edge=True)` finds:
        the rules valid anywhere failed already, and the edge-only ones keep their order."""
        rs = self.every if cjk else self.latin
        if len(stripped) <= LINE_MAX:
            rule = _fullmatch_undecorated(rs.line_edge_only, stripped)
            if rule is not None:
                return rule
        return start_rule(rs.short_edge_only, stripped, units)

    def spam_hits(self, text: str, cjk: bool, low: str | None = None) -> tuple[int, str]:
        """How many spam terms a text carries, and the vocabulary most of them come from.
        `low`: `text.lower()` where the caller has it already."""
        group = (self.every if cjk else self.latin).spam
        if group is None:
            return 0, ""
        counts: dict[str, int] = {}
        for m in group.finditer(text, text.lower() if low is None else low):
            if m.lastgroup:
                rid = group.rules[int(m.lastgroup[1:])].id
                counts[rid] = counts.get(rid, 0) + 1
        if not counts:
            return 0, ""
        return sum(counts.values()), max(counts, key=lambda k: counts[k])


_Loaded = tuple[list[tuple[Rule, list[str]]], list[tuple[Rule, list[str]]], bool]


def _load_file(lang: str) -> _Loaded:
    ref = resources.files("cleaner.rules").joinpath(f"{lang}.toml")
    if not ref.is_file():
        raise UsageError(f"strip: no rule file rules/{lang}.toml for language {lang!r}")
    data = tomllib.loads(ref.read_text(encoding="utf-8"))
    rules: list[tuple[Rule, list[str]]] = []
    for entry in data.get("rule", []):
        rid = f"{lang}:{entry['name']}"
        kind = entry.get("kind", "short")
        zone = entry.get("zone", "any")
        if kind not in KINDS or zone not in ZONES:
            raise UsageError(f"rules/{lang}.toml: {rid}: bad kind {kind!r} or zone {zone!r}")
        patterns = list(entry["patterns"])
        for p in patterns:
            try:
                re.compile(p)
            except re.error as err:
                raise UsageError(f"rules/{lang}.toml: {rid}: bad pattern {p!r}: {err}") from None
        default = UNLIMITED if kind == "any" else DEFAULT_MAX_UNITS
        max_units = int(entry.get("max_units", default))
        rules.append((Rule(rid, kind, zone, max_units), patterns))
    spam = [
        (Rule(f"{lang}:spam-{e['name']}", "any", "any", 0), list(e["terms"]))
        for e in data.get("spam", [])
    ]
    script = data.get("script", "any")
    if script not in ("any", "cjk"):
        raise UsageError(f"rules/{lang}.toml: script must be 'any' or 'cjk', got {script!r}")
    return rules, spam, script == "cjk"


def _limit_groups(
    rules: list[tuple[Rule, list[str]]], how: str
) -> tuple[tuple[int, Group], ...]:
    """For each length limit, the rules that allow lines of that length (ascending)."""
    limits = sorted({r.max_units for r, _ in rules})
    out = []
    for limit in limits:
        grp = compile_group([(r, p) for r, p in rules if r.max_units >= limit], how)
        if grp is not None:
            out.append((limit, grp))
    return tuple(out)


def _limit_dispatch(rules: list[tuple[Rule, list[str]]]) -> tuple[tuple[int, Dispatch], ...]:
    """`_limit_groups` for "start" rules, each group dispatched by first character."""
    limits = sorted({r.max_units for r, _ in rules})
    return tuple(
        (limit, Dispatch([(r, p) for r, p in rules if r.max_units >= limit], "start")) for limit in limits
    )


def _build(rules: list[tuple[Rule, list[str]]], spam: list[tuple[Rule, list[str]]]) -> _Set:
    def pick(kind: str, zones: tuple[str, ...]) -> list[tuple[Rule, list[str]]]:
        return [(r, p) for r, p in rules if r.kind == kind and r.zone in zones]

    return _Set(
        line_body=Dispatch(pick("line", ("any",)), "line"),
        line_edge=Dispatch(pick("line", ("any", "edge")), "line"),
        line_edge_only=Dispatch(pick("line", ("edge",)), "line"),
        any_body=_limit_groups(pick("any", ("any",)), "search"),
        short_body=_limit_dispatch(pick("short", ("any",))),
        short_edge=_limit_dispatch(pick("short", ("any", "edge"))),
        short_edge_only=_limit_dispatch(pick("short", ("edge",))),
        spam=compile_group(spam, "search"),
    )


@lru_cache(maxsize=8)
def load_rules(languages: tuple[str, ...]) -> RuleBook:
    """The rule book for "any" plus `languages`, compiled once per process."""
    every: list[tuple[Rule, list[str]]] = []
    every_spam: list[tuple[Rule, list[str]]] = []
    latin: list[tuple[Rule, list[str]]] = []
    latin_spam: list[tuple[Rule, list[str]]] = []
    for lang in ("any", *[lang for lang in languages if lang != "any"]):
        rules, terms, cjk_only = _load_file(lang)
        every.extend(rules)
        every_spam.extend(terms)
        if not cjk_only:
            latin.extend(rules)
            latin_spam.extend(terms)
    if any(r.kind == "any" and r.zone == "edge" for r, _ in every):
        raise UsageError("strip rules: kind 'any' cannot be limited to zone 'edge'")
    return RuleBook(
        rules=tuple(r for r, _ in every),
        latin=_build(latin, latin_spam),
        every=_build(every, every_spam),
    )


# Arrows, bullets and bars that decorate a label ("» Advertisement", "← Back to gallery",
# "• Tweet"): a whole-line rule also matches what follows them.
_DECORATION = "»›>«‹<←→•·*|-–—~ \t"


def _fullmatch_undecorated(disp: Dispatch, stripped: str) -> Rule | None:
    rule = fullmatch_rule(disp, stripped)
    if rule is None and stripped[:1] in _DECORATION:
        bare = stripped.lstrip(_DECORATION)
        if bare and bare != stripped:
            rule = fullmatch_rule(disp, bare)
    return rule
