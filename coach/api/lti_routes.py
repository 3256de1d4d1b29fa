"""LTI 1.3 routes: login initiation, launch, deep linking, the tool's JWKS and configuration.

LTI pages run inside the LMS's iframe. They never depend on cookies, carry a CSP whose
``frame-ancestors`` names only the launching platform's origins (never ``*``), and hand the
session over in the body of the launch response (the page's script reads it from a meta
element and keeps the token in sessionStorage, never in a URL). "Open in a new window" uses a
one-time code in the URL fragment, exchanged over fetch for a fresh token.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from coach.api import problems
from coach.api.routes import Token, _problems
from coach.authoring.library import ContentLibrary
from coach.config import Settings
from coach.domain.debrief import Debrief
from coach.errors import InvalidToken
from coach.integrations.lti.ags import SCORE_KIND
from coach.integrations.lti.errors import LtiError, LtiNoScenario
from coach.integrations.lti.launch import DEEP_LINKING, Launch, LtiTool, origin
from coach.services.access import Access
from coach.services.sessions import SessionService
from coach.store.lti_repository import LtiStore, SessionLink
from coach.store.repository import StoredMessage, StoredSession

router = APIRouter(tags=["lti"])
STATIC = Path(__file__).parent / "static"
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
LTI_STATUS = {
    400: "The launch is malformed: a claim is missing or wrong (lti-claim-missing, lti-wrong-version, ...).",
    401: "The launch is not authentic: state, signature, key, audience, expiry or nonce (lti-*).",
    403: "The platform or deployment is not registered (lti-unknown-platform, lti-unknown-deployment).",
    502: "The platform's key set could not be fetched (lti-platform-unavailable).",
}


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Documented problem responses: the LTI ones described here, the rest as in the v1 API."""
    documented = _problems(*(c for c in codes if c not in LTI_STATUS))
    for code in codes:
        if code in LTI_STATUS:
            documented[code] = {"description": LTI_STATUS[code], **PROBLEM}
    return documented


def tool_of(request: Request) -> LtiTool:
    tool: LtiTool = request.app.state.lti
    return tool


Tool = Annotated[LtiTool, Depends(tool_of)]


