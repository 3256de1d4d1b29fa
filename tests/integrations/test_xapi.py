"""xAPI statements: what they say, where they go, and that a resend is never a duplicate."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from coach.authoring.library import ContentLibrary
from coach.errors import DeliveryFailed
from coach.integrations.transports import XapiTransport, authorization
from coach.integrations.xapi import XAPI_KIND, XapiSink, registration_of, statement_id
from coach.services.outbox import Outbox
from coach.services.sessions import SessionService
from coach.store.lti_repository import LtiStore
from coach.store.repository import Store
from tests.integrations.conftest import Lti
from tests.integrations.platform import DEPLOYMENT_ID

GOOD = ("It's your call.", "I can't accept the watch, but thank you.")
ENDPOINT = "https://lrs.example/xAPI/"


def statements(store: Store) -> list[dict[str, Any]]:
    return [m.payload["statement"] for m in store.messages() if m.kind == XAPI_KIND]


def verbs(found: list[dict[str, Any]]) -> list[str]:
    return [s["verb"]["id"].rsplit("/", 1)[1] for s in found]


def test_a_session_of_an_integrators_learner_tells_its_story(
    store: Store, tiny_library: ContentLibrary
) -> None:
    sink = XapiSink("https://coach.example", global_endpoint=ENDPOINT)
    service = SessionService(tiny_library, store, sinks=[sink])
    started = service.start_for("tiny", tenant="college", learner="ana")
    for reply in GOOD:
        service.submit(started.session_id, started.token, reply)
    found = statements(store)
    assert verbs(found) == ["initialized", "responded", "responded", "completed", "passed"]
    registration = registration_of(started.session_id)
    assert {s["context"]["registration"] for s in found} == {registration}
    assert uuid.UUID(registration).version == 5
    assert [s["id"] for s in found] == [
        statement_id(started.session_id, name)
        for name in ("started", "turn:1:1", "turn:2:1", "completed", "passed")
    ]
    assert found[0]["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "https://coach.example/tenants/college", "name": "ana"},
    }
    turn = found[1]
    assert turn["object"]["id"] == "https://coach.example/scenarios/tiny/moments/ask"
    extensions = turn["result"]["extensions"]
    assert extensions["https://coach.example/xapi/extensions/dimensions"]["autonomy"]["verdict"] == "met"
    assert any(
        c["dimension"] == "autonomy" for c in extensions["https://coach.example/xapi/extensions/criteria"]
    )
    assert "response" not in turn["result"], "no reply text unless opted in"
    done = found[3]["result"]
    assert done["completion"] is True
    assert done["success"] is True
    assert done["score"]["scaled"] == pytest.approx(0.75)
    assert all(m.target == ENDPOINT for m in store.messages())


def test_reply_text_only_when_opted_in(store: Store, tiny_library: ContentLibrary) -> None:
    sink = XapiSink("https://coach.example", global_endpoint=ENDPOINT, include_text=True)
    service = SessionService(tiny_library, store, sinks=[sink])
    started = service.start_for("tiny", tenant="college", learner="ana")
    service.submit(started.session_id, started.token, GOOD[0])
    assert statements(store)[1]["result"]["response"] == GOOD[0]


def test_anonymous_practice_and_no_lrs_send_nothing(store: Store, tiny_library: ContentLibrary) -> None:
    SessionService(
        tiny_library, store, sinks=[XapiSink("https://c.example", global_endpoint=ENDPOINT)]
    ).start("tiny")
    SessionService(tiny_library, store, sinks=[XapiSink("https://c.example")]).start_for(
        "tiny", tenant="t", learner="l"
    )
    assert statements(store) == []


def test_a_launch_sends_to_its_deployments_lrs_with_the_platforms_identity(lti: Lti) -> None:
    lti.lti_store.save_deployment(
        "reg1",
        DEPLOYMENT_ID,
        datetime.now(UTC),
        xapi_endpoint=ENDPOINT,
        xapi_auth="u:p",
        xapi_include_text=True,
    )
    handed = lti.learner_session()
    lti.play(handed, GOOD[0])
    found = statements(lti.store)
    assert verbs(found) == ["initialized", "responded"]
    assert found[0]["actor"]["account"] == {"homePage": "https://platform.example", "name": "user-42"}
    assert found[1]["result"]["response"] == GOOD[0]
    assert found[1]["context"]["contextActivities"]["grouping"][0]["id"].endswith("/lti/contexts/course-7")
    [message] = [m for m in lti.store.messages() if m.kind == XAPI_KIND][:1]
    assert message.payload["lrs"].startswith("deployment:")
    assert "u:p" not in json.dumps(message.payload), "credentials stay out of the outbox"


class FakeLrs:
    """Only what the transport relies on: PUT by id is idempotent; another body under an id is 409."""

    def __init__(self, down: int = 0) -> None:
        self.stored: dict[str, Any] = {}
        self.down = down
        self.auth: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            self.down -= 1
            raise httpx.ConnectError("connection refused", request=request)
        assert request.method == "PUT"
        assert request.headers["x-experience-api-version"] == "1.0.3"
        self.auth.append(request.headers.get("authorization", ""))
        sid = request.url.params["statementId"]
        body = json.loads(request.content)
        if sid in self.stored and self.stored[sid] != body:
            return httpx.Response(409)
        self.stored[sid] = body
        return httpx.Response(204)


def test_resends_are_delivered_once_and_an_outage_only_delays(
    store: Store, tiny_library: ContentLibrary
) -> None:
    service = SessionService(
        tiny_library, store, sinks=[XapiSink("https://c.example", global_endpoint=ENDPOINT)]
    )
    started = service.start_for("tiny", tenant="t", learner="l")
    service.submit(started.session_id, started.token, GOOD[0])
    lrs = FakeLrs(down=2)
    transport = XapiTransport(
        httpx.Client(transport=httpx.MockTransport(lrs)), LtiStore(store), "coach:secret"
    )
    now = [datetime.now(UTC)]
    outbox = Outbox(store, {XAPI_KIND: transport}, clock=lambda: now[0])
    report = outbox.deliver_due()
    assert report.retried == 2
    assert lrs.stored == {}
    now[0] = now[0].replace(year=now[0].year + 1)
    assert outbox.deliver_due().delivered == 2
    assert len(lrs.stored) == 2
    assert lrs.auth[0] == authorization("coach:secret")
    # The same statement again (a resend after a lost answer) is accepted and changes nothing.
    [message, *_] = store.messages()
    transport(message)
    assert len(lrs.stored) == 2
    # A 409 for a known id counts as delivered; other refusals are kept with the reason.
    lrs.stored[message.payload["statement"]["id"]] = {"different": True}
    transport(message)


def test_an_lrs_that_refuses_a_statement_is_a_permanent_failure(store: Store) -> None:
    http = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(400, text='{"detail": "bad verb"}'))
    )
    transport = XapiTransport(http, LtiStore(store))
    store.enqueue([], datetime.now(UTC))
    from coach.store.repository import StoredMessage

    message = StoredMessage(
        1,
        XAPI_KIND,
        ENDPOINT,
        {"lrs": "global", "statement": {"id": "x"}},
        "k",
        "pending",
        0,
        datetime.now(UTC),
        None,
        datetime.now(UTC),
        None,
    )
    with pytest.raises(DeliveryFailed) as caught:
        transport(message)
    assert caught.value.permanent
    assert "bad verb" in caught.value.detail
