"""The rubric pattern language: compiled once when content loads, matched against analysed text.

A pattern is a sequence of items separated by spaces (full reference in docs/patterns.md):

====================  =========================================================================
``word``              the word in any inflection: ``decide`` matches decide, decides, deciding
``=word``             exactly this word form (after contractions and texting are expanded)
``(a|b c)``           one of the alternatives; an alternative may be several items
``[a|b c]``           optional: one of the alternatives, or nothing
``@class``            any word of a word class declared in the rubric (``@directive_verb``)
``*``                 any one word
``!(a|b)``            any one word except these
``~(a|b c)``          not followed by these (zero-width; also true at the end of a sentence)
``...``               a gap of up to 3 words; ``..N`` a gap of up to N words
``^``                 (first item only) the match starts a clause or sentence, after fillers
                      like "ok", "so", "well"
====================  =========================================================================

Matching works on normalised terms (see :mod:`coach.domain.text`): "won't" is "will not",
"u" is "you". A match never crosses a sentence boundary.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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


Node = Word | AnyWord | Gap | Choice | NotFollowedBy | Anchor


@dataclass(frozen=True, slots=True)
class PatternMatch:
    first: int
    """Index of the first term matched."""
    last: int
    """Index of the last term matched (inclusive)."""
    literal: frozenset[int]
    """Indices of terms matched by words written in the pattern (not by gaps or wildcards)."""


@dataclass(frozen=True, slots=True)
class Pattern:
    source: str
    nodes: tuple[Node, ...]
    anchored: bool

    def vocabulary(self) -> Iterator[str]:
        """Every literal word form the pattern names, for typo correction."""
        yield from _vocabulary(self.nodes)

    def find(self, analysis: Analysis) -> Iterator[PatternMatch]:
        """Yield the longest match starting at each term, left to right, not overlapping."""
        terms = analysis.terms
        position = 0
        while position < len(terms):
            best: PatternMatch | None = None
            if not self.anchored or terms[position].clause_start:
                for end, literal in _match(self.nodes, 0, terms, position, terms[position].sentence, ()):
                    if end > position and (best is None or end - 1 > best.last):
                        best = PatternMatch(first=position, last=end - 1, literal=frozenset(literal))
            if best is not None:
                yield best
                position = best.last + 1
            else:
                position += 1


def _vocabulary(nodes: tuple[Node, ...]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, Word):
            yield from node.forms
        elif isinstance(node, Choice):
            for option in node.options:
                yield from _vocabulary(option)


def _match(
    nodes: tuple[Node, ...],
    index: int,
    terms: tuple[Term, ...],
    position: int,
    sentence: int,
    literal: tuple[int, ...],
) -> Iterator[tuple[int, tuple[int, ...]]]:
    """Yield (end position, literal term indices) for every way ``nodes[index:]`` matches."""
    if index == len(nodes):
        yield position, literal
        return
    node = nodes[index]
    if isinstance(node, Word | AnyWord):
        if position < len(terms) and terms[position].sentence == sentence and node.accepts(terms[position]):
            extra = (position,) if isinstance(node, Word) else ()
            yield from _match(nodes, index + 1, terms, position + 1, sentence, literal + extra)
    elif isinstance(node, Gap):
        for skip in range(node.most + 1):
            end = position + skip
            if end > len(terms) or (skip and terms[end - 1].sentence != sentence):
                break
            yield from _match(nodes, index + 1, terms, end, sentence, literal)
    elif isinstance(node, Choice):
        for option in node.options:
            yield from _match(option + nodes[index + 1 :], 0, terms, position, sentence, literal)
        if node.optional:
            yield from _match(nodes, index + 1, terms, position, sentence, literal)
    elif isinstance(node, NotFollowedBy):
        blocked = any(
            next(_match(option, 0, terms, position, sentence, ()), None) is not None for option in node.options
        )
        if not blocked:
            yield from _match(nodes, index + 1, terms, position, sentence, literal)
    else:  # Anchor inside a pattern is rejected at compile time; nothing to do here.
        yield from _match(nodes, index + 1, terms, position, sentence, literal)


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
        if token.startswith("@"):
            name = token[1:]
            if name not in self.classes:
                raise self.error(f"unknown word class @{name}")
            forms = self.classes[name]
            return Word(stems=frozenset(stem(w) for w in forms), exact=False, forms=forms)
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
        elif ch in "()[]|*^":
            tokens.append(ch)
            i += 1
        else:
            j = i
            while j < len(source) and not source[j].isspace() and source[j] not in "()[]|*^":
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
    if isinstance(nodes[0], Gap | NotFollowedBy) or isinstance(nodes[-1], Gap):
        raise parser.error("a pattern cannot start or end with a gap")
    return Pattern(source=source, nodes=_expand_words(nodes), anchored=anchored)


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
