"""Work run in a child process under a deadline (``deadline.call_with_deadline``), and the
import that uses it: parsing a file no longer holds the server's event loop."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from calendar_service.cli import main
from calendar_service.deadline import DeadlineExceeded, WorkerFailed, call_with_deadline
from calendar_service.settings import Settings
from tests.conftest import make_settings
from tests.factories import everything

ICS = {"Content-Type": "text/calendar; charset=utf-8"}
IMPORT_SECONDS = 1.5


def _add(a: int, b: int) -> int:
    return a + b


def _sleep(seconds: float, pid_file: str = "") -> float:
    if pid_file:
        Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
    return seconds


def _fail(message: str) -> None:
    raise ValueError(message)


def _die() -> None:
    os._exit(3)


def _unpicklable() -> object:
    return threading.Lock()


def _gone(pid: int, within: float = 5.0) -> bool:
    """Whether process ``pid`` has ended within ``within`` seconds."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def _wait_for(path: Path, within: float = 10.0) -> int:
    end = time.monotonic() + within
    while not path.exists() or not path.read_text():
        assert time.monotonic() < end, "the child never started"
        time.sleep(0.02)
    return int(path.read_text())


def test_the_result_comes_back() -> None:
    assert asyncio.run(call_with_deadline(_add, 2, 3, seconds=30)) == 5


def test_work_past_its_deadline_is_killed_and_the_caller_told_at_once(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    asyncio.run(call_with_deadline(_add, 1, 1, seconds=30))  # the fork server is up
    began = time.monotonic()
    with pytest.raises(DeadlineExceeded) as late:
        asyncio.run(call_with_deadline(_sleep, 60, str(pid_file), seconds=1, what="sleeping"))
    assert time.monotonic() - began < 3
    assert late.value.detail == "sleeping took longer than 1 seconds and was stopped"
    assert late.value.status == 422
    assert _gone(_wait_for(pid_file))


def test_an_exception_inside_is_raised_again_with_where_it_happened() -> None:
    with pytest.raises(ValueError, match="no such thing") as error:
        asyncio.run(call_with_deadline(_fail, "no such thing", seconds=30))
    assert str(error.value) == "no such thing"
    notes = "".join(getattr(error.value, "__notes__", []))
    assert "raised in the worker process" in notes and "_fail" in notes


def test_a_child_that_dies_is_a_clear_error() -> None:
    with pytest.raises(WorkerFailed, match="exit code 3"):
        asyncio.run(call_with_deadline(_die, seconds=30, what="dying"))


def test_a_result_that_cannot_come_back_is_a_clear_error() -> None:
    with pytest.raises(WorkerFailed, match="cannot pickle"):
        asyncio.run(call_with_deadline(_unpicklable, seconds=30))


def test_the_event_loop_stays_free_while_the_work_runs() -> None:
    async def run() -> list[float]:
        work = asyncio.ensure_future(call_with_deadline(_sleep, 2, seconds=30))
        gaps = []
        while not work.done():
            before = time.monotonic()
            await asyncio.sleep(0.02)
            gaps.append(time.monotonic() - before)
        assert await work == 2
        return gaps

    gaps = asyncio.run(run())
    assert len(gaps) > 20
    assert max(gaps) < 0.5


def test_a_cancelled_caller_kills_the_child(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"

    async def run() -> None:
        work = asyncio.ensure_future(call_with_deadline(_sleep, 60, str(pid_file), seconds=120))
        for _ in range(500):  # the child has started once it wrote its pid
            if pid_file.exists():
                break
            await asyncio.sleep(0.02)
        work.cancel()
        with pytest.raises(asyncio.CancelledError):
            await work

    asyncio.run(run())
    assert _gone(_wait_for(pid_file))


# --- the import --------------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings with a short import deadline, for the client fixtures of this module."""
    return make_settings(database_url, import_seconds=IMPORT_SECONDS)


def _slow_calendar(events: int = 30_000) -> bytes:
    """A valid file that takes several seconds to read (about 0.3 ms an event)."""
    event = (
        "BEGIN:VEVENT\r\nUID:e{i}@test\r\nSUMMARY:Réunion {i}\r\n"
        "DTSTART;TZID=Europe/Paris:20270107T100000\r\nDTEND;TZID=Europe/Paris:20270107T120000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=10\r\nEND:VEVENT\r\n"
    )
    body = "".join(event.format(i=i) for i in range(events))
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}END:VCALENDAR\r\n".encode()


def test_a_long_import_is_stopped_at_its_deadline_while_the_server_answers(  # type: ignore[no-untyped-def]
    client, admin, editor
) -> None:
    data = _slow_calendar()
    with ThreadPoolExecutor(1) as pool:
        began = time.monotonic()
        posted = pool.submit(client.post, "/api/import", content=data, headers={**admin, **ICS})
        time.sleep(0.5)
        asked = time.monotonic()
        health = client.get("/healthz")
        answered = time.monotonic()
        assert not posted.done()  # the import was still being read
        response = posted.result(timeout=60)
    assert health.status_code == 200
    assert answered - asked < 1
    assert response.status_code == 422
    assert response.json()["detail"] == (
        f"reading the file took longer than {IMPORT_SECONDS:g} seconds and was stopped"
    )
    assert time.monotonic() - began < IMPORT_SECONDS + 10
    assert everything(client, editor) == []


def test_cli_import_has_the_same_deadline(  # type: ignore[no-untyped-def]
    database_url: str, tmp_path: Path, monkeypatch
) -> None:
    source = tmp_path / "slow.ics"
    source.write_bytes(_slow_calendar())
    monkeypatch.setenv("CALENDAR_IMPORT_SECONDS", "1")
    result = CliRunner().invoke(main, ["--database-url", database_url, "import", str(source)])
    assert result.exit_code == 1
    assert "reading the file took longer than 1 seconds" in result.output
    assert "CALENDAR_IMPORT_SECONDS" in result.output
