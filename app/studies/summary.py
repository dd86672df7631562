"""A study's summaries: final-round statistics per arm, sweep point and company, and paired differences.

Every arm plays the same seeds, so arm b's difference from the baseline is taken run by run (the same
company in the same game): its mean, and a 95% confidence interval from the t distribution of the paired
differences. An arm identical to the baseline therefore differs by exactly zero, with a zero-width interval.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from app.studies.play import MEASURES

CONFIDENCE = 0.95
QUANTILES = (10, 50, 90)
SUMMARY_COLUMNS = ("arm", "point", "company", "measure", "runs", "mean", "sd", "p10", "p50", "p90",
                   "diff_mean", "diff_ci_low", "diff_ci_high")


def summarise(finals: dict[tuple[int, int], np.ndarray], arms: tuple[str, ...], companies: list[str],
              points: list[dict[str, float | int]]) -> pd.DataFrame:
    """One row per arm x sweep point x company x measure; `finals[(arm, point)]` is (runs, companies, MEASURES)."""
    rows = []
    for (a, p), values in sorted(finals.items()):
        base = finals.get((0, p)) if a > 0 else None
        n = values.shape[0]
        mean = values.mean(axis=0)
        sd = values.std(axis=0, ddof=1) if n > 1 else np.zeros_like(mean)
        q = np.percentile(values, QUANTILES, axis=0)
        if base is not None:
            diff = values - base
            d_mean, d_low, d_high = paired(diff)
        for c, company in enumerate(companies):
            for m, measure in enumerate(MEASURES):
                row = {"arm": arms[a], "point": p, **points[p], "company": company, "measure": measure, "runs": n,
                       "mean": mean[c, m], "sd": sd[c, m], "p10": q[0, c, m], "p50": q[1, c, m], "p90": q[2, c, m]}
                if base is not None:
                    row.update(diff_mean=d_mean[c, m], diff_ci_low=d_low[c, m], diff_ci_high=d_high[c, m])
                else:
                    row.update(diff_mean=np.nan, diff_ci_low=np.nan, diff_ci_high=np.nan)
                rows.append(row)
    columns = ["arm", "point", *points[0].keys(), *SUMMARY_COLUMNS[2:]] if points else list(SUMMARY_COLUMNS)
    return pd.DataFrame(rows, columns=columns)


def paired(diff: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean of the run-by-run differences and its confidence interval (zero width when every difference is equal)."""
    n = diff.shape[0]
    mean = diff.mean(axis=0)
    if n < 2:
        return mean, np.full_like(mean, np.nan), np.full_like(mean, np.nan)
    same = (diff == diff[:1]).all(axis=0)
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * diff.std(axis=0, ddof=1) / math.sqrt(n)
    half = np.where(same, 0.0, half)
    return mean, mean - half, mean + half


def headline(summary: pd.DataFrame, arms: tuple[str, ...]) -> str:
    """The terminal summary: each arm's win rates, then every arm's score differences, largest effects first."""
    lines = []
    sweep = [c for c in summary.columns if c not in SUMMARY_COLUMNS]
    wins = summary[summary.measure == "win"]
    for _point, at_point in wins.groupby("point", sort=True):
        if sweep:
            first = at_point.iloc[0]
            lines.append("at " + ", ".join(f"{k} = {first[k]:g}" for k in sweep))
        for arm in arms:
            row = at_point[at_point.arm == arm].sort_values("mean", ascending=False)
            rates = ", ".join(f"{r.company} {r.mean:.1%}" for r in row.itertuples())
            lines.append(f"  {arm}: wins {rates}")
    cuts = summary[(summary.measure == "cut_rounds_share") & (summary["mean"] > 0)]
    if len(cuts):
        lines.append("decisions cut to fit the budget (share of rounds; share of planned spending):")
        spend = summary[summary.measure == "cut_spend_share"].set_index(["arm", "point", "company"])["mean"]
        for r in cuts.sort_values("mean", ascending=False).head(12).itertuples():
            lines.append(f"  {r.arm}, {r.company}: {r.mean:.0%} of rounds; {spend[(r.arm, r.point, r.company)]:.1%} of spending"
                         + (f"  [sweep point {r.point}]" if sweep else ""))
    diffs = summary[(summary.measure == "score") & summary.diff_mean.notna()].copy()
    if len(diffs):
        diffs["size"] = diffs.diff_mean.abs()
        lines.append("score differences from the baseline (same seeds), largest first:")
        for r in diffs.sort_values("size", ascending=False).head(12).itertuples():
            win = summary[(summary.measure == "win") & (summary.arm == r.arm) & (summary.point == r.point) & (summary.company == r.company)]
            win_diff = float(win.diff_mean.iloc[0]) if len(win) else float("nan")
            interval = "one run: no interval" if math.isnan(r.diff_ci_low) else f"95% CI {r.diff_ci_low:+.2f} to {r.diff_ci_high:+.2f}"
            lines.append(f"  {r.arm}, {r.company}: score {r.diff_mean:+.2f} ({interval}), "
                         f"win rate {win_diff:+.1%}" + (f"  [sweep point {r.point}]" if sweep else ""))
    return "\n".join(lines)
