"""Deliver queued messages to other systems, with retries and backoff; never lose one.

A message is claimed (so two workers do not send it at once), handed to the transport for
its kind, and then marked delivered; a transient failure retries later with exponential
backoff, a permanent one (the receiver refused the message itself) is kept as "refused"
with the reason, visible to administrators (`coach outbox`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from coach.errors import CoachError, DeliveryFailed
from coach.services.access import utcnow
from coach.store.repository import Store, StoredMessage

Transport = Callable[[StoredMessage], None]
"""Sends one message; raises DeliveryFailed (permanent or not) or any error (transient)."""


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    refused: int = 0


class Outbox:
    def __init__(
        self,
        store: Store,
        transports: Mapping[str, Transport],
        *,
        clock: Callable[[], datetime] = utcnow,
        first_delay: timedelta = timedelta(seconds=5),
        longest_delay: timedelta = timedelta(hours=1),
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self.store = store
        self.transports = dict(transports)
        self.clock = clock
        self.first_delay = first_delay
        self.longest_delay = longest_delay
        self.lease = lease

    def backoff(self, attempts: int) -> timedelta:
        """5 s, 10 s, 20 s, … up to an hour: a platform that is down delays a message, never drops it."""
        delay: timedelta = self.first_delay * (2 ** min(attempts, 20))
        return delay if delay < self.longest_delay else self.longest_delay

    def deliver_due(self, limit: int = 50) -> DeliveryReport:
        report = DeliveryReport()
        now = self.clock()
        for message in self.store.due_messages(now, limit):
            transport = self.transports.get(message.kind)
            if transport is None:
                continue  # another instance (or a later version) knows how to send it
            if not self.store.claim(message, now + self.lease):
                continue
            try:
                transport(message)
            except DeliveryFailed as exc:
                if exc.permanent:
                    self.store.mark_failed(message.id, exc.detail, None)
                    report.refused += 1
                else:
                    self.store.mark_failed(
                        message.id, exc.detail, self.clock() + self.backoff(message.attempts)
                    )
                    report.retried += 1
            except CoachError:
                raise
            except Exception as exc:
                self.store.mark_failed(
                    message.id, f"{type(exc).__name__}: {exc}", self.clock() + self.backoff(message.attempts)
                )
                report.retried += 1
            else:
                self.store.mark_delivered(message.id, self.clock())
                report.delivered += 1
        return report
