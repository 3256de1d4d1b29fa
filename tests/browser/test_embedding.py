"""The page inside a cross-site iframe (an LMS), and without sessionStorage."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import free_port
from tests.browser.play import client_says, feedback, own_replies, send, start

pytestmark = pytest.mark.browser


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def lms(tmp_path: Path, server: str) -> Iterator[str]:
    """A page on another site (localhost, not 127.0.0.1) that frames Coach, as an LMS would."""
    (tmp_path / "course.html").write_text(
        "<!doctype html><html lang=en><title>Course</title><h1>Week 3</h1>"
        f'<iframe src="{server}/" title="Coach" width="400" height="900"></iframe>',
        encoding="utf-8",
    )
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), partial(QuietHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}/course.html"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def test_a_turn_can_be_played_in_a_cross_site_iframe(page: Page, lms: str, server: str) -> None:
    page.goto(lms)
    frame_element = page.locator("iframe")
    frame = page.frame_locator("iframe")
    expect(frame.get_by_role("heading", name="Choose a conversation to practise")).to_be_visible()
    start(frame)
    send(frame, "Just quit.")
    expect(client_says(frame, "Everyone tells me what to do.")).to_be_visible()
    expect(own_replies(frame).last.locator("mark")).to_have_text("Just quit")
    expect(feedback(frame)).to_contain_text("Tells the client what to do")
    assert page.url == lms, "the page must never navigate the top window"
    assert frame_element.get_attribute("src") == f"{server}/"
    inner = page.frames[1]
    assert inner.url.startswith(server)
    assert inner.evaluate("window.__cspViolations") == []


BLOCK_STORAGE = """
Object.defineProperty(window, 'sessionStorage', {
  configurable: true,
  get() { throw new DOMException('The operation is insecure.', 'SecurityError'); },
});
"""


def test_without_session_storage_the_conversation_lives_in_memory(page: Page, server: str) -> None:
    page.add_init_script(BLOCK_STORAGE)
    page.goto(f"{server}/")
    expect(page.locator("html")).to_have_attribute("data-storage", "memory")
    start(page)
    send(page, "It's your call.")
    expect(client_says(page, "I got you this watch.")).to_be_visible()
    send(page, "I can't accept the watch, thank you.")
    page.get_by_role("button", name="See your debrief").click()
    expect(page.get_by_role("heading", level=1, name="Straight and kind")).to_be_visible()
