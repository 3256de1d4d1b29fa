"""Coaching feedback for one reply: what went well, what to watch, and a tip for what was missed.

Every point names the standard it comes from and, where it is about the trainee's words,
carries those words with their offsets so the page can highlight them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from coach.domain.evaluation import Evaluation
from coach.domain.rubric import Criterion, Polarity, Rubric, Verdict
from coach.domain.scenario import Tip


class PointKind(StrEnum):
    STRENGTH = "strength"
    CONCERN = "concern"
    TIP = "tip"


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: int
    end: int
    text: str


class FeedbackPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: PointKind
    dimension: str
    criterion: str | None
    label: str
    message: str
    evidence: tuple[Evidence, ...] = ()
    better: str | None = None
    standard: str
    critical: bool = False


class Feedback(BaseModel):
    model_config = ConfigDict(frozen=True)

    summary: str
    points: tuple[FeedbackPoint, ...]
    note: str | None = None
    """The scenario's own coaching note for the branch this reply took."""


def build_feedback(
    evaluation: Evaluation,
    rubrics: Mapping[str, Rubric],
    criteria: Mapping[str, Criterion],
    focus: Sequence[str],
    tips: Mapping[str, Tip] | None = None,
    note: str = "",
) -> Feedback:
    tips = tips or {}
    points: list[FeedbackPoint] = []
    seen: set[str] = set()
    for match in evaluation.matches:
        if match.criterion in seen:
            continue
        seen.add(match.criterion)
        criterion = criteria[match.criterion]
        evidence = tuple(
            Evidence(start=m.start, end=m.end, text=m.text)
            for m in evaluation.matches
            if m.criterion == match.criterion
        )
        strength = criterion.polarity is Polarity.STRENGTH
        points.append(
            FeedbackPoint(
                kind=PointKind.STRENGTH if strength else PointKind.CONCERN,
                dimension=match.dimension,
                criterion=criterion.id,
                label=criterion.label,
                message=criterion.feedback,
                evidence=evidence,
                better=None if strength else criterion.better,
                standard=criterion.standard,
                critical=criterion.critical and not strength,
            )
        )
    for dimension in focus:
        result = evaluation.dimensions.get(dimension)
        rubric = rubrics.get(dimension)
        if result is None or rubric is None or result.verdict is not Verdict.ABSENT:
            continue
        tip = tips.get(dimension)
        points.append(
            FeedbackPoint(
                kind=PointKind.TIP,
                dimension=dimension,
                criterion=None,
                label=f"This moment called for {rubric.title.lower()}",
                message=tip.tip if tip else rubric.missed.tip,
                better=tip.better if tip else rubric.missed.better,
                standard=rubric.standard,
            )
        )
    # Concerns first: they are what the trainee most needs to see.
    order = {PointKind.CONCERN: 0, PointKind.STRENGTH: 1, PointKind.TIP: 2}
    points.sort(key=lambda p: (order[p.kind], not p.critical))
    return Feedback(summary=_summary(evaluation, rubrics), points=tuple(points), note=note or None)


def _summary(evaluation: Evaluation, rubrics: Mapping[str, Rubric]) -> str:
    words = {Verdict.MET: "shown", Verdict.VIOLATED: "needs attention", Verdict.ABSENT: "not shown"}
    parts = []
    for name, result in evaluation.dimensions.items():
        title = rubrics[name].title if name in rubrics else name
        parts.append(f"{title}: {words[result.verdict]}")
    text = "; ".join(parts) + "."
    if evaluation.critical:
        text += " A critical boundary was crossed — read the concern below before you go on."
    return text
