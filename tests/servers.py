"""Run `coach serve` as real processes for tests about the network, workers and crashes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import FIXTURES

COACH = str(Path(sys.executable).parent / "coach")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One `coach serve` process on a loopback port, with its output in a log file."""

    def __init__(self, database_url: str, log: Path, *, content: Path = FIXTURES, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ,
            "COACH_SCENARIOS_DIR": str(content / "scenarios"),
            "COACH_RUBRICS_DIR": str(content / "rubrics"),
            "COACH_DATABASE_URL": database_url,
            "COACH_RATE_LIMIT_PER_MINUTE": "0",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *args: str) -> Server:
        with self.log.open("ab") as sink:
            self.process = subprocess.Popen(
                [COACH, "serve", "--port", str(self.port), *args],
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"server did not come up:\n{self.log.read_text()}")
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL: no chance to finish anything, like a crashed machine."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM: a graceful shutdown."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)
