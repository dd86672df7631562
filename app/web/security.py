"""Web security: CSRF protection on every state-changing request, the one helper that sets every
cookie, HSTS, and the instructor's session cookie.

CSRF: the HttpOnly `moatline_csrf` cookie holds a random per-browser secret signed by the server;
a page's token is an HMAC of that secret and the browser's session (its instructor session and
student cookies), so a pair minted on another visit, or planted by another site, matches no one
else's session, and signing in or out changes it. Every POST, PUT, PATCH or DELETE must repeat the
token in the `csrf_token` form field (first in the form) or the `X-CSRF-Token` header (base.html
puts it on every htmx request), and, when the browser says where it comes from (Origin, else
Referer), come from this site. Pages get the token from the Jinja globals `csrf_input()` and
`csrf_token()`. A refused request gets a 403 page; a form body that cannot be read gets a 400.

Cookies are Secure under MOATLINE_SECURE_COOKIES or over HTTPS, and then carry the `__Host-` prefix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import secrets
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services.accounts import SESSION_LIFETIME
from app.settings import ProxyNetwork, Settings
from app.web.access_log import install_access_log_redaction
from app.web.deps import (
    SAFE_METHODS,
    SESSION_COOKIE,
    STUDENT_COOKIE,
    SignInRequired,
    cookie_name,
    cookies_secure,
    read_cookie,
)
from app.web.form_token import MalformedForm, form_kind, read_token
from app.web.templating import render

CSRF_COOKIE = "moatline_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_COOKIE_MAX_AGE_S = 30 * 24 * 3600  # outlives a tab left open between weekly classes
HSTS = ("strict-transport-security", "max-age=63072000; includeSubDomains")  # two years
API_PREFIX = "/api/"
DEFAULT_AFTER_SIGN_IN = "/games"
log = logging.getLogger(__name__)


def install_security(app: FastAPI, settings: Settings) -> None:
    """CSRF middleware, the Jinja globals that put the token in pages, the sign-in redirect, and the
    access log's redaction of secret links."""
    install_access_log_redaction()
    app.add_middleware(CSRFMiddleware, settings=settings)
    add_csrf_globals(app.state.templates.env)
    app.add_exception_handler(SignInRequired, _to_sign_in)


# --- cookies and HSTS ----------------------------------------------------------------------------


