"""The rubric pattern language: compiled once when content loads, matched against analysed text.

A pattern is a sequence of items separated by spaces (full reference in docs/patterns.md):

====================  =========================================================================
``word``              the word in any inflection: ``decide`` matches decide, decides, deciding
``=word``             exactly this word form (after contractions and texting are expanded)
``(a|b c)``           one of the alternatives; an alternative may be several items
``[a|b c]``           optional: one of the alternatives, or nothing
``@class``            any word of a word class declared in the rubric (``@directive_verb``), any
                      inflection; ``=@class`` only the exact forms listed
``*``                 any one word
``!(a|b)``            any one word except these
``~(a|b c)``          not followed by these (zero-width; also true at the end of a sentence)
``...``               a gap of up to 3 words; ``..N`` a gap of up to N words
``$``                 the clause ends here (zero-width: a comma, "but", or the sentence end follows)
``^``                 (first item only) the match starts a clause or sentence, after fillers
                      like "ok", "so", "well"
====================  =========================================================================

Matching works on normalised terms (see :mod:`coach.domain.text`): "won't" is "will not",
"u" is "you". A match never crosses a sentence boundary.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from coach.domain.text import Analysis, Term, analyse, stem

DEFAULT_GAP = 3


class PatternSyntaxError(ValueError):
    """A pattern string is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Word:
    stems: frozenset[str]
    exact: bool
    """Compare the word form, not the stem."""
    forms: frozenset[str]

    def accepts(self, term: Term) -> bool:
        return term.norm in self.forms if self.exact else term.stem in self.stems


@dataclass(frozen=True, slots=True)
class AnyWord:
    excluded_stems: frozenset[str]

    def accepts(self, term: Term) -> bool:
        return term.stem not in self.excluded_stems


@dataclass(frozen=True, slots=True)
class Gap:
    most: int


@dataclass(frozen=True, slots=True)
class Choice:
    options: tuple[tuple[Node, ...], ...]
    optional: bool


@dataclass(frozen=True, slots=True)
class NotFollowedBy:
    options: tuple[tuple[Node, ...], ...]


@dataclass(frozen=True, slots=True)
class Anchor:
    pass


@dataclass(frozen=True, slots=True)
class ClauseEnd:
    pass


Node = Word | AnyWord | Gap | Choice | NotFollowedBy | Anchor | ClauseEnd


@dataclass(slots=True)
class PatternMatch:
    """Where a pattern matched (read-only by convention; plain and slotted because evaluation
    builds many of them)."""

    first: int
    """Index of the first term matched."""
    last: int
    """Index of the last term matched (inclusive)."""
    pattern: Pattern | None
    """The pattern that matched, or None for a span a detector found."""

    def written(self, term: Term) -> bool:
        """True when ``term`` was matched by a word written in the pattern (not a gap or wildcard)."""
        pattern = self.pattern
        return pattern is not None and (
            term.stem in pattern.literal_stems or term.norm in pattern.literal_forms
        )


@dataclass(frozen=True, slots=True)
class Starts:
    """Which terms can begin a match: a fast pre-filter so most patterns never run."""

    stems: frozenset[str]
    forms: frozenset[str]


