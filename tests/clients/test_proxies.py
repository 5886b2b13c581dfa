"""The reverse proxies of docs/deployment.md, run for real with the documented
files (docs/deploy/nginx.conf, docs/deploy/haproxy.cfg) in front of two real
``b24local serve`` processes on one database.

Only ports and certificate paths are changed in the files. Through the proxy:
calls reach both processes; TLS ends at the proxy; the Host header still chooses
the portal; the caller's address (``IP_OPEN``) is the client's, never one it
made up; the token answer gives out the ``--public-url``; and with one process
stopped, calls keep being answered by the other.

Skipped, loudly, where nginx or HAProxy is not installed (Debian: ``apt-get
install nginx-light haproxy``); failed instead with ``B24LOCAL_TEST_PROXIES=1``
(CI installs both).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from b24local import admin
from b24local.store.engine import sqlite_url
from b24local.tls import ensure_server_cert
from workerprocs import Serving, free_port, serve, wait_for

pytestmark = pytest.mark.process

DEPLOY = Path(__file__).parents[2] / "docs" / "deploy"
PROXIES = {
    "nginx": ("/usr/sbin/nginx", "nginx.conf"),
    "haproxy": ("/usr/sbin/haproxy", "haproxy.cfg"),
}


def _binary(name: str) -> str | None:
    """The proxy's program: on the PATH, or where Debian puts it (/usr/sbin, which
    a non-root PATH may lack)."""
    found = shutil.which(name) or PROXIES[name][0]
    return found if Path(found).exists() else None


@pytest.fixture(scope="module", params=list(PROXIES))
def proxy_name(request) -> str:
    if _binary(request.param) is None:
        if os.environ.get("B24LOCAL_TEST_PROXIES") == "1":  # CI: installed, or a failure
            pytest.fail(f"{request.param} is not installed (B24LOCAL_TEST_PROXIES=1)")
        pytest.skip(
            f"{request.param.upper()} IS NOT INSTALLED: the documented {request.param} "
            "configuration is NOT TESTED (apt-get install nginx-light haproxy)"
        )
    return request.param


class Site:
    """Two b24local processes on one SQLite database and a proxy in front."""

    def __init__(self, root: Path, proxy: str) -> None:
        self.root = root
        self.port = free_port()
        self.public_url = f"https://localhost:{self.port}"
        args = ["--trusted-proxy", "127.0.0.1", "--public-url", self.public_url]
        data = root / "data"
        self.backends: list[Serving] = []
        self.process: subprocess.Popen | None = None
        try:
            self._start_all(root, data, args, proxy)
        except BaseException:
            self.stop()
            raise

    def _start_all(self, root: Path, data: Path, args: list[str], proxy: str) -> None:
        self.backends.append(serve(data, root, args=args))
        self.backends.append(serve(data, root, args=args))
        webhook = self.backends[0].webhook
        assert webhook is not None
        self.hook_path = webhook.split(self.public_url, 1)[1]  # printed at the public URL
        tls = ensure_server_cert(root / "tls")
        self.ca = ssl.create_default_context(cafile=str(tls.ca_cert))
        combined = root / "haproxy.pem"
        combined.write_bytes(tls.server_cert.read_bytes() + tls.server_key.read_bytes())
        self.process = self._start(proxy, tls.server_cert, tls.server_key, combined)

    def _start(self, proxy: str, cert: Path, key: Path, combined: Path) -> subprocess.Popen:
        binary, name = _binary(proxy), PROXIES[proxy][1]
        assert binary is not None
        text = (DEPLOY / name).read_text()
        ports = [str(backend.port) for backend in self.backends]
        for documented, ours in {
            "127.0.0.1:8101": f"127.0.0.1:{ports[0]}",
            "127.0.0.1:8102": f"127.0.0.1:{ports[1]}",
            "listen 8443 ssl": f"listen 127.0.0.1:{self.port} ssl",
            "bind 127.0.0.1:8443": f"bind 127.0.0.1:{self.port}",
            "/etc/b24local/tls/server.pem": str(cert),
            "/etc/b24local/tls/server-key.pem": str(key),
            "/etc/b24local/tls/haproxy.pem": str(combined),
        }.items():
            text = text.replace(documented, ours)
        config = self.root / name
        config.write_text(text)
        self.log = self.root / f"{proxy}.log"
        if proxy == "nginx":
            command = [binary, "-p", str(self.root), "-c", str(config), "-g",
                       f"daemon off; pid {self.root}/nginx.pid; error_log {self.log};"]  # fmt: skip
        else:
            command = [binary, "-db", "-f", str(config)]
        with self.log.open("a") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if self.get("/_b24local/health").status_code == 200:
                    return process
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"{proxy} did not answer:\n{self.log.read_text()}")
            time.sleep(0.1)

    def client(self, **transport) -> httpx.Client:
        """A new connection per request, through the proxy's TLS."""
        return httpx.Client(
            base_url=self.public_url,
            transport=httpx.HTTPTransport(verify=self.ca, **transport),
            limits=httpx.Limits(max_keepalive_connections=0),
            timeout=30,
            trust_env=False,
        )

    def get(self, path: str) -> httpx.Response:
        with self.client() as http:
            return http.get(path)

    def call(self, method: str, form=None, *, hook: str | None = None, **request) -> dict:
        with self.client(**request.pop("transport", {})) as http:
            answer = http.post(f"{hook or self.hook_path}{method}", data=form or {}, **request)
        assert answer.status_code == 200, answer.text
        return answer.json()["result"]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for backend in self.backends:
            backend.stop()  # kills it if it does not stop


