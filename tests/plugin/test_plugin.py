"""The pytest plugin as its users meet it: a test module written with its fixtures,
run by pytest in a fresh process (the plugin comes from the installed entry point).

Each run starts a server, so there are few runs and each covers much: the process
mode over plain HTTP with fast_bitrix24, requests and httpx (and the README's
example); the in-process mode over HTTPS with b24pysdk, from a seed file named in
the ini file; and the refusals of bad options, which start nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.process

PROCESS_RUN = """
from datetime import UTC, datetime, timedelta

import httpx
import requests
from fast_bitrix24 import Bitrix


def users(url):
    return sorted(int(u["ID"]) for u in requests.post(url + "user.get").json()["result"])


def test_a_dirty_portal(b24local):
    assert b24local.server.mode == "process"
    assert b24local.url.startswith("http://127.0.0.1:")
    drivers = b24local.add_department("Drivers")
    ann = b24local.add_user("Ann", "Lee", departments=[drivers], WORK_POSITION="Driver")
    found = Bitrix(b24local.webhook_url, verbose=False).get_all("user.get")
    assert {(u["ID"], u["WORK_POSITION"]) for u in found} >= {(str(ann), "Driver")}
    assert users(b24local.webhook_url) == [1, ann]

    b24local.clock.set(datetime(2030, 1, 1, 9, 0, tzinfo=UTC), freeze=True)
    b24local.clock.advance(minutes=30)
    assert b24local.clock.now() == datetime(2030, 1, 1, 9, 30, tzinfo=UTC)
    time = httpx.post(b24local.webhook_url + "server.time").json()["result"]
    assert time.startswith("2030-01-01T09:30:00")

    b24local.faults.add("QUERY_LIMIT_EXCEEDED", "user.current", times=1)
    refused = requests.post(b24local.webhook_url + "user.current")
    assert (refused.status_code, refused.json()["error"]) == (503, "QUERY_LIMIT_EXCEEDED")
    rule = b24local.faults.add("ACCESS_DENIED", "user.current", times=5)
    assert [fault["id"] for fault in b24local.faults.list()] == [rule["id"]]
    b24local.faults.drop_operating()
    assert "operating" not in requests.post(b24local.webhook_url + "server.time").json()["time"]
    b24local.calls.assert_called_once("department.add", params={"NAME": "Drivers"})
    b24local.calls.assert_called_once("user.current", error="QUERY_LIMIT_EXCEEDED")
    b24local.calls.assert_called("user.get")


def test_the_next_test_starts_clean(b24local):
    assert users(b24local.webhook_url) == [1]
    assert b24local.faults.list() == []
    assert not b24local.clock.frozen
    assert abs(b24local.clock.now() - datetime.now(UTC)) < timedelta(minutes=5)
    me = requests.post(b24local.webhook_url + "user.current").json()
    assert (me["result"]["ID"], "operating" in me["time"]) == ("1", True)
    assert [call["method"] for call in b24local.calls.list()] == ["user.get", "user.current"]


def test_snapshots(b24local):
    bo = b24local.add_user("Bo", "Ng")
    b24local.snapshot("with-bo")
    b24local.add_user("Cy", "Oh")
    b24local.restore("with-bo")
    assert users(b24local.webhook_url) == [1, bo]


def test_an_app_and_its_tokens(b24local, b24local_app):
    answer = httpx.post(
        b24local_app.client_endpoint + "user.current", data={"auth": b24local_app.access_token}
    )
    assert answer.json()["result"]["ID"] == "1"
    b24local.calls.assert_called_once("user.current", caller="app:" + b24local_app.client_id)
    renewed = httpx.get(b24local_app.token_url, params={
        "grant_type": "refresh_token", "client_id": b24local_app.client_id,
        "client_secret": b24local_app.client_secret, "refresh_token": b24local_app.refresh_token,
    })
    assert renewed.json()["access_token"] != b24local_app.access_token


def test_a_failed_journal_assertion_says_what_was_called(b24local):
    b24local.rest("user.current")
    b24local.calls.assert_called_once("timeman.open", user=5)
"""


def readme_example() -> str:
    """The complete example test of the README's plugin section, as printed there."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("## Testing with the pytest plugin") :]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found is not None, "the README's plugin section has no example"
    return found.group(1)


