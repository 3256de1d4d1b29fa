"""The repository keeps sessions and turns, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from coach.errors import SessionNotFound, StoreUnavailable, TurnConflict
from coach.store.repository import Store, StoredTurn
from coach.store.tables import Base

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def new_session(store: Store, session_id: str = "s1") -> None:
    store.pin_scenario("h" * 64, "tiny", 1, {"id": "tiny"}, NOW)
    store.create_session(session_id, "tiny", "h" * 64, "t" * 64, {"node": "ask", "turn": 0}, NOW)


def turn(seq: int, attempt: int = 1, text: str = "hello") -> StoredTurn:
    return StoredTurn(
        seq=seq,
        attempt=attempt,
        node="ask",
        text=text,
        evaluation={"dimensions": {}},
        feedback={"points": []},
        branch_index=0,
        next_node="gift",
        state_before={"node": "ask", "turn": seq - 1},
        state_after={"node": "gift", "turn": seq},
        superseded=False,
        created_at=NOW,
    )


def test_migrations_create_exactly_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_a_turn_and_the_new_state_land_together(store: Store) -> None:
    new_session(store)
    stored = store.get_session("s1")
    updated = store.record_turn(stored, turn(1), status="active", now=NOW)
    assert updated.revision == 1
    assert store.get_session("s1").state == {"node": "gift", "turn": 1}
    assert [t.text for t in store.turns("s1")] == ["hello"]


def test_a_second_write_from_the_same_revision_loses_and_changes_nothing(store: Store) -> None:
    new_session(store)
    stale = store.get_session("s1")
    store.record_turn(stale, turn(1, text="first"), status="active", now=NOW)
    with pytest.raises(TurnConflict):
        store.record_turn(stale, turn(1, text="second"), status="active", now=NOW)
    assert [t.text for t in store.turns("s1")] == ["first"]
    assert store.get_session("s1").revision == 1


def test_a_retry_supersedes_the_first_attempt_and_keeps_it(store: Store) -> None:
    new_session(store)
    stored = store.record_turn(store.get_session("s1"), turn(1, text="first"), status="active", now=NOW)
    store.record_turn(stored, turn(1, attempt=2, text="again"), status="finished", supersede=True, now=NOW)
    turns = store.turns("s1")
    assert [(t.text, t.superseded) for t in turns] == [("first", True), ("again", False)]
    assert store.get_session("s1").status == "finished"


def test_unknown_sessions_are_not_found(store: Store) -> None:
    with pytest.raises(SessionNotFound):
        store.get_session("nope")


def test_the_pinned_scenario_body_is_kept(store: Store) -> None:
    new_session(store)
    assert store.scenario_body("h" * 64) == {"id": "tiny"}


def test_an_unreachable_database_is_reported_as_unavailable() -> None:
    store = Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(StoreUnavailable):
        store.ping()


def test_instances_starting_together_migrate_once(postgres_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    stores = [Store(postgres_url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda s: s.upgrade(), stores))
        stores[0].ping()
        assert stores[0].count("sessions") == 0
    finally:
        for s in stores:
            s.close()
