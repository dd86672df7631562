"""Studies: many seeded replications of a scenario at once, written as a tidy table.

Runs are resolved in chunks of vectorised replications, so memory stays flat however many
runs a study asks for; rows stream to CSV or Parquet as each chunk finishes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from app.engine import personas
from app.engine.arrays import total_last
from app.engine.rng import run_seeds
from app.engine.start import initial_state
from app.engine.step import step
from app.engine.world import World
from app.scenario.schema import PERSONAS, Scenario

COLUMNS = (
    "run",
    "round",
    "company",
    "persona",
    "cash",
    "revenue",
    "net_income",
    "share",
    "capability",
    "brand",
    "safety",
    "score",
)
DEFAULT_CHUNK = (
    2_500  # runs resolved together: from ~1,000 up, bigger saves no time and costs memory
)
T = TypeVar("T")


class StudyError(ValueError):
    """A study that cannot run as asked (unknown persona, wrong number of seats, bad counts)."""


def resolve_seats(scenario: Scenario, seats: list[str] | None) -> list[str]:
    """The persona of every seat: the scenario's own, or the list given (one per company)."""
    if not seats:
        return [c.persona for c in scenario.companies]
    unknown = [s for s in seats if s not in PERSONAS]
    if unknown:
        raise StudyError(
            f"unknown persona(s) {', '.join(unknown)}; choose from {', '.join(PERSONAS)}"
        )
    if len(seats) != len(scenario.companies):
        raise StudyError(
            f"{scenario.id} has {len(scenario.companies)} companies; "
            f"give {len(scenario.companies)} seats, not {len(seats)}"
        )
    return list(seats)


