"""Cold start: from spawning ``b24local serve`` to its first answered call.

What a CI job waits for before its first test. Each spawn is timed from
``Popen`` to the first ``server.time`` answered through a webhook (so the store,
the auth stage and the method all took part), on embedded SQLite: a fresh data
directory each time (the first start: schema, portal, webhook), and one existing
data directory started again and again (the usual start). One unmeasured spawn
first leaves Python's bytecode cached, as it is after ``pip install``.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .server import HOST, LOG_LEVEL, b24local_command, free_port

#: The first-start banner's webhook: ``.../rest/USER/CODE/``.
_WEBHOOK = re.compile(r"Incoming webhook: \S*?/rest/(\d+/\w+)/")
#: Seconds one spawn may take before the run is called failed.
TIMEOUT = 60.0


@dataclass(frozen=True)
class ColdStart:
    #: Milliseconds per spawn, in the order run.
    fresh_ms: tuple[float, ...]
    existing_ms: tuple[float, ...]

    @property
    def fresh(self) -> float:
        return statistics.median(self.fresh_ms)

    @property
    def existing(self) -> float:
        return statistics.median(self.existing_ms)


def _environment() -> dict[str, str]:
    # A user's install keeps bytecode; a developer's shell may have turned it off.
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _answered(port: int, webhook: str) -> bool:
    url = f"http://{HOST}:{port}/rest/{webhook}/server.time"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            answer = json.loads(response.read())
    except (urllib.error.URLError, ConnectionError):
        return False  # not listening yet
    if "result" not in answer:
        raise SystemExit(f"server.time failed during the cold start: {answer}")
    return True


def spawn(data_dir: Path, webhook: str | None = None) -> tuple[float, str]:
    """One start, timed to the first answer; the webhook it used (read from the
    banner when none is given, which only a first start prints)."""
    port = free_port()
    command = [*b24local_command(), "serve", "--data-dir", str(data_dir), "--host", HOST]
    command += ["--port", str(port), "--log-level", LOG_LEVEL]
    began = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_environment()
    )
    try:
        assert process.stdout is not None
        if webhook is None:
            printed = []
            for line in process.stdout:
                printed.append(line)
                if found := _WEBHOOK.search(line):
                    webhook = found.group(1)
                    break
            else:
                raise SystemExit(f"no webhook in the first start's output:\n{''.join(printed)}")
        while not _answered(port, webhook):
            if process.poll() is not None:
                raise SystemExit(f"b24local serve exited early ({process.returncode})")
            if time.perf_counter() - began > TIMEOUT:
                raise SystemExit(f"no answer within {TIMEOUT:.0f} s of spawning")
            time.sleep(0.005)
        return (time.perf_counter() - began) * 1000, webhook
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(workdir: Path, spawns: int) -> ColdStart:
    root = workdir / "coldstart"
    root.mkdir(parents=True, exist_ok=True)
    spawn(root / "warmup")
    fresh = [spawn(root / f"fresh-{i}")[0] for i in range(spawns)]
    _, webhook = spawn(root / "existing")
    existing = [spawn(root / "existing", webhook)[0] for _ in range(spawns)]
    return ColdStart(tuple(fresh), tuple(existing))


def table(found: ColdStart) -> str:
    lines = [
        "| data directory | spawns | median ms | min ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, runs in (("fresh", found.fresh_ms), ("existing", found.existing_ms)):
        lines.append(
            f"| {name} | {len(runs)} | {statistics.median(runs):.0f} | {min(runs):.0f} | "
            f"{max(runs):.0f} |"
        )
    return "\n".join(lines)
