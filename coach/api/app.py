"""The FastAPI application: ``create_app(settings)`` wires content, store, services and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coach import __version__
from coach.api import problems
from coach.api.routes import router
from coach.authoring.library import ContentLibrary, load_library
from coach.config import Settings
from coach.services.sessions import SessionService
from coach.store.repository import Store

STATIC = Path(__file__).parent / "static"

DESCRIPTION = """
Coach lets peer-support trainees practise hard conversations. A simulated client speaks,
the trainee replies in free text, and Coach judges the reply against rubrics for
**respecting autonomy** and **keeping professional boundaries**, shows the exact words
behind each judgement, coaches, and lets the client answer along the branch the judgement
selects.

Start a session with `POST /api/v1/sessions`; the response carries a bearer token for that
session only. Send it as `Authorization: Bearer <token>` on every call about the session.
Errors are `application/problem+json` documents (RFC 9457) whose `type` is stable.
"""

SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"content-security-policy": (
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
    ),
}


class BodyLimit:
    """Refuse request bodies above ``limit`` bytes with 413, before anything reads them whole."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.problem(
            413,
            "payload-too-large",
            "Request body too large",
            f"the request body is larger than {self.limit} bytes",
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                path = scope.get("path", "")
                for name, value in SECURITY_HEADERS.items():
                    # The interactive docs load their own inline script; the CSP is for our pages.
                    if name == b"content-security-policy" and path.startswith(("/docs", "/redoc")):
                        continue
                    if name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(
    settings: Settings | None = None,
    *,
    library: ContentLibrary | None = None,
    store: Store | None = None,
) -> FastAPI:
    settings = settings or Settings()
    library = library or load_library(settings.scenarios_dir, settings.rubrics_dir)
    owns_store = store is None
    store = store or Store(settings.database_url)
    if settings.auto_migrate:
        store.upgrade()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_store:
            store.close()

    app = FastAPI(
        title="Coach",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "scenarios", "description": "The bundled practice scenarios."},
            {
                "name": "sessions",
                "description": "Play a scenario: start, answer turns, read the transcript and report.",
            },
            {
                "name": "evaluate",
                "description": "Stateless evaluation of one reply against every rubric.",
            },
            {"name": "health", "description": "Liveness for load balancers and orchestrators."},
        ],
    )
    app.state.settings = settings
    app.state.library = library
    app.state.store = store
    app.state.sessions = SessionService(library, store, max_reply_chars=settings.max_reply_chars)
    problems.install(app)
    app.include_router(router)

    @app.get("/problems/{code}", include_in_schema=False)
    def problem_description(code: str) -> JSONResponse:
        if code not in problems.DESCRIPTIONS:
            return problems.problem(404, "not-found", "Not found", f"no problem type {code!r}")
        return JSONResponse({"type": problems.problem_type(code), "description": problems.DESCRIPTIONS[code]})

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
