"""`coach serve` as a separate process, spoken to over real HTTP on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import FIXTURES

COACH = str(Path(sys.executable).parent / "coach")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "COACH_SCENARIOS_DIR": str(FIXTURES / "scenarios"),
        "COACH_RUBRICS_DIR": str(FIXTURES / "rubrics"),
        "COACH_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
    }
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [COACH, "serve", "--port", str(port)], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"server did not come up:\n{log.read_text()}")
        time.sleep(0.2)
    yield base
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so supervisors see why it stopped.
    assert process.wait(timeout=30) in {0, -signal.SIGTERM}
    assert "Finished server process" in log.read_text()


def test_a_full_session_over_real_http(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
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
