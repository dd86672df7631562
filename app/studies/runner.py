"""Running a study: jobs of runs in worker processes (or on a Dask cluster), rows streamed to Parquet,
final-round measures kept for the summaries, output written whole or not at all.

Jobs are (arm, sweep point, first run, count); seeds derive from (study seed, run) on the client, so every
arm and sweep point plays the same draws and a job's result never depends on which worker ran it. Results
are consumed in job order, so the files are the same, byte for byte, on any backend and with any workers.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import multiprocessing as mp
import os
import shutil
import signal
import tempfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from app.engine.batch import default_workers
from app.studies.files import Prepared
from app.studies.play import MEASURES, VALUE_COLUMNS, Chunk, play
from app.studies.summary import headline, summarise

DEFAULT_CHUNK = 2_500  # runs a job plays together: from ~1,000 up bigger saves little, and costs memory
ROW_GROUP_ROWS = 2**18  # rows per Parquet row group, whatever the jobs: the file never depends on chunks or workers
LOCK_FILE = ".study.lock"
RUNS_FILE, SUMMARY_CSV, SUMMARY_JSON, MANIFEST = "runs.parquet", "summary.csv", "summary.json", "study.json"
BACKENDS = ("local", "dask")
KEPT_ROWS_MAX_BYTES = 4 * 2**30  # rows returned in memory (no output folder): past this, write them to a folder


class RunError(RuntimeError):
    """A study that stopped: a failing strategy or worker, an unreachable scheduler, an output that cannot be written."""


@dataclass
class StudyResult:
    """A finished study: its summary table, its rows (kept in memory or in `out`), and the terminal summary."""

    prepared: Prepared
    summary: pd.DataFrame
    out: Path | None = None
    _runs: pd.DataFrame | None = None

    @property
    def runs(self) -> pd.DataFrame:
        """Every row: arm x sweep point x run x round x company."""
        if self._runs is None:
            if self.out is None:
                raise RunError("this study kept no rows (run it with keep_runs=True or an output folder)")
            self._runs = pd.read_parquet(self.out / RUNS_FILE)
        return self._runs

    @property
    def differences(self) -> pd.DataFrame:
        """Rows of the summary for arms after the first: paired differences from the baseline."""
        return self.summary[self.summary.diff_mean.notna()].reset_index(drop=True)

    def text(self) -> str:
        return headline(self.summary, self.prepared.arm_names)


def jobs(prepared: Prepared, chunk: int, workers: int) -> list[tuple[int, int, int]]:
    """(config index, first run, count): each configuration cut into pieces of at most `chunk` runs, and into at
    least as many pieces overall as there are workers (so a small study still uses them all)."""
    runs, configs = prepared.study.runs, len(prepared.configs)
    pieces_each = max(math.ceil(runs / chunk), math.ceil(workers / configs))
    size = max(1, math.ceil(runs / pieces_each))
    return [(i, first, min(size, runs - first)) for i in range(configs) for first in range(0, runs, size)]


def run(prepared: Prepared, out: str | Path | None = None, workers: int | None = None, backend: str = "local",
        scheduler: str | None = None, progress: Callable[[int], None] | None = None, chunk: int = DEFAULT_CHUNK,
        keep_runs: bool | None = None) -> StudyResult:
    """Play the study; write runs.parquet, summary.csv, summary.json and study.json to `out` (a folder), all or none.

    keep_runs: also return the rows in memory (default: when there is no `out`)."""
    if backend not in BACKENDS:
        raise RunError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if chunk < 1:
        raise RunError("chunk must be at least 1")
    keep = out is None if keep_runs is None else keep_runs
    row_count = prepared.study.total_runs * prepared.configs[0].scenario.rounds * len(prepared.scenario.companies)
    row_bytes = row_count * (len(VALUE_COLUMNS) + 8) * 8
    if keep and row_bytes > KEPT_ROWS_MAX_BYTES:
        raise RunError(f"the study's {row_count:,} rows would take about {row_bytes / 2**30:.1f} GiB of memory: "
                       "give an output folder (out=...) and read runs.parquet in pieces, or keep_runs=False")
    workers = default_workers() if workers is None else max(1, workers)
    target = _Output(Path(out)) if out is not None else None
    work = jobs(prepared, chunk, workers)
    finals: dict[tuple[int, int], np.ndarray] = {}  # (arm, point) -> (runs, companies, MEASURES), filled as chunks come
    tables: list[pa.Table] = []
    try:
        with executor(backend, scheduler, workers, len(work)) as pool:
            for result in in_order(pool, prepared, work, workers):
                key, n = (result.arm, result.point), result.final.shape[0]
                if key not in finals:
                    finals[key] = np.empty((prepared.study.runs, *result.final.shape[1:]))
                finals[key][result.first_run:result.first_run + n] = result.final
                if target:
                    target.write(result.table)
                if keep:
                    tables.append(result.table)
                if progress:
                    progress(result.final.shape[0])
        summary = summarise(finals, prepared.arm_names,
                            [c.name for c in prepared.scenario.companies], prepared.study.sweep_points)
        if target:
            target.finish(prepared, summary)
    except BaseException:
        if target:
            target.abandon()
        raise
    rows = pa.concat_tables(tables).to_pandas() if keep and tables else None
    return StudyResult(prepared, summary, target.folder if target else None, rows)


def in_order(pool: Executor | None, prepared: Prepared, work: list[tuple[int, int, int]], workers: int) -> Iterator[Chunk]:
    """Each job's result in job order; a few jobs ahead are in flight, so memory stays bounded.

    Worker processes on this machine hand their rows over as Arrow files in shared memory (see `_play_to_file`)
    rather than pickled through the pool's pipe; a Dask cluster's workers return them pickled."""
    args = (prepared.study.seed, prepared.labels, prepared.arm_names, prepared.sweep_paths)
    if pool is None:
        for i, first, n in work:
            yield play(prepared.configs[i], args[0], first, n, *args[1:])
        return
    local = isinstance(pool, ProcessPoolExecutor)
    folder = tempfile.mkdtemp(prefix="moatline-study-", dir=_SHARED if os.access(_SHARED, os.W_OK) else None) if local else ""
    pending: deque[Future[Any]] = deque()

    def submit(j: int, i: int, first: int, n: int) -> Future[Any]:
        if local:
            path = os.path.join(folder, f"{j}.arrow")
            return pool.submit(_play_to_file, path, prepared.configs[i], args[0], first, n, *args[1:])
        return pool.submit(play, prepared.configs[i], args[0], first, n, *args[1:])

    def take() -> Chunk:
        done = pending.popleft().result()
        return _from_file(*done) if local else done

    try:
        for j, (i, first, n) in enumerate(work):
            pending.append(submit(j, i, first, n))
            if len(pending) > 2 * workers:
                yield take()
        while pending:
            yield take()
    finally:  # pending jobs are not cancelled one by one: their workers are stopped (`_stop`), or the client closes
        if local:
            shutil.rmtree(folder, ignore_errors=True)


_SHARED = "/dev/shm"  # memory-backed files on Linux; elsewhere the system's temporary folder


def _play_to_file(path: str, *args: Any) -> tuple[Chunk, str | None]:
    """`play` in a worker process, its rows written to an Arrow IPC file at `path` instead of pickled back: the
    parent maps the file, so a chunk's rows are copied once on their way instead of four times. Where the file
    cannot be written (a small /dev/shm, as in a default Docker container) the rows travel pickled instead."""
    chunk = play(*args)
    try:
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, chunk.table.schema) as writer:
            writer.write_table(chunk.table)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(path)
        return chunk, None
    return replace(chunk, table=None), path


def _from_file(chunk: Chunk, path: str | None) -> Chunk:
    """The chunk with its rows read back (memory-mapped) from the worker's file; the file's name goes at once."""
    if path is None:
        return chunk
    table = pa.ipc.open_file(pa.memory_map(path)).read_all()
    os.unlink(path)  # the mapping keeps the data until the table is dropped
    return replace(chunk, table=table)


def _quiet_worker() -> None:
    """Workers leave Ctrl-C to the parent, which stops them; a worker never prints a traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def executor(backend: str, scheduler: str | None, workers: int, jobs: int) -> Iterator[Executor | None]:
    if backend == "dask":
        with _dask(scheduler) as pool:
            yield pool
        return
    if workers <= 1 or jobs <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"), initializer=_quiet_worker)
    try:
        yield pool
    except BaseException:
        _stop(pool)
        raise
    else:
        pool.shutdown(wait=True)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop every worker now, so nothing the study started outlives it. The pool's own thread then sees its
    workers gone, fails what was pending and ends by itself: waiting for it here could hang on a dead pipe."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
            p.join(timeout=5)
    pool.shutdown(wait=False)


