"""Request bodies held to a size before anything reads them.

The outermost middleware: a body declared (`Content-Length`) over the limit is refused at once,
unread; one sent in chunks is counted as it is pulled and cut off at the limit. Either way the
answer is a 413, a short page, or `{"detail": ...}` under /api/. Every route gets `max_body_bytes`;
the game import gets `max_archive_bytes` and room for the form around the file. Nothing inside (the
CSRF check that parses forms, FastAPI's body parsing) ever holds more than that in memory.
"""

from __future__ import annotations

import json

from fastapi import FastAPI
from markupsafe import escape
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services.archives import in_words
from app.settings import Settings
from app.web.security import API_PREFIX

ARCHIVE_UPLOAD = ("POST", "/games/import")
FORM_ROOM_BYTES = 64 * 1024  # the multipart wrapping and the CSRF field around an uploaded archive
LENGTH_DIGITS_MAX = 18  # a longer Content-Length is over any limit (and slow for int() to read)
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Too large to send</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><main class="wrap"><h1>Too large to send</h1><p>{message}</p>
<p><a href="/">Back to Moatline</a></p></main></body></html>
"""


class BodyTooLarge(Exception):
    """Raised to the app reading a body past the limit; the middleware answers 413 instead."""


def install_body_limits(app: FastAPI, settings: Settings) -> None:
    """Hold every request body to the settings' limits; call last, so that it runs first."""
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_archive_bytes=settings.max_archive_bytes,
    )


class BodyLimitMiddleware:
    """Refuses a body over its limit from `Content-Length`, or once the chunks pulled pass it."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_archive_bytes: int):
        self.app = app
        self.max_body_bytes, self.max_archive_bytes = max_body_bytes, max_archive_bytes

    def limit_for(self, scope: Scope) -> int:
        if (scope["method"], scope["path"]) == ARCHIVE_UPLOAD:
            return self.max_archive_bytes + FORM_ROOM_BYTES
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send)
            return
        body = CountedBody(receive, limit)
        answer = Answer(send, body)
        try:
            await self.app(scope, body.receive, answer.send)
        except Exception:
            if not body.over:
                raise
        if body.over and not answer.started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        message = self._message(scope)
        api = str(scope["path"]).startswith(API_PREFIX)
        content = json.dumps({"detail": message}) if api else PAGE.format(message=escape(message))
        kind = b"application/json" if api else b"text/html; charset=utf-8"
        body = content.encode()
        headers = [
            (b"content-type", kind),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _message(self, scope: Scope) -> str:
        if (scope["method"], scope["path"]) == ARCHIVE_UPLOAD:
            most = in_words(self.max_archive_bytes)
            return f"That file is larger than any game archive (at most {most})."
        return (
            "That request is larger than this server accepts "
            f"(at most {in_words(self.max_body_bytes)}); "
            "nothing was saved."
        )


class CountedBody:
    """The request's body messages, counted as the app pulls them; past the limit, BodyTooLarge."""

    def __init__(self, receive: Receive, limit: int):
        self._receive, self.limit, self.pulled, self.over = receive, limit, 0, False

    async def receive(self) -> Message:
        if self.over:
            raise BodyTooLarge()
        message = await self._receive()
        if message["type"] == "http.request":
            self.pulled += len(message.get("body", b""))
            if self.pulled > self.limit:
                self.over = True
                raise BodyTooLarge()
        return message


class Answer:
    """The app's response, dropped if it answers a body that was cut off (the 413 goes instead)."""

    def __init__(self, send: Send, body: CountedBody):
        self._send, self.body, self.started = send, body, False

    async def send(self, message: Message) -> None:
        if self.body.over and not self.started:
            return
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


def _declared_length(scope: Scope) -> int | None:
    """The body's length as the client declares it; None when it does not, or not as a number."""
    value = Headers(scope=scope).get("content-length", "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value) if len(value) <= LENGTH_DIGITS_MAX else 10**LENGTH_DIGITS_MAX
