"""The whole launch as a browser does it, and what the launched pages promise inside an iframe."""

from __future__ import annotations

import pytest

from coach.integrations.lti.launch import learner_id
from tests.integrations.conftest import Lti
from tests.integrations.platform import INSTRUCTOR, ISSUER, meta

GOOD = ("It's your call.", "I can't accept the watch, but thank you.")


def test_a_learner_launch_opens_the_scenario_in_the_chat_page(lti: Lti) -> None:
    response = lti.launch()
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    handed = meta(response.text, "coach-launch")
    assert handed["resumed"] is False
    assert handed["context"] == "Peer support 101"
    # The page's script takes the session from the body: the token is in no URL and no cookie.
    assert handed["token"] not in response.headers.get("location", "")
    headers = {"Authorization": f"Bearer {handed['token']}"}
    transcript = lti.client.get(f"/api/v1/sessions/{handed['session_id']}", headers=headers)
    assert transcript.status_code == 200
    assert transcript.json()["scenario_id"] == "tiny"
    stored = lti.store.get_session(handed["session_id"])
    assert stored.tenant == "lti:reg1"
    assert stored.learner == learner_id(ISSUER, "user-42")
    assert stored.context is not None
    assert stored.context["lti"]["lineitem"].endswith("/lineitem?type_id=12")
    assert stored.context["lti"]["sub"] == "user-42"


def test_launched_pages_can_be_framed_by_the_platform_only_and_set_no_cookie(lti: Lti) -> None:
    login = lti.login()
    assert "set-cookie" not in login.headers
    response = lti.launch()
    assert "set-cookie" not in response.headers
    assert "x-frame-options" not in response.headers
    policy = response.headers["content-security-policy"]
    ancestors = policy.split("frame-ancestors", 1)[1].strip()
    assert ancestors.split() == [
        "https://platform.example",
        "https://school.platform.example",
    ]
    assert "*" not in ancestors
    assert "script-src 'self'" in policy
    assert response.headers["cache-control"] == "no-store"


def test_login_initiation_works_by_post_too(lti: Lti) -> None:
    response = lti.client.post(
        "/lti/login",
        data={
            "iss": ISSUER,
            "login_hint": "hint-abc",
            "target_link_uri": "http://testserver/lti/launch",
            "lti_message_hint": "message-hint-1",
        },
    )
    assert response.status_code == 302
    assert response.headers["location"].startswith(f"{ISSUER}/auth?existing=kept&scope=openid")


def test_a_relaunch_resumes_the_unfinished_session_with_a_new_token(lti: Lti) -> None:
    first = lti.learner_session()
    lti.play(first, GOOD[0])
    second = lti.learner_session()
    assert second["session_id"] == first["session_id"]
    assert second["resumed"] is True
    old = lti.client.get(
        f"/api/v1/sessions/{first['session_id']}", headers={"Authorization": f"Bearer {first['token']}"}
    )
    assert old.status_code == 401
    lti.play(second, GOOD[1])
    third = lti.learner_session()
    assert third["session_id"] != first["session_id"], "a finished session is not reopened"


def test_another_learner_gets_another_session(lti: Lti) -> None:
    ana = lti.learner_session()
    lti.platform.subject = "user-43"
    ben = lti.learner_session()
    assert ana["session_id"] != ben["session_id"]


def test_open_in_a_new_window_moves_the_session_with_a_one_time_code(lti: Lti) -> None:
    handed = lti.learner_session()
    page = lti.client.get("/lti/resume")
    assert page.status_code == 200
    assert 'name="coach-resume"' in page.text
    redeemed = lti.client.post("/lti/handoffs/redeem", json={"code": handed["window_code"]})
    assert redeemed.status_code == 200, redeemed.text
    moved = redeemed.json()
    assert moved["session_id"] == handed["session_id"]
    new_headers = {"Authorization": f"Bearer {moved['token']}"}
    assert lti.client.get(f"/api/v1/sessions/{moved['session_id']}", headers=new_headers).status_code == 200
    again = lti.client.post("/lti/handoffs/redeem", json={"code": handed["window_code"]})
    assert again.status_code == 401
    assert again.json()["type"] == "/problems/lti-handoff-invalid"
    fresh = lti.client.post("/lti/handoffs", params={"session_id": moved["session_id"]}, headers=new_headers)
    assert fresh.status_code == 200
    assert lti.client.post("/lti/handoffs/redeem", json={"code": fresh.json()["code"]}).status_code == 200


def test_a_link_without_a_scenario_is_refused_with_a_clear_problem(lti: Lti) -> None:
    lti.platform.custom = {}
    response = lti.launch()
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/lti-no-scenario"
    assert "custom parameter scenario" in response.json()["detail"]


def test_the_scenario_can_come_from_the_target_link_uri(lti: Lti) -> None:
    lti.platform.custom = {}
    lti.platform.overrides["https://purl.imsglobal.org/spec/lti/claim/target_link_uri"] = (
        "http://testserver/lti/launch?scenario=tiny"
    )
    response = lti.launch(target_link_uri="http://testserver/lti/launch?scenario=tiny")
    assert response.status_code == 200, response.text


def test_instructors_see_the_learners_sessions_with_scores_and_transcripts(lti: Lti) -> None:
    handed = lti.learner_session()
    lti.play(handed, *GOOD)
    lti.platform.subject = "teacher-1"
    lti.platform.roles = [INSTRUCTOR]
    page = lti.launch()
    assert page.status_code == 200, page.text
    assert 'data-page="lti-instructor"' in page.text
    assert "Ana Learner" in page.text
    assert "75%" in page.text
    assert "passed" in page.text
    assert "I can&#x27;t accept the watch, but thank you." in page.text
    assert "waiting (attempt 0)" in page.text, "the grade is queued, not yet sent"
    assert "frame-ancestors https://platform.example" in page.headers["content-security-policy"]
    assert lti.store.count("sessions") == 1, "an instructor's launch starts no session"


@pytest.mark.parametrize(
    ("path", "status"), [("/lti/jwks", 200), ("/lti/config", 200), ("/problems/lti-nonce-replayed", 200)]
)
def test_the_tool_publishes_its_keys_configuration_and_problem_types(
    lti: Lti, path: str, status: int
) -> None:
    response = lti.client.get(path)
    assert response.status_code == status
    body = response.json()
    if path == "/lti/jwks":
        [key] = body["keys"]
        assert key["kty"] == "RSA"
        assert key["alg"] == "RS256"
        assert "d" not in key, "never the private part"
    elif path == "/lti/config":
        assert body["oidc_initiation_url"] == "http://testserver/lti/login"
        assert body["public_jwk_url"] == "http://testserver/lti/jwks"
    else:
        assert "already used" in body["description"]
