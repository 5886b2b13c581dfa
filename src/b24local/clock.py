"""The one source of "now".

Every rule in b24local takes the current moment from a :class:`Clock` handed to it,
never from ``datetime.now()``. Production uses :class:`SystemClock`; tests and
``--dev`` mode use :class:`AdjustableClock`, which can be set, frozen and advanced.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

#: The moments an adjustable clock may show: from the Unix epoch (the time block
#: gives timestamps) to a year before the calendar ends, so that rules looking a
#: day or a year ahead still have dates to work with.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _in_range(moment: datetime) -> datetime:
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"the clock stays between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return moment


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment as an aware UTC datetime."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class AdjustableClock:
    """Real time shifted by an offset, or a frozen moment.

    ``set`` jumps to a moment (and optionally freezes there); ``advance`` moves
    forward. A frozen clock only moves when advanced, which is what tests want.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        if start is not None:
            self.set(start, frozen=frozen)
        elif frozen:
            self._frozen_at = datetime.now(UTC)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at
        return datetime.now(UTC) + self._offset

    def set(self, moment: datetime, *, frozen: bool | None = None) -> None:
        if moment.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        try:
            moment = _in_range(moment.astimezone(UTC))
        except OverflowError:
            raise ValueError("the moment lies outside the calendar in UTC") from None
        keep_frozen = self.frozen if frozen is None else frozen
        if keep_frozen:
            self._frozen_at = moment
        else:
            self._frozen_at = None
            self._offset = moment - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        if not seconds >= 0:  # NaN too
            raise ValueError("the clock only moves forward")
        try:
            step = timedelta(seconds=seconds)
            _in_range(self.now() + step)
        except OverflowError:
            raise ValueError(f"the clock stays before {LATEST:%Y-%m-%d}") from None
        if self._frozen_at is not None:
            self._frozen_at += step
        else:
            self._offset += step

    def real(self) -> None:
        """Back to the real time, running: as a new dev server starts."""
        self._offset = timedelta(0)
        self._frozen_at = None

    def unfreeze(self) -> None:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - datetime.now(UTC)
            self._frozen_at = None


def monotonic() -> float:
    """Elapsed-time measurements (durations), never wall-clock moments."""
    return time.perf_counter()
