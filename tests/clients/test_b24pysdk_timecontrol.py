"""Time control through the official Python SDK (b24pysdk 1.3.2):
``client.timeman.timecontrol.*`` against a real ``b24local serve --tls --dev``,
with presence (``client.im.user.status.idle``) and the workday moving it, and
``b24local timeman timecontrol`` changing the same settings.

The server clock is frozen and moved with the dev API between calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from b24pysdk import Client
from b24pysdk.errors import BitrixAPIError

from sdkhooks import trust_local_ca, webhook  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.process

MORNING = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def real_clock_afterwards(live_server) -> Iterator[None]:
    yield
    live_server.dev(
        "POST", "/_b24local/clock", {"now": datetime.now(UTC).isoformat(), "freeze": False}
    )


def clock_at(live_server, moment: datetime) -> None:
    live_server.dev("POST", "/_b24local/clock", {"now": moment.isoformat(), "freeze": True})


def test_an_idle_hour_is_reported_and_explained(live_server) -> None:
    client = Client(webhook(live_server))
    control = client.timeman.timecontrol
    assert control.settings.set(active=True, register_idle=True).result is True
    # The CLI changes the same settings, by the same names and checks.
    shown = live_server.cli("timeman", "timecontrol", "MINIMUM_IDLE_FOR_REPORT=20")
    assert "minimum_idle_for_report\t20" in shown.splitlines()
    got = control.settings.get().result
    assert (got["active"], got["minimum_idle_for_report"]) == (True, 20)
    clock_at(live_server, MORNING)
    client.timeman.open().result  # noqa: B018
    clock_at(live_server, MORNING + timedelta(hours=1))
    assert client.im.user.status.idle.start(ago=5).result is True
    clock_at(live_server, MORNING + timedelta(hours=2))
    assert client.im.user.status.idle.end().result is True
    client.timeman.close().result  # noqa: B018

    got = control.reports.get(1, 3, 2026).result
    assert got["user"]["id"] == 1
    (day,) = got["report"]["days"]
    (idle,) = [r for r in day["reports"] if r["type"] == "IDLE"]
    assert (idle["date_start"], idle["duration"]) == ("2026-03-02T09:25:00+00:00", 3900)
    # The SDK takes the record's ID as an integer; the report gives it as a string.
    assert control.report.add(int(idle["id"]), "Client visit", type="WORK").result is True
    day = control.reports.get(1, 3, 2026, idle_minutes=5, workday_hours=7).result["report"]
    (explained,) = [r for r in day["days"][0]["reports"] if r["type"] == "IDLE"]
    assert explained["report_type"] == "WORK"
    assert day["days"][0]["workday_duration_config"] == 7 * 3600

    view = control.reports.settings.get().result
    assert (view["user_admin"], view["report_view_type"]) == (True, "head")
    assert [p["id"] for p in control.reports.users.get(department_id=1).result] == [1]


def test_a_worker_may_not_read_the_settings_nor_someone_elses_report(live_server) -> None:
    user_id = int(live_server.cli("user", "add", "--name", "Wendy", "--last-name", "Worker"))
    token = live_server.cli("webhook", "add", "--user", str(user_id), "--scope", "timeman")
    control = Client(webhook(live_server, token)).timeman.timecontrol
    with pytest.raises(BitrixAPIError) as raised:
        control.settings.get().result  # noqa: B018
    assert (raised.value.status_code, raised.value.error) == (400, "ACCESS_ERROR")
    with pytest.raises(BitrixAPIError) as raised:
        control.reports.get(1, 3, 2026).result  # noqa: B018
    assert raised.value.error_description == "You don't have access to this method"
    # With no view of the reports (neither list names them), not even their own.
    with pytest.raises(BitrixAPIError) as raised:
        control.reports.get(user_id, 3, 2026).result  # noqa: B018
    assert raised.value.error_description == "You don't have access to this method"
    del raised