async def form_of(request: Request) -> dict[str, str]:
    """The fields of an application/x-www-form-urlencoded body (platforms post these)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def csp(frame_ancestors: list[str], form_action: list[str] | None = None) -> str:
    ancestors = " ".join(frame_ancestors) if frame_ancestors else "'none'"
    actions = " ".join(["'self'", *(form_action or [])])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action {actions}; "
        f"frame-ancestors {ancestors}"
    )


def lti_page(body: str, frame_ancestors: list[str], *, form_action: list[str] | None = None) -> HTMLResponse:
    response = HTMLResponse(body)
    response.headers["Content-Security-Policy"] = csp(frame_ancestors, form_action)
    response.headers["Cache-Control"] = "no-store"
    return response


def document(title: str, main: str, *, script: bool = False) -> str:
    e = html.escape
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)} — Coach</title>\n"
        '<link rel="stylesheet" href="/static/coach.css">\n'
        + ('<script src="/static/coach.js" defer></script>\n' if script else "")
        + '</head>\n<body>\n<header class="site-header"><div class="wrap site-header__inner">'
        '<p class="brand"><span class="brand__mark" aria-hidden="true"></span>Coach</p></div></header>\n'
        f'<main id="main" class="wrap">\n{main}\n</main>\n</body>\n</html>\n'
    )


def chat_page(meta_name: str, data: dict[str, Any] | None = None) -> str:
    """The chat page with a meta element its script reads on load (the launch's handover)."""
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    content = html.escape(json.dumps(data or {}), quote=True)
    return page.replace("</head>", f'<meta name="{meta_name}" content="{content}">\n</head>', 1)


# -- login and launch ---------------------------------------------------------------------------


async def login(
    request: Request,
    tool: Tool,
    iss: Annotated[str | None, Query(description="The platform's issuer.")] = None,
    login_hint: Annotated[str | None, Query(description="Opaque; passed back to the platform.")] = None,
    target_link_uri: Annotated[str | None, Query(description="Where the launch should land.")] = None,
    lti_message_hint: Annotated[str | None, Query(description="Opaque; passed back.")] = None,
    client_id: Annotated[str | None, Query(description="Coach's client id on the platform.")] = None,
    lti_deployment_id: Annotated[str | None, Query(description="The deployment, if known.")] = None,
) -> RedirectResponse:
    """The platform starts a launch here, by query (GET) or form (POST); Coach answers with a
    redirect to the platform's authorisation endpoint carrying a signed state and a fresh nonce."""
    params = dict(request.query_params)
    if request.method == "POST":
        params.update(await form_of(request))
    return RedirectResponse(tool.login(params), status_code=302)


LOGIN_RESPONSES: dict[int | str, dict[str, Any]] = {
    302: {"description": "To the platform's authorisation endpoint."},
    **problem_responses(400, 403, 413, 422, 503),
}
# One route serves both methods (so a 405 names both in Allow); two hidden-free twins document them.
router.add_api_route("/lti/login", login, methods=["GET", "POST"], include_in_schema=False)
router.add_api_route(
    "/lti/login",
    login,
    methods=["GET"],
    status_code=302,
    summary="OIDC login initiation (GET)",
    responses=LOGIN_RESPONSES,
    operation_id="lti_login_get",
)
router.add_api_route(
    "/lti/login",
    login,
    methods=["POST"],
    status_code=302,
    summary="OIDC login initiation (POST)",
    responses=LOGIN_RESPONSES,
    operation_id="lti_login_post",
)


def _launch(request: Request, tool: LtiTool, fields: dict[str, str]) -> HTMLResponse:
    launch = tool.validate(fields.get("id_token"), fields.get("state"))
    if launch.message_type == DEEP_LINKING:
        return picker_page(request, tool, launch)
    if launch.is_staff:
        return instructor_page(request, tool, launch)
    settings: Settings = request.app.state.settings
    sessions: SessionService = request.app.state.sessions
    handoff = tool.start(sessions, launch, global_xapi=bool(settings.xapi_endpoint))
    data = {
        "session_id": handoff.session_id,
        "token": handoff.token,
        "window_code": handoff.new_window_code,
        "resumed": handoff.resumed,
        "context": launch.context_title,
    }
    return lti_page(chat_page("coach-launch", data), launch.frame_origins())


@router.post(
    "/lti/launch",
    summary="LTI 1.3 launch (the OIDC redirect URI)",
    response_class=HTMLResponse,
    responses=problem_responses(400, 401, 403, 404, 413, 502, 503),
)
async def launch(request: Request, tool: Tool) -> HTMLResponse:
    """The platform form-posts ``id_token`` and ``state`` here. A learner gets the chat page with
    the scenario; an instructor the sessions of this link; a deep-linking request the picker."""
    return _launch(request, tool, await form_of(request))


@router.post(
    "/lti/deep-linking",
    summary="LTI deep linking launch",
    response_class=HTMLResponse,
    responses=problem_responses(400, 401, 403, 404, 413, 502, 503),
)
async def deep_linking(request: Request, tool: Tool) -> HTMLResponse:
    """Same as ``/lti/launch``; the address platforms show as the content-selection URL."""
    return _launch(request, tool, await form_of(request))


# -- deep linking ---------------------------------------------------------------------------------


def picker_page(request: Request, tool: LtiTool, launch: Launch) -> HTMLResponse:
    library: ContentLibrary = request.app.state.library
    e = html.escape
    context = tool.picker_context(launch)
    items = []
    for play in sorted(library.plays.values(), key=lambda p: p.scenario.title):
        scenario = play.scenario
        items.append(
            '<li class="scenario-card">'
            f"<h2>{e(scenario.title)}</h2><p>{e(scenario.summary)}</p>"
            f'<p class="muted">About {scenario.minutes} minutes · id <code>{e(scenario.id)}</code></p>'
            '<form method="post" action="/lti/deep-linking/response">'
            f'<input type="hidden" name="context" value="{e(context)}">'
            f'<input type="hidden" name="scenario" value="{e(scenario.id)}">'
            f'<button type="submit" class="button button--primary">Add “{e(scenario.title)}”</button>'
            "</form></li>"
        )
    main = (
        '<h1>Add a practice conversation</h1><p class="lede">Pick the scenario this link opens. '
        "The course gets a gradebook column scored out of 100.</p>"
        f'<ul class="scenario-list" data-page="lti-picker">{"".join(items)}</ul>'
    )
    return lti_page(document("Add a practice conversation", main), launch.frame_origins())


@router.post(
    "/lti/deep-linking/response",
    summary="Return the picked scenario to the platform",
    response_class=HTMLResponse,
    responses=problem_responses(400, 401, 404, 413, 503),
)
async def deep_linking_response(request: Request, tool: Tool) -> HTMLResponse:
    """Posted by the picker: answers with a form that carries the signed LtiDeepLinkingResponse
    (an ltiResourceLink content item with a line item) back to the platform."""
    fields = await form_of(request)
    library: ContentLibrary = request.app.state.library
    scenario = library.play(fields.get("scenario", "")).scenario
    result = tool.deep_link_response(fields.get("context", ""), scenario.id, scenario.title, scenario.summary)
    e = html.escape
    main = (
        f"<h1>Adding “{e(scenario.title)}”</h1>"
        f'<form method="post" action="{e(result.return_url)}" data-autosubmit>'
        f'<input type="hidden" name="JWT" value="{e(result.jwt)}">'
        '<button type="submit" class="button button--primary">Return to the course</button></form>'
    )
    return_origin = origin(result.return_url)
    return lti_page(
        document("Return to the course", main, script=True),
        result.frame_origins,
        form_action=[return_origin] if return_origin else [],
    )


# -- the instructor's view --------------------------------------------------------------------


def _grade(message: StoredMessage | None, has_lineitem: bool) -> str:
    if not has_lineitem:
        return "no gradebook column"
    if message is None:
        return "—"
    if message.status == "delivered":
        return "sent to the gradebook"
    if message.status == "refused":
        return f"refused by the platform: {message.last_error}"
    waiting = f"waiting (attempt {message.attempts}" + (
        f": {message.last_error})" if message.last_error else ")"
    )
    return waiting


def _session_row(
    sessions: SessionService, link: SessionLink, stored: StoredSession, grade: str, number: int
) -> str:
    e = html.escape
    report: Debrief = sessions.report_of(stored)
    transcript = sessions.transcript_of(stored)
    who = link.name or f"Learner {link.subject[:8]}"
    score = "—" if report.score is None or not report.finished else f"{report.score:.0%}"
    result = ("passed" if report.passed else "not passed") if report.finished else "in progress"
    turns = []
    for turn in transcript.turns:
        verdicts = ", ".join(
            f"{e(name)} {e(r.verdict.value)} ({r.score:.2f})"
            for name, r in turn.evaluation.dimensions.items()
        )
        client = " ".join(turn.client)
        retried = ' <span class="muted">(taken back)</span>' if turn.superseded else ""
        turns.append(
            f"<li><p><strong>Client:</strong> {e(client)}</p>"
            f"<p><strong>Reply:</strong> {e(turn.text)}{retried}</p>"
            f'<p class="muted">{verdicts}</p></li>'
        )
    ending = f"<p>Ending: {e(report.ending_title)}</p>" if report.ending_title else ""
    return (
        f"<tr><td>{e(who)}</td><td>{stored.created_at:%Y-%m-%d %H:%M}</td><td>{e(result)}</td>"
        f"<td>{score}</td><td>{e(grade)}</td></tr>"
        f'<tr><td colspan="5"><details><summary>Transcript {number}: {e(who)}</summary>{ending}'
        f'<ol class="transcript-list">{"".join(turns) or "<li>No replies yet.</li>"}</ol></details></td></tr>'
    )


def instructor_page(request: Request, tool: LtiTool, launch: Launch) -> HTMLResponse:
    e = html.escape
    sessions: SessionService = request.app.state.sessions
    library: ContentLibrary = request.app.state.library
    store: LtiStore = request.app.state.lti_store
    try:
        scenario_id = launch.scenario_id()
        play = library.plays.get(scenario_id)
        about = (
            f"<p>This link opens <strong>{e(play.scenario.title)}</strong> "
            f"(<code>{e(scenario_id)}</code>).</p>"
            if play
            else '<p class="notice notice--error">This link names scenario '
            f"<code>{e(scenario_id)}</code>, which Coach does not have.</p>"
        )
    except LtiNoScenario as exc:
        about = f'<p class="notice notice--error">{e(exc.detail)}</p>'
    assert launch.resource_link_id is not None
    rows = store.resource_link_sessions(launch.registration.id, launch.resource_link_id)
    grades = store.messages_by_key([f"{SCORE_KIND}:{stored.id}" for _, stored in rows])
    body = "".join(
        _session_row(
            sessions,
            link,
            stored,
            _grade(
                grades.get(f"{SCORE_KIND}:{stored.id}"),
                bool((stored.context or {}).get("lti", {}).get("lineitem")),
            ),
            number,
        )
        for number, (link, stored) in enumerate(rows, start=1)
    )
    title = launch.resource_link_title or "Practice conversation"
    main = (
        f'<h1 data-page="lti-instructor">{e(title)}: learners\' sessions</h1>{about}'
        f"<p>{len(rows)} session{'s' if len(rows) != 1 else ''} from this link.</p>"
        '<table class="sessions-table"><thead><tr><th>Learner</th><th>Started</th><th>Result</th>'
        f"<th>Score</th><th>Grade</th></tr></thead><tbody>{body}</tbody></table>"
    )
    return lti_page(document(title, main), launch.frame_origins())


# -- keys and configuration -------------------------------------------------------------------


@router.get("/lti/jwks", summary="The tool's public keys (JWKS)")
def jwks(tool: Tool) -> JSONResponse:
    """Platforms verify Coach's client assertions and deep-linking responses with these keys."""
    return JSONResponse(tool.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


def canvas_config(tool: LtiTool, title: str = "Coach") -> dict[str, Any]:
    """A Canvas developer key JSON configuration (also a readable summary for other platforms)."""
    domain = tool.public_url.split("://", 1)[-1].split("/", 1)[0]
    return {
        "title": title,
        "description": "Practise hard peer-support conversations with rubric-based coaching.",
        "oidc_initiation_url": tool.login_url,
        "target_link_uri": tool.launch_url,
        "public_jwk_url": tool.jwks_url,
        "scopes": [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        ],
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": domain,
                "privacy_level": "public",
                "settings": {
                    "placements": [
                        {
                            "placement": "link_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": tool.deep_linking_url,
                        },
                        {
                            "placement": "assignment_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": tool.deep_linking_url,
                        },
                    ]
                },
            }
        ],
        "custom_fields": {},
    }


