"""REST 3.0 through HTTP: the /rest/api/ path, its errors, Idempotency-Key, the
OpenAPI document and timeman.record.*. User 1 is the portal's administrator."""

from __future__ import annotations

from datetime import timedelta

import pytest

from b24local import admin
from b24local import app as app_module
from b24local.rest.registry import MethodGroup, Registry
from b24local.rest.v3.errors import VALIDATION
from b24local.rest.v3.schema import V3Spec
from b24local.scopes import all_groups
from b24local.store import settings

HOUR = 3600
#: For what the database does not decide (parsing, errors, the path): SQLite only.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def v3(server, method: str, params=None, *, hook: str | None = None, **kwargs):
    path = (hook or server.webhook).replace("/rest/", "/rest/api/", 1)
    if params is None and "content" not in kwargs:
        return server.http.post(path + method, **kwargs)
    if "content" in kwargs:
        return server.http.post(path + method, **kwargs)
    return server.http.post(path + method, json=params, **kwargs)


def result(response):
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"result", "time"}
    return body["result"]


def error(response) -> tuple[int, str, dict]:
    body = response.json()
    assert set(body) == {"error"}, body
    return response.status_code, body["error"]["code"], body["error"]


def work_day(server, hours: int = 8, pause_minutes: int = 0, *, hook: str | None = None):
    """Open, optionally pause, and close a day through the old path; next morning."""
    assert server.call("timeman.open", hook=hook).status_code == 200
    if pause_minutes:
        server.clock.advance(HOUR)
        server.call("timeman.pause", hook=hook)
        server.clock.advance(pause_minutes * 60)
        server.call("timeman.open", hook=hook)
        server.clock.advance((hours - 1) * HOUR)
    else:
        server.clock.advance(hours * HOUR)
    assert server.call("timeman.close", hook=hook).status_code == 200
    server.clock.advance(24 * HOUR - hours * HOUR - pause_minutes * 60)


# --- the path ----------------------------------------------------------------------------


def test_record_list_answers_as_the_page_shows(server):
    work_day(server, hours=8, pause_minutes=30)
    items = result(v3(server, "timeman.record.list", {"filter": [["userId", "=", 1]]}))["items"]
    assert items == [
        {
            "id": 1,
            "userId": 1,
            "startTime": "2026-03-02T08:30:00+00:00",
            "endTime": "2026-03-02T17:00:00+00:00",
            "duration": 8 * HOUR,
            "breakLength": 30 * 60,
            "state": "CLOSED",
            "isApproved": True,
        }
    ]


@sqlite_only
def test_the_old_path_does_not_know_rest3_only_methods(server):
    response = server.call("timeman.record.list", {"filter": [["userId", 1]]})
    assert response.status_code == 404
    assert response.json()["error"] == "ERROR_METHOD_NOT_FOUND"


@sqlite_only
def test_the_old_batch_and_introspection_do_not_know_them_either(server):
    body = server.call("batch", {"cmd": {"r": "timeman.record.field.list"}}).json()["result"]
    assert body["result_error"]["r"]["error"] == "ERROR_METHOD_NOT_FOUND"
    listed = server.call("methods", {"full": True}).json()["result"]
    assert "timeman.status" in listed and "timeman.record.list" not in listed
    found = server.call("method.get", {"name": "timeman.record.list"}).json()["result"]
    assert found == {"isExisting": False, "isAvailable": False}


@sqlite_only
def test_old_methods_do_not_answer_on_the_new_path(server):
    status, code, _ = error(v3(server, "timeman.status", {}))
    assert (status, code) == (404, "ERROR_METHOD_NOT_FOUND")


