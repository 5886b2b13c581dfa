"""Column types shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.types import DateTime, TypeDecorator

#: What an ``Integer`` column holds on every dialect (PostgreSQL's ``integer``).
INTEGER_MIN = -(2**31)
INTEGER_MAX = 2**31 - 1


def storable(value: int) -> bool:
    """Whether ``value`` fits an ``Integer`` column. One that does not matches no
    row, and PostgreSQL refuses even to compare a column with it."""
    return INTEGER_MIN <= value <= INTEGER_MAX


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database.

    SQLite has no time zones and PostgreSQL's ``timestamptz`` would convert on
    its own; storing naive UTC behaves the same on both.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def to_iso(moment: datetime) -> str:
    """UTC ISO text, for moments kept inside JSON columns."""
    return moment.astimezone(UTC).isoformat()


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
