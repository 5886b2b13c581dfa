"""The generated tables in docs/compat.md match the registry and the catalogue."""

from b24local.docs import COMPAT, render
from b24local.rest.errors import SYSTEM_ERRORS
from b24local.scopes import build_registry


def test_compat_tables_are_current():
    committed = COMPAT.read_text(encoding="utf-8")
    assert committed == render(committed, build_registry()), (
        "docs/compat.md is stale: run `python -m b24local.docs`"
    )


def test_every_method_and_system_error_is_listed():
    text = COMPAT.read_text(encoding="utf-8")
    for spec in build_registry():
        assert f"| `{spec.name}` |" in text
    for error in SYSTEM_ERRORS:
        assert f"| `{error.code}` | {error.status} |" in text
