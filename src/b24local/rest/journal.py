"""The call journal (``--dev`` only): every REST call the server answered, kept in a
bounded ring in memory so a test can ask which calls its code made.

The endpoints open an :class:`Entry` per request and close it with the answer's
status; in between, the parts of the path that learn something (the parsed
request, the caller, an error, each batch command) note it on the entry found in
a context variable. Without a journal nothing is opened, and the notes cost one
context-variable read.

Parameters are copied when the call is closed, secrets blanked and long values
cut, so an entry's size is bounded whatever the request held.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import deque
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

import orjson

from b24local.clock import Clock, monotonic

from .auth import Caller, host_name
from .errors import RestError
from .registry import BASIC, Registry
from .transport import parse_path

#: Entries a journal keeps by default, and at most (0: no journal at all).
DEFAULT_SIZE = 10_000
MAX_SIZE = 1_000_000

#: Parameter names whose values are never kept (compared lowercased).
SECRETS = frozenset(
    {
        "auth",
        "access_token",
        "refresh_token",
        "client_secret",
        "password",
        "application_token",
    }
)
REDACTED = "***"
#: Longer method names (unknown ones, of course) are cut.
MAX_METHOD = 200
#: A string value longer than this is cut, and says so.
MAX_VALUE = 4096
#: What one entry's parameters may hold in all: values (strings, numbers, ...)
#: and characters of text; past either the rest is left out, and marked.
MAX_ITEMS = 500
MAX_TEXT = 16 * 1024
CUT = "[cut]"
#: What a batch's commands may hold together, like one entry's parameters: a
#: request of thousands of commands (those past the batch's 50 are refused, and
#: recorded) would otherwise keep megabytes in one entry.
BATCH_ITEMS = 2_500
BATCH_TEXT = 64 * 1024
#: Commands one entry keeps; the count of the rest is ``calls_cut``.
MAX_COMMANDS_KEPT = 100

# The parts of a parameter's name in a query string: ``data[auth][0]`` → data, auth, 0.
_NAME_PARTS = re.compile(r"[^\[\]]+")


@dataclass(slots=True)
class _Budget:
    items: int = MAX_ITEMS
    text: int = MAX_TEXT


def redact(value: Any, budget: _Budget | None = None) -> Any:
    """``value`` as the journal keeps it: secrets blanked at any depth, strings over
    :data:`MAX_VALUE` cut, and no more than the budget of items and text."""
    if budget is None:
        budget = _Budget()
    if budget.items <= 0:
        return CUT
    budget.items -= 1
    kind = type(value)
    if kind is str:
        room = min(MAX_VALUE, max(budget.text, 0))
        budget.text -= min(len(value), room)
        if len(value) > room:
            return f"{value[:room]}{CUT} {len(value)} characters"
        return value
    if kind is dict:
        kept: dict[str, Any] = {}
        for key, item in value.items():
            if budget.items <= 0 or budget.text <= 0:
                kept[CUT] = f"{len(value) - len(kept)} more"
                break
            key = str(key)[:MAX_VALUE]
            budget.text -= len(key)  # names are text kept too
            kept[key] = REDACTED if key.lower() in SECRETS else redact(item, budget)
        return kept
    if kind is list or kind is tuple:
        items: list[Any] = []
        for item in value:
            if budget.items <= 0:
                items.append(f"{CUT} {len(value) - len(items)} more")
                break
            items.append(redact(item, budget))
        return items
    if value is None or kind is bool or kind is float:
        return value
    if kind is int and -(2**63) <= value < 2**64:
        return value
    return redact(str(value), budget)


def kept(params: Any, budget: _Budget | None = None) -> str:
    """Parameters as an entry keeps them: redacted, as JSON text, within ``budget``
    (one entry's by default; a batch's commands share theirs). Text, not dicts:
    the ring then holds no objects the garbage collector has to walk (tens of
    thousands of batch commands made a full collection take a third of a second);
    and not orjson's bytes, which keep its 4 KiB buffer each."""
    if not params:
        return "{}" if type(params) is dict else orjson.dumps(params).decode()
    if budget is None:
        budget = _Budget()
    if type(params) is dict and len(params) <= _PLAIN_KEYS:
        size = _plain(params)
        if 0 <= size <= budget.text and 2 * len(params) <= budget.items:
            # Most calls: nothing to blank or cut.
            budget.text -= size
            budget.items -= 2 * len(params)
            return orjson.dumps(params).decode()
    if isinstance(params, str):
        params = scrub_query(params)  # a batch command that could not be parsed
    return orjson.dumps(redact(params, budget)).decode()


