"""`coach serve` as a separate process, spoken to over real HTTP on a loopback port."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import Server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(f"sqlite:///{tmp_path / 'served.db'}", tmp_path / "server.log").start()
    yield running
    # uvicorn shuts down gracefully, then re-raises SIGTERM so supervisors see why it stopped.
    assert running.stop() in {0, -signal.SIGTERM}
    assert "Finished server process" in running.log.read_text()


def test_a_full_session_over_real_http(server: Server) -> None:
    with httpx.Client(base_url=server.base, timeout=10) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        created = client.post("/api/v1/sessions", json={"scenario_id": "tiny"}).json()
        auth = {"Authorization": f"Bearer {created['token']}"}
        url = f"/api/v1/sessions/{created['session_id']}/turns"
        assert client.post(url, json={"text": "It's your call."}, headers=auth).json()["node"] == "gift"
        last = client.post(url, json={"text": "I can't accept the watch."}, headers=auth).json()
        assert last["ending"]["outcome"] == "good"
        report = client.get(f"/api/v1/sessions/{created['session_id']}/report", headers=auth).json()
        assert report["passed"] is True
        assert client.get("/").status_code == 200
