"""People through the official Python SDK (b24pysdk) against a real
``b24local serve --tls``: ``user.add``, ``user.update``, ``user.fields`` and
``user.search``, with the refusals the SDK turns into its exceptions.
"""

from __future__ import annotations

import pytest
from b24pysdk import Client
from b24pysdk.errors import BitrixAPIError

from sdkhooks import trust_local_ca, webhook  # noqa: F401 (an autouse fixture)

pytestmark = [pytest.mark.process]


@pytest.fixture
def admin(live_server) -> Client:
    return Client(webhook(live_server))


def refusal(request) -> BitrixAPIError:
    with pytest.raises(BitrixAPIError) as raised:
        request.result  # noqa: B018
    return raised.value


def test_invite_change_find_and_dismiss(live_server, admin) -> None:
    sales = int(live_server.cli("department", "add", "--name", "Field Sales"))
    new_id = admin.user.add(
        {
            "EMAIL": "jane.roe@example.com",
            "NAME": "Jane",
            "LAST_NAME": "Roe",
            "UF_DEPARTMENT": [sales],
            "WORK_COMPANY": "Acme",
        }
    ).result
    assert isinstance(new_id, int)
    assert admin.user.update({"ID": new_id, "WORK_POSITION": "Buyer"}).result is True

    (found,) = admin.user.search(filter={"FIND": "field jan"}).result
    assert (found["ID"], found["WORK_POSITION"], found["WORK_COMPANY"]) == (
        str(new_id),
        "Buyer",
        "Acme",
    )
    assert admin.user.search(filter={"LAST_NAME": "ro"}).result[0]["ID"] == str(new_id)
    titles = admin.user.fields().result
    assert titles["UF_DEPARTMENT"] == "Units"
    assert titles["USER_TYPE"] == "USER_TYPE"

    token = live_server.cli("webhook", "add", "--user", str(new_id), "--scope", "user")
    jane = Client(webhook(live_server, token))
    assert jane.user.current().result["NAME"] == "Jane"
    assert admin.user.update({"ID": new_id, "ACTIVE": "N"}).result is True
    dismissed = refusal(jane.user.current())
    assert dismissed.status_code == 403


def test_refusals_reach_the_sdk_as_the_pages_give_them(live_server, admin) -> None:
    live_server.cli("user", "add", "--name", "Tom", "--last-name", "L", "--email", "t@example.com")
    taken = refusal(admin.user.add({"EMAIL": "T@example.com", "UF_DEPARTMENT": [1]}))
    assert (taken.status_code, taken.error) == (400, "ERROR_ARGUMENT")
    assert taken.error_description == "A user with this email already exists"
    missing = refusal(admin.user.add({"EMAIL": "x@example.com"}))
    assert missing.error_description == "no_extranet_field"

    user_id = int(live_server.cli("user", "add", "--name", "Carl", "--last-name", "Ray"))
    token = live_server.cli("webhook", "add", "--user", str(user_id), "--scope", "user")
    carl = Client(webhook(live_server, token))
    denied = refusal(carl.user.add({"EMAIL": "y@example.com", "UF_DEPARTMENT": [1]}))
    assert (denied.status_code, denied.error, denied.error_description) == (
        400,
        "ERROR_CORE",
        "access_denied",
    )
    assert refusal(carl.user.update({"ID": 1, "NAME": "X"})).error_description == "access_denied"
    assert carl.user.update({"ID": user_id, "WORK_POSITION": "Driver"}).result is True
