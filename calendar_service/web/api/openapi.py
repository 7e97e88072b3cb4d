"""The OpenAPI 3.1 document of the JSON API, built from the pydantic models."""

from __future__ import annotations

import functools
from typing import Any

import orjson
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from calendar_service import __version__
from calendar_service.models import (
    Category,
    EventIn,
    EventOut,
    EventPage,
    OccurrenceOut,
    OccurrencePage,
    Problem,
    Proposer,
    Tombstone,
)
from calendar_service.vocabulary import CATEGORIES, STATUSES

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _param(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


FILTERS = [
    _param("from", "Only what ends after this date or date-time (default zone if no offset)."),
    _param("to", "Only what starts before this date or date-time."),
    _param(
        "category",
        "One or more categories (repeat or comma-separate).",
        {"type": "string", "examples": list(CATEGORIES)},
    ),
    _param("tag", "One or more tags; an event matches any of them."),
    _param(
        "q",
        "Words that must all begin a word of the text (titles, summaries, places, organisers, "
        "descriptions; every language; accents and case ignored).",
    ),
    _param("status", "One or more statuses.", {"type": "string", "examples": list(STATUSES)}),
    _param("state", "draft, published (default) or pending; other than published needs a token."),
    _param("feed", "Only the events of this named feed (see /api/feeds)."),
    _param("lang", "Flatten text maps to this language (falls back to the default)."),
    _param("limit", "Items per page.", {"type": "integer", "minimum": 1}),
    _param("cursor", "The next_cursor of the previous page."),
]
KEY = {
    "name": "key",
    "in": "path",
    "required": True,
    "description": "The event's numeric id or its slug.",
    "schema": {"type": "string"},
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


def _json(
    description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


ERRORS_READ = {"400": _problem("A query parameter is not valid.")}
_FILE = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "format": "uri"},
        "width": {"type": "integer"},
        "height": {"type": "integer"},
    },
}
MEDIA_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "width": {"type": "integer", "description": "Of the clean picture, upright."},
        "height": {"type": "integer"},
        "source_type": {"type": "string", "examples": ["image/jpeg"]},
        "files": {
            "type": "object",
            "properties": {
                "webp": {"type": "array", "items": _FILE},
                "jpeg": {"type": "array", "items": _FILE},
                "mail": _FILE,
                "crops": {"type": "object", "additionalProperties": _FILE},
            },
        },
    },
}

ERRORS_WRITE = {
    "400": _problem("The body is not valid JSON."),
    "401": _problem("No token, or an unknown one."),
    "403": _problem("The token's role may not do this."),
    "413": _problem("The body is too large."),
    "415": _problem("The body is not JSON."),
    "422": _problem("The event is not valid; `errors` names each field."),
}
ETAG = {"ETag": {"description": "The event's version.", "schema": {"type": "string"}}}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "Refuse the change (412) unless the event is still at this ETag.",
    "schema": {"type": "string"},
}
TOKEN_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "role": {"enum": ["editor", "admin"]},
        "prefix": {"type": "string"},
        "created_at": {"type": "string"},
        "revoked_at": {"type": ["string", "null"]},
        "token": {"type": "string", "description": "Only in the answer to its creation."},
    },
}
FEED_SCHEMA = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"},
        "title": {"type": ["string", "object"]},
        "description": {"type": ["string", "object"]},
        "color": {"type": "string"},
        "refresh_minutes": {"type": "integer"},
        "filter": {"type": "object"},
        "links": {
            "type": "object",
            "properties": {
                "ics": {"type": "string"},
                "webcal": {"type": "string"},
                "google": {"type": "string"},
                "rss": {"type": "string", "description": "RSS 2.0 for Mailchimp."},
                "json": {"type": "string", "description": "JSON Feed 1.1 for Brevo."},
                "newsletter": {"type": "string", "description": "The HTML newsletter digest."},
            },
        },
    },
}
NARROWING = ("category", "tag", "q", "status")
IMPORT_REPORT = {
    "type": "object",
    "properties": {
        "created": {"type": "integer"},
        "updated": {"type": "integer"},
        "unchanged": {"type": "integer"},
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "uid": {"type": "string"},
                    "title": {"type": "string"},
                    "reason": {"type": "string"},
                },
            },
        },
        "dry_run": {"type": "boolean"},
        "written": {"type": "boolean"},
    },
}
SECURED: list[dict[str, list[str]]] = [{"bearer": []}]


