"""The pages' text, one catalogue per language: ``locale/<language>.toml``.

A translation is one more file. Templates look strings up by dotted key
(``t("day.start")``); a key missing from a translation falls back to English, and
one missing from English is a bug that fails loudly.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

DEFAULT = "en"


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = str(value)
    return flat


@cache
def languages() -> dict[str, dict[str, str]]:
    """Every catalogue shipped, by language code."""
    found = {}
    for entry in resources.files(__package__).joinpath("locale").iterdir():
        if entry.name.endswith(".toml"):
            found[entry.name.removesuffix(".toml")] = _flatten(tomllib.loads(entry.read_text()))
    return found


def choose(accept_language: str) -> str:
    """The first language of ``Accept-Language`` we have (``de-AT`` finds ``de``)."""
    known = languages()
    wanted = []
    for part in accept_language.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        try:
            weight = float(params.strip().removeprefix("q=")) if params else 1.0
        except ValueError:
            continue
        wanted.append((-weight, len(wanted), tag.strip().lower()))
    for _weight, _order, tag in sorted(wanted):
        for candidate in (tag, tag.split("-")[0]):
            if candidate in known:
                return candidate
    return DEFAULT


class Catalogue:
    """One language's strings; ``catalogue("key", name=...)`` fills ``{name}``."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._strings = languages().get(language, {})
        self._fallback = languages()[DEFAULT]

    def __call__(self, key: str, **values: Any) -> str:
        text = self._strings.get(key)
        if text is None:
            text = self._fallback[key]  # a KeyError here is a missing string
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._strings or key in self._fallback