@dataclass(frozen=True, slots=True)
class Pattern:
    source: str
    nodes: tuple[Node, ...]
    anchored: bool
    starts: Starts | None
    """None when any word can begin a match (a pattern that starts with ``*`` or ``!( )``)."""
    needs: tuple[tuple[frozenset[str], frozenset[str]], ...]
    """(stems, forms) pairs of which the text must hold at least one word each, or the
    pattern cannot match; plain pairs because the hot path reads them for every report."""
    regex: re.Pattern[str]
    """The pattern compiled over the encoded text: the C regex engine does the matching."""
    literal_stems: frozenset[str]
    literal_forms: frozenset[str]
    longest: int
    """The most terms a match can span."""

    def vocabulary(self) -> Iterator[str]:
        """Every literal word form the pattern names, for typo correction."""
        yield from _vocabulary(self.nodes)

    def find(self, analysis: Analysis) -> list[PatternMatch]:
        """Matches left to right, not overlapping, never across a sentence boundary."""
        return self.scan(analysis) if self.possible(analysis) else []

    def possible(self, analysis: Analysis) -> bool:
        """False when a word the pattern cannot do without is missing from the reply."""
        stems, norms = analysis.stems, analysis.norms
        for need_stems, need_forms in self.needs:
            if need_stems.isdisjoint(stems) and need_forms.isdisjoint(norms):
                return False
        return True

    def scan(self, analysis: Analysis, ends: Sequence[int] | None = None) -> list[PatternMatch]:
        """:meth:`find` for a caller that already knows the mandatory words are present.

        ``ends``, when known, are term indices (ascending) of which every match includes one
        (the automaton's reports): only starts fewer than ``longest`` terms before one are tried.
        """
        terms = analysis.terms
        offsets = analysis.token_starts
        positions: Iterable[int]
        starts = self.starts
        if ends is not None:
            reach = self.longest
            if len(ends) == 1:
                window: Iterable[int] = range(max(0, ends[0] - reach + 1), ends[0] + 1)
            else:
                window = sorted({i for end in ends for i in range(max(0, end - reach + 1), end + 1)})
            if starts is None:
                positions = window
            else:
                stems, forms = starts.stems, starts.forms
                positions = [i for i in window if terms[i].stem in stems or terms[i].norm in forms]
        elif starts is None:
            positions = range(len(terms))
        else:
            by_stem, by_norm = analysis.by_stem, analysis.by_norm
            found = [i for key in starts.stems if key in by_stem for i in by_stem[key]]
            found += [i for key in starts.forms if key in by_norm for i in by_norm[key]]
            positions = sorted(set(found)) if len(found) > 1 else found
        matches: list[PatternMatch] = []
        after = 0
        encoded = analysis.encoded
        match = self.regex.match
        for first in positions:
            if first < after or (self.anchored and not terms[first].clause_start):
                continue
            # Matching only where a match can begin keeps the C regex from scanning every character.
            hit = match(encoded, offsets[first])
            if hit is None:
                continue
            end = hit.end()
            if end == offsets[first]:
                continue
            last = bisect_right(offsets, end - 1) - 1
            matches.append(PatternMatch(first, last, self))
            after = last + 1
        return matches


# One term of the encoded text (see Analysis.encoded in coach.domain.text): "[^]stem/norm ".
_TERM = r"\^?[^ /|]+/[^ ]+ "


def _alternation(words: frozenset[str]) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w))) + ")"


def _regex(nodes: tuple[Node, ...]) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, Word):
            if node.exact:
                parts.append(r"\^?[^ /|]+/" + _alternation(node.forms) + " ")
            else:
                parts.append(r"\^?" + _alternation(node.stems) + "/[^ ]+ ")
        elif isinstance(node, AnyWord):
            guard = r"(?!\^?" + _alternation(node.excluded_stems) + "/)" if node.excluded_stems else ""
            parts.append(guard + _TERM)
        elif isinstance(node, Gap):
            parts.append(f"(?:{_TERM}){{0,{node.most}}}")
        elif isinstance(node, Choice):
            inner = "|".join(_regex(option) for option in node.options)
            parts.append(f"(?:{inner})" + ("?" if node.optional else ""))
        elif isinstance(node, NotFollowedBy):
            parts.append("(?!" + "|".join(_regex(option) for option in node.options) + ")")
        elif isinstance(node, ClauseEnd):
            # The next term starts a clause ("^") or there is none in this sentence.
            parts.append(r"(?=\^|\| |$)")
    return "".join(parts)


def _starts(nodes: tuple[Node, ...]) -> Starts | None:
    """The words that can begin ``nodes``, or None if any word can."""
    stems: set[str] = set()
    forms: set[str] = set()
    for index, node in enumerate(nodes):
        if isinstance(node, Word):
            (forms if node.exact else stems).update(node.forms if node.exact else node.stems)
            return Starts(frozenset(stems), frozenset(forms))
        if isinstance(node, AnyWord):
            return None
        if isinstance(node, Choice):
            for option in node.options:
                inner = _starts(option + nodes[index + 1 :])
                if inner is None:
                    return None
                stems |= inner.stems
                forms |= inner.forms
            if not node.optional:
                return Starts(frozenset(stems), frozenset(forms))
        # Gaps, anchors and look-aheads consume nothing: keep looking at what follows.
    return Starts(frozenset(stems), frozenset(forms))


