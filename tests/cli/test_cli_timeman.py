"""Departments, user membership and work time from the ``b24local`` console script,
run as real subprocesses against a data directory.

Approvals need days edited through the API: a module fixture starts
``b24local serve --dev`` (plain HTTP) once, freezes its clock, opens days with a
``TIME`` far from the server's ``now`` and stops it; each approval test then works
on its own copy of that data directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from clirun import run_cli


def _script() -> str:
    candidate = Path(sys.executable).parent / "b24local"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("b24local")
    if found is None:
        pytest.fail(f"the b24local console script is not installed (looked in {candidate})")
    return found


SCRIPT = _script()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("B24LOCAL_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Cli:
    """Runs commands against one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli([*args, "--data-dir", str(self.data_dir)])

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, result.stderr
        assert result.stderr == "", result.stderr
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))

    def fails(self, *args: str) -> str:
        """A refusal: exit status 1, nothing on stdout, one ``error:`` line on stderr."""
        result = self(*args)
        assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
        assert result.stdout == ""
        assert result.stderr.startswith("error: "), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr
        return result.stderr.strip()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "data")


DEFAULTS = {
    "UF_TIMEMAN": True,
    "UF_TM_FREE": False,
    "UF_TM_MAX_START": "09:15:00",
    "UF_TM_MIN_FINISH": "17:45:00",
    "UF_TM_MIN_DURATION": "08:00:00",
    "UF_TM_ALLOWED_DELTA": "00:15:00",
}


# --- departments -------------------------------------------------------------------------


def test_department_add_head_and_list(cli: Cli) -> None:
    assert cli.ok("department", "add", "--name", "Sales") == "2\n"
    assert cli.ok("user", "add", "--name", "Bea", "--last-name", "Boss") == "2\n"
    east = cli.json("department", "add", "--name", "East", "--parent", "2", "--head", "2")
    assert east == {"id": 3, "name": "East", "parent_id": 2, "head_id": 2, "sort": 500}
    # Without --parent a department hangs under the root.
    west = cli.json("department", "add", "--name", "West", "--sort", "100")
    assert west == {"id": 4, "name": "West", "parent_id": 1, "head_id": None, "sort": 100}

    assert cli.ok("department", "head", "4", "--user", "1") == "4\n"
    cleared = cli.json("department", "head", "3")  # no --user: no head
    assert cleared == {"id": 3, "name": "East", "parent_id": 2, "head_id": None, "sort": 500}

    # ID, name, parent, head; the root has no parent; trailing blanks are cut.
    assert cli.ok("department", "list") == (
        "1\tCompany\t\t1\n2\tSales\t1\n3\tEast\t2\n4\tWest\t1\t1\n"
    )
    assert cli.json("department", "list") == [
        {"id": 1, "name": "Company", "parent_id": None, "head_id": 1, "sort": 500},
        {"id": 2, "name": "Sales", "parent_id": 1, "head_id": None, "sort": 500},
        {"id": 3, "name": "East", "parent_id": 2, "head_id": None, "sort": 500},
        {"id": 4, "name": "West", "parent_id": 1, "head_id": 1, "sort": 100},
    ]


def test_department_add_with_a_chosen_id(cli: Cli) -> None:
    assert cli.ok("department", "add", "--name", "Fixture", "--id", "67") == "67\n"
    # Automatic IDs continue past a chosen one, and never take it.
    assert cli.ok("department", "add", "--name", "Next", "--parent", "67") == "68\n"
    assert cli.ok("department", "add", "--name", "Low", "--id", "10") == "10\n"
    assert cli.ok("department", "add", "--name", "Then") == "69\n"
    assert cli.fails("department", "add", "--name", "Twin", "--id", "67") == (
        "error: department 67 exists already"
    )
    assert cli.fails("department", "add", "--name", "Zero", "--id", "0") == (
        "error: a department ID is a whole number from 1 to 2147483647, not 0"
    )
    assert [d["id"] for d in cli.json("department", "list")] == [1, 10, 67, 68, 69]


