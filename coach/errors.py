"""The one error tree of Coach. Every layer may import this module; it imports nothing of Coach.

    CoachError
    ├── ContentError            a scenario or rubric file is broken (carries file:line:column)
    ├── InputError              the caller sent something we refuse (maps to 4xx)
    │   ├── ReplyEmpty
    │   ├── ReplyTooLong
    │   ├── ReplyInvalid
    │   ├── IdempotencyKeyReused
    │   └── MalformedRequest
    ├── NotFound
    │   ├── ScenarioNotFound
    │   └── SessionNotFound
    ├── Unauthorized
    │   └── InvalidToken
    ├── Conflict
    │   ├── SessionFinished
    │   └── TurnConflict
    ├── EngineError             the engine could not move (a content bug the linter should catch)
    ├── StoreUnavailable        the database cannot be reached right now
    └── DeliveryFailed          another system did not take an outbound message (retried or refused)

Each class carries a stable ``code`` that the API turns into a problem ``type`` URI, so clients
can branch on it without parsing prose.
"""

from __future__ import annotations

from dataclasses import dataclass


class CoachError(Exception):
    code = "internal"
    title = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class SourceLocation:
    """Where in a content file a problem sits; line and column are 1-based."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.file


class ContentError(CoachError):
    code = "content-error"
    title = "Content error"

    def __init__(self, detail: str, location: SourceLocation | None = None) -> None:
        super().__init__(detail)
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.detail}" if self.location else self.detail


class InputError(CoachError):
    code = "invalid-input"
    title = "Invalid input"


class ReplyEmpty(InputError):
    code = "reply-empty"
    title = "Reply is empty"


class ReplyTooLong(InputError):
    code = "reply-too-long"
    title = "Reply is too long"

    def __init__(self, detail: str, limit: int) -> None:
        super().__init__(detail)
        self.limit = limit


class ReplyInvalid(InputError):
    code = "reply-invalid"
    title = "Reply contains characters that are not text"


class IdempotencyKeyReused(InputError):
    code = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different request"


class MalformedRequest(InputError):
    code = "malformed-request"
    title = "Malformed request"


class NotFound(CoachError):
    code = "not-found"
    title = "Not found"


class ScenarioNotFound(NotFound):
    code = "scenario-not-found"
    title = "Scenario not found"


class SessionNotFound(NotFound):
    code = "session-not-found"
    title = "Session not found"


class Unauthorized(CoachError):
    code = "unauthorized"
    title = "Unauthorized"


class InvalidToken(Unauthorized):
    code = "invalid-token"
    title = "Invalid session token"


class Conflict(CoachError):
    code = "conflict"
    title = "Conflict"


class SessionFinished(Conflict):
    code = "session-finished"
    title = "Session already finished"


class TurnConflict(Conflict):
    code = "turn-conflict"
    title = "Turn already submitted"


class EngineError(CoachError):
    code = "engine-error"
    title = "Scenario engine error"


class StoreUnavailable(CoachError):
    code = "store-unavailable"
    title = "Database unavailable"


class DeliveryFailed(CoachError):
    code = "delivery-failed"
    title = "Delivery failed"

    def __init__(self, detail: str, *, permanent: bool = False) -> None:
        super().__init__(detail)
        self.permanent = permanent
        """True when retrying cannot help (the receiver refused the message itself)."""
