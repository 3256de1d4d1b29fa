"""Ralph, a real LRS, in its own virtual environment (it pins its own FastAPI), on a loopback port.

The environment lives in ``var/ralph-venv`` and is made once (``pip install ralph-malph[cli,lrs]``).
With CI set, a Ralph that cannot be installed or started fails the tests; elsewhere (say, a
laptop without network) they skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT
from tests.servers import free_port

VENV = ROOT / "var" / "ralph-venv"
RALPH = VENV / "bin" / "ralph"
# ralph-malph 5.1's "lrs" extra misses requests, which its OIDC module imports at start-up.
PACKAGES = ["ralph-malph[cli,lrs]==5.1.0", "requests>=2.31"]
STAMP = VENV / ".coach-installed"
USER, PASSWORD = "coach", "lrs-secret-for-tests"

# Ralph's LRS app (what `ralph runserver -b fs` serves), run by uvicorn in Ralph's venv. Ralph's
# file-system backend is its development backend and creates its one statements file only once
# (a second statement gets "already exists ... overwrite is not allowed", HTTP 500); appending
# lets it keep many statements. Everything else (auth, validation, duplicate ids, queries) is Ralph's.
LAUNCHER = """
import sys
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend
FSLRSBackend.default_operation_type = BaseOperationType.APPEND
import uvicorn
uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(sys.argv[1]), log_level="info")
"""


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Ralph (the LRS) is required in CI: {reason}")
    pytest.skip(f"Ralph (the LRS) is not available: {reason}")


def install() -> None:
    """Make var/ralph-venv once; a stamp names what was installed."""
    wanted = " ".join(PACKAGES)
    if RALPH.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    try:
        if not (VENV / "bin" / "python").exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, timeout=300
            )
        subprocess.run(
            [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", *PACKAGES],
            check=True,
            capture_output=True,
            text=True,
            timeout=1200,
        )
    except subprocess.CalledProcessError as exc:
        unavailable(f"pip install failed: {(exc.stderr or '')[-2000:]}")
    except (OSError, subprocess.TimeoutExpired) as exc:
        unavailable(f"installing failed: {exc}")
    STAMP.write_text(wanted)


class Ralph:
    """Ralph's LRS with HTTP basic auth, its statements kept in a folder across restarts."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.endpoint = f"{self.base}/xAPI/"
        self.folder = folder
        self.log = folder / "ralph.log"
        (folder / "app").mkdir(parents=True, exist_ok=True)
        (folder / "data").mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "RALPH_APP_DIR": str(folder / "app"),
            "RALPH_AUTH_FILE": str(folder / "app" / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(folder / "data"),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def create_user(self) -> None:
        result = subprocess.run(
            [
                str(RALPH),
                "auth",
                "-u",
                USER,
                "-p",
                PASSWORD,
                "-s",
                "all",
                "-M",
                "mailto:coach@example.org",
                "-w",
            ],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            unavailable(f"`ralph auth` failed: {result.stderr[-2000:]}")

    def start(self) -> Ralph:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [str(VENV / "bin" / "python"), "-c", LAUNCHER, str(self.port)],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.get("statements").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        unavailable(f"Ralph's LRS did not come up:\n{self.log.read_text()[-3000:]}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(
            f"{self.endpoint}{path}",
            params=params,
            auth=(USER, PASSWORD),
            headers={"X-Experience-API-Version": "1.0.3"},
            timeout=10,
        )

    def statements(self) -> list[dict[str, Any]]:
        """Every statement stored, following the LRS's `more` links."""
        found: list[dict[str, Any]] = []
        response = self.get("statements", limit="100")
        while True:
            assert response.status_code == 200, response.text
            body = response.json()
            found.extend(body["statements"])
            more = body.get("more")
            if not more:
                return found
            response = httpx.get(
                f"{self.base}{more}" if more.startswith("/") else more,
                auth=(USER, PASSWORD),
                headers={"X-Experience-API-Version": "1.0.3"},
                timeout=10,
            )
