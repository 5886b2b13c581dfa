"""Plain ``b24local serve`` processes (no ``--dev``, no TLS) for the multi-process
tests: started on a free port, ready once the banner is out and the health check
answers, and their worker processes found through ``/proc``."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

#: How long a server may take to start, and to stop after a signal.
START_DEADLINE = 30.0
STOP_DEADLINE = 15.0


def console_script() -> Path:
    return Path(sys.executable).parent / "b24local"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("B24LOCAL_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Serving:
    process: subprocess.Popen[str]
    port: int
    data_dir: Path
    stderr_path: Path
    banner: list[str] = field(default_factory=list)
    #: Every line printed on stdout so far (uvicorn's access log goes there).
    stdout: list[str] = field(default_factory=list)
    db: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def webhook(self) -> str | None:
        """The first-start webhook's URL, if this start printed one."""
        for line in self.banner:
            if line.startswith("Incoming webhook: http"):
                return line.split(": ", 1)[1].strip()
        return None

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def workers(self) -> list[int]:
        """The PIDs of this server's worker processes (its children)."""
        return children_of(self.process.pid)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
                pytest.fail(f"the server did not stop on {sig}\nstderr:\n{self.stderr()}")
        return self.process.returncode


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # The fields after the command's closing parenthesis: state, ppid, ...
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return sorted(found)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def serve(
    data_dir: Path, log_dir: Path, *, db: str | None = None, args: Sequence[str] = ()
) -> Serving:
    """``b24local serve --port FREE [--db URL] ARGS``, ready to answer."""
    port = free_port()
    stderr_path = log_dir / f"serve-{port}.stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [str(console_script()), "serve", "--data-dir", str(data_dir), "--port", str(port),
             *(["--db", db] if db else []), *args],
            stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
            env=server_env(), text=True,
        )  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()
    server = Serving(process, port, data_dir, stderr_path, db=db)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
            server.stdout.append(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    last = "Workers:" if "--workers" in args else "Web pages:"
    deadline = time.monotonic() + START_DEADLINE

    def fail(why: str) -> None:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)
        pytest.fail(f"b24local serve: {why}\nstdout:\n{server.banner}\nstderr:\n{server.stderr()}")

    while not server.banner or not server.banner[-1].startswith(last):
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            fail("no banner in time")
        if line is None:
            fail("it ended before its banner")
            raise AssertionError  # unreachable
        server.banner.append(line.rstrip("\n"))
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.base_url}/_b24local/health", timeout=2).status_code == 200:
                return server
        if time.monotonic() > deadline:
            fail("the health check did not answer 200 in time")
        time.sleep(0.05)


def wait_for(predicate, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.05)


def kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
