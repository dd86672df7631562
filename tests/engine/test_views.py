"""Player views for Python strategies: a view shows the market, every public page and the viewer's own books,
never a rival's private books; runs are independent; the example strategy plays whole games without invalid
decisions; bad strategy specs and bad returned decisions are reported plainly."""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from app.engine import personas, report, validation
from app.engine.decisions import Decision, ProductDecision, to_arrays
from app.engine.game import autoplay, replay
from app.engine.rng import run_seeds
from app.engine.start import initial_state
from app.engine.state import State
from app.engine.step import Outcome, step
from app.engine.views import PlayerView, StrategyError, decision_from, load_strategy, player_view
from app.engine.world import World
from app.scenario import find_scenario, list_scenarios
from examples.strategies import undercut

RUNS = 3
VIEWER, RIVAL = 0, 2
# Every part of a company's books rivals may not see; each is changed in turn for the rival.
PRIVATE = ("cash", "debt", "paid_in", "retained", "ppe", "loss_carryforward", "ownership", "depreciation", "rescues",
           "gpus", "pipeline", "staff", "pay", "algo", "data", "run_on", "run_total", "run_active", "run_tokens",
           "run_tokens_eff", "run_flops_needed", "run_flops_done", "run_start", "model_total", "model_active",
           "model_cap", "model_cutoff", "model_version", "ready_on", "ready_total", "ready_active",
           "ready_cap", "ready_cutoff", "release_hold", "sft", "safety_stock", "safety_start", "rag",
           "brand_anchor", "ecosystem", "revenue", "revenue_start", "revenue_recent", "cum_revenue", "cum_tokens", "cum_retail", "cum_net_income", "incidents",
           "valuation", "valuation_start", "share_start", "demand", "served")
PUBLIC = ("prices", "api_price", "share", "brand")


@functools.cache
def _world() -> World:
    return World(find_scenario("frontier-race"))


@functools.cache
def _played() -> tuple[State, Outcome]:
    """frontier-race, RUNS replications, one round played by the scenario's personas."""
    w = _world()
    state = initial_state(w, run_seeds(1, RUNS))
    seats = np.array([personas.persona_index(c.persona) for c in w.scenario.companies])
    d = personas.decide(w, state, seats, np.full(len(seats), personas.DEFAULT_AGGRESSIVENESS), None)
    return step(w, state, d)


def _changed(state: State, name: str, company: int) -> State:
    """The state with one company's figure `name` changed in every run (a copy: states are shared)."""
    a = getattr(state, name).copy()
    if a.dtype == bool:
        a[:, company] = ~a[:, company]
    else:
        a[:, company] = a[:, company] * 1.5 + 7
    return state.replace(**{name: a})


def test_the_view_of_a_company_never_shows_a_rivals_private_books() -> None:
    state, outcome = _played()
    seen = player_view(_world(), state, 1, VIEWER, outcome)
    for name in PRIVATE:
        assert player_view(_world(), _changed(state, name, RIVAL), 1, VIEWER, outcome) == seen, name


def test_the_view_of_a_company_changes_with_its_own_books_and_rivals_public_figures() -> None:
    state, outcome = _played()
    seen = player_view(_world(), state, 1, VIEWER, outcome)
    own_books = ("cash", "debt", "staff", "gpus", "pipeline", "data", "model_total", "sft", "safety_stock", "valuation")
    for name in own_books:
        assert player_view(_world(), _changed(state, name, VIEWER), 1, VIEWER, outcome).own != seen.own, name
    for name in PUBLIC:
        other = player_view(_world(), _changed(state, name, RIVAL), 1, VIEWER, outcome)
        rival = _world().company_names[RIVAL]
        assert other.companies[rival] != seen.companies[rival], name
        assert other.own == seen.own, name


def test_a_rivals_page_is_its_public_page_in_the_round_report() -> None:
    w = _world()
    played = replay(autoplay(w.scenario, 5, rounds=2), w)
    last = played[-1]
    rep = report.round_report(w, last)
    for c in range(w.n_companies):
        view = player_view(w, last.after, 0, c, last.outcome)
        assert view.companies == {n: v["public"] for n, v in rep["companies"].items()}
        assert view.companies[view.company]["prices"] == pytest.approx(view.own["prices"], abs=1e-4)
        assert view.own["cash_musd"] == pytest.approx(rep["companies"][view.company]["private"]["kpis"]["cash"], abs=1e-4)


