"""Shared fixtures: the small test content, the bundled content, databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from coach.api.app import create_app
from coach.authoring.library import ContentLibrary, load_library
from coach.config import Settings
from coach.store.repository import Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "content"
BUNDLED_SCENARIOS = ROOT / "scenarios"
BUNDLED_RUBRICS = ROOT / "rubrics"
DOMAIN = ROOT / "coach" / "domain"


def pytest_configure(config: pytest.Config) -> None:
    # mypyc builds C extensions next to the domain sources (setup.py); Python imports them
    # before the .py files, so after an edit the tests would silently run yesterday's code.
    newest_source = max(path.stat().st_mtime for path in DOMAIN.glob("*.py"))
    stale = [so.name for so in DOMAIN.glob("*.so") if so.stat().st_mtime < newest_source]
    if stale:
        raise pytest.UsageError(
            f"compiled modules older than coach/domain sources: {', '.join(sorted(stale))}; "
            "run `make test` (it rebuilds them) or `make install`"
        )


POSTGRES_URL = os.environ.get(
    "COACH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def tiny_library() -> ContentLibrary:
    """Test-only rubrics and one small scenario: the machinery's fixture."""
    return load_library(FIXTURES / "scenarios", FIXTURES / "rubrics")


@pytest.fixture(scope="session")
def bundled_library() -> ContentLibrary:
    """The content trainers and trainees actually use."""
    return load_library(BUNDLED_SCENARIOS, BUNDLED_RUBRICS)


def _postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards.

    In CI (CI=true) an unreachable server fails the test rather than skipping it.
    """
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"coach_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each store and service test runs on an SQLite file and on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'coach.db'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh database on the real PostgreSQL server (fails in CI when unreachable)."""
    yield from _postgres_database()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.upgrade()
    yield store
    store.close()


@pytest.fixture
def client(tiny_library: ContentLibrary, tmp_path: Path) -> Iterator[TestClient]:
    """The app on the test content, spoken to in-process."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}", max_reply_chars=300, max_body_bytes=4096
    )
    store = Store(settings.database_url)
    app = create_app(settings, library=tiny_library, store=store)
    with TestClient(app) as test_client:
        yield test_client
    store.close()


def start(client: TestClient, scenario_id: str = "tiny") -> tuple[str, dict[str, str]]:
    """Start a session; return its id and the Authorization header that opens it."""
    response = client.post("/api/v1/sessions", json={"scenario_id": scenario_id})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["session_id"], {"Authorization": f"Bearer {body['token']}"}
