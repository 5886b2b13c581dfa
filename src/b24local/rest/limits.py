"""Where the request-rate and operating-time limits plug into the call path.

The call path asks :meth:`Limits.admit` before a method runs and reports the
method's cost to :meth:`Limits.record` after; the answer fills ``operating`` and
``operating_reset_at`` in the ``time`` block.
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
    def admit_request(self, caller: Caller, now: datetime) -> None:
        """Raise ``QUERY_LIMIT_EXCEEDED`` if the HTTP request may not run now."""
        ...

    def admit_method(self, caller: Caller, method: str, now: datetime) -> None:
        """Raise ``OPERATION_TIME_LIMIT`` if the method is blocked for the caller."""
        ...

    def record(self, caller: Caller, method: str, started: datetime, cost: float) -> Operating:
        """Account the call's cost; report the method's accumulated cost."""
        ...

    def unmetered(self, started: datetime) -> Operating:
        """What the ``time`` block says for a call that is not accounted."""
        ...

    def forget(self) -> None:
        """Empty every bucket and basket (a dev API reset)."""
        ...


class NoLimits:
    """Admits everything and accounts nothing."""

    def forget(self) -> None:
        pass

    def admit_request(self, caller: Caller, now: datetime) -> None:
        return None

    def admit_method(self, caller: Caller, method: str, now: datetime) -> None:
        return None

    def record(self, caller: Caller, method: str, started: datetime, cost: float) -> Operating:
        return self.unmetered(started)

    def unmetered(self, started: datetime) -> Operating:
        return Operating(operating=0, reset_at=int(started.timestamp()) + BASKET_LIFETIME)


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


@dataclass(slots=True)
class _Bucket:
    level: float
    updated: float


@dataclass(slots=True)
class _Basket:
    first_at: float
    total: float


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
    _baskets: dict[tuple[int, str, str], list[_Basket]] = field(default_factory=dict)

    def plan_rate(self, caller: Caller) -> RatePlan:
        """Each of ``X`` and ``Y`` on its own: the portal's setting, else the ``serve``
        flag, else the portal's plan."""
        portal = caller.portal
        plan = PLAN_RATES.get(portal.plan, DEFAULT_RATE)
        return RatePlan(
            _first_set(portal.rate_threshold, self.threshold, plan.threshold),
            _first_set(portal.rate_drain, self.drain, plan.drain),
        )

    def forget(self) -> None:
        self._buckets.clear()
        self._baskets.clear()

    def admit_request(self, caller: Caller, now: datetime) -> None:
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

    def _live(self, key: tuple[int, str, str], moment: float) -> list[_Basket]:
        baskets = [b for b in self._baskets.get(key, []) if b.first_at + BASKET_LIFETIME > moment]
        if baskets:
            self._baskets[key] = baskets
        else:
            self._baskets.pop(key, None)
        return baskets

    def admit_method(self, caller: Caller, method: str, now: datetime) -> None:
        baskets = self._live((caller.portal.id, caller.client, method), now.timestamp())
        if sum(b.total for b in baskets) > self.operating_limit:
            raise OPERATION_TIME_LIMIT()

    def record(self, caller: Caller, method: str, started: datetime, cost: float) -> Operating:
        moment = started.timestamp()
        key = (caller.portal.id, caller.client, method)
        baskets = self._live(key, moment)
        if baskets and moment < baskets[-1].first_at + BASKET_SPAN:
            baskets[-1].total += cost
        else:
            baskets.append(_Basket(moment, cost))
            self._baskets[key] = baskets
        return Operating(
            operating=sum(b.total for b in baskets),
            reset_at=int(min(b.first_at for b in baskets) + BASKET_LIFETIME),
        )

    def unmetered(self, started: datetime) -> Operating:
        return Operating(operating=0, reset_at=int(started.timestamp()) + BASKET_LIFETIME)


def _first_set(*values: float | None) -> float:
    return next(value for value in values if value is not None)