@router.get("/lti/config", summary="Canvas-style JSON configuration of the tool")
def config(tool: Tool) -> JSONResponse:
    return JSONResponse(canvas_config(tool))


# -- handoffs: the same session in a new window ---------------------------------------------------


class HandoffCode(BaseModel):
    code: str = Field(min_length=1, max_length=200, description="A one-time code from a launch.")


class HandoffSession(BaseModel):
    session_id: str
    token: str = Field(description="A fresh session token; the one the framed page held stops working.")


@router.post(
    "/lti/handoffs",
    summary="A new one-time code for this session",
    responses=problem_responses(401, 404, 422, 503),
)
def mint_handoff(
    request: Request,
    tool: Tool,
    token: Token,
    session_id: Annotated[str, Query(max_length=64, description="The session to open elsewhere.")] = "",
) -> HandoffCode:
    """With the session's bearer token: a one-time code that opens it at ``/lti/resume#<code>``."""
    if not token:
        raise InvalidToken("the session token is missing")
    Access(request.app.state.store).open_session(session_id, token, allow_integrator=False)
    return HandoffCode(code=tool.mint_handoff(session_id))


@router.post(
    "/lti/handoffs/redeem",
    summary="Exchange a one-time code for the session",
    responses=problem_responses(401, 413, 422, 503),
)
def redeem_handoff(body: HandoffCode, tool: Tool) -> HandoffSession:
    session_id, token = tool.redeem_handoff(body.code)
    return HandoffSession(session_id=session_id, token=token)


@router.get("/lti/resume", summary="The chat page that redeems a one-time code", response_class=HTMLResponse)
def resume() -> HTMLResponse:
    """Opened in a new top-level window as ``/lti/resume#<code>``: the code never reaches a server log."""
    return lti_page(chat_page("coach-resume"), [])


def install(app: FastAPI) -> None:
    """Add the router and turn LTI refusals into problem documents with their own status."""

    async def lti_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LtiError)
        return problems.problem(exc.status, exc.code, exc.title, exc.detail, instance=request.url.path)

    app.add_exception_handler(LtiError, lti_error)
    app.include_router(router)
