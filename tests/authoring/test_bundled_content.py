"""The content trainees use: every walkthrough and rubric example holds, and it meets the brief."""

from __future__ import annotations

import pytest

from coach.authoring.library import ContentLibrary, lint
from coach.domain.graph import longest_decision_path
from coach.domain.rubric import Polarity
from tests.conftest import BUNDLED_RUBRICS, BUNDLED_SCENARIOS

FAMILIES = {
    "autonomy": {
        "self-determination",
        "collaboration",
        "advice-with-permission",
        "non-confrontation",
        "independence",
    },
    "boundaries": {
        "gifts-and-money",
        "personal-contact",
        "confidentiality",
        "self-disclosure",
        "scope-of-role",
        "crisis",
    },
}
CORE_SCENARIOS = ["just-tell-me-what-to-do", "a-gift-after-six-months", "keep-it-between-us"]


def test_the_bundled_content_lints_clean() -> None:
    _, findings = lint(BUNDLED_SCENARIOS, BUNDLED_RUBRICS)
    assert [str(f) for f in findings] == []


@pytest.mark.parametrize("dimension", sorted(FAMILIES))
def test_each_rubric_covers_every_family_on_both_sides(
    bundled_library: ContentLibrary, dimension: str
) -> None:
    rubric = bundled_library.rubrics[dimension]
    assert len(rubric.criteria) >= 15
    for family in FAMILIES[dimension]:
        sides = {c.polarity for c in rubric.criteria if c.family == family}
        assert sides == {Polarity.STRENGTH, Polarity.CONCERN}, family
    for criterion in rubric.criteria:
        assert criterion.feedback
        assert criterion.better
        assert criterion.standard
    assert len(rubric.examples) >= 20


@pytest.mark.parametrize("scenario_id", CORE_SCENARIOS)
def test_core_scenarios_have_depth_and_reach_every_ending(
    bundled_library: ContentLibrary, scenario_id: str
) -> None:
    play = bundled_library.play(scenario_id)
    scenario = play.scenario
    assert longest_decision_path(scenario) >= 4
    assert len(scenario.endings) >= 2
    reached = {w.path[-1] for w in scenario.walkthroughs}
    assert reached >= set(scenario.endings)


def _walkthroughs() -> list[tuple[str, int]]:
    library, _ = lint(BUNDLED_SCENARIOS, BUNDLED_RUBRICS)
    assert library is not None
    return [(sid, i) for sid, p in sorted(library.plays.items()) for i in range(len(p.scenario.walkthroughs))]


@pytest.mark.parametrize(("scenario_id", "index"), _walkthroughs())
def test_walkthrough_takes_its_path(bundled_library: ContentLibrary, scenario_id: str, index: int) -> None:
    play = bundled_library.play(scenario_id)
    walkthrough = play.scenario.walkthroughs[index]
    state, _ = play.walk(walkthrough.replies)
    assert state.path == walkthrough.path, walkthrough.name


def _examples() -> list[tuple[str, int]]:
    library, _ = lint(BUNDLED_SCENARIOS, BUNDLED_RUBRICS)
    assert library is not None
    return [(rid, i) for rid, r in sorted(library.rubrics.items()) for i in range(len(r.examples))]


@pytest.mark.parametrize(("rubric_id", "index"), _examples())
def test_rubric_example_evaluates_as_labelled(
    bundled_library: ContentLibrary, rubric_id: str, index: int
) -> None:
    example = bundled_library.rubrics[rubric_id].examples[index]
    evaluation = bundled_library.evaluator.evaluate(example.text)
    assert evaluation.dimensions[rubric_id].verdict is example.verdict, example.text
    matched = {m.criterion for m in evaluation.matches}
    assert set(example.criteria) <= matched
    assert not set(example.not_criteria) & matched


def _scenario_ids() -> list[str]:
    library, _ = lint(BUNDLED_SCENARIOS, BUNDLED_RUBRICS)
    assert library is not None
    return sorted(library.plays)


def test_the_library_has_at_least_twelve_scenarios() -> None:
    assert len(_scenario_ids()) >= 12


@pytest.mark.parametrize("scenario_id", _scenario_ids())
def test_every_scenario_meets_the_authoring_brief(bundled_library: ContentLibrary, scenario_id: str) -> None:
    from coach.authoring.stats import scenario_stats
    from coach.domain.conditions import parse_condition

    play = bundled_library.play(scenario_id)
    scenario = play.scenario
    stats = scenario_stats(play, bundled_library)
    assert stats.decision_points >= 4
    assert {e.ending.outcome.value for e in scenario.endings.values() if e.ending} >= {
        "good",
        "mixed",
        "poor",
    }
    assert (stats.node_coverage, stats.ending_coverage) == (1.0, 1.0)
    used = {
        v
        for node in scenario.nodes.values()
        for b in node.branches
        for v in parse_condition(b.when).variables
    }
    assert used, "a state variable should change what the client says later"
    assert scenario.persona.background
    for node in scenario.endings.values():
        assert node.ending is not None
        assert len(node.ending.debrief) > 80
