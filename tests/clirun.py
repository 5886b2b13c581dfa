"""The ``b24local`` command line run inside the test process.

A subprocess per command costs about a second (interpreter, imports); the same
command through Click's runner costs milliseconds and parses the same argv with
the same code. Tests that are about the process itself (the console script,
``serve``, signals) still start one.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from typer.testing import CliRunner

from b24local.cli import app

_runner = CliRunner()


def run_cli(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """What ``subprocess.run(["b24local", *args], capture_output=True, text=True)``
    would give. Of ``env`` only the ``B24LOCAL_*`` variables count, and those of the
    test process are hidden. An exception the command did not turn into an exit
    status is raised here: the real command would have printed a traceback."""
    given = env or {}
    overrides: dict[str, str | None] = {
        name: None for name in os.environ if name.startswith("B24LOCAL_")
    }
    overrides.update({k: v for k, v in given.items() if k.startswith("B24LOCAL_")})
    result = _runner.invoke(app, list(args), env=overrides, input=stdin, prog_name="b24local")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(
        ["b24local", *args], result.exit_code, result.stdout, result.stderr
    )
