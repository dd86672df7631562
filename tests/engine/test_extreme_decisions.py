"""The engine is total over valid decisions: whatever a team may submit, at the very edge of every
bound, the round resolves, and its report, dashboard and decision preview hold only finite
numbers."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine import report
from app.engine.decisions import (
    MAX_DATA_T_TOKENS,
    MAX_GPUS,
    MAX_HEADCOUNT,
    MAX_MUSD,
    MAX_PARAMS_B,
    MAX_PAY,
    MAX_PRICE,
    MAX_RUN_TOKENS_T,
    MIN_PARAMS_B,
    MIN_PAY,
    MIN_PRICE,
    MIN_RUN_TOKENS_T,
    ComputeDecision,
    DataDecision,
    Decision,
    FinanceDecision,
    ProductDecision,
    RunPlan,
    TalentDecision,
    TrainingDecision,
    TuningDecision,
)
from app.engine.game import GameRecord, PlayedRound, RoundInput, replay
from app.engine.preview import Preview, preview
from app.engine.world import World
from app.scenario.schema import MAX_ROUNDS, PERSONAS

from .factories import SCENARIO_IDS, not_finite, scenario, world
from .strategies import decisions

MAX_ROUNDS_DRAWN = 4
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def round_inputs(draw: st.DrawFn, w: World, teams: set[str]) -> RoundInput:
    """Each team decides anything valid, carries on, or is played by a stand-in persona; the
    instructor may inject events."""
    given, stand_ins = {}, {}
    for team in sorted(teams):
        choice = draw(st.sampled_from(["decides", "carries on", "stand-in"]))
        if choice == "decides":
            given[team] = draw(decisions(w))
        elif choice == "stand-in":
            stand_ins[team] = draw(st.sampled_from(PERSONAS))
    events = range(len(w.scenario.events))
    injected = draw(st.sets(st.sampled_from(events), max_size=2)) if events else set()
    return RoundInput(decisions=given, injected_events=tuple(sorted(injected)), stand_ins=stand_ins)


@st.composite
def extreme_games(draw: st.DrawFn) -> tuple[World, list[PlayedRound], list[Decision]]:
    """A few rounds of a shipped scenario in which some seats are teams (see round_inputs), the
    others personas; and a valid decision each company might try next."""
    scenario_id = draw(st.sampled_from(SCENARIO_IDS))
    sc, w = scenario(scenario_id), world(scenario_id)
    teams = draw(st.sets(st.sampled_from(w.company_names), min_size=1))
    seats = tuple(
        None if n in teams else c.persona
        for n, c in zip(w.company_names, sc.companies, strict=True)
    )
    rounds = tuple(
        draw(round_inputs(w, teams)) for _ in range(draw(st.integers(1, MAX_ROUNDS_DRAWN)))
    )
    record = GameRecord(sc, draw(st.integers(0, 2**53)), seats, rounds)
    return w, replay(record, w), [draw(decisions(w)) for _ in w.company_names]


def _assert_finite_preview(p: Preview, who: str) -> None:
    flat = json.dumps(dataclasses.asdict(p), allow_nan=False)  # raises on a NaN or an infinity
    assert flat, who


@SETTINGS
@given(extreme_games())
def test_any_valid_decision_resolves_and_its_reports_dashboards_and_previews_are_finite(
    game: tuple[World, list[PlayedRound], list[Decision]],
) -> None:
    """Every round resolves; every report, every company's dashboard after it and a preview of any
    decision it might try next hold only finite numbers, with problems (never exceptions)."""
    w, played, tries = game
    for p in played:
        assert not not_finite(p.after, "state") + not_finite(p.outcome, "outcome"), (
            f"round {p.outcome.round}"
        )
        json.dumps(report.round_report(w, p), allow_nan=False)
        for c, decision in enumerate(tries):
            json.dumps(report.company_view(w, p.after, c), allow_nan=False)
            seen = preview(w, p.after, c, decision)
            _assert_finite_preview(seen, w.company_names[c])
            assert all(problem.field and problem.message for problem in seen.problems)


def _corner(w: World, high: bool) -> Decision:
    """Every number at its upper bound (high) or its lower one, for every GPU and segment."""
    v = (lambda low, top: top) if high else (lambda low, top: low)  # noqa: E731
    gpus = {g: v(0.0, MAX_GPUS) for g in w.gpu_names}
    money = v(0.0, MAX_MUSD)
    return Decision(
        finance=FinanceDecision(raise_equity_musd=money, borrow_musd=money, repay_musd=money),
        compute=ComputeDecision(buy_gpus=gpus, rent_gpus=gpus, serving_share=v(0.0, 1.0)),
        talent=TalentDecision(
            researchers=v(0.0, MAX_HEADCOUNT),
            engineers=v(0.0, MAX_HEADCOUNT),
            safety_staff=v(0.0, MAX_HEADCOUNT),
            pay_level=v(MIN_PAY, MAX_PAY),
        ),
        data=DataDecision(
            scrape_t_tokens=v(0.0, MAX_DATA_T_TOKENS),
            license_t_tokens=v(0.0, MAX_DATA_T_TOKENS),
            synthetic_t_tokens=v(0.0, MAX_DATA_T_TOKENS),
        ),
        training=TrainingDecision(
            start=RunPlan(
                params_b=v(MIN_PARAMS_B, MAX_PARAMS_B),
                tokens_t=v(MIN_RUN_TOKENS_T, MAX_RUN_TOKENS_T),
            )
        ),
        tuning=TuningDecision(
            sft_musd={s: money for s in w.segment_ids}, safety_musd=money, retrieval=high
        ),
        products=ProductDecision(
            prices={s: v(MIN_PRICE, MAX_PRICE) for s in w.segment_ids},
            api_price=v(0.0, MAX_PRICE),
            marketing_musd=money,
        ),
    )


@pytest.mark.parametrize("high", [True, False], ids=["every-maximum", "every-minimum"])
@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_team_deciding_every_bound_for_the_longest_game_still_gets_finite_reports(
    scenario_id: str, high: bool
) -> None:
    sc = scenario(scenario_id).model_copy(update={"rounds": MAX_ROUNDS})
    w = World(sc)
    corner = _corner(w, high)
    record = GameRecord(
        sc,
        7,
        tuple(None for _ in w.company_names),
        tuple(
            RoundInput(decisions={n: corner for n in w.company_names}) for _ in range(MAX_ROUNDS)
        ),
    )
    played = replay(record, w)
    assert len(played) == MAX_ROUNDS
    for p in played:
        json.dumps(report.round_report(w, p), allow_nan=False)
    last = played[-1].after
    for c in range(w.n_companies):
        json.dumps(report.company_view(w, last, c), allow_nan=False)
        _assert_finite_preview(preview(w, last, c, corner), w.company_names[c])


def test_a_nan_reaching_a_report_is_an_error_naming_the_figure_not_a_zero() -> None:
    with pytest.raises(report.NonFiniteFigure, match=r"report\.companies\.Aurora AI\.cash is nan"):
        report.finite({"companies": {"Aurora AI": {"cash": report._r(np.nan), "debt": 0.0}}})
