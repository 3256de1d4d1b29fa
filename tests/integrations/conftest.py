"""Coach and a mock platform, wired as they would be in production but all in-process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from coach.api.app import create_app
from coach.authoring.library import ContentLibrary
from coach.config import Settings
from coach.services.outbox import Outbox
from coach.store.lti_repository import LtiStore, Registration
from coach.store.repository import Store
from tests.integrations.platform import CLIENT_ID, DEPLOYMENT_ID, ISSUER, Platform, forms, meta, query_of

TOOL = "http://testserver"


@dataclass
class Lti:
    app: FastAPI
    client: TestClient
    """Coach, as the browser and the platform reach it."""
    browser_at_platform: TestClient
    """The platform, as the browser reaches it."""
    platform: Platform
    store: Store
    lti_store: LtiStore

    def login(self, **params: str) -> httpx.Response:
        query = {
            "iss": ISSUER,
            "login_hint": "hint-abc",
            "target_link_uri": f"{TOOL}/lti/launch",
            "lti_message_hint": "message-hint-1",
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
            **params,
        }
        return self.client.get("/lti/login", params=query)

    def state_and_nonce(self, **params: str) -> tuple[str, str]:
        response = self.login(**params)
        assert response.status_code == 302, response.text
        query = query_of(response.headers["location"])
        return query["state"], query["nonce"]

    def launch(self, **params: str) -> httpx.Response:
        """The whole launch as a browser does it: login → platform auth → form_post to Coach."""
        response = self.login(**params)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(f"{ISSUER}/auth?")
        auto_post = self.browser_at_platform.get(location)
        assert auto_post.status_code == 200, auto_post.text
        [(action, fields)] = forms(auto_post.text)
        assert action == f"{TOOL}/lti/launch"
        return self.client.post(action.removeprefix(TOOL), data=fields)

    def post_launch(self, id_token: str | None, state: str | None) -> httpx.Response:
        data = {k: v for k, v in {"id_token": id_token, "state": state}.items() if v is not None}
        return self.client.post("/lti/launch", data=data)

    def learner_session(self, **params: str) -> dict[str, Any]:
        response = self.launch(**params)
        assert response.status_code == 200, response.text
        return meta(response.text, "coach-launch")

    def play(self, session: dict[str, Any], *replies: str) -> None:
        headers = {"Authorization": f"Bearer {session['token']}"}
        for reply in replies:
            response = self.client.post(
                f"/api/v1/sessions/{session['session_id']}/turns", json={"text": reply}, headers=headers
            )
            assert response.status_code == 200, response.text

    def outbox(self, clock: Any = None) -> Outbox:
        outbox: Outbox = self.app.state.outbox
        return Outbox(self.store, outbox.transports, **({"clock": clock} if clock else {}))


def register(lti_store: LtiStore, **changes: Any) -> Registration:
    registration = lti_store.save_registration(
        Registration(
            id="reg1",
            issuer=ISSUER,
            client_id=CLIENT_ID,
            auth_login_url=f"{ISSUER}/auth?existing=kept",
            auth_token_url=f"{ISSUER}/token",
            jwks_url=f"{ISSUER}/jwks",
            token_audience=None,
            frame_origins=("https://school.platform.example",),
            created_at=datetime.now(UTC),
            **changes,
        )
    )
    lti_store.save_deployment(registration.id, DEPLOYMENT_ID, datetime.now(UTC))
    return registration


class PlatformOrNetwork(httpx.BaseTransport):
    """The platform in-process; anything else (a real LRS on a loopback port) over the network."""

    def __init__(self, platform: TestClient) -> None:
        self.platform = platform
        self.network = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == httpx.URL(ISSUER).host:
            answer = self.platform.request(
                request.method, str(request.url), headers=dict(request.headers), content=request.read()
            )
            return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)
        return self.network.handle_request(request)


def make_lti(
    url: str, library: ContentLibrary, platform: Platform, *, network: bool = False, **settings: Any
) -> tuple[Lti, Store]:
    """Coach and the platform; with ``network``, Coach also reaches real loopback servers (an LRS)."""
    store = Store(url)
    at_platform = TestClient(platform.app(), base_url=ISSUER)
    http: httpx.Client = at_platform
    if network:
        http = httpx.Client(timeout=10, transport=PlatformOrNetwork(at_platform))
    app = create_app(
        Settings(database_url=url, public_url=TOOL, rate_limit_per_minute=0, **settings),
        library=library,
        store=store,
        http=http,
    )
    client = TestClient(app, base_url=TOOL, follow_redirects=False)
    platform.tool = client
    lti_store = LtiStore(store)
    register(lti_store)
    return Lti(app, client, at_platform, platform, store, lti_store), store


@pytest.fixture
def platform() -> Platform:
    return Platform()


@pytest.fixture
def lti(database_url: str, tiny_library: ContentLibrary, platform: Platform) -> Iterator[Lti]:
    """Coach with one registered platform, on SQLite and on PostgreSQL."""
    env, store = make_lti(database_url, tiny_library, platform)
    yield env
    store.close()


@pytest.fixture
def lti_sqlite(tmp_path: Path, tiny_library: ContentLibrary, platform: Platform) -> Iterator[Lti]:
    """The same on SQLite only, for the long bad-payload suite."""
    env, store = make_lti(f"sqlite:///{tmp_path / 'lti.db'}", tiny_library, platform)
    yield env
    store.close()
