"""The page cache is bounded in bytes (raw and gzip pages together), not in pages."""

from __future__ import annotations

import os
from typing import Any, cast

from fastapi.responses import Response

from app.revisions import MarksReader
from app.web.page_cache import PageCache, Ticket

BOUND = 100_000
PAGE_BYTES = 10_000


def page() -> Response:
    """A page of random bytes, so gzip cannot shrink it: it costs about twice its length."""
    return Response(os.urandom(PAGE_BYTES), media_type="text/html")


def ticket(n: int) -> Ticket:
    return Ticket(("/dashboard", f"student-{n}", "csrf", False), (1, 1))


def kept_keys(pages: PageCache) -> list[Any]:
    return list(pages._pages)


def test_pages_are_kept_until_their_bytes_pass_the_bound_then_the_oldest_go_first() -> None:
    pages = PageCache(cast(MarksReader, None), max_bytes=BOUND)
    for n in range(12):
        pages.keep(ticket(n), page())
        assert pages.held_bytes <= BOUND
    keys = kept_keys(pages)
    assert 3 <= len(keys) <= 5 and keys[-1] == ticket(11).key and ticket(0).key not in keys


def test_a_page_kept_again_under_the_same_ticket_is_counted_once() -> None:
    pages = PageCache(cast(MarksReader, None), max_bytes=BOUND)
    for _ in range(5):
        pages.keep(ticket(1), page())
    assert len(kept_keys(pages)) == 1 and PAGE_BYTES * 2 <= pages.held_bytes < PAGE_BYTES * 3


def test_a_page_larger_than_the_bound_is_served_but_not_kept() -> None:
    pages = PageCache(cast(MarksReader, None), max_bytes=PAGE_BYTES)
    response = pages.keep(ticket(1), page())
    assert response.status_code == 200 and kept_keys(pages) == [] and pages.held_bytes == 0