@sqlite_only
def test_form_data_is_refused_as_invalid_json(server):
    response = v3(
        server,
        "timeman.record.list",
        content=b"filter=1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    status, code, detail = error(response)
    assert (status, code) == (400, "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION")
    assert detail["message"]
    for body in (b"{nope", b"[1, 2]", b'"text"'):
        response = v3(
            server,
            "timeman.record.list",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert error(response)[:2] == (400, "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION")


@sqlite_only
def test_query_string_is_not_read(server):
    path = server.webhook.replace("/rest/", "/rest/api/") + "timeman.record.field.get?name=id"
    status, code, detail = error(server.http.get(path))
    assert (status, code) == (400, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION")
    assert detail["validation"] == [
        {"field": "name", "message": "Required field `name` is not specified"}
    ]


@sqlite_only
def test_oauth_style_auth_in_the_body_and_a_wrong_one(server):
    hook = server.webhook  # "/rest/1/<code>/"
    response = server.http.post("/rest/api/timeman.record.field.list", json={"auth": "nope"})
    status, code, _ = error(response)
    assert (status, code) == (401, "NO_AUTH_FOUND")
    assert result(v3(server, "timeman.record.field.list", {}, hook=hook))["items"]


@sqlite_only
def test_an_application_token_in_the_body(server):
    work_day(server, hours=2)
    app, _ = server.run(
        admin.add_app, server.store, server.clock.now(), name="a", scopes=["timeman"]
    )
    pair, _ = server.run(
        admin.issue_app_token, server.store, server.clock.now(), client_id=app.client_id, user_id=1
    )
    response = server.http.post(
        "/rest/api/timeman.record.list",
        json={"auth": pair.access_token, "filter": [["userId", 1]], "select": ["duration"]},
    )
    assert result(response) == {"items": [{"duration": 2 * HOUR}]}


@sqlite_only
def test_scope_is_checked_in_rest3_terms(server):
    hook = server.add_webhook(1, ["im"])
    status, code, _ = error(v3(server, "timeman.record.field.list", {}, hook=hook))
    assert (status, code) == (403, "BITRIX_REST_V3_EXCEPTION_INSUFFICIENTSCOPEEXCEPTION")


# --- record.list: filter, select, order, pagination ----------------------------------------


def test_select_order_and_pagination(server):
    for hours in (3, 1, 2):
        work_day(server, hours=hours)
    page = result(
        v3(
            server,
            "timeman.record.list",
            {
                "filter": [["userId", 1]],
                "select": ["id", "duration", "nonexistent"],
                "order": {"duration": "desc"},
                "pagination": {"limit": 2, "page": 1},
            },
        )
    )["items"]
    assert page == [{"id": 1, "duration": 3 * HOUR}, {"id": 3, "duration": 2 * HOUR}]
    rest = result(
        v3(
            server,
            "timeman.record.list",
            {
                "filter": [["userId", 1]],
                "select": ["id"],
                "order": {"duration": "DESC"},
                "pagination": {"limit": 2, "page": 2},
            },
        )
    )["items"]
    assert rest == [{"id": 2}]


def test_filter_by_start_time(server):
    for _ in range(3):
        work_day(server, hours=1)
    between = result(
        v3(
            server,
            "timeman.record.list",
            {
                "filter": [
                    ["userId", "=", "1"],
                    ["startTime", "between", ["2026-03-03", "2026-03-04T23:59:59+00:00"]],
                ],
                "select": ["id"],
            },
        )
    )["items"]
    assert between == [{"id": 2}, {"id": 3}]
    either = result(
        v3(
            server,
            "timeman.record.list",
            {
                "filter": [
                    ["userId", 1],
                    {
                        "logic": "or",
                        "conditions": [
                            ["startTime", "<", "2026-03-03"],
                            ["startTime", ">=", "2026-03-04"],
                        ],
                    },
                ],
                "select": ["id"],
                "order": {"id": "DESC"},
            },
        )
    )["items"]
    assert either == [{"id": 3}, {"id": 1}]


def test_an_open_day_has_no_end_yet(server):
    server.call("timeman.open")
    server.clock.advance(HOUR)
    item = result(v3(server, "timeman.record.list", {"filter": [["userId", 1]]}))["items"][0]
    assert item["endTime"] is None
    assert (item["duration"], item["state"]) == (0, "OPENED")


@sqlite_only
@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 400, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION"),
        (
            {"filter": [["userId", "in", [1, 2]]]},
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDFILTEREXCEPTION",
        ),
        (
            {"filter": [["userId", 1], ["userId", 2]]},
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDFILTEREXCEPTION",
        ),
        (
            {"filter": [["userId", "like", 1]]},
            400,
            "BITRIX_REST_V3_EXCEPTION_UNKNOWNFILTEROPERATOREXCEPTION",
        ),
        (
            {"filter": [["userId", 1], ["colour", 1]]},
            400,
            "BITRIX_REST_V3_EXCEPTION_UNKNOWNDTOPROPERTYEXCEPTION",
        ),
        (
            {"filter": [["userId", 1], ["duration", ">", 1]]},
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDFILTEREXCEPTION",
        ),
        (
            {"filter": [["userId", "abc"]]},
            400,
            "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION",
        ),
        (
            {"filter": [["userId", 1]], "select": "id"},
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION",
        ),
        (
            {"filter": [["userId", 1]], "select": ["user.name"]},
            400,
            "BITRIX_REST_V3_EXCEPTION_UNKNOWNDTOPROPERTYEXCEPTION",
        ),
        (
            {"filter": [["userId", 1]], "order": {"state": "ASC"}},
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDORDEREXCEPTION",
        ),
        (
            {"filter": [["userId", 1]], "pagination": {"limit": 0}},
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDPAGINATIONEXCEPTION",
        ),
        (
            {"filter": [["userId", 1]], "pagination": {"page": "x"}},
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDPAGINATIONEXCEPTION",
        ),
        ({"filter": [["userId", 2**40]]}, 403, "BITRIX_REST_V3_EXCEPTION_ACCESSDENIEDEXCEPTION"),
    ],
)
def test_bad_queries_get_rest3_errors(server, params, status, code):
    assert error(v3(server, "timeman.record.list", params))[:2] == (status, code)


@sqlite_only
@pytest.mark.parametrize(
    "extra",
    [
        [["startTime", ">", "2020-01-01"]] * 500,  # an expression too deep for SQLite
        [{"logic": "or", "conditions": [["userId", "=", 1]] * 1000}],
        [["userId", "in", list(range(1, 1000))]] * 3,  # too many parameters
    ],
    ids=["500-conditions", "or-group-of-1000", "3000-values"],
)
def test_a_filter_too_big_for_sql_is_refused(server, extra):
    response = v3(server, "timeman.record.list", {"filter": [["userId", "=", 1], *extra]})
    status, code, detail = error(response)
    assert (status, code) == (400, "BITRIX_REST_V3_EXCEPTION_INVALIDFILTEREXCEPTION")
    assert "at most 100 conditions" in detail["message"]


@sqlite_only
def test_a_bad_value_is_shown_as_json_in_the_message(server):
    _, _, detail = error(
        v3(server, "timeman.record.list", {"filter": [["userId", 1]], "select": [None]})
    )
    assert detail["message"] == "Unable to recognize select expression `null`"


@sqlite_only
def test_missing_user_filter_is_named(server):
    _, _, detail = error(v3(server, "timeman.record.list", {"filter": []}))
    assert detail == {
        "code": "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION",
        "message": "Error during request object validation",
        "validation": [
            {"field": "filter.userId", "message": "Required field `filter.userId` is not specified"}
        ],
    }


def test_rights_self_head_admin(server):
    ann = server.add_user("Ann")
    bob = server.add_user("Bob")
    team = server.run(admin.add_department, server.store, name="Team", parent_id=1, head_id=ann)
    carl = server.run(
        admin.add_user,
        server.store,
        server.clock.now(),
        name="Carl",
        last_name="C",
        department_ids=[team.id],
    ).id
    hooks = {uid: server.add_webhook(uid, ["timeman"]) for uid in (ann, bob, carl)}
    work_day(server, hours=1, hook=hooks[carl])

    def seen(reader: int, whose: int):
        return v3(
            server, "timeman.record.list", {"filter": [["userId", whose]]}, hook=hooks[reader]
        )

    assert len(result(seen(carl, carl))["items"]) == 1
    assert len(result(seen(ann, carl))["items"]) == 1  # head of Carl's department
    assert (
        len(result(v3(server, "timeman.record.list", {"filter": [["userId", carl]]}))["items"]) == 1
    )
    assert error(seen(bob, carl))[:2] == (403, "BITRIX_REST_V3_EXCEPTION_ACCESSDENIEDEXCEPTION")
    assert error(seen(carl, ann))[:2] == (403, "BITRIX_REST_V3_EXCEPTION_ACCESSDENIEDEXCEPTION")
    assert error(seen(bob, carl))[2] == {
        "code": "BITRIX_REST_V3_EXCEPTION_ACCESSDENIEDEXCEPTION",
        "message": "Access denied",
    }


# --- field.list / field.get -----------------------------------------------------------------


@sqlite_only
def test_field_list_as_the_page_shows(server):
    items = result(v3(server, "timeman.record.field.list", {}))["items"]
    assert [i["name"] for i in items] == [
        "id",
        "userId",
        "startTime",
        "endTime",
        "duration",
        "breakLength",
        "state",
        "isApproved",
    ]
    assert items[2] == {
        "name": "startTime",
        "type": "object",
        "title": "startTime",
        "filterable": True,
        "sortable": True,
    }
    assert items[0]["filterable"] is False and items[5]["sortable"] is False


@sqlite_only
def test_field_get_and_its_errors(server):
    item = result(v3(server, "timeman.record.field.get", {"name": "startTime"}))["item"]
    assert item == {
        "name": "startTime",
        "type": "object",
        "title": "startTime",
        "filterable": True,
        "sortable": True,
    }
    picked = result(v3(server, "timeman.record.field.get", {"name": "id", "select": ["type"]}))
    assert picked == {"item": {"type": "int"}}
    status, code, detail = error(v3(server, "timeman.record.field.get", {"name": "nope"}))
    assert (status, code) == (400, "BITRIX_REST_V3_REALISATION_EXCEPTION_FIELDNOTFOUNDEXCEPTION")
    assert detail["message"] == "Field `nope` not found" and "validation" not in detail
    status, code, detail = error(
        v3(server, "timeman.record.field.list", {"select": ["unknownField"]})
    )
    assert (status, code) == (400, "BITRIX_REST_V3_EXCEPTION_UNKNOWNDTOPROPERTYEXCEPTION")
    assert detail["message"] == "Unknown field `unknownField` for object `DtoFieldDto`"


# --- OpenAPI ----------------------------------------------------------------------------------


@sqlite_only
def test_openapi_lists_exactly_the_rest3_methods(server):
    for name in ("rest.documentation.openapi", "documentation"):
        path = server.webhook.replace("/rest/", "/rest/api/") + name
        document = server.http.get(path).json()
        assert document["openapi"] == "3.0.0"
        assert document["info"] == {"title": "Bitrix24 REST V3 API", "version": "1.0.0"}
        assert "/timeman.record.list" in document["paths"]
        assert "/timeman.status" not in document["paths"]
        assert "RecordDto" in document["components"]["schemas"]


# --- Idempotency-Key ----------------------------------------------------------------------------

counter = MethodGroup("basic")


@counter.method(
    "test.counter.add",
    summary="test",
    reference="rest-v3.md",
    writes=True,
    v3=V3Spec("test", parameters=("step",)),
    v2=False,
)
async def _add(call):
    # Counts in the settings table so a re-run would be visible.
    if call.params.get("fail"):
        raise VALIDATION.invalid("fail", "Asked to fail")
    current = int(await settings.get(call.conn, "test.counter", call.portal.id) or 0)
    await settings.put(call.conn, "test.counter", str(current + 1), call.portal.id)
    return {"result": current + 1}


@pytest.fixture
def counting(monkeypatch, server_with):
    monkeypatch.setattr(app_module, "build_registry", lambda: Registry([*all_groups(), counter]))
    with server_with() as srv:
        yield srv


def test_idempotency_key_replays_the_first_answer(counting):
    headers = {"Idempotency-Key": "key-1"}
    first = v3(counting, "test.counter.add", {"step": 1}, headers=headers)
    assert result(first) == {"result": 1}
    assert first.headers["Idempotency-Key"] == "key-1"
    assert "Idempotent-Replayed" not in first.headers
    again = v3(counting, "test.counter.add", {"step": 1}, headers=headers)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    other = v3(counting, "test.counter.add", {"step": 2}, headers=headers)
    assert error(other)[:2] == (422, "BITRIX_REST_V3_EXCEPTION_IDEMPOTENCYKEYREUSEDEXCEPTION")
    assert result(v3(counting, "test.counter.add", {"step": 1})) == {"result": 2}
    # After 24 hours on the server's clock the key is free again.
    counting.clock.advance(timedelta(hours=24, seconds=1).total_seconds())
    assert result(v3(counting, "test.counter.add", {"step": 9}, headers=headers)) == {"result": 3}


def test_idempotency_failures_are_not_kept_and_keys_are_per_caller(counting):
    headers = {"Idempotency-Key": "k"}
    failed = v3(counting, "test.counter.add", {"fail": True}, headers=headers)
    assert error(failed)[:2] == (
        400,
        "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION",
    )
    # The same key again, now with another body: the failure was not kept.
    assert result(v3(counting, "test.counter.add", {}, headers=headers)) == {"result": 1}
    # Another webhook of the same user has keys of its own.
    other = counting.add_webhook(1, ["timeman"])
    assert result(v3(counting, "test.counter.add", {}, hook=other, headers=headers)) == {
        "result": 2
    }
    # Reads ignore the key: no replay, no refusal for another body.
    first = v3(counting, "timeman.record.field.get", {"name": "id"}, headers=headers)
    second = v3(counting, "timeman.record.field.get", {"name": "state"}, headers=headers)
    assert result(second)["item"]["name"] == "state"
    assert (
        "Idempotent-Replayed" not in first.headers and "Idempotent-Replayed" not in second.headers
    )
    assert second.headers["Idempotency-Key"] == "k"


@sqlite_only
@pytest.mark.parametrize("key", [b"", b"x" * 256, "caf\xe9".encode("latin-1"), b"a\x7fb"])
def test_invalid_idempotency_keys(counting, key):
    response = v3(counting, "test.counter.add", {}, headers={"Idempotency-Key": key})
    assert error(response)[:2] == (400, "BITRIX_REST_V3_EXCEPTION_INVALIDIDEMPOTENCYKEYEXCEPTION")


@sqlite_only
def test_big_bodies_are_read_after_their_caller_is_known(server):
    padding = ["id"] * 30_000  # ~180 kB: decoded aside, after the webhook is checked
    items = result(
        v3(server, "timeman.record.list", {"filter": [["userId", 1]], "select": padding})
    )
    assert items == {"items": []}
    # Over a megabyte with a token that fails: refused before it is decoded.
    big = {"auth": "wrong", "select": ["x" * 1000] * 1200}
    response = server.http.post("/rest/api/timeman.record.list", json=big)
    assert error(response)[:2] == (401, "NO_AUTH_FOUND")
    # A batch's big array goes the same way.
    call = {
        "method": "timeman.record.list",
        "query": {"filter": [["userId", 1]], "select": padding},
    }
    assert result(v3(server, "batch", [call, call])) == [{"items": []}, {"items": []}]


# --- batch --------------------------------------------------------------------------------------

LIST_MINE = {"method": "timeman.record.list", "query": {"filter": [["userId", "=", 1]]}}


def batch(server, calls, **kwargs):
    return v3(server, "batch", calls, **kwargs)


@sqlite_only
def test_batch_answers_each_result_in_order(server):
    work_day(server, hours=2)
    field = {"method": "timeman.record.field.get", "query": {"name": "duration"}}
    fields = {"method": "TimeMan.Record.Field.List"}  # case-blind; no query: no parameters
    answer = result(batch(server, [LIST_MINE, field, fields]))
    assert answer == [
        result(v3(server, "timeman.record.list", LIST_MINE["query"])),
        result(v3(server, "timeman.record.field.get", {"name": "duration"})),
        result(v3(server, "timeman.record.field.list", {})),
    ]
    assert answer[0]["items"][0]["duration"] == 2 * HOUR
    # PHP clients encode empty parameters as [], and an empty batch answers empty.
    assert result(batch(server, [{"method": "timeman.record.field.list", "query": []}]))
    assert result(batch(server, [])) == []


@sqlite_only
def test_batch_refers_to_earlier_answers(server):
    work_day(server, hours=1)
    work_day(server, hours=3)
    calls = [
        {**LIST_MINE, "as": "days"},
        {
            "method": "timeman.record.list",
            "query": {"filter": [["userId", "in", {"$refArray": "days.userId"}]], "select": ["id"]},
        },
        # Without "as", a call is referred to by its position.
        {"method": "timeman.record.field.get", "query": {"name": {"$ref": "1.items.0.id"}}},
    ]
    response = batch(server, calls[:2])
    days, ids = result(response)
    assert [d["duration"] for d in days["items"]] == [HOUR, 3 * HOUR]
    assert ids == {"items": [{"id": 1}, {"id": 2}]}
    # "$ref" substitutes the value as it is: here the number 1, not a field name.
    status, code, _ = error(batch(server, calls))
    assert (status, code) == (400, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION")
    name = {"method": "timeman.record.field.get", "query": {"name": {"$ref": "f.item.name"}}}
    first = {"method": "timeman.record.field.get", "query": {"name": "state"}, "as": "f"}
    assert result(batch(server, [first, name]))[1]["item"]["name"] == "state"


@sqlite_only
@pytest.mark.parametrize(
    "marker",
    [
        {"$ref": "nobody.items"},
        {"$ref": "days.items.7.id"},
        {"$ref": ""},
        {"$ref": ["days"]},
        {"$refArray": "days"},  # the JS SDK: a path without a field is refused
        {"$refArray": "days.nothing"},
        {"$refArray": "f.name"},  # an item, not items
    ],
)
def test_batch_references_that_name_nothing(server, marker):
    work_day(server, hours=1)
    calls = [
        {**LIST_MINE, "as": "days"},
        {"method": "timeman.record.field.get", "query": {"name": "id"}, "as": "f"},
        {"method": "timeman.record.list", "query": {"filter": [["userId", "in", marker]]}},
    ]
    status, code, detail = error(batch(server, calls))
    assert (status, code) == (400, "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION")
    assert detail["message"]


@sqlite_only
@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        # The previous version's form (the page: INVALIDSELECTEXCEPTION).
        (
            {"halt": 0, "cmd": {"a": "timeman.record.field.list"}},
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION",
        ),
        (["timeman.record.field.list"], 400, "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION"),
        ([{"query": {}}], 400, "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION"),
        ([{"method": 5}], 400, "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION"),
        (
            [{"method": "timeman.record.field.list", "query": "name=id"}],
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION",
        ),
        (
            [{"method": "timeman.record.field.list", "query": [1]}],
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION",
        ),
        (
            [{"method": "timeman.record.field.list", "as": {}}],
            400,
            "BITRIX_REST_V3_EXCEPTION_INVALIDSELECTEXCEPTION",
        ),
        ([{"method": "timeman.record.field.list"}] * 51, 400, "ERROR_BATCH_LENGTH_EXCEEDED"),
        ([None] * 10_000, 400, "ERROR_BATCH_LENGTH_EXCEEDED"),
        # Only REST 3.0 methods, and no batch inside a batch.
        ([{"method": "timeman.status"}], 404, "ERROR_METHOD_NOT_FOUND"),
        ([{"method": "no.such"}], 404, "ERROR_METHOD_NOT_FOUND"),
        ([{"method": "batch", "query": []}], 405, "ERROR_BATCH_METHOD_NOT_ALLOWED"),
        ([{"method": "rest.documentation.openapi"}], 405, "ERROR_BATCH_METHOD_NOT_ALLOWED"),
        # The first failing call fails the batch with its own error.
        (
            [
                {"method": "timeman.record.field.list"},
                {"method": "timeman.record.field.get", "query": {"name": "x"}},
            ],
            400,
            "BITRIX_REST_V3_REALISATION_EXCEPTION_FIELDNOTFOUNDEXCEPTION",
        ),
    ],
)
def test_batch_refusals(server, body, status, code):
    assert error(batch(server, body))[:2] == (status, code)


