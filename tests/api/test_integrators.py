"""Integrators: API keys scoped to a tenant, named learners, export and erasure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coach.api.app import create_app
from coach.authoring.library import ContentLibrary
from coach.config import Settings
from coach.services.access import Access
from coach.store.repository import Store


@pytest.fixture
def app_store(tiny_library: ContentLibrary, tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'keys.db'}", anonymous_practice=False)
    store = Store(settings.database_url)
    with TestClient(create_app(settings, library=tiny_library, store=store)) as client:
        yield client, store
    store.close()


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


def test_without_anonymous_practice_a_key_is_needed(app_store: tuple[TestClient, Store]) -> None:
    client, _ = app_store
    response = client.post("/api/v1/sessions", json={"scenario_id": "tiny"})
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/unauthorized"


def test_tenant_keys_see_their_own_learners_only(app_store: tuple[TestClient, Store]) -> None:
    client, store = app_store
    _, key_a = Access(store).create_key("college-a", "moodle")
    _, key_b = Access(store).create_key("college-b", "canvas")
    created = client.post(
        "/api/v1/sessions", json={"scenario_id": "tiny", "learner": "ana"}, headers=bearer(key_a)
    ).json()
    session_id, token = created["session_id"], created["token"]
    client.post(
        f"/api/v1/sessions/{session_id}/turns", json={"text": "It's your call."}, headers=bearer(token)
    )

    assert client.get(f"/api/v1/sessions/{session_id}", headers=bearer(key_a)).status_code == 200
    assert client.get(f"/api/v1/sessions/{session_id}/report", headers=bearer(key_a)).status_code == 200
    refused = client.get(f"/api/v1/sessions/{session_id}", headers=bearer(key_b))
    assert refused.status_code == 401
    assert client.get("/api/v1/learners/ana/sessions", headers=bearer(key_b)).json()["sessions"] == []

    listed = client.get("/api/v1/learners/ana/sessions", headers=bearer(key_a)).json()
    assert [s["session_id"] for s in listed["sessions"]] == [session_id]
    export = client.get("/api/v1/learners/ana/export", headers=bearer(key_a)).json()
    assert export["sessions"][0]["turns"][0]["text"] == "It's your call."
    assert export["sessions"][0]["report"]["path"] == ["ask", "gift"]


def test_keys_cannot_answer_turns_for_the_learner(app_store: tuple[TestClient, Store]) -> None:
    client, store = app_store
    _, key = Access(store).create_key("college-a", "moodle")
    session_id = client.post("/api/v1/sessions", json={"scenario_id": "tiny"}, headers=bearer(key)).json()[
        "session_id"
    ]
    response = client.post(f"/api/v1/sessions/{session_id}/turns", json={"text": "hi"}, headers=bearer(key))
    assert response.status_code == 401


def test_erasure_removes_every_session_of_the_learner(app_store: tuple[TestClient, Store]) -> None:
    client, store = app_store
    _, key = Access(store).create_key("college-a", "moodle")
    for _ in range(2):
        client.post("/api/v1/sessions", json={"scenario_id": "tiny", "learner": "ben"}, headers=bearer(key))
    client.post("/api/v1/sessions", json={"scenario_id": "tiny", "learner": "cy"}, headers=bearer(key))
    assert client.delete("/api/v1/learners/ben", headers=bearer(key)).status_code == 204
    assert client.get("/api/v1/learners/ben/sessions", headers=bearer(key)).json()["sessions"] == []
    assert len(client.get("/api/v1/learners/cy/sessions", headers=bearer(key)).json()["sessions"]) == 1


def test_revoked_and_malformed_keys_are_refused(app_store: tuple[TestClient, Store]) -> None:
    client, store = app_store
    stored, key = Access(store).create_key("college-a", "moodle")
    store.revoke_api_key(stored.id, stored.created_at)
    for credential in [key, "ck_nothing", "ck_" + stored.id + "_wrong", key + "x"]:
        response = client.post("/api/v1/sessions", json={"scenario_id": "tiny"}, headers=bearer(credential))
        assert response.status_code == 401, credential
        assert response.json()["type"] == "/problems/invalid-token"


def test_learner_ids_are_checked(app_store: tuple[TestClient, Store]) -> None:
    client, store = app_store
    _, key = Access(store).create_key("college-a", "moodle")
    response = client.post(
        "/api/v1/sessions", json={"scenario_id": "tiny", "learner": "../etc/passwd"}, headers=bearer(key)
    )
    assert response.status_code == 422
