"""The `moatline` command line."""

from __future__ import annotations

import typer

cli = typer.Typer(help="Moatline: a strategy simulator of the AI industry.", no_args_is_help=True, add_completion=False)


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
) -> None:
    """Apply pending database migrations and serve the web app."""
    from app.web.server import serve as run_server

    run_server(host=host, port=port)


def main() -> None:
    cli()
