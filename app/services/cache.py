"""A small per-process cache for what is costly to rebuild and never changes once written: parsed round
reports, replayed states and chart series. Keys carry each round result's id and resolution time, so a
rewound and re-resolved round is a new key, never a stale hit. Values are shared: callers must not mutate them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
MAX_ENTRIES = 512

_lock = threading.Lock()
_entries: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


def cached(key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """The value for `key`, built once per process (least recently used entries are dropped)."""
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            value: T = _entries[key]
            return value
    value = build()
    with _lock:
        _entries[key] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
