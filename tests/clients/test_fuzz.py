"""A seeded, bounded fuzz run against real ``b24local serve --tls --dev`` processes.

Every request of the run is built by ``fuzzgen.make_case(seed, index, targets)``:
mostly valid calls of every implemented method (webhook and OAuth forms, batch,
the OAuth endpoints, the ``--dev`` surface) mutated into hostile ones. Whatever
comes in, the server must answer without a 5xx (bar the rate limit's
``503 QUERY_LIMIT_EXCEEDED`` on the server whose limits are on), every error as a
Bitrix body ``{"error", "error_description"}`` in JSON (XML for ``.xml`` calls),
within a few seconds, and keep answering a normal call.

``--fuzz-count N`` sets the number of requests (6,000 by default: 70 % to a server
on SQLite, 10 % to one with the cloud's limits on, 20 % to one on PostgreSQL when
``B24LOCAL_TEST_PG_URL`` is set) and ``--fuzz-seed S`` the seed (``random``
draws one). A failure names the seed, the case number and a curl command line
repeating each failing request.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from b24local import admin
from b24local.store.engine import sqlite_url
from fuzzgen import Case, Targets, make_case

# A run is bounded by its own deadline (below), sized by --fuzz-count.
pytestmark = [pytest.mark.process, pytest.mark.timeout(0)]

#: Requests in flight at once.
WORKERS = 8
#: Requests between two checks that the server still answers a normal call.
CHUNK = 250
#: How long one request may take before the server counts as stalled.
REQUEST_TIMEOUT = 20.0
#: Failures after which the run stops (the report shows the first ones).
MAX_FAILURES = 20
PASSWORD = "fuzz password 1"
LOGIN = "fuzz@example.test"
#: Where each chunk of the run starts the server's clock.
CALM = "2026-03-02T09:00:00+00:00"
#: Codes of a failure on the server's side, which no input may cause.
SERVER_FAILURES = frozenset({"INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER"})


@pytest.fixture(scope="module")
def seed(request: pytest.FixtureRequest) -> int:
    given = request.config.getoption("--fuzz-seed")
    return random.SystemRandom().randrange(10**9) if given == "random" else int(given)


@pytest.fixture(scope="module")
def count(request: pytest.FixtureRequest) -> int:
    return request.config.getoption("--fuzz-count")


async def _accounts(url: str) -> dict[str, Any]:
    """A second user (a far-east time zone, a password, an all-scope webhook), an
    im-only webhook of the administrator, and an application, made on the database."""
    store = await admin.open_store(url)
    now = datetime.now(UTC)
    scopes = ["im", "timeman", "user", "department"]
    try:
        user = await admin.add_user(
            store, now, name="Fuzz", last_name="Er", email=LOGIN, time_zone="Pacific/Kiritimati"
        )
        await admin.set_password(store, user.id, PASSWORD)
        narrow, narrow_code = await admin.add_webhook(store, now, user_id=1, scopes=["im"])
        own, own_code = await admin.add_webhook(store, now, user_id=user.id, scopes=scopes)
        app, secret = await admin.add_app(
            store, now, name="Fuzz", scopes=scopes, redirect_uri="https://app.example/cb"
        )
        return {
            "user": user.id,
            "narrow": f"/rest/{narrow.user_id}/{narrow_code}/",
            "own": f"/rest/{own.user_id}/{own_code}/",
            "client_id": app.client_id,
            "secret": secret,
        }
    finally:
        await store.close()


def targets_of(srv) -> Targets:
    """Credentials of every kind on ``srv``, and the names of its methods."""
    made = asyncio.run(_accounts(srv.db or sqlite_url(srv.data_dir)))
    pair = srv.dev("POST", "/_b24local/tokens", {"client_id": made["client_id"], "user_id": 1})
    with httpx.Client(verify=srv.ssl_context(), trust_env=False, timeout=30) as client:
        listed = client.get(f"{srv.webhook_url}methods", params={"full": "true"})
    assert listed.status_code == 200, listed.text
    return Targets(
        webhook=f"/rest/{srv.webhook_token}/",
        narrow_webhook=made["narrow"],
        user_webhook=made["own"],
        access_token=pair["access_token"],
        refresh_token=pair["refresh_token"],
        client_id=made["client_id"],
        client_secret=made["secret"],
        dev_token=srv.dev_token,
        methods=listed.json()["result"],
        user_ids=[1, made["user"]],
        login=LOGIN,
        password=PASSWORD,
    )


# --- reading an answer ------------------------------------------------------------------


def parsed(case: Case, response: httpx.Response) -> dict[str, Any] | None:
    """The body as a map (an XML ``<response>`` as its children's text), or None."""
    if case.kind == "rest" and case.xml:
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError:
            return None
        if root.tag != "response":
            return None
        return {child.tag: child.text for child in root}
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def problem(case: Case, response: httpx.Response, tolerated: frozenset[str]) -> str | None:
    """What is wrong with the answer to ``case``, or None."""
    status = response.status_code
    brief = f"HTTP {status} {response.headers.get('content-type', '')!r}: {response.text[:300]!r}"
    if case.http_method == "HEAD":
        # No body to tell why; a refusal by the rate limit is all that may be a 5xx.
        return brief if status >= 500 and not (status == 503 and tolerated) else None
    if status >= 500:
        body = parsed(case, response)
        if body is None or error_code(body) not in tolerated:
            return brief
    html = response.headers.get("content-type", "").startswith("text/html")
    # A path the client resolved out of /rest/ (``/rest/..`` is ``/``) reaches the
    # web pages, as the log-in page is one.
    page = case.kind == "page" or not response.request.url.path.startswith("/rest")
    if page and (status in (302, 303) or html):
        # The log-in page: HTML, a redirect to the app, or a JSON error.
        return None
    body = parsed(case, response)
    if body is None:
        return f"not {'XML' if case.xml else 'JSON'}: {brief}"
    if case.kind == "rest3":
        return rest3_problem(body, status, brief)
    if status >= 400:
        if "error" not in body or "error_description" not in body:
            return f"no Bitrix error body: {brief}"
        # Only an ERROR_CORE may come without a text: user.update's pages show one for
        # an ID no user has (CUser's LAST_ERROR is empty then).
        if not body["error_description"] and body["error"] != "ERROR_CORE":
            return f"an error without a description: {brief}"
        return None
    if case.kind == "rest" and "result" not in body:
        return f"a success without result: {brief}"
    if case.kind == "rest" and not case.xml and failed_inside(body["result"]):
        return f"a batch command failed on the server: {brief}"
    if case.kind == "oauth" and not ({"result", "access_token"} & body.keys()):
        return f"a success without a token or result: {brief}"
    return None


def error_code(body: dict[str, Any]) -> Any:
    """The error's code: REST 3.0 nests it in an object."""
    error = body.get("error")
    return error.get("code") if isinstance(error, dict) else error


def rest3_problem(body: dict[str, Any], status: int, brief: str) -> str | None:
    """REST 3.0: an error is ``{"error": {"code", "message"}}``; a success carries
    ``result`` and ``time``, or is the OpenAPI document itself."""
    if status >= 400:
        error = body.get("error")
        if not isinstance(error, dict) or not error.get("code") or not error.get("message"):
            return f"no REST 3.0 error body: {brief}"
        return None
    if "openapi" in body:
        return None
    if "result" not in body or "time" not in body:
        return f"a REST 3.0 success without result and time: {brief}"
    return None


def failed_inside(result: Any) -> bool:
    """Whether a batch answer holds a server failure in one of its slots."""
    if not isinstance(result, dict) or "result_error" not in result:
        return False
    slots = result["result_error"]
    entries = slots.values() if isinstance(slots, dict) else slots
    return any(
        isinstance(entry, dict) and entry.get("error") in SERVER_FAILURES for entry in entries
    )


# --- the run ----------------------------------------------------------------------------


async def send(client: httpx.AsyncClient, srv, case: Case) -> httpx.Response:
    url = httpx.URL(scheme="https", host="127.0.0.1", port=srv.port, raw_path=case.raw_path)
    content: Any = case.body
    if case.chunked and case.body is not None:
        content = _chunks(case.body)
    return await client.request(case.http_method, url, headers=case.headers, content=content)


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(body), 7):
        yield body[start : start + 7]