def cookie_header(settings: Settings, scheme: str, base: str, value: str, max_age: int) -> str:
    """The Set-Cookie value for every cookie Moatline sets: HttpOnly, SameSite=Lax, Path=/ and no
    Domain; Secure and `__Host-` named under MOATLINE_SECURE_COOKIES or over HTTPS."""
    secure = cookies_secure(settings, scheme)
    name = cookie_name(base, secure)
    parts = [f"{name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
    return "; ".join([*parts, "Secure"] if secure else parts)


def set_cookie(response: Response, request: HTTPConnection, base: str, value: str,
               max_age: int) -> None:
    settings: Settings = request.app.state.settings
    header = cookie_header(settings, request.url.scheme, base, value, max_age)
    response.headers.append("set-cookie", header)


def delete_cookie(response: Response, request: HTTPConnection, base: str) -> None:
    set_cookie(response, request, base, "", 0)


def hsts_headers(settings: Settings, scope: Scope) -> list[tuple[str, str]]:
    """Strict-Transport-Security for a response over HTTPS or from a site with secure cookies (added to
    every response, errors included, by app/web/headers.py)."""
    return [HSTS] if cookies_secure(settings, str(scope.get("scheme", ""))) else []


# --- CSRF tokens -----------------------------------------------------------------------------------


def new_csrf_token(secret: str) -> str:
    """A fresh per-browser secret for the CSRF cookie, signed by this server."""
    nonce = secrets.token_urlsafe(32)
    return f"{nonce}.{_mac(secret, b'csrf:' + nonce.encode())}"


def csrf_token_is_valid(secret: str, token: str) -> bool:
    """Whether this server signed the cookie's secret (a value planted by a sibling site is not)."""
    nonce, _, signature = token.partition(".")
    expected = _mac(secret, b"csrf:" + nonce.encode())
    return bool(nonce) and hmac.compare_digest(signature.encode(), expected.encode())


def csrf_token_for(secret: str, browser_secret: str, binding: str) -> str:
    """The token a page carries: bound to the browser's secret and to its session."""
    return _mac(secret, f"csrf-token:{browser_secret}:{binding}".encode())


def csrf_binding(request: HTTPConnection) -> str:
    """What the token is bound to: a hash of the browser's session and student cookies."""
    return binding_for(read_cookie(request, SESSION_COOKIE), read_cookie(request, STUDENT_COOKIE))


def binding_for(session_token: str | None, student_token: str | None) -> str:
    """The binding of a browser holding these cookies (scripts and benchmarks that post as a browser)."""
    return hashlib.sha256(f"{session_token or ''}|{student_token or ''}".encode()).hexdigest()


def _mac(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_exempt(scope: Scope) -> bool:
    """The hook for requests that a third-party page cannot forge, so need no token. Browsers never add an
    Authorization header on their own, and a cross-site page cannot send an `application/json` body without
    the API's consent (a CORS preflight it does not give), so such calls under /api/ are exempt."""
    headers = Headers(scope=scope)
    bearer = headers.get("authorization", "").lower().startswith("bearer ")
    json_body = headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"
    return str(scope["path"]).startswith(API_PREFIX) and (bearer or json_body)


def same_origin(scope: Scope, settings: Settings) -> bool:
    """Whether a state-changing request comes from this site, as far as the browser says (Origin,
    else Referer); a request that says nothing (an old browser, a script) is left to the token."""
    headers = Headers(scope=scope)
    origin = headers.get("origin") or _origin_of(headers.get("referer", ""))
    if not origin:
        return True
    return origin.lower() in _own_origins(scope, settings, headers.get("host", ""))


def _origin_of(url: str) -> str:
    """scheme://host[:port] of a URL; "null" for one that names no site, "" for none."""
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return "null" if url else ""


def _own_origins(scope: Scope, settings: Settings, host: str) -> set[str]:
    """This site's origins: the address asked for (also over HTTPS behind a TLS proxy) and
    MOATLINE_PUBLIC_URL."""
    schemes = {str(scope.get("scheme", "http"))} | ({"https"} if settings.secure_cookies else set())
    own = {f"{scheme}://{host.lower()}" for scheme in schemes}
    return own | ({_origin_of(settings.public_url).lower()} if settings.public_url else set())


def _log_cross_site(scope: Scope, settings: Settings) -> None:
    """Say what was refused, for an operator whose proxy rewrites Host (see MOATLINE_PUBLIC_URL)."""
    headers = Headers(scope=scope)
    sent = headers.get("origin") or _origin_of(headers.get("referer", ""))
    own = sorted(_own_origins(scope, settings, headers.get("host", "")))
    log.warning("refused %s %s from origin %r: this site is %s (if that origin is this site's "
                "address, set MOATLINE_PUBLIC_URL to it)", scope["method"], scope["path"], sent,
                ", ".join(own))


class CSRFMiddleware:
    """Checks the origin and token of every state-changing request and gives a token cookie to any
    page that lacks one (the hardening headers and HSTS are app/web/headers.py's)."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app, self.settings, self.secret = app, settings, settings.secret_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = HTTPConnection(scope)
        held = read_cookie(request, CSRF_COOKIE) or ""
        known = held if held and csrf_token_is_valid(self.secret, held) else ""
        browser_secret = known or new_csrf_token(self.secret)
        token = csrf_token_for(self.secret, browser_secret, csrf_binding(request))
        scope.setdefault("state", {}).update(csrf_token=token, csrf_kept=bool(known))
        if not known:
            cookie = cookie_header(self.settings, str(scope["scheme"]), CSRF_COOKIE, browser_secret,
                                   CSRF_COOKIE_MAX_AGE_S)
            send = _with_cookie(send, cookie)
        if scope["method"] not in SAFE_METHODS and not csrf_exempt(scope):
            await self._check(scope, receive, send, token, bool(known))
            return
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope, receive: Receive, send: Send, token: str,
                     known: bool) -> None:
        if not same_origin(scope, self.settings):
            _log_cross_site(scope, self.settings)
            await _refuse(scope, receive, send, reason="cross_site")
            return
        try:
            submitted, receive = await _submitted_token(scope, receive)
        except MalformedForm as exc:
            await PlainTextResponse(str(exc), status_code=400)(scope, receive, send)
            return
        if not (known and submitted and hmac.compare_digest(submitted.encode(), token.encode())):
            await _refuse(scope, receive, send, reason="stale" if known else "missing")
            return
        await self.app(scope, receive, send)


async def _submitted_token(scope: Scope, receive: Receive) -> tuple[str, Receive]:
    """The token from the header, else from the front of the form body; and a receive that
    replays what was read of the body for the route."""
    headers = Headers(scope=scope)
    if headers.get(CSRF_HEADER):
        return headers[CSRF_HEADER], receive
    content_type = headers.get("content-type", "")
    if form_kind(content_type) is None:
        return "", receive
    token, messages = await read_token(content_type, CSRF_FIELD, receive)
    return token, _replaying(messages, receive)


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


REFUSAL_TITLES = {"missing": "This form has expired", "stale": "This form has expired",
                  "cross_site": "This form came from another website"}


async def _refuse(scope: Scope, receive: Receive, send: Send, reason: str) -> None:
    """The 403 page: `missing` (no security cookie), `stale` (another session's), `cross_site`."""
    scope.setdefault("router", scope["app"].router)  # middleware runs before the router sets it; url_for needs it
    request = Request(scope, receive)
    context = {"title": REFUSAL_TITLES[reason], "missing": reason == "missing", "reason": reason}
    response = render(request, "auth/forbidden.html", context, status_code=403)
    await response(scope, receive, send)


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
    """The session cookie of a signed-in browser, and a fresh CSRF secret (old tokens are void)."""
    set_cookie(response, request, SESSION_COOKIE, token, int(SESSION_LIFETIME.total_seconds()))
    rotate_csrf(response, request)


def end_session(response: Response, request: Request) -> None:
    delete_cookie(response, request, SESSION_COOKIE)
    rotate_csrf(response, request)


def rotate_csrf(response: Response, request: Request) -> None:
    settings: Settings = request.app.state.settings
    secret = new_csrf_token(settings.secret_key)
    set_cookie(response, request, CSRF_COOKIE, secret, CSRF_COOKIE_MAX_AGE_S)


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
    return read_cookie(request, SESSION_COOKIE)
