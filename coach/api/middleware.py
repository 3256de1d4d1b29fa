"""ASGI middleware: body limit, security headers, request ids with JSON access logs, rate limits.

Written as plain ASGI so they stream and never buffer bodies. The access log records method,
route, status and timing — never a request or response body, so reply text stays out of logs.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from coach.api import problems
from coach.api.metrics import Metrics

access_log = logging.getLogger("coach.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: easy for log shippers, no multi-line surprises."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("coach")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class _TooLarge(Exception):
    pass


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
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracking)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.problem(
            413,
            "payload-too-large",
            "Request body too large",
            f"the request body is larger than {self.limit} bytes",
        )
        await response(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, frame_ancestors: str) -> None:
        self.app = app
        self.csp = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {frame_ancestors}"
        ).encode()
        # The interactive docs load their own inline script; they get a looser policy.
        self.docs_csp = f"frame-ancestors {frame_ancestors}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = self.docs_csp if path.startswith(("/docs", "/redoc")) else self.csp

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in (
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-security-policy", csp),
                    (b"cross-origin-opener-policy", b"same-origin-allow-popups"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ):
                    if name not in present:
                        headers.append((name, value))
                if path.startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def client_address(scope: Scope, trusted_proxies: frozenset[str]) -> str:
    client = scope.get("client")
    address = str(client[0]) if client else "unknown"
    if address in trusted_proxies:
        headers: dict[bytes, bytes] = dict(scope["headers"])
        forwarded = headers.get(b"x-forwarded-for")
        if forwarded:
            return forwarded.decode("latin-1").split(",")[0].strip()
    return address


class RequestLog:
    """Give every request an id (or keep a sane X-Request-ID), log it, and time it for metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.metrics = metrics
        self.trusted = frozenset(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        # Only a short id of safe characters is echoed: no header injection through it.
        request_id = given if 0 < len(given) <= 64 and given.replace("-", "").isalnum() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        start = time.perf_counter()

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            elapsed = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None) or (
                "/static" if scope["path"].startswith("/static") else "other"
            )
            self.metrics.observe(scope["method"], route, status, elapsed)
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": scope["method"],
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client": client_address(scope, self.trusted),
                    }
                },
            )


class RateLimit:
    """A token bucket per client (API key id, else address): ``per_minute`` requests, then 429."""

    EXEMPT = ("/healthz", "/readyz", "/metrics", "/static/")

    def __init__(self, app: ASGIApp, per_minute: int, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.trusted = frozenset(trusted_proxies)
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def _client(self, scope: Scope) -> str:
        headers: dict[bytes, bytes] = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        token = authorization.removeprefix("Bearer ").strip()
        if token.startswith("ck_"):
            return "key:" + token[3:].partition("_")[0]
        return "ip:" + client_address(scope, self.trusted)

    def _take(self, client: str) -> float:
        """0 if the request may go, else seconds until it may."""
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.buckets[client] = (tokens - 1, now)
                if len(self.buckets) > 100_000:
                    self.buckets.clear()
                return 0.0
            self.buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.capacity <= 0 or scope["path"].startswith(self.EXEMPT):
            await self.app(scope, receive, send)
            return
        wait = self._take(self._client(scope))
        if wait:
            response = problems.problem(
                429, "rate-limited", "Too many requests", f"slow down: try again in {math.ceil(wait)} seconds"
            )
            response.headers["Retry-After"] = str(math.ceil(wait))
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
