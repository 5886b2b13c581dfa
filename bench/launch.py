"""``b24local serve`` on another event loop: ``python -m bench.launch LOOP serve ...``.

uvicorn picks uvloop when it is installed and ``b24local serve`` has no flag to
choose; the mixed scenario also runs on asyncio's own loop, to tell what the store
does from what the loop does (see docs/benchmarks.md, "Writes beside reads").
"""

from __future__ import annotations

import sys

import uvicorn.config


def main() -> None:
    loop, args = sys.argv[1], sys.argv[2:]
    original = uvicorn.config.Config.__init__

    def init(self: uvicorn.config.Config, *a: object, **kw: object) -> None:
        kw["loop"] = loop
        original(self, *a, **kw)  # type: ignore[arg-type]

    uvicorn.config.Config.__init__ = init  # type: ignore[method-assign]
    from b24local.cli import main as b24local

    sys.argv = ["b24local", *args]
    b24local()


if __name__ == "__main__":
    main()
