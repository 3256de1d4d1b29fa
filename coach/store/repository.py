"""The repository: the small interface services use to keep sessions and turns.

Every method runs in its own transaction. A turn is recorded together with the session's
new state in one transaction guarded by the session's revision, so two submissions for the
same turn can never both land. Database outages surface as :class:`StoreUnavailable`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, delete, event, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.orm import Session, sessionmaker

from coach.domain.events import OutboxMessage
from coach.errors import SessionNotFound, StoreUnavailable, TurnConflict
from coach.store.tables import ApiKey, OutboxRow, ScenarioVersion, SessionRow, TurnRow

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x0C0AC4  # any constant shared by every instance


@dataclass(frozen=True)
class StoredSession:
    id: str
    scenario_id: str
    content_hash: str
    token_hash: str
    status: str
    state: dict[str, Any]
    revision: int
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    tenant: str | None = None
    learner: str | None = None
    context: dict[str, Any] | None = None


@dataclass(frozen=True)
class StoredMessage:
    id: int
    kind: str
    target: str
    payload: dict[str, Any]
    dedupe_key: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class StoredApiKey:
    id: str
    tenant: str
    name: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class StoredTurn:
    seq: int
    attempt: int
    node: str
    text: str
    evaluation: dict[str, Any]
    feedback: dict[str, Any]
    branch_index: int
    next_node: str
    state_before: dict[str, Any]
    state_after: dict[str, Any]
    superseded: bool
    created_at: datetime
    idempotency_key: str | None = None


def _session(row: SessionRow) -> StoredSession:
    return StoredSession(
        id=row.id,
        scenario_id=row.scenario_id,
        content_hash=row.content_hash,
        token_hash=row.token_hash,
        status=row.status,
        state=dict(row.state),
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
        tenant=row.tenant,
        learner=row.learner,
        context=row.context,
    )


def _message(row: OutboxRow) -> StoredMessage:
    return StoredMessage(
        id=row.id,
        kind=row.kind,
        target=row.target,
        payload=row.payload,
        dedupe_key=row.dedupe_key,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def _enqueue(session: Session, messages: Sequence[OutboxMessage], now: datetime) -> None:
    """Queue messages in the caller's transaction; a dedupe key already queued is skipped."""
    if not messages:
        return
    rows = [
        {
            "kind": m.kind,
            "target": m.target,
            "payload": dict(m.payload),
            "dedupe_key": m.dedupe_key,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for m in messages
    ]
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(OutboxRow).values(rows).on_conflict_do_nothing(index_elements=["dedupe_key"]))


def _turn(row: TurnRow) -> StoredTurn:
    return StoredTurn(
        seq=row.seq,
        attempt=row.attempt,
        node=row.node,
        text=row.text,
        evaluation=row.evaluation,
        feedback=row.feedback,
        branch_index=row.branch_index,
        next_node=row.next_node,
        state_before=row.state_before,
        state_after=row.state_after,
        superseded=row.superseded,
        created_at=row.created_at,
        idempotency_key=row.idempotency_key,
    )


