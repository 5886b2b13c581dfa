"""The call journal of ``--dev``: every REST call, its batch commands and its
caller, read back through ``/_b24local/calls``. The store does not change what is
recorded, so these run on SQLite only."""

from __future__ import annotations

import sys
import threading

import pytest

from b24local import admin

AUTH = {"Authorization": "Bearer test-dev-token"}

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def calls(server, **query) -> dict:
    answer = server.http.get("/_b24local/calls", headers=AUTH, params=query)
    assert answer.status_code == 200, answer.text
    return answer.json()


def only(server, **query) -> dict:
    found = calls(server, **query)["calls"]
    assert len(found) == 1, found
    return found[0]


def hook_id(server) -> int:
    return server.run(admin.list_webhooks, server.store)[0].id


def test_a_call_as_recorded(server):
    server.clock.advance(5)
    answer = server.call("im.user.status.set", {"STATUS": "dnd", "extra": [1, {"a": None}]})
    assert answer.status_code == 200
    call = only(server)
    duration = call.pop("duration")
    assert 0 <= duration < 5
    assert call == {
        "id": 1,
        "time": "2026-03-02T08:30:05+00:00",
        "portal": server.run(admin.list_portals, server.store)[0].domain,
        "caller": {"type": "webhook", "id": hook_id(server), "user_id": 1},
        "method": "im.user.status.set",
        "params": {"STATUS": "dnd", "extra": [1, {"a": None}]},
        "status": 200,
        "error": None,
        "api": "v2",
    }


def test_refusals_are_recorded_too(server):
    wrong = server.webhook.rsplit("/", 2)[0] + "/not-the-code/"
    assert server.call("user.current", hook=wrong).status_code == 401
    assert server.call("no.such.method").status_code == 404
    put = server.http.put(server.webhook + "user.current")
    assert put.status_code == 405
    first, second, third = calls(server)["calls"]
    assert (first["caller"], first["method"], first["status"], first["error"]) == (
        None, "user.current", 401, "NO_AUTH_FOUND",
    )  # fmt: skip
    assert (second["method"], second["status"], second["error"]) == (
        "no.such.method", 404, "ERROR_METHOD_NOT_FOUND",
    )  # fmt: skip
    assert second["caller"]["type"] == "webhook"
    assert (third["status"], third["error"]) == (405, put.json()["error"])
    # The webhook's code is never shown, not even the wrong one.
    listing = server.http.get("/_b24local/calls", headers=AUTH).text
    assert "not-the-code" not in listing
    assert server.webhook.split("/")[3] not in listing


def test_secrets_are_blanked_and_long_values_cut(server):
    installed, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name="J", scopes=["im"]
    )
    pair, _portal = server.run(
        admin.issue_app_token, server.store, server.clock.now(),
        client_id=installed.client_id, user_id=1,
    )  # fmt: skip
    params = {
        "auth": pair.access_token,
        "nested": {"Password": "hunter2", "list": [{"client_secret": "s3"}]},
        "refresh_token": pair.refresh_token,
        "long": "x" * 100_000,
    }
    assert server.http.post("/rest/im.user.status.get", json=params).status_code == 200
    call = only(server)
    assert call["caller"] == {"type": "app", "client_id": installed.client_id, "user_id": 1}
    shown = call["params"]
    assert "auth" not in shown  # taken out as the credentials
    assert shown["nested"] == {"Password": "***", "list": [{"client_secret": "***"}]}
    assert shown["refresh_token"] == "***"
    assert shown["long"].startswith("x" * 4096)
    assert shown["long"].endswith("[cut] 100000 characters")
    listing = server.http.get("/_b24local/calls", headers=AUTH).text
    for secret in (pair.access_token, pair.refresh_token, "hunter2", "s3"):
        assert secret not in listing
    # A token refused still never shows.
    server.http.post("/rest/user.current", json={"auth": "made-up-token"})
    assert "made-up-token" not in server.http.get("/_b24local/calls", headers=AUTH).text


