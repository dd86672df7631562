"""Request bodies over the limit are refused before anything reads them: at once from their declared
length, or cut off at the limit when they come in chunks; pages get a short page, the API a JSON
detail."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from app.settings import Settings
from app.web.limits import FORM_ROOM_BYTES, BodyLimitMiddleware
from app.web.main import create_app

LIMIT = 4096
ARCHIVE_LIMIT = 16 * 1024
CHUNK = 1024


@dataclass
class Client:
    """Sends one request's body in chunks and counts how many bytes the server pulled."""

    chunks: list[bytes]
    pulled: int = 0
    sent: list[Message] = field(default_factory=list)

    async def receive(self) -> Message:
        if not self.chunks:
            return {"type": "http.disconnect"}
        chunk = self.chunks.pop(0)
        self.pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


class Reader:
    """An app that reads the whole body, then answers 200 with its length."""

    def __init__(self) -> None:
        self.called = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        size, more = 0, True
        while more:
            message = await receive()
            size += len(message.get("body", b""))
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(size).encode()})


def run(coroutine: Coroutine[object, object, None]) -> None:
    """Run an ASGI call on a loop of its own (a browser test may leave one running in this thread)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def request(path: str, body: bytes, declared: bool, method: str = "POST") -> tuple[Client, Reader]:
    reader = Reader()
    app = BodyLimitMiddleware(reader, max_body_bytes=LIMIT, max_archive_bytes=ARCHIVE_LIMIT)
    headers = [(b"content-length", str(len(body)).encode())] if declared else []
    scope: Scope = {"type": "http", "method": method, "path": path, "headers": headers}
    client = Client([body[i : i + CHUNK] for i in range(0, len(body), CHUNK)])
    run(app(scope, client.receive, client.send))
    return client, reader


def test_a_body_declared_over_the_limit_is_refused_without_a_byte_being_read() -> None:
    client, reader = request("/signin", b"x" * (LIMIT + 1), declared=True)
    assert client.status == 413 and client.pulled == 0 and not reader.called
    assert (
        b"That request is larger than this server accepts (at most 4 KiB); nothing was saved."
        in client.body
    )


def test_a_body_sent_in_chunks_is_cut_off_at_the_limit_and_the_app_answer_replaced() -> None:
    client, reader = request("/signin", b"x" * (100 * LIMIT), declared=False)
    assert client.status == 413 and reader.called
    assert client.pulled <= LIMIT + CHUNK
    assert [m["type"] for m in client.sent] == ["http.response.start", "http.response.body"]


def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    for declared in (True, False):
        client, _ = request("/signin", b"x" * LIMIT, declared=declared)
        assert client.status == 200 and client.body == str(LIMIT).encode()


def test_under_the_api_the_refusal_is_json() -> None:
    client, _ = request("/api/v1/token", b"{}" * LIMIT, declared=True)
    assert client.status == 413
    assert json.loads(client.body) == {
        "detail": "That request is larger than this server accepts (at most 4 KiB); "
        "nothing was saved."
    }


def test_the_game_import_alone_has_the_larger_archive_limit() -> None:
    big = b"x" * (ARCHIVE_LIMIT // 2)
    assert request("/games/import", big, declared=True)[0].status == 200
    assert request("/games/new", big, declared=True)[0].status == 413
    assert request("/games/import", big, declared=True, method="PUT")[0].status == 413
    client, _ = request(
        "/games/import", b"x" * (ARCHIVE_LIMIT + FORM_ROOM_BYTES + 1), declared=False
    )
    assert (
        client.status == 413
        and b"That file is larger than any game archive (at most 16 KiB)." in client.body
    )


def sent_with_length(value: bytes) -> Client:
    app = BodyLimitMiddleware(Reader(), max_body_bytes=LIMIT, max_archive_bytes=ARCHIVE_LIMIT)
    client = Client([b"x" * CHUNK] * 8)
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-length", value)],
    }
    run(app(scope, client.receive, client.send))
    return client


def test_a_content_length_that_is_not_a_number_is_counted_instead() -> None:
    for value in (b"abc", b"\xb2", b"-5", b""):
        client = sent_with_length(value)
        assert client.status == 413 and LIMIT < client.pulled <= LIMIT + CHUNK


def test_a_content_length_of_thousands_of_digits_is_refused_unread() -> None:
    client = sent_with_length(b"9" * 5000)
    assert client.status == 413 and client.pulled == 0


def test_an_anonymous_oversized_form_gets_a_413_page_before_the_csrf_check_reads_it(
    prepared_sqlite_url: str,
) -> None:
    settings = Settings(database_url=prepared_sqlite_url, max_body_bytes=LIMIT)
    with TestClient(create_app(settings)) as client:
        page = client.post("/signin", files={"file": ("big.bin", b"x" * (2 * LIMIT))})
        assert page.status_code == 413 and "<h1>Too large to send</h1>" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        api = client.post("/api/v1/token", json={"email": "x" * (2 * LIMIT)})
        assert api.status_code == 413 and "larger than this server accepts" in api.json()["detail"]
        streamed = client.post(
            "/signin",
            content=(b"x" * CHUNK for _ in range(100)),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert streamed.status_code == 413 and "<h1>Too large to send</h1>" in streamed.text
        small = client.post("/signin", data={"email": "a@b.c", "password": "x"})
        assert small.status_code == 403  # within the limit, the CSRF check answers as before
