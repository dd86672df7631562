"""Fit the personas' traits and the companies' starting cash for balance: a coordinate search, as docs/model.md
("Rivals and balance") says the shipped figures were fitted.

Run:  .venv/bin/python bench/tune_balance.py [--games N] [--sweeps K] [--exploits] [--out best.json]

The objective, over every shipped scenario with its own seating (N seeded games each, seed 2024):
  2 x (the largest persona win rate above 40%)  +  every seat's shortfall below a 7% win rate,
summed over scenarios. Each step tries one trait of one persona (a step up and a step down within the bounds below),
one company's starting cash (x1.5 or /1.5, later x1.2) or its starting brand (+-10 points, later +-5), and keeps it
when the objective falls. With `--exploits` the objective also counts the exploit library (bench/exploits.py): a
balance bought by handicapping a persona (a markup too high, GPUs bought whatever they earn) leaves a one-line rule
that beats it from its seat, so every (scenario, strategy, seat) that fails or comes close adds twice its win rate
above 55% (single levers) or above the seat's persona's (degenerate strategies); the whole library is rescanned after
every sweep. A seat that wins too rarely also adds a small term for how far its mean score trails the
best seat's, so that a step bringing it closer counts before it starts winning. A trait change is
refused if it breaks a persona's signature: the scale maximalist buys GPUs at least twice as fast as anyone and plans runs at least
2x as long, the fast follower puts the most into SFT, the
safety-first lab puts at least 1% of revenue more into safety than anyone (and aims for 90), the disruptor marks up at least 0.05 less than everyone and serves the sparsest MoE (its realised price is then
the lowest), the incumbent markets
hardest. Nothing is written to the code: the best traits, cash multipliers and brand moves go to a JSON file to be read and
written into app/engine/personas.py and scenarios/*.yaml with `--apply best.json` (then check with bench/balance.py on
other seeds: 160 games a scenario overfit a little).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from app.engine import batch, personas  # noqa: E402
from app.engine.rng import run_seeds  # noqa: E402
from app.scenario import Scenario, list_scenarios  # noqa: E402
from app.scenario.plausible import (  # noqa: E402
    AUTHORED_STARTS,
    FIT_BRAND_BOUND,
    FIT_CASH_BOUNDS,
    PLAUSIBLE_BRAND,
    PLAUSIBLE_CASH_MUSD,
)

PLAYING = ("scale_maximalist", "fast_follower", "safety_first", "price_disruptor", "incumbent")
BOUNDS = {"markup": (0.5, 1.0), "pay": (0.85, 1.3), "gpu_appetite": (0.25, 3.0), "run_rounds": (0.8, 4),
          "moe": (1, 8), "overtrain": (1, 4), "sft_share": (0.01, 0.14), "safety_share": (0.01, 0.1),
          "marketing_share": (0.003, 0.06), "hiring": (0.0, 0.08),
          "api_markup": (2.0, 8.0), "match": (0.0, 1.0)}
MAX_PERSONA, MIN_SEAT = 0.40, 0.07  # a margin under the 45% and over its 5%
SCORE_GAP_WEIGHT = 0.2  # a never-winning seat 10 points behind the best adds 0.02
BRAND_STEP = (10.0, 5.0)  # points a starting brand moves in a coarse and a fine step
# A fit moves a company's authored start (app/scenario/plausible.py, AUTHORED_STARTS) only this far: the
# starts are sourced figures (tests/scenario/test_shipped_scenarios.py holds them to these bounds and to
# plausible bands), and balance is the rules' and the personas' job, not a reason for a $100B start-up.
# The multipliers and shifts are of the authored start, so successive fits cannot compound.
CASH_BOUNDS, BRAND_BOUND = FIT_CASH_BOUNDS, FIT_BRAND_BOUND
FIELDS = [f.name for f in fields(personas.Traits)]
Traits = dict[str, personas.Traits]
Cash = dict[str, list[float]]


def install(traits: Traits) -> None:
    """Play with these traits (the personas' table is read at every decision)."""
    personas.TRAITS.update(traits)
    personas._TABLE[:] = np.array([[getattr(personas.TRAITS[p], f) for f in FIELDS] for p in personas.PERSONAS])


def signature_kept(tr: Traits) -> bool:
    def g(p: str, f: str) -> float:
        return float(getattr(tr[p], f))
    others = [p for p in PLAYING if p != "scale_maximalist"]
    return (all(g("scale_maximalist", "gpu_appetite") >= 2 * g(p, "gpu_appetite") for p in others)
            and all(g("fast_follower", "sft_share") >= g(p, "sft_share") + 0.01 for p in PLAYING if p != "fast_follower")
            and all(g("incumbent", "marketing_share") >= g(p, "marketing_share") + 0.005 for p in PLAYING if p != "incumbent")
            and all(g("scale_maximalist", "run_rounds") >= 2 * g(p, "run_rounds") for p in PLAYING if p != "scale_maximalist")
            and all(g("safety_first", "safety_share") >= g(p, "safety_share") + 0.01 for p in PLAYING if p != "safety_first")
            and all(g("price_disruptor", "markup") <= g(p, "markup") - 0.05 for p in PLAYING if p != "price_disruptor")
            and all(g("price_disruptor", "moe") >= g(p, "moe") + 1 for p in PLAYING if p != "price_disruptor")
            and all(g("incumbent", "marketing_share") >= g(p, "marketing_share") for p in PLAYING))


def authored(sc: Scenario, name: str) -> tuple[float, float]:
    return AUTHORED_STARTS[sc.id][name]


def fitted_start(kind: str, start: tuple[float, float], cash: float, brand: float) -> tuple[float, float]:
    """An authored (cash, brand) start moved by a fit's cash multiplier and brand shift, within the plausible
    bands."""
    return (float(np.clip(start[0] * cash, *PLAUSIBLE_CASH_MUSD[kind])),
            float(np.clip(start[1] + brand, *PLAUSIBLE_BRAND)))


def current_fit(sc: Scenario) -> tuple[list[float], list[float]]:
    """The multipliers and shifts of a scenario's current starts against their authored figures, clipped to the
    fit's bounds (a start outside them is brought back)."""
    cash = [float(np.clip(c.cash_musd / authored(sc, c.name)[0], *CASH_BOUNDS)) for c in sc.companies]
    brand = [float(np.clip(c.brand - authored(sc, c.name)[1], -BRAND_BOUND, BRAND_BOUND)) for c in sc.companies]
    return cash, brand


def with_cash(base: list[Scenario], cash: Cash, brand: Cash | None = None) -> list[Scenario]:
    """The scenarios with each company's authored starting cash multiplied and its authored brand moved
    (points)."""
    out = []
    for sc in base:
        cos = []
        for i, c in enumerate(sc.companies):
            money, trust = fitted_start(c.kind, authored(sc, c.name), cash[sc.id][i],
                                        brand[sc.id][i] if brand else 0.0)
            cos.append(c.model_copy(update={"cash_musd": money, "brand": trust}))
        out.append(sc.model_copy(update={"companies": cos}))
    return out


def objective(base: list[Scenario], cash: Cash, games: int, brand: Cash | None = None) -> tuple[float, dict[str, list[float]]]:
    """Balance shortfalls (win rates), plus, for a seat that wins too rarely, a small term for how far its mean score
    trails the best seat's, so that steps which bring a never-winning seat closer count before it starts winning."""
    total, seats_won = 0.0, {}
    for sc in with_cash(base, cash, brand):
        seats = [c.persona for c in sc.companies]
        scores = batch.final_scores(sc, games, 2024, seats, workers=1)
        rate = np.bincount(scores.argmax(1), minlength=len(seats)) / games
        mean = scores.mean(0)
        by_persona: dict[str, float] = {}
        for i, p in enumerate(seats):
            by_persona[p] = by_persona.get(p, 0.0) + float(rate[i])
        total += 2 * max(0.0, max(by_persona.values()) - MAX_PERSONA) + sum(max(0.0, MIN_SEAT - r) for r in rate)
        total += sum(SCORE_GAP_WEIGHT * (mean.max() - mean[i]) / 100.0 for i in range(len(seats)) if rate[i] < MIN_SEAT)
        seats_won[sc.id] = [round(float(r), 3) for r in rate]
    return total, seats_won


# --exploits: the fit also keeps the personas hard to beat with a one-line rule (bench/exploits.py). A watched
# (scenario, strategy, seat) adds EXPLOIT_WEIGHT x its win rate above WATCH_SEAT_WIN (single levers: a margin
# under the 60%) or above the seat's own persona's (degenerate strategies); every sweep rescans the whole
# library and watches what fails or comes within WATCH_MARGIN of failing.
EXPLOIT_WEIGHT = 2.0
WATCH_SEAT_WIN = 0.55
WATCH_MARGIN = 0.05


_PREPARED: dict[tuple[str, str, int], Any] = {}  # parsed exploit studies, by (scenario, strategy, games)


class Watch:
    """One strategy played from one seat, ready to replay on a scenario with fitted starts."""

    def __init__(self, sid: str, strategy: Any, seat: str, games: int):
        import exploits

        from app.studies import parse_study

        self.sid, self.strategy, self.seat = sid, strategy, seat
        key = (sid, strategy.name, games)
        if key not in _PREPARED:
            _PREPARED[key] = parse_study(exploits.study_text(strategy, sid, runs=games))
        prepared = _PREPARED[key]
        arm = prepared.arm_names.index(seat)
        self.config = next(c for c in prepared.configs if c.arm == arm)
        self.company = [c.name for c in prepared.scenario.companies].index(seat)
        self.games = games

    def win(self, sc: Scenario) -> float:
        from app.studies.play import played_rounds

        last = None
        for r in played_rounds(replace(self.config, scenario=sc), run_seeds(2024, self.games, 0)):
            last = r.outcome
        return float((last.score.argmax(axis=1) == self.company).mean())

    def excess(self, sc: Scenario, persona_win: float) -> float:
        bar = persona_win if self.strategy.kind == "degenerate" else WATCH_SEAT_WIN
        return max(0.0, self.win(sc) - bar)

    def __repr__(self) -> str:
        return f"{self.sid}/{self.strategy.name}@{self.seat}"


def scan(base: list[Scenario], cash: Cash, brand: Cash, games: int,
         persona_rates: dict[str, list[float]]) -> list[Watch]:
    """Every (scenario, strategy, seat) of the exploit library that fails or nearly fails today."""
    import exploits

    out = []
    for sc in with_cash(base, cash, brand):
        for strategy in exploits.STRATEGIES:
            if strategy.kind == "bundle":
                continue
            for i, c in enumerate(sc.companies):
                w = Watch(sc.id, strategy, c.name, games)
                rate = persona_rates[sc.id][i]
                bar = rate if strategy.kind == "degenerate" else exploits.MAX_SEAT_WIN - WATCH_MARGIN
                if w.win(sc) > bar:
                    out.append(w)
    return out


def exploit_term(base: list[Scenario], cash: Cash, brand: Cash | None, watch: list[Watch],
                 persona_rates: dict[str, list[float]]) -> float:
    scenarios = {sc.id: sc for sc in with_cash(base, cash, brand)}
    total = 0.0
    for w in watch:
        rate = persona_rates[w.sid][w.company]
        total += EXPLOIT_WEIGHT * w.excess(scenarios[w.sid], rate)
    return total


def _tries(kind: str, a: Any, b: Any, tr: Traits, cash: Cash, brand: Cash, coarse: bool) -> tuple[float, list[float]]:
    """The current value of one key and the values one step up and down."""
    if kind == "trait":
        lo, hi = BOUNDS[b]
        cur, step = float(getattr(tr[a], b)), (hi - lo) * (0.18 if coarse else 0.08)
        return cur, [float(np.clip(cur + step, lo, hi)), float(np.clip(cur - step, lo, hi))]
    if kind == "cash":
        cur, f = cash[a][b], (1.5 if coarse else 1.2)
        return cur, [min(cur * f, CASH_BOUNDS[1]), max(cur / f, CASH_BOUNDS[0])]
    cur, step = brand[a][b], BRAND_STEP[0 if coarse else 1]
    return cur, [min(cur + step, BRAND_BOUND), max(cur - step, -BRAND_BOUND)]


def apply(path: str) -> None:
    """Write a fit's JSON into the code: traits into app/engine/personas.py, cash and brand into the scenario
    files (each company's `cash_musd` and `brand` line, in order: its authored start moved by the fit)."""
    import re

    fit = json.loads(Path(path).read_text())
    src = ROOT / "app" / "engine" / "personas.py"
    text = src.read_text()

    def number(v: float) -> str:
        v = round(float(v), 3)
        return str(int(v)) if v == int(v) else repr(v)

    for persona, traits in fit["traits"].items():
        m = re.search(rf'    "{persona}": Traits\(\n(.*?)\n    \),', text, re.S)
        assert m, persona
        body = "        " + ", ".join(number(traits[f]) for f in FIELDS)
        if len(body) > 100:
            cut = body.rfind(", ", 0, 99)
            body = body[:cut + 1] + "\n        " + body[cut + 2:]
        text = text[:m.start(1)] + body + text[m.end(1):]
    src.write_text(text)
    for key, pattern, part in (("cash_multipliers", r"\n    cash_musd: ([0-9.]+)", 0),
                               ("brand_points", r"\n    brand: ([0-9.]+)", 1)):
        for sid, changes in fit[key].items():
            f = ROOT / "scenarios" / f"{sid}.yaml"
            doc = f.read_text()
            hits = list(re.finditer(pattern, doc))
            sc = next(s for s in list_scenarios() if s.id == sid)
            assert len(hits) == len(changes) == len(sc.companies), (sid, key)
            out, last = [], 0
            for hit, change, c in zip(hits, changes, sc.companies, strict=True):
                moves = (change, 0.0) if part == 0 else (1.0, change)
                v = fitted_start(c.kind, authored(sc, c.name), *moves)[part]
                v = round(v) if v >= 100 else round(v, 1)
                out += [doc[last:hit.start(1)], number(v)]
                last = hit.end(1)
            f.write_text("".join(out) + doc[last:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--games", type=int, default=160)
    ap.add_argument("--sweeps", type=int, default=5)
    ap.add_argument("--out", default="tune_balance.json")
    ap.add_argument("--exploits", action="store_true",
                    help="also keep the exploit library's one-line rules from beating the personas")
    ap.add_argument("--apply", metavar="JSON", help="write a fit's JSON into personas.py and the scenarios, and stop")
    args = ap.parse_args()
    if args.apply:
        apply(args.apply)
        return
    base = list_scenarios()
    tr: Traits = {p: personas.TRAITS[p] for p in PLAYING}
    fits = {sc.id: current_fit(sc) for sc in base}  # resume from the current starts, within bounds
    cash: Cash = {sid: fit[0] for sid, fit in fits.items()}
    brand: Cash = {sid: fit[1] for sid, fit in fits.items()}
    install(tr)
    sys.path.insert(0, str(ROOT / "bench"))
    watch: list[Watch] = []

    def total(trial_cash: Cash, trial_brand: Cash) -> tuple[float, dict[str, list[float]]]:
        score, won = objective(base, trial_cash, args.games, trial_brand)
        if watch:
            score += exploit_term(base, trial_cash, trial_brand, watch, won)
        return score, won

    if args.exploits:
        _, won0 = objective(base, cash, args.games, brand)
        watch = scan(base, cash, brand, args.games, won0)
        print(f"watching {watch}", flush=True)
    best, seats_won = total(cash, brand)
    print(f"start objective={best:.3f} {seats_won}", flush=True)
    keys: list[tuple[str, Any, Any]] = [("trait", p, f) for p in PLAYING for f in BOUNDS]
    keys += [(kind, sc.id, i) for kind in ("cash", "brand") for sc in base for i in range(len(sc.companies))]
    t0 = time.perf_counter()
    for sweep in range(args.sweeps):
        improved, coarse = False, sweep < 2
        for k in np.random.default_rng(100 + sweep).permutation(len(keys)):
            kind, a, b = keys[k]
            cur, tries = _tries(kind, a, b, tr, cash, brand, coarse)
            for value in tries:
                if abs(value - cur) < 1e-9:
                    continue
                trial_tr, trial_cash = dict(tr), {s: list(v) for s, v in cash.items()}
                trial_brand = {s: list(v) for s, v in brand.items()}
                if kind == "trait":
                    trial_tr[a] = replace(tr[a], **{b: value})
                    if not signature_kept(trial_tr):
                        continue
                elif kind == "cash":
                    trial_cash[a][b] = value
                else:
                    trial_brand[a][b] = value
                install(trial_tr)
                score, won = total(trial_cash, trial_brand)
                if score < best - 1e-9:
                    tr, cash, brand, best, seats_won, improved = trial_tr, trial_cash, trial_brand, score, won, True
                    print(f"[{time.perf_counter() - t0:6.0f}s] sweep {sweep} {kind} {a}.{b} {cur:.3f}->{value:.3f} "
                          f"objective={best:.3f} {seats_won}", flush=True)
                    break
            install(tr)
        print(f"sweep {sweep} done objective={best:.3f}", flush=True)
        if args.exploits:
            known = {repr(w) for w in watch}
            watch += [w for w in scan(base, cash, brand, args.games, seats_won) if repr(w) not in known]
            best, seats_won = total(cash, brand)
            print(f"watching {watch}; objective={best:.3f}", flush=True)
        if not improved or best == 0:
            break
    Path(args.out).write_text(json.dumps({
        "traits": {p: {f: getattr(tr[p], f) for f in FIELDS} for p in PLAYING},
        "cash_multipliers": cash, "brand_points": brand, "objective": best, "seat_win_rates": seats_won}, indent=1))
    print(f"objective={best:.3f}  (written to {args.out})")


if __name__ == "__main__":
    main()
