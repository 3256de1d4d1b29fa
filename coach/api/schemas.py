"""Request and response bodies of the HTTP API (v1), with the examples shown in /docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from coach.domain.debrief import Debrief
from coach.domain.evaluation import Evaluation
from coach.domain.feedback import Feedback

EVALUATION_EXAMPLE: dict[str, Any] = {
    "dimensions": {
        "autonomy": {"verdict": "violated", "score": 0.0},
        "boundaries": {"verdict": "absent", "score": 0.5},
    },
    "matches": [
        {
            "criterion": "directive-imperative",
            "dimension": "autonomy",
            "polarity": "concern",
            "start": 0,
            "end": 18,
            "text": "Just stop drinking",
            "critical": False,
        }
    ],
    "critical": [],
}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonaOut(BaseModel):
    name: str
    age: int | None
    pronouns: str
    background: str


class MapNode(BaseModel):
    id: str
    ending: bool
    outcome: str | None = None
    title: str | None = None


class MapEdge(BaseModel):
    source: str
    target: str
    when: str
    fallback: bool


class ScenarioSummary(BaseModel):
    id: str
    version: int
    title: str
    summary: str
    tags: list[str]
    minutes: int
    dimensions: list[str]
    dimension_titles: dict[str, str] = Field(description="What each dimension is called, for display.")
    decision_points: int = Field(description="Decision points on the longest path.")
    content_hash: str


class ScenarioDetail(ScenarioSummary):
    persona: PersonaOut
    setting: str
    opening: list[str]
    max_reply_chars: int = Field(description="The longest reply the service accepts.")
    map: dict[str, str | list[MapNode] | list[MapEdge]] = Field(
        description="nodes, edges and the start node id, for drawing the scenario."
    )


class ScenarioList(BaseModel):
    scenarios: list[ScenarioSummary]


class SessionCreate(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"scenario_id": "just-tell-me-what-to-do"},
                {"scenario_id": "a-gift-after-six-months", "learner": "learner-4711"},
            ]
        },
    )
    scenario_id: str = Field(min_length=1, max_length=200)
    learner: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9._:@-]+$",
        description="Your id for the learner; needs an integrator API key.",
    )


class EndingOut(BaseModel):
    title: str
    outcome: str
    debrief: str


class SessionCreated(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "session_id": "4f9c0d6a2b1e4c5f8a7d3e2b1c0f9a8d",
                    "token": "q9V2...a secret shown once...",
                    "scenario_id": "just-tell-me-what-to-do",
                    "title": "Just tell me what to do",
                    "node": "opening",
                    "client": ["I'm so tired of thinking about it. Just tell me what to do."],
                    "status": "active",
                }
            ]
        }
    )
    session_id: str
    token: str = Field(description="Bearer token for this session only. Shown once; keep it in memory.")
    scenario_id: str
    title: str
    node: str
    client: list[str]
    status: str
    max_reply_chars: int = Field(description="The longest reply the service accepts.")


class TurnCreate(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"text": "It sounds like you're exhausted. What feels right to you?"}]
        },
    )
    text: str = Field(description="The trainee's reply, up to COACH_MAX_REPLY_CHARS characters.")
    turn: int | None = Field(
        default=None,
        ge=1,
        description="The turn this reply answers (1 for the first). When given, a reply to a moment that "
        "was already answered gets 409 turn-conflict instead of becoming the next turn.",
    )


class TurnOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "seq": 1,
                    "attempt": 1,
                    "text": "Just stop drinking.",
                    "evaluation": EVALUATION_EXAMPLE,
                    "feedback": {
                        "summary": "Respecting autonomy: needs attention; Keeping boundaries: not shown.",
                        "points": [],
                        "note": None,
                    },
                    "node": "pushback",
                    "client": ["Wow. Okay. That's what everyone says."],
                    "status": "active",
                    "ending": None,
                    "turn_limit_reached": False,
                }
            ]
        }
    )
    seq: int
    attempt: int
    text: str
    evaluation: Evaluation
    feedback: Feedback
    node: str = Field(description="The node the session moved to.")
    client: list[str] = Field(description="The client's next line(s), or the closing line at an ending.")
    status: str
    ending: EndingOut | None
    turn_limit_reached: bool


class TranscriptTurnOut(BaseModel):
    seq: int
    attempt: int
    node: str
    client: list[str]
    text: str
    evaluation: Evaluation
    feedback: Feedback
    superseded: bool
    created_at: str


class TranscriptOut(BaseModel):
    session_id: str
    scenario_id: str
    title: str
    content_hash: str
    status: str
    node: str
    path: list[str]
    client: list[str]
    ending: EndingOut | None
    turns: list[TranscriptTurnOut]
    created_at: str
    updated_at: str


class EvaluateRequest(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "Just stop drinking."}]}
    )
    text: str


class EvaluateOut(Evaluation):
    model_config = ConfigDict(frozen=True, json_schema_extra={"examples": [EVALUATION_EXAMPLE]})


class LearnerSession(BaseModel):
    session_id: str
    scenario_id: str
    status: str
    created_at: str
    updated_at: str
    score: float | None
    passed: bool
    ending: str | None


class LearnerSessions(BaseModel):
    learner: str
    sessions: list[LearnerSession]


class LearnerExport(BaseModel):
    learner: str
    tenant: str
    sessions: list[dict[str, object]]


class Health(BaseModel):
    status: str = Field(examples=["ok"])


ReportOut = Debrief