def test_a_batch_and_its_commands(server):
    cmd = {
        "me": "user.current",
        "status": "im.user.status.set?STATUS=away",
        "bad": "no.such.method?x=1",
        "ref": "im.user.status.get?ID=$result[me][ID]",
        "raw": "user.current?auth=leaked&ID=1",
    }
    answer = server.call("batch", {"halt": 0, "cmd": cmd})
    assert answer.status_code == 200
    call = only(server)
    assert (call["method"], call["params"], call["status"], call["error"]) == (
        "batch", {"halt": 0}, 200, None,
    )  # fmt: skip
    commands = {sub["key"]: sub for sub in call["calls"]}
    assert list(commands) == ["me", "status", "bad", "ref", "raw"]
    assert commands["me"]["method"] == "user.current"
    assert commands["status"]["params"] == {"STATUS": "away"}
    assert (commands["bad"]["status"], commands["bad"]["error"]) == (404, "ERROR_METHOD_NOT_FOUND")
    # What ran: the reference resolved.
    assert commands["ref"]["params"] == {"ID": "1"}
    assert commands["raw"]["params"] == {"auth": "***", "ID": "1"}
    assert "leaked" not in server.http.get("/_b24local/calls", headers=AUTH).text
    # The filters see the commands: the batch is found by a command's method or error.
    assert only(server, method="im.user.status.set")["id"] == call["id"]
    assert only(server, error="ERROR_METHOD_NOT_FOUND")["id"] == call["id"]


def test_rest_v3_calls_and_batch(server):
    path = server.webhook.replace("/rest/", "/rest/api/", 1)
    fields = server.http.post(path + "timeman.record.field.list", json={})
    assert fields.status_code == 200
    body = [
        {"method": "timeman.record.field.get", "query": {"name": "duration"}, "as": "f"},
        {"method": "timeman.record.field.get", "query": {"name": "nope"}},
    ]
    failed = server.http.post(path + "batch", json=body)
    assert failed.status_code >= 400
    direct, batch = calls(server)["calls"]
    assert (direct["api"], direct["method"], direct["status"]) == (
        "v3", "timeman.record.field.list", 200,
    )  # fmt: skip
    assert batch["api"] == "v3"
    assert (batch["status"], batch["error"]) == (
        failed.status_code, failed.json()["error"]["code"],
    )  # fmt: skip
    first, second = batch["calls"]
    assert (first["key"], first["params"], first["error"]) == ("f", {"name": "duration"}, None)
    assert second["error"] == failed.json()["error"]["code"]


def test_the_ring_keeps_the_newest(server_with):
    with server_with(journal_size=3) as srv:
        for _ in range(5):
            srv.call("server.time")
        page = calls(srv)
        assert [call["id"] for call in page["calls"]] == [3, 4, 5]
        assert page["last"] == 5
        # Paged with next.
        first = calls(srv, limit=2)
        assert ([c["id"] for c in first["calls"]], first["next"]) == ([3, 4], 4)
        second = calls(srv, limit=2, after=first["next"])
        assert ([c["id"] for c in second["calls"]], second["next"]) == ([5], None)
        # Cleared: numbering goes on.
        assert srv.http.delete("/_b24local/calls", headers=AUTH).json()["calls"] == []
        assert calls(srv)["calls"] == []
        srv.call("server.time")
        assert only(srv)["id"] == 6


def test_filters(server):
    other_user = server.add_user("Ann")
    other = server.add_webhook(other_user, ["im"])
    server.call("user.current")
    server.clock.advance(60)
    server.call("im.user.status.get", hook=other)
    server.call("user.current", hook=other)  # no user scope
    ids = lambda **query: [c["id"] for c in calls(server, **query)["calls"]]  # noqa: E731
    assert ids(method="user.current") == [1, 3]
    assert ids(method="IM.USER.*") == [2]
    assert ids(caller=f"user:{other_user}") == [2, 3]
    assert ids(caller=f"webhook:{hook_id(server)}") == [1]
    assert ids(error="any") == [3]
    assert ids(error="insufficient_scope") == [3]
    assert ids(error="NO_AUTH_FOUND") == []
    assert ids(since="2026-03-02T08:31:00+00:00") == [2, 3]
    assert ids(since="2026-03-02T08:31:00") == [2, 3]  # read as UTC
    assert ids(since="2026-03-02T10:31:00+02:00") == [2, 3]


