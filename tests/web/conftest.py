"""Browser tests: Playwright driving Debian's Chromium against a real
``b24local serve --dev --tls`` process.

Chromium is the system's (``/usr/bin/chromium``, or ``B24LOCAL_CHROMIUM``): no
browser is downloaded. Without it the browser tests are skipped, unless
``B24LOCAL_TEST_BROWSER=1`` (set by ``.ci/run``) says CI installed it: then they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from b24local.pytest_plugin.servers import RunningServer, ServerOptions, start


def chromium_path() -> str | None:
    wanted = os.environ.get("B24LOCAL_CHROMIUM")
    if wanted:
        return wanted if Path(wanted).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class WebServer:
    """A started server, its dev API and its CLI."""

    running: RunningServer

    @property
    def url(self) -> str:
        return self.running.url

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "b24local", *args, "--data-dir", str(self.running.data_dir)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def _open(self, request: urllib.request.Request) -> Any:
        context = ssl.create_default_context(cafile=str(self.running.ca_path))
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
        with opener.open(request, timeout=10) as answer:
            return json.loads(answer.read())

    def _post(self, url: str, body: dict[str, Any], **headers: str) -> Any:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
        return self._open(urllib.request.Request(url, data=data, method="POST", headers=headers))

    def dev(self, path: str, body: dict[str, Any]) -> Any:
        """The ``--dev`` control surface (the clock)."""
        token = f"Bearer {self.running.dev_token}"
        return self._post(self.url + path, body, Authorization=token)

    def rest(self, method: str, **params: Any) -> Any:
        """A REST call with the administrator's webhook."""
        return self._post(self.running.webhook_url + method, params)["result"]


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    root = tmp_path_factory.mktemp("b24local-web")
    running = start(ServerOptions(mode="process", tls=True, limits=False), root / "data")
    try:
        yield WebServer(running)
    finally:
        running.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        why = "no Chromium (apt-get install chromium, or set B24LOCAL_CHROMIUM)"
        if os.environ.get("B24LOCAL_TEST_BROWSER") == "1":
            pytest.fail(f"B24LOCAL_TEST_BROWSER=1 but {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, args=["--no-proxy-server", "--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()
