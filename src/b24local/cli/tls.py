"""``b24local tls``: the local certificate authority."""

from __future__ import annotations

import typer

from .common import DataDir, _settings

app = typer.Typer(help="The local certificate authority.", no_args_is_help=True)


@app.command("ca-path")
def tls_ca_path(data_dir: DataDir = None) -> None:
    """Print the local CA certificate's path (creating the CA if needed)."""
    from b24local.tls import ensure_ca

    settings = _settings(data_dir, None)
    typer.echo(str(ensure_ca(settings.data_dir).ca_cert))
