"""Computer-run rivals are recognisable strategies: put each persona in the same seat of the same seeded
games and its signature shows (safety, price, SFT, marketing, debt, model size); idle never wins, and a
bolder setting spends more."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pytest

from app.engine import personas, validation
from app.engine.batch import win_rates
from app.engine.rng import run_seeds
from app.engine.rules import data, market, tuning
from app.engine.start import initial_state
from app.engine.state import SAFETY_STAFF
from app.engine.step import step
from app.engine.world import World

from .factories import SCENARIO_IDS, persona_game, scenario, scenario_seats, world

RUNS = 50
SEED = 2026
SAFETY = SAFETY_STAFF
PLAYING = tuple(p for p in personas.TRAITS if p != "idle")


@dataclass(frozen=True)
class Signature:
    """What one persona did in one seat, averaged over RUNS seeded games."""

    final_safety: float
    price_to_reference: float
    biggest_run_flops: float  # 6 * active parameters * tokens of its biggest run
    sft_share_of_revenue: float
    marketing_share_of_revenue: float
    max_debt: float


def _seat(scenario_id: str) -> int:
    """The seat under test: the scenario's first lab."""
    return int(np.flatnonzero(world(scenario_id).is_lab)[0])


@functools.cache
def _signature(scenario_id: str, persona: str) -> Signature:
    """Play RUNS seeded games with `persona` in the seat and the scenario's own personas elsewhere."""
    w, c = world(scenario_id), _seat(scenario_id)
    seats = scenario_seats(w)
    seats[c] = personas.persona_index(persona)
    aggressiveness = np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)
    state, previous = initial_state(w, run_seeds(SEED, RUNS)), None
    price, flops, revenue, sft, marketing, debt = [], np.zeros(RUNS), np.zeros(RUNS), np.zeros(RUNS), np.zeros(RUNS), np.zeros(RUNS)
    for _ in range(w.scenario.rounds):
        d = personas.decide(w, state, seats, aggressiveness, previous)
        state, o = step(w, state, d)
        previous = d
        price.append((d.price[:, c] / o.reference_price).mean(-1))
        flops = np.maximum(flops, 6 * d.start_run[:, c] * d.run_active[:, c] * 1e9 * d.run_tokens[:, c] * 1e12)
        revenue, sft, marketing = revenue + o.revenue[:, c], sft + d.sft[:, c].sum(-1), marketing + d.marketing[:, c]
        debt = np.maximum(debt, state.debt[:, c])
    return Signature(float(o.safety[:, c].mean()), float(np.mean(price)), float(flops.mean()), float(sft.sum() / revenue.sum()),
                     float(marketing.sum() / revenue.sum()), float(debt.max()))


def _table(scenario_id: str, field: str) -> dict[str, float]:
    return {p: getattr(_signature(scenario_id, p), field) for p in PLAYING}


def _leader(table: dict[str, float], highest: bool = True) -> str:
    return (max if highest else min)(table, key=lambda p: table[p])


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_safety_first_ends_safer_than_any_other_persona_in_the_same_seat(scenario_id: str) -> None:
    table = _table(scenario_id, "final_safety")
    assert _leader(table) == "safety_first", table
    assert table["safety_first"] > table["scale_maximalist"] + 5


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_price_disruptor_prices_below_every_other_persona_and_well_below_the_incumbent(scenario_id: str) -> None:
    table = _table(scenario_id, "price_to_reference")
    assert _leader(table, highest=False) == "price_disruptor", table
    assert table["price_disruptor"] < 0.8 * table["incumbent"], table


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_scale_maximalist_trains_bigger_models_than_any_other_persona_in_the_same_seat(scenario_id: str) -> None:
    table = _table(scenario_id, "biggest_run_flops")
    assert _leader(table) == "scale_maximalist", {p: f"{v:.3g} FLOPs" for p, v in table.items()}


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_fast_follower_puts_the_largest_share_of_revenue_into_fine_tuning(scenario_id: str) -> None:
    table = _table(scenario_id, "sft_share_of_revenue")
    assert _leader(table) == "fast_follower", table


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_incumbent_markets_hardest_and_is_the_only_persona_that_borrows(scenario_id: str) -> None:
    assert _leader(_table(scenario_id, "marketing_share_of_revenue")) == "incumbent"
    debt = _table(scenario_id, "max_debt")
    assert all(debt[p] == 0 for p in PLAYING if p != "incumbent"), debt


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_pair_of_personas_plays_the_same_seat_differently(scenario_id: str) -> None:
    signatures = {p: _signature(scenario_id, p) for p in PLAYING}
    assert len(set(signatures.values())) == len(PLAYING)


