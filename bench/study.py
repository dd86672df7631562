"""Study benchmarks: a big study streamed to Parquet, a small paired study, a Morris screen, and tweak overhead.

Run:  .venv/bin/python bench/study.py [--quick] [--seed N]

Prints one `name=value` line per figure; the last line is `study_runs_per_s=X` (figure 1).
Targets (printed next to the figures, never asserted):
  1. 100,000 runs x 6 companies x 12 rounds (frontier-race, personas), run(..., out=tmp)   <= 20 s,
     peak memory of every process of the study together                                   < 2 GiB
  2. a two-arm paired study, 2 x 1,000 runs (one seat pricing at 0.7x)                     <= 3 s
  3. a Morris screen of 12 scenario parameters, 13 trajectories (169 points) x 200 runs    <= 60 s
  4. three no-op tweaks on every seat over plain personas, 10,000 runs, best of 3 each    <= 20 % slower
`--quick` shrinks every size by 10x for a smoke run (the figures are then not comparable with the targets).
Study files are written as YAML into a temporary folder and read with `load_study`, as `moatline study` does.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.engine.batch import default_workers  # noqa: E402
from app.scenario.loader import dump_scenario  # noqa: E402
from app.studies.files import load_study  # noqa: E402
from app.studies.runner import run  # noqa: E402
from app.studies.screen import point_count, screen  # noqa: E402

SCENARIO = "frontier-race"
PRICED_SEAT = "Cinder"  # the seat that prices at 0.7x in figure 2's second arm

TARGET_STUDY_S = 20.0
TARGET_PEAK_MIB = 2048.0
TARGET_PAIRED_S = 3.0
TARGET_MORRIS_S = 60.0
TARGET_TWEAK_OVERHEAD = 0.20

# Figure 3: twelve numeric scenario fields with ranges around frontier-race's values (shipped value in the comment).
MORRIS_PARAMETERS: dict[str, list[float]] = {
    "market.outside.gain_per_round": [0.75, 2.25],  # 1.5
    "market.outside.capability": [40, 60],  # 50
    "market.price_decline_per_year": [1.0, 3.0],  # 2.0
    "market.segments.consumer.price_sensitivity": [1.6, 2.8],  # 2.2
    "market.segments.enterprise.growth_per_round": [0.2, 0.5],  # 0.35
    "compute.gpus.H100.price_usd": [20_000, 40_000],  # 30,000
    "compute.gpus.H100.rent_per_hour": [1.5, 3.5],  # 2.5
    "data.sources.scraped.cost_per_t_tokens_musd": [0.25, 1.0],  # 0.5
    "talent.researchers.salary_usd": [800_000, 1_600_000],  # 1,200,000
    "finance.tax_rate": [0.1, 0.3],  # 0.21
    "finance.interest_rate_per_year": [0.04, 0.12],  # 0.08
    "finance.revenue_multiple": [8, 16],  # 12
}
MORRIS_TRAJECTORIES = 13

# Figure 4: tweaks that run every step of the tweak code yet leave each decision as it was, so the games are
# the same and the time difference is the tweaks' own cost (tweaks that change play change the games' cost too).
TWEAKS = [
    {"field": "products.prices", "times": 1},
    {"field": "talent.safety_staff", "times": 1},
    {"field": "compute.serving_share", "plus": 0},
]


def emit(name: str, value: object, note: str = "") -> None:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"{name}={text}" + (f"  # {note}" if note else ""), flush=True)


def write_study(folder: Path, name: str, study: dict) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(dump_scenario(study), encoding="utf-8")  # no YAML aliases: study files refuse them
    return path


CHILD = textwrap.dedent("""
    import resource, sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from app.studies.files import load_study
    from app.studies.runner import RUNS_FILE, run
    from app.engine.batch import default_workers
    import pyarrow.parquet as pq
    t0 = time.perf_counter()
    result = run(load_study({study!r}), out={out!r})
    wall = time.perf_counter() - t0
    me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    rows = pq.ParquetFile(Path({out!r}) / RUNS_FILE).metadata.num_rows
    print(wall, me.ru_maxrss, workers.ru_maxrss, default_workers(), rows, (Path({out!r}) / RUNS_FILE).stat().st_size,
          me.ru_utime + me.ru_stime, workers.ru_utime + workers.ru_stime)
