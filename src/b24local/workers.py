"""``serve --workers N``: several serving processes on one port, and the parent
that keeps them running.

The parent does everything that must happen once (migrations, ``--seed``, the
first-start webhook, the banner) and then forks the workers, each of which serves
the port as ``serve`` alone would: its own event loop, connection guard, TLS,
database pool and event sender. Forking (not spawning) hands each worker the app
already built, so a worker starts in milliseconds and the modules' memory is
shared until written.

Each worker listens on a socket of its own bound with ``SO_REUSEPORT``: the
kernel spreads new connections evenly over them. A single shared socket would let
one worker take a whole burst of keep-alive connections in one accept batch (see
:mod:`b24local.accepting`) and leave the others idle. The parent holds the port
bound (not listening), so no other program takes it while a worker restarts.

The parent waits on signals only: SIGTERM or SIGINT stops every worker with
SIGTERM (a graceful shutdown each) and exits 0; a worker that dies is started
again, after a pause if it died at once, so a worker crashing on start does not
spin. A worker whose parent is killed (``kill -9``) is sent SIGTERM by the kernel.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

#: Seconds a worker has to stop after SIGTERM before it is killed (uvicorn's
#: graceful shutdown gives connections 5 s).
STOP_DEADLINE = 10.0
#: A worker that dies sooner than this after its start is restarted only after
#: :data:`RESTART_PAUSE`.
EARLY_DEATH = 1.0
RESTART_PAUSE = 1.0

_STOPS = {signal.SIGTERM, signal.SIGINT}
_WATCHED = _STOPS | {signal.SIGCHLD}
#: prctl(2): PR_SET_PDEATHSIG.
_PR_SET_PDEATHSIG = 1

#: What a worker runs: given a callable to report that it is serving, it serves
#: until told to stop and returns its exit status.
Work = Callable[[Callable[[], None]], int]


class StartFailed(Exception):
    """A worker ended before it was serving: the server cannot start."""


def reuse_port_available() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def bind(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A TCP socket bound (not listening) to ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


@dataclass
class _Worker:
    pid: int
    started: float
    ready: bool = False


class Supervisor:
    """Runs ``count`` workers of ``work`` until a stop signal."""

    def __init__(self, count: int, work: Work, *, log: Callable[[str], None]) -> None:
        self.count = count
        self.work = work
        self.log = log
        self.workers: dict[int, _Worker] = {}
        self._ready_r, self._ready_w = os.pipe()
        #: Worker slots waiting for a restart, and when it is due (monotonic).
        self._restarts: list[float] = []

    def run(self, on_serving: Callable[[], None]) -> int:
        """Start the workers, call ``on_serving`` once all of them serve, and keep
        them running until SIGTERM or SIGINT; the exit status."""
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        try:
            for _ in range(self.count):
                self._spawn()
            try:
                if not self._wait_ready():  # told to stop while starting
                    self._stop_all()
                    return 0
            except StartFailed as failed:
                self.log(f"error: {failed}")
                self._stop_all()
                return 1
            on_serving()
            self._watch()
            self._stop_all()
            return 0
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            os.close(self._ready_r)
            os.close(self._ready_w)

    # --- the parent ---

    def _spawn(self) -> None:
        parent = os.getpid()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            os._exit(self._in_worker(parent))
        self.workers[pid] = _Worker(pid, time.monotonic())

    def _wait_ready(self) -> bool:
        """Until every worker has said it serves (True), or a stop signal came
        first (False); a worker's death before that fails the start."""
        while not all(worker.ready for worker in self.workers.values()):
            self._read_ready(0.1)
            if self._signalled() & _STOPS:
                return False
            for pid, status in self._reap():
                raise StartFailed(f"worker {pid} {_ended(status)} before serving")
        return True

    def _watch(self) -> None:
        while True:
            self._read_ready(0.2)
            if self._signalled() & _STOPS:
                return
            for pid, status in self._reap():
                self.log(f"worker {pid} {_ended(status)}; starting another")
                died_early = time.monotonic() - self.workers.pop(pid).started < EARLY_DEATH
                self._restarts.append(time.monotonic() + (RESTART_PAUSE if died_early else 0))
            now = time.monotonic()
            for due in [due for due in self._restarts if due <= now]:
                self._restarts.remove(due)
                self._spawn()

    def _read_ready(self, timeout: float) -> None:
        readable, _, _ = select.select([self._ready_r], [], [], timeout)
        if not readable:
            return
        for pid in os.read(self._ready_r, 4096).decode().split():
            if (worker := self.workers.get(int(pid))) is not None:
                worker.ready = True

    def _signalled(self) -> set[int]:
        """The watched signals pending now (consumed)."""
        seen = set()
        while (info := signal.sigtimedwait(_WATCHED, 0)) is not None:
            seen.add(info.si_signo)
        return seen

    def _reap(self) -> list[tuple[int, int]]:
        ended = []
        for pid in list(self.workers):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # reaped already: gone
                done, status = pid, 0
            if done:
                ended.append((pid, status))
        return ended

    def _stop_all(self) -> None:
        for pid in self.workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_DEADLINE
        while self.workers and time.monotonic() < deadline:
            for pid, _status in self._reap():
                self.workers.pop(pid, None)
            if self.workers:
                time.sleep(0.05)
        for pid in self.workers:
            self.log(f"worker {pid} did not stop within {STOP_DEADLINE:.0f} s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self.workers.clear()

    # --- a worker ---

    def _in_worker(self, parent: int) -> int:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, set())
            os.close(self._ready_r)
            _die_with(parent)

            def serving() -> None:
                os.write(self._ready_w, f"{os.getpid()}\n".encode())

            return self.work(serving)
        except SystemExit as stop:
            return stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            traceback.print_exc()
            return 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()


def _die_with(parent: int) -> None:
    """Ask the kernel for SIGTERM when the parent dies (Linux); stop now if it
    already has."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        raise SystemExit(0)


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"
