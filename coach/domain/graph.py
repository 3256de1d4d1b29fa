"""Graph facts about a scenario: reachability, dead ends, cycles, path lengths."""

from __future__ import annotations

from collections import deque

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
