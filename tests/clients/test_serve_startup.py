"""``b24local serve`` starting up: the user's own certificate, and the start-up
failures that must be a one-line error on stderr rather than a traceback after a
"listening" banner."""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from b24local.scopes import build_registry
from b24local.tls import ensure_server_cert

pytestmark = pytest.mark.process


def test_own_certificate_and_key_are_served(launch_server, tmp_path: Path) -> None:
    own = ensure_server_cert(tmp_path / "own")
    server = launch_server(
        args=["--tls-cert", str(own.server_cert), "--tls-key", str(own.server_key)],
        ca=own.ca_cert,
    )
    # No local CA is made or announced: the certificate is the user's.
    assert not any(line.startswith("CA certificate:") for line in server.stdout_lines)
    assert not (server.data_dir / "tls").exists()
    # A client trusting only the user's CA talks to it.
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPSHandler(context=server.ssl_context()),
    )
    with opener.open(f"{server.webhook_url}server.time", timeout=10) as response:
        assert json.loads(response.read())["result"].startswith("20")
    assert server.stop() == 0


def _refused(done, message: str) -> None:
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip() == f"error: {message}"


@pytest.mark.parametrize("problem", ["missing", "mismatched"])
def test_a_certificate_that_cannot_be_served_is_refused(
    b24local_cli, tmp_path: Path, problem: str
) -> None:
    own = ensure_server_cert(tmp_path / "own")
    if problem == "missing":
        cert, key = tmp_path / "missing.pem", own.server_key
        message = f"cannot read the certificate {cert}: No such file or directory"
    else:
        cert, key = own.server_cert, ensure_server_cert(tmp_path / "other").server_key
        message = f"cannot serve the certificate {cert} with the key {key}: KEY_VALUES_MISMATCH"
    data = str(tmp_path / "data")
    done = b24local_cli("serve", "--data-dir", data, "--tls-cert", str(cert), "--tls-key", str(key))
    _refused(done, message)


def test_a_port_in_use_is_refused(b24local_cli, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = b24local_cli("serve", "--data-dir", data, "--port", str(port))
    _refused(done, f"cannot listen on 127.0.0.1:{port}: Address already in use")
    # Refused before the first-start webhook was issued: the next start still shows it.
    listed = b24local_cli("webhook", "list", "--json", "--data-dir", data)
    assert json.loads(listed.stdout) == []


def test_a_restart_suggests_a_webhook_with_every_implemented_scope(
    launch_server, banner_of
) -> None:
    server = launch_server()
    assert server.stop() == 0
    first = json.loads(server.cli("webhook", "list", "--json"))
    banner = banner_of(server.data_dir)
    # --port 0: the banner names the port the system chose.
    assert re.fullmatch(r"b24local \S+ listening on http://127\.0\.0\.1:[1-9]\d*", banner[0])
    (hint,) = [line for line in banner if line.startswith("Incoming")]
    suggested = re.fullmatch(r"Incoming webhook: shown on first start only; make another "
                             r"with `b24local (webhook add [^`]+)`", hint)  # fmt: skip
    assert suggested is not None, hint
    command = suggested.group(1).split()
    scopes = build_registry().scopes()
    assert command == ["webhook", "add", "--user", "1",
                       *(word for scope in scopes for word in ("--scope", scope))]  # fmt: skip
    # Running it gives a webhook like the first start's.
    server.cli(*command)
    second = json.loads(server.cli("webhook", "list", "--json"))[-1]
    assert second["scopes"] == first[0]["scopes"] == sorted(scopes)


def test_the_access_log_shows_no_webhook_code_or_token(launch_server) -> None:
    server = launch_server()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPSHandler(context=server.ssl_context()),
    )
    with opener.open(f"{server.webhook_url}server.time", timeout=10) as response:
        assert response.status == 200
    token_call = f"{server.base_url}/rest/user.current?AUTH=leaked-token-123&x=1"
    with pytest.raises(urllib.error.HTTPError):
        opener.open(token_call, timeout=10)
    assert server.stop() == 0
    log = server.output_to_end() + server.stderr()
    assert f"/rest/{server.user_id}/***/server.time" in log
    assert "/rest/user.current?AUTH=***&x=1" in log
    assert server.code not in log and "leaked-token-123" not in log
