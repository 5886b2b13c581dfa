"""A real event handler for tests: an HTTP server on a local port, in a thread,
that keeps every request it gets and reads its body as PHP would ($_POST), with
the project's PHP-style form decoder, never as a string."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from b24local.rest.phpkeys import decode_pairs


@dataclass
class Received:
    path: str
    content_type: str
    form: dict[str, Any]


@dataclass
class Handler:
    """Answers ``status`` (per path) after ``delay`` seconds (per path)."""

    base: str
    status: dict[str, int] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def url(self, path: str = "/hook") -> str:
        return self.base + path

    def on(self, path: str) -> list[dict[str, Any]]:
        return [r.form for r in self.received if r.path == path]

    def wait_for(self, count: int, path: str = "/hook", timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.on(path)) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"{path} got {len(self.on(path))} of {count} deliveries"
                self.arrived.wait(left)
        return self.on(path)


@contextmanager
def event_handler() -> Iterator[Handler]:
    state: Handler

    class Serve(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            pairs = parse_qsl(body.decode(), keep_blank_values=True)
            form = decode_pairs(pairs, max_depth=16, max_count=1000)
            with state.arrived:
                state.received.append(Received(self.path, self.headers["content-type"], form))
                state.arrived.notify_all()
            time.sleep(state.delay.get(self.path, 0))
            status = state.status.get(self.path, 200)
            try:
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the sender gave up waiting
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Serve)
    server.daemon_threads = True
    state = Handler(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
