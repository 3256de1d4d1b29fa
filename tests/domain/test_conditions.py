"""The branch condition language."""

import pytest

from coach.domain.conditions import ConditionSyntaxError, TurnFacts, parse_condition
from coach.domain.evaluation import DimensionResult, Evaluation, Match
from coach.domain.rubric import Polarity, Verdict


def facts(autonomy: Verdict, score: float = 0.5, trust: int = 0, critical: bool = False) -> TurnFacts:
    matches = (
        (
            Match(
                criterion="gift",
                dimension="boundaries",
                polarity=Polarity.CONCERN,
                start=0,
                end=1,
                text="x",
                critical=True,
            ),
        )
        if critical
        else ()
    )
    evaluation = Evaluation(
        dimensions={
            "autonomy": DimensionResult(verdict=autonomy, score=score),
            "boundaries": DimensionResult(verdict=Verdict.ABSENT, score=0.5),
        },
        matches=matches,
        critical=("gift",) if critical else (),
    )
    return TurnFacts(evaluation=evaluation, variables={"trust": trust}, focus=("autonomy",), turn=3)


def test_verdicts_variables_and_boolean_logic() -> None:
    condition = parse_condition("autonomy met and (trust >= 2 or not boundaries absent)")
    assert condition(facts(Verdict.MET, trust=2))
    assert not condition(facts(Verdict.MET, trust=1))
    assert not condition(facts(Verdict.VIOLATED, trust=5))
    assert condition.dimensions == {"autonomy", "boundaries"}
    assert condition.variables == {"trust"}


def test_scores_criteria_critical_and_turns() -> None:
    assert parse_condition("autonomy score >= 0.7")(facts(Verdict.MET, score=0.75))
    assert parse_condition("score < 0.7")(facts(Verdict.ABSENT, score=0.5))
    assert parse_condition("criterion gift matched")(facts(Verdict.ABSENT, critical=True))
    assert parse_condition("critical")(facts(Verdict.ABSENT, critical=True))
    assert parse_condition("turn >= 3")(facts(Verdict.ABSENT))
    assert parse_condition("otherwise").is_fallback


@pytest.mark.parametrize(
    "source", ["", "autonomy", "autonomy met and", "trust >= lots", "(autonomy met", "autonomy met )"]
)
def test_malformed_conditions_are_refused(source: str) -> None:
    with pytest.raises(ConditionSyntaxError):
        parse_condition(source)
