"""HTTP routes of API v1. Thin: parse, call a service, shape the response."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from coach.api.schemas import (
    EndingOut,
    EvaluateOut,
    EvaluateRequest,
    Health,
    LearnerExport,
    LearnerSession,
    LearnerSessions,
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
from coach.services.learners import Learners
from coach.services.sessions import SessionService, TurnResult

router = APIRouter()
bearer = HTTPBearer(auto_error=False, description="The session token returned when the session was created.")

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "The reply is empty, too long or not plain text (reply-empty, reply-too-long, reply-invalid).",
        401: "Missing or wrong session token or API key (invalid-token, unauthorized).",
        404: "No such scenario or session.",
        409: "The session is finished, or this turn was already answered.",
        413: "The request body is too large.",
        422: "The body is not valid JSON of the documented shape (malformed-request), or an "
        "Idempotency-Key was reused with another body (idempotency-key-reused).",
        429: "Too many requests from this client (rate-limited); see Retry-After.",
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
    """Liveness: the process serves requests."""
    return Health(status="ok")


@router.get("/readyz", tags=["health"], response_model=Health, responses=_problems(503))
def readyz(request: Request) -> Health:
    """Readiness: the database answers. 503 with a problem document while it does not."""
    request.app.state.store.ping()
    return Health(status="ready")


_DECISION_POINTS: dict[str, int] = {}
"""Longest-path depth per content hash: content is immutable, so it is worked out once."""


def _decision_points(play: Play) -> int:
    if play.hash not in _DECISION_POINTS:
        _DECISION_POINTS[play.hash] = longest_decision_path(play.scenario)
    return _DECISION_POINTS[play.hash]


def _summary(play: Play, library: ContentLibrary) -> dict[str, Any]:
    scenario = play.scenario
    return {
        "dimension_titles": {
            d: library.rubrics[d].title if d in library.rubrics else d for d in scenario.dimensions
        },
        "id": scenario.id,
        "version": scenario.version,
        "title": scenario.title,
        "summary": scenario.summary,
        "tags": list(scenario.tags),
        "minutes": scenario.minutes,
        "dimensions": list(scenario.dimensions),
        "decision_points": _decision_points(play),
        "content_hash": play.hash,
    }


@router.get("/api/v1/scenarios", tags=["scenarios"], response_model=ScenarioList)
def list_scenarios(library: Library) -> ScenarioList:
    plays = sorted(library.plays.values(), key=lambda p: p.scenario.title.lower())
    return ScenarioList(scenarios=[ScenarioSummary(**_summary(p, library)) for p in plays])


@router.get(
    "/api/v1/scenarios/{scenario_id}",
    tags=["scenarios"],
    response_model=ScenarioDetail,
    responses=_problems(404),
)
def get_scenario(scenario_id: str, library: Library, sessions: Sessions) -> ScenarioDetail:
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
        **_summary(play, library),
        persona=PersonaOut(
            name=persona.name,
            age=persona.age,
            pronouns=persona.pronouns,
            background=persona.background,
        ),
        setting=scenario.setting,
        opening=list(scenario.nodes[scenario.start].client),
        max_reply_chars=sessions.max_reply_chars,
        map={"start": scenario.start, "nodes": nodes, "edges": edges},
    )


@router.post(
    "/api/v1/sessions",
    tags=["sessions"],
    status_code=status.HTTP_201_CREATED,
    response_model=SessionCreated,
    responses=_problems(401, 404, 413, 422, 503),
)
def create_session(body: SessionCreate, sessions: Sessions, token: Token) -> SessionCreated:
    """Start a session. Anonymous practice needs no credential; an integrator sends its API key
    as the bearer token, and may name the learner the session belongs to."""
    started = sessions.start(body.scenario_id, token, body.learner)
    return SessionCreated(
        session_id=started.session_id,
        token=started.token,
        scenario_id=started.scenario.id,
        title=started.scenario.title,
        node=started.state.node,
        client=list(started.client),
        status="active",
        max_reply_chars=sessions.max_reply_chars,
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
def submit_turn(
    request: Request,
    session_id: str,
    body: TurnCreate,
    sessions: Sessions,
    token: Token,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Send the same key when retrying: the retry gets the first response, not a new turn.",
        ),
    ] = None,
) -> TurnOut:
    """Answer the client's current line; returns the evaluation, feedback and what the client says next."""
    result = sessions.submit(session_id, token, body.text, idempotency_key, body.turn)
    request.app.state.metrics.turn_evaluated()
    return _turn_out(result)


@router.post(
    "/api/v1/sessions/{session_id}/turns/last/retry",
    tags=["sessions"],
    response_model=TurnOut,
    responses=_problems(400, 401, 404, 409, 413, 422, 503),
)
def retry_turn(
    request: Request, session_id: str, body: TurnCreate, sessions: Sessions, token: Token
) -> TurnOut:
    """Take the last reply back and answer that moment again. Both attempts stay in the transcript."""
    result = sessions.retry(session_id, token, body.text)
    request.app.state.metrics.turn_evaluated()
    return _turn_out(result)


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
def evaluate(request: Request, body: EvaluateRequest, library: Library, sessions: Sessions) -> EvaluateOut:
    """Evaluate one reply against every rubric, with no scenario context."""
    text = sessions.check_reply(body.text)
    request.app.state.metrics.evaluated()
    return EvaluateOut.model_validate(library.evaluator.evaluate(text).model_dump())


def learners_of(request: Request) -> Learners:
    learners: Learners = request.app.state.learners
    return learners


LearnerService = Annotated[Learners, Depends(learners_of)]
LEARNER_PATH = Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@-]+$")


@router.get(
    "/api/v1/learners/{learner}/sessions",
    tags=["integrators"],
    response_model=LearnerSessions,
    responses=_problems(401, 422, 503),
)
def learner_sessions(
    learner: Annotated[str, LEARNER_PATH], learners: LearnerService, sessions: Sessions, token: Token
) -> LearnerSessions:
    """A learner's sessions with their scores (integrator API key; your tenant's learners only)."""
    integrator = sessions.access.integrator(token)
    return LearnerSessions(
        learner=learner,
        sessions=[
            LearnerSession(
                session_id=r.session.id,
                scenario_id=r.session.scenario_id,
                status=r.session.status,
                created_at=r.session.created_at.isoformat(),
                updated_at=r.session.updated_at.isoformat(),
                score=r.report.score,
                passed=r.report.passed,
                ending=r.report.ending_title,
            )
            for r in learners.records(integrator, learner)
        ],
    )


@router.get(
    "/api/v1/learners/{learner}/export",
    tags=["integrators"],
    response_model=LearnerExport,
    responses=_problems(401, 422, 503),
)
def learner_export(
    learner: Annotated[str, LEARNER_PATH], learners: LearnerService, sessions: Sessions, token: Token
) -> LearnerExport:
    """Everything Coach holds about one learner: transcripts, evaluations and reports."""
    return LearnerExport.model_validate(learners.export(sessions.access.integrator(token), learner))


@router.delete(
    "/api/v1/learners/{learner}",
    tags=["integrators"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_problems(401, 422, 503),
)
def learner_delete(
    learner: Annotated[str, LEARNER_PATH], learners: LearnerService, sessions: Sessions, token: Token
) -> Response:
    """Delete every session and turn of one learner (right to erasure)."""
    learners.delete(sessions.access.integrator(token), learner)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
