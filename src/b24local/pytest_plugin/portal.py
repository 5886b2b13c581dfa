"""What a test holds: the ``b24local`` fixture's portal and its controls.

Everything here goes over HTTP, to the REST API (as the administrator's webhook)
or to the ``--dev`` surface (``/_b24local/...``, with the dev token), so it works
the same against a child process and an in-process server.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from b24local.pytest_plugin.servers import RunningServer


class B24LocalError(AssertionError):
    """A call to the server was refused: the status and the server's own words.

    An ``AssertionError``, so pytest shows it as a failed expectation."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description


class DevApi:
    """The HTTP client of one session: the dev surface and the admin's webhook."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        verify: Any = True
        if server.ca_path is not None:
            import ssl

            verify = ssl.create_default_context(cafile=str(server.ca_path))
        # trust_env=False: no proxy from the environment stands between us and loopback.
        self.http = httpx.Client(
            base_url=server.url,
            verify=verify,
            trust_env=False,
            timeout=30,
        )
        self._token = {"Authorization": f"Bearer {server.dev_token}"}

    def close(self) -> None:
        self.http.close()

    def __call__(
        self,
        verb: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, Any] | None = None,
    ) -> Any:
        """``VERB /_b24local/PATH`` with the dev token; the JSON answer."""
        params = {k: _query_value(v) for k, v in (query or {}).items() if v is not None}
        answer = self.http.request(
            verb, "/_b24local/" + path.lstrip("/"), json=body, params=params,
            headers=self._token,
        )  # fmt: skip
        return _json_or_raise(answer)

    def rest(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """A REST call through the administrator's webhook; its ``result``."""
        # The webhook's code in the path authenticates it.
        answer = self.http.post(self.server.webhook_url + method, json=dict(params or {}))
        return _json_or_raise(answer)["result"]


def _query_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _json_or_raise(answer: httpx.Response) -> Any:
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code >= 400 or not isinstance(body, dict) or "error" in body:
        if isinstance(body, dict):
            error, text = str(body.get("error")), str(body.get("error_description", ""))
        else:
            error, text = "HTTP", answer.text[:500]
        raise B24LocalError(answer.status_code, error, text)
    return body


class Clock:
    """The server's clock: what every method takes as "now"."""

    def __init__(self, dev: DevApi) -> None:
        self._dev = dev

    def _state(self, answer: dict) -> datetime:
        return datetime.fromisoformat(answer["now"])

    def now(self) -> datetime:
        return self._state(self._dev("GET", "clock"))

    @property
    def frozen(self) -> bool:
        return bool(self._dev("GET", "clock")["frozen"])

    def set(self, moment: datetime | str, *, freeze: bool | None = None) -> datetime:
        """Jump to ``moment`` (aware, or ISO 8601 with an offset); ``freeze`` stops
        (True) or restarts (False) the clock there, None keeps it as it is."""
        value = moment.isoformat() if isinstance(moment, datetime) else str(moment)
        body: dict[str, Any] = {"now": value}
        if freeze is not None:
            body["freeze"] = freeze
        return self._state(self._dev("POST", "clock", body))

    def advance(
        self, seconds: float | timedelta = 0, *, minutes: float = 0, hours: float = 0,
        days: float = 0,
    ) -> datetime:  # fmt: skip
        """Move forward: ``advance(90)``, ``advance(timedelta(hours=8))``, ``advance(days=1)``."""
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        step += minutes * 60 + hours * 3600 + days * 86400
        return self._state(self._dev("POST", "clock/advance", {"seconds": step}))

    def freeze(self) -> datetime:
        return self._state(self._dev("POST", "clock", {"freeze": True}))

    def unfreeze(self) -> datetime:
        return self._state(self._dev("POST", "clock", {"freeze": False}))

    def real_time(self) -> datetime:
        """Back to the real time, running: where each test starts."""
        return self._state(self._dev("POST", "clock", {"now": "real"}))


class Faults:
    """Errors the server answers instead of running a method (``/_b24local/faults``)."""

    def __init__(self, dev: DevApi) -> None:
        self._dev = dev

    def add(self, error: str, method: str | None = None, **rule: Any) -> dict:
        """``add("QUERY_LIMIT_EXCEEDED", "user.get", times=2)``: the next two calls of
        ``user.get`` fail with that code. Other keywords (``caller``, ``probability``,
        ``seed``, ``latency``, ``seconds``, ``hang``) go to the server as they are.
        The rule as the server keeps it, with its ``id``."""
        body = {"error": error, **({"method": method} if method else {}), **rule}
        return self._dev("POST", "faults", body)["added"]

    def drop_operating(self, drop: bool = True) -> None:
        """Answers' ``time`` blocks without ``operating`` and ``operating_reset_at``,
        as some real portals answer (until ``drop_operating(False)`` or a reset)."""
        self._dev("PUT", "faults/operating", {"drop": drop})

    def list(self) -> list[dict]:
        return self._dev("GET", "faults")["faults"]

    def remove(self, fault_id: int) -> None:
        self._dev("DELETE", f"faults/{int(fault_id)}")

    def clear(self) -> None:
        self._dev("DELETE", "faults")


