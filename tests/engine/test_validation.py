"""A decision that cannot be carried out comes back with every problem at once, each tied to its field
on the form and said in plain words; a sound decision comes back clean; personas never need telling."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import personas
from app.engine.decisions import (
    MAX_MUSD,
    ComputeDecision,
    DataDecision,
    Decision,
    DecisionArrays,
    FinanceDecision,
    ProductDecision,
    RunPlan,
    TalentDecision,
    TrainingDecision,
    TuningDecision,
    to_arrays,
)
from app.engine.rng import run_seeds
from app.engine.rules import data, finance, market
from app.engine.start import initial_state
from app.engine.state import State
from app.engine.step import step
from app.engine.validation import DecisionProblem, cash_available, raise_room, spending, validate
from app.engine.world import OPEN_MODEL, OWN_MODEL, World

from .factories import SCENARIO_IDS, simple_decision, world

SEED = 5


def _start(w: World) -> State:
    return initial_state(w, run_seeds(SEED, 1))


def _arrays(w: World, state: State, company: int, decision: Decision) -> DecisionArrays:
    """Arrays of a round in which `company` submits `decision` and the others submit nothing."""
    decisions = [decision if c == company else Decision() for c in range(w.n_companies)]
    return to_arrays(decisions, w, state.base, state.prices, state.api_price, state.staff)


def _problems(w: World, state: State, company: int, decision: Decision) -> list[DecisionProblem]:
    return validate(w, state, company, decision, _arrays(w, state, company, decision))


def _fields(problems: list[DecisionProblem]) -> set[str]:
    return {p.field for p in problems}


def _first(kind: str, w: World) -> int:
    """The first lab (kind='lab') or product company (kind='product') of a world."""
    matches = np.flatnonzero(w.is_lab if kind == "lab" else ~w.is_lab)
    assert matches.size, f"{w.scenario.id} has no {kind} company"
    return int(matches[0])


# --- the budget -------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_buying_more_gpus_than_the_company_can_pay_for_names_the_cost_and_the_cash_left(scenario_id: str) -> None:
    w = world(scenario_id)
    state, c = _start(w), _first("lab", w)
    gpu = max(w.scenario.compute.gpus, key=lambda g: g.price_usd)  # the fewest GPUs that cost twice the cash
    cash = float(state.cash[0, c])
    installed = gpu.price_usd * (1.0 + w.scenario.compute.system_capex_share)  # card and server
    n = np.ceil(2 * cash * 1e6 / installed)
    problems = _problems(w, state, c, Decision(compute=ComputeDecision(buy_gpus={gpu.name: float(n)})))
    expected = f"GPU purchases cost ${n * installed / 1e6:,.1f}M; you have ${cash:,.1f}M left."
    assert DecisionProblem("compute.buy_gpus", expected) in problems


def test_the_budget_names_the_first_spending_line_that_does_not_fit_and_what_is_left_for_it() -> None:
    w = world("frontier-race")
    state, c = _start(w), _first("lab", w)
    cash = float(state.cash[0, c])
    decision = Decision(tuning=TuningDecision(safety_musd=0.75 * cash), products=ProductDecision(marketing_musd=0.5 * cash))
    assert _problems(w, state, c, decision) == [
        DecisionProblem("products.marketing_musd", f"Marketing cost ${0.5 * cash:,.1f}M; you have ${0.25 * cash:,.1f}M left.")
    ]


def test_new_financing_counts_towards_the_budget() -> None:
    w = world("frontier-race")
    state, c = _start(w), _first("lab", w)
    cash = float(state.cash[0, c])
    room = float(raise_room(w, state)[0, c])
    spend = cash + 0.5 * room
    assert _fields(_problems(w, state, c, Decision(products=ProductDecision(marketing_musd=spend)))) == {"products.marketing_musd"}
    funded = Decision(finance=FinanceDecision(raise_equity_musd=room), products=ProductDecision(marketing_musd=spend))
    assert _problems(w, state, c, funded) == []


def test_an_impossible_raise_does_not_hide_that_the_spending_is_unaffordable() -> None:
    """Only financing that can happen pays for spending: asking for a raise far above the limit must not
    make an unaffordable GPU order look affordable (else its problem shows up only after the raise is fixed)."""
    w = world("frontier-race")
    state, c = _start(w), _first("lab", w)
    cash = float(state.cash[0, c])
    room = float(raise_room(w, state)[0, c])
    gpu = next(g for g in w.scenario.compute.gpus if g.name == "H200")  # on sale from round 1
    n = float(np.ceil(1.5 * (cash + room) * 1e6 / gpu.price_usd))
    asked = min(100 * (cash + room), MAX_MUSD)
    decision = Decision(finance=FinanceDecision(raise_equity_musd=asked),
                        compute=ComputeDecision(buy_gpus={gpu.name: n}))
    assert _fields(_problems(w, state, c, decision)) == {"finance.raise_equity_musd", "compute.buy_gpus"}


# --- every problem at once ------------------------------------------------------------------------


def test_every_problem_of_a_decision_is_returned_at_once_each_tied_to_its_field() -> None:
    """A product company that over-raises, over-borrows, repays debt it does not owe, overspends, starts a
    pre-training run, sets an API price and builds on another product company hears about all of it."""
    w = world("mixed-ecosystem")
    state, c = _start(w), _first("product", w)
    other_product = next(n for i, n in enumerate(w.company_names) if not w.is_lab[i] and i != c)
    decision = Decision(
        finance=FinanceDecision(raise_equity_musd=MAX_MUSD, borrow_musd=MAX_MUSD, repay_musd=5.0),
        training=TrainingDecision(start=RunPlan(params_b=10, tokens_t=1)),
        products=ProductDecision(api_price=3.0, base_model=other_product, marketing_musd=MAX_MUSD),
    )
    problems = _problems(w, state, c, decision)
    assert _fields(problems) == {
        "finance.raise_equity_musd", "finance.borrow_musd", "finance.repay_musd", "products.marketing_musd",
        "training.start", "products.api_price", "products.base_model",
    }
    assert len(problems) == 7, "one problem per field"
    by_field = {p.field: p.message for p in problems}
    assert "product company" in by_field["training.start"]
    assert other_product in by_field["products.base_model"]


def test_an_unknown_segment_is_reported_together_with_every_other_problem() -> None:
    """Unknown names must not hide the rest of the form's problems (nor crash turning the form into arrays)."""
    w = world("mixed-ecosystem")
    state, c = _start(w), _first("product", w)
    decision = Decision(
        finance=FinanceDecision(raise_equity_musd=MAX_MUSD),
        training=TrainingDecision(start=RunPlan(params_b=10, tokens_t=1)),
        products=ProductDecision(prices={"martian_market": 5.0}),
    )
    try:
        arrays = _arrays(w, state, c, decision)
    except (KeyError, ValueError) as exc:
        pytest.fail(f"to_arrays cannot take a decision naming an unknown segment ({exc!r}), so validate never reports it")
    problems = validate(w, state, c, decision, arrays)
    assert _fields(problems) == {"products.prices.martian_market", "finance.raise_equity_musd", "training.start"}


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_unknown_gpus_and_segments_are_each_named_with_what_the_scenario_offers(scenario_id: str) -> None:
    w = world(scenario_id)
    state, c = _start(w), _first("lab", w)
    decision = Decision(compute=ComputeDecision(buy_gpus={"TPU9": 1.0}, rent_gpus={"Z1": 1.0}),
                        tuning=TuningDecision(sft_musd={"mars": 1.0}), products=ProductDecision(prices={"venus": 1.0}))
    by_field = {p.field: p.message for p in validate(w, state, c, decision, _arrays(w, state, c, Decision()))}
    assert set(by_field) == {"compute.buy_gpus.TPU9", "compute.rent_gpus.Z1", "tuning.sft_musd.mars", "products.prices.venus"}
    assert all(name in by_field["compute.buy_gpus.TPU9"] for name in w.gpu_names)
    assert all(seg in by_field["products.prices.venus"] for seg in w.segment_ids)


