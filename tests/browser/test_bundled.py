"""The page with the content trainers actually ship (scenarios/ and rubrics/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ServerDidNotStart, coach_server
from tests.browser.play import open_list

pytestmark = pytest.mark.browser


@pytest.fixture
def bundled_server(tmp_path: Path) -> Iterator[str]:
    """The app with default settings; skips while the bundled content does not load.

    Whether the bundled content loads is tests/authoring's concern; this test checks the page.
    """
    try:
        with coach_server(tmp_path, fixtures=False) as base:
            yield base
    except ServerDidNotStart as exc:
        errors = [line for line in str(exc).splitlines() if "error" in line.lower()]
        pytest.skip("the bundled content does not load yet: " + " | ".join(errors[-3:])[:1000])


def test_the_list_shows_the_bundled_scenarios(page: Page, bundled_server: str) -> None:
    scenarios = httpx.get(f"{bundled_server}/api/v1/scenarios", timeout=10).json()["scenarios"]
    if not scenarios:
        pytest.skip("no bundled scenarios yet")
    open_list(page, bundled_server)
    titles = page.locator(".scenario__title")
    expect(titles).to_have_text([s["title"] for s in scenarios])
    for s in scenarios:
        card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=s["title"]))
        expect(card).to_contain_text(s["summary"])
        expect(card).to_contain_text(f"About {s['minutes']} min")
