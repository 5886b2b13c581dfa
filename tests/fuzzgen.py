"""A seeded generator of hostile HTTP requests for the fuzz test (tests/clients/test_fuzz.py).

``make_case(seed, index, targets)`` builds request ``index`` of run ``seed`` from a
``random.Random`` of its own, so any request of a run can be rebuilt alone. Most
requests start as a valid call of an implemented method (or of batch, the OAuth
endpoints, the dev surface) and are then mutated: parameters of the wrong type,
impossible values, odd encodings, broken bodies, the wrong HTTP method.
"""

from __future__ import annotations

import copy
import json
import random
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

# A 5,000-digit integer must be printable by the test itself.
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)

HTTP_METHODS = ("GET", "POST")
ODD_HTTP_METHODS = ("PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")


@dataclass
class Targets:
    """What a run aims at: credentials and names learnt from the servers."""

    webhook: str  # "/rest/1/CODE/"
    narrow_webhook: str  # a webhook with the im scope only
    user_webhook: str  # a webhook of a user who is no administrator
    access_token: str
    refresh_token: str
    client_id: str
    client_secret: str
    dev_token: str
    methods: list[str]
    user_ids: list[int]
    login: str
    password: str
    #: Methods REST 3.0 answers on /rest/api/ (its OpenAPI document lists them).
    v3_methods: list[str] = field(default_factory=lambda: list(V3_TEMPLATES))


@dataclass
class Case:
    """One request, and how to read its answer."""

    index: int
    http_method: str
    raw_path: bytes  # path and query, exactly as sent
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    #: "rest" (Bitrix JSON/XML), "rest3" (REST 3.0: JSON, errors as objects),
    #: "oauth" (JSON), "page" (the log-in page: HTML or JSON), "dev" (JSON).
    kind: str = "rest"
    xml: bool = False
    #: Send the body in chunks, without a Content-Length.
    chunked: bool = False
    note: str = ""

    def describe(self, limit: int = 1500) -> str:
        """A curl command line that repeats the request (bodies cut at ``limit``)."""
        parts = [f"curl -k -X {self.http_method} 'https://HOST{self.raw_path.decode('latin-1')}'"]
        parts += [f"-H '{k}: {v}'" for k, v in self.headers.items()]
        if self.chunked:
            parts.append("-H 'Transfer-Encoding: chunked'")
        if self.body is not None:
            shown = repr(self.body[:limit]) + ("…" if len(self.body) > limit else "")
            parts.append(f"--data-binary {shown} ({len(self.body)} bytes)")
        return f"[case {self.index}: {self.note}] " + " ".join(parts)


# --- values ----------------------------------------------------------------------------

HUGE_DIGITS = "9" * 5000
DATES = [
    "2026-03-02T09:00:00+00:00",
    "2026-03-02T08:00:00+01:00",
    "2026-02-30T10:00:00+00:00",
    "2026-13-01T10:00:00+00:00",
    "2026-03-02T25:61:61+00:00",
    "2026-03-02T09:00:00+99:99",
    "2026-03-02T09:00:00.123456+00:00",
    "2026-03-02T09:00:00Z",
    "2026-03-02T09:00:00+0100",
    "2026-03-02 09:00:00",
    "0000-01-01T00:00:00+00:00",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59-23:59",
    "9999-12-31T23:59:59+23:59",
    "99999-01-01T00:00:00+00:00",
    "2026-03-29T02:30:00+01:00",
    "2026-03-29T00:59:59+00:00",
    "2026-10-25T00:59:59+00:00",
    "9998-12-31T23:59:59+00:00",
    "1970-01-01T00:00:00+00:00",
    "1970-01-01T00:00:00+14:00",
    "-2026-03-02T09:00:00+00:00",
    "2026-03-02",
    "09:00",
    "now",
    "1772442000",
]
STRINGS = [
    "",
    " ",
    "abc",
    "12abc",
    " 5",
    "0x1A",
    "1e3",
    "-0",
    "+7",
    "00000000001",
    "Jörg Ærø",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 🙂",
    "\u202eRTL",
    "'; DROP TABLE users; --",
    "<xml>&amp;</xml>",
    "]]>",
    "%00",
    "$result[a]",
    "$result[a][ID]",
    "$result_total[a]",
    "$result_next[a]",
    "Y",
    "N",
    "true",
    "false",
    "null",
    "Array",
    "NaN",
    "INF",
    "-INF",
    "1e300",
    "-1e300",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "2147483648",
    "-2147483649",
    "\x00",
    "a\x00b",
    "\r\n",
    "x" * 6000,
    "online",
    "dnd",
    "away",
    "offline",
    "break",
    "idle",
]
NUMBERS: list[Any] = [
    0,
    1,
    -1,
    2,
    3,
    50,
    -50,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**53 + 1,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    2**64,
    10**30,
    -(10**30),
    0.5,
    -0.0,
    1e-300,
    1e300,
    -1e300,
    1.7976931348623157e308,
]


def scalar(rnd: random.Random) -> Any:
    roll = rnd.random()
    if roll < 0.35:
        return rnd.choice(NUMBERS)
    if roll < 0.7:
        return rnd.choice(STRINGS)
    if roll < 0.85:
        return rnd.choice(DATES)
    if roll < 0.9:
        return rnd.choice([True, False, None])
    if roll < 0.95:
        return int(HUGE_DIGITS[: rnd.choice([19, 20, 40, 309, 310, 4300, 4301, 5000])])
    return rnd.randint(-(10**6), 10**6)


