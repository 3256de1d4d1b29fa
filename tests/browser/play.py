"""What a trainee does on the page, as small steps the browser tests share."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Frame, FrameLocator, Locator, Page, expect

from tests.browser.conftest import SCREENSHOTS

Surface = Page | Frame | FrameLocator

TINY = "A tiny scenario"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
GOOD_PATH = ["It's your call.", "I can't accept the watch, thank you."]


def open_list(page: Page, base: str) -> None:
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", name="Choose a conversation to practise")).to_be_visible()


def start(surface: Surface, title: str = TINY) -> None:
    card = surface.get_by_role("listitem").filter(has=surface.get_by_role("heading", name=title))
    card.get_by_role("button", name="Start").click()
    expect(surface.get_by_role("heading", level=1, name=title)).to_be_visible()
    expect(transcript(surface).locator(".msg--client").first).to_be_visible()


def transcript(surface: Surface) -> Locator:
    return surface.get_by_role("log", name="Conversation")


def feedback(surface: Surface) -> Locator:
    return surface.get_by_role("region", name="Feedback")


def reply_box(surface: Surface) -> Locator:
    return surface.get_by_role("textbox", name="Your reply")


def own_replies(surface: Surface) -> Locator:
    return transcript(surface).locator(".msg--own")


def send(surface: Surface, text: str) -> None:
    """Type a reply, press Enter, and wait until the client has answered."""
    before = own_replies(surface).count()
    box = reply_box(surface)
    box.fill(text)
    box.press("Enter")
    expect(own_replies(surface)).to_have_count(before + 1)


def client_says(surface: Surface, line: str) -> Locator:
    return transcript(surface).locator(".msg--client").filter(has_text=line)


def axe(page: Page | Frame, source: str) -> list[dict[str, Any]]:
    """Run axe-core in the page; return the serious and critical violations.

    axe is evaluated through the DevTools protocol rather than add_script_tag: the page's CSP
    refuses inline script tags, which is what add_script_tag would insert.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    result: dict[str, Any] = page.evaluate(
        "async (tags) => await window.axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "help": v["help"],
        }
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
