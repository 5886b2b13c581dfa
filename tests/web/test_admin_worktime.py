"""The administration pages of work time: the portal's and a person's settings, and
the office networks, each changed through the code the CLI and REST use and seen
over REST afterwards; the refusals in words; only administrators get in; CSRF and
hostile forms are refused, never a 500."""

from __future__ import annotations

import pytest

from adminforms import alert, log_in, post, rest
from loginform import token_in

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PORTAL_FORM = {"tracking": "on", "max_start": "10:00", "min_finish": "18:30",
               "min_duration": "08:00", "allowed_delta": "00:15"}  # fmt: skip


def settings_of(server, user: int) -> dict:
    return rest(server, "timeman.settings", {"USER_ID": user})


def test_an_administrator_changes_work_time_and_office_networks(server):
    plain = server.add_user("Plain", "User")
    log_in(server, server.admin_id)
    shown = server.http.get("/admin/worktime")
    assert shown.status_code == 200
    assert 'value="09:15"' in shown.text and 'href="/admin/networks"' in shown.text

    # The portal's settings: everyone's, unless their own say otherwise.
    answer = post(server, "/admin/worktime", {**PORTAL_FORM, "user": ""})
    assert answer.status_code == 303, answer.text
    assert "The settings were saved." in server.http.get(answer.headers["location"]).text
    found = settings_of(server, plain)
    assert (found["UF_TM_MAX_START"], found["UF_TM_MIN_FINISH"]) == ("10:00:00", "18:30:00")
    assert found["UF_TIMEMAN"] is True and found["UF_TM_FREE"] is False

    # A person's own: only what the form changes is theirs.
    page = server.http.get(f"/admin/worktime?user={plain}")
    assert page.status_code == 200 and 'value="10:00"' in page.text
    answer = post(server, "/admin/worktime",
                  {**PORTAL_FORM, "user": str(plain), "free": "on", "allowed_delta": "00:30"},
                  token_from=f"/admin/worktime?user={plain}")  # fmt: skip
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/admin/worktime?user={plain}&done=saved"
    found = settings_of(server, plain)
    assert (found["UF_TM_FREE"], found["UF_TM_ALLOWED_DELTA"]) == (True, "00:30:00")
    assert settings_of(server, server.admin_id)["UF_TM_FREE"] is False
    # The portal's latest start moves on: the person's was never pinned.
    answer = post(server, "/admin/worktime", {**PORTAL_FORM, "max_start": "11:00:30"})
    assert answer.status_code == 303
    assert settings_of(server, plain)["UF_TM_MAX_START"] == "11:00:30"
    # Unticking a box is a change as well.
    form = {k: v for k, v in PORTAL_FORM.items() if k != "tracking"}
    assert post(server, "/admin/worktime", {**form, "max_start": "11:00:30"}).status_code == 303
    assert settings_of(server, plain)["UF_TIMEMAN"] is False

    # Office networks, replaced as timeman.networkrange.set replaces them.
    assert "No office network" in server.http.get("/admin/networks").text
    lines = (
        "10.0.0.0 - 10.0.0.255\n"
        " 192.168.1.0-192.168.1.255   Main office \n\n"
        "2001:db8::1 VPN - backup"
    )
    answer = post(server, "/admin/networks", {"ranges": lines})
    assert answer.status_code == 303, answer.text
    expected = [
        {"ip_range": "10.0.0.0-10.0.0.255", "name": ""},
        {"ip_range": "192.168.1.0-192.168.1.255", "name": "Main office"},
        {"ip_range": "2001:db8::1", "name": "VPN - backup"},
    ]
    assert rest(server, "timeman.networkrange.get") == expected
    page = server.http.get("/admin/networks").text
    assert "3 address ranges" in page and "Main office" in page

    # One wrong line and nothing is saved; the page names it, as REST's error_ranges do.
    wrong = "10.1.0.0-10.1.0.255 Lab\n10.9.9.9-10.0.0.1 Backwards\n::1-10.0.0.1 Mixed"
    answer = post(server, "/admin/networks", {"ranges": wrong})
    assert answer.status_code == 400
    assert "10.9.9.9-10.0.0.1, ::1-10.0.0.1" in alert(answer.text)
    assert "Backwards" in answer.text  # what was sent is kept in the form
    over_rest = rest(server, "timeman.networkrange.set", {"RANGES": [
        {"ip_range": "10.1.0.0-10.1.0.255", "name": "Lab"},
        {"ip_range": "10.9.9.9-10.0.0.1", "name": "Backwards"},
        {"ip_range": "::1-10.0.0.1", "name": "Mixed"},
    ]})  # fmt: skip
    assert [r["ip_range"] for r in over_rest["error_ranges"]] == [
        "10.9.9.9-10.0.0.1",
        "::1-10.0.0.1",
    ]
    assert rest(server, "timeman.networkrange.get") == expected

    # An empty list removes them all.
    assert post(server, "/admin/networks", {"ranges": ""}).status_code == 303
    assert rest(server, "timeman.networkrange.get") == []


