"""Several server processes on one database; crashes; graceful shutdown — over real HTTP."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.servers import Server


def play_turn(base: str, session: dict[str, str], reply: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/sessions/{session['session_id']}/turns",
        json={"text": reply},
        headers={"Authorization": f"Bearer {session['token']}"},
        timeout=10,
    )


def test_a_session_started_on_one_instance_finishes_on_another(postgres_url: str, tmp_path: Path) -> None:
    one = Server(postgres_url, tmp_path / "one.log").start()
    two = Server(postgres_url, tmp_path / "two.log").start("--workers", "2")
    try:
        session = httpx.post(f"{one.base}/api/v1/sessions", json={"scenario_id": "tiny"}, timeout=10).json()
        assert play_turn(one.base, session, "It's your call.").json()["node"] == "gift"
        last = play_turn(two.base, session, "I can't accept the watch, thank you.")
        assert last.json()["ending"]["outcome"] == "good"
        auth = {"Authorization": f"Bearer {session['token']}"}
        for base in (one.base, two.base):
            report = httpx.get(f"{base}/api/v1/sessions/{session['session_id']}/report", headers=auth).json()
            assert report["path"] == ["ask", "gift", "good"]
    finally:
        one.stop()
        two.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def crash_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


def test_sigkill_under_load_loses_no_acknowledged_turn(crash_database: str, tmp_path: Path) -> None:
    server = Server(crash_database, tmp_path / "crash.log").start()
    sessions = [
        httpx.post(f"{server.base}/api/v1/sessions", json={"scenario_id": "tiny"}, timeout=10).json()
        for _ in range(12)
    ]
    acknowledged: list[tuple[str, str]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(session: dict[str, str]) -> None:
        replies = ["Hmm.", "I see.", "Go on.", "Okay.", "Right.", "Mm."]
        for reply in replies:
            if stop.is_set():
                return
            try:
                response = play_turn(server.base, session, reply)
            except httpx.TransportError:
                return
            if response.status_code == 200:
                with lock:
                    acknowledged.append((session["session_id"], reply))

    threads = [threading.Thread(target=load, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 20 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= 20

    restarted = Server(crash_database, tmp_path / "crash.log").start()
    try:
        for session in sessions:
            auth = {"Authorization": f"Bearer {session['token']}"}
            transcript = httpx.get(
                f"{restarted.base}/api/v1/sessions/{session['session_id']}", headers=auth
            ).json()
            recorded = [t["text"] for t in transcript["turns"]]
            mine = [reply for sid, reply in acknowledged if sid == session["session_id"]]
            assert recorded[: len(mine)] == mine
            # Consistent: the saved state counts exactly the recorded turns, numbered without gaps.
            assert [t["seq"] for t in transcript["turns"]] == list(range(1, len(recorded) + 1))
            assert len(transcript["path"]) == len(recorded) + 1
    finally:
        restarted.stop()
    engine = create_engine(crash_database)
    with engine.connect() as conn:
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM turns t LEFT JOIN sessions s ON s.id = t.session_id WHERE s.id IS NULL"
            )
        ).scalar()
    engine.dispose()
    assert orphans == 0


def test_graceful_shutdown_finishes_the_request_in_flight(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'grace.db'}", tmp_path / "grace.log").start()
    body = json.dumps({"text": "It's your call."}).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        head = (
            f"POST /api/v1/evaluate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        sock.sendall(head + body[:5])
        time.sleep(0.5)
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        sock.sendall(body[5:])
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    assert response.startswith(b"HTTP/1.1 200"), response[:200]
    assert b'"dimensions"' in response
    assert server.process.wait(timeout=30) in {0, -signal.SIGTERM}
