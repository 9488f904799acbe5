"""Regex machinery of the strip rules: compiled rule groups and the pre-checks that keep a
line from costing one attempt per rule.

- Whole-line and line-start rules ("line", "short"): a line is tried only against the
  patterns that can start (and, for whole lines, end) with its first (last) character,
  known from the parsed pattern (FIRST/LAST sets). The test "can c come first" is a regex
  compiled from exactly those items with the same flags, so it follows the engine's own
  case-insensitive rules (Kelvin sign, long s): over-approximation is harmless (an extra
  alternative that fails), under-approximation never happens.
- Rules matched anywhere ("any", spam vocabularies): every match starts with one of a few
  literals (triggers); one scan for them on the lower-cased line rules most lines out, and
  the alternation is then tried only where a trigger starts.

- Rules matched anywhere: every match of every pattern of the group
  contains one of a few literal strings (`needs`, e.g. "cookies" for the cookie notices);
  a few `in` tests on the lower-cased line (a C substring search, far faster per character
  than the trigger regex) rule out most long prose lines before any regex runs.

Either way the result is exactly that of the full alternation: the patterns left out
cannot match, and the rest keep their order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import _sre  # type: ignore[import-not-found]
from re import _casefix  # type: ignore[attr-defined]
from re import _compiler as sre_compile  # type: ignore[attr-defined]
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]

# re.IGNORECASE equates some letters beyond upper/lower case (s and long s, i and dotless i)
_CASE_FIXES: dict[int, tuple[int, ...]] = getattr(_casefix, "_EXTRA_CASES", {})
_CONSUME = (sre_c.LITERAL, sre_c.NOT_LITERAL, sre_c.IN)
_ZERO_WIDTH = (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT)
_REPEATS = tuple(
    getattr(sre_c, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(sre_c, name)
)
_ATOMIC = getattr(sre_c, "ATOMIC_GROUP", None)

Atoms = list[tuple[object, object]]


def _first(items: list[tuple[object, object]], rev: bool) -> tuple[Atoms | None, bool]:
    """(items that can consume the first character - the last one if `rev` - or None for
    'any character'; nullable)."""
    atoms: Atoms = []
    for op, av in reversed(items) if rev else items:
        if op in _CONSUME:
            atoms.append((op, av))
            return atoms, False
        if op in _ZERO_WIDTH:
            continue  # \b, ^, lookarounds: ignoring them only over-approximates
        if op is sre_c.SUBPATTERN:
            got, nullable = _first(list(av[-1]), rev)  # type: ignore[index]
        elif op in _REPEATS:
            lo, _, sub = cast("tuple[int, int, list[tuple[object, object]]]", av)
            got, nullable = _first(list(sub), rev)
            nullable = nullable or lo == 0
        elif op is sre_c.BRANCH:
            got, nullable = [], False
            for alt in av[1]:  # type: ignore[index]
                sub_atoms, sub_null = _first(list(alt), rev)
                if sub_atoms is None:
                    return None, False
                got += sub_atoms
                nullable = nullable or sub_null
        elif _ATOMIC is not None and op is _ATOMIC:
            got, nullable = _first(list(cast("list[tuple[object, object]]", av)), rev)
        else:
            return None, False  # ANY, group references, conditionals: anything may come first
        if got is None:
            return None, False
        atoms += got
        if not nullable:
            return atoms, False
    return atoms, True


@lru_cache(maxsize=4096)
def first_matcher(pattern: str, suffix: str = "", last: bool = False) -> re.Pattern[str] | None:
    """A one-character regex matching every character a nonempty match of `pattern` (then
    `suffix`) can start with (end with, if `last`), under re.IGNORECASE; None when that is
    any character or when the pattern can match the empty string (then it fires whatever
    the line starts with)."""
    parsed = sre_parse.parse(f"(?:{pattern}){suffix}", re.IGNORECASE)
    atoms, nullable = _first(list(parsed), last)
    if atoms is None or (nullable and not suffix):
        return None
    if not atoms:
        return re.compile("(?!)")
    state = sre_parse.State()
    state.flags = re.IGNORECASE | re.UNICODE
    alts = [sre_parse.SubPattern(state, [atom]) for atom in atoms]
    sub = sre_parse.SubPattern(state, [(sre_c.BRANCH, (None, alts))])
    return sre_compile.compile(sub, re.IGNORECASE | re.UNICODE)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # "<file>:<name>", e.g. "de:newsletter"
    kind: str
    zone: str
    max_units: int


def _trie(words: list[str]) -> str:
    """A regex that matches where one of `words` starts (a word that is a prefix of another
    makes the longer one redundant). `re` tries the alternatives of a branch one by one;
    factored by first letter it rejects a position after one comparison per letter."""
    heads: dict[str, list[str]] = {}
    for w in words:
        if not w:
            return ""
        heads.setdefault(w[0], []).append(w[1:])
    alts = [re.escape(c) + _trie(rest) for c, rest in sorted(heads.items())]
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


@dataclass(frozen=True)
class Group:
    """One compiled alternation; group names r<i> index into `rules`.

    `triggers`: literals one of which every match starts with (None: unknown). Searching
    a long line with a big alternation costs ~0.1 us per character; one search for the
    literals (a plain-literal alternation, which `re` scans far faster) on the lower-cased
    line rules most lines out first, and the alternation is then tried only where a
    trigger starts. That is exact where lower-casing maps the line character by character
    onto what `re.IGNORECASE` compares (`_exact`); elsewhere (a dotted capital I, a long s)
    the whole line is searched as before."""

    pattern: re.Pattern[str]
    rules: tuple[Rule, ...]
    triggers: tuple[str, ...] | None = None
    trigger_re: re.Pattern[str] | None = None
    risky: str = ""  # characters re.IGNORECASE equates with a trigger letter besides its case
    # Lower-cased strings one of which the lower-cased line holds wherever the pattern
    # matches (where the line holds no `needs_risky` character and lower-cases to its own
    # length; see `literal_needs`); None: no such set is known.
    needs: tuple[str, ...] | None = None
    needs_risky: str = ""

    def __post_init__(self) -> None:
        if self.triggers is not None and self.trigger_re is None:
            object.__setattr__(self, "trigger_re", re.compile(_trie(sorted(self.triggers))))
            letters = {ord(c) for t in self.triggers for c in t}
            extra = {chr(x) for c in letters for x in _CASE_FIXES.get(c, ())}
            object.__setattr__(self, "risky", "".join(sorted(extra)))

    def may_match(self, low: str) -> bool:
        return self.trigger_re is None or self.trigger_re.search(low) is not None

    def _exact(self, text: str, low: str) -> bool:
        """Do positions in `low` hold exactly the characters IGNORECASE compares at the
        same positions of `text`?"""
        if len(low) != len(text):
            return False
        if not self.risky or (low.isascii() and self.risky > "\x7f"):
            return True
        return not any(c in low for c in self.risky)

    def _needs_apply(self, text: str, low: str) -> bool:
        """Does `needs` decide a non-ASCII line (see `literal_needs`)?"""
        return len(low) == len(text) and not any(c in text for c in self.needs_risky)

    def _starts(self, text: str, low: str) -> list[int] | None:
        """Positions where a match may start, ascending; None: anywhere (search it all).
        No trigger in `low` rules the line out either way (as `may_match`): most lines stop
        at that one scan, before the exactness test."""
        if self.trigger_re is None:
            return None
        m = self.trigger_re.search(low)
        if m is None:
            return []
        if not self._exact(text, low):
            return None
        out = []
        while m is not None:
            out.append(m.start())
            m = self.trigger_re.search(low, m.start() + 1)
        return out

    def search(self, text: str, low: str) -> Rule | None:
        """The rule of the leftmost match (as `pattern.search`), or None."""
        needs = self.needs
        if needs is not None and (text.isascii() or self._needs_apply(text, low)):
            for lit in needs:
                if lit in low:
                    break
            else:
                return None  # no pattern can match: the trigger scan would find nothing either
        starts = self._starts(text, low)
        if starts is None:
            if not self.may_match(low):
                return None
            m = self.pattern.search(text)
            return self.rules[int(m.lastgroup[1:])] if m and m.lastgroup else None
        for pos in starts:
            m = self.pattern.match(text, pos)
            if m is not None:
                return self.rules[int(m.lastgroup[1:])] if m.lastgroup else None
        return None

    def finditer(self, text: str, low: str) -> Iterator[re.Match[str]]:
        """The matches `pattern.finditer` yields (non-empty patterns only)."""
        starts = self._starts(text, low)
        if starts is None:
            if self.may_match(low):
                yield from self.pattern.finditer(text)
            return
        end = 0
        for pos in starts:
            if pos < end:
                continue
            m = self.pattern.match(text, pos)
            if m is not None:
                yield m
                end = m.end()


_MAX_TRIGGERS = 24
LINE_SUFFIX = r"\s*[:：.!！?？]?"  # what a whole-line rule allows after its match
LINE_MAX = 160  # longer lines are never whole-line boilerplate


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
        if any(len(c) != 1 for c in chars):
            return _join(out, None)  # the dotted capital I lower-cases to two characters
        out = {p + c for p in out for c in chars}
        if len(out) > _MAX_TRIGGERS:
            return None
    return out


def _join(heads: set[str], tails: set[str] | None) -> set[str] | None:
    if tails is None or not all(tails):
        return heads if all(heads) else None
    joined = {h + t for h in heads for t in tails}
    return joined if len(joined) <= _MAX_TRIGGERS else (heads if all(heads) else None)


@lru_cache(maxsize=4096)
def _parsed(pattern: str) -> list[tuple[object, object]]:
    """A rule pattern parsed as `re.IGNORECASE` compiles it, once per process (each pattern
    sits in several length groups of both script classes). Callers only read it."""
    return list(sre_parse.parse(pattern, re.IGNORECASE))


def _triggers(patterns: list[str]) -> tuple[str, ...] | None:
    found: set[str] = set()
    for p in patterns:
        got = _prefixes(_parsed(p))
        if not got or any(len(t) < 2 and t.isascii() for t in got):
            return None
        found |= got
    return tuple(sorted(found))


def _better(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    """The more selective of two necessary-literal sets: longer shortest string, then fewer."""
    if a is None or not all(a):
        return b if b is not None and all(b) else None
    if b is None or not all(b):
        return a
    ka, kb = (min(map(len, a)), -len(a)), (min(map(len, b)), -len(b))
    return b if kb > ka else a


def _candidates(items: list[tuple[object, object]]) -> Iterator[set[str]]:
    """Literal sets (as written in the pattern), each one alone a valid answer: every match of
    this parsed sequence contains one of its strings. Runs of literals are contiguous in a
    match (zero-width items consume nothing); a group, a repeat of at least one copy and an
    atomic group offer their own sets; a branch offers the union of its alternatives' best."""
    run = ""
    for op, av in items:
        if op is sre_c.LITERAL:
            run += chr(av)  # type: ignore[call-overload,arg-type]
            continue
        if op in _ZERO_WIDTH:
            continue
        if run:
            yield {run}
        run = ""
        if op is sre_c.SUBPATTERN:
            yield from _candidates(list(av[-1]))  # type: ignore[index]
        elif op is sre_c.BRANCH:
            alts = [_needs(list(b)) for b in av[1]]  # type: ignore[index]
            if all(a is not None for a in alts):
                yield set().union(*alts)  # type: ignore[arg-type]
        elif op in _REPEATS:
            lo, _, sub = cast("tuple[int, int, list[tuple[object, object]]]", av)
            if lo >= 1:
                yield from _candidates(list(sub))
        elif _ATOMIC is not None and op is _ATOMIC:
            yield from _candidates(list(cast("list[tuple[object, object]]", av)))
    if run:
        yield {run}


