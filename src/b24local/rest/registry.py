"""The method registry: the single source of truth about every method.

Dispatch, scope checks, the introspection methods (``methods``, ``method.get``,
``scope``) and the compatibility table in the docs are all derived from it.
Each scope package declares its methods on a :class:`MethodGroup`; the app
merges the groups into one :class:`Registry`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ErrorSpec, RestError

if TYPE_CHECKING:
    from .auth import Caller
    from .call import Call
    from .v3.schema import V3Spec

Handler = Callable[["Call"], Awaitable[Any]]
#: Whose data a write changes, from its parameters, the caller's user ID and the registry.
Changes = Callable[[dict[str, Any], int, "Registry"], Iterable[int]]
#: The rows the read commands of one batch will look up, fetched at once: from the
#: session, the caller and each command's parameters (store/prefetch.py).
Prefetch = Callable[[Any, "Caller", list[dict[str, Any]]], Awaitable[dict[Any, Any]]]

#: Methods in this scope need no scope grant: every caller has them.
BASIC = "basic"


@dataclass(frozen=True, slots=True)
class MethodSpec:
    name: str
    handler: Handler = field(repr=False)
    #: The scope the reference files the method under.
    scope: str
    #: Scopes any one of which grants access (``user.get``: user, user_brief, user_basic).
    grants: frozenset[str]
    summary: str
    #: Reference page, relative to ``b24restdocs/api-reference/``.
    reference: str
    #: Whether the method changes stored state (decides the transaction kind).
    writes: bool = False
    #: Whether ``batch`` may call it.
    batchable: bool = True
    #: Whether it is a list method with ``start``/``next``/``total`` paging.
    paged: bool = False
    #: Whether its run time counts towards ``operating`` (batch's own does not).
    metered: bool = True
    #: For a method that writes only for some parameters (``batch``): whether this
    #: call does, given its parameters and the registry.
    writes_when: Callable[[dict[str, Any], Registry], bool] | None = field(default=None, repr=False)
    #: How REST 3.0 (``/rest/api/``) exposes the method; ``None``: it does not.
    v3: V3Spec | None = field(default=None, repr=False)
    #: Whether the old path (``/rest/``, and its batch) answers it; False for
    #: methods that exist only in REST 3.0.
    v2: bool = True
    #: For a write that locks users' rows: which users, so that the call can wait
    #: its turn for them before it takes a database connection (store/queues.py).
    changes: Changes | None = field(default=None, repr=False)
    #: For a read: how to fetch the rows of many of its calls in a batch at once.
    prefetch: Prefetch | None = field(default=None, repr=False)

    def allowed_for(self, scopes: frozenset[str]) -> bool:
        return self.scope == BASIC or not self.grants.isdisjoint(scopes)

    def writes_for(self, params: dict[str, Any], registry: Registry) -> bool:
        """Whether this call may change stored state: its transaction's kind."""
        if self.writes_when is not None:
            return self.writes_when(params, registry)
        return self.writes

    def changed_users(self, params: dict[str, Any], user_id: int, registry: Registry) -> set[int]:
        """The users whose rows this call will lock; empty when it names none (or
        names them so badly that the method itself will refuse the call)."""
        if self.changes is None:
            return set()
        try:
            return {found for found in self.changes(params, user_id, registry) if found > 0}
        except RestError:
            return set()


def the_caller(_params: dict[str, Any], user_id: int, _registry: Registry) -> tuple[int]:
    """``changes`` of a method that changes the caller's own data."""
    return (user_id,)


class MethodGroup:
    """The methods of one scope package, declared with :meth:`method`."""

    def __init__(self, scope: str, *, grants: Iterable[str] | None = None) -> None:
        self.scope = scope
        self.grants = frozenset(grants or (scope,))
        self.specs: list[MethodSpec] = []
        #: The method-specific errors of this group, for the docs.
        self.errors: tuple[ErrorSpec, ...] = ()

    def method(
        self,
        name: str,
        *,
        summary: str,
        reference: str,
        writes: bool = False,
        batchable: bool = True,
        paged: bool = False,
        metered: bool = True,
        writes_when: Callable[[dict[str, Any], Registry], bool] | None = None,
        v3: V3Spec | None = None,
        v2: bool = True,
        changes: Changes | None = None,
        prefetch: Prefetch | None = None,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.specs.append(
                MethodSpec(
                    name=name,
                    handler=handler,
                    scope=self.scope,
                    grants=self.grants,
                    summary=summary,
                    reference=reference,
                    writes=writes,
                    batchable=batchable,
                    paged=paged,
                    metered=metered,
                    writes_when=writes_when,
                    v3=v3,
                    v2=v2,
                    changes=changes,
                    prefetch=prefetch,
                )
            )
            return handler

        return register


class Registry:
    def __init__(self, groups: Iterable[MethodGroup]) -> None:
        self._methods: dict[str, MethodSpec] = {}
        self._errors: list[ErrorSpec] = []
        for group in groups:
            self._errors.extend(e for e in group.errors if e not in self._errors)
            for spec in group.specs:
                if spec.name in self._methods:
                    raise ValueError(f"method {spec.name} is registered twice")
                self._methods[spec.name] = spec

    def get(self, name: str) -> MethodSpec | None:
        return self._methods.get(name)

    def __iter__(self) -> Iterator[MethodSpec]:
        return iter(sorted(self._methods.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._methods)

    def scopes(self) -> list[str]:
        """Every grantable scope, sorted; ``basic`` is implied and not listed."""
        return sorted({g for spec in self._methods.values() for g in spec.grants} - {BASIC})

    def granted(self, scopes: frozenset[str]) -> list[str]:
        """The given scopes b24local implements, sorted: ``scope``, a webhook's ``app.info``."""
        return [name for name in self.scopes() if name in scopes]

    def errors(self) -> list[ErrorSpec]:
        """Method-specific errors of every group, for the docs."""
        return list(self._errors)

    def available_to(self, scopes: frozenset[str]) -> list[MethodSpec]:
        """The caller's methods on the old path (what ``methods`` lists)."""
        return [spec for spec in self.v2_methods() if spec.allowed_for(scopes)]

    def v2_methods(self) -> list[MethodSpec]:
        """The methods the old path (``/rest/``) answers; REST 3.0-only ones are not."""
        return [spec for spec in self if spec.v2]

    def v3_methods(self) -> list[MethodSpec]:
        """The methods REST 3.0 declares, for its path and its OpenAPI document."""
        return [spec for spec in self if spec.v3 is not None]