""")


def big_study(folder: Path, runs: int, seed: int) -> float:
    """(1) wall time and memory of a one-arm persona study streamed to Parquet, in a child process; runs per second."""
    study = write_study(folder, "big", {"scenario": SCENARIO, "runs": runs, "seed": seed})
    out = folder / "big-out"
    code = CHILD.format(root=str(ROOT), study=str(study), out=str(out))
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    process_wall = time.perf_counter() - t0
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        raise SystemExit(f"study child failed with exit code {done.returncode}")
    wall_s, self_kib, workers_kib, workers, rows, size, parent_cpu, workers_cpu = done.stdout.split()
    wall = float(wall_s)
    emit("study_runs", runs)
    emit("study_workers", int(workers))
    emit("study_rows", int(rows), "runs x rounds x companies")
    emit("study_parquet_mib", int(size) / 2**20)
    emit("study_process_wall_s", process_wall, "the child process: interpreter start, imports, load_study, run")
    emit("study_wall_s", wall, f"load_study + run(out=tmp), target <= {TARGET_STUDY_S:g} s")
    emit("study_parent_cpu_s", float(parent_cpu), "CPU seconds of the process that runs the study (imports included)")
    emit("study_workers_cpu_s", float(workers_cpu), "CPU seconds of all its workers together")
    emit("study_parent_peak_rss_mib", int(self_kib) / 1024, "the process that runs the study and writes Parquet")
    emit("study_worker_peak_rss_mib", int(workers_kib) / 1024, f"largest of {workers} worker processes")
    total = (int(self_kib) + int(workers) * int(workers_kib)) / 1024
    emit("study_peak_rss_mib", total, f"parent + every worker at its peak at once (upper bound), target < {TARGET_PEAK_MIB:g} MiB")
    shutil_rmtree(out)
    return runs / wall


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def timed_run(study: Path, out: Path) -> float:
    t0 = time.perf_counter()
    run(load_study(study), out=out)
    elapsed = time.perf_counter() - t0
    shutil_rmtree(out)
    return elapsed


def paired_study(folder: Path, runs: int, seed: int, repeats: int = 3) -> float:
    """(2) a two-arm study on the same seeds: the baseline and one seat pricing at 0.7x; best of `repeats`."""
    study = write_study(folder, "paired", {
        "scenario": SCENARIO, "runs": runs, "seed": seed,
        "arms": [{"name": "baseline"},
                 {"name": "cinder-cheap", "seats": {PRICED_SEAT: {"tweaks": [{"field": "products.prices", "times": 0.7}]}}}],
    })
    times = [timed_run(study, folder / "paired-out") for _ in range(repeats)]
    emit("paired_runs", f"2x{runs}")
    emit("paired_first_s", times[0], "the first of the repetitions (forks its workers like the others)")
    return min(times)


def morris_study(folder: Path, runs_per_point: int, seed: int) -> float:
    """(3) `screen(prepared, "morris")` over twelve scenario parameters; wall seconds (one run)."""
    study = write_study(folder, "morris", {
        "scenario": SCENARIO, "runs": runs_per_point, "seed": seed,
        "sensitivity": {"method": "morris", "parameters": MORRIS_PARAMETERS, "output": "score",
                        "runs_per_point": runs_per_point, "trajectories": MORRIS_TRAJECTORIES},
    })
    prepared = load_study(study)
    points = point_count(prepared, "morris")
    t0 = time.perf_counter()
    table = screen(prepared, "morris")
    elapsed = time.perf_counter() - t0
    emit("morris_parameters", len(MORRIS_PARAMETERS))
    emit("morris_points", points, f"{MORRIS_TRAJECTORIES} trajectories x (parameters + 1)")
    emit("morris_runs_per_point", runs_per_point)
    emit("morris_games", points * runs_per_point)
    emit("morris_table_rows", len(table))
    return elapsed


def tweak_overhead(folder: Path, runs: int, seed: int, repeats: int = 3) -> float:
    """(4) the same study with three tweaks on every seat over plain personas: best of `repeats` each, interleaved."""
    from app.scenario import find_scenario

    names = [c.name for c in find_scenario(SCENARIO).companies]
    plain = write_study(folder, "plain", {"scenario": SCENARIO, "runs": runs, "seed": seed})
    tweaked = write_study(folder, "tweaked", {"scenario": SCENARIO, "runs": runs, "seed": seed,
                                              "seats": {n: {"tweaks": TWEAKS} for n in names}})
    plain_s, tweaked_s = [], []
    for _ in range(repeats):  # interleaved, so a change in the machine's load falls on both
        plain_s.append(timed_run(plain, folder / "plain-out"))
        tweaked_s.append(timed_run(tweaked, folder / "tweaked-out"))
    emit("tweak_runs", runs)
    emit("tweak_plain_best_s", min(plain_s))
    emit("tweak_tweaked_best_s", min(tweaked_s), f"{len(TWEAKS)} tweaks on each of {len(names)} seats")
    return min(tweaked_s) / min(plain_s) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="shrink every size by 10x (smoke run)")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    shrink = 10 if args.quick else 1
    emit("scenario", SCENARIO)
    emit("quick", int(args.quick))
    emit("cpus", os.cpu_count())
    emit("workers", default_workers())
    emit("load_average_1min", os.getloadavg()[0], "before the first figure: other work on the machine slows every figure")

    with tempfile.TemporaryDirectory(prefix="moatline-study-bench-") as tmp:
        folder = Path(tmp)
        runs_per_s = big_study(folder, 100_000 // shrink, args.seed)

        paired = paired_study(folder, 1_000 // shrink, args.seed)
        emit("paired_s", paired, f"best of 3, target <= {TARGET_PAIRED_S:g} s")

        morris = morris_study(folder, 200 // shrink, args.seed)
        emit("morris_s", morris, f"target <= {TARGET_MORRIS_S:g} s")

        overhead = tweak_overhead(folder, 10_000 // shrink, args.seed)
        emit("tweak_overhead", overhead, f"tweaked / plain - 1, target <= {TARGET_TWEAK_OVERHEAD:.0%}")

    emit("bench_peak_rss_mib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "this script (figures 2-4 run in it)")
    print(f"study_runs_per_s={int(runs_per_s)}")


if __name__ == "__main__":
    main()