@pytest.mark.parametrize("seat", range(len(scenario("frontier-race").companies)))
def test_an_idle_company_almost_never_wins_the_frontier_race_and_never_beats_the_seats_persona(seat: int) -> None:
    """Issue 9: a degenerate strategy never beats the seat's persona. Doing nothing keeps a lab's cash while its
    rivals burn theirs, so in a game where an early disaster hits every rival it can come out on top (1 game in
    1,000 of seed 2026, by 0.2 points); it must stay that rare and far below what the seat's persona wins."""
    sc = scenario("frontier-race")
    seats: list[str] = [c.persona for c in sc.companies]
    persona = seats[seat]
    own = win_rates(sc, 1000, SEED)[persona]
    seats[seat] = "idle"
    idle = win_rates(sc, 1000, SEED, seats)["idle"]
    assert idle <= 0.005, f"doing nothing won {idle:.1%} of games"
    assert idle <= 0.1 * own or idle == 0.0, f"doing nothing won {idle:.1%}, the seat's {persona} {own:.1%}"


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_no_persona_wins_most_seeded_games_of_a_shipped_scenario(scenario_id: str) -> None:
    """PRODUCT.md: balance is measured, no single bot strategy dominates; issue 9 sets the bar at 45% of the
    seeded games with the scenario's own seating (a persona in two seats wins with either)."""
    rates = win_rates(scenario(scenario_id), 1000, SEED)
    assert max(rates.values()) <= 0.45, rates


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_bolder_persona_spends_more_and_never_prices_higher(scenario_id: str) -> None:
    w = world(scenario_id)
    for rounds in (0, 4):
        state, _ = persona_game(w, rounds, SEED, runs=20)
        seats = scenario_seats(w)
        timid = personas.decide(w, state, seats, np.zeros(w.n_companies), None)
        bold = personas.decide(w, state, seats, np.ones(w.n_companies), None)
        timid_spend, bold_spend = validation.spending(w, timid).sum(-1), validation.spending(w, bold).sum(-1)
        assert (bold_spend >= timid_spend * (1 - 1e-9)).all()
        assert bold_spend.sum() > 1.05 * timid_spend.sum()
        assert (bold.price <= timid.price * (1 + 1e-9)).all()


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_rivals_lower_price_is_defended_by_comparable_personas_by_their_match_share_down_to_a_margin(scenario_id: str) -> None:
    """Every company priced alike last quarter, then one cut its prices in half: each persona within 5
    capability points of it closes its `match` share of the gap, never below 70% of its best response; a
    persona that holds (match 0), or sells a much better model, keeps its price."""
    w = world(scenario_id)
    seats = scenario_seats(w)
    state = initial_state(w, run_seeds(SEED, 1))
    t = personas._trait_arrays(w, seats, state)
    shape = (1, w.n_companies, w.n_segments)
    markup, target = np.ones(shape), np.full(shape, 1.2)
    assert np.array_equal(personas._defend(state, t, np.ones(shape), markup, target), markup)  # nobody lower
    cutter = _seat(scenario_id)
    last = np.ones(shape)
    last[:, cutter] = 0.5
    answered = personas._defend(state, t, last, markup, target)[0]
    cap = market.base_of(state.base, state.model_cap, state.open_capability)[0]
    floor = personas.DEFENCE_FLOOR * 1.2
    for c in range(w.n_companies):
        comparable = c != cutter and cap[cutter] >= cap[c] - personas.COMPARABLE_GAP
        expected = 1.0 - t["match"][0, c] * (1.0 - floor) if comparable else 1.0
        assert answered[c] == pytest.approx(np.full(w.n_segments, expected)), w.company_names[c]
    assert (answered >= floor - 1e-12).all()


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_no_persona_prices_below_what_a_token_costs_it(scenario_id: str) -> None:
    w = world(scenario_id)
    seats = scenario_seats(w)
    aggressiveness = np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)
    state, d = initial_state(w, run_seeds(SEED, RUNS)), None
    for _ in range(w.scenario.rounds):
        d = personas.decide(w, state, seats, aggressiveness, d)
        after, _ = step(w, state, d)
        # the model on sale this quarter: a run that finishes within the quarter sells its model now
        sold = after.model_active
        floor = personas.COST_FLOOR_MARKUP * personas._cost_per_m_tokens(w, state, state.round + 1, d.base, sold)
        assert (d.price >= floor[:, :, None] * (1 - 1e-9)).all()
        state = after


