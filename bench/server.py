"""Starting and stopping the server under test, and reading its peak memory."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
#: The server logs at this level; ``info`` would log every request.
LOG_LEVEL = "warning"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def b24local_command() -> list[str]:
    """The console script next to this interpreter (the project's venv)."""
    script = Path(sys.executable).parent / "b24local"
    if script.exists():
        return [str(script)]
    found = shutil.which("b24local")
    if found is None:
        sys.exit("b24local is not installed: run `pip install -e .` in the project's venv")
    return [found]


@dataclass
class Server:
    """A running server process; ``pid`` is the Python process itself, since the
    console script's shebang execs the interpreter and the ceiling is started
    with ``sys.executable`` directly."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def pids(self) -> list[int]:
        """The process and its children (the workers of ``--workers N``)."""
        found = [self.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.pid:
                    found.append(int(entry.name))
        return found

    def peak_rss_mb(self) -> float:
        """VmHWM: the most resident memory the process has had since it started
        (summed over its workers, if it has any)."""
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                status = Path(f"/proc/{pid}/status").read_text()
                total += next(
                    int(line.split()[1]) / 1024
                    for line in status.splitlines()
                    if line.startswith("VmHWM:")
                )
        return total

    def cpu_seconds(self) -> float:
        """User and system CPU time the process (and its workers) used so far."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                # utime and stime: the 14th and 15th fields, the 12th and 13th after ")".
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start(command: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> Server:
    with log.open("ab") as out:  # every start of this server in one log
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = Server(process, port, log)
    _wait_listening(server)
    return server


def _wait_listening(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            sys.exit(f"the server exited early; its output:\n{server.log.read_text()}")
        try:
            with socket.create_connection((HOST, server.port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    server.stop()
    sys.exit(f"the server did not listen within {timeout:.0f} s; see {server.log}")


def start_b24local(
    data_dir: Path,
    db_url: str | None,
    log: Path,
    loop: str = "",
    *,
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Server:
    """``b24local serve``; on ``loop`` (uvicorn's name for it) instead of the one
    uvicorn picks, if given (see bench/launch.py); ``args``: more ``serve``
    options, ``env``: more environment."""
    port = free_port()
    launcher = [sys.executable, "-m", "bench.launch", loop] if loop else b24local_command()
    command = [
        *launcher,
        "serve",
        "--data-dir",
        str(data_dir),
        "--host",
        HOST,
        "--port",
        str(port),
        "--limits",
        "off",
        "--log-level",
        LOG_LEVEL,
    ]
    if db_url:
        command += ["--db", db_url]
    command += args
    environment = _with_bench() if loop else None
    if env:
        environment = {**(environment or os.environ), **env}
    return _start(command, port, log, env=environment)


def _with_bench() -> dict[str, str]:
    """The environment, with this checkout on the path: bench is not installed."""
    root = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def start_ceiling(body: Path, log: Path, workers: int = 1) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "bench.ceiling", "--port", str(port), "--body", str(body)]
    command += ["--log-level", LOG_LEVEL, "--workers", str(workers)]
    return _start(command, port, log, env=_with_bench())