class Calls:
    """The call journal: every REST call the server answered, for assertions."""

    #: The most entries one listing asks for (the server pages beyond).
    PAGE = 1000

    def __init__(self, dev: DevApi) -> None:
        self._dev = dev

    def list(
        self,
        method: str | None = None,
        *,
        caller: str | None = None,
        error: str | None = None,
        since: datetime | str | None = None,
        user: int | None = None,
    ) -> list[dict]:
        """The calls, oldest first, filtered by the server: ``method``, ``caller``
        (``webhook:ID``, ``app:CLIENT_ID``, ``user:ID``), ``error`` (a code, or
        ``"any"``), ``since`` (a moment of the server's clock); ``user=5`` is
        ``caller="user:5"``: any call acting for user 5."""
        if user is not None:
            if caller is not None:
                raise TypeError("give user or caller, not both")
            caller = f"user:{int(user)}"
        found: list[dict] = []
        after = None
        while True:
            query = {"method": method, "caller": caller, "error": error, "since": since,
                     "after": after, "limit": self.PAGE}  # fmt: skip
            page = self._dev("GET", "calls", query=query)
            found.extend(page["calls"])
            after = page.get("next")
            if after is None:
                return found

    def clear(self) -> None:
        self._dev("DELETE", "calls")

    def summary(self, caller: str | None = None) -> dict:
        return self._dev("GET", "calls/summary", query={"caller": caller})

    def count(self, method: str | None = None, **match: Any) -> int:
        return len(self.matching(method, **match))

    def matching(
        self,
        method: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        **filters: Any,
    ) -> list[dict]:
        """:meth:`list`, narrowed to calls whose parameters include ``params``
        (values compared as text, as a form-encoded call sends them; keys as in the
        call, e.g. ``{"USER_ID": 5}``)."""
        found = self.list(method, **filters)
        if params:
            found = [c for c in found if _includes(c.get("params") or {}, params)]
        return found

    def assert_called(self, method: str, *, times: int | None = None, **match: Any) -> list[dict]:
        """Fail unless ``method`` was called (``times`` times, when given) with what
        ``match`` says (see :meth:`matching`); the matching calls."""
        found = self.matching(method, **match)
        if (times is None and not found) or (times is not None and len(found) != times):
            wanted = "at least once" if times is None else f"{times} time(s)"
            raise AssertionError(
                f"expected {method}{_describe(match)} to be called {wanted}, "
                f"it was called {len(found)} time(s)\n{self._seen()}"
            )
        return found

    def assert_called_once(self, method: str, **match: Any) -> dict:
        """``calls.assert_called_once("timeman.open", user=5)``: exactly one call of
        ``timeman.open`` acting for user 5; that call."""
        return self.assert_called(method, times=1, **match)[0]

    def assert_not_called(self, method: str, **match: Any) -> None:
        self.assert_called(method, times=0, **match)

    def _seen(self) -> str:
        calls = self.list()
        if not calls:
            return "the journal is empty"
        lines = [f"  {_line(call)}" for call in calls[-20:]]
        more = f" (the last 20 of {len(calls)})" if len(calls) > 20 else ""
        return "calls made" + more + ":\n" + "\n".join(lines)