def _needs(items: list[tuple[object, object]]) -> set[str] | None:
    """The most selective of `_candidates` (`_better`; the first of equals), or None."""
    best: set[str] | None = None
    for cand in _candidates(items):
        best = _better(best, cand)
    return best


def _options(items: list[tuple[object, object]]) -> list[set[str]]:
    """Every `_candidates` set made only of selective strings (`_selective`)."""
    return [o for o in _candidates(items) if o and all(_selective(x) for x in o)]


def _selective(lit: str) -> bool:
    """Is a literal rare enough in text to stand in for a pattern's own choice? A word of
    five letters or more, or an ellipsis; not a short word ("buy", "cam" is in "camera"),
    a space, a bracket or a CJK character."""
    if len(lit) >= 5:
        return True
    return not any(c.isalnum() or c.isspace() for c in lit) and (len(lit) >= 3 or not lit.isascii())


def _kept(found: set[str]) -> list[str]:
    """`found` less the strings that contain another one (testing that one suffices)."""
    return [x for x in found if not any(y != x and y in x for y in found)]


def _scan_cost(needles: list[str]) -> int:
    """How dear a needle set is to test on every line: one substring scan per string, and a
    string of one or two ASCII characters ("[", "a") passes most lines, so counts thrice."""
    return sum(3 if len(x) < 3 and x.isascii() else 1 for x in needles)


