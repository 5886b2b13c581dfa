"""Accepting connections in batches, however busy the event loop is.

uvloop's libuv accepts one connection per turn of the event loop (since
libuv/libuv#3696, "don't accept() connections in a loop"). A turn of a server
saturated by a few hundred keep-alive connections takes tens of milliseconds, so
connections opened while it is busy wait in the listen queue for seconds: 70
waiting connections drained at about 25 a second (see docs/benchmarks.md,
"Accepting under load"). The client has long since sent its first request,
which waits with them. asyncio's own loop accepts up to the backlog per turn.

:class:`Acceptor` listens itself, on either loop: each time the listening socket
is readable it accepts up to :data:`ACCEPT_BATCH` connections and hands each to
the loop (``connect_accepted_socket``) with uvicorn's protocol. It stands in for
the ``asyncio.Server`` uvicorn would make, so uvicorn's shutdown closes it.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Callable

logger = logging.getLogger("uvicorn.error")

#: Connections accepted at most per turn of the loop: a burst of a few hundred is
#: in within a few turns, and a flood of connects cannot starve those being served.
ACCEPT_BATCH = 128

#: Seconds to stop accepting when out of file descriptors or memory (as asyncio).
RETRY_DELAY = 1.0

_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class Acceptor:
    """Accepts on ``sock`` and serves each connection with ``protocol_factory``."""

    def __init__(
        self,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        *,
        ssl_context: ssl.SSLContext | None = None,
        backlog: int = 2048,
    ) -> None:
        self.sock = sock
        self.protocol_factory = protocol_factory
        self.ssl_context = ssl_context
        self.loop = asyncio.get_running_loop()
        #: Connections between accept and their protocol's connection_made (TLS:
        #: the handshake); kept so that the tasks are not collected mid-way.
        self.opening: set[asyncio.Task[object]] = set()
        self.closed = False
        sock.setblocking(False)
        sock.listen(backlog)
        self._resume()

    def _resume(self) -> None:
        if not self.closed:
            self.loop.add_reader(self.sock.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _address = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # gone before we got to it
            except OSError as error:
                if error.errno not in _OUT_OF_RESOURCES:
                    raise
                logger.error("Cannot accept connections (%s); retrying in 1 s", error)
                self.loop.remove_reader(self.sock.fileno())
                self.loop.call_later(RETRY_DELAY, self._resume)
                return
            self._open(conn)

    def _open(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        if conn.family in (socket.AF_INET, socket.AF_INET6):
            # Responses go out in one write each; never hold one back for an ACK.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = self.loop.create_task(
            self.loop.connect_accepted_socket(self.protocol_factory, conn, ssl=self.ssl_context)
        )
        self.opening.add(task)
        task.add_done_callback(self._opened)

    def _opened(self, task: asyncio.Task[object]) -> None:
        self.opening.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # A failed TLS handshake, or a peer gone at once: that connection's affair.
            logger.debug("Connection not opened: %r", error)

    # --- the part of asyncio.Server that uvicorn's shutdown uses ---

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.loop.remove_reader(self.sock.fileno())

    async def wait_closed(self) -> None:
        for task in list(self.opening):
            task.cancel()
