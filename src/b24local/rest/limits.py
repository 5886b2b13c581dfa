"""Where the request-rate and operating-time limits plug into the call path.

The call path asks :meth:`Limits.admit_request` as an HTTP request arrives and
:meth:`Limits.admit_method` before a method runs, and reports the method's cost
to :meth:`Limits.record` after; the answer fills ``operating`` and
``operating_reset_at`` in the ``time`` block. :class:`PlatformLimits` keeps them
in this process's memory; ``redislimits.RedisLimits`` in Redis, shared by every
process that points at it, with the very same rules (the helpers here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from b24local import plans

from .auth import Caller
from .envelope import Operating
from .errors import OPERATION_TIME_LIMIT, QUERY_LIMIT_EXCEEDED

#: How long a one-minute basket counts towards ``operating``.
BASKET_LIFETIME = 600
#: The minute a basket gathers, from its first call: at most ten are live at once.
BASKET_SPAN = 60


class Limits(Protocol):
    async def admit_request(
        self, caller: Caller, now: datetime, method: str | None = None
    ) -> bool | None:
        """Raise ``QUERY_LIMIT_EXCEEDED`` if the HTTP request may not run now.

        Given the metered ``method`` the request names, also tell whether it is over
        its operating time at ``now`` (None when not asked): a shared store answers
        both in one round trip, and the caller raises when the method's turn comes."""
        ...

    async def admit_method(self, caller: Caller, method: str, now: datetime) -> None:
        """Raise ``OPERATION_TIME_LIMIT`` if the method is blocked for the caller."""
        ...

    async def record(
        self, caller: Caller, method: str, started: datetime, cost: float
    ) -> Operating:
        """Account the call's cost; report the method's accumulated cost."""
        ...

    def unmetered(self, started: datetime) -> Operating:
        """What the ``time`` block says for a call that is not accounted."""
        ...

    async def forget(self) -> None:
        """Empty every bucket and basket (a dev API reset)."""
        ...

    async def open(self) -> None:
        """Get ready as the app starts (its lifespan)."""
        ...

    async def close(self) -> None:
        """Let go of what the limits hold open as the app stops."""
        ...


def unmetered(started: datetime) -> Operating:
    return Operating(operating=0, reset_at=int(started.timestamp()) + BASKET_LIFETIME)


class NoLimits:
    """Admits everything and accounts nothing."""

    async def forget(self) -> None:
        pass

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def admit_request(
        self, caller: Caller, now: datetime, method: str | None = None
    ) -> bool | None:
        return None if method is None else False

    async def admit_method(self, caller: Caller, method: str, now: datetime) -> None:
        return None

    async def record(
        self, caller: Caller, method: str, started: datetime, cost: float
    ) -> Operating:
        return unmetered(started)

    def unmetered(self, started: datetime) -> Operating:
        return unmetered(started)


@dataclass(frozen=True, slots=True)
class RatePlan:
    """The leaky bucket's threshold ``X`` and its drain per second ``Y``."""

    threshold: float
    drain: float


#: The reference's table: Enterprise 250 / 5 per second, every other plan 50 / 2.
PLAN_RATES = {plans.ENTERPRISE: RatePlan(250, 5)}
DEFAULT_RATE = RatePlan(50, 2)
#: The cloud's operating-time limit per method and client, in seconds.
DEFAULT_OPERATING_LIMIT = 480.0


def plan_rate(caller: Caller, threshold: float | None, drain: float | None) -> RatePlan:
    """Each of ``X`` and ``Y`` on its own: the portal's setting, else the ``serve``
    flag (``threshold``, ``drain``), else the portal's plan."""
    portal = caller.portal
    plan = PLAN_RATES.get(portal.plan, DEFAULT_RATE)
    return RatePlan(
        _first_set(portal.rate_threshold, threshold, plan.threshold),
        _first_set(portal.rate_drain, drain, plan.drain),
    )


@dataclass(slots=True)
class _Bucket:
    level: float
    updated: float


@dataclass(slots=True)
class Basket:
    """One minute's run time of a method: from ``first_at`` (a timestamp), ``total`` s."""

    first_at: float
    total: float