def _key(row: ApiKey) -> StoredApiKey:
    return StoredApiKey(
        id=row.id,
        tenant=row.tenant,
        name=row.name,
        secret_hash=row.secret_hash,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # WAL lets readers work while a turn is written; foreign keys are off by default.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self) -> None:
        """Bring the schema to the newest migration."""
        with self._guard(), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Instances starting together take turns: the first migrates, the rest find it done.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            config = alembic_config(self.engine)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def ping(self) -> None:
        with self._guard(), self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except (OperationalError, SAInterfaceError) as exc:
            raise StoreUnavailable("the database cannot be reached right now; try again shortly") from exc

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with self._guard(), self._sessions.begin() as session:
            yield session

    def pin_scenario(
        self, content_hash: str, scenario_id: str, version: int, body: dict[str, Any], now: datetime
    ) -> None:
        with self._tx() as session:
            if session.get(ScenarioVersion, content_hash) is None:
                session.add(
                    ScenarioVersion(
                        content_hash=content_hash,
                        scenario_id=scenario_id,
                        version=version,
                        body=body,
                        created_at=now,
                    )
                )

    def scenario_body(self, content_hash: str) -> dict[str, Any]:
        with self._tx() as session:
            row = session.get(ScenarioVersion, content_hash)
            if row is None:
                raise SessionNotFound(f"scenario version {content_hash[:12]} is not stored")
            return dict(row.body)

    def create_session(
        self,
        session_id: str,
        scenario_id: str,
        content_hash: str,
        token_hash: str,
        state: dict[str, Any],
        now: datetime,
        *,
        tenant: str | None = None,
        learner: str | None = None,
        context: dict[str, Any] | None = None,
        outbox: Sequence[OutboxMessage] = (),
    ) -> StoredSession:
        with self._tx() as session:
            row = SessionRow(
                tenant=tenant,
                learner=learner,
                context=context,
                id=session_id,
                scenario_id=scenario_id,
                content_hash=content_hash,
                token_hash=token_hash,
                status="active",
                state=state,
                revision=0,
                created_at=now,
                updated_at=now,
                finished_at=None,
            )
            session.add(row)
            session.flush()
            _enqueue(session, outbox, now)
            return _session(row)

    def get_session(self, session_id: str) -> StoredSession:
        with self._tx() as session:
            row = session.get(SessionRow, session_id)
            if row is None:
                raise SessionNotFound(f"there is no session {session_id!r}")
            return _session(row)

    def turns(self, session_id: str) -> list[StoredTurn]:
        with self._tx() as session:
            rows = session.scalars(
                select(TurnRow).where(TurnRow.session_id == session_id).order_by(TurnRow.seq, TurnRow.attempt)
            )
            return [_turn(r) for r in rows]

    def record_turn(
        self,
        stored: StoredSession,
        turn: StoredTurn,
        *,
        status: str,
        supersede: bool = False,
        now: datetime,
        outbox: Sequence[OutboxMessage] = (),
    ) -> StoredSession:
        """Append ``turn`` and move the session to its state, atomically, if nobody got there first."""
        finished_at = now if status == "finished" else None
        try:
            with self._tx() as session:
                result = session.execute(
                    update(SessionRow)
                    .where(SessionRow.id == stored.id, SessionRow.revision == stored.revision)
                    .values(
                        state=turn.state_after,
                        status=status,
                        revision=stored.revision + 1,
                        updated_at=now,
                        finished_at=finished_at,
                    )
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    raise TurnConflict("this turn was already answered; reload the session to continue")
                if supersede:
                    session.execute(
                        update(TurnRow)
                        .where(TurnRow.session_id == stored.id, TurnRow.seq == turn.seq)
                        .values(superseded=True)
                    )
                session.add(
                    TurnRow(
                        session_id=stored.id,
                        seq=turn.seq,
                        attempt=turn.attempt,
                        node=turn.node,
                        text=turn.text,
                        evaluation=turn.evaluation,
                        feedback=turn.feedback,
                        branch_index=turn.branch_index,
                        next_node=turn.next_node,
                        state_before=turn.state_before,
                        state_after=turn.state_after,
                        superseded=False,
                        idempotency_key=turn.idempotency_key,
                        created_at=now,
                    )
                )
                _enqueue(session, outbox, now)
        except IntegrityError as exc:
            raise TurnConflict("this turn was already answered; reload the session to continue") from exc
        return StoredSession(
            id=stored.id,
            scenario_id=stored.scenario_id,
            content_hash=stored.content_hash,
            token_hash=stored.token_hash,
            status=status,
            state=turn.state_after,
            revision=stored.revision + 1,
            created_at=stored.created_at,
            updated_at=now,
            finished_at=finished_at,
            tenant=stored.tenant,
            learner=stored.learner,
            context=stored.context,
        )

    # -- outbox ---------------------------------------------------------------------------

    def enqueue(self, messages: Sequence[OutboxMessage], now: datetime) -> None:
        with self._tx() as session:
            _enqueue(session, messages, now)

    def due_messages(self, now: datetime, limit: int = 50) -> list[StoredMessage]:
        with self._tx() as session:
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now)
                .order_by(OutboxRow.next_attempt_at, OutboxRow.id)
                .limit(limit)
            )
            return [_message(r) for r in rows]

    def messages(self, status: str | None = None) -> list[StoredMessage]:
        with self._tx() as session:
            query = select(OutboxRow).order_by(OutboxRow.id)
            if status:
                query = query.where(OutboxRow.status == status)
            return [_message(r) for r in session.scalars(query)]

    def claim(self, message: StoredMessage, lease_until: datetime) -> bool:
        """Take a due message for delivery; another worker that saw it too will lose the claim."""
        with self._tx() as session:
            result = session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id == message.id,
                    OutboxRow.status == "pending",
                    OutboxRow.next_attempt_at == message.next_attempt_at,
                )
                .values(next_attempt_at=lease_until)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def mark_delivered(self, message_id: int, now: datetime) -> None:
        with self._tx() as session:
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id == message_id)
                .values(
                    status="delivered", delivered_at=now, attempts=OutboxRow.attempts + 1, last_error=None
                )
            )

    def mark_failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: retry at ``retry_at``, or give up (refused) when it is None."""
        with self._tx() as session:
            values: dict[str, Any] = {"attempts": OutboxRow.attempts + 1, "last_error": error[:2000]}
            if retry_at is None:
                values["status"] = "refused"
            else:
                values["next_attempt_at"] = retry_at
            session.execute(update(OutboxRow).where(OutboxRow.id == message_id).values(**values))

    def outbox_backlog(self) -> int:
        with self._tx() as session:
            query = select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending")
            return int(session.scalar(query) or 0)

    def turn_for_key(self, session_id: str, key: str) -> StoredTurn | None:
        """The turn recorded for an Idempotency-Key, if any."""
        with self._tx() as session:
            row = session.scalars(
                select(TurnRow).where(TurnRow.session_id == session_id, TurnRow.idempotency_key == key)
            ).first()
            return _turn(row) if row else None

    # -- integrators ----------------------------------------------------------------------

    def add_api_key(
        self, key_id: str, tenant: str, name: str, secret_hash: str, now: datetime
    ) -> StoredApiKey:
        with self._tx() as session:
            row = ApiKey(id=key_id, tenant=tenant, name=name, secret_hash=secret_hash, created_at=now)
            session.add(row)
            session.flush()
            return _key(row)

    def api_key(self, key_id: str) -> StoredApiKey | None:
        with self._tx() as session:
            row = session.get(ApiKey, key_id)
            return _key(row) if row else None

    def api_keys(self) -> list[StoredApiKey]:
        with self._tx() as session:
            return [
                _key(r) for r in session.scalars(select(ApiKey).order_by(ApiKey.tenant, ApiKey.created_at))
            ]

    def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        with self._tx() as session:
            result = session.execute(
                update(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=now)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def learner_sessions(self, tenant: str, learner: str) -> list[StoredSession]:
        with self._tx() as session:
            rows = session.scalars(
                select(SessionRow)
                .where(SessionRow.tenant == tenant, SessionRow.learner == learner)
                .order_by(SessionRow.created_at)
            )
            return [_session(r) for r in rows]

    def delete_sessions(self, session_ids: list[str]) -> int:
        """Delete sessions and their turns; returns how many sessions went."""
        if not session_ids:
            return 0
        with self._tx() as session:
            session.execute(delete(TurnRow).where(TurnRow.session_id.in_(session_ids)))
            result = session.execute(delete(SessionRow).where(SessionRow.id.in_(session_ids)))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def sessions_older_than(self, cutoff: datetime, limit: int = 500) -> list[str]:
        with self._tx() as session:
            return list(
                session.scalars(
                    select(SessionRow.id)
                    .where(SessionRow.updated_at < cutoff)
                    .order_by(SessionRow.updated_at)
                    .limit(limit)
                )
            )

    def count(self, what: str) -> int:
        table = {"sessions": SessionRow, "turns": TurnRow}[what]
        with self._tx() as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)
