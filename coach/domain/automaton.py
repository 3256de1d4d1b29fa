"""Run every rubric pattern over a reply at once, one step per term.

Trying 1,400 patterns one by one costs a regex scan each. Instead, all patterns compile
into one token-level automaton (a Glushkov NFA, one position per word a pattern names),
which is turned lazily into a DFA the way RE2 does it: a DFA state is the set of NFA
positions alive after a term, and each (state, term class) step is worked out the first
time it is needed and remembered. A reply then costs one dictionary lookup per term.

Terms are reduced to classes first: a term's class is the set of pattern words it
satisfies, so the thousands of words no pattern names all share one class and the cache
stays small.

The automaton is a filter that may say yes too often but never too rarely: it ignores the
zero-width items (``~( )`` and ``$``), which only ever remove matches. Patterns it reports
are confirmed, with exact spans, by their own regex (:meth:`Pattern.scan`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from coach.domain.patterns import AnyWord, Choice, Gap, Node, Pattern, Word
from coach.domain.text import Analysis

MAX_STATES = 50_000
"""Remembered DFA states before the cache starts afresh; bounds memory on hostile input."""

_Atom = tuple[str, frozenset[str]]
"""What one NFA position tests: ("stem", stems), ("form", word forms) or ("except", stems)."""


@dataclass(frozen=True, slots=True)
class _Glushkov:
    first: frozenset[int]
    last: frozenset[int]
    nullable: bool


_EMPTY = _Glushkov(frozenset(), frozenset(), True)


@dataclass
class _Cache:
    """The lazily built DFA. Replaced whole when it grows too big, so readers never see it shrink."""

    symbols: dict[tuple[str, str, bool], int] = field(default_factory=dict)
    symbol_ids: dict[tuple[frozenset[int], frozenset[int], bool], int] = field(default_factory=dict)
    symbol_sets: list[tuple[frozenset[int], frozenset[int], bool]] = field(default_factory=list)
    state_ids: dict[frozenset[int], int] = field(default_factory=lambda: {frozenset(): 0})
    states: list[frozenset[int]] = field(default_factory=lambda: [frozenset()])
    steps: list[dict[int, tuple[int, tuple[int, ...]]]] = field(default_factory=lambda: [{}])


class PatternAutomaton:
    """Which of ``patterns`` can match a reply, found in one pass over its terms."""

    def __init__(self, patterns: Sequence[Pattern]) -> None:
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
            shape = self._sequence(pattern.nodes, index)
            self._final |= shape.last
            for position in shape.first:
                atom = self._position_atom[position]
                if self._atom_is_except[atom]:
                    starts = self._anchored_except_starts if pattern.anchored else self._except_starts
                    starts.append(position)
                else:
                    table = self._anchored_starts_by_atom if pattern.anchored else self._starts_by_atom
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
        the indices of the terms where such a match may end."""
        cache = self._cache
        if len(cache.states) > MAX_STATES:
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
                cache.symbol_ids[key] = symbol
                cache.symbol_sets.append(key)
            cache.symbols[(stem, norm, clause_start)] = symbol
        return symbol

    def _step(self, cache: _Cache, state: int, symbol: int) -> tuple[int, tuple[int, ...]]:
        satisfied, failed, clause_start = cache.symbol_sets[symbol]
        atom_of, is_except = self._position_atom, self._atom_is_except

        def accepts(position: int) -> bool:
            atom = atom_of[position]
            return atom not in failed if is_except[atom] else atom in satisfied

        alive = {q for p in cache.states[state] for q in self._frozen_follow[p] if accepts(q)}
        for atom in satisfied:
            alive.update(self._starts_by_atom.get(atom, ()))
            if clause_start:
                alive.update(self._anchored_starts_by_atom.get(atom, ()))
        alive.update(q for q in self._except_starts if accepts(q))
        if clause_start:
            alive.update(q for q in self._anchored_except_starts if accepts(q))
        accepted = tuple(sorted({self._position_pattern[q] for q in alive if q in self._final}))
        key = frozenset(alive)
        with self._lock:
            target = cache.state_ids.get(key)
            if target is None:
                target = len(cache.states)
                cache.state_ids[key] = target
                cache.states.append(key)
                cache.steps.append({})
            step = (target, accepted)
            cache.steps[state][symbol] = step
        return step
