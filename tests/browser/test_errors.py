"""When the service refuses a reply or cannot be reached, the trainee is told and keeps their text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import ServerDidNotStart, coach_server
from tests.browser.play import client_says, open_list, own_replies, reply_box, send, start

pytestmark = pytest.mark.browser


@pytest.fixture
def short_replies_server(tmp_path: Path) -> Iterator[str]:
    try:
        with coach_server(tmp_path, {"COACH_MAX_REPLY_CHARS": "50"}) as base:
            yield base
    except ServerDidNotStart as exc:
        pytest.fail(f"server did not come up:\n{exc}")


def test_a_reply_refused_as_too_long_keeps_the_typed_text(page: Page, short_replies_server: str) -> None:
    long_reply = "It's your call, and I mean that with my whole heart, truly."
    assert len(long_reply) > 50
    open_list(page, short_replies_server)
    start(page)
    box = reply_box(page)
    box.fill(long_reply)
    page.get_by_role("button", name="Send").click()

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("too long")
    expect(alert).to_contain_text("50 characters")
    expect(box).to_have_value(long_reply)
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#reply-count")).to_have_text(f"{len(long_reply)} / 50")
    expect(own_replies(page)).to_have_count(0)

    box.fill("It's your call.")
    expect(alert).to_be_hidden()
    box.press("Enter")
    expect(client_says(page, "I got you this watch.")).to_be_visible()


def test_an_empty_reply_is_not_sent(page: Page, server: str) -> None:
    open_list(page, server)
    start(page)
    reply_box(page).fill("   ")
    reply_box(page).press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Write what you would say to Sam")
    expect(own_replies(page)).to_have_count(0)


def test_an_unreachable_service_is_explained_and_the_text_kept(page: Page, server: str) -> None:
    keys: list[str | None] = []
    page.on(
        "request",
        lambda request: (
            keys.append(request.headers.get("idempotency-key")) if request.url.endswith("/turns") else None
        ),
    )
    open_list(page, server)
    start(page)
    page.route("**/api/v1/sessions/*/turns", lambda route: route.abort("connectionrefused"))
    box = reply_box(page)
    box.fill("It's your call.")
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("can't be reached")
    expect(box).to_have_value("It's your call.")
    expect(page.get_by_role("button", name="Send")).to_be_enabled()

    def unavailable(route: Route) -> None:
        route.fulfill(
            status=503,
            content_type="application/problem+json",
            body='{"type": "/problems/store-unavailable", "title": "Store unavailable", "status": 503}',
        )

    page.unroute("**/api/v1/sessions/*/turns")
    page.route("**/api/v1/sessions/*/turns", unavailable)
    box.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("can't save your reply")
    expect(box).to_have_value("It's your call.")

    page.unroute("**/api/v1/sessions/*/turns")
    send(page, "It's your call.")
    expect(client_says(page, "I got you this watch.")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_hidden()
    # Sending the same reply again reuses its Idempotency-Key, so a lost answer cannot become two turns.
    assert len(keys) == 3
    assert keys[0] is not None
    assert len(set(keys)) == 1


def test_a_session_whose_token_is_refused_sends_the_trainee_back_to_the_list(page: Page, server: str) -> None:
    open_list(page, server)
    start(page)
    page.evaluate(
        """(() => { const s = JSON.parse(sessionStorage.getItem('coach.session'));
                   s.token = 'not-the-token';
                   sessionStorage.setItem('coach.session', JSON.stringify(s)); })()"""
    )
    page.reload()
    expect(page.get_by_role("heading", name="Choose a conversation to practise")).to_be_visible()
    expect(page.locator("#list-status")).to_contain_text("could not be reopened")
    assert page.evaluate("sessionStorage.getItem('coach.session')") is None
