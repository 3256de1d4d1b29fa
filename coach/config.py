"""Settings, read from the environment (prefix ``COACH_``) by the API and the CLI only.

Every setting has a default that serves ``make run``; the README lists them all (a test
keeps that list honest).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT = Path(__file__).resolve().parent.parent


def _content_folder(name: str) -> Path:
    """``./name`` when run from a content checkout, else the bundled content next to the package,
    so `coach evaluate` works from any directory."""
    here = Path(name)
    return here if here.is_dir() or not (PROJECT / name).is_dir() else PROJECT / name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COACH_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///coach.db",
        description="SQLAlchemy URL of the database; an SQLite file by default, "
        "postgresql+psycopg://user@host/db for PostgreSQL.",
    )
    scenarios_dir: Path = Field(
        default_factory=lambda: _content_folder("scenarios"), description="Folder of scenario YAML files."
    )
    rubrics_dir: Path = Field(
        default_factory=lambda: _content_folder("rubrics"), description="Folder of rubric YAML files."
    )
    max_reply_chars: int = Field(
        default=2000, ge=1, le=100_000, description="Longest reply accepted, in characters."
    )
    max_body_bytes: int = Field(
        default=65_536,
        ge=1024,
        description="Largest request body accepted, in bytes (413 above it).",
    )
    auto_migrate: bool = Field(default=True, description="Apply database migrations when the app starts.")
    log_level: str = Field(
        default="info", description="Log level of the server (debug, info, warning, error)."
    )
    anonymous_practice: bool = Field(
        default=True,
        description="Let anyone start a practice session without an API key (each session stays private "
        "to its token). Turn off when only integrators may create sessions.",
    )
    rate_limit_per_minute: int = Field(
        default=120, ge=0, description="Requests per minute per client (API key or address); 0 turns it off."
    )
    cors_origins: str = Field(
        default="", description="Comma-separated origins allowed to call the API from a browser (CORS)."
    )
    frame_ancestors: str = Field(
        default="*",
        description="Who may embed the page in a frame (CSP frame-ancestors), e.g. 'https://lms.example.edu'.",
    )
    trusted_proxies: str = Field(
        default="", description="Comma-separated proxy addresses whose X-Forwarded-For names the real client."
    )
    outbox_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often each instance looks for outbound messages (grades, xAPI) to deliver.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address people and LMSs reach Coach at: LTI login, launch and JWKS URLs "
        "(coach lti tool-config) and xAPI activity ids are built on it.",
    )
    xapi_endpoint: str = Field(
        default="",
        description="Global LRS statements endpoint base, e.g. https://lrs.example.edu/xAPI/; empty sends no "
        "xAPI unless an LTI deployment names its own LRS.",
    )
    xapi_auth: str = Field(
        default="", description="Credentials for the global LRS: 'user:password' or a full 'Basic …' value."
    )
    xapi_include_text: bool = Field(
        default=False,
        description="Put the trainee's reply text into xAPI statements for sessions outside LTI (LTI "
        "deployments opt in one by one).",
    )
