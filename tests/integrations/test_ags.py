"""Grade passback: completion → outbox → client-credentials token → POST <lineitem>/scores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from coach.cli import app as cli
from coach.errors import DeliveryFailed
from coach.integrations.lti.ags import SCORE_KIND
from coach.integrations.lti.keys import ToolKeys
from coach.integrations.transports import AccessTokens, ScoreTransport, scores_url
from tests.integrations.conftest import Lti
from tests.integrations.platform import CLIENT_ID, INSTRUCTOR, ISSUER, LINEITEM

GOOD = ("It's your call.", "I can't accept the watch, but thank you.")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def complete(lti: Lti, subject: str = "user-42") -> dict[str, Any]:
    lti.platform.subject = subject
    handed = lti.learner_session()
    lti.play(handed, *GOOD)
    return handed


def scores(lti: Lti) -> list[Any]:
    return [m for m in lti.store.messages() if m.kind == SCORE_KIND]


def cli_run(lti: Lti, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), env={"COACH_DATABASE_URL": lti.store.url})


def test_a_completed_session_sends_its_score_to_the_line_item(lti: Lti) -> None:
    handed = complete(lti)
    [queued] = scores(lti)
    assert queued.target == LINEITEM
    assert queued.dedupe_key == f"{SCORE_KIND}:{handed['session_id']}"
    report = lti.outbox().deliver_due()
    assert report.delivered >= 1
    [score] = lti.platform.scores
    assert score.path == "/mod/lti/services.php/7/lineitems/3/lineitem/scores"
    assert score.query == {"type_id": ["12"]}, "the line item's query string is kept"
    assert score.authorization.startswith("Bearer at-")
    assert score.content_type == "application/vnd.ims.lis.v1.score+json"
    body = score.body
    assert body["userId"] == "user-42"
    assert body["scoreGiven"] == pytest.approx(75.0)
    assert body["scoreMaximum"] == 100.0
    assert body["activityProgress"] == "Completed"
    assert body["gradingProgress"] == "FullyGraded"
    assert body["timestamp"].endswith("+00:00")
    assert "75%" in body["comment"]
    assert "passed" in body["comment"]
    [assertion] = lti.platform.assertions
    assert assertion["iss"] == assertion["sub"] == CLIENT_ID
    assert assertion["aud"] == f"{ISSUER}/token"
    assert lti.store.messages("delivered")


def test_a_platform_that_fails_twice_then_succeeds_gets_the_grade(lti: Lti) -> None:
    complete(lti)
    lti.platform.score_answers = [(503, "maintenance"), (502, "bad gateway")]
    clock = Clock()
    outbox = lti.outbox(clock)
    outbox.deliver_due()
    [message] = scores(lti)
    assert message.status == "pending"
    assert "HTTP 503" in (message.last_error or "")
    clock.advance(4)
    outbox.deliver_due()
    assert scores(lti)[0].attempts == 1, "not before the backoff"
    clock.advance(2)
    outbox.deliver_due()
    assert "HTTP 502" in (scores(lti)[0].last_error or "")
    clock.advance(11)
    outbox.deliver_due()
    [message] = scores(lti)
    assert message.status == "delivered"
    assert message.attempts == 3
    assert len(lti.platform.scores) == 1
    assert lti.platform.tokens_issued == 1, "the token is cached between attempts"


def test_a_platform_that_refuses_keeps_the_grade_with_the_reason(lti: Lti) -> None:
    complete(lti)
    lti.platform.score_answers = [(422, '{"error": "user-42 is not enrolled in this course"}')]
    report = lti.outbox().deliver_due()
    assert report.refused == 1
    [message] = scores(lti)
    assert message.status == "refused"
    assert "HTTP 422" in (message.last_error or "")
    assert "not enrolled" in (message.last_error or "")
    # Administrators see it...
    listed = cli_run(lti, "outbox", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    [row] = [r for r in json.loads(listed.output) if r["kind"] == SCORE_KIND]
    assert row["status"] == "refused"
    assert "not enrolled" in row["last_error"]
    text = cli_run(lti, "outbox", "list")
    assert "refused" in text.output
    # ...and so does the instructor, next to the learner's session.
    lti.platform.roles, lti.platform.subject = [INSTRUCTOR], "teacher-1"
    page = lti.launch()
    assert "refused by the platform" in page.text
    assert "not enrolled" in page.text
    # Once the cause is fixed, the grade goes again.
    retried = cli_run(lti, "outbox", "retry", "--all")
    assert retried.exit_code == 0, retried.output
    lti.outbox().deliver_due()
    assert scores(lti)[0].status == "delivered"
    assert len(lti.platform.scores) == 1


def test_one_token_serves_several_grades(lti: Lti) -> None:
    complete(lti, "user-1")
    complete(lti, "user-2")
    lti.outbox().deliver_due()
    assert sorted(s.body["userId"] for s in lti.platform.scores) == ["user-1", "user-2"]
    assert lti.platform.tokens_issued == 1


def test_a_launch_without_a_line_item_queues_no_grade(lti: Lti) -> None:
    lti.platform.lineitem = None
    complete(lti)
    assert scores(lti) == []


def test_resending_the_completion_never_duplicates_the_grade(lti: Lti) -> None:
    handed = complete(lti)
    [message] = scores(lti)
    from coach.domain.events import OutboxMessage

    lti.store.enqueue(
        [OutboxMessage(SCORE_KIND, message.target, message.payload, f"{SCORE_KIND}:{handed['session_id']}")],
        datetime.now(UTC),
    )
    assert len(scores(lti)) == 1


@pytest.mark.parametrize(
    ("lineitem", "expected"),
    [
        (LINEITEM, f"{ISSUER}/mod/lti/services.php/7/lineitems/3/lineitem/scores?type_id=12"),
        (
            "https://lms.example/api/lti/courses/1/line_items/9",
            "https://lms.example/api/lti/courses/1/line_items/9/scores",
        ),
        ("https://lms.example/li/9/?a=1&b=2", "https://lms.example/li/9/scores?a=1&b=2"),
    ],
)
def test_scores_go_under_the_line_item_keeping_its_query(lineitem: str, expected: str) -> None:
    assert scores_url(lineitem) == expected


def test_an_unreachable_platform_is_a_transient_failure(lti: Lti) -> None:
    complete(lti)
    [message] = scores(lti)

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    http = httpx.Client(transport=httpx.MockTransport(down))
    transport = ScoreTransport(http, lti.lti_store, AccessTokens(http, ToolKeys(lti.lti_store)))
    with pytest.raises(DeliveryFailed) as caught:
        transport(message)
    assert not caught.value.permanent
    assert "unreachable" in caught.value.detail


def test_a_rejected_token_is_fetched_again(lti: Lti) -> None:
    complete(lti)
    lti.platform.score_answers = [(401, '{"error": "invalid_token"}')]
    clock = Clock()
    outbox = lti.outbox(clock)
    outbox.deliver_due()
    assert scores(lti)[0].status == "pending"
    clock.advance(6)
    outbox.deliver_due()
    assert scores(lti)[0].status == "delivered"
    assert lti.platform.tokens_issued == 2