#: A flat dict of at most this many short strings is kept as it is: within every
#: bound of :func:`redact` (MAX_ITEMS, MAX_TEXT), so it need not walk it.
_PLAIN_KEYS = 16
_PLAIN_LENGTH = 256


def _plain(params: dict[Any, Any]) -> int:
    """The characters of a flat dict of short strings with no secret; -1 if it is
    not one."""
    size = 0
    for key, value in params.items():
        if type(key) is not str or type(value) is not str:
            return -1
        if len(key) > _PLAIN_LENGTH or len(value) > _PLAIN_LENGTH or key.lower() in SECRETS:
            return -1
        size += len(key) + len(value)
    return size


def _secret_name(name: str) -> bool:
    """Whether a query string's parameter name holds a secret at any depth, read as
    the parser would read it: ``auth``, ``AUTH``, ``%61uth``, ``data[auth]``."""
    decoded = unquote_plus(name).lower()
    return any(part.strip() in SECRETS for part in _NAME_PARTS.findall(decoded))


def scrub_query(command: str) -> str:
    """An unparsed batch command with its secrets blanked (``user.get?auth=***``)."""
    method, mark, query = command.partition("?")
    if not mark:
        method, query = "", command
    pairs = query.split("&")
    for index, pair in enumerate(pairs):
        name, equals, _value = pair.partition("=")
        if equals and _secret_name(name):
            pairs[index] = f"{name}={REDACTED}"
    return method + mark + "&".join(pairs)


#: A batch command as the journal keeps it: (key, method, duration, status,
#: error, params). A plain tuple of atomic values, which the garbage collector
#: stops tracking (it never does for a NamedTuple, a subclass).
Command = tuple[str, str, float, int, str | None, str]
_METHOD, _ERROR = 1, 4


def command_record(command: Command) -> dict[str, Any]:
    key, method, duration, status, error, params = command
    return {
        "key": key,
        "method": method,
        "params": orjson.loads(params),
        "status": status,
        "error": error,
        "duration": round(duration, 6),
    }


#: One copy of each batch key and method name the journal keeps: a bounded table
#: of our own, not ``sys.intern``, whose strings Python 3.12 never frees (the
#: keys of hostile batches would pile up for the life of the process).
_SHARED: dict[str, str] = {}
SHARED_MAX = 10_000


def shared(name: str) -> str:
    """The copy of ``name`` the journal shares, while the table has room."""
    found = _SHARED.get(name)
    if found is not None:
        return found
    if len(_SHARED) < SHARED_MAX:
        _SHARED[name] = name
    return name


class Running:
    """A batch command under way: :meth:`done` adds it to its batch's entry."""

    __slots__ = ("began", "entry", "key")

    def __init__(self, entry: Entry, key: str) -> None:
        self.entry = entry
        # Shared: a full ring holds the same few keys hundreds of thousands of times.
        self.key = shared(key[:MAX_METHOD])
        self.began = monotonic()

    def done(
        self, method: str, params: Any, error: RestError | None = None, code: str | None = None
    ) -> None:
        """The command's end: its method, what it ran with, and its error if it failed."""
        duration = monotonic() - self.began
        status, failure = (200, None) if error is None else (error.status, code or error.code)
        entry = self.entry
        calls = entry.calls
        if calls is None:
            entry.calls = calls = []
        if not isinstance(calls, list):  # the batch was answered already
            return
        if len(calls) >= MAX_COMMANDS_KEPT:
            entry.calls_cut += 1
            return
        if entry.budget is None:
            entry.budget = _Budget(BATCH_ITEMS, BATCH_TEXT)
        method = shared(method[:MAX_METHOD])
        calls.append((self.key, method, duration, status, failure, kept(params, entry.budget)))