def test_runs_are_independent() -> None:
    state, outcome = _played()
    one = state.take(1)
    for c in (VIEWER, RIVAL):
        a = player_view(_world(), state, 1, c, outcome)
        # the same round from the one-run state: its outcome is the run-1 slice of the arrays it reads
        b = player_view(_world(), one, 0, c, _outcome_of_run(outcome, 1))
        assert a == b
        assert a != player_view(_world(), state, 0, c, outcome) or np.array_equal(state.cash[0], state.cash[1])


def _outcome_of_run(o: Outcome, run: int) -> Outcome:
    """The outcome of one replication, R=1 (only the arrays a view reads need slicing; all are sliced)."""
    def cut(v: object) -> object:
        if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == RUNS:
            return v[run : run + 1]
        if isinstance(v, dict):
            return {k: cut(x) for k, x in v.items()}
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return dataclasses.replace(v, **{f.name: cut(getattr(v, f.name)) for f in dataclasses.fields(v) if f.init})
        return v
    out = cut(o)
    assert isinstance(out, Outcome)
    return out


def test_before_round_1_the_view_shows_the_opening_market() -> None:
    w = _world()
    state = initial_state(w, run_seeds(1, RUNS))
    view = player_view(w, state, 0, 0)
    assert view.round == 1 and view.rounds == w.scenario.rounds
    assert view.own["revenue_musd"] is None and view.own["income_statement_musd"] is None
    assert all(p["score"] is None for p in view.companies.values())
    assert all(g["last_buy_usd"] is None for g in view.market["gpus"].values())
    assert [s["id"] for s in view.market["segments"]] == w.segment_ids
    assert view.companies[view.company]["capability"] > 0


def test_the_view_is_plain_data() -> None:
    state, outcome = _played()
    for view in (player_view(_world(), state, 2, 3, outcome), player_view(_world(), initial_state(_world(), run_seeds(1, 1)), 0, 3)):
        text = json.dumps(view.as_dict())
        assert json.loads(text) == view.as_dict()
        assert "numpy" not in repr(view.as_dict())
        assert view.company in str(view)
        assert set(view.rivals) == set(view.companies) - {view.company}


def test_memory_is_the_callers_dict_and_outside_equality() -> None:
    state, outcome = _played()
    kept: dict[str, object] = {"seen": 1}
    view = player_view(_world(), state, 0, 0, outcome, memory=kept)
    view.memory["more"] = 2
    assert kept == {"seen": 1, "more": 2}
    assert view == player_view(_world(), state, 0, 0, outcome)
    assert "memory" not in view.as_dict()


def test_a_view_is_checked_against_its_inputs() -> None:
    state, outcome = _played()
    with pytest.raises(IndexError):
        player_view(_world(), state, RUNS, 0, outcome)
    with pytest.raises(IndexError):
        player_view(_world(), state, 0, 99, outcome)
    with pytest.raises(ValueError, match="round"):
        player_view(_world(), initial_state(_world(), run_seeds(1, RUNS)), 0, 0, outcome)


# ---- the example strategy plays whole games -----------------------------------------------------------------

@pytest.mark.parametrize("scenario", list_scenarios(), ids=lambda s: s.id)
def test_the_example_strategy_plays_every_seat_of_a_whole_game_validly(scenario) -> None:
    w = World(scenario)
    state, outcome = initial_state(w, run_seeds(11, 1)), None
    memories: list[dict] = [{} for _ in scenario.companies]
    strategy = load_strategy("examples.strategies.undercut:decide")
    checked, invalid = 0, []
    for _ in range(scenario.rounds):
        views = [player_view(w, state, 0, c, outcome, memories[c]) for c in range(w.n_companies)]
        decisions = [decision_from(strategy(v), v.company, v.round) for v in views]
        d = to_arrays(decisions, w, state.base, state.prices, state.api_price, state.staff)
        for c, dec in enumerate(decisions):
            checked += 1
            invalid += [(views[c].round, views[c].company, p.field) for p in validation.validate(w, state, c, dec, d)]
        state, outcome = step(w, state, d)
    assert len(invalid) <= 0.1 * checked, invalid
    assert all(len(m["cash_musd"]) == scenario.rounds for m in memories)  # the strategy's memory persisted
    assert state.model_version[0, w.is_lab].max() > 1  # some lab trained and released a new model


def test_the_example_undercuts_the_cheapest_rival_but_not_its_own_costs() -> None:
    state, outcome = _played()
    view = player_view(_world(), state, 0, 0, outcome)
    floor = undercut.MARGIN_OVER_COST * undercut.cost_per_m_tokens(view)
    for seg, price in undercut.prices(view).items():
        cheapest = min(p["prices"][seg] for p in view.rivals.values())
        assert price == pytest.approx(max(undercut.UNDERCUT * cheapest, floor))


