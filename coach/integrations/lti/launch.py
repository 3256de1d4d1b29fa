"""OIDC login initiation, id_token validation, launches, deep linking and session handoffs.

The flow (LTI 1.3 core, section 5.1 and IMS Security Framework 5.1.1):

1. The platform sends the browser to ``/lti/login`` (GET or POST) with ``iss``,
   ``login_hint``, ``target_link_uri`` and usually ``lti_message_hint`` and ``client_id``.
2. Coach stores a fresh nonce server-side (single use, ten minutes) and sends the browser to
   the platform's authorisation endpoint with a ``state``: a short-lived value Coach signs
   with its own key, naming the registration, the nonce and the target. No cookie is set:
   inside an LMS iframe a third-party cookie would be blocked, so nothing may depend on one.
3. The platform form-posts ``id_token`` and ``state`` to ``/lti/launch``. Coach verifies the
   state's signature and age, then the id_token: RS256 only, the platform's key by ``kid``
   (refetching its JWKS once on an unknown kid), signature, ``iss``, ``aud`` and ``azp``,
   ``exp`` and ``iat`` with a small leeway, the nonce (it must be the state's, and unused),
   the deployment, the LTI version, the message type and the roles.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import jwt

from coach.integrations.lti.errors import (
    LtiAlgorithmRefused,
    LtiBadSignature,
    LtiClaimMissing,
    LtiHandoffInvalid,
    LtiInvalidClaim,
    LtiInvalidToken,
    LtiLoginInvalid,
    LtiNonceReplayed,
    LtiNoScenario,
    LtiStateMismatch,
    LtiTokenExpired,
    LtiTokenNotYetValid,
    LtiUnknownDeployment,
    LtiUnknownKey,
    LtiUnknownPlatform,
    LtiWrongAudience,
    LtiWrongIssuer,
    LtiWrongMessageType,
    LtiWrongVersion,
)
from coach.integrations.lti.keys import ToolKeys
from coach.integrations.lti.platform_keys import PlatformKeys
from coach.services.access import hash_secret, utcnow
from coach.services.sessions import SessionService
from coach.store.lti_repository import Deployment, LtiStore, Registration, SessionLink

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_VERSION = LTI + "version"
CLAIM_MESSAGE_TYPE = LTI + "message_type"
CLAIM_DEPLOYMENT = LTI + "deployment_id"
CLAIM_ROLES = LTI + "roles"
CLAIM_RESOURCE_LINK = LTI + "resource_link"
CLAIM_TARGET = LTI + "target_link_uri"
CLAIM_CONTEXT = LTI + "context"
CLAIM_CUSTOM = LTI + "custom"
CLAIM_PRESENTATION = LTI + "launch_presentation"
CLAIM_AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CLAIM_DL_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
CLAIM_DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"

RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"

VOCAB = "http://purl.imsglobal.org/vocab/lis/v2/"
STAFF_ROLES = frozenset(
    {
        VOCAB + "membership#Instructor",
        VOCAB + "membership#ContentDeveloper",
        VOCAB + "membership#Administrator",
        VOCAB + "membership/Instructor#TeachingAssistant",
        VOCAB + "institution/person#Administrator",
        VOCAB + "system/person#Administrator",
        "Instructor",
        "ContentDeveloper",
        "Administrator",
    }
)

STATE_AUDIENCE = "coach-lti-state"
PICKER_AUDIENCE = "coach-lti-deep-link"
SCORE_MAXIMUM = 100.0


def learner_id(issuer: str, subject: str) -> str:
    """A stable learner id for (iss, sub): the same person on the same platform, nothing more."""
    return "lti-" + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:40]


def tenant_of(registration: Registration) -> str:
    return f"lti:{registration.id}"


def origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` added to whatever query it already has."""
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


