"""Fetching a calendar by URL: `calendar-service import URL` fetched loopback and private
addresses (SSRF) and echoed a non-calendar body in its error."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from calendar_service.cli import main
from calendar_service.fetch import (
    MAX_REDIRECTS,
    AddressRefused,
    FetchError,
    checked_address,
    fetch_calendar,
)

DATA = Path(__file__).parent / "data"
CALENDAR = (DATA / "thunderbird.ics").read_bytes()
PAGE = b"<html><body>Welcome to the intranet: secret quarterly figures</body></html>"

Route = tuple[int, dict[str, str], bytes]


class _Server:
    """A local HTTP server answering each path with a status, headers and a body."""

    def __init__(self, host: str) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Host", "")))
                status, headers, body = server.routes.get(self.path, (404, {}, b""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[str], _Server]]:
    servers: list[_Server] = []

    def start(host: str = "127.0.0.1") -> _Server:
        servers.append(_Server(host))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _resolver(*addresses: str) -> Callable[[str, int], list[str]]:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud's metadata service
        ("fe80::1%eth0", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),  # shared address space (carrier NAT)
        ("::ffff:127.0.0.1", "loopback"),  # IPv4 in IPv6 is judged as itself
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    with pytest.raises(AddressRefused, match=f"a {kind} address"):
        checked_address("calendar.example", 443, resolve=_resolver(address))
    assert checked_address("calendar.example", 443, allow_private=True, resolve=_resolver(address))


def test_a_public_address_is_the_one_to_connect_to() -> None:
    resolve = _resolver("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert checked_address("calendar.example", 443, resolve=resolve) == "93.184.215.14"


def test_a_host_with_any_private_address_is_refused() -> None:
    with pytest.raises(
        AddressRefused, match=r"calendar\.example is 10\.0\.0\.1, a private address"
    ):
        checked_address("calendar.example", 443, resolve=_resolver("93.184.215.14", "10.0.0.1"))


def test_a_host_that_does_not_resolve_is_named() -> None:
    def failing(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(FetchError, match=r"nowhere\.example does not resolve"):
        checked_address("nowhere.example", 443, resolve=failing)


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve()
    server.routes["/agenda.ics"] = (200, {"Content-Type": "text/calendar"}, CALENDAR)
    # "calendar.invalid" resolves nowhere: only the checked address can have been used.
    body = fetch_calendar(
        f"http://calendar.invalid:{server.port}/agenda.ics",
        max_bytes=100_000,
        check=lambda host, port: "127.0.0.1",
    )
    assert body == CALENDAR
    assert server.requests == [("/agenda.ics", f"calendar.invalid:{server.port}")]


def test_a_redirect_from_an_allowed_host_to_a_loopback_one_is_refused(serve) -> None:  # type: ignore[no-untyped-def]
    inner = serve("127.0.0.1")
    inner.routes["/agenda.ics"] = (200, {"Content-Type": "text/calendar"}, CALENDAR)
    outer = serve("127.0.0.2")
    outer.routes["/agenda.ics"] = (302, {"Location": f"{inner.url}/agenda.ics"}, b"")

    def public_outer(host: str, port: int) -> str:  # 127.0.0.2 plays a public host
        return host if host == "127.0.0.2" else checked_address(host, port)

    with pytest.raises(AddressRefused) as refused:
        fetch_calendar(f"{outer.url}/agenda.ics", max_bytes=100_000, check=public_outer)
    assert str(refused.value) == (
        f"{outer.url}/agenda.ics (redirected to 127.0.0.1): 127.0.0.1, a loopback address: refused"
    )
    assert outer.requests and not inner.requests


def test_redirects_are_followed_a_few_times_and_to_http_only(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve()
    server.routes["/a"] = (301, {"Location": "/b"}, b"")
    server.routes["/b"] = (307, {"Location": "/agenda.ics"}, b"")
    server.routes["/agenda.ics"] = (200, {"Content-Type": "text/calendar"}, CALENDAR)
    server.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    server.routes["/file"] = (302, {"Location": "file:///etc/passwd"}, b"")
    fetch = lambda path: fetch_calendar(  # noqa: E731
        server.url + path, max_bytes=100_000, allow_private=True
    )
    assert fetch("/a") == CALENDAR
    with pytest.raises(FetchError, match=f"more than {MAX_REDIRECTS} redirects"):
        fetch("/loop")
    with pytest.raises(FetchError, match="only http, https and webcal"):
        fetch("/file")


def test_cli_refuses_a_loopback_url_and_imports_it_with_the_flag(serve, database_url: str) -> None:  # type: ignore[no-untyped-def]
    server = serve()
    server.routes["/agenda.ics"] = (200, {"Content-Type": "text/calendar"}, CALENDAR)
    base = ["--database-url", database_url, "import", f"{server.url}/agenda.ics"]
    refused = CliRunner().invoke(main, base)
    assert refused.exit_code == 1
    assert "127.0.0.1, a loopback address: refused" in refused.output
    assert "--allow-private-addresses" in refused.output
    assert server.requests == []
    allowed = CliRunner().invoke(main, [*base, "--allow-private-addresses"])
    assert allowed.exit_code == 0, allowed.output
    assert "created 3" in allowed.stderr


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (
            {"Content-Type": "text/html; charset=utf-8"},
            "did not answer with a calendar (Content-Type text/html)",
        ),
        (
            {"Content-Type": "text/calendar"},
            "not an iCalendar file: it does not begin with BEGIN:VCALENDAR",
        ),
    ],
    ids=["html", "html-sent-as-calendar"],
)
def test_cli_says_a_page_is_not_a_calendar_without_echoing_it(  # type: ignore[no-untyped-def]
    serve, tmp_path: Path, headers: dict[str, str], message: str
) -> None:
    server = serve()
    server.routes["/agenda.ics"] = (200, headers, PAGE)
    result = CliRunner().invoke(
        main,
        [
            "--database-url",
            f"sqlite:///{tmp_path / 'calendar.db'}",
            "import",
            f"{server.url}/agenda.ics",
            "--allow-private-addresses",
        ],
    )
    assert result.exit_code == 1
    assert message in result.output
    assert "secret" not in result.output and "intranet" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_body_past_the_size_limit_is_refused(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve()
    server.routes["/big.ics"] = (200, {"Content-Type": "text/calendar"}, CALENDAR)
    with pytest.raises(FetchError, match="larger than 1000 bytes"):
        fetch_calendar(f"{server.url}/big.ics", max_bytes=1_000, allow_private=True)


def test_an_http_error_is_named_without_the_body(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve()
    server.routes["/gone.ics"] = (404, {"Content-Type": "text/html"}, PAGE)
    with pytest.raises(FetchError) as error:
        fetch_calendar(f"{server.url}/gone.ics", max_bytes=100_000, allow_private=True)
    assert str(error.value) == f"{server.url}/gone.ics: HTTP 404 Not Found"
