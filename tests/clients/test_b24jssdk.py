"""The official JS SDK (@bitrix24/b24jssdk, pinned in tests/js/package-lock.json)
against a real ``b24local serve --tls``: REST 3.0 through ``$b24.actions.v3``
(calls and a batch) and one REST 2 call through ``$b24.actions.v2``, unchanged.

CI installs the SDK (``npm ci`` in tests/js, by .ci/run) and sets
B24LOCAL_TEST_JS=1: there a missing node_modules fails loudly; elsewhere the
module is skipped until ``npm ci`` has been run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.process]

JS = Path(__file__).parent.parent / "js"
SCRIPT = JS / "b24jssdk_calls.mjs"


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    installed = (JS / "node_modules" / "@bitrix24" / "b24jssdk").is_dir()
    if found and installed:
        return found
    why = "node is not installed" if not found else "run `npm ci` in tests/js first"
    if os.environ.get("B24LOCAL_TEST_JS") == "1":
        pytest.fail(f"the JS SDK tests cannot run: {why}")
    pytest.skip(why)


def test_rest3_and_rest2_through_the_js_sdk(node, live_server) -> None:
    opened = httpx.post(
        live_server.webhook_url + "timeman.open", json={}, verify=live_server.ssl_context()
    )
    assert opened.status_code == 200, opened.text
    env = {**live_server.env, "NODE_EXTRA_CA_CERTS": str(live_server.ca_path)}
    run = subprocess.run(
        [node, str(SCRIPT), live_server.webhook_url, str(live_server.user_id)],
        cwd=JS, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout)

    assert seen["list"]["ok"], seen["list"]
    [record] = seen["list"]["result"]["items"]
    assert set(record) == {"id", "startTime", "endTime", "duration"}
    assert record["endTime"] is None and record["duration"] == 0
    assert record["startTime"] == opened.json()["result"]["TIME_START"]

    names = [field["name"] for field in seen["fields"]["result"]["items"]]
    assert names[:3] == ["id", "userId", "startTime"]
    assert seen["field"]["result"]["item"]["type"] == "object"

    # REST 3.0 errors reach the SDK's error with their code and validation text.
    assert seen["missingUser"]["ok"] is False
    assert seen["missingUser"]["errors"] == [
        "Error during request object validation. Required field `filter.userId` is not specified"
    ]
    assert seen["oldOnNew"]["ok"] is False

    # batch through actions.v3: named calls, a $refArray, results by name.
    assert seen["batch"]["ok"], seen["batch"]
    batched = seen["batch"]["result"]
    assert batched["days"]["items"] == [{"id": record["id"], "userId": live_server.user_id}]
    assert batched["mine"]["items"] == [{"id": record["id"]}]
    assert batched["field"]["item"]["name"] == "duration"
    # One failing call fails the whole batch; the SDK reports its error.
    assert seen["batchFails"] == {
        "ok": False,
        "code": "BITRIX_REST_V3_REALISATION_EXCEPTION_FIELDNOTFOUNDEXCEPTION",
        "status": 400,
        "message": "Field `nope` not found",
    }

    assert seen["v2"] == {"ok": True, "result": opened.json()["result"] | seen["v2"]["result"]}
    assert seen["v2"]["result"]["STATUS"] == "OPENED"
