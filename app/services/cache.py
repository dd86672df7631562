"""A small per-process cache for what is costly to rebuild and never changes once written: parsed
round reports, replayed states and chart series. Keys carry each round result's id and resolution
time, so a rewound and re-resolved round is a new key, never a stale hit. Values are shared:
callers must not mutate them.

The cache is bounded in bytes, not entries (a 40-team game's report is a thousand times a 6-team
one's): each value is sized roughly as it would be written out (array bytes, text length, a word per
number), and the least recently used values go first once the total passes MAX_BYTES.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
MAX_BYTES = 64 * 1024 * 1024  # sized as written out; Python's own objects take a few times more
ENTRY_SHARE_MAX = 4  # no value above MAX_BYTES / 4 is kept: it would push out everything else
WORD = 8  # bytes counted for a number, a None, or a container's slot

_lock = threading.Lock()
_entries: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
_held = 0


def cached(key: tuple[Any, ...], build: Callable[[], T]) -> T:
    """The value for `key`, built once per process (least recently used entries are dropped)."""
    with _lock:
        if key in _entries:
            _entries.move_to_end(key)
            value: T = _entries[key][0]
            return value
    value = build()
    _keep(key, value, size_of(key) + size_of(value))
    return value


def _keep(key: tuple[Any, ...], value: object, size: int) -> None:
    global _held
    if size > MAX_BYTES // ENTRY_SHARE_MAX:
        return
    with _lock:
        if key in _entries:
            return
        _entries[key] = (value, size)
        _held += size
        while _held > MAX_BYTES:
            _, (_, dropped) = _entries.popitem(last=False)
            _held -= dropped


def held_bytes() -> int:
    """What the cache holds now, in the bytes `size_of` counts."""
    return _held


def clear() -> None:
    global _held
    with _lock:
        _entries.clear()
        _held = 0


def size_of(value: object, seen: set[int] | None = None) -> int:
    """Roughly the bytes `value` holds, as written out: arrays by `nbytes`, text by length, a word
    for each number and slot; an object reached twice counts once."""
    seen = set() if seen is None else seen
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, (str, bytes)):
        return len(value)
    if value is None or isinstance(value, (int, float, bool, np.generic)):
        return WORD
    if id(value) in seen:
        return WORD
    seen.add(id(value))
    parts = _parts(value)
    if parts is None:
        return sys.getsizeof(value)
    return WORD + sum(size_of(part, seen) for part in parts)


def _parts(value: object) -> list[object] | None:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    if hasattr(value, "__dict__"):
        return list(vars(value).values())
    return None
