"""The CSRF token of a posted form, read from the front of its body as it streams in.

Every form Moatline renders puts its token first, so the middleware reads only until the token
field ends (a few hundred bytes) and hands what it read, then the rest, to the route. It never
holds more than `SCAN_LIMIT_BYTES` of an unauthenticated body, and a body it cannot read is a
`MalformedForm` (a 400), never a server error.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_plus

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, QuerystringParser, parse_options_header
from starlette.types import Message, Receive

URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
FORM_TYPES = (URLENCODED, MULTIPART)
SCAN_LIMIT_BYTES = 1024 * 1024  # Starlette's own limit for one form field
MAX_FIELDS = 1000  # as Starlette's form parser
TOKEN_MAX_BYTES = 512  # a real token is under 100


class MalformedForm(Exception):
    """A form body that cannot be read, in a short sentence for the 400 answer."""


class TokenScan:
    """Feeds body chunks to a streaming parser until the field named `field` is complete."""

    def __init__(self, field: str, urlencoded: bool):
        self.field, self.urlencoded = field.encode(), urlencoded
        self.token: bytes | None = None
        self.finished = False  # the parser saw the whole form
        self.fields = 0
        self._name = b""
        self._value = b""
        self._collecting = False

    @property
    def found(self) -> bool:
        return self.token is not None

    def field_started(self) -> None:
        if self.found:  # the rest of the body is the route's to read (and to refuse)
            return
        self.fields += 1
        if self.fields > MAX_FIELDS:
            raise MalformedForm(f"The form has more than {MAX_FIELDS} fields.")
        self._name, self._value, self._collecting = b"", b"", False

    def named(self, name: bytes) -> None:
        self._name = name
        self._collecting = name == self.field

    def value_part(self, data: bytes) -> None:
        if self._collecting and len(self._value) + len(data) <= TOKEN_MAX_BYTES:
            self._value += data

    def field_ended(self) -> None:
        if self._collecting and self.token is None:
            self.token = self._value
        self._collecting = False

    def ended(self) -> None:
        self.finished = True

    def text(self) -> str:
        """The token as the route would read it ("" if none)."""
        if not self.token:
            return ""
        raw = self.token.decode("latin-1")
        return unquote_plus(raw) if self.urlencoded else raw


def _callback(action: Callable[[bytes], None]) -> Callable[[bytes, int, int], None]:
    return lambda data, start, end: action(data[start:end])


def urlencoded_parser(scan: TokenScan) -> QuerystringParser:
    name = bytearray()

    def name_part(data: bytes) -> None:
        name.extend(data)

    def name_done() -> None:
        if name:
            scan.named(bytes(name))
            name.clear()

    def field_ended() -> None:
        name_done()
        scan.field_ended()

    callbacks = {
        "on_field_start": scan.field_started,
        "on_field_name": _callback(name_part),
        "on_field_data": _on_first_data(name_done, scan.value_part),
        "on_field_end": field_ended,
        "on_end": scan.ended,
    }
    return QuerystringParser(callbacks)  # type: ignore[arg-type]


def _on_first_data(
    first: Callable[[], None], then: Callable[[bytes], None]
) -> Callable[[bytes, int, int], None]:
    """Field data: the name before it is complete once data starts."""

    def on_data(data: bytes, start: int, end: int) -> None:
        first()
        then(data[start:end])

    return on_data


class _PartHeaders:
    """A multipart part's headers, so that its name is known before its data."""

    def __init__(self, scan: TokenScan):
        self.scan = scan
        self.header, self.value = b"", b""
        self.disposition: bytes | None = None

    def begin(self) -> None:
        self.scan.field_started()
        self.disposition = None

    def field(self, data: bytes) -> None:
        self.header += data

    def value_part(self, data: bytes) -> None:
        self.value += data

    def header_end(self) -> None:
        if self.header.lower() == b"content-disposition":
            self.disposition = self.value
        self.header, self.value = b"", b""

    def finished(self) -> None:
        if self.scan.found:
            return
        if self.disposition is None:
            raise MalformedForm("The form could not be read: a part has no Content-Disposition.")
        _, options = parse_options_header(self.disposition)
        self.scan.named(options.get(b"name", b""))


def multipart_parser(scan: TokenScan, content_type: str) -> MultipartParser:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedForm("The form could not be read: it names no multipart boundary.")
    part = _PartHeaders(scan)
    callbacks = {
        "on_part_begin": part.begin,
        "on_header_field": _callback(part.field),
        "on_header_value": _callback(part.value_part),
        "on_header_end": part.header_end,
        "on_headers_finished": part.finished,
        "on_part_data": _callback(scan.value_part),
        "on_part_end": scan.field_ended,
        "on_end": scan.ended,
    }
    return MultipartParser(boundary, callbacks)  # type: ignore[arg-type]


def form_kind(content_type: str) -> str | None:
    """URLENCODED or MULTIPART for a form body, else None."""
    kind = content_type.split(";")[0].strip().lower()
    return kind if kind in FORM_TYPES else None


async def read_token(content_type: str, field: str, receive: Receive) -> tuple[str, list[Message]]:
    """The token a form body carries ("" if none) and the messages read, to replay to the route."""
    urlencoded = form_kind(content_type) == URLENCODED
    scan = TokenScan(field, urlencoded)
    parser = urlencoded_parser(scan) if urlencoded else multipart_parser(scan, content_type)
    messages: list[Message] = []
    read = 0
    while not scan.found:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk: bytes = message.get("body", b"")
        read += len(chunk)
        _write(parser, scan, chunk)
        if read > SCAN_LIMIT_BYTES and not scan.found:
            raise MalformedForm("The form is too large.")
        if not message.get("more_body", False):
            _finish(parser, scan)
            break
    return scan.text(), messages


def _write(parser: MultipartParser | QuerystringParser, scan: TokenScan, chunk: bytes) -> None:
    """Parse a chunk; what is wrong after the token is the route's to refuse."""
    try:
        parser.write(chunk)
    except FormParserError:
        if not scan.found:
            raise MalformedForm("The form could not be read: it is malformed.") from None


def _finish(parser: MultipartParser | QuerystringParser, scan: TokenScan) -> None:
    try:
        parser.finalize()
    except FormParserError:
        raise MalformedForm("The form could not be read: it is malformed.") from None
    if not scan.finished and not scan.found:
        raise MalformedForm("The form could not be read: it ends before its last boundary.")
