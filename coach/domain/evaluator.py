"""Evaluate a reply against compiled rubrics.

Per dimension the verdict follows the contract: ``violated`` when any concern criterion
matched (it wins over strengths), ``met`` when a strength matched and no concern did,
``absent`` otherwise. The score places the reply on [0, 1]:

* absent: 0.5 (nothing either way);
* met: 0.75 for one strength, rising by 0.125 per further strength, to 1.0;
* violated: below 0.25, lifted a little by strengths shown alongside the concern, and 0.0
  when a critical incident matched.

Rubrics compile once (:class:`Evaluator`), and evaluation does no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from coach.domain.automaton import PatternAutomaton
from coach.domain.evaluation import DimensionResult, Evaluation, Match
from coach.domain.lexicon import COMMON_WORDS
from coach.domain.patterns import Pattern, PatternMatch, PatternSyntaxError, compile_pattern
from coach.domain.rubric import Criterion, Nearby, Negation, Polarity, Rubric, Scope, Verdict
from coach.domain.selfdisclosure import SelfDisclosure, measure_self_disclosure
from coach.domain.text import Analysis, WordForms, analyse, damerau_levenshtein_at_most_one, stem

NEGATION_WINDOW = 8
"""How many terms before a match a negator may stand and still govern it."""


class CriterionError(ValueError):
    """A criterion cannot compile; ``criterion`` names it."""

    def __init__(self, criterion: str, message: str) -> None:
        super().__init__(f"criterion {criterion!r}: {message}")
        self.criterion = criterion


@dataclass(frozen=True)
class CompiledCriterion:
    criterion: Criterion
    dimension: str
    patterns: tuple[Pattern, ...]
    unless_patterns: tuple[Pattern, ...]
    requires_patterns: tuple[Pattern, ...] = ()
    id: str = field(init=False)
    """The criterion's id, kept as a field: evaluation reads it for every criterion."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", self.criterion.id)

    @property
    def context_patterns(self) -> tuple[Pattern, ...]:
        return self.unless_patterns + self.requires_patterns


def compile_criteria(
    dimension: str, criteria: Iterable[Criterion], classes: Mapping[str, Iterable[str]]
) -> tuple[CompiledCriterion, ...]:
    class_sets = {name: frozenset(w.lower() for w in words) for name, words in classes.items()}
    compiled: list[CompiledCriterion] = []
    for criterion in criteria:

        def build(sources: tuple[str, ...], criterion: Criterion = criterion) -> tuple[Pattern, ...]:
            try:
                return tuple(compile_pattern(p, class_sets) for p in sources)
            except PatternSyntaxError as exc:
                raise CriterionError(criterion.id, str(exc)) from exc

        compiled.append(
            CompiledCriterion(
                criterion,
                dimension,
                build(criterion.patterns),
                build(criterion.unless.patterns if criterion.unless else ()),
                build(criterion.requires.patterns if criterion.requires else ()),
            )
        )
    return tuple(compiled)


@dataclass
class _Vocabulary:
    """Known pattern words, for correcting small typos in longer words ("shoudl", "decison")."""

    words: set[str] = field(default_factory=set)
    _by_deletion: dict[str, set[str]] = field(default_factory=dict)
    _stems: set[str] = field(default_factory=set)

    def add(self, word: str) -> None:
        if word in self.words:
            return
        self.words.add(word)
        self._stems.add(stem(word))
        if len(word) >= 5:
            for variant in _deletions(word):
                self._by_deletion.setdefault(variant, set()).add(word)

    def correct(self, word: str) -> str | None:
        """The one known word ``word`` is a small typo of, if any (answers are remembered by WordForms)."""
        if word in self.words or stem(word) in self._stems or word in COMMON_WORDS:
            return None
        candidates: set[str] = set()
        for variant in _deletions(word):
            candidates |= self._by_deletion.get(variant, set())
        matches = sorted(
            c for c in candidates if c[0] == word[0] and damerau_levenshtein_at_most_one(c, word)
        )
        return matches[0] if len(matches) == 1 else None


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