def value(rnd: random.Random, depth: int = 0) -> Any:
    """A value of a random type: scalar, list or map, sometimes nested."""
    roll = rnd.random()
    if depth > 3 or roll < 0.7:
        return scalar(rnd)
    if roll < 0.85:
        return [value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))]
    return {rnd.choice(KEYS): value(rnd, depth + 1) for _ in range(rnd.randint(0, 4))}


def deep(rnd: random.Random, levels: int) -> Any:
    inner: Any = scalar(rnd)
    for _ in range(levels):
        inner = [inner] if rnd.random() < 0.5 else {"a": inner}
    return inner


KEYS = [
    "ID",
    "id",
    "USER_ID",
    "TIME",
    "REPORT",
    "LAT",
    "LON",
    "STATUS",
    "AGO",
    "FILTER",
    "SORT",
    "ORDER",
    "start",
    "START",
    "SELECT",
    "ADMIN_MODE",
    "NAME",
    "LAST_NAME",
    "EMAIL",
    "ACTIVE",
    "UF_DEPARTMENT",
    "IS_ONLINE",
    "LAST_ACTIVITY_DATE",
    "PERSONAL_BIRTHDAY",
    "UF_EMPLOYMENT_DATE",
    "NAME_SEARCH",
    ">ID",
    "<ID",
    "!ID",
    ">=DATE_REGISTER",
    "%NAME",
    "PARENT",
    "UF_HEAD",
    "sort",
    "order",
    "scope",
    "full",
    "name",
    "ACCESS",
    "CODE",
    "halt",
    "cmd",
    "auth",
    "FORMAT",
    "ÄÖÜ",
    "",
    "a b",
    "a.b",
    "0",
    "00",
    "-1",
    "1e3",
    "FILTER[ID]",
    "ID[]",
    "cmd[a]",
    "a]b[",
    "MONTH",
    "YEAR",
    "IDLE_MINUTES",
    "WORKDAY_HOURS",
    "REPORT_ID",
    "TEXT",
    "TYPE",
    "CALENDAR",
    "DEPARTMENT_ID",
    "MINIMUM_IDLE_FOR_REPORT",
    "REGISTER_IDLE",
    "REPORT_FULL_TYPE",
    "REPORT_FULL_USERS",
    "event",
    "handler",
    "auth_type",
    "event_type",
    "auth_connector",
    "options",
    "SCOPE",
    "FULL",
]

