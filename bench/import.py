"""Archive import time against the number of rounds: it should grow linearly (one engine step a
round).

Run:  .venv/bin/python bench/import.py [--companies N] [--repeat K]

Imports archives of 10, 20 and 40 rounds of `frontier-race` (its companies cloned under new names up
to --companies, every seat a persona) into a fresh SQLite database and prints one `name=value` line
per figure: `import_cpu_ms_rounds_R` (CPU time of the process, best of --repeat; steadier than wall
time on a shared machine), `import_wall_ms_rounds_R`, and `ratio_R_over_half` (CPU time at R rounds
over R/2 rounds: about 2 when linear, about 4 when each round replays the game from round 1).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.clock import now  # noqa: E402
from app.db import create_db_engine, migrate  # noqa: E402
from app.models import Instructor  # noqa: E402
from app.scenario import parse_scenario  # noqa: E402
from app.scenario.loader import SCENARIO_DIR, dump_scenario  # noqa: E402
from app.services import archives  # noqa: E402

ROUNDS = (10, 20, 40)


def scenario_text(companies: int) -> str:
    """frontier-race with its companies cloned (under new names) up to `companies`."""
    data = yaml.safe_load((SCENARIO_DIR / "frontier-race.yaml").read_text(encoding="utf-8"))
    shipped = data["companies"]
    data["companies"] = [
        {
            **copy.deepcopy(shipped[i % len(shipped)]),
            "name": f"{shipped[i % len(shipped)]['name']} {i}",
        }
        for i in range(companies)
    ]
    data["rounds"] = max(ROUNDS)
    return dump_scenario(data)


def archive(text: str, rounds: int) -> str:
    scenario = parse_scenario(text)
    played = [
        {"round": r, "inputs": {"decisions": {}, "injected": [], "stand_ins": {}}}
        for r in range(1, rounds + 1)
    ]
    return json.dumps(
        {
            "format": archives.ARCHIVE_FORMAT,
            "version": archives.ARCHIVE_VERSION,
            "name": "Bench",
            "scenario_id": scenario.id,
            "scenario_text": text,
            "seed": 7,
            "rounds": rounds,
            "scoring": scenario.scoring.model_dump(),
            "absent_rule": "carry_on",
            "team_size_max": 5,
            "advance_mode": "manual",
            "round_minutes": None,
            "practice_round": False,
            "seats": [
                {"company": c.name, "persona": c.persona, "aggressiveness": 0.5}
                for c in scenario.companies
            ],
            "played": played,
        }
    )


def import_ms(url: str, text: str, repeat: int) -> tuple[float, float]:
    """The best CPU and wall times of `repeat` imports of the archive `text` (ms)."""
    engine = create_db_engine(url)
    best, wall = float("inf"), float("inf")
    with Session(engine) as session:
        owner = Instructor(
            email="bench@example.edu", display_name="Bench", password_hash="x", created_at=now()
        )
        session.add(owner)
        session.commit()
        for _ in range(repeat):
            began, cpu = time.perf_counter(), time.process_time()
            archives.import_archive(session, owner.id or 0, text)
            best, wall = (
                min(best, time.process_time() - cpu),
                min(wall, time.perf_counter() - began),
            )
    engine.dispose()
    return best * 1000, wall * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--companies", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = scenario_text(args.companies)
    times: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for rounds in ROUNDS:
            url = f"sqlite:///{Path(folder) / f'r{rounds}.db'}"
            migrate(url)
            times[rounds], wall = import_ms(url, archive(text, rounds), args.repeat)
            print(f"import_cpu_ms_rounds_{rounds}={times[rounds]:.0f}", flush=True)
            print(f"import_wall_ms_rounds_{rounds}={wall:.0f}", flush=True)
    for rounds in ROUNDS[1:]:
        print(f"ratio_{rounds}_over_{rounds // 2}={times[rounds] / times[rounds // 2]:.2f}")


if __name__ == "__main__":
    main()