class Evaluator:
    """Rubrics compiled once; ``evaluate`` does no I/O and is safe to call from many threads
    (it fills shared caches of words and automaton steps, which only ever speed it up)."""

    def __init__(self, rubrics: Sequence[Rubric]) -> None:
        self.rubrics: dict[str, Rubric] = {r.id: r for r in rubrics}
        self.classes: dict[str, dict[str, tuple[str, ...]]] = {r.id: dict(r.classes) for r in rubrics}
        criteria: list[CompiledCriterion] = []
        for rubric in rubrics:
            criteria.extend(compile_criteria(rubric.id, rubric.criteria, rubric.classes))
        self.criteria: tuple[CompiledCriterion, ...] = tuple(criteria)
        self.criterion_index: dict[str, CompiledCriterion] = {c.id: c for c in criteria}
        self._vocabulary = _Vocabulary()
        self._words = WordForms(self._vocabulary.correct)
        self._learn(criteria)
        # Criterion patterns first, in rubric order (a criterion's matches are kept in its
        # pattern order), then the unless/requires patterns, which belong to no criterion.
        self._patterns: tuple[Pattern, ...] = tuple(p for c in criteria for p in c.patterns) + tuple(
            p for c in criteria for p in c.context_patterns
        )
        self._owners: tuple[int, ...] = tuple(
            rank for rank, c in enumerate(criteria) for _ in c.patterns
        ) + tuple(-1 for c in criteria for _ in c.context_patterns)
        sample = [self.analyse(example.text) for rubric in rubrics for example in rubric.examples]
        self._automaton = PatternAutomaton(self._patterns, sample)
        for analysis in sample:
            # The examples are replies like any other: the automaton's first steps are theirs.
            self._automaton.matching(analysis)
        self._detectors = tuple(rank for rank, c in enumerate(criteria) if c.criterion.detector is not None)

    def _learn(self, criteria: Iterable[CompiledCriterion]) -> None:
        for compiled in criteria:
            for pattern in compiled.patterns + compiled.unless_patterns + compiled.requires_patterns:
                for word in pattern.vocabulary():
                    self._vocabulary.add(word)
        self._words.forget()

    def compile_extra(self, dimension: str, criteria: Iterable[Criterion]) -> tuple[CompiledCriterion, ...]:
        """Compile node-specific criteria with the word classes of their dimension's rubric."""
        compiled = compile_criteria(dimension, criteria, self.classes.get(dimension, {}))
        self._learn(compiled)
        return compiled

    def analyse(self, text: str) -> Analysis:
        return analyse(text, self._words)

    def evaluate(
        self,
        text: str,
        extra: Sequence[CompiledCriterion] = (),
        dimensions: Sequence[str] | None = None,
    ) -> Evaluation:
        analysis = self.analyse(text)
        order = tuple(dimensions) if dimensions is not None else tuple(self.rubrics)
        names = frozenset(order)
        # A criterion is known by its rank: rubric criteria first, then the node's own.
        criteria = self.criteria + tuple(extra)
        hits: dict[int, list[PatternMatch]] = {}
        """Matches per pattern, for unless/requires."""
        by_rank: dict[int, list[list[PatternMatch]]] = {}
        """Matches per criterion, in its pattern order."""
        reported = self._automaton.matching(analysis)
        for index in sorted(reported):
            pattern = self._patterns[index]
            # The automaton over-approximates; the pattern's mandatory words and then its own
            # regex confirm, and the regex gives the spans.
            if not pattern.possible(analysis):
                continue
            matches = pattern.scan(analysis, reported[index])
            if matches:
                hits[id(pattern)] = matches
                rank = self._owners[index]
                if rank >= 0:
                    by_rank.setdefault(rank, []).append(matches)
        detectors = list(self._detectors)
        for rank, compiled in enumerate(extra, start=len(self.criteria)):
            # Node-specific criteria are few and compiled per scenario: they are not in the automaton.
            for pattern in compiled.patterns:
                if matches := pattern.find(analysis):
                    by_rank.setdefault(rank, []).append(matches)
            for pattern in compiled.context_patterns:
                if matches := pattern.find(analysis):
                    hits[id(pattern)] = matches
            if compiled.criterion.detector is not None:
                detectors.append(rank)
        disclosure: SelfDisclosure | None = None
        """Measured only if a detector asks for it."""
        found: dict[str, list[PatternMatch]] = {}
        # The criteria with something to judge, in rubric order, for the dimensions asked for.
        active = [(r, criteria[r]) for r in sorted({*by_rank, *detectors}) if criteria[r].dimension in names]
        for rank, compiled in active:
            if compiled.criterion.detector is not None:
                if disclosure is None:
                    disclosure = measure_self_disclosure(analysis)
                found[compiled.id] = _detect(compiled.criterion, disclosure)
            else:
                found[compiled.id] = _screen(compiled.criterion, by_rank[rank], analysis)
        kept: list[tuple[CompiledCriterion, list[PatternMatch]]] = []
        for _, compiled in active:
            matches = found.get(compiled.id, [])
            if not matches:
                continue
            criterion = compiled.criterion
            if criterion.unless is not None:
                matches = _keep_by_context(
                    matches,
                    criterion.unless,
                    compiled.unless_patterns,
                    analysis,
                    hits,
                    found,
                    keep_when_near=False,
                )
            if matches and criterion.requires is not None:
                matches = _keep_by_context(
                    matches,
                    criterion.requires,
                    compiled.requires_patterns,
                    analysis,
                    hits,
                    found,
                    keep_when_near=True,
                )
            if matches:
                kept.append((compiled, matches))
        return _verdicts(order, kept, analysis)


