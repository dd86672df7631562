"""Engine benchmarks: batch throughput, one-at-a-time speed, a 40-company round, and the memory of a big study.

Run:  .venv/bin/python bench/engine.py [--quick] [--seed N]

Prints one `name=value` line per figure; the last line is `company_rounds_per_s=X` (figure a).
Targets (printed next to the figures, never asserted):
  a. batch throughput (10,000 runs x 6 companies x 12 rounds, personas deciding)  >= 1,000,000 company-rounds/s
  b. batch over one-game-at-a-time                                                >= 50x
  c. one round of a 40-company game, decide + step                                <= 20 ms
  d. peak RSS of a 100,000-run study streamed to Parquet                          < 1 GiB
`--quick` shrinks every size by 10x for a smoke run (the figures are then not comparable with the targets).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from app.engine import batch, personas, report  # noqa: E402
from app.engine.game import autoplay, replay  # noqa: E402
from app.engine.rng import run_seeds  # noqa: E402
from app.engine.start import initial_state  # noqa: E402
from app.engine.step import step  # noqa: E402
from app.engine.world import World  # noqa: E402
from app.scenario import Scenario, find_scenario  # noqa: E402

SCENARIO = "frontier-race"
BIG_GAME_COMPANIES = 40

TARGET_THROUGHPUT = 1_000_000
TARGET_RATIO = 50.0
TARGET_BIG_ROUND_MS = 20.0
TARGET_PEAK_MIB = 1024.0


def emit(name: str, value: object, note: str = "") -> None:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"{name}={text}" + (f"  # {note}" if note else ""), flush=True)


def play(world: World, seat_names: list[str], seeds: np.ndarray) -> None:
    """Whole games for these seeds: batch.play_chunk (personas.decide + step each round), no DataFrames."""
    for _ in batch.play_chunk(world, seat_names, seeds):
        pass


def batch_throughput(sc: Scenario, runs: int, seed: int, repeats: int = 3) -> float:
    """(a) company-rounds per second, best of `repeats`, for one chunk of `runs` replications."""
    world, seats = World(sc), [c.persona for c in sc.companies]
    seeds = run_seeds(seed, runs)
    play(world, seats, seeds[: min(runs, 100)])  # warm-up: imports, caches
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        play(world, seats, seeds)
        best = min(best, time.perf_counter() - t0)
    work = runs * world.n_companies * sc.rounds
    emit("batch_runs", runs)
    emit("batch_company_rounds", work)
    emit("batch_best_s", best)
    return work / best


def study_throughput(sc: Scenario, runs: int, seed: int, repeats: int = 3) -> float:
    """(a) the same work as a study runs it: chunks of runs in worker processes, one per core, best of `repeats`."""
    batch.final_scores(sc, min(runs, 200), seed)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        batch.final_scores(sc, runs, seed)
        best = min(best, time.perf_counter() - t0)
    emit("study_workers", batch.default_workers())
    emit("study_best_s", best)
    return runs * len(sc.companies) * sc.rounds / best


def one_at_a_time(sc: Scenario, games: int, seed: int) -> float:
    """(b) the same games played with R=1 each, company-rounds per second."""
    world, seats = World(sc), [c.persona for c in sc.companies]
    seeds = run_seeds(seed, games)
    play(world, seats, seeds[:1])
    t0 = time.perf_counter()
    for i in range(games):
        play(world, seats, seeds[i : i + 1])
    elapsed = time.perf_counter() - t0
    emit("single_games", games)
    emit("single_ms_per_game", 1e3 * elapsed / games)
    return games * world.n_companies * sc.rounds / elapsed


def big_scenario(sc: Scenario, n: int) -> Scenario:
    """`n` companies cloned round-robin from the scenario's own, each with a unique name."""
    originals = list(sc.companies)
    companies = []
    for i in range(n):
        c = originals[i % len(originals)]
        companies.append(c.model_copy(update={"name": f"{c.name} #{i // len(originals) + 1}"}))
    return sc.model_copy(update={"companies": companies})


