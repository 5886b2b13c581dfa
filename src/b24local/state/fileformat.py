"""The state file: reading YAML or JSON, checking it whole, writing it back.

:func:`parse` turns a file's data into its *normal form* — every portal, user,
webhook… with each field present, defaults filled in — or refuses it with the
path of the first bad item (``portals[0].users[3].email: ...``). It checks what
can be checked without a database: types, ranges, names that must be unique,
references between items (a head, a webhook's user, a parent department), known
scopes and events. What only the domain rules know (a profile field too long, a
schedule the rules refuse) is checked while loading, in the same transaction, and
reported with the same paths: either way nothing is written.

:func:`dump` writes the normal form, which is also what an export produces, so
export → import → export gives the same text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn

import yaml

from b24local import people, plans
from b24local.admin import AdminError, _app_url, portal_domain
from b24local.events import catalogue
from b24local.oauth.addresses import parse_public_url
from b24local.scopes import build_registry
from b24local.scopes.im.presence import STATUSES

VERSION = 1
#: A state file larger than this is refused unread (a seed of thousands of users
#: is a few megabytes).
MAX_BYTES = 64 * 1024 * 1024
FORMATS = ("yaml", "json")
MAX_ID = 2**31 - 1
PORTAL_STATUSES = ("active", "blocked", "deleted")
#: Webhook codes a file may fix: what fits a URL's path segment unescaped.
CODE = re.compile(r"[A-Za-z0-9_-]{8,64}")
SHA256 = re.compile(r"[0-9a-f]{64}")
CLIENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
APP_TOKEN = re.compile(r"[0-9a-f]{32}")
SETTING_NAMES = ("tracking", "free", "max_start", "min_finish", "min_duration", "allowed_delta")


class StateError(ValueError):
    """A state file that cannot be loaded; the message starts with the bad item's path."""


def format_of(path: Path, given: str | None = None) -> str:
    """``yaml`` or ``json``: as given, else by the file's extension."""
    if given:
        if given not in FORMATS:
            raise StateError(f"format is yaml or json, not {given!r}")
        return given
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    raise StateError(f"{path}: a state file ends in .yaml, .yml or .json")


