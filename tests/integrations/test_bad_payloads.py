"""Every forged, stale or malformed launch is refused with a problem document saying why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from coach.integrations.lti.launch import (
    CLAIM_DEPLOYMENT,
    CLAIM_MESSAGE_TYPE,
    CLAIM_RESOURCE_LINK,
    CLAIM_ROLES,
    CLAIM_VERSION,
)
from tests.integrations.conftest import Lti
from tests.integrations.platform import REMOVE, new_key


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{code}", body
    assert body["detail"], "a refusal says why"
    assert body["status"] == status
    return body


def test_a_valid_token_passes_first(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    assert lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce), state).status_code == 200


def test_an_expired_token(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    now = int(time.time())
    token = lti_sqlite.platform.id_token(nonce, iat=now - 3600, exp=now - 600)
    refused(lti_sqlite.post_launch(token, state), 401, "lti-token-expired")


def test_a_token_just_past_expiry_is_within_the_leeway(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    now = int(time.time())
    token = lti_sqlite.platform.id_token(nonce, iat=now - 300, exp=now - 20)
    assert lti_sqlite.post_launch(token, state).status_code == 200


def test_a_token_issued_in_the_future(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce, iat=int(time.time()) + 3600, exp=int(time.time()) + 7200)
    refused(lti_sqlite.post_launch(token, state), 401, "lti-token-not-yet-valid")


def test_the_wrong_audience(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    refused(
        lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce, aud="another-tool"), state),
        401,
        "lti-wrong-audience",
    )


def test_several_audiences_without_azp(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce, aud=["coach-client-1", "another-tool"])
    refused(lti_sqlite.post_launch(token, state), 401, "lti-wrong-audience")


def test_a_wrong_azp(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce, azp="another-tool")
    refused(lti_sqlite.post_launch(token, state), 401, "lti-wrong-audience")


def test_another_issuer(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce, iss="https://evil.example")
    refused(lti_sqlite.post_launch(token, state), 401, "lti-wrong-issuer")


def test_an_unknown_deployment(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce, **{CLAIM_DEPLOYMENT: "course-99"})
    body = refused(lti_sqlite.post_launch(token, state), 403, "lti-unknown-deployment")
    assert "course-99" in body["detail"]


def test_the_wrong_version(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce, **{CLAIM_VERSION: "1.1.0"})
    refused(lti_sqlite.post_launch(token, state), 400, "lti-wrong-version")


def test_an_unsupported_message_type(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce, **{CLAIM_MESSAGE_TYPE: "LtiSubmissionReviewRequest"})
    refused(lti_sqlite.post_launch(token, state), 400, "lti-wrong-message-type")


def test_an_unknown_key_id_is_looked_up_again_then_refused(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce), state)  # caches the key set
    fetches = lti_sqlite.platform.jwks_fetches
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce, key=new_key(), kid="rotated-in-later")
    refused(lti_sqlite.post_launch(token, state), 401, "lti-unknown-key")
    assert lti_sqlite.platform.jwks_fetches == fetches + 1, "one refetch on an unknown kid"


def test_a_platform_key_rotation_is_picked_up_by_the_refetch(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    assert lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce), state).status_code == 200
    lti_sqlite.platform.key, lti_sqlite.platform.kid = new_key(), "platform-key-2"
    state, nonce = lti_sqlite.state_and_nonce()
    assert lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce), state).status_code == 200


def test_a_token_signed_by_another_key(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce, key=new_key())  # the platform's kid, someone else's key
    refused(lti_sqlite.post_launch(token, state), 401, "lti-bad-signature")


def test_alg_none(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    claims = lti_sqlite.platform.claims(nonce)
    token = unsigned({"alg": "none", "typ": "JWT", "kid": "platform-key-1"}, claims) + "."
    refused(lti_sqlite.post_launch(token, state), 401, "lti-algorithm-refused")


def test_hs256_with_the_platform_public_key_as_secret(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    secret = lti_sqlite.platform.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = unsigned(
        {"alg": "HS256", "typ": "JWT", "kid": "platform-key-1"}, lti_sqlite.platform.claims(nonce)
    )
    signature = b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
    refused(lti_sqlite.post_launch(f"{signing_input}.{signature}", state), 401, "lti-algorithm-refused")


def test_a_replayed_launch(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce)
    assert lti_sqlite.post_launch(token, state).status_code == 200
    refused(lti_sqlite.post_launch(token, state), 401, "lti-nonce-replayed")


def test_a_nonce_coach_never_issued(lti_sqlite: Lti) -> None:
    state, _ = lti_sqlite.state_and_nonce()
    refused(lti_sqlite.post_launch(lti_sqlite.platform.id_token("made-up"), state), 401, "lti-state-mismatch")


def test_no_state(lti_sqlite: Lti) -> None:
    _, nonce = lti_sqlite.state_and_nonce()
    refused(lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce), None), 401, "lti-state-mismatch")


def test_the_state_of_another_login(lti_sqlite: Lti) -> None:
    _, nonce = lti_sqlite.state_and_nonce()
    other_state, _ = lti_sqlite.state_and_nonce()
    refused(
        lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce), other_state), 401, "lti-state-mismatch"
    )


def test_a_forged_state(lti_sqlite: Lti) -> None:
    _, nonce = lti_sqlite.state_and_nonce()
    forged = jwt.encode(
        {"aud": "coach-lti-state", "reg": "reg1", "nonce": nonce, "exp": int(time.time()) + 60},
        new_key(),
        algorithm="RS256",
    )
    refused(lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce), forged), 401, "lti-state-mismatch")
    refused(
        lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce), "not-even-a-jwt"),
        401,
        "lti-state-mismatch",
    )


@pytest.mark.parametrize(
    "claim",
    [
        "sub",
        "exp",
        "iat",
        "nonce",
        CLAIM_DEPLOYMENT,
        CLAIM_MESSAGE_TYPE,
        CLAIM_VERSION,
        CLAIM_ROLES,
        CLAIM_RESOURCE_LINK,
    ],
)
def test_a_missing_required_claim(lti_sqlite: Lti, claim: str) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    body = refused(
        lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce, **{claim: REMOVE}), state),
        400,
        "lti-claim-missing",
    )
    assert claim.rsplit("/", 1)[-1] in body["detail"]


def test_roles_of_the_wrong_shape(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    token = lti_sqlite.platform.id_token(nonce, **{CLAIM_ROLES: "Instructor"})
    refused(lti_sqlite.post_launch(token, state), 400, "lti-invalid-claim")


def test_no_id_token_or_not_a_jwt(lti_sqlite: Lti) -> None:
    state, _ = lti_sqlite.state_and_nonce()
    refused(lti_sqlite.post_launch(None, state), 400, "lti-claim-missing")
    refused(lti_sqlite.post_launch("garbage", state), 400, "lti-invalid-token")


def test_login_from_an_unregistered_platform_or_without_parameters(lti_sqlite: Lti) -> None:
    refused(lti_sqlite.login(iss="https://unknown.example", client_id=""), 403, "lti-unknown-platform")
    refused(lti_sqlite.client.get("/lti/login"), 400, "lti-login-invalid")


def test_a_refused_launch_starts_no_session_and_keeps_the_nonce_spent(lti_sqlite: Lti) -> None:
    state, nonce = lti_sqlite.state_and_nonce()
    refused(
        lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce, **{CLAIM_VERSION: "1.1.0"}), state),
        400,
        "lti-wrong-version",
    )
    assert lti_sqlite.store.count("sessions") == 0
    refused(lti_sqlite.post_launch(lti_sqlite.platform.id_token(nonce), state), 401, "lti-nonce-replayed")