#: A valid call of each method: a starting point to mutate.
TEMPLATES: dict[str, list[dict[str, Any]]] = {
    "im.user.get": [{}, {"ID": 1}],
    "im.user.list.get": [{"ID": [1, 2]}],
    "im.user.status.get": [{}],
    "im.user.status.set": [{"STATUS": "dnd"}, {"STATUS": "online"}],
    "im.user.status.idle.start": [{"AGO": 5}],
    "im.user.status.idle.end": [{}],
    "timeman.status": [{}, {"USER_ID": 1}],
    "timeman.settings": [{}, {"USER_ID": 1}],
    "timeman.open": [{}, {"USER_ID": 1, "TIME": DATES[0], "REPORT": "late"}],
    "timeman.pause": [{}],
    "timeman.close": [{}, {"TIME": DATES[0], "REPORT": "done", "LAT": 53.5, "LON": 9.9}],
    "timeman.schedule.get": [{"id": 1}, {"ID": "1"}, {"id": [1]}],
    "timeman.timecontrol.settings.get": [{}],
    "timeman.timecontrol.settings.set": [
        {"ACTIVE": 1, "REGISTER_IDLE": "Y", "MINIMUM_IDLE_FOR_REPORT": 15},
        {"REPORT_SIMPLE_TYPE": "user", "REPORT_SIMPLE_USERS": [1, 2], "ACTIVE": 0},
    ],
    "timeman.timecontrol.reports.settings.get": [{}],
    "timeman.timecontrol.reports.users.get": [{}, {"DEPARTMENT_ID": 1}],
    "timeman.timecontrol.reports.get": [
        {"USER_ID": 1, "MONTH": 3, "YEAR": 2026},
        {"USER_ID": 1, "MONTH": 12, "YEAR": 2025, "IDLE_MINUTES": 5, "WORKDAY_HOURS": 6},
    ],
    "timeman.timecontrol.report.add": [
        {"REPORT_ID": 1, "TEXT": "lunch", "TYPE": "PRIVATE", "CALENDAR": "N"},
        {"ID": 1, "USER_ID": 1, "TEXT": "client call", "TYPE": "WORK"},
    ],
    "user.get": [{}, {"FILTER": {"ID": 1}}, {"sort": "ID", "order": "DESC", "start": 0}],
    "user.current": [{}],
    "user.fields": [{}],
    "user.search": [{"FIND": "adm"}, {"FILTER": {"NAME": "Ad", "UF_DEPARTMENT_NAME": "Co"}}],
    "user.add": [
        {"EMAIL": "fuzz@example.com", "UF_DEPARTMENT": [1], "PERSONAL_BIRTHDAY": "1990-01-31"},
        {"EMAIL": "guest@example.com", "EXTRANET": "Y", "SONET_GROUP_ID": [1]},
        # The source key of a change, heard by offline handlers bound with another one.
        {"EMAIL": "sync@example.com", "UF_DEPARTMENT": [1], "auth_connector": "sync"},
    ],
    "user.update": [
        # User 2, never the administrator behind the webhook, and never ACTIVE: a
        # dismissed caller would turn the rest of the run into refusals.
        {"ID": 2, "WORK_COMPANY": "Acme", "TIME_ZONE": "Europe/Berlin", "UF_DEPARTMENT": 1},
        {"ID": 2, "PERSONAL_BIRTHDAY": "2000-02-29", "PERSONAL_GENDER": "F", "UF_SKILLS": "x"},
    ],
    "department.get": [{}, {"ID": 1}, {"sort": "NAME", "order": "DESC", "PARENT": 1}],
    "department.fields": [{}],
    "department.add": [
        {"NAME": "Sales", "PARENT": 1},
        {"NAME": "East", "PARENT": 1, "SORT": 100, "UF_HEAD": 1},
        {"NAME": "Top"},
    ],
    "department.update": [
        {"ID": 2, "NAME": "Renamed"},
        {"ID": 2, "PARENT": 1, "SORT": 20, "UF_HEAD": 1},
        {"ID": 1, "PARENT": 2},
        {"ID": 2, "UF_HEAD": 0},
    ],
    "department.delete": [{"ID": 2}, {"ID": 1}, {"ID": 3}],
    "methods": [{}, {"full": True}, {"scope": "im"}],
    "method.get": [{"name": "im.user.get"}],
    "scope": [{}, {"full": True}],
    "server.time": [{}],
    "profile": [{}],
    "app.info": [{}],
    "app.option.get": [{}, {"option": "mode"}, {"option": ["mode"]}],
    "app.option.set": [
        {"options": {"mode": "on", "n": 5, "deep": {"a": [1, 2]}}},
        {"options": ["x", "y"]},
        {"mode": "bare"},
    ],
    "user.option.get": [{}, {"option": "theme"}, {"option": 0}],
    "user.option.set": [
        {"options": {"theme": "dark", "size": 12.5, "flags": [True, None]}},
        {"options": {"": "empty name", "x" * 300: "long name"}},
    ],
    "user.admin": [{}],
    "user.access": [{"ACCESS": ["G2", "AU"]}, {"ACCESS": ["U1", "D1", "DR1", "G1"]}],
    "access.name": [
        {"ACCESS": ["G2", "AU", "U1", "D1", "DR1"]},
        {"ACCESS": []},
        {"ACCESS": ["U" + "9" * 5000, "DR0001"]},
    ],
    "feature.get": [{"CODE": "rest_offline_extended"}, {"CODE": "rest_auth_connector"}],
    "event.offline.get": [
        {},
        {"clear": 0, "limit": 5, "error": 1, "auth_connector": "sync"},
        {
            "filter": {">=ID": 1, "EVENT_NAME": "ONUSERADD", "<TIMESTAMP_X": DATES[0]},
            "order": {"TIMESTAMP_X": "DESC", "ID": "ASC"},
        },
        {"process_id": "a" * 32, "clear": 1, "order": ["MESSAGE_ID"]},
        {"filter": {"@ID": [1, 2], "%MESSAGE_ID": "ab"}, "limit": "9" * 30},
    ],
    "event.offline.list": [
        {},
        {"start": 50, "auth_connector": "sync"},
        {"filter": {"PROCESS_ID": "", "ERROR": 1, "@ID": [1, 2]}, "order": {"ERROR": "DESC"}},
    ],
    "event.offline.clear": [
        {"process_id": "a" * 32},
        {"process_id": "a" * 32, "id": [1, "2", 2**40]},
        {"process_id": "", "message_id": ["0" * 32, " " + "f" * 32]},
    ],
    "event.offline.error": [
        {"process_id": "a" * 32, "message_id": ["0" * 32]},
        {"process_id": "p", "message_id": {"a": "x", "b": ["nested"]}, "auth_connector": "c"},
    ],
    "event.bind": [
        {"event": "ONUSERADD", "handler": "http://127.0.0.1:9/h"},
        {"event": "onAppUninstall", "handler": "https://app.example/h", "auth_type": 1},
        {"event": "ONUSERADD", "event_type": "offline", "auth_connector": "sync"},
        {"event": "ONOFFLINEEVENT", "handler": "http://localhost/o", "options": {"minTimeout": 5}},
        {"event": "ONUSERADD", "handler": "ftp://x.example/", "auth_type": "9" * 40},
    ],
    "event.unbind": [
        {"event": "ONUSERADD", "handler": "http://127.0.0.1:9/h"},
        {"event": "ONUSERADD", "handler": "http://127.0.0.1:9/h", "auth_type": 0},
        {"event": "ONUSERADD", "event_type": "offline", "auth_connector": "sync"},
    ],
    "event.get": [{}],
    "events": [{}, {"SCOPE": "user"}, {"FULL": True}, {"SCOPE": ["user"], "FULL": "N"}],
}


def params_for(rnd: random.Random, method: str) -> dict[str, Any]:
    """A valid call of ``method``, mutated 0-4 times."""
    params = dict(rnd.choice(TEMPLATES.get(method, [{}])))
    for _ in range(rnd.choice([0, 1, 1, 2, 2, 3, 4])):
        mutate(rnd, params)
    if method == "user.update" and any(str(k).upper() == "ACTIVE" for k in params):
        # Whatever else is mangled, a dismissal lands on user 2, never on the caller.
        for key in [k for k in params if str(k).upper() == "ID"]:
            del params[key]
        params["ID"] = 2
    return params


def mutate(rnd: random.Random, params: dict[str, Any]) -> None:
    roll = rnd.random()
    keys = list(params)
    if keys and roll < 0.45:
        key = rnd.choice(keys)
        old = params[key]
        params[key] = rnd.choice(
            [value(rnd), [old], {"0": old}, {"a": old}, [old, old], str(old), scalar(rnd)]
        )
    elif keys and roll < 0.55:
        del params[rnd.choice(keys)]
    elif roll < 0.9:
        params[rnd.choice(KEYS)] = value(rnd)
    elif roll < 0.95:
        params[rnd.choice(KEYS)] = deep(rnd, rnd.choice([5, 31, 32, 33, 60]))
    else:
        # The same name in another case: which one wins?
        for key in keys[:1]:
            params[key.lower() if key.isupper() else key.upper()] = value(rnd)