def big_round(sc: Scenario, samples: int, seed: int) -> tuple[float, float]:
    """(c) ms to resolve one round of a 40-company game (R=1): personas.decide + step, median over rounds of
    successive games; and the median of replaying a 1-round record and building its report for every company."""
    big = big_scenario(sc, BIG_GAME_COMPANIES)
    world = World(big)
    seats = np.array([personas.persona_index(c.persona) for c in big.companies])
    aggr = np.full(seats.size, personas.DEFAULT_AGGRESSIVENESS)
    times: list[float] = []
    game = 0
    while len(times) < samples:
        state, previous = initial_state(world, run_seeds(seed + game, 1)), None
        for _ in range(big.rounds):
            t0 = time.perf_counter()
            d = personas.decide(world, state, seats, aggr, previous)
            state, _ = step(world, state, d)
            times.append(time.perf_counter() - t0)
            previous = d
            if len(times) >= samples:
                break
        game += 1

    record = autoplay(big, seed, rounds=1)
    with_report: list[float] = []
    for _ in range(samples):
        t0 = time.perf_counter()
        played = replay(record, world)
        full = report.round_report(world, played[-1])
        for name in world.company_names:
            report.view_for(full, name)
        with_report.append(time.perf_counter() - t0)
    emit("big_game_companies", world.n_companies)
    emit("big_round_samples", samples)
    emit("big_round_p90_ms", 1e3 * float(np.percentile(times, 90)))
    return 1e3 * statistics.median(times), 1e3 * statistics.median(with_report)


CHILD = textwrap.dedent("""
    import resource, sys, time
    sys.path.insert(0, {root!r})
    from app.engine import batch
    from app.scenario import find_scenario
    t0 = time.perf_counter()
    batch.simulate(find_scenario({scenario!r}), runs={runs}, seed={seed}, out={out!r})
    print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, batch.default_workers())
""")


def study_memory(runs: int, seed: int) -> tuple[float, float, float]:
    """(d) peak RSS (MiB) and wall time of a study streamed to Parquet in a child process."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "study.parquet"
        code = CHILD.format(root=str(ROOT), scenario=SCENARIO, runs=runs, seed=seed, out=str(out))
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            raise SystemExit(f"study child failed with exit code {done.returncode}")
        size = out.stat().st_size
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux; max over waited-for children
    simulate_s, self_kib, workers_kib, workers = done.stdout.split()
    emit("study_runs", runs)
    emit("study_simulate_s", float(simulate_s))
    emit("study_writer_peak_rss_mib", int(self_kib) / 1024)
    emit("study_worker_peak_rss_mib", int(workers_kib) / 1024, f"largest of {workers} worker processes")
    total = (int(self_kib) + int(workers) * int(workers_kib)) / 1024
    emit("study_all_processes_peak_rss_mib", total, "upper bound: writer + every worker at its peak at once")
    emit("study_parquet_mib", size / 2**20)
    return max(peak_kib / 1024, total), wall, float(simulate_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shrink every size by 10x (smoke run)")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    shrink = 10 if args.quick else 1
    sc = find_scenario(SCENARIO)
    emit("scenario", sc.id)
    emit("quick", int(args.quick))
    emit("numpy", np.__version__)
    emit("cpus", os.cpu_count())

    one_process = batch_throughput(sc, 10_000 // shrink, args.seed)
    emit("batch_one_process_company_rounds_per_s", int(one_process), "one vectorised chunk in this process")
    throughput = study_throughput(sc, 10_000 // shrink, args.seed)
    emit("batch_company_rounds_per_s", int(throughput), f"as studies run (worker per core), target >= {TARGET_THROUGHPUT:,}")

    single = one_at_a_time(sc, 100 // shrink, args.seed)
    emit("single_company_rounds_per_s", int(single))
    emit("batch_over_single", one_process / single, f"one process each way, target >= {TARGET_RATIO:g}x")
    emit("study_over_single", throughput / single)

    step_ms, report_ms = big_round(sc, max(50 // shrink, 5), args.seed)
    emit("big_round_ms", step_ms, f"median decide+step, target <= {TARGET_BIG_ROUND_MS:g} ms")
    emit("big_round_with_report_ms", report_ms, "median replay of a 1-round record + round_report + view_for each company")

    peak_mib, wall, _ = study_memory(100_000 // shrink, args.seed)
    emit("study_wall_s", wall)
    emit("peak_rss_mib", peak_mib, f"all processes of the study together, target < {TARGET_PEAK_MIB:g} MiB")

    print(f"company_rounds_per_s={int(throughput)}")


if __name__ == "__main__":
    main()
