"""The plugin's own tests drive it as a user would: through ``pytester``, which
writes a test module using the fixtures and runs pytest on it.

``pytester`` is registered here rather than with ``pytest_plugins``, which pytest
allows only in the top-level conftest."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("pytester"):
        config.pluginmanager.import_plugin("pytester")
