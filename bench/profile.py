"""Optional sampling of the server with py-spy while a scenario runs.

py-spy is not a dependency: ``pip install py-spy`` to use ``--profile``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path


def find_py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


def start(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """Sample ``pid`` for ``seconds`` into ``out`` (collapsed stacks, one per line)."""
    py_spy = find_py_spy()
    if py_spy is None:
        print("--profile: py-spy not found (pip install py-spy); not profiling", file=sys.stderr)
        return None
    command = [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
    command += ["--format", "raw", "--output", str(out), "--rate", "200", "--threads"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _frame_name(frame: str) -> str:
    # "handle (b24local/rest/dispatch.py:151)" -> "handle (b24local/rest/dispatch.py)"
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0].rstrip(")")
    for anchor in ("site-packages/", "src/", "lib/python3"):
        if anchor in path:
            path = path.split(anchor, 1)[1]
    return f"{name} ({path})" if path else name


#: Where a leaf frame's time is charged, by the start of its file path.
_LAYERS = (
    ("b24local/", "b24local"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("aiosqlite/", "aiosqlite (queueing work for its threads)"),
    ("asyncpg/", "asyncpg"),
    ("starlette/", "Starlette"),
    ("uvicorn/", "uvicorn"),
)


def _layer(frame: str) -> str:
    if frame.startswith("Runner.run ("):
        # The loop's own C code (uvloop): sockets, epoll, callbacks from threads.
        return "event loop (uvloop, in C)"
    for prefix, layer in _LAYERS:
        if f"({prefix}" in frame:
            return layer
    return "other Python"


def summarize(raw: Path, top: int = 12) -> str:
    """Where the event loop thread spent its samples: by layer, the hottest leaf
    frames (self time), and b24local's functions anywhere on the stack (total).

    Only the main thread counts: it runs every request; aiosqlite's worker
    threads mostly wait on their queues (py-spy cannot always tell that apart
    from work).
    """
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        thread, _, rest = stack.partition(";")
        if "MainThread" not in thread or not count_text.isdigit() or not rest:
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in rest.split(";")]
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    if not samples:
        return "no samples"
    layers: Counter[str] = Counter()
    for frame, count in own.items():
        layers[_layer(frame)] += count
    lines = [f"{samples} samples of the event loop thread", "", "self %  layer"]
    lines += [f"{100 * c / samples:5.1f}  {f}" for f, c in layers.most_common()]
    lines += ["", "self %  frame"]
    lines += [f"{100 * c / samples:5.1f}  {f}" for f, c in own.most_common(top)]
    ours = Counter({f: c for f, c in total.items() if "b24local/" in f and "/cli/" not in f})
    lines += ["", "total %  b24local frame"]
    lines += [f"{100 * c / samples:5.1f}  {f}" for f, c in ours.most_common(top)]
    return "\n".join(lines)