def test_summary_of_methods_and_scopes(server):
    user = server.add_user("Ann")
    hook = server.add_webhook(user, ["im", "timeman"])
    server.call("im.user.status.get", hook=hook)
    server.call("im.user.status.get", hook=hook)
    server.call("user.current", hook=hook)
    server.call("server.time", hook=hook)
    server.call("user.current")
    answer = server.http.get(
        "/_b24local/calls/summary", headers=AUTH, params={"caller": f"user:{user}"}
    )
    assert answer.status_code == 200
    (usage,) = answer.json()["callers"]
    assert usage["who"]["user_id"] == user
    assert usage["methods"] == {
        "im.user.status.get": {"calls": 2, "errors": {}},
        "server.time": {"calls": 1, "errors": {}},
        "user.current": {"calls": 1, "errors": {"insufficient_scope": 1}},
    }
    assert usage["scopes"] == {
        "granted": ["im", "timeman"], "used": ["im"], "unused": ["timeman"], "missing": ["user"],
    }  # fmt: skip
    everyone = server.http.get("/_b24local/calls/summary", headers=AUTH).json()["callers"]
    assert len(everyone) == 2


def test_wait_for_the_next_call(server):
    server.call("server.time")
    # One already there: answered at once.
    assert (
        server.http.get(
            "/_b24local/calls/wait", headers=AUTH, params={"after": 0, "timeout": 5}
        ).json()["calls"][0]["id"]
        == 1
    )
    # None comes: 408 after the timeout.
    late = server.http.get("/_b24local/calls/wait", headers=AUTH, params={"after": 1, "timeout": 0})
    assert (late.status_code, late.json()["error"]) == (408, "TIMEOUT")
    # One comes while waiting (only the matching one wakes it with an answer).
    got: dict = {}

    def wait() -> None:
        got["answer"] = server.http.get(
            "/_b24local/calls/wait", headers=AUTH,
            params={"after": 1, "timeout": 30, "method": "user.current"},
        )  # fmt: skip

    waiter = threading.Thread(target=wait)
    waiter.start()
    server.call("server.time")
    server.call("user.current")
    waiter.join(30)
    assert got["answer"].status_code == 200
    assert [c["id"] for c in got["answer"].json()["calls"]] == [3]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/_b24local/calls", {"limit": "0"}),
        ("/_b24local/calls", {"limit": "1e300"}),
        ("/_b24local/calls", {"limit": "100000"}),
        ("/_b24local/calls", {"after": "-1"}),
        ("/_b24local/calls", {"after": "99999999999999999999999"}),
        ("/_b24local/calls", {"after": "¹"}),
        ("/_b24local/calls", {"since": "yesterday"}),
        ("/_b24local/calls", {"method": "m" * 1000}),
        ("/_b24local/calls", {"method": "a\x00b"}),
        ("/_b24local/calls/wait", {"timeout": "nan"}),
        ("/_b24local/calls/wait", {"timeout": "inf"}),
        ("/_b24local/calls/wait", {"timeout": "61"}),
        ("/_b24local/calls/wait", {"timeout": "-1"}),
        ("/_b24local/calls/summary", {"caller": "c" * 1000}),
    ],
)
def test_hostile_requests(server, path, query):
    answer = server.http.get(path, headers=AUTH, params=query)
    assert answer.status_code == 400, answer.text
    assert set(answer.json()) == {"error", "error_description"}


def test_the_dev_token_is_required_and_wrong_methods_told(server):
    for path in ("/_b24local/calls", "/_b24local/calls/wait", "/_b24local/calls/summary"):
        assert server.http.get(path).status_code == 401
    assert server.http.delete("/_b24local/calls").status_code == 401
    wrong = server.http.post("/_b24local/calls", headers=AUTH)
    assert wrong.status_code == 405
    assert set(wrong.headers["allow"].split(", ")) >= {"GET", "DELETE"}


def test_nothing_is_recorded_without_dev(server_with):
    with server_with(dev=False) as srv:
        srv.call("server.time")
        assert srv.http.get("/_b24local/calls", headers=AUTH).status_code == 404
        assert srv.http.app.state.runtime.journal is None


