"""REST 3.0's query grammar (b24local.rest.v3.query): what each of filter, select,
order and pagination accepts, and that hostile input only ever ends in a REST 3.0
error, never in anything else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b24local.rest.v3.errors import V3Error
from b24local.rest.v3.query import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    Condition,
    Group,
    parse_filter,
    parse_order,
    parse_pagination,
    parse_query,
    parse_select,
    read_datetime,
)
from b24local.rest.v3.schema import Entity, Field

ENTITY = Entity(
    "ThingDto",
    (
        Field("id", "int", "int", "id", frozenset({"=", "in", ">"}), sortable=True),
        Field("when", "datetime", "object", "at", frozenset({"<", ">=", "between"}), sortable=True),
        Field("flag", "bool", "bool", "flag", frozenset({"="})),
        Field("note", "string", "string"),
    ),
)


def code_of(call) -> str:
    with pytest.raises(V3Error) as caught:
        call()
    return caught.value.code.removeprefix("BITRIX_REST_V3_EXCEPTION_")


# --- filter -----------------------------------------------------------------------------


def test_triples_pairs_and_groups():
    terms = parse_filter(
        [
            ["id", "=", "7"],
            ["id", [1, 2, 2]],
            {"logic": "or", "conditions": [["flag", "Y"], ["when", ">=", "2026-01-01"]]},
        ],
        ENTITY,
    )
    assert terms[0] == Condition(ENTITY.by_name["id"], "=", 7)
    assert terms[1] == Condition(ENTITY.by_name["id"], "in", (1, 2))
    group = terms[2]
    assert isinstance(group, Group) and group.any
    assert group.terms[1].value == datetime(2026, 1, 1, tzinfo=UTC)


def test_dates_take_the_given_zone_unless_they_carry_one():
    plus2 = timezone(timedelta(hours=2))
    assert read_datetime("2026-03-02", plus2) == datetime(2026, 3, 2, tzinfo=plus2)
    assert read_datetime("2026-03-02T10:00:00+00:00", plus2) == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert read_datetime("2026-02-30", UTC) is None
    assert read_datetime(20260302, UTC) is None
    assert read_datetime("9999-12-31T23:59:59-14:00", UTC) is None
    assert read_datetime("0001-01-01", plus2) is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ([["nope", 1]], "UNKNOWNDTOPROPERTYEXCEPTION"),
        ([["id", "like", 1]], "UNKNOWNFILTEROPERATOREXCEPTION"),
        ([["id", "<", 1]], "INVALIDFILTEREXCEPTION"),
        ([["note", "=", "x"]], "INVALIDFILTEREXCEPTION"),
        ([["id", "=", "seven"]], "VALIDATION_REQUESTVALIDATIONEXCEPTION"),
        ([["id", "=", True]], "VALIDATION_REQUESTVALIDATIONEXCEPTION"),
        ([["id", "=", "--5"]], "VALIDATION_REQUESTVALIDATIONEXCEPTION"),
        ([["id", "=", "²"]], "VALIDATION_REQUESTVALIDATIONEXCEPTION"),
        ([["id", "in", []]], "VALIDATION_REQUESTVALIDATIONEXCEPTION"),
        ([["when", "between", ["2026-01-01"]]], "VALIDATION_REQUESTVALIDATIONEXCEPTION"),
        ([["id"]], "INVALIDFILTEREXCEPTION"),
        ([{"logic": "xor", "conditions": []}], "INVALIDFILTEREXCEPTION"),
        ([{"logic": "or"}], "INVALIDFILTEREXCEPTION"),
        ("id=1", "VALIDATION_REQUESTVALIDATIONEXCEPTION"),
    ],
)
def test_filter_errors(raw, code):
    assert code_of(lambda: parse_filter(raw, ENTITY)) == code


def test_groups_nest_only_so_deep():
    raw: object = ["id", 1]
    for _ in range(20):
        raw = {"logic": "or", "conditions": [raw]}
    assert code_of(lambda: parse_filter([raw], ENTITY)) == "INVALIDFILTEREXCEPTION"


# --- select, order, pagination ---------------------------------------------------------------


def test_select_keeps_entity_order_and_skips_unknown_own_fields():
    assert parse_select(None, ENTITY) == ("id", "when", "flag", "note")
    assert parse_select(["note", "id", "ghost", "id"], ENTITY) == ("id", "note")
    assert code_of(lambda: parse_select(["owner.name"], ENTITY)) == "UNKNOWNDTOPROPERTYEXCEPTION"
    assert code_of(lambda: parse_select("id", ENTITY)) == "INVALIDSELECTEXCEPTION"
    assert code_of(lambda: parse_select([["id"]], ENTITY)) == "INVALIDSELECTEXCEPTION"
    strict = Entity("S", ENTITY.fields, lenient_select=False)
    assert code_of(lambda: parse_select(["ghost"], strict)) == "UNKNOWNDTOPROPERTYEXCEPTION"


def test_order():
    assert parse_order({"when": "desc", "id": "ASC"}, ENTITY) == (
        (ENTITY.by_name["when"], True),
        (ENTITY.by_name["id"], False),
    )
    assert code_of(lambda: parse_order({"flag": "ASC"}, ENTITY)) == "INVALIDORDEREXCEPTION"
    assert code_of(lambda: parse_order({"id": "UP"}, ENTITY)) == "INVALIDORDEREXCEPTION"
    assert code_of(lambda: parse_order(["id"], ENTITY)) == "INVALIDORDEREXCEPTION"


def test_pagination():
    assert parse_pagination(None) == (DEFAULT_LIMIT, 0)
    assert parse_pagination({"page": 3, "limit": 10}) == (10, 20)
    assert parse_pagination({"limit": "5", "offset": 7}) == (5, 7)
    assert parse_pagination({"limit": 10**6}) == (MAX_LIMIT, 0)
    assert parse_pagination({"page": 0, "limit": 50}) == (50, 0)
    bad_ones = ({"limit": 0}, {"page": -1}, {"offset": -1}, {"limit": "x"}, {"page": 1.5}, 5)
    for bad in (*bad_ones, {"limit": "²"}, {"offset": "-3"}):
        assert code_of(lambda bad=bad: parse_pagination(bad)) == "INVALIDPAGINATIONEXCEPTION"


# --- hostile input -------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.from_regex(r"\A[-+ ]{0,2}[0-9²١]{1,25}\Z"),
    st.sampled_from(["id", "when", "flag", "note", "=", "in", "between", "or", "2026-01-01"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
triples = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["id", "when", "flag", "note", "x", ""]),
            st.one_of(st.sampled_from(["=", "!=", ">", ">=", "<", "<=", "in", "between"]), scalars),
            json_values,
        ).map(list),
        st.tuples(st.sampled_from(["id", "when"]), json_values).map(list),
        st.fixed_dictionaries({"logic": scalars, "conditions": json_values}),
        json_values,
    ),
    max_size=5,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "filter": st.one_of(triples, json_values),
            "select": json_values,
            "order": json_values,
            "pagination": json_values,
        },
    )
)
def test_hostile_queries_parse_or_fail_as_rest3_errors(params):
    try:
        query = parse_query(params, ENTITY)
    except V3Error as error:
        assert error.code.startswith("BITRIX_REST_V3_EXCEPTION_")
        assert 400 <= error.status < 500
        return
    assert 1 <= query.limit <= MAX_LIMIT and query.offset >= 0
    assert set(query.select) <= {"id", "when", "flag", "note"}

    def check(term):
        if isinstance(term, Group):
            for inner in term.terms:
                check(inner)
            return
        assert term.operator in term.field.operators
        values = term.value if term.operator in ("in", "between") else (term.value,)
        for item in values:
            expected = {"int": int, "datetime": datetime, "bool": bool}[term.field.kind]
            assert isinstance(item, expected)

    for term in query.where:
        check(term)
