"""Rubric content model: one dimension (autonomy, boundaries, ...) and its criteria.

These are the shapes authors write in ``rubrics/*.yaml``; :mod:`coach.domain.evaluator`
compiles them once into matchers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

IDENTIFIER = r"^[a-z][a-z0-9_-]*$"


class Polarity(StrEnum):
    STRENGTH = "strength"
    CONCERN = "concern"


class Verdict(StrEnum):
    MET = "met"
    VIOLATED = "violated"
    ABSENT = "absent"


class Negation(StrEnum):
    FORBID = "forbid"
    """Discard the match when a negator governs it ("I would never tell you what to do")."""
    REQUIRE = "require"
    """Keep the match only when a negator governs it ("I won't tell anyone")."""
    ANY = "any"
    """Negation does not matter (the pattern spells out its own negation)."""


class Scope(StrEnum):
    OVERLAP = "overlap"
    CLAUSE = "clause"
    SENTENCE = "sentence"
    NEARBY = "nearby"
    """The same sentence or the one before or after it."""
    REPLY = "reply"


class Content(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Nearby(Content):
    """Patterns or criteria that matter when they match within ``scope`` of a match."""

    scope: Scope = Scope.SENTENCE
    patterns: tuple[str, ...] = ()
    criteria: tuple[str, ...] = ()


Unless = Nearby
"""Suppress a match when one of these matches nearby."""


class Detector(Content):
    """A measured behaviour instead of a phrase: how much of the reply is the trainee's story."""

    name: Literal["self_disclosure"]
    when: Literal["takes_over", "brief_and_returns"]


class Criterion(Content):
    id: str = Field(pattern=IDENTIFIER)
    family: str = Field(pattern=IDENTIFIER)
    label: str = Field(min_length=3)
    polarity: Polarity
    critical: bool = False
    weight: float = Field(default=1.0, gt=0, le=5)
    patterns: tuple[str, ...] = ()
    negation: Negation = Negation.FORBID
    unless: Nearby | None = None
    """Drop a match when one of these also matches within the scope (e.g. permission asked)."""
    requires: Nearby | None = None
    """Keep a match only when one of these also matches within the scope (e.g. a risk word
    in the reply for "it's your choice" to count as a crisis failure)."""
    detector: Detector | None = None
    feedback: str = Field(min_length=10)
    """Said when the criterion is found: praise for a strength, what to watch for a concern."""
    better: str = Field(min_length=5)
    """An example of a better reply."""
    standard: str = Field(min_length=3)
    """The published standard the criterion comes from (see reference/ethics.md)."""

    @model_validator(mode="after")
    def _has_a_way_to_match(self) -> Criterion:
        if not self.patterns and self.detector is None:
            raise ValueError("a criterion needs patterns or a detector")
        return self


class RubricExample(Content):
    """A labelled reply that must evaluate as stated; runs as a test and in `coach validate`."""

    text: str = Field(min_length=1)
    verdict: Verdict
    criteria: tuple[str, ...] = ()
    """Criteria that must be among the matches."""
    not_criteria: tuple[str, ...] = ()
    """Criteria that must not match."""
    note: str = ""


class MissedTip(Content):
    tip: str = Field(min_length=10)
    better: str = Field(min_length=5)


class Rubric(Content):
    id: str = Field(pattern=IDENTIFIER)
    version: int = Field(ge=1)
    title: str
    description: str
    standard: str
    missed: MissedTip
    """The tip given when a moment called for this dimension and the reply showed nothing."""
    classes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    criteria: tuple[Criterion, ...] = Field(min_length=1)
    examples: tuple[RubricExample, ...] = ()

    @model_validator(mode="after")
    def _unique_criteria(self) -> Rubric:
        seen: set[str] = set()
        for criterion in self.criteria:
            if criterion.id in seen:
                raise ValueError(f"duplicate criterion id {criterion.id!r}")
            seen.add(criterion.id)
        return self
