"""``b24local version``."""

from __future__ import annotations

import typer

from b24local import __version__

#: A command of the top level (added to the root without a name).
app = typer.Typer()


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)
