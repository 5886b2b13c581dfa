"""The seed's curl examples, pasted with the printed webhook URL, run by real ``curl``."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

from shapes import TIME_TYPES

pytestmark = pytest.mark.process

CURL = shutil.which("curl")
if CURL is None:
    pytest.skip(
        "THE curl BINARY IS NOT INSTALLED: every curl client test is SKIPPED",
        allow_module_level=True,
    )

#: Written after the body so the status can be split off the end.
STATUS_MARK = "\n--http-status:"


def curl(live_server, *args: str) -> tuple[int, str, str]:
    """Run ``curl ARGS`` trusting the local CA; return HTTP status, body, content type."""
    done = subprocess.run(
        [
            CURL,  # type: ignore[list-item]
            "-sS",
            "--cacert",
            str(live_server.ca_path),
            "-w",
            STATUS_MARK + "%{http_code}\n%{content_type}",
            *args,
        ],
        capture_output=True,
        text=True,
        env=live_server.env,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, f"curl exited {done.returncode}: {done.stderr}"
    body, _, tail = done.stdout.rpartition(STATUS_MARK)
    status, _, content_type = tail.partition("\n")
    return int(status), body, content_type


def post_json(live_server, method: str, data: str | None = None) -> tuple[int, str, str]:
    """``curl -X POST -H "Content-Type: application/json" -H "Accept: ..." URL+method``."""
    args = [
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-H",
        "Accept: application/json",
    ]
    if data is not None:
        args += ["-d", data]
    return curl(live_server, *args, f"{live_server.webhook_url}{method}")


def test_status_get_seed_example(live_server) -> None:
    status, body, content_type = post_json(live_server, "im.user.status.get")

    assert status == 200, body
    assert content_type.startswith("application/json")
    answer = json.loads(body)
    assert set(answer) == {"result", "time"}
    assert answer["result"] == "online"
    time = answer["time"]
    assert set(time) == set(TIME_TYPES)
    for key, kind in TIME_TYPES.items():
        assert isinstance(time[key], kind), (key, time[key])
        assert not isinstance(time[key], bool), key
    assert time["finish"] >= time["start"]
    assert time["duration"] >= 0
    for key in ("date_start", "date_finish"):
        moment = datetime.fromisoformat(time[key])
        assert time[key] == moment.isoformat(timespec="seconds"), time[key]
        assert moment.utcoffset() is not None
    assert abs(datetime.fromisoformat(time["date_start"]).timestamp() - time["start"]) < 1


def test_status_set_with_json_body_then_get(live_server) -> None:
    try:
        status, body, _ = post_json(live_server, "im.user.status.set", '{"STATUS":"dnd"}')
        assert status == 200, body
        assert json.loads(body)["result"] is True

        status, body, _ = post_json(live_server, "im.user.status.get")
        assert status == 200, body
        assert json.loads(body)["result"] == "dnd"
    finally:
        post_json(live_server, "im.user.status.set", '{"STATUS":"online"}')


def test_user_get_with_json_body(live_server) -> None:
    status, body, _ = post_json(live_server, "im.user.get", '{"ID":1}')
    assert status == 200, body
    assert json.loads(body)["result"]["id"] == 1

    status, body, _ = post_json(live_server, "im.user.get", '{"ID":503}')
    assert status == 400, body
    assert json.loads(body)["error"] == "USER_NOT_EXISTS"


def test_wrong_webhook_code_is_401(live_server) -> None:
    wrong = f"{live_server.base_url}/rest/{live_server.user_id}/{'0' * 16}/im.user.status.get"
    status, body, content_type = curl(
        live_server,
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-H",
        "Accept: application/json",
        wrong,
    )
    assert status == 401
    assert content_type.startswith("application/json")
    assert json.loads(body) == {
        "error": "NO_AUTH_FOUND",
        "error_description": "Wrong authorization data",
    }


def test_xml_suffix_answers_in_xml(live_server) -> None:
    status, body, content_type = post_json(live_server, "im.user.status.get.xml")

    assert status == 200, body
    assert content_type.startswith("text/xml")
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(body.encode())
    assert root.tag == "response"
    assert [child.tag for child in root] == ["result", "time"]
    assert root.findtext("result") == "online"
    assert {child.tag for child in root.find("time")} == set(TIME_TYPES)
    float(root.findtext("time/start"))


#: The fields of the seed's timeman.status answer, less TIME_FINISH_DEFAULT (expired
#: days only).
DAY_KEYS = {
    "STATUS", "TIME_START", "TIME_FINISH", "DURATION", "TIME_LEAKS", "ACTIVE", "IP_OPEN",
    "IP_CLOSE", "LAT_OPEN", "LON_OPEN", "LAT_CLOSE", "LON_CLOSE", "TZ_OFFSET",
}  # fmt: skip


def test_timeman_status_seed_webhook_example(live_server) -> None:
    """The seed's first curl command: the webhook path, USER_ID in a JSON body."""
    tess = int(live_server.cli("user", "add", "--name", "Tess", "--last-name", "Seed"))
    status, body, _ = post_json(live_server, "timeman.status", f'{{"USER_ID":{tess}}}')
    assert status == 200, body
    closed = json.loads(body)
    assert set(closed) == {"result", "time"}
    # No day yet: the real getStatus fills the other fields only from a record.
    assert closed["result"] == {"STATUS": "CLOSED"}

    status, body, _ = post_json(live_server, "timeman.open", f'{{"USER_ID":{tess}}}')
    assert status == 200, body
    opened = json.loads(body)["result"]
    status, body, content_type = post_json(live_server, "timeman.status", f'{{"USER_ID":{tess}}}')
    assert status == 200, body
    assert content_type.startswith("application/json")
    day = json.loads(body)["result"]
    assert day == opened
    assert set(day) == DAY_KEYS
    assert day["STATUS"] == "OPENED"
    assert day["IP_OPEN"] == "127.0.0.1"
    assert (day["TIME_FINISH"], day["DURATION"], day["ACTIVE"]) == (None, "00:00:00", True)
    assert datetime.fromisoformat(day["TIME_START"]).utcoffset() is not None
    # The administrator's own day is another one.
    status, body, _ = post_json(live_server, "timeman.status")
    assert json.loads(body)["result"] == {"STATUS": "CLOSED"}


def test_timeman_status_seed_webhook_example_for_nobody(live_server) -> None:
    """The seed's USER_ID, 503, is no user here: the page's error answer."""
    status, body, content_type = post_json(live_server, "timeman.status", '{"USER_ID":503}')
    assert status == 400, body
    assert content_type.startswith("application/json")
    assert json.loads(body) == {"error": "", "error_description": "User not found"}
