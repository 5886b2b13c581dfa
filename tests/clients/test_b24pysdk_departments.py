"""The company structure through the official Python SDK (b24pysdk) against a real
``b24local serve --tls``: ``department.fields``, ``add``, ``get``, ``update`` and
``delete``, the refusals as the SDK raises them, and a fixture department with a
chosen ID made by the CLI.
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


def refusal(request) -> tuple[int, str, str]:
    with pytest.raises(BitrixAPIError) as raised:
        request.result  # noqa: B018
    error = raised.value
    return error.status_code, error.error, error.error_description


def test_fields(admin) -> None:
    assert admin.department.fields().result == {
        "ID": "ID",
        "NAME": "Department Name",
        "SORT": "Sort Order",
        "PARENT": "Parent Department",
        "UF_HEAD": "Manager",
    }


def test_add_update_delete(live_server, admin) -> None:
    sales = admin.department.add("Sales", 1, sort=100).result
    assert isinstance(sales, int)
    east = admin.department.add("East", sales, uf_head=1).result
    assert east == sales + 1
    found = admin.department.get(bitrix_id=east).result
    assert found == [
        {"ID": str(east), "NAME": "East", "SORT": 500, "PARENT": str(sales), "UF_HEAD": "1"}
    ]

    assert admin.department.update(sales, name="Sales EU", sort=50).result is True
    assert admin.department.get(bitrix_id=sales).result[0]["NAME"] == "Sales EU"

    # Deleting Sales moves East up to the root.
    assert admin.department.delete(sales).result is True
    assert admin.department.get(bitrix_id=east).result[0]["PARENT"] == "1"
    assert admin.department.get(bitrix_id=sales).result == []

    # A fixture department with a chosen ID; later IDs continue past it.
    assert live_server.cli("department", "add", "--name", "Fixture", "--id", "670") == "670"
    assert admin.department.add("After", 670).result == 671


def test_refusals(live_server, admin) -> None:
    assert refusal(admin.department.add("", 1)) == (
        400,
        "ERROR_CORE",
        "Department name not provided.<br>",
    )
    assert refusal(admin.department.add("Twin", 0)) == (
        400,
        "ERROR_CORE",
        "There can only be one top-level department in the company structure",
    )
    assert refusal(admin.department.update(99, name="X")) == (
        400,
        "ERROR_CORE",
        "Department not found",
    )
    assert refusal(admin.department.delete(99)) == (400, "ERROR_CORE", "Department not found")
    assert refusal(admin.department.update(1, parent=1)) == (
        400,
        "ERROR_CORE",
        "Cannot move the section inside itself.<br>",
    )


def test_only_administrators_change_the_structure(live_server, admin) -> None:
    user_id = live_server.cli("user", "add", "--name", "Ann", "--last-name", "Lee")
    token = live_server.cli("webhook", "add", "--user", user_id, "--scope", "department")
    ann = Client(webhook(live_server, token))
    before = admin.department.get().result
    assert refusal(ann.department.add("Mine", 1)) == (400, "ERROR_CORE", "Access denied")
    assert refusal(ann.department.delete(1)) == (400, "ERROR_CORE", "Access denied")
    assert ann.department.fields().result["UF_HEAD"] == "Manager"
    assert admin.department.get().result == before
