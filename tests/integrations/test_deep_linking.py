"""Deep linking: an instructor picks a scenario; Coach answers with a signed content item."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from coach.integrations.lti.launch import (
    CLAIM_DEPLOYMENT,
    CLAIM_DL_DATA,
    CLAIM_DL_ITEMS,
    CLAIM_MESSAGE_TYPE,
    CLAIM_VERSION,
    DEEP_LINKING,
    RESOURCE_LINK,
)
from tests.integrations.conftest import Lti
from tests.integrations.platform import CLIENT_ID, DEPLOYMENT_ID, INSTRUCTOR, ISSUER, forms


def verify_with_tool_jwks(lti: Lti, token: str) -> dict[str, Any]:
    keys = jwt.PyJWKSet.from_dict(lti.client.get("/lti/jwks").json())
    kid = jwt.get_unverified_header(token)["kid"]
    claims: dict[str, Any] = jwt.decode(token, keys[kid].key, algorithms=["RS256"], audience=ISSUER)
    return claims


def pick(lti: Lti, scenario: str = "tiny") -> tuple[str, str, Any]:
    """Launch the picker as an instructor, pick ``scenario``: (return URL, JWT, the return page)."""
    lti.platform.message_type = DEEP_LINKING
    lti.platform.roles = [INSTRUCTOR]
    picker = lti.launch(target_link_uri="http://testserver/lti/deep-linking")
    assert picker.status_code == 200, picker.text
    assert "Add a practice conversation" in picker.text
    [(action, fields)] = [f for f in forms(picker.text) if f[1].get("scenario") == scenario]
    assert action == "/lti/deep-linking/response"
    returned = lti.client.post(action, data=fields)
    assert returned.status_code == 200, returned.text
    [(return_url, back)] = forms(returned.text)
    return return_url, back["JWT"], returned


def test_the_picked_scenario_goes_back_signed_with_a_line_item(lti: Lti) -> None:
    return_url, token, page = pick(lti)
    assert return_url == f"{ISSUER}/deep-link-return?course=7"
    assert "data-autosubmit" in page.text
    assert "form-action 'self' https://platform.example" in page.headers["content-security-policy"]
    claims = verify_with_tool_jwks(lti, token)
    assert claims["iss"] == CLIENT_ID
    assert claims["aud"] == ISSUER
    assert claims[CLAIM_MESSAGE_TYPE] == "LtiDeepLinkingResponse"
    assert claims[CLAIM_VERSION] == "1.3.0"
    assert claims[CLAIM_DEPLOYMENT] == DEPLOYMENT_ID
    assert claims[CLAIM_DL_DATA] == "opaque-platform-data"
    assert claims["nonce"]
    [item] = claims[CLAIM_DL_ITEMS]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == "http://testserver/lti/launch"
    assert item["custom"] == {"scenario": "tiny"}
    assert item["lineItem"]["scoreMaximum"] == 100
    assert item["title"] == "A tiny scenario"
    # The platform posts it on and creates the link; a learner's launch of it opens the scenario.
    assert lti.browser_at_platform.post("/deep-link-return?course=7", data={"JWT": token}).status_code == 200
    lti.platform.message_type, lti.platform.roles = RESOURCE_LINK, []
    lti.platform.custom = item["custom"]
    assert lti.launch().status_code == 200


def test_a_tampered_picker_context_is_refused(lti: Lti) -> None:
    response = lti.client.post("/lti/deep-linking/response", data={"context": "forged", "scenario": "tiny"})
    assert response.status_code == 401
    assert response.json()["type"] == "/problems/lti-state-mismatch"


def test_an_unknown_scenario_is_not_found(lti: Lti) -> None:
    lti.platform.message_type = DEEP_LINKING
    picker = lti.launch(target_link_uri="http://testserver/lti/deep-linking")
    [(action, fields), *_] = forms(picker.text)
    response = lti.client.post(action, data={**fields, "scenario": "no-such-scenario"})
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/scenario-not-found"


def test_after_a_key_rotation_both_keys_are_published_and_the_new_one_signs(lti: Lti) -> None:
    keys = lti.app.state.lti.keys
    old, _ = keys.current()
    new = keys.rotate(timedelta(hours=24))
    published = [k["kid"] for k in lti.client.get("/lti/jwks").json()["keys"]]
    assert published == [new, old]
    _, token, _ = pick(lti)
    assert jwt.get_unverified_header(token)["kid"] == new
    verify_with_tool_jwks(lti, token)
    # After the grace period the old key leaves the JWKS.
    keys.clock = lambda: datetime.now(UTC) + timedelta(hours=25)
    assert [k["kid"] for k in keys.jwks()["keys"]] == [new]


@pytest.mark.parametrize("grace", ["0.5"])
def test_rotate_key_from_the_command_line(lti: Lti, grace: str) -> None:
    from typer.testing import CliRunner

    from coach.cli import app as cli

    before = lti.client.get("/lti/jwks").json()["keys"]
    result = CliRunner().invoke(
        cli, ["lti", "rotate-key", "--grace-hours", grace], env={"COACH_DATABASE_URL": lti.store.url}
    )
    assert result.exit_code == 0, result.output
    after = lti.client.get("/lti/jwks").json()["keys"]
    assert len(after) == 2
    assert after[1]["kid"] == before[0]["kid"]
