"""PHP's reading of bracketed form/query keys (``b24local.rest.phpkeys``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b24local.rest.errors import RestError
from b24local.rest.phpkeys import (
    decode_pairs,
    depth_of,
    listify,
    shape_of,
    small_shape_of,
    split_key,
)

BIG = {"max_depth": 64, "max_count": 10_000}


def decode(*pairs: tuple[str, Any], max_depth: int = 64, max_count: int = 10_000) -> dict:
    return decode_pairs(list(pairs), max_depth=max_depth, max_count=max_count)


# --- split_key -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "parts"),
    [
        ("ID", ["ID"]),
        ("ID[]", ["ID", None]),
        ("FILTER[>ID]", ["FILTER", ">ID"]),
        ("a[b][]", ["a", "b", None]),
        ("a[x][0]", ["a", "x", "0"]),
        ("a[][]", ["a", None, None]),
        # Text after a closing bracket that is not another bracket is ignored.
        ("a[b]tail", ["a", "b"]),
        ("a[b]tail[c]", ["a", "b"]),
        # An opening bracket inside an index is part of the index.
        ("a[b[c]", ["a", "b[c"]),
        # A nested bracket that is never closed ends the parsing.
        ("a[b][c", ["a", "b"]),
        ("[x]", ["", "x"]),
        ("", [""]),
    ],
)
def test_split_key(key: str, parts: list[str | None]) -> None:
    assert split_key(key) == parts


# --- decode_pairs ----------------------------------------------------------------------


def test_plain_keys_stay_flat() -> None:
    assert decode(("ID", "1"), ("NAME", "x")) == {"ID": "1", "NAME": "x"}


def test_appending_brackets_build_a_list() -> None:
    assert decode(("ID[]", "1"), ("ID[]", "2")) == {"ID": ["1", "2"]}


def test_named_index_builds_a_nested_dict() -> None:
    assert decode(("FILTER[>ID]", "5")) == {"FILTER": {">ID": "5"}}
    assert decode(("FILTER[>ID]", "5"), ("FILTER[NAME]", "J")) == {
        "FILTER": {">ID": "5", "NAME": "J"}
    }


def test_map_holding_a_list() -> None:
    assert decode(("a[x][0]", "1"), ("a[x][1]", "2")) == {"a": {"x": ["1", "2"]}}


def test_explicit_indexes_out_of_order_stay_a_dict() -> None:
    result = decode(("ID[1]", "a"), ("ID[0]", "b"))
    assert result == {"ID": {"1": "a", "0": "b"}}
    assert list(result["ID"]) == ["1", "0"]


def test_explicit_indexes_in_order_become_a_list() -> None:
    assert decode(("ID[0]", "a"), ("ID[1]", "b")) == {"ID": ["a", "b"]}


def test_gap_in_indexes_stays_a_dict() -> None:
    assert decode(("ID[0]", "a"), ("ID[2]", "b")) == {"ID": {"0": "a", "2": "b"}}


def test_append_goes_one_past_the_largest_integer_key() -> None:
    assert decode(("a[5]", "x"), ("a[]", "y"), ("a[]", "z")) == {
        "a": {"5": "x", "6": "y", "7": "z"}
    }
    # A key with a leading zero is a string key, not an index.
    assert decode(("a[07]", "x"), ("a[]", "y")) == {"a": {"07": "x", "0": "y"}}


def test_ten_thousand_appends() -> None:
    pairs = [("a[]", str(i)) for i in range(10_000)]
    assert decode(*pairs) == {"a": [str(i) for i in range(10_000)]}


def test_appends_after_explicit_keys_in_nested_containers() -> None:
    pairs = [
        ("a[x][]", "0"),
        ("a[x][9]", "9"),
        ("a[y][]", "y0"),
        ("a[x][]", "10"),
        ("a[x][3]", "3"),
    ]
    assert decode(*pairs, ("a[x][]", "11")) == {
        "a": {"x": {"0": "0", "9": "9", "10": "10", "3": "3", "11": "11"}, "y": ["y0"]}
    }


def test_a_container_replacing_a_value_starts_counting_afresh() -> None:
    assert decode(("a[]", "x"), ("a[]", "y"), ("a", "v"), ("a[]", "z")) == {"a": ["z"]}


@pytest.mark.parametrize(
    ("index", "after"),
    [("9223372036854775806", "9223372036854775807"), ("9223372036854775808", "0"),
     ("1" + "0" * 5000, "0")],
)  # fmt: skip
def test_keys_past_php_s_integers_are_string_keys(index: str, after: str) -> None:
    assert decode((f"a[{index}]", "x"), ("a[]", "y")) == {"a": {index: "x", after: "y"}}


@pytest.mark.parametrize("index", ["²", "١", "１"])
def test_unicode_digit_keys_are_string_keys(index: str) -> None:
    assert decode((f"a[{index}]", "x"), ("a[]", "y")) == {"a": {index: "x", "0": "y"}}


def test_append_then_mixed_keys() -> None:
    assert decode(("a[]", "x"), ("a[k]", "y"), ("a[]", "z")) == {
        "a": {"0": "x", "k": "y", "1": "z"}
    }


def test_later_value_wins_for_the_same_key() -> None:
    assert decode(("ID", "1"), ("ID", "2")) == {"ID": "2"}


def test_scalar_replaced_by_container_and_back() -> None:
    assert decode(("a", "1"), ("a[b]", "2")) == {"a": {"b": "2"}}
    assert decode(("a[b]", "2"), ("a", "1")) == {"a": "1"}


def test_nested_unclosed_bracket_drops_the_rest_of_the_key() -> None:
    assert decode(("a[b][c", "1")) == {"a": {"b": "1"}}


def test_top_level_unclosed_bracket_like_php() -> None:
    assert decode(("a[b", "1")) == {"a_b": "1"}


@pytest.mark.parametrize(("key", "name"), [("a.b", "a_b"), ("a b", "a_b"), ("a.b[c]", "a_b")])
def test_dots_and_spaces_in_names_like_php(key: str, name: str) -> None:
    assert name in decode((key, "1"))


def test_dots_inside_brackets_are_kept() -> None:
    assert decode(("a[b.c d]", "1")) == {"a": {"b.c d": "1"}}


def test_text_after_closing_bracket_is_ignored() -> None:
    assert decode(("a[b]junk", "1")) == {"a": {"b": "1"}}


@pytest.mark.parametrize("key", ["", "[x]", "[]", "[x][y]"])
def test_pairs_without_a_name_are_dropped(key: str) -> None:
    assert decode((key, "1"), ("kept", "2")) == {"kept": "2"}


def test_values_are_passed_through_untouched() -> None:
    marker = object()
    assert decode(("a[b]", marker))["a"]["b"] is marker


def test_depth_limit() -> None:
    # Three parts (a, b, c) fit a depth of three ...
    assert decode(("a[b][c]", "1"), max_depth=3) == {"a": {"b": {"c": "1"}}}
    # ... four do not.
    with pytest.raises(RestError) as caught:
        decode(("a[b][c][d]", "1"), max_depth=3)
    assert caught.value.code == "ERROR_PARAMS_TOO_DEEP"
    assert caught.value.status == 400


def test_count_limit() -> None:
    pairs = [(f"k{i}", str(i)) for i in range(5)]
    assert len(decode(*pairs, max_count=5)) == 5
    with pytest.raises(RestError) as caught:
        decode(*pairs, ("one_more", "x"), max_count=5)
    assert caught.value.code == "ERROR_PARAMS_TOO_MANY"
    assert caught.value.status == 400


def test_count_limit_counts_dropped_pairs_too() -> None:
    with pytest.raises(RestError) as caught:
        decode(("", "1"), ("", "2"), ("a", "3"), max_count=2)
    assert caught.value.code == "ERROR_PARAMS_TOO_MANY"


def test_empty_input() -> None:
    assert decode() == {}


# --- listify ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"0": "a", "1": "b"}, ["a", "b"]),
        ({"1": "a", "0": "b"}, {"1": "a", "0": "b"}),
        ({"0": "a", "2": "b"}, {"0": "a", "2": "b"}),
        ({"1": "a"}, {"1": "a"}),
        ({"00": "a"}, {"00": "a"}),
        ({}, {}),
        ({"x": {"0": {"0": 1}}}, {"x": [[1]]}),
        ([{"0": 1}], [{"0": 1}]),  # lists are left alone
        ("0", "0"),
        (None, None),
    ],
)
def test_listify(value: Any, expected: Any) -> None:
    assert listify(value) == expected


def test_listify_does_not_mutate_its_input() -> None:
    value = {"a": {"0": "x"}}
    listify(value)
    assert value == {"a": {"0": "x"}}


# --- depth_of --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "depth"),
    [
        (1, 0),
        ("x", 0),
        (None, 0),
        ({}, 1),
        ([], 1),
        ({"a": 1}, 1),
        ({"a": [1, 2]}, 2),
        ({"a": [1, {"b": {}}]}, 4),
        ([[], [[[]]], []], 4),
    ],
)
def test_depth_of(value: Any, depth: int) -> None:
    assert depth_of(value, limit=100) == depth


def test_depth_of_stops_early_past_the_limit() -> None:
    value: Any = 0
    for _ in range(50):
        value = [value]
    result = depth_of(value, limit=10)
    assert 10 < result <= 50
    assert depth_of(value, limit=50) == 50


@given(st.recursive(st.integers(), lambda inner: st.lists(inner, max_size=3), max_leaves=20))
def test_depth_of_matches_a_recursive_definition(value: Any) -> None:
    def reference(node: Any) -> int:
        if isinstance(node, list):
            return 1 + max((reference(child) for child in node), default=0)
        return 0

    assert depth_of(value, limit=1000) == reference(value)


# --- round trip ------------------------------------------------------------------------


def flatten(tree: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The inverse of decode_pairs for trees of dicts: PHP-style keys."""
    pairs: list[tuple[str, str]] = []
    for key, value in tree.items():
        name = f"{prefix}[{key}]" if prefix else key
        if isinstance(value, dict):
            pairs.extend(flatten(value, name))
        else:
            pairs.append((name, value))
    return pairs


