"""``b24local serve --seed FILE --dev-token T`` and ``b24local state export/import`` as
real processes: the banner, health, the seeded webhook, a reset, a restart that
keeps the data, and a bad seed that stops the server from starting."""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.process

DOC = Path(__file__).parents[2] / "docs" / "state.md"
TOKEN = "ci-dev-token-1"
SCRIPT = Path(sys.executable).parent / "b24local"


def example_yaml() -> str:
    text = DOC.read_text(encoding="utf-8").split("## The format", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    return block.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env() -> dict[str, str]:
    import os

    found = {k: v for k, v in os.environ.items() if not k.startswith("B24LOCAL_")}
    found["NO_PROXY"] = found["no_proxy"] = "127.0.0.1,localhost"
    found["PYTHONUNBUFFERED"] = "1"
    return found


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env(), timeout=60, check=False
    )


@contextmanager
def serving(data_dir: Path, seed: Path, port: int) -> Iterator[list[str]]:
    """The server started with the seed; yields its banner, until ``Dev token``."""
    process = subprocess.Popen(
        [str(SCRIPT), "serve", "--port", str(port), "--data-dir", str(data_dir), "--dev",
         "--seed", str(seed), "--dev-token", TOKEN, "--limits", "off"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env(),
    )  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    banner: list[str] = []
    deadline = time.monotonic() + 30
    try:
        while not any(line.startswith("Dev token:") for line in banner):
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            assert line is not None, f"the server ended: {banner}"
            banner.append(line)
        yield banner
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_serve_with_a_seed_then_export_and_import(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(example_yaml(), encoding="utf-8")
    data = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bearer = {"Authorization": f"Bearer {TOKEN}"}

    with serving(data, seed, port) as banner, httpx.Client(base_url=base) as http:
        assert "Seeded from" in banner[1] and "3 user(s)" in banner[1]
        assert f"Incoming webhook: {base}/rest/1/ci-webhook-code-0001/" in banner
        assert f"Dev token: {TOKEN}" in banner
        health = http.get("/_b24local/health")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        me = http.post("/rest/1/ci-webhook-code-0001/user.current").json()["result"]
        assert me["NAME"] == "Anna"
        http.post("/rest/1/ci-webhook-code-0001/im.user.status.set", json={"STATUS": "away"})
        assert http.post("/_b24local/reset", headers=bearer).json()["reset"] is True
        status = http.post("/rest/1/ci-webhook-code-0001/im.user.status.get").json()
        assert status["result"] == "online"
        http.post("/rest/1/ci-webhook-code-0001/im.user.status.set", json={"STATUS": "dnd"})

    # A restart keeps what the store holds: the seed is not applied again.
    with serving(data, seed, port) as banner, httpx.Client(base_url=base) as http:
        assert banner[1] == f"Seed {seed} not applied: the store holds data already"
        status = http.post("/rest/1/ci-webhook-code-0001/im.user.status.get").json()
        assert status["result"] == "dnd"

    exported = tmp_path / "state.json"
    done = cli("state", "export", "--out", str(exported), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "copy"
    done = cli("state", "import", str(exported), "--data-dir", str(copy))
    assert done.returncode == 0, done.stderr
    again = cli("state", "export", "--format", "json", "--data-dir", str(copy))
    assert again.stdout == exported.read_text(encoding="utf-8")
    refused = cli("state", "import", str(exported), "--data-dir", str(copy))
    assert refused.returncode == 1
    assert "holds data already" in refused.stderr


def test_a_bad_seed_stops_the_server(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(example_yaml().replace("email: bob@example.com", "email: bob@"), "utf-8")
    done = cli("serve", "--data-dir", str(tmp_path / "data"), "--port", str(free_port()),
               "--seed", str(seed))  # fmt: skip
    assert done.returncode == 1
    assert "portals[0].users[1].email: 'bob@' is not an e-mail address" in done.stderr
    assert "listening" not in done.stdout
    # Nothing was written: the next start with a good seed loads it.
    empty = cli("state", "export", "--data-dir", str(tmp_path / "data"))
    assert empty.stdout == "version: 1\nportals: []\n"