def test_department_update(cli: Cli) -> None:
    cli.ok("department", "add", "--name", "Sales")  # 2
    cli.ok("department", "add", "--name", "East", "--parent", "2")  # 3
    cli.ok("department", "add", "--name", "Support")  # 4
    cli.ok("user", "add", "--name", "Bea", "--last-name", "Boss")  # 2
    moved = cli.json(
        "department",
        "update",
        "2",
        "--name",
        "Sales EU",
        "--parent",
        "4",
        "--head",
        "2",
        "--sort",
        "20",
    )
    assert moved == {"id": 2, "name": "Sales EU", "parent_id": 4, "head_id": 2, "sort": 20}
    # East came along under Sales EU; --no-head clears the head, the rest stays.
    assert cli.ok("department", "update", "2", "--no-head") == "2\n"
    assert cli.json("department", "list")[1:3] == [
        {"id": 2, "name": "Sales EU", "parent_id": 4, "head_id": None, "sort": 20},
        {"id": 3, "name": "East", "parent_id": 2, "head_id": None, "sort": 500},
    ]
    assert cli.fails("department", "update", "4", "--parent", "3") == (
        "error: department 3 is the department itself or one below it"
    )
    assert cli.fails("department", "update", "9", "--name", "X") == "error: no department 9"
    assert cli.fails("department", "update", "2", "--head", "99") == "error: no user 99"
    assert cli.fails("department", "update", "2", "--name", "") == (
        "error: a department needs a name"
    )
    assert cli.fails("department", "update", "2", "--head", "2", "--no-head") == (
        "error: give --head or --no-head, not both"
    )


def test_department_remove(cli: Cli) -> None:
    cli.ok("department", "add", "--name", "Sales")  # 2
    cli.ok("department", "add", "--name", "East", "--parent", "2")  # 3
    cli.ok("user", "add", "--name", "Ann", "--last-name", "A", "--department", "2")  # 2
    assert cli.ok("department", "remove", "2") == ""
    # East and Ann moved up to the root.
    assert cli.json("department", "list") == [
        {"id": 1, "name": "Company", "parent_id": None, "head_id": 1, "sort": 500},
        {"id": 3, "name": "East", "parent_id": 1, "head_id": None, "sort": 500},
    ]
    ann = next(u for u in cli.json("user", "list") if u["id"] == 2)
    assert ann["departments"] == [1]
    assert cli.fails("department", "remove", "2") == "error: no department 2"
    assert cli.fails("department", "remove", "1") == (
        "error: the top-level department cannot be removed"
    )


def test_department_errors(cli: Cli) -> None:
    assert cli.fails("department", "add", "--name", "Lost", "--parent", "9") == (
        "error: no department 9"
    )
    assert cli.fails("department", "add", "--name", "Lost", "--head", "99") == "error: no user 99"
    assert cli.fails("department", "head", "9", "--user", "1") == "error: no department 9"
    assert cli.fails("department", "head", "1", "--user", "99") == "error: no user 99"
    assert cli.fails("user", "add", "--name", "X", "--last-name", "Y", "--department", "9") == (
        "error: Department 9 not found."
    )
    # Nothing was created or changed by the refusals.
    assert cli.json("department", "list") == [
        {"id": 1, "name": "Company", "parent_id": None, "head_id": 1, "sort": 500}
    ]
    assert [u["id"] for u in cli.json("user", "list")] == [1]


# --- users in departments ------------------------------------------------------------------


