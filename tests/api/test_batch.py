"""batch: the answer's structure, cmd forms, $result references, halt, bad input and
transactions, through HTTP on both databases."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import text

from b24local.rest.errors import RestError
from shapes import TIME_KEYS

STRUCTURE = ["result", "result_error", "result_total", "result_next", "result_time"]
NOT_FOUND = {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}


def batch(server, cmd, hook: str | None = None, **params) -> dict:
    """The inner ``result`` of a batch, which always answers 200."""
    response = server.call("batch", {"cmd": cmd, **params}, hook=hook)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["result", "time"]
    assert list(body["result"]) == STRUCTURE
    return body["result"]


def status(server) -> str:
    return server.call("im.user.status.get").json()["result"]


# --- the structure ---------------------------------------------------------------------------


def test_linked_calls_as_the_page_shows_them(server):
    response = server.call(
        "batch",
        {
            "halt": 0,
            "cmd": {
                "get_user": "user.current",
                "get_department": "department.get?ID=$result[get_user][UF_DEPARTMENT][0]",
            },
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["result", "time"]
    assert list(body["time"]) == TIME_KEYS
    # The outer call is not counted in operating.
    assert body["time"]["operating"] == 0
    inner = body["result"]
    assert list(inner) == STRUCTURE
    assert inner["result"]["get_user"]["ID"] == "1"
    assert inner["result"]["get_department"] == [
        {"ID": "1", "NAME": "Company", "SORT": 500, "UF_HEAD": "1"}
    ]
    # PHP encodes an empty array as [], a keyed one as an object.
    assert inner["result_error"] == []
    assert inner["result_total"] == {"get_department": 1}
    assert inner["result_next"] == []
    assert list(inner["result_time"]) == ["get_user", "get_department"]
    for block in inner["result_time"].values():
        assert list(block) == TIME_KEYS
        assert block["date_start"] == "2026-03-02T08:30:00+00:00"


def test_every_command_failing_as_the_page_shows_it(server):
    hook = server.add_webhook(server.add_user(), ["im"])
    cmd = {"get_user": "user.current", "get_department": "department.get"}
    inner = batch(server, cmd, hook=hook, halt=0)
    assert inner["result"] == []
    assert list(inner["result_error"]) == ["get_user", "get_department"]
    assert inner["result_error"]["get_user"] == {
        "error": "insufficient_scope",
        "error_description": (
            "The request requires higher privileges than provided by the webhook token"
        ),
    }
    assert inner["result_total"] == []
    assert inner["result_next"] == []
    assert inner["result_time"] == []


def test_halt_stops_at_the_first_failure_as_the_page_shows_it(server):
    hook = server.add_webhook(server.add_user(), ["im"])
    cmd = {"get_user": "user.current", "get_department": "department.get"}
    inner = batch(server, cmd, hook=hook, halt=1)
    assert inner["result"] == []
    assert list(inner["result_error"]) == ["get_user"]
    assert inner["result_time"] == []


def test_a_sub_call_lacking_scope_fails_in_its_own_slot(server):
    hook = server.add_webhook(server.add_user(), ["im"])
    inner = batch(server, {"a": "user.get", "b": "im.user.status.get"}, hook=hook)
    assert inner["result_error"]["a"]["error"] == "insufficient_scope"
    assert inner["result"] == {"b": "online"}


# --- cmd as an object or a list ---------------------------------------------------------------


def test_cmd_as_a_list_gives_lists(server):
    inner = batch(server, ["im.user.status.get", "user.get?FILTER[ID]=1"])
    assert inner["result"][0] == "online"
    assert [u["ID"] for u in inner["result"][1]] == ["1"]
    assert inner["result_error"] == []
    assert inner["result_total"] == {"1": 1}
    assert [list(block) for block in inner["result_time"]] == [TIME_KEYS, TIME_KEYS]


def test_cmd_as_a_list_with_a_failure_in_the_middle(server):
    inner = batch(server, ["server.time", "im.user.teleport", "im.user.status.get"])
    # Keys 0 and 2 are no PHP list any more: an object.
    assert inner["result"] == {"0": "2026-03-02T08:30:00+00:00", "2": "online"}
    assert inner["result_error"] == {"1": NOT_FOUND}
    assert list(inner["result_time"]) == ["0", "2"]


def test_cmd_as_a_list_with_a_failure_at_the_end(server):
    inner = batch(server, ["server.time", "im.user.status.get", "im.user.teleport"])
    assert inner["result"] == ["2026-03-02T08:30:00+00:00", "online"]
    assert inner["result_error"] == {"2": NOT_FOUND}


def test_commands_in_the_sdk_form(server):
    cmd = {
        "a": {"method": "im.user.get", "params": {"ID": 1}},
        "b": {"method": "server.time.json"},
    }
    inner = batch(server, cmd)
    assert inner["result"]["a"]["id"] == 1
    assert inner["result"]["b"] == "2026-03-02T08:30:00+00:00"


# --- references -------------------------------------------------------------------------------


def test_a_reference_into_a_list_result(server):
    emily = server.add_user("Emily", "Smith")
    cmd = {
        "found": "user.get?FILTER[NAME]=Emily",
        "card": "im.user.get?ID=$result[found][0][ID]",
    }
    inner = batch(server, cmd)
    assert inner["result"]["card"]["id"] == emily
    assert inner["result"]["card"]["name"] == "Emily Smith"


def test_a_reference_to_a_whole_list_keeps_it_a_list(server):
    second = server.add_user()
    cmd = {
        "me": "user.current",
        "cards": "im.user.list.get?ID=$result[me][UF_DEPARTMENT]",
        "both": f"im.user.list.get?ID[]=1&ID[]={second}",
    }
    inner = batch(server, cmd)
    assert list(inner["result"]["cards"]) == ["1"]
    assert list(inner["result"]["both"]) == ["1", str(second)]


def test_total_and_next_references(server):
    for i in range(51):
        server.add_user(f"User{i:02d}")
    cmd = {
        "first": "user.get",
        "second": "user.get?start=$result_next[first]",
        "last": "im.user.get?ID=$result_total[first]",
    }
    inner = batch(server, cmd)
    assert len(inner["result"]["first"]) == 50
    assert [u["ID"] for u in inner["result"]["second"]] == ["51", "52"]
    assert inner["result"]["last"]["id"] == 52
    assert inner["result_total"] == {"first": 52, "second": 52}
    # Only the first page has a next one.
    assert inner["result_next"] == {"first": 50}


def test_a_reference_inside_a_longer_string_reads_as_php_prints_it(server):
    one = server.add_user("User 1")
    array = server.add_user("Array of 1")
    cmd = {
        "me": "user.current",
        "set": "im.user.status.set?STATUS=online",
        "number": "user.get?FILTER[NAME]=User $result[me][ID]",
        # A list is "Array" to PHP, true is "1".
        "list": "user.get?FILTER[NAME]=$result[me][UF_DEPARTMENT] of $result[set]",
    }
    inner = batch(server, cmd)
    assert [u["ID"] for u in inner["result"]["number"]] == [str(one)]
    assert [u["ID"] for u in inner["result"]["list"]] == [str(array)]


@pytest.mark.parametrize(
    "reference",
    [
        "$result[nobody]",
        "$result[me][NO_SUCH_FIELD]",
        "$result[me][UF_DEPARTMENT][5]",
        "$result[later]",
        "$result[broken]",
        "$result_total[me]",
        "$result_next[me]",
    ],
)
def test_a_reference_to_a_missing_result(server, reference):
    cmd = {
        "me": "user.current",
        "broken": "im.user.teleport",
        "ref": f"im.user.get?ID={reference}",
        "later": "server.time",
    }
    inner = batch(server, cmd)
    assert inner["result_error"]["ref"] == {
        "error": "ERROR_BATCH_REFERENCE",
        "error_description": f"The command refers to {reference}, which does not exist",
    }
    assert set(inner["result"]) == {"me", "later"}


# --- halt -------------------------------------------------------------------------------------


CMD = {"a": "server.time", "b": "im.user.teleport", "c": "im.user.status.get"}


ABSENT = object()


@pytest.mark.parametrize(
    "halt", [ABSENT, None, 0, "0", False, "false", "N", "n", "no", "OFF", "", " ", []]
)
def test_without_halt_every_command_runs(server, halt):
    params = {} if halt is ABSENT else {"halt": halt}
    inner = batch(server, CMD, **params)
    assert set(inner["result"]) == {"a", "c"}
    assert list(inner["result_error"]) == ["b"]


@pytest.mark.parametrize("halt", [1, "1", True, "true", "Y", "yes", "banana", "00", [0]])
def test_halt_stops_after_the_first_failure(server, halt):
    inner = batch(server, CMD, halt=halt)
    assert inner["result"] == {"a": "2026-03-02T08:30:00+00:00"}
    assert list(inner["result_error"]) == ["b"]
    assert list(inner["result_time"]) == ["a"]


def test_halt_stops_at_the_first_command_past_the_fiftieth(server):
    cmd = {f"c{i}": "server.time" for i in range(53)}
    inner = batch(server, cmd, halt=1)
    assert len(inner["result"]) == 50
    assert inner["result_error"] == {
        "c50": {
            "error": "ERROR_BATCH_LENGTH_EXCEEDED",
            "error_description": "Max batch length exceeded",
        }
    }


def test_without_halt_every_command_past_the_fiftieth_fails(server):
    inner = batch(server, [*["server.time"] * 50, "im.user.status.get", "server.time"])
    assert len(inner["result"]) == 50
    assert list(inner["result_error"]) == ["50", "51"]


# --- how cmd arrives --------------------------------------------------------------------------


def test_nested_php_keys_inside_sub_queries(server):
    emily = server.add_user("Emily", "Smith")
    cmd = {
        "cards": f"im.user.list.get?ID[]=1&ID[]={emily}&RESULT_TYPE=array",
        "some": f"user.get?FILTER[@ID][0]=1&FILTER[@ID][1]={emily}&SORT=ID&ORDER=DESC",
        "more": "user.get?FILTER[>ID]=1&SELECT[]=ID&SELECT[]=NAME",
    }
    inner = batch(server, cmd)
    assert [card["id"] for card in inner["result"]["cards"]] == [1, emily]
    assert [u["ID"] for u in inner["result"]["some"]] == [str(emily), "1"]
    assert inner["result"]["more"] == [{"ID": str(emily), "NAME": "Emily"}]


def test_form_encoded_cmd(server):
    emily = server.add_user("Jörg & Co", "Smith")
    sub = "user.get?" + urlencode({"FILTER[NAME]": "Jörg & Co"})
    response = server.http.post(
        f"{server.webhook}batch",
        data={"halt": "0", "cmd[found]": sub, "cmd[status]": "im.user.status.get"},
    )
    inner = response.json()["result"]
    assert [u["ID"] for u in inner["result"]["found"]] == [str(emily)]
    assert inner["result"]["status"] == "online"


def test_double_encoded_cmd_in_the_query_string(server):
    emily = server.add_user("Jörg & Co", "Smith")
    # The sub-query is URL-encoded once, and again as a value of the batch's own URL.
    sub = "user.get?" + urlencode({"FILTER[NAME]": "Jörg & Co"})
    query = urlencode({"cmd[found]": sub, "cmd[card]": "im.user.get?ID=$result[found][0][ID]"})
    assert "%253D" not in query and "%25" in query
    response = server.http.get(f"{server.webhook}batch?{query}")
    inner = response.json()["result"]
    assert [u["ID"] for u in inner["result"]["found"]] == [str(emily)]
    assert inner["result"]["card"]["id"] == emily


def test_the_query_string_form_of_a_reference(server):
    query = "cmd[me]=user.current&cmd[card]=" + quote("im.user.get?ID=$result[me][ID]", safe="")
    inner = server.http.get(f"{server.webhook}batch?{query}").json()["result"]
    assert inner["result"]["card"]["id"] == 1


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("garbage", ["?", "%%%", None, {"x": 1}, "", "   ", 42, ["server.time"]])
def test_garbage_sub_queries_are_unknown_methods(server, garbage):
    inner = batch(server, {"before": "server.time", "bad": garbage, "after": "im.user.status.get"})
    assert inner["result_error"] == {"bad": NOT_FOUND}
    assert set(inner["result"]) == {"before", "after"}


def test_a_nul_character_fails_only_its_own_command(server):
    cmd = {
        "nul": "user.get?FILTER[NAME]=a%00b",
        "open": "timeman.open?REPORT=a%00b",
        "after": "user.get?FILTER[ID]=1",
    }
    inner = batch(server, cmd)
    refused = {
        "error": "ERROR_BAD_ENCODING",
        "error_description": "A parameter contains a NUL character",
    }
    assert inner["result_error"] == {"nul": refused, "open": refused}
    assert [u["ID"] for u in inner["result"]["after"]] == ["1"]
    assert server.call("timeman.status").json()["result"]["STATUS"] == "CLOSED"


@pytest.mark.parametrize("cmd", [None, "", "server.time", 5, [], {}])
def test_no_commands_gives_an_empty_answer(server, cmd):
    inner = batch(server, cmd)
    assert inner == {key: [] for key in STRUCTURE}


def test_batch_inside_batch(server):
    cmd = {
        "inner": "batch?cmd[x]=server.time",
        "sdk": {"method": "batch", "params": {"cmd": {"x": "server.time"}}},
        "suffixed": "BATCH.json?cmd[x]=server.time",
        "fine": "server.time",
    }
    inner = batch(server, cmd)
    refused = {
        "error": "ERROR_BATCH_METHOD_NOT_ALLOWED",
        "error_description": "Method is not allowed for batch usage",
    }
    assert inner["result_error"] == {"inner": refused, "sdk": refused, "suffixed": refused}
    assert list(inner["result"]) == ["fine"]


# --- batch.xml --------------------------------------------------------------------------------


def test_batch_xml(server):
    response = server.http.post(
        f"{server.webhook}batch.xml",
        json={"cmd": {"a": "server.time", "b": "im.user.teleport"}},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    body = response.text
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?><response><result><result>')
    assert "<result><a>2026-03-02T08:30:00+00:00</a></result>" in body
    assert (
        "<result_error><b><error>ERROR_METHOD_NOT_FOUND</error>"
        "<error_description>Method not found!</error_description></b></result_error>"
    ) in body
    assert "<result_total></result_total><result_next></result_next>" in body
    assert "<result_time><a><start>" in body


# --- transactions ---------------------------------------------------------------------------


def test_writes_in_a_batch_are_kept(server):
    inner = batch(server, {"set": "im.user.status.set?STATUS=dnd", "get": "im.user.status.get"})
    assert inner["result"] == {"set": True, "get": "dnd"}
    assert status(server) == "dnd"


def test_cmd_spelt_twice_runs_the_last_spelling_in_a_write_transaction(server, monkeypatch):
    store = server.store
    kinds: list[bool] = []
    real = store.transaction

    def transaction(*, write: bool = False):
        kinds.append(write)
        return real(write=write)

    monkeypatch.setattr(store, "transaction", transaction)
    body = {"cmd": {"a": "server.time"}, "CMD": {"a": "im.user.status.set?STATUS=dnd"}}
    response = server.call("batch", body)
    assert response.json()["result"]["result"] == {"a": True}
    # The batch that writes ran as a write, not inside a read transaction (a write
    # that queues on PostgreSQL may look its caller up on a read first).
    assert kinds[-1] is True and kinds.count(True) == 1
    monkeypatch.undo()
    assert status(server) == "dnd"

    response = server.call("batch", {"CMD": {"a": "im.user.status.set?STATUS=away"},
                                     "cmd": {"a": "im.user.status.get"}})  # fmt: skip
    assert response.json()["result"]["result"] == {"a": "dnd"}


def test_a_read_failing_in_the_database_spoils_no_other_command(server, monkeypatch):
    registry = server.http.app.state.runtime.registry
    original = registry.get("department.get")

    async def broken(call):
        # A real failure in the database: on PostgreSQL it aborts the transaction.
        await call.conn.execute(text("SELECT * FROM no_such_table"))

    monkeypatch.setitem(registry._methods, "department.get", replace(original, handler=broken))
    cmd = {
        "before": "user.current",
        "broken": "department.get",
        "read": "user.get?FILTER[ID]=1",
        "write": "im.user.status.set?STATUS=dnd",
        "after": "im.user.status.get",
    }
    inner = batch(server, cmd)
    assert inner["result_error"] == {
        "broken": {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"}
    }
    assert list(inner["result"]) == ["before", "read", "write", "after"]
    assert inner["result"]["after"] == "dnd"
    assert status(server) == "dnd"


def test_a_failing_write_leaves_nothing_half_done(server, monkeypatch):
    registry = server.http.app.state.runtime.registry
    original = registry.get("im.user.status.idle.start")

    async def half_done(call):
        await registry.get("im.user.status.set").handler(call)  # writes the status...
        raise RestError("IDLE_FAILED", "failed after writing", 400)  # ...then fails

    monkeypatch.setitem(
        registry._methods, "im.user.status.idle.start", replace(original, handler=half_done)
    )
    cmd = {
        "before": "im.user.status.set?STATUS=away",
        "failing": "im.user.status.idle.start?STATUS=dnd",
        "after": "im.user.status.get",
    }
    inner = batch(server, cmd)
    assert inner["result_error"] == {
        "failing": {"error": "IDLE_FAILED", "error_description": "failed after writing"}
    }
    # The failing command's write is gone; the one before it is kept.
    assert inner["result"] == {"before": True, "after": "away"}
    assert status(server) == "away"


def test_a_batch_of_cards_answers_as_each_card_alone(server):
    """Many ``im.user.get`` in one batch (on PostgreSQL their rows are fetched
    together): each answers as the same call made alone, found or not."""
    ids = [server.add_user(f"Card{n}") for n in range(3)]
    other = server.add_webhook(ids[0], ["im"])
    server.call("im.user.status.set", {"STATUS": "dnd"}, hook=other)
    asked = [*ids, server.admin_id, 987_654, 0, 10**30]
    cmd = {f"u{n}": f"im.user.get?ID={user_id}" for n, user_id in enumerate(asked)}
    cmd["me"] = "im.user.get"
    cmd["ref"] = "im.user.get?ID=$result[u0][id]"

    inner = batch(server, cmd)

    for n, user_id in enumerate(asked):
        alone = server.call("im.user.get", {"ID": user_id}).json()
        if "result" in alone:
            assert inner["result"][f"u{n}"] == alone["result"]
        else:
            assert inner["result_error"][f"u{n}"] == alone
    assert inner["result"]["me"] == server.call("im.user.get").json()["result"]
    assert inner["result"]["ref"] == inner["result"]["u0"]
    assert inner["result"]["u0"]["status"] == "dnd"