def test_the_best_response_price_falls_with_share_lost_and_rises_with_cost() -> None:
    """Under logit demand the profit-maximising markup is e / (e - 1) with e = sensitivity x (1 - share):
    a seller that lost buyers faces more elastic demand and prices lower; a costlier one prices higher;
    a near-monopolist is held to the ceiling."""
    w = world("frontier-race")
    cost = np.full((1, 1), 1.0)
    shares = np.linspace(0.0, 0.9, 10)[:, None, None] * np.ones((1, 1, w.n_segments))
    prices = np.concatenate([personas.best_response_price(w, s_, cost, 1) for s_ in shares])  # (10, 1, S)
    assert (np.diff(prices[:, 0, :], axis=0) >= -1e-12).all()
    e = w.seg_price_sens
    assert prices[0, 0] == pytest.approx(np.minimum(e / (e - 1), personas.MAX_PRICE_OVER_REFERENCE * w.reference_price(1)))
    assert (personas.best_response_price(w, shares[3], 2 * cost, 1) >= personas.best_response_price(w, shares[3], cost, 1)).all()
    assert (prices[-1] <= personas.MAX_PRICE_OVER_REFERENCE * w.reference_price(1) + 1e-9).all()


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_persona_short_of_its_safety_aim_keeps_a_safety_team_its_size_can_carry(scenario_id: str) -> None:
    """The balance audit: a persona that could not reach the safety its markets ask doubled its red-teamers every
    quarter it stayed short, so Kite Intelligence ended with 871 of them beside 614 engineers and a creative-tools
    company with 50 engineers paid 631; past a full-strength team more people find little."""
    w = world(scenario_id)
    seats, state, d = scenario_seats(w), initial_state(w, run_seeds(SEED, 40)), None
    start, technical = state.staff[:, :, SAFETY], np.zeros_like(state.cash)
    for _ in range(w.scenario.rounds):
        d = personas.decide(w, state, seats, np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS), d)
        state, _ = step(w, state, d)
        # the technical team it aimed for (hiring can fall short of it when the talent pool runs dry)
        technical = np.maximum(technical, d.staff_target[:, :, 0] + d.staff_target[:, :, 1])
    most = np.minimum(personas.SAFETY_TEAM_SHARE * technical,
                      personas.SAFETY_TEAM_MOST * w.scenario.safety.safety_staff_scale)
    team = state.staff[:, :, SAFETY]
    assert (team <= np.maximum(most, start) * 1.01 + 1.0).all(), team.max(axis=0)
    assert (team > start).any(), "no persona hired red-teamers: the test is not testing"


@pytest.mark.parametrize("scenario_id", [s for s in SCENARIO_IDS if s != "frontier-race"])
def test_a_product_company_keeps_the_engineers_its_buyers_need(scenario_id: str) -> None:
    """Its capacity is its engineers: a product company that grew its team at its hiring rate whatever its
    buyers asked ended with twice the engineers they needed, and lost money on the difference."""
    w = world(scenario_id)
    state, _ = persona_game(w, w.scenario.rounds, SEED, runs=40)
    product = ~w.is_lab
    capacity = market.product_capacity(w, state.staff[:, :, 1], w.scenario.rounds)
    used = state.demand / np.maximum(capacity, 1e-12)
    assert (np.median(used[:, product], axis=0) >= 0.5).all(), np.median(used[:, product], axis=0)