@dataclass(frozen=True)
class Launch:
    """A validated launch: who, from where, and what for."""

    registration: Registration
    deployment: Deployment
    message_type: str
    claims: Mapping[str, Any]
    subject: str | None
    roles: tuple[str, ...]
    target_link_uri: str | None

    @property
    def is_staff(self) -> bool:
        return any(role in STAFF_ROLES for role in self.roles)

    @property
    def resource_link_id(self) -> str | None:
        link = self.claims.get(CLAIM_RESOURCE_LINK)
        return str(link["id"]) if isinstance(link, dict) and "id" in link else None

    @property
    def resource_link_title(self) -> str | None:
        link = self.claims.get(CLAIM_RESOURCE_LINK)
        title = link.get("title") if isinstance(link, dict) else None
        return str(title) if title else None

    @property
    def context_id(self) -> str | None:
        context = self.claims.get(CLAIM_CONTEXT)
        return str(context["id"]) if isinstance(context, dict) and "id" in context else None

    @property
    def context_title(self) -> str | None:
        context = self.claims.get(CLAIM_CONTEXT)
        if not isinstance(context, dict):
            return None
        title = context.get("title") or context.get("label")
        return str(title) if title else None

    @property
    def custom(self) -> dict[str, Any]:
        custom = self.claims.get(CLAIM_CUSTOM)
        return dict(custom) if isinstance(custom, dict) else {}

    @property
    def name(self) -> str | None:
        name = self.claims.get("name") or " ".join(
            str(self.claims[k]) for k in ("given_name", "family_name") if self.claims.get(k)
        )
        return str(name)[:200] if name else None

    @property
    def lineitem(self) -> str | None:
        ags = self.claims.get(CLAIM_AGS)
        if not isinstance(ags, dict) or SCORE_SCOPE not in (ags.get("scope") or []):
            return None
        lineitem = ags.get("lineitem")
        return str(lineitem) if lineitem else None

    @property
    def return_url(self) -> str | None:
        presentation = self.claims.get(CLAIM_PRESENTATION)
        url = presentation.get("return_url") if isinstance(presentation, dict) else None
        return str(url) if url else None

    @property
    def deep_linking(self) -> dict[str, Any]:
        settings = self.claims.get(CLAIM_DL_SETTINGS)
        return dict(settings) if isinstance(settings, dict) else {}

    def scenario_id(self) -> str:
        """The scenario the link opens: custom parameter ``scenario``, else ``?scenario=`` on the target."""
        chosen = self.custom.get("scenario") or self.custom.get("scenario_id")
        if not chosen and self.target_link_uri:
            chosen = next(iter(parse_qs(urlsplit(self.target_link_uri).query).get("scenario", [])), None)
        if not chosen or not isinstance(chosen, str):
            raise LtiNoScenario(
                "this link does not say which scenario to open; the instructor can pick one with "
                "deep linking, or set the custom parameter scenario=<id>"
            )
        return chosen

    def frame_origins(self) -> list[str]:
        """Who may frame the pages of this launch: the platform's registered origins and return URL."""
        found = [origin(self.registration.issuer), origin(self.registration.auth_login_url)]
        found += list(self.registration.frame_origins)
        if self.return_url:
            found.append(origin(self.return_url))
        return list(dict.fromkeys(o for o in found if o))


@dataclass(frozen=True)
class Handoff:
    session_id: str
    token: str
    resumed: bool
    new_window_code: str


@dataclass(frozen=True)
class DeepLinkReturn:
    return_url: str
    jwt: str
    frame_origins: list[str] = field(default_factory=list)


def _claim(claims: Mapping[str, Any], name: str, label: str) -> Any:
    value = claims.get(name)
    if value is None or value == "":
        raise LtiClaimMissing(f"the id_token has no {label} claim ({name})")
    return value


