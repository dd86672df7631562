"""Student pages served again while nothing they show has changed.

A student's dashboard is built from the game's replayed state, its round reports and its charts: several
milliseconds of queries and templating. Yet it changes only when its team or its game does, and every such
change moves a revision counter in the database (app/revisions.py). So each server process keeps the last
page it rendered for each browser, with the counters read *before* rendering, and serves it again for as
long as one indexed query finds the same counters. A change made by any process is seen by every other at
its next request; a page rendered from newer data than its counters merely gets rebuilt once more.

Not kept: pages for a browser without a CSRF cookie yet (the page would carry a token it does not hold),
with an instructor signed in (the header shows them), or with a query string (the one-off welcome box).
The pages are kept with their gzip encoding, so a cached page costs no compression either.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from app.clock import now
from app.db import Deadline
from app.revisions import MarksReader
from app.services.students import LAST_SEEN_EVERY, hash_token
from app.web.deps import SESSION_COOKIE, read_cookie

MAX_BYTES = 64 * 1024 * 1024  # per process, raw and gzip: 200 students' ~25 KB pages many times over
GZIP_LEVEL = 6
VARY = "HX-Request"  # the gzip middleware adds Accept-Encoding to the pages it passes (all but the gzipped ones)
KEPT_HEADERS = ("content-type",)
MARKS_SLOTS = 4  # counter reads at once, each in a thread with its own connection (~1 ms each)
MARKS_DEADLINE_S = 1.0  # longer means the database is not answering: the request gets a 503 (app/web/overload.py)


@dataclass(frozen=True)
class Ticket:
    """Where a request's page is kept, and the counters a kept page must have been rendered at."""

    key: tuple[Any, ...]
    revisions: tuple[Any, ...]


@dataclass(frozen=True)
class Kept:
    revisions: tuple[Any, ...]
    headers: dict[str, str]
    body: bytes
    gzipped: bytes

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped)


class PageCache:
    """Rendered student pages, per browser, least recently used dropped first. Used on the event loop only; the
    counters are read in threads of their own with a deadline, so a hung database never blocks the loop."""

    def __init__(self, reader: MarksReader, max_bytes: int = MAX_BYTES):
        self.reader, self.max_bytes = reader, max_bytes
        self.counter_reads = Deadline(MARKS_SLOTS, MARKS_DEADLINE_S, name="page-cache-marks")
        self._pages: OrderedDict[tuple[Any, ...], Kept] = OrderedDict()
        self.held_bytes = 0  # bodies kept, raw and gzip
        self.hits = 0  # pages served again (for tests and for anyone curious how well it works)

    async def ticket(self, request: Request, student_token: str | None) -> Ticket | None:
        """The ticket for this request's page, or None when the page must be rendered and not kept (see above);
        an unknown token is rendered too, and so sent to the join page. Runs one query, in a thread; raises
        DatabaseUnavailable when it gets no answer within MARKS_DEADLINE_S."""
        csrf = request.state.csrf_token
        signed_in = read_cookie(request, SESSION_COOKIE) is not None
        if not student_token or request.url.query or signed_in or not request.state.csrf_kept:
            return None
        marks = await self.counter_reads.run(self.reader.marks, hash_token(student_token))
        if marks is None or now() - marks.last_seen > LAST_SEEN_EVERY:  # unknown, or a visit worth recording
            return None
        hx = request.headers.get("HX-Request") == "true"
        return Ticket((request.url.path, student_token, csrf, hx), marks.revisions)

    def get(self, request: Request, ticket: Ticket) -> Response | None:
        """The kept page, if it was rendered at the ticket's counters."""
        kept = self._pages.get(ticket.key)
        if kept is None or kept.revisions != ticket.revisions:
            return None
        self._pages.move_to_end(ticket.key)
        self.hits += 1
        if "gzip" in request.headers.get("accept-encoding", ""):
            return Response(kept.gzipped, headers={**kept.headers, "content-encoding": "gzip", "vary": f"{VARY}, Accept-Encoding"})
        return Response(kept.body, headers={**kept.headers, "vary": VARY})

    def keep(self, ticket: Ticket | None, response: Response) -> Response:
        """Keep a freshly rendered page (only a 200 with a body) under its ticket; returns the response."""
        if ticket is None or response.status_code != 200 or not isinstance(response.body, bytes):
            return response
        headers = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
        kept = Kept(ticket.revisions, headers, response.body, gzip.compress(response.body, GZIP_LEVEL))
        self._drop(ticket.key)
        if kept.size <= self.max_bytes:
            self._pages[ticket.key] = kept
            self.held_bytes += kept.size
        while self.held_bytes > self.max_bytes:
            self._drop(next(iter(self._pages)))
        return response

    def _drop(self, key: tuple[Any, ...]) -> None:
        kept = self._pages.pop(key, None)
        if kept is not None:
            self.held_bytes -= kept.size

    def close(self) -> None:
        self.reader.close()