@pytest.mark.parametrize("scenario_id", [s for s in SCENARIO_IDS if not world(s).is_lab.all()])
@pytest.mark.parametrize("rounds", [0, 3])
def test_a_product_company_chooses_its_vendor_whatever_it_charged_last_quarter(scenario_id: str, rounds: int) -> None:
    """Issue 9 (the sandbag exploit): a product company picks the base model it would earn most on, priced as it would
    price on it. Reading the margin off its own last price, one that priced 30x for a quarter moved to the best lab
    and won 52% of mixed-ecosystem's games from Verity Health against its persona's 18%."""
    w = world(scenario_id)
    state, _ = persona_game(w, rounds, SEED, runs=20)
    seats, bold = scenario_seats(w), np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)
    vendor = personas.plan(w, state, seats, bold).base
    for c in np.flatnonzero(~w.is_lab):
        for times in (0.2, 30.0):
            prices = state.prices.copy()
            prices[:, c] *= times
            moved = personas.plan(w, state.replace(prices=prices), seats, bold).base
            assert (moved[:, c] == vendor[:, c]).all(), (w.scenario.companies[c].name, times)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_persona_finances_only_the_data_its_pools_can_deliver(scenario_id: str) -> None:
    """Issue 9 (the scrape-everything exploit): a seat asking its persona to crawl 1,000T tokens a quarter had its
    persona raise money for the whole crawl, which the pools then cut to what they held; product-builders'
    Tessellate kept $2B it never spent and the runway won it games. The fitted plan asks for what the pools hold and
    is financed as a plan that asked for that alone."""
    w = world(scenario_id)
    state, _ = persona_game(w, 2, SEED, runs=10)
    seats, bold = scenario_seats(w), np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)
    planned = personas.plan(w, state, seats, bold)
    asked = planned.replace(data_buy=np.full_like(planned.data_buy, 1000.0))
    room = data.room(state.data, state.data_pool)
    fitted = personas.fit(w, state, seats, asked)
    assert (fitted.data_buy <= room + 1e-9).all()
    within = personas.fit(w, state, seats, asked.replace(data_buy=np.minimum(asked.data_buy, room)))
    np.testing.assert_allclose(fitted.raise_equity, within.raise_equity)
    np.testing.assert_allclose(fitted.borrow, within.borrow)


def test_personas_prepare_for_a_regulation_announced_for_a_later_round() -> None:
    """Trust-and-safety announces an AI Act minimum for round 5 on the news page from round 1: a team that reads the
    news invests early enough to clear it on the day it applies, and so do the personas (aiming for today's minimum,
    the safety-first lab fell short and a seat that doubled its safety staff every quarter won 78% of games)."""
    sc = scenario("trust-and-safety")
    scheduled = [e for e in sc.events if e.kind == "regulation" and e.round is not None]
    assert scheduled, "the scenario announces a regulation"
    unannounced = World(sc.model_copy(update={"events": [e for e in sc.events if e not in scheduled]}))
    before = scheduled[0].round - 1
    announced_state, _ = persona_game(World(sc), before, SEED, runs=40)
    quiet_state, _ = persona_game(unannounced, before, SEED, runs=40)
    announced = tuning.safety_now(World(sc), announced_state).mean(axis=0)
    quiet = tuning.safety_now(unannounced, quiet_state).mean(axis=0)
    gained = dict(zip([c.name for c in sc.companies], (announced - quiet).round(2), strict=True))
    aiming_lower = [c.name for c in sc.companies  # personas whose own aim is below what the news asks
                    if personas.TRAITS[c.persona].safety_target < personas._safety_the_market_asks(World(sc), 1)]
    assert len(aiming_lower) >= 3
    assert np.mean([gained[n] for n in aiming_lower]) >= 2.0, gained