def _includes(given: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    upper = {str(k).upper(): v for k, v in given.items()}
    for key, value in wanted.items():
        key = str(key).upper()
        if key not in upper or _text(upper[key]) != _text(value):
            return False
    return True


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _text(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [_text(v) for v in value]
    return value


def _describe(match: Mapping[str, Any]) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in match.items() if v is not None)
    return f" ({shown})" if shown else ""


def _line(call: dict) -> str:
    caller = call.get("caller") or {}
    who = caller.get("type", "?") + (f" user {caller['user_id']}" if "user_id" in caller else "")
    outcome = call.get("error") or call.get("status")
    return f"#{call.get('id')} {call.get('method')} by {who}: {outcome} {call.get('params')}"


@dataclass(frozen=True)
class App:
    """An OAuth application installed in the portal, with a token pair for a user:
    what a real portal hands an application on install (``ONAPPINSTALL``'s auth)."""

    client_id: str
    client_secret: str
    access_token: str
    refresh_token: str
    #: ``URL/rest/``: where the application calls methods with ``auth=ACCESS_TOKEN``.
    client_endpoint: str
    #: ``URL/oauth/token/``: where the refresh token is exchanged.
    token_url: str
    #: ``127.0.0.1:PORT``: the portal's domain, as SDKs take it.
    domain: str
    member_id: str
    user_id: int
    scopes: tuple[str, ...]
    expires_in: int


class Portal:
    """A clean portal for one test: the ``b24local`` fixture.

    ``url``, ``webhook_url`` (the administrator's, every scope), ``add_user``,
    ``add_department``, ``clock``, ``faults``, ``calls``, ``snapshot``/``restore``,
    ``add_app``.
    """

    def __init__(self, server: RunningServer, dev: DevApi) -> None:
        self.server = server
        self.dev = dev
        self.clock = Clock(dev)
        self.faults = Faults(dev)
        self.calls = Calls(dev)

    # --- where it is ---------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def webhook_url(self) -> str:
        return self.server.webhook_url

    @property
    def domain(self) -> str:
        """``127.0.0.1:PORT``: what SDKs take as the portal's domain."""
        return self.server.url.split("://", 1)[1]

    @property
    def webhook_token(self) -> str:
        """``1/CODE``: the webhook's path as SDKs take it (b24pysdk's ``webhook_token``)."""
        return self.server.webhook_url.rstrip("/").split("/rest/", 1)[1]

    @property
    def ca_path(self) -> Path | None:
        """The local CA that signed the server's certificate (``--b24local-tls``)."""
        return self.server.ca_path

    @property
    def dev_token(self) -> str:
        return self.server.dev_token

    # --- state -----------------------------------------------------------------------

    def reset(self) -> float:
        """Back to the state right after start (the seed loaded), with the journal,
        faults and limits cleared and the clock at the real time again; the
        milliseconds the server took."""
        took = self.dev("POST", "reset")["ms"]
        self.clock.real_time()
        return took

    def snapshot(self, name: str) -> None:
        self.dev("PUT", f"snapshots/{name}")

    def restore(self, name: str) -> None:
        self.dev("POST", f"snapshots/{name}/restore")

    # --- people ----------------------------------------------------------------------

    def rest(self, method: str, params: Mapping[str, Any] | None = None) -> Any:
        """Call ``method`` as the administrator (through :attr:`webhook_url`); its
        ``result``, or :class:`B24LocalError`."""
        return self.dev.rest(method, params)

    def add_user(
        self,
        name: str = "Emily",
        last_name: str = "Smith",
        *,
        email: str | None = None,
        departments: Iterable[int] = (1,),
        **fields: Any,
    ) -> int:
        """Invite a user (``user.add``) into ``departments``; the new ID. Other
        fields go as they are: ``add_user("Ann", "Lee", WORK_POSITION="Driver")``."""
        if email is None:
            email = f"user{next(_numbers)}@example.test"
        params = {"NAME": name, "LAST_NAME": last_name, "EMAIL": email,
                  "UF_DEPARTMENT": list(departments), **fields}  # fmt: skip
        return int(self.rest("user.add", params))

    def add_department(
        self, name: str, *, parent: int = 1, head: int | None = None, **fields: Any
    ) -> int:
        """Add a department (``department.add``) under ``parent``; the new ID."""
        params: dict[str, Any] = {"NAME": name, "PARENT": parent, **fields}
        if head is not None:
            params["UF_HEAD"] = head
        return int(self.rest("department.add", params))

    # --- applications ----------------------------------------------------------------

    def add_app(
        self, *, scopes: Iterable[str] | None = None, user: int = 1, name: str = "Test application"
    ) -> App:
        """Install an OAuth application (every scope unless ``scopes`` says) and
        issue it a token pair for ``user`` on the server's clock."""
        body: dict[str, Any] = {"name": name}
        if scopes is not None:
            body["scopes"] = list(scopes)
        installed = self.dev("POST", "apps", body)
        return self._app(installed, self.token(installed["client_id"], user))

    def token(self, client_id: str, user: int) -> dict:
        """A fresh token pair of application ``client_id`` for ``user``."""
        return self.dev("POST", "tokens", {"client_id": client_id, "user_id": user})

    def _app(self, installed: dict, pair: dict) -> App:
        return App(
            client_id=installed["client_id"],
            client_secret=installed["client_secret"],
            access_token=pair["access_token"],
            refresh_token=pair["refresh_token"],
            client_endpoint=f"{self.url}/rest/",
            token_url=f"{self.url}/oauth/token/",
            domain=self.domain,
            member_id=pair["member_id"],
            user_id=int(pair["user_id"]),
            scopes=tuple(installed["scopes"]),
            expires_in=int(pair["expires_in"]),
        )


#: Distinct e-mail addresses for users added without one (a portal refuses a second
#: user with the same address).
_numbers = itertools.count(1)
