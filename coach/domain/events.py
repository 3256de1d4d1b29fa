"""Domain events: what happened in a session, for integrations to turn into outbound messages.

Services emit these; integration sinks (xAPI statements, LMS grade passback) turn them into
:class:`OutboxMessage` rows written in the same transaction as the change they describe, so
a message exists exactly when its change does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coach.domain.debrief import Debrief
from coach.domain.evaluation import Evaluation


@dataclass(frozen=True)
class SessionContext:
    session_id: str
    scenario_id: str
    scenario_title: str
    tenant: str | None
    learner: str | None
    context: Mapping[str, Any]
    """Integration data the session was started with (e.g. an LTI launch's line item)."""


@dataclass(frozen=True)
class SessionStarted:
    session: SessionContext
    at: datetime


@dataclass(frozen=True)
class TurnRecorded:
    session: SessionContext
    seq: int
    attempt: int
    node: str
    text: str
    evaluation: Evaluation
    at: datetime


@dataclass(frozen=True)
class SessionCompleted:
    session: SessionContext
    debrief: Debrief
    at: datetime


Event = SessionStarted | TurnRecorded | SessionCompleted


@dataclass(frozen=True)
class OutboxMessage:
    kind: str
    """Which transport delivers it, e.g. "xapi" or "lti-score"."""
    target: str
    """Where it goes (an LRS or line-item URL)."""
    payload: Mapping[str, Any]
    dedupe_key: str
    """The same key is never queued twice: resending an event cannot duplicate a message."""


Sink = Callable[[Event], list[OutboxMessage]]
