"""The evaluation contract: verdicts, scores, evidence offsets, negation, suppression."""

from coach.authoring.library import ContentLibrary
from coach.domain.rubric import Verdict


def verdicts(library: ContentLibrary, text: str) -> dict[str, str]:
    return {k: v.verdict.value for k, v in library.evaluator.evaluate(text).dimensions.items()}


def test_a_concern_anywhere_decides_violated_even_beside_a_strength(tiny_library: ContentLibrary) -> None:
    evaluation = tiny_library.evaluator.evaluate("It's your call. But honestly you should quit.")
    assert evaluation.dimensions["autonomy"].verdict is Verdict.VIOLATED
    assert {m.criterion for m in evaluation.matches} == {"your-call", "directive"}


def test_a_strength_alone_is_met_and_nothing_is_absent(tiny_library: ContentLibrary) -> None:
    assert verdicts(tiny_library, "It's totally your choice") == {"autonomy": "met", "boundaries": "absent"}
    assert verdicts(tiny_library, "That sounds hard.") == {"autonomy": "absent", "boundaries": "absent"}


def test_evidence_offsets_point_at_the_original_words(tiny_library: ContentLibrary) -> None:
    text = "Hmm… honestly?  You SHOULD go."
    (match,) = tiny_library.evaluator.evaluate(text).matches
    assert text[match.start : match.end] == match.text == "You SHOULD"


def test_negation_in_the_clause_cancels_a_directive(tiny_library: ContentLibrary) -> None:
    assert verdicts(tiny_library, "I would never tell you what you should do.")["autonomy"] == "absent"
    assert verdicts(tiny_library, "You don't have to decide today.")["autonomy"] == "absent"


def test_negation_does_not_reach_across_a_clause(tiny_library: ContentLibrary) -> None:
    assert verdicts(tiny_library, "I don't know, but you should leave him.")["autonomy"] == "violated"


def test_negation_raised_to_a_belief_still_advises(tiny_library: ContentLibrary) -> None:
    assert verdicts(tiny_library, "I don't think you should go back.")["autonomy"] == "violated"


def test_imperatives_without_should_are_directive(tiny_library: ContentLibrary) -> None:
    assert verdicts(tiny_library, "Just stop drinking.")["autonomy"] == "violated"
    assert verdicts(tiny_library, "Tell me more.")["autonomy"] == "absent"


def test_permission_nearby_suppresses_the_advice(tiny_library: ContentLibrary) -> None:
    text = "Could I share an idea? Try a meeting. Take it or leave it."
    evaluation = tiny_library.evaluator.evaluate(text)
    assert evaluation.dimensions["autonomy"].verdict is Verdict.MET
    assert not evaluation.matched("directive")


def test_a_secrecy_promise_is_critical_and_scores_zero(tiny_library: ContentLibrary) -> None:
    evaluation = tiny_library.evaluator.evaluate("I won't tell anyone, no matter what.")
    assert evaluation.critical == ("keeps-secret",)
    assert evaluation.dimensions["boundaries"].score == 0.0


def test_declining_keeps_a_boundary_while_can_not_wait_does_not(tiny_library: ContentLibrary) -> None:
    assert verdicts(tiny_library, "I can't accept the watch.")["boundaries"] == "met"
    assert verdicts(tiny_library, "I can't wait to get the watch.")["boundaries"] == "absent"


def test_small_typos_in_longer_words_are_forgiven(tiny_library: ContentLibrary) -> None:
    assert verdicts(tiny_library, "its ur decison")["autonomy"] == "met"
    assert verdicts(tiny_library, "u shoudl go")["autonomy"] == "violated"


def test_scores_order_the_verdicts(tiny_library: ContentLibrary) -> None:
    def score(text: str) -> float:
        return tiny_library.evaluator.evaluate(text).dimensions["autonomy"].score

    two_strengths = "It's your call. Could I share an idea?"
    assert score("you should go") < score("ok") < score("your call") < score(two_strengths)
    # A criterion counts once however often it matches: repetition is not skill.
    assert score("your call, your choice, your decision") == score("your call")


def test_the_contract_has_exactly_the_documented_shape(tiny_library: ContentLibrary) -> None:
    contract = tiny_library.evaluator.evaluate("Just quit").contract()
    assert set(contract) == {"dimensions", "matches", "critical"}
    assert set(contract["dimensions"]["autonomy"]) == {"verdict", "score"}  # type: ignore[index]
    assert set(contract["matches"][0]) == {"criterion", "dimension", "polarity", "start", "end", "text"}  # type: ignore[index]


def test_a_criterion_can_require_context_nearby(tiny_library: ContentLibrary) -> None:
    risky = tiny_library.evaluator.evaluate("I hear you want to end it. Honestly, it's your choice.")
    assert risky.critical == ("your-choice-about-harm",)
    ordinary = tiny_library.evaluator.evaluate("Which job to take? Honestly, it's your choice.")
    assert not ordinary.matched("your-choice-about-harm")
    assert ordinary.dimensions["autonomy"].verdict is Verdict.MET
