"""The pure rules of app.option.* / user.option.*: merging, caps, reading."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b24local.scopes.common import options

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=10,
)
option_maps = st.dictionaries(st.text(max_size=8), json_values, max_size=8)


@given(option_maps, option_maps.filter(bool))
def test_set_then_get_answers_the_merge(stored, given_map):
    after = options.merged(stored, options.given_options({"options": given_map}))
    # Every given name reads back as given; every other stored name is kept.
    for name, value in given_map.items():
        assert options.read(after, name) == value
    for name in set(stored) - set(given_map):
        assert options.read(after, name) == stored[name]
    assert options.decode(options.encode(after)) == after


@given(option_maps)
def test_reading_everything_is_the_map_or_phps_list(stored):
    everything = options.read(stored, None)
    if isinstance(everything, list):
        assert list(stored) == [str(i) for i in range(len(stored))]
        assert everything == list(stored.values())
    else:
        assert everything == stored


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.text(), st.lists(st.integers())))
def test_a_set_call_is_saved_or_refused_never_anything_else(options_param):
    try:
        found = options.given_options({"options": options_param, "other": 1})
    except options.OptionsError as refused:
        assert refused.kind in {"empty", "too_many"}
    else:
        assert found and all(isinstance(name, str) for name in found)


def test_the_caps():
    with pytest.raises(options.OptionsError, match="too_many"):
        options.given_options({"options": {str(i): i for i in range(options.MAX_OPTIONS + 1)}})
    full = {str(i): i for i in range(options.MAX_OPTIONS)}
    with pytest.raises(options.OptionsError, match="too_many"):
        options.merged(full, {"one more": 1})
    with pytest.raises(options.OptionsError, match="too_large"):
        options.merged({}, {"big": "x" * options.MAX_BYTES})
    with pytest.raises(options.OptionsError, match="too_large"):
        options.merged({}, {"huge": 2**70})


def test_option_names_as_php_array_keys():
    stored = {"1": "one", "0": "zero", "x": "ex"}
    assert [options.read(stored, key) for key in (1, True, False, 1.9, "x", [1], {"a": 1})] == [
        "one", "one", "zero", "one", "ex", None, None
    ]  # fmt: skip
