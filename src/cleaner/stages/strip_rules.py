"""Boilerplate rules as data: load `rules/<lang>.toml` files and compile them once per process.

Each file holds `[[rule]]` tables (name, kind, patterns, optional max_units and zone) and
`[[spam]]` tables (name, terms); see rules/any.toml for the format. Adding a language is
dropping a file. All patterns of one group are compiled into a single alternation with one
named group per rule, so a line costs one regex search per group and the match names the
rule that fired.
"""

from __future__ import annotations

import re
import tomllib
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from cleaner.errors import UsageError

KINDS = ("line", "short", "any")
ZONES = ("any", "edge")
DEFAULT_MAX_UNITS = 30
UNLIMITED = 1 << 30


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # "<file>:<name>", e.g. "de:newsletter"
    kind: str
    zone: str
    max_units: int


@dataclass(frozen=True)
class _Group:
    """One compiled alternation; group names r<i> index into `rules`.

    `triggers`: literals one of which every match starts with (None: unknown). Searching
    a long line with a big alternation costs ~0.1 us per character; one search for the
    literals (a plain-literal alternation, which `re` scans far faster) on the lower-cased
    line rules most lines out first."""

    pattern: re.Pattern[str]
    rules: tuple[Rule, ...]
    triggers: tuple[str, ...] | None = None
    trigger_re: re.Pattern[str] | None = None

    def __post_init__(self) -> None:
        if self.triggers is not None and self.trigger_re is None:
            literals = "|".join(re.escape(t) for t in sorted(self.triggers, key=len, reverse=True))
            object.__setattr__(self, "trigger_re", re.compile(literals))

    def may_match(self, low: str) -> bool:
        return self.trigger_re is None or self.trigger_re.search(low) is not None

    def search(self, text: str, low: str) -> Rule | None:
        if not self.may_match(low):
            return None
        m = self.pattern.search(text)
        return self.rules[int(m.lastgroup[1:])] if m and m.lastgroup else None


_MAX_TRIGGERS = 24


def _prefixes(items: list[tuple[object, object]]) -> set[str] | None:
    """Literal strings one of which every match of this parsed sequence starts with."""
    out = {""}
    for op, av in items:
        if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
            continue  # zero-width: \b, ^, lookarounds
        if op is sre_c.LITERAL:
            chars = {chr(av).lower()}  # type: ignore[call-overload,arg-type]
        elif op is sre_c.IN and all(o is sre_c.LITERAL for o, _ in av):  # type: ignore[attr-defined]
            chars = {chr(v).lower() for _, v in av}  # type: ignore[attr-defined]
        elif op is sre_c.SUBPATTERN:
            sub = _prefixes(list(av[-1]))  # type: ignore[index]
            return _join(out, sub)
        elif op is sre_c.BRANCH:
            alts = [_prefixes(list(b)) for b in av[1]]  # type: ignore[index]
            if any(a is None for a in alts):
                return _join(out, None)
            return _join(out, set().union(*alts))  # type: ignore[arg-type]
        else:
            return _join(out, None)
        out = {p + c for p in out for c in chars}
        if len(out) > _MAX_TRIGGERS:
            return None
    return out


def _join(heads: set[str], tails: set[str] | None) -> set[str] | None:
    if tails is None or not all(tails):
        return heads if all(heads) else None
    joined = {h + t for h in heads for t in tails}
    return joined if len(joined) <= _MAX_TRIGGERS else (heads if all(heads) else None)


def _triggers(patterns: list[str]) -> tuple[str, ...] | None:
    found: set[str] = set()
    for p in patterns:
        got = _prefixes(list(sre_parse.parse(p, re.IGNORECASE)))
        if not got or any(len(t) < 2 and t.isascii() for t in got):
            return None
        found |= got
    return tuple(sorted(found))


@dataclass(frozen=True)
class _Set:
    """The compiled groups for one script class of lines."""

    line_body: _Group | None  # whole-line rules valid anywhere
    line_edge: _Group | None  # whole-line rules incl. edge-only ones
    any_body: tuple[tuple[int, _Group], ...]  # (max units, rules allowing that length)
    short_body: tuple[tuple[int, _Group], ...]  # (max units, rules allowing that length)
    short_edge: tuple[tuple[int, _Group], ...]
    spam: _Group | None  # one named group per spam vocabulary