@dataclass(slots=True, eq=False)
class Entry:
    """One REST request; a batch's commands are in ``calls``."""

    time: datetime
    api: str
    began: float
    id: int = 0
    method: str = ""
    params: str = "{}"
    #: The host the request named, until the caller (and its portal) is known.
    host: str = ""
    caller: Caller | None = None
    status: int = 200
    error: str | None = None
    duration: float = 0.0
    #: A list while the batch runs, a tuple once the entry is closed (a tuple of
    #: atomic tuples is itself left alone by the garbage collector).
    calls: list[Command] | tuple[Command, ...] | None = None
    #: Commands past :data:`MAX_COMMANDS_KEPT`, counted but not kept.
    calls_cut: int = 0
    #: What the batch's commands may still keep, until the entry is closed.
    budget: _Budget | None = field(default=None, repr=False)
    #: The request itself until the entry is closed (then only ``params``).
    request: Any = field(default=None, repr=False)

    # --- reading ---

    @property
    def portal(self) -> str:
        return self.caller.portal.domain if self.caller is not None else host_name(self.host)

    def outcomes(self) -> Iterator[tuple[str, str | None]]:
        """(method, error) of this entry and of each of its batch commands."""
        yield self.method, self.error
        for command in self.calls or ():
            yield command[_METHOD], command[_ERROR]

    def record(self) -> dict[str, Any]:
        """The entry as the dev API shows it."""
        shown: dict[str, Any] = {
            "id": self.id,
            "time": self.time.isoformat(),
            "portal": self.portal,
            "caller": caller_record(self.caller),
            "method": self.method,
            "params": orjson.loads(self.params),
            "status": self.status,
            "error": self.error,
            "duration": round(self.duration, 6),
            "api": self.api,
        }
        if self.calls is not None or self.method == "batch":
            shown["calls"] = [command_record(command) for command in self.calls or ()]
            if self.calls_cut:
                shown["calls_cut"] = self.calls_cut
        return shown


def caller_record(caller: Caller | None) -> dict[str, Any] | None:
    if caller is None:
        return None
    kind, _, name = caller.client.partition(":")
    if kind == "webhook":
        return {"type": "webhook", "id": int(name), "user_id": caller.user.id}
    client_id = caller.app.client_id if caller.app is not None else None
    return {"type": "app", "client_id": client_id, "user_id": caller.user.id}


def caller_names(caller: Caller | None) -> tuple[str, ...]:
    """The caller's names in the dev API's notation: ``webhook:3`` or ``app:local.x``,
    and ``user:5``."""
    if caller is None:
        return ()
    return (caller.client, f"user:{caller.user.id}")


# --- recording ---


def _method_of(path: str) -> str:
    """The method a path names ("" if it names none)."""
    try:
        return parse_path(path)[0]
    except RestError:
        return ""


_open: ContextVar[Entry | None] = ContextVar("b24local_journal_entry", default=None)


def note_request(request: Any) -> None:
    """The parsed request: the method and parameters the entry shows."""
    entry = _open.get()
    if entry is not None:
        entry.request = request


def note_caller(caller: Caller | None) -> None:
    entry = _open.get()
    if entry is not None:
        entry.caller = caller


def note_error(error: RestError, code: str | None = None) -> None:
    """The error the request is answered with (``code``: as the answer names it)."""
    entry = _open.get()
    if entry is not None:
        entry.error = code or error.code


def command(key: str) -> Running | None:
    """A batch command begun now, or None when the journal is off."""
    entry = _open.get()
    return Running(entry, key) if entry is not None else None


@dataclass(frozen=True, slots=True)
class Filters:
    """What ``GET /_b24local/calls`` narrows to; each matches an entry's own values
    or (method and error) those of one of its batch commands."""

    method: str | None = None
    caller: str | None = None
    #: An error code, or ``any``.
    error: str | None = None
    since: datetime | None = None
    #: The portal's domain (the administration pages show only their own portal's).
    portal: str | None = None

    def match(self, entry: Entry) -> bool:
        if self.portal is not None and entry.portal != self.portal:
            return False
        if self.since is not None and entry.time < self.since:
            return False
        if self.caller is not None and self.caller not in caller_names(entry.caller):
            return False
        if self.method is not None and not any(
            self._method(method) for method, _error in entry.outcomes()
        ):
            return False
        if self.error is not None:
            wanted = None if self.error == "any" else self.error
            return any(
                error is not None and (wanted is None or error == wanted)
                for _method, error in entry.outcomes()
            )
        return True

    def _method(self, name: str) -> bool:
        assert self.method is not None
        if self.method.endswith("*"):
            return name.startswith(self.method[:-1])
        return name == self.method


def _take(entries: Iterable[Entry], filters: Filters, limit: int) -> tuple[list[Entry], int | None]:
    """The first ``limit`` matching ``entries``, and the number a next page starts
    past (None: no more match)."""
    found: list[Entry] = []
    for entry in entries:
        if filters.match(entry):
            if len(found) == limit:
                return found, found[-1].id
            found.append(entry)
    return found, None


