"""compose.yaml, read without a Docker engine: the services and their order, the healthchecks,
the settings the replicas need, and the nginx template it mounts, rendered by envsubst as
nginx's image renders it, is the one the topology tests run (tests/proxy.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.proxy import TEMPLATE, placeholders, render
from tests.servers import ROOT

COMPOSE = ROOT / "compose.yaml"
REPLICAS = ("calendar-1", "calendar-2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def seconds(duration: str) -> int:
    found = re.fullmatch(r"(\d+)s", duration)
    assert found, duration
    return int(found.group(1))


def test_the_services_start_in_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "migrate", *REPLICAS, "proxy"}
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["migrate"]["command"] == ["calendar-service", "migrate"]
    for name in REPLICAS:
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }
    assert services["proxy"]["depends_on"] == {
        name: {"condition": "service_healthy"} for name in REPLICAS
    }


def test_postgresql_keeps_its_data_and_says_when_it_is_ready(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"] and "pgdata" in compose["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_the_replicas_run_in_production_on_postgresql(compose: dict[str, Any]) -> None:
    services = compose["services"]
    proxy_address = services["proxy"]["networks"]["calendar"]["ipv4_address"]
    for name in REPLICAS:
        replica = services[name]
        environment = replica["environment"]
        assert replica["image"] == services["migrate"]["image"] and replica["build"] == "."
        assert environment["CALENDAR_ENVIRONMENT"] == "production"
        assert environment["CALENDAR_DATABASE_URL"].startswith("postgresql://calendar:")
        assert environment["CALENDAR_DATABASE_URL"].endswith("@db:5432/calendar")
        for required in ("CALENDAR_BASE_URL", "CALENDAR_SECRET_KEY"):
            assert environment[required].startswith("${" + required + ":?"), required
        # Readiness (database and migrations), on the port the replica serves.
        assert "http://127.0.0.1:8000/readyz" in " ".join(replica["healthcheck"]["test"])
        assert replica["command"][-2:] == ["--port", "8000"]
        assert seconds(replica["stop_grace_period"]) > int(environment["CALENDAR_SHUTDOWN_SECONDS"])
        # uvicorn believes X-Forwarded-For from the proxy only.
        assert environment["FORWARDED_ALLOW_IPS"] == proxy_address
    addresses = [services[name]["networks"]["calendar"]["ipv4_address"] for name in REPLICAS]
    assert len({proxy_address, *addresses}) == 3


def proxy_environment(compose: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in compose["services"]["proxy"]["environment"].items()}


def test_the_proxy_mounts_the_template_and_sets_each_of_its_values(
    compose: dict[str, Any],
) -> None:
    proxy = compose["services"]["proxy"]
    mounted = [v for v in proxy["volumes"] if v.startswith("./deploy/nginx/")]
    assert mounted == [
        "./deploy/nginx/calendar.conf.template:/etc/nginx/templates/default.conf.template:ro"
    ]
    assert (ROOT / mounted[0].split(":")[0]).resolve() == TEMPLATE.resolve()
    environment = proxy_environment(compose)
    assert set(environment) == placeholders(TEMPLATE.read_text())
    assert environment["UPSTREAM_1"] == "calendar-1:8000"
    assert environment["UPSTREAM_2"] == "calendar-2:8000"
    assert environment["PROXY_CACHE"] == "calendar"
    # The same body limits as the service's (compose passes the same .env to both).
    assert environment["CALENDAR_MAX_BODY_BYTES"] == "${CALENDAR_MAX_BODY_BYTES:-1000000}"
    assert environment["CALENDAR_MAX_IMPORT_BYTES"] == "${CALENDAR_MAX_IMPORT_BYTES:-20000000}"


@pytest.mark.skipif(shutil.which("envsubst") is None, reason="envsubst (gettext-base) missing")
def test_nginx_image_renders_the_template_as_the_tests_do(compose: dict[str, Any]) -> None:
    """What 20-envsubst-on-templates.sh in nginx's image does: envsubst restricted to the names
    of its environment (the image's own variables too), which must leave nginx's alone."""
    values = {
        **proxy_environment(compose),
        "CALENDAR_MAX_BODY_BYTES": "1000000",
        "CALENDAR_MAX_IMPORT_BYTES": "20000000",
    }
    image = {"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": "/root", "HOSTNAME": "proxy"}
    image |= {"NGINX_VERSION": "1.28.0", "PKG_RELEASE": "1", "NJS_VERSION": "0.9.0"}
    environment = {**image, **values}
    names = " ".join(f"${{{name}}}" for name in environment)
    done = subprocess.run(
        ["envsubst", names],
        input=TEMPLATE.read_text(),
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    assert done.stdout == render(TEMPLATE.read_text(), values)
