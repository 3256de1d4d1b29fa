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


# -- LTI 1.3 (issue 6) -------------------------------------------------------------------------


class LtiRegistration(Base):
    """One platform (an LMS) as Coach knows it: its issuer and the client id it gave Coach."""

    __tablename__ = "lti_registrations"
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_registration"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(Text)
    auth_token_url: Mapped[str] = mapped_column(Text)
    jwks_url: Mapped[str] = mapped_column(Text)
    token_audience: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The ``aud`` of client assertions when the platform wants something else than the token URL."""
    frame_origins: Mapped[str] = mapped_column(Text, default="")
    """Extra origins (space-separated) that may frame Coach's LTI pages, e.g. a Canvas school domain."""
    created_at: Mapped[datetime]


class LtiDeployment(Base):
    """A deployment of Coach on a platform (a site, course or sub-account), with its LRS settings."""

    __tablename__ = "lti_deployments"
    __table_args__ = (UniqueConstraint("registration_id", "deployment_id", name="uq_lti_deployment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    registration_id: Mapped[str] = mapped_column(
        ForeignKey("lti_registrations.id", ondelete="CASCADE"), index=True
    )
    deployment_id: Mapped[str] = mapped_column(String(255))
    xapi_endpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    xapi_auth: Mapped[str | None] = mapped_column(Text, nullable=True)
    xapi_include_text: Mapped[bool] = mapped_column(Boolean, default=False)
    """Send the trainee's reply text in xAPI statements (off unless the deployment opts in)."""
    created_at: Mapped[datetime]


class LtiNonce(Base):
    """A nonce handed out at login initiation; a launch uses it up (single use)."""

    __tablename__ = "lti_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    registration_id: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)


class LtiKey(Base):
    """The tool's own signing keys. The newest unretired key signs; retired keys stay published a while."""

    __tablename__ = "lti_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_key: Mapped[str] = mapped_column(Text)
    """PKCS#8 PEM. Protect the database (and its backups) like any other secret store."""
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None] = mapped_column(nullable=True)
    published_until: Mapped[datetime | None] = mapped_column(nullable=True)


class LtiSessionLink(Base):
    """Which launch a session came from: the resource link an instructor's view lists."""

    __tablename__ = "lti_sessions"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    registration_id: Mapped[str] = mapped_column(String(32))
    deployment_id: Mapped[str] = mapped_column(String(255))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    subject: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime]


Index("ix_lti_sessions_link", LtiSessionLink.registration_id, LtiSessionLink.resource_link_id)


class LtiHandoff(Base):
    """A one-time code that opens a launched session in a new window (no token in any URL)."""

    __tablename__ = "lti_handoffs"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
