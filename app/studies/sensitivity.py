"""Sensitivity analysis of a study: which scenario parameters move the outputs, and how much.

The layer knows nothing of the simulator. A study is a list of :class:`Parameter` (a dotted scenario
path such as ``market.outside.gain_per_round`` with a range) and an :data:`Evaluate` callable that maps
a batch of parameter points to outputs, one row per point and one column per output, in order. For
Moatline an output is the mean final score of one company over N seeded games, and the callable plays
the same seeds at every point (common random numbers), so two points differ only by their parameters.

Three methods, all through SALib (no estimator is written here):

* :func:`morris` -- elementary effects screening (``SALib.sample.morris.sample`` and
  ``SALib.analyze.morris.analyze``): cheap, ranks parameters by ``mu_star``; ``sigma`` reveals
  interactions and non-linearity.
* :func:`sobol` -- variance-based indices (Saltelli's scheme, ``SALib.sample.sobol.sample`` and
  ``SALib.analyze.sobol.analyze``): ``S1`` is the share of output variance a parameter explains
  alone, ``ST`` the share including its interactions.
* :func:`tornado` -- one-at-a-time swings around a baseline, for a quick picture.

Batches: every method builds its whole design first, then calls ``evaluate`` with consecutive chunks
of at most ``batch_size`` points (default :data:`DEFAULT_BATCH_SIZE`; ``None`` sends the whole design
in one call), in design order. After each chunk ``progress(n)`` is called with the number of points
done so far; :func:`sample_count` says in advance how many points a method will evaluate.

Seeds: samplers and bootstrap confidence intervals take ``seed``, so the same seed gives the same
points and the same table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

Evaluate = Callable[[list[dict[str, float]]], np.ndarray]
"""Maps a batch of points (parameter path -> value) to an array of shape (n_points, n_outputs)."""

Progress = Callable[[int], None]

DEFAULT_BATCH_SIZE = 64
"""Points per call to ``evaluate`` unless a method is given another ``batch_size``."""

CONF_LEVEL = 0.95
RESAMPLES = 100  # bootstrap resamples behind the *_conf columns

MORRIS_COLUMNS = ["output", "parameter", "mu_star", "mu_star_conf", "mu", "sigma", "rank"]
SOBOL_COLUMNS = ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf", "rank"]
SOBOL_SECOND_ORDER_COLUMNS = ["output", "parameter_1", "parameter_2", "S2", "S2_conf"]
TORNADO_COLUMNS = ["output", "parameter", "low", "high", "output_at_low", "output_at_high",
                   "output_at_baseline", "swing", "rank"]


class SensitivityError(ValueError):
    """A study that cannot be analysed as given, or an evaluation that broke its contract."""


@dataclass(frozen=True)
class Parameter:
    """A scenario parameter varied over ``[low, high]``.

    ``integer`` parameters are rounded to the nearest integer (halves to even) after sampling and are
    handed to ``evaluate`` as ``int``; their bounds must be integers so rounding never leaves the range.
    """

    path: str
    low: float
    high: float
    integer: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.strip():
            raise SensitivityError(f"parameter path must be a non-empty string, not {self.path!r}")
        for bound in ("low", "high"):
            value = getattr(self, bound)
            if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not math.isfinite(value):
                raise SensitivityError(f"parameter {self.path!r}: {bound} must be a finite number, not {value!r}")
        if self.low >= self.high:
            raise SensitivityError(f"parameter {self.path!r}: low ({self.low}) must be below high ({self.high})")
        if self.integer and (self.low != round(self.low) or self.high != round(self.high)):
            raise SensitivityError(
                f"integer parameter {self.path!r}: bounds must be whole numbers, not [{self.low}, {self.high}]")


# ---------------------------------------------------------------------------------------------------
# validation


def _check_parameters(parameters: Sequence[Parameter]) -> list[Parameter]:
    params = list(parameters)
    if not params:
        raise SensitivityError("no parameters: a study needs at least one parameter to vary")
    for p in params:
        if not isinstance(p, Parameter):
            raise SensitivityError(f"expected Parameter, got {type(p).__name__}: {p!r}")
    paths = [p.path for p in params]
    duplicates = sorted({path for path in paths if paths.count(path) > 1})
    if duplicates:
        raise SensitivityError(f"duplicate parameter paths: {', '.join(duplicates)}")
    return params


def _check_outputs(outputs: Sequence[str]) -> list[str]:
    if isinstance(outputs, str):
        raise SensitivityError(f"outputs must be a sequence of names, not the string {outputs!r}")
    names = list(outputs)
    if not names:
        raise SensitivityError("no outputs: name at least one output of evaluate")
    for name in names:
        if not isinstance(name, str) or not name:
            raise SensitivityError(f"output names must be non-empty strings, not {name!r}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SensitivityError(f"duplicate output names: {', '.join(duplicates)}")
    return names


def _whole(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise SensitivityError(f"{name} must be an integer, not {value!r}")
    if value < minimum:
        raise SensitivityError(f"{name} must be at least {minimum}, not {value}")
    return int(value)


def _check_morris_options(trajectories: Any, levels: Any) -> tuple[int, int]:
    trajectories = _whole("trajectories", trajectories, 2)  # sigma needs two elementary effects
    levels = _whole("levels", levels, 2)
    if levels % 2:
        raise SensitivityError(f"levels must be even (Morris' symmetric grid), not {levels}")
    return trajectories, levels


def _check_sobol_options(base_samples: Any, second_order: Any) -> tuple[int, bool]:
    base_samples = _whole("base_samples", base_samples, 2)
    if base_samples & (base_samples - 1):
        raise SensitivityError(f"base_samples must be a power of two (Sobol' sequence balance), not {base_samples}")
    if not isinstance(second_order, bool):
        raise SensitivityError(f"second_order must be True or False, not {second_order!r}")
    return base_samples, second_order


def _check_batch(batch_size: Any) -> int | None:
    if batch_size is None:
        return None
    return _whole("batch_size", batch_size, 1)


# ---------------------------------------------------------------------------------------------------
# evaluation


def _problem(params: Sequence[Parameter]) -> dict[str, Any]:
    return {"num_vars": len(params), "names": [p.path for p in params],
            "bounds": [[float(p.low), float(p.high)] for p in params]}


def _points(params: Sequence[Parameter], design: np.ndarray) -> list[dict[str, float]]:
    """Rows of a design as points, integer parameters rounded (and typed ``int``)."""
    points = []
    for row in design:
        point: dict[str, float] = {}
        for p, value in zip(params, row, strict=True):
            point[p.path] = int(np.rint(value)) if p.integer else float(value)
        points.append(point)
    return points


def _evaluate(points: list[dict[str, float]], evaluate: Evaluate, outputs: list[str],
              batch_size: int | None, progress: Progress | None) -> np.ndarray:
    """All points through ``evaluate`` in chunks; checks every answer and returns (n_points, n_outputs)."""
    size = batch_size or max(len(points), 1)
    results = []
    for start in range(0, len(points), size):
        batch = points[start:start + size]
        answer = evaluate(batch)
        try:
            y = np.asarray(answer, dtype=float)
        except (TypeError, ValueError) as exc:
            raise SensitivityError(
                f"evaluate returned something that is not an array of numbers for points {start}..{start + len(batch) - 1}: {exc}"
            ) from exc
        if y.shape != (len(batch), len(outputs)):
            raise SensitivityError(
                f"evaluate returned shape {y.shape} for a batch of {len(batch)} points "
                f"(points {start}..{start + len(batch) - 1}); expected ({len(batch)}, {len(outputs)}) "
                f"= (points, outputs {outputs})")
        bad = np.argwhere(~np.isfinite(y))
        if bad.size:
            i, j = (int(k) for k in bad[0])
            raise SensitivityError(
                f"evaluate returned {y[i, j]} for output {outputs[j]!r} at point {start + i} {batch[i]}")
        results.append(y)
        if progress is not None:
            progress(start + len(batch))
    return np.concatenate(results, axis=0)


def _ranked(rows: list[dict[str, Any]], columns: list[str], by: str, outputs: list[str]) -> pd.DataFrame:
    """Rank within each output (1 = largest ``by``, ties by parameter order), sorted by output then rank."""
    frames = []
    for name in outputs:
        part = pd.DataFrame([r for r in rows if r["output"] == name])
        part = part.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
        part["rank"] = np.arange(1, len(part) + 1)
        frames.append(part)
    return pd.concat(frames, ignore_index=True)[columns]


# ---------------------------------------------------------------------------------------------------
# methods


def morris(parameters: Sequence[Parameter], evaluate: Evaluate, outputs: Sequence[str], trajectories: int = 10,
           levels: int = 4, seed: int = 0, progress: Progress | None = None, *,
           batch_size: int | None = DEFAULT_BATCH_SIZE) -> pd.DataFrame:
    """Morris elementary effects: ``trajectories * (len(parameters) + 1)`` points.

    Returns one row per (output, parameter) with ``mu_star`` (mean absolute elementary effect),
    ``mu_star_conf`` (bootstrap half-width, 95 %), ``mu`` (signed mean) and ``sigma`` (standard
    deviation of the effects: large when the effect depends on the other parameters or is not linear).
    An effect is the output change of a grid step divided by the step as a fraction of the range, i.e.
    the change per full range of the parameter: ``y = 10 a`` gives ``mu_star`` 10 for ``a`` in [0, 1]
    and 20 for ``a`` in [0, 2]. ``rank`` 1 is the largest ``mu_star`` of its output; rows are in the
    order of ``outputs``, then by rank.

    Integer parameters are rounded before evaluation while the analysis keeps SALib's unrounded grid, so
    their effects are approximate unless the grid falls on integers (e.g. [0, 3] with 4 levels).
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    params = _check_parameters(parameters)
    names = _check_outputs(outputs)
    trajectories, levels = _check_morris_options(trajectories, levels)
    size = _check_batch(batch_size)
    problem = _problem(params)
    design = morris_sample.sample(problem, trajectories, num_levels=levels, seed=seed)
    y = _evaluate(_points(params, design), evaluate, names, size, progress)
    rows = []
    for j, name in enumerate(names):
        si = morris_analyze.analyze(problem, design, np.ascontiguousarray(y[:, j]), num_resamples=RESAMPLES,
                                    conf_level=CONF_LEVEL, num_levels=levels, seed=seed)
        for i, p in enumerate(params):
            rows.append({"output": name, "parameter": p.path, "mu_star": float(si["mu_star"][i]),
                         "mu_star_conf": float(si["mu_star_conf"][i]), "mu": float(si["mu"][i]),
                         "sigma": float(si["sigma"][i])})
    return _ranked(rows, MORRIS_COLUMNS, "mu_star", names)


