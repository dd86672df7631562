"""Studies: many seeded games as one tidy table, the same for the same seed however it is chunked or written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.engine.batch import COLUMNS, StudyError, simulate, win_rates

from .factories import SCENARIO_IDS, scenario

RUNS = 15
SEED = 7


def _study(scenario_id: str, **kwargs: object) -> pd.DataFrame:
    table = simulate(scenario(scenario_id), RUNS, SEED, **kwargs)  # type: ignore[arg-type]
    assert table is not None
    return table


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_study_has_the_columns_in_order_and_a_row_per_run_round_and_company(scenario_id: str) -> None:
    sc = scenario(scenario_id)
    table = _study(scenario_id)
    assert tuple(table.columns) == COLUMNS
    assert len(table) == RUNS * sc.rounds * len(sc.companies)
    assert sorted(table["run"].unique()) == list(range(RUNS))
    assert sorted(table["round"].unique()) == list(range(1, sc.rounds + 1))
    assert set(table["company"]) == {c.name for c in sc.companies}
    counts = table.groupby(["run", "round"]).size()
    assert (counts == len(sc.companies)).all()
    numbers = table.drop(columns=["company", "persona"]).to_numpy(dtype=float)
    assert np.isfinite(numbers).all()


def test_each_row_names_the_persona_playing_that_seat() -> None:
    sc = scenario("frontier-race")
    seats = ["idle", "incumbent", "safety_first", "price_disruptor", "fast_follower", "scale_maximalist"]
    table = _study("frontier-race", seats=seats)
    assert dict(zip(table["company"], table["persona"], strict=True)) == dict(zip([c.name for c in sc.companies], seats, strict=True))


def test_the_same_seed_gives_the_same_table_and_another_seed_a_different_one() -> None:
    a, b = _study("frontier-race"), _study("frontier-race")
    pd.testing.assert_frame_equal(a, b)
    other = simulate(scenario("frontier-race"), RUNS, SEED + 1)
    assert other is not None and not other.equals(a)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_chunking_a_study_into_batches_of_7_or_1000_gives_the_identical_table(scenario_id: str) -> None:
    """Determinism does not depend on how many games are resolved together (one process, so the chunks are as asked)."""
    pd.testing.assert_frame_equal(_study(scenario_id, chunk=7, workers=1), _study(scenario_id, chunk=1000, workers=1), check_exact=True)


def test_a_study_played_in_two_worker_processes_equals_the_same_study_played_in_one() -> None:
    pd.testing.assert_frame_equal(_study("frontier-race", workers=2, chunk=4), _study("frontier-race", workers=1), check_exact=True)


def test_a_run_numbered_k_is_the_same_game_whatever_the_size_of_the_study() -> None:
    small = simulate(scenario("frontier-race"), 3, SEED)
    assert small is not None
    pd.testing.assert_frame_equal(small, _study("frontier-race").query("run < 3").reset_index(drop=True), check_exact=True)


def _rows(table: pd.DataFrame) -> pd.DataFrame:
    """The table's rows with names as plain strings, however a format stores them (categories, Arrow strings)."""
    out = table.copy()
    for name in ("company", "persona"):
        out[name] = out[name].astype(str).astype(object)
    return out


def test_csv_and_parquet_outputs_hold_the_same_rows_as_the_returned_table(tmp_path: Path) -> None:
    sc = scenario("frontier-race")
    csv, parquet = tmp_path / "study.csv", tmp_path / "study.parquet"
    assert simulate(sc, RUNS, SEED, out=csv, chunk=4) is None
    assert simulate(sc, RUNS, SEED, out=parquet, chunk=4) is None
    expected = _rows(_study("frontier-race"))
    from_parquet, from_csv = pd.read_parquet(parquet), pd.read_csv(csv)
    assert list(from_parquet.columns) == list(COLUMNS) == list(from_csv.columns)
    pd.testing.assert_frame_equal(_rows(from_parquet), expected, check_exact=True, check_dtype=False)
    pd.testing.assert_frame_equal(_rows(from_csv), expected, check_dtype=False, rtol=1e-5, atol=1e-9)  # CSV keeps 6 significant digits


@pytest.mark.parametrize(("runs", "seats", "out", "chunk"), [
    (0, None, None, 10),
    (5, None, None, 0),
    (5, ["incumbent"], None, 10),
    (5, ["wizard"] * 6, None, 10),
    (5, None, "study.txt", 10),
    (5, None, "missing-folder/study.csv", 10),
], ids=["no-runs", "no-chunk", "too-few-seats", "unknown-persona", "txt-output", "missing-folder"])
def test_a_study_that_cannot_run_says_why(tmp_path: Path, runs: int, seats: list[str] | None, out: str | None, chunk: int) -> None:
    with pytest.raises(StudyError):
        simulate(scenario("frontier-race"), runs, SEED, seats=seats, out=None if out is None else tmp_path / out, chunk=chunk)


def test_win_rates_are_shares_of_games_that_add_up_to_one_when_every_persona_has_one_seat() -> None:
    seats = ["idle", "incumbent", "safety_first", "price_disruptor", "fast_follower", "scale_maximalist"]
    rates = win_rates(scenario("frontier-race"), 40, SEED, seats, chunk=16)
    assert set(rates) == set(seats)
    assert sum(rates.values()) == pytest.approx(1.0)
    assert all(0.0 <= r <= 1.0 for r in rates.values())
