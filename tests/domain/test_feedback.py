"""Feedback names what went well, what to watch (with the words), and tips for what was missed."""

from coach.authoring.library import ContentLibrary
from coach.domain.feedback import PointKind, build_feedback


def feedback_for(library: ContentLibrary, text: str, focus: list[str]):  # type: ignore[no-untyped-def]
    evaluation = library.evaluator.evaluate(text)
    return build_feedback(evaluation, library.rubrics, library.criteria, focus)


def test_a_concern_shows_the_words_a_better_reply_and_the_standard(tiny_library: ContentLibrary) -> None:
    feedback = feedback_for(tiny_library, "Honestly, you should quit.", ["autonomy"])
    (concern,) = [p for p in feedback.points if p.kind is PointKind.CONCERN]
    assert [e.text for e in concern.evidence] == ["you should"]
    assert concern.better == "What would you like to do?"
    assert concern.standard == "MITI 4.2.1 — Persuade"


def test_a_strength_is_praised_with_its_evidence(tiny_library: ContentLibrary) -> None:
    feedback = feedback_for(tiny_library, "It's your call.", ["autonomy"])
    (strength,) = feedback.points
    assert strength.kind is PointKind.STRENGTH
    assert strength.evidence[0].text == "your call"


def test_a_missed_focus_dimension_earns_a_tip_with_a_better_example(tiny_library: ContentLibrary) -> None:
    feedback = feedback_for(tiny_library, "That sounds hard.", ["boundaries"])
    (tip,) = feedback.points
    assert tip.kind is PointKind.TIP
    assert tip.dimension == "boundaries"
    assert tip.better == "I can't accept gifts, but I'm glad we work together."


def test_dimensions_out_of_focus_earn_no_tip(tiny_library: ContentLibrary) -> None:
    assert feedback_for(tiny_library, "That sounds hard.", []).points == ()


def test_critical_incidents_are_flagged_first(tiny_library: ContentLibrary) -> None:
    feedback = feedback_for(tiny_library, "It's your call and I won't tell anyone.", ["autonomy"])
    assert feedback.points[0].critical
    assert "critical" in feedback.summary
