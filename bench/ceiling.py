"""The ceiling: a bare Starlette app on the server's own uvicorn settings.

It answers every ``/rest/...`` call with a constant body (the read path's real
answer, captured in the same run), so the difference to b24local is what
b24local does per call: parsing, auth, the database, the envelope.

Run as ``python -m bench.ceiling --port P --body FILE [--workers N]``. With
``--workers`` it runs in N processes the way ``b24local serve --workers N`` does
(the same supervisor, each process on its own ``SO_REUSEPORT`` socket), so the
two compare on equal terms.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from b24local.workers import Supervisor, bind


def create_app(body: bytes) -> Starlette:
    async def constant(request: Request) -> Response:
        return Response(body, media_type="application/json")

    # The same route shape as b24local's, so routing costs the same.
    return Starlette(routes=[Route("/rest/{path:path}", constant, methods=["GET", "POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True, help="The file whose bytes to serve.")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # As `b24local serve` configures uvicorn (see b24local.cli.serve), without TLS.
    config = uvicorn.Config(
        create_app(args.body.read_bytes()),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    if args.workers == 1:
        uvicorn.Server(config).run()
        return
    # Held bound (not listening) by the parent, as serve does.
    held = bind(args.host, args.port, reuse_port=True)

    def work(serving) -> int:
        held.close()
        server = uvicorn.Server(config)
        serving()
        server.run(sockets=[bind(args.host, args.port, reuse_port=True)])
        return 0

    raise SystemExit(Supervisor(args.workers, work, log=print).run(lambda: None))


if __name__ == "__main__":
    main()
