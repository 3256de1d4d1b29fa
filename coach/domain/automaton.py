"""Run every rubric pattern over a reply at once, one step per term.

Trying well over a thousand patterns one by one costs a regex scan each. Instead, when content loads,
each pattern is represented by its rarest run of words between gaps (see :func:`_core`),
and all of these compile into one token-level automaton (a Glushkov NFA, one position per
word a run names). It is turned into a DFA lazily, the way RE2 does it: each step from a
state on a class of term is worked out the first time it is needed and remembered, so a
reply costs about one dictionary lookup per term.

Terms are reduced to classes first: a term's class is the set of word tests it passes, so
the thousands of words no pattern names all share one class and the cache stays small.

The automaton is a filter that may say yes too often but never too rarely: every match of
a pattern contains a match of its run, and look-aheads (``~( )``, ``$``) are ignored, which
only lets more through. The patterns it reports are confirmed, with exact spans, by their
own regex (:meth:`Pattern.scan`), tried only near where their run was seen.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from coach.domain.lexicon import FUNCTION_WORDS
from coach.domain.patterns import (
    AnyWord,
    Choice,
    ClauseEnd,
    Gap,
    Node,
    NotFollowedBy,
    Pattern,
    Word,
    nullable,
)
from coach.domain.text import Analysis

MAX_STATES = 50_000
"""Remembered DFA states or advances before the cache starts afresh, with four times as many
term classes' words: bounds memory on hostile input (say, replies of random letters)."""

_Atom = tuple[str, frozenset[str]]
"""What one NFA position tests: ("stem", stems), ("form", word forms) or ("except", stems)."""


@dataclass(frozen=True, slots=True)
class _Glushkov:
    first: frozenset[int]
    last: frozenset[int]
    nullable: bool


_EMPTY = _Glushkov(frozenset(), frozenset(), True)


_Successors = tuple[dict[int, list[int]], frozenset[int], list[int], frozenset[int]]
"""A set of positions' next positions by the word test they need, and those tests; the next
positions any word passes but a listed few, and their atoms."""


@dataclass
class _Cache:
    """The lazily built DFA. Replaced whole when it grows too big, so readers never see it shrink.

    The positions alive after a term are of two kinds: matches the term may have begun (a
    function of the term's class alone) and matches already in progress that it advanced.
    A DFA state is the pair (the class's starts, the advanced set), each an interned set of
    positions ("part") whose successors are indexed once. A step advances both parts, and
    each advance is remembered against only the word tests that part is waiting for, so a
    reply never seen before mostly meets work already done.
    """

    symbols: dict[tuple[str, str, bool], int] = field(default_factory=dict)
    symbol_ids: dict[tuple[frozenset[int], frozenset[int], bool], int] = field(default_factory=dict)
    symbol_sets: list[tuple[frozenset[int], frozenset[int], bool]] = field(default_factory=list)
    symbol_starts: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)
    """Per term class: the part of positions where a match may begin on it, and the patterns
    that such a one-term match completes."""
    part_ids: dict[frozenset[int], int] = field(default_factory=lambda: {frozenset(): 0})
    parts: list[frozenset[int]] = field(default_factory=lambda: [frozenset()])
    successors: list[_Successors | None] = field(default_factory=lambda: [None])
    advances: dict[tuple[int, frozenset[int], frozenset[int]], tuple[int, tuple[int, ...]]] = field(
        default_factory=dict
    )
    unions: dict[tuple[int, int], int] = field(default_factory=dict)
    state_ids: dict[tuple[int, int], int] = field(default_factory=lambda: {(0, 0): 0})
    states: list[tuple[int, int]] = field(default_factory=lambda: [(0, 0)])
    steps: list[dict[int, tuple[int, tuple[int, ...]]]] = field(default_factory=lambda: [{}])


