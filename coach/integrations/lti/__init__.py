"""LTI 1.3 tool side, written on PyJWT, cryptography and httpx.

    keys.py           the tool's own RSA keys: JWKS, signing, rotation
    platform_keys.py  platforms' JWKS, cached, refetched once on an unknown key id
    launch.py         OIDC login initiation, id_token validation, launches, deep linking, handoffs
    ags.py            Assignment and Grade Services: the score sink (completion → outbox)
    errors.py         why a login or launch was refused, each with a stable problem type

Outbound HTTP (AGS scores, xAPI statements) lives in ``coach.integrations.transports``.
"""
