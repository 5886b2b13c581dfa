"""Generated parts of the docs, derived from the registry and the error catalogue.

``python -m b24local.docs`` rewrites the marked sections of ``docs/compat.md``;
a test fails when the committed file is stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from b24local.oauth.endpoints import OAUTH_ERRORS
from b24local.rest.errors import PROTOCOL_ERRORS, SYSTEM_ERRORS, ErrorSpec
from b24local.rest.registry import BASIC, Registry
from b24local.scopes import build_registry

COMPAT = Path(__file__).resolve().parents[2] / "docs" / "compat.md"
REFERENCE = "https://apidocs.bitrix24.com/api-reference/"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def methods_table(registry: Registry) -> str:
    rows = [
        "| Method | Scope | Batch | Paged | Writes | What it does | Reference |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for spec in registry:
        scopes = "any (basic)" if spec.scope == BASIC else ", ".join(sorted(spec.grants))
        page = spec.reference.removesuffix(".md")
        rows.append(
            f"| `{spec.name}` | {scopes} | {_yes(spec.batchable)} | {_yes(spec.paged)} "
            f"| {_yes(spec.writes)} | {spec.summary} | [{page}]({REFERENCE}{page}.html) |"
        )
    return "\n".join(rows)


def _error_rows(errors: list[ErrorSpec]) -> list[str]:
    # A bar in a text (``{online|offline}``) would split the table's cell.
    return [
        f"| `{e.code}` | {e.status} | {_cell(e.description)} | {_cell(e.meaning)} |" for e in errors
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def errors_table(registry: Registry) -> str:
    head = ["| Code | HTTP | `error_description` | When |", "| --- | --- | --- | --- |"]
    sections = [
        ("System errors (the reference's catalogue)", list(SYSTEM_ERRORS)),
        ("Protocol errors", list(PROTOCOL_ERRORS)),
        ("Method errors", registry.errors()),
        ("Authorization server errors (`/oauth/token/`, `/oauth/rest/`)", list(OAUTH_ERRORS)),
    ]
    parts = []
    for title, errors in sections:
        parts.append(f"**{title}**\n\n" + "\n".join(head + _error_rows(errors)))
    return "\n\n".join(parts)


def render(text: str, registry: Registry) -> str:
    for name, body in (("methods", methods_table(registry)), ("errors", errors_table(registry))):
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", flags=re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"docs/compat.md lacks the {name} markers")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main() -> int:
    current = COMPAT.read_text(encoding="utf-8")
    updated = render(current, build_registry())
    if updated != current:
        COMPAT.write_text(updated, encoding="utf-8")
        print(f"updated {COMPAT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
