"""Calling methods through the test server's webhook, and reading the answer."""

from __future__ import annotations

from typing import Any


def result(response) -> Any:
    """The ``result`` of a 200 answer (any other status fails with the body)."""
    assert response.status_code == 200, response.text
    return response.json()["result"]


def call(server, method: str, hook: str | None = None, **params) -> Any:
    return result(server.call(method, params, hook=hook))


def error_of(response) -> tuple[int, dict]:
    """Status and the whole error body, to compare with the page's example."""
    return response.status_code, response.json()
