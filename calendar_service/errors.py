"""The exception hierarchy and the one problem+json body (RFC 9457).

Every error the service reports is a ``ServiceError``; each class carries its HTTP status and
one handler in ``app.py`` turns it into ``application/problem+json``.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_TYPE_BASE = "https://calendar-service.example/problems/"


class ServiceError(Exception):
    """Base of every error shown to a client."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    slug: ClassVar[str] = "internal"

    def __init__(self, detail: str, *, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []

    def problem(self) -> dict[str, Any]:
        """The problem+json body for this error."""
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        return body


class BadRequest(ServiceError):
    """The request cannot be read: malformed JSON, a bad query parameter."""

    status = 400
    title = "Bad request"
    slug = "bad-request"


class Unauthorized(ServiceError):
    """No token, or a token we do not know."""

    status = 401
    title = "Authentication required"
    slug = "unauthorized"


class SignInRequired(Unauthorized):
    """An editor page asked for without a signed-in session; browsers are sent to sign in."""

    title = "Sign-in required"


class Forbidden(ServiceError):
    """A known token whose role may not do this."""

    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(ServiceError):
    status = 404
    title = "Not found"
    slug = "not-found"


class MethodNotAllowed(ServiceError):
    status = 405
    title = "Method not allowed"
    slug = "method-not-allowed"


class Conflict(ServiceError):
    """The write clashes with what is stored (a slug or UID already taken)."""

    status = 409
    title = "Conflict"
    slug = "conflict"


class Gone(ServiceError):
    """The event was deleted; its tombstone remains."""

    status = 410
    title = "Gone"
    slug = "gone"


class PreconditionFailed(ServiceError):
    """``If-Match`` named a version that is no longer current."""

    status = 412
    title = "Precondition failed"
    slug = "precondition-failed"


class PayloadTooLarge(ServiceError):
    status = 413
    title = "Request body too large"
    slug = "payload-too-large"


class UnsupportedMediaType(ServiceError):
    status = 415
    title = "Unsupported media type"
    slug = "unsupported-media-type"


class TooManyRequests(ServiceError):
    """Too many requests from one address; ``retry_after`` seconds until the next is accepted."""

    status = 429
    title = "Too many requests"
    slug = "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ValidationFailed(ServiceError):
    """The body or the parameters were read but do not make a valid request."""

    status = 422
    title = "Validation failed"
    slug = "validation"


def validation_errors(exc: Any, *, prefix: str = "") -> list[dict[str, str]]:
    """Turn a pydantic ``ValidationError`` into ``[{"field", "message"}]`` items.

    Fields are dotted paths (``location.lat``, ``partners[0].url``); the message is the
    user-facing sentence without pydantic's "Value error," prefix.
    """
    items = []
    for err in exc.errors(include_url=False):
        path = ""
        for part in err["loc"]:
            if isinstance(part, int):
                path += f"[{part}]"
            elif part in ("function-after[", "function-before["):
                continue
            else:
                path += ("." if path else "") + str(part)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        message = str(err["msg"])
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        items.append({"field": path or "(body)", "message": message})
    return items