def test_the_example_hires_safety_staff_when_a_regulated_segment_bars_it() -> None:
    state, outcome = _played()
    view = player_view(_world(), state, 0, 0, outcome)
    low = dataclasses.replace(view, own={**view.own, "safety": 10.0})
    high = dataclasses.replace(view, own={**view.own, "safety": 99.0})
    assert undercut.decide(low)["talent"]["safety_staff"] > view.own["staff"]["safety"]
    assert undercut.decide(high)["talent"]["safety_staff"] == view.own["staff"]["safety"]


# ---- loading strategies and reading what they return --------------------------------------------------------

def test_load_strategy_finds_modules_and_files(tmp_path: Path) -> None:
    assert load_strategy("examples.strategies.undercut:decide") is undercut.decide
    file = tmp_path / "mine.py"
    file.write_text("def decide(view):\n    return None\n")
    assert load_strategy(f"{file}:decide")(None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("spec", "words"), [
    ("undercut", "give a strategy as 'package.module:function'"),
    ("examples.strategies.undercut:", "give a strategy as"),
    (":decide", "give a strategy as"),
    ("examples.strategies.undercut:not-a-name", "give a strategy as"),
    ("no_such_package.strategy:decide", "no module named 'no_such_package'"),
    ("examples.strategies.nothing_here:decide", "no module named 'examples.strategies.nothing_here'"),
    ("examples.strategies.undercut:decid", "has no 'decid'; its public callables: Budget, cost_per_m_tokens, decide, gpu_orders, prices and"),
    ("examples.strategies.undercut:UNDERCUT", "is float 0.9, not a function"),
    ("missing/file.py:decide", "no strategy file 'missing/file.py'"),
])
def test_load_strategy_says_what_is_wrong_with_a_spec(spec: str, words: str) -> None:
    with pytest.raises(StrategyError) as e:
        load_strategy(spec)
    assert words in str(e.value)


def test_load_strategy_reports_a_broken_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_strategy.py").write_text("import not_installed_anywhere\n")
    (tmp_path / "raising_strategy.py").write_text("raise RuntimeError('oops')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(StrategyError, match="needs 'not_installed_anywhere', which is not installed"):
        load_strategy("broken_strategy:decide")
    with pytest.raises(StrategyError, match="RuntimeError: oops"):
        load_strategy("raising_strategy:decide")
    with pytest.raises(StrategyError, match="RuntimeError: oops"):
        load_strategy(f"{tmp_path / 'raising_strategy.py'}:decide")
    for name in ("broken_strategy", "raising_strategy"):
        sys.modules.pop(name, None)


def test_decision_from_accepts_a_decision_a_dict_or_none() -> None:
    d = Decision(products=ProductDecision(marketing_musd=3.0))
    assert decision_from(d, "Aurora AI", 2) is d
    assert decision_from({"products": {"marketing_musd": 3.0}}, "Aurora AI", 2) == d
    assert decision_from(None, "Aurora AI", 2) == Decision()
    previous = Decision.model_validate({"compute": {"buy_gpus": {"H100": 5}, "serving_share": 0.4}, "products": {"marketing_musd": 3.0}})
    carried = decision_from(None, "Aurora AI", 2, previous)
    assert carried == previous.carried_on()
    assert carried.compute.buy_gpus == {} and carried.compute.serving_share == 0.4


def test_decision_from_names_the_seat_the_round_and_every_bad_field() -> None:
    bad = {"products": {"prices": {"enterprise": -1.0}, "marketing_musd": "lots"}, "talent": {"pay_level": 9},
           "compute": {"serving_share": 0.5, "gpus": 3}}
    with pytest.raises(StrategyError) as e:
        decision_from(bad, "Aurora AI", 4)
    text = str(e.value)
    assert text.startswith("Aurora AI's strategy, round 4: 4 problems")
    assert "products.prices.enterprise: must be ≥ 0.0001, got -1.0" in text
    assert "products.marketing_musd: " in text
    assert "talent.pay_level: must be ≤ 3, got 9" in text
    assert "compute.gpus: is not a field of the decision form" in text


@pytest.mark.parametrize("result", [42, "raise prices", [1, 2], PlayerView])
def test_decision_from_refuses_what_is_not_a_decision(result: object) -> None:
    with pytest.raises(StrategyError, match="Beacon Labs's strategy, round 1: returned .*return a Decision, a dict"):
        decision_from(result, "Beacon Labs", 1)