def _requirements(nodes: tuple[Node, ...]) -> tuple[Starts, ...]:
    """One word set per mandatory item: a word of each must appear somewhere in the text."""
    needs: list[Starts] = []
    for node in nodes:
        if isinstance(node, Word):
            needs.append(
                Starts(frozenset() if node.exact else node.stems, node.forms if node.exact else frozenset())
            )
        elif isinstance(node, Choice) and not node.optional:
            options = [_starts(option) for option in node.options]
            # An option that can match no word at all ("(a|$)", "(a|[b])") means the choice
            # requires nothing.
            if not any(nullable(option) for option in node.options) and all(
                o is not None and (o.stems or o.forms) for o in options
            ):
                needs.append(
                    Starts(
                        frozenset().union(*(o.stems for o in options if o is not None)),
                        frozenset().union(*(o.forms for o in options if o is not None)),
                    )
                )
    return tuple(needs)


def nullable(nodes: Sequence[Node]) -> bool:
    """True when ``nodes`` can match without consuming a single term."""
    for node in nodes:
        if isinstance(node, Word | AnyWord):
            return False
        if isinstance(node, Choice) and not node.optional and not any(nullable(o) for o in node.options):
            return False
    return True


def _vocabulary(nodes: tuple[Node, ...]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, Word):
            yield from node.forms
        elif isinstance(node, Choice):
            for option in node.options:
                yield from _vocabulary(option)


class _Parser:
    def __init__(self, source: str, classes: Mapping[str, frozenset[str]]) -> None:
        self.source = source
        self.classes = classes
        self.tokens = _lex(source)
        self.at = 0

    def error(self, message: str) -> PatternSyntaxError:
        return PatternSyntaxError(f"{message} in pattern {self.source!r}")

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def sequence(self, closers: frozenset[str]) -> tuple[Node, ...]:
        nodes: list[Node] = []
        while (token := self.peek()) is not None and token not in closers:
            nodes.append(self.item())
        return tuple(nodes)

    def alternatives(self, closer: str) -> tuple[tuple[Node, ...], ...]:
        options = [self.sequence(frozenset({"|", closer}))]
        while self.peek() == "|":
            self.take()
            options.append(self.sequence(frozenset({"|", closer})))
        if self.peek() != closer:
            raise self.error(f"missing {closer!r}")
        self.take()
        if any(not option for option in options):
            raise self.error("empty alternative")
        return tuple(options)

    def item(self) -> Node:
        token = self.take()
        if token == "(":
            return Choice(self.alternatives(")"), optional=False)
        if token == "[":
            return Choice(self.alternatives("]"), optional=True)
        if token == "!(":
            words = self.alternatives(")")
            stems: set[str] = set()
            for option in words:
                if len(option) != 1 or not isinstance(option[0], Word):
                    raise self.error("!( ) takes single words only")
                stems |= option[0].stems
            return AnyWord(frozenset(stems))
        if token == "~(":
            return NotFollowedBy(self.alternatives(")"))
        if token == "*":
            return AnyWord(frozenset())
        if token == "^":
            raise self.error("'^' may only start a pattern")
        if token.startswith(".."):
            if token == "...":
                return Gap(DEFAULT_GAP)
            count = token[2:]
            if not count.isdigit() or not 0 < int(count) <= 12:
                raise self.error(f"bad gap {token!r} (use ... or ..N with N from 1 to 12)")
            return Gap(int(count))
        if token == "$":
            return ClauseEnd()
        if token.startswith(("@", "=@")):
            exact = token.startswith("=")
            name = token[2:] if exact else token[1:]
            if name not in self.classes:
                raise self.error(f"unknown word class @{name}")
            forms = self.classes[name]
            return Word(stems=frozenset(stem(w) for w in forms), exact=exact, forms=forms)
        if token in {")", "]", "|"}:
            raise self.error(f"unexpected {token!r}")
        exact = token.startswith("=")
        word = token[1:] if exact else token
        if not word or not all(part.isalnum() for part in word.split("'")):
            raise self.error(f"bad word {token!r}")
        word = word.lower()
        return Word(stems=frozenset({stem(word)}), exact=exact, forms=frozenset({word}))


