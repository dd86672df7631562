"""Fit each shipped scenario's scorecard ranges to its persona games: every money metric's range runs from its
5th to its 95th percentile over the companies of N seeded games with the scenario's own seating, so that every
metric discriminates (a metric every company maxes out decides nothing) and no metric's scale is set by hand.

Run:  .venv/bin/python bench/fit_ranges.py [--games N] [--par] [--apply]

Prints one line per scenario and metric (the fitted range beside the one in force). `--apply` writes the ranges
into the `scoring:` block of each scenario file (weights and share basis kept); rerun it after any rule change
that moves the scale of profits, growth, share, valuations or runway, then rerun bench/balance.py.

`--par` also fits each company's par (`companies[].par`): its mean final metric in the same games less the mean
over the scenario's companies, what its board can expect of its start. The ranges are then fitted on the metrics
less the pars, and `--apply` writes both. With pars every seat starts level on the scorecard, so balance need not
come from handicapping a persona (a strong seat's persona then wasted money so that a one-line rule beat it).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from app.engine import personas  # noqa: E402
from app.engine.rng import run_seeds  # noqa: E402
from app.engine.rules import scoring  # noqa: E402
from app.engine.start import initial_state  # noqa: E402
from app.engine.step import step  # noqa: E402
from app.engine.world import World  # noqa: E402
from app.scenario import Scenario, list_scenarios  # noqa: E402
from app.scenario.schema import MetricPar, MetricRange  # noqa: E402
from app.scenario.scorecard import METRICS  # noqa: E402

FITTED = ("profit", "revenue_growth", "share", "valuation", "capability", "solvency")  # brand and safety keep 0-100
QUANTILES = (5, 95)
SEED = 31


def final_metrics(sc: Scenario, games: int) -> np.ndarray:
    """(games, companies, metrics) the scorecard's raw metrics at the last round of persona games."""
    world = World(sc)
    seats = np.array([personas.persona_index(c.persona) for c in sc.companies])
    state, previous = initial_state(world, run_seeds(SEED, games)), None
    aggressiveness = np.full(seats.size, personas.DEFAULT_AGGRESSIVENESS)
    for _ in range(sc.rounds):
        decision = personas.decide(world, state, seats, aggressiveness, previous)
        state, out = step(world, state, decision)
        previous = decision
    return out.metrics


def _round(x: float, up: bool) -> float:
    """Two significant figures, rounded outwards (so the fitted range holds its percentiles)."""
    if x == 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(abs(x))) - 1)
    return (math.ceil if up else math.floor)(x / scale) * scale


def fitted_par(metrics: np.ndarray) -> np.ndarray:
    """(companies, metrics) each company's mean final metric less the mean over the scenario's companies."""
    per_company = metrics.mean(axis=0)
    return per_company - per_company.mean(axis=0)


LEVEL_PASSES = 4
WIN_PASSES, WIN_STEP = 12, 0.1  # each pass moves a seat's ranges by this share of their span per unit of excess wins


def scores(sc: Scenario, metrics: np.ndarray, par: np.ndarray, ranges: dict[str, tuple[float, float]]) -> np.ndarray:
    """(games, companies) the scorecard's score of these metrics (`scoring.scorecard`) in the scenario with these
    ranges and pars."""
    fitted = {m: MetricRange(low=lo, high=hi) for m, (lo, hi) in ranges.items()}
    scoring_ = sc.scoring.model_copy(update={"ranges": sc.scoring.ranges.model_copy(update=fitted)})
    companies = [c.model_copy(update={"par": MetricPar(**dict(zip(METRICS, map(float, par[k]), strict=True)))})
                 for k, c in enumerate(sc.companies)]
    world = World(sc.model_copy(update={"scoring": scoring_, "companies": companies}))
    return scoring.scorecard(world, [metrics[..., k] for k in range(len(METRICS))])[1]


def level(sc: Scenario, metrics: np.ndarray, par: np.ndarray, ranges: dict[str, tuple[float, float]]) -> np.ndarray:
    """The pars moved so that every company's mean score is the scenario's mean: a company d points above it
    has every range raised by d/100 of its span (d points off its score where no metric is at an end), a few
    passes for the metrics that are."""
    r = sc.scoring.ranges
    span = np.array([ranges[m][1] - ranges[m][0] if m in ranges else getattr(r, m).high - getattr(r, m).low
                     for m in METRICS])
    for _ in range(LEVEL_PASSES):
        mean = scores(sc, metrics, par, ranges).mean(axis=0)
        par = par + ((mean - mean.mean()) / 100.0)[:, None] * span[None, :]
    # then on wins: a seat whose persona wins more than its even share has its ranges raised a step
    # (a seat of wide swings wins more often at the same mean score)
    for _ in range(WIN_PASSES):
        s = scores(sc, metrics, par, ranges)
        wins = np.bincount(s.argmax(axis=1), minlength=s.shape[1]) / s.shape[0]
        par = par + (WIN_STEP * (wins - 1.0 / s.shape[1]))[:, None] * span[None, :]
    return par