class PatternAutomaton:
    """Which of ``patterns`` can match a reply, found in one pass over its terms."""

    def __init__(self, patterns: Sequence[Pattern], sample: Sequence[Analysis] = ()) -> None:
        """``sample`` is a handful of typical replies (a rubric's examples): how often each
        word occurs in them tells which stretch of a pattern is rarest, and so best to look for."""
        rarity = _Rarity(sample)
        self._atom_ids: dict[_Atom, int] = {}
        self._atom_is_except: list[bool] = []
        self._atoms_by_stem: dict[str, set[int]] = {}
        self._atoms_by_form: dict[str, set[int]] = {}
        self._excepting: dict[str, set[int]] = {}
        """For each stem, the "any word except" atoms it fails."""
        self._position_atom: list[int] = []
        self._position_pattern: list[int] = []
        self._follow: list[set[int]] = []
        self._final: set[int] = set()
        self._starts_by_atom: dict[int, list[int]] = {}
        self._anchored_starts_by_atom: dict[int, list[int]] = {}
        self._except_starts: list[int] = []
        self._anchored_except_starts: list[int] = []
        for index, pattern in enumerate(patterns):
            nodes, anchored = _core(pattern.nodes, pattern.anchored, rarity)
            shape = self._sequence(nodes, index)
            self._final |= shape.last
            for position in shape.first:
                atom = self._position_atom[position]
                if self._atom_is_except[atom]:
                    starts = self._anchored_except_starts if anchored else self._except_starts
                    starts.append(position)
                else:
                    table = self._anchored_starts_by_atom if anchored else self._starts_by_atom
                    table.setdefault(atom, []).append(position)
        self._frozen_follow = [frozenset(f) for f in self._follow]
        self._lock = threading.Lock()
        self._cache = _Cache()

    # -- construction ---------------------------------------------------------------------

    def _atom(self, key: _Atom) -> int:
        if key in self._atom_ids:
            return self._atom_ids[key]
        atom = len(self._atom_is_except)
        self._atom_ids[key] = atom
        kind, words = key
        self._atom_is_except.append(kind == "except")
        index = {"stem": self._atoms_by_stem, "form": self._atoms_by_form, "except": self._excepting}[kind]
        for word in words:
            index.setdefault(word, set()).add(atom)
        return atom

    def _position(self, atom: int, pattern: int) -> _Glushkov:
        position = len(self._position_atom)
        self._position_atom.append(atom)
        self._position_pattern.append(pattern)
        self._follow.append(set())
        only = frozenset({position})
        return _Glushkov(only, only, False)

    def _sequence(self, nodes: Iterable[Node], pattern: int) -> _Glushkov:
        first: set[int] = set()
        last: set[int] = set()
        nullable = True
        for node in nodes:
            item = self._item(node, pattern)
            if item is _EMPTY:
                continue
            for position in last:
                self._follow[position] |= item.first
            if nullable:
                first |= item.first
            last = (last | item.last) if item.nullable else set(item.last)
            nullable = nullable and item.nullable
        return _Glushkov(frozenset(first), frozenset(last), nullable)

    def _item(self, node: Node, pattern: int) -> _Glushkov:
        if isinstance(node, Word):
            key: _Atom = ("form", node.forms) if node.exact else ("stem", node.stems)
            return self._position(self._atom(key), pattern)
        if isinstance(node, AnyWord):
            return self._position(self._atom(("except", node.excluded_stems)), pattern)
        if isinstance(node, Gap):
            # "up to N words" is N optional wildcards in a row.
            wildcard = Choice(((AnyWord(frozenset()),),), optional=True)
            return self._sequence([wildcard] * node.most, pattern)
        if isinstance(node, Choice):
            shapes = [self._sequence(option, pattern) for option in node.options]
            return _Glushkov(
                frozenset().union(*(s.first for s in shapes)),
                frozenset().union(*(s.last for s in shapes)),
                node.optional or any(s.nullable for s in shapes),
            )
        # Look-aheads and clause ends consume no term; ignoring them only lets more through.
        return _EMPTY

    # -- matching -------------------------------------------------------------------------

    def matching(self, analysis: Analysis) -> dict[int, list[int]]:
        """The patterns that may match ``analysis`` (never one too few), by index, each with
        the indices of the terms where its run ended: every match includes one of them."""
        cache = self._cache
        if max(len(cache.states), len(cache.advances), len(cache.symbols) // 4) > MAX_STATES:
            with self._lock:
                if self._cache is cache:
                    self._cache = _Cache()
                cache = self._cache
        symbols, steps = cache.symbols, cache.steps
        found: dict[int, list[int]] = {}
        state = 0
        sentence = 0
        for position, term in enumerate(analysis.terms):
            if term.sentence != sentence:
                # A match never crosses a sentence boundary.
                state, sentence = 0, term.sentence
            symbol = symbols.get((term.stem, term.norm, term.clause_start))
            if symbol is None:
                symbol = self._symbol(cache, term.stem, term.norm, term.clause_start)
            step = steps[state].get(symbol)
            if step is None:
                step = self._step(cache, state, symbol)
            state, accepted = step
            for pattern in accepted:
                if pattern in found:
                    found[pattern].append(position)
                else:
                    found[pattern] = [position]
        return found

    def _symbol(self, cache: _Cache, stem: str, norm: str, clause_start: bool) -> int:
        satisfied = frozenset(self._atoms_by_stem.get(stem, set()) | self._atoms_by_form.get(norm, set()))
        failed = frozenset(self._excepting.get(stem, ()))
        key = (satisfied, failed, clause_start)
        with self._lock:
            symbol = cache.symbol_ids.get(key)
            if symbol is None:
                symbol = len(cache.symbol_sets)
                starts = self._starts_on(satisfied, failed, clause_start)
                cache.symbol_ids[key] = symbol
                cache.symbol_sets.append(key)
                cache.symbol_starts.append((self._part(cache, starts), self._completed(starts)))
            cache.symbols[(stem, norm, clause_start)] = symbol
        return symbol

    def _part(self, cache: _Cache, positions: frozenset[int]) -> int:
        """The id of an interned set of positions (callers hold the lock)."""
        part = cache.part_ids.get(positions)
        if part is None:
            part = len(cache.parts)
            cache.part_ids[positions] = part
            cache.parts.append(positions)
            cache.successors.append(None)
        return part

    def _completed(self, positions: Iterable[int]) -> tuple[int, ...]:
        return tuple(sorted({self._position_pattern[q] for q in positions if q in self._final}))

    def _starts_on(
        self, satisfied: frozenset[int], failed: frozenset[int], clause_start: bool
    ) -> frozenset[int]:
        starts: set[int] = set()
        for atom in satisfied:
            starts.update(self._starts_by_atom.get(atom, ()))
            if clause_start:
                starts.update(self._anchored_starts_by_atom.get(atom, ()))
        atom_of = self._position_atom
        starts.update(q for q in self._except_starts if atom_of[q] not in failed)
        if clause_start:
            starts.update(q for q in self._anchored_except_starts if atom_of[q] not in failed)
        return frozenset(starts)

    def _successors(self, positions: frozenset[int]) -> _Successors:
        by_atom: dict[int, list[int]] = {}
        excepting: list[int] = []
        for position in positions:
            for successor in self._frozen_follow[position]:
                atom = self._position_atom[successor]
                if self._atom_is_except[atom]:
                    excepting.append(successor)
                else:
                    by_atom.setdefault(atom, []).append(successor)
        return by_atom, frozenset(by_atom), excepting, frozenset(self._position_atom[q] for q in excepting)

    def _advance(
        self, cache: _Cache, part: int, satisfied: frozenset[int], failed: frozenset[int]
    ) -> tuple[int, tuple[int, ...]]:
        """Where the matches in progress in ``part`` go on a term of this class."""
        if part == 0:
            return 0, ()
        successors = cache.successors[part]
        if successors is None:
            successors = cache.successors[part] = self._successors(cache.parts[part])
        by_atom, waiting, excepting, except_atoms = successors
        # Only the word tests this part waits for matter to how it advances.
        needed = satisfied & waiting
        refused = failed & except_atoms if failed else frozenset()
        key = (part, needed, refused)
        known = cache.advances.get(key)
        if known is None:
            atom_of = self._position_atom
            moved = {q for atom in needed for q in by_atom[atom]}
            moved.update(q for q in excepting if atom_of[q] not in refused)
            with self._lock:
                known = (self._part(cache, frozenset(moved)), self._completed(moved))
            cache.advances[key] = known
        return known

    def _step(self, cache: _Cache, state: int, symbol: int) -> tuple[int, tuple[int, ...]]:
        satisfied, failed, _ = cache.symbol_sets[symbol]
        starts, completed = cache.symbol_starts[symbol]
        begun, advanced = cache.states[state]
        first, first_completed = self._advance(cache, begun, satisfied, failed)
        second, second_completed = self._advance(cache, advanced, satisfied, failed)
        if first_completed or second_completed:
            completed = tuple(sorted({*completed, *first_completed, *second_completed}))
        with self._lock:
            if not first or not second:
                moved = first or second
            else:
                moved = cache.unions.get((first, second), -1)
                if moved < 0:
                    moved = self._part(cache, cache.parts[first] | cache.parts[second])
                    cache.unions[(first, second)] = moved
            target = cache.state_ids.get((starts, moved))
            if target is None:
                target = len(cache.states)
                cache.state_ids[(starts, moved)] = target
                cache.states.append((starts, moved))
                cache.steps.append({})
            step = (target, completed)
            cache.steps[state][symbol] = step
        return step


def _skippable(node: Node) -> bool:
    return isinstance(node, AnyWord | Gap | NotFollowedBy | ClauseEnd) or (
        isinstance(node, Choice) and node.optional
    )


class _Rarity:
    """How likely a term is to satisfy a pattern item, estimated from sample replies."""

    def __init__(self, sample: Sequence[Analysis]) -> None:
        self._share: dict[str, float] = {}
        for analysis in sample:
            seen = {f"s:{t.stem}" for t in analysis.terms} | {f"f:{t.norm}" for t in analysis.terms}
            for key in seen:
                self._share[key] = self._share.get(key, 0.0) + 1.0 / len(sample)
        self._unseen = 0.5 / len(sample) if sample else 0.01

    def word(self, word: Word) -> float:
        keys = [f"f:{f}" for f in word.forms] if word.exact else [f"s:{s}" for s in word.stems]
        chance = sum(self._share.get(key, self._unseen) for key in keys)
        if any(form in FUNCTION_WORDS for form in word.forms):
            chance = max(chance, 0.5)
        return min(1.0, chance)

    def item(self, node: Node) -> float:
        if isinstance(node, Word):
            return self.word(node)
        if isinstance(node, Choice) and not node.optional:
            return min(1.0, sum(self.sequence(option) for option in node.options))
        return 1.0

    def sequence(self, nodes: Sequence[Node]) -> float:
        chance = 1.0
        for node in nodes:
            chance *= self.item(node)
        return chance


def _core(nodes: tuple[Node, ...], anchored: bool, rarity: _Rarity) -> tuple[tuple[Node, ...], bool]:
    """The stretch of a pattern the automaton looks for: its rarest run of items between gaps.

    Every match of a pattern contains a match of each of its runs without a gap, so filtering
    on one misses nothing. A run holds no gap, so few NFA positions of each pattern are alive
    at once and the DFA's states recur even on replies never seen before; the rarest run
    keeps the patterns the regex must then check few. Wildcards and optional words at either
    end of a run are trimmed, as they only keep positions alive. An anchor belongs to the
    pattern's first word, so it stays only if that word does.
    """
    best: tuple[float, int, int] | None = None
    begin = 0
    # A run that can match no term at all ("(really|$)") would never reach a final position,
    # so such runs are never chosen; with no other run the whole pattern is looked for.
    for index, node in enumerate((*nodes, Gap(0))):
        if not isinstance(node, Gap):
            continue
        first, end = begin, index
        begin = index + 1
        while first < end and _skippable(nodes[first]):
            first += 1
        while end > first and _skippable(nodes[end - 1]):
            end -= 1
        if first < end and not nullable(nodes[first:end]):
            chance = rarity.sequence(nodes[first:end])
            if best is None or chance < best[0]:
                best = (chance, first, end)
    if best is None:
        return nodes, anchored
    _, begin, end = best
    return nodes[begin:end], anchored and begin == 0
