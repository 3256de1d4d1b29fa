"""Who may do what: session tokens open one session; integrator API keys open their tenant.

An API key reads ``ck_<id>_<secret>``; the id is public (it names the key in listings), the
secret is stored only as a SHA-256 hash. A session token is a random secret stored the same
way. Both are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from coach.errors import InvalidToken, Unauthorized
from coach.store.repository import Store, StoredApiKey, StoredSession

KEY_PREFIX = "ck_"


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Integrator:
    """A caller holding a valid API key: it acts for one tenant."""

    key_id: str
    tenant: str


def is_api_key(credential: str | None) -> bool:
    return bool(credential) and str(credential).startswith(KEY_PREFIX)


class Access:
    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    def create_key(self, tenant: str, name: str) -> tuple[StoredApiKey, str]:
        """A new key for ``tenant``; the full key is returned once and never stored."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        stored = self.store.add_api_key(key_id, tenant, name, hash_secret(secret), self.clock())
        return stored, f"{KEY_PREFIX}{key_id}_{secret}"

    def integrator(self, credential: str | None) -> Integrator:
        """The tenant an API key opens, or :class:`Unauthorized`."""
        if not credential or not credential.startswith(KEY_PREFIX):
            raise Unauthorized("this call needs an integrator API key (Authorization: Bearer ck_...)")
        key_id, _, secret = credential[len(KEY_PREFIX) :].partition("_")
        stored = self.store.api_key(key_id) if key_id and secret else None
        if (
            stored is None
            or stored.revoked_at is not None
            or not hmac.compare_digest(stored.secret_hash, hash_secret(secret))
        ):
            raise InvalidToken("the API key is unknown, revoked or wrong")
        return Integrator(key_id=stored.id, tenant=stored.tenant)

    def open_session(
        self, session_id: str, credential: str | None, *, allow_integrator: bool
    ) -> StoredSession:
        """The session, if ``credential`` is its token (or, where allowed, a key of its tenant)."""
        stored = self.store.get_session(session_id)
        if allow_integrator and is_api_key(credential):
            integrator = self.integrator(credential)
            if stored.tenant != integrator.tenant:
                raise InvalidToken("this API key's tenant does not own this session")
            return stored
        if not credential or not hmac.compare_digest(stored.token_hash, hash_secret(credential)):
            raise InvalidToken("the session token is missing or does not belong to this session")
        return stored
