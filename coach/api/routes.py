"""HTTP routes of API v1. Thin: parse, call a service, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from coach.api.schemas import (
    EndingOut,
    EvaluateOut,
    EvaluateRequest,
    Health,
    MapEdge,
    MapNode,
    PersonaOut,
    ReportOut,
    ScenarioDetail,
    ScenarioList,
    ScenarioSummary,
    SessionCreate,
    SessionCreated,
    TranscriptOut,
    TranscriptTurnOut,
    TurnCreate,
    TurnOut,
)
from coach.authoring.library import ContentLibrary, parse_fallback
from coach.domain.engine import Play
from coach.domain.graph import longest_decision_path
from coach.domain.scenario import Ending
from coach.services.sessions import SessionService, TurnResult

router = APIRouter()
bearer = HTTPBearer(auto_error=False, description="The session token returned when the session was created.")

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "The reply is empty or too long (types reply-empty, reply-too-long).",
        401: "Missing or wrong session token (type invalid-token).",
        404: "No such scenario or session.",
        409: "The session is finished, or this turn was already answered.",
        413: "The request body is too large.",
        422: "The body is not valid JSON of the documented shape (type malformed-request).",
        503: "The database is unavailable; nothing was changed.",
    }
    return {code: {"description": described[code], **PROBLEM} for code in codes}


def library_of(request: Request) -> ContentLibrary:
    library: ContentLibrary = request.app.state.library
    return library


def sessions_of(request: Request) -> SessionService:
    service: SessionService = request.app.state.sessions
    return service


def token_of(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str | None:
    return credentials.credentials if credentials else None


Library = Annotated[ContentLibrary, Depends(library_of)]
Sessions = Annotated[SessionService, Depends(sessions_of)]
Token = Annotated[str | None, Depends(token_of)]


@router.get("/healthz", tags=["health"], response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


def _summary(play: Play) -> dict[str, Any]:
    scenario = play.scenario
    return {
        "id": scenario.id,
        "version": scenario.version,
        "title": scenario.title,
        "summary": scenario.summary,
        "tags": list(scenario.tags),
        "minutes": scenario.minutes,
        "dimensions": list(scenario.dimensions),
        "decision_points": longest_decision_path(scenario),
        "content_hash": play.hash,
    }


@router.get("/api/v1/scenarios", tags=["scenarios"], response_model=ScenarioList)
def list_scenarios(library: Library) -> ScenarioList:
    plays = sorted(library.plays.values(), key=lambda p: p.scenario.title.lower())
    return ScenarioList(scenarios=[ScenarioSummary(**_summary(p)) for p in plays])


@router.get(
    "/api/v1/scenarios/{scenario_id}",
    tags=["scenarios"],
    response_model=ScenarioDetail,
    responses=_problems(404),
)
def get_scenario(scenario_id: str, library: Library) -> ScenarioDetail:
    play = library.play(scenario_id)
    scenario = play.scenario
    nodes = [
        MapNode(
            id=node_id,
            ending=node.is_ending,
            outcome=node.ending.outcome.value if node.ending else None,
            title=node.ending.title if node.ending else None,
        )
        for node_id, node in scenario.nodes.items()
    ]
    edges = [
        MapEdge(
            source=node_id,
            target=branch.goto,
            when=branch.when,
            fallback=parse_fallback(branch.when),
        )
        for node_id, node in scenario.nodes.items()
        for branch in node.branches
    ]
    persona = scenario.persona
    return ScenarioDetail(
        **_summary(play),
        persona=PersonaOut(
            name=persona.name,
            age=persona.age,
            pronouns=persona.pronouns,
            background=persona.background,
        ),
        setting=scenario.setting,
        opening=list(scenario.nodes[scenario.start].client),
        map={"nodes": nodes, "edges": edges},
    )


@router.post(
    "/api/v1/sessions",
    tags=["sessions"],
    status_code=status.HTTP_201_CREATED,
    response_model=SessionCreated,
    responses=_problems(404, 413, 422, 503),
)
def create_session(body: SessionCreate, sessions: Sessions) -> SessionCreated:
    started = sessions.start(body.scenario_id)
    return SessionCreated(
        session_id=started.session_id,
        token=started.token,
        scenario_id=started.scenario.id,
        title=started.scenario.title,
        node=started.state.node,
        client=list(started.client),
        status="active",
    )


def _ending(ending: Ending | None) -> EndingOut | None:
    if ending is None:
        return None
    return EndingOut(title=ending.title, outcome=ending.outcome.value, debrief=ending.debrief)


def _turn_out(result: TurnResult) -> TurnOut:
    return TurnOut(
        seq=result.seq,
        attempt=result.attempt,
        text=result.text,
        evaluation=result.evaluation,
        feedback=result.feedback,
        node=result.node,
        client=list(result.client),
        status="finished" if result.state.finished else "active",
        ending=_ending(result.ending),
        turn_limit_reached=result.turn_limit_reached,
    )


@router.post(
    "/api/v1/sessions/{session_id}/turns",
    tags=["sessions"],
    response_model=TurnOut,
    responses=_problems(400, 401, 404, 409, 413, 422, 503),
)
def submit_turn(session_id: str, body: TurnCreate, sessions: Sessions, token: Token) -> TurnOut:
    """Answer the client's current line; returns the evaluation, feedback and what the client says next."""
    return _turn_out(sessions.submit(session_id, token, body.text))


