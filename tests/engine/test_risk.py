"""Incidents and fines follow the rules the scenario documentation states."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.rng import run_seeds
from app.engine.rules import data, risk
from app.engine.start import initial_state, standing_decisions
from app.engine.step import Outcome, step

from .factories import SCENARIO_IDS, world

RUNS = 400
SEED = 1


def _first_round(scenario_id: str) -> Outcome:
    w = world(scenario_id)
    state = initial_state(w, run_seeds(SEED, RUNS))
    return step(w, state, standing_decisions(w, state))[1]


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_incident_is_fined_and_the_revenue_part_counts_only_regulated_revenue(scenario_id: str) -> None:
    """docs/scenarios.md, fine_floor_musd and fine_share_of_revenue: an incident costs a fine of the floor plus
    up to that share of the annualised revenue a company earns in segments with a safety minimum, scaled by
    its severity (at most 1); a company with no such revenue pays at most the floor."""
    w, o = world(scenario_id), _first_round(scenario_id)
    sf = w.scenario.safety
    floor = w.seg_min_safety[None, :] + o.conditions.min_safety_add[:, None]
    regulated_revenue = (o.revenue_by_segment * (floor > 0)[:, None, :]).sum(-1)
    assert o.incidents.happened.any(), "no incidents in the sample: the test is not testing"
    assert ((o.incidents.fine > 0) == o.incidents.happened).all()
    cap = sf.fine_floor_musd + sf.fine_share_of_revenue * 4.0 * regulated_revenue
    assert (o.incidents.fine <= cap + 1e-9).all()
    assert (o.incidents.fine[regulated_revenue <= 0] <= sf.fine_floor_musd + 1e-9).all()
    severe = o.incidents.happened & (o.incidents.severity >= 1.0)
    assert np.allclose(o.incidents.fine[severe], cap[severe])


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_fines_and_incident_costs_come_only_with_an_incident(scenario_id: str) -> None:
    o = _first_round(scenario_id)
    assert not ((o.incidents.fine > 0) & ~o.incidents.happened).any()
    assert not ((o.incidents.cost > 0) & ~o.incidents.happened).any()
    assert not ((o.incidents.settlement > 0) & ~o.incidents.lawsuit).any()


def test_a_company_with_no_users_has_no_incidents() -> None:
    w = world("frontier-race")
    state = initial_state(w, run_seeds(SEED, RUNS))
    served = np.zeros_like(state.cash)
    served[:, 0] = 50.0  # one company with users, for contrast
    shares = data.data_shares(state.data)
    safety = np.full_like(state.cash, 20.0)
    parts = risk.incident_rate_parts(w, served, safety, state.staff[:, :, 2], shares)
    inc = risk.incidents(w, parts, served, state.revenue, state.data, shares, np.ones(RUNS), state.seeds, 1)
    assert (inc.probability[:, 1:] == 0).all() and not inc.happened[:, 1:].any()
    assert (inc.probability[:, 0] > 0).all() and inc.happened[:, 0].any()


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_safety_staff_has_diminishing_returns_so_doubling_it_every_quarter_is_no_shortcut(scenario_id: str) -> None:
    """The audit: doubling the safety-staff target every quarter lifted one seat from 7.5% to 78.5% of wins,
    because each person cut incidents by the same factor and multiplied safety tuning without limit."""
    from app.engine.rules import tuning

    w = world(scenario_id)
    scale = w.scenario.safety.safety_staff_scale
    staff = np.array([[0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 64.0]]) * scale
    strength = tuning.safety_team_strength(w, staff)[0]
    gains = np.diff(strength)
    assert strength[2] == pytest.approx(1.0), "a team of safety_staff_scale people is the calibration point"
    assert (gains > 0).all(), "more safety staff always helps a little"
    assert (np.diff(gains / np.diff(staff[0])) < 0).all(), "each extra person helps less"
    assert strength[-1] < 1.6, "however many are hired, a safety team's effect is bounded"
    served = np.full((1, 7), w.scenario.safety.reference_volume_t_tokens)
    parts = risk.incident_rate_parts(w, served, np.full((1, 7), 60.0), staff, np.zeros((1, 7, 4)))
    rate = np.exp(parts.sum(-1))[0]
    assert rate[-1] > 0.2 * rate[2], "64x the staff cannot make incidents vanish"
