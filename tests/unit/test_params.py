"""PHP coercions of method parameters (``b24local.rest.params``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b24local.rest.params import Params, php_int, php_str, php_truthy

PHP_INT_MAX = 2**63 - 1
PHP_INT_MIN = -(2**63)


# --- php_int: PHP 8 intval ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12abc", 12),
        ("abc", 0),
        (" 12", 12),
        ("\t\n12", 12),
        ("12 ", 12),
        ("1e3", 1000),
        ("1.5e3", 1500),
        ("1e-3", 0),
        ("1e", 1),
        ("-7", -7),
        ("+5", 5),
        ("-0", 0),
        ("3.9", 3),
        ("-3.9", -3),
        (".5", 0),
        ("1.", 1),
        ("0x1A", 0),
        ("0b11", 0),
        ("012", 12),
        ("1_000", 1),
        ("", 0),
        ("-", 0),
        (True, 1),
        (False, 0),
        (3.9, 3),
        (-3.9, -3),
        (float("nan"), 0),
        (float("inf"), 0),
        (float("-inf"), 0),
        (42, 42),
        ([], 0),
        ([1], 1),
        ([0], 1),
        ({}, 0),
        ({"a": 1}, 1),
        (None, 0),
    ],
)
def test_php_int(value: Any, expected: int) -> None:
    result = php_int(value)
    assert result == expected
    assert type(result) is int


@given(st.integers(min_value=PHP_INT_MIN, max_value=PHP_INT_MAX))
def test_php_int_reads_back_any_64_bit_integer(n: int) -> None:
    assert php_int(str(n)) == n


@given(st.integers(min_value=PHP_INT_MIN, max_value=PHP_INT_MAX), st.text(max_size=5))
def test_php_int_ignores_a_non_numeric_tail(n: int, tail: str) -> None:
    if tail[:1].isdigit() or tail[:1] in (".", "e", "E"):
        tail = "x" + tail
    assert php_int(f"{n}{tail}") == n


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("99999999999999999999", PHP_INT_MAX),
        ("-99999999999999999999", PHP_INT_MIN),
        # Past the 4,300 digits Python's int() reads.
        ("9" * 5000, PHP_INT_MAX),
        ("-" + "9" * 5000 + "abc", PHP_INT_MIN),
        ("+" + "0" * 5000 + "42", 42),
        ("0" * 5000, 0),
    ],
)
def test_php_int_saturates_like_php(text: str, expected: int) -> None:
    assert php_int(text) == expected


def test_php_int_wraps_huge_floats_like_php() -> None:
    assert php_int(420000000000000000000.0) == -4275113695319687168


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (PHP_INT_MAX, PHP_INT_MAX),
        (PHP_INT_MIN, PHP_INT_MIN),
        # JSON integers past PHP's range: json_decode gives floats, and intval wraps them.
        (PHP_INT_MAX + 1, PHP_INT_MIN),
        (2**64 - 1, 0),
        (PHP_INT_MIN - 1, PHP_INT_MIN),
        (2**64 + 2**12, 4096),
    ],
)
def test_php_int_reads_integers_past_64_bits_as_floats(value: int, expected: int) -> None:
    assert php_int(value) == expected


@given(
    st.integers(min_value=PHP_INT_MAX + 1, max_value=2**70)
    | st.integers(min_value=-(2**70), max_value=PHP_INT_MIN - 1)
)
def test_php_int_of_an_integer_past_64_bits_is_that_of_its_float(n: int) -> None:
    assert php_int(n) == php_int(float(n))


@pytest.mark.parametrize("text", ["١٢", "\u00a012", "\u200312", "１２"])
def test_php_int_reads_only_ascii_digits_and_spaces(text: str) -> None:
    assert php_int(text) == 0


# --- php_truthy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["", "0", "N", "n", " n ", "false", "FALSE", "no", "No", "off", "OFF", " "]
)
def test_falsy_strings(value: str) -> None:
    assert php_truthy(value) is False


@pytest.mark.parametrize("value", ["Y", "y", "1", "true", "yes", "on", "abc", "0.0", "00"])
def test_truthy_strings(value: str) -> None:
    assert php_truthy(value) is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, False),
        (0, False),
        (1, True),
        (-1, True),
        (0.0, False),
        (0.1, True),
        ([], False),
        ([0], True),
        ({}, False),
        ({"a": 0}, True),
        (True, True),
        (False, False),
    ],
)
def test_truthy_non_strings(value: Any, expected: bool) -> None:
    assert php_truthy(value) is expected


# --- php_str ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "1"),
        (False, ""),
        (5, "5"),
        (-5, "-5"),
        (2.0, "2"),
        (-0.0, "0"),
        (2.5, "2.5"),
        ("text", "text"),
        ("", ""),
        ([1, 2], "Array"),
        ([], "Array"),
        ({"a": 1}, "Array"),
    ],
)
def test_php_str(value: Any, expected: str) -> None:
    assert php_str(value) == expected


# --- Params ----------------------------------------------------------------------------


def test_params_is_a_read_only_mapping() -> None:
    params = Params({"A": 1, "b": 2})
    assert dict(params) == {"A": 1, "b": 2}
    assert len(params) == 2
    assert params["A"] == 1
    assert "b" in params
    with pytest.raises(KeyError):
        params["missing"]
    with pytest.raises(TypeError):
        params["A"] = 3  # type: ignore[index]


def test_params_copy_their_input() -> None:
    data = {"A": 1}
    params = Params(data)
    data["A"] = 2
    assert params["A"] == 1
    raw = params.raw()
    raw["A"] = 3
    assert params["A"] == 1


def test_params_none_is_empty() -> None:
    assert len(Params(None)) == 0
    assert len(Params()) == 0


def test_upper_changes_key_case() -> None:
    assert Params({"id": 1, "Name": "x", "FOO": 2}).upper().raw() == {
        "ID": 1,
        "NAME": "x",
        "FOO": 2,
    }


def test_upper_later_key_wins() -> None:
    assert Params({"id": 1, "ID": 2}).upper().raw() == {"ID": 2}
    assert Params({"ID": 2, "id": 1}).upper().raw() == {"ID": 1}
    assert Params({"id": 1, "Id": 2, "iD": 3}).upper().raw() == {"ID": 3}


def test_upper_returns_params() -> None:
    upper = Params({"id": "5"}).upper()
    assert isinstance(upper, Params)
    assert upper.int("ID") == 5


def test_has() -> None:
    params = Params({"A": None})
    assert params.has("A")
    assert not params.has("a")


def test_int_default_and_coercion() -> None:
    params = Params({"N": "12abc", "Z": None})
    assert params.int("N") == 12
    assert params.int("N", default=7) == 12
    assert params.int("missing") == 0
    assert params.int("missing", default=7) == 7
    # A present but empty value coerces; it does not fall back to the default.
    assert params.int("Z", default=7) == 0


def test_str_default_and_coercion() -> None:
    params = Params({"S": 5, "B": True, "N": None})
    assert params.str("S") == "5"
    assert params.str("B") == "1"
    assert params.str("N", default="d") == ""
    assert params.str("missing") == ""
    assert params.str("missing", default="d") == "d"


def test_flag_default_and_coercion() -> None:
    params = Params({"Y": "Y", "N": "N", "E": ""})
    assert params.flag("Y") is True
    assert params.flag("N", default=True) is False
    assert params.flag("E", default=True) is False
    assert params.flag("missing") is False
    assert params.flag("missing", default=True) is True
