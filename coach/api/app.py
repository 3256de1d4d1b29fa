"""The FastAPI application: ``create_app(settings)`` wires content, store, services and routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from coach import __version__
from coach.api import lti_routes, problems
from coach.api.metrics import Metrics
from coach.api.middleware import BodyLimit, RateLimit, RequestLog, SecurityHeaders, configure_logging
from coach.api.routes import router
from coach.authoring.library import ContentLibrary, load_library
from coach.config import Settings
from coach.domain.events import Event, OutboxMessage, Sink
from coach.errors import CoachError
from coach.integrations.lti import errors as lti_errors
from coach.integrations.lti.ags import SCORE_KIND, score_sink
from coach.integrations.lti.keys import ToolKeys
from coach.integrations.lti.launch import LtiTool
from coach.integrations.lti.platform_keys import PlatformKeys
from coach.integrations.transports import AccessTokens, ScoreTransport, XapiTransport
from coach.integrations.xapi import XAPI_KIND, XapiSink
from coach.services.learners import Learners
from coach.services.outbox import Outbox, Transport
from coach.services.sessions import SessionService
from coach.store.lti_repository import LtiStore
from coach.store.repository import Store

STATIC = Path(__file__).parent / "static"
worker_log = logging.getLogger("coach.outbox")

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


def create_app(
    settings: Settings | None = None,
    *,
    library: ContentLibrary | None = None,
    store: Store | None = None,
    sinks: Sequence[Sink] = (),
    transports: Mapping[str, Transport] | None = None,
    http: httpx.Client | None = None,
) -> FastAPI:
    settings = settings or Settings()
    library = library or load_library(settings.scenarios_dir, settings.rubrics_dir, run_tests=False)
    owns_store = store is None
    store = store or Store(settings.database_url)
    if settings.auto_migrate:
        store.upgrade()

    # LTI 1.3 and xAPI: grades and learning records leave through the outbox like any message.
    owns_http = http is None
    http = http or httpx.Client(timeout=15, follow_redirects=False)
    lti_store = LtiStore(store)
    tool_keys = ToolKeys(lti_store)
    lti = LtiTool(lti_store, tool_keys, PlatformKeys(http), public_url=settings.public_url)
    # The worker delivers once there can be something to deliver: transports the caller gave,
    # a registered platform or a global LRS at start-up, or a message an LTI/xAPI sink queued here.
    deliveries = {
        "wanted": bool(transports) or bool(settings.xapi_endpoint) or bool(lti_store.registrations())
    }

    def noted(sink: Sink) -> Sink:
        def queue(event: Event) -> list[OutboxMessage]:
            messages = sink(event)
            deliveries["wanted"] = deliveries["wanted"] or bool(messages)
            return messages

        return queue

    sinks = [
        *sinks,
        noted(score_sink),
        noted(
            XapiSink(
                settings.public_url,
                global_endpoint=settings.xapi_endpoint,
                include_text=settings.xapi_include_text,
            )
        ),
    ]
    transports = {
        SCORE_KIND: ScoreTransport(http, lti_store, AccessTokens(http, tool_keys)),
        XAPI_KIND: XapiTransport(http, lti_store, settings.xapi_auth),
        **(transports or {}),
    }
    outbox = Outbox(store, transports)

    async def deliver_forever() -> None:
        # Every instance delivers; claims keep two from sending the same message at once.
        while True:
            if deliveries["wanted"]:
                delivery = asyncio.ensure_future(asyncio.to_thread(outbox.deliver_due))
                try:
                    await asyncio.shield(delivery)
                except asyncio.CancelledError:
                    # Shutting down: let the delivery in flight finish before the store closes.
                    with contextlib.suppress(Exception):
                        await delivery
                    raise
                except CoachError as exc:
                    worker_log.warning("outbox delivery paused: %s", exc.detail)
            await asyncio.sleep(settings.outbox_interval_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker = asyncio.create_task(deliver_forever())
        yield
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        if owns_store:
            store.close()
        if owns_http:
            http.close()

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
            {
                "name": "lti",
                "description": "LTI 1.3 tool: login, launch, deep linking, JWKS (see docs/lms.md).",
            },
        ],
    )
    app.state.settings = settings
    app.state.library = library
    app.state.store = store
    app.state.sessions = SessionService(
        library,
        store,
        max_reply_chars=settings.max_reply_chars,
        anonymous_practice=settings.anonymous_practice,
        sinks=sinks,
    )
    app.state.lti = lti
    app.state.lti_store = lti_store
    app.state.outbox = outbox
    app.state.learners = Learners(app.state.sessions)
    app.state.metrics = metrics = Metrics()
    configure_logging(settings.log_level)
    problems.install(app)
    app.include_router(router)
    lti_routes.install(app)

    @app.get("/metrics", include_in_schema=False)
    def metrics_endpoint() -> PlainTextResponse:
        gauges: dict[str, tuple[str, float]] = {}
        try:
            gauges["coach_sessions"] = ("Sessions stored.", float(store.count("sessions")))
            gauges["coach_outbox_backlog"] = (
                "Outbound messages waiting for delivery.",
                float(store.outbox_backlog()),
            )
            gauges["coach_database_up"] = ("1 when the database answers.", 1.0)
        except CoachError:
            gauges["coach_database_up"] = ("1 when the database answers.", 0.0)
        return PlainTextResponse(metrics.render(gauges), media_type="text/plain; version=0.0.4")

    @app.get("/problems/{code}", include_in_schema=False)
    def problem_description(code: str) -> JSONResponse:
        descriptions = {**problems.DESCRIPTIONS, **lti_errors.DESCRIPTIONS}
        if code not in descriptions:
            return problems.problem(404, "not-found", "Not found", f"no problem type {code!r}")
        return JSONResponse({"type": problems.problem_type(code), "description": descriptions[code]})

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            # Starting a practice session needs no credential unless anonymous practice is off:
            # say so, so clients (and fuzzers) know the bearer is optional there.
            if settings.anonymous_practice:
                operation = schema["paths"]["/api/v1/sessions"]["post"]
                operation["security"] = [{}, *operation.get("security", [])]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    proxies = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    # Added last runs first: logging sees every response, including refusals below it.
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute, trusted_proxies=proxies)
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors)
    app.add_middleware(RequestLog, metrics=metrics, trusted_proxies=proxies)
    return app