def test_process_mode_over_http(pytester: pytest.Pytester) -> None:
    # The README's example runs in the same session: it must pass as printed.
    pytester.makepyfile(test_user=PROCESS_RUN, test_shifts=readme_example())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--b24local-mode=process")
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines([
        "*expected timeman.open (user=5) to be called 1 time(s), it was called 0 time(s)",
        "*calls made:",
        "*#* user.current by webhook user 1: 200*",
    ])  # fmt: skip


INPROCESS_RUN = """
from datetime import UTC, datetime

import httpx
import pytest
import requests
from b24pysdk import BitrixApp, BitrixToken, BitrixWebhook, Client
from b24pysdk.errors import BitrixAPIError


def test_sdk_over_https(b24local, b24local_app):
    assert b24local.server.mode == "inprocess"
    assert b24local.url.startswith("https://127.0.0.1:")
    assert b24local.ca_path.is_file()
    print(f"STARTUP {b24local.server.startup_seconds:.3f}")
    admin = Client(BitrixWebhook(domain=b24local.domain, webhook_token=b24local.webhook_token))
    assert admin.user.current().result["ID"] == "1"
    # Plain clients trust the local CA as well, given only the URL.
    for client in (httpx, requests):
        assert client.post(b24local.webhook_url + "server.time").status_code == 200

    dan = b24local.add_user("Dan", "Roe")
    # Tokens live an hour of the server's clock: set it first, then issue.
    b24local.clock.set(datetime(2031, 5, 5, 9, 0, tzinfo=UTC), freeze=True)
    pair = b24local.token(b24local_app.client_id, dan)
    app = BitrixApp(client_id=b24local_app.client_id, client_secret=b24local_app.client_secret)
    as_dan = Client(BitrixToken(
        domain=b24local.domain, auth_token=pair["access_token"], bitrix_app=app
    ))
    assert as_dan.timeman.open().result["STATUS"] == "OPENED"
    b24local.calls.assert_called_once("timeman.open", user=dan)
    b24local.calls.assert_not_called("timeman.open", user=1)

    b24local.faults.add("INTERNAL_SERVER_ERROR", "timeman.status", times=1)
    with pytest.raises(BitrixAPIError):
        as_dan.timeman.status().result
    b24local.clock.advance(minutes=45)  # within the token's hour
    closed = as_dan.timeman.close().result
    assert (closed["STATUS"], closed["DURATION"]) == ("CLOSED", "00:45:00")


def test_reset_returns_to_the_seed(b24local):
    admin = Client(BitrixWebhook(domain=b24local.domain, webhook_token=b24local.webhook_token))
    assert [u["ID"] for u in admin.user.get().result] == ["1", "7"]
    assert b24local.calls.count("user.get") == 1
    # The seed's own webhook, narrower than the plugin's.
    bob = requests.post(b24local.url + "/rest/7/bobs-narrow-code-01/user.current")
    assert bob.json()["error"] == "insufficient_scope"
"""

SEED = """
version: 1
portals:
- domain: localhost
  users:
  - {id: 1, name: Anna, last_name: Admin, email: anna@example.com, admin: true}
  - {id: 7, name: Bob, last_name: Seller, email: bob@example.com}
  webhooks:
  - {user: 7, code: bobs-narrow-code-01, scopes: [im]}
"""


def test_inprocess_mode_over_https_from_a_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=INPROCESS_RUN)
    (pytester.mkdir("ci") / "seed.yaml").write_text(SEED)
    ini = "b24local_mode = inprocess\nb24local_tls = true\nb24local_seed = ci/seed.yaml\n"
    pytester.makeini("[pytest]\n" + ini)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*STARTUP *"])


def test_bad_options_are_usage_errors(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    missing = pytester.runpytest("--b24local-seed", "nowhere.yaml")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*b24local seed file *nowhere.yaml does not exist*"])
    pytester.makeini("[pytest]\nb24local_mode = threads\n")
    wrong = pytester.runpytest()
    assert wrong.ret == pytest.ExitCode.USAGE_ERROR
    wrong.stderr.fnmatch_lines(["*b24local_mode is one of process, inprocess, not 'threads'*"])