@router.post(
    "/api/v1/sessions/{session_id}/turns/last/retry",
    tags=["sessions"],
    response_model=TurnOut,
    responses=_problems(400, 401, 404, 409, 413, 422, 503),
)
def retry_turn(session_id: str, body: TurnCreate, sessions: Sessions, token: Token) -> TurnOut:
    """Take the last reply back and answer that moment again. Both attempts stay in the transcript."""
    return _turn_out(sessions.retry(session_id, token, body.text))


@router.get(
    "/api/v1/sessions/{session_id}",
    tags=["sessions"],
    response_model=TranscriptOut,
    responses=_problems(401, 404, 503),
)
def get_session(session_id: str, sessions: Sessions, token: Token) -> TranscriptOut:
    """The transcript: every turn (including taken-back attempts) with its evaluation and feedback."""
    t = sessions.transcript(session_id, token)
    return TranscriptOut(
        session_id=t.session_id,
        scenario_id=t.scenario.id,
        title=t.scenario.title,
        content_hash=t.content_hash,
        status=t.status,
        node=t.state.node,
        path=list(t.state.path),
        client=list(t.client),
        ending=_ending(t.ending),
        turns=[
            TranscriptTurnOut(
                seq=turn.seq,
                attempt=turn.attempt,
                node=turn.node,
                client=list(turn.client),
                text=turn.text,
                evaluation=turn.evaluation,
                feedback=turn.feedback,
                superseded=turn.superseded,
                created_at=turn.created_at.isoformat(),
            )
            for turn in t.turns
        ],
        created_at=t.created_at.isoformat(),
        updated_at=t.updated_at.isoformat(),
    )


@router.get(
    "/api/v1/sessions/{session_id}/report",
    tags=["sessions"],
    response_model=ReportOut,
    responses=_problems(401, 404, 503),
)
def get_report(session_id: str, sessions: Sessions, token: Token) -> ReportOut:
    """The debrief: scores per dimension, critical incidents, strengths, growth areas and the path."""
    return sessions.report(session_id, token)


@router.post(
    "/api/v1/evaluate",
    tags=["evaluate"],
    response_model=EvaluateOut,
    responses=_problems(400, 413, 422),
)
def evaluate(body: EvaluateRequest, library: Library, sessions: Sessions) -> EvaluateOut:
    """Evaluate one reply against every rubric, with no scenario context."""
    text = sessions.check_reply(body.text)
    return EvaluateOut.model_validate(library.evaluator.evaluate(text).model_dump())