def test_a_gpu_that_has_not_shipped_yet_cannot_be_ordered() -> None:
    w = world("frontier-race")
    late = next(g for g in w.scenario.compute.gpus if g.available_from_round > 1)
    state, c = _start(w), _first("lab", w)
    problems = _problems(w, state, c, Decision(compute=ComputeDecision(buy_gpus={late.name: 1.0})))
    assert problems == [DecisionProblem(f"compute.buy_gpus.{late.name}",
                                        f"The {late.name} ships from round {late.available_from_round}; you cannot get it this round.")]


def test_a_run_with_too_many_passes_over_its_data_is_refused() -> None:
    w = world("frontier-race")
    state, c = _start(w), _first("lab", w)
    unique = float(data.unique_tokens(w, state.data)[0, c])
    plan = RunPlan(params_b=10, tokens_t=min(2 * w.scenario.data.max_epochs * unique, 1000))
    problems = _problems(w, state, c, Decision(training=TrainingDecision(start=plan)))
    assert _fields(problems) == {"training.start.tokens_t"}


# --- the data pools -----------------------------------------------------------------------------


def test_a_crawl_beyond_what_is_left_of_the_open_web_is_refused_at_the_crawl_field() -> None:
    w = world("frontier-race")
    state, c = _start(w), _first("lab", w)
    left = float(state.data_pool[0, data.SCRAPED] - state.data[0, c, data.SCRAPED])
    problems = _problems(w, state, c, Decision(data=DataDecision(scrape_t_tokens=1000)))
    assert [p.field for p in problems] == ["data.scrape_t_tokens"]
    assert problems[0].message.startswith(
        f"You cannot crawl 1,000.0T tokens: the open web has {left:,.1f}T tokens left that you do not already hold")
    assert _problems(w, state, c, Decision(data=DataDecision(scrape_t_tokens=left))) == []


