"""The FastAPI application."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from app.db import create_db_engine
from app.revisions import MarksReader
from app.services.scenarios import UnknownScenario
from app.settings import PROJECT_ROOT, Settings, get_settings
from app.web.api import router as api_router
from app.web.auth import router as auth_router
from app.web.deadlines import deadline_loop
from app.web.deps import current_instructor
from app.web.inputs import install_input_guard
from app.web.instructor import router as instructor_router
from app.web.page_cache import PageCache
from app.web.pages import router
from app.web.play import NotOnATeam, UnknownCode, not_on_a_team, unknown_code
from app.web.play import router as play_router
from app.web.projector import router as projector_router
from app.web.security import install_security
from app.web.templating import build_templates, render

GZIP_MINIMUM_BYTES = 1024  # pages, scripts and styles travel compressed (classroom Wi-Fi is slow)
# the page cache's counter reads: one connection, used on the event loop only, outside any transaction
MARKS_CONNECTION = {"pool_size": 1, "max_overflow": 0, "isolation_level": "AUTOCOMMIT"}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for a database that has already been migrated."""
    settings = settings or get_settings()
    app = FastAPI(title="Moatline", lifespan=_lifespan, docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  description="JSON API for LMS scripts and analysts; see /docs.",
                  dependencies=[Depends(current_instructor)])  # every page's header knows who is signed in
    app.state.settings = settings
    app.state.engine = create_db_engine(settings.database_url)
    app.state.pages = PageCache(MarksReader(create_db_engine(settings.database_url, **MARKS_CONNECTION)))
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
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    install_input_guard(app)  # outermost: odd characters never reach another middleware or a route
    app.add_exception_handler(UnknownScenario, _unknown_scenario)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(NotOnATeam, not_on_a_team)
    app.add_exception_handler(UnknownCode, unknown_code)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
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
    """The API's interactive docs, from the vendored Swagger UI (no CDN)."""
    static = request.url_for("static", path="vendor/swagger-ui").path
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Moatline API", swagger_js_url=f"{static}/swagger-ui-bundle.js",
                               swagger_css_url=f"{static}/swagger-ui.css", swagger_favicon_url=f"{static}/../../app.css")


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 answer, made safe to write when the bad value itself cannot be JSON (`Infinity`, `NaN`)."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": jsonable_encoder(_json_safe(exc.errors()))}, status_code=422)


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