def sobol(parameters: Sequence[Parameter], evaluate: Evaluate, outputs: Sequence[str], base_samples: int = 64,
          second_order: bool = False, seed: int = 0, progress: Progress | None = None, *,
          batch_size: int | None = DEFAULT_BATCH_SIZE) -> pd.DataFrame:
    """Sobol' indices by Saltelli's scheme: ``base_samples * (len(parameters) + 2)`` points, or
    ``base_samples * (2 * len(parameters) + 2)`` with ``second_order``.

    ``base_samples`` must be a power of two. Returns one row per (output, parameter) with ``S1``
    (first-order index), ``ST`` (total index, interactions included) and their bootstrap 95 %
    half-widths; ``ST`` well above ``S1`` means the parameter acts through interactions. ``rank`` 1 is
    the largest ``ST`` of its output. An output that never changes has every index 0 (SALib would divide
    by its zero variance). With ``second_order`` the pairwise indices are in
    ``df.attrs["second_order"]``, a frame with columns ``output, parameter_1, parameter_2, S2, S2_conf``.
    Estimates at small ``base_samples`` are noisy and can fall slightly outside [0, 1].
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    params = _check_parameters(parameters)
    names = _check_outputs(outputs)
    base_samples, second_order = _check_sobol_options(base_samples, second_order)
    size = _check_batch(batch_size)
    problem = _problem(params)
    design = sobol_sample.sample(problem, base_samples, calc_second_order=second_order, seed=seed)
    y = _evaluate(_points(params, design), evaluate, names, size, progress)
    rows: list[dict[str, Any]] = []
    pairs: list[dict[str, Any]] = []
    for j, name in enumerate(names):
        column = np.ascontiguousarray(y[:, j])
        n = len(params)
        if np.ptp(column) == 0:
            s1 = st = s1c = stc = np.zeros(n)
            s2 = s2c = np.zeros((n, n))
        else:
            # a Generator, not the int: SALib's sobol.analyze tests `if seed:`, so seed=0 would not be fixed
            si = sobol_analyze.analyze(problem, column, calc_second_order=second_order, num_resamples=RESAMPLES,
                                       conf_level=CONF_LEVEL, seed=np.random.default_rng(seed))
            s1, s1c, st, stc = (np.asarray(si[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf"))
            if second_order:
                s2, s2c = np.asarray(si["S2"], dtype=float), np.asarray(si["S2_conf"], dtype=float)
        for i, p in enumerate(params):
            rows.append({"output": name, "parameter": p.path, "S1": float(s1[i]), "S1_conf": float(s1c[i]),
                         "ST": float(st[i]), "ST_conf": float(stc[i])})
        if second_order:
            for a in range(n):
                for b in range(a + 1, n):
                    pairs.append({"output": name, "parameter_1": params[a].path, "parameter_2": params[b].path,
                                  "S2": float(s2[a, b]), "S2_conf": float(s2c[a, b])})
    df = _ranked(rows, SOBOL_COLUMNS, "ST", names)
    if second_order:
        df.attrs["second_order"] = pd.DataFrame(pairs, columns=SOBOL_SECOND_ORDER_COLUMNS)
    return df


def tornado(parameters: Sequence[Parameter], evaluate: Evaluate, outputs: Sequence[str],
            baseline: Mapping[str, float] | None = None, progress: Progress | None = None, *,
            batch_size: int | None = DEFAULT_BATCH_SIZE) -> pd.DataFrame:
    """One at a time: ``2 * len(parameters) + 1`` points.

    The first point is the baseline (the midpoint of every range, or the value ``baseline`` gives for
    a path; paths it omits stay at their midpoint); then each parameter at its low and at its high with
    the others at the baseline. No sampling, so no seed: every point shares the model's random draws
    because the ``evaluate`` callable plays the same seeds at every point (common random numbers), so a
    swing is the parameter's effect, not noise. Returns ``low, high`` (the parameter values),
    ``output_at_low, output_at_high, output_at_baseline``, ``swing = |output_at_high - output_at_low|``
    and ``rank`` (1 = largest swing of its output).
    """
    params = _check_parameters(parameters)
    names = _check_outputs(outputs)
    size = _check_batch(batch_size)
    centre = np.array([(p.low + p.high) / 2 for p in params], dtype=float)
    if baseline is not None:
        if not isinstance(baseline, Mapping):
            raise SensitivityError(f"baseline must map parameter paths to values, not {type(baseline).__name__}")
        index = {p.path: i for i, p in enumerate(params)}
        unknown = sorted(set(baseline) - set(index))
        if unknown:
            raise SensitivityError(f"baseline names unknown parameters: {', '.join(map(str, unknown))}")
        for path, value in baseline.items():
            p = params[index[path]]
            if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not math.isfinite(value):
                raise SensitivityError(f"baseline for {path!r} must be a finite number, not {value!r}")
            if not p.low <= value <= p.high:
                raise SensitivityError(f"baseline for {path!r} ({value}) is outside its range [{p.low}, {p.high}]")
            centre[index[path]] = float(value)
    design = [centre]
    for i, p in enumerate(params):
        for end in (p.low, p.high):
            row = centre.copy()
            row[i] = end
            design.append(row)
    points = _points(params, np.array(design))
    y = _evaluate(points, evaluate, names, size, progress)
    rows = []
    for j, name in enumerate(names):
        for i, p in enumerate(params):
            at_low, at_high = float(y[1 + 2 * i, j]), float(y[2 + 2 * i, j])
            rows.append({"output": name, "parameter": p.path, "low": points[1 + 2 * i][p.path],
                         "high": points[2 + 2 * i][p.path], "output_at_low": at_low, "output_at_high": at_high,
                         "output_at_baseline": float(y[0, j]), "swing": abs(at_high - at_low)})
    return _ranked(rows, TORNADO_COLUMNS, "swing", names)


def sample_count(method: str, n_parameters: int, **options: Any) -> int:
    """How many points ``method`` ("morris", "sobol" or "tornado") will send to ``evaluate``.

    ``options`` are the method's own: ``trajectories``/``levels`` for Morris, ``base_samples``/
    ``second_order`` for Sobol', none for tornado; they are checked as the method checks them. The
    method's other keywords (``seed``, ``batch_size``, ``progress``, tornado's ``baseline``) may be
    passed too and do not change the count, so one options mapping can serve both calls.
    """
    n = _whole("n_parameters", n_parameters, 1)
    allowed = {"morris": {"trajectories", "levels"}, "sobol": {"base_samples", "second_order"}, "tornado": set()}
    ignored = {"morris": {"seed", "batch_size", "progress"}, "sobol": {"seed", "batch_size", "progress"},
               "tornado": {"baseline", "batch_size", "progress"}}
    if method not in allowed:
        raise SensitivityError(f"unknown method {method!r}; expected one of {', '.join(allowed)}")
    unknown = sorted(set(options) - allowed[method] - ignored[method])
    if unknown:
        raise SensitivityError(f"unknown option(s) for {method}: {', '.join(unknown)}")
    if method == "morris":
        trajectories, _ = _check_morris_options(options.get("trajectories", 10), options.get("levels", 4))
        return trajectories * (n + 1)
    if method == "sobol":
        base_samples, second_order = _check_sobol_options(options.get("base_samples", 64),
                                                          options.get("second_order", False))
        return base_samples * ((2 * n + 2) if second_order else (n + 2))
    return 2 * n + 1


# ---------------------------------------------------------------------------------------------------
# terminal table

_TABLE_COLUMNS = {
    "mu_star": ["rank", "parameter", "mu_star", "mu_star_conf", "mu", "sigma"],
    "ST": ["rank", "parameter", "ST", "ST_conf", "S1", "S1_conf"],
    "swing": ["rank", "parameter", "swing", "output_at_low", "output_at_high", "low", "high"],
}


def _column_cells(values: list[Any]) -> list[str]:
    """Numbers of one column in one notation: 4 decimals, or 3-digit exponents when the column's
    largest magnitude is under 1e-3 or at least 1e6 (so float noise next to real effects reads 0.0000)."""
    numbers = [float(v) for v in values
               if isinstance(v, float | np.floating) or (isinstance(v, int | np.integer) and not isinstance(v, bool))]
    biggest = max((abs(v) for v in numbers), default=0.0)
    exponent = biggest >= 1e6 or 0 < biggest < 1e-3
    cells = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float | np.number):
            cells.append(str(v))
        elif isinstance(v, int | np.integer):
            cells.append(str(int(v)))
        else:
            cells.append(f"{float(v):.3e}" if exponent else f"{float(v):.4f}")
    return cells


def ranked_table(df: pd.DataFrame, top: int | None = None) -> str:
    """A plain-text table of a :func:`morris`, :func:`sobol` or :func:`tornado` result for a terminal.

    One block per output (in the frame's order), largest effect first, at most ``top`` rows a block
    (all when ``None``); text left-aligned, numbers right-aligned.
    """
    if top is not None:
        top = _whole("top", top, 1)
    key = next((k for k in _TABLE_COLUMNS if k in df.columns), None)
    if key is None or not {"output", "parameter", "rank"} <= set(df.columns):
        raise SensitivityError(f"not a sensitivity result: columns {list(df.columns)}")
    columns = _TABLE_COLUMNS[key]
    blocks = []
    for name in dict.fromkeys(df["output"]):
        part = df[df["output"] == name].sort_values("rank", kind="stable")
        shown = part if top is None else part.head(top)
        body = [_column_cells(shown[c].tolist()) for c in columns]
        cells = [columns] + [list(r) for r in zip(*body, strict=True)]
        widths = [max(len(r[k]) for r in cells) for k in range(len(columns))]
        lines = [f"output: {name}"]
        for r in cells:
            out = [text.ljust(widths[k]) if columns[k] == "parameter" else text.rjust(widths[k])
                   for k, text in enumerate(r)]
            lines.append("  " + "  ".join(out).rstrip())
        if len(shown) < len(part):
            lines.append(f"  ... {len(part) - len(shown)} more")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
