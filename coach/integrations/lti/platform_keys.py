"""Platforms' public keys, fetched from their JWKS URL, cached, and refetched on an unknown kid.

A platform that rotates its key starts signing with a kid Coach has not seen: Coach fetches
the key set again at once (at most once per ``refetch_after`` seconds for one URL, so a flood
of made-up kids cannot turn Coach into a fetching machine) and otherwise keeps a key set for
``ttl`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from coach.integrations.lti.errors import LtiPlatformUnavailable, LtiUnknownKey


@dataclass
class _KeySet:
    keys: dict[str, rsa.RSAPublicKey]
    fetched_at: float
    unknown_refetch_at: float = field(default=float("-inf"))


class PlatformKeys:
    def __init__(
        self,
        http: httpx.Client,
        *,
        ttl: float = 3600.0,
        refetch_after: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = http
        self.ttl = ttl
        self.refetch_after = refetch_after
        self.clock = clock
        self.fetches = 0
        self._sets: dict[str, _KeySet] = {}
        self._lock = threading.Lock()

    def _fetch(self, url: str) -> dict[str, rsa.RSAPublicKey]:
        self.fetches += 1
        try:
            response = self.http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            body: Any = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise LtiPlatformUnavailable(
                f"the platform's key set at {url} could not be fetched: {exc}"
            ) from exc
        keys: dict[str, rsa.RSAPublicKey] = {}
        for entry in body.get("keys", []) if isinstance(body, dict) else []:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA" or "kid" not in entry:
                continue
            if entry.get("use", "sig") != "sig" or entry.get("alg", "RS256") != "RS256":
                continue
            try:
                key = jwt.PyJWK(entry, algorithm="RS256").key
            except jwt.PyJWTError:
                continue
            if isinstance(key, rsa.RSAPublicKey):
                keys[str(entry["kid"])] = key
        return keys

    def key(self, url: str, kid: str) -> rsa.RSAPublicKey:
        with self._lock:
            now = self.clock()
            cached = self._sets.get(url)
            if cached is None or now - cached.fetched_at > self.ttl:
                cached = self._sets[url] = _KeySet(self._fetch(url), now)
            elif kid not in cached.keys and now - cached.unknown_refetch_at >= self.refetch_after:
                cached = self._sets[url] = _KeySet(self._fetch(url), now, unknown_refetch_at=now)
            key = cached.keys.get(kid)
        if key is None:
            raise LtiUnknownKey(f"the platform's key set has no key {kid!r}")
        return key
