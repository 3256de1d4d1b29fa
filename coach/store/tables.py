"""The database schema. Alembic migrations in ``migrations/versions`` create exactly this."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class ScenarioVersion(Base):
    """The exact content a session was started on, so it can be replayed after the file changes."""

    __tablename__ = "scenario_versions"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(200), index=True)
    content_hash: Mapped[str] = mapped_column(ForeignKey("scenario_versions.content_hash"))
    token_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict[str, Any]]
    revision: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped by every accepted turn; a write that expected another revision loses."""
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    tenant: Mapped[str | None] = mapped_column(String(100), nullable=True)
    """The integrator tenant that created the session; None for anonymous practice."""
    learner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The integrator's learner id, when a session was created for a named learner."""
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """Integration data the session was started with (e.g. an LTI launch's line item)."""


Index("ix_sessions_tenant_learner", SessionRow.tenant, SessionRow.learner)


class ApiKey(Base):
    """An integrator's key, scoped to one tenant. Only a hash of the secret is stored."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    """The public part of the key (``ck_<id>_<secret>``), shown in listings."""
    tenant: Mapped[str] = mapped_column(String(100), index=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (
        UniqueConstraint("session_id", "seq", "attempt", name="uq_turn_attempt"),
        UniqueConstraint("session_id", "idempotency_key", name="uq_turn_idempotency_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    """1 for the first answered turn of the session."""
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    node: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    evaluation: Mapped[dict[str, Any]]
    feedback: Mapped[dict[str, Any]]
    branch_index: Mapped[int] = mapped_column(Integer)
    next_node: Mapped[str] = mapped_column(String(200))
    state_before: Mapped[dict[str, Any]]
    state_after: Mapped[dict[str, Any]]
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    """True once the trainee took this attempt back and answered again."""
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    """The client's Idempotency-Key: a retried request finds this turn instead of adding one."""
    created_at: Mapped[datetime]


class OutboxRow(Base):
    """A message to deliver to another system (LRS, LMS gradebook), retried until it lands."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    """pending, delivered or refused (the receiver said no; kept with the reason)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
