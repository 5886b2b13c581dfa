"""Shapes the reference documents, shared by the tests that check answers against them."""

from __future__ import annotations

#: The ``time`` block of every answer, its keys in the order the service sends them.
TIME_TYPES: dict[str, type | tuple[type, ...]] = {
    "start": float,
    "finish": float,
    "duration": float,
    "processing": float,
    "date_start": str,
    "date_finish": str,
    "operating_reset_at": int,
    "operating": (int, float),
}
TIME_KEYS = list(TIME_TYPES)
