"""What the methods do, one package per Bitrix24 scope.

Each package exposes a :class:`~b24local.rest.registry.MethodGroup` named
``methods``; :func:`all_groups` lists them for the registry.
"""

from __future__ import annotations

from b24local.rest.registry import MethodGroup, Registry


def all_groups() -> list[MethodGroup]:
    from b24local.rest.batch import methods as batch
    from b24local.rest.v3.methods import methods as rest_v3

    from .common.event_methods import methods as event_methods
    from .common.methods import methods as common
    from .common.offline_methods import methods as offline_events
    from .common.option_methods import methods as options
    from .common.rights import methods as rights
    from .department.methods import methods as department
    from .im.methods import methods as im
    from .timeman.methods import methods as timeman
    from .timeman.networkrange import methods as networkrange
    from .timeman.record import methods as record
    from .timeman.schedule_methods import methods as schedule
    from .timeman.timecontrol import methods as timecontrol
    from .user.changes import methods as user_changes
    from .user.methods import methods as user

    return [
        batch,
        common,
        department,
        event_methods,
        im,
        offline_events,
        timeman,
        networkrange,
        options,
        record,
        rest_v3,
        rights,
        schedule,
        timecontrol,
        user,
        user_changes,
    ]


def build_registry() -> Registry:
    return Registry(all_groups())
