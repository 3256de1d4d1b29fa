"""Nothing lost and nothing broken: retries, races, hostile input, outages, limits, logs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from coach.api.app import create_app
from coach.authoring.library import ContentLibrary
from coach.config import Settings
from coach.services.sessions import SessionService
from coach.store.repository import Store
from tests.conftest import start
from tests.proxy import Proxy


def turn(client: TestClient, session_id: str, auth: dict[str, str], text: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/sessions/{session_id}/turns", json={"text": text}, headers={**auth, **headers}
    )


def test_a_retried_request_with_its_idempotency_key_returns_the_first_response(client: TestClient) -> None:
    session_id, auth = start(client)
    first = turn(client, session_id, auth, "It's your call.", **{"Idempotency-Key": "k-1"})
    again = turn(client, session_id, auth, "It's your call.", **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert len(client.get(f"/api/v1/sessions/{session_id}", headers=auth).json()["turns"]) == 1
    reused = turn(client, session_id, auth, "Something else", **{"Idempotency-Key": "k-1"})
    assert reused.status_code == 422
    assert reused.json()["type"] == "/problems/idempotency-key-reused"


def test_concurrent_submissions_for_one_turn_record_exactly_one(
    store: Store, tiny_library: ContentLibrary
) -> None:
    service = SessionService(tiny_library, store)
    started = service.start("tiny")
    outcomes: list[str] = []

    def submit(index: int) -> None:
        try:
            service.submit(started.session_id, started.token, f"It's your call. ({index})", expected_turn=1)
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(type(exc).__name__)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(submit, range(8)))
    turns = store.turns(started.session_id)
    assert outcomes.count("ok") == len(turns) == 1
    assert set(outcomes) == {"ok", "TurnConflict"}


@pytest.mark.parametrize(
    ("text", "status", "type_"),
    [
        ("null byte \x00 here", 400, "reply-invalid"),
        ("bell \x07", 400, "reply-invalid"),
        ("a" * 301, 400, "reply-too-long"),
        ("\u200b\u200b", 200, None),
        ("emoji 😀 and RTL \u202e text", 200, None),
    ],
)
def test_odd_and_hostile_replies(client: TestClient, text: str, status: int, type_: str | None) -> None:
    session_id, auth = start(client)
    response = turn(client, session_id, auth, text)
    assert response.status_code == status
    if type_:
        assert response.json()["type"] == f"/problems/{type_}"


def test_a_hundred_thousand_character_reply_is_refused_whole(client: TestClient) -> None:
    session_id, auth = start(client)
    response = turn(client, session_id, auth, "x" * 100_000)
    assert response.status_code == 413
    assert response.json()["type"] == "/problems/payload-too-large"


def test_deeply_nested_json_is_a_clean_422(client: TestClient) -> None:
    body = '{"text": ' + "[" * 1900 + "]" * 1900 + "}"
    response = client.post("/api/v1/evaluate", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    nested = client.post(
        "/api/v1/evaluate", content=b"[" * 2000 + b"]" * 2000, headers={"Content-Type": "application/json"}
    )
    assert nested.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/scenarios/..%2F..%2Fpyproject.toml",
        "/api/v1/scenarios/../../etc/passwd",
        "/static/..%2F..%2Fpyproject.toml",
        "/static/../cli.py",
        "/api/v1/sessions/%00/report",
    ],
)
def test_path_traversal_finds_nothing(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in {401, 404}
    assert "[project]" not in response.text
    assert response.headers["content-type"].startswith(("application/problem+json", "application/json"))


def test_request_ids_are_echoed_only_when_safe(client: TestClient) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "evil value; Set-Cookie: x=1"}).headers
    assert generated["x-request-id"] != "evil value; Set-Cookie: x=1"
    assert "set-cookie" not in generated


def test_security_headers_are_on_every_response(client: TestClient) -> None:
    for response in [client.get("/"), client.get("/nope"), client.post("/api/v1/evaluate", content=b"{")]:
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors" in response.headers["content-security-policy"]
        assert response.headers["referrer-policy"] == "no-referrer"


def test_reply_text_never_reaches_the_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    secret = "my-very-private-reply-words"
    session_id, auth = start(client)
    logger = logging.getLogger("coach")
    logger.addHandler(caplog.handler)
    try:
        turn(client, session_id, auth, f"It's your call, {secret}")
        client.post("/api/v1/evaluate", json={"text": secret})
    finally:
        logger.removeHandler(caplog.handler)
    lines = [r for r in caplog.records if r.name == "coach.access"]
    assert len(lines) >= 2
    assert all(
        secret not in r.getMessage() and secret not in json.dumps(getattr(r, "fields", {})) for r in lines
    )
    assert {getattr(r, "fields", {})["route"] for r in lines} >= {"/api/v1/sessions/{session_id}/turns"}


def test_metrics_count_requests_and_turns(client: TestClient) -> None:
    session_id, auth = start(client)
    turn(client, session_id, auth, "It's your call.")
    text = client.get("/metrics").text
    assert "coach_turns_evaluated_total 1" in text
    assert 'coach_http_request_duration_seconds_count{route="/api/v1/sessions/{session_id}/turns"} 1' in text
    assert "coach_database_up 1" in text


def test_rate_limits_answer_429_with_retry_after(tiny_library: ContentLibrary, tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'rl.db'}", rate_limit_per_minute=3)
    with TestClient(create_app(settings, library=tiny_library)) as client:
        codes = [client.get("/api/v1/scenarios").status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200]
        limited = client.get("/api/v1/scenarios")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/healthz").status_code == 200  # health checks are never limited


@pytest.fixture
def proxied(tiny_library: ContentLibrary, postgres_url: str) -> Iterator[tuple[TestClient, Proxy]]:
    """The app talks to PostgreSQL through a proxy the test can cut."""
    url = make_url(postgres_url)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    proxied_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = Settings(database_url=proxied_url + "?connect_timeout=2")
    with TestClient(create_app(settings, library=tiny_library)) as client:
        yield client, proxy
    proxy.close()


def test_a_database_outage_is_503_and_heals_by_itself(proxied: tuple[TestClient, Proxy]) -> None:
    client, proxy = proxied
    session_id, auth = start(client)
    proxy.cut()
    refused = turn(client, session_id, auth, "It's your call.")
    assert refused.status_code == 503
    assert refused.json()["type"] == "/problems/store-unavailable"
    assert refused.headers["retry-after"]
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
    proxy.restore()
    assert client.get("/readyz").json() == {"status": "ready"}
    again = turn(client, session_id, auth, "It's your call.")
    assert again.status_code == 200
    assert len(client.get(f"/api/v1/sessions/{session_id}", headers=auth).json()["turns"]) == 1


def test_cors_allows_only_the_configured_origins(tiny_library: ContentLibrary, tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'cors.db'}", cors_origins="https://lms.example.edu"
    )
    with TestClient(create_app(settings, library=tiny_library)) as client:
        preflight = {"Origin": "https://lms.example.edu", "Access-Control-Request-Method": "POST"}
        allowed = client.options("/api/v1/evaluate", headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "https://lms.example.edu"
        other = client.get("/api/v1/scenarios", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_frame_ancestors_follow_the_setting(tiny_library: ContentLibrary, tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'fa.db'}", frame_ancestors="https://lms.example.edu"
    )
    with TestClient(create_app(settings, library=tiny_library)) as client:
        assert "frame-ancestors https://lms.example.edu" in client.get("/").headers["content-security-policy"]
        assert "x-frame-options" not in client.get("/").headers
