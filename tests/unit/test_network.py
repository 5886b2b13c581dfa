"""The office-network rules: reading ranges, and which address lies in which range."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b24local.scopes.timeman.network import (
    WrongFormat,
    check,
    decode,
    find,
    parse_range,
    read_ranges,
)

v4 = st.ip_addresses(v=4)
v6 = st.ip_addresses(v=6)
addresses = st.one_of(v4, v6)


def block(first, last) -> str:
    return f"{first}-{last}"


@given(a=addresses, b=addresses, x=addresses)
def test_an_address_is_inside_a_block_iff_it_is_between_its_ends(a, b, x):
    parsed = parse_range(block(a, b))
    if a.version != b.version or a > b:
        assert parsed is None
        return
    assert parsed is not None
    assert parsed.contains(x) == (x.version == a.version and a <= x <= b)


@given(a=addresses, x=addresses)
def test_a_single_address_holds_only_itself(a, x):
    parsed = parse_range(str(a))
    assert parsed is not None
    assert parsed.contains(x) == (x == a)


@given(a=addresses, b=addresses)
def test_a_good_range_reads_back_the_same(a, b):
    low, high = (a, b) if a.version != b.version or a <= b else (b, a)
    parsed = parse_range(f" {low} -  {high} ")
    if parsed is None:
        assert low.version != high.version
        return
    # The stored text has no spaces and parses to the same range again.
    assert parsed.ip_range == block(low, high)
    assert parse_range(parsed.ip_range) == parsed


@given(ranges=st.lists(st.tuples(v4, v4).map(sorted), max_size=5), x=v4)
def test_check_names_the_first_range_that_holds_the_address(ranges, x):
    parsed = [parse_range(block(a, b), f"r{i}") for i, (a, b) in enumerate(ranges)]
    assert all(p is not None for p in parsed)
    holding = [p for p in parsed if p is not None and p.contains(x)]
    answer = check(parsed, str(x))  # type: ignore[arg-type]
    if str(x) == "127.0.0.1":
        assert answer == {"ip": "127.0.0.1", "range": "127.0.0.1", "name": "localhost"}
    elif not ranges:
        assert answer == {"ip": str(x), "range": str(x), "name": str(x)}
    elif not holding:
        assert answer is False
    else:
        assert answer == {"ip": str(x), "range": holding[0].ip_range, "name": holding[0].name}
        assert find(parsed, x) is holding[0]  # type: ignore[arg-type]


@given(text=st.text(max_size=40))
def test_any_text_parses_or_is_refused_without_raising(text):
    parsed = parse_range(text)
    if parsed is not None:
        assert isinstance(parsed.first, IPv4Address | IPv6Address)
        assert parsed.first <= parsed.last
        assert parsed.first == ip_address(parsed.ip_range.split("-")[0])


@pytest.mark.parametrize(
    "text",
    ["10.0.0.1-", "-10.0.0.1", "1.2.3.4-5.6.7.8-9.9.9.9", "10.0.0.0/8", "fe80::1%eth0", " ", ""],
)
def test_malformed(text):
    assert parse_range(text) is None


def test_read_ranges_splits_good_from_bad_and_keeps_bad_ones_as_given():
    reading = read_ranges(
        {
            "0": {"IP_RANGE": "10.0.0.0-10.0.0.255", "NAME": 7},
            "1": {"ip_range": ["10.0.0.1"], "name": "list"},
        }
    )
    assert [(r.ip_range, r.name) for r in reading.correct] == [("10.0.0.0-10.0.0.255", "7")]
    assert reading.errors == ({"ip_range": ["10.0.0.1"], "name": "list"},)


@pytest.mark.parametrize("ranges", [None, 5, "x", ["10.0.0.1"], [None]])
def test_read_ranges_refuses_what_is_no_list_of_objects(ranges):
    with pytest.raises(WrongFormat):
        read_ranges(ranges)


def test_decode_reads_json_strings_only():
    assert decode('[{"ip_range": "10.0.0.1"}]') == [{"ip_range": "10.0.0.1"}]
    assert decode([1]) == [1]
    with pytest.raises(WrongFormat):
        decode("[")