async def healthy(client: httpx.AsyncClient, srv) -> str | None:
    """None if a normal call (forced faults cleared) is answered as it should be."""
    cleared = await client.delete(f"{srv.base_url}/_b24local/faults", headers=dev_auth(srv))
    for _ in range(50):
        answer = await client.post(f"{srv.webhook_url}server.time", json={})
        if answer.status_code != 503:
            break
        await asyncio.sleep(0.2)  # the rate limit's bucket drains (limits on)
    if cleared.status_code != 200 or answer.status_code != 200 or "result" not in answer.json():
        return f"a normal call failed: {cleared.text[:200]} / {answer.text[:300]}"
    return None


async def settle(client: httpx.AsyncClient, srv, targets: Targets) -> None:
    """Back to an ordinary moment, with a fresh token pair: a chunk's clock jumps and
    spent tokens are not carried into the next."""
    base, auth = srv.base_url, dev_auth(srv)
    await client.post(f"{base}/_b24local/clock", headers=auth, json={"now": CALM, "freeze": False})
    wanted = {"client_id": targets.client_id, "user_id": 1}
    pair = await client.post(f"{base}/_b24local/tokens", headers=auth, json=wanted)
    assert pair.status_code == 200, pair.text
    targets.access_token = pair.json()["access_token"]
    targets.refresh_token = pair.json()["refresh_token"]


