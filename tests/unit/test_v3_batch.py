"""REST 3.0 batch's pure rules (b24local.rest.v3.batch): reading the body into
calls, and ``$ref``/``$refArray`` substitution. Hostile bodies end only in a
Bitrix error; substitution leaves everything but its markers alone."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b24local.rest.batch import MAX_COMMANDS, ReferenceBudget
from b24local.rest.errors import RestError
from b24local.rest.v3.batch import REF, REF_ARRAY, commands, substitute

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
keys = st.text(max_size=8).filter(lambda k: k not in (REF, REF_ARRAY))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)
# Aliases and keys without dots, so a path names exactly one place.
names = st.text(alphabet="abcxyz_", min_size=1, max_size=5)


@given(st.dictionaries(st.text(max_size=5), json_values, max_size=60))
def test_any_body_gives_calls_or_a_bitrix_error(body: dict[str, Any]) -> None:
    try:
        calls = commands(body)
    except RestError as error:
        assert error.code.startswith(("BITRIX_REST_V3_", "ERROR_BATCH_"))
        return
    assert len(calls) <= MAX_COMMANDS
    for call in calls:
        assert call.method and isinstance(call.query, dict) and call.alias


def test_calls_keep_their_order_alias_and_query() -> None:
    body = {
        "0": {"method": "a.b", "query": {"x": 1}},
        "1": {"method": "c.d", "query": [], "as": "named", "parallel": True},
        "auth": "token",
    }
    calls = commands(body)
    assert [(c.alias, c.method, c.query) for c in calls] == [
        ("0", "a.b", {"x": 1}),
        ("named", "c.d", {}),
    ]


@given(json_values, st.dictionaries(names, json_values, max_size=3))
def test_values_without_markers_are_left_alone(value: Any, context: dict[str, Any]) -> None:
    assert substitute(value, context, ReferenceBudget()) == value


@given(names, st.lists(names, max_size=3), json_values)
def test_a_ref_takes_the_value_it_names_as_it_is(alias: str, path: list[str], leaf: Any) -> None:
    answer: Any = leaf
    for key in reversed(path):
        answer = {key: answer}
    context = {alias: {"item": answer}}
    marker = {REF: ".".join([alias, "item", *path])}
    assert substitute({"q": [marker]}, context, ReferenceBudget()) == {"q": [leaf]}


@given(names, names, st.lists(json_values, max_size=5))
def test_a_ref_array_takes_the_field_of_each_item(alias: str, field: str, values: list) -> None:
    context = {alias: {"items": [{field: v, "other": 0} for v in values]}}
    assert substitute({REF_ARRAY: f"{alias}.{field}"}, context, ReferenceBudget()) == values


@pytest.mark.parametrize(
    "marker",
    [{REF: "gone.item"}, {REF: "a.item.nope"}, {REF: 5}, {REF_ARRAY: "a"}, {REF_ARRAY: "a.x"}],
)
def test_markers_naming_nothing_are_invalid_select(marker: dict[str, Any]) -> None:
    with pytest.raises(RestError) as caught:
        substitute(marker, {"a": {"item": {"id": 1}}}, ReferenceBudget())
    assert caught.value.code == "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION"
