"""The cloud's limits kept in Redis, so that every process of one portal counts
against the same bucket and baskets.

The rules are :mod:`.limits`' own: the leaky bucket is checked and filled by one
Lua script (atomic in Redis, however many processes ask at once), the baskets are
updated by another, and what decides an answer (which baskets are live, their
sum, the ``time`` block) is computed here by the same helpers as in memory, so
both give the same answers to the last bit of a float. ``now`` is always the
server's clock, passed into the scripts: never Redis's ``TIME``.

Numbers travel as ``%.17g`` text, which turns back into the very same double.
Commands go through :mod:`.redispipe`, which sends those of one turn of the
event loop together.

When Redis does not answer (down, restarting, hung past ``timeout``), calls go
on: the limits fall back to this process's memory, a loud log line says so once,
and Redis is tried again every ``retry_after`` seconds (one call at a time tries,
the others keep to memory meanwhile). Once it answers, the limits are back in
Redis and the memory's counts are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from b24local.clock import monotonic

from .auth import Caller
from .envelope import Operating
from .errors import OPERATION_TIME_LIMIT, QUERY_LIMIT_EXCEEDED
from .limits import (
    BASKET_LIFETIME,
    BASKET_SPAN,
    DEFAULT_OPERATING_LIMIT,
    Basket,
    PlatformLimits,
    live,
    operating,
    over,
    plan_rate,
    unmetered,
)
from .redispipe import Coalescer, sha1

log = logging.getLogger("b24local.limits")
T = TypeVar("T")

DEFAULT_PREFIX = "b24local:"
#: Seconds one exchange with Redis may take before the limits fall back to memory.
DEFAULT_TIMEOUT = 1.0
#: Seconds between tries while Redis is away.
DEFAULT_RETRY_AFTER = 5.0
#: Seconds a key outlives the longest its rules need it (on a clock running at
#: real speed): room for a dev clock that runs a little behind.
KEPT_EXTRA = 300
#: Seconds a bucket is kept at most, however slowly it drains.
BUCKET_KEPT_AT_MOST = 86_400
#: Connections to Redis at most; calls beyond wait for one (within ``timeout``).
MAX_CONNECTIONS = 64

#: The leaky bucket (KEYS[1], a hash): drain it to ARGV[1] (now), then add one
#: request unless that takes it past ARGV[2] (X) — draining ARGV[3] (Y) a second.
#: Answers {1, baskets of KEYS[2]} when admitted (the baskets only if KEYS[2] is
#: given), {0} when refused. ARGV[4]: the key's lifetime in milliseconds.
ADMIT = """
local moment = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local drain = tonumber(ARGV[3])
local level = 0
local state = redis.call('HMGET', KEYS[1], 'level', 'updated')
if state[1] then
  level = tonumber(state[1])
  local elapsed = math.max(moment - tonumber(state[2]), 0)
  level = math.max(level - elapsed * drain, 0)
end
local admitted = 0
if not (level + 1 > threshold) then
  level = level + 1
  admitted = 1
end
redis.call('HSET', KEYS[1], 'level', string.format('%.17g', level),
  'updated', string.format('%.17g', moment))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if admitted == 1 and KEYS[2] then
  return {1, redis.call('LRANGE', KEYS[2], 0, -1)}