@dataclass(frozen=True)
class RuleBook:
    """Compiled rules of the "any" file plus the configured languages.

    Lines without CJK text skip files declared `script = "cjk"` (`latin`); lines with CJK
    text are checked against every file (`every`)."""

    rules: tuple[Rule, ...]
    latin: _Set
    every: _Set

    def match(
        self, stripped: str, units: float, edge: bool, cjk: bool, full: bool = True
    ) -> Rule | None:
        """The first rule that fires on a line (trimmed), or None. `full=False` is for prose
        in the middle of a document: only the length-unlimited `any` rules (disclaimers)."""
        rs = self.every if cjk else self.latin
        low = stripped.lower()
        if not full:
            if rs.any_body and rs.any_body[-1][0] >= UNLIMITED:
                return rs.any_body[-1][1].search(stripped, low)
            return None
        group = rs.line_edge if edge else rs.line_body
        if group is not None and len(stripped) <= 160:
            m = group.pattern.fullmatch(stripped)
            if m and m.lastgroup:
                return group.rules[int(m.lastgroup[1:])]
        for limit, grp in rs.any_body:
            if units <= limit:
                rule = grp.search(stripped, low)
                if rule is not None:
                    return rule
                break
        for limit, grp in rs.short_edge if edge else rs.short_body:
            if units <= limit:
                m = grp.pattern.match(stripped)
                return grp.rules[int(m.lastgroup[1:])] if m and m.lastgroup else None
        return None

    def spam_hits(self, text: str, cjk: bool) -> tuple[int, str]:
        """How many spam terms a text carries, and the vocabulary most of them come from."""
        group = (self.every if cjk else self.latin).spam
        if group is None or not group.may_match(text.lower()):
            return 0, ""
        counts: dict[str, int] = {}
        for m in group.pattern.finditer(text):
            if m.lastgroup:
                rid = group.rules[int(m.lastgroup[1:])].id
                counts[rid] = counts.get(rid, 0) + 1
        if not counts:
            return 0, ""
        return sum(counts.values()), max(counts, key=lambda k: counts[k])


def _compile(rules: list[tuple[Rule, list[str]]], how: str) -> _Group | None:
    """how: "line" (used with fullmatch), "start" (used with match), "search"."""
    if not rules:
        return None
    parts = []
    for i, (_, patterns) in enumerate(rules):
        alt = "|".join(f"(?:{p})" for p in patterns)
        parts.append(f"(?P<r{i}>{alt})")
    body = "|".join(parts)
    if how == "line":
        body = rf"(?:{body})\s*[:：.!！?？]?"
    elif how == "start":
        body = rf"[\W_]*(?:{body})"
    triggers = _triggers([p for _, ps in rules for p in ps]) if how == "search" else None
    return _Group(re.compile(body, re.IGNORECASE), tuple(r for r, _ in rules), triggers)


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
) -> tuple[tuple[int, _Group], ...]:
    """For each length limit, the rules that allow lines of that length (ascending)."""
    limits = sorted({r.max_units for r, _ in rules})
    out = []
    for limit in limits:
        grp = _compile([(r, p) for r, p in rules if r.max_units >= limit], how)
        if grp is not None:
            out.append((limit, grp))
    return tuple(out)


def _build(rules: list[tuple[Rule, list[str]]], spam: list[tuple[Rule, list[str]]]) -> _Set:
    def pick(kind: str, edge: bool) -> list[tuple[Rule, list[str]]]:
        return [(r, p) for r, p in rules if r.kind == kind and (edge or r.zone == "any")]

    return _Set(
        line_body=_compile(pick("line", False), "line"),
        line_edge=_compile(pick("line", True), "line"),
        any_body=_limit_groups(pick("any", False), "search"),
        short_body=_limit_groups(pick("short", False), "start"),
        short_edge=_limit_groups(pick("short", True), "start"),
        spam=_compile(spam, "search"),
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