PROPOSAL_ACCEPTED = {
    "type": "object",
    "required": ["status", "message"],
    "properties": {"status": {"const": "pending"}, "message": {"type": "string"}},
}


def _proposal_schema(event_in: dict[str, Any]) -> dict[str, Any]:
    """An event as the public proposes it: no uid, slug, status or state; who proposes it, and
    the honeypot field that people leave empty."""
    properties = {
        name: value
        for name, value in event_in["properties"].items()
        if name not in ("uid", "slug", "status", "state")
    }
    properties["proposer"] = {
        **_ref("Proposer"),
        "description": "Who proposes the event; seen by the editors only.",
    }
    properties["website"] = {
        "type": "string",
        "maxLength": 0,
        "description": "Leave empty (a field hidden from people; robots fill it).",
    }
    return {
        **event_in,
        "title": "ProposalIn",
        "description": "An event proposed by anyone; it stays pending until an editor "
        "publishes it.",
        "properties": properties,
    }


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The whole document; built once per process."""
    _, schemas = models_json_schema(
        [
            (EventIn, "validation"),
            (EventOut, "serialization"),
            (Tombstone, "serialization"),
            (OccurrenceOut, "serialization"),
            (EventPage, "serialization"),
            (OccurrencePage, "serialization"),
            (Category, "serialization"),
            (Problem, "serialization"),
            (Proposer, "validation"),
        ],
        ref_template=REF,
    )
    schemas["$defs"]["ProposalIn"] = _proposal_schema(schemas["$defs"]["EventIn"])
    paths: dict[str, Any] = {
        "/api/events": {
            "get": {
                "summary": "List events (series)",
                "description": "Ordered by start; with `updated_since`, by last change and "
                "including tombstones of deleted events.",
                "parameters": [
                    *FILTERS,
                    _param(
                        "updated_since",
                        "Only events changed since this instant, tombstones included.",
                    ),
                ],
                "responses": {"200": _json("A page of events.", _ref("EventPage")), **ERRORS_READ},
            },
            "post": {
                "summary": "Create an event",
                "security": SECURED,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("EventIn")}},
                },
                "responses": {
                    "201": _json(
                        "Created.",
                        _ref("EventOut"),
                        {
                            **ETAG,
                            "Location": {
                                "description": "The event's URL.",
                                "schema": {"type": "string"},
                            },
                        },
                    ),
                    "409": _problem("The uid or slug is taken."),
                    **ERRORS_WRITE,
                },
            },
        },
        "/api/proposals": {
            "post": {
                "summary": "Propose an event (no token): it waits, pending, for an editor",
                "description": "The event is stored with state `pending` and shown nowhere "
                "until an editor publishes it (`PATCH /api/events/{key}` with "
                '`{"state": "published"}`, which accepts it and tells the proposer). '
                "Sending `uid`, `slug`, `status` or `state` is "
                "refused (422). At most `proposals_per_hour` proposals an hour per address.",
                "parameters": [
                    _param("lang", "The proposer's language: the editors' answer is in it.")
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("ProposalIn")}},
                },
                "responses": {
                    "202": _json("Received; it will be reviewed.", PROPOSAL_ACCEPTED),
                    "400": ERRORS_WRITE["400"],
                    "413": _problem("The body is over `max_proposal_bytes`."),
                    "415": ERRORS_WRITE["415"],
                    "422": _problem("The proposal is not valid; `errors` names each field."),
                    "429": _problem("Too many proposals from this address; see Retry-After."),
                },
            }
        },
        "/api/occurrences": {
            "get": {
                "summary": "List dated occurrences in a window, recurrences expanded",
                "description": "Default window: now to 90 days ahead.",
                "parameters": [
                    *FILTERS,
                    _param(
                        "once",
                        "true: each series once, at its first occurrence in the window.",
                        {"type": "boolean"},
                    ),
                ],
                "responses": {
                    "200": _json("A page of occurrences.", _ref("OccurrencePage")),
                    **ERRORS_READ,
                },
            }
        },
        "/api/events/{key}": {
            "parameters": [KEY],
            "get": {
                "summary": "One event",
                "parameters": [_param("lang", "Flatten text maps to this language.")],
                "responses": {
                    "200": _json("The event.", _ref("EventOut"), ETAG),
                    "304": {"description": "Not modified (If-None-Match)."},
                    "404": _problem("No such event."),
                    "410": _problem("The event was deleted."),
                },
            },
            "patch": {
                "summary": "Change an event (JSON merge patch)",
                "description": "Fields given replace the stored ones; `null` removes one; a plain "
                "string for a text field changes the default language only. SEQUENCE is bumped "
                "when time, place or status change.",
                "security": SECURED,
                "parameters": [IF_MATCH],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/merge-patch+json": {"schema": {"type": "object"}},
                        "application/json": {"schema": {"type": "object"}},
                    },
                },
                "responses": {
                    "200": _json("The changed event.", _ref("EventOut"), ETAG),
                    "404": _problem("No such event."),
                    "410": _problem("The event was deleted."),
                    "412": _problem("If-Match names an old version."),
                    **ERRORS_WRITE,
                },
            },
            "delete": {
                "summary": "Delete an event (it stays as a tombstone)",
                "security": SECURED,
                "parameters": [IF_MATCH],
                "responses": {
                    "204": {"description": "Deleted."},
                    "401": ERRORS_WRITE["401"],
                    "403": ERRORS_WRITE["403"],
                    "404": _problem("No such event."),
                    "410": _problem("Already deleted."),
                    "412": _problem("If-Match names an old version."),
                },
            },
        },
        "/api/categories": {
            "get": {
                "summary": "The category vocabulary with labels",
                "parameters": [_param("lang", "One language's labels.")],
                "responses": {
                    "200": _json(
                        "Categories.",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": _ref("Category")}},
                        },
                    )
                },
            }
        },
        "/api/feeds": {
            "get": {
                "summary": "The published feeds, with their subscribe links",
                "parameters": [_param("lang", "One language's titles; links to that language.")],
                "responses": {
                    "200": _json(
                        "Feeds.",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": FEED_SCHEMA}},
                        },
                    )
                },
            }
        },
        "/feeds/{slug}.ics": {
            "parameters": [
                {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "get": {
                "summary": "A subscribable iCalendar feed",
                "description": "The JSON API filters (category, tag, q, status, lang) narrow it. "
                "Strong ETag and Last-Modified; 304 on If-None-Match / If-Modified-Since; gzip.",
                "parameters": [p for p in FILTERS if p["name"] in (*NARROWING, "lang")],
                "responses": {
                    "200": {
                        "description": "The feed.",
                        "content": {"text/calendar": {"schema": {"type": "string"}}},
                    },
                    "304": {"description": "Not modified."},
                    "404": _problem("No such feed."),
                },
            },
        },
        "/events/{key}.ics": {
            "parameters": [KEY],
            "get": {
                "summary": "One event as an iCalendar file (add to my calendar)",
                "parameters": [_param("lang", "The language of the entry.")],
                "responses": {
                    "200": {
                        "description": "The event.",
                        "content": {"text/calendar": {"schema": {"type": "string"}}},
                    },
                    "304": {"description": "Not modified."},
                    "404": _problem("No such event."),
                    "410": _problem("The event was deleted."),
                },
            },
        },
        "/api/import": {
            "post": {
                "summary": "Import an iCalendar file (admin): upsert by UID",
                "description": "A newer SEQUENCE (or, at the same SEQUENCE, LAST-MODIFIED) "
                "updates an event. Valid events are written in one transaction. `dry_run=1` "
                "writes nothing; `strict=1` refuses the whole file if any event is invalid.",
                "security": SECURED,
                "parameters": [
                    _param("dry_run", "1 to report without writing."),
                    _param("strict", "1 to refuse the file when an event is invalid."),
                ],
                "requestBody": {
                    "required": True,
                    "content": {"text/calendar": {"schema": {"type": "string"}}},
                },
                "responses": {
                    "200": _json("The report.", IMPORT_REPORT),
                    **ERRORS_WRITE,
                },
            }
        },
        "/api/media": {
            "post": {
                "summary": "Upload a picture (editor): JPEG, PNG, WebP or HEIC",
                "description": "The file as the body (any Content-Type: the bytes say what "
                "they are) or a multipart form's `file` field. It is oriented, converted to "
                "sRGB, stripped of every metadata block and re-encoded into the files each "
                "output needs; the same file uploaded again is the same picture (200). Put the "
                "answered `id` in an event's `image.media`, with its alt text.",
                "security": SECURED,
                "requestBody": {
                    "required": True,
                    "content": {
                        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                        "image/png": {"schema": {"type": "string", "format": "binary"}},
                        "image/webp": {"schema": {"type": "string", "format": "binary"}},
                        "image/heic": {"schema": {"type": "string", "format": "binary"}},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {"file": {"type": "string", "format": "binary"}},
                                "required": ["file"],
                            }
                        },
                    },
                },
                "responses": {
                    "201": _json("The new picture.", MEDIA_SCHEMA),
                    "200": _json("The same file was uploaded before: that picture.", MEDIA_SCHEMA),
                    "400": _problem("No file, or an empty one."),
                    "401": ERRORS_WRITE["401"],
                    "403": ERRORS_WRITE["403"],
                    "413": _problem("The file is larger than CALENDAR_MEDIA_MAX_BYTES."),
                    "415": _problem("Not a JPEG, PNG, WebP or HEIC picture (SVG is refused)."),
                    "422": _problem("Damaged, truncated, or more pixels than allowed."),
                },
            }
        },
        "/api/media/{media_id}": {
            "get": {
                "summary": "A stored picture and the URLs of its files (editor)",
                "security": SECURED,
                "parameters": [
                    {
                        "name": "media_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                    }
                ],
                "responses": {
                    "200": _json("The picture.", MEDIA_SCHEMA),
                    "401": ERRORS_WRITE["401"],
                    "403": ERRORS_WRITE["403"],
                    "404": _problem("No such picture."),
                },
            }
        },
        "/api/tokens": {
            "get": {
                "summary": "List API tokens (admin)",
                "security": SECURED,
                "responses": {
                    "200": _json(
                        "Tokens, without their secrets.",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": TOKEN_SCHEMA}},
                        },
                    ),
                    "401": ERRORS_WRITE["401"],
                    "403": ERRORS_WRITE["403"],
                },
            },
            "post": {
                "summary": "Create an API token (admin); the secret is shown once",
                "security": SECURED,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "role": {"enum": ["editor", "admin"]},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json("The token with its secret.", TOKEN_SCHEMA),
                    **ERRORS_WRITE,
                },
            },
        },
        "/api/tokens/{token_id}": {
            "parameters": [
                {"name": "token_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "delete": {
                "summary": "Revoke an API token (admin)",
                "security": SECURED,
                "responses": {
                    "204": {"description": "Revoked."},
                    "401": ERRORS_WRITE["401"],
                    "403": ERRORS_WRITE["403"],
                    "404": _problem("No such live token."),
                },
            },
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": {"200": _json("OpenAPI 3.1.", {"type": "object"})},
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness: the process answers (the database is not asked)",
                "responses": {"200": _json("Alive.", {"type": "object"})},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: the database answers and is at the newest migration",
                "responses": {
                    "200": _json("Ready.", {"type": "object"}),
                    "503": _json("Not ready; the body says what is wrong.", {"type": "object"}),
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Calendar service API",
            "version": __version__,
            "description": "Events of the association: read freely, write with a bearer token. "
            "Errors are application/problem+json (RFC 9457).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


async def openapi(request: Request) -> Response:
    return Response(
        orjson.dumps(openapi_document()),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=300"},
    )


routes = [Route("/api/openapi.json", openapi, methods=["GET"])]