def test_size_zero_keeps_no_journal_under_dev(server_with):
    with server_with(journal_size=0) as srv:
        assert srv.call("server.time").status_code == 200
        answer = srv.http.get("/_b24local/calls", headers=AUTH)
        assert (answer.status_code, answer.json()["error"]) == (404, "NOT_FOUND")
        # The rest of the dev API is there.
        assert srv.http.get("/_b24local/clock", headers=AUTH).status_code == 200


def test_secrets_in_commands_refused_unparsed_are_blanked(server):
    """A command refused before its query is decoded (past the 50th, or over the
    parameter budget) is kept as sent: a secret in it is blanked however its name
    is spelt (encoded, nested, in brackets)."""
    cmd = {f"c{n}": "user.current" for n in range(50)}
    cmd["late"] = "user.current?%61uth=S-encoded&data[Auth]=S-nested&auth[]=S-list&ID=1"
    cmd["huge"] = "user.current?password=S-plain&" + "&".join(f"p{n}=1" for n in range(10_001))
    assert server.call("batch", {"cmd": cmd}).status_code == 200
    commands = {sub["key"]: sub for sub in only(server)["calls"]}
    assert commands["late"]["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"
    assert commands["late"]["params"] == ("user.current?%61uth=***&data[Auth]=***&auth[]=***&ID=1")
    assert commands["huge"]["params"].startswith("user.current?password=***&p0=1")
    listing = server.http.get("/_b24local/calls", headers=AUTH).text
    for secret in ("S-encoded", "S-nested", "S-list", "S-plain"):
        assert secret not in listing


def test_a_batch_of_thousands_of_commands_keeps_a_bounded_entry(server):
    """Commands past the batch's 50 are refused, one by one, and a request may
    carry thousands: the entry keeps the first hundred, counts the rest, and all
    its commands' parameters share one bound of text."""
    long_value = "x" * 3000
    cmd = {f"c{n}": f"user.current?v={long_value}" for n in range(2000)}
    answer = server.call("batch", {"cmd": cmd})
    assert answer.status_code == 200
    call = only(server)
    assert len(call["calls"]) == 100
    assert call["calls_cut"] == 1900
    assert call["calls"][60]["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"
    kept_text = sum(len(str(sub["params"])) for sub in call["calls"])
    assert kept_text < 80 * 1024
    # The first commands are kept whole; later ones are cut, and say so.
    assert call["calls"][0]["params"] == {"v": long_value}
    assert "[cut]" in str(call["calls"][-1]["params"])
    # A batch within every bound has no calls_cut.
    server.http.delete("/_b24local/calls", headers=AUTH)
    server.call("batch", {"cmd": {"a": "user.current"}})
    assert "calls_cut" not in only(server)


def test_a_call_refused_for_its_own_credentials_names_no_caller(server):
    """A big body is let in by a token of the query string, but the call is made
    with the body's own ``auth``, which fails: no caller made it."""
    installed, _secret = server.run(
        admin.add_app, server.store, server.clock.now(), name="J", scopes=["user"]
    )
    pair, _portal = server.run(
        admin.issue_app_token, server.store, server.clock.now(),
        client_id=installed.client_id, user_id=1,
    )  # fmt: skip
    body = {"auth": "not-a-token", "pad": "x" * 100_000}
    answer = server.http.post(f"/rest/user.current?auth={pair.access_token}", json=body)
    assert answer.status_code == 401
    call = only(server)
    assert (call["status"], call["caller"]) == (401, None)
    assert calls(server, caller=f"app:{installed.client_id}")["calls"] == []


def test_batch_keys_and_methods_are_not_interned(server):
    """Python 3.12 never frees an interned string: the journal must not intern
    what a client names (a key, an unknown method), or hostile batches would
    grow the process for good. Shown by identity: ``sys.intern`` of an equal
    string is not the journal's own copy."""
    key, method = "k" * 90 + "-unique", "no.such." + "m" * 90
    server.call("batch", {"cmd": {key: method}})
    journal = server.http.app.state.runtime.journal
    (command,) = journal._entries[-1].calls
    kept_key, kept_method = command[0], command[1]
    assert (kept_key, kept_method) == (key, method)
    assert sys.intern("".join(key)) is not kept_key
    assert sys.intern("".join(method)) is not kept_method
