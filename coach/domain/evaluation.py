"""What evaluating one reply yields: verdicts, scores and evidence (the evaluation contract)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from coach.domain.rubric import Polarity, Verdict


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class Match(Result):
    """One criterion found in the reply, with the exact characters that showed it."""

    criterion: str
    dimension: str
    polarity: Polarity
    start: int = Field(ge=0, description="Offset of the first character in the original reply.")
    end: int = Field(ge=0, description="Offset just past the last character.")
    text: str
    critical: bool = False


class DimensionResult(Result):
    verdict: Verdict
    score: float = Field(ge=0.0, le=1.0)


class Evaluation(Result):
    dimensions: dict[str, DimensionResult]
    matches: tuple[Match, ...]
    critical: tuple[str, ...]
    """Ids of critical-incident criteria that matched."""

    def matched(self, criterion: str) -> bool:
        return any(m.criterion == criterion for m in self.matches)

    def contract(self) -> dict[str, object]:
        """The public shape of DESIGN.md's evaluation contract (JSON lines and /evaluate)."""
        return {
            "dimensions": {
                name: {"verdict": result.verdict.value, "score": result.score}
                for name, result in self.dimensions.items()
            },
            "matches": [
                {
                    "criterion": m.criterion,
                    "dimension": m.dimension,
                    "polarity": m.polarity.value,
                    "start": m.start,
                    "end": m.end,
                    "text": m.text,
                }
                for m in self.matches
            ],
            "critical": list(self.critical),
        }
