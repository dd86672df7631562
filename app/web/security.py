"""Web security: CSRF protection on every state-changing request, and the instructor's session cookie.

CSRF uses the signed double-submit pattern: a random token, signed with the secret key, lives in the HttpOnly
`moatline_csrf` cookie; every POST, PUT, PATCH or DELETE must repeat it in the `csrf_token` form field or the
`X-CSRF-Token` header (base.html puts that header on every htmx request). Pages get the token from the Jinja
globals `csrf_input()` and `csrf_token()`. A missing or different token gets a 403 page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services.accounts import SESSION_LIFETIME
from app.settings import ProxyNetwork, Settings
from app.web.deps import SAFE_METHODS, SESSION_COOKIE, SignInRequired
from app.web.templating import render

CSRF_COOKIE = "moatline_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_COOKIE_MAX_AGE_S = 30 * 24 * 3600  # outlives a tab left open between weekly classes
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
API_PREFIX = "/api/"
DEFAULT_AFTER_SIGN_IN = "/games"


def install_security(app: FastAPI, settings: Settings) -> None:
    """CSRF middleware, the Jinja globals that put the token in pages, and the sign-in redirect."""
    app.add_middleware(CSRFMiddleware, secret=settings.secret_key, secure_cookies=settings.secure_cookies)
    add_csrf_globals(app.state.templates.env)
    app.add_exception_handler(SignInRequired, _to_sign_in)


# --- CSRF tokens -----------------------------------------------------------------------------------


def new_csrf_token(secret: str) -> str:
    nonce = secrets.token_urlsafe(32)
    return f"{nonce}.{_signature(secret, nonce)}"


def csrf_token_is_valid(secret: str, token: str) -> bool:
    """Whether this server signed the token (so a value planted in the cookie by a sibling site is refused)."""
    nonce, _, signature = token.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _signature(secret, nonce))


def _signature(secret: str, nonce: str) -> str:
    digest = hmac.new(secret.encode(), b"csrf:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_exempt(scope: Scope) -> bool:
    """The hook for requests that a third-party page cannot forge, so need no token. Browsers never add an
    Authorization header on their own, and a cross-site page cannot send an `application/json` body without
    the API's consent (a CORS preflight it does not give), so such calls under /api/ are exempt."""
    headers = Headers(scope=scope)
    bearer = headers.get("authorization", "").lower().startswith("bearer ")
    json_body = headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"
    return str(scope["path"]).startswith(API_PREFIX) and (bearer or json_body)


class CSRFMiddleware:
    """Checks the token of every state-changing request and gives a token cookie to any page that lacks one
    (the hardening headers are app/web/headers.py's)."""

    def __init__(self, app: ASGIApp, secret: str, secure_cookies: bool = False):
        self.app, self.secret, self.secure_cookies = app, secret, secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = Request(scope).cookies.get(CSRF_COOKIE, "")
        known = cookie if cookie and csrf_token_is_valid(self.secret, cookie) else ""
        token = known or new_csrf_token(self.secret)
        scope.setdefault("state", {})["csrf_token"] = token
        if not known:
            send = _with_cookie(send, _cookie_header(CSRF_COOKIE, token, CSRF_COOKIE_MAX_AGE_S, self._secure(scope)))
        if scope["method"] not in SAFE_METHODS and not csrf_exempt(scope):
            submitted, receive = await _submitted_token(scope, receive)
            if not (known and submitted and hmac.compare_digest(submitted, known)):
                await _refuse(scope, receive, send, missing=not known)
                return
        await self.app(scope, receive, send)

    def _secure(self, scope: Scope) -> bool:
        return self.secure_cookies or scope.get("scheme") == "https"


async def _submitted_token(scope: Scope, receive: Receive) -> tuple[str, Receive]:
    """The token from the header, else from the form body; and a receive that replays the body for the route."""
    headers = Headers(scope=scope)
    if headers.get(CSRF_HEADER):
        return headers[CSRF_HEADER], receive
    if not headers.get("content-type", "").startswith(FORM_TYPES):
        return "", receive
    messages: list[Message] = []

    async def recording() -> Message:
        messages.append(await receive())
        return messages[-1]

    form = await Request(scope, recording).form()
    value = form.get(CSRF_FIELD)
    await form.close()
    return (value if isinstance(value, str) else ""), _replaying(messages, receive)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _with_cookie(send: Send, cookie: str) -> Send:
    """Add a Set-Cookie header to HTML responses (pages and fragments, where the token is used)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            if headers.get("content-type", "").startswith("text/html"):
                headers.append("set-cookie", cookie)
        await send(message)

    return sending


async def _refuse(scope: Scope, receive: Receive, send: Send, missing: bool) -> None:
    scope.setdefault("router", scope["app"].router)  # middleware runs before the router sets it; url_for needs it
    request = Request(scope, receive)
    response = render(request, "auth/forbidden.html", {"title": "This form has expired", "missing": missing}, status_code=403)
    await response(scope, receive, send)


def _cookie_header(name: str, value: str, max_age: int, secure: bool) -> str:
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    return "; ".join([*parts, "Secure"] if secure else parts)


def add_csrf_globals(env: Environment) -> None:
    env.globals["csrf_input"] = csrf_input
    env.globals["csrf_token"] = csrf_token


@pass_context
def csrf_token(context: Context) -> str:
    """This request's CSRF token, for `hx-headers` and scripts."""
    return str(context["request"].state.csrf_token)


@pass_context
def csrf_input(context: Context) -> Markup:
    """The hidden form field every state-changing form needs: `{{ csrf_input() }}`."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(csrf_token(context)))


# --- the instructor's session ----------------------------------------------------------------------


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    target = "/signin" + (f"?next={quote(exc.next_path, safe='/')}" if exc.next_path else "")
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: only a path on this site, never another site (`//evil.example`, `/\\evil`)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n"):
        return DEFAULT_AFTER_SIGN_IN
    return value


def start_session(response: Response, request: Request, token: str) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(SESSION_LIFETIME.total_seconds()), path="/", httponly=True,
                        samesite="lax", secure=_secure_request(request))


def end_session(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure_request(request))


def _secure_request(request: Request) -> bool:
    settings: Settings = request.app.state.settings
    return settings.secure_cookies or request.url.scheme == "https"


def client_address(request: Request) -> str:
    """The address the attempt limits count: the connection's peer, unless that peer is a proxy
    listed in MOATLINE_TRUSTED_PROXIES; then the nearest address in X-Forwarded-For that is not one
    of those proxies (the leftmost entries are whatever the client typed, so never believed)."""
    peer = request.client.host if request.client else "unknown"
    settings: Settings = request.app.state.settings
    trusted = settings.proxy_networks()
    if not trusted or not _within(peer, trusted):
        return peer
    header = request.headers.get("x-forwarded-for", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    for hop in reversed(forwarded):
        if not _within(hop, trusted):
            return hop if _address(hop) is not None else peer
    return peer


def _within(host: str, networks: tuple[ProxyNetwork, ...]) -> bool:
    address = _address(host)
    return address is not None and any(address in network for network in networks)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)
