"""Playing a scenario in a real browser: the conversation, the evidence, retries, the debrief."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.play import (
    GOOD_PATH,
    TINY,
    client_says,
    feedback,
    open_list,
    own_replies,
    reply_box,
    send,
    start,
    transcript,
)

pytestmark = pytest.mark.browser


def test_the_list_shows_what_each_scenario_practises(page: Page, server: str) -> None:
    open_list(page, server)
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=TINY))
    expect(card).to_contain_text("Three decisions for tests.")
    expect(card.locator(".chips--skills .chip")).to_have_text(
        ["Respecting autonomy", "Keeping professional boundaries"]
    )
    expect(card).to_contain_text("test")
    expect(card).to_contain_text("About 3 min")


def test_a_scenario_played_to_its_ending_by_typing(page: Page, server: str) -> None:
    open_list(page, server)
    start(page)
    expect(client_says(page, "Just tell me what to do.")).to_be_visible()
    expect(feedback(page)).to_contain_text("After each reply")

    send(page, GOOD_PATH[0])
    expect(client_says(page, "I got you this watch.")).to_be_visible()
    expect(feedback(page).locator(".verdict--met")).to_contain_text("Respecting autonomy: Shown")
    expect(feedback(page)).to_contain_text("Puts the decision with the client")

    send(page, GOOD_PATH[1])
    expect(client_says(page, "Thanks for being straight with me.")).to_be_visible()
    expect(page.get_by_role("heading", name="Straight and kind")).to_be_visible()
    expect(reply_box(page)).to_be_hidden()

    page.get_by_role("button", name="See your debrief").click()
    debrief = page.locator("#view-debrief")
    expect(page.get_by_role("heading", level=1, name="Straight and kind")).to_be_visible()
    expect(debrief).to_contain_text("You kept the choice with Sam and the boundary clear.")
    expect(debrief).to_contain_text("Passed")
    chart = page.get_by_role("region", name="Scores by skill")
    expect(chart.locator(".bar__head")).to_have_text(
        ["Respecting autonomy75%", "Keeping professional boundaries75%"]
    )
    fill = chart.locator(".bar__fill").first
    width = fill.evaluate(
        "el => el.getBoundingClientRect().width / el.parentElement.getBoundingClientRect().width"
    )
    assert abs(width - 0.75) < 0.02
    expect(page.get_by_role("region", name="Critical incidents")).to_contain_text("None")
    expect(page.get_by_role("region", name="Strengths")).to_contain_text("Declines a gift")
    expect(page.get_by_role("region", name="Growth areas")).to_be_visible()

    scenario_map = page.get_by_role("img", name=re.compile("Scenario map"))
    expect(scenario_map.locator(".map__node")).to_have_count(8)
    expect(scenario_map.locator(".map__node--path")).to_have_count(3)
    expect(scenario_map.locator(".map__edge--path")).to_have_count(2)
    expect(page.locator(".path-steps li")).to_have_text(["Opening", "Gift", "Straight and kind"])

    printable = page.get_by_role("region", name="Transcript")
    expect(printable).to_contain_text(GOOD_PATH[1])
    with page.expect_download() as info:
        printable.get_by_role("button", name="Download JSON").click()
    download = info.value
    assert download.suggested_filename.startswith("coach-tiny-")
    path = download.path()
    exported = json.loads(path.read_text(encoding="utf-8"))
    assert [t["text"] for t in exported["transcript"]["turns"]] == GOOD_PATH
    assert exported["report"]["ending_title"] == "Straight and kind"

    page.emulate_media(media="print")
    expect(printable.get_by_role("button", name="Print transcript")).to_be_hidden()
    expect(page.locator(".print-transcript")).to_be_visible()
    page.emulate_media(media="screen")


def test_a_directive_reply_has_its_words_marked_with_criterion_and_standard(page: Page, server: str) -> None:
    open_list(page, server)
    start(page)
    send(page, "Just quit.")
    expect(client_says(page, "Everyone tells me what to do.")).to_be_visible()

    mark = own_replies(page).last.locator("mark")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text("Just quit")
    expect(mark).to_have_class(re.compile("evidence--concern"))
    expect(own_replies(page).last.locator(".msg__text")).to_have_text("Just quit.")

    tip = page.locator(f"#{mark.get_attribute('aria-describedby')}")
    expect(tip).to_be_hidden()
    mark.focus()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Tells the client what to do")
    expect(tip).to_contain_text("MITI 4.2.1 — Persuade")
    expect(mark).to_have_accessible_description(re.compile("Tells the client what to do"))
    mark.press("Escape")
    expect(tip).to_be_hidden()
    reply_box(page).focus()
    mark.hover()
    expect(tip).to_be_visible()

    panel = feedback(page)
    expect(panel.locator(".verdict--violated")).to_contain_text("Respecting autonomy: Needs attention")
    expect(panel).to_contain_text("Directive language takes the choice away.")
    expect(panel.locator(".better")).to_contain_text("What would you like to do?")
    expect(panel).to_contain_text("Sam heard an order.")
    expect(panel.locator("mark")).to_have_text("Just quit")


def test_a_turn_retried_keeps_the_first_attempt_visible(page: Page, server: str) -> None:
    open_list(page, server)
    start(page)
    send(page, "Just quit.")
    expect(client_says(page, "Everyone tells me what to do.")).to_be_visible()

    feedback(page).get_by_role("button", name="Try this reply again").click()
    box = reply_box(page)
    expect(box).to_be_focused()
    expect(box).to_have_value("Just quit.")
    expect(page.locator("#retry-banner")).to_contain_text("Just tell me what to do.")
    box.fill("It's your call.")
    box.press("Enter")

    expect(own_replies(page)).to_have_count(2)
    first, second = own_replies(page).nth(0), own_replies(page).nth(1)
    expect(first).to_have_class(re.compile("msg--superseded"))
    expect(first).to_contain_text("Taken back")
    expect(first).to_contain_text("Just quit.")
    expect(second).not_to_have_class(re.compile("msg--superseded"))
    expect(client_says(page, "Everyone tells me what to do.")).to_have_count(0)
    expect(client_says(page, "I got you this watch.")).to_be_visible()
    expect(client_says(page, "Just tell me what to do.")).to_have_count(1)
    expect(page.locator("#retry-banner")).to_be_hidden()

    page.reload()
    expect(own_replies(page)).to_have_count(2)
    expect(own_replies(page).first).to_have_class(re.compile("msg--superseded"))
    expect(client_says(page, "I got you this watch.")).to_be_visible()

    send(page, "I can't accept the watch, thank you.")
    page.get_by_role("button", name="See your debrief").click()
    retries = page.get_by_role("region", name="Second attempts")
    expect(retries).to_contain_text("Reply 1: 0% → 75%")
    expect(retries).to_contain_text("improved")
    expect(page.locator(".pt--superseded")).to_contain_text("Just quit.")


def test_the_last_reply_can_be_retried_from_an_ending(page: Page, server: str) -> None:
    open_list(page, server)
    start(page)
    send(page, "It's your call.")
    send(page, "Sure, thanks!")
    expect(page.get_by_role("heading", name="Half way")).to_be_visible()
    page.get_by_role("button", name="Try the last reply again").click()
    expect(reply_box(page)).to_be_focused()
    send(page, "I can't accept the watch, thank you.")
    expect(page.get_by_role("heading", name="Straight and kind")).to_be_visible()
    expect(client_says(page, "Okay.")).to_have_count(0)


def test_markup_in_a_reply_is_shown_as_text(page: Page, server: str) -> None:
    payload = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1"> Just quit.'
    open_list(page, server)
    start(page)
    send(page, payload)
    bubble = own_replies(page).last
    expect(bubble.locator(".msg__text")).to_have_text(payload)
    expect(feedback(page).locator(".feedback__quote")).to_have_text(payload)
    expect(transcript(page).locator("img, script")).to_have_count(0)
    expect(feedback(page).locator("img, script")).to_have_count(0)
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"

    page.reload()
    expect(own_replies(page).last.locator(".msg__text")).to_have_text(payload)
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_a_conversation_resumes_after_a_reload(page: Page, server: str) -> None:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    open_list(page, server)
    start(page)
    send(page, "Just quit.")
    reply_box(page).fill("A draft I have not sent")

    saved = json.loads(page.evaluate("sessionStorage.getItem('coach.session')"))
    token = saved["token"]
    page.reload()

    expect(page.get_by_role("heading", level=1, name=TINY)).to_be_visible()
    expect(client_says(page, "Just tell me what to do.")).to_be_visible()
    expect(own_replies(page)).to_have_count(1)
    expect(own_replies(page).locator("mark")).to_have_text("Just quit")
    expect(client_says(page, "Everyone tells me what to do.")).to_be_visible()
    expect(feedback(page)).to_contain_text("Tells the client what to do")
    expect(reply_box(page)).to_have_value("A draft I have not sent")

    send(page, "It's your call.")
    expect(client_says(page, "I got you this watch.")).to_be_visible()
    assert token not in page.url
    assert all(token not in url for url in urls), "the session token must never travel in a URL"


def test_leaving_for_the_list_offers_to_continue(page: Page, server: str) -> None:
    open_list(page, server)
    start(page)
    send(page, "It's your call.")
    page.get_by_role("button", name="All scenarios").click()
    expect(page.get_by_role("heading", name="Choose a conversation to practise")).to_be_focused()
    page.get_by_role("button", name="Continue").click()
    expect(client_says(page, "I got you this watch.")).to_be_visible()