def read(path: Path) -> dict[str, Any]:
    """The file's data, in normal form."""
    kind = format_of(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise StateError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise StateError(f"cannot read {path}: {error}") from None
    return parse(loads(text, kind, str(path)))


def loads(text: str, kind: str, name: str = "the state file") -> Any:
    try:
        # The safe loader builds plain values only: no tags that run code.
        value = (
            json.loads(text, parse_int=_whole_number)
            if kind == "json"
            else yaml.load(text, Loader=_Loader)
        )
        _check_strings(value)
        return value
    except (ValueError, yaml.YAMLError, RecursionError) as error:
        # ValueError: besides JSON's own errors, a value the parser could read but
        # not build (an int of more than 4,300 digits, YAML's 2026-13-45 or
        # ``!!float abc``), which PyYAML lets out as it is.
        raise StateError(f"{name} is not valid {kind.upper()}: {error}") from None


def _check_strings(value: Any) -> None:
    """Refuse a string no store can hold: a lone surrogate, which both formats can
    spell as an escape (``"\\ud800"``) and no UTF-8 encoder takes."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                raise ValueError(f"{value[:40]!r} holds a lone surrogate") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


#: The most digits a whole number in a state file may have: Python's own default
#: bound, kept here whatever the process has set (converting a long one is slow).
MAX_DIGITS = 4300


def _whole_number(text: str) -> int:
    if len(text.lstrip("+-")) > MAX_DIGITS:
        raise ValueError(f"a number of more than {MAX_DIGITS:,} digits")
    return int(text)


class _Loader(yaml.SafeLoader):
    """The safe loader without aliases: ``*a`` repeats a value, and a few nested ones
    make a file of a few lines into billions of items to check."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not taken in a state file", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_yaml_int(self, node: Any) -> int:
        if len(str(node.value)) > MAX_DIGITS:
            raise ValueError(f"a number of more than {MAX_DIGITS:,} digits")
        return super().construct_yaml_int(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def dump(state: Mapping[str, Any], kind: str) -> str:
    """The normal form as text: keys in the order the format documents them."""
    if kind == "json":
        return json.dumps(state, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(state, sort_keys=False, allow_unicode=True, default_flow_style=False)


# --- checking ----------------------------------------------------------------------------


class _At:
    """A value with the path that leads to it, for messages."""

    __slots__ = ("path", "value")

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path

    def fail(self, message: str) -> NoReturn:
        raise StateError(f"{self.path or 'the file'}: {message}")

    def mapping(self, *allowed: str) -> dict[str, Any]:
        """The value as a mapping of ``allowed`` names; left out (null): empty."""
        if self.value is None:
            return {}
        if not isinstance(self.value, dict):
            self.fail("expected a mapping of names to values")
        unknown = sorted(str(k) for k in self.value if k not in allowed)
        if unknown:
            self.fail(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(allowed)}")
        return self.value

    def at(self, index: int, name: str) -> _At:
        """Where item ``index``'s field ``name`` is (for a message about it)."""
        return _At(None, f"{self.path}[{index}].{name}")

    def key(self, name: str) -> _At:
        body = self.value if isinstance(self.value, dict) else {}
        return _At(body.get(name), f"{self.path}.{name}" if self.path else name)

    def items(self, *, limit: int = 100_000) -> Iterator[_At]:
        if self.value is None:
            return
        if not isinstance(self.value, list):
            self.fail("expected a list")
        if len(self.value) > limit:
            self.fail(f"more than {limit} items")
        for index, item in enumerate(self.value):
            yield _At(item, f"{self.path}[{index}]")

    def text(
        self, default: str | None = "", *, limit: int = 255, pattern: re.Pattern[str] | None = None
    ) -> str:
        value = self.value
        if value is None:
            if default is None:
                self.fail("required")
            return default
        if isinstance(value, date):  # YAML reads an unquoted date itself
            value = value.isoformat()
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail("expected text")
        text = str(value)
        if len(text) > limit:
            self.fail(f"longer than {limit} characters")
        if "\x00" in text:
            self.fail("a NUL character cannot be stored")
        if pattern is not None and not pattern.fullmatch(text):
            self.fail(f"{text[:80]!r} does not have the expected form")
        return text

    def optional_text(
        self, *, limit: int = 255, pattern: re.Pattern[str] | None = None
    ) -> str | None:
        return None if self.value is None else self.text(limit=limit, pattern=pattern)

    def whole(self, default: int | None = None, *, low: int = 1, high: int = MAX_ID) -> int:
        value = self.value
        if value is None:
            if default is None:
                self.fail("required")
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(f"expected a whole number from {low} to {high}")
        return value

    def optional_whole(self, *, low: int = 1, high: int = MAX_ID) -> int | None:
        return None if self.value is None else self.whole(low=low, high=high)

    def flag(self, default: bool) -> bool:
        if self.value is None:
            return default
        if not isinstance(self.value, bool):
            self.fail("expected true or false")
        return self.value

    def number(self) -> float | None:
        value = self.value
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            self.fail("expected a number greater than 0")
        if value > 1e9:
            self.fail("too large")
        return float(value)

    def choice(self, options: tuple[str, ...], default: str) -> str:
        text = self.text(default)
        if text not in options:
            self.fail(f"one of {', '.join(options)}, not {text[:80]!r}")
        return text

    def moment(self, *, required: bool = True) -> str | None:
        """An ISO 8601 moment with an offset, written back in UTC."""
        value = self.value
        if value is None:
            if required:
                self.fail("required")
            return None
        if isinstance(value, datetime):  # YAML reads timestamps itself
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(self.text(None, limit=64))
            except ValueError:
                self.fail("expected a moment like 2026-03-02T09:00:00+01:00")
        if moment.tzinfo is None:
            self.fail("give the moment's offset (Z or +01:00): a moment without one is ambiguous")
        if not 1971 <= moment.year <= 9998:
            self.fail("a moment from 1971 to 9998")
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def day(self) -> str | None:
        value = self.value
        if value is None:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value.isoformat()
        try:
            return date.fromisoformat(self.text(None, limit=10)).isoformat()
        except ValueError:
            self.fail("expected a date like 2026-12-31")

    def ids(self, *, limit: int = 10_000) -> list[int]:
        found = [item.whole() for item in self.items(limit=limit)]
        if len(set(found)) != len(found):
            self.fail("an ID is listed twice")
        return found


def _unique(items: list[dict[str, Any]], key: str, where: _At, what: str, *, fold: bool = False):
    seen: set[Any] = set()
    for index, item in enumerate(items):
        value = item[key]
        if value is None:
            continue
        marker = value.lower() if fold and isinstance(value, str) else value
        if marker in seen:
            raise StateError(f"{where.path}[{index}].{key}: another {what} has {value!r}")
        seen.add(marker)


def _scopes(at: _At) -> list[str]:
    known = set(build_registry().scopes())
    found = sorted({item.text(None, limit=64) for item in at.items(limit=100)})
    unknown = [s for s in found if s not in known]
    if unknown:
        at.fail(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return found


def parse(data: Any) -> dict[str, Any]:
    """The normal form of a state file's data, or :class:`StateError`."""
    root = _At(data, "")
    body = root.mapping("version", "portals")
    if body.get("version") != VERSION:
        root.key("version").fail(f"this b24local reads state files of version {VERSION}")
    portals_at = root.key("portals")
    portals = [_portal(at) for at in portals_at.items(limit=1000)]
    if not portals:
        portals_at.fail("give at least one portal")
    _unique(portals, "domain", portals_at, "portal", fold=True)
    _unique(portals, "member_id", portals_at, "portal")
    defaults = [p for p in portals if p["default"]]
    if len(portals) == 1 and not defaults:
        portals[0]["default"] = True
    elif len(defaults) != 1:
        portals_at.fail("exactly one portal is the default (default: true)")
    default = next(i for i, p in enumerate(portals) if p["default"])
    if not any(u["admin"] and u["active"] for u in portals[default]["users"]):
        portals_at.fail(f"[{default}].users: the default portal needs an active administrator")
    everywhere = [(i, w) for i, p in enumerate(portals) for w in p["webhooks"]]
    _check_global(portals_at, everywhere, portals)
    return {"version": VERSION, "portals": portals}


def _check_global(at: _At, hooks: list[tuple[int, dict]], portals: list[dict]) -> None:
    """What must be unique across portals: webhook IDs and codes, client IDs."""
    seen_ids: set[int] = set()
    seen_codes: set[str] = set()
    for index, hook in hooks:
        where = f"{at.path}[{index}].webhooks"
        if hook["id"] is not None:
            if hook["id"] in seen_ids:
                raise StateError(f"{where}: webhook ID {hook['id']} is used twice")
            seen_ids.add(hook["id"])
        code = hook.get("code") or hook.get("code_sha256")
        if code in seen_codes:
            raise StateError(f"{where}: a webhook code is used twice")
        seen_codes.add(code)
    clients = [(i, a["client_id"]) for i, p in enumerate(portals) for a in p["apps"]]
    seen: set[str] = set()
    for index, client_id in clients:
        if client_id in seen:
            raise StateError(f"{at.path}[{index}].apps: client_id {client_id!r} is used twice")
        seen.add(client_id)


def _portal(at: _At) -> dict[str, Any]:
    at.mapping(
        "domain", "default", "plan", "status", "time_zone", "member_id", "public_url",
        "rate_threshold", "rate_drain", "departments", "users", "webhooks", "apps", "timeman",
        "workdays", "presence",
    )  # fmt: skip
    domain_at = at.key("domain")
    try:
        domain = portal_domain(domain_at.text(None))
    except AdminError as error:
        domain_at.fail(str(error))
    portal: dict[str, Any] = {
        "domain": domain,
        "default": at.key("default").flag(False),
        "plan": at.key("plan").choice(plans.KNOWN, plans.DEFAULT),
        "status": at.key("status").choice(PORTAL_STATUSES, "active"),
        "time_zone": _zone(at.key("time_zone"), "UTC"),
        "member_id": at.key("member_id").optional_text(limit=64, pattern=CLIENT_ID),
        "public_url": _public_url(at.key("public_url")),
        "rate_threshold": at.key("rate_threshold").number(),
        "rate_drain": at.key("rate_drain").number(),
    }
    departments = _departments(at.key("departments"))
    portal["departments"] = departments
    known_departments = {d["id"] for d in departments}
    root = next(d["id"] for d in departments if d["parent"] is None)
    users_at = at.key("users")
    users = [_user(u, known_departments, root) for u in users_at.items()]
    _unique(users, "id", users_at, "user")
    _unique([{"email": u["email"] or None} for u in users], "email", users_at, "user", fold=True)
    portal["users"] = users
    known_users = {u["id"] for u in users}
    for index, department in enumerate(departments):
        if department["head"] is not None and department["head"] not in known_users:
            at.key("departments").at(index, "head").fail(f"no user {department['head']} in users")
    portal["webhooks"] = [_webhook(w, known_users) for w in at.key("webhooks").items()]
    portal["apps"] = [_app(a, known_users) for a in at.key("apps").items(limit=10_000)]
    portal["timeman"] = _timeman(at.key("timeman"), known_users)
    portal["workdays"] = [_workday(w, known_users) for w in at.key("workdays").items()]
    presence_at = at.key("presence")
    presence = [_presence(p, known_users) for p in presence_at.items()]
    _unique(presence, "user", presence_at, "presence entry")
    portal["presence"] = presence
    return portal


def _zone(at: _At, default: str) -> str:
    zone = at.text(default, limit=64)
    if zone and zone not in people._zones():
        at.fail(f"unknown time zone {zone!r}")
    return zone


def _public_url(at: _At) -> str | None:
    text = at.optional_text(limit=2048)
    if text is None:
        return None
    try:
        return parse_public_url(text)
    except ValueError as error:
        at.fail(str(error))


def _departments(at: _At) -> list[dict[str, Any]]:
    found = []
    for item in at.items():
        item.mapping("id", "name", "parent", "head", "sort")
        found.append({
            "id": item.key("id").whole(),
            "name": item.key("name").text(None),
            "parent": item.key("parent").optional_whole(),
            "head": item.key("head").optional_whole(),
            "sort": item.key("sort").whole(500, low=0),
        })  # fmt: skip
    if not found:
        # Every portal has its top-level department; a file may leave it implied.
        return [{"id": 1, "name": "Company", "parent": None, "head": None, "sort": 500}]
    _unique(found, "id", at, "department")
    ids = {d["id"] for d in found}
    roots = [i for i, d in enumerate(found) if d["parent"] is None]
    if len(roots) != 1:
        at.fail("exactly one department has no parent (the top-level one)")
    parents = {d["id"]: d["parent"] for d in found}
    for index, department in enumerate(found):
        if department["parent"] is not None and department["parent"] not in ids:
            at.at(index, "parent").fail(f"no department {department['parent']}")
        seen, current = set(), department["id"]
        while current is not None:
            if current in seen:
                at.at(index, "parent").fail("the departments form a loop")
            seen.add(current)
            current = parents[current]
    return found


#: Fields a user names outside ``fields``.
_OWN = {"NAME", "LAST_NAME", "EMAIL", "ACTIVE", "UF_DEPARTMENT"}


def _user(at: _At, known_departments: set[int], root: int) -> dict[str, Any]:
    at.mapping(
        "id", "name", "last_name", "email", "admin", "active", "extranet", "departments",
        "fields", "password", "password_hash", "timeman",
    )  # fmt: skip
    extranet = at.key("extranet").flag(False)
    departments_at = at.key("departments")
    member_of = departments_at.ids()
    if departments_at.value is None and not extranet:
        member_of = [root]
    for department_id in member_of:
        if department_id not in known_departments:
            departments_at.fail(f"no department {department_id} in departments")
    if extranet and member_of:
        departments_at.fail("an extranet user belongs to no department")
    email_at = at.key("email")
    email = email_at.text("").strip()
    if email and not people.valid_email(email, local=True):
        email_at.fail(f"{email[:80]!r} is not an e-mail address")
    fields_at = at.key("fields")
    fields: dict[str, str] = {}
    if fields_at.value is not None:
        for name in fields_at.mapping(*sorted(people.PROFILE_NAMES - _OWN)):
            fields[name] = fields_at.key(name).text("", limit=people.PROSE_LENGTH)
    password = at.key("password").optional_text(limit=1024)
    hashed = at.key("password_hash").optional_text(limit=512)
    if password is not None and hashed is not None:
        at.fail("give password or password_hash, not both")
    if password == "":
        at.key("password").fail("a password cannot be empty")
    if hashed is not None and not hashed.startswith("scrypt$"):
        at.key("password_hash").fail("expected a hash as b24local exports it (scrypt$...)")
    return {
        "id": at.key("id").whole(),
        "name": at.key("name").text(""),
        "last_name": at.key("last_name").text(""),
        "email": email,
        "admin": at.key("admin").flag(False),
        "active": at.key("active").flag(True),
        "extranet": extranet,
        "departments": member_of,
        "fields": dict(sorted(fields.items())),
        "password": password,
        "password_hash": hashed,
        "timeman": _settings(at.key("timeman")),
    }


def _webhook(at: _At, known_users: set[int]) -> dict[str, Any]:
    at.mapping("id", "user", "code", "code_sha256", "scopes", "title")
    user_at = at.key("user")
    user = user_at.whole()
    if user not in known_users:
        user_at.fail(f"no user {user} in users")
    hook: dict[str, Any] = {"id": at.key("id").optional_whole(), "user": user}
    code = at.key("code").optional_text(pattern=CODE)
    hashed = at.key("code_sha256").optional_text(pattern=SHA256)
    if (code is None) == (hashed is None):
        at.fail("give the webhook's code (8 to 64 of A-Z a-z 0-9 _ -) or its code_sha256")
    if code is not None:
        hook["code"] = code
    else:
        hook["code_sha256"] = hashed
    hook["scopes"] = _scopes(at.key("scopes"))
    hook["title"] = at.key("title").text("")
    return hook


def _url(at: _At, what: str) -> str:
    try:
        return _app_url(at.text("", limit=2048), what)
    except AdminError as error:
        at.fail(str(error))


def _app(at: _At, known_users: set[int]) -> dict[str, Any]:
    at.mapping(
        "client_id", "client_secret", "client_secret_sha256", "name", "scopes", "redirect_uri",
        "handler", "users", "version", "paid_until", "application_token", "options",
        "user_options", "events",
    )  # fmt: skip
    app: dict[str, Any] = {"client_id": at.key("client_id").text(None, pattern=CLIENT_ID)}
    secret = at.key("client_secret").optional_text(pattern=CODE)
    hashed = at.key("client_secret_sha256").optional_text(pattern=SHA256)
    if (secret is None) == (hashed is None):
        at.fail("give the client_secret (8 to 64 of A-Z a-z 0-9 _ -) or its client_secret_sha256")
    if secret is not None:
        app["client_secret"] = secret
    else:
        app["client_secret_sha256"] = hashed
    name = at.key("name").text(None).strip()
    if not name:
        at.key("name").fail("the application needs a name")
    users_at = at.key("users")
    allowed = None if users_at.value is None else users_at.ids()
    for user_id in allowed or ():
        if user_id not in known_users:
            users_at.fail(f"no user {user_id} in users")
    app |= {
        "name": name,
        "scopes": _scopes(at.key("scopes")),
        "redirect_uri": _url(at.key("redirect_uri"), "redirect URI"),
        "handler": _url(at.key("handler"), "handler"),
        "users": allowed,
        "version": at.key("version").whole(1),
        "paid_until": at.key("paid_until").day(),
        "application_token": at.key("application_token").optional_text(pattern=APP_TOKEN),
        "options": _options(at.key("options")),
    }
    user_options_at = at.key("user_options")
    if not isinstance(user_options_at.value, dict | None):
        user_options_at.fail("expected a mapping of user IDs to options")
    user_options: dict[int, Any] = {}
    for raw_id in user_options_at.value or {}:
        key_at = user_options_at.key(raw_id)
        if not (isinstance(raw_id, int) or (isinstance(raw_id, str) and raw_id.isdigit())):
            key_at.fail("a user ID is expected as the key")
        user_id = int(raw_id)
        if user_id not in known_users:
            key_at.fail(f"no user {user_id} in users")
        user_options[user_id] = _options(key_at)
    app["user_options"] = {k: user_options[k] for k in sorted(user_options)}
    app["events"] = [_binding(e, known_users) for e in at.key("events").items(limit=1000)]
    return app


def _options(at: _At) -> dict[str, Any]:
    """App options as ``app.option.set`` keeps them: names to JSON values."""
    if at.value is None:
        return {}
    if not isinstance(at.value, dict) or not all(isinstance(k, str) for k in at.value):
        at.fail("expected a mapping of option names to values")
    try:
        encoded = json.dumps(at.value, ensure_ascii=False)
    except (TypeError, ValueError):
        at.fail("options are JSON values (text, numbers, lists, mappings)")
    if len(encoded) > 1_000_000:
        at.fail("more than a megabyte of options")
    return json.loads(encoded)


def _binding(at: _At, known_users: set[int]) -> dict[str, Any]:
    at.mapping("event", "handler", "user", "auth_type", "offline", "connector")
    event_at = at.key("event")
    event = event_at.text(None).upper()
    if not catalogue.known(event):
        event_at.fail(f"unknown event {event!r}")
    user = at.key("user").whole()
    if user not in known_users:
        at.key("user").fail(f"no user {user} in users")
    offline = at.key("offline").flag(False)
    handler = "" if offline else _url(at.key("handler"), "handler")
    if not offline and not handler:
        at.key("handler").fail("an online binding needs a handler URL")
    return {
        "event": event,
        "handler": handler,
        "user": user,
        "auth_type": at.key("auth_type").whole(0, low=0),
        "offline": offline,
        "connector": at.key("connector").text(""),
    }


def _clock(at: _At) -> str | None:
    """``HH:MM[:SS]`` within a day, written back as ``HH:MM:SS``."""
    if at.value is None:
        return None
    text = at.text(None, limit=10)
    parts = text.split(":")
    if len(parts) in (2, 3) and all(p.isascii() and p.isdigit() for p in parts):
        h, m, s = (int(p) for p in [*parts, "0"][:3])
        if h < 24 and m < 60 and s < 60:
            return f"{h:02d}:{m:02d}:{s:02d}"
    at.fail(f"expected HH:MM or HH:MM:SS, not {text[:20]!r}")


def _settings(at: _At) -> dict[str, Any]:
    """Work-time settings (``timeman.settings``); those left out are inherited."""
    if at.value is None:
        return {}
    at.mapping(*SETTING_NAMES)
    found: dict[str, Any] = {}
    for name in ("tracking", "free"):
        if at.key(name).value is not None:
            found[name] = at.key(name).flag(True)
    for name in ("max_start", "min_finish", "min_duration", "allowed_delta"):
        value = _clock(at.key(name))
        if value is not None:
            found[name] = value
    return {name: found[name] for name in SETTING_NAMES if name in found}


def _timeman(at: _At, known_users: set[int]) -> dict[str, Any]:
    at.mapping("settings", "networks", "timecontrol", "schedules")
    networks = []
    for item in at.key("networks").items(limit=1000):
        item.mapping("range", "name")
        networks.append({
            "range": item.key("range").text(None, limit=100),
            "name": item.key("name").text("", limit=1000),
        })  # fmt: skip
    control_at = at.key("timecontrol")
    control = dict(control_at.value or {}) if isinstance(control_at.value, dict | None) else None
    if control is None:
        control_at.fail("expected a mapping of timeman.timecontrol.settings.set's names")
    schedules_at = at.key("schedules")
    schedules = []
    for item in schedules_at.items(limit=1000):
        if not isinstance(item.value, dict):
            item.fail("expected a schedule as `b24local schedule load` takes it")
        schedules.append(item.value)
    return {
        "settings": _settings(at.key("settings")),
        "networks": networks,
        "timecontrol": control,
        "schedules": schedules,
    }


def _workday(at: _At, known_users: set[int]) -> dict[str, Any]:
    at.mapping("user", "opened", "pauses", "closed")
    user = at.key("user").whole()
    if user not in known_users:
        at.key("user").fail(f"no user {user} in users")
    opened = at.key("opened").moment()
    pauses = []
    for item in at.key("pauses").items(limit=1000):
        if not isinstance(item.value, list) or len(item.value) != 2:
            item.fail("a pause is [start, end] (end null while it goes on)")
        start = _At(item.value[0], f"{item.path}[0]").moment()
        end = _At(item.value[1], f"{item.path}[1]").moment(required=False)
        pauses.append([start, end])
    closed = at.key("closed").moment(required=False)
    moments = [opened] + [m for pause in pauses for m in pause if m is not None]
    if closed is not None:
        moments.append(closed)
    times = [moment_of(m) for m in moments]
    if times != sorted(times):
        at.fail("the moments must follow one another: opened, each pause's start and end, closed")
    if any(pause[1] is None for pause in pauses[:-1]) or (
        pauses and pauses[-1][1] is None and closed is not None
    ):
        at.fail("only the last pause of a day still open may go on (end null)")
    return {"user": user, "opened": opened, "pauses": pauses, "closed": closed}


def _presence(at: _At, known_users: set[int]) -> dict[str, Any]:
    at.mapping("user", "status")
    user = at.key("user").whole()
    if user not in known_users:
        at.key("user").fail(f"no user {user} in users")
    return {"user": user, "status": at.key("status").choice(STATUSES, "online")}


def moment_of(text: str) -> datetime:
    """A normal form's moment as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