def test_licensing_more_than_is_on_offer_and_generating_beyond_the_synthetic_pool_are_refused_at_their_fields() -> None:
    w = world("frontier-race")
    state, c = _start(w), _first("lab", w)
    licensed, synthetic = w.data_pool[data.LICENSED], w.data_pool[data.SYNTHETIC]
    asked = Decision(data=DataDecision(license_t_tokens=licensed + 1, synthetic_t_tokens=synthetic + 1))
    problems = {p.field: p.message for p in _problems(w, state, c, asked)}
    assert set(problems) == {"data.license_t_tokens", "data.synthetic_t_tokens"}
    assert f"only {licensed:,.1f}T tokens are still on offer for licensing" in problems["data.license_t_tokens"]
    assert f"you can generate only {synthetic:,.1f}T more synthetic tokens" in problems["data.synthetic_t_tokens"]


def test_a_kind_of_data_the_scenario_does_not_offer_is_refused_as_such() -> None:
    sc = world("frontier-race").scenario
    no_licences = sc.model_copy(update={"data": sc.data.model_copy(
        update={"sources": [s for s in sc.data.sources if s.kind != "licensed"]})})
    w = World(no_licences)
    state, c = _start(w), _first("lab", w)
    problems = _problems(w, state, c, Decision(data=DataDecision(license_t_tokens=1)))
    assert problems == [DecisionProblem("data.license_t_tokens",
                                        "You cannot license 1.0T tokens: this scenario offers no licensed data.")]


def test_data_licensed_by_rivals_is_no_longer_on_offer() -> None:
    w = world("frontier-race")
    state, c = _start(w), _first("lab", w)
    half = w.data_pool[data.LICENSED] / 2
    rivals = [Decision(data=DataDecision(license_t_tokens=half)) if k != c else Decision() for k in range(w.n_companies)]
    after, _ = step(w, state, to_arrays(rivals, w, state.base, state.prices, state.api_price, state.staff))
    assert after.data_pool[0, data.LICENSED] == 0.0
    problems = _problems(w, after, c, Decision(data=DataDecision(license_t_tokens=1)))
    assert [p.field for p in problems] == ["data.license_t_tokens"]


def test_a_lab_cannot_start_a_second_run_while_one_is_in_progress_unless_it_cancels_it() -> None:
    w = world("frontier-race")
    c = _first("lab", w)
    plan = TrainingDecision(start=RunPlan(params_b=2000, tokens_t=40))  # ~5e26 FLOPs: several quarters
    first = [Decision(training=plan) if i == c else Decision() for i in range(w.n_companies)]
    start = _start(w)
    state, _ = step(w, start, to_arrays(first, w, start.base, start.prices, start.api_price, start.staff))
    assert state.run_on[0, c], "the first run is under way"
    assert _fields(_problems(w, state, c, Decision(training=plan))) == {"training.start"}
    restart = Decision(training=TrainingDecision(start=RunPlan(params_b=2000, tokens_t=40), cancel=True))
    assert _problems(w, state, c, restart) == []