end
return {admitted}
"""

#: One method's baskets (KEYS[1], a list: first_at, total, first_at, total…):
#: drop those dead at ARGV[1] (now), add ARGV[2] (the cost) to the minute's
#: basket or begin one. ARGV[3]: the key's lifetime in milliseconds; ARGV[4] and
#: ARGV[5]: a basket's lifetime and span in seconds. Answers the live baskets.
RECORD = """
local moment = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local lifetime = tonumber(ARGV[4])
local span = tonumber(ARGV[5])
local stored = redis.call('LRANGE', KEYS[1], 0, -1)
local kept = {}
for i = 1, #stored, 2 do
  local first = tonumber(stored[i])
  if first + lifetime > moment then
    kept[#kept + 1] = first
    kept[#kept + 1] = tonumber(stored[i + 1])
  end
end
local n = #kept
if n > 0 and moment < kept[n - 1] + span then
  kept[n] = kept[n] + cost
else
  kept[n + 1] = moment
  kept[n + 2] = cost
end
local out = {}
for i = 1, #kept do
  out[i] = string.format('%.17g', kept[i])
end
redis.call('DEL', KEYS[1])
redis.call('RPUSH', KEYS[1], unpack(out))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return out
"""
ADMIT_SHA, RECORD_SHA = sha1(ADMIT), sha1(RECORD)


class RedisLimits:
    """:class:`~.limits.PlatformLimits`' rules, kept in Redis at ``url`` under ``prefix``."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        threshold: float | None = None,
        drain: float | None = None,
        operating_limit: float = DEFAULT_OPERATING_LIMIT,
        timeout: float = DEFAULT_TIMEOUT,
        retry_after: float = DEFAULT_RETRY_AFTER,
    ) -> None:
        check_url(url)
        self.url = url
        self.prefix = prefix
        self.threshold = threshold
        self.drain = drain
        self.operating_limit = operating_limit
        self.timeout = timeout
        #: Where the limits are kept while Redis does not answer.
        self.fallback = PlatformLimits(threshold, drain, operating_limit)
        self.link = Link(where(url), retry_after)
        self._redis: Redis | None = None
        self._pipe: Coalescer | None = None

    # --- keys ---------------------------------------------------------------------------

    def bucket_key(self, caller: Caller) -> str:
        return f"{self.prefix}bucket:{caller.portal.id}:{caller.client}"

    def baskets_key(self, caller: Caller, method: str) -> str:
        return f"{self.prefix}ops:{caller.portal.id}:{caller.client}:{method}"

    # --- the Limits protocol ------------------------------------------------------------

    async def admit_request(
        self, caller: Caller, now: datetime, method: str | None = None
    ) -> bool | None:
        rate = plan_rate(caller, self.threshold, self.drain)
        moment = now.timestamp()
        keys = [self.bucket_key(caller)]
        if method is not None:
            keys.append(self.baskets_key(caller, method))
        # Long enough for the fullest bucket to drain (a day at most: a bucket set
        # never to drain would otherwise ask Redis for a lifetime it refuses).
        kept = math.ceil(min(rate.threshold / rate.drain, BUCKET_KEPT_AT_MOST)) + KEPT_EXTRA
        args = [_num(moment), _num(rate.threshold), _num(rate.drain), kept * 1000]
        reply = await self._ask(lambda redis, pipe: pipe.script(ADMIT_SHA, keys, args))
        if reply is None:
            return await self.fallback.admit_request(caller, now, method)
        if not reply[0]:
            raise QUERY_LIMIT_EXCEEDED()
        if method is None:
            return None
        return over(live(_baskets(reply[1]), moment), self.operating_limit)

    async def admit_method(self, caller: Caller, method: str, now: datetime) -> None:
        key = self.baskets_key(caller, method)
        stored = await self._ask(lambda redis, pipe: pipe.send("LRANGE", key, 0, -1))
        if stored is None:
            await self.fallback.admit_method(caller, method, now)
        elif over(live(_baskets(stored), now.timestamp()), self.operating_limit):
            raise OPERATION_TIME_LIMIT()

    async def record(
        self, caller: Caller, method: str, started: datetime, cost: float
    ) -> Operating:
        keys = [self.baskets_key(caller, method)]
        kept = (BASKET_LIFETIME + KEPT_EXTRA) * 1000
        args = [_num(started.timestamp()), _num(cost), kept, BASKET_LIFETIME, BASKET_SPAN]
        reply = await self._ask(lambda redis, pipe: pipe.script(RECORD_SHA, keys, args))
        if reply is None:
            return await self.fallback.record(caller, method, started, cost)
        return operating(_baskets(reply))

    def unmetered(self, started: datetime) -> Operating:
        return unmetered(started)

    async def forget(self) -> None:
        """Delete this server's keys (every key under its prefix) and the memory's."""
        self.fallback.clear()
        pattern = _glob_escaped(self.prefix) + "*"

        async def delete(redis: Redis, pipe: Coalescer) -> None:
            found = [key async for key in redis.scan_iter(match=pattern, count=500)]
            for start in range(0, len(found), 500):
                await redis.unlink(*found[start : start + 500])

        await self._ask(delete, within=max(self.timeout, 10.0))

    async def open(self) -> None:
        """Say where the limits are kept, and whether Redis answers yet."""
        if await self._ask(lambda redis, pipe: redis.ping()) is not None:
            log.info("limits kept in Redis at %s under %r", self.link.where, self.prefix)

    async def close(self) -> None:
        redis, pipe, self._redis, self._pipe = self._redis, self._pipe, None, None
        if pipe is not None:
            await pipe.close()
        if redis is not None:
            await redis.aclose(close_connection_pool=True)

    # --- talking to Redis ---------------------------------------------------------------

    def _connected(self) -> tuple[Redis, Coalescer]:
        if self._redis is None or self._pipe is None:
            # No retries of its own: a failed exchange falls back at once.
            pool = BlockingConnectionPool.from_url(
                self.url,
                max_connections=MAX_CONNECTIONS,
                timeout=self.timeout,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                retry=Retry(NoBackoff(), 0),
            )
            self._redis = Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
            self._pipe = Coalescer(self._redis, (ADMIT, RECORD))
        return self._redis, self._pipe

    async def _ask(
        self,
        exchange: Callable[[Redis, Coalescer], Awaitable[T]],
        *,
        within: float | None = None,
    ) -> T | None:
        """``exchange``'s answer, or None when Redis is away (the caller falls back)."""
        link = self.link
        if not link.take_turn():
            return None
        try:
            async with asyncio.timeout(within or self.timeout):
                answer = await exchange(*self._connected())
        except (RedisError, OSError, TimeoutError) as error:
            link.failed(error)
            return None
        finally:
            link.probing = False
        if link.answered():
            # Back from memory: its counts would be stale by the next outage.
            self.fallback.clear()
        return answer


class Link:
    """Whether Redis answers, as this process last saw it, and when to try again."""

    def __init__(self, where: str, retry_after: float) -> None:
        self.where = where
        self.retry_after = retry_after
        self.down = False
        self.probing = False
        self.retry_at = 0.0

    def take_turn(self) -> bool:
        """Whether this exchange should go to Redis: always while it answers; while
        it is away, one at a time once ``retry_after`` has passed."""
        if not self.down:
            return True
        if self.probing or monotonic() < self.retry_at:
            return False
        self.probing = True
        return True

    def failed(self, error: BaseException) -> None:
        self.retry_at = monotonic() + self.retry_after
        if not self.down:
            self.down = True
            log.error(
                "Redis at %s does not answer (%s): the limits are kept in this process's "
                "memory until it does (tried again every %g s)",
                self.where,
                _described(error),
                self.retry_after,
            )

    def answered(self) -> bool:
        """Note an answer; True when it ends an outage."""
        if not self.down:
            return False
        self.down = False
        log.warning("Redis at %s answers again: the limits are kept there again", self.where)
        return True


def check_url(url: str) -> None:
    """Raise ``ValueError`` for a URL that names no Redis."""
    scheme = urlsplit(url).scheme
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"a Redis URL begins with redis://, rediss:// or unix://, not {url!r}")


def where(url: str) -> str:
    """The URL without its password, for the log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:***@" if parts.username else "***@"
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=user + host).geturl()


def _num(value: float) -> str:
    # repr: the shortest text that turns back into this very double.
    return repr(float(value))


def _baskets(flat: list[bytes]) -> list[Basket]:
    return [Basket(float(flat[i]), float(flat[i + 1])) for i in range(0, len(flat), 2)]


def _glob_escaped(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _described(error: BaseException) -> str:
    return str(error) or type(error).__name__
