"""`moatline serve`: migrate, load the shipped scenarios, serve."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from sqlmodel import Session

from app.db import create_db_engine, migrate
from app.services.demo import DEMO_PASSWORD, ensure_demo_classroom
from app.services.scenarios import load_shipped_scenarios
from app.settings import Settings, get_settings
from app.web.main import create_app

WILDCARD_HOSTS = {"0.0.0.0", "::", ""}
APP_FACTORY = "app.web.main:create_app"  # what each worker process builds when there are several
KEEP_ALIVE_S = 5  # idle browser connections closed after this (uvicorn's default, said here)
# A backstop far above the in-flight caps (app/web/overload.py): open connections plus requests per worker beyond
# which uvicorn itself answers 503, so a flood of idle connections cannot exhaust file descriptors. A class of 200
# browsers keeps up to ~2 keep-alive connections each.
CONNECTIONS_BACKSTOP = 1000


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Prepare the database and serve the web app until interrupted, in `workers` processes (each with its own
    thread and in-flight limits and its own database pool: PostgreSQL for more than one, or SQLite in WAL)."""
    settings = get_settings()
    if not port_is_free(host, port):
        raise SystemExit(
            f"Port {port} on {host} is in use. Is Moatline already running? Try `moatline serve --port {port + 1}`."
        )
    demo = prepare_database(settings)
    print(f"Open {open_url(host, port)} and create an instructor account to set up a game", flush=True)
    if demo:
        print(f"or sign in as {demo} with password {DEMO_PASSWORD} to open a demo class (development only)", flush=True)
    # the app reads X-Forwarded-For only from MOATLINE_TRUSTED_PROXIES (app/web/security.py), never
    # uvicorn, which would otherwise believe it from 127.0.0.1
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", "timeout_keep_alive": KEEP_ALIVE_S,
                               "limit_concurrency": CONNECTIONS_BACKSTOP, "proxy_headers": False}
    if workers > 1:  # each worker builds the app from the environment's settings, as this process did
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)


def prepare_database(settings: Settings) -> str | None:
    """Apply pending migrations, load the scenario files shipped with Moatline and, in development, a demo class.
    Returns the demo account's email when there is one."""
    migrate(settings.database_url)
    engine = create_db_engine(settings.database_url)
    with Session(engine) as session:
        load_shipped_scenarios(session)
        demo = ensure_demo_classroom(session) if settings.environment == "development" else None
    engine.dispose()
    return demo


def open_url(host: str, port: int) -> str:
    """The address to give a browser (a wildcard host is reachable on localhost)."""
    shown = "127.0.0.1" if host in WILDCARD_HOSTS else host
    return f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on this address now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