class Journal:
    """The last ``size`` calls, oldest first, numbered from 1 on (numbers are never
    reused, a cleared journal included, so an ``after`` cursor stays valid)."""

    def __init__(self, clock: Clock, size: int = DEFAULT_SIZE) -> None:
        if not 1 <= size <= MAX_SIZE:
            raise ValueError(f"the journal holds from 1 to {MAX_SIZE} calls")
        self.clock = clock
        self.size = size
        self._entries: deque[Entry] = deque(maxlen=size)
        self._last_id = 0
        self._waiters: list[asyncio.Future[None]] = []

    def open(self, api: str, host: str) -> Entry:
        """A request begins: its entry, noted on by the path until :meth:`close`."""
        entry = Entry(self.clock.now(), api, monotonic(), host=host)
        _open.set(entry)
        return entry

    def close(self, entry: Entry, status: int, path: str) -> None:
        """The request to ``path`` (after ``/rest/``) is answered with ``status``:
        the entry joins the journal."""
        _open.set(None)
        entry.duration = monotonic() - entry.began
        entry.status = status
        request, entry.request = entry.request, None
        if request is not None:
            method = request.method
            params = request.params
            if method == "batch":
                # The commands are the entry's ``calls``; only the rest is shown.
                params = {k: v for k, v in params.items() if k.lower() == "halt"}
            entry.params = kept(params)
        else:
            method = _method_of(path)  # refused before it was parsed
        entry.method = method[:MAX_METHOD]
        if entry.calls is not None:
            entry.calls = tuple(entry.calls)
        entry.budget = None
        self._last_id += 1
        entry.id = self._last_id
        self._entries.append(entry)
        if self._waiters:
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def clear(self) -> None:
        """Forget every call (a reset does this); numbering goes on."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def last_id(self) -> int:
        """The number of the newest call recorded (0: none yet), kept or not."""
        return self._last_id

    def after(self, after: int) -> Iterator[Entry]:
        """Entries numbered above ``after``, oldest first."""
        if not self._entries:
            return iter(())
        # Numbers are consecutive, so the first one wanted is found by arithmetic.
        start = max(0, after + 1 - self._entries[0].id)
        return itertools.islice(self._entries, start, None)

    def listing(
        self, filters: Filters, *, after: int, limit: int
    ) -> tuple[list[Entry], int | None]:
        """Up to ``limit`` matching entries after ``after``, and the ``after`` that
        gives the next page (None: no more)."""
        return _take(self.after(after), filters, limit)

    def latest(
        self, filters: Filters, *, before: int | None, limit: int
    ) -> tuple[list[Entry], int | None]:
        """:meth:`listing` newest first: up to ``limit`` matching entries numbered
        below ``before`` (None: all), and the ``before`` of the next page."""
        newest = reversed(self._entries)
        if before is not None:
            newest = itertools.dropwhile(lambda entry: entry.id >= before, newest)
        return _take(newest, filters, limit)

    async def wait(
        self, filters: Filters, *, after: int, limit: int, seconds: float
    ) -> tuple[list[Entry], int | None]:
        """:meth:`listing`, waiting up to ``seconds`` for a first match."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            found, more = self.listing(filters, after=after, limit=limit)
            left = deadline - loop.time()
            if found or left <= 0:
                return found, more
            # Only what came since needs looking at next time.
            after = max(after, self._last_id)
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, left)
            except TimeoutError:
                return [], None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def summary(self, registry: Registry, caller: str | None = None) -> list[dict[str, Any]]:
        """Per caller: the methods it called (counts, errors by code) and the scopes
        they need against those it holds."""
        callers: dict[str, _Usage] = {}
        for entry in self._entries:
            if entry.caller is None:
                continue
            names = caller_names(entry.caller)
            if caller is not None and caller not in names:
                continue
            usage = callers.get(names[0])
            if usage is None:
                usage = callers[names[0]] = _Usage(entry.caller)
            usage.caller = entry.caller  # the latest grant wins
            usage.add(entry.outcomes())
        return [usage.record(name, registry) for name, usage in callers.items()]


@dataclass(slots=True)
class _Usage:
    caller: Caller
    methods: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, outcomes: Iterable[tuple[str, str | None]]) -> None:
        for method, error in outcomes:
            counts = self.methods.get(method)
            if counts is None:
                counts = self.methods[method] = {"calls": 0, "errors": {}}
            counts["calls"] += 1
            if error is not None:
                counts["errors"][error] = counts["errors"].get(error, 0) + 1

    def record(self, name: str, registry: Registry) -> dict[str, Any]:
        granted = self.caller.scopes
        used: set[str] = set()
        missing: set[str] = set()
        for method in self.methods:
            spec = registry.get(method)
            if spec is None or spec.scope == BASIC:
                continue
            held = spec.grants & granted
            if held:
                used |= held
            else:
                missing.add(spec.scope)
        return {
            "caller": name,
            "who": caller_record(self.caller),
            "methods": dict(sorted(self.methods.items())),
            "scopes": {
                "granted": sorted(granted),
                "used": sorted(used),
                "unused": sorted(granted - used),
                "missing": sorted(missing),
            },
        }
