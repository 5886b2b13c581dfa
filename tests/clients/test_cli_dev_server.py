"""``b24local app token --server URL --dev-token T`` against a real ``serve --tls
--dev`` whose clock was moved: the pair is issued on the server's clock, not on
the real time the CLI itself knows."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import UTC, datetime

import httpx
import pytest

pytestmark = pytest.mark.process

MOVED = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def client_id(live_server) -> str:
    printed = live_server.cli("app", "add", "--name", "Dev CLI", "--scope", "im")
    return printed.split()[0]


@pytest.fixture(autouse=True)
def moved_clock(live_server) -> None:
    live_server.dev("POST", "/_b24local/clock", {"now": MOVED.isoformat(), "freeze": True})


def token_cli(
    live_server, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return live_server.run_cli("app", "token", *args, env=env)


def status_with(live_server, access_token: str) -> httpx.Response:
    with httpx.Client(verify=live_server.ssl_context(), trust_env=False) as http:
        return http.post(
            f"{live_server.base_url}/rest/im.user.status.get", json={"auth": access_token}
        )


def test_the_pair_is_issued_on_the_servers_clock(live_server, client_id) -> None:
    done = token_cli(
        live_server, "--client-id", client_id, "--user", "1", "--json",
        "--server", live_server.base_url, "--dev-token", live_server.dev_token,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    pair = json.loads(done.stdout)
    assert pair["expires"] == int(MOVED.timestamp()) + 3600
    assert pair["expires_in"] == 3600
    assert (pair["user_id"], pair["scope"], pair["status"]) == (1, "im", "L")
    assert status_with(live_server, pair["access_token"]).json()["result"] == "online"

    live_server.dev("POST", "/_b24local/clock/advance", {"seconds": 3599})
    assert status_with(live_server, pair["access_token"]).status_code == 200
    live_server.dev("POST", "/_b24local/clock/advance", {"seconds": 1})
    assert status_with(live_server, pair["access_token"]).json()["error"] == "expired_token"


def test_server_and_token_from_the_environment(live_server, client_id) -> None:
    env = {"B24LOCAL_SERVER": live_server.base_url, "B24LOCAL_DEV_TOKEN": live_server.dev_token}
    done = token_cli(live_server, "--client-id", client_id, "--user", "1", env=env)
    assert done.returncode == 0, done.stderr
    access, _refresh = done.stdout.split()
    assert status_with(live_server, access).json()["result"] == "online"


def test_without_the_server_the_pair_counts_from_the_real_time(live_server, client_id) -> None:
    """The CLI alone cannot know the server's clock: four years on, its pair is old."""
    done = token_cli(live_server, "--client-id", client_id, "--user", "1", "--json")
    assert done.returncode == 0, done.stderr
    pair = json.loads(done.stdout)
    assert pair["expires"] < int(MOVED.timestamp())
    assert status_with(live_server, pair["access_token"]).json()["error"] == "expired_token"


def test_refusals(live_server, client_id) -> None:
    server = ["--server", live_server.base_url]
    wrong = token_cli(
        live_server, "--client-id", client_id, "--user", "1", *server, "--dev-token", "nope"
    )
    assert (wrong.returncode, wrong.stdout) == (1, "")
    assert wrong.stderr == "error: Wrong or missing dev token\n"

    unknown = token_cli(
        live_server, "--client-id", "local.nope.1", "--user", "1", *server,
        "--dev-token", live_server.dev_token,
    )  # fmt: skip
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr == "error: no application local.nope.1\n"

    tokenless = token_cli(live_server, "--client-id", client_id, "--user", "1", *server)
    assert (tokenless.returncode, tokenless.stdout) == (2, "")
    assert "--dev-token" in tokenless.stderr

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound but never listening: connections are refused
        nobody = f"https://127.0.0.1:{closed.getsockname()[1]}"
        unreachable = token_cli(
            live_server, "--client-id", client_id, "--user", "1",
            "--server", nobody, "--dev-token", live_server.dev_token,
        )  # fmt: skip
    assert (unreachable.returncode, unreachable.stdout) == (1, "")
    assert unreachable.stderr.startswith(f"error: cannot reach the dev server at {nobody}")
