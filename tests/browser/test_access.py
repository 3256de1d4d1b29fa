"""Keyboard-only use, the axe-core audit, reduced motion, narrow screens, and the screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, new_context
from tests.browser.play import (
    GOOD_PATH,
    axe,
    client_says,
    feedback,
    open_list,
    own_replies,
    reply_box,
    screenshot,
    send,
    start,
)

pytestmark = pytest.mark.browser


def tab_to(page: Page, describe: str, predicate: str, limit: int = 60) -> None:
    """Press Tab until the focused element satisfies ``predicate`` (a JS expression over ``el``)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({predicate}); }})()"):
            return
    pytest.fail(f"Tab never reached {describe}")


def focus_is_visible(page: Page) -> bool:
    style = page.evaluate(
        """(() => { const s = getComputedStyle(document.activeElement);
                   return {style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; })()"""
    )
    return style["style"] != "none" and style["width"] >= 2


def test_keyboard_alone_plays_to_the_debrief(page: Page, server: str) -> None:
    open_list(page, server)
    tab_to(page, "the Start button", "el.tagName === 'BUTTON' && el.textContent === 'Start'")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    box = reply_box(page)
    expect(box).to_be_focused()

    page.keyboard.type("Just")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("quit.")
    expect(box).to_have_value("Just\nquit.")
    expect(page.locator("#reply-count")).to_have_text("10 / 2000")
    page.keyboard.press("Enter")
    expect(client_says(page, "Everyone tells me what to do.")).to_be_visible()
    expect(box).to_be_focused()

    # The evidence is reachable by keyboard and explains itself on focus.
    page.keyboard.press("Shift+Tab")
    for _ in range(10):
        if page.evaluate("document.activeElement.tagName") == "MARK":
            break
        page.keyboard.press("Shift+Tab")
    mark = page.locator("mark:focus")
    expect(mark).to_have_text("Just\nquit")
    assert focus_is_visible(page)
    expect(page.get_by_role("tooltip")).to_contain_text("Tells the client what to do")

    # Retry by keyboard: the feedback panel's button.
    tab_to(page, "the retry button", "el.textContent === 'Try this reply again'")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(box).to_be_focused()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(GOOD_PATH[0])
    page.keyboard.press("Enter")
    expect(client_says(page, "I got you this watch.")).to_be_visible()
    page.keyboard.type(GOOD_PATH[1])
    page.keyboard.press("Enter")

    ending = page.get_by_role("heading", name="Straight and kind")
    expect(ending).to_be_focused()
    tab_to(page, "See your debrief", "el.textContent === 'See your debrief'")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Straight and kind")).to_be_focused()
    expect(page.get_by_role("region", name="Second attempts")).to_contain_text("improved")
    tab_to(page, "Practise another conversation", "el.textContent === 'Practise another conversation'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Choose a conversation to practise")).to_be_focused()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "375"])
def test_axe_finds_nothing_serious_and_screenshots_are_taken(
    browser: Browser, server: str, axe_source: str, viewport: dict[str, int]
) -> None:
    context = new_context(browser, viewport=viewport)
    try:
        page = context.new_page()
        open_list(page, server)
        assert axe(page, axe_source) == []
        screenshot(page, "list")

        start(page)
        send(page, "Just quit.")
        expect(feedback(page).locator(".point")).to_have_count(1)
        own_replies(page).last.locator("mark").focus()
        assert axe(page, axe_source) == []
        screenshot(page, "play-feedback")

        send(page, "It's your call.")
        send(
            page, "I can't accept the watch, but I'm glad you thought of me. What would you like to do next?"
        )
        expect(
            page.get_by_role("heading", name="Lost").or_(
                page.get_by_role("heading", name="Straight and kind")
            )
        ).to_be_visible()
        page.get_by_role("button", name="See your debrief").click()
        expect(page.get_by_role("img", name="Scenario map").or_(page.locator(".map"))).to_be_visible()
        assert axe(page, axe_source) == []
        screenshot(page, "debrief")
        assert page.evaluate("window.__cspViolations") == []
    finally:
        context.close()


@pytest.mark.parametrize("width", [360, 375])
def test_nothing_scrolls_sideways_on_a_narrow_phone(browser: Browser, server: str, width: int) -> None:
    context = new_context(browser, viewport={"width": width, "height": 740})
    try:
        page = context.new_page()
        overflow = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        open_list(page, server)
        assert page.evaluate(overflow) <= 0
        start(page)
        send(page, "Just quit. " + "A rather long reply without many breaks " * 4 + "x" * 80)
        own_replies(page).last.locator("mark").focus()
        assert page.evaluate(overflow) <= 0
        send(page, "It's your call.")
        send(page, "I can't accept the watch, thank you.")
        page.get_by_role("button", name="See your debrief").click()
        expect(page.locator(".map")).to_be_visible()
        assert page.evaluate(overflow) <= 0
    finally:
        context.close()


@pytest.mark.parametrize(("preference", "animated"), [("reduce", False), ("no-preference", True)])
def test_motion_follows_the_reduced_motion_preference(
    browser: Browser, server: str, preference: str, animated: bool
) -> None:
    context = new_context(browser, reduced_motion=preference)
    try:
        page = context.new_page()
        open_list(page, server)
        start(page)
        seconds = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('.msg')).animationDuration)"
        )
        assert (seconds >= 0.1) is animated
    finally:
        context.close()