def _cover(choices: list[list[set[str]]]) -> set[str]:
    """One literal set per pattern (the first of each pattern's `choices` to start with),
    switched while that makes the needed strings cheaper to test: the cookie rules each
    have their own phrase, but all of them hold "cookies", which alone covers every one."""
    picked = [opts[0] for opts in choices]
    costs: dict[frozenset[str], int] = {}  # trials often need the same strings: price them once

    def cost(sets: list[set[str]]) -> int:
        needed = frozenset().union(*sets)
        c = costs.get(needed)
        if c is None:
            c = costs[needed] = _scan_cost(_kept(set(needed)))
        return c

    best = cost(picked)
    improved = True
    while improved:
        improved = False
        for i, opts in enumerate(choices):
            for opt in opts:
                trial = [*picked[:i], opt, *picked[i + 1 :]]
                c = cost(trial)
                if c < best:
                    picked, best, improved = trial, c, True
    return set().union(*picked)


def _simple_lower(ch: str) -> str:
    """The one-character lower case `re.IGNORECASE` compares (`str.lower` may give two)."""
    return chr(_sre.unicode_tolower(ord(ch)))


def literal_needs(patterns: list[str]) -> tuple[tuple[str, ...], str] | None:
    """(strings, risky): wherever one of the patterns (re.IGNORECASE) matches a line that
    holds none of the `risky` characters and lower-cases to a string of its own length,
    `line.lower()` contains one of `strings`. None where some pattern has no necessary
    literal, or where an ASCII character is risky (then the test would rarely apply).

    `re.IGNORECASE` lets a character match a literal where their simple lower cases are
    equal, or are equated by `re`'s case fixes (s and long s): the first kind lower-case
    to the literal's lower case, except where `str.lower` differs from the simple mapping
    (a capital dotted I becomes two characters: the length test; a final capital sigma);
    the case-fix partners and the capital sigma are the risky characters. A string that
    contains another string of the set is redundant. Each pattern offers several valid sets
    (`_options`); `_cover` picks them so that few strings are left to test: every line
    of prose pays one substring scan per string."""
    choices: list[list[set[str]]] = []
    for p in patterns:
        got = _needs(_parsed(p))
        if not got:
            return None
        choices.append(
            [{"".join(_simple_lower(c) for c in lit) for lit in opt} for opt in [got, *_options(_parsed(p))]]
        )
    found = _cover(choices)
    risky: set[str] = set()
    for c in {c for lit in found for c in lit}:
        for fix in _CASE_FIXES.get(ord(c), ()):
            f = chr(fix)
            risky |= {x for x in (f, f.upper(), f.title()) if len(x) == 1 and _simple_lower(x) == f}
        if c in "σς":
            risky.add("\u03a3")
    if any(c.isascii() for c in risky):
        return None
    return tuple(sorted(_kept(found), key=lambda x: (-len(x), x))), "".join(sorted(risky))