def test_user_departments_admin_and_zone(cli: Cli) -> None:
    cli.ok("department", "add", "--name", "Sales")
    assert cli.ok("user", "add", "--name", "Sam", "--last-name", "S", "--department", "2") == (
        "2\n"
    )
    # Without --department a user joins the root department.
    assert cli.json("user", "add", "--name", "Tia", "--last-name", "T")["departments"] == [1]

    updated = cli.json(
        "user", "update", "3", "--department", "1", "--department", "2",
        "--admin", "--tz", "Europe/Berlin",
    )  # fmt: skip
    assert updated["id"] == 3
    assert updated["departments"] == [1, 2]
    assert updated["admin"] is True
    assert updated["time_zone"] == "Europe/Berlin"
    assert updated["name"] == "Tia"
    # Plain output is the ID; options not given stay as they were.
    assert cli.ok("user", "update", "3", "--no-admin") == "3\n"
    users = {u["id"]: u for u in cli.json("user", "list")}
    assert (users[3]["admin"], users[3]["departments"], users[3]["time_zone"]) == (
        False,
        [1, 2],
        "Europe/Berlin",
    )
    assert users[2]["departments"] == [2]


def test_user_update_errors_change_nothing(cli: Cli) -> None:
    cli.ok("user", "add", "--name", "Sam", "--last-name", "Seller", "--tz", "Europe/Paris")
    # A refused update changes nothing, not even the options that were valid.
    assert cli.fails(
        "user", "update", "2", "--department", "7", "--tz", "Asia/Tokyo", "--admin"
    ) == ("error: Department 7 not found.")
    assert cli.fails("user", "update", "99", "--admin") == "error: no user 99"
    assert "unknown time zone" in cli.fails("user", "update", "2", "--tz", "Mars/Olympus")
    user = {u["id"]: u for u in cli.json("user", "list")}[2]
    assert (user["time_zone"], user["admin"], user["departments"]) == ("Europe/Paris", False, [1])


# --- work-time settings --------------------------------------------------------------------


def test_timeman_settings_defaults(cli: Cli) -> None:
    plain = cli.ok("timeman", "settings")
    assert plain.splitlines() == [
        "UF_TIMEMAN\ttrue",
        "UF_TM_FREE\tfalse",
        "UF_TM_MAX_START\t09:15:00",
        "UF_TM_MIN_FINISH\t17:45:00",
        "UF_TM_MIN_DURATION\t08:00:00",
        "UF_TM_ALLOWED_DELTA\t00:15:00",
    ]
    assert cli.json("timeman", "settings", "--user", "1") == DEFAULTS


def test_timeman_settings_for_one_user_and_the_portal(cli: Cli) -> None:
    cli.ok("user", "add", "--name", "Flo", "--last-name", "Flex")
    flex = cli.json("timeman", "settings", "--user", "2", "--free", "--max-start", "10:00")
    assert flex == {**DEFAULTS, "UF_TM_FREE": True, "UF_TM_MAX_START": "10:00:00"}
    # Only that user changed: not the portal, not the administrator.
    assert cli.json("timeman", "settings") == DEFAULTS
    assert cli.json("timeman", "settings", "--user", "1") == DEFAULTS

    # Portal defaults (no --user) reach every setting a user has not overridden.
    portal = cli.json(
        "timeman", "settings", "--no-tracking", "--max-start", "08:30",
        "--min-finish", "18:00:30", "--min-duration", "07:30", "--allowed-delta", "00:05",
    )  # fmt: skip
    expected = {
        "UF_TIMEMAN": False,
        "UF_TM_FREE": False,
        "UF_TM_MAX_START": "08:30:00",
        "UF_TM_MIN_FINISH": "18:00:30",
        "UF_TM_MIN_DURATION": "07:30:00",
        "UF_TM_ALLOWED_DELTA": "00:05:00",
    }
    assert portal == expected
    assert cli.json("timeman", "settings", "--user", "1") == expected
    assert cli.json("timeman", "settings", "--user", "2") == {
        **expected,
        "UF_TM_FREE": True,
        "UF_TM_MAX_START": "10:00:00",
    }


