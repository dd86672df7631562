"""The FastAPI application."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from app.db import Timeouts, create_db_engine, pool_for
from app.revisions import MarksReader
from app.services.scenarios import UnknownScenario
from app.settings import PROJECT_ROOT, Settings, get_settings
from app.web.api import router as api_router
from app.web.auth import router as auth_router
from app.web.deadlines import deadline_loop
from app.web.deps import current_instructor
from app.web.headers import install_headers
from app.web.inputs import install_input_guard
from app.web.instructor import router as instructor_router
from app.web.limits import install_body_limits
from app.web.overload import install_overload
from app.web.page_cache import MARKS_SLOTS, PageCache
from app.web.pages import router
from app.web.play import NotOnATeam, UnknownCode, not_on_a_team, unknown_code
from app.web.play import router as play_router
from app.web.projector import router as projector_router
from app.web.security import hsts_headers, install_security
from app.web.templating import build_templates, render

GZIP_MINIMUM_BYTES = 1024  # pages, scripts and styles travel compressed (classroom Wi-Fi is slow)
# the page cache's counter reads: a connection per read in flight, outside any transaction
MARKS_CONNECTION = {"pool_size": MARKS_SLOTS, "max_overflow": 0, "isolation_level": "AUTOCOMMIT"}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for a database that has already been migrated."""
    settings = settings or get_settings()
    app = FastAPI(title="Moatline", lifespan=_lifespan, docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  description="JSON API for LMS scripts and analysts; see /docs.",
                  dependencies=[Depends(current_instructor)])  # every page's header knows who is signed in
    app.state.settings = settings
    timeouts = Timeouts(settings.db_connect_timeout_s, settings.db_statement_timeout_s)
    app.state.engine = create_db_engine(settings.database_url, timeouts, **pool_for(settings.max_in_flight))
    app.state.pages = PageCache(MarksReader(create_db_engine(settings.database_url, timeouts, **MARKS_CONNECTION)))
    app.state.templates = build_templates()
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "static"), name="static")
    app.include_router(router)
    app.include_router(play_router)
    app.include_router(projector_router)
    app.include_router(api_router)
    app.add_api_route("/docs", _docs, include_in_schema=False)
    app.include_router(auth_router)
    app.include_router(instructor_router)
    install_security(app, settings)
    install_headers(app, extra=lambda scope: hsts_headers(settings, scope))  # every response, errors too
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    install_body_limits(app, settings)  # outermost: no body is read past its limit, even by the CSRF check
    install_overload(app, settings)  # outermost of all: a burst is refused before any work
    install_input_guard(app)  # outermost of all (it runs before the overload cap): odd characters never reach another middleware or a route
    app.add_exception_handler(UnknownScenario, _unknown_scenario)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(NotOnATeam, not_on_a_team)
    app.add_exception_handler(UnknownCode, unknown_code)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.settings.threads
    clock = asyncio.create_task(deadline_loop(app.state.engine))
    yield
    clock.cancel()
    app.state.pages.close()
    app.state.engine.dispose()


async def _unknown_scenario(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UnknownScenario)
    context = {"title": "Scenario not found", "missing_scenario": exc.scenario_id, "known": exc.known}
    return render(request, "not_found.html", context, status_code=404)


def _docs(request: Request) -> Response:
    """The API's interactive docs, from the vendored Swagger UI (no CDN), started by static/docs.js."""
    return render(request, "docs.html", {"openapi_url": request.app.openapi_url})


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 answer, made safe to write when the bad value itself cannot be JSON (`Infinity`, `NaN`)."""
    assert isinstance(exc, RequestValidationError)
    errors = _json_safe(exc.errors())
    return JSONResponse({"detail": jsonable_encoder(errors), "problems": _by_field(exc.errors())}, status_code=422)


def _by_field(errors: Sequence[Any]) -> dict[str, str]:
    """Each problem at its field, as the API names fields elsewhere (`compute.buy_gpus.H100`, `version`)."""
    out: dict[str, str] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        loc = loc[1:] if loc[:1] == ["body"] else loc
        loc = loc[1:] if loc[:1] == ["decision"] and len(loc) > 1 else loc
        field = ".".join(loc) or "body"
        out[field] = f"{out[field]} {error.get('msg', '')}" if field in out else str(error.get("msg", ""))
    return out


def _json_safe(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


async def _http_error(request: Request, exc: Exception) -> Response:
    """A page for addresses that lead nowhere; other HTTP errors, and everything under /api/, keep FastAPI's JSON."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return await http_exception_handler(request, exc)
    if exc.status_code != 404:
        return await http_exception_handler(request, exc)
    return render(request, "not_found.html", {"title": "Page not found", "known": []}, status_code=404)
