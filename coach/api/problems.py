"""Errors as RFC 9457 problem documents, mapped from the one error tree in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from coach import errors

PROBLEM_JSON = "application/problem+json"

STATUS: dict[type[errors.CoachError], int] = {
    errors.ReplyEmpty: 400,
    errors.ReplyTooLong: 400,
    errors.ReplyInvalid: 400,
    errors.IdempotencyKeyReused: 422,
    errors.MalformedRequest: 422,
    errors.InputError: 400,
    errors.NotFound: 404,
    errors.Unauthorized: 401,
    errors.Conflict: 409,
    errors.StoreUnavailable: 503,
    errors.ContentError: 500,
    errors.EngineError: 500,
}

# Problems that come from HTTP itself rather than from Coach.
HTTP_PROBLEMS: dict[int, tuple[str, str]] = {
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
}

DESCRIPTIONS: dict[str, str] = {
    "reply-empty": "The reply had no text. Send what you would say to the client.",
    "reply-too-long": "The reply is longer than the configured limit (COACH_MAX_REPLY_CHARS).",
    "malformed-request": "The request body is not valid JSON or does not have the documented shape.",
    "reply-invalid": "The reply contains control characters; send plain text.",
    "idempotency-key-reused": "The Idempotency-Key was used before with a different request body.",
    "unauthorized": "This call needs an integrator API key.",
    "rate-limited": "Too many requests from this client; wait for Retry-After seconds.",
    "scenario-not-found": "No scenario has this id. GET /api/v1/scenarios lists them.",
    "session-not-found": "No session has this id.",
    "invalid-token": "The Authorization header is missing, or its bearer token is not this session's.",
    "session-finished": "The session has reached an ending; it accepts no more turns.",
    "turn-conflict": "Another submission for the same turn was recorded first.",
    "store-unavailable": "The database cannot be reached; the request changed nothing. Retry shortly.",
    "payload-too-large": "The request body is larger than COACH_MAX_BODY_BYTES.",
    "not-found": "There is nothing at this address.",
    "method-not-allowed": "This address does not accept this HTTP method.",
    "unsupported-media-type": "Send JSON with Content-Type: application/json.",
    "internal": "Something went wrong on our side; the request may be retried.",
    "content-error": "The scenario content is broken; an administrator must fix it.",
    "engine-error": "The scenario could not continue; an administrator must fix its content.",
}


def problem_type(code: str) -> str:
    return f"/problems/{code}"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
    }
    body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="coach"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_for(exc: errors.CoachError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def install(app: FastAPI) -> None:
    async def coach_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.CoachError)
        status = status_for(exc)
        detail = (
            exc.detail
            if status < 500 or isinstance(exc, errors.StoreUnavailable)
            else DESCRIPTIONS["internal"]
        )
        extra = {"limit": exc.limit} if isinstance(exc, errors.ReplyTooLong) else {}
        response = problem(status, exc.code, exc.title, detail, instance=request.url.path, **extra)
        if isinstance(exc, errors.StoreUnavailable):
            response.headers["Retry-After"] = "5"
        return response

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        first = problems[0] if problems else {"loc": [], "msg": "invalid request"}
        detail = f"{'.'.join(first['loc'])}: {first['msg']}" if first["loc"] else str(first["msg"])
        return problem(
            422,
            "malformed-request",
            "Malformed request",
            detail,
            errors=problems,
            instance=request.url.path,
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:
            # FastAPI's own "error parsing the body" (e.g. JSON nested too deeply to decode).
            return problem(
                422, "malformed-request", "Malformed request", str(exc.detail), instance=request.url.path
            )
        code, title = HTTP_PROBLEMS.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        response = problem(exc.status_code, code, title, detail, instance=request.url.path)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem(500, "internal", "Internal error", DESCRIPTIONS["internal"], instance=request.url.path)

    app.add_exception_handler(errors.CoachError, coach_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
