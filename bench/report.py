"""Tables, targets and the results section of docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import re
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import coldstart
from .coldstart import ColdStart
from .wrk import Measured

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Row:
    """One scenario's measurement against one server process."""

    backend: str
    group: str  # "main", "paced", "mixed", "mixed-asyncio", "many", "growth", "journal", "limits"…
    key: str
    title: str
    measured: Measured
    peak_mb: float
    connections: int
    users: int = 0
    transitions: int = 0
    note: str = ""
    #: The server process's CPU time per answered call, in microseconds: what a
    #: call costs, far less swayed than req/s by other work on the machine.
    cpu_us: float = 0.0


@dataclass(frozen=True)
class Target:
    goal: str
    measured: str
    met: bool | None  # None: not measurable in this run


@dataclass
class Section:
    """Everything measured on one backend in one run."""

    backend: str
    mode: str
    rows: list[Row] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)
    #: Spawn to first answer (SQLite only: the embedded store is the one CI starts).
    coldstart: ColdStart | None = None

    def get(self, key: str, group: str = "main") -> Row | None:
        return next((r for r in self.rows if r.key == key and r.group == group), None)


def revision() -> str:
    """The commit measured, and whether src/ differed from it."""
    root = DOCS.parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src")
    return f"{commit} + uncommitted changes in src/" if dirty else commit


def src_fingerprint() -> int:
    """Changes whenever a file under src/ does: a run whose code changed under it
    measured two versions."""
    src = DOCS.parent.parent / "src"
    return hash(tuple((str(p), p.stat().st_mtime_ns) for p in sorted(src.rglob("*.py"))))


def machine(extra: dict[str, str]) -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    wrk_version = (wrk.stdout or wrk.stderr).splitlines()[0].split(" [")[0] if wrk else "?"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code": revision(),
        "CPU": model,
        "cores": str(os.cpu_count()),
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "load generator": wrk_version,
        # Other work on the machine skews every figure; say how busy it was.
        "load average at start": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
        **extra,
    }


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%" if share < 0.1 else f"{100 * share:.0f}%"


def _ms(value: float) -> str:
    return f"{value:.2f}"


def _ratio(row: Row, ceiling: Row | None) -> str:
    # A paced run's rate is chosen, not reached: no share of the ceiling.
    if ceiling is None or not ceiling.measured.rps or row.group in ("paced", "many"):
        return ""
    return _percent(row.measured.rps / ceiling.measured.rps)


def _errors(row: Row) -> str:
    return str(row.measured.errors) if row.measured.errors else "0"


def ceiling_of(section: Section, row: Row) -> Row | None:
    """The ceiling a row is a share of: the one run the same way (``--workers``)."""
    if row.group == "workers":
        return section.get("workers_ceiling", "workers")
    return section.get("ceiling")


def main_table(section: Section) -> str:
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | of ceiling | peak RSS MB | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in section.rows:
        if row.group == "growth":
            continue
        m = row.measured
        title = f"{row.title} ({row.note})" if row.note else row.title
        lines.append(
            f"| {title} | {m.rps:,.0f} | {_ms(m.p50_ms)} | {_ms(m.p99_ms)} | "
            f"{_ratio(row, ceiling_of(section, row))} | {row.peak_mb:.0f} | {_errors(row)} |"
        )
    return "\n".join(lines)