def test_timeman_settings_refusals(cli: Cli) -> None:
    for value in ("25:00", "09:60", "nine"):
        message = cli.fails("timeman", "settings", "--max-start", value)
        assert message == f"error: --max-start must be HH:MM or HH:MM:SS, not {value!r}"
    assert cli.fails("timeman", "settings", "--user", "99", "--free") == "error: no user 99"
    # int() alone would read "-00" as 0 and "+00" as 0: a sign is no clock time.
    for value in ("-00:10", "-0:00:01"):
        assert cli.fails("timeman", "settings", "--allowed-delta", value) == (
            f"error: --allowed-delta cannot be negative, not {value!r}"
        )
    for value in ("+00:10", " 1:00", "1:0x"):
        message = cli.fails("timeman", "settings", "--min-finish", value)
        assert message == f"error: --min-finish must be HH:MM or HH:MM:SS, not {value!r}"
    assert cli.json("timeman", "settings") == DEFAULTS


# --- office networks ---------------------------------------------------------------------


def test_timeman_network_set_list_clear(cli: Cli) -> None:
    assert cli.ok("timeman", "network", "list") == "\n"
    given = cli.ok("timeman", "network", "set", "10.0.0.0 - 10.0.0.255=Lab one", "2001:db8::1")
    # Range, name; spaces around the dash dropped; a blank name leaves no tab.
    assert given == "10.0.0.0-10.0.0.255\tLab one\n2001:db8::1\n"
    assert cli.ok("timeman", "network", "list") == given
    assert cli.json("timeman", "network", "list") == [
        {"ip_range": "10.0.0.0-10.0.0.255", "name": "Lab one"},
        {"ip_range": "2001:db8::1", "name": ""},
    ]
    assert cli.json("timeman", "network", "set", "--clear") == []
    assert cli.json("timeman", "network", "list") == []


def test_timeman_network_refusals_change_nothing(cli: Cli) -> None:
    cli.ok("timeman", "network", "set", "192.168.0.0-192.168.255.255=LAN")
    for bad in ("10.0.0.9-10.0.0.1", "10.0.0.0/8", "10.0.0.1-::1", "lan"):
        assert cli.fails("timeman", "network", "set", "10.0.0.1", f"{bad}=x") == (
            f"error: malformed range {bad!r}: give an address or FIRST-LAST"
        )
    assert cli.fails("timeman", "network", "set") == (
        "error: give ranges (RANGE[=NAME] ...), or --clear"
    )
    assert cli.ok("timeman", "network", "list") == "192.168.0.0-192.168.255.255\tLAN\n"


# --- approvals: days edited through a real server ---------------------------------------

#: The frozen server time while the days are edited.
NOON = "2026-03-02T12:00:00+00:00"
#: What the employees claim: far from NOON, so each open waits for approval.
CLAIMED = {3: "2026-03-02T08:00:00+00:00", 4: "2026-03-02T07:30:00+00:00"}

_WEBHOOK = re.compile(r"^Incoming webhook: (http://\S+/rest/\d+/[^/\s]+/)\s*$")
_DEV_TOKEN = re.compile(r"^Dev token: (\S+)\s*$")


