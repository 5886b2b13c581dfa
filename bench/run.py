"""The run: seed, start a server per scenario, load it with wrk, report.

Every scenario gets its own server process, so the peak memory (VmHWM) read
after it belongs to that scenario alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from b24local import admin
from b24local.store.engine import Store

from . import (
    board,
    coldstart,
    databases,
    events,
    limits,
    monthreport,
    profile,
    report,
    reset,
    scenarios,
    seed,
    server,
    wrk,
)
from .databases import Database
from .scenarios import Scenario

#: What the server logs when a call found no pooled connection in time (rest/dispatch.py).
POOL_TIMEOUT = "no database connection came free"


@dataclass(frozen=True)
class Plan:
    mode: str
    seconds: float
    connections: int
    warmup: float
    main_users: int
    #: (users, stored transitions) at each point of the growth curve, in order.
    growth: tuple[tuple[int, int], ...]
    #: Spawns per cold-start figure (each data directory kind).
    spawns: int = 15
    #: Run only the scenarios with these keys (and the read path and the ceiling,
    #: which every ratio needs); empty: all of them.
    only: frozenset[str] = frozenset()
    #: A Redis to keep the limits in for the ``limits`` scenarios; none: not run.
    redis_url: str = ""

    def runs(self, key: str) -> bool:
        return not self.only or key in self.only


FULL_GROWTH = ((1_000, 0), (10_000, 0), (100_000, 0), (100_000, 1_000_000))
QUICK_GROWTH = ((1_000, 0), (5_000, 0), (5_000, 50_000))


def make_plan(args: argparse.Namespace) -> Plan:
    only = frozenset(k for k in args.only.split(",") if k)
    redis_url = args.redis or ""
    if args.quick:
        return Plan(
            "quick", args.duration or 2, args.connections, 1, 5_000, QUICK_GROWTH, 5, only,
            redis_url,
        )  # fmt: skip
    return Plan(
        "full", args.duration or 10, args.connections, 1, 10_000, FULL_GROWTH, 15, only,
        redis_url,
    )  # fmt: skip


async def _with_store(url: str, work: Callable[[Store], Awaitable[object]]) -> None:
    store = await admin.open_store(url)
    try:
        await work(store)
        await seed.analyze(store)
    finally:
        await store.close()


def _seed(db: Database, work: Callable[[Store], Awaitable[object]]) -> None:
    asyncio.run(_with_store(db.url, work))


def check(base_url: str, call: wrk.Call) -> bytes:
    """One call by hand before the load: a scenario that fails is a bug, not a
    measurement."""
    data = call.body.encode() if call.body is not None else None
    request = urllib.request.Request(base_url + call.path, data=data, method=call.method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
        raise SystemExit(f"{call.method} {call.path} failed: {error.code} {body[:500]!r}") from None
    answer = json.loads(body)
    inner = answer.get("result")
    if "error" in answer or (isinstance(inner, dict) and inner.get("result_error")):
        raise SystemExit(f"{call.method} {call.path} failed: {body[:500]!r}")
    return body


class Runner:
    def __init__(self, plan: Plan, workdir: Path, profile_keys: set[str]) -> None:
        self.plan = plan
        self.workdir = workdir
        self.profile_keys = profile_keys
        self.profiles: dict[str, str] = {}

    def measure(
        self,
        start: Callable[[], server.Server],
        scenario: Scenario,
        section: report.Section,
        *,
        group: str = "main",
        load: wrk.Load | None = None,
        note: str = "",
        users: int = 0,
        transitions: int = 0,
    ) -> tuple[report.Row, bytes]:
        load = load or wrk.Load(self.plan.connections, self.plan.seconds)
        rows, bodies = self.measure_together(
            start,
            [(scenario, load)],
            section,
            group=group,
            note=note,
            users=users,
            transitions=transitions,
        )
        return rows[0], bodies[0]

    def measure_together(
        self,
        start: Callable[[], server.Server],
        parts: list[tuple[Scenario, wrk.Load]],
        section: report.Section,
        *,
        group: str = "main",
        note: str = "",
        users: int = 0,
        transitions: int = 0,
    ) -> tuple[list[report.Row], list[bytes]]:
        """Load one server with each part's calls at once, a wrk process each."""
        names = [
            f"{section.backend}-{group}-{scenario.key}-{users}-{transitions}"
            for scenario, _ in parts
        ]
        for scenario, load in parts:
            where = f"{group}{f', {users:,} users' if users else ''}, -c{load.connections}"
            print(f"  {scenario.title} ({where})...", flush=True)
        proc = start()
        try:
            bodies = [check(proc.base, scenario.calls[0]) for scenario, _ in parts]
            # A short unmeasured run first: statement caches, pools, imports.
            warm = [
                wrk.start(
                    proc.base,
                    scenario.calls,
                    wrk.Load(load.connections, self.plan.warmup, load.rate, load.jitter),
                    self.workdir,
                    name + "-warmup",
                    scenario.lua(name + "-warmup") if scenario.lua else None,
                    refusals_ok=scenario.refusals_ok,
                )
                for (scenario, load), name in zip(parts, names, strict=True)
            ]
            for running in warm:
                wrk.finish(running)
            sampler = None
            profiled = [s.key for s, _ in parts if s.key in self.profile_keys]
            if profiled and group in ("main", "mixed", "many"):
                raw = self.workdir / f"{names[0]}.profile.txt"
                sampler = profile.start(proc.pid, parts[0][1].seconds, raw)
            cpu_before = proc.cpu_seconds()
            runs = [
                wrk.start(
                    proc.base,
                    scenario.calls,
                    load,
                    self.workdir,
                    name,
                    scenario.lua(name) if scenario.lua else None,
                    refusals_ok=scenario.refusals_ok,
                )
                for (scenario, load), name in zip(parts, names, strict=True)
            ]
            measured = [wrk.finish(running) for running in runs]
            cpu = proc.cpu_seconds() - cpu_before
            peak = proc.peak_rss_mb()
            if sampler is not None:
                sampler.wait(timeout=60)
                title = " + ".join(s.title for s, _ in parts)
                self.profiles[f"{section.backend} {title}"] = profile.summarize(raw)
        finally:
            proc.stop()
        rows = []
        for (scenario, load), m in zip(parts, measured, strict=True):
            row = report.Row(
                section.backend,
                group,
                scenario.key,
                scenario.title,
                m,
                peak,
                load.connections,
                users=users,
                transitions=transitions,
                note=note,
                # Shared among the parts run at once: meaningful for a single part.
                cpu_us=cpu / max(sum(x.requests for x in measured), 1) * 1e6,
            )
            section.rows.append(row)
            rows.append(row)
            print(
                f"    {m.rps:,.0f} req/s, p50 {m.p50_ms:.2f} ms, p99 {m.p99_ms:.2f} ms, "
                f"peak {peak:.0f} MB, errors {m.errors}, {row.cpu_us:.0f} µs CPU per call",
                flush=True,
            )
        return rows, bodies

    def b24local(self, db: Database, log: str, loop: str = "") -> Callable[[], server.Server]:
        return lambda: server.start_b24local(
            db.data_dir, db.server_url, self.workdir / log, loop=loop
        )

    def main_group(self, db: Database, section: report.Section) -> None:
        seeded = seed.Seeded()

        async def fill(store: Store) -> None:
            await seed.base(store, seeded)
            await seed.add_users(store, seeded, self.plan.main_users)
            if self.plan.runs("record_list"):
                await seed.add_records(store, seeded)

        print(f"[{db.backend}] seeding {self.plan.main_users:,} users", flush=True)
        _seed(db, fill)
        start = self.b24local(db, f"{db.backend}-main.log")
        read = scenarios.read(seeded)
        read_row, body = self.measure(start, read, section)
        for scenario in scenarios.after_read(seeded):
            if self.plan.runs(scenario.key):
                self.measure(start, scenario, section)

        if self.plan.runs("journal"):
            self.journal_group(db, seeded, section)
        if self.plan.runs("limits") and self.plan.redis_url:
            limits.group(self, db, seeded, section, self.plan.redis_url)

        # The ceiling answers with the read path's own body: the same size.
        body_file = self.workdir / "ceiling-body.json"
        body_file.write_bytes(body)
        ceiling = Scenario("ceiling", "ceiling: bare Starlette, constant body", read.calls)
        log = self.workdir / "ceiling.log"
        note = f"{len(body)}-byte body"
        self.measure(lambda: server.start_ceiling(body_file, log), ceiling, section, note=note)
        section.rows.insert(0, section.rows.pop())  # the ceiling heads the table
        if self.plan.runs("workers"):
            self.workers_group(db, read, body_file, section)

        if self.plan.runs("mixed"):
            self.mixed(start, seeded, section)
            # The same on asyncio's own loop: uvloop's own unfairness at 320
            # connections (docs/benchmarks.md) would hide what the store does.
            on_asyncio = self.b24local(db, f"{db.backend}-asyncio.log", loop="asyncio")
            self.mixed(on_asyncio, seeded, section, loop="asyncio")
        if self.plan.runs("manyclients"):
            self.many_clients(db, seeded, section, start)
        if not self.plan.runs("paced"):
            return
        half = read_row.measured.rps / 2
        how = f"wrk2 -R {half:,.0f}" if wrk.find_wrk2() else f"wrk paced to ~{half:,.0f} req/s"
        paced = Scenario("paced", "im.user.status.get at half the peak rate", read.calls)
        load = wrk.Load(self.plan.connections, self.plan.seconds, rate=half)
        self.measure(start, paced, section, group="paced", load=load, note=how)
        # Within SQLAlchemy's default pool (5 + 10 overflow that are closed on return):
        # shows what opening connections under load costs.
        few = Scenario("read_c4", "im.user.status.get (webhook), 4 connections", read.calls)
        self.measure(start, few, section, load=wrk.Load(4, self.plan.seconds))

    def workers_group(
        self,
        db: Database,
        read: Scenario,
        body_file: Path,
        section: report.Section,
        count: int = 2,
    ) -> None:
        """The read path on ``serve --workers N`` against the ceiling run the same way
        (N processes, each on its own ``SO_REUSEPORT`` socket, under the same
        supervisor): what several processes give, and what b24local keeps of it."""
        log = self.workdir / f"ceiling-workers-{count}.log"
        ceiling = Scenario(
            "workers_ceiling", f"ceiling: bare Starlette, {count} processes", read.calls
        )
        self.measure(
            lambda: server.start_ceiling(body_file, log, workers=count),
            ceiling,
            section,
            group="workers",
        )
        keyed = Scenario("workers_read", f"{read.title}, --workers {count}", read.calls, read.lua)

        def start() -> server.Server:
            return server.start_b24local(
                db.data_dir,
                db.server_url,
                self.workdir / f"{db.backend}-workers-{count}.log",
                args=["--workers", str(count)],
            )

        self.measure(start, keyed, section, group="workers", note=f"{count} processes")

    def journal_group(self, db: Database, seeded: seed.Seeded, section: report.Section) -> None:
        """What the ``--dev`` call journal costs: the read path and a 50-command batch
        on ``serve --dev``, with the journal off (``B24LOCAL_JOURNAL_SIZE=0``) and on
        (its default 10,000 calls, full after the first second)."""
        for scenario in (scenarios.read(seeded), scenarios.batch(seeded)):
            for state, env in (("off", {"B24LOCAL_JOURNAL_SIZE": "0"}), ("on", {})):
                log = self.workdir / f"{db.backend}-{scenario.key}-journal-{state}.log"

                def start(log: Path = log, env: dict[str, str] = env) -> server.Server:
                    return server.start_b24local(
                        db.data_dir, db.server_url, log, args=["--dev"], env=env
                    )

                keyed = Scenario(
                    f"{scenario.key}_journal_{state}",
                    f"{scenario.title}, --dev",
                    scenario.calls,
                    scenario.lua,
                )
                self.measure(start, keyed, section, group="journal", note=f"journal {state}")

    def mixed(
        self,
        start: Callable[[], server.Server],
        seeded: seed.Seeded,
        section: report.Section,
        loop: str = "",
    ) -> None:
        """Readers and writers at once (see ``scenarios.mixed``)."""
        parts = [
            (scenario, wrk.Load(connections, self.plan.seconds))
            for scenario, connections in scenarios.mixed(seeded)
        ]
        group = f"mixed-{loop}" if loop else "mixed"
        note = f"{loop} event loop" if loop else ""
        self.measure_together(start, parts, section, group=group, note=note)

    def many_clients(
        self,
        db: Database,
        seeded: seed.Seeded,
        section: report.Section,
        start_main: Callable[[], server.Server],
    ) -> None:
        """A thousand clients on twenty users' workdays (``scenarios.many_clients``),
        paced together to half the rate the workday cycle reached in this run (as
        the read path's p99 is taken at half its peak), with room for every one of
        them (``--max-connections``); the server's log tells how many calls found no
        pooled connection in time."""
        cycle = section.get("workday")
        if cycle is None:
            cycle, _ = self.measure(start_main, scenarios.workday_cycle(seeded), section)
        rate = max(cycle.measured.rps / 2, 1.0)
        pause = scenarios.MANY_CLIENTS / rate
        log = self.workdir / f"{db.backend}-manyclients.log"

        def start() -> server.Server:
            # Room for every client, each kept open through its longest pause.
            args = [
                "--max-connections",
                str(scenarios.MANY_CLIENTS + 200),
                "--keep-alive-timeout",
                str(round(2 * pause + 30)),
            ]
            return server.start_b24local(db.data_dir, db.server_url, log, args=args)

        # Long enough for every client to call a few times, even in a quick run
        # (each pauses MANY_CLIENTS / rate seconds on average), within reason.
        seconds = min(max(self.plan.seconds, 3 * pause), 30)
        load = wrk.Load(scenarios.MANY_CLIENTS, seconds, rate=rate, jitter=True)
        scenario = scenarios.many_clients(seeded, rate)
        row, _ = self.measure(start, scenario, section, group="many", load=load)
        timeouts = log.read_text(errors="replace").count(POOL_TIMEOUT) if log.exists() else 0
        section.rows[section.rows.index(row)] = dataclasses.replace(
            row, note=f"{timeouts} pool time-outs"
        )

    def events_group(self, new_db: Callable[[str], Database], section: report.Section) -> None:
        """user.add with no handler, with handlers that answer, and with handlers that
        never answer (see bench/events.py), each on a fresh database so that none
        runs on the users the one before added."""
        runs = (
            ("events_none", "no handler bound", contextlib.nullcontext(None)),
            ("events_bound", "handlers that answer", events.answering_handler()),
            ("events_dead", "handlers that never answer", events.silent_handler()),
        )
        for key, how, handler in runs:
            db = new_db(key)
            seeded = seed.Seeded()
            with handler as url:
                bound: list[int] = []

                async def fill(
                    store: Store, url: str | None = url, bound=bound, seeded=seeded
                ) -> None:
                    await seed.base(store, seeded)
                    bound.append(await events.bind_everything(store, url))

                print(f"[{db.backend}] seeding {key}", flush=True)
                _seed(db, fill)
                start = self.b24local(db, f"{db.backend}-{key}.log")
                scenario = events.user_adds(seeded, key, how)
                self.measure(start, scenario, section, group="events", note=f"{bound[0]} handlers")

    def growth_group(self, db: Database, section: report.Section) -> None:
        seeded = seed.Seeded()
        start = self.b24local(db, f"{db.backend}-growth.log")
        for users, transitions in self.plan.growth:

            async def grow(
                store: Store, users: int = users, transitions: int = transitions
            ) -> None:
                if not seeded.admin_code:
                    await seed.base(store, seeded)
                await seed.add_users(store, seeded, users)
                if transitions > seeded.transitions:
                    await seed.add_transitions(store, seeded, transitions - seeded.transitions)

            print(
                f"[{db.backend}] growing to {users:,} users, {transitions:,} transitions",
                flush=True,
            )
            _seed(db, grow)
            for scenario in (scenarios.read_rotating(seeded), scenarios.timeman_status(seeded)):
                self.measure(
                    start, scenario, section, group="growth", users=users, transitions=transitions
                )