def _names(forbidden: str) -> st.SearchStrategy[str]:
    # Non-numeric: an all-digit key would be read as a list index.
    return st.text(
        alphabet=st.characters(blacklist_characters=forbidden, blacklist_categories=("Cs",)),
        min_size=1,
        max_size=8,
    ).filter(lambda s: not (s.isascii() and s.isdigit()))


# PHP rewrites spaces and dots in the top-level name, so they cannot round-trip.
# NUL characters are refused (see the tests below).
TOP_NAMES = _names("[]. \x00")
# Inside brackets only the closing bracket is special.
INNER_NAMES = _names("]\x00")
LEAVES = st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=5)


INNER_VALUES = st.recursive(
    LEAVES,
    lambda children: st.dictionaries(INNER_NAMES, children, min_size=1, max_size=3),
    max_leaves=12,
)
TREES = st.dictionaries(TOP_NAMES, INNER_VALUES, max_size=4)


@given(TREES)
def test_flattened_tree_decodes_back(tree: dict[str, Any]) -> None:
    assert decode_pairs(flatten(tree), **BIG) == tree


@pytest.mark.parametrize("pair", [("a", "x\x00"), ("a\x00", "x"), ("a[b\x00]", "x")])
def test_a_nul_character_is_refused(pair: tuple[str, str]) -> None:
    with pytest.raises(RestError) as caught:
        decode_pairs([("ok", "1"), pair], **BIG)
    assert caught.value.code == "ERROR_BAD_ENCODING"


@given(
    st.recursive(
        st.integers(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner),
        max_leaves=30,
    ),
    st.integers(0, 6),
    st.integers(0, 12),
)
def test_both_shape_walks_agree(value: Any, limit: int, max_values: int) -> None:
    depth, count = small_shape_of(value, limit=100, max_values=10**9)
    big = shape_of(value, limit=100, max_values=10**9)
    assert big == (depth, count)
    # Past either bound, both say so.
    for walk in (shape_of, small_shape_of):
        seen_depth, seen_count = walk(value, limit=limit, max_values=max_values)
        assert (seen_depth > limit or seen_count > max_values) == (
            depth > limit or count > max_values
        )
