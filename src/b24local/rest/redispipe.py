"""Commands to Redis asked for in one turn of the event loop, sent together.

Each call of the limits needs one short exchange with Redis. Sent one by one,
each pays a pool checkout, a write and a read, and a wake-up of the event loop;
under load that costs several times the command itself. :class:`Coalescer`
gathers the commands that calls ask for in the same turn of the loop and sends
them as one pipeline (no transaction: each command is atomic on its own, a Lua
script included), so a busy server pays one write and one read for many calls.
A lone command waits one turn of the loop, nothing more.

Scripts go as ``EVALSHA``; when Redis has lost them (a restart), they are loaded
and the commands that missed them sent again.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError


def sha1(source: str) -> str:
    """A script's name for ``EVALSHA``."""
    return hashlib.sha1(source.encode()).hexdigest()


class Coalescer:
    def __init__(self, client: Redis, scripts: tuple[str, ...]) -> None:
        self.client = client
        self.scripts = scripts
        self._pending: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        #: Pipelines in flight, kept referenced until done.
        self._sending: set[asyncio.Task[None]] = set()

    def send(self, *command: Any) -> asyncio.Future[Any]:
        """``command``'s reply, to await; an error reply is raised there."""
        loop = asyncio.get_running_loop()
        if not self._pending:
            loop.call_soon(self._flush)
        reply = loop.create_future()
        self._pending.append((command, reply))
        return reply

    def script(self, sha: str, keys: list[str], args: list[Any]) -> asyncio.Future[Any]:
        return self.send("EVALSHA", sha, len(keys), *keys, *args)

    async def close(self) -> None:
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        task = asyncio.ensure_future(self._exchange(batch))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _exchange(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        try:
            replies = await self._pipeline([command for command, _ in batch])
            missed = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missed:
                for source in self.scripts:
                    await self.client.script_load(source)
                again = await self._pipeline([batch[i][0] for i in missed])
                for i, reply in zip(missed, again, strict=True):
                    replies[i] = reply
        except asyncio.CancelledError:
            for _, reply in batch:
                reply.cancel()
            raise
        except Exception as error:
            for _, reply in batch:
                if not reply.done():
                    reply.set_exception(error)
            return
        for (_, reply), answer in zip(batch, replies, strict=True):
            # A caller that stopped waiting (its deadline) has cancelled its reply.
            if reply.done():
                continue
            if isinstance(answer, Exception):
                reply.set_exception(answer)
            else:
                reply.set_result(answer)

    async def _pipeline(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        pipe = self.client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return await pipe.execute(raise_on_error=False)
