"""Browser tests: Playwright for Python drives Debian's Chromium against `coach serve` on a loopback port.

Chromium (``/usr/bin/chromium``, or ``COACH_CHROMIUM``) and axe-core (``var/npm`` from ``.ci/run``'s
``npm install``, or ``COACH_AXE_JS``) are looked up once. On a developer machine that lacks them the
tests skip; in CI (``CI`` set) they fail instead, so a broken CI image cannot pass silently.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
import pytest

from tests.conftest import FIXTURES, ROOT

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

COACH = str(Path(sys.executable).parent / "coach")
CHROMIUM = Path(os.environ.get("COACH_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = Path(
    os.environ.get("COACH_AXE_JS", ROOT / "var" / "npm" / "node_modules" / "axe-core" / "axe.min.js")
)
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

# Records what the page's Content-Security-Policy refused, and uncaught errors, in every frame.
WATCH_PAGE = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def unavailable(reason: str) -> NoReturn:
    """Skip on a developer machine; fail in CI, where everything must be installed."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def coach_server(workdir: Path, env: dict[str, str] | None = None, *, fixtures: bool = True) -> Iterator[str]:
    """`coach serve` in its own process; yields its base URL. Fails if it does not come up."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    settings = {"COACH_DATABASE_URL": f"sqlite:///{workdir / 'coach.db'}"}
    if fixtures:
        settings |= {
            "COACH_SCENARIOS_DIR": str(FIXTURES / "scenarios"),
            "COACH_RUBRICS_DIR": str(FIXTURES / "rubrics"),
        }
    full_env = {**os.environ, **settings, **(env or {})}
    log = workdir / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [COACH, "serve", "--port", str(port)],
            env=full_env,
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise ServerDidNotStart(log.read_text())
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class ServerDidNotStart(RuntimeError):
    """The server process exited or never answered /healthz; the message is its log."""


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the small fixed test content (scenario ``tiny``)."""
    try:
        with coach_server(tmp_path_factory.mktemp("coach")) as base:
            yield base
    except ServerDidNotStart as exc:
        pytest.fail(f"server did not come up:\n{exc}")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if sync_playwright is None:
        unavailable("Playwright for Python is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.exists():
        unavailable(f"axe-core not found at {AXE_JS} (npm install --prefix var/npm axe-core)")
    return AXE_JS.read_text(encoding="utf-8")


def new_context(browser: Browser, **options: Any) -> BrowserContext:
    options.setdefault("viewport", DESKTOP)
    options.setdefault("reduced_motion", "reduce")
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    context.add_init_script(WATCH_PAGE)
    return context


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = new_context(browser, accept_downloads=True)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A page that must end the test without uncaught errors or CSP violations."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    violations = [] if page.is_closed() else page.evaluate("window.__cspViolations || []")
    assert not errors, f"uncaught errors in the page: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"