@pytest.mark.parametrize("scenario_id", ["product-builders"])  # mixed-ecosystem's labs price at the squeeze floor
def test_a_lab_prices_retail_counting_the_wholesale_margin_it_would_take_from_its_customers(scenario_id: str) -> None:
    """Issue 9 (the undercut exploit): a lab's retail price cut draws buyers from the product companies on its model
    in proportion to their share, and each such buyer costs it its wholesale margin. The more of the market its
    customers hold, the higher it prices retail; customers that pay it no margin weigh nothing. (Held instead above
    the price its customers would ask, mixed-ecosystem's labs each won 92-98% of games by undercutting them 30%.)"""
    w = world(scenario_id)
    state, _ = persona_game(w, 3, SEED, runs=20)
    seats, bold = scenario_seats(w), np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)
    planned = personas.plan(w, state, seats, bold)
    product = ~w.is_lab
    grown = state.choice_share.copy()
    grown[:, product] *= 3.0  # the product companies hold more of the choosing buyers; the labs' own shares stay
    moved = personas.plan(w, state.replace(choice_share=grown), seats, bold)
    same = (moved.base == planned.base).all(axis=1) & (moved.api_price == planned.api_price).all(axis=1)
    assert same.mean() >= 0.5, "the product companies changed vendor: the test is not testing"
    for lab in np.flatnonzero(w.is_lab):
        customers = (planned.base[same] == lab) & product[None, :]
        served = customers.any(axis=1) & (planned.api_price[same, lab] > 0)
        before, after = planned.price[same, lab], moved.price[same, lab]
        assert (after >= before * (1 - 1e-9)).all(), w.company_names[lab]
        assert np.array_equal(after[~served], before[~served]), w.company_names[lab]
    rises = moved.price[same][:, w.is_lab] > planned.price[same][:, w.is_lab] * (1 + 1e-6)
    assert rises.any(), "no lab priced higher: the test is not testing"


@pytest.mark.parametrize("scenario_id", [s for s in SCENARIO_IDS if not world(s).is_lab.all()])
def test_a_lab_never_squeezes_the_margin_of_the_product_companies_on_its_model(scenario_id: str) -> None:
    """A lab with product companies on its model never prices retail below what a token costs them (its wholesale
    price and their engineers), so a company as efficient as the lab downstream can match it; a lab whose model no
    product company uses is held to its own cost alone (held to its customers' price whether or not it had any,
    mixed-ecosystem's incumbent priced at 1.6x the reference and an undercut of its persona won 98% of games)."""
    w = world(scenario_id)
    seats, bold = scenario_seats(w), np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)
    state, d = initial_state(w, run_seeds(SEED, 20)), None
    downstream = market.engineers_per_m_tokens
    free, alone, served = 0, 0, 0
    for _ in range(w.scenario.rounds):
        d = personas.decide(w, state, seats, bold, d)
        for lab in np.flatnonzero(w.is_lab):
            has = (d.base[:, ~w.is_lab] == lab).any(axis=1)
            least = d.api_price[has, lab] + downstream(w, state.round + 1)
            assert (d.price[has, lab] >= least[:, None] * (1 - 1e-9)).all(), w.company_names[lab]
            below = (d.price[:, lab] < (d.api_price[:, lab] + downstream(w, state.round + 1))[:, None]).any(axis=1)
            free, alone, served = free + int((~has & below).sum()), alone + int((~has).sum()), served + int(has.sum())
        state, _ = step(w, state, d)
    assert served > 0, "no lab had a customer: the test is not testing"
    assert free > 0 or alone == 0, "every lab without customers priced at its customers' cost"



def _training_gpus_bought(w: World, state, revenue_times: float = 1.0) -> np.ndarray:
    """(R,C) training GPUs the scenario's personas order this quarter, with every lab's last revenue scaled."""
    seats, bold = scenario_seats(w), np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)
    plan = personas.plan(w, state.replace(revenue=state.revenue * revenue_times), seats, bold)
    return plan.buy.sum(axis=-1)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_lab_buys_training_gpus_for_what_its_better_model_will_earn(scenario_id: str) -> None:
    """Issue 9 (the never-buy exploit): a persona that put a share of its cash into GPUs whatever its model would earn
    lost to the same persona buying none from the strongest seat of every scenario (94% of mixed-ecosystem's games from
    Atlas Intelligence). A lab now buys the training fleet whose capability pays within the game: a lab whose model
    earns more buys more, and one whose model earns nothing buys no training GPUs (only what serving needs)."""
    w = world(scenario_id)
    state, _ = persona_game(w, 2, SEED, runs=20)
    labs = w.is_lab
    usual, richer = _training_gpus_bought(w, state), _training_gpus_bought(w, state, 4.0)
    assert (richer[:, labs] >= usual[:, labs] - 1e-6).all()
    assert richer[:, labs].sum() > usual[:, labs].sum(), "no lab bought more for a model that earns more"
    nothing = personas._training_gpus(
        w, state.replace(revenue=np.zeros_like(state.revenue)), personas._trait_arrays(w, scenario_seats(w), state),
        np.ones(state.revenue.shape) * 1e24, np.full(state.revenue.shape, 0.5), np.zeros(state.revenue.shape, int),
        np.ones(state.revenue.shape) * 1e18, w.scenario.rounds - 2, np.ones(state.revenue.shape, bool))
    assert (nothing == 0).all()


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_lab_hires_no_researchers_or_engineers_beyond_what_they_add(scenario_id: str) -> None:
    """Issue 9 (the fire-everyone exploit): product-builders' vendor grew its teams 8% a quarter past the research team
    that earns the full algorithmic gain and the engineers that give full training goodput, and firing everyone beat
    its persona in 82% of games. A persona's lab keeps the staff it has but asks for no researchers beyond
    `scaling.researchers_for_full_gain`, and no engineers beyond `talent.engineers_for_full_goodput` or what its
    demand needs served."""
    w = world(scenario_id)
    state, d = persona_game(w, w.scenario.rounds - 1, SEED, runs=20)
    full_research = w.scenario.scaling.researchers_for_full_gain
    labs = w.is_lab
    start = np.array([c.researchers for c in w.scenario.companies])
    assert (d.staff_target[:, labs, 0] <= np.maximum(full_research, start[labs]) * 1.0001 + 1).all()
    serve = personas._engineers_to_serve(w, state, state.round + 1)  # the quarter being decided
    most = np.maximum(np.maximum(w.scenario.talent.engineers_for_full_goodput, serve), state.staff[:, :, 1])
    assert (d.staff_target[:, labs, 1] <= most[:, labs] * 1.0001 + 1).all()