# --- sound decisions --------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_sound_decision_has_no_problems(scenario_id: str) -> None:
    w = world(scenario_id)
    state = _start(w)
    for c, name in enumerate(w.company_names):
        assert _problems(w, state, c, simple_decision(w, c)) == [], name


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_lab_that_buys_what_it_can_afford_and_trains_on_its_own_data_has_no_problems(scenario_id: str) -> None:
    w = world(scenario_id)
    state, c = _start(w), _first("lab", w)
    gpu = w.scenario.compute.gpus[0]
    unique = float(data.unique_tokens(w, state.data)[0, c])
    decision = simple_decision(w, c).model_copy(update={
        "compute": ComputeDecision(buy_gpus={gpu.name: float(np.floor(0.5 * state.cash[0, c] * 1e6 / gpu.price_usd))}),
        "training": TrainingDecision(start=RunPlan(params_b=600, active_params_b=40, tokens_t=round(2 * unique, 1))),
    })
    assert _problems(w, state, c, decision) == []


# --- personas ----------------------------------------------------------------------------------------


def _persona_problems(w: World, state: State, d: DecisionArrays) -> list[str]:
    """Everything that would make the personas' arrays an invalid decision, in words."""
    out = []
    spend = spending(w, d).sum(-1)
    over = spend > cash_available(state, d) + 1e-6 * np.maximum(spend, 1.0)
    out += [f"spends {spend[r, c]:,.1f} with {cash_available(state, d)[r, c]:,.1f} available" for r, c in zip(*np.nonzero(over), strict=True)]
    for name in ("raise_equity", "borrow", "repay", "buy", "rent", "staff_target", "data_buy", "run_total", "run_active",
                 "run_tokens", "sft", "safety", "marketing", "api_price", "price", "serving_share", "pay", "rag"):
        value = getattr(d, name)
        if not np.isfinite(value).all():
            out.append(f"{name} is not finite")
        elif (value < 0).any():
            out.append(f"{name} is negative")
    if (d.raise_equity > raise_room(w, state) * (1 + 1e-9)).any():
        out.append("raises more than investors allow")
    if (d.data_buy > data.room(state.data, state.data_pool) + 1e-9).any():
        out.append("asks for more data than its pool holds")
    if (d.borrow > np.maximum(finance.debt_limit(w, state.revenue, state.ppe) - state.debt, 0.0) * (1 + 1e-9) + 1e-9).any():
        out.append("borrows beyond the debt limit")
    if (d.price <= 0).any():
        out.append("prices at or below zero")
    if ((d.serving_share > 1) | (d.pay < 0.5) | (d.pay > 3)).any():
        out.append("serving share or pay out of range")
    if (d.start_run & ~w.is_lab[None, :]).any():
        out.append("a product company starts a run")
    if (d.start_run & ((d.run_active > d.run_total * (1 + 1e-12)) | (d.run_total <= 0) | (d.run_tokens <= 0))).any():
        out.append("a run with impossible sizes")
    if (d.start_run & state.run_on & ~d.cancel_run).any():
        out.append("a second run while one is in progress")
    launched = np.array([g.available_from_round <= state.round + 1 for g in w.scenario.compute.gpus])
    if ((d.buy + d.rent) * ~launched > 0).any():
        out.append("orders a GPU that has not shipped")
    lab_base, product_base = d.base[:, w.is_lab], d.base[:, ~w.is_lab]
    if (lab_base != OWN_MODEL).any() or not np.isin(product_base, [OPEN_MODEL, *np.flatnonzero(w.is_lab)]).all():
        out.append("an impossible base model")
    return out


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_personas_never_make_an_invalid_decision(scenario_id: str) -> None:
    """Every persona in every seat, at every aggressiveness, through a whole game of 12 seeded runs."""
    w = world(scenario_id)
    rng = np.random.default_rng(SEED)
    for trial in range(3):
        seats = np.arange(w.n_companies) % len(personas.TRAITS) if trial == 0 else rng.integers(0, len(personas.TRAITS), w.n_companies)
        aggressiveness = np.full(w.n_companies, float(trial) / 2)
        state, previous = initial_state(w, run_seeds(SEED + trial, 12)), None
        for _ in range(w.scenario.rounds):
            d = personas.decide(w, state, seats, aggressiveness, previous)
            problems = _persona_problems(w, state, d)
            assert not problems, f"round {state.round + 1}, seats {seats.tolist()}: {problems}"
            state, _ = step(w, state, d)
            previous = d


