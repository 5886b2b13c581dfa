"""``python -m bench.slowclients``: an honest client's latency while slow and idle
clients crowd the server (``b24local serve`` with its default limits).

The crowd: dribblers that send one header byte a second, and idlers that connect
and send nothing; each reconnects as soon as the server lets go of it, so the
pressure lasts (as fast as one Python process manages). Beside them, one client
in a process of its own makes a call on a fresh connection every 50 ms. Its
latency is measured alone first, then in the crowd; the server's open file
descriptors are sampled throughout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import multiprocessing
import os
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .server import HOST, LOG_LEVEL, Server, _start, b24local_command, free_port

_WEBHOOK = re.compile(rb"Incoming webhook: http://[^/]+(/rest/\d+/[^/\s]+/)")


@dataclass
class Crowd:
    """What happened to the crowd's connections."""

    ends: Counter[str] = field(default_factory=Counter)
    held: list[float] = field(default_factory=list)


async def open_or_count(
    port: int, crowd: Crowd, who: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    """A connection to the server; None (counted, after a second's pause) if refused."""
    try:
        return await asyncio.open_connection(HOST, port)
    except OSError:
        crowd.ends[f"{who}: connect failed"] += 1
        await asyncio.sleep(1)
        return None


async def dribbler(port: int, crowd: Crowd, stop: asyncio.Event) -> None:
    request = b"GET /rest/server.time HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100_000
    while not stop.is_set():
        began = time.monotonic()
        if (opened := await open_or_count(port, crowd, "dribbler")) is None:
            continue
        reader, writer = opened
        end = "dribbler: still sending at the end"
        try:
            for byte in request:
                writer.write(bytes([byte]))
                try:
                    data = await asyncio.wait_for(reader.read(65536), 1.0)
                except TimeoutError:
                    if stop.is_set():
                        break
                    continue
                status = data[:12].decode(errors="replace").strip()
                end = f"dribbler: {status or 'closed unanswered'}"
                break
        except ConnectionError:
            end = "dribbler: reset"
        crowd.ends[end] += 1
        crowd.held.append(time.monotonic() - began)
        writer.close()


async def idler(port: int, crowd: Crowd, stop: asyncio.Event) -> None:
    while not stop.is_set():
        began = time.monotonic()
        if (opened := await open_or_count(port, crowd, "idler")) is None:
            continue
        reader, writer = opened
        closed = asyncio.ensure_future(reader.read(1))
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({closed, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if closed.done():
            crowd.ends["idler: closed by the server"] += 1
            crowd.held.append(time.monotonic() - began)
        else:
            closed.cancel()
        writer.close()


def honest(port: int, path: str, seconds: float) -> tuple[list[float], Counter[str]]:
    """Calls on fresh connections for ``seconds``: latencies (ms) and failures."""
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        began = time.perf_counter()
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        try:
            connection.request("GET", path + "server.time")
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                latencies.append((time.perf_counter() - began) * 1000)
            else:
                failures[f"HTTP {response.status}"] += 1
        except OSError as error:
            failures[type(error).__name__] += 1
        finally:
            connection.close()
        time.sleep(0.05)
    return latencies, failures


def cpu_seconds(server: Server) -> float:
    """User plus system CPU time the server has used so far."""
    fields = Path(f"/proc/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(server: Server) -> int:
    return len(list(Path(f"/proc/{server.pid}/fd").iterdir()))


def summary(name: str, latencies: list[float], failures: Counter[str]) -> str:
    if not latencies:
        return f"{name}: no answers; failures {dict(failures)}"
    q = statistics.quantiles(latencies, n=100)
    return (
        f"{name}: {len(latencies)} calls, p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, "
        f"p99 {q[98]:.1f} ms, max {max(latencies):.1f} ms; failures {dict(failures) or 0}"
    )


async def crowd_around(
    server: Server, path: str, dribblers: int, idlers: int, seconds: float
) -> None:
    crowd = Crowd()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(dribbler(server.port, crowd, stop)) for _ in range(dribblers)]
    for start in range(0, idlers, 200):  # a few hundred at a time: no SYN flood
        count = min(200, idlers - start)
        tasks += [asyncio.create_task(idler(server.port, crowd, stop)) for _ in range(count)]
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)

    fds: list[int] = []
    sampling = True

    def sample() -> None:
        while sampling:
            fds.append(open_fds(server))
            time.sleep(1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    cpu, began = cpu_seconds(server), time.monotonic()
    # In a process of its own: this one is busy with the crowd.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        measured = asyncio.get_running_loop().run_in_executor(
            pool, honest, server.port, path, seconds
        )
        latencies, failures = await measured
    cpu = (cpu_seconds(server) - cpu) / (time.monotonic() - began)
    sampling = False
    sampler.join()
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)

    print(summary(f"with {dribblers} dribblers and {idlers} idlers", latencies, failures))
    print(f"server's open fds: min {min(fds)}, max {max(fds)}; its CPU: {cpu:.0%} of a core")
    for end, count in sorted(crowd.ends.items()):
        print(f"  {end}: {count}")
    if crowd.held:
        q = statistics.quantiles(crowd.held, n=100) if len(crowd.held) > 1 else crowd.held * 99
        print(f"  a crowd connection lasted: p50 {q[49]:.1f} s, max {max(crowd.held):.1f} s")


def start(data_dir: Path, log: Path, extra: list[str]) -> Server:
    """``b24local serve`` with its default connection limits (unless ``extra`` sets them)."""
    port = free_port()
    command = [*b24local_command(), "serve", "--data-dir", str(data_dir), "--host", HOST,
               "--port", str(port), "--limits", "off", "--log-level", LOG_LEVEL]  # fmt: skip
    command += extra
    return _start(command, port, log)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.slowclients", description=__doc__)
    parser.add_argument("--dribblers", type=int, default=200)
    parser.add_argument("--idlers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("serve_args", nargs="*", help="more `b24local serve` options (after --)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="b24local-slowclients-") as tmp:
        log = Path(tmp) / "serve.log"
        server = start(Path(tmp) / "data", log, args.serve_args)
        try:
            match = None
            for _ in range(100):
                match = _WEBHOOK.search(log.read_bytes())
                if match:
                    break
                time.sleep(0.1)
            if match is None:
                raise SystemExit(f"no webhook in the server's output:\n{log.read_text()}")
            path = match.group(1).decode()
            print(f"server's open fds at rest: {open_fds(server)}")
            print(summary("alone", *honest(server.port, path, min(args.seconds, 10))))
            asyncio.run(crowd_around(server, path, args.dribblers, args.idlers, args.seconds))
        finally:
            server.stop()
            with contextlib.suppress(OSError):
                warnings = [line for line in log.read_text().splitlines() if "WARNING" in line]
                print("server warnings:", *warnings[:5], sep="\n  ")


if __name__ == "__main__":
    main()
