"""The ASGI application: routes, lifespan, and the wiring of clock, store and limits."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from b24local.clock import AdjustableClock, Clock, SystemClock
from b24local.config import Settings
from b24local.devapi import dev_routes, token_check
from b24local.devapps import app_routes
from b24local.devstate import DevState, health_route, state_routes
from b24local.events.delivery import Sender
from b24local.fallback import HANDLERS
from b24local.forwarded import ForwardedHost
from b24local.oauth.endpoints import SERVER_REST_PATH, authorize, server_app_info, token
from b24local.rest.dispatch import Dispatcher, RestEndpoint
from b24local.rest.faults import Faults, known_errors
from b24local.rest.journal import Journal
from b24local.rest.limits import Limits, NoLimits, PlatformLimits
from b24local.rest.registry import Registry
from b24local.rest.v3.endpoint import V3Endpoint
from b24local.scopes import build_registry
from b24local.store.capture import capture
from b24local.store.changes import ChangeFeed
from b24local.store.engine import Store, create_engine
from b24local.store.queues import UserQueues
from b24local.web.routes import web_routes


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    store: Store | None
    limits: Limits
    registry: Registry
    dev_token: str | None = None
    faults: Faults | None = None
    #: Posts the event outbox; runs while the app does (its lifespan).
    sender: Sender | None = None
    #: What a dev API reset clears besides the database: each part that keeps
    #: state in memory (limits, caches, faults, the call journal…) registers a
    #: callable here, plain or async, taking no arguments.
    reset_hooks: list[Callable[[], Awaitable[None] | None]] = field(default_factory=list)
    #: The reset point and named snapshots (``--dev``).
    dev_state: DevState = field(default_factory=DevState)

    async def reset_memory(self) -> None:
        """Clear the in-memory state of every part that registered a hook."""
        for hook in self.reset_hooks:
            outcome = hook()
            if inspect.isawaitable(outcome):
                await outcome

    #: Every REST call, under ``--dev`` only.
    journal: Journal | None = None


def limits_for(settings: Settings) -> Limits:
    if not settings.limits:
        return NoLimits()
    if settings.redis_url:
        from b24local.rest.redislimits import RedisLimits

        return RedisLimits(
            settings.redis_url,
            prefix=settings.redis_prefix,
            threshold=settings.rate_threshold,
            drain=settings.rate_drain,
            operating_limit=settings.operating_limit,
        )
    return PlatformLimits(
        threshold=settings.rate_threshold,
        drain=settings.rate_drain,
        operating_limit=settings.operating_limit,
    )


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: Store | None = None,
    limits: Limits | None = None,
    dev_token: str | None = None,
) -> Starlette:
    """Build the app. Without ``store`` the app opens (and closes) its own on lifespan."""
    if clock is None:
        clock = AdjustableClock() if settings.dev else SystemClock()
    registry = build_registry()
    runtime = Runtime(settings, clock, store, limits or limits_for(settings), registry, dev_token)
    # The caches' change feed outlives no store, but the endpoint's caller cache is
    # made before the lifespan opens one: the store then takes this feed.
    feed = store.feed if store is not None else ChangeFeed()
    faults = None
    if settings.dev:
        faults = Faults(known_errors(tuple(registry.errors())), frozenset(s.name for s in registry))
    runtime.faults = faults
    if settings.dev and settings.journal_size:
        runtime.journal = Journal(clock, settings.journal_size)
    runtime.sender = Sender(lambda: runtime.store, clock, settings)
    dispatcher = Dispatcher(registry, clock, runtime.limits, faults)
    endpoint = RestEndpoint(
        _LazyStore(runtime, feed),  # type: ignore[arg-type]
        dispatcher,
        settings.request_limits,
        require_https=settings.require_https,
        time_limit=settings.time_limit,
        journal=runtime.journal,
    )
    runtime.reset_hooks.extend([runtime.limits.forget, endpoint.callers.clear,
                                runtime.sender.forget])  # fmt: skip
    if faults is not None:
        runtime.reset_hooks.append(faults.clear)
    if runtime.journal is not None:
        runtime.reset_hooks.append(runtime.journal.clear)

    # Every HTTP method reaches the endpoint, which answers the unsupported ones in
    # the protocol's own form; a bare /rest names no method.
    # REST 3.0 first: its prefix would otherwise read as a method named "api".
    v3 = V3Endpoint(endpoint)
    routes = [
        Route("/rest/api/{path:path}", v3),
        Route("/rest/{path:path}", endpoint),
        Route("/rest", endpoint),
    ]
    oauth = (
        ("/oauth/authorize", authorize),
        ("/oauth/token", token),
        (SERVER_REST_PATH + "app.info", server_app_info),
        (SERVER_REST_PATH + "app.info.json", server_app_info),
    )
    for path, handler in oauth:
        routes.append(Route(path + "/", handler, methods=["GET", "POST"]))
        routes.append(Route(path, handler, methods=["GET", "POST"]))
    if settings.dev and dev_token and isinstance(clock, AdjustableClock):
        assert faults is not None
        routes.extend(dev_routes(clock, faults, dev_token))
        routes.extend(app_routes(token_check(dev_token)))
        routes.extend(state_routes(token_check(dev_token)))
    # With or without --dev: what a load balancer or a container asks.
    routes.append(health_route)
    # The pages for teams last: every route above keeps its address.
    routes.extend(web_routes())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = runtime.store is None
        if owned:
            pool = {} if settings.db_pool is None else {"pool_size": settings.db_pool + 1}
            runtime.store = Store(create_engine(settings.db_url, **pool), feed=feed)
        assert runtime.sender is not None
        if settings.dev:
            # The reset point: the state right after start, before anything runs.
            runtime.dev_state.reset_point = await capture(runtime.store)
        await runtime.limits.open()
        await runtime.sender.start()
        try:
            yield
        finally:
            await runtime.sender.stop()
            await runtime.limits.close()
            if owned and runtime.store is not None:
                await runtime.store.close()

    middleware = []
    if settings.trusted_proxies:
        # Believe X-Forwarded-Host/-For/-Proto only from the configured proxies.
        trusted = list(settings.trusted_proxies)
        middleware.append(Middleware(ForwardedHost, trusted_hosts=trusted))
        middleware.append(Middleware(ProxyHeadersMiddleware, trusted_hosts=trusted))
    app = Starlette(
        routes=routes, lifespan=lifespan, middleware=middleware, exception_handlers=HANDLERS
    )
    app.state.runtime = runtime
    return app


class _LazyStore:
    """The store as it is once the lifespan has opened it."""

    def __init__(self, runtime: Runtime, feed: ChangeFeed) -> None:
        self._runtime = runtime
        self.feed = feed

    def transaction(self, *, write: bool = False):
        store = self._runtime.store
        if store is None:
            raise RuntimeError("the store is not open yet")
        return store.transaction(write=write)

    @property
    def queues(self) -> UserQueues | None:
        store = self._runtime.store
        return store.queues if store is not None else None