@sqlite_only
def test_batch_checks_each_calls_scope_and_reads_app_auth_beside_the_calls(server):
    hook = server.add_webhook(1, ["im"])
    calls = [{"method": "rest.scope.list", "query": {"filterModule": "rest"}}, LIST_MINE]
    status, code, _ = error(batch(server, calls, hook=hook))
    assert (status, code) == (403, "BITRIX_REST_V3_EXCEPTION_INSUFFICIENTSCOPEEXCEPTION")
    assert len(result(batch(server, calls[:1], hook=hook))) == 1
    # As the JS SDK sends it for an application: the calls keyed "0", "1", ... with auth.
    app, _ = server.run(
        admin.add_app, server.store, server.clock.now(), name="a", scopes=["timeman"]
    )
    pair, _ = server.run(
        admin.issue_app_token, server.store, server.clock.now(), client_id=app.client_id, user_id=1
    )
    path = "/rest/api/batch"
    body = {"0": {"method": "timeman.record.field.list"}, "auth": pair.access_token}
    assert result(server.http.post(path, json=body))[0]["items"]
    # A root array is read only by batch.
    status, code, _ = error(
        v3(
            server,
            "timeman.record.field.list",
            content=b"[]",
            headers={"content-type": "application/json"},
        )
    )
    assert (status, code) == (400, "BITRIX_REST_V3_EXCEPTION_INVALIDJSONEXCEPTION")


