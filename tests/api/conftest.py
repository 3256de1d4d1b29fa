from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coach.api.app import create_app
from coach.authoring.library import ContentLibrary
from coach.config import Settings
from coach.store.repository import Store


@pytest.fixture
def client(tiny_library: ContentLibrary, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}", max_reply_chars=300, max_body_bytes=4096
    )
    store = Store(settings.database_url)
    app = create_app(settings, library=tiny_library, store=store)
    with TestClient(app) as test_client:
        yield test_client
    store.close()


def start(client: TestClient, scenario_id: str = "tiny") -> tuple[str, dict[str, str]]:
    response = client.post("/api/v1/sessions", json={"scenario_id": scenario_id})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["session_id"], {"Authorization": f"Bearer {body['token']}"}
