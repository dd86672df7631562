"""Fit each shipped scenario's scorecard ranges to its persona games: every money metric's range runs from its
5th to its 95th percentile over the companies of N seeded games with the scenario's own seating, so that every
metric discriminates (a metric every company maxes out decides nothing) and no metric's scale is set by hand.

Run:  .venv/bin/python bench/fit_ranges.py [--games N] [--apply]

Prints one line per scenario and metric (the fitted range beside the one in force). `--apply` writes the ranges
into the `scoring:` block of each scenario file (weights and share basis kept); rerun it after any rule change
that moves the scale of profits, growth, share, valuations or runway, then rerun bench/balance.py.
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
from app.engine.start import initial_state  # noqa: E402
from app.engine.step import step  # noqa: E402
from app.engine.world import World  # noqa: E402
from app.scenario import Scenario, list_scenarios  # noqa: E402
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


def fitted_ranges(sc: Scenario, games: int) -> dict[str, tuple[float, float]]:
    metrics = final_metrics(sc, games)
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--games", type=int, default=500)
    ap.add_argument("--apply", action="store_true", help="write the ranges into scenarios/*.yaml")
    args = ap.parse_args()
    for sc in list_scenarios():
        ranges = fitted_ranges(sc, args.games)
        for m, (lo, hi) in ranges.items():
            now = getattr(sc.scoring.ranges, m)
            print(f"scenario={sc.id} metric={m} fitted=[{lo:g}, {hi:g}] now=[{now.low:g}, {now.high:g}]")
        if args.apply:
            apply(sc, ranges)
    if args.apply:
        print("applied: rerun the scenario tests and bench/balance.py")


if __name__ == "__main__":
    main()