def compile_group(rules: list[tuple[Rule, list[str]]], how: str) -> Group | None:
    """how: "line" (used with fullmatch), "start" (used with match), "search"."""
    if not rules:
        return None
    parts = []
    for i, (_, patterns) in enumerate(rules):
        alt = "|".join(f"(?:{p})" for p in patterns)
        parts.append(f"(?P<r{i}>{alt})")
    body = "|".join(parts)
    if how == "line":
        body = rf"(?:{body}){LINE_SUFFIX}"
    elif how == "start":
        body = rf"[\W_]*(?:{body})"
    patterns = [p for _, ps in rules for p in ps]
    triggers = _triggers(patterns) if how == "search" else None
    needs = literal_needs(patterns) if how == "search" else None
    return Group(
        re.compile(body, re.IGNORECASE),
        tuple(r for r, _ in rules),
        triggers,
        needs=needs[0] if needs else None,
        needs_risky=needs[1] if needs else "",
    )


class Dispatch:
    """Anchored rules ("line": fullmatch, "start": match) re-grouped by the first character
    of the line (and for "line" its last one): a line is tried only against the patterns
    that can start (and end) with those, one pattern at a time, each compiled alone.

    That gives what the full alternation gives: an alternation returns the first of its
    alternatives that can complete a match, the patterns left out cannot match, and the
    rest keep their order. Compiling each pattern once (shared by every Dispatch that holds
    it) is far cheaper than compiling an alternation per candidate set, and a pattern alone
    keeps the literal-prefix scans `re` drops for big alternations."""

    __slots__ = ("_rules", "_how", "_units", "_first", "_last", "_sigs", "_rows", "_full")

    def __init__(self, rules: list[tuple[Rule, list[str]]], how: str) -> None:
        self._rules = rules
        self._how = how
        line = how == "line"
        suffix = LINE_SUFFIX if line else ""
        self._units = [
            (rule, unit_pattern(p, suffix), first_matcher(p, suffix), first_matcher(p, suffix, True) if line else None)
            for rule, patterns in rules
            for p in patterns
        ]
        self._first: dict[str, int] = {}  # character -> candidate set id
        self._last: dict[str, int] = {}
        self._sigs: dict[frozenset[int], int] = {}
        # first character's candidate set id -> last character -> candidates (the rows stay
        # few: one per distinct candidate set, not per character)
        self._rows: dict[int, dict[str, tuple[tuple[Rule, re.Pattern[str]], ...]]] = {}
        self._full: Group | None | bool = False  # False: not compiled yet

    @property
    def full(self) -> Group | None:
        """The whole alternation, for reference (matching does not need it)."""
        if self._full is False:
            self._full = compile_group(self._rules, self._how)
        return self._full  # type: ignore[return-value]

    def _sig(self, c: str, slot: int, cache: dict[str, int]) -> int:
        got = cache.get(c)
        if got is None:
            matchers = [u[slot] for u in self._units]
            sig = frozenset(i for i, m in enumerate(matchers) if m is None or m.match(c))  # type: ignore[union-attr]
            got = cache[c] = self._sigs.setdefault(sig, len(self._sigs))
        return got

    def candidates(self, c: str, last: str = "") -> tuple[tuple[Rule, re.Pattern[str]], ...]:
        """(rule, pattern) in rule order for the patterns that can start with c (c = "": can
        match at the end of the line) and, for "line" rules, end with `last`."""
        first = self._first.get(c)
        if first is None:
            first = self._sig(c, 2, self._first)
        row = self._rows.get(first)
        if row is None:
            row = self._rows[first] = {}
        got = row.get(last)
        if got is None:
            end = self._sig(last, 3, self._last) if last else -1
            ids = {v: k for k, v in self._sigs.items()}
            sig = ids[first] & ids[end] if last else ids[first]
            got = row[last] = tuple((u[0], u[1]) for i, u in enumerate(self._units) if i in sig)
        return got

    def match_start(self, stripped: str) -> Rule | None:
        """The rule `full.pattern.match(stripped)` names. Its leading [\\W_]* is greedy: the
        alternation is tried after the whole run of non-word characters (up to _LEAD_REACH of
        them), then after one fewer, down to none; a line that starts with a letter or digit
        has no such run."""
        c = stripped[:1]
        if c.isalnum():
            for rule, pat in self.candidates(c):
                if pat.match(stripped) is not None:
                    return rule
            return None
        lead = min(_LEAD_REACH, _LEAD_NONWORD.match(stripped).end())  # type: ignore[union-attr]
        for k in range(lead, -1, -1):
            for rule, pat in self.candidates(stripped[k : k + 1]):
                if pat.match(stripped, k) is not None:
                    return rule
        return None


_LEAD_NONWORD = re.compile(r"[\W_]*", re.IGNORECASE)  # as the "start" groups' prefix
# Where a start rule's words may begin: within a line's first 200 non-word characters (bullets,
# dashes, a row of "=" above a heading). Each position costs a candidate lookup, so a line of a
# million dots or dashes (a separator gone wild, a blob) took 4 s; it now costs what 200 do.
_LEAD_REACH = 200


@lru_cache(maxsize=4096)
def unit_pattern(pattern: str, suffix: str = "") -> re.Pattern[str]:
    """One rule pattern (then `suffix`) compiled alone, once per process."""
    return re.compile(f"(?:{pattern}){suffix}", re.IGNORECASE)


def fullmatch_rule(disp: Dispatch, stripped: str) -> Rule | None:
    if not stripped:
        return None
    for rule, pat in disp.candidates(stripped[0], stripped[-1]):
        if pat.fullmatch(stripped) is not None:
            return rule
    return None


def start_rule(groups: tuple[tuple[int, Dispatch], ...], stripped: str, units: float) -> Rule | None:
    for limit, disp in groups:
        if units <= limit:
            return disp.match_start(stripped)
    return None