# --- export controls ---------------------------------------------------------------------------


def _cn_lab(w: World) -> int:
    labs = np.flatnonzero(w.is_lab & w.is_cn)
    assert labs.size, f"{w.scenario.id} has no lab in region cn"
    return int(labs[0])


def test_a_chinese_lab_cannot_order_or_rent_an_export_controlled_gpu_even_without_new_controls() -> None:
    """The classroom walk: Cinder (region cn) bought H100s in 2025 with "No problems found"."""
    w = world("frontier-race")
    state, c = _start(w), _cn_lab(w)
    controlled = [g.name for g in w.scenario.compute.gpus if g.export_controlled and g.available_from_round <= 1]
    open_ = [g.name for g in w.scenario.compute.gpus if not g.export_controlled and g.available_from_round <= 1]
    decision = Decision(compute=ComputeDecision(buy_gpus={controlled[0]: 100.0}, rent_gpus={controlled[-1]: 10.0}))
    problems = _problems(w, state, c, decision)
    assert {f"compute.buy_gpus.{controlled[0]}", f"compute.rent_gpus.{controlled[-1]}"} <= _fields(problems)
    assert all("export controls" in p.message for p in problems if p.field.startswith("compute."))
    assert not _problems(w, state, c, Decision(compute=ComputeDecision(buy_gpus={open_[0]: 100.0})))
    us_lab = int(np.flatnonzero(w.is_lab & ~w.is_cn)[0])
    assert not _problems(w, state, us_lab, Decision(compute=ComputeDecision(buy_gpus={controlled[0]: 100.0})))


def test_while_new_controls_are_in_force_a_chinese_lab_can_order_no_gpu_and_its_persona_orders_none() -> None:
    w = world("frontier-race")
    c = _cn_lab(w)
    ban = [i for i, e in enumerate(w.scenario.events) if e.kind == "gpu_export_controls"]
    assert ban, "frontier-race has an export-controls event"
    state = _start(w)
    left = state.events_left.copy()
    left[:, ban[0]] = 3
    state = state.replace(events_left=left)
    free = next(g.name for g in w.scenario.compute.gpus if not g.export_controlled)
    problems = _problems(w, state, c, Decision(compute=ComputeDecision(buy_gpus={free: 100.0})))
    assert f"compute.buy_gpus.{free}" in _fields(problems)
    seats = np.array([personas.persona_index(co.persona) for co in w.scenario.companies])
    d = personas.decide(w, state, seats, np.full(w.n_companies, 0.5), None)
    assert d.buy[0, c].sum() == 0 and d.rent[0, c].sum() == 0

def test_an_api_price_above_the_scenarios_limit_is_refused_at_its_field() -> None:
    w = world("product-builders")
    state, lab = _start(w), _first("lab", w)
    most = market.api_price_limit(w, 1)
    too_dear = Decision(products=ProductDecision(api_price=round(2 * most, 2)))
    within = Decision(products=ProductDecision(api_price=round(0.9 * most, 2)))
    problems = _problems(w, state, lab, too_dear)
    assert "products.api_price" in _fields(problems)
    assert f"at most ${most:,.2f} per million tokens" in problems[0].message
    assert "products.api_price" not in _fields(_problems(w, state, lab, within))


