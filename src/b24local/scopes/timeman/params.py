"""Reading ``timeman.*`` parameters: ``TIME``, ``REPORT``, ``LAT``/``LON``."""

from __future__ import annotations

import math
import re
from datetime import datetime

from b24local.rest.errors import ErrorSpec
from b24local.rest.params import Params, php_str

from .workday import Place

MAX_REPORT = 5000

# The real wrapper's answer when DateTime::createFromFormat(ATOM) fails.
TIME_FORMAT = ErrorSpec(
    "WRONG_DATETIME_FORMAT",
    400,
    "Wrong datetime format",
    "TIME is not an ATOM date-time (Y-m-d\\TH:i:sP, no fractions), or no such date exists",
)
REPORT_TOO_LONG = ErrorSpec(
    "REPORT", 400, f"Report is longer than {MAX_REPORT} characters", "REPORT too long"
)
BAD_LAT = ErrorSpec("LAT", 400, "LAT must be a latitude from -90 to 90", "LAT out of range")
BAD_LON = ErrorSpec("LON", 400, "LON must be a longitude from -180 to 180", "LON out of range")
ERRORS = (TIME_FORMAT, REPORT_TOO_LONG, BAD_LAT, BAD_LON)

# ATOM (Y-m-d\TH:i:sP): whole seconds, as PHP's format has no fractions; "Z" is
# read as +00:00 like PHP does.
_ATOM = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:?\d{2}|Z)")


def moment(params: Params) -> datetime | None:
    """``TIME``, with the offset it was given in; absent (or JSON ``null``) means "now".

    A ``TIME`` that is set must parse, empty included: the real wrapper tests PHP's
    ``isset``, and an empty string is no ATOM date-time.
    """
    if params.get("TIME") is None:
        return None
    text = php_str(params.get("TIME")).strip()
    if not _ATOM.fullmatch(text):
        raise TIME_FORMAT()
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise TIME_FORMAT() from None


def report(params: Params) -> str:
    text = params.str("REPORT")
    if len(text) > MAX_REPORT:
        raise REPORT_TOO_LONG()
    return text


def _coordinate(params: Params, key: str, limit: float, error: ErrorSpec) -> float | None:
    if not params.has(key) or php_str(params.get(key)).strip() == "":
        return None
    try:
        value = float(php_str(params.get(key)).strip())
    except ValueError:
        raise error() from None
    if not math.isfinite(value) or abs(value) > limit:
        raise error()
    return value


def place(params: Params, ip: str) -> Place:
    return Place(
        ip=ip,
        lat=_coordinate(params, "LAT", 90, BAD_LAT),
        lon=_coordinate(params, "LON", 180, BAD_LON),
    )
