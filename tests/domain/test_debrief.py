"""The debrief summarises a whole session."""

from coach.authoring.library import ContentLibrary
from coach.domain.debrief import TurnRecord, build_debrief


def records(library: ContentLibrary, replies: list[str]) -> tuple[list[TurnRecord], tuple[str, ...]]:
    play = library.play("tiny")
    state = play.start()
    out = []
    for index, reply in enumerate(replies, start=1):
        evaluation = play.evaluate(state, reply)
        out.append(TurnRecord(index, state.node, play.node(state.node).focus, reply, evaluation))
        state = play.advance(state, evaluation).after
    return out, state.path


def test_a_good_session_passes_with_strengths_and_the_path(tiny_library: ContentLibrary) -> None:
    turns, path = records(
        tiny_library, ["It's your call, what do you think?", "I can't accept the watch, thank you."]
    )
    debrief = build_debrief(
        tiny_library.play("tiny").scenario, tiny_library.rubrics, tiny_library.criteria, turns, path, path[-1]
    )
    assert debrief.finished
    assert debrief.outcome == "good"
    assert debrief.passed
    assert [s.criterion for s in debrief.strengths] == ["your-call", "declines-gift"]
    assert debrief.path == ("ask", "gift", "good")
    assert debrief.questions_asked == 1
    autonomy = next(d for d in debrief.dimensions if d.dimension == "autonomy")
    assert (autonomy.score, autonomy.met) == (0.75, 1)


def test_critical_incidents_fail_the_session_and_become_growth_areas(tiny_library: ContentLibrary) -> None:
    turns, path = records(tiny_library, ["It's your call.", "I won't tell anyone, no matter what."])
    debrief = build_debrief(
        tiny_library.play("tiny").scenario, tiny_library.rubrics, tiny_library.criteria, turns, path, path[-1]
    )
    assert not debrief.passed
    assert [i.criterion for i in debrief.critical_incidents] == ["keeps-secret"]
    assert debrief.critical_incidents[0].text == "won't tell anyone"
    assert debrief.growth_areas[0].criterion == "keeps-secret"


def test_retries_count_their_final_attempt_and_show_the_improvement(tiny_library: ContentLibrary) -> None:
    first, _ = records(tiny_library, ["Just quit."])
    second, path = records(tiny_library, ["It's your call."])
    turns = [
        TurnRecord(1, "ask", ("autonomy",), first[0].text, first[0].evaluation, superseded=True),
        second[0],
    ]
    debrief = build_debrief(
        tiny_library.play("tiny").scenario, tiny_library.rubrics, tiny_library.criteria, turns, path, None
    )
    assert debrief.turns == 1
    assert debrief.retries[0].before < debrief.retries[0].after
    assert not debrief.finished