def test_a_vendor_keeps_its_research_savings_down_to_the_open_models_limit_price() -> None:
    """Issue 9 (product-builders' talent moat): product-builders' vendor priced wholesale at a markup on its own
    serving cost, so research that cut the cost cut its price, and halving its researchers raised its score 32
    points. A lab whose model leads the open ones now holds its wholesale price at the open models' limit price
    (what a product company's token is worth on open weights, times what buyers pay for the lead): over a game it
    never sells below what open weights cost to serve, and a lab that serves four times as cheaply asks no less."""
    w = world("product-builders")
    vendor = int(np.flatnonzero(w.is_lab)[0])
    seats, bold = scenario_seats(w), np.full(w.n_companies, personas.DEFAULT_AGGRESSIVENESS)
    state, previous = initial_state(w, run_seeds(SEED, 20)), None
    for rnd in range(1, w.scenario.rounds + 1):
        d = personas.decide(w, state, seats, bold, previous)
        leads = state.model_cap[:, vendor] > state.open_capability
        open_cost = market.open_serving_cost(w, rnd)
        assert (d.api_price[leads, vendor] >= open_cost * (1 - 1e-9)).all(), f"round {rnd}"
        if rnd == 4:
            cheaper = personas.decide(w, state.replace(algo=state.algo * 4.0), seats, bold, previous)
            assert (cheaper.api_price[:, vendor] >= d.api_price[:, vendor] * (1 - 1e-9)).mean() >= 0.9
        state, _ = step(w, state, d)
        previous = d


def test_the_limit_price_rises_with_the_models_lead_and_never_raises_a_price_by_itself() -> None:
    """The limit price grows with the lead over the open models as the logit prices capability; a vendor whose
    markup on cost is below last quarter's price keeps last quarter's price (against the market) at most."""
    w = world("product-builders")
    state, _ = persona_game(w, 2, SEED, runs=10)
    lower = personas._fringe_price(w, state, 3)
    higher = personas._fringe_price(w, state.replace(model_cap=state.model_cap + 10.0), 3)
    lab = w.is_lab
    assert (higher[:, lab] > lower[:, lab]).all()
    seats = scenario_seats(w)
    t = personas._trait_arrays(w, seats, state)
    cheap = state.replace(api_price=np.where(lab, 1e-3, 0.0))  # last quarter's price far below the limit
    selling = personas._selling(w, cheap, 3, cheap.model_active, cheap.model_active)
    asked = personas._api_price(w, cheap, t, 3, selling)[:, lab]
    kept = np.maximum(t["api_markup"][:, lab] * selling.cost[:, lab], 1e-3 * w.price_index(3) / w.price_index(2))
    floor = personas._api_cost_floor(w, cheap, 3, selling)[:, lab]
    assert (asked <= np.maximum(kept, floor) * (1 + 1e-9)).all()