@pytest.mark.parametrize("scenario_id", [s for s in SCENARIO_IDS if not world(s).is_lab.all()])
def test_a_lab_may_not_squeeze_the_margin_of_its_product_companies(scenario_id: str) -> None:
    """Competition law (market.no_margin_squeeze): a lab whose model product companies built on last quarter may not
    sell retail below what a token costs them (its wholesale price and their engineers). A lower price is refused at
    its segment's field, naming the customers and the floor, and never charged; a lab without customers prices
    freely; lowering the wholesale price lowers the floor. (Mixed-ecosystem's Kestrel, the vendor of every product
    company, won 60-73% of games by undercutting its persona 15-50%: the squeeze paid it.)"""
    w = world(scenario_id)
    state = _start(w)
    product = np.flatnonzero(~w.is_lab)
    served = [lab for lab in np.flatnonzero(w.is_lab) if (state.base[0, product] == lab).any()]
    alone = [lab for lab in np.flatnonzero(w.is_lab) if lab not in served]
    assert served, "no lab has a product company on its model: the test is not testing"
    lab = int(served[0])
    seg = w.segment_ids[0]
    wholesale = float(state.api_price[0, lab])
    floor = float(market.squeeze_floor(w, state.api_price, state.base, 1)[0, lab])
    assert floor == pytest.approx(min(wholesale, market.api_price_limit(w, 1)) + market.engineers_per_m_tokens(w, 1))
    below = Decision(products=ProductDecision(prices={seg: round(0.5 * floor, 2)}))
    problems = [p for p in _problems(w, state, lab, below) if p.field == f"products.prices.{seg}"]
    assert problems and "Competition law" in problems[0].message and f"${floor:,.2f}" in problems[0].message
    customer = w.company_names[int(product[state.base[0, product] == lab][0])]
    assert customer in problems[0].message
    assert f"products.prices.{seg}" not in _fields(_problems(w, state, lab, Decision(
        products=ProductDecision(prices={seg: round(1.01 * floor, 2)}))))
    cheaper = Decision(products=ProductDecision(prices={seg: round(0.9 * floor, 2)}, api_price=round(0.5 * wholesale, 2)))
    assert f"products.prices.{seg}" not in _fields(_problems(w, state, lab, cheaper))
    charged, _ = step(w, state, _arrays(w, state, lab, below))
    assert charged.prices[0, lab, 0] == pytest.approx(floor)
    for other in alone:
        free = Decision(products=ProductDecision(prices={seg: 0.01}))
        assert f"products.prices.{seg}" not in _fields(_problems(w, state, int(other), free))
        after, _ = step(w, state, _arrays(w, state, int(other), free))
        assert after.prices[0, other, 0] == pytest.approx(0.01)



@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_game_opens_within_competition_law(scenario_id: str) -> None:
    """The opening prices of every shipped scenario are lawful, so a team that changes nothing is never told its
    price breaks the law: a lab with product companies on its model opens with a wholesale price that leaves them
    its retail price (Kestrel opened at $2.04 wholesale under a $2.00 retail price, and its untouched form said
    "Competition law")."""
    w = world(scenario_id)
    state = _start(w)
    floor = market.squeeze_floor(w, state.api_price, state.base, 1)
    assert (state.prices[0] >= floor[0][:, None] - 1e-9).all()
    for lab in np.flatnonzero(w.is_lab):
        assert not [p for p in _problems(w, state, int(lab), Decision()) if "Competition law" in p.message]

# --- whole GPUs and people ---------------------------------------------------------------------


def test_a_fraction_of_a_gpu_or_of_a_person_is_refused_at_its_field() -> None:
    """The classroom walk: the form accepted 3.7 researchers, and reports showed 78.53 researchers."""
    w = world("frontier-race")
    state, c = _start(w), _first("lab", w)
    gpu = w.gpu_names[0]
    decision = Decision(compute=ComputeDecision(buy_gpus={gpu: 10.5}), talent=TalentDecision(researchers=3.7))
    fields = _fields(_problems(w, state, c, decision))
    assert {f"compute.buy_gpus.{gpu}", "talent.researchers"} <= fields
    whole = Decision(compute=ComputeDecision(buy_gpus={gpu: 10.0}), talent=TalentDecision(researchers=300))
    assert not {f"compute.buy_gpus.{gpu}", "talent.researchers"} & _fields(_problems(w, state, c, whole))


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_company_holds_whole_gpus_and_whole_people_through_a_persona_game(scenario_id: str) -> None:
    w = world(scenario_id)
    state, previous = initial_state(w, run_seeds(SEED, 8)), None
    seats = np.array([personas.persona_index(co.persona) for co in w.scenario.companies])
    for _ in range(w.scenario.rounds):
        d = personas.decide(w, state, seats, np.full(w.n_companies, 0.5), previous)
        state, outcome = step(w, state, d)
        previous = d
        for name, counts in (("GPUs", state.gpus), ("GPUs on order", state.pipeline), ("staff", state.staff),
                             ("hires", outcome.hired), ("leavers", outcome.left)):
            assert np.array_equal(counts, np.round(counts)), f"{name} in round {state.round} are not whole"