def _lex(source: str) -> list[str]:
    tokens: list[str] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch.isspace():
            i += 1
        elif source.startswith(("!(", "~("), i):
            tokens.append(source[i : i + 2])
            i += 2
        elif ch in "()[]|*^$":
            tokens.append(ch)
            i += 1
        else:
            j = i
            while j < len(source) and not source[j].isspace() and source[j] not in "()[]|*^$":
                j += 1
            tokens.append(source[i:j])
            i = j
    return tokens


def compile_pattern(source: str, classes: Mapping[str, frozenset[str]] | None = None) -> Pattern:
    """Compile one pattern string; raises :class:`PatternSyntaxError` with the reason."""
    parser = _Parser(source, classes or {})
    anchored = parser.peek() == "^"
    if anchored:
        parser.take()
    nodes = parser.sequence(frozenset())
    if not nodes:
        raise parser.error("empty pattern")
    if isinstance(nodes[0], Gap | NotFollowedBy | ClauseEnd) or isinstance(nodes[-1], Gap):
        raise parser.error("a pattern cannot start or end with a gap")
    expanded = _merge_choices(_expand_words(nodes))
    words = list(_words(expanded))
    return Pattern(
        source=source,
        nodes=expanded,
        anchored=anchored,
        starts=_starts(expanded),
        needs=tuple((need.stems, need.forms) for need in _requirements(expanded)),
        regex=re.compile(_regex(expanded)),
        literal_stems=frozenset(s for w in words if not w.exact for s in w.stems),
        literal_forms=frozenset(f for w in words if w.exact for f in w.forms),
        longest=_longest(expanded),
    )


def _longest(nodes: tuple[Node, ...]) -> int:
    total = 0
    for node in nodes:
        if isinstance(node, Word | AnyWord):
            total += 1
        elif isinstance(node, Gap):
            total += node.most
        elif isinstance(node, Choice):
            total += max(_longest(option) for option in node.options)
    return total


def _merge_choices(nodes: tuple[Node, ...]) -> tuple[Node, ...]:
    """Fold one-word alternatives into a single word test: "(a|b|c d)" becomes "([a b]|c d)".

    The regex then tries one alternation of words instead of one branch per word, which
    compiles and matches far faster for the long alternatives rubric authors write.
    """
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, Choice | NotFollowedBy):
            options = [_merge_choices(option) for option in node.options]
            merged: list[tuple[Node, ...]] = []
            for exact in (False, True):
                singles = [
                    o[0] for o in options if len(o) == 1 and isinstance(o[0], Word) and o[0].exact == exact
                ]
                if len(singles) > 1:
                    words = [w for w in singles if isinstance(w, Word)]
                    merged.append(
                        (
                            Word(
                                stems=frozenset().union(*(w.stems for w in words)),
                                exact=exact,
                                forms=frozenset().union(*(w.forms for w in words)),
                            ),
                        )
                    )
                elif singles:
                    merged.append((singles[0],))
            merged += [o for o in options if not (len(o) == 1 and isinstance(o[0], Word))]
            if isinstance(node, Choice):
                out.append(Choice(tuple(merged), node.optional))
            else:
                out.append(NotFollowedBy(tuple(merged)))
        else:
            out.append(node)
    return tuple(out)


def _words(nodes: tuple[Node, ...]) -> Iterator[Word]:
    for node in nodes:
        if isinstance(node, Word):
            yield node
        elif isinstance(node, Choice | NotFollowedBy):
            for option in node.options:
                yield from _words(option)


def _expand_words(nodes: tuple[Node, ...]) -> tuple[Node, ...]:
    """Let a pattern word written as a contraction ("don't") match its expansion ("do not")."""
    out: list[Node] = []
    for node in nodes:
        if isinstance(node, Word) and not node.exact and len(node.forms) == 1:
            (form,) = node.forms
            expanded = [t.norm for t in analyse(form).terms]
            if len(expanded) > 1 or (expanded and expanded[0] != form):
                out.extend(
                    Word(stems=frozenset({stem(w)}), exact=False, forms=frozenset({w})) for w in expanded
                )
                continue
            out.append(node)
        elif isinstance(node, Choice):
            out.append(Choice(tuple(_expand_words(o) for o in node.options), node.optional))
        elif isinstance(node, NotFollowedBy):
            out.append(NotFollowedBy(tuple(_expand_words(o) for o in node.options)))
        else:
            out.append(node)
    return tuple(out)