def dev_auth(srv) -> dict[str, str]:
    return {"Authorization": f"Bearer {srv.dev_token}"}


async def fuzz(
    srv, targets: Targets, seed: int, indices: Iterable[int], tolerated: frozenset[str]
) -> tuple[list[str], int]:
    """Send every case of ``indices``; return the failures and how many were sent."""
    failures: list[str] = []
    sent = 0
    todo = list(indices)
    limits = httpx.Limits(max_connections=WORKERS, max_keepalive_connections=WORKERS)
    async with httpx.AsyncClient(
        verify=srv.ssl_context(), trust_env=False, timeout=REQUEST_TIMEOUT, limits=limits
    ) as client:

        async def one(index: int) -> None:
            nonlocal sent
            case = make_case(seed, index, targets)
            try:
                try:
                    response = await send(client, srv, case)
                except httpx.RemoteProtocolError:
                    # A kept-alive connection the server had just closed (its idle
                    # timeout, or a failure before): the request once more, on a new
                    # one. Twice is a finding.
                    response = await send(client, srv, case)
            except httpx.HTTPError as error:
                failures.append(f"{type(error).__name__} {error}\n  {case.describe()}")
                return
            sent += 1
            found = problem(case, response, tolerated)
            if found:
                failures.append(f"{found}\n  {case.describe()}")

        gate = asyncio.Semaphore(WORKERS)

        async def gated(index: int) -> None:
            async with gate:
                await one(index)

        await settle(client, srv, targets)
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start : start + CHUNK]
            await asyncio.gather(*(gated(i) for i in chunk))
            # A frozen clock would keep the rate limit's bucket full: settle first.
            await settle(client, srv, targets)
            unwell = await healthy(client, srv)
            if unwell:
                failures.append(f"after cases {chunk[0]}-{chunk[-1]}: {unwell}")
            if len(failures) >= MAX_FAILURES:
                break
    return failures, sent


def report(seed: int, label: str, failures: list[str]) -> str:
    shown = "\n".join(failures[:MAX_FAILURES])
    return (
        f"fuzz run {label}, seed {seed}: {len(failures)} failure(s); repeat with "
        f"--fuzz-seed {seed}\n{shown}"
    )


#: The legs of a run: ``serve`` options, the share of the requests, and the 5xx
#: codes that are no finding there. With limits on, the bucket overflows at times and
#: drains within a chunk.
LEGS: dict[str, tuple[list[str], float, frozenset[str]]] = {
    "sqlite": (["--limits", "off"], 0.7, frozenset()),
    "limits-on": (
        ["--limits", "on", "--rate-threshold", "100", "--rate-drain", "20"],
        0.1,
        frozenset({"QUERY_LIMIT_EXCEEDED"}),
    ),
    "postgresql": (["--limits", "off"], 0.2, frozenset()),
}


def share_of(leg: str, count: int) -> range:
    """The leg's own slice of the run's case numbers."""
    names = list(LEGS)
    before = sum(LEGS[name][1] for name in names[: names.index(leg)])
    return range(round(count * before), round(count * (before + LEGS[leg][1])))


@pytest.mark.parametrize("leg", LEGS)
def test_hostile_requests_get_bitrix_errors_and_the_server_keeps_answering(
    leg: str, launch_server, new_pg_schema, seed: int, count: int
) -> None:
    args, _, tolerated = LEGS[leg]
    indices = share_of(leg, count)
    print(f"fuzz seed {seed}, {leg}: cases {indices.start}-{indices.stop - 1}")
    deadline = time.monotonic() + 60 + len(indices) * 0.05
    with contextlib.ExitStack() as database:
        db = database.enter_context(new_pg_schema("fuzz")) if leg == "postgresql" else None
        srv = launch_server(db=db, args=args)
        targets = targets_of(srv)
        began = time.monotonic()
        failures, sent = asyncio.run(fuzz(srv, targets, seed, indices, tolerated))
        print(f"{leg}: {sent} requests in {time.monotonic() - began:.1f} s")
        assert not failures, report(seed, leg, failures)
        # Stopped before its schema is dropped; a clean stop after all that.
        assert srv.stop() == 0, srv.stderr()[-3000:]
    stderr = srv.stderr()
    trace = stderr.find("Traceback")
    assert trace < 0, stderr[max(trace - 500, 0) : trace + 6000]
    assert time.monotonic() < deadline, f"the run took too long (seed {seed})"