def growth_table(section: Section) -> str:
    lines = [
        "| users | stored transitions | call | req/s | p50 ms | p99 ms | ms per call | "
        "peak RSS MB | errors |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in section.rows:
        if row.group != "growth":
            continue
        m = row.measured
        # One server process does one call at a time: 1000/rps is its cost per call.
        per_call = 1000 / m.rps if m.rps else 0.0
        lines.append(
            f"| {row.users:,} | {row.transitions:,} | {row.title} | {m.rps:,.0f} | "
            f"{_ms(m.p50_ms)} | {_ms(m.p99_ms)} | {per_call:.2f} | {row.peak_mb:.0f} | "
            f"{_errors(row)} |"
        )
    return "\n".join(lines)


def _share(row: Row | None, ceiling: Row | None, goal: float) -> tuple[str, bool | None]:
    if row is None or ceiling is None:
        return "not run", None
    share = row.measured.rps / ceiling.measured.rps
    return f"{_percent(share)} ({row.measured.rps:,.0f} of {ceiling.measured.rps:,.0f} req/s)", (
        share >= goal
    )


def targets(section: Section) -> list[Target]:
    ceiling = section.get("ceiling")
    found: list[Target] = []
    text, met = _share(section.get("read"), ceiling, 0.5)
    found.append(Target("read path ≥ 50% of the ceiling's req/s", text, met))
    many = section.get("workers_read", "workers")
    if many is not None:
        text, met = _share(many, section.get("workers_ceiling", "workers"), 0.5)
        single = section.get("read")
        if single is not None and single.measured.rps:
            text += f"; {many.measured.rps / single.measured.rps:.2f}× one process's"
        found.append(Target("read path on --workers 2 ≥ 50% of a two-process ceiling", text, met))
    suffix = "" if section.backend == "sqlite" else " (the target is set for SQLite)"
    for key, name in (("write", "im.user.status.set"), ("workday", "the workday cycle")):
        text, met = _share(section.get(key), ceiling, 0.25)
        found.append(Target(f"{name} ≥ 25% of the ceiling{suffix}", text, met))

    for key, name in (("read", "the read path"), ("batch", "a batch of 50")):
        off, on = (
            section.get(f"{key}_journal_off", "journal"),
            section.get(f"{key}_journal_on", "journal"),
        )
        if off and on and off.cpu_us:
            ratio = on.cpu_us / off.cpu_us
            text = (
                f"{on.cpu_us:,.0f} vs {off.cpu_us:,.0f} µs of server CPU per call "
                f"({ratio:.2f}×); {on.measured.rps:,.0f} vs {off.measured.rps:,.0f} req/s"
            )
            found.append(
                Target(f"the --dev call journal adds ≤ 10% to {name}'s CPU", text, ratio <= 1.1)
            )

    batch, single = section.get("batch"), section.get("im_user_get")
    if batch and single and not batch.measured.rps:
        found.append(Target("a batch of 50 costs less than 10 single calls", "no batch done", None))
    elif batch and single:
        budget = single.measured.rps / 10
        text = (
            f"batch {batch.measured.rps:,.1f} req/s vs single {single.measured.rps:,.0f} ÷ 10 "
            f"= {budget:,.1f} req/s ({single.measured.rps / batch.measured.rps:.1f} single "
            "calls' time per batch)"
        )
        found.append(
            Target(
                "a batch of 50 costs less than 10 single calls", text, batch.measured.rps > budget
            )
        )

    for group in ("mixed", "mixed-asyncio"):
        reads, writes = section.get("mixed_read", group), section.get("mixed_write", group)
        if reads and writes:
            found.append(_mixed_target(reads, writes))

    many = section.get("manyclients", "many")
    if many:
        m = many.measured
        text = (
            f"p99 {m.p99_ms:.2f} ms (p50 {m.p50_ms:.2f}) at {m.rps:,.0f} req/s, "
            f"{m.errors} errors (5xx or socket), {many.note}"
        )
        met = m.p99_ms < 200 and m.errors == 0 and many.note.startswith("0 ")
        goal = "1,000 paced clients on 20 users' workdays: p99 < 200 ms, no 5xx, no pool time-out"
        found.append(Target(goal, text, met))

    found.extend(_events_targets(section))
    from . import limits  # it imports this module

    found.extend(limits.targets(section))
    if section.coldstart is not None:
        cold = section.coldstart
        text = f"median {cold.fresh:.0f} ms fresh, {cold.existing:.0f} ms existing data directory"
        goal = "cold start under 1 s (spawn to the first answered call)"
        found.append(Target(goal, text, max(cold.fresh, cold.existing) < 1000))

    paced = section.get("paced", "paced")
    if paced:
        text = (
            f"p99 {paced.measured.p99_ms:.2f} ms at {paced.measured.rps:,.0f} req/s ({paced.note})"
        )
        found.append(Target("p99 < 10 ms at half the peak rate", text, paced.measured.p99_ms < 10))

    growth = [r for r in section.rows if r.group == "growth" and r.key == "read_many"]
    plain = [r for r in growth if r.transitions == 0]
    if len(plain) >= 2:
        low, high = plain[0], plain[-1]
        slower = low.measured.rps / high.measured.rps
        text = (
            f"{1000 / low.measured.rps:.2f} ms/call at {low.users:,} users, "
            f"{1000 / high.measured.rps:.2f} ms/call at {high.users:,} ({slower:.2f}×)"
        )
        found.append(
            Target(
                f"per-call cost flat from {low.users:,} to {high.users:,} users (within 20%)",
                text,
                slower <= 1.2,
            )
        )
    if growth:
        most = max(r.users for r in growth)
        at_most = [r for r in section.rows if r.group == "growth" and r.users == most]
        peak = max(r.peak_mb for r in at_most)
        found.append(
            Target(
                f"under 200 MB resident with {most:,} users",
                f"{peak:.0f} MB peak (VmHWM) at {most:,} users",
                peak < 200,
            )
        )
    return found


def _events_targets(section: Section) -> list[Target]:
    """Raising events costs the write path at most 10%; a handler that never answers
    costs it nothing more (within 5%, the noise of one run)."""
    plain = section.get("events_none", "events")
    if plain is None or not plain.measured.rps:
        return []
    found = []
    for key, goal, name in (
        ("events_bound", 0.9, "user.add with handlers bound ≥ 90% of it without"),
        ("events_dead", 0.95, "…with handlers that never answer ≥ 95% of it without"),
    ):
        row = section.get(key, "events")
        if row is None:
            continue
        share = row.measured.rps / plain.measured.rps
        text = f"{_percent(share)} ({row.measured.rps:,.0f} of {plain.measured.rps:,.0f} req/s)"
        found.append(Target(name, text, share >= goal))
    return found


def _mixed_target(reads: Row, writes: Row) -> Target:
    r, w = reads.measured, writes.measured
    ratio = w.p99_ms / r.p99_ms if r.p99_ms else 0.0
    text = (
        f"write p99 {w.p99_ms:,.2f} ms, read p99 {r.p99_ms:,.2f} ms ({ratio:.2f}×); "
        f"p50 {w.p50_ms:,.2f} and {r.p50_ms:,.2f} ms"
    )
    where = f" ({reads.note})" if reads.note else ""
    goal = (
        f"under {reads.connections} reading and {writes.connections} writing connections"
        f"{where}, a write's p99 within 3× a read's"
    )
    if not w.requests:
        return Target(goal, "no write was answered", False)
    return Target(goal, text, bool(r.p99_ms) and ratio <= 3)


def targets_table(section: Section) -> str:
    lines = ["| target | measured | met |", "|---|---|---|"]
    for target in targets(section):
        verdict = {True: "met", False: "**not met**", None: "n/a"}[target.met]
        lines.append(f"| {target.goal} | {target.measured} | {verdict} |")
    return "\n".join(lines)


def render(section: Section) -> str:
    facts = "\n".join(f"- {k}: {v}" for k, v in section.machine.items())
    return (
        f"### {section.backend} ({section.mode})\n\n{facts}\n\n"
        f"{main_table(section)}\n\n"
        f"Growth curve (each row a fresh server process on the same store, grown in place):\n\n"
        f"{growth_table(section)}\n\n"
        f"{_coldstart_part(section)}"
        f"Targets:\n\n{targets_table(section)}\n"
    )


def _coldstart_part(section: Section) -> str:
    if section.coldstart is None:
        return ""
    return (
        "Cold start (`b24local serve` spawned to its first answered `server.time`):\n\n"
        f"{coldstart.table(section.coldstart)}\n\n"
    )


def _markers(backend: str) -> tuple[str, str]:
    return f"<!-- bench:{backend}:start -->", f"<!-- bench:{backend}:end -->"


def write_docs(section: Section, docs: Path = DOCS) -> None:
    """Replace this backend's results between its markers (appended if absent)."""
    start, end = _markers(section.backend)
    block = f"{start}\n{render(section)}{end}"
    text = docs.read_text() if docs.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    docs.write_text(text)
