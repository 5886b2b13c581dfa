"""Forced errors for tests (``--dev`` only): make the next calls fail on purpose.

An integration developer can see how their code copes with, say,
``QUERY_LIMIT_EXCEEDED`` or ``expired_token`` without arranging the real cause.
A rule names an error code from the catalogue, optionally a method, and how many
calls it applies to.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import PROTOCOL_ERRORS, SYSTEM_ERRORS, ErrorSpec, RestError


@dataclass(slots=True)
class Fault:
    error: ErrorSpec
    method: str | None
    remaining: int


def known_errors(extra: tuple[ErrorSpec, ...] = ()) -> dict[str, ErrorSpec]:
    """Catalogue errors by code; the first declaration of a code wins."""
    found: dict[str, ErrorSpec] = {}
    for spec in (*SYSTEM_ERRORS, *PROTOCOL_ERRORS, *extra):
        found.setdefault(spec.code, spec)
    return found


class Faults:
    def __init__(self, errors: dict[str, ErrorSpec]) -> None:
        self._errors = errors
        self._rules: list[Fault] = []

    def add(self, code: str, method: str | None = None, times: int = 1) -> Fault:
        spec = self._errors.get(code)
        if spec is None:
            raise KeyError(code)
        if times < 1:
            raise ValueError("times must be at least 1")
        fault = Fault(spec, method.lower() if method else None, times)
        self._rules.append(fault)
        return fault

    def clear(self) -> None:
        self._rules.clear()

    def pending(self) -> list[Fault]:
        return list(self._rules)

    def take(self, method: str) -> RestError | None:
        """The error for this call, if a rule applies; uses one of its times up."""
        for fault in self._rules:
            if fault.method is None or fault.method == method:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._rules.remove(fault)
                return fault.error()
        return None
