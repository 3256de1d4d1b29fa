"""The engine: branches on the evaluation and state, updates variables, cannot loop forever."""

import pytest

from coach.authoring.library import ContentLibrary
from coach.domain.engine import Play, SessionState, content_hash
from coach.errors import EngineError


@pytest.fixture
def play(tiny_library: ContentLibrary) -> Play:
    return tiny_library.play("tiny")


def test_the_branch_follows_the_verdict_and_updates_state(play: Play) -> None:
    state = play.start()
    step = play.advance(state, play.evaluate(state, "Just quit."))
    assert step.after.node == "pushback"
    assert step.after.variables["trust"] == -1
    assert step.branch.note == "Sam heard an order."
    assert step.after.path == ("ask", "pushback")


def test_criterion_conditions_pick_their_branch(play: Play) -> None:
    state, _ = play.walk(["It's your call.", "I can't accept the watch."])
    assert state.node == "good"
    assert state.finished


def test_variables_clamp_to_their_range(play: Play) -> None:
    state = play.start()
    for _ in range(2):
        state = play.advance(state, play.evaluate(state, "your call")).after
        if state.node == "gift":
            break
    assert state.variables["trust"] == 1


def test_the_turn_limit_ends_a_session_that_goes_in_circles(play: Play) -> None:
    state, _ = play.walk(["Hmm."] * 10)
    assert state.node == "out-of-time"
    assert state.finished
    assert state.turn == 6


def test_a_finished_session_cannot_advance(play: Play) -> None:
    state, evaluations = play.walk(["It's your call.", "I can't accept the watch."])
    with pytest.raises(EngineError):
        play.advance(state, evaluations[-1])


def test_state_round_trips_through_json(play: Play) -> None:
    state, _ = play.walk(["Just quit."])
    assert SessionState.from_json(state.to_json()) == state


def test_the_content_hash_changes_with_the_content(play: Play) -> None:
    changed = play.scenario.model_copy(update={"title": "Another title"})
    assert content_hash(play.scenario) == play.hash
    assert content_hash(changed) != play.hash