# --- encodings -------------------------------------------------------------------------


def php_text(item: Any) -> str:
    """A scalar as a PHP client puts it in a form."""
    if item is True:
        return "1"
    if item is False or item is None:
        return ""
    if isinstance(item, float):
        return repr(item)
    return str(item)


def flatten(params: Any, prefix: str = "") -> list[tuple[str, str]]:
    """PHP's ``http_build_query``: ``a[b][0]=x``."""
    pairs: list[tuple[str, str]] = []
    if isinstance(params, dict):
        items = list(params.items())
    elif isinstance(params, list):
        items = list(enumerate(params))
    else:
        return [(prefix, php_text(params))]
    if not items and prefix:
        return []
    for key, item in items:
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(item, dict | list):
            pairs.extend(flatten(item, name))
        else:
            pairs.append((name, php_text(item)))
    return pairs


def urlencode(pairs: list[tuple[str, str]], rnd: random.Random) -> str:
    # Brackets are left bare or escaped at random, as clients differ.
    safe = "[]" if rnd.random() < 0.5 else ""
    return "&".join(f"{quote(k, safe=safe)}={quote(v, safe=safe)}" for k, v in pairs)


def to_json(params: Any) -> bytes:
    return json.dumps(params, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def multipart(pairs: list[tuple[str, str]], boundary: str) -> bytes:
    out = []
    for name, text in pairs:
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{text}\r\n'
        )
    out.append(f"--{boundary}--\r\n")
    return "".join(out).encode("utf-8", "surrogatepass")


ODD_TYPES = [
    "text/plain",
    "application/xml",
    "application/octet-stream",
    "application/json; charset=utf-16",
    "application/vnd.api+json",
    "application/x-www-form-urlencoded; charset=koi8-r",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/mixed; boundary=zz",
    "*/*",
    "json",
    ";;;",
]


def encode(rnd: random.Random, params: Any) -> tuple[str, dict[str, str], bytes | None, str]:
    """``params`` as a query string and/or a body: (query, headers, body, how)."""
    pairs = flatten(params)
    roll = rnd.random()
    if roll < 0.3:
        return "", {"Content-Type": "application/json"}, to_json(params), "json"
    if roll < 0.5:
        body = urlencode(pairs, rnd).encode()
        return "", {"Content-Type": "application/x-www-form-urlencoded"}, body, "form"
    if roll < 0.6:
        boundary = "b24fuzz" + str(rnd.randint(0, 10**6))
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return "", headers, multipart(pairs, boundary), "multipart"
    if roll < 0.75:
        return urlencode(pairs, rnd), {}, None, "query"
    if roll < 0.82:
        return "", {}, to_json(params), "json without type"
    if roll < 0.88:
        # Part in the query, the rest in the body.
        half = len(pairs) // 2
        body = urlencode(pairs[half:], rnd).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return urlencode(pairs[:half], rnd), headers, body, "query+form"
    kind = rnd.choice(ODD_TYPES)
    body = to_json(params) if rnd.random() < 0.5 else urlencode(pairs, rnd).encode()
    return "", {"Content-Type": kind}, body, f"odd type {kind!r}"


BROKEN_BODIES = [
    b"{",
    b"{]",
    b'{"a":}',
    b'{"ID": NaN}',
    b'{"ID": Infinity}',
    b'{"ID": -Infinity}',
    b'{"ID": 1e300}',
    b'{"ID": 1e400}',
    b'{"ID": ' + HUGE_DIGITS.encode() + b"}",
    b'{"ID": "' + HUGE_DIGITS.encode() + b'"}',
    b'{"ID": 0.' + HUGE_DIGITS.encode() + b"}",
    b"[1,2,3]",
    b'"text"',
    b"123",
    b"null",
    b"true",
    b"{}" * 3,
    b'{"a":1}garbage',
    b'{"\\ud800": 1}',
    b'{"a": "\\ud800"}',
    b'{"a": "\\u0000"}',
    b'{"a\\u0000": 1}',
    b"\xef\xbb\xbf{}",
    b"\xff\xfe{\x00}\x00",
    b"ID=\xff\xfe",
    b"\xc3\x28=1",
    b"ID=1\x00",
    b"ID[=1",
    b"ID]=1",
    b"ID[[]]=1",
    b"ID[a][=1",
    b"[]=1",
    b"[a]=1",
    b"=1",
    b"&&&=&=",
    b"ID=%",
    b"ID=%zz",
    b"ID=%C3%28",
    b"%00=1",
    b"a" * 20000,
    b"a[]=1&" * 11000,
    b"[" * 100 + b"]" * 100,
    b"a" + b"[b]" * 40 + b"=1",
    b"--x\r\nContent-Disposition: form-data\r\n\r\n--x--",
    b"\x00\x00\x00",
]


def corrupt(rnd: random.Random, body: bytes) -> bytes:
    """Break a well-formed body at the byte level."""
    if not body:
        return rnd.choice(BROKEN_BODIES)
    roll = rnd.random()
    at = rnd.randrange(len(body))
    if roll < 0.3:
        return body[:at]
    if roll < 0.5:
        odd = rnd.choice([b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"%"])
        return body[:at] + odd + body[at:]
    if roll < 0.7:
        return body[:at] + bytes([rnd.randrange(256)]) + body[at + 1 :]
    if roll < 0.85:
        return body + body
    return rnd.choice(BROKEN_BODIES)