@sqlite_only
def test_work_time_pages_are_for_administrators(server):
    plain = server.add_user("Plain", "User")
    log_in(server, plain)
    day = server.http.get("/day")
    token = token_in(day.text)
    for path in ("/admin/worktime", f"/admin/worktime?user={plain}", "/admin/networks"):
        answer = server.http.get(path)
        assert answer.status_code == 403, path
        assert "Only administrators" in answer.text
    answer = server.http.post("/admin/worktime",
                              data={**PORTAL_FORM, "user": str(plain), "free": "on",
                                    "csrf_token": token})  # fmt: skip
    assert answer.status_code == 403
    answer = server.http.post("/admin/networks", data={"ranges": "0.0.0.0-255.255.255.255",
                                                       "csrf_token": token})  # fmt: skip
    assert answer.status_code == 403
    assert settings_of(server, plain)["UF_TM_FREE"] is False
    assert rest(server, "timeman.networkrange.get") == []
    server.http.cookies.clear()
    assert server.http.get("/admin/worktime", follow_redirects=False).status_code == 303


@sqlite_only
def test_wrong_and_hostile_work_time_forms_are_refused(server):
    plain = server.add_user("Plain", "User")
    log_in(server, server.admin_id)
    # The same times the CLI refuses, in words, with what was sent kept.
    for field, value, words in [
        ("max_start", "9:00", "The latest start must be a time of day"),
        ("max_start", "0900", "The latest start must be a time of day"),
        ("min_finish", "24:00", "The earliest finish must be a time of day"),
        ("min_duration", "-01:00", "The length of the day must be HH:MM"),
        ("allowed_delta", "00:60", "The allowed change must be HH:MM"),
        ("allowed_delta", "", "The allowed change must be HH:MM"),
        ("max_start", "１０:００", "The latest start must be a time of day"),
        ("max_start", "10:00+03:00", "The latest start must be a time of day"),
    ]:
        answer = post(server, "/admin/worktime", {**PORTAL_FORM, field: value})
        assert answer.status_code == 400, (field, value)
        assert words in alert(answer.text), (field, value)
        assert f'value="{value}"' in answer.text
    assert settings_of(server, plain)["UF_TM_MAX_START"] == "09:15:00"

    for fields, status in [
        ({"tracking": "Y"}, 400),
        ({"user": "abc"}, 400),
        ({"user": "0"}, 400),
        ({"user": "99999999999999999999"}, 400),
        ({"user": "4242"}, 404),
        ({"max_start": "10:00\x00"}, 400),
        ({"max_start": "1" * 5000}, 400),
    ]:
        answer = post(server, "/admin/worktime", {**PORTAL_FORM, **fields})
        assert answer.status_code == status, fields
    for query, status in [("user=abc", 400), ("user=-1", 400), ("user=4242", 404)]:
        assert server.http.get(f"/admin/worktime?{query}").status_code == status, query
    assert post(server, "/admin/networks", {"ranges": "1.1.1.1 x\n" * 300}).status_code == 400
    assert post(server, "/admin/networks", {"ranges": "1.1.1.1%eth0"}).status_code == 400

    # CSRF: no token, or a post from another site.
    answer = server.http.post("/admin/worktime", data=PORTAL_FORM)
    assert answer.status_code == 403
    token = token_in(server.http.get("/admin/networks").text)
    answer = server.http.post(
        "/admin/networks", data={"ranges": "10.0.0.1", "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )  # fmt: skip
    assert answer.status_code == 403
    assert rest(server, "timeman.networkrange.get") == []
    assert settings_of(server, plain)["UF_TM_MAX_START"] == "09:15:00"
