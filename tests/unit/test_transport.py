"""Paths and parameter bodies (``b24local.rest.transport``)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from b24local.rest.errors import RestError
from b24local.rest.phpkeys import decode_pairs
from b24local.rest.transport import (
    RequestLimits,
    WebhookCredentials,
    decode_json,
    decode_query,
    parse_path,
    requested_format,
    split_format,
)

LIMITS = RequestLimits()


def error_of(function, *args) -> RestError:
    with pytest.raises(RestError) as caught:
        function(*args)
    return caught.value


# --- split_format ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("im.user.get", ("im.user.get", "json")),
        ("im.user.get.json", ("im.user.get", "json")),
        ("im.user.get.xml", ("im.user.get", "xml")),
        ("IM.User.Get", ("im.user.get", "json")),
        ("IM.USER.GET.XML", ("im.user.get", "xml")),
        ("profile.JSON", ("profile", "json")),
        ("profile", ("profile", "json")),
        ("profile.jsonx", ("profile.jsonx", "json")),
        ("profilexml", ("profilexml", "json")),
        ("a.xml.json", ("a.xml", "json")),
    ],
)
def test_split_format(name: str, expected: tuple[str, str]) -> None:
    assert split_format(name) == expected


# --- parse_path ------------------------------------------------------------------------


def test_one_segment() -> None:
    assert parse_path("profile") == ("profile", "json", None)
    assert parse_path("/profile/") == ("profile", "json", None)
    assert parse_path("im.user.get.xml") == ("im.user.get", "xml", None)


def test_three_segments_carry_webhook_credentials() -> None:
    assert parse_path("1/abcdef0123456789/profile") == (
        "profile",
        "json",
        WebhookCredentials(1, "abcdef0123456789"),
    )
    assert parse_path("/12/code/im.user.get.xml/") == (
        "im.user.get",
        "xml",
        WebhookCredentials(12, "code"),
    )


def test_method_names_are_lowered_but_codes_are_not() -> None:
    method, fmt, webhook = parse_path("7/AbC/IM.USER.GET.JSON")
    assert (method, fmt) == ("im.user.get", "json")
    assert webhook == WebhookCredentials(7, "AbC")


@pytest.mark.parametrize("path", ["x/code/profile", "-1/code/profile", "1a/code/profile"])
def test_non_numeric_user_is_a_failed_login(path: str) -> None:
    error = error_of(parse_path, path)
    assert (error.code, error.status) == ("NO_AUTH_FOUND", 401)


def test_empty_code_is_a_failed_login() -> None:
    error = error_of(parse_path, "1//profile")
    assert (error.code, error.status) == ("NO_AUTH_FOUND", 401)


def test_superscript_digit_user_is_a_failed_login() -> None:
    error = error_of(parse_path, "²/code/profile")
    assert (error.code, error.status) == ("NO_AUTH_FOUND", 401)


@pytest.mark.parametrize(
    "path", ["", "/", "1/code", "a/b", "1/code/profile/extra", "a/b/c/d/e", "//"]
)
def test_other_segment_counts_are_unknown_methods(path: str) -> None:
    error = error_of(parse_path, path)
    assert (error.code, error.status) == ("ERROR_METHOD_NOT_FOUND", 404)


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("1/code/profile.xml", "xml"), ("x/y/z.xml/", "xml"), ("a/b", "json"), ("", "json")],
)
def test_requested_format(path: str, fmt: str) -> None:
    assert requested_format(path) == fmt


# --- decode_json -----------------------------------------------------------------------


def test_decode_json_object() -> None:
    assert decode_json(b'{"ID": 1, "F": {"A": [1, 2]}}', LIMITS) == {"ID": 1, "F": {"A": [1, 2]}}


def test_decode_json_null_is_empty() -> None:
    assert decode_json(b"null", LIMITS) == {}


def test_decode_json_top_level_list_becomes_positional_keys() -> None:
    assert decode_json(b'["a", "b"]', LIMITS) == {"0": "a", "1": "b"}


@pytest.mark.parametrize("body", [b"{", b"{'a': 1}", b"not json", b'{"a": 1,}', b"\xff"])
def test_decode_json_invalid(body: bytes) -> None:
    error = error_of(decode_json, body, LIMITS)
    assert (error.code, error.status) == ("ERROR_INVALID_JSON", 400)


@pytest.mark.parametrize("body", [b"1", b'"text"', b"true"])
def test_decode_json_scalar_is_invalid(body: bytes) -> None:
    error = error_of(decode_json, body, LIMITS)
    assert (error.code, error.status) == ("ERROR_INVALID_JSON", 400)


def nested(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


def test_decode_json_depth_limit() -> None:
    limits = RequestLimits(max_depth=5)
    assert decode_json(nested(5), limits) is not None
    error = error_of(decode_json, nested(6), limits)
    assert (error.code, error.status) == ("ERROR_PARAMS_TOO_DEEP", 400)


def test_decode_json_default_depth_limit() -> None:
    error = error_of(decode_json, nested(LIMITS.max_depth + 1), LIMITS)
    assert error.code == "ERROR_PARAMS_TOO_DEEP"


@pytest.mark.parametrize("body", [nested(2000), b"[" * 2000 + b"]" * 2000])
def test_decode_json_very_deep_is_too_deep(body: bytes) -> None:
    error = error_of(decode_json, body, LIMITS)
    assert error.code == "ERROR_PARAMS_TOO_DEEP"


# Text a client can send: no NUL (refused on purpose) and no lone surrogates, which
# no UTF-8 body can carry and JSON decoders (orjson, PHP's) refuse.
_SENDABLE = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
TEXT = st.text(alphabet=_SENDABLE)
KEYS = st.text(alphabet=_SENDABLE, max_size=5)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=15,
)


@given(st.dictionaries(KEYS, JSON_VALUES, max_size=4))
def test_decode_json_round_trips_objects(value: dict) -> None:
    assert decode_json(json.dumps(value).encode(), LIMITS) == value


@pytest.mark.parametrize(
    "value", [{"a": "x\x00"}, {"a\x00": 1}, {"a": [1, {"b": ["\x00"]}]}, ["\x00"]]
)
def test_decode_json_refuses_a_nul_character(value: Any) -> None:
    assert error_of(decode_json, json.dumps(value).encode(), LIMITS).code == "ERROR_BAD_ENCODING"


def test_decode_json_keeps_an_escaped_backslash_before_u0000() -> None:
    assert decode_json(rb'{"a": "\\u0000"}', LIMITS) == {"a": "\\u0000"}


# --- decode_query ----------------------------------------------------------------------


def test_decode_query_php_keys() -> None:
    assert decode_query(b"ID[]=1&ID[]=2&FILTER[%3EID]=5&x=", LIMITS) == {
        "ID": ["1", "2"],
        "FILTER": {">ID": "5"},
        "x": "",
    }


def test_decode_query_accepts_str_and_bytes() -> None:
    assert decode_query("a[b]=1", LIMITS) == decode_query(b"a[b]=1", LIMITS) == {"a": {"b": "1"}}


def test_decode_query_percent_and_plus_decoding() -> None:
    assert decode_query(b"NAME=J%C3%B6rg+Doe&E=a%2Bb%26c", LIMITS) == {
        "NAME": "Jörg Doe",
        "E": "a+b&c",
    }


def test_decode_query_encoded_brackets() -> None:
    assert decode_query(b"ID%5B%5D=1&ID%5B%5D=2", LIMITS) == {"ID": ["1", "2"]}


def test_decode_query_empty() -> None:
    assert decode_query(b"", LIMITS) == {}


def test_decode_query_bad_utf8_is_replaced() -> None:
    assert decode_query(b"a=%FF", LIMITS) == {"a": "\ufffd"}


def test_decode_query_raw_utf8_bytes() -> None:
    assert decode_query("NAME=Jörg".encode(), LIMITS) == {"NAME": "Jörg"}


def test_decode_query_count_limit() -> None:
    limits = RequestLimits(max_params=3)
    assert len(decode_query(b"a=1&b=2&c=3", limits)) == 3
    error = error_of(decode_query, b"a=1&b=2&c=3&d=4", limits)
    assert (error.code, error.status) == ("ERROR_PARAMS_TOO_MANY", 400)


def test_decode_query_depth_limit() -> None:
    limits = RequestLimits(max_depth=3)
    assert decode_query(b"a[b][c]=1", limits) == {"a": {"b": {"c": "1"}}}
    error = error_of(decode_query, b"a[b][c][d]=1", limits)
    assert (error.code, error.status) == ("ERROR_PARAMS_TOO_DEEP", 400)


@given(st.text(alphabet="ab=&[]0x1é. %+2", max_size=24))
def test_decode_query_reads_as_parse_qsl_does(text: str) -> None:
    """Queries without escapes take a shortcut; it must read them as parse_qsl does."""

    def reference() -> dict:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=LIMITS.max_params)
        return decode_pairs(pairs, max_depth=LIMITS.max_depth, max_count=LIMITS.max_params)

    assert _outcome(decode_query, text, LIMITS) == _outcome(reference)


def _outcome(function, *args) -> tuple[str, Any]:
    """What a call gives: its value, or the code of the error it raises (``%00``
    decodes to a NUL, which both ways refuse)."""
    try:
        return "value", function(*args)
    except RestError as error:
        return "error", error.code


def test_decode_query_counts_fields_as_parse_qsl_does() -> None:
    # Empty fields count against the limit too, with or without escapes.
    for text in ("&" * LIMITS.max_params, "%20" + "&" * LIMITS.max_params):
        assert error_of(decode_query, text, LIMITS).code == "ERROR_PARAMS_TOO_MANY"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("0=ab", {"0": "ab"}),  # once read as a list, then as the pair ("a", "b")
        ("0=a&1=b", {"0": "a", "1": "b"}),
        ("1=x&0=y", {"1": "x", "0": "y"}),
        ("0[]=x&0[]=y", {"0": ["x", "y"]}),
        ("0=a%26b", {"0": "a&b"}),
    ],
)
def test_decode_query_keeps_the_top_level_a_map(query: str, expected: dict) -> None:
    assert decode_query(query, LIMITS) == expected


def test_decode_json_counts_its_values() -> None:
    limits = RequestLimits(max_json_values=5)
    assert decode_json(b'{"a":[1,2],"b":{"c":3}}', limits) == {"a": [1, 2], "b": {"c": 3}}
    for body in (b'{"a":[1,2,3,4,5]}', b'{"a":[[],[],[],[],[]]}', b'{"a":"[[[[[["}'):
        assert error_of(decode_json, body, limits).code == "ERROR_PARAMS_TOO_MANY"


@settings(deadline=None, max_examples=30)
@given(st.lists(st.sampled_from(["%D0%B9", "%4", "%", "a", "+", "%41", "é", "%ZZ"]), max_size=40))
def test_decode_query_reads_long_values_as_parse_qsl_does(pieces: list[str]) -> None:
    # Longer than one piece of unescaping, with escapes wherever the cuts fall.
    value = "".join(pieces) * 2 + "%e2%82%ac" * 8_000 + "".join(pieces)
    expected = dict(parse_qsl(f"a={value}", keep_blank_values=True, errors="replace"))
    assert decode_query(f"a={value}&b=1", LIMITS) == {**expected, "b": "1"}
