"""nginx as the production proxy, for the topology tests and the benchmark: the repository's
``deploy/nginx/calendar.conf.template``, rendered as compose's nginx renders it, in the
foreground with its files in a folder of the test's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parent.parent
TEMPLATE = ROOT / "deploy" / "nginx" / "calendar.conf.template"
NGINX = "/usr/sbin/nginx"
# The names envsubst replaces in nginx's image are those of its environment; nginx's own
# variables ($uri, $arg_lang) are never written ${upper_case}.
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def nginx_binary() -> str | None:
    """Debian's nginx, or one on the PATH; None when there is none."""
    if os.access(NGINX, os.X_OK):
        return NGINX
    return shutil.which("nginx")


def placeholders(template: str) -> set[str]:
    return set(PLACEHOLDER.findall(template))


def render(template: str, values: dict[str, str]) -> str:
    """The template with each ``${NAME}`` replaced; every one must be given, and nothing else."""
    wanted = placeholders(template)
    if wanted != set(values):
        raise ValueError(f"the template takes {sorted(wanted)}, given {sorted(values)}")
    return PLACEHOLDER.sub(lambda found: values[found.group(1)], template)


def fetch(
    url: str, headers: dict[str, str] | None = None, *, method: str = "GET", body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one request; redirects are not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    request = urllib.request.Request(url, data=body or None, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, _lower(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, _lower(exc.headers.items()), exc.read()


def _lower(items: list[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in items}


class Proxy:
    """nginx on ``port`` in front of ``upstreams`` (two ``host:port``), its files in
    ``folder``: the rendered configuration, the cache, the temporary files, the pid file, the
    error log (``error.log``) and the access log (``access.log``, one JSON object a line)."""

    def __init__(
        self,
        folder: Path,
        upstreams: tuple[str, str],
        port: int,
        *,
        cache: bool = True,
        max_body_bytes: int = 1_000_000,
        max_import_bytes: int = 20_000_000,
    ) -> None:
        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed (Debian: apt-get install nginx-light)")
        self.binary = binary
        self.folder = folder
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.cache_dir = folder / "cache"
        folder.mkdir(parents=True, exist_ok=True)
        values = {
            "LISTEN": f"127.0.0.1:{port}",
            "UPSTREAM_1": upstreams[0],
            "UPSTREAM_2": upstreams[1],
            "CACHE_PATH": str(self.cache_dir),
            "PROXY_CACHE": "calendar" if cache else "off",
            "CALENDAR_MAX_BODY_BYTES": str(max_body_bytes),
            "CALENDAR_MAX_IMPORT_BYTES": str(max_import_bytes),
        }
        (folder / "calendar.conf").write_text(render(TEMPLATE.read_text(), values))
        self.config = folder / "nginx.conf"
        self.config.write_text(self._main())
        self.error_log = folder / "error.log"
        self.access_log = folder / "access.log"
        self.process: subprocess.Popen[bytes] | None = None

    def _main(self) -> str:
        """What nginx's image has around the included file: one worker, and every path in
        ``folder`` (as root, the worker keeps root's rights to it)."""
        f = self.folder
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "".join(
            f"{kind}_temp_path {f / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return (
            f"{user}worker_processes 1;\npid {f / 'nginx.pid'};\n"
            f"error_log {f / 'error.log'} notice;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n{temp}include {f / 'calendar.conf'};\n}}\n"
        )

    def _command(self, *extra: str) -> list[str]:
        paths = ["-p", str(self.folder), "-e", str(self.error_log), "-c", str(self.config)]
        return [self.binary, *paths, *extra]

    def check(self) -> str:
        """``nginx -t`` on the configuration; its output (AssertionError when it fails)."""
        done = subprocess.run(self._command("-t"), capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return done.stderr

    def start(self) -> None:
        """Start in the foreground (a master and its worker, the cache manager and loader),
        and wait until it answers."""
        with self.access_log.open("ab") as out:
            self.process = subprocess.Popen(
                self._command("-g", "daemon off;"),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.error_log.read_text()
            try:
                fetch(f"{self.url}/metrics")
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not answer:\n" + self.error_log.read_text())

    def stop(self) -> None:
        """Quick shutdown (SIGTERM to the master, which stops its workers)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def cache_files(self) -> int:
        """How many answers the cache holds on disk."""
        if not self.cache_dir.exists():
            return 0
        return sum(1 for path in self.cache_dir.rglob("*") if path.is_file())