def live(baskets: list[Basket], moment: float) -> list[Basket]:
    """The baskets still counting at ``moment``."""
    return [b for b in baskets if b.first_at + BASKET_LIFETIME > moment]


def over(baskets: list[Basket], limit: float) -> bool:
    """Whether live ``baskets`` block their method."""
    return sum(b.total for b in baskets) > limit


def operating(baskets: list[Basket]) -> Operating:
    """The ``time`` block's figures for the live ``baskets`` (at least one)."""
    return Operating(
        operating=sum(b.total for b in baskets),
        reset_at=int(min(b.first_at for b in baskets) + BASKET_LIFETIME),
    )


@dataclass
class PlatformLimits:
    """The real service's two limits, kept in this process's memory.

    Request rate: a leaky bucket per portal and client; each HTTP request adds one,
    the bucket drains ``Y`` per second, and a request that would take it past ``X``
    is refused with ``QUERY_LIMIT_EXCEEDED``. Checking and filling happen without
    an await in between, so simultaneous requests are admitted exactly.

    Operating time: per portal, client and method, ten one-minute baskets of run
    time. A basket gathers the calls of the minute from its first call and counts
    for ten minutes from that call, so no more than ten are ever live (minutes of
    the clock would let an eleventh overlap: a basket begun at 10:05:59 lives until
    10:15:59). A method whose sum is over the limit is refused with
    ``OPERATION_TIME_LIMIT`` until a basket expires.
    """

    #: The ``serve`` flags: ``X`` and ``Y`` for every portal that sets none itself.
    threshold: float | None = None
    drain: float | None = None
    operating_limit: float = DEFAULT_OPERATING_LIMIT
    _buckets: dict[tuple[int, str], _Bucket] = field(default_factory=dict)
    _baskets: dict[tuple[int, str, str], list[Basket]] = field(default_factory=dict)

    def plan_rate(self, caller: Caller) -> RatePlan:
        return plan_rate(caller, self.threshold, self.drain)

    async def forget(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._buckets.clear()
        self._baskets.clear()

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def admit_request(
        self, caller: Caller, now: datetime, method: str | None = None
    ) -> bool | None:
        self.fill(caller, now)
        if method is None:
            return None
        return over(self._live((caller.portal.id, caller.client, method), now.timestamp()),
                    self.operating_limit)  # fmt: skip

    def fill(self, caller: Caller, now: datetime) -> None:
        """The leaky bucket: one more request, or ``QUERY_LIMIT_EXCEEDED``."""
        rate = self.plan_rate(caller)
        moment = now.timestamp()
        key = (caller.portal.id, caller.client)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(0.0, moment)
        elapsed = max(moment - bucket.updated, 0.0)
        bucket.level = max(bucket.level - elapsed * rate.drain, 0.0)
        bucket.updated = moment
        if bucket.level + 1 > rate.threshold:
            raise QUERY_LIMIT_EXCEEDED()
        bucket.level += 1

    def _live(self, key: tuple[int, str, str], moment: float) -> list[Basket]:
        baskets = live(self._baskets.get(key, []), moment)
        if baskets:
            self._baskets[key] = baskets
        else:
            self._baskets.pop(key, None)
        return baskets

    async def admit_method(self, caller: Caller, method: str, now: datetime) -> None:
        baskets = self._live((caller.portal.id, caller.client, method), now.timestamp())
        if over(baskets, self.operating_limit):
            raise OPERATION_TIME_LIMIT()

    async def record(
        self, caller: Caller, method: str, started: datetime, cost: float
    ) -> Operating:
        moment = started.timestamp()
        key = (caller.portal.id, caller.client, method)
        baskets = self._live(key, moment)
        if baskets and moment < baskets[-1].first_at + BASKET_SPAN:
            baskets[-1].total += cost
        else:
            baskets.append(Basket(moment, cost))
            self._baskets[key] = baskets
        return operating(baskets)

    def unmetered(self, started: datetime) -> Operating:
        return unmetered(started)


def _first_set(*values: float | None) -> float:
    return next(value for value in values if value is not None)
