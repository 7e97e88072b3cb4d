"""`calendar-service serve` as real processes, for the tests that need a real server: the
workers and shutdown tests, the hostile requests, the several-processes topology."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parent.parent
TOKEN = "metrics-token-of-the-test-0123456789"
SHUTDOWN_SECONDS = 15


def on_database(url: str) -> list[str]:
    return ["--database-url", url]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


class Server:
    """A `calendar-service serve` process on a free port, its logs in a file."""

    def __init__(
        self,
        tmp_path: Path,
        database_url: str,
        workers: int,
        *,
        name: str = "serve",
        port: int | None = None,
        environment: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.workers = workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.logs = tmp_path / f"{name}.log"
        self.tmp = tmp_path / f"{name}-tmp"
        self.tmp.mkdir(exist_ok=True)
        self.extra = environment or {}
        self.start()

    def start(self) -> None:
        """Start (or start again) the process on its port."""
        environment = self._environment()
        command = "from calendar_service.cli import main; main()"
        arguments = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.logs.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", command, *arguments],
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def _environment(self) -> dict[str, str]:
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "TMPDIR": str(self.tmp),
            "CALENDAR_DATABASE_URL": self.database_url,
            "CALENDAR_FEEDS_DIR": str(ROOT / "feeds"),
            "CALENDAR_LOG_FORMAT": "json",
            "CALENDAR_METRICS_TOKEN": TOKEN,
            "CALENDAR_SHUTDOWN_SECONDS": str(SHUTDOWN_SECONDS),
            **self.extra,
        }
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return environment

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.logs.read_text()
            try:
                if get(f"{self.url}/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("the server did not become ready:\n" + self.logs.read_text())

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.logs.read_text().splitlines() if line]

    def stop(self) -> None:
        """Stop the process: SIGTERM first (a parent with workers stops them), SIGKILL if it
        does not end within the shutdown time."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(SHUTDOWN_SECONDS + 5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def kill(self) -> None:
        """Kill the process at once, as a crash would (a single worker: no orphans)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