# --- call forms ------------------------------------------------------------------------


def method_name(rnd: random.Random, targets: Targets) -> str:
    roll = rnd.random()
    if roll < 0.85:
        return rnd.choice(targets.methods)
    return rnd.choice(
        [
            "no.such.method",
            "",
            "IM.USER.GET",
            "im..user.get",
            ".",
            "im.user.get/extra",
            "%2e%2e",
            "..",
            "im.user.get%00",
            "ïm.user.get",
            "m" * 3000,
            "batch.batch",
            "server.time.json.xml",
            "methods.XML.json",
        ]
    )


def suffix(rnd: random.Random) -> str:
    return rnd.choice(["", "", "", ".json", ".xml", ".JSON", ".Xml"])


def with_case(rnd: random.Random, name: str) -> str:
    if rnd.random() < 0.1:
        return "".join(c.upper() if rnd.random() < 0.5 else c for c in name)
    return name


def rest_prefix(rnd: random.Random, targets: Targets, params: dict[str, Any]) -> tuple[str, str]:
    """The URL before the method name, and what it is; may put ``auth`` in ``params``."""
    roll = rnd.random()
    if roll < 0.5:
        return targets.webhook, "webhook"
    if roll < 0.56:
        return targets.narrow_webhook, "narrow webhook"
    if roll < 0.62:
        return targets.user_webhook, "user's webhook"
    if roll < 0.7:
        user, code = targets.webhook.strip("/").split("/")[1:]
        bad = rnd.choice(
            [
                f"/rest/{user}/wrong{code[5:]}/",
                f"/rest/2/{code}/",
                f"/rest/abc/{code}/",
                f"/rest/{HUGE_DIGITS[:30]}/{code}/",
                f"/rest/-1/{code}/",
                f"/rest/{user}//",
                f"/rest/{user}/{code}/x/",
                f"/rest/{user}/{code.upper()}/",
                "/rest/1/%00/",
                "/rest/١/" + code + "/",
            ]
        )
        return bad, "bad webhook"
    token = rnd.choice(
        [targets.access_token] * 6
        + ["", "wrong", targets.refresh_token, "x" * 5000, [targets.access_token], {"a": 1}, 5]
    )
    if rnd.random() < 0.9:
        params["auth"] = token
    return "/rest/", "oauth" if token == targets.access_token else "bad oauth"


def rest_case(rnd: random.Random, targets: Targets, case: Case) -> None:
    method = method_name(rnd, targets)
    params = params_for(rnd, method) if method != "batch" else batch_params(rnd, targets)
    prefix, form = rest_prefix(rnd, targets, params)
    end = suffix(rnd)
    path = prefix + quote(with_case(rnd, method) + end, safe="%./")
    case.xml = (method + end).lower().endswith(".xml")
    send(rnd, case, path, params, f"{form} {method}{end}", corrupt_rate=0.12, get_query=True)


def send(
    rnd: random.Random,
    case: Case,
    path: str,
    params: dict[str, Any],
    label: str,
    *,
    corrupt_rate: float,
    get_query: bool = False,
) -> None:
    """Fill in ``case`` as a request of ``params`` to ``path``: encoded one of the
    ways, sometimes corrupted, by some HTTP method (with ``get_query``, a GET
    mostly carries its parameters in the query)."""
    query, headers, body, how = encode(rnd, params)
    case.note = f"{label} as {how}"
    if rnd.random() < corrupt_rate:
        body = corrupt(rnd, body or b"")
        case.note += ", corrupted"
    case.http_method = http_method(rnd, body)
    if get_query and case.http_method == "GET" and body is not None and rnd.random() < 0.5:
        query, body, headers = (body.decode("latin-1") if how == "form" else query), None, {}
    case.raw_path = raw(path, query)
    case.headers = headers
    case.body = body


def batch_params(rnd: random.Random, targets: Targets) -> dict[str, Any]:
    names = [m for m in targets.methods if m != "batch"] + ["batch"]
    commands: dict[str, Any] = {}
    count = rnd.choice([0, 1, 2, 3, 5, 10, 51, 55])
    for i in range(count):
        method = rnd.choice(names) if rnd.random() < 0.9 else method_name(rnd, targets)
        params = params_for(rnd, method)
        if commands and rnd.random() < 0.3:
            earlier = rnd.choice(list(commands))
            params[rnd.choice(KEYS)] = rnd.choice(
                [
                    f"$result[{earlier}]",
                    f"$result[{earlier}][ID]",
                    f"$result[{earlier}][0][ID]",
                    f"$result_total[{earlier}]",
                    f"$result_next[{earlier}]",
                    "$result[nothing]",
                    "$result[",
                    f"x $result[{earlier}] y",
                ]
            )
        query = urlencode(flatten(params), rnd)
        command: Any = f"{method}?{query}" if query else method
        roll = rnd.random()
        if roll < 0.05:
            command = {"method": method, "params": params}
        elif roll < 0.1:
            command = value(rnd)
        name = rnd.choice([f"c{i}", f"c{i}", str(i), f"ä{i}", f"c{i}[x]", ""])
        commands[name or f"e{i}"] = command
    cmd: Any = commands
    roll = rnd.random()
    if roll < 0.2:
        cmd = list(commands.values())
    elif roll < 0.25:
        cmd = value(rnd)
    params: dict[str, Any] = {"cmd": cmd}
    if rnd.random() < 0.5:
        params["halt"] = rnd.choice([0, 1, True, False, "Y", "N", "banana", "", None, [], [1], 2])
    return params


