"""Graph facts about a scenario: reachability, dead ends, cycles, path lengths."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from itertools import product

from coach.domain.engine import Play, SessionState
from coach.domain.evaluation import DimensionResult, Evaluation, Match
from coach.domain.rubric import Polarity, Rubric, Verdict
from coach.domain.scenario import Scenario


def edges(scenario: Scenario) -> dict[str, list[str]]:
    return {
        node_id: [b.goto for b in node.branches if b.goto in scenario.nodes]
        for node_id, node in scenario.nodes.items()
    }


def reachable(scenario: Scenario) -> set[str]:
    graph = edges(scenario)
    if scenario.start not in graph:
        return set()
    seen = {scenario.start}
    queue = deque([scenario.start])
    while queue:
        for target in graph[queue.popleft()]:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    if scenario.turn_limit and scenario.turn_limit.ending in scenario.nodes and _has_cycle(graph, seen):
        seen.add(scenario.turn_limit.ending)
    return seen


def can_finish(scenario: Scenario) -> set[str]:
    """Nodes from which some path reaches an ending."""
    graph = edges(scenario)
    reverse: dict[str, list[str]] = {n: [] for n in graph}
    for source, targets in graph.items():
        for target in targets:
            reverse[target].append(source)
    done = {n for n, node in scenario.nodes.items() if node.is_ending}
    queue = deque(done)
    while queue:
        for source in reverse[queue.popleft()]:
            if source not in done:
                done.add(source)
                queue.append(source)
    return done


def has_cycle(scenario: Scenario) -> bool:
    return _has_cycle(edges(scenario), set(scenario.nodes))


def _has_cycle(graph: dict[str, list[str]], within: set[str]) -> bool:
    state: dict[str, int] = {}

    def visit(node: str) -> bool:
        state[node] = 1
        for target in graph.get(node, []):
            if target not in within:
                continue
            if state.get(target) == 1 or (state.get(target) is None and visit(target)):
                return True
        state[node] = 2
        return False

    return any(state.get(n) is None and visit(n) for n in sorted(within))


def longest_decision_path(scenario: Scenario) -> int:
    """Decision points (non-ending nodes) on the longest simple path from the start."""
    graph = edges(scenario)
    best = 0

    def walk(node: str, seen: frozenset[str], depth: int) -> None:
        nonlocal best
        if scenario.nodes[node].is_ending:
            best = max(best, depth)
            return
        for target in set(graph[node]):
            if target not in seen:
                walk(target, seen | {target}, depth + 1)

    if scenario.start in graph:
        walk(scenario.start, frozenset({scenario.start}), 0)
    return best


def _outcomes(play: Play, rubrics: Mapping[str, Rubric]) -> list[Evaluation]:
    """One synthetic evaluation per combination of verdicts over the scenario's dimensions.

    A met dimension carries every strength criterion of its rubric (and of the scenario's
    node criteria) and scores 1.0; a violated one every concern and scores 0.0; absent 0.5.
    """
    dims = list(play.scenario.dimensions)
    criteria: dict[str, list[tuple[str, Polarity]]] = {d: [] for d in dims}
    for dim in dims:
        rubric = rubrics.get(dim)
        for criterion in rubric.criteria if rubric else ():
            criteria[dim].append((criterion.id, criterion.polarity))
    for node in play.scenario.nodes.values():
        for extra in node.criteria:
            if extra.dimension in criteria:
                criteria[extra.dimension].append((extra.id, extra.polarity))
    scores = {Verdict.MET: 1.0, Verdict.ABSENT: 0.5, Verdict.VIOLATED: 0.0}
    wanted = {Verdict.MET: Polarity.STRENGTH, Verdict.VIOLATED: Polarity.CONCERN}
    outcomes = []
    for combo in product((Verdict.MET, Verdict.ABSENT, Verdict.VIOLATED), repeat=len(dims)):
        matches = tuple(
            Match(criterion=cid, dimension=dim, polarity=pol, start=0, end=0, text="")
            for dim, verdict in zip(dims, combo, strict=True)
            for cid, pol in criteria[dim]
            if wanted.get(verdict) is pol
        )
        outcomes.append(
            Evaluation(
                dimensions={
                    d: DimensionResult(verdict=v, score=scores[v]) for d, v in zip(dims, combo, strict=True)
                },
                matches=matches,
                critical=(),
            )
        )
    return outcomes


def best_scores(play: Play, rubrics: Mapping[str, Rubric], limit: int = 200_000) -> dict[str, float | None]:
    """The best session score per dimension reachable on any path to an ending.

    A session's score for a dimension is the mean of its turn scores over the turns that
    called for it or showed anything on it (see coach.domain.debrief). Dynamic programming
    over (node, variables, turn) keeps, per number of counted turns, the best total.
    """
    outcomes = _outcomes(play, rubrics)
    result: dict[str, float | None] = {}
    for dim in play.scenario.dimensions:
        totals = _BestPath(play, outcomes, dim, limit).totals(play.start())
        means = [total / count for count, total in totals.items() if count]
        result[dim] = round(max(means), 3) if means else None
    return result


class _BestPath:
    """For one dimension: per number of counted turns, the best total score to an ending."""

    def __init__(self, play: Play, outcomes: list[Evaluation], dim: str, limit: int) -> None:
        self.play = play
        self.outcomes = outcomes
        self.dim = dim
        self.budget = limit
        self.memo: dict[tuple[str, tuple[tuple[str, int], ...], int], dict[int, float]] = {}

    def totals(self, state: SessionState) -> dict[int, float]:
        key = (state.node, tuple(sorted(state.variables.items())), state.turn)
        if key in self.memo:
            return self.memo[key]
        self.budget -= 1
        if state.finished or self.budget <= 0:
            self.memo[key] = {0: 0.0} if state.finished else {}
            return self.memo[key]
        node = self.play.node(state.node)
        totals: dict[int, float] = {}
        seen: set[tuple[int, float | None]] = set()
        for evaluation in self.outcomes:
            step = self.play.advance(state, evaluation)
            outcome = evaluation.dimensions[self.dim]
            counted = self.dim in node.focus or outcome.verdict is not Verdict.ABSENT
            contribution = outcome.score if counted else None
            if (step.branch_index, contribution) in seen:
                continue
            seen.add((step.branch_index, contribution))
            for count, total in self.totals(step.after).items():
                new_count = count + (1 if counted else 0)
                new_total = total + (contribution or 0.0)
                if new_total > totals.get(new_count, -1.0):
                    totals[new_count] = new_total
        self.memo[key] = totals
        return totals
