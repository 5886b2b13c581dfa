"""The events b24local raises, by the scope that offers them (the ``events`` method's
list). Names are kept in upper case, as ``event.bind`` stores them."""

from __future__ import annotations

#: Events of no scope: every application may bind them.
BASIC_EVENTS = (
    "ONAPPUNINSTALL",
    "ONAPPINSTALL",
    "ONAPPUPDATE",
    "ONAPPPAYMENT",
    "ONAPPTEST",
    "ONAPPMETHODCONFIRM",
    "ONOFFLINEEVENT",
)

#: Events by scope, for the scopes b24local implements: what the real modules declare
#: to REST (``CRestUtil::EVENTS`` of their ``onRestServiceBuildDescription``). The user
#: module offers ``OnUserAdd`` in all three user scopes; the intranet (``department``),
#: timeman and im modules declare no event for their scopes, so none is listed for
#: them (docs/compat.md, "Events: what raises them").
BY_SCOPE: dict[str, tuple[str, ...]] = {
    "user": ("ONUSERADD",),
    "user_brief": ("ONUSERADD",),
    "user_basic": ("ONUSERADD",),
}

#: Events an outgoing webhook cannot subscribe to: they concern an application.
APPLICATION_ONLY = frozenset(BASIC_EVENTS)


def events_of(scopes: frozenset[str] | None) -> list[str]:
    """The events an application with ``scopes`` may bind (None: every event)."""
    names = list(BASIC_EVENTS)
    for scope, events in BY_SCOPE.items():
        if scopes is None or scope in scopes:
            names.extend(event for event in events if event not in names)
    return names


def known(name: str) -> bool:
    return name.upper() in events_of(None)