@pytest.fixture(scope="module")
def site(proxy_name: str, tmp_path_factory) -> Iterator[Site]:
    """One site per proxy for the module (a start costs seconds on a busy machine);
    the test that stops a process comes last."""
    running = Site(tmp_path_factory.mktemp(proxy_name), proxy_name)
    try:
        yield running
    finally:
        running.stop()
    for backend in running.backends:
        assert "Traceback" not in backend.stderr(), backend.stderr()


def _served_calls(backend: Serving) -> int:
    return sum('"POST /rest/' in line for line in list(backend.stdout))


def test_calls_through_the_proxy_reach_both_processes(site: Site) -> None:
    for status in ("dnd", "away", "online", "break") * 2:
        assert site.call("im.user.status.set", {"STATUS": status}) is True
        assert site.call("im.user.status.get") == status
    assert all(_served_calls(backend) > 0 for backend in site.backends), [
        _served_calls(backend) for backend in site.backends
    ]


def test_the_callers_address_is_the_clients_own(site: Site) -> None:
    # From another loopback address than the proxy's, with a made-up forwarded one.
    elsewhere = {"transport": {"local_address": "127.0.0.2"}}
    spoofed = {"X-Forwarded-For": "198.51.100.9"}
    opened = site.call("timeman.open", headers=spoofed, **elsewhere)
    assert opened["STATUS"] == "OPENED"
    assert site.call("timeman.status")["IP_OPEN"] == "127.0.0.2"
    site.call("timeman.close")


def test_the_host_header_still_chooses_the_portal(site: Site) -> None:
    hook = asyncio.run(_other_portal(site.backends[0]))
    own_host = {"Host": f"acme.localhost:{site.port}"}
    assert site.call("profile", hook=hook, headers=own_host)["ADMIN"] is True
    with site.client() as http:
        elsewhere = http.post(f"{hook}profile")  # the default portal knows no such webhook
    assert elsewhere.status_code == 401, elsewhere.text


def test_tokens_give_out_the_public_url(site: Site) -> None:
    client_id, secret, refresh = asyncio.run(_token_pair(site.backends[0]))
    with site.client() as http:
        answer = http.post(
            "/oauth/token/",
            data={"grant_type": "refresh_token", "client_id": client_id,
                  "client_secret": secret, "refresh_token": refresh},
        )  # fmt: skip
    assert answer.status_code == 200, answer.text
    pair = answer.json()
    assert pair["client_endpoint"] == f"{site.public_url}/rest/"
    assert pair["server_endpoint"].startswith(f"{site.public_url}/")
    assert site.call("profile", {"auth": pair["access_token"]}, hook="/rest/")["ID"] == "1"


def test_with_one_process_down_the_other_answers(site: Site) -> None:
    stopped, running = site.backends
    assert stopped.stop() == 0
    before = _served_calls(running)
    for _ in range(10):
        assert site.call("im.user.status.get")
    wait_for(lambda: _served_calls(running) >= before + 10, "every call served by the other")
    wait_for(lambda: site.get("/_b24local/health").status_code == 200, "health via the proxy")


# --- the database, set up as an administrator would ------------------------------------


def _url(backend: Serving) -> str:
    return sqlite_url(backend.data_dir)


async def _other_portal(backend: Serving) -> str:
    """A second portal with a webhook of its own; the webhook's path."""
    now = datetime.now(UTC)
    store = await admin.open_store(_url(backend))
    try:
        boot = await admin.add_portal(store, now, domain="acme.localhost")
        hook, code = await admin.add_webhook(
            store, now, user_id=boot.admin.id, scopes=["user"], domain="acme.localhost"
        )
        return f"/rest/{hook.user_id}/{code}/"
    finally:
        await store.close()


async def _token_pair(backend: Serving) -> tuple[str, str, str]:
    now = datetime.now(UTC)
    store = await admin.open_store(_url(backend))
    try:
        app, secret = await admin.add_app(
            store, now, name="Behind a proxy", scopes=["user"],
            redirect_uri="https://app.example/callback",
        )  # fmt: skip
        pair, _portal = await admin.issue_app_token(store, now, client_id=app.client_id, user_id=1)
        return app.client_id, secret, pair.refresh_token
    finally:
        await store.close()
