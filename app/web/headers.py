"""The hardening headers, on every response the app sends, its own 500 pages included.

No page may be framed by another site (its buttons clicked unseen), run a script or style that is not a file
under /static/ (an escaping slip cannot become a script), leak its address (a rejoin link's secret) to another
site, or be type-sniffed. Nothing but static files is kept by the browser or a proxy: after signing out, Back
shows no console, join code or PIN, and exports stay off the disk cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Header = tuple[str, str]
ExtraHeaders = Callable[[Scope], Iterable[Header]]

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "object-src 'none'",
    "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
])
HARDENING_HEADERS: list[Header] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY), ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"), ("x-content-type-options", "nosniff"),
]
STATIC_PREFIX = "/static/"
NOT_STORED = "no-store"  # pages, fragments, API answers, exports, errors
REVALIDATED = "no-cache"  # static files: kept, and checked against their ETag before each use


def no_extra_headers(scope: Scope) -> Iterable[Header]:
    return ()


def install_headers(app: Starlette, extra: ExtraHeaders = no_extra_headers) -> None:
    """Put `HeadersMiddleware` outside Starlette's whole stack, so the 500s of ServerErrorMiddleware get the
    headers too (`add_middleware` would place it inside). `extra` decides more headers per request (HSTS)."""
    build = app.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return HeadersMiddleware(build(), extra)

    app.build_middleware_stack = build_with_headers  # type: ignore[method-assign]


def headers_for(scope: Scope, extra: ExtraHeaders = no_extra_headers) -> list[Header]:
    """Every header this request's response must carry."""
    caching = REVALIDATED if str(scope.get("path", "")).startswith(STATIC_PREFIX) else NOT_STORED
    return [*HARDENING_HEADERS, ("cache-control", caching), *extra(scope)]


class HeadersMiddleware:
    """Sets `headers_for` on every HTTP response, replacing any value a route gave the same header."""

    def __init__(self, app: ASGIApp, extra: ExtraHeaders = no_extra_headers):
        self.app, self.extra = app, extra

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = headers_for(scope, self.extra)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in wanted:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, sending)
