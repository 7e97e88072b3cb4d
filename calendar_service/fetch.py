"""Fetching a calendar by URL without being turned against the machine's own network.

A URL given to ``import`` (or found in a redirect) could name the machine itself, the private
network behind it or the cloud's metadata service (169.254.169.254). So the host is resolved,
every address it has is checked, and the connection goes to the address that was checked (a
name that resolves to a public address when checked and a private one when connecting gains
nothing). Loopback, private (RFC 1918, fc00::/7), link-local, multicast, unspecified, reserved
and other non-public addresses are refused unless the caller allows them. Redirects are
followed a few times, each target checked the same way; only http, https and webcal are
fetched, within a time and a size. Errors name the problem in one line and never echo what
the server sent.
"""

from __future__ import annotations

import functools
import http
import http.client
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

MAX_REDIRECTS = 5
FETCH_SECONDS = 30.0
CALENDAR_TYPES = (
    "text/calendar",
    "application/ics",
    "text/x-vcalendar",
    "application/octet-stream",
    "text/plain",
)
_REDIRECTS = (301, 302, 303, 307, 308)
_HOST = re.compile(r"^[A-Za-z0-9.:_-]{1,100}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9!#$&^_.+-]{1,60}/[a-z0-9!#$&^_.+-]{1,60}$")

Resolver = Callable[[str, int], list[str]]
AddressCheck = Callable[[str, int], str]


class FetchError(ValueError):
    """The calendar could not be fetched; the message says why in one line."""


class AddressRefused(FetchError):
    """The host is, or resolves to, an address that is not public."""


class UnknownHost(FetchError):
    """The host resolves to no address."""


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the order the system gives them."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not public ("loopback", "private"...), or ``None`` when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address carried in IPv6 is judged as itself.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return address_refusal(embedded)
        if address.teredo is not None:
            return address_refusal(address.teredo[1])
    for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if not address.is_global:
        return "non-public"
    return None


def checked_address(
    host: str, port: int, *, allow_private: bool = False, resolve: Resolver = system_resolver
) -> str:
    """The address to connect to for ``host``: resolved once, and every address it has
    public unless ``allow_private``; ``AddressRefused`` or ``FetchError`` otherwise."""
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError):
        addresses = []
    if not addresses:
        raise UnknownHost(f"{_shown_host(host)} does not resolve to an address")
    if not allow_private:
        for text in addresses:
            try:
                address = ipaddress.ip_address(text.split("%", 1)[0])
            except ValueError:
                raise UnknownHost(f"{_shown_host(host)} resolves to no usable address") from None
            refusal = address_refusal(address)
            if refusal is not None:
                named = "" if text == host else f"{_shown_host(host)} is "
                raise AddressRefused(f"{named}{address}, a {refusal} address")
    return addresses[0]


def _shown_host(host: str) -> str:
    return host if _HOST.match(host) else "the host"


