"""Assignment and Grade Services: a completed launched session queues its score for the gradebook.

The sink turns :class:`SessionCompleted` into one ``lti-score`` outbox message per session
(dedupe key ``lti-score:<session>``), written in the same transaction as the last turn; the
transport in ``coach.integrations.transports`` delivers it with a client-credentials token.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from coach.domain.debrief import Debrief
from coach.domain.events import Event, OutboxMessage, SessionCompleted
from coach.integrations.lti.launch import SCORE_MAXIMUM

SCORE_KIND = "lti-score"


def coaching_summary(debrief: Debrief, limit: int = 1000) -> str:
    """A short comment for the gradebook: the ending, the score, a strength and a growth area."""
    score = debrief.score or 0.0
    verdict = "passed" if debrief.passed else "not passed yet"
    parts = [f"{debrief.scenario_title}: {debrief.ending_title or 'finished'}, {score:.0%} ({verdict})."]
    if debrief.critical_incidents:
        parts.append(f"Critical: {debrief.critical_incidents[0].label}.")
    if debrief.strengths:
        parts.append(f"Strength: {debrief.strengths[0].label}.")
    if debrief.growth_areas:
        parts.append(f"To work on: {debrief.growth_areas[0].label}.")
    text = " ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def score_payload(event: SessionCompleted, subject: str) -> dict[str, Any]:
    debrief = event.debrief
    return {
        "userId": subject,
        "scoreGiven": round((debrief.score or 0.0) * SCORE_MAXIMUM, 2),
        "scoreMaximum": SCORE_MAXIMUM,
        "comment": coaching_summary(debrief),
        "timestamp": event.at.astimezone(UTC).isoformat(timespec="milliseconds"),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
    }


def score_sink(event: Event) -> list[OutboxMessage]:
    """Queue the score of a completed session that came from a launch with a gradebook line item."""
    if not isinstance(event, SessionCompleted):
        return []
    lti = event.session.context.get("lti")
    if not isinstance(lti, dict) or not lti.get("lineitem") or not lti.get("sub"):
        return []
    return [
        OutboxMessage(
            kind=SCORE_KIND,
            target=str(lti["lineitem"]),
            payload={"registration": lti["registration"], "score": score_payload(event, str(lti["sub"]))},
            dedupe_key=f"{SCORE_KIND}:{event.session.session_id}",
        )
    ]
