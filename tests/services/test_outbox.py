"""Outbound messages: queued with the change they describe, delivered with retries, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coach.authoring.library import ContentLibrary
from coach.domain.events import Event, OutboxMessage, SessionCompleted, SessionStarted, TurnRecorded
from coach.errors import DeliveryFailed
from coach.services.outbox import Outbox
from coach.services.sessions import SessionService
from coach.store.repository import Store, StoredMessage


def recorder(event: Event) -> list[OutboxMessage]:
    """A sink that queues one message per event, keyed so a resend cannot duplicate it."""
    session = event.session
    if isinstance(event, SessionStarted):
        key, payload = f"{session.session_id}:start", {"learner": session.learner}
    elif isinstance(event, TurnRecorded):
        key, payload = f"{session.session_id}:turn:{event.seq}:{event.attempt}", {"seq": event.seq}
    else:
        assert isinstance(event, SessionCompleted)
        key, payload = (
            f"{session.session_id}:done",
            {"score": event.debrief.score, "passed": event.debrief.passed},
        )
    return [OutboxMessage(kind="test", target="https://lms.invalid/scores", payload=payload, dedupe_key=key)]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_each_event_queues_its_message_with_the_change(store: Store, tiny_library: ContentLibrary) -> None:
    service = SessionService(tiny_library, store, sinks=[recorder])
    started = service.start_for("tiny", tenant="college", learner="ana", context={"line_item": "x"})
    service.submit(started.session_id, started.token, "It's your call.")
    service.submit(started.session_id, started.token, "I can't accept the watch.")
    messages = store.messages()
    keys = [m.dedupe_key.split(":", 1)[1] for m in messages]
    assert keys == ["start", "turn:1:1", "turn:2:1", "done"]
    assert messages[0].payload == {"learner": "ana"}
    assert messages[-1].payload == {"score": pytest.approx(0.75), "passed": True}
    assert store.get_session(started.session_id).context == {"line_item": "x"}


def test_a_refused_turn_queues_nothing(store: Store, tiny_library: ContentLibrary) -> None:
    service = SessionService(tiny_library, store, sinks=[recorder], max_reply_chars=10)
    started = service.start("tiny")
    with pytest.raises(Exception, match="limit"):
        service.submit(started.session_id, started.token, "x" * 11)
    assert [m.dedupe_key.split(":", 1)[1] for m in store.messages()] == ["start"]


def test_the_same_dedupe_key_is_queued_once(store: Store) -> None:
    message = OutboxMessage(kind="test", target="t", payload={}, dedupe_key="same")
    now = datetime.now(UTC)
    store.enqueue([message], now)
    store.enqueue([message], now)
    assert len(store.messages()) == 1


def test_a_platform_that_fails_twice_then_succeeds_gets_the_message(store: Store) -> None:
    clock = Clock()
    store.enqueue([OutboxMessage(kind="test", target="t", payload={"n": 1}, dedupe_key="k")], clock())
    calls: list[int] = []

    def flaky(message: StoredMessage) -> None:
        calls.append(message.attempts)
        if len(calls) <= 2:
            raise ConnectionError("platform down")

    outbox = Outbox(store, {"test": flaky}, clock=clock)
    assert outbox.deliver_due().retried == 1
    assert outbox.deliver_due().retried == 0  # not due yet: backing off
    clock.now += timedelta(seconds=6)
    assert outbox.deliver_due().retried == 1
    clock.now += timedelta(seconds=11)
    assert outbox.deliver_due().delivered == 1
    (message,) = store.messages()
    assert (message.status, message.attempts, message.last_error) == ("delivered", 3, None)
    assert calls == [0, 1, 2]


def test_a_refusal_is_kept_with_its_reason(store: Store) -> None:
    clock = Clock()
    store.enqueue([OutboxMessage(kind="test", target="t", payload={}, dedupe_key="k")], clock())

    def refuse(message: StoredMessage) -> None:
        raise DeliveryFailed("422 from platform: line item not found", permanent=True)

    assert Outbox(store, {"test": refuse}, clock=clock).deliver_due().refused == 1
    (message,) = store.messages("refused")
    assert message.last_error == "422 from platform: line item not found"
    assert store.outbox_backlog() == 0


def test_a_claimed_message_is_not_sent_twice(store: Store) -> None:
    now = datetime.now(UTC)
    store.enqueue([OutboxMessage(kind="test", target="t", payload={}, dedupe_key="k")], now)
    (due,) = store.due_messages(now + timedelta(seconds=1))
    assert store.claim(due, now + timedelta(minutes=2))
    assert not store.claim(due, now + timedelta(minutes=2))