class _CheckedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to the address ``check`` gives for the host, checked as it connects."""

    def __init__(self, host: str, port: int, *, timeout: float, check: AddressCheck) -> None:
        super().__init__(host, port, timeout=timeout)
        self._check = check

    def connect(self) -> None:
        address = self._check(self.host, self.port)
        self.sock = socket.create_connection((address, self.port), self.timeout)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate and SNI are the host's, the address the checked one."""

    def __init__(self, host: str, port: int, *, timeout: float, check: AddressCheck) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._check = check

    def connect(self) -> None:
        address = self._check(self.host, self.port)
        sock = socket.create_connection((address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def _https(url: str) -> str:
    return "https://" + url[len("webcal://") :] if url[:9].lower() == "webcal://" else url


def fetch_calendar(
    url: str,
    *,
    max_bytes: int,
    allow_private: bool = False,
    timeout: float = FETCH_SECONDS,
    check: AddressCheck | None = None,
) -> bytes:
    """The body of an http, https or webcal (read as https) URL that answers with a calendar.

    At most ``max_bytes``, within ``timeout`` seconds, through at most ``MAX_REDIRECTS``
    redirects; every host is checked by ``check`` (by default ``checked_address``, refusing
    non-public addresses unless ``allow_private``). ``FetchError`` says what went wrong.
    """
    return fetch_url(
        url,
        max_bytes=max_bytes,
        allow_private=allow_private,
        timeout=timeout,
        check=check,
        types=CALENDAR_TYPES,
        accept="text/calendar, */*;q=0.1",
        what="a calendar",
    )


PICTURE_TYPES = (
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "image/heif",
    "application/octet-stream",
)


def fetch_picture(
    url: str, *, max_bytes: int, allow_local: bool = False, timeout: float = FETCH_SECONDS
) -> bytes:
    """The body of an https URL that answers with a picture (the bytes are checked for what
    they are afterwards), under the same limits as a calendar; plain http and non-public
    addresses only with ``allow_local`` (tests, closed networks)."""
    return fetch_url(
        url,
        max_bytes=max_bytes,
        allow_private=allow_local,
        timeout=timeout,
        types=PICTURE_TYPES,
        accept="image/jpeg, image/png, image/webp, image/heic;q=0.9, */*;q=0.1",
        what="a picture",
        schemes=("http", "https") if allow_local else ("https",),
    )


def fetch_url(
    url: str,
    *,
    max_bytes: int,
    types: tuple[str, ...],
    accept: str,
    what: str,
    allow_private: bool = False,
    timeout: float = FETCH_SECONDS,
    check: AddressCheck | None = None,
    schemes: tuple[str, ...] = ("http", "https"),
) -> bytes:
    """The body of a URL that answers with one of ``types`` (or none), as ``fetch_calendar``
    says; only ``schemes`` are followed, redirects included."""
    check = check or functools.partial(checked_address, allow_private=allow_private)
    shown = url if len(url) <= 200 else url[:197] + "..."
    deadline = time.monotonic() + timeout
    current = _https(url)
    for hop in range(MAX_REDIRECTS + 1):
        parts = urlsplit(current)
        scheme = parts.scheme.lower()
        where = (
            shown if hop == 0 else f"{shown} (redirected to {_shown_host(parts.hostname or '')})"
        )
        if scheme not in schemes:
            allowed = "https" if schemes == ("https",) else "http, https and webcal"
            raise FetchError(f"{where}: only {allowed} addresses are fetched")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"{where}: the port is not a number") from None
        if not parts.hostname:
            raise FetchError(f"{where}: the address has no host")
        kind = _CheckedHTTPSConnection if scheme == "https" else _CheckedHTTPConnection
        connection = kind(parts.hostname, port, timeout=timeout, check=check)
        response: http.client.HTTPResponse | None = None
        try:
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request(
                "GET",
                target,
                headers={
                    "User-Agent": "calendar-service import",
                    "Accept": accept,
                    "Accept-Encoding": "identity",
                },
            )
            response = connection.getresponse()
            if response.status in _REDIRECTS:
                location = response.getheader("Location", "").strip()
                if not location:
                    raise FetchError(f"{where}: a redirect without a Location")
                current = urljoin(current, _https(location))
                continue
            if response.status != 200:
                raise FetchError(f"{where}: HTTP {response.status} {_phrase(response.status)}")
            media_type = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if media_type and media_type not in types:
                named = media_type if _MEDIA_TYPE.match(media_type) else f"not {what}'s type"
                raise FetchError(f"{where} did not answer with {what} (Content-Type {named})")
            declared = response.getheader("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"{where} is larger than {max_bytes} bytes")
            return _body(response, max_bytes=max_bytes, deadline=deadline, where=where)
        except AddressRefused as exc:
            raise AddressRefused(f"{where}: {exc}: refused") from None
        except UnknownHost as exc:
            raise FetchError(f"{where}: {exc}") from None
        except FetchError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{where}: {_failure(exc)}") from None
        finally:
            if response is not None:  # the connection may have handed its socket over to it
                response.close()
            connection.close()
    raise FetchError(f"{shown}: more than {MAX_REDIRECTS} redirects")


def _body(
    response: http.client.HTTPResponse, *, max_bytes: int, deadline: float, where: str
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"{where}: the answer took too long")
        chunk = response.read(min(65_536, max_bytes + 1 - size))
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{where} is larger than {max_bytes} bytes")
        chunks.append(chunk)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _failure(exc: Exception) -> str:
    """A failure to connect or read, in words of our own (a server's text is never shown)."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "its TLS certificate is not valid for this host"
    if isinstance(exc, ssl.SSLError):
        return "the TLS connection failed"
    if isinstance(exc, http.client.HTTPException):
        return "the answer is not HTTP"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__