@dataclass
class Serving:
    process: subprocess.Popen[str]
    base_url: str
    webhook_url: str | None
    dev_token: str

    def post(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(url, json=params or {}, timeout=30, trust_env=False)

    def freeze(self, moment: str) -> None:
        answer = httpx.post(
            f"{self.base_url}/_b24local/clock",
            json={"now": moment, "freeze": True},
            headers={"Authorization": f"Bearer {self.dev_token}"},
            timeout=10,
            trust_env=False,
        )
        assert answer.status_code == 200, answer.text

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            pytest.fail("the server did not stop within 15 s of SIGTERM")
        assert status == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(data_dir: Path, log: Path) -> Serving:
    """``b24local serve --dev`` on a free port, once it accepts connections."""
    port = _free_port()
    with log.open("a") as stderr:
        process = subprocess.Popen(
            [SCRIPT, "serve", "--dev", "--port", str(port), "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            env=_env(),
            text=True,
        )
    assert process.stdout is not None
    webhook = token = None
    for line in process.stdout:  # the banner comes at once; EOF if the server died
        webhook = webhook or (m.group(1) if (m := _WEBHOOK.match(line)) else None)
        token = token or (m.group(1) if (m := _DEV_TOKEN.match(line)) else None)
        if token:
            break
    if token is None:
        process.kill()
        pytest.fail(f"b24local serve printed no dev token\n{log.read_text()}")
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"b24local serve does not accept connections\n{log.read_text()}")
            time.sleep(0.05)
    return Serving(process, f"http://127.0.0.1:{port}", webhook, token)


@dataclass
class Edited:
    data_dir: Path
    admin_path: str  # "/rest/1/CODE/": the first-start webhook, valid on any port
    log: Path


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Edited:
    """Boss (2) heads department 2, whose member is Emma (3); Otto (4) sits in the root
    department headed by the administrator. Emma's and Otto's days were opened at
    noon with TIME far earlier: workdays 1 and 2, both waiting for approval."""
    root = tmp_path_factory.mktemp("edited")
    cli = Cli(root / "data")
    assert cli.ok("user", "add", "--name", "Bo", "--last-name", "Boss") == "2\n"
    assert cli.ok("department", "add", "--name", "Team", "--head", "2") == "2\n"
    assert cli.ok("user", "add", "--name", "Emma", "--last-name", "E", "--department", "2") == (
        "3\n"
    )
    assert cli.ok("user", "add", "--name", "Otto", "--last-name", "O") == "4\n"
    tokens = {
        user_id: cli.ok("webhook", "add", "--user", str(user_id), "--scope", "timeman").strip()
        for user_id in (3, 4)
    }

    log = root / "serve.log"
    server = serve(cli.data_dir, log)
    try:
        assert server.webhook_url is not None
        admin_path = server.webhook_url.removeprefix(server.base_url)
        server.freeze(NOON)
        for user_id in (3, 4):
            answer = server.post(
                f"{server.base_url}/rest/{tokens[user_id]}/timeman.open",
                {"TIME": CLAIMED[user_id], "REPORT": f"forgot to clock in ({user_id})"},
            )
            assert answer.status_code == 200, answer.text
            result = answer.json()["result"]
            assert result["STATUS"] == "OPENED"
            assert result["TIME_START"] == CLAIMED[user_id]
            assert result["ACTIVE"] is False
    finally:
        server.stop()
    return Edited(cli.data_dir, admin_path, log)


@pytest.fixture
def days(edited: Edited, tmp_path: Path) -> Cli:
    """A private copy of the edited data."""
    copy = tmp_path / "data"
    shutil.copytree(edited.data_dir, copy)
    return Cli(copy)


def test_pending_and_history_show_the_edits(days: Cli) -> None:
    assert days.ok("timeman", "pending").splitlines() == [
        f"2\t4\t{CLAIMED[4]}",  # the earliest start first
        f"1\t3\t{CLAIMED[3]}",
    ]
    assert days.json("timeman", "pending") == [
        {"id": 2, "user_id": 4, "start": CLAIMED[4], "finish": None, "active": False},
        {"id": 1, "user_id": 3, "start": CLAIMED[3], "finish": None, "active": False},
    ]

    (event,) = days.json("timeman", "history", "1")
    assert event["action"] == "open"
    assert (event["workday_id"], event["user_id"], event["actor_id"]) == (1, 3, 3)
    assert event["needs_approval"] is True
    assert event["report"] == "forgot to clock in (3)"
    assert event["before"] is None
    assert event["after"]["active"] is False
    assert event["after"]["started_at"] == CLAIMED[3]
    assert event["ip"] == "127.0.0.1"
    # Both the claimed and the actual moment are kept.
    assert event["claimed_at"].replace(" ", "T") == CLAIMED[3]
    assert event["at"].replace(" ", "T") == NOON
    assert days.ok("timeman", "history", "2") == (
        f"{NOON}\t4\topen\t{CLAIMED[4]}\tforgot to clock in (4)\n"
    )


def test_approve_by_the_department_head(days: Cli) -> None:
    decided = days.json("timeman", "approve", "1", "--by", "2")
    assert decided == {
        "id": 1, "user_id": 3, "start": CLAIMED[3], "finish": None, "active": True,
    }  # fmt: skip
    assert [d["id"] for d in days.json("timeman", "pending")] == [2]

    events = days.json("timeman", "history", "1")
    assert [(e["action"], e["actor_id"], e["user_id"]) for e in events] == [
        ("open", 3, 3),
        ("approve", 2, 3),
    ]
    approve = events[1]
    assert approve["before"]["active"] is False
    assert approve["after"]["active"] is True
    # The claimed start stands.
    assert approve["after"]["started_at"] == CLAIMED[3]
    assert approve["needs_approval"] is False

    # Decided once: nothing is waiting any more.
    assert days.fails("timeman", "approve", "1", "--by", "2") == (
        "error: workday 1 has no edit waiting for approval"
    )


#: A dev server's clock days after the edits, far from the real time.
DECIDED = "2026-03-05T09:15:00+00:00"


def test_a_decision_goes_by_a_dev_servers_clock(days: Cli, tmp_path: Path) -> None:
    """With --server, approve and reject stamp the time the dev server's clock shows."""
    server = serve(days.data_dir, tmp_path / "serve.log")
    try:
        server.freeze(DECIDED)
        given = ("--server", server.base_url, "--dev-token", server.dev_token)
        assert days.ok("timeman", "approve", "1", "--by", "2", *given) == "1\n"
        assert days.ok("timeman", "reject", "2", "--by", "1", *given) == "2\n"
        assert days.fails("timeman", "approve", "1", "--by", "2", "--server", server.base_url,
                          "--dev-token", "wrong").startswith("error: ")  # fmt: skip
    finally:
        server.stop()
    for workday_id, action in ((1, "approve"), (2, "reject")):
        decision = days.json("timeman", "history", str(workday_id))[-1]
        assert decision["action"] == action
        assert decision["at"].replace(" ", "T") == DECIDED


def test_a_decision_by_a_dev_server_needs_its_token(days: Cli) -> None:
    result = days("timeman", "approve", "1", "--by", "2", "--server", "http://127.0.0.1:9")
    assert result.returncode == 2
    assert result.stderr == "error: --server needs --dev-token (or B24LOCAL_DEV_TOKEN)\n"
    # A server that is not there: refused, and nothing decided.
    refused = days.fails(
        "timeman", "approve", "1", "--by", "2", "--server", "http://127.0.0.1:9", "--dev-token", "t"
    )
    assert refused.startswith("error: cannot reach the dev server at http://127.0.0.1:9")
    assert [d["id"] for d in days.json("timeman", "pending")] == [2, 1]


def test_admin_approves_and_pending_empties(days: Cli) -> None:
    assert days.ok("timeman", "approve", "1", "--by", "1") == "1\n"
    assert days.ok("timeman", "approve", "2", "--by", "1") == "2\n"
    assert days.ok("timeman", "pending") == "\n"
    actors = [(e["action"], e["actor_id"]) for e in days.json("timeman", "history", "2")]
    assert actors == [("open", 4), ("approve", 1)]


def test_only_a_supervisor_may_decide(days: Cli) -> None:
    # Otto is no one's head; Emma may not approve her own day; Boss heads Emma's
    # department, not Otto's.
    assert days.fails("timeman", "approve", "1", "--by", "4") == (
        "error: user 4 does not supervise user 3"
    )
    assert days.fails("timeman", "approve", "1", "--by", "3") == (
        "error: user 3 does not supervise user 3"
    )
    assert days.fails("timeman", "reject", "2", "--by", "2") == (
        "error: user 2 does not supervise user 4"
    )
    assert days.fails("timeman", "approve", "9", "--by", "1") == "error: no workday 9"
    # Nothing was decided.
    assert [d["id"] for d in days.json("timeman", "pending")] == [2, 1]
    assert [e["action"] for e in days.json("timeman", "history", "1")] == ["open"]


def test_reject_moves_the_start_back(days: Cli, edited: Edited) -> None:
    decided = days.json("timeman", "reject", "2", "--by", "1")
    # The claimed 07:30 gives way to noon, when Otto really opened the day.
    assert decided == {"id": 2, "user_id": 4, "start": NOON, "finish": None, "active": True}
    events = days.json("timeman", "history", "2")
    assert [(e["action"], e["actor_id"]) for e in events] == [("open", 4), ("reject", 1)]
    reject = events[1]
    assert reject["before"]["started_at"] == CLAIMED[4]
    assert reject["after"]["started_at"] == NOON
    assert reject["after"]["active"] is True
    assert [d["id"] for d in days.json("timeman", "pending")] == [1]

    # The server, started again on the decided data, reports the same.
    days.ok("timeman", "approve", "1", "--by", "2")
    server = serve(days.data_dir, edited.log)
    try:
        server.freeze("2026-03-02T13:00:00+00:00")
        status = {}
        for user_id in (3, 4):
            answer = server.post(
                f"{server.base_url}{edited.admin_path}timeman.status", {"USER_ID": user_id}
            )
            assert answer.status_code == 200, answer.text
            status[user_id] = answer.json()["result"]
    finally:
        server.stop()
    assert (status[4]["STATUS"], status[4]["TIME_START"], status[4]["ACTIVE"]) == (
        "OPENED",
        NOON,
        True,
    )
    assert (status[3]["STATUS"], status[3]["TIME_START"], status[3]["ACTIVE"]) == (
        "OPENED",
        CLAIMED[3],
        True,
    )


# --- workday records (REST 3.0's timeman.record.list) -----------------------------------------


def test_timeman_records(cli: Cli) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from b24local import admin
    from b24local.scopes.timeman.workday import Break, Workday
    from b24local.store import workdays
    from b24local.store.engine import sqlite_url

    assert cli.json("timeman", "records", "1") == []
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)

    async def seed() -> None:
        store = await admin.open_store(sqlite_url(cli.data_dir))
        try:
            async with store.transaction(write=True) as conn:
                for n in range(3):
                    begin = start + timedelta(days=n)
                    pause = Break(begin + timedelta(hours=3), begin + timedelta(hours=4))
                    day = Workday(begin, 0, finish=begin + timedelta(hours=9), breaks=(pause,))
                    await workdays.save(conn, 1, 1, day, now=begin)
        finally:
            await store.close()

    asyncio.run(seed())
    records = cli.json("timeman", "records", "1", "--since", "2026-03-03", "--limit", "1")
    assert records == [
        {
            "id": 3,
            "userId": 1,
            "startTime": "2026-03-04T09:00:00+00:00",
            "endTime": "2026-03-04T18:00:00+00:00",
            "duration": 8 * 3600,
            "breakLength": 3600,
            "state": "CLOSED",
            "isApproved": True,
        }
    ]
    plain = cli.ok("timeman", "records", "1", "--until", "2026-03-03")
    assert plain == "1\t2026-03-02T09:00:00+00:00\t2026-03-02T18:00:00+00:00\t28800\t3600\tCLOSED\n"
    assert cli.fails("timeman", "records", "99") == "error: no user 99"
    assert cli.fails("timeman", "records", "1", "--since", "soon") == (
        "error: Value of field `startTime` does not fit its type"
    )
