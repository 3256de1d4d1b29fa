"""xAPI against a real LRS: Ralph, in its own virtual environment, on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from coach.authoring.library import ContentLibrary
from coach.integrations.xapi import XAPI_KIND, registration_of
from tests.integrations.conftest import Lti, make_lti
from tests.integrations.platform import DEPLOYMENT_ID, Platform
from tests.integrations.ralph import PASSWORD, USER, Ralph, install

GOOD = ("It's your call.", "I can't accept the watch, but thank you.")


@pytest.fixture(scope="session")
def ralph_installed() -> None:
    install()


@pytest.fixture
def ralph(ralph_installed: None, tmp_path: Path) -> Iterator[Ralph]:
    server = Ralph(tmp_path / "ralph")
    server.create_user()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def lti_lrs(tmp_path: Path, tiny_library: ContentLibrary, ralph: Ralph) -> Iterator[Lti]:
    """Coach with a deployment whose LRS is Ralph (reply text opted in)."""
    env, store = make_lti(f"sqlite:///{tmp_path / 'coach.db'}", tiny_library, Platform(), network=True)
    env.lti_store.save_deployment(
        "reg1",
        DEPLOYMENT_ID,
        datetime.now(UTC),
        xapi_endpoint=ralph.endpoint,
        xapi_auth=f"{USER}:{PASSWORD}",
        xapi_include_text=True,
    )
    yield env
    store.close()


def ours(ralph: Ralph, session_id: str) -> list[dict[str, Any]]:
    registration = registration_of(session_id)
    return [s for s in ralph.statements() if s.get("context", {}).get("registration") == registration]


def pending_xapi(lti: Lti) -> list[Any]:
    return [m for m in lti.store.messages() if m.kind == XAPI_KIND and m.status != "delivered"]


def test_statements_reach_ralph_and_read_back(lti_lrs: Lti, ralph: Ralph) -> None:
    handed = lti_lrs.learner_session()
    lti_lrs.play(handed, *GOOD)
    report = lti_lrs.outbox().deliver_due()
    assert pending_xapi(lti_lrs) == [], [m.last_error for m in pending_xapi(lti_lrs)]
    assert report.refused == 0
    stored = ours(ralph, handed["session_id"])
    by_verb = {s["verb"]["id"].rsplit("/", 1)[1]: s for s in stored}
    assert sorted(by_verb) == ["completed", "initialized", "passed", "responded"]
    assert len(stored) == 5
    completed = by_verb["completed"]
    assert completed["result"]["score"]["scaled"] == pytest.approx(0.75)
    assert completed["result"]["success"] is True
    assert completed["actor"]["account"] == {"homePage": "https://platform.example", "name": "user-42"}
    responses = sorted(s["result"]["response"] for s in stored if s["verb"]["id"].endswith("responded"))
    assert responses == sorted(GOOD)
    # Queried back by the registration that ties the session's statements together.
    queried = ralph.get("statements", registration=registration_of(handed["session_id"]), limit="100")
    assert queried.status_code == 200
    assert {s["id"] for s in queried.json()["statements"]} == {s["id"] for s in stored}


def test_with_the_lrs_down_statements_wait_and_arrive_once_it_is_back(lti_lrs: Lti, ralph: Ralph) -> None:
    ralph.stop()
    handed = lti_lrs.learner_session()
    lti_lrs.play(handed, *GOOD)
    now = [datetime.now(UTC)]
    outbox = lti_lrs.outbox(lambda: now[0])
    report = outbox.deliver_due()
    waiting = pending_xapi(lti_lrs)
    assert len(waiting) == 5
    assert report.retried >= 5
    assert all("LRS unreachable" in (m.last_error or "") for m in waiting)
    ralph.start()  # the same port and folder: the LRS is back
    now[0] += timedelta(minutes=5)
    outbox.deliver_due()
    assert pending_xapi(lti_lrs) == []
    stored = ours(ralph, handed["session_id"])
    assert len(stored) == 5
    assert len({s["id"] for s in stored}) == 5
    # Sending everything again (as after a crash between sending and marking) adds nothing.
    transport = outbox.transports[XAPI_KIND]
    for message in lti_lrs.store.messages():
        if message.kind == XAPI_KIND:
            transport(message)
    assert len(ours(ralph, handed["session_id"])) == 5
