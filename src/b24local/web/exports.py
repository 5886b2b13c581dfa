"""A report as files a spreadsheet opens cleanly: CSV (a row per person and day)
and XLSX (sheets of days, people and departments, with real dates and durations).

Names come from users, so a cell is never taken for a formula: CSV text that a
spreadsheet would read as one is prefixed with ``'``, and XLSX text is written as
text, never through XlsxWriter's guessing ``write``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import xlsxwriter

from b24local.scopes.timeman.report import hms
from b24local.scopes.timeman.tally import DayTally, Totals

from .catalogue import Catalogue
from .reports import Report, Row

#: What a spreadsheet starts a formula (or a DDE call) with; the full-width signs
#: too, which East Asian versions of Excel read as the ASCII ones.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_DAY_COLUMNS = (
    "id", "person", "departments", "date", "started", "finished", "worked", "breaks",
    "late", "early", "absences", "absent",
)  # fmt: skip
_TOTAL_COLUMNS = ("days", "worked", "breaks", "late", "early", "absences", "absent")


def safe_text(text: str) -> str:
    """Text a spreadsheet shows as it is, rather than evaluates. Spreadsheets skip
    leading blanks (spaces, no-break spaces) before deciding a cell is a formula,
    so the sign is looked for after them too."""
    risky = text.startswith(_FORMULA_START) or text.lstrip().startswith(_FORMULA_START)
    return "'" + text if risky else text


def _headers(t: Catalogue, names: tuple[str, ...]) -> list[str]:
    return [t(f"reports.column.{name}") for name in names]


def _departments_of(report: Report) -> dict[int, str]:
    return {row.key: row.detail for row in report.people}


def csv_bytes(report: Report, t: Catalogue) -> bytes:
    """UTF-8 with a byte order mark (how Excel knows it is UTF-8), CRLF rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_headers(t, _DAY_COLUMNS))
    departments = _departments_of(report)
    for day in report.days:
        writer.writerow(
            [
                day.user_id,
                safe_text(report.names.get(day.user_id, "")),
                safe_text(departments.get(day.user_id, "")),
                day.date.isoformat(),
                day.start.strftime("%H:%M"),
                day.finish.strftime("%H:%M") if day.finish else "",
                hms(day.worked),
                hms(day.breaks),
                int(day.late),
                int(day.early),
                day.absences,
                hms(day.absent),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


def _span(value: timedelta) -> float:
    """A duration as a spreadsheet keeps one: a fraction of a day."""
    return value.total_seconds() / 86400


def xlsx_bytes(report: Report, t: Catalogue) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF7", "bottom": 1})
    formats = {
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "clock": book.add_format({"num_format": "hh:mm"}),
        "span": book.add_format({"num_format": "[h]:mm:ss"}),
    }

    def sheet(title: str, columns: tuple[str, ...], widths: tuple[int, ...]):
        page = book.add_worksheet(title[:31])
        page.write_row(0, 0, _headers(t, columns), bold)
        for i, width in enumerate(widths):
            page.set_column(i, i, width)
        page.freeze_panes(1, 0)
        return page

    days = sheet(t("reports.sheet.days"), _DAY_COLUMNS, (8, 24, 24, 12, 9, 9, 10, 10, 8, 8, 10, 10))
    departments = _departments_of(report)
    for r, day in enumerate(report.days, start=1):
        _day_row(days, r, day, report.names.get(day.user_id, ""),
                 departments.get(day.user_id, ""), formats)  # fmt: skip
    days.autofilter(0, 0, max(len(report.days), 1), len(_DAY_COLUMNS) - 1)

    people = sheet(t("reports.sheet.people"), ("id", "person", "departments", *_TOTAL_COLUMNS),
                   (8, 24, 24, 8, 10, 10, 8, 8, 10, 10))  # fmt: skip
    _total_rows(people, report.people, formats)
    units = sheet(t("reports.sheet.departments"), ("id", "department", "people", *_TOTAL_COLUMNS),
                  (8, 28, 8, 8, 10, 10, 8, 8, 10, 10))  # fmt: skip
    _total_rows(units, report.departments, formats, members=True)
    book.close()
    return out.getvalue()


def _day_row(page, r: int, day: DayTally, name: str, departments: str, formats) -> None:
    page.write_number(r, 0, day.user_id)
    page.write_string(r, 1, name)
    page.write_string(r, 2, departments)
    page.write_datetime(r, 3, day.date, formats["date"])
    page.write_datetime(r, 4, day.start.replace(tzinfo=None).time(), formats["clock"])
    if day.finish is not None:
        page.write_datetime(r, 5, day.finish.replace(tzinfo=None).time(), formats["clock"])
    page.write_number(r, 6, _span(day.worked), formats["span"])
    page.write_number(r, 7, _span(day.breaks), formats["span"])
    page.write_number(r, 8, int(day.late))
    page.write_number(r, 9, int(day.early))
    page.write_number(r, 10, day.absences)
    page.write_number(r, 11, _span(day.absent), formats["span"])


def _totals(totals: Totals) -> Iterator[tuple[float, str | None]]:
    yield totals.days, None
    yield _span(totals.worked), "span"
    yield _span(totals.breaks), "span"
    yield totals.late, None
    yield totals.early, None
    yield totals.absences, None
    yield _span(totals.absent), "span"


def _total_rows(page, rows: list[Row], formats, members: bool = False) -> None:
    """A person's line (their departments' names) or a department's (its people)."""
    for r, row in enumerate(rows, start=1):
        page.write_number(r, 0, row.key)
        page.write_string(r, 1, row.name)
        if members:
            page.write_number(r, 2, row.members)
        else:
            page.write_string(r, 2, row.detail)
        for c, (value, kind) in enumerate(_totals(row.totals), start=3):
            if kind:
                page.write_number(r, c, value, formats[kind])
            else:
                page.write_number(r, c, value)