@sqlite_only
def test_batch_is_one_request(server_with):
    fields = {"method": "timeman.record.field.list"}
    with server_with(limits=True, rate_threshold=5, rate_drain=1) as srv:
        assert len(result(batch(srv, [fields] * 20))) == 20


@sqlite_only
def test_batch_meters_each_call(server_with):
    fields = {"method": "timeman.record.field.list"}
    # A tiny operating limit: one call's own run time passes it.
    with server_with(limits=True, rate_threshold=1000, operating_limit=0.000001) as srv:
        status, code, _ = error(batch(srv, [fields, fields]))
        assert (status, code) == (429, "OPERATION_TIME_LIMIT")
        # The first call's time was counted: the method stays blocked.
        assert error(v3(srv, "timeman.record.field.list", {}))[:2] == (429, "OPERATION_TIME_LIMIT")


def test_batch_is_all_or_nothing_and_idempotent_as_a_whole(counting):
    add = {"method": "test.counter.add", "query": {"step": 1}}
    failing = {"method": "test.counter.add", "query": {"fail": 1}}
    status, code, _ = error(batch(counting, [add, add, failing]))
    assert (status, code) == (400, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION")
    headers = {"Idempotency-Key": "batch-1"}
    first = batch(counting, [add, add], headers=headers)
    # The failed batch left nothing: the counter starts at 1.
    assert result(first) == [{"result": 1}, {"result": 2}]
    again = batch(counting, [add, add], headers=headers)
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    assert error(batch(counting, [add], headers=headers))[0] == 422
    assert result(v3(counting, "test.counter.add", {})) == {"result": 3}


# --- rest.scope.list ----------------------------------------------------------------------------


@sqlite_only
def test_scope_list_maps_every_method_to_its_scope(server):
    tree = result(v3(server, "rest.scope.list"))
    summary = "An employee's workday records (REST 3.0)"
    assert tree["timeman"]["record"]["list"] == {
        "scope": "timeman",
        "title": summary,
        "description": summary,
        "fields": None,
    }
    assert tree["timeman"]["record.field"]["get"]["scope"] == "timeman"
    assert tree["im"]["user.status"]["set"]["scope"] == "im"
    assert tree["rest"]["scope"]["list"]["scope"] == "basic"
    only = result(
        v3(server, "rest.scope.list", {"filterModule": "timeman", "filterMethod": "open"})
    )
    assert only == {"timeman": {"": {"open": only["timeman"][""]["open"]}}}
    assert result(v3(server, "rest.scope.list", {"filterModule": "nothing"})) == []
    status, code, detail = error(v3(server, "rest.scope.list", {"filterController": ["record"]}))
    assert (status, code) == (400, "BITRIX_REST_V3_EXCEPTION_VALIDATION_REQUESTVALIDATIONEXCEPTION")
    assert detail["validation"][0]["field"] == "filterController"
    # REST 3.0 only; the OpenAPI document lists it and batch.
    assert server.call("rest.scope.list").status_code == 404
    paths = server.http.get(
        server.webhook.replace("/rest/", "/rest/api/") + "documentation"
    ).json()["paths"]
    assert "/rest.scope.list" in paths and "/batch" in paths
    batch_body = paths["/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert batch_body["type"] == "array"
    assert batch_body["items"]["required"] == ["method"]
