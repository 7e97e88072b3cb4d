"""Request log lines: one JSON object per request, with every field, and no secret."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from calendar_service.app import create_app
from calendar_service.logs import JsonFormatter, TextFormatter
from calendar_service.settings import Settings
from tests.factories import create, event_payload

Lines = Callable[[], list[dict[str, Any]]]
FIELDS = {
    "time",
    "level",
    "logger",
    "message",
    "method",
    "path",
    "route",
    "status",
    "duration_ms",
    "bytes",
    "request_id",
    "client",
    "pid",
}


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """The JSON lines the service's loggers write while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    service = logging.getLogger("calendar_service")
    level = service.level
    service.addHandler(handler)
    service.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        service.removeHandler(handler)
        service.setLevel(level)


def request_lines(lines: Lines) -> list[dict[str, Any]]:
    return [line for line in lines() if line["logger"] == "calendar_service.requests"]


def test_one_json_line_per_request_with_every_field(
    client: TestClient, editor: dict[str, str], log_lines: Lines
) -> None:
    made = create(client, editor)
    client.get("/feeds/agenda.ics")  # built and cached
    begun = datetime.now(UTC)
    ok = client.get(f"/api/events/{made['id']}?lang=en")
    missing = client.get("/api/events/no-such-event")
    nowhere = client.get("/no/such/page")
    fresh = client.get("/feeds/agenda.ics")
    not_modified = client.get("/feeds/agenda.ics", headers={"If-None-Match": fresh.headers["etag"]})
    assert (ok.status_code, missing.status_code, nowhere.status_code) == (200, 404, 404)
    assert not_modified.status_code == 304

    *_, line_ok, line_missing, line_nowhere, line_fresh, line_304 = request_lines(log_lines)
    for line, response in [
        (line_ok, ok),
        (line_missing, missing),
        (line_nowhere, nowhere),
        (line_fresh, fresh),
        (line_304, not_modified),
    ]:
        assert set(line) == FIELDS
        assert line["status"] == response.status_code
        assert line["method"] == "GET"
        assert line["level"] == "info"
        assert line["client"] == "testclient"
        assert line["pid"] == os.getpid()
        assert line["request_id"] == response.headers["x-request-id"]
        assert isinstance(line["duration_ms"], float) and 0 <= line["duration_ms"] < 10_000
        assert line["bytes"] == int(response.headers.get("content-length", 0))
        when = datetime.fromisoformat(line["time"])
        assert begun - timedelta(seconds=1) <= when <= datetime.now(UTC)
    assert (line_ok["path"], line_ok["route"]) == (f"/api/events/{made['id']}", "/api/events/{key}")
    assert line_missing["route"] == "/api/events/{key}"
    assert (line_nowhere["path"], line_nowhere["route"]) == ("/no/such/page", None)
    # The 304 comes from the cache layer, before routing: its route is still the template.
    assert (line_304["path"], line_304["route"]) == ("/feeds/agenda.ics", "/feeds/{slug}.ics")
    assert line_304["bytes"] == 0 and line_fresh["bytes"] > 0
    assert len({line["request_id"] for line in (line_ok, line_missing, line_304)}) == 3


def test_no_secret_reaches_the_log(
    client: TestClient, editor: dict[str, str], tokens: dict[str, str], log_lines: Lines
) -> None:
    payload = event_payload(title="Réunion confidentielle du bureau")
    response = client.post(
        "/api/events?token=secret-in-the-query",
        json=payload,
        headers={**editor, "Cookie": "session=cookie-secret-value"},
    )
    assert response.status_code == 201
    written = "\n".join(json.dumps(line) for line in log_lines())
    (line,) = request_lines(log_lines)
    assert (line["method"], line["path"], line["route"]) == ("POST", "/api/events", "/api/events")
    assert line["status"] == 201
    for secret in (
        tokens["editor"],
        "secret-in-the-query",
        "token=",
        "cookie-secret-value",
        "confidentielle",
        "Bearer",
    ):
        assert secret not in written


def test_a_safe_request_id_is_kept_and_any_other_replaced(
    client: TestClient, log_lines: Lines
) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.9_c"})
    assert kept.headers["x-request-id"] == "lb-7f3a.9_c"
    for unsafe in ("has spaces", "x" * 65, "quote\"'", "é"):
        replaced = client.get("/healthz", headers={b"X-Request-ID": unsafe.encode()})
        new_id = replaced.headers["x-request-id"]
        assert new_id != unsafe and len(new_id) == 32 and int(new_id, 16) >= 0
    ids = [line["request_id"] for line in request_lines(log_lines)]
    assert ids[0] == "lb-7f3a.9_c" and len(set(ids)) == 5


def test_a_crash_is_one_error_line_and_a_traceback_with_the_same_request_id(
    migrated: Settings, log_lines: Lines
) -> None:
    async def crash(request: Request) -> Response:
        raise RuntimeError("the unexpected happens")

    app = create_app(migrated)
    app.router.routes.append(Route("/crash/{thing}", crash))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/crash/now")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    (line,) = request_lines(log_lines)
    assert (line["status"], line["level"], line["route"]) == (500, "error", "/crash/{thing}")
    (trace,) = [entry for entry in log_lines() if "exception" in entry]
    assert trace["request_id"] == request_id and trace["level"] == "error"
    assert "RuntimeError: the unexpected happens" in trace["exception"]


def test_text_lines_for_people_escape_what_could_forge_a_line() -> None:
    record = logging.LogRecord("calendar_service.requests", logging.INFO, "", 0, "", (), None)
    record.http = {
        "method": "GET",
        "path": "/events/x\nFAKE line",
        "route": "/events/{key}",
        "status": 200,
        "duration_ms": 1.5,
        "bytes": 12,
        "request_id": "abc",
        "client": "127.0.0.1",
        "pid": 1,
    }
    text = TextFormatter().format(record)
    assert "\n" not in text
    assert "GET /events/x\\nFAKE line 200 1.5 ms 12 B route=/events/{key} id=abc" in text
