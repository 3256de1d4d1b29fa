"""xAPI statements for sessions, queued through the outbox and sent to an LRS.

Statements (xAPI 1.0.3):

- start: ``initialized`` the scenario;
- every turn: ``responded`` to the moment (an interaction activity under the scenario), with
  per-dimension verdicts and scores, matched criteria and critical incidents in result
  extensions; the reply text in ``result.response`` only when the deployment opts in;
- completion: ``completed`` (``result.completion``, ``success``, ``score.scaled``) and then
  ``passed`` or ``failed``.

Every statement of a session carries ``context.registration`` = a UUID derived from the
session id, and its id is a UUID5 of the session id and the event, so a resend is the same
statement (an LRS answers 204 or 409 to it) and never a duplicate. The LRS is the launch's
deployment's (``coach lti register --xapi-endpoint``) or the global one (COACH_XAPI_ENDPOINT).
Anonymous practice sessions have nobody to attribute a statement to and send none.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from coach.domain.evaluation import Evaluation
from coach.domain.events import (
    Event,
    OutboxMessage,
    SessionContext,
    SessionStarted,
    TurnRecorded,
)

XAPI_KIND = "xapi"
NAMESPACE = uuid.UUID("8c4f1f8e-5a4b-5d0e-9a57-2f1d0c6b7e31")
VERBS = {
    "initialized": "http://adlnet.gov/expapi/verbs/initialized",
    "responded": "http://adlnet.gov/expapi/verbs/responded",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
}
SCENARIO_TYPE = "http://adlnet.gov/expapi/activities/simulation"
INTERACTION_TYPE = "http://adlnet.gov/expapi/activities/cmi.interaction"


def registration_of(session_id: str) -> str:
    """The xAPI registration that ties every statement of one session together."""
    return str(uuid.uuid5(NAMESPACE, f"session:{session_id}"))


def statement_id(session_id: str, event: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{session_id}:{event}"))


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


class XapiSink:
    """Turns session events into statements; configured with Coach's public URL and the global LRS."""

    def __init__(self, public_url: str, *, global_endpoint: str = "", include_text: bool = False) -> None:
        self.base = public_url.rstrip("/")
        self.global_endpoint = global_endpoint
        self.include_text = include_text

    def ext(self, name: str) -> str:
        return f"{self.base}/xapi/extensions/{name}"

    def _destination(self, session: SessionContext) -> tuple[str, str, bool] | None:
        """(endpoint, lrs reference for credentials, include reply text) or None to send nothing."""
        lti = session.context.get("lti")
        if isinstance(lti, dict):
            xapi = lti.get("xapi")
            if not isinstance(xapi, dict):
                return None
            if xapi.get("lrs") == "global":
                if not self.global_endpoint:
                    return None
                return self.global_endpoint, "global", bool(xapi.get("include_text"))
            return str(xapi["endpoint"]), str(xapi["lrs"]), bool(xapi.get("include_text"))
        if not self.global_endpoint or not session.learner:
            return None
        return self.global_endpoint, "global", self.include_text

    def _actor(self, session: SessionContext) -> dict[str, Any]:
        lti = session.context.get("lti")
        if isinstance(lti, dict) and lti.get("sub"):
            home = str(lti["issuer"])
            name = str(lti["sub"])
        else:
            home = f"{self.base}/tenants/{session.tenant or 'public'}"
            name = str(session.learner)
        return {"objectType": "Agent", "account": {"homePage": home, "name": name}}

    def scenario_activity(self, session: SessionContext) -> dict[str, Any]:
        return {
            "objectType": "Activity",
            "id": f"{self.base}/scenarios/{session.scenario_id}",
            "definition": {"type": SCENARIO_TYPE, "name": {"en": session.scenario_title}},
        }

    def _context(self, session: SessionContext, *, parent: bool) -> dict[str, Any]:
        context: dict[str, Any] = {"registration": registration_of(session.session_id), "platform": "Coach"}
        activities: dict[str, Any] = {}
        if parent:
            activities["parent"] = [self.scenario_activity(session)]
        lti = session.context.get("lti")
        if isinstance(lti, dict) and lti.get("context_id"):
            activities["grouping"] = [
                {
                    "objectType": "Activity",
                    "id": f"{lti['issuer'].rstrip('/')}/lti/contexts/{lti['context_id']}",
                }
            ]
        if activities:
            context["contextActivities"] = activities
        return context

    def _evaluation_extensions(self, evaluation: Evaluation) -> dict[str, Any]:
        return {
            self.ext("dimensions"): {
                name: {"verdict": result.verdict.value, "score": result.score}
                for name, result in evaluation.dimensions.items()
            },
            self.ext("criteria"): [
                {"criterion": m.criterion, "dimension": m.dimension, "polarity": m.polarity.value}
                for m in evaluation.matches
            ],
            self.ext("critical"): list(evaluation.critical),
        }

    def statements(self, event: Event, include_text: bool) -> list[tuple[str, dict[str, Any]]]:
        session = event.session
        base = {"actor": self._actor(session), "timestamp": _timestamp(event.at)}
        if isinstance(event, SessionStarted):
            return [
                (
                    "started",
                    {
                        **base,
                        "verb": {"id": VERBS["initialized"], "display": {"en": "initialized"}},
                        "object": self.scenario_activity(session),
                        "context": self._context(session, parent=False),
                    },
                )
            ]
        if isinstance(event, TurnRecorded):
            scores = [r.score for r in event.evaluation.dimensions.values()]
            result: dict[str, Any] = {"extensions": self._evaluation_extensions(event.evaluation)}
            if scores:
                result["score"] = {"scaled": round(sum(scores) / len(scores), 4), "min": 0, "max": 1}
            if include_text:
                result["response"] = event.text
            moment = {
                "objectType": "Activity",
                "id": f"{self.base}/scenarios/{session.scenario_id}/moments/{event.node}",
                "definition": {
                    "type": INTERACTION_TYPE,
                    "name": {"en": f"{session.scenario_title}: {event.node}"},
                    "interactionType": "long-fill-in",
                },
            }
            context = self._context(session, parent=True)
            context["extensions"] = {self.ext("turn"): {"seq": event.seq, "attempt": event.attempt}}
            return [
                (
                    f"turn:{event.seq}:{event.attempt}",
                    {
                        **base,
                        "verb": {"id": VERBS["responded"], "display": {"en": "responded"}},
                        "object": moment,
                        "result": result,
                        "context": context,
                    },
                )
            ]
        debrief = event.debrief
        scaled = round(debrief.score or 0.0, 4)
        outcome = "passed" if debrief.passed else "failed"
        result = {
            "completion": True,
            "success": debrief.passed,
            "score": {"scaled": scaled, "raw": scaled, "min": 0, "max": 1},
            "extensions": {
                self.ext("dimensions"): {d.dimension: d.score for d in debrief.dimensions},
                self.ext("ending"): debrief.ending,
                self.ext("critical"): [i.criterion for i in debrief.critical_incidents],
                self.ext("path"): list(debrief.path),
            },
        }
        scenario = self.scenario_activity(session)
        context = self._context(session, parent=False)
        return [
            (
                "completed",
                {
                    **base,
                    "verb": {"id": VERBS["completed"], "display": {"en": "completed"}},
                    "object": scenario,
                    "result": result,
                    "context": context,
                },
            ),
            (
                outcome,
                {
                    **base,
                    "verb": {"id": VERBS[outcome], "display": {"en": outcome}},
                    "object": scenario,
                    "result": {"success": debrief.passed, "score": result["score"]},
                    "context": context,
                },
            ),
        ]

    def __call__(self, event: Event) -> list[OutboxMessage]:
        destination = self._destination(event.session)
        if destination is None:
            return []
        endpoint, lrs, include_text = destination
        messages = []
        for name, statement in self.statements(event, include_text):
            sid = statement_id(event.session.session_id, name)
            statement = {"id": sid, **statement}
            messages.append(
                OutboxMessage(
                    kind=XAPI_KIND,
                    target=endpoint,
                    payload={"lrs": lrs, "statement": statement},
                    dedupe_key=f"xapi:{sid}",
                )
            )
        return messages
