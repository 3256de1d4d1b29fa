"""An integrator's view of its learners: their sessions, an export of everything, deletion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coach.domain.debrief import Debrief
from coach.services.access import Integrator
from coach.services.sessions import SessionService, Transcript
from coach.store.repository import StoredSession


@dataclass(frozen=True)
class LearnerRecord:
    session: StoredSession
    report: Debrief


def _transcript_json(transcript: Transcript) -> dict[str, Any]:
    return {
        "session_id": transcript.session_id,
        "scenario_id": transcript.scenario.id,
        "status": transcript.status,
        "path": list(transcript.state.path),
        "turns": [
            {
                "seq": t.seq,
                "attempt": t.attempt,
                "node": t.node,
                "client": list(t.client),
                "text": t.text,
                "evaluation": t.evaluation.model_dump(mode="json"),
                "superseded": t.superseded,
                "created_at": t.created_at.isoformat(),
            }
            for t in transcript.turns
        ],
    }


class Learners:
    def __init__(self, sessions: SessionService) -> None:
        self.sessions = sessions
        self.store = sessions.store

    def records(self, integrator: Integrator, learner: str) -> list[LearnerRecord]:
        return [
            LearnerRecord(session=s, report=self.sessions.report_of(s))
            for s in self.store.learner_sessions(integrator.tenant, learner)
        ]

    def export(self, integrator: Integrator, learner: str) -> dict[str, Any]:
        """Everything Coach holds about one learner of this tenant, as JSON."""
        out = []
        for stored in self.store.learner_sessions(integrator.tenant, learner):
            out.append(
                {
                    **_transcript_json(self.sessions.transcript_of(stored)),
                    "created_at": stored.created_at.isoformat(),
                    "report": self.sessions.report_of(stored).model_dump(mode="json"),
                }
            )
        return {"learner": learner, "tenant": integrator.tenant, "sessions": out}

    def delete(self, integrator: Integrator, learner: str) -> int:
        """Delete every session and turn of one learner of this tenant; returns the session count."""
        ids = [s.id for s in self.store.learner_sessions(integrator.tenant, learner)]
        return self.store.delete_sessions(ids)
