"""HTTP transports for the outbox: LTI AGS scores and xAPI statements, on httpx.

A transport raises :class:`DeliveryFailed`: transient (the outbox retries with backoff) when
the receiver is down, slow, or answers 408/425/429/5xx; permanent (kept as "refused" with
the reason, shown by ``coach outbox list``) when it answers any other 4xx, which retrying
the same message cannot fix. ``coach outbox retry`` sends refused messages again once an
administrator has fixed the cause.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from coach.errors import DeliveryFailed
from coach.integrations.lti.keys import ToolKeys
from coach.integrations.lti.launch import SCORE_SCOPE
from coach.services.access import utcnow
from coach.store.lti_repository import LtiStore, Registration
from coach.store.repository import StoredMessage

SCORE_CONTENT_TYPE = "application/vnd.ims.lis.v1.score+json"
XAPI_VERSION = "1.0.3"
TRANSIENT_STATUSES = frozenset({408, 425, 429})


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:300] + ("…" if len(text) > 300 else "")


def check(response: httpx.Response, what: str) -> None:
    """Raise DeliveryFailed for a non-2xx answer: permanent for refusals, transient otherwise."""
    if response.is_success:
        return
    detail = f"{what}: HTTP {response.status_code} {_excerpt(response)}".strip()
    permanent = 400 <= response.status_code < 500 and response.status_code not in TRANSIENT_STATUSES
    raise DeliveryFailed(detail, permanent=permanent)


def scores_url(lineitem: str) -> str:
    """``<lineitem>/scores``, keeping the line item's query string (Moodle's ``?type_id=``)."""
    parts = urlsplit(lineitem)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + "/scores", parts.query, ""))


class AccessTokens:
    """OAuth 2 client-credentials tokens per platform and scope, kept until shortly before expiry."""

    def __init__(
        self, http: httpx.Client, keys: ToolKeys, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.http = http
        self.keys = keys
        self.clock = clock
        self.requests = 0
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def client_assertion(self, registration: Registration) -> str:
        now = utcnow()
        return self.keys.sign(
            {
                "iss": registration.client_id,
                "sub": registration.client_id,
                "aud": registration.token_audience or registration.auth_token_url,
                "iat": int(now.timestamp()),
                "exp": int((now + timedelta(minutes=5)).timestamp()),
                "jti": uuid.uuid4().hex + secrets.token_hex(4),
            }
        )

    def get(self, registration: Registration, scope: str) -> str:
        key = (registration.id, scope)
        with self._lock:
            cached = self._tokens.get(key)
            if cached and cached[1] > self.clock():
                return cached[0]
        self.requests += 1
        try:
            response = self.http.post(
                registration.auth_token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    "client_assertion": self.client_assertion(registration),
                    "scope": scope,
                },
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"token endpoint unreachable: {type(exc).__name__}: {exc}") from exc
        check(response, "token endpoint refused")
        try:
            body: Any = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise DeliveryFailed(
                f"token endpoint answered without an access_token: {_excerpt(response)}"
            ) from exc
        with self._lock:
            # Renew a minute early so a token never expires on its way to the platform.
            self._tokens[key] = (token, self.clock() + max(0.0, lifetime - 60))
        return token

    def forget(self, registration: Registration, scope: str) -> None:
        with self._lock:
            self._tokens.pop((registration.id, scope), None)


class ScoreTransport:
    """POSTs an AGS score to ``<lineitem>/scores`` with a client-credentials bearer token."""

    def __init__(self, http: httpx.Client, store: LtiStore, tokens: AccessTokens) -> None:
        self.http = http
        self.store = store
        self.tokens = tokens

    def __call__(self, message: StoredMessage) -> None:
        registration = self.store.registration(str(message.payload.get("registration")))
        if registration is None:
            raise DeliveryFailed("the platform registration of this score no longer exists", permanent=True)
        token = self.tokens.get(registration, SCORE_SCOPE)
        try:
            response = self.http.post(
                scores_url(message.target),
                json=message.payload["score"],
                headers={"Authorization": f"Bearer {token}", "Content-Type": SCORE_CONTENT_TYPE},
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"platform unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 401:
            # The token was revoked or expired early: fetch a new one on the next attempt.
            self.tokens.forget(registration, SCORE_SCOPE)
            raise DeliveryFailed(f"platform did not accept the access token: {_excerpt(response)}")
        check(response, "platform refused the score")


def authorization(credentials: str) -> str:
    """An Authorization header value from ``user:password`` or a ready ``Basic …``/``Bearer …`` value."""
    if credentials.startswith(("Basic ", "Bearer ")):
        return credentials
    return "Basic " + base64.b64encode(credentials.encode()).decode()


class XapiTransport:
    """PUTs a statement by its id: a resend is the same statement, so 204 and 409 both mean "stored"."""

    def __init__(self, http: httpx.Client, store: LtiStore, global_auth: str = "") -> None:
        self.http = http
        self.store = store
        self.global_auth = global_auth

    def _credentials(self, lrs: str) -> str:
        if lrs == "global":
            return self.global_auth
        if lrs.startswith("deployment:"):
            deployment = self.store.deployment_by_id(int(lrs.removeprefix("deployment:")))
            if deployment is None:
                raise DeliveryFailed(
                    "the deployment of this statement's LRS no longer exists", permanent=True
                )
            return deployment.xapi_auth or ""
        return ""

    def __call__(self, message: StoredMessage) -> None:
        statement = message.payload["statement"]
        headers = {"X-Experience-API-Version": XAPI_VERSION, "Content-Type": "application/json"}
        credentials = self._credentials(str(message.payload.get("lrs", "global")))
        if credentials:
            headers["Authorization"] = authorization(credentials)
        url = message.target.rstrip("/") + "/statements"
        try:
            response = self.http.put(
                url, params={"statementId": statement["id"]}, json=statement, headers=headers
            )
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"LRS unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 409:
            return  # the LRS already holds a statement with this id: delivered before
        check(response, "LRS refused the statement")
