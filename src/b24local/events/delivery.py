"""The sender: posts the outbox's due rows to their handlers, after the commit that
wrote them.

The table is the queue. Each attempt claims its row (counting the attempt and
moving ``due_at`` past the attempt's deadline), so another process leaves it
alone and a process that dies mid-send leaves it due again. Due times, backoff
and the slow-handler pause are read on the injected clock; only the polling loop
sleeps in real time.

Concurrency: at most :attr:`Sender.max_in_flight` attempts in flight, at most
:attr:`Sender.per_url` per handler URL, and handlers not known to answer promptly
(new since start, or slow) share at most :attr:`Sender.shy_share` of the slots,
so handlers that do answer always keep the rest. Each attempt, request and
answer together, ends within the event timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from b24local.clock import Clock
from b24local.config import Settings
from b24local.entities import Portal
from b24local.oauth.addresses import ServerAddresses
from b24local.store import failures, outbox, portals
from b24local.store.engine import Store
from b24local.store.outbox import Delivery

from . import payload

if TYPE_CHECKING:
    # Imported when the first event is sent (see Sender._http): it slows the start.
    import httpx

log = logging.getLogger("b24local.events")

#: The first retry waits this long; each further one twice as long, up to the cap.
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_CAP = timedelta(hours=1)
#: An answer slower than this (or none in time) makes the handler "slow".
SLOW_ANSWER = 2.0
#: A slow handler's pause before its next delivery: doubled per slow answer in a
#: row, up to the cap; a prompt answer ends it.
SLOW_PAUSE_FIRST = timedelta(seconds=5)
SLOW_PAUSE_CAP = timedelta(minutes=5)
#: How long past its deadline a claimed row waits before it is due again (a
#: process died while sending it).
CLAIM_MARGIN = timedelta(seconds=60)
#: The most of an answer read: more is not waited for (a handler may stream
#: forever); the row keeps the first 2,000 characters.
ANSWER_READ = 64 * 1024
#: The most URLs remembered as proven (answering promptly).
PROVEN_MAX = 1000


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 10 s, 20 s, 40 s, ..."""
    return min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** min(attempts - 1, 20))


#: Why a row whose subscriber was removed before it was sent fails.
GONE = "the subscriber (application or outgoing webhook) no longer exists"


class Refused(Exception):
    """The handler's address may not be called: the row fails without a request."""


class Broken(Exception):
    """Building the attempt failed: the attempt fails (and is retried) unsent."""


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


