"""Redis for the tests: the shared one named by ``B24LOCAL_TEST_REDIS_URL`` (each
test under a prefix of its own), and private ``redis-server`` processes that a
test may kill, pause and restart.

Without ``B24LOCAL_TEST_REDIS_URL`` the tests that need Redis are skipped, and the
summary says so in capitals (see the conftest).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

REDIS_URL = os.environ.get("B24LOCAL_TEST_REDIS_URL")


def need_redis() -> str:
    if not REDIS_URL:
        pytest.skip("B24LOCAL_TEST_REDIS_URL not set: Redis run SKIPPED")
    return REDIS_URL


def keys_under(url: str, prefix: str) -> list[bytes]:
    with redis.Redis.from_url(url) as client:
        return sorted(client.scan_iter(match=prefix + "*", count=500))


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A prefix no other test uses in the shared Redis; its keys are deleted after."""
    url = need_redis()
    prefix = f"b24test:{secrets.token_hex(6)}:"
    try:
        yield prefix
    finally:
        found = keys_under(url, prefix)
        if found:
            with redis.Redis.from_url(url) as client:
                client.delete(*found)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A ``redis-server`` of the test's own (never the shared service): nothing is
    saved to disk, so a restart comes back empty, as after a crash."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed: private Redis run SKIPPED")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis(port=self.port, socket_timeout=1) as client:
                    client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the private redis-server did not start") from None
                time.sleep(0.02)

    def kill(self) -> None:
        """Gone at once, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def pause(self) -> None:
        """Hung: connections open, nothing answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def keys(self) -> list[bytes]:
        with redis.Redis(port=self.port) as client:
            return sorted(client.scan_iter(count=500))


@contextmanager
def private_redis(workdir: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(workdir)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            server.resume()
        server.kill()
