"""A trainee's session over HTTP, exactly as the chat page and integrators use it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import start


def test_health_and_the_scenario_list(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    (scenario,) = client.get("/api/v1/scenarios").json()["scenarios"]
    assert scenario["id"] == "tiny"
    assert scenario["decision_points"] >= 2
    detail = client.get("/api/v1/scenarios/tiny").json()
    assert detail["opening"] == ["Just tell me what to do."]
    assert {n["id"] for n in detail["map"]["nodes"]} >= {"ask", "good", "poor"}
    assert any(e["fallback"] for e in detail["map"]["edges"])


def test_a_full_session_with_evidence_feedback_and_report(client: TestClient) -> None:
    response = client.post("/api/v1/sessions", json={"scenario_id": "tiny"})
    assert response.status_code == 201
    created = response.json()
    assert created["client"] == ["Just tell me what to do."]
    session_id, auth = created["session_id"], {"Authorization": f"Bearer {created['token']}"}

    reply = "Honestly? You should quit."
    turn = client.post(f"/api/v1/sessions/{session_id}/turns", json={"text": reply}, headers=auth).json()
    assert turn["evaluation"]["dimensions"]["autonomy"]["verdict"] == "violated"
    (match,) = turn["evaluation"]["matches"]
    assert reply[match["start"] : match["end"]] == "You should"
    concern = turn["feedback"]["points"][0]
    assert concern["kind"] == "concern"
    assert concern["better"]
    assert concern["standard"]
    assert turn["feedback"]["note"] == "Sam heard an order."
    assert turn["client"] == ["Everyone tells me what to do."]

    client.post(f"/api/v1/sessions/{session_id}/turns", json={"text": "It's your call."}, headers=auth)
    last = client.post(
        f"/api/v1/sessions/{session_id}/turns", json={"text": "I can't accept the watch."}, headers=auth
    ).json()
    assert last["status"] == "finished"
    assert last["ending"]["title"] == "Straight and kind"

    transcript = client.get(f"/api/v1/sessions/{session_id}", headers=auth).json()
    assert [t["text"] for t in transcript["turns"]] == [reply, "It's your call.", "I can't accept the watch."]
    assert transcript["path"] == ["ask", "pushback", "gift", "good"]
    report = client.get(f"/api/v1/sessions/{session_id}/report", headers=auth).json()
    assert report["ending_title"] == "Straight and kind"
    assert {d["dimension"] for d in report["dimensions"]} == {"autonomy", "boundaries"}
    assert report["growth_areas"][0]["criterion"] == "directive"


def test_retry_over_http_keeps_the_first_attempt_visible(client: TestClient) -> None:
    session_id, auth = start(client)
    client.post(f"/api/v1/sessions/{session_id}/turns", json={"text": "Just quit."}, headers=auth)
    retried = client.post(
        f"/api/v1/sessions/{session_id}/turns/last/retry", json={"text": "Your call."}, headers=auth
    )
    assert retried.json()["attempt"] == 2
    turns = client.get(f"/api/v1/sessions/{session_id}", headers=auth).json()["turns"]
    assert [(t["text"], t["superseded"]) for t in turns] == [("Just quit.", True), ("Your call.", False)]


def test_stateless_evaluate_has_the_contract_shape(client: TestClient) -> None:
    body = client.post("/api/v1/evaluate", json={"text": "Just stop drinking."}).json()
    assert body["dimensions"]["autonomy"] == {"verdict": "violated", "score": 0.0}
    assert body["matches"][0]["text"] == "Just stop"
    assert body["critical"] == []


def test_openapi_documents_every_route_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in [
        "/healthz",
        "/api/v1/scenarios",
        "/api/v1/scenarios/{scenario_id}",
        "/api/v1/sessions",
        "/api/v1/sessions/{session_id}",
        "/api/v1/sessions/{session_id}/turns",
        "/api/v1/sessions/{session_id}/report",
        "/api/v1/evaluate",
    ]:
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    for name in [
        "SessionCreate",
        "TurnCreate",
        "EvaluateRequest",
        "SessionCreated",
        "TurnOut",
        "EvaluateOut",
    ]:
        assert schemas[name].get("examples"), name
    assert (
        "application/problem+json"
        in paths["/api/v1/sessions/{session_id}/turns"]["post"]["responses"]["409"]["content"]
    )
    assert client.get("/docs").status_code == 200


def test_the_chat_page_is_served_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "<main" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
