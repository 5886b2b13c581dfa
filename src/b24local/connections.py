"""Slow and idle clients: deadlines for a request's headers and body, and a ceiling
on open connections.

uvicorn closes a keep-alive connection left idle after a response, but waits
forever for a request that never comes or never completes: a connection that
sends nothing, or a header byte a second, or a body that stalls, holds its socket
and memory for good. :class:`GuardedProtocol` (uvicorn's httptools protocol with
timers) gives each phase of a connection a deadline:

- *idle* (no request under way, also before the first): ``keep_alive_timeout``,
  then the connection is closed without an answer;
- *headers* (from the first byte after an idle spell): ``header_timeout``, then
  ``408 ERROR_REQUEST_TIMEOUT`` and close;
- *body*: ``body_timeout``, extended by one second for every ``body_min_rate``
  bytes received, so an honest slow upload of any size fits and a stalled one
  does not; then ``408`` (or, if the answer has begun, close).

:class:`Guard` keeps the connections of one server under ``max_connections``: a
new connection beyond it cuts off the one idle (or closing) longest, or, if there
is none, is cut off itself at once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from b24local.rest.envelope import encode_json, error_body
from b24local.rest.errors import REQUEST_NOT_RECEIVED

logger = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)  # no slots: the class attributes are the CLI's defaults
class ConnectionLimits:
    #: Seconds a connection may sit with no request under way.
    keep_alive_timeout: float = 15.0
    #: Seconds from a request's first byte until its headers must be complete.
    header_timeout: float = 10.0
    #: Seconds of grace for the body, before ``body_min_rate`` is asked for.
    body_timeout: float = 20.0
    #: Bytes per second the body must average after the grace (8 KiB/s: an 8 MiB
    #: body may take 17 minutes).
    body_min_rate: int = 8192
    #: Open connections at most.
    max_connections: int = 1000


def _answer(status: int, body: bytes, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A complete HTTP/1.1 response that closes the connection."""
    lines = [STATUS_LINE[status]]
    lines.extend(name + b": " + value + b"\r\n" for name, value in default_headers)
    lines.append(b"content-type: application/json\r\n")
    lines.append(b"content-length: %d\r\n" % len(body))
    lines.append(b"connection: close\r\n\r\n")
    return b"".join(lines) + body


_TIMEOUT_BODY = encode_json(error_body(REQUEST_NOT_RECEIVED()))


class Guard:
    """What the connections of one server share: the limits and who is idle."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        #: Connections that may be cut off to make room, longest there first (dicts
        #: keep insertion order): idle ones, and those being closed, which under TLS
        #: wait up to 30 s for the peer's close_notify.
        self.idle: dict[GuardedProtocol, None] = {}
        self._refusing = False

    def protocol(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> GuardedProtocol:
        """uvicorn's protocol factory (``Config(http=guard.protocol)``)."""
        return GuardedProtocol(config, server_state, app_state, _loop, guard=self)

    def admit(self, open_connections: int) -> bool:
        """Whether one more connection may stay, making room by closing the
        connection idle longest if needed."""
        if open_connections < self.limits.max_connections:
            self._refusing = False
            return True
        if self.idle:
            # Out of `idle` at once: the next newcomer, maybe in this same loop
            # turn, must pick another.
            longest = next(iter(self.idle))
            del self.idle[longest]
            longest.transport.abort()  # nothing to say to it, no TLS goodbye to wait for
            return True
        if not self._refusing:
            # Once per episode: a flood would otherwise flood the log too.
            logger.warning(
                "%d connections open, none idle: refusing new ones",
                self.limits.max_connections,
            )
            self._refusing = True
        return False


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines for each phase of a connection."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        guard: Guard,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = guard
        self.limits = guard.limits
        self.timeout_keep_alive = self.limits.keep_alive_timeout  # type: ignore[assignment]
        self.deadline: asyncio.TimerHandle | None = None
        self.body_started = 0.0
        self.body_received = 0

    # --- idle: uvicorn's keep-alive timer, also armed before the first request ---

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        admitted = self.guard.admit(len(self.connections))
        super().connection_made(transport)
        if not admitted:
            transport.abort()
            return
        self._arm_keep_alive()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.timeout_keep_alive_task is not None:
            self.guard.idle[self] = None

    def _arm_keep_alive(self) -> None:
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )
        self.guard.idle[self] = None

    def timeout_keep_alive_handler(self) -> None:
        super().timeout_keep_alive_handler()
        self.guard.idle[self] = None  # closing now: fair game for a newcomer

    def _unset_keepalive_if_required(self) -> None:
        # Called on every byte received: the connection is no longer idle.
        super()._unset_keepalive_if_required()
        self.guard.idle.pop(self, None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.idle.pop(self, None)
        self._disarm()
        super().connection_lost(exc)

    def _unsupported_upgrade_warning(self) -> None:
        # WebSockets are off on purpose (``ws="none"``): an Upgrade header is simply
        # ignored, not worth two warnings (one of them wrong) per request.
        pass

    # --- headers ---

    def data_received(self, data: bytes) -> None:
        if self.deadline is None and (self.cycle is None or self.cycle.response_complete):
            # The first bytes after an idle spell start the clock for the headers,
            # even those the parser skips (blank lines), which are no request yet.
            self._arm(self.limits.header_timeout, self._headers_late)
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.deadline is None:  # pipelined behind a request being answered
            self._arm(self.limits.header_timeout, self._headers_late)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()
        self.body_started = self.loop.time()
        self.body_received = 0
        self._arm(self.limits.body_timeout, self._body_late)

    def _headers_late(self) -> None:
        self.deadline = None
        if self.cycle is not None and not self.cycle.response_complete:
            # Pipelined behind a request still being answered: close after that answer.
            self.cycle.keep_alive = False
        else:
            self._give_up()

    # --- body ---

    def on_body(self, body: bytes) -> None:
        self.body_received += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _body_late(self) -> None:
        self.deadline = None
        now = self.loop.time()
        if self.flow.read_paused:
            # The application is not reading yet; the client is not to blame.
            self.body_started, self.body_received = now, 0
        due = self.body_started + self.limits.body_timeout
        due += self.body_received / self.limits.body_min_rate
        if now < due:
            self._arm(due - now, self._body_late)
        elif self.cycle.response_started and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # the answer is on its way; close after it
        else:
            self._give_up()

    # --- timers ---

    def _arm(self, delay: float, late: Any) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(delay, late)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _give_up(self) -> None:
        """Answer 408 unless an answer was begun, and close."""
        if self.transport.is_closing():
            return
        if self.cycle is None or not self.cycle.response_started:
            body = _answer(408, _TIMEOUT_BODY, self.server_state.default_headers)
            self.transport.write(body)
        self.transport.close()
        self.guard.idle[self] = None