class LtiTool:
    def __init__(
        self,
        store: LtiStore,
        keys: ToolKeys,
        platform_keys: PlatformKeys,
        *,
        public_url: str,
        clock: Callable[[], datetime] = utcnow,
        leeway: float = 60.0,
        login_ttl: timedelta = timedelta(minutes=10),
        handoff_ttl: timedelta = timedelta(hours=2),
    ) -> None:
        self.store = store
        self.keys = keys
        self.platform_keys = platform_keys
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.leeway = leeway
        self.login_ttl = login_ttl
        self.handoff_ttl = handoff_ttl

    # -- URLs ---------------------------------------------------------------------------------

    @property
    def launch_url(self) -> str:
        return f"{self.public_url}/lti/launch"

    @property
    def login_url(self) -> str:
        return f"{self.public_url}/lti/login"

    @property
    def deep_linking_url(self) -> str:
        return f"{self.public_url}/lti/deep-linking"

    @property
    def jwks_url(self) -> str:
        return f"{self.public_url}/lti/jwks"

    # -- login initiation ---------------------------------------------------------------------

    def _registration_for(self, issuer: str, client_id: str | None) -> Registration:
        found = self.store.registrations(issuer=issuer, client_id=client_id or None)
        if not found:
            who = f"issuer {issuer!r}" + (f" and client id {client_id!r}" if client_id else "")
            raise LtiUnknownPlatform(f"no LTI registration for {who}; register it with `coach lti register`")
        if len(found) > 1:
            raise LtiLoginInvalid(
                f"several registrations share issuer {issuer!r}; the platform must send client_id"
            )
        return found[0]

    def login(self, params: Mapping[str, str]) -> str:
        """Answer a login initiation: the platform authorisation URL to redirect the browser to."""
        missing = [p for p in ("iss", "login_hint", "target_link_uri") if not params.get(p)]
        if missing:
            raise LtiLoginInvalid(f"the login initiation lacks {', '.join(missing)}")
        registration = self._registration_for(params["iss"], params.get("client_id"))
        now = self.clock()
        nonce = secrets.token_urlsafe(24)
        self.store.add_nonce(nonce, registration.id, now + self.login_ttl, now)
        state = self.keys.sign(
            {
                "iss": self.public_url,
                "aud": STATE_AUDIENCE,
                "iat": int(now.timestamp()),
                "exp": int((now + self.login_ttl).timestamp()),
                "jti": uuid.uuid4().hex,
                "reg": registration.id,
                "nonce": nonce,
                "target": params["target_link_uri"],
            }
        )
        query = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": registration.client_id,
            "redirect_uri": self.launch_url,
            "login_hint": params["login_hint"],
            "state": state,
            "nonce": nonce,
        }
        if params.get("lti_message_hint"):
            query["lti_message_hint"] = params["lti_message_hint"]
        return with_query(registration.auth_login_url, query)

    # -- launch -------------------------------------------------------------------------------

    def _state(self, state: str | None) -> dict[str, Any]:
        if not state:
            raise LtiStateMismatch("the launch carries no state; launch again from the course")
        try:
            return self.keys.verify(state, STATE_AUDIENCE)
        except jwt.ExpiredSignatureError as exc:
            raise LtiStateMismatch("the login took too long and its state expired; launch again") from exc
        except jwt.PyJWTError as exc:
            raise LtiStateMismatch("the state was not issued by Coach for this launch") from exc

    def validate(self, id_token: str | None, state: str | None) -> Launch:
        """Verify a launch's id_token against its state; raises an LtiError saying what is wrong."""
        login = self._state(state)
        if not id_token:
            raise LtiClaimMissing("the launch carries no id_token")
        try:
            header = jwt.get_unverified_header(id_token)
            unverified = jwt.decode(id_token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise LtiInvalidToken(f"the id_token is not a JWT: {exc}") from exc
        if header.get("alg") != "RS256":
            raise LtiAlgorithmRefused(f"id_tokens must be signed with RS256, not {header.get('alg')!r}")
        registration = self.store.registration(str(login.get("reg")))
        if registration is None:
            raise LtiStateMismatch("the registration this login was for no longer exists")
        if unverified.get("iss") != registration.issuer:
            raise LtiWrongIssuer(
                f"the id_token comes from {unverified.get('iss')!r}; "
                f"the login was for {registration.issuer!r}"
            )
        kid = header.get("kid")
        if not kid:
            raise LtiUnknownKey("the id_token names no key id (kid)")
        key = self.platform_keys.key(registration.jwks_url, str(kid))
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=["RS256"],
                audience=registration.client_id,
                issuer=registration.issuer,
                leeway=self.leeway,
                options={"require": ["iss", "aud", "exp", "iat", "nonce"]},
            )
        except jwt.InvalidSignatureError as exc:
            raise LtiBadSignature("the id_token's signature does not verify with the platform's key") from exc
        except jwt.ExpiredSignatureError as exc:
            raise LtiTokenExpired("the id_token has expired; launch again from the course") from exc
        except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError) as exc:
            raise LtiTokenNotYetValid(f"the id_token is not valid yet: {exc}") from exc
        except jwt.InvalidAudienceError as exc:
            raise LtiWrongAudience(
                f"the id_token is not addressed to Coach's client id {registration.client_id!r}"
            ) from exc
        except jwt.InvalidIssuerError as exc:
            raise LtiWrongIssuer(str(exc)) from exc
        except jwt.MissingRequiredClaimError as exc:
            raise LtiClaimMissing(f"the id_token has no {exc.claim!r} claim") from exc
        except jwt.PyJWTError as exc:
            raise LtiInvalidToken(f"the id_token is not valid: {exc}") from exc
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        if (len(audiences) > 1 and azp is None) or (azp is not None and azp != registration.client_id):
            raise LtiWrongAudience(f"the id_token's azp {azp!r} is not Coach's client id")
        if claims["nonce"] != login.get("nonce"):
            raise LtiStateMismatch("the id_token's nonce is not the one this login asked for")
        if not self.store.use_nonce(str(claims["nonce"]), registration.id, self.clock()):
            raise LtiNonceReplayed("this launch was already used; launch again from the course")
        version = _claim(claims, CLAIM_VERSION, "LTI version")
        if version != "1.3.0":
            raise LtiWrongVersion(f"the LTI version is {version!r}; Coach speaks 1.3.0")
        message_type = _claim(claims, CLAIM_MESSAGE_TYPE, "message type")
        if message_type not in {RESOURCE_LINK, DEEP_LINKING}:
            raise LtiWrongMessageType(f"Coach does not handle {message_type!r} messages")
        deployment_id = str(_claim(claims, CLAIM_DEPLOYMENT, "deployment id"))
        deployment = self.store.deployment(registration.id, deployment_id)
        if deployment is None:
            raise LtiUnknownDeployment(
                f"deployment {deployment_id!r} is not registered for {registration.issuer}; add it with "
                "`coach lti register --deployment-id`"
            )
        roles = claims.get(CLAIM_ROLES)
        if roles is None:
            raise LtiClaimMissing(f"the id_token has no roles claim ({CLAIM_ROLES})")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise LtiInvalidClaim("the roles claim must be a list of role URIs")
        target = claims.get(CLAIM_TARGET)
        if message_type == RESOURCE_LINK:
            link = _claim(claims, CLAIM_RESOURCE_LINK, "resource link")
            if not isinstance(link, dict) or not link.get("id"):
                raise LtiClaimMissing("the resource_link claim has no id")
            if not claims.get("sub"):
                raise LtiClaimMissing("the id_token has no 'sub' claim (who is launching)")
            if not target:
                raise LtiClaimMissing(f"the id_token has no target link URI claim ({CLAIM_TARGET})")
        else:
            settings = _claim(claims, CLAIM_DL_SETTINGS, "deep linking settings")
            if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
                raise LtiClaimMissing("the deep linking settings have no deep_link_return_url")
        expected = str(login.get("target") or "")
        if target and expected and str(target).rstrip("/") != expected.rstrip("/"):
            raise LtiStateMismatch("the id_token's target_link_uri is not the one the login was for")
        return Launch(
            registration=registration,
            deployment=deployment,
            message_type=str(message_type),
            claims=claims,
            subject=str(claims["sub"]) if claims.get("sub") else None,
            roles=tuple(roles),
            target_link_uri=str(target) if target else expected or None,
        )

    # -- sessions for launches ------------------------------------------------------------------

    def session_context(self, launch: Launch, global_xapi: bool) -> dict[str, Any]:
        """What a launched session carries for grade passback and xAPI (stored on the session)."""
        registration, deployment = launch.registration, launch.deployment
        xapi: dict[str, Any] | None = None
        if deployment.xapi_endpoint:
            xapi = {
                "lrs": f"deployment:{deployment.id}",
                "endpoint": deployment.xapi_endpoint,
                "include_text": deployment.xapi_include_text,
            }
        elif global_xapi:
            xapi = {"lrs": "global", "include_text": deployment.xapi_include_text}
        return {
            "lti": {
                "registration": registration.id,
                "issuer": registration.issuer,
                "client_id": registration.client_id,
                "deployment_id": deployment.deployment_id,
                "sub": launch.subject,
                "resource_link_id": launch.resource_link_id,
                "context_id": launch.context_id,
                "lineitem": launch.lineitem,
                "xapi": xapi,
            }
        }

    def start(self, sessions: SessionService, launch: Launch, *, global_xapi: bool = False) -> Handoff:
        """Open the launch's scenario for the learner: resume their unfinished session, else start one."""
        assert launch.subject is not None
        assert launch.resource_link_id is not None
        scenario_id = launch.scenario_id()
        registration = launch.registration
        existing = self.store.open_session_for(
            registration.id, launch.resource_link_id, launch.subject, scenario_id
        )
        if existing is not None:
            token = secrets.token_urlsafe(32)
            self.store.reissue_token(existing.id, hash_secret(token))
            session_id, resumed = existing.id, True
        else:
            started = sessions.start_for(
                scenario_id,
                tenant=tenant_of(registration),
                learner=learner_id(registration.issuer, launch.subject),
                context=self.session_context(launch, global_xapi),
            )
            self.store.link_session(
                SessionLink(
                    session_id=started.session_id,
                    registration_id=registration.id,
                    deployment_id=launch.deployment.deployment_id,
                    resource_link_id=launch.resource_link_id,
                    context_id=launch.context_id,
                    subject=launch.subject,
                    name=launch.name,
                    created_at=self.clock(),
                )
            )
            session_id, token, resumed = started.session_id, started.token, False
        return Handoff(session_id, token, resumed, self.mint_handoff(session_id))

    # -- handoffs (open in a new window) --------------------------------------------------------

    def mint_handoff(self, session_id: str) -> str:
        code = secrets.token_urlsafe(24)
        now = self.clock()
        self.store.add_handoff(hash_secret(code), session_id, now + self.handoff_ttl, now)
        return code

    def redeem_handoff(self, code: str) -> tuple[str, str]:
        """The session a one-time code opens, with a fresh token (the old window's token ends)."""
        session_id = self.store.redeem_handoff(hash_secret(code), self.clock()) if code else None
        if session_id is None:
            raise LtiHandoffInvalid("this link was already used or has expired; launch again from the course")
        token = secrets.token_urlsafe(32)
        self.store.reissue_token(session_id, hash_secret(token))
        return session_id, token

    # -- deep linking ---------------------------------------------------------------------------

    def picker_context(self, launch: Launch) -> str:
        """A signed value the scenario picker posts back: which platform asked, and where to return."""
        settings = launch.deep_linking
        now = self.clock()
        return self.keys.sign(
            {
                "iss": self.public_url,
                "aud": PICKER_AUDIENCE,
                "iat": int(now.timestamp()),
                "exp": int((now + timedelta(hours=1)).timestamp()),
                "reg": launch.registration.id,
                "deployment_id": launch.deployment.deployment_id,
                "return_url": settings["deep_link_return_url"],
                "data": settings.get("data"),
                "frame_origins": launch.frame_origins(),
            }
        )

    def deep_link_response(self, context: str, scenario_id: str, title: str, text: str) -> DeepLinkReturn:
        """The signed LtiDeepLinkingResponse: an ltiResourceLink for the scenario and a line item."""
        try:
            picked = self.keys.verify(context, PICKER_AUDIENCE)
        except jwt.PyJWTError as exc:
            raise LtiStateMismatch("the picker's context is not Coach's, or it expired; start again") from exc
        registration = self.store.registration(str(picked["reg"]))
        if registration is None:
            raise LtiUnknownPlatform("the registration this deep link was for no longer exists")
        now = self.clock()
        claims: dict[str, Any] = {
            "iss": registration.client_id,
            "aud": registration.issuer,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(minutes=10)).timestamp()),
            "nonce": secrets.token_urlsafe(16),
            CLAIM_MESSAGE_TYPE: "LtiDeepLinkingResponse",
            CLAIM_VERSION: "1.3.0",
            CLAIM_DEPLOYMENT: picked["deployment_id"],
            CLAIM_DL_ITEMS: [
                {
                    "type": "ltiResourceLink",
                    "title": title,
                    "text": text,
                    "url": self.launch_url,
                    "custom": {"scenario": scenario_id},
                    "lineItem": {
                        "scoreMaximum": SCORE_MAXIMUM,
                        "label": title,
                        "resourceId": scenario_id,
                        "tag": "coach",
                    },
                }
            ],
        }
        if picked.get("data") is not None:
            claims[CLAIM_DL_DATA] = picked["data"]
        origins = [str(o) for o in picked.get("frame_origins") or []]
        return DeepLinkReturn(str(picked["return_url"]), self.keys.sign(claims), origins)
