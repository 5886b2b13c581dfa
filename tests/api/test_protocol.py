"""The REST protocol as a client meets it: URL forms, encodings, envelope, errors."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import update

from b24local.store import tokens
from b24local.store.tables import portals, users
from shapes import TIME_KEYS


def error_of(response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) == {"error", "error_description"}, body
    return response.status_code, body["error"], body["error_description"]


def issue_token(server, user_id: int = 1, scopes=("im", "user"), lifetime=3600) -> str:
    async def go():
        async with server.store.transaction(write=True) as conn:
            now = server.clock.now()
            return await tokens.issue(
                conn,
                portal_id=1,
                user_id=user_id,
                scopes=frozenset(scopes),
                now=now,
                expires_at=now + timedelta(seconds=lifetime),
            )

    return server.run(go)


def sql(server, statement) -> None:
    async def go():
        async with server.store.transaction(write=True) as conn:
            await conn.execute(statement)

    server.run(go)


# --- the envelope ----------------------------------------------------------------------


def test_success_envelope_has_the_complete_time_block(server):
    response = server.call("im.user.status.get")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["result", "time"]
    time = body["time"]
    assert list(time) == TIME_KEYS
    now = server.clock.now()
    assert time["start"] == now.timestamp()
    assert time["date_start"] == "2026-03-02T08:30:00+00:00"
    assert time["date_finish"] == "2026-03-02T08:30:00+00:00"
    assert time["duration"] >= 0 and time["processing"] >= 0
    # The clock is frozen, yet the call took its processing time.
    assert time["duration"] >= time["processing"]
    assert time["finish"] == time["start"] + time["duration"]
    assert isinstance(time["operating_reset_at"], int)
    assert time["operating_reset_at"] == int(now.timestamp()) + 600
    assert time["operating"] == 0


def test_time_block_follows_the_injected_clock(server):
    server.clock.advance(3600 * 24)
    time = server.call("server.time").json()["time"]
    assert time["date_start"] == "2026-03-03T08:30:00+00:00"


def test_dates_use_the_portal_time_zone(server):
    sql(server, update(portals).values(time_zone="Europe/Berlin"))
    body = server.call("server.time").json()
    assert body["result"] == "2026-03-02T09:30:00+01:00"
    assert body["time"]["date_start"] == "2026-03-02T09:30:00+01:00"


# --- call forms and encodings ------------------------------------------------------------


def test_get_with_query_string(server):
    response = server.http.get(f"{server.webhook}im.user.get?ID=1")
    assert response.json()["result"]["id"] == 1


def test_json_suffix_and_case_blind_method_names(server):
    assert server.http.get(f"{server.webhook}IM.User.Get.json").json()["result"]["id"] == 1
    assert server.http.get(f"{server.webhook}im.user.get.JSON").json()["result"]["id"] == 1


def test_xml_suffix_gives_the_same_answer_as_xml(server):
    response = server.http.get(f"{server.webhook}im.user.status.get.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?><response>')
    assert "<result>online</result>" in response.text
    assert "<date_start>2026-03-02T08:30:00+00:00</date_start>" in response.text


def test_urlencoded_body_with_php_bracket_keys(server):
    second = server.add_user("Emily", "Smith")
    response = server.http.post(
        f"{server.webhook}im.user.list.get",
        content=f"ID[]=1&ID[]={second}&RESULT_TYPE=array",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert [card["id"] for card in response.json()["result"]] == [1, second]


def test_multipart_body_with_php_bracket_keys(server):
    second = server.add_user()
    response = server.http.post(
        f"{server.webhook}im.user.list.get",
        files={"ID[0]": (None, "1"), "ID[1]": (None, str(second))},
    )
    assert sorted(response.json()["result"]) == ["1", str(second)]


def test_json_body_wins_over_query_string(server):
    response = server.http.post(f"{server.webhook}im.user.get?ID=999", json={"ID": 1})
    assert response.json()["result"]["id"] == 1


def test_json_body_without_content_type(server):
    response = server.http.post(f"{server.webhook}im.user.status.set", content=b'{"STATUS":"dnd"}')
    assert response.json()["result"] is True
    assert server.call("im.user.status.get").json()["result"] == "dnd"


def test_auth_parameter_form_with_a_token(server):
    token = issue_token(server)
    for response in (
        server.http.post("/rest/im.user.status.get", json={"auth": token}),
        server.http.get(f"/rest/im.user.status.get.json?auth={token}"),
        server.http.post("/rest/im.user.status.get", data={"auth": token}),
    ):
        assert response.status_code == 200, response.text
        assert response.json()["result"] == "online"


def test_auth_is_not_passed_on_as_a_method_parameter(server):
    token = issue_token(server)
    response = server.http.post("/rest/user.get", json={"auth": token})
    assert response.json()["total"] == 1


def test_expired_token(server):
    token = issue_token(server, lifetime=3600)
    server.clock.advance(3600)
    response = server.http.post("/rest/im.user.status.get", json={"auth": token})
    assert error_of(response) == (401, "expired_token", "The access token provided has expired")


@pytest.mark.parametrize("params", [{}, {"auth": ""}, {"auth": "0123abc"}, {"auth": ["x"]}])
def test_missing_or_unknown_token(server, params):
    response = server.http.post("/rest/im.user.status.get", json=params)
    assert error_of(response) == (401, "NO_AUTH_FOUND", "Wrong authorization data")


def test_token_lacking_a_scope(server):
    token = issue_token(server, scopes=("user",))
    response = server.http.post("/rest/im.user.status.get", json={"auth": token})
    assert error_of(response)[:2] == (403, "insufficient_scope")


# --- webhooks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/rest/1/wrongcode0000000/im.user.status.get",
        "/rest/2/{code}/im.user.status.get",
        "/rest/abc/{code}/im.user.status.get",
        "/rest/0/{code}/im.user.status.get",
    ],
)
def test_wrong_webhook_code_or_user(server, path):
    code = server.webhook.split("/")[3]
    server.add_user()
    response = server.http.post(path.format(code=code), json={})
    assert error_of(response) == (401, "NO_AUTH_FOUND", "Wrong authorization data")


def test_webhook_lacking_the_scope(server):
    user = server.add_user()
    hook = server.add_webhook(user, ["user"])
    response = server.call("im.user.status.set", {"STATUS": "dnd"}, hook=hook)
    assert error_of(response) == (
        403,
        "insufficient_scope",
        "The request requires higher privileges than provided by the webhook token",
    )
    # The refused call changed nothing.
    own = server.add_webhook(user, ["im"])
    assert server.call("im.user.status.get", hook=own).json()["result"] == "online"


def test_basic_methods_need_no_scope(server):
    user = server.add_user()
    hook = server.add_webhook(user, ["im"])
    assert server.call("server.time", hook=hook).status_code == 200
    assert server.call("profile", hook=hook).json()["result"]["ID"] == str(user)


def test_webhook_of_an_inactive_user(server):
    user = server.add_user()
    hook = server.add_webhook(user, ["im"])
    sql(server, update(users).where(users.c.id == user).values(active=False))
    response = server.call("im.user.status.get", hook=hook)
    assert error_of(response) == (403, "INVALID_CREDENTIALS", "Invalid request credentials")


def test_unknown_method(server):
    response = server.call("im.user.teleport")
    assert error_of(response) == (404, "ERROR_METHOD_NOT_FOUND", "Method not found!")


def test_path_without_a_method(server):
    response = server.http.get(server.webhook)
    assert error_of(response)[:2] == (404, "ERROR_METHOD_NOT_FOUND")


@pytest.mark.parametrize("path", ["/rest", "/rest/"])
def test_bare_rest_path(server, path):
    assert error_of(server.http.post(path))[:2] == (404, "ERROR_METHOD_NOT_FOUND")


@pytest.mark.parametrize("verb", ["PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", ["{hook}im.user.status.set", "/rest/im.user.status.set", "/rest"])
def test_other_http_methods_get_a_protocol_error(server, verb, path):
    response = server.http.request(verb, path.format(hook=server.webhook), json={"STATUS": "dnd"})
    assert error_of(response) == (
        405,
        "INVALID_REQUEST",
        "Only GET and POST requests are accepted",
    )
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.headers["content-type"] == "application/json"
    assert server.call("im.user.status.get").json()["result"] == "online"


def test_other_http_methods_answer_in_xml_when_asked(server):
    response = server.http.delete(f"{server.webhook}im.user.status.get.xml")
    assert response.status_code == 405
    assert "<error>INVALID_REQUEST</error>" in response.text


def test_head_answers_like_get_without_a_body(server):
    response = server.http.head(f"{server.webhook}im.user.status.get")
    assert response.status_code == 200
    assert response.content == b""


# --- portals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"status": "blocked"}, (503, "OVERLOAD_LIMIT", "REST API is blocked due to overload")),
        (
            {"plan": "free"},
            (403, "ACCESS_DENIED", "REST API is available only on commercial plans"),
        ),
        ({"status": "deleted"}, (500, "PORTAL_DELETED", "Portal was deleted")),
    ],
)
def test_portal_states(server, values, expected):
    sql(server, update(portals).values(**values))
    assert error_of(server.call("im.user.status.get")) == expected


# --- bad input ------------------------------------------------------------------------------


def test_malformed_json_changes_nothing(server):
    response = server.http.post(
        f"{server.webhook}im.user.status.set",
        content=b'{"STATUS": "dnd"',
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response)[:2] == (400, "ERROR_INVALID_JSON")
    assert server.call("im.user.status.get").json()["result"] == "online"


def test_json_scalar_body_is_refused(server):
    response = server.http.post(
        f"{server.webhook}im.user.status.set",
        content=b'"dnd"',
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response)[:2] == (400, "ERROR_INVALID_JSON")


def test_body_over_the_size_limit(server):
    big = b"STATUS=dnd&PAD=" + b"x" * (8 * 1024 * 1024)
    response = server.http.post(
        f"{server.webhook}im.user.status.set",
        content=big,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert error_of(response)[:2] == (413, "ERROR_REQUEST_TOO_LARGE")
    assert server.call("im.user.status.get").json()["result"] == "online"


def test_absurdly_deep_php_keys(server):
    key = "STATUS" + "[a]" * 500
    response = server.http.post(f"{server.webhook}im.user.status.set", data={key: "dnd"})
    assert error_of(response)[:2] == (400, "ERROR_PARAMS_TOO_DEEP")


def test_absurdly_deep_json(server):
    body = b'{"STATUS":' + b"[" * 200 + b"]" * 200 + b"}"
    response = server.http.post(
        f"{server.webhook}im.user.status.set",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response)[:2] == (400, "ERROR_PARAMS_TOO_DEEP")


def test_too_many_parameters(server):
    body = "&".join(f"p{i}=1" for i in range(20_000))
    response = server.http.post(
        f"{server.webhook}im.user.status.get",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert error_of(response)[:2] == (400, "ERROR_PARAMS_TOO_MANY")


NUL = (400, "ERROR_BAD_ENCODING", "A parameter contains a NUL character")


@pytest.mark.parametrize(
    "path", ["user.get?FILTER[NAME]=a%00b", "user.get?FILTER%00[NAME]=a", "im.user.get?ID=1%00"]
)
def test_a_nul_character_in_the_query_string_is_refused(server, path):
    assert error_of(server.http.get(f"{server.webhook}{path}")) == NUL


def test_a_nul_character_in_a_form_body_is_refused_and_nothing_is_written(server):
    response = server.http.post(
        f"{server.webhook}timeman.open",
        content=b"REPORT=a%00b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert error_of(response) == NUL
    assert server.call("timeman.status").json()["result"]["STATUS"] == "CLOSED"


def test_a_nul_character_in_a_multipart_body_is_refused(server):
    response = server.http.post(f"{server.webhook}timeman.open", files={"REPORT": (None, "a\x00b")})
    assert error_of(response) == NUL


@pytest.mark.parametrize("body", [b'{"REPORT": "a\\u0000b"}', b'{"X": [{"REPORT\\u0000": 1}]}'])
def test_a_nul_character_in_a_json_body_is_refused(server, body):
    response = server.http.post(
        f"{server.webhook}timeman.open",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response) == NUL
    assert server.call("timeman.status").json()["result"]["STATUS"] == "CLOSED"


def test_an_escaped_backslash_before_u0000_is_no_nul(server):
    response = server.http.post(
        f"{server.webhook}timeman.open",
        content=b'{"REPORT": "a\\\\u0000b"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def test_unexpected_failure_is_an_internal_error_with_the_trace_in_the_log(
    server, monkeypatch, caplog
):
    from b24local.store import presence

    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(presence, "get", broken)
    with caplog.at_level(logging.ERROR, logger="b24local.rest"):
        response = server.call("im.user.status.get")
    assert error_of(response) == (500, "INTERNAL_SERVER_ERROR", "Internal server error")
    assert "disk on fire" not in response.text
    assert "Traceback" not in response.text
    assert any("disk on fire" in (r.exc_text or "") for r in caplog.records)


# --- https ---------------------------------------------------------------------------------


@pytest.fixture
def https_only(server_with):
    with server_with(require_https=True) as srv:
        yield srv


def test_plain_http_under_require_https(https_only):
    response = https_only.call("im.user.status.get")
    assert error_of(response) == (400, "INVALID_REQUEST", "Https required")


def test_https_under_require_https(https_only):
    response = https_only.http.post(
        f"https://127.0.0.1:8024{https_only.webhook}im.user.status.get", json={}
    )
    assert response.status_code == 200


def test_a_result_that_cannot_be_encoded_is_an_unexpected_answer(server, monkeypatch):
    async def odd(call):
        return {"value": object()}

    registry = server.http.app.state.runtime.registry
    original = registry.get("server.time")
    monkeypatch.setitem(registry._methods, "server.time", replace(original, handler=odd))
    response = server.call("server.time")
    assert error_of(response) == (
        500,
        "ERROR_UNEXPECTED_ANSWER",
        "Server returned an unexpected response",
    )


# --- hostile input: a Bitrix-style answer, never a 500 (docs/compat.md, "Request limits") ---

LONG = "9" * 5000  # past Python's 4,300-digit limit for int()


def ok_result(response):
    assert response.status_code == 200, response.text
    return response.json()["result"]


# --- parameter names that are only digits ----------------------------------------------


def test_a_digit_only_name_in_the_query_is_a_parameter(server):
    response = server.http.get("/rest/server.time?0=a")
    assert error_of(response)[:2] == (401, "NO_AUTH_FOUND")
    assert "result" in server.http.get(f"{server.webhook}server.time?0=a&1=b").json()


@pytest.mark.parametrize("body", ["0=abcd", "0=ab", "0=a&1=b", "0[]=x", "5=x&0=y"])
def test_a_digit_only_name_in_a_form_is_a_parameter(server, body):
    form = {"content-type": "application/x-www-form-urlencoded"}
    response = server.http.post(f"{server.webhook}server.time", content=body, headers=form)
    assert response.status_code == 200, response.text


def test_a_digit_only_name_inside_a_batch_command(server):
    form = {"content-type": "application/x-www-form-urlencoded"}
    body = "cmd[a]=server.time%3F0%3Dx&cmd[b]=im.user.get%3F0%3D1%261%3D2"
    answer = ok_result(server.http.post(f"{server.webhook}batch", content=body, headers=form))
    assert answer["result_error"] == []
    assert set(answer["result"]) == {"a", "b"}


# --- integers past 64 bits, and past Python's digit limit ---------------------------------


def test_long_integer_strings_saturate(server, caplog):
    caplog.set_level(logging.ERROR, logger="b24local")
    # The largest integer names no user: the answer for an unknown user.
    unknown = server.call("im.user.get", {"ID": 2**63 - 1})
    assert server.call("im.user.get", {"ID": LONG}).json() == unknown.json()
    assert error_of(server.call("im.user.get", {"ID": "-" + LONG}))[0] == 400
    assert ok_result(server.call("user.get", {"start": LONG})) == []
    assert ok_result(server.call("im.user.status.get", {"USER_ID": "0" * 5000 + "1"})) == "online"
    assert "Traceback" not in caplog.text and not caplog.records


def test_a_long_user_id_in_the_webhook_path_is_a_failed_login(server):
    code = server.webhook.rstrip("/").rsplit("/", 1)[-1]
    response = server.http.get(f"/rest/{LONG}/{code}/server.time")
    assert error_of(response)[:2] == (401, "NO_AUTH_FOUND")


def test_a_long_list_index_in_a_batch_reference_names_nothing(server):
    cmd = {"a": "user.get", "b": f"im.user.get?ID=$result[a][{LONG}][ID]"}
    answer = ok_result(server.call("batch", {"cmd": cmd}))
    assert answer["result_error"]["b"]["error"] == "ERROR_BATCH_REFERENCE"


# --- budgets ------------------------------------------------------------------------------


def test_a_batch_holds_as_many_parameters_as_one_request(server):
    query = "&".join(f"p{i}=1" for i in range(6_000))
    cmd = {"a": f"server.time?{query}", "b": f"server.time?{query}", "c": "server.time"}
    answer = ok_result(server.call("batch", {"cmd": cmd}))
    assert set(answer["result"]) == {"a", "c"}
    assert answer["result_error"]["b"]["error"] == "ERROR_PARAMS_TOO_MANY"


def test_a_batch_holds_a_bounded_number_of_result_references(server):
    cmd = {"a": "server.time", "b": "server.time?x=" + "$result[a]" * 10_001}
    answer = ok_result(server.call("batch", {"cmd": cmd}))
    assert answer["result_error"]["b"]["error"] == "ERROR_PARAMS_TOO_MANY"
    cmd["b"] = "server.time?x=" + "$result[a]" * 1_000
    assert ok_result(server.call("batch", {"cmd": cmd}))["result_error"] == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":[' + b",".join([b"{}"] * 100_001) + b"]}",
        b'{"a":[' + b",".join([b"0"] * 100_001) + b"]}",
        b'{"ID":"[' + b",".join([b"1"] * 100_001) + b']"}',
    ],
    ids=["objects", "numbers", "ids in a string"],
)
def test_json_values_are_counted(server, body):
    response = server.http.post(
        f"{server.webhook}im.user.list.get",
        content=body,
        headers={"content-type": "application/json"},
    )
    assert error_of(response)[:2] == (400, "ERROR_PARAMS_TOO_MANY")


def big_json(size: int, **members) -> bytes:
    head = orjson.dumps(members)[:-1] + (b"," if members else b"") + b'"pad":"'
    return head + b"x" * (size - len(head) - 2) + b'"}'


def test_a_big_body_is_decoded_for_a_known_caller_only(server):
    json = {"content-type": "application/json"}
    code = server.webhook.rstrip("/").rsplit("/", 1)[-1]
    # A wrong webhook is refused before its body is read, however broken that is.
    response = server.http.post(f"/rest/1/{code}x/server.time", content=b"{" * 200_000)
    assert error_of(response)[:2] == (401, "NO_AUTH_FOUND")
    # A body past the budget before authentication, with no credentials in sight.
    response = server.http.post("/rest/server.time", content=big_json(2_000_000), headers=json)
    assert error_of(response)[:2] == (401, "NO_AUTH_FOUND")
    token = issue_token(server)
    for body in (big_json(2_000_000, auth=token), big_json(2_000_000, ID=1, auth=token)):
        response = server.http.post("/rest/im.user.get", content=body, headers=json)
        assert ok_result(response)["id"] == 1
    form = b"ID=1&auth=" + token.encode() + b"&pad=" + b"x" * 2_000_000
    response = server.http.post("/rest/im.user.get", content=form)
    assert ok_result(response)["id"] == 1
    response = server.http.post(f"/rest/im.user.get?auth={token}", content=big_json(2_000_000))
    assert ok_result(response)["id"] == 1
    # A wrong token in the query, the body's own wins (as the body wins any name).
    body = big_json(2_000_000, auth=token)
    response = server.http.post("/rest/im.user.get?auth=wrong", content=body)
    assert ok_result(response)["id"] == 1
    # Within the budget before authentication, a nested "auth" found first is no harm.
    body = big_json(500_000, FIELDS={"auth": "wrong"}, auth=token)
    response = server.http.post("/rest/im.user.get", content=body)
    assert ok_result(response)["id"] == 1
    # Past it, the token found is the one checked: refused with its own error.
    response = server.http.post("/rest/im.user.get?auth=wrong", content=big_json(2_000_000))
    assert error_of(response)[:2] == (401, "NO_AUTH_FOUND")
