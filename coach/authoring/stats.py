"""Per-scenario facts for authors: size, depth, best reachable scores, walkthrough coverage."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from coach.authoring.library import ContentLibrary
from coach.domain.engine import Play
from coach.domain.graph import best_scores, longest_decision_path


@dataclass(frozen=True)
class ScenarioStats:
    scenario: str
    nodes: int
    endings: int
    decision_points: int
    """Decision points (non-ending nodes) on the longest path from the start."""
    best_scores: dict[str, float | None]
    node_coverage: float
    """Share of nodes that some walkthrough visits."""
    ending_coverage: float
    """Share of endings that some walkthrough reaches."""
    walkthroughs: int

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def scenario_stats(play: Play, library: ContentLibrary) -> ScenarioStats:
    scenario = play.scenario
    visited: set[str] = set()
    for walkthrough in scenario.walkthroughs:
        state, _ = play.walk(walkthrough.replies)
        visited.update(state.path)
    endings = set(scenario.endings)
    return ScenarioStats(
        scenario=scenario.id,
        nodes=len(scenario.nodes),
        endings=len(endings),
        decision_points=longest_decision_path(scenario),
        best_scores=best_scores(play, library.rubrics),
        node_coverage=round(len(visited & set(scenario.nodes)) / len(scenario.nodes), 3),
        ending_coverage=round(len(visited & endings) / len(endings), 3) if endings else 0.0,
        walkthroughs=len(scenario.walkthroughs),
    )


def library_stats(library: ContentLibrary) -> list[ScenarioStats]:
    return [scenario_stats(library.plays[sid], library) for sid in sorted(library.plays)]
