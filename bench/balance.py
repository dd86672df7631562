"""Persona balance: who wins seeded games of every shipped scenario, and a check that doing nothing never wins.

Run:  .venv/bin/python bench/balance.py [--games N] [--seed S]

For each shipped scenario, plays N games (default 1000) with the scenario's own persona seats and prints
each persona's win rate (share of games in which it has the top final score, from batch.win_rates; a persona
holding two seats counts the wins of both), with each seat's own rate for reference. Then it replaces each
seat in turn by "idle" and prints that seat's win rate over as many games: a company
that does nothing should never win. The last line is `max_win_rate=X`: the largest persona win rate over all
scenarios with their own seats.

Exit code 0 always (this is a report); "FAIL:" lines flag a persona above 0.60 or an idle seat that won a game.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from app.engine import batch  # noqa: E402
from app.engine.rng import run_seeds  # noqa: E402
from app.engine.world import World  # noqa: E402
from app.scenario import Scenario, list_scenarios  # noqa: E402

MAX_PERSONA_WIN_RATE = 0.60
IDLE = "idle"


def seat_win_rates(sc: Scenario, games: int, seed: int, seats: list[str]) -> np.ndarray:
    """Share of games each seat wins (top final score, first seat on a tie, as batch.win_rates)."""
    world = World(sc)
    wins = np.zeros(world.n_companies)
    for first in range(0, games, batch.DEFAULT_CHUNK):
        n = min(batch.DEFAULT_CHUNK, games - first)
        *_, (_, last) = batch.play_chunk(world, seats, run_seeds(seed, n, first))
        wins += np.bincount(last["score"].argmax(axis=1), minlength=world.n_companies)
    return wins / games


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", type=int, default=1000, help="seeded games per scenario and seating (default 1000)")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()

    fails: list[str] = []
    max_rate, max_at = 0.0, ""
    t0 = time.perf_counter()
    for sc in list_scenarios():
        seats = [c.persona for c in sc.companies]
        print(f"scenario={sc.id} games={args.games} companies={len(seats)} rounds={sc.rounds}")
        rates = batch.win_rates(sc, args.games, args.seed)
        by_seat = seat_win_rates(sc, args.games, args.seed, seats)
        for persona, rate in sorted(rates.items(), key=lambda kv: -kv[1]):
            held = ", ".join(f"{c.name} {by_seat[i]:.3f}" for i, c in enumerate(sc.companies) if c.persona == persona)
            print(f"  win_rate[{persona}]={rate:.3f}  (seats: {held})")
            if rate > max_rate:
                max_rate, max_at = rate, f"{sc.id}/{persona}"
            if rate > MAX_PERSONA_WIN_RATE:
                fails.append(f"FAIL: {sc.id}: {persona} wins {rate:.3f} of games (> {MAX_PERSONA_WIN_RATE:.2f})")

        for seat, company in enumerate(sc.companies):
            idle_seats = [*seats[:seat], IDLE, *seats[seat + 1:]]
            idle_rate = batch.win_rates(sc, args.games, args.seed, seats=idle_seats)[IDLE]
            print(f"  idle_seat={company.name!r} (was {seats[seat]}) idle_win_rate={idle_rate:.3f}")
            if idle_rate > 0:
                won = round(idle_rate * args.games)
                fails.append(f"FAIL: {sc.id}: idle seat {company.name!r} won {won} of {args.games} games")

    print(f"elapsed_s={time.perf_counter() - t0:.1f}")
    print(f"max_win_rate_at={max_at}")
    for line in fails:
        print(line)
    if not fails:
        print("all checks passed")
    print(f"max_win_rate={max_rate:.3f}")


if __name__ == "__main__":
    main()
