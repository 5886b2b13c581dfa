"""The platform's own methods through the official Python SDK (b24pysdk 1.3.2) against
a real ``b24local serve --tls``: ``scope``, ``app.info`` with a webhook,
``feature.get``, ``user.admin``, ``user.access`` and ``access.name``.
"""

from __future__ import annotations

import pytest
from b24pysdk import Client
from b24pysdk.errors import BitrixAPIError
from b24pysdk.schemas.app import AppInfoWebhook

from sdkhooks import trust_local_ca, webhook  # noqa: F401 (an autouse fixture)

pytestmark = [pytest.mark.process]


@pytest.fixture
def admin(live_server) -> Client:
    return Client(webhook(live_server))


def employee(live_server, *departments: int) -> tuple[int, Client]:
    joined = [arg for department in departments for arg in ("--department", str(department))]
    user_id = int(live_server.cli("user", "add", "--name", "Carl", "--last-name", "Ray", *joined))
    token = live_server.cli("webhook", "add", "--user", str(user_id), "--scope", "im")
    return user_id, Client(webhook(live_server, token))


def test_scope_app_info_and_feature(live_server, admin) -> None:
    full = admin.scope(full=True).result
    assert {"crm", "task", "timeman", "im", "user_brief", "sign.b2e"} <= set(full)
    assert set(admin.scope().result) < set(full)
    # The SDK picks its webhook model itself, from the answer's shape.
    parsed = admin.app.info().value
    assert isinstance(parsed, AppInfoWebhook)
    assert parsed.license == "en_professional"
    assert parsed.scope == admin.scope().result
    assert admin.feature.get("rest_auth_connector").result == {"value": "Y"}
    assert admin.feature.get("no_such_thing").result == {"value": "N"}
    with pytest.raises(BitrixAPIError) as raised:
        admin.feature.get("").result  # noqa: B018
    assert raised.value.status_code == 400
    assert raised.value.error == "CODE_EMPTY"
    assert raised.value.error_description == "CODE can't be empty"
    del raised


def test_rights_and_access_codes(live_server, admin) -> None:
    sales = int(live_server.cli("department", "add", "--name", "Sales"))
    east = int(live_server.cli("department", "add", "--name", "East", "--parent", str(sales)))
    carl, client = employee(live_server, east)
    assert admin.user.admin().result is True
    assert client.user.admin().result is False
    assert admin.user.access(["G77"]).result is True
    assert client.user.access([f"DR{sales}", "G1"]).result is True
    assert client.user.access([f"D{sales}", "G1", "U1"]).result is False
    assert client.access.name(["G2", "AU", f"U{carl}", f"DR{sales}", "U999999"]).result == {
        "G2": {"provider": "", "name": "All visitors", "provider_id": "other"},
        "AU": {"provider": "", "name": "All authorized users", "provider_id": "other"},
        f"U{carl}": {"provider": "Users", "name": "Carl Ray", "provider_id": "user"},
        f"DR{sales}": {
            "provider": "Departments",
            "name": "Sales (with subdepartments)",
            "provider_id": "intranet",
        },
    }
