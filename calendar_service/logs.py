"""Log lines: one JSON object a line for log collectors, or plain text for people; and the
logging configuration that `serve` hands to uvicorn, which applies it in every worker process.

Request lines come from ``web/telemetry.py`` with their fields in the record's ``http``
attribute; any other record (a ``logger.exception`` in a handler) carries the id of the
request it happened in, so the two can be joined.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

# The X-Request-ID of the request this task is answering, if any.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message, pid, and the request's fields
    (a request line) or its id (a record logged while answering a request)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            line.update(http)
        elif (current := request_id.get()) is not None:
            line["request_id"] = current
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    """A record as a line for people: time, level, logger and message; a request line as
    ``GET /feeds/agenda.ics 200 1.3 ms 5120 B route=... id=... client=...``."""

    def format(self, record: logging.LogRecord) -> str:
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            # orjson escapes control characters: a crafted path cannot forge a log line.
            path = orjson.dumps(http["path"]).decode()[1:-1]
            message = (
                f"{http['method']} {path} {http['status']} {http['duration_ms']} ms "
                f"{http['bytes']} B route={http['route']} id={http['request_id']} "
                f"client={http['client']}"
            )
        else:
            message = record.getMessage()
            if (current := request_id.get()) is not None:
                message += f" [request {current}]"
        text = f"{_time(record)} {record.levelname} {record.name}: {message}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + self.formatStack(record.stack_info)
        return text


def logging_config(*, json: bool) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's ``log_config``: every record, uvicorn's
    own included, to standard error in one format; uvicorn's access log off, since the
    service writes its own request lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": {"()": JsonFormatter if json else TextFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "line",
                "stream": "ext://sys.stderr",
            }
        },
        # The service's and uvicorn's news; only the warnings of the libraries below them.
        "loggers": {
            "calendar_service": {"level": "INFO"},
            "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }
