"""The per-process cache is bounded in bytes: a 40-team game's reports cannot pile up past the cap,
whatever the number of entries."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from app.engine.game import start
from app.engine.world import World
from app.scenario import find_scenario
from app.services import cache

CAP = 10_000


@pytest.fixture(autouse=True)
def small_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(cache, "MAX_BYTES", CAP)
    cache.clear()
    yield
    cache.clear()


def report(kb: int) -> dict[str, object]:
    """A report-like value of about `kb` kilobytes written out as JSON."""
    return {"companies": {f"c{i}": {"name": "x" * 90} for i in range(kb * 10)}}


def logged(builds: list[str], name: str, value: object) -> Callable[[], object]:
    """A build that notes each time it runs."""

    def build() -> object:
        builds.append(name)
        return value

    return build


def test_what_the_cache_holds_never_passes_its_byte_cap_and_the_oldest_go_first() -> None:
    for n in range(20):
        cache.cached(("report", n), lambda: report(1))
        assert cache.held_bytes() <= CAP
    builds: list[str] = []
    cache.cached(("report", 19), logged(builds, "newest", report(1)))
    cache.cached(("report", 0), logged(builds, "oldest", report(1)))
    assert builds == ["oldest"]  # the newest is still kept, the oldest was dropped


def test_a_value_larger_than_a_quarter_of_the_cap_is_built_each_time_and_never_kept() -> None:
    builds: list[str] = []
    for _ in range(2):
        cache.cached(("huge",), logged(builds, "huge", report(3)))
    assert builds == ["huge", "huge"] and cache.held_bytes() == 0


def test_a_value_is_sized_about_as_long_as_its_json_and_a_state_by_its_array_bytes() -> None:
    value = report(2)
    assert 0.8 < cache.size_of(value) / len(json.dumps(value)) < 1.2
    world = World(find_scenario("frontier-race"))
    state = start(world, 1)
    arrays = sum(v.nbytes for v in vars(state).values() if isinstance(v, np.ndarray))
    assert arrays <= cache.size_of(state) < arrays + 1_000


def test_a_value_is_built_once_while_it_is_kept() -> None:
    builds: list[str] = []
    for _ in range(3):
        assert cache.cached(("once",), logged(builds, "once", "value")) == "value"
    assert builds == ["once"]
