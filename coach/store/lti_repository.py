"""The repository of the LTI integration: registrations, deployments, nonces, keys, launches.

It shares the :class:`~coach.store.repository.Store`'s engine and transactions; every method
runs in its own transaction, and database outages surface as :class:`StoreUnavailable`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from coach.store.repository import Store, StoredMessage, StoredSession, _message, _session
from coach.store.tables import (
    LtiDeployment,
    LtiHandoff,
    LtiKey,
    LtiNonce,
    LtiRegistration,
    LtiSessionLink,
    OutboxRow,
    SessionRow,
)


def aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything Coach stores is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Registration:
    id: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    jwks_url: str
    token_audience: str | None
    frame_origins: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class Deployment:
    id: int
    registration_id: str
    deployment_id: str
    xapi_endpoint: str | None
    xapi_auth: str | None
    xapi_include_text: bool


@dataclass(frozen=True)
class ToolKey:
    kid: str
    private_key: str
    created_at: datetime
    retired_at: datetime | None
    published_until: datetime | None


@dataclass(frozen=True)
class SessionLink:
    session_id: str
    registration_id: str
    deployment_id: str
    resource_link_id: str
    context_id: str | None
    subject: str
    name: str | None
    created_at: datetime


def _registration(row: LtiRegistration) -> Registration:
    return Registration(
        id=row.id,
        issuer=row.issuer,
        client_id=row.client_id,
        auth_login_url=row.auth_login_url,
        auth_token_url=row.auth_token_url,
        jwks_url=row.jwks_url,
        token_audience=row.token_audience,
        frame_origins=tuple(o for o in (row.frame_origins or "").split() if o),
        created_at=aware(row.created_at),
    )


def _deployment(row: LtiDeployment) -> Deployment:
    return Deployment(
        id=row.id,
        registration_id=row.registration_id,
        deployment_id=row.deployment_id,
        xapi_endpoint=row.xapi_endpoint,
        xapi_auth=row.xapi_auth,
        xapi_include_text=row.xapi_include_text,
    )


def _key(row: LtiKey) -> ToolKey:
    return ToolKey(
        kid=row.kid,
        private_key=row.private_key,
        created_at=aware(row.created_at),
        retired_at=aware(row.retired_at) if row.retired_at else None,
        published_until=aware(row.published_until) if row.published_until else None,
    )


def _deployment_row(session: Session, registration_id: str, deployment_id: str) -> LtiDeployment | None:
    return session.scalars(
        select(LtiDeployment).where(
            LtiDeployment.registration_id == registration_id,
            LtiDeployment.deployment_id == deployment_id,
        )
    ).first()


def _link(row: LtiSessionLink) -> SessionLink:
    return SessionLink(
        session_id=row.session_id,
        registration_id=row.registration_id,
        deployment_id=row.deployment_id,
        resource_link_id=row.resource_link_id,
        context_id=row.context_id,
        subject=row.subject,
        name=row.name,
        created_at=aware(row.created_at),
    )


class LtiStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _tx(self) -> AbstractContextManager[Session]:
        return self.store._tx()

    # -- registrations and deployments ------------------------------------------------------

    def save_registration(self, registration: Registration) -> Registration:
        """Add a registration, or update the URLs of the one with the same issuer and client id."""
        with self._tx() as session:
            row = session.scalars(
                select(LtiRegistration).where(
                    LtiRegistration.issuer == registration.issuer,
                    LtiRegistration.client_id == registration.client_id,
                )
            ).first()
            if row is None:
                row = LtiRegistration(
                    id=registration.id,
                    issuer=registration.issuer,
                    client_id=registration.client_id,
                    created_at=registration.created_at,
                )
                session.add(row)
            row.auth_login_url = registration.auth_login_url
            row.auth_token_url = registration.auth_token_url
            row.jwks_url = registration.jwks_url
            row.token_audience = registration.token_audience
            row.frame_origins = " ".join(registration.frame_origins)
            session.flush()
            return _registration(row)

    def registration(self, registration_id: str) -> Registration | None:
        with self._tx() as session:
            row = session.get(LtiRegistration, registration_id)
            return _registration(row) if row else None

    def registrations(self, issuer: str | None = None, client_id: str | None = None) -> list[Registration]:
        with self._tx() as session:
            query = select(LtiRegistration).order_by(LtiRegistration.issuer, LtiRegistration.created_at)
            if issuer is not None:
                query = query.where(LtiRegistration.issuer == issuer)
            if client_id is not None:
                query = query.where(LtiRegistration.client_id == client_id)
            return [_registration(r) for r in session.scalars(query)]

    def save_deployment(
        self,
        registration_id: str,
        deployment_id: str,
        now: datetime,
        *,
        xapi_endpoint: str | None = None,
        xapi_auth: str | None = None,
        xapi_include_text: bool | None = None,
    ) -> Deployment:
        """Add a deployment (or change its LRS settings); settings left None stay as they are."""
        with self._tx() as session:
            row = _deployment_row(session, registration_id, deployment_id)
            if row is None:
                row = LtiDeployment(
                    registration_id=registration_id,
                    deployment_id=deployment_id,
                    xapi_include_text=False,
                    created_at=now,
                )
                session.add(row)
            if xapi_endpoint is not None:
                row.xapi_endpoint = xapi_endpoint or None
            if xapi_auth is not None:
                row.xapi_auth = xapi_auth or None
            if xapi_include_text is not None:
                row.xapi_include_text = xapi_include_text
            session.flush()
            return _deployment(row)

    def deployment(self, registration_id: str, deployment_id: str) -> Deployment | None:
        with self._tx() as session:
            row = _deployment_row(session, registration_id, deployment_id)
            return _deployment(row) if row else None

    def deployment_by_id(self, row_id: int) -> Deployment | None:
        with self._tx() as session:
            row = session.get(LtiDeployment, row_id)
            return _deployment(row) if row else None

    def deployments(self, registration_id: str | None = None) -> list[Deployment]:
        with self._tx() as session:
            query = select(LtiDeployment).order_by(LtiDeployment.registration_id, LtiDeployment.id)
            if registration_id is not None:
                query = query.where(LtiDeployment.registration_id == registration_id)
            return [_deployment(r) for r in session.scalars(query)]

    # -- nonces -------------------------------------------------------------------------------

    def add_nonce(self, nonce: str, registration_id: str, expires_at: datetime, now: datetime) -> None:
        with self._tx() as session:
            session.execute(delete(LtiNonce).where(LtiNonce.expires_at < now))
            session.add(LtiNonce(nonce=nonce, registration_id=registration_id, expires_at=expires_at))

    def use_nonce(self, nonce: str, registration_id: str, now: datetime) -> bool:
        """Spend a nonce: True the first time for a live nonce, False ever after."""
        with self._tx() as session:
            result = session.execute(
                update(LtiNonce)
                .where(
                    LtiNonce.nonce == nonce,
                    LtiNonce.registration_id == registration_id,
                    LtiNonce.used_at.is_(None),
                    LtiNonce.expires_at > now,
                )
                .values(used_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # -- the tool's keys ----------------------------------------------------------------------

    def add_key(self, kid: str, private_key: str, now: datetime) -> ToolKey:
        with self._tx() as session:
            row = LtiKey(kid=kid, private_key=private_key, created_at=now)
            session.add(row)
            session.flush()
            return _key(row)

    def signing_key(self) -> ToolKey | None:
        """The newest key that is not retired."""
        with self._tx() as session:
            row = session.scalars(
                select(LtiKey)
                .where(LtiKey.retired_at.is_(None))
                .order_by(LtiKey.created_at.desc(), LtiKey.kid)
                .limit(1)
            ).first()
            return _key(row) if row else None

    def published_keys(self, now: datetime) -> list[ToolKey]:
        """Keys in the JWKS: the signing key and retired keys still within their grace period."""
        with self._tx() as session:
            rows = session.scalars(
                select(LtiKey)
                .where((LtiKey.published_until.is_(None)) | (LtiKey.published_until > now))
                .order_by(LtiKey.created_at.desc(), LtiKey.kid)
            )
            return [_key(r) for r in rows]

    def keys(self) -> list[ToolKey]:
        with self._tx() as session:
            return [_key(r) for r in session.scalars(select(LtiKey).order_by(LtiKey.created_at))]

    def retire_keys_except(self, kid: str, now: datetime, published_until: datetime) -> int:
        with self._tx() as session:
            result = session.execute(
                update(LtiKey)
                .where(LtiKey.kid != kid, LtiKey.retired_at.is_(None))
                .values(retired_at=now, published_until=published_until)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]

    # -- launches -----------------------------------------------------------------------------

    def link_session(self, link: SessionLink) -> None:
        with self._tx() as session:
            session.add(
                LtiSessionLink(
                    session_id=link.session_id,
                    registration_id=link.registration_id,
                    deployment_id=link.deployment_id,
                    resource_link_id=link.resource_link_id,
                    context_id=link.context_id,
                    subject=link.subject,
                    name=link.name,
                    created_at=link.created_at,
                )
            )

    def link_of(self, session_id: str) -> SessionLink | None:
        with self._tx() as session:
            row = session.get(LtiSessionLink, session_id)
            return _link(row) if row else None

    def resource_link_sessions(
        self, registration_id: str, resource_link_id: str
    ) -> list[tuple[SessionLink, StoredSession]]:
        with self._tx() as session:
            rows = session.execute(
                select(LtiSessionLink, SessionRow)
                .join(SessionRow, SessionRow.id == LtiSessionLink.session_id)
                .where(
                    LtiSessionLink.registration_id == registration_id,
                    LtiSessionLink.resource_link_id == resource_link_id,
                )
                .order_by(LtiSessionLink.created_at, LtiSessionLink.session_id)
            ).all()
            return [(_link(link), _session(row)) for link, row in rows]

    def open_session_for(
        self, registration_id: str, resource_link_id: str, subject: str, scenario_id: str
    ) -> StoredSession | None:
        """The learner's newest unfinished session of this resource link and scenario, if any."""
        with self._tx() as session:
            row = session.scalars(
                select(SessionRow)
                .join(LtiSessionLink, SessionRow.id == LtiSessionLink.session_id)
                .where(
                    LtiSessionLink.registration_id == registration_id,
                    LtiSessionLink.resource_link_id == resource_link_id,
                    LtiSessionLink.subject == subject,
                    SessionRow.scenario_id == scenario_id,
                    SessionRow.status != "finished",
                )
                .order_by(SessionRow.created_at.desc())
                .limit(1)
            ).first()
            return _session(row) if row else None

    def reissue_token(self, session_id: str, token_hash: str) -> None:
        """Give a session a new token (a relaunch or a new window): the old one stops working."""
        with self._tx() as session:
            session.execute(
                update(SessionRow).where(SessionRow.id == session_id).values(token_hash=token_hash)
            )

    # -- handoffs -----------------------------------------------------------------------------

    def add_handoff(self, code_hash: str, session_id: str, expires_at: datetime, now: datetime) -> None:
        with self._tx() as session:
            session.execute(delete(LtiHandoff).where(LtiHandoff.expires_at < now))
            session.add(LtiHandoff(code_hash=code_hash, session_id=session_id, expires_at=expires_at))

    def redeem_handoff(self, code_hash: str, now: datetime) -> str | None:
        """The session a live code opens; the code is gone afterwards (single use)."""
        try:
            with self._tx() as session:
                row = session.get(LtiHandoff, code_hash, with_for_update=True)
                if row is None:
                    return None
                session_id, expires_at = str(row.session_id), aware(row.expires_at)
                result = session.execute(delete(LtiHandoff).where(LtiHandoff.code_hash == code_hash))
                if not result.rowcount or expires_at <= now:  # type: ignore[attr-defined]
                    return None
                return session_id
        except IntegrityError:
            return None

    # -- outbox administration ---------------------------------------------------------------

    def messages_by_key(self, dedupe_keys: list[str]) -> dict[str, StoredMessage]:
        if not dedupe_keys:
            return {}
        with self._tx() as session:
            rows = session.scalars(select(OutboxRow).where(OutboxRow.dedupe_key.in_(dedupe_keys)))
            return {r.dedupe_key: _message(r) for r in rows}

    def requeue(self, message_id: int | None, now: datetime) -> int:
        """Send refused messages again (one, or all when ``message_id`` is None) once a cause is fixed."""
        with self._tx() as session:
            query = update(OutboxRow).where(OutboxRow.status == "refused")
            if message_id is not None:
                query = query.where(OutboxRow.id == message_id)
            result = session.execute(query.values(status="pending", next_attempt_at=now))
            return int(result.rowcount)  # type: ignore[attr-defined]
