"""Agreement between the evaluator and labelled replies: confusion matrices, P/R/F1, macro-F1."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from coach.domain.rubric import Verdict

VERDICTS: tuple[Verdict, ...] = (Verdict.MET, Verdict.VIOLATED, Verdict.ABSENT)


@dataclass(frozen=True)
class VerdictScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class DimensionCalibration:
    dimension: str
    confusion: dict[Verdict, dict[Verdict, int]] = field(
        default_factory=lambda: {e: dict.fromkeys(VERDICTS, 0) for e in VERDICTS}
    )
    """confusion[expected][predicted] = count"""

    def add(self, expected: Verdict, predicted: Verdict) -> None:
        self.confusion[expected][predicted] += 1

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    @property
    def accuracy(self) -> float:
        right = sum(self.confusion[v][v] for v in VERDICTS)
        return right / self.total if self.total else 0.0

    def scores(self, verdict: Verdict) -> VerdictScores:
        tp = self.confusion[verdict][verdict]
        predicted = sum(self.confusion[e][verdict] for e in VERDICTS)
        actual = sum(self.confusion[verdict].values())
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return VerdictScores(round(precision, 4), round(recall, 4), round(f1, 4), actual)

    @property
    def macro_f1(self) -> float:
        present = [v for v in VERDICTS if sum(self.confusion[v].values())]
        return round(sum(self.scores(v).f1 for v in present) / len(present), 4) if present else 0.0


def calibrate(
    pairs: Iterable[tuple[Mapping[str, Verdict], Mapping[str, Verdict]]], dimensions: Iterable[str]
) -> dict[str, DimensionCalibration]:
    """``pairs`` yields (expected, predicted) verdicts per dimension for each labelled reply."""
    result = {d: DimensionCalibration(d) for d in dimensions}
    for expected, predicted in pairs:
        for dimension, calibration in result.items():
            if dimension in expected and dimension in predicted:
                calibration.add(expected[dimension], predicted[dimension])
    return result