def http_method(rnd: random.Random, body: bytes | None) -> str:
    roll = rnd.random()
    if roll < 0.06:
        return rnd.choice(ODD_HTTP_METHODS)
    if roll < 0.2 or body is None:
        return "GET"
    return "POST"


#: Bytes a request line may carry as they are; the rest is %-escaped.
_BARE = frozenset(b"/?&=%[]:@!$'()*+,;~-._" + bytes(range(0x30, 0x3A)) + bytes(range(0x41, 0x5B))
                  + bytes(range(0x61, 0x7B)))  # fmt: skip


def raw(path: str, query: str) -> bytes:
    """Path and query as sent: bytes outside ``_BARE`` (non-ASCII, blanks, controls)
    escaped, as an HTTP client must."""
    text = (path + ("?" + query if query else "")).encode("utf-8", "surrogatepass")
    return b"".join(bytes([b]) if b in _BARE else b"%%%02X" % b for b in text)


def oauth_case(rnd: random.Random, targets: Targets, case: Case) -> None:
    roll = rnd.random()
    params: dict[str, Any]
    if roll < 0.45:
        path = "/oauth/token/"
        case.kind = "oauth"
        params = {
            "grant_type": rnd.choice(
                ["authorization_code", "refresh_token", "client_credentials", "", "x"]
            ),
            "client_id": rnd.choice([targets.client_id, "local.nothing.1", ""]),
            "client_secret": rnd.choice([targets.client_secret, "wrong", ""]),
            "code": rnd.choice(["", "abc", targets.access_token]),
            "refresh_token": rnd.choice(["", "abc", targets.refresh_token]),
        }
        if rnd.random() < 0.3:
            params["scope"] = rnd.choice(["im", "im,timeman", "user,crm", "", " , "])
        if rnd.random() < 0.3:
            params["redirect_uri"] = rnd.choice(["https://app.example/cb", "", "javascript:x"])
    elif roll < 0.85:
        path = "/oauth/authorize/"
        case.kind = "page"
        params = {
            "client_id": rnd.choice([targets.client_id] * 3 + ["nope", ""]),
            "state": rnd.choice(["s", "", "ä&=?#", "x" * 3000]),
        }
        if rnd.random() < 0.3:
            params["redirect_uri"] = rnd.choice(["https://app.example/cb", "", "javascript:x"])
        if rnd.random() < 0.3:
            params["scope"] = rnd.choice(["im", "im,timeman", "crm", ""])
        if rnd.random() < 0.3:
            params["login"] = rnd.choice(
                [targets.login, "1", "2", "", HUGE_DIGITS[:25], "-1", "ä@x", "x" * 3000]
            )
            params["password"] = rnd.choice([targets.password, "wrong", ""])
    else:
        path = rnd.choice(["/oauth/rest/app.info", "/oauth/rest/app.info.json", "/oauth/rest/"])
        case.kind = "oauth"
        params = {"auth": rnd.choice([targets.access_token, "", "bad", [1]])}
    for _ in range(rnd.choice([0, 0, 1, 2])):
        mutate(rnd, params)
    send(rnd, case, path, params, path, corrupt_rate=0.1)


DEV_PATHS = [
    "/_b24local/clock",
    "/_b24local/clock/advance",
    "/_b24local/faults",
    "/_b24local/faults/operating",
    "/_b24local/faults/1",
    "/_b24local/faults/x",
    "/_b24local/tokens",
    "/_b24local/nothing",
    "/_b24local/events/deliveries",
    "/_b24local/events/deliveries/wait",
    "/_b24local/events/run",
]

#: Query strings of the deliveries listing and wait (a wait always names a short
#: timeout: the default would hold the fuzz run for seconds).
DELIVERY_QUERIES = [
    "",
    "event=ONUSERADD",
    "event=%00&state=pending",
    "state=delivered&after=0",
    "state=nope",
    "state[]=1",
    "after=-1",
    "after=1e300",
    "after=99999999999999999999",
    "event[x]=1&after=",
]
WAIT_TIMEOUTS = ["0", "0.01", "-1", "nan", "inf", "1e400", "x", "61"]
#: The longest latency a fuzzed fault rule keeps.
MAX_FUZZ_LATENCY = 0.05


def dev_body(rnd: random.Random, path: str, targets: Targets) -> Any:
    if path.endswith("/clock"):
        return {"now": rnd.choice([*DATES, "real", "REAL", 0, None, [1]]), "freeze": value(rnd)}
    if path.endswith("/advance"):
        return {"seconds": rnd.choice([*NUMBERS, "abc", None, [1], int(HUGE_DIGITS[:400])])}
    if path.endswith("/run"):
        return {"all": rnd.choice([True, False, "yes", 1, None, [1], {"a": 1}])}
    if path.endswith("/operating"):
        return {"drop": rnd.choice([True, False, "yes", 1, None, [True]])}
    if path.endswith("/faults"):
        return {
            # Only errors below 500: a forced 5xx would be no finding.
            "error": rnd.choice(["expired_token", "NO_AUTH_FOUND", "nothing", "", 5]),
            "method": rnd.choice(["server.time", "no.such", None, "", [1]]),
            "times": rnd.choice([*NUMBERS, "x", None, [1]]),
            "probability": rnd.choice([None, 0, 0.5, 1, 1.5, -0.5, "0.5", True]),
            "seed": rnd.choice([None, 1, -1, 1.5, 2**64, "7"]),
            "caller": rnd.choice([None, "webhook:1", "user:1", "app:x", "bob", "user:0", 5]),
            "seconds": rnd.choice([None, 1, 60, 0, -1, 1e300, "60"]),
            "latency": rnd.choice([None, None, MAX_FUZZ_LATENCY, 0, -1, 61, 1e300, "0.01", [1]]),
            # Never a hang that is kept: it would end in a 504 or hold the run.
            "hang": rnd.choice([None, None, 0, -1, 301, 1e300, "1"]),
        }
    return {
        "client_id": rnd.choice([targets.client_id, "", "nope", 5]),
        "user_id": rnd.choice([*targets.user_ids, *NUMBERS, "1", "x", None]),
        "portal": rnd.choice([None, "", "localhost", "nope.localhost", 5]),
    }