def current_par(sc: Scenario) -> np.ndarray:
    return np.array([[getattr(c.par, m) for m in METRICS] for c in sc.companies])


def fitted_ranges(sc: Scenario, metrics: np.ndarray) -> dict[str, tuple[float, float]]:
    """The FITTED metrics' 5th-95th percentile ranges over the games' companies (metrics: games, companies,
    metrics, less any par)."""
    out = {}
    for m in FITTED:
        v = metrics[..., METRICS.index(m)].ravel()
        lo, hi = (float(np.percentile(v, q)) for q in QUANTILES)
        if m == "solvency":
            lo = max(lo, 0.0)  # runway below zero is a rescue: scored as nothing
        out[m] = (round(_round(lo, up=False), 6), round(_round(hi, up=True), 6))
    return out


def scoring_block(sc: Scenario, ranges: dict[str, tuple[float, float]]) -> str:
    """The scenario's `scoring:` block with these ranges: the weights and share basis it sets, kept."""
    s = sc.scoring
    default = type(s.ranges)()
    kept = {m: getattr(s.ranges, m) for m in METRICS if m not in FITTED}
    kept = {m: r for m, r in kept.items() if (r.low, r.high) != (getattr(default, m).low, getattr(default, m).high)}
    parts = [f"{m}: {{low: {lo:g}, high: {hi:g}}}" for m, (lo, hi) in ranges.items()]
    parts += [f"{m}: {{low: {r.low:g}, high: {r.high:g}}}" for m, r in kept.items()]
    lines = [
        "# Ranges: the 5th-95th percentiles of persona games (bench/fit_ranges.py --apply).",
        "scoring:",
        *(f"  {m}: {getattr(s, m):g}" for m in METRICS),
        f"  share_basis: {s.share_basis}",
        "  ranges:",
        *(f"    {p}" for p in parts),
    ]
    return "\n".join(lines) + "\n"


def apply(sc: Scenario, ranges: dict[str, tuple[float, float]]) -> None:
    path = ROOT / "scenarios" / f"{sc.id}.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"# Ranges: the 5th-95th percentiles of persona games[^\n]*\n", "", text)
    head = re.split(r"^scoring:", text, flags=re.M)[0]
    path.write_text(head.rstrip("\n") + "\n\n" + scoring_block(sc, ranges), encoding="utf-8")


def _sig(x: float) -> float:
    return float(f"{x:.3g}")


def apply_par(sc: Scenario, par: np.ndarray) -> None:
    """Write each company's par into its block of the scenario file (a `par:` line after its name)."""
    path = ROOT / "scenarios" / f"{sc.id}.yaml"
    text = path.read_text(encoding="utf-8")
    for c, company in enumerate(sc.companies):
        line = "    par: {" + ", ".join(f"{m}: {_sig(par[c, k]):g}" for k, m in enumerate(METRICS)) + "}\n"
        head = re.compile(rf"^  - name: {re.escape(company.name)}\n", re.M)
        found = head.search(text)
        if found is None:
            raise SystemExit(f"{sc.id}: no '  - name: {company.name}' line to put its par after")
        end = re.compile(r"^(  - |\S)", re.M).search(text, found.end())
        stop = end.start() if end else len(text)
        block = re.sub(r"^    par: [^\n]*\n", "", text[found.end():stop], flags=re.M)
        text = text[:found.end()] + line + block + text[stop:]
    path.write_text(text, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--games", type=int, default=500)
    ap.add_argument("--par", action="store_true", help="fit each company's par too, and the ranges on metrics less it")
    ap.add_argument("--apply", action="store_true", help="write the ranges (and pars) into scenarios/*.yaml")
    args = ap.parse_args()
    for sc in list_scenarios():
        metrics = final_metrics(sc, args.games)
        par = np.vectorize(_sig)(fitted_par(metrics)) if args.par else current_par(sc)
        if args.par:
            now = current_par(sc)
            for c, company in enumerate(sc.companies):
                print(f"scenario={sc.id} company={company.name!r} par="
                      + " ".join(f"{m}:{par[c, k]:g}(now {now[c, k]:g})" for k, m in enumerate(METRICS)))
        ranges = fitted_ranges(sc, metrics - par[None])
        if args.par:
            par = np.vectorize(_sig)(level(sc, metrics, par, ranges))
        for m, (lo, hi) in ranges.items():
            now = getattr(sc.scoring.ranges, m)
            print(f"scenario={sc.id} metric={m} fitted=[{lo:g}, {hi:g}] now=[{now.low:g}, {now.high:g}]")
        if args.apply:
            apply(sc, ranges)
            if args.par:
                apply_par(sc, par)
    if args.apply:
        print("applied: rerun the scenario tests and bench/balance.py")


if __name__ == "__main__":
    main()
