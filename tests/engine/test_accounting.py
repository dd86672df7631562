"""The books always balance, whatever a company decides: assets equal liabilities plus equity,
cash moves exactly as the cash-flow statement says, and no number turns into NaN or infinity."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine.state import State
from app.engine.step import COST_LINES, Outcome, step

from .factories import SCENARIO_IDS, not_finite, persona_game, world
from .strategies import decision_arrays, injected_events

RUNS = 2
REL_TOL = 1e-9
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _scale(*terms: np.ndarray) -> np.ndarray:
    """The size of the largest term of an identity: the yardstick of a relative tolerance."""
    return np.maximum(np.max(np.abs(np.stack(terms)), axis=0), 1.0)


@st.composite
def rounds_of_random_decisions(draw: st.DrawFn) -> list[tuple[State, State, Outcome]]:
    """A few rounds of any decisions, from the start or from a game personas have played for a while."""
    w = world(draw(st.sampled_from(SCENARIO_IDS)))
    state, _ = persona_game(w, draw(st.integers(0, 3)), draw(st.integers(0, 2**32 - 1)), RUNS)
    played = []
    for _ in range(draw(st.integers(1, 3))):
        after, outcome = step(w, state, draw(decision_arrays(w, RUNS)), draw(injected_events(w, RUNS)))
        played.append((state, after, outcome))
        state = after
    return played


@SETTINGS
@given(rounds_of_random_decisions())
def test_assets_always_equal_liabilities_plus_equity(played: list[tuple[State, State, Outcome]]) -> None:
    for _, a, o in played:
        assets = a.cash + a.ppe
        claims = a.debt + a.paid_in + a.retained
        gap = np.abs(assets - claims)
        assert (gap <= REL_TOL * _scale(a.cash, a.ppe, a.debt, a.paid_in, a.retained)).all(), f"round {o.round}: off by {gap.max()}"


@SETTINGS
@given(rounds_of_random_decisions())
def test_cash_changes_by_operating_plus_investing_plus_financing_flows(played: list[tuple[State, State, Outcome]]) -> None:
    for before, a, o in played:
        flows = o.cash_flow["operating"] + o.cash_flow["investing"] + o.cash_flow["financing"]
        gap = np.abs((a.cash - before.cash) - flows)
        scale = _scale(before.cash, a.cash, *o.cash_flow.values())
        assert (gap <= REL_TOL * scale).all(), f"round {o.round}: off by {gap.max()}"


@SETTINGS
@given(rounds_of_random_decisions())
def test_no_state_array_or_statement_line_is_ever_nan_or_infinite(played: list[tuple[State, State, Outcome]]) -> None:
    for _, a, o in played:
        reported = {"lines": o.lines, "cash_flow": o.cash_flow, "revenue": o.revenue, "operating_income": o.operating_income,
                    "net_income": o.net_income, "rescue": o.rescue, "score": o.score, "metrics": o.metrics,
                    "effective_capability": o.effective_capability, "safety": o.safety, "share": o.share,
                    "incident_probability": o.incidents.probability, "choice_probability": o.choice.probability}
        bad = not_finite(a, "state") + not_finite(reported, "outcome")
        assert not bad, f"round {o.round}: {bad}"


@SETTINGS
@given(rounds_of_random_decisions())
def test_net_income_is_revenue_less_every_cost_line_interest_and_tax(played: list[tuple[State, State, Outcome]]) -> None:
    for _, _, o in played:
        costs = [o.lines[k] for k in (*COST_LINES, "interest", "tax")]
        assert np.allclose(o.revenue, o.lines["revenue_retail"] + o.lines["revenue_api"], rtol=REL_TOL, atol=0)
        gap = np.abs(o.revenue - sum(costs) - o.net_income)
        assert (gap <= REL_TOL * _scale(o.revenue, *costs)).all()


@SETTINGS
@given(rounds_of_random_decisions())
def test_a_company_never_ends_a_round_with_negative_cash_or_debt(played: list[tuple[State, State, Outcome]]) -> None:
    for _, a, o in played:
        assert (a.cash >= 0).all(), f"round {o.round}: cash {a.cash.min()} (rescue should have topped it up)"
        assert (a.debt >= 0).all()
        assert (a.ppe >= -REL_TOL * _scale(a.ppe)).all()


@SETTINGS
@given(rounds_of_random_decisions())
def test_retained_earnings_grow_by_net_income_and_paid_in_capital_by_new_equity(played: list[tuple[State, State, Outcome]]) -> None:
    for before, a, o in played:
        assert np.allclose(a.retained - before.retained, o.net_income, rtol=REL_TOL, atol=REL_TOL * _scale(before.retained).max())
        new_debt = a.debt - before.debt
        equity_in = o.cash_flow["financing"] - new_debt
        assert np.allclose(a.paid_in - before.paid_in, equity_in, rtol=REL_TOL, atol=REL_TOL * _scale(before.paid_in, o.cash_flow["financing"]).max())


def test_every_scenario_opens_with_a_balanced_balance_sheet_and_finite_numbers() -> None:
    for scenario_id in SCENARIO_IDS:
        w = world(scenario_id)
        state, _ = persona_game(w, 0, seed=0, runs=RUNS)
        assets, claims = state.cash + state.ppe, state.debt + state.paid_in + state.retained
        assert (np.abs(assets - claims) <= REL_TOL * _scale(assets, claims)).all(), scenario_id
        assert not not_finite(state, "state"), scenario_id
