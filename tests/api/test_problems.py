"""Every error the API can return is a problem document with a stable type."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import start


def assert_problem(response, status: int, type_: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"/problems/{type_}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body  # type: ignore[no-any-return]


def test_unknown_scenario(client: TestClient) -> None:
    assert_problem(client.post("/api/v1/sessions", json={"scenario_id": "nope"}), 404, "scenario-not-found")
    assert_problem(client.get("/api/v1/scenarios/nope"), 404, "scenario-not-found")


def test_unknown_session(client: TestClient) -> None:
    assert_problem(
        client.post("/api/v1/sessions/abc/turns", json={"text": "hi"}, headers={"Authorization": "Bearer x"}),
        404,
        "session-not-found",
    )


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer "])
def test_bad_or_missing_tokens(client: TestClient, header: str | None) -> None:
    session_id, _ = start(client)
    headers = {"Authorization": header} if header else {}
    response = client.post(f"/api/v1/sessions/{session_id}/turns", json={"text": "hi"}, headers=headers)
    assert_problem(response, 401, "invalid-token")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert_problem(client.get(f"/api/v1/sessions/{session_id}", headers=headers), 401, "invalid-token")


def test_a_token_cannot_read_another_session(client: TestClient) -> None:
    one, _ = start(client)
    _, other_auth = start(client)
    assert_problem(client.get(f"/api/v1/sessions/{one}/report", headers=other_auth), 401, "invalid-token")


def test_empty_and_too_long_replies(client: TestClient) -> None:
    session_id, auth = start(client)
    url = f"/api/v1/sessions/{session_id}/turns"
    assert_problem(client.post(url, json={"text": "  "}, headers=auth), 400, "reply-empty")
    body = assert_problem(client.post(url, json={"text": "a" * 301}, headers=auth), 400, "reply-too-long")
    assert "300" in body["detail"]
    assert client.get(f"/api/v1/sessions/{session_id}", headers=auth).json()["turns"] == []


def test_a_finished_session(client: TestClient) -> None:
    session_id, auth = start(client)
    url = f"/api/v1/sessions/{session_id}/turns"
    client.post(url, json={"text": "It's your call."}, headers=auth)
    client.post(url, json={"text": "I can't accept the watch."}, headers=auth)
    assert_problem(client.post(url, json={"text": "and another"}, headers=auth), 409, "session-finished")


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"text": 5}',
        b"[]",
        b'{"text": "hi", "extra": 1}',
        b'{"scenario": "tiny"}',
        b"\xff\xfe",
    ],
)
def test_malformed_bodies(client: TestClient, content: bytes) -> None:
    session_id, auth = start(client)
    response = client.post(
        f"/api/v1/sessions/{session_id}/turns",
        content=content,
        headers={**auth, "Content-Type": "application/json"},
    )
    assert_problem(response, 422, "malformed-request")


def test_oversize_bodies_are_refused_before_reading(client: TestClient) -> None:
    response = client.post(
        "/api/v1/evaluate",
        content=b'{"text": "' + b"a" * 10_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


def test_unknown_routes_and_methods(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nothing"), 404, "not-found")
    assert_problem(client.delete("/api/v1/scenarios"), 405, "method-not-allowed")


def test_problem_types_resolve_to_a_description(client: TestClient) -> None:
    assert "limit" in client.get("/problems/reply-too-long").json()["description"]


def test_the_too_long_problem_carries_the_limit_as_a_number(client: TestClient) -> None:
    session_id, auth = start(client)
    body = client.post(f"/api/v1/sessions/{session_id}/turns", json={"text": "a" * 301}, headers=auth).json()
    assert body["limit"] == 300
    created = client.post("/api/v1/sessions", json={"scenario_id": "tiny"}).json()
    assert created["max_reply_chars"] == 300
