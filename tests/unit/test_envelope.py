"""Answer bodies (``b24local.rest.envelope``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from b24local.rest.envelope import (
    ListPage,
    Operating,
    atom,
    encode_json,
    error_body,
    render,
    render_error,
    success_body,
    time_block,
    to_xml,
)
from b24local.rest.errors import RestError

WINTER = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
SUMMER = datetime(2026, 7, 15, 12, 0, 0, tzinfo=UTC)


# --- atom ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        (WINTER, "UTC", "2026-01-15T12:00:00+00:00"),
        (WINTER, "Europe/Berlin", "2026-01-15T13:00:00+01:00"),
        (SUMMER, "Europe/Berlin", "2026-07-15T14:00:00+02:00"),
        (WINTER, "Europe/Moscow", "2026-01-15T15:00:00+03:00"),
        (WINTER, "America/New_York", "2026-01-15T07:00:00-05:00"),
        (SUMMER, "America/New_York", "2026-07-15T08:00:00-04:00"),
        (WINTER, "Asia/Kolkata", "2026-01-15T17:30:00+05:30"),
        (WINTER, "Asia/Kathmandu", "2026-01-15T17:45:00+05:45"),
        (WINTER, "America/St_Johns", "2026-01-15T08:30:00-03:30"),
        (WINTER, "Pacific/Chatham", "2026-01-16T01:45:00+13:45"),
        (WINTER, "Pacific/Kiritimati", "2026-01-16T02:00:00+14:00"),
        (WINTER, "Pacific/Pago_Pago", "2026-01-15T01:00:00-11:00"),
    ],
)
def test_atom_in_zones(moment: datetime, zone: str, expected: str) -> None:
    assert atom(moment, ZoneInfo(zone)) == expected


def test_atom_without_zone_keeps_the_moment_s_own_offset() -> None:
    moment = datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=-7)))
    assert atom(moment) == "2026-03-02T09:30:00-07:00"
    assert atom(WINTER) == "2026-01-15T12:00:00+00:00"


def test_atom_drops_fractions() -> None:
    moment = datetime(2026, 3, 2, 9, 30, 5, 999_999, tzinfo=UTC)
    assert atom(moment, ZoneInfo("UTC")) == "2026-03-02T09:30:05+00:00"


@given(
    st.datetimes(
        min_value=datetime(1980, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.just(UTC),
    ),
    st.sampled_from(["UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Asia/Tokyo"]),
)
def test_atom_parses_back_to_the_same_second(moment: datetime, zone: str) -> None:
    text = atom(moment, ZoneInfo(zone))
    parsed = datetime.fromisoformat(text)
    assert parsed == moment.replace(microsecond=0)
    assert parsed.utcoffset() == moment.astimezone(ZoneInfo(zone)).utcoffset()
    assert len(text) == 25
    assert text[-3] == ":"


# --- time_block ------------------------------------------------------------------------


def test_time_block() -> None:
    started = datetime(2026, 3, 2, 8, 30, 0, 250_000, tzinfo=UTC)
    finished = started + timedelta(milliseconds=500)
    block = time_block(
        started, finished, 0.125, ZoneInfo("Europe/Berlin"), Operating(1.5, 1_772_440_800)
    )
    assert list(block) == [
        "start",
        "finish",
        "duration",
        "processing",
        "date_start",
        "date_finish",
        "operating_reset_at",
        "operating",
    ]
    assert block["start"] == pytest.approx(started.timestamp())
    assert block["finish"] == pytest.approx(finished.timestamp())
    assert block["duration"] == pytest.approx(0.5)
    assert block["processing"] == 0.125
    assert block["date_start"] == "2026-03-02T09:30:00+01:00"
    assert block["date_finish"] == "2026-03-02T09:30:00+01:00"
    assert block["operating_reset_at"] == 1_772_440_800
    assert block["operating"] == 1.5
    for key in ("start", "finish", "duration", "processing", "operating"):
        assert type(block[key]) is float, key
    for key in ("date_start", "date_finish"):
        assert type(block[key]) is str, key
    assert type(block["operating_reset_at"]) is int


@pytest.mark.parametrize("processing", [0.0, 0.00006, 0.4, 2.5])
def test_time_block_of_a_clock_that_stood_still(processing: float) -> None:
    # A frozen --dev clock: the call still took its processing time.
    started = datetime(2026, 3, 2, 8, 30, 59, 999_000, tzinfo=UTC)
    block = time_block(started, started, processing, UTC, Operating())
    assert block["duration"] == processing
    assert block["finish"] == started.timestamp() + processing
    # Epoch seconds as floats keep about a microsecond.
    assert block["finish"] - block["start"] == pytest.approx(block["duration"], abs=1e-6)
    finished = datetime.fromtimestamp(block["finish"], UTC)
    assert block["date_finish"] == atom(finished)


@given(
    st.floats(min_value=0, max_value=5),
    st.floats(min_value=0, max_value=5),
)
def test_time_block_duration_is_never_below_processing(elapsed: float, processing: float) -> None:
    started = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    finished = started + timedelta(seconds=elapsed)
    block = time_block(started, finished, processing, UTC, Operating())
    assert block["duration"] >= block["processing"]
    assert block["finish"] >= block["start"]
    assert block["date_finish"] >= block["date_start"]


def test_operating_defaults() -> None:
    assert Operating() == Operating(operating=0.0, reset_at=0)


# --- success_body / error_body ---------------------------------------------------------

TIME = {"start": 1.0}


def test_success_body_plain() -> None:
    body = success_body({"ID": 1}, TIME)
    assert body == {"result": {"ID": 1}, "time": TIME}
    assert list(body) == ["result", "time"]


@pytest.mark.parametrize("result", [None, [], 0, False, ""])
def test_success_body_keeps_empty_results(result) -> None:
    assert success_body(result, TIME) == {"result": result, "time": TIME}


def test_success_body_list_page_full() -> None:
    body = success_body(ListPage([1, 2], total=120, next=50), TIME)
    assert list(body) == ["result", "next", "total", "time"]
    assert body == {"result": [1, 2], "next": 50, "total": 120, "time": TIME}


def test_success_body_list_page_last_page() -> None:
    body = success_body(ListPage([1], total=1), TIME)
    assert list(body) == ["result", "total", "time"]
    assert body["total"] == 1


def test_success_body_list_page_without_total() -> None:
    body = success_body(ListPage([1], next=50), TIME)
    assert list(body) == ["result", "next", "time"]


def test_success_body_list_page_bare() -> None:
    assert list(success_body(ListPage([]), TIME)) == ["result", "time"]


def test_success_body_list_page_zero_values_are_kept() -> None:
    body = success_body(ListPage([], total=0, next=0), TIME)
    assert body == {"result": [], "next": 0, "total": 0, "time": TIME}


def test_error_body_and_render_error() -> None:
    error = RestError("NO_AUTH_FOUND", "Wrong authorization data", 401)
    assert error_body(error) == {
        "error": "NO_AUTH_FOUND",
        "error_description": "Wrong authorization data",
    }
    response = render_error(error)
    assert response.status_code == 401
    assert response.media_type == "application/json"
    assert json.loads(response.body) == error_body(error)
    xml = render_error(error, "xml")
    assert xml.status_code == 401
    assert xml.media_type.startswith("text/xml")
    root = ElementTree.fromstring(xml.body)
    assert root.findtext("error") == "NO_AUTH_FOUND"


def test_encode_json() -> None:
    assert json.loads(encode_json({"a": [1, "é"], 2: None})) == {"a": [1, "é"], "2": None}


def test_render_json() -> None:
    response = render({"result": True}, 200, "json")
    assert response.status_code == 200
    assert json.loads(response.body) == {"result": True}


# --- to_xml ----------------------------------------------------------------------------


def test_to_xml_shape() -> None:
    xml = to_xml({"result": {"ID": 1, "LIST": ["a", "b"], "OK": True, "NO": False, "N": None}})
    assert xml == (
        b'<?xml version="1.0" encoding="utf-8"?><response><result>'
        b"<ID>1</ID><LIST><item>a</item><item>b</item></LIST>"
        b"<OK>true</OK><NO>false</NO><N></N>"
        b"</result></response>"
    )


def test_to_xml_escapes_text() -> None:
    xml = to_xml({"result": "<b>Tom & Jerry</b> \"'"})
    assert b"&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;" in xml
    assert ElementTree.fromstring(xml).findtext("result") == "<b>Tom & Jerry</b> \"'"


def test_to_xml_sanitises_tags() -> None:
    xml = to_xml({"1": "a", "": "b", "a b<c>": "c", "_ok.x-y": "d", "-x": "e"})
    root = ElementTree.fromstring(xml)
    assert [child.tag for child in root] == ["item", "item", "a_b_c_", "_ok.x-y", "item"]
    assert [child.text for child in root] == ["a", "b", "c", "d", "e"]


def test_to_xml_is_utf8() -> None:
    xml = to_xml({"name": "Jörg 日本"})
    assert "Jörg 日本".encode() in xml
    assert ElementTree.fromstring(xml).findtext("name") == "Jörg 日本"


def test_to_xml_render() -> None:
    response = render({"result": 1}, 200, "xml")
    assert response.media_type == "text/xml; charset=utf-8"
    assert response.body == to_xml({"result": 1})


# Characters XML 1.0 allows in text (no other control characters).
XML_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters="\ufffe\uffff",
    )
    | st.sampled_from("\t\n"),
    max_size=10,
)
XML_KEYS = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=0, max_size=6
)
XML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | XML_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(XML_KEYS, children, max_size=3)
    ),
    max_leaves=12,
)


@given(st.dictionaries(XML_KEYS, XML_VALUES, max_size=4))
def test_to_xml_is_always_well_formed(body: dict) -> None:
    root = ElementTree.fromstring(to_xml(body))
    assert root.tag == "response"
    assert len(root) == len(body)


@pytest.mark.parametrize("body", [{"a": "x\x01y"}, {"a²": 1}, {"ª": 1}])
def test_to_xml_well_formed_for_awkward_input(body: dict) -> None:
    ElementTree.fromstring(to_xml(body))