def _screen(
    criterion: Criterion, per_pattern: list[list[PatternMatch]], analysis: Analysis
) -> list[PatternMatch]:
    """Apply the criterion's negation rule and drop matches overlapping an earlier one."""
    matches: list[PatternMatch] = []
    for pattern_matches in per_pattern:
        for match in pattern_matches:
            if criterion.negation is not Negation.ANY:
                negated = _negated(match, analysis)
                if criterion.negation is Negation.FORBID and negated:
                    continue
                if criterion.negation is Negation.REQUIRE and not negated:
                    continue
            if not any(_overlaps(match, other) for other in matches):
                matches.append(match)
    return matches


def _negated(match: PatternMatch, analysis: Analysis) -> bool:
    """A negator in the match's clause, before it or inside it but not written in the pattern."""
    terms = analysis.terms
    first, last = match.first, match.last
    clause = terms[first].clause
    for index in analysis.negators:
        if index > last:
            break
        if index < first:
            if index >= first - NEGATION_WINDOW and terms[index].clause == clause:
                return True
        elif not match.written(terms[index]):
            return True
    return False


def _detect(criterion: Criterion, measure: SelfDisclosure) -> list[PatternMatch]:
    assert criterion.detector is not None
    span = measure.takes_over if criterion.detector.when == "takes_over" else measure.brief_and_returns
    if span is None:
        return []
    first, last = span
    return [PatternMatch(first, last, None)]


def _overlaps(a: PatternMatch, b: PatternMatch) -> bool:
    return a.first <= b.last and b.first <= a.last


def _near(a: PatternMatch, b: PatternMatch, scope: Scope, analysis: Analysis) -> bool:
    ta, tb = analysis.terms[a.first], analysis.terms[b.first]
    if scope is Scope.OVERLAP:
        return _overlaps(a, b)
    if scope is Scope.CLAUSE:
        return ta.clause == tb.clause or _overlaps(a, b)
    if scope is Scope.SENTENCE:
        return ta.sentence == tb.sentence
    if scope is Scope.NEARBY:
        return abs(ta.sentence - tb.sentence) <= 1
    return True


def _keep_by_context(
    matches: list[PatternMatch],
    nearby: Nearby,
    patterns: tuple[Pattern, ...],
    analysis: Analysis,
    hits: Mapping[int, list[PatternMatch]],
    found: Mapping[str, list[PatternMatch]],
    *,
    keep_when_near: bool,
) -> list[PatternMatch]:
    """``unless`` (keep_when_near=False) drops matches near the context; ``requires`` keeps only those."""
    context: list[PatternMatch] = []
    for pattern in patterns:
        context.extend(hits.get(id(pattern), ()))
    for other in nearby.criteria:
        context.extend(found.get(other, ()))
    return [m for m in matches if any(_near(m, c, nearby.scope, analysis) for c in context) == keep_when_near]


def _verdicts(
    names: Sequence[str],
    kept: Sequence[tuple[CompiledCriterion, list[PatternMatch]]],
    analysis: Analysis,
) -> Evaluation:
    terms = analysis.terms
    text = analysis.text
    evidence: list[Match] = []
    strengths: dict[str, float] = dict.fromkeys(names, 0.0)
    concerns: dict[str, float] = dict.fromkeys(names, 0.0)
    strength_count: dict[str, int] = dict.fromkeys(names, 0)
    critical: list[str] = []
    for compiled, matches in kept:
        criterion = compiled.criterion
        if criterion.polarity is Polarity.STRENGTH:
            strengths[compiled.dimension] += criterion.weight
            strength_count[compiled.dimension] += 1
        else:
            concerns[compiled.dimension] += criterion.weight
            if criterion.critical and criterion.id not in critical:
                critical.append(criterion.id)
        for match in matches:
            start, end = terms[match.first].start, terms[match.last].end
            evidence.append(
                Match(
                    criterion=criterion.id,
                    dimension=compiled.dimension,
                    polarity=criterion.polarity,
                    start=start,
                    end=end,
                    text=text[start:end],
                    critical=criterion.critical and criterion.polarity is Polarity.CONCERN,
                )
            )
    critical_dims = {m.dimension for m in evidence if m.critical}
    results: dict[str, DimensionResult] = {}
    for name in names:
        if concerns[name] > 0:
            share = strengths[name] / (strengths[name] + concerns[name])
            score = 0.0 if name in critical_dims else round(0.2 * share, 3)
            results[name] = DimensionResult(verdict=Verdict.VIOLATED, score=score)
        elif strength_count[name] > 0:
            score = min(1.0, 0.75 + 0.125 * (strength_count[name] - 1))
            results[name] = DimensionResult(verdict=Verdict.MET, score=score)
        else:
            results[name] = DimensionResult(verdict=Verdict.ABSENT, score=0.5)
    evidence.sort(key=lambda m: (m.start, m.end, m.criterion))
    return Evaluation(dimensions=results, matches=tuple(evidence), critical=tuple(critical))
