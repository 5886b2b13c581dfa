"""``b24local schedule add/update/assign/list/remove/load``, run in process (the
command line's own code, without a subprocess per call) against a data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from b24local.cli import app

runner = CliRunner()


@pytest.fixture
def b24(tmp_path: Path, monkeypatch):
    for name in ("B24LOCAL_DB", "B24LOCAL_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"

    def run(*args: str, ok: bool = True):
        done = runner.invoke(app, [*args, "--data-dir", str(data)])
        if ok:
            assert done.exit_code == 0, (done.stdout, done.stderr)
        return done

    return run


def as_json(done) -> object:
    return json.loads(done.stdout)


def test_add_prints_the_schedule_as_the_method_answers(b24):
    done = b24("schedule", "add", "Office", "--shift", "08:00-17:00@12345/01:00",
               "--holiday", "2026-12-25", "--working-day", "2026-12-26",
               "--max-start", "08:00:59", "--min-duration", "08:00", "--json")  # fmt: skip
    found = as_json(done)
    assert (found["ID"], found["NAME"], found["SCHEDULE_TYPE"]) == (1, "Office", "FIXED")
    assert found["SHIFTS"] == [
        {"ID": 1, "NAME": "", "BREAK_DURATION": 3600, "WORK_TIME_START": 28800,
         "WORK_TIME_END": 61200, "WORK_DAYS": "12345", "SCHEDULE_ID": 1, "DELETED": False}
    ]  # fmt: skip
    assert found["CALENDAR"]["EXCLUSIONS"] == {"2026": {"12": {"25": 0, "26": 1}}}
    rules = found["SCHEDULE_VIOLATION_RULES"]
    assert (rules["MAX_EXACT_START"], rules["MIN_DAY_DURATION"]) == (28859, 28800)
    assert b24("schedule", "add", "Flex", "--type", "flextime", "--for-all").stdout == (
        "2\tFlex\tFLEXTIME\tMONTH\t\tall\n"
    )
    assert b24("schedule", "list").stdout == (
        "1\tOffice\tFIXED\tMONTH\t08:00-17:00@12345\n2\tFlex\tFLEXTIME\tMONTH\t\tall\n"
    )


def test_update_changes_only_what_is_given(b24):
    b24("schedule", "add", "Office", "--shift", "08:00-17:00")
    found = as_json(b24("schedule", "update", "1", "--period", "WEEK", "--week-start", "6",
                        "--json"))  # fmt: skip
    assert (found["REPORT_PERIOD"], found["REPORT_PERIOD_OPTIONS"]) == (
        "WEEK",
        {"START_WEEK_DAY": 6},
    )
    assert found["SHIFTS"][0]["WORK_TIME_START"] == 28800
    found = as_json(b24("schedule", "update", "1", "--shift", "10:00-19:00@67", "--json"))
    assert [(s["ID"], s["WORK_DAYS"]) for s in found["SHIFTS"]] == [(2, "67")]


def test_assign_and_exclude(b24):
    b24("department", "add", "--name", "Sales")
    b24("user", "add", "--name", "Sam", "--last-name", "S", "--department", "2")
    b24("schedule", "add", "Office")
    found = as_json(b24("schedule", "assign", "1", "--user", "2", "--department", "1",
                        "--exclude-department", "2", "--json"))  # fmt: skip
    assert found == {"ID": 1, "IS_FOR_ALL_USERS": False, "USERS": [2], "DEPARTMENTS": [1],
                     "EXCLUDED_USERS": [], "EXCLUDED_DEPARTMENTS": [2]}  # fmt: skip
    # Named both ways, the later word wins: excluding a user drops the assignment.
    found = as_json(b24("schedule", "assign", "1", "--exclude-user", "2", "--for-all", "--json"))
    assert (found["USERS"], found["EXCLUDED_USERS"], found["IS_FOR_ALL_USERS"]) == ([], [2], True)
    found = as_json(b24("schedule", "assign", "1", "--clear", "--json"))
    assert found["DEPARTMENTS"] == found["EXCLUDED_USERS"] == []
    settings = as_json(b24("timeman", "settings", "--user", "2", "--json"))
    assert settings["UF_TM_MAX_START"] == "09:00:00", "for all users: its shift decides"


def test_remove_marks_deleted(b24):
    b24("schedule", "add", "Office")
    assert as_json(b24("schedule", "remove", "1", "--json"))["DELETED"] == "1"
    assert b24("schedule", "list").stdout.strip() == ""
    assert b24("schedule", "list", "--deleted").stdout.endswith("\tdeleted\n")
    assert b24("schedule", "remove", "1", ok=False).exit_code == 1


@pytest.mark.parametrize(
    "args, complaint",
    [
        (["add", "X", "--type", "NIGHT"], "SCHEDULE_TYPE must be one of"),
        (["add", "X", "--shift", "25:00-18:00"], "WORK_TIME_START must be"),
        (["add", "X", "--holiday", "2026-13-01"], "is not a date"),
        (["add", "X", "--min-duration", "8h"], "a length must be"),
        (["update", "7", "--name", "Y"], "no schedule 7"),
        (["assign", "1", "--user", "99"], "no user 99"),
        (["assign", "1", "--department", "99"], "no department 99"),
    ],
)
def test_mistakes_are_one_line_on_stderr(b24, args, complaint):
    b24("schedule", "add", "Office")
    done = b24("schedule", *args, ok=False)
    assert done.exit_code == 1
    assert complaint in done.stderr
    assert done.stdout == ""


SEED = {
    "schedules": [
        {"NAME": "Office", "SHIFTS": [{"WORK_TIME_START": "08:00", "WORK_TIME_END": "17:00"}],
         "CALENDAR": {"EXCLUSIONS": {"2026-12-25": 0}}, "ASSIGNMENTS": {"DEPARTMENTS": [1]}},
        {"ID": 5, "NAME": "Flexible", "SCHEDULE_TYPE": "FLEXTIME", "IS_FOR_ALL_USERS": True},
    ]
}  # fmt: skip


def test_load_is_idempotent(b24, tmp_path):
    seed = tmp_path / "schedules.json"
    seed.write_text(json.dumps(SEED))
    assert b24("schedule", "load", str(seed)).stdout == "added\t1\tOffice\nadded\t5\tFlexible\n"
    before = b24("schedule", "list", "--json").stdout
    assert b24("schedule", "load", str(seed)).stdout == (
        "unchanged\t1\tOffice\nunchanged\t5\tFlexible\n"
    )
    assert b24("schedule", "list", "--json").stdout == before
    SEED["schedules"][1]["REPORT_PERIOD"] = "QUARTER"
    seed.write_text(json.dumps(SEED))
    assert "updated\t5\tFlexible" in b24("schedule", "load", str(seed)).stdout


def test_load_toml(b24, tmp_path):
    seed = tmp_path / "schedules.toml"
    seed.write_text(
        '[[schedules]]\nNAME = "Night"\nSCHEDULE_TYPE = "SHIFT"\n'
        '[[schedules.SHIFTS]]\nWORK_TIME_START = "22:00"\nWORK_TIME_END = "06:00"\n'
    )
    assert b24("schedule", "load", str(seed)).stdout == "added\t1\tNight\n"
    shift = as_json(b24("schedule", "list", "--json"))[0]["SHIFTS"][0]
    assert (shift["WORK_TIME_START"], shift["WORK_TIME_END"]) == (79200, 21600)


@pytest.mark.parametrize(
    "text, complaint",
    [
        ("{", "is not valid JSON"),
        ('{"schedules": {"NAME": "x"}}', "expected a list of schedules"),
        ('[{"NAME": "ok"}, {"NAME": "bad", "SHIFTS": [{"WORK_DAYS": "8"}]}]', "schedule #2"),
        ('[{"ID": "one", "NAME": "x"}]', "ID must be a positive whole number"),
    ],
)
def test_a_bad_file_loads_nothing(b24, tmp_path, text, complaint):
    seed = tmp_path / "schedules.json"
    seed.write_text(text)
    done = b24("schedule", "load", str(seed), ok=False)
    assert done.exit_code == 1 and complaint in done.stderr
    assert b24("schedule", "list").stdout.strip() == ""


@pytest.mark.parametrize("command", ["add", "update", "assign", "list", "remove", "load"])
def test_every_command_explains_itself(command):
    done = runner.invoke(app, ["schedule", command, "--help"])
    assert done.exit_code == 0, done.stderr
    assert "--json" in done.stdout