async def check_address(url: str, *, forbid_private: bool) -> None:
    """A handler is an absolute http(s) URL; with ``forbid_private``, its host must
    resolve to public addresses only (checked at send time, as the name's
    addresses may change)."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused(f"the handler {url!r} has an invalid port") from None
    import httpx

    try:
        httpx.URL(url)  # what the client will make of it; a bad one never works
    except (httpx.InvalidURL, ValueError) as error:
        raise Refused(f"the handler {url!r} is not a usable URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"the handler {url!r} is not an absolute http(s) URL")
    if not forbid_private:
        return
    try:
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port)
    except (OSError, UnicodeError) as error:
        raise Refused(f"the handler's host {parts.hostname!r} does not resolve: {error}") from None
    for *_, sockaddr in found:
        if _blocked(str(sockaddr[0])):
            raise Refused(
                f"the handler's host {parts.hostname!r} is a private or local address "
                f"({sockaddr[0]}), which this server is set to refuse"
            )


@dataclass
class _Pace:
    """How a handler URL has been answering: slow answers in a row, and the moment
    (injected clock) before which it gets no delivery."""

    slow_in_row: int = 0
    paused_until: datetime | None = None


class Sender:
    def __init__(
        self,
        store: Callable[[], Store | None],
        clock: Clock,
        settings: Settings,
        *,
        poll: float = 0.2,
        per_url: int = 2,
        in_flight: int = 256,
        shy_share: int = 192,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._settings = settings
        self._addresses = ServerAddresses(settings.public_url, settings.public_base)
        self.poll = poll
        self.per_url = per_url
        self.max_in_flight = in_flight
        self.shy_share = shy_share
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._running = False
        self._loop: asyncio.Task | None = None
        self._tasks: dict[int, asyncio.Task] = {}
        self._urls: dict[str, int] = {}
        self._pace: dict[str, _Pace] = {}
        #: URLs whose last answer came promptly: the slots beyond the shy share are theirs.
        self._proven: set[str] = set()
        #: One dispatch at a time, so that two (the loop and run_now) cannot both
        #: take a URL's free slots before either counts them.
        self._dispatching = asyncio.Lock()
        self._wake = asyncio.Event()
        #: Set (and replaced) after every recorded attempt: the dev API waits on it.
        self.attempted = asyncio.Event()
        #: Attempts recorded since start.
        self.finished = 0

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        self._running = True
        self._loop = asyncio.create_task(self._run(), name="b24local-event-sender")

    def _new_client(self) -> httpx.AsyncClient:
        import httpx

        return httpx.AsyncClient(
            timeout=httpx.Timeout(self._settings.event_timeout),
            # The sender's own caps bound the connections, not the pool's default 100.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=32),
            follow_redirects=False,
            transport=self._transport,
            headers={"user-agent": "Bitrix24 Webhook Engine"},
        )

    async def _http(self) -> httpx.AsyncClient:
        """The HTTP client, made (in a thread) when the first event is sent: importing
        httpx and loading its CA bundle would otherwise hold up the server's start."""
        if self._client is None:
            self._client = await asyncio.to_thread(self._new_client)
        return self._client

    async def stop(self) -> None:
        """Stop sending. Rows in flight stay claimed and become due again after their
        claim runs out, as if the process had died."""
        tasks = [t for t in (self._loop, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loop = None
        self._running = False
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def forget(self) -> None:
        """Forget what the sender learnt of handlers (slow ones' pauses, prompt
        ones' standing): a dev API reset starts every handler afresh."""
        self._pace.clear()
        self._proven.clear()

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await self.dispatch()
            except asyncio.CancelledError:
                raise
            except Exception as failure:  # a database hiccup must not end delivery for good
                if failures.unreachable(failure) or failures.pool_exhausted(failure):
                    log.warning("event delivery: looking for due rows failed: %s", failure)
                else:
                    log.exception("event delivery: looking for due rows failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)
            self._wake.clear()

    # --- picking rows -----------------------------------------------------------------

    def _blocked(self, now: datetime, *, everything: bool) -> set[str]:
        """Handler URLs no row may go to now: every slot taken, or paused."""
        full = {url for url, count in self._urls.items() if count >= self.per_url}
        if everything:
            return full
        paused = {u for u, p in self._pace.items() if p.paused_until and p.paused_until > now}
        return full | paused

    async def dispatch(self, *, everything: bool = False) -> list[asyncio.Task]:
        """Start an attempt for each due row a slot is free for. ``everything``: every
        pending row, due or not, paused handler or not (the dev API's "run now")."""
        async with self._dispatching:
            return await self._dispatch(everything=everything)

    def _shy_in_flight(self) -> int:
        return sum(n for url, n in self._urls.items() if url not in self._proven)

    async def _dispatch(self, *, everything: bool) -> list[asyncio.Task]:
        store = self._store()
        if store is None or not self._running:
            return []
        now = self._clock.now()
        room = self.max_in_flight - len(self._tasks)
        shy_room = self.shy_share - self._shy_in_flight()
        if room <= 0:
            return []
        async with store.transaction() as conn:
            rows = await outbox.due(
                conn, None if everything else now, limit=room * 2,
                skip_urls=self._blocked(now, everything=everything),
                only_urls=None if shy_room > 0 else self._proven,
            )  # fmt: skip
        taken: dict[str, int] = {}
        picked = []
        for row in rows:
            url = row.handler_url
            slots = self.per_url - self._urls.get(url, 0)
            if row.id in self._tasks or taken.get(url, 0) >= slots:
                continue
            if url not in self._proven:
                if shy_room <= 0:
                    continue
                shy_room -= 1
            taken[url] = taken.get(url, 0) + 1
            picked.append(row)
            if len(picked) >= room:
                break
        if not picked:
            return []
        await self._http()
        ready = await self._claim(store, picked, now)
        started = []
        for row, form in ready:
            self._urls[row.handler_url] = self._urls.get(row.handler_url, 0) + 1
            task = asyncio.create_task(self._guarded(store, row, form))
            self._tasks[row.id] = task
            task.add_done_callback(lambda _t, row=row: self._done(row))
            started.append(task)
        return started

    async def _claim(
        self, store: Store, rows: list[Delivery], now: datetime
    ) -> list[tuple[Delivery, list[tuple[str, str]] | Exception]]:
        """Claim the rows and build their forms in one write transaction (tokens are
        issued there, on the clock's now): the sender's writes stay few beside the
        changes it reports."""
        until = now + timedelta(seconds=self._settings.event_timeout) + CLAIM_MARGIN
        ready: list[tuple[Delivery, list[tuple[str, str]] | Exception]] = []
        portals_by_id: dict[int, Portal | None] = {}
        async with store.transaction(write=True) as conn:
            for row in rows:
                if not await outbox.claim(conn, row, until=until):
                    continue
                if row.portal_id not in portals_by_id:
                    portals_by_id[row.portal_id] = await portals.by_id(conn, row.portal_id)
                portal = portals_by_id[row.portal_id]
                try:
                    ready.append((row, await self._form(conn, row, portal, now)))
                except Exception as error:  # a failed attempt like any other, not a stuck row
                    log.exception("event delivery %s: building the request failed", row.id)
                    ready.append((row, Broken(f"building the request failed: {_named(error)}")))
        return ready

    async def _form(
        self, conn: Any, row: Delivery, portal: Portal | None, now: datetime
    ) -> list[tuple[str, str]] | Exception:
        auth = (
            await payload.auth_block(conn, row, portal, self._addresses, now=now)
            if portal is not None
            else None
        )
        if auth is None:
            return Refused(GONE)
        return list(payload.php_pairs(payload.body(row, auth, now=now)))

    def _done(self, row: Delivery) -> None:
        self._tasks.pop(row.id, None)
        left = self._urls.get(row.handler_url, 1) - 1
        if left:
            self._urls[row.handler_url] = left
        else:
            self._urls.pop(row.handler_url, None)
        # A freed slot may let a waiting row of the same handler go.
        self._wake.set()

    async def run_now(self, *, everything: bool = False) -> int:
        """Attempt what is due (or everything pending), wait until no attempt is in
        flight, and say how many attempts ended meanwhile (those the polling loop
        had started included: a caller cannot tell who took a row first)."""
        before = self.finished
        await self.dispatch(everything=everything)
        while self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        return self.finished - before

    # --- one attempt ------------------------------------------------------------------

    async def _guarded(
        self, store: Store, row: Delivery, pairs: list[tuple[str, str]] | Exception
    ) -> None:
        try:
            await self._attempt(store, row, pairs)
        except asyncio.CancelledError:
            raise
        except Exception:  # recording failed: the row is tried again when its claim runs out
            log.exception("event delivery %s failed unexpectedly", row.id)

    async def _attempt(
        self, store: Store, row: Delivery, pairs: list[tuple[str, str]] | Exception
    ) -> None:
        import httpx  # loaded by now: the client was made before the row was claimed

        attempts = row.attempts + 1
        try:
            if isinstance(pairs, Exception) and not isinstance(pairs, Broken):
                raise pairs
            await check_address(
                row.handler_url, forbid_private=self._settings.forbid_private_handlers
            )
            form = _kept(payload.decoded(pairs)) if not isinstance(pairs, Broken) else None
        except Refused as refused:
            await self._record(store, row, state="failed", error=str(refused))
            return
        except Exception as error:  # a failed attempt, counted, never a stuck row
            await self._failed(store, row, attempts, None, error=_named(error))
            return
        if isinstance(pairs, Broken) or form is None:
            await self._failed(store, row, attempts, None, error=str(pairs))
            return
        began = time.monotonic()
        try:
            async with asyncio.timeout(self._settings.event_timeout):
                status, text = await self._post(row.handler_url, pairs)
        except (TimeoutError, httpx.TimeoutException) as error:
            self._paced(row.handler_url, slow=True)
            await self._failed(store, row, attempts, form, error=_late(error))
            return
        except Exception as error:  # whatever the URL or the network did: a failed attempt
            self._paced(row.handler_url, slow=False, prompt=False)
            await self._failed(store, row, attempts, form, error=_named(error))
            return
        self._paced(row.handler_url, slow=time.monotonic() - began > SLOW_ANSWER)
        if 200 <= status < 300:
            await self._record(
                store, row, state="delivered", status=status, answer=text,
                delivered_at=self._clock.now(), payload=form,
            )  # fmt: skip
            return
        await self._failed(
            store, row, attempts, form, status=status, answer=text,
            error=f"the handler answered HTTP {status}",
        )  # fmt: skip

    async def _post(self, url: str, pairs: list[tuple[str, str]]) -> tuple[int, str]:
        """Post the form; the status and the start of the answer, read no further
        than :data:`ANSWER_READ` bytes."""
        assert self._client is not None
        request = self._client.build_request(
            "POST", url, content=urlencode(pairs).encode(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        answer = await self._client.send(request, stream=True)
        try:
            body = bytearray()
            async for chunk in answer.aiter_raw():
                body += chunk
                if len(body) >= ANSWER_READ:
                    break
        finally:
            await answer.aclose()
        text = bytes(body[:ANSWER_READ]).decode(answer.encoding or "utf-8", errors="replace")
        return answer.status_code, text

    async def _failed(
        self,
        store: Store,
        row: Delivery,
        attempts: int,
        form: dict | None,
        *,
        error: str,
        status: int | None = None,
        answer: str | None = None,
    ) -> None:
        last = attempts >= self._settings.event_attempts
        await self._record(
            store, row, state="failed" if last else "pending",
            due_at=None if last else self._clock.now() + backoff(attempts),
            status=status, answer=answer, error=error, payload=form,
        )  # fmt: skip

    async def _record(self, store: Store, row: Delivery, **outcome) -> None:
        async with store.transaction(write=True) as conn:
            # ``row`` is as it was before its claim, which counted this attempt.
            await outbox.record(conn, row.id, claimed=row.attempts + 1, **outcome)
        self.finished += 1
        attempted, self.attempted = self.attempted, asyncio.Event()
        attempted.set()

    def _paced(self, url: str, *, slow: bool, prompt: bool = True) -> None:
        """The real queue calls a slow handler less often: each slow answer in a row
        doubles a pause before the handler's next delivery; a prompt one ends it.
        Only a prompt answer proves the URL (no connection proves nothing)."""
        if not slow:
            self._pace.pop(url, None)
            if not prompt:
                self._proven.discard(url)
                return
            # Bounded (it is also a query parameter list): forget, and let them prove again.
            if len(self._proven) >= PROVEN_MAX:
                self._proven.clear()
            self._proven.add(url)
            return
        self._proven.discard(url)
        pace = self._pace.setdefault(url, _Pace())
        pace.slow_in_row += 1
        pause = min(SLOW_PAUSE_CAP, SLOW_PAUSE_FIRST * 2 ** min(pace.slow_in_row - 1, 20))
        pace.paused_until = self._clock.now() + pause

    def paused_until(self, url: str) -> datetime | None:
        pace = self._pace.get(url)
        return pace.paused_until if pace else None


#: Tokens a row does not keep: they are live credentials, and rows are not pruned.
#: The application token stays (its app's row holds it too; an uninstalled app's
#: retry is built from it).
SECRET_KEYS = ("access_token", "refresh_token")


def _kept(form: dict[str, Any]) -> dict[str, Any]:
    """The form as the row keeps it: the same shape, the tokens blanked."""
    auth = form.get("auth")
    if not isinstance(auth, dict):
        return form
    blanked = {k: "***" if k in SECRET_KEYS else v for k, v in auth.items()}
    return {**form, "auth": blanked}


def _late(error: Exception) -> str:
    import httpx

    if isinstance(error, httpx.TimeoutException):
        return f"no answer in time ({type(error).__name__})"
    return "no answer in time (the event timeout ran out)"


def _named(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
