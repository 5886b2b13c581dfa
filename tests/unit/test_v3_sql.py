"""REST 3.0 queries in SQL (store/v3query.py) against a model in Python: for random
filters, orders and pages over fixed workdays, the store returns exactly the rows
the model picks, in the model's order, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import operator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b24local import admin
from b24local.rest.v3.query import Condition, Group, Query
from b24local.rest.v3.schema import COMPARISONS, Entity, Field
from b24local.scopes.timeman.workday import Break, Workday, break_length, duration
from b24local.store import workdays

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
ALL = frozenset(COMPARISONS)
ENTITY = Entity(
    "RecordDto",
    (
        Field("id", "int", "int", "id", ALL, sortable=True),
        Field("startTime", "datetime", "object", "started_at", ALL, sortable=True),
        Field("duration", "int", "int", "duration", ALL, sortable=True),
        Field("breakLength", "int", "int", "break_length", ALL, sortable=True),
    ),
)


def _days() -> list[Workday]:
    """30 closed days with repeating durations and breaks, so that sorts tie."""
    days = []
    for n in range(30):
        begin = START + timedelta(days=n // 2, hours=n % 2 * 10)
        pause = Break(begin + timedelta(hours=1), begin + timedelta(minutes=60 + 15 * (n % 3)))
        days.append(Workday(begin, 0, finish=begin + timedelta(hours=2 + n % 4), breaks=(pause,)))
    return days


DAYS = _days()
VALUES = {
    "id": lambda i, d: i + 1,
    "startTime": lambda i, d: d.start,
    "duration": lambda i, d: int(duration(d).total_seconds()),
    "breakLength": lambda i, d: int(break_length(d).total_seconds()),
}
ROWS = [{name: get(i, d) for name, get in VALUES.items()} for i, d in enumerate(DAYS)]

_ints = st.integers(min_value=-2, max_value=3 * 3600 + 40)
_moments = st.integers(min_value=-2, max_value=40).map(lambda h: START + timedelta(hours=h * 10))


def _operand(name: str):
    return _moments if name == "startTime" else _ints


@st.composite
def conditions(draw) -> Condition:
    field = ENTITY.by_name[draw(st.sampled_from(list(VALUES)))]
    op = draw(st.sampled_from(sorted(COMPARISONS)))
    single = _operand(field.name)
    if op == "in":
        value = tuple(dict.fromkeys(draw(st.lists(single, min_size=1, max_size=4))))
    elif op == "between":
        value = (draw(single), draw(single))
    else:
        value = draw(single)
    return Condition(field, op, value)


terms = st.recursive(
    conditions(),
    lambda inner: st.builds(Group, st.booleans(), st.lists(inner, max_size=3).map(tuple)),
    max_leaves=5,
)
queries = st.builds(
    Query,
    where=st.lists(terms, max_size=3).map(tuple),
    select=st.just(("id",)),
    order=st.lists(
        st.tuples(st.sampled_from([ENTITY.by_name[n] for n in VALUES]), st.booleans()),
        max_size=2,
        unique_by=lambda pair: pair[0].name,
    ).map(tuple),
    limit=st.integers(min_value=1, max_value=12),
    offset=st.integers(min_value=0, max_value=32),
)

_COMPARE = {"=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge,
            "<": operator.lt, "<=": operator.le}  # fmt: skip


def matches(row: dict, term) -> bool:
    if isinstance(term, Group):
        found = [matches(row, t) for t in term.terms]
        return any(found) if term.any else all(found)
    value = row[term.field.name]
    if term.operator == "in":
        return value in term.value
    if term.operator == "between":
        return term.value[0] <= value <= term.value[1]
    return _COMPARE[term.operator](value, term.value)


def expected(query: Query) -> list[int]:
    rows = [r for r in ROWS if all(matches(r, t) for t in query.where)]
    keys = list(query.order)
    if "id" not in {f.name for f, _ in keys}:
        keys.append((ENTITY.by_name["id"], keys[-1][1] if keys else False))
    for field, descending in reversed(keys):
        rows.sort(key=lambda r, name=field.name: r[name], reverse=descending)
    return [r["id"] for r in rows[query.offset : query.offset + query.limit]]


@pytest.fixture
def seeded(db_url: str) -> str:
    async def seed() -> None:
        store = await admin.open_store(db_url)
        try:
            await admin.bootstrap(store, START)
            async with store.transaction(write=True) as conn:
                for day in DAYS:
                    await workdays.save(conn, 1, 1, day, now=START)
        finally:
            await store.close()

    asyncio.run(seed())
    return db_url


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries)
def test_sql_picks_what_the_model_picks(seeded: str, query: Query) -> None:
    async def page() -> list[int]:
        store = await admin.open_store(seeded)
        try:
            async with store.transaction() as conn:
                return [d.id for d in await workdays.record_page(conn, 1, 1, query)]
        finally:
            await store.close()

    assert asyncio.run(page()) == expected(query)
