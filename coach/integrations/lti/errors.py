"""Why Coach refused an LTI login or launch. Each class has a stable problem ``code`` and a status.

LtiError                    (CoachError)
├── LtiLoginInvalid         400  the login initiation lacks iss, login_hint or target_link_uri
├── LtiUnknownPlatform      403  no registration for this issuer (and client id)
├── LtiStateMismatch        401  state missing, forged, expired, or not this token's login
├── LtiInvalidToken         400  the id_token is not a JWT at all
├── LtiAlgorithmRefused     401  not RS256 (none, HS256, ...)
├── LtiUnknownKey           401  no key with this kid in the platform's JWKS, even after a refetch
├── LtiBadSignature         401  the signature does not verify with the platform's key
├── LtiWrongIssuer          401  iss is not the platform the login was for
├── LtiWrongAudience        401  aud/azp do not name Coach's client id
├── LtiTokenExpired         401  exp is past (beyond the leeway)
├── LtiTokenNotYetValid     401  iat/nbf in the future (beyond the leeway)
├── LtiNonceReplayed        401  the nonce was used before, or was never issued
├── LtiUnknownDeployment    403  the deployment id is not registered for this platform
├── LtiWrongVersion         400  the LTI version claim is not 1.3.0
├── LtiWrongMessageType     400  not a resource link or deep linking request
├── LtiClaimMissing         400  a required claim is absent
├── LtiInvalidClaim         400  a claim has the wrong shape
├── LtiNoScenario           400  the link names no scenario (custom parameter ``scenario``)
├── LtiPlatformUnavailable  502  the platform's JWKS could not be fetched
└── LtiHandoffInvalid       401  the one-time code is unknown, used or expired
"""

from __future__ import annotations

from coach.errors import CoachError


class LtiError(CoachError):
    code = "lti-launch-invalid"
    title = "LTI launch refused"
    status = 400


class LtiLoginInvalid(LtiError):
    code = "lti-login-invalid"
    title = "LTI login initiation refused"


class LtiUnknownPlatform(LtiError):
    code = "lti-unknown-platform"
    title = "Platform not registered"
    status = 403


class LtiStateMismatch(LtiError):
    code = "lti-state-mismatch"
    title = "LTI state does not match"
    status = 401


class LtiInvalidToken(LtiError):
    code = "lti-invalid-token"
    title = "The id_token is not a valid JWT"


class LtiAlgorithmRefused(LtiError):
    code = "lti-algorithm-refused"
    title = "Signature algorithm refused"
    status = 401


class LtiUnknownKey(LtiError):
    code = "lti-unknown-key"
    title = "Unknown signing key"
    status = 401


class LtiBadSignature(LtiError):
    code = "lti-bad-signature"
    title = "Signature does not verify"
    status = 401


class LtiWrongIssuer(LtiError):
    code = "lti-wrong-issuer"
    title = "Wrong issuer"
    status = 401


class LtiWrongAudience(LtiError):
    code = "lti-wrong-audience"
    title = "Wrong audience"
    status = 401


class LtiTokenExpired(LtiError):
    code = "lti-token-expired"
    title = "id_token expired"
    status = 401


class LtiTokenNotYetValid(LtiError):
    code = "lti-token-not-yet-valid"
    title = "id_token issued in the future"
    status = 401


class LtiNonceReplayed(LtiError):
    code = "lti-nonce-replayed"
    title = "Nonce already used"
    status = 401


class LtiUnknownDeployment(LtiError):
    code = "lti-unknown-deployment"
    title = "Deployment not registered"
    status = 403


class LtiWrongVersion(LtiError):
    code = "lti-wrong-version"
    title = "Unsupported LTI version"


class LtiWrongMessageType(LtiError):
    code = "lti-wrong-message-type"
    title = "Unsupported LTI message type"


class LtiClaimMissing(LtiError):
    code = "lti-claim-missing"
    title = "Required claim missing"


class LtiInvalidClaim(LtiError):
    code = "lti-invalid-claim"
    title = "Claim has the wrong shape"


class LtiNoScenario(LtiError):
    code = "lti-no-scenario"
    title = "No scenario chosen for this link"


class LtiPlatformUnavailable(LtiError):
    code = "lti-platform-unavailable"
    title = "Platform unavailable"
    status = 502


class LtiHandoffInvalid(LtiError):
    code = "lti-handoff-invalid"
    title = "Handoff code invalid"
    status = 401


DESCRIPTIONS: dict[str, str] = {
    "lti-login-invalid": "The LTI login initiation lacks iss, login_hint or target_link_uri.",
    "lti-unknown-platform": "No LTI registration matches this issuer and client id (coach lti register).",
    "lti-state-mismatch": "The launch's state is missing, was not issued by Coach, has expired, or belongs "
    "to another login. Launch again from the course.",
    "lti-invalid-token": "The id_token is not a JSON Web Token.",
    "lti-algorithm-refused": "Coach accepts only RS256-signed id_tokens (never none or HS256).",
    "lti-unknown-key": "The id_token's key id is not in the platform's JWKS, even after fetching it again.",
    "lti-bad-signature": "The id_token's signature does not verify with the platform's published key.",
    "lti-wrong-issuer": "The id_token's iss is not the platform the login was started for.",
    "lti-wrong-audience": "The id_token's aud (or azp) does not name Coach's client id on this platform.",
    "lti-token-expired": "The id_token has expired; launch again from the course.",
    "lti-token-not-yet-valid": "The id_token was issued in the future; check the platform's clock.",
    "lti-nonce-replayed": "The id_token's nonce was already used (a replayed launch) or never issued.",
    "lti-unknown-deployment": "The deployment id is not registered (coach lti register --deployment-id).",
    "lti-wrong-version": "The LTI version claim is not 1.3.0.",
    "lti-wrong-message-type": "Coach handles LtiResourceLinkRequest and LtiDeepLinkingRequest only.",
    "lti-claim-missing": "A claim LTI 1.3 requires is absent from the id_token.",
    "lti-invalid-claim": "A claim of the id_token has the wrong shape.",
    "lti-no-scenario": "The link names no scenario: set the custom parameter scenario=<id> or use "
    "deep linking.",
    "lti-platform-unavailable": "The platform's key set (JWKS) could not be fetched; try again shortly.",
    "lti-handoff-invalid": "The one-time code that opens a session in a new window is unknown, used "
    "or expired.",
}
