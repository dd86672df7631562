"""Which scenario parameters matter most: a study's `sensitivity` section screened with SALib.

Each point of a method's design is the study's baseline arm with the point's values set on top of its
overrides, played for `runs_per_point` seeded games; the output is each chosen company's final-round mean
of the chosen KPI. Every point plays the same seeds (common random numbers), so a difference between
points is the parameters' doing, not the dice's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from app.studies import sensitivity as sa
from app.studies.files import Prepared, StudyError
from app.studies.overrides import apply_overrides, resolve_path
from app.studies.play import MEASURES, Config
from app.studies.runner import default_workers, executor, in_order
from app.studies.schema import Sensitivity

METHODS = ("morris", "sobol", "tornado")


def parameters(prepared: Prepared) -> list[sa.Parameter]:
    s = _section(prepared)
    out = []
    for path, (low, high) in s.parameters.items():
        integer = resolve_path(prepared.scenario, path).number is int
        out.append(sa.Parameter(path, float(low), float(high), integer=integer))
    return out


def point_count(prepared: Prepared, method: str | None = None) -> int:
    """How many points the screen evaluates (each plays `runs_per_point` games)."""
    s = _section(prepared)
    method = method or s.method
    options = {"morris": {"trajectories": s.trajectories}, "sobol": {"base_samples": s.base_samples, "second_order": s.second_order},
               "tornado": {}}[method]
    return sa.sample_count(method, len(s.parameters), **options)


def screen(prepared: Prepared, method: str | None = None, workers: int | None = None, backend: str = "local",
           scheduler: str | None = None, progress: Callable[[int], None] | None = None,
           most_runs: int | None = None) -> pd.DataFrame:
    """The ranked table of the study's sensitivity screen (one block per company's output)."""
    s = _section(prepared)
    method = method or s.method
    if method not in METHODS:
        raise StudyError(prepared.source, [_problem(f"method must be one of {', '.join(METHODS)}, not {method!r}")])
    from app.studies.files import max_runs

    games = point_count(prepared, method) * s.runs_per_point
    most = max_runs() if most_runs is None else most_runs
    if games > most:
        raise StudyError(prepared.source, [_problem(f"the screen plays {games:,} games ({point_count(prepared, method):,} points x "
                                                    f"{s.runs_per_point:,} runs); this machine allows {most:,} (MOATLINE_STUDY_MAX_RUNS)")])
    companies = s.companies or [c.name for c in prepared.scenario.companies]
    names = [c.name for c in prepared.scenario.companies]
    index = [names.index(c) for c in companies]
    measure = MEASURES.index(s.output)
    outputs = [f"{c} {s.output}" for c in companies]
    workers = default_workers() if workers is None else max(1, workers)
    baseline = prepared.configs[0]

    def evaluate(points: list[dict[str, float]]) -> np.ndarray:
        configs = tuple(replace(baseline, point=j, scenario=apply_overrides(baseline.scenario, p), sweep_values=())
                        for j, p in enumerate(points))
        batch = replace(prepared, configs=configs, study=prepared.study.model_copy(update={"runs": s.runs_per_point, "sweep": {}}))
        sums = np.zeros((len(points), len(index)))
        work = [(j, first, n) for j in range(len(points)) for first, n in _pieces(s.runs_per_point, workers, len(points))]
        with executor(backend, scheduler, workers, len(work)) as pool:
            for chunk in in_order(pool, batch, work, workers):
                sums[chunk.point] += chunk.final[:, index, measure].sum(axis=0)
                if progress:
                    progress(chunk.final.shape[0])
        return sums / s.runs_per_point

    params = parameters(prepared)
    batch_size = None  # the whole design at once: the workers stay busy across points
    if method == "morris":
        return sa.morris(params, evaluate, outputs, trajectories=s.trajectories, levels=s.levels, seed=prepared.study.seed % 2**32,
                         batch_size=batch_size)
    if method == "sobol":
        return sa.sobol(params, evaluate, outputs, base_samples=s.base_samples, second_order=s.second_order,
                        seed=prepared.study.seed % 2**32, batch_size=batch_size)
    return sa.tornado(params, evaluate, outputs, batch_size=batch_size)


def _pieces(runs: int, workers: int, points: int) -> list[tuple[int, int]]:
    """A point's runs in one piece when there are enough points to keep every worker busy, else split."""
    parts = 1 if points >= workers else -(-workers // points)
    size = -(-runs // parts)
    return [(first, min(size, runs - first)) for first in range(0, runs, size)]


def _section(prepared: Prepared) -> Sensitivity:
    if prepared.study.sensitivity is None:
        raise StudyError(prepared.source, [_problem("the study has no sensitivity section: add one with parameters and their "
                                                    "[low, high] ranges (see docs/studies.md)")])
    return prepared.study.sensitivity


def _problem(message: str):  # noqa: ANN202
    from app.scenario import Problem

    return Problem("sensitivity", None, message)


__all__ = ["METHODS", "Config", "parameters", "point_count", "screen"]