def tame(rule: dict[str, Any]) -> None:
    """Cut back what a mutation made of a rule's waits, where the server would keep
    it: a latency of 50 s would hold the run, and a hang ends in a 504, each the
    rule doing its job rather than a finding. Out of range they stay, to be refused."""
    waits = {"latency": (MAX_FUZZ_LATENCY, 60), "hang": (-1, 300)}
    for key, (tamed, highest) in waits.items():
        wait = rule.get(key)
        number = isinstance(wait, int | float) and not isinstance(wait, bool)
        if number and max(tamed, 0) < wait <= highest:
            rule[key] = tamed


def dev_case(rnd: random.Random, targets: Targets, case: Case) -> None:
    path = rnd.choice(DEV_PATHS)
    case.kind = "dev"
    body = dev_body(rnd, path, targets)
    if isinstance(body, dict):
        for _ in range(rnd.choice([0, 0, 1, 2])):
            mutate(rnd, body)
        if path.endswith("/faults"):
            tame(body)
    data = to_json(body) if rnd.random() < 0.9 else corrupt(rnd, to_json(body))
    if rnd.random() < 0.2:
        data = rnd.choice(BROKEN_BODIES)
    token = rnd.choice([targets.dev_token] * 3 + ["", "wrong"])
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    roll = rnd.random()
    case.http_method = (
        "POST" if roll < 0.6 else "GET" if roll < 0.8 else rnd.choice(("PUT", "DELETE", "PATCH"))
    )
    query = ""
    if "/events/deliveries" in path:
        query = rnd.choice(DELIVERY_QUERIES)
        if path.endswith("/wait"):
            query = "&".join(filter(None, [query, "timeout=" + rnd.choice(WAIT_TIMEOUTS)]))
    case.raw_path = raw(path, query)
    case.headers = headers
    case.body = data
    case.note = f"dev {path} {'with' if token == targets.dev_token else 'without'} token"


ODD_HEADERS = [
    ("Host", "LOCALHOST."),
    ("Host", "localhost:99999"),
    ("Host", "[::1]:8024"),
    ("Host", "nope.localhost"),
    ("Host", "xn--d1acufc.localhost"),
    ("Host", "a" * 300),
    ("Host", "127.0.0.1:port"),
    ("Host", ".."),
    ("X-Forwarded-For", "999.1.1.1, ::g"),
    ("X-Forwarded-Proto", "gopher"),
    ("Accept", "application/xml;q=2, */*;q=nan"),
    ("Cookie", "B24LOCAL_SESSION=" + "x" * 100),
    ("Cookie", "B24LOCAL_SESSION="),
    ("Content-Encoding", "gzip"),
    ("Authorization", "Bearer"),
]


# --- REST 3.0 ---------------------------------------------------------------------------

#: A valid REST 3.0 call of each method, to mutate.
V3_TEMPLATES: dict[str, list[dict[str, Any]]] = {
    "timeman.record.list": [
        {"filter": [["userId", "=", 1]]},
        {
            "filter": [
                ["userId", 1],
                ["startTime", "between", ["2026-03-01", "2026-03-31T23:59:59+00:00"]],
                {"logic": "or", "conditions": [["startTime", ">", "2026-03-02"], ["id", [1]]]},
            ],
            "select": ["id", "startTime", "endTime", "duration", "breakLength"],
            "order": {"startTime": "DESC", "id": "ASC"},
            "pagination": {"page": 2, "limit": 10},
        },
    ],
    "timeman.record.field.list": [{}, {"select": ["name", "type", "editable"]}],
    "timeman.record.field.get": [{"name": "startTime"}, {"name": "id", "select": ["type"]}],
    "rest.documentation.openapi": [{}],
    "documentation": [{}],
    "rest.scope.list": [{}, {"filterModule": "timeman"}, {"filterController": "record"}],
    # Its bodies are built by v3_batch_params.
    "batch": [{}],
}
V3_REFS = ["a.items.0.id", "a.items", "0.item.name", "a", "", "nobody.x", "a.items.99.id"]
V3_KEYS = ["filter", "select", "order", "pagination", "name", "auth", "logic", "conditions"]
V3_OPERATORS = ["=", "!=", ">", ">=", "<", "<=", "in", "between", "like", "", "IN", None, 1]
V3_FIELDS = ["id", "userId", "startTime", "endTime", "duration", "state", "nope", "user.name", ""]


def v3_triple(rnd: random.Random) -> Any:
    """A filter condition: mostly well-formed, with hostile parts."""
    shape = rnd.random()
    if shape < 0.6:
        return [rnd.choice(V3_FIELDS), rnd.choice(V3_OPERATORS), value(rnd)]
    if shape < 0.75:
        return [rnd.choice(V3_FIELDS), value(rnd)]
    if shape < 0.9:
        conditions = [v3_triple(rnd) for _ in range(rnd.randint(0, 3))]
        return {"logic": rnd.choice(["or", "and", "xor", 1]), "conditions": conditions}
    return value(rnd)


