"""Odd input refused at the edge, with a clear 400 or 422 instead of a driver error: no address, query, form
field or JSON text of Moatline means a control character, and PostgreSQL cannot store a NUL byte at all
(`psycopg.DataError`), while SQLite stores it silently.

- `InputGuard` (ASGI, outermost): a control character in the path or query string is a 400; so is a NUL in a
  form field (urlencoded, or a multipart part that is not a file), found as the body streams past, chunk by
  chunk, so nothing is buffered here.
- `PlainText`: a `str` for API request models that refuses control characters at its field (a 422 there).
- `ID_MAX`: the bound for ids and counters that arrive in paths and bodies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import AfterValidator
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

ID_MAX = 2**31 - 1  # the largest id every database holds: PostgreSQL's INTEGER (SQLite's go to 2**63 - 1)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and line breaks are text
IN_ADDRESS = "The address holds a control character (such as %00); remove it and try again."
IN_FORM = "A form field holds a NUL character (%00); remove it and try again."


def install_input_guard(app: FastAPI) -> None:
    """Refuse control characters before any other middleware or route reads the request; add it last."""
    app.add_middleware(InputGuard)


def _no_control_characters(value: str) -> str:
    found = TEXT_CONTROL.search(value)
    if found:
        raise ValueError(f"Remove the control character U+{ord(found.group()):04X} from this field.")
    return value


PlainText = Annotated[str, AfterValidator(_no_control_characters)]


class NulInForm(HTTPException):
    """Raised from `receive` when a form field turns out to hold a NUL: a 400 wherever the body is read (a
    route's form parsing passes HTTPExceptions on; the guard answers those raised in middleware)."""

    def __init__(self) -> None:
        super().__init__(status_code=400, detail=IN_FORM)


class InputGuard:
    """The ASGI middleware: addresses checked at once, form bodies as they are read."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _control_in_address(scope):
            await JSONResponse({"detail": IN_ADDRESS}, status_code=400)(scope, receive, send)
            return
        scan = _form_scanner(Headers(scope=scope))
        if scan is None:
            await self.app(scope, receive, send)
            return
        await self._scanned(scope, _scanning(receive, scan), send)

    async def _scanned(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except NulInForm as refused:
            if started:
                raise
            await JSONResponse({"detail": refused.detail}, status_code=400)(scope, receive, send)


def _control_in_address(scope: Scope) -> bool:
    query = unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))
    return bool(CONTROL.search(scope["path"]) or CONTROL_BYTES.search(query))


def _scanning(receive: Receive, scan: Callable[[bytes], bool]) -> Receive:
    async def scanned() -> Message:
        message = await receive()
        if message["type"] == "http.request" and scan(message.get("body", b"")):
            raise NulInForm()
        return message

    return scanned


def _form_scanner(headers: Headers) -> Callable[[bytes], bool] | None:
    """A function that is told each chunk of the body and says whether a form field holds a NUL so far."""
    kind, options = parse_options_header(headers.get("content-type", ""))
    if kind == b"application/x-www-form-urlencoded":
        return _UrlencodedScan()
    if kind == b"multipart/form-data" and options.get(b"boundary"):
        return _MultipartScan(options[b"boundary"])
    return None


class _UrlencodedScan:
    """NUL as a raw byte or `%00`, also when a chunk ends inside the `%00`."""

    def __init__(self) -> None:
        self.tail = b""

    def __call__(self, chunk: bytes) -> bool:
        seen, self.tail = self.tail + chunk, chunk[-2:]
        return b"\x00" in seen or b"%00" in seen


class _MultipartScan:
    """NUL in the value of a part that is not a file (files may hold any bytes). A body the parser cannot read
    is left to the route, which says what is wrong with it."""

    def __init__(self, boundary: bytes):
        self.found = self.is_file = self.broken = False
        self.field = self.value = b""
        callbacks: MultipartCallbacks = {"on_part_begin": self._begin, "on_header_field": self._field,
                                         "on_header_value": self._value, "on_header_end": self._header_end,
                                         "on_part_data": self._data}
        self.parser = MultipartParser(boundary, callbacks)

    def __call__(self, chunk: bytes) -> bool:
        if not self.broken:
            try:
                self.parser.write(chunk)
            except Exception:  # any parse error: the route's own parser refuses this body
                self.broken = True
        return self.found

    def _begin(self) -> None:
        self.is_file = False

    def _field(self, data: bytes, start: int, end: int) -> None:
        self.field += data[start:end]

    def _value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def _header_end(self) -> None:
        if self.field.strip().lower() == b"content-disposition":
            self.is_file = b"filename" in parse_options_header(self.value)[1]
        self.field = self.value = b""

    def _data(self, data: bytes, start: int, end: int) -> None:
        self.found = self.found or (not self.is_file and b"\x00" in data[start:end])
