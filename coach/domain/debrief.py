"""The debrief at the end of a session: scores over the session, incidents, strengths, growth.

A dimension's session score is the mean of its turn scores over the turns that called for
it (the node's focus) or showed anything on it; a retried turn counts its final attempt,
and the debrief also reports how much the retries improved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from coach.domain.evaluation import Evaluation
from coach.domain.rubric import Criterion, Polarity, Rubric, Verdict
from coach.domain.scenario import Scenario

PASSING_SCORE = 0.7


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


@dataclass(frozen=True)
class TurnRecord:
    """One answered turn as the debrief sees it."""

    index: int
    node: str
    focus: tuple[str, ...]
    text: str
    evaluation: Evaluation
    superseded: bool = False
    """True for an attempt the trainee took back and answered again."""


class DimensionSummary(Frozen):
    dimension: str
    title: str
    score: float | None
    """Mean turn score over the turns that called for this dimension; None if none did."""
    turns_scored: int
    met: int
    violated: int
    absent: int


class Incident(Frozen):
    turn: int
    criterion: str
    label: str
    text: str
    standard: str


class Highlight(Frozen):
    criterion: str | None
    dimension: str
    label: str
    count: int
    example: str
    advice: str
    standard: str


class Retry(Frozen):
    turn: int
    before: float
    after: float


class Debrief(Frozen):
    scenario_id: str
    scenario_title: str
    finished: bool
    ending: str | None
    ending_title: str | None
    outcome: str | None
    debrief: str | None
    score: float | None
    passed: bool
    passing_score: float = PASSING_SCORE
    """A finished session passes at this score with no critical incident."""
    dimensions: tuple[DimensionSummary, ...]
    critical_incidents: tuple[Incident, ...]
    strengths: tuple[Highlight, ...]
    growth_areas: tuple[Highlight, ...]
    path: tuple[str, ...]
    turns: int
    questions_asked: int
    retries: tuple[Retry, ...]


def _focus_score(evaluation: Evaluation, focus: Sequence[str]) -> float:
    scores = [evaluation.dimensions[d].score for d in focus if d in evaluation.dimensions]
    return sum(scores) / len(scores) if scores else 0.5


def build_debrief(
    scenario: Scenario,
    rubrics: Mapping[str, Rubric],
    criteria: Mapping[str, Criterion],
    turns: Sequence[TurnRecord],
    path: Sequence[str],
    ending: str | None,
) -> Debrief:
    final = [t for t in turns if not t.superseded]
    summaries: list[DimensionSummary] = []
    for dimension in scenario.dimensions:
        counted = [
            t.evaluation.dimensions[dimension]
            for t in final
            if dimension in t.evaluation.dimensions
            and (dimension in t.focus or t.evaluation.dimensions[dimension].verdict is not Verdict.ABSENT)
        ]
        verdicts = Counter(r.verdict for r in counted)
        title = rubrics[dimension].title if dimension in rubrics else dimension
        summaries.append(
            DimensionSummary(
                dimension=dimension,
                title=title,
                score=round(sum(r.score for r in counted) / len(counted), 3) if counted else None,
                turns_scored=len(counted),
                met=verdicts[Verdict.MET],
                violated=verdicts[Verdict.VIOLATED],
                absent=verdicts[Verdict.ABSENT],
            )
        )
    scored = [s.score for s in summaries if s.score is not None]
    overall = round(sum(scored) / len(scored), 3) if scored else None
    incidents = [
        Incident(
            turn=t.index,
            criterion=m.criterion,
            label=criteria[m.criterion].label,
            text=m.text,
            standard=criteria[m.criterion].standard,
        )
        for t in final
        for m in t.evaluation.matches
        if m.critical
    ]
    node = scenario.nodes.get(ending) if ending else None
    end = node.ending if node else None
    return Debrief(
        scenario_id=scenario.id,
        scenario_title=scenario.title,
        finished=end is not None,
        ending=ending if end else None,
        ending_title=end.title if end else None,
        outcome=end.outcome.value if end else None,
        debrief=end.debrief if end else None,
        score=overall,
        passed=bool(end is not None and overall is not None and overall >= PASSING_SCORE and not incidents),
        dimensions=tuple(summaries),
        critical_incidents=tuple(incidents),
        strengths=tuple(_highlights(final, criteria, Polarity.STRENGTH)),
        growth_areas=tuple(_growth(final, rubrics, criteria)),
        path=tuple(path),
        turns=len(final),
        questions_asked=sum(1 for t in final if "?" in t.text),
        retries=tuple(_retries(turns)),
    )


def _highlights(
    turns: Sequence[TurnRecord], criteria: Mapping[str, Criterion], polarity: Polarity
) -> list[Highlight]:
    counts: Counter[str] = Counter()
    examples: dict[str, tuple[str, str]] = {}
    for turn in turns:
        for match in turn.evaluation.matches:
            if match.polarity is polarity:
                examples.setdefault(match.criterion, (match.text, match.dimension))
                counts[match.criterion] += 1
    out = []
    for criterion_id, count in counts.most_common():
        criterion = criteria[criterion_id]
        example, dimension = examples[criterion_id]
        out.append(
            Highlight(
                criterion=criterion_id,
                dimension=dimension,
                label=criterion.label,
                count=count,
                example=example,
                advice=criterion.feedback if polarity is Polarity.STRENGTH else criterion.better,
                standard=criterion.standard,
            )
        )
    return out


def _growth(
    turns: Sequence[TurnRecord], rubrics: Mapping[str, Rubric], criteria: Mapping[str, Criterion]
) -> list[Highlight]:
    growth = _highlights(turns, criteria, Polarity.CONCERN)
    missed: Counter[str] = Counter()
    for turn in turns:
        for dimension in turn.focus:
            result = turn.evaluation.dimensions.get(dimension)
            if result is not None and result.verdict is Verdict.ABSENT:
                missed[dimension] += 1
    for dimension, count in missed.most_common():
        rubric = rubrics.get(dimension)
        if rubric is None:
            continue
        growth.append(
            Highlight(
                criterion=None,
                dimension=dimension,
                label=f"Moments that called for {rubric.title.lower()} went by",
                count=count,
                example="",
                advice=f"{rubric.missed.tip} For example: “{rubric.missed.better}”",
                standard=rubric.standard,
            )
        )
    return growth


def _retries(turns: Sequence[TurnRecord]) -> list[Retry]:
    by_index: dict[int, list[TurnRecord]] = {}
    for turn in turns:
        by_index.setdefault(turn.index, []).append(turn)
    out = []
    for index, attempts in sorted(by_index.items()):
        if len(attempts) < 2:
            continue
        first, last = attempts[0], attempts[-1]
        out.append(
            Retry(
                turn=index,
                before=round(_focus_score(first.evaluation, first.focus), 3),
                after=round(_focus_score(last.evaluation, last.focus), 3),
            )
        )
    return out
