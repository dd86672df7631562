"""Profile the batch loop of bench/engine.py (figure a): where the time of personas.decide + step goes.

Run:  .venv/bin/python bench/profile_batch.py [--runs N] [--scenario ID]

Uses pyinstrument if it is installed in the environment (`.venv/bin/pip install pyinstrument`; it is not a
project dependency), else cProfile sorted by own time. Prints a call tree / table; no figures to compare.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.engine import batch  # noqa: E402
from app.engine.rng import run_seeds  # noqa: E402
from app.engine.world import World  # noqa: E402
from app.scenario import find_scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--scenario", default="frontier-race")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    sc = find_scenario(args.scenario)
    world, seats = World(sc), [c.persona for c in sc.companies]

    def play() -> None:
        for _ in batch.play_chunk(world, seats, run_seeds(args.seed, args.runs)):
            pass

    play()  # warm-up
    try:
        from pyinstrument import Profiler
    except ImportError:
        profile = cProfile.Profile()
        profile.runcall(play)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(40)
        print(out.getvalue())
        return
    profiler = Profiler(interval=0.0005)
    profiler.start()
    play()
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))


if __name__ == "__main__":
    main()
