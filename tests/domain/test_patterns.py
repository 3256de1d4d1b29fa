"""The pattern language rubric authors write."""

import re

import pytest

from coach.domain.patterns import PatternSyntaxError, compile_pattern
from coach.domain.text import analyse

CLASSES = {"verb": frozenset({"stop", "go", "call"})}


def spans(pattern: str, text: str) -> list[str]:
    compiled = compile_pattern(pattern, CLASSES)
    analysis = analyse(text)
    return [text[analysis.terms[m.first].start : analysis.terms[m.last].end] for m in compiled.find(analysis)]


def test_words_match_any_inflection() -> None:
    assert spans("you decide", "You decided already") == ["You decided"]


def test_exact_words_match_only_that_form() -> None:
    assert spans("=decide", "deciding, decide") == ["decide"]


def test_alternatives_and_optional_words() -> None:
    assert spans("you (have|need) to", "you need to go") == ["you need to"]
    assert spans("it is [really] your call", "It's really your call") == ["It's really your call"]
    assert spans("it is [really] your call", "it's your call") == ["it's your call"]


def test_bounded_gaps_stay_within_the_bound_and_the_sentence() -> None:
    assert spans("tell ..2 what to do", "tell you exactly what to do") == ["tell you exactly what to do"]
    assert spans("tell ..1 what to do", "tell you exactly what to do") == []
    assert spans("you ... go", "You can. Go now") == []


def test_word_classes_and_anchors() -> None:
    assert spans("^ [just] @verb", "Just stop drinking") == ["Just stop"]
    assert spans("^ [just] @verb", "I will stop") == []
    assert spans("^ @verb", "Okay, so go to a meeting") == ["go"]


def test_not_followed_by_is_zero_width_and_true_at_the_end() -> None:
    assert spans("^ @verb ~(me|us)", "Call me.") == []
    assert spans("^ @verb ~(me|us)", "Call him.") == ["Call"]
    assert spans("^ @verb ~(me|us)", "Stop.") == ["Stop"]


def test_any_word_except() -> None:
    assert spans("do not !(worry|hesitate)", "Don't worry") == []
    assert spans("do not !(worry|hesitate)", "Don't see him") == ["Don't see"]


def test_contractions_in_patterns_match_expanded_text() -> None:
    assert spans("won't tell", "I will not tell") == ["will not tell"]


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(a|b", "missing ')'"),
        ("you ^ go", "'^' may only start"),
        ("@nope", "unknown word class"),
        ("... go", "cannot start or end with a gap"),
        ("go ..99 home", "bad gap"),
        ("", "empty pattern"),
        ("(a||b)", "empty alternative"),
    ],
)
def test_malformed_patterns_say_why(pattern: str, reason: str) -> None:
    with pytest.raises(PatternSyntaxError, match=re.escape(reason)):
        compile_pattern(pattern, CLASSES)


def test_exact_class_forms_skip_other_inflections() -> None:
    assert spans("^ =@verb", "Calling him was brave") == []
    assert spans("^ @verb", "Calling him was brave") == ["Calling"]
    assert spans("^ =@verb", "Call him") == ["Call"]


def test_clause_end_anchor() -> None:
    assert spans("if you want $", "Try it if you want.") == ["if you want"]
    assert spans("if you want $", "If you want to stay sober, stop") == []
    assert spans("ungrateful $", "That's so ungrateful, honestly") == ["ungrateful"]


def test_an_alternative_that_is_only_a_clause_end_still_matches() -> None:
    assert spans("if you want (to stay|$)", "Try it if you want.") == ["if you want"]
