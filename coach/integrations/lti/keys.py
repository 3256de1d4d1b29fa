"""The tool's own RSA keys: published as a JWKS, used to sign, rotated without breaking anything.

The newest unretired key signs (client assertions for AGS tokens, deep-linking responses and
Coach's own state values). Rotating adds a new key and retires the others, which stay in the
JWKS for a grace period so tokens signed just before the rotation still verify.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from coach.services.access import utcnow
from coach.store.lti_repository import LtiStore


def public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, str]:
    jwk: dict[str, str] = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint: a key id that names the key itself."""
    canonical = json.dumps(public_jwk(public_key), separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def generate_key() -> tuple[str, str]:
    """A new 2048-bit RSA key: its kid and its PKCS#8 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return thumbprint(key.public_key()), pem


class ToolKeys:
    def __init__(self, store: LtiStore, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock
        self._parsed: dict[str, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()

    def _private(self, kid: str, pem: str) -> rsa.RSAPrivateKey:
        with self._lock:
            key = self._parsed.get(kid)
            if key is None:
                loaded = serialization.load_pem_private_key(pem.encode(), password=None)
                assert isinstance(loaded, rsa.RSAPrivateKey)
                key = self._parsed[kid] = loaded
            return key

    def current(self) -> tuple[str, rsa.RSAPrivateKey]:
        """The signing key; the first call on a fresh database makes one."""
        stored = self.store.signing_key()
        if stored is None:
            kid, pem = generate_key()
            stored = self.store.add_key(kid, pem, self.clock())
        return stored.kid, self._private(stored.kid, stored.private_key)

    def rotate(self, grace: timedelta) -> str:
        """Make a new signing key; older keys stay published for ``grace``. Returns the new kid."""
        now = self.clock()
        kid, pem = generate_key()
        self.store.add_key(kid, pem, now)
        self.store.retire_keys_except(kid, now, now + grace)
        return kid

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        self.current()
        keys = []
        for stored in self.store.published_keys(self.clock()):
            public = self._private(stored.kid, stored.private_key).public_key()
            keys.append({**public_jwk(public), "kid": stored.kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    def sign(self, claims: Mapping[str, Any], typ: str = "JWT") -> str:
        kid, key = self.current()
        return jwt.encode(dict(claims), key, algorithm="RS256", headers={"kid": kid, "typ": typ})

    def verify(self, token: str, audience: str, leeway: float = 0) -> dict[str, Any]:
        """Claims of a token Coach signed itself (state, deep-linking context); raises jwt errors."""
        kid = jwt.get_unverified_header(token).get("kid")
        for stored in self.store.published_keys(self.clock()):
            if stored.kid == kid:
                public = self._private(stored.kid, stored.private_key).public_key()
                claims: dict[str, Any] = jwt.decode(
                    token, public, algorithms=["RS256"], audience=audience, leeway=leeway
                )
                return claims
        raise jwt.InvalidTokenError("signed by a key Coach does not publish")