def v3_mutate(rnd: random.Random, params: dict[str, Any]) -> None:
    roll = rnd.random()
    if roll < 0.35:
        params["filter"] = [v3_triple(rnd) for _ in range(rnd.randint(0, 4))]
    elif roll < 0.5:
        terms = params.get("filter")
        terms = list(terms) if isinstance(terms, list) else []
        params["filter"] = [*terms, deep(rnd, rnd.choice([5, 31, 40]))]
    elif roll < 0.6:
        params["select"] = rnd.choice([value(rnd), [value(rnd), "id"], V3_FIELDS])
    elif roll < 0.7:
        params["order"] = rnd.choice([value(rnd), {rnd.choice(V3_FIELDS): value(rnd)}])
    elif roll < 0.8:
        params["pagination"] = {
            rnd.choice(["page", "limit", "offset", "x"]): rnd.choice(
                [value(rnd), 0, -1, HUGE_DIGITS[:25], 2**63, "3"]
            )
        }
    else:
        params[rnd.choice(V3_KEYS + KEYS)] = value(rnd)


def v3_reference(rnd: random.Random) -> Any:
    """A ``$ref``/``$refArray`` marker, well-formed or not."""
    marker = rnd.choice(["$ref", "$refArray", "$REF", "$ref"])
    return {marker: rnd.choice([*V3_REFS, "a.userId", value(rnd)])}


def v3_batch_params(rnd: random.Random, targets: Targets) -> dict[str, Any]:
    """A REST 3.0 batch body as the JS SDK spreads it ({"0": call, ...}): mostly
    calls of REST 3.0 methods, some referring to earlier ones; sometimes hostile
    (huge, non-object items, the old cmd form, a nested batch)."""
    roll = rnd.random()
    if roll < 0.05:
        return {str(i): None for i in range(rnd.choice([51, 10_000]))}
    if roll < 0.1:
        return {"0": {"method": "batch", "query": []}}
    if roll < 0.15:
        return {"halt": 0, "cmd": {"a": "timeman.record.field.list"}}
    names = [m for m in targets.v3_methods if m != "batch"] + ["timeman.status", "batch"]
    calls: dict[str, Any] = {}
    for index in range(rnd.randint(0, 6)):
        if rnd.random() < 0.1:
            calls[str(index)] = value(rnd)
            continue
        method = rnd.choice(names)
        query: Any = copy.deepcopy(rnd.choice(V3_TEMPLATES.get(method, [{}])))
        if rnd.random() < 0.3:
            v3_mutate(rnd, query)
        if index and rnd.random() < 0.4:
            key = rnd.choice(["name", "filter"])
            marker = v3_reference(rnd)
            query[key] = marker if key == "name" else [["userId", "in", marker]]
        call: dict[str, Any] = {"method": method, "query": query}
        if rnd.random() < 0.3:
            call["as"] = rnd.choice(["a", "b", str(index), value(rnd)])
        if rnd.random() < 0.1:
            call[rnd.choice(["method", "query", "parallel"])] = value(rnd)
        calls[str(index)] = call
    return calls


def rest3_case(rnd: random.Random, targets: Targets, case: Case) -> None:
    """A call on /rest/api/: JSON mostly, sometimes a form or garbage, sometimes
    with an Idempotency-Key (valid or not)."""
    case.kind = "rest3"
    roll = rnd.random()
    names = targets.v3_methods
    method = rnd.choice(names) if roll < 0.85 else rnd.choice(targets.methods)
    # A deep copy: mutations must not reach the templates.
    params: dict[str, Any]
    if method == "batch":
        params = v3_batch_params(rnd, targets)
    else:
        params = copy.deepcopy(rnd.choice(V3_TEMPLATES.get(method, [{}])))
        for _ in range(rnd.choice([0, 1, 1, 2, 3])):
            v3_mutate(rnd, params)
    prefix, form = rest_prefix(rnd, targets, params)
    path = prefix.replace("/rest/", "/rest/api/", 1) + quote(with_case(rnd, method), safe="%./")
    if rnd.random() < 0.8:
        # A batch body is mostly the page's array at the root (then without auth).
        as_array = method == "batch" and "auth" not in params and rnd.random() < 0.7
        case.body = to_json(list(params.values()) if as_array else params)
        case.headers = {"Content-Type": "application/json"}
        case.note = f"REST 3.0 {form} {method} as JSON"
        if rnd.random() < 0.1:
            case.body = corrupt(rnd, case.body)
            case.note += ", corrupted"
        case.http_method = http_method(rnd, case.body)
        case.raw_path = raw(path, "")
    else:
        send(rnd, case, path, params, f"REST 3.0 {form} {method}", corrupt_rate=0.2)
    if rnd.random() < 0.15:
        key = rnd.choice(["k-1", "", "x" * 256, "x" * 255, "two words", "tab\there"])
        case.headers["Idempotency-Key"] = key
        case.note += f", Idempotency-Key {key[:10]!r}"


def make_case(seed: int, index: int, targets: Targets) -> Case:
    """Request ``index`` of run ``seed``; the same arguments give the same request."""
    rnd = random.Random(f"{seed}:{index}")
    case = Case(index=index, http_method="GET", raw_path=b"/")
    roll = rnd.random()
    if roll < 0.7:
        rest_case(rnd, targets, case)
    elif roll < 0.8:
        rest3_case(rnd, targets, case)
    elif roll < 0.95:
        oauth_case(rnd, targets, case)
    else:
        dev_case(rnd, targets, case)
    if rnd.random() < 0.06:
        name, text = rnd.choice(ODD_HEADERS)
        case.headers[name] = text
        case.note += f", {name}: {text[:20]}"
    if case.body is not None and rnd.random() < 0.04:
        case.chunked = True
    return case