def run_backend(runner: Runner, backend: str, pg_url: str | None) -> report.Section:
    plan = runner.plan
    extra = {"mode": f"{plan.mode}: {plan.seconds:g} s per scenario, wrk -t1 -c{plan.connections}"}
    dbs: list[Database] = []
    try:
        if backend == "postgresql":
            assert pg_url is not None
            extra["PostgreSQL"] = databases.server_version(pg_url)
            main_db = databases.postgresql(pg_url, runner.workdir / "pg-main")
            dbs.append(main_db)
            growth_db = databases.postgresql(pg_url, runner.workdir / "pg-growth")
            dbs.append(growth_db)

            def events_db(key: str) -> Database:
                assert pg_url is not None
                made = databases.postgresql(pg_url, runner.workdir / f"pg-{key}")
                dbs.append(made)
                return made
        else:
            main_db = databases.sqlite(runner.workdir / "sqlite-main")
            growth_db = databases.sqlite(runner.workdir / "sqlite-growth")

            def events_db(key: str) -> Database:
                return databases.sqlite(runner.workdir / f"sqlite-{key}")

        section = report.Section(backend, plan.mode, machine=report.machine(extra))
        before = report.src_fingerprint()
        if backend == "sqlite" and plan.runs("coldstart"):
            # First, while the machine is quiet: no server of ours is running.
            print(f"[sqlite] cold start, {plan.spawns} spawns each", flush=True)
            section.coldstart = coldstart.measure(runner.workdir, plan.spawns)
            print(coldstart.table(section.coldstart), flush=True)
        runner.main_group(main_db, section)
        if plan.runs("events"):
            runner.events_group(events_db, section)
        if plan.runs("growth"):
            runner.growth_group(growth_db, section)
        if report.src_fingerprint() != before:
            section.machine["warning"] = "src/ changed during this run: it measured two versions"
            print(f"WARNING: {section.machine['warning']}", flush=True)
        return section
    finally:
        for db in dbs:
            databases.drop(db)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark b24local against a bare Starlette ceiling (see docs/benchmarks.md).",
    )
    parser.add_argument("--quick", action="store_true", help="2 s per scenario, small seeds.")
    parser.add_argument(
        "--duration", type=float, help="Seconds per scenario (default 10; quick 2)."
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16).")
    parser.add_argument("--pg", metavar="URL", help="Also run on PostgreSQL at this URL.")
    parser.add_argument(
        "--redis", metavar="URL", help="Also measure the limits kept in this Redis (limits)."
    )
    parser.add_argument("--no-sqlite", action="store_true", help="Skip the SQLite run.")
    parser.add_argument("--write-docs", action="store_true", help="Update docs/benchmarks.md.")
    parser.add_argument(
        "--profile",
        metavar="KEYS",
        default="",
        help="Sample the server with py-spy during these scenarios (e.g. read,write).",
    )
    parser.add_argument(
        "--only",
        metavar="KEYS",
        default="",
        help="Only these scenarios besides the read path and the ceiling "
        "(e.g. write,mixed; paced also runs the 4-connection read, growth the growth curve,"
        " workers the read path on serve --workers 2 against a two-process ceiling;"
        " reset alone times the dev API's reset and snapshots, board alone the team board,"
        " report alone the reports page).",
    )
    parser.add_argument("--keep", action="store_true", help="Keep the work directory.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.only == "reset":
        # Timed through HTTP by the harness itself: no wrk needed.
        reset.main(pg_url=args.pg, sqlite=not args.no_sqlite, quick=args.quick)
        return
    if args.only == "board":
        board.main(pg_url=args.pg, sqlite=not args.no_sqlite, quick=args.quick)
        return
    if args.only == "report":
        # The reports page and its exports, timed by the harness: no wrk needed.
        monthreport.main(pg_url=args.pg, sqlite=not args.no_sqlite, quick=args.quick)
        return
    wrk.find_wrk()  # exits with install instructions when missing
    plan = make_plan(args)
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.pg else [])
    if not backends:
        raise SystemExit("nothing to run: --no-sqlite without --pg")
    workdir = Path(tempfile.mkdtemp(prefix="b24bench-"))
    runner = Runner(plan, workdir, {k for k in args.profile.split(",") if k})
    finished = False
    try:
        for backend in backends:
            section = run_backend(runner, backend, args.pg)
            print()
            print(report.render(section))
            if args.write_docs:
                report.write_docs(section)
                print(f"wrote {report.DOCS}")
        for title, summary in runner.profiles.items():
            print(f"\npy-spy, {title}:\n{summary}")
        finished = True
    finally:
        if args.keep or not finished:
            # Server logs and wrk output explain a failed run.
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