def play_chunk(
    world: World,
    seat_names: list[str],
    seeds: np.ndarray,
    aggressiveness: float = personas.DEFAULT_AGGRESSIVENESS,
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """Play whole games for a batch of seeds, yielding each round's table columns as (R,C)
    arrays."""
    seats = np.array([personas.persona_index(s) for s in seat_names])
    aggr = np.full(len(seats), aggressiveness)
    state, previous = initial_state(world, seeds), None
    for _ in range(world.scenario.rounds):
        d = personas.decide(world, state, seats, aggr, previous)
        state, o = step(world, state, d)
        previous = d
        share = total_last(o.served) / np.maximum(total_last(o.volume)[:, None], 1e-12)
        yield (
            o.round,
            {
                "cash": state.cash,
                "revenue": o.revenue,
                "net_income": o.net_income,
                "share": share,
                "capability": o.effective_capability,
                "brand": state.brand,
                "safety": o.safety,
                "score": o.score,
            },
        )


def _chunk_frame(
    world: World, seat_names: list[str], first_run: int, seeds: np.ndarray, aggressiveness: float
) -> pd.DataFrame:
    R, C = len(seeds), world.n_companies
    companies = pd.Categorical.from_codes(np.tile(np.arange(C), R), categories=world.company_names)
    seat_codes = [sorted(set(seat_names)).index(s) for s in seat_names]
    persona = pd.Categorical.from_codes(np.tile(seat_codes, R), categories=sorted(set(seat_names)))
    frames = []
    for rnd, cols in play_chunk(world, seat_names, seeds, aggressiveness):
        frame = {
            "run": np.repeat(np.arange(first_run, first_run + R), C),
            "round": np.full(R * C, rnd, dtype=np.int64),
            "company": companies,
            "persona": persona,
        }
        frame.update({k: v.reshape(-1) for k, v in cols.items()})
        frames.append(pd.DataFrame(frame, columns=list(COLUMNS)))
    return pd.concat(frames, ignore_index=True).sort_values(
        ["run", "round"], kind="stable", ignore_index=True
    )


def default_workers() -> int:
    """Worker processes for a study: one per core."""
    return max(
        1,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
    )


def _chunks(runs: int, chunk: int, workers: int) -> list[tuple[int, int]]:
    """(first run, count) pieces: at most `chunk` runs each, and at least one per worker."""
    size = max(1, min(chunk, -(-runs // max(workers, 1))))
    return [(first, min(size, runs - first)) for first in range(0, runs, size)]


def _in_workers(fn: Callable[..., T], jobs: Sequence[tuple[Any, ...]], workers: int) -> Iterator[T]:
    """Results of fn(*job) in job order, computed in worker processes (a few jobs ahead, to bound
    memory)."""
    if workers <= 1 or len(jobs) <= 1:
        yield from (fn(*job) for job in jobs)
        return
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        pending: deque[Future[T]] = deque()
        for job in jobs:
            pending.append(pool.submit(fn, *job))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _frame_job(
    scenario: Scenario, seat_names: list[str], seed: int, first: int, n: int, aggressiveness: float
) -> pd.DataFrame:
    return _chunk_frame(
        World(scenario), seat_names, first, run_seeds(seed, n, first), aggressiveness
    )


def _final_scores_job(
    scenario: Scenario, seat_names: list[str], seed: int, first: int, n: int, aggressiveness: float
) -> np.ndarray:
    *_, (_, last) = play_chunk(
        World(scenario), seat_names, run_seeds(seed, n, first), aggressiveness
    )
    return last["score"]


def final_scores(
    scenario: Scenario,
    runs: int,
    seed: int,
    seats: list[str] | None = None,
    chunk: int = DEFAULT_CHUNK,
    workers: int | None = None,
    aggressiveness: float = personas.DEFAULT_AGGRESSIVENESS,
) -> np.ndarray:
    """Final scorecard of every seat in every run (runs, companies), played across worker
    processes."""
    seat_names = resolve_seats(scenario, seats)
    workers = default_workers() if workers is None else workers
    jobs = [
        (scenario, seat_names, seed, first, n, aggressiveness)
        for first, n in _chunks(runs, chunk, workers)
    ]
    return np.concatenate(list(_in_workers(_final_scores_job, jobs, workers)))


def simulate(
    scenario: Scenario,
    runs: int,
    seed: int,
    seats: list[str] | None = None,
    out: str | Path | None = None,
    chunk: int = DEFAULT_CHUNK,
    aggressiveness: float = personas.DEFAULT_AGGRESSIVENESS,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> pd.DataFrame | None:
    """Play `runs` seeded games; return the tidy table, or stream it to `out` (.csv or .parquet) and
    return None.

    Chunks of runs are played in worker processes; the table is the same whatever the chunking."""
    if runs < 1:
        raise StudyError("runs must be at least 1")
    if chunk < 1:
        raise StudyError("chunk must be at least 1")
    seat_names = resolve_seats(scenario, seats)
    sink = _Sink(Path(out)) if out is not None else None
    workers = default_workers() if workers is None else workers
    jobs = [
        (scenario, seat_names, seed, first, n, aggressiveness)
        for first, n in _chunks(runs, chunk, workers)
    ]
    frames = []
    for frame in _in_workers(_frame_job, jobs, workers):
        n = int(frame["run"].nunique())
        if sink:
            sink.write(frame)
        else:
            frames.append(frame)
        if progress:
            progress(n)
    if sink:
        sink.close()
        return None
    return pd.concat(frames, ignore_index=True)


class _Sink:
    """Appends chunks to a CSV or Parquet file."""

    def __init__(self, path: Path):
        if path.suffix.lower() not in {".csv", ".parquet"}:
            raise StudyError(f"write to a .csv or .parquet file, not {path.name!r}")
        if not path.parent.exists():
            raise StudyError(f"folder {str(path.parent)!r} does not exist")
        self.path, self.first = path, True
        self.writer: Any = None

    def write(self, frame: pd.DataFrame) -> None:
        if self.path.suffix.lower() == ".csv":
            frame.to_csv(
                self.path,
                mode="w" if self.first else "a",
                header=self.first,
                index=False,
                float_format="%.6g",
            )
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            self.writer = self.writer or pq.ParquetWriter(self.path, table.schema)
            self.writer.write_table(table)
        self.first = False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def win_rates(
    scenario: Scenario,
    runs: int,
    seed: int,
    seats: list[str] | None = None,
    chunk: int = DEFAULT_CHUNK,
    workers: int | None = None,
) -> dict[str, float]:
    """Share of games each persona wins (top final score; a persona in two seats counts both seats'
    wins)."""
    seat_names = resolve_seats(scenario, seats)
    winners = final_scores(scenario, runs, seed, seat_names, chunk, workers).argmax(axis=1)
    wins = dict.fromkeys(seat_names, 0)
    for c, name in enumerate(seat_names):
        wins[name] += int((winners == c).sum())
    return {k: v / runs for k, v in wins.items()}
