"""Forced faults for tests (``--dev`` only): make calls fail, answer late or hang.

An integration developer can see how their code copes with, say,
``QUERY_LIMIT_EXCEEDED``, a slow portal or a call that never answers, without
arranging the real cause. A rule names what happens (an error code from the
catalogue, added latency, a hang) and which calls it applies to (a method, a
caller, a probability, a number of times, a span of the server's clock).

The dispatcher asks :meth:`Faults.take` for each call, sub-calls of a batch
included, and only raises: an error as any method's error, a hang as
:class:`Hang`. Waiting is never done there, inside the call's transaction (on
SQLite a sleeping writer would stall every other writer): latency is added to
the request's :class:`Delay` and served by the endpoint once the transaction is
over, and a :class:`Hang` is held there too (see :func:`hold`).
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .errors import ERROR_REQUEST_TIMEOUT, PROTOCOL_ERRORS, SYSTEM_ERRORS, ErrorSpec, RestError

#: The most rules at once: every call looks through them.
MAX_RULES = 1000
#: The most latency one request may be given (a batch's sub-calls add up to it).
MAX_LATENCY = 60.0
#: The longest a hang holds a request that its client has not given up.
MAX_HANG = 300.0
#: The longest a rule may last on the server's clock (about 31 years).
MAX_SECONDS = 1e9

_CALLER = re.compile(r"(webhook|user):[1-9][0-9]{0,17}|app:[^\s]{1,255}")


class FaultError(ValueError):
    """A rule that cannot be added; the text says why."""


class Hang(Exception):
    """The call is not answered for ``seconds``; then, if its client is still
    there, it fails with ``error``. Raised before the method runs, so the call's
    transaction rolls back (a batch's with it)."""

    def __init__(self, seconds: float, error: RestError) -> None:
        super().__init__(f"hang for {seconds:g} s")
        self.seconds = seconds
        self.error = error


@dataclass(slots=True)
class Fault:
    id: int
    error: ErrorSpec | None
    method: str | None
    caller: str | None
    #: Calls it still acts on; None: any number while it lasts.
    remaining: int | None
    probability: float | None
    seed: int | None
    latency: float
    hang: float
    #: When it ends, as a timestamp of the server's clock; None: never.
    expires: float | None
    dice: random.Random = field(repr=False)

    def applies_to(self, method: str, who: frozenset[str]) -> bool:
        return (self.method is None or self.method == method) and (
            self.caller is None or self.caller in who
        )

    def record(self, now: datetime) -> dict[str, Any]:
        """The rule as the dev API lists it, with what is left of it."""
        left = None if self.expires is None else max(0.0, self.expires - now.timestamp())
        return {
            "id": self.id,
            "error": self.error.code if self.error is not None else None,
            "method": self.method,
            "caller": self.caller,
            "times": self.remaining,
            "probability": self.probability,
            "seed": self.seed,
            "latency": self.latency or None,
            "hang": self.hang or None,
            "seconds_left": left,
        }


def known_errors(extra: tuple[ErrorSpec, ...] = ()) -> dict[str, ErrorSpec]:
    """Catalogue errors by code; the first declaration of a code wins."""
    found: dict[str, ErrorSpec] = {}
    for spec in (*SYSTEM_ERRORS, *PROTOCOL_ERRORS, *extra):
        found.setdefault(spec.code, spec)
    return found


def caller_names(client: str, user_id: int) -> frozenset[str]:
    """The caller notation a call answers to: its webhook or application
    (``webhook:3``, ``app:local.x``) and the user it acts for (``user:5``)."""
    return frozenset((client, f"user:{user_id}"))


class Faults:
    def __init__(self, errors: dict[str, ErrorSpec], methods: frozenset[str]) -> None:
        self._errors = errors
        self._methods = methods
        self._rules: list[Fault] = []
        self._next_id = 1
        #: Answers' ``time`` blocks without ``operating``/``operating_reset_at``.
        self.drop_operating = False

    def add(
        self,
        now: datetime,
        *,
        error: str | None = None,
        method: str | None = None,
        caller: str | None = None,
        times: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
        latency: float = 0.0,
        hang: float = 0.0,
        seconds: float | None = None,
    ) -> Fault:
        """A new rule, checked whole. Without ``times`` it acts once, or as long as
        it lasts when it has a ``probability`` or ``seconds``."""
        spec = None
        if error is not None:
            spec = self._errors.get(error)
            if spec is None:
                raise FaultError(f"unknown error code {error[:100]!r}")
        if spec is None and not latency and not hang:
            raise FaultError("a fault names an error, a latency or a hang")
        if latency and hang:
            raise FaultError("latency and hang do not go together: a hang never answers")
        if method is not None:
            method = method.lower()
            if method not in self._methods:
                raise FaultError(f"unknown method {method[:100]!r}")
        if caller is not None and not _CALLER.fullmatch(caller):
            raise FaultError("caller is webhook:ID, app:CLIENT_ID or user:ID")
        if len(self._rules) >= MAX_RULES:
            raise FaultError(f"at most {MAX_RULES} faults at once")
        if times is None and probability is None and seconds is None:
            times = 1
        fault = Fault(
            id=self._next_id,
            error=spec,
            method=method,
            caller=caller,
            remaining=times,
            probability=probability,
            seed=seed,
            latency=latency,
            hang=hang,
            expires=None if seconds is None else now.timestamp() + seconds,
            dice=random.Random(seed),
        )
        self._next_id += 1
        self._rules.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        for fault in self._rules:
            if fault.id == fault_id:
                self._rules.remove(fault)
                return True
        return False

    def clear(self) -> None:
        """Back to no faults at all (the operating switch too): what a reset does."""
        self._rules.clear()
        self.drop_operating = False

    def pending(self, now: datetime) -> list[Fault]:
        self._expire(now)
        return list(self._rules)

    def take(self, method: str, callers: frozenset[str], now: datetime) -> Fault | None:
        """The rule for this call, if one fires; uses one of its times up. One rule
        per call: the oldest that matches and whose probability comes up."""
        if not self._rules:
            return None
        self._expire(now)
        for fault in self._rules:
            if not fault.applies_to(method, callers):
                continue
            if fault.probability is not None and fault.dice.random() >= fault.probability:
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._rules.remove(fault)
            return fault
        return None

    def _expire(self, now: datetime) -> None:
        moment = now.timestamp()
        self._rules = [f for f in self._rules if f.expires is None or moment < f.expires]


def apply(fault: Fault) -> None:
    """What a rule that fired does to its call: hang, or wait and maybe fail."""
    if fault.hang:
        raise Hang(fault.hang, fault.error() if fault.error else ERROR_REQUEST_TIMEOUT())
    if fault.latency:
        delay = _delay.get()
        if delay is not None:
            delay.add(fault.latency)
    if fault.error is not None:
        raise fault.error()


# --- waiting, outside every transaction -------------------------------------------------


@dataclass(slots=True)
class Delay:
    """The latency one request was given, served once its transaction is over."""

    seconds: float = 0.0

    def add(self, seconds: float) -> None:
        self.seconds = min(self.seconds + seconds, MAX_LATENCY)


_delay: ContextVar[Delay | None] = ContextVar("b24local_fault_delay", default=None)


@contextmanager
def collecting_delay() -> Iterator[Delay]:
    """The request's :class:`Delay`, which the rules its calls meet add to."""
    delay = Delay()
    token = _delay.set(delay)
    try:
        yield delay
    finally:
        _delay.reset(token)


async def hold(seconds: float, gone: Callable[[], Awaitable[Any]]) -> bool:
    """Wait ``seconds`` without a byte to the client, or until ``gone()`` returns
    (its client went away). True if the client is still there."""
    waiter = asyncio.ensure_future(gone())
    try:
        await asyncio.wait_for(asyncio.shield(waiter), seconds)
    except TimeoutError:
        return True
    finally:
        waiter.cancel()
    return False
