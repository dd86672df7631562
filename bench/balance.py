"""Persona balance: who wins seeded games of every shipped scenario, the persona x seat matrix, and a check that
doing nothing never wins.

Run:  .venv/bin/python bench/balance.py [--games N] [--seed S] [--no-matrix]

For each shipped scenario, plays N games (default 1000) with the scenario's own persona seats and prints
each persona's win rate (share of games in which it has the top final score, from batch.win_rates; a persona
holding two seats counts the wins of both), with each seat's own rate for reference. Then it replaces each
seat in turn by "idle" and prints that seat's win rate over as many games: a company
that does nothing should never win. The last line is `max_win_rate=X`: the largest persona win rate over all
scenarios with their own seats.

The persona x seat matrix: each seat of each scenario played by each persona in turn (the other seats keep the
scenario's own personas), with that seat's win rate. Issue 9's targets: every persona wins at least 5% of games
from some seat; every seat is won in at least 5% of games by some persona; with the scenario's own seating no
persona wins more than 45% of games.

Exit code 0 always (this is a report); "FAIL:" lines flag a persona above 0.45, an idle seat that won a game, a
seat no persona wins 5% of games from, or a persona that wins 5% of games from no seat.
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

MAX_PERSONA_WIN_RATE = 0.45
MIN_SEAT_WIN_RATE = 0.05  # every seat won this often by its best persona; every persona wins this often somewhere
IDLE = "idle"
PLAYING = ("scale_maximalist", "fast_follower", "safety_first", "price_disruptor", "incumbent")


def seat_win_rates(sc: Scenario, games: int, seed: int, seats: list[str]) -> np.ndarray:
    """Share of games each seat wins (top final score, first seat on a tie, as batch.win_rates)."""
    world = World(sc)
    wins = np.zeros(world.n_companies)
    for first in range(0, games, batch.DEFAULT_CHUNK):
        n = min(batch.DEFAULT_CHUNK, games - first)
        *_, (_, last) = batch.play_chunk(world, seats, run_seeds(seed, n, first))
        wins += np.bincount(last["score"].argmax(axis=1), minlength=world.n_companies)
    return wins / games


def persona_seat_matrix(sc: Scenario, seats: list[str], games: int, seed: int,
                        best_seat_of: dict[str, float]) -> list[str]:
    """Print each seat's win rate played by each persona (the rest as shipped); return the FAIL lines."""
    fails = []
    names = [c.name for c in sc.companies]
    width = max(len(n) for n in names)
    print(f"  matrix: win rate of the seat (row) played by the persona (column), {games} games each")
    print("  " + " " * width + "".join(f"{p:>18}" for p in PLAYING))
    for seat, name in enumerate(names):
        rates = []
        for persona in PLAYING:
            trial = [*seats[:seat], persona, *seats[seat + 1:]]
            rates.append(float(seat_win_rates(sc, games, seed, trial)[seat]))
            best_seat_of[persona] = max(best_seat_of[persona], rates[-1])
        print("  " + name.ljust(width) + "".join(f"{r:>18.3f}" for r in rates))
        if max(rates) < MIN_SEAT_WIN_RATE:
            fails.append(f"FAIL: {sc.id}: no persona wins {MIN_SEAT_WIN_RATE:.0%} of games from seat {name!r}")
    return fails


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", type=int, default=1000, help="seeded games per scenario and seating (default 1000)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-matrix", action="store_true", help="skip the persona x seat matrix")
    args = parser.parse_args()
    best_seat_of: dict[str, float] = dict.fromkeys(PLAYING, 0.0)

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

        if not args.no_matrix:
            fails += persona_seat_matrix(sc, seats, args.games, args.seed, best_seat_of)

    if not args.no_matrix:
        for persona, rate in best_seat_of.items():
            print(f"best_seat_win_rate[{persona}]={rate:.3f}")
            if rate < MIN_SEAT_WIN_RATE:
                fails.append(f"FAIL: {persona} wins under {MIN_SEAT_WIN_RATE:.0%} of games from every seat")
    print(f"elapsed_s={time.perf_counter() - t0:.1f}")
    print(f"max_win_rate_at={max_at}")
    for line in fails:
        print(line)
    if not fails:
        print("all checks passed")
    print(f"max_win_rate={max_rate:.3f}")


if __name__ == "__main__":
    main()
