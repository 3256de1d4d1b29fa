"""A mock LTI 1.3 platform (an LMS) for the tests: OIDC auth endpoint, JWKS, token and AGS scores.

It signs id_tokens with its own RSA key (generated here), answers the OIDC authorisation request
with the form_post page a real platform sends, checks Coach's client assertions against Coach's
published JWKS, and records the scores it receives. Failures can be scripted per request.
"""

from __future__ import annotations

import html
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jwt.algorithms import RSAAlgorithm

from coach.integrations.lti.launch import (
    CLAIM_AGS,
    CLAIM_CONTEXT,
    CLAIM_CUSTOM,
    CLAIM_DEPLOYMENT,
    CLAIM_DL_SETTINGS,
    CLAIM_MESSAGE_TYPE,
    CLAIM_PRESENTATION,
    CLAIM_RESOURCE_LINK,
    CLAIM_ROLES,
    CLAIM_TARGET,
    CLAIM_VERSION,
    RESOURCE_LINK,
    SCORE_SCOPE,
)

ISSUER = "https://platform.example"
CLIENT_ID = "coach-client-1"
DEPLOYMENT_ID = "deployment-1"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LINEITEM = f"{ISSUER}/mod/lti/services.php/7/lineitems/3/lineitem?type_id=12"

REMOVE = object()
"""Put as a claim override to leave the claim out of the id_token."""


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk_of(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass
class Score:
    path: str
    query: dict[str, list[str]]
    authorization: str
    content_type: str
    body: dict[str, Any]


@dataclass
class Platform:
    tool: httpx.Client | None = None
    """Reaches Coach (for its JWKS), set once Coach's client exists."""
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    kid: str = "platform-key-1"
    message_type: str = RESOURCE_LINK
    roles: list[str] = field(default_factory=lambda: [LEARNER])
    subject: str = "user-42"
    name: str = "Ana Learner"
    resource_link: str = "link-1"
    custom: dict[str, Any] = field(default_factory=lambda: {"scenario": "tiny"})
    lineitem: str | None = LINEITEM
    overrides: dict[str, Any] = field(default_factory=dict)
    score_answers: list[tuple[int, str]] = field(default_factory=list)
    """Scripted answers for the next score POSTs (status, body); empty → 200."""
    scores: list[Score] = field(default_factory=list)
    tokens_issued: int = 0
    jwks_fetches: int = 0
    assertions: list[dict[str, Any]] = field(default_factory=list)
    deep_link_returns: list[str] = field(default_factory=list)

    # -- id tokens ---------------------------------------------------------------------------------

    def claims(self, nonce: str, /, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "sub": self.subject,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": self.name,
            CLAIM_VERSION: "1.3.0",
            CLAIM_MESSAGE_TYPE: self.message_type,
            CLAIM_DEPLOYMENT: DEPLOYMENT_ID,
            CLAIM_ROLES: self.roles,
            CLAIM_CONTEXT: {"id": "course-7", "title": "Peer support 101"},
            CLAIM_PRESENTATION: {"return_url": f"{ISSUER}/course/view.php?id=7", "document_target": "iframe"},
        }
        if self.message_type == RESOURCE_LINK:
            claims[CLAIM_RESOURCE_LINK] = {"id": self.resource_link, "title": "Practice: tiny"}
            claims[CLAIM_TARGET] = "http://testserver/lti/launch"
            claims[CLAIM_CUSTOM] = self.custom
            if self.lineitem:
                claims[CLAIM_AGS] = {
                    "scope": [SCORE_SCOPE, "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"],
                    "lineitems": f"{ISSUER}/mod/lti/services.php/7/lineitems?type_id=12",
                    "lineitem": self.lineitem,
                }
        else:
            claims[CLAIM_TARGET] = "http://testserver/lti/deep-linking"
            claims[CLAIM_DL_SETTINGS] = {
                "deep_link_return_url": f"{ISSUER}/deep-link-return?course=7",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "data": "opaque-platform-data",
            }
        for name, value in {**self.overrides, **overrides}.items():
            if value is REMOVE:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def id_token(
        self,
        nonce: str,
        /,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        **overrides: Any,
    ) -> str:
        return jwt.encode(
            self.claims(nonce, **overrides),
            key or self.key,
            algorithm="RS256",
            headers={"kid": kid or self.kid},
        )

    # -- the app -----------------------------------------------------------------------------------

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            self.jwks_fetches += 1
            return {"keys": [jwk_of(self.key, self.kid)]}

        @app.get("/auth")
        def auth(request: Request) -> HTMLResponse:
            params = dict(request.query_params)
            expected = {
                "scope": "openid",
                "response_type": "id_token",
                "response_mode": "form_post",
                "prompt": "none",
                "client_id": CLIENT_ID,
            }
            for name, value in expected.items():
                assert params.get(name) == value, (name, params.get(name))
            assert params["login_hint"] == "hint-abc"
            assert params.get("lti_message_hint") == "message-hint-1"
            assert params.get("existing") == "kept", "the auth URL's own query string survives"
            token = self.id_token(params["nonce"])
            action = html.escape(params["redirect_uri"])
            return HTMLResponse(
                f'<form method="post" action="{action}">'
                f'<input type="hidden" name="id_token" value="{html.escape(token)}">'
                f'<input type="hidden" name="state" value="{html.escape(params["state"])}">'
                "</form>"
            )

        @app.post("/token")
        async def token(request: Request) -> JSONResponse:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            assert form["grant_type"] == "client_credentials"
            assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            assert SCORE_SCOPE in form["scope"].split()
            assert self.tool is not None
            tool_keys = jwt.PyJWKSet.from_dict(self.tool.get("/lti/jwks").json())
            kid = jwt.get_unverified_header(form["client_assertion"])["kid"]
            claims = jwt.decode(
                form["client_assertion"],
                tool_keys[kid].key,
                algorithms=["RS256"],
                audience=f"{ISSUER}/token",
                issuer=CLIENT_ID,
            )
            assert claims["sub"] == CLIENT_ID
            self.assertions.append(claims)
            self.tokens_issued += 1
            return JSONResponse(
                {"access_token": f"at-{uuid.uuid4().hex}", "token_type": "Bearer", "expires_in": 3600}
            )

        @app.post("/mod/lti/services.php/{course}/lineitems/{item}/lineitem/scores")
        async def score(request: Request, course: str, item: str) -> Response:
            if self.score_answers:
                status, body = self.score_answers.pop(0)
                if status >= 300:
                    return Response(body, status_code=status, media_type="application/json")
            self.scores.append(
                Score(
                    path=request.url.path,
                    query=parse_qs(request.url.query),
                    authorization=request.headers.get("authorization", ""),
                    content_type=request.headers.get("content-type", ""),
                    body=await request.json(),
                )
            )
            return Response(status_code=200)

        @app.post("/deep-link-return")
        async def deep_link_return(request: Request) -> HTMLResponse:
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
            self.deep_link_returns.append(form["JWT"])
            return HTMLResponse("<p>Added.</p>")

        return app


FORM = re.compile(r'<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>', re.S)
INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def forms(page: str) -> list[tuple[str, dict[str, str]]]:
    """The forms of a page as a browser sees them: action and hidden fields."""
    return [
        (html.unescape(action), {n: html.unescape(v) for n, v in INPUT.findall(body)})
        for action, body in FORM.findall(page)
    ]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def meta(page: str, name: str) -> dict[str, Any]:
    import json

    found = re.search(rf'<meta name="{name}" content="([^"]*)">', page)
    assert found, f"no meta {name}"
    data: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return data


Clock = Callable[[], float]
