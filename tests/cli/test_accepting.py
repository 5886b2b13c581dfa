"""``serve`` accepts the connections waiting for it in a few turns of its event loop,
on uvloop (which uvicorn picks) as on asyncio's own loop.

uvloop's own server accepts one connection per turn, so under load connections
waited seconds before their first request was read (docs/benchmarks.md, "Writes
beside reads"). Counting turns, not seconds, keeps this independent of the
machine's speed.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
import uvicorn
import uvloop

from b24local.cli.serve import Server, _listen

WAITING = 60


async def hello(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


async def turns_to_answer(clients: list[socket.socket], listening: socket.socket) -> int:
    """Serve on ``listening`` and count the loop's turns until every client has its
    answer."""
    loop = asyncio.get_running_loop()
    turns = 0

    def tick() -> None:
        nonlocal turns
        turns += 1
        ticking[0] = loop.call_soon(tick)

    ticking = [loop.call_soon(tick)]
    config = uvicorn.Config(hello, lifespan="off", log_level="warning", ws="none")
    server = Server(config, banner="")
    serving = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        for _ in range(1000):  # each a turn of the loop, at least
            if all(_has_answer(client) for client in clients):
                break
            await asyncio.sleep(0)
        return turns
    finally:
        ticking[0].cancel()
        server.should_exit = True
        await serving


def _has_answer(client: socket.socket) -> bool:
    try:
        return client.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return False


@pytest.mark.parametrize(
    "loop_factory", [uvloop.new_event_loop, asyncio.new_event_loop], ids=["uvloop", "asyncio"]
)
def test_waiting_connections_are_accepted_together(
    loop_factory: Callable[[], asyncio.AbstractEventLoop],
) -> None:
    listening = _listen("127.0.0.1", 0)
    listening.listen(WAITING * 2)
    port = listening.getsockname()[1]
    # Connected and asking before the server runs: all in the listen queue at once.
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(WAITING)]
    for client in clients:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        client.setblocking(False)
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            turns = runner.run(turns_to_answer(clients, listening))
    finally:
        for client in clients:
            client.close()
        listening.close()
    # One turn to accept them all, a few for each request's task and its answer;
    # accepting one per turn would take at least WAITING.
    assert turns < WAITING // 3
