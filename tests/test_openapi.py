"""The OpenAPI document: valid, complete, and true to what the API returns."""

from __future__ import annotations

from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from calendar_service.models import EventOut, OccurrenceOut, Tombstone
from tests.factories import create


def test_document_is_valid_openapi_31(client) -> None:
    document = client.get("/api/openapi.json").json()
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_api_route_and_method_is_described(client) -> None:
    document = client.get("/api/openapi.json").json()
    for route in client.app.routes:
        if isinstance(route, Mount):
            assert not route.path.startswith("/api")
            continue
        assert isinstance(route, Route)
        if not (route.path.startswith("/api/") or route.path == "/healthz"):
            continue
        for method in route.methods - {"HEAD"}:
            assert method.lower() in document["paths"][route.path], (method, route.path)


def test_responses_match_the_documented_models(client, editor) -> None:
    made = create(client, editor, recurrence={"rrule": "FREQ=WEEKLY;COUNT=2"})
    EventOut.model_validate(made)
    EventOut.model_validate(client.get(f"/api/events/{made['id']}?lang=en").json())
    for item in client.get("/api/occurrences?from=2027-05-01&to=2027-06-01").json()["items"]:
        OccurrenceOut.model_validate(item)
    client.delete(f"/api/events/{made['id']}", headers=editor)
    (tombstone,) = client.get("/api/events?updated_since=2000-01-01").json()["items"]
    Tombstone.model_validate(tombstone)


def test_event_input_schema_lists_the_model_fields(client) -> None:
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["EventIn"]
    assert schema["additionalProperties"] is False
    for name in ("title", "start", "timezone", "recurrence", "location", "partners", "image"):
        assert name in schema["properties"]
    assert schema["required"] == ["title", "start"]
