"""Scenario content model: a client, the moments of a conversation, and where each reply leads.

Authored content is immutable once loaded; a running session keeps only ids and numbers
(:mod:`coach.domain.engine`), so the two can be saved and reloaded separately.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from coach.domain.rubric import IDENTIFIER, Criterion

SCENARIO_FORMAT = 1


class Content(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Persona(Content):
    name: str
    age: int | None = Field(default=None, ge=12, le=110)
    pronouns: str = ""
    background: str
    """Who the client is and why they are here; shown to trainees before they start."""
    wants: str = ""
    """What the client hopes to get from this conversation."""


class Variable(Content):
    initial: int = 0
    min: int = -10
    max: int = 10
    description: str = ""

    @model_validator(mode="after")
    def _in_range(self) -> Variable:
        if not self.min <= self.initial <= self.max:
            raise ValueError("initial must lie between min and max")
        return self


class Outcome(StrEnum):
    GOOD = "good"
    MIXED = "mixed"
    POOR = "poor"


class Ending(Content):
    title: str
    outcome: Outcome
    debrief: str = Field(min_length=20)
    """What happened and which standards were involved; shown with the session report."""


class Branch(Content):
    when: str = Field(min_length=1)
    """A condition (see coach.domain.conditions), or ``otherwise`` for the fallback."""
    goto: str = Field(pattern=IDENTIFIER)
    set: dict[str, int] = Field(default_factory=dict)
    add: dict[str, int] = Field(default_factory=dict)
    note: str = ""
    """A scenario-specific coaching note shown when this branch is taken."""


class Tip(Content):
    tip: str = Field(min_length=10)
    better: str = Field(min_length=5)


class NodeCriterion(Criterion):
    """A criterion that applies at one node only; it belongs to one of the scored dimensions."""

    dimension: str = Field(pattern=IDENTIFIER)


class Node(Content):
    client: tuple[str, ...] = Field(min_length=1)
    """What the client says on arriving at this node (one or more lines)."""
    focus: tuple[str, ...] = ()
    """Dimensions this moment calls for; a missed focus dimension earns a tip."""
    criteria: tuple[NodeCriterion, ...] = ()
    tips: dict[str, Tip] = Field(default_factory=dict)
    """Node-specific tips per dimension, used instead of the rubric's general one."""
    branches: tuple[Branch, ...] = ()
    ending: Ending | None = None

    @field_validator("client", mode="before")
    @classmethod
    def _one_line_is_a_list(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _ending_or_branches(self) -> Node:
        if self.ending is not None and self.branches:
            raise ValueError("an ending node cannot have branches")
        if self.ending is None and not self.branches:
            raise ValueError("a node needs branches, or an ending")
        return self

    @property
    def is_ending(self) -> bool:
        return self.ending is not None


class Walkthrough(Content):
    name: str
    replies: tuple[str, ...] = Field(min_length=1)
    path: tuple[str, ...] = Field(min_length=2)
    """Node ids from the start node to the node reached after the last reply."""


class TurnLimit(Content):
    turns: int = Field(default=20, ge=1, le=200)
    ending: str = Field(pattern=IDENTIFIER)
    """Where a session goes when it reaches the limit without an ending."""


class Scenario(Content):
    format: int = SCENARIO_FORMAT
    id: str = Field(pattern=IDENTIFIER)
    version: int = Field(ge=1)
    title: str
    summary: str
    tags: tuple[str, ...] = ()
    minutes: int = Field(default=10, ge=1, le=120)
    persona: Persona
    setting: str = ""
    """Where and when the conversation happens, shown before the first line."""
    dimensions: tuple[str, ...] = Field(min_length=1)
    variables: dict[str, Variable] = Field(default_factory=dict)
    start: str = Field(pattern=IDENTIFIER)
    turn_limit: TurnLimit | None = None
    nodes: dict[str, Node] = Field(min_length=2)
    walkthroughs: tuple[Walkthrough, ...] = ()

    @field_validator("nodes")
    @classmethod
    def _node_ids(cls, nodes: dict[str, Node]) -> dict[str, Node]:
        for key in nodes:
            if not re.match(IDENTIFIER, key):
                raise ValueError(f"node id {key!r} must be lower-case letters, digits, '-' or '_'")
        return nodes

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    @property
    def endings(self) -> dict[str, Node]:
        return {k: n for k, n in self.nodes.items() if n.is_ending}
