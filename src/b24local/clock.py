"""The one source of "now".

Every rule in b24local takes the current moment from a :class:`Clock` handed to it,
never from ``datetime.now()``. Production uses :class:`SystemClock`; tests and
``--dev`` mode use :class:`AdjustableClock`, which can be set, frozen and advanced.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


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
        moment = moment.astimezone(UTC)
        keep_frozen = self.frozen if frozen is None else frozen
        if keep_frozen:
            self._frozen_at = moment
        else:
            self._frozen_at = None
            self._offset = moment - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        step = timedelta(seconds=seconds)
        if self._frozen_at is not None:
            self._frozen_at += step
        else:
            self._offset += step

    def unfreeze(self) -> None:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - datetime.now(UTC)
            self._frozen_at = None


def monotonic() -> float:
    """Elapsed-time measurements (durations), never wall-clock moments."""
    return time.perf_counter()
