"""Work time through the official Python SDK (b24pysdk 1.3.2) against a real
``b24local serve --tls --dev``: ``client.timeman.status/open/pause/close/settings``.

The server clock is frozen and moved with the dev API between calls, so
``DURATION`` and ``TIME_LEAKS`` are exact. The SDK trusts the local CA only
through ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from b24pysdk import Client
from b24pysdk.errors import BitrixAPIBadRequest, BitrixAPIError

from sdkhooks import trust_local_ca, webhook  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.process

HMS = re.compile(r"\d{2}:\d{2}:\d{2}")
DAY = datetime(2026, 3, 2, tzinfo=UTC)
DEFAULTS = {
    "UF_TIMEMAN": True,
    "UF_TM_FREE": False,
    "UF_TM_MAX_START": "09:15:00",
    "UF_TM_MIN_FINISH": "17:45:00",
    "UF_TM_MIN_DURATION": "08:00:00",
    "UF_TM_ALLOWED_DELTA": "00:15:00",
}


@pytest.fixture(scope="module", autouse=True)
def real_clock_afterwards(live_server) -> Iterator[None]:
    yield
    live_server.dev(
        "POST", "/_b24local/clock", {"now": datetime.now(UTC).isoformat(), "freeze": False}
    )


@pytest.fixture
def client(live_server) -> Client:
    return Client(webhook(live_server))


@pytest.fixture(scope="module")
def worker(live_server) -> tuple[int, str]:
    """A second user (not an administrator) with a ``timeman``-only webhook."""
    user_id = int(live_server.cli("user", "add", "--name", "Wendy", "--last-name", "Worker"))
    token = live_server.cli("webhook", "add", "--user", str(user_id), "--scope", "timeman")
    return user_id, token


def clock_at(live_server, moment: datetime) -> None:
    state = live_server.dev("POST", "/_b24local/clock", {"now": moment.isoformat(), "freeze": True})
    assert state["frozen"] is True
    assert datetime.fromisoformat(state["now"]) == moment


def on(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def check_day(
    result: dict[str, Any], status: str, duration: str, leaks: str, start: datetime
) -> None:
    assert result["STATUS"] == status, result
    assert HMS.fullmatch(result["DURATION"]), result
    assert HMS.fullmatch(result["TIME_LEAKS"]), result
    assert result["DURATION"] == duration, result
    assert result["TIME_LEAKS"] == leaks, result
    assert result["TIME_START"] == start.strftime("%Y-%m-%dT%H:%M:%S+00:00"), result
    assert result["TZ_OFFSET"] == 0


def test_a_day_status_open_pause_resume_close(live_server, client: Client) -> None:
    timeman = client.timeman
    clock_at(live_server, on(DAY, 8, 30))
    # A user with no day at all: the status and nothing else, as the real service says.
    assert timeman.status().result == {"STATUS": "CLOSED"}

    start = on(DAY, 9)
    clock_at(live_server, start)
    opened = timeman.open().result
    check_day(opened, "OPENED", "00:00:00", "00:00:00", start)
    assert opened["TIME_FINISH"] is None
    assert opened["ACTIVE"] is True

    clock_at(live_server, on(DAY, 11))
    check_day(timeman.pause().result, "PAUSED", "00:00:00", "00:00:00", start)

    clock_at(live_server, on(DAY, 11, 30))
    # A pause going on counts as it grows.
    check_day(timeman.status().result, "PAUSED", "00:00:00", "00:30:00", start)
    check_day(timeman.open().result, "OPENED", "00:00:00", "00:30:00", start)

    clock_at(live_server, on(DAY, 17))
    closed = timeman.close().result
    check_day(closed, "CLOSED", "07:30:00", "00:30:00", start)
    assert closed["TIME_FINISH"] == "2026-03-02T17:00:00+00:00"
    assert closed["ACTIVE"] is True

    # Later the same evening the closed day reads the same.
    clock_at(live_server, on(DAY, 20))
    check_day(timeman.status().result, "CLOSED", "07:30:00", "00:30:00", start)


def test_call_method_returns_the_raw_envelope(live_server) -> None:
    body = webhook(live_server).call_method("timeman.status", {"USER_ID": 1})
    assert set(body) == {"result", "time"}
    assert body["result"]["STATUS"] in ("OPENED", "PAUSED", "CLOSED", "EXPIRED")


def test_settings_defaults_and_admin_flag(live_server, client: Client, worker) -> None:
    user_id, token = worker
    assert client.timeman.settings().result == {**DEFAULTS, "ADMIN": True}
    # Asking about someone else leaves ADMIN out.
    assert client.timeman.settings(user_id=user_id).result == DEFAULTS
    own = Client(webhook(live_server, token)).timeman.settings().result
    assert own == {**DEFAULTS, "ADMIN": False}


def test_settings_changed_with_the_cli_reach_the_sdk(live_server, client: Client) -> None:
    user_id = int(live_server.cli("user", "add", "--name", "Flex", "--last-name", "Ible"))
    live_server.cli("timeman", "settings", "--user", str(user_id), "--free", "--max-start", "10:00")
    assert client.timeman.settings(user_id=user_id).result == {
        **DEFAULTS,
        "UF_TM_FREE": True,
        "UF_TM_MAX_START": "10:00:00",
    }
    assert client.timeman.settings().result == {**DEFAULTS, "ADMIN": True}


def test_time_on_a_paused_day_is_refused(live_server, worker) -> None:
    _, token = worker
    timeman = Client(webhook(live_server, token)).timeman
    day = datetime(2026, 3, 9, tzinfo=UTC)
    clock_at(live_server, on(day, 9))
    assert timeman.open().result["STATUS"] == "OPENED"
    clock_at(live_server, on(day, 10))
    assert timeman.pause().result["STATUS"] == "PAUSED"

    clock_at(live_server, on(day, 10, 5))
    with pytest.raises(BitrixAPIError) as raised:
        timeman.open(time="2026-03-09T10:05:00+00:00", report="back").result  # noqa: B018
    assert isinstance(raised.value, BitrixAPIBadRequest)
    assert raised.value.status_code == 400
    assert raised.value.error == "TIME"
    assert raised.value.error_description == "Unable to set time, work day is paused"
    del raised

    # The refusal changed nothing; a plain open resumes.
    check_day(timeman.status().result, "PAUSED", "00:00:00", "00:05:00", on(day, 9))
    check_day(timeman.open().result, "OPENED", "00:00:00", "00:05:00", on(day, 9))
    clock_at(live_server, on(day, 17))
    check_day(timeman.close().result, "CLOSED", "07:55:00", "00:05:00", on(day, 9))


def test_a_schedule_made_with_the_cli_reaches_the_sdk(live_server, client: Client) -> None:
    """``client.timeman.schedule.get(bitrix_id=...)``; assigned to a new user only, so
    the other tests' settings stay the defaults."""
    user_id = int(live_server.cli("user", "add", "--name", "Shift", "--last-name", "Worker"))
    made = json.loads(
        live_server.cli("schedule", "add", "Early", "--shift", "07:00-16:00@12345/00:30", "--json")
    )
    live_server.cli("schedule", "assign", str(made["ID"]), "--user", str(user_id))
    found = client.timeman.schedule.get(bitrix_id=made["ID"]).result
    assert found["SHIFTS"][0]["WORK_TIME_START"] == 7 * 3600
    assert found["SCHEDULE_VIOLATION_RULES"]["SCHEDULE_ID"] == made["ID"]
    assert found == made, "the CLI prints what the method answers"
    assert client.timeman.schedule.get(bitrix_id=987654).result == []
    assert client.timeman.settings(user_id=user_id).result == {
        **DEFAULTS,
        "UF_TM_MAX_START": "07:00:00",
        "UF_TM_MIN_FINISH": "16:00:00",
        "UF_TM_MIN_DURATION": "08:30:00",
    }