@contextmanager
def _dask(scheduler: str | None) -> Iterator[Executor]:
    try:
        from distributed import Client
    except ImportError:
        raise RunError("the Dask backend needs the dask extra: pip install -e '.[dask]'") from None
    if not scheduler:
        raise RunError("the Dask backend needs --scheduler ADDRESS (e.g. tcp://10.0.0.5:8786)")
    try:
        client = Client(scheduler, timeout=10, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise RunError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
    try:
        yield client.get_executor()
    finally:
        client.close()


class _Output:
    """A study's output folder: files are written in a hidden folder beside them and moved in at the end."""

    def __init__(self, folder: Path):
        if folder.exists() and not folder.is_dir():
            raise RunError(f"{folder} is a file; --out names a folder")
        if not folder.parent.exists():
            raise RunError(f"folder {str(folder.parent)!r} does not exist")
        folder.mkdir(exist_ok=True)
        self.folder = folder
        # one study writes to a folder at a time: two at once could leave one's rows beside the other's summary
        self.lock = open(folder / LOCK_FILE, "w")  # noqa: SIM115 - held until finish or abandon
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.lock.close()
            raise RunError(f"another study is writing to {folder} now; wait for it or choose another --out") from None
        self.partial = folder / f".partial-{os.getpid()}"
        shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir()
        self.writer: pq.ParquetWriter | None = None
        self.pending: pa.Table | None = None

    def write(self, table: pa.Table) -> None:
        """Append rows; they are written in row groups of ROW_GROUP_ROWS, so the bytes never depend on the jobs."""
        self.pending = pa.concat_tables([self.pending, table]) if self.pending is not None else table
        while self.pending.num_rows >= ROW_GROUP_ROWS:
            self._group(self.pending.slice(0, ROW_GROUP_ROWS))
            self.pending = self.pending.slice(ROW_GROUP_ROWS)

    def _group(self, table: pa.Table) -> None:
        if self.writer is None:
            keep = [f.name for f in table.schema if not pa.types.is_floating(f.type)]  # dictionaries pay only for labels
            self.writer = pq.ParquetWriter(self.partial / RUNS_FILE, table.schema, compression="snappy", use_dictionary=keep)
        self.writer.write_table(table.combine_chunks(), row_group_size=ROW_GROUP_ROWS)

    def finish(self, prepared: Prepared, summary: pd.DataFrame) -> None:
        if self.pending is not None and self.pending.num_rows:
            self._group(self.pending)
        if self.writer is not None:
            self.writer.close()
        summary.to_csv(self.partial / SUMMARY_CSV, index=False)
        (self.partial / SUMMARY_JSON).write_text(json.dumps(_summary_json(prepared, summary), indent=1, allow_nan=False))
        (self.partial / MANIFEST).write_text(json.dumps(_manifest(prepared), indent=1))
        for name in (RUNS_FILE, SUMMARY_CSV, SUMMARY_JSON, MANIFEST):
            if (self.partial / name).exists():
                os.replace(self.partial / name, self.folder / name)
        self.partial.rmdir()
        self._release()

    def abandon(self) -> None:
        if self.writer is not None:
            with contextlib.suppress(Exception):  # a writer that cannot close: its folder goes anyway
                self.writer.close()
        shutil.rmtree(self.partial, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        """The folder holds only results again: the lock file goes before its lock does."""
        (self.folder / LOCK_FILE).unlink(missing_ok=True)
        self.lock.close()


def _manifest(prepared: Prepared) -> dict[str, Any]:
    s = prepared.study
    return {"complete": True, "study": prepared.source, "scenario": prepared.scenario.id, "runs": s.runs, "seed": s.seed,
            "arms": list(prepared.arm_names), "sweep": s.sweep, "games": s.total_runs, "measures": list(MEASURES),
            "seats": {arm.name: {c.seats[k].company: c.seats[k].label for k in range(len(c.seats))}
                      for arm, c in zip(s.arms, prepared.configs[:: len(s.sweep_points)], strict=True)}}


def _summary_json(prepared: Prepared, summary: pd.DataFrame) -> dict[str, Any]:
    records = summary.astype(object).where(summary.notna(), None).to_dict(orient="records")
    return {**_manifest(prepared), "rows": records}
