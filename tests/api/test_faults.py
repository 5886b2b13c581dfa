"""Forced faults through the ``--dev`` control surface: errors as the catalogue
renders them (REST 2, REST 3.0, inside batch), probability, latency, hangs,
matching by caller, a span of the server's clock, and the operating switch."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from b24local import admin
from b24local.rest.faults import MAX_RULES, known_errors
from b24local.rest.v3.errors import _RENAMED
from b24local.scopes import build_registry

AUTH = {"Authorization": "Bearer test-dev-token"}
FAULTS = "/_b24local/faults"
V3_METHOD = "timeman.record.field.list"
CATALOGUE = known_errors(tuple(build_registry().errors()))

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def add(server, **rule) -> dict:
    response = server.http.post(FAULTS, headers=AUTH, json=rule)
    assert response.status_code == 200, response.text
    return response.json()["added"]


def listed(server) -> list[dict]:
    return server.http.get(FAULTS, headers=AUTH).json()["faults"]


def v3_call(server, method: str = V3_METHOD, hook: str | None = None):
    return server.http.post((hook or server.webhook).replace("/rest/", "/rest/api/", 1) + method)


def error_of(response) -> tuple[int, str]:
    return response.status_code, response.json().get("error", "")


def webhook(server, user_id: int) -> tuple[int, str]:
    hook, code = server.run(
        admin.add_webhook, server.store, server.clock.now(), user_id=user_id, scopes=["im"]
    )
    return hook.id, f"/rest/{user_id}/{code}/"


# --- every code answers as the catalogue says, wherever it is met ----------------------


@sqlite_only
@pytest.mark.parametrize("code", sorted(CATALOGUE), ids=lambda code: code or "empty")
def test_each_code_answers_with_its_catalogue_status_and_text(server, code):
    spec = CATALOGUE[code]
    v2_body = {"error": spec.code, "error_description": spec.description}
    add(server, error=code, method="server.time", times=2)

    response = server.call("server.time")
    assert (response.status_code, response.json()) == (spec.status, v2_body)
    assert server.call("profile").status_code == 200  # other methods go on

    # Inside batch: the sub-call's slot of result_error, the others answered.
    batch = server.call("batch", {"cmd": {"a": "server.time", "b": "profile"}})
    assert batch.status_code == 200
    assert batch.json()["result"]["result_error"] == {"a": v2_body}
    assert set(batch.json()["result"]["result"]) == {"b"}
    assert server.call("server.time").status_code == 200  # both times used

    # REST 3.0: the unified shape, under the names REST 3.0 gives a few codes.
    add(server, error=code, method=V3_METHOD)
    shown = _RENAMED.get(code, spec)
    response = v3_call(server)
    assert response.status_code == shown.status
    assert response.json() == {"error": {"code": shown.code, "message": shown.description}}
    assert v3_call(server).status_code == 200


@sqlite_only
def test_rest_v3_batch_fails_whole_with_a_sub_calls_error(server):
    add(server, error="QUERY_LIMIT_EXCEEDED", method=V3_METHOD)
    calls = [{"method": "timeman.record.field.list"}, {"method": "rest.scope.list"}]
    response = server.http.post(
        server.webhook.replace("/rest/", "/rest/api/") + "batch", json=calls
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "QUERY_LIMIT_EXCEEDED"


# --- which calls a rule applies to -------------------------------------------------------


@sqlite_only
def test_a_rule_without_a_method_takes_the_next_call_whatever_it_is(server):
    add(server, error="expired_token")
    cmd = {"a": "server.time", "b": "profile"}
    assert error_of(server.call("batch", {"cmd": cmd})) == (401, "expired_token")
    assert server.call("batch", {"cmd": cmd}).status_code == 200


@sqlite_only
def test_matching_by_caller_and_by_method(server):
    user = server.add_user("Ann")
    hook_id, hook = webhook(server, user)
    _other_id, other = webhook(server, server.admin_id)
    add(server, error="ACCESS_DENIED", caller=f"webhook:{hook_id}", times=5)
    assert server.call("profile", hook=other).status_code == 200
    assert error_of(server.call("profile", hook=hook)) == (403, "ACCESS_DENIED")
    server.http.delete(FAULTS, headers=AUTH)

    # Both: only that caller's calls of that method.
    add(server, error="OVERLOAD_LIMIT", caller=f"user:{user}", method="im.user.get", times=5)
    assert server.call("profile", hook=hook).status_code == 200
    assert server.call("im.user.get", hook=other).status_code == 200
    assert error_of(server.call("im.user.get", hook=hook)) == (503, "OVERLOAD_LIMIT")
    assert listed(server)[0]["times"] == 4


@sqlite_only
def test_matching_an_application_by_client_id(server):
    app, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name="Dev", scopes=["im"]
    )
    pair = server.http.post(
        "/_b24local/tokens", headers=AUTH, json={"client_id": app.client_id, "user_id": 1}
    ).json()
    add(server, error="expired_token", caller=f"app:{app.client_id}")
    assert server.call("profile").status_code == 200  # the webhook is not the app
    response = server.http.post("/rest/profile", json={"auth": pair["access_token"]})
    assert error_of(response) == (401, "expired_token")


@sqlite_only
def test_a_probability_with_a_seed_repeats_and_lasts(server):
    def pattern() -> list[int]:
        add(server, error="QUERY_LIMIT_EXCEEDED", method="server.time", probability=0.5, seed=7)
        codes = [server.call("server.time").status_code for _ in range(24)]
        rule = listed(server)[0]
        assert rule["times"] is None and rule["probability"] == 0.5  # no end of its own
        server.http.delete(FAULTS, headers=AUTH)
        return codes

    first = pattern()
    assert set(first) == {200, 503}
    assert pattern() == first


@sqlite_only
def test_probability_with_times_and_probability_zero(server):
    add(server, error="QUERY_LIMIT_EXCEEDED", method="server.time", probability=1, times=2)
    codes = [server.call("server.time").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    add(server, error="QUERY_LIMIT_EXCEEDED", method="server.time", probability=0)
    assert server.call("server.time").status_code == 200


@sqlite_only
def test_a_rule_lasts_seconds_of_the_servers_clock(server):
    add(server, error="OVERLOAD_LIMIT", method="server.time", seconds=60)
    for _ in range(3):  # no number of times: every call while it lasts
        assert server.call("server.time").status_code == 503
    server.http.post("/_b24local/clock/advance", headers=AUTH, json={"seconds": 59})
    assert listed(server)[0]["seconds_left"] == 1
    assert server.call("server.time").status_code == 503
    server.http.post("/_b24local/clock/advance", headers=AUTH, json={"seconds": 1})
    assert server.call("server.time").status_code == 200
    assert listed(server) == []


# --- listing and removing ----------------------------------------------------------------


@sqlite_only
def test_rules_are_listed_with_ids_and_removed_one_by_one(server):
    first = add(server, error="QUERY_LIMIT_EXCEEDED", method="server.time", times=2)
    second = add(server, latency=0.5, caller="user:1", seconds=30)
    body = server.http.get(FAULTS, headers=AUTH).json()
    assert body == {
        "faults": [
            {
                "id": first["id"], "error": "QUERY_LIMIT_EXCEEDED", "method": "server.time",
                "caller": None, "times": 2, "probability": None, "seed": None, "latency": None,
                "hang": None, "seconds_left": None,
            },
            {
                "id": second["id"], "error": None, "method": None, "caller": "user:1",
                "times": None, "probability": None, "seed": None, "latency": 0.5, "hang": None,
                "seconds_left": 30.0,
            },
        ],
        "drop_operating": False,
    }  # fmt: skip
    removed = server.http.delete(f"{FAULTS}/{first['id']}", headers=AUTH)
    assert [rule["id"] for rule in removed.json()["faults"]] == [second["id"]]
    assert server.call("server.time").status_code == 200
    again = server.http.delete(f"{FAULTS}/{first['id']}", headers=AUTH)
    assert (again.status_code, again.json()["error"]) == (404, "NOT_FOUND")
    for wrong in ("abc", "0", "-1", "9" * 40):
        assert server.http.delete(f"{FAULTS}/{wrong}", headers=AUTH).status_code == 400
    server.http.delete(FAULTS, headers=AUTH)
    assert listed(server) == []


# --- latency and hangs ------------------------------------------------------------------


@sqlite_only
def test_latency_answers_late_and_correctly(server):
    add(server, latency=0.3, method="server.time")
    began = time.monotonic()
    response = server.call("server.time")
    assert time.monotonic() - began >= 0.3
    assert response.status_code == 200 and "result" in response.json()
    # With an error: the error, late; in a batch the sub-calls' latencies add up.
    add(server, latency=0.2, error="QUERY_LIMIT_EXCEEDED", method="server.time", times=2)
    began = time.monotonic()
    batch = server.call("batch", {"cmd": ["server.time", "server.time", "profile"]})
    assert time.monotonic() - began >= 0.4
    errors = batch.json()["result"]["result_error"]  # keyed 0 and 1: a list, as PHP's
    assert [error["error"] for error in errors] == ["QUERY_LIMIT_EXCEEDED"] * 2


@sqlite_only
def test_latency_is_served_after_the_transaction(server):
    """A write answered late has committed before its wait: other writers go on
    (on SQLite, one writer at a time, they would queue behind it otherwise)."""
    slow_user = server.add_user("Slow")
    slow_id, slow_hook = webhook(server, slow_user)
    add(server, latency=3.0, caller=f"webhook:{slow_id}", method="im.user.status.set")
    with ThreadPoolExecutor(1) as pool:
        began = time.monotonic()
        slow = pool.submit(server.call, "im.user.status.set", {"STATUS": "dnd"}, hook=slow_hook)
        deadline = began + 2.5
        while server.call("im.user.status.get", hook=slow_hook).json()["result"] != "dnd":
            assert time.monotonic() < deadline, "the late write was not committed"
        assert not slow.done()
        fast = server.call("im.user.status.set", {"STATUS": "away"})
        assert fast.json()["result"] is True
        assert not slow.done()  # the other writer did not wait for it
        assert slow.result().json()["result"] is True
        assert time.monotonic() - began >= 3.0


@sqlite_only
def test_a_hang_ends_in_a_time_out_for_a_patient_client(server):
    add(server, hang=0.2, method="server.time")
    began = time.monotonic()
    response = server.call("server.time")
    assert time.monotonic() - began >= 0.2
    assert response.json() == {
        "error": "ERROR_REQUEST_TIMEOUT",
        "error_description": "The request took longer than the execution time limit",
    }
    assert response.status_code == 504
    assert server.call("server.time").status_code == 200  # used up
    # With an error, on REST 3.0: that error, in its shape.
    add(server, hang=0.2, error="QUERY_LIMIT_EXCEEDED", method=V3_METHOD)
    response = v3_call(server)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "QUERY_LIMIT_EXCEEDED"


def test_a_hang_in_a_batch_keeps_none_of_its_writes(server):
    add(server, hang=0.1, method="server.time")
    cmd = {"set": "im.user.status.set?STATUS=dnd", "time": "server.time"}
    assert error_of(server.call("batch", {"cmd": cmd})) == (504, "ERROR_REQUEST_TIMEOUT")
    assert server.call("im.user.status.get").json()["result"] == "online"


# --- the operating switch ----------------------------------------------------------------


@sqlite_only
def test_dropping_operating_from_time_blocks(server):
    operating = {"operating", "operating_reset_at"}

    def time_blocks() -> list[dict]:
        v2 = server.call("server.time").json()["time"]
        batch = server.call("batch", {"cmd": {"a": "server.time"}}).json()
        v3 = v3_call(server).json()["time"]
        return [v2, batch["time"], batch["result"]["result_time"]["a"], v3]

    assert all(operating <= set(block) for block in time_blocks())
    switched = server.http.put(f"{FAULTS}/operating", headers=AUTH, json={"drop": True})
    assert switched.json()["drop_operating"] is True
    for block in time_blocks():
        assert not operating & set(block)
        assert {"start", "finish", "duration", "processing"} <= set(block)
    server.http.put(f"{FAULTS}/operating", headers=AUTH, json={"drop": False})
    assert all(operating <= set(block) for block in time_blocks())
    # Clearing the faults (as a reset does) turns it off too.
    server.http.put(f"{FAULTS}/operating", headers=AUTH, json={"drop": True})
    server.http.delete(FAULTS, headers=AUTH)
    assert server.http.get(FAULTS, headers=AUTH).json()["drop_operating"] is False


# --- refusals ----------------------------------------------------------------------------


@sqlite_only
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"error": "NOPE"},
        {"error": 5},
        {"error": ["OVERLOAD_LIMIT"]},
        {"method": "server.time"},
        {"error": "OVERLOAD_LIMIT", "times": 0},
        {"error": "OVERLOAD_LIMIT", "times": 1e300},
        {"error": "OVERLOAD_LIMIT", "times": 10**30},
        {"error": "OVERLOAD_LIMIT", "times": 1.5},
        {"error": "OVERLOAD_LIMIT", "times": True},
        {"error": "OVERLOAD_LIMIT", "times": "9" * 5000},
        {"error": "OVERLOAD_LIMIT", "times": [1]},
        {"error": "OVERLOAD_LIMIT", "method": "no.such.method"},
        {"error": "OVERLOAD_LIMIT", "method": 5},
        {"error": "OVERLOAD_LIMIT", "method": "x" * 10_000},
        {"error": "OVERLOAD_LIMIT", "probability": 1.5},
        {"error": "OVERLOAD_LIMIT", "probability": -0.1},
        {"error": "OVERLOAD_LIMIT", "probability": "0.5"},
        {"error": "OVERLOAD_LIMIT", "probability": True},
        {"error": "OVERLOAD_LIMIT", "probability": 0.5, "seed": -1},
        {"error": "OVERLOAD_LIMIT", "probability": 0.5, "seed": 1.5},
        {"error": "OVERLOAD_LIMIT", "probability": 0.5, "seed": 10**40},
        {"error": "OVERLOAD_LIMIT", "probabilty": 0.5},
        {"latency": 0},
        {"latency": -1},
        {"latency": 61},
        {"latency": 1e300},
        {"latency": "1"},
        {"hang": 0},
        {"hang": 301},
        {"hang": [1]},
        {"latency": 1, "hang": 1},
        {"error": "OVERLOAD_LIMIT", "seconds": 0},
        {"error": "OVERLOAD_LIMIT", "seconds": -5},
        {"error": "OVERLOAD_LIMIT", "seconds": 1e300},
        {"error": "OVERLOAD_LIMIT", "caller": "webhook:x"},
        {"error": "OVERLOAD_LIMIT", "caller": "user:0"},
        {"error": "OVERLOAD_LIMIT", "caller": "bob"},
        {"error": "OVERLOAD_LIMIT", "caller": 5},
        ["OVERLOAD_LIMIT"],
    ],
)
def test_bad_fault_requests(server, body):
    response = server.http.post(FAULTS, headers=AUTH, json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "ERROR_ARGUMENT"
    assert listed(server) == []
    assert server.call("server.time").status_code == 200


@sqlite_only
@pytest.mark.parametrize(
    ("method", "content"),
    [
        ("POST", '{"error": "OVERLOAD_LIMIT", "probability": NaN}'),
        ("POST", '{"error": "OVERLOAD_LIMIT", "latency": 1e400}'),
        ("POST", "{"),
        ("PUT", '{"drop": "yes"}'),
        ("PUT", "{}"),
        ("PUT", "[true]"),
    ],
)
def test_bad_json_and_bad_switches(server, method, content):
    path = FAULTS if method == "POST" else f"{FAULTS}/operating"
    response = server.http.request(method, path, headers=AUTH, content=content)
    assert (response.status_code, response.json()["error"]) == (400, "ERROR_ARGUMENT")
    assert server.http.get(FAULTS, headers=AUTH).json() == {"faults": [], "drop_operating": False}


@sqlite_only
def test_the_number_of_rules_is_bounded(server):
    faults = server.http.app.state.runtime.faults
    for _ in range(MAX_RULES - 1):
        faults.add(server.clock.now(), error="OVERLOAD_LIMIT", method="profile")
    add(server, error="OVERLOAD_LIMIT", method="profile")
    response = server.http.post(FAULTS, headers=AUTH, json={"error": "OVERLOAD_LIMIT"})
    assert response.status_code == 400
    assert "at most" in response.json()["error_description"]
