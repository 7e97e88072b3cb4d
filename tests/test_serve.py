"""`calendar-service serve` as a real process: workers, metrics of them all, graceful stop."""

from __future__ import annotations

import json
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from calendar_service.cli import main
from tests.factories import event_payload
from tests.servers import SHUTDOWN_SECONDS, TOKEN, Server, get, on_database


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'calendar.db'}"
    assert CliRunner().invoke(main, [*on_database(url), "migrate"]).exit_code == 0
    return url


@pytest.fixture
def serve(tmp_path: Path, sqlite_url: str) -> Iterator[Callable[[int], Server]]:
    """Start a server with that many workers, ready; killed after the test if still running."""
    started: list[Server] = []

    def start(workers: int) -> Server:
        server = Server(tmp_path, sqlite_url, workers)
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()


def connection_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_lets_a_request_in_flight_finish(
    serve: Callable[[int], Server], sqlite_url: str, workers: int
) -> None:
    made = CliRunner().invoke(main, [*on_database(sqlite_url), "token", "create", "--name", "t"])
    secret = made.stdout.strip()
    server = serve(workers)
    body = json.dumps(event_payload(title="Arrivé pendant l'arrêt")).encode()
    head = (
        f"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {secret}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        # Headers and half the body: the request is in the app, waiting for the rest.
        client.sendall(head + body[: len(body) // 2])
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        if workers == 1:
            # The listening socket closes at once: new connections are refused. (With
            # several workers the supervisor holds it open until the workers have finished.)
            deadline = time.monotonic() + 5
            while not connection_refused(server.port):
                assert time.monotonic() < deadline, "new connections still accepted"
                time.sleep(0.1)
        else:
            time.sleep(1)
        assert server.process.poll() is None, "stopped with a request in flight"
        client.sendall(body[len(body) // 2 :])
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    headers, _, content = rest.partition(b"\r\n\r\n")
    assert status_line == b"HTTP/1.1 201 Created"
    assert b"connection: close" in headers.lower()
    assert json.loads(content)["title"] == {"fr": "Arrivé pendant l'arrêt"}
    assert server.process.wait(SHUTDOWN_SECONDS + 5) == 0
    exported = CliRunner().invoke(main, [*on_database(sqlite_url), "export"]).stdout
    assert "Arrivé pendant l'arrêt" in exported


def test_workers_share_one_port_and_one_view_of_the_metrics(
    serve: Callable[[int], Server],
) -> None:
    server = serve(2)
    shared = [p for p in server.tmp.iterdir() if p.name.startswith("calendar-metrics-")]
    assert len(shared) == 1, "no folder for the workers' metrics"
    asked = 0
    answered_by: set[object] = set()
    while len(answered_by) < 2:
        assert asked < 400, "one worker answered every request"
        assert get(f"{server.url}/healthz")[0] == 200
        asked += 1
        if asked % 20 == 0:
            answered_by = {line["pid"] for line in server.lines() if line.get("path") == "/healthz"}
    for _ in range(4):  # whichever worker answers the scrape, it counts for them all
        status, text = get(f"{server.url}/metrics", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200
        counted = sum(
            sample.value
            for family in text_string_to_metric_families(text.decode())
            for sample in family.samples
            if sample.name == "calendar_http_requests_total"
            and sample.labels["route"] == "/healthz"
        )
        assert counted == asked
    lines = server.lines()
    # Every line is JSON (lines() parses them), and uvicorn's access log is off: one per request.
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    assert len([line for line in lines if line.get("path") == "/healthz"]) == asked
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(SHUTDOWN_SECONDS + 5) == 0
    assert not shared[0].exists(), "the metrics folder was left behind"
