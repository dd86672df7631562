"""Serving: FLOPs follow the active parameters, memory must hold all of them (Mixture of Experts)."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine.rng import run_seeds
from app.engine.rules import market
from app.engine.start import initial_state
from app.engine.world import World
from app.scenario import find_scenario

from .factories import SCENARIO_IDS, world

PEAK = np.array([[1e25]])  # serving FLOPs a quarter
ALGO = np.array([[1.0]])
LAB = np.array([[True]])


def capacity(world: World, memory_gb: float, active_b: float, total_b: float) -> float:
    return float(market.serving_capacity(world, PEAK, np.array([[memory_gb]]), np.array([[active_b]]), np.array([[total_b]]), ALGO, LAB)[0, 0])


def test_a_mixture_of_experts_serves_like_its_active_parameters_when_memory_holds_every_parameter() -> None:
    w = World(find_scenario("frontier-race"))
    moe, dense_small, dense_big = capacity(w, 1e6, 37, 671), capacity(w, 1e6, 37, 37), capacity(w, 1e6, 671, 671)
    assert moe == dense_small
    assert moe > 15 * dense_big


def test_a_fleet_that_cannot_hold_the_whole_model_serves_only_in_proportion() -> None:
    w = World(find_scenario("frontier-race"))
    needed = 671 * w.scenario.compute.serving_bytes_per_param  # GB for one copy of every parameter
    full = capacity(w, needed, 37, 671)
    assert capacity(w, 2 * needed, 37, 671) == full
    assert capacity(w, needed / 4, 37, 671) == full / 4
    assert capacity(w, needed / 4, 37, 37) > capacity(w, needed / 4, 37, 671)



def test_an_api_price_above_the_scenarios_limit_is_never_charged() -> None:
    w = World(find_scenario("product-builders"))
    lab = int(np.flatnonzero(w.is_lab)[0])
    most = market.api_price_limit(w, 1)
    base = np.where(w.is_lab, -1, lab)[None, :]
    ones = np.ones((1, w.n_companies))
    api = market.api_market(w, base, 2 * most * ones, ones, 100.0 * ones, ones, 0.0 * ones, 1)
    assert api.price[0, lab] == most
    assert api.revenue[0, lab] == most * (~w.is_lab).sum()

def test_a_lab_serves_api_customers_on_its_idle_gpus_before_it_pays_the_cloud() -> None:
    w = World(find_scenario("product-builders"))
    lab = int(np.flatnonzero(w.is_lab)[0])
    base = np.where(w.is_lab, -1, lab)[None, :]
    tokens = np.where(w.is_lab, 0.0, 1.0)[None, :]
    args = (w, base, np.full((1, w.n_companies), 1.0), tokens, np.full((1, w.n_companies), 100.0),
            np.ones((1, w.n_companies)))
    idle = market.api_market(*args, np.full((1, w.n_companies), 1e6), 1)
    busy = market.api_market(*args, np.zeros((1, w.n_companies)), 1)
    assert idle.serving_cost[0, lab] == 0.0
    assert busy.serving_cost[0, lab] > 0.0
    assert idle.revenue[0, lab] == busy.revenue[0, lab] > 0.0


def test_a_product_company_without_engineers_can_ship_no_tokens() -> None:
    w = World(find_scenario("product-builders"))
    engineers = np.array([[0.0, 50.0]])
    capacity = market.product_capacity(w, engineers, 1)
    assert capacity[0, 0] == 0.0
    assert capacity[0, 1] == 50.0 * w.scenario.market.product_t_tokens_per_engineer


def test_a_valuation_moves_only_part_of_the_way_to_one_quarters_numbers_and_falls_on_an_incident() -> None:
    from app.engine.rules import finance

    w = World(find_scenario("frontier-race"))
    k = w.scenario.finance.valuation_smoothing
    zero, before, after = np.zeros((1, 1)), np.full((1, 1), 10_000.0), np.full((1, 1), 30_000.0)
    calm = finance.valuation(w, after, before, zero, zero, zero, zero)
    assert calm[0, 0] == 10_000.0 + k * 20_000.0 < 30_000.0
    scandal = finance.valuation(w, after, before, zero, zero, zero, np.ones((1, 1)))
    assert scandal[0, 0] < calm[0, 0]


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_price_held_while_the_market_falls_loses_installed_buyers_as_a_rise_would(scenario_id: str) -> None:
    """The exploit audit: a product company that did nothing kept 90% of its buyers a quarter at 5.7x the
    reference price, because only a rise of its own price shed them; a price held while the market's falls is a
    rise against the market."""
    w = world(scenario_id)
    state = initial_state(w, run_seeds(3, 1))
    rnd = 3
    held = state.prices  # last quarter's prices, unchanged
    followed = held * w.price_index(rnd) / w.price_index(rnd - 1)  # moved with the market
    kept = {}
    for name, price in (("held", held), ("followed", followed)):
        choice = market.choose(w, _offers(state, price, state.model_cap), state.open_capability, rnd, np.zeros(1))
        kept[name], _ = market.staying(w, state.share, state.rationed, choice, held, state.model_cap)
    kept_any = kept["followed"] > 1e-12  # buyers barred by a safety floor leave either way
    assert kept_any.any() and (kept["held"] < kept["followed"] - 1e-12)[kept_any].all()


def _offers(state, price, capability):  # noqa: ANN001, ANN202
    return market.Offers(capability=capability, domain=np.zeros_like(price), safety=np.full_like(state.cash, 60.0),
                         freshness=np.full_like(state.cash, 80.0), brand=state.brand, ecosystem=state.ecosystem, price=price)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_a_better_model_at_a_higher_price_keeps_more_installed_buyers_than_the_rise_alone(scenario_id: str) -> None:
    """The switching-cost audit: every release of a bigger model came with a higher price, and installed buyers
    left it as if the price alone had risen, so a lab with a locked-in base lost more of it the lower the churn.
    Buyers weigh the capability a rise buys as the segment does."""
    w = world(scenario_id)
    state = initial_state(w, run_seeds(3, 1))
    rnd = 3
    risen = state.prices * 1.5 * w.price_index(rnd) / w.price_index(rnd - 1)
    kept = {}
    for name, gain in (("same model", 0.0), ("better model", 10.0)):
        capability = state.offer_capability + gain
        choice = market.choose(w, _offers(state, risen, capability), state.open_capability, rnd, np.zeros(1))
        kept[name], _ = market.staying(w, state.share, state.rationed, choice, state.prices, state.offer_capability)
    some = kept["same model"] > 1e-12
    assert some.any() and (kept["better model"] > kept["same model"] * (1 + 1e-6))[some].all()


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_buyers_who_leave_a_rise_or_were_rationed_choose_again_and_none_are_lost(scenario_id: str) -> None:
    """A buyer who leaves an offer (a rise, or a seller that could not serve it) chooses again among every offer
    and the outside option: the installed shares and the outside option's still add up to the whole segment, and
    the other offers gain what the rise shed."""
    w = world(scenario_id)
    state = initial_state(w, run_seeds(3, 1))
    rnd = 3
    followed = state.prices * w.price_index(rnd) / w.price_index(rnd - 1)
    first = np.zeros_like(followed)
    first[:, 0] = 1.0  # the first company triples its price
    risen = followed * (1.0 + 2.0 * first)
    rationed = np.full((1, w.n_segments), 0.05)
    previous = state.share * 0.95  # last quarter, 5% of each segment's buyers could not be served
    shares = {}
    for name, price in (("held", followed), ("risen", risen)):
        choice = market.choose(w, _offers(state, price, state.offer_capability), state.open_capability, rnd, np.zeros(1))
        kept, choosing = market.staying(w, previous, rationed, choice, state.prices, state.offer_capability)
        installed = market.installed_share(w, previous, rationed, choice, state.prices, state.offer_capability)
        outside = (1 - w.seg_churn) * (1 - previous.sum(axis=1) - rationed) + choosing * choice.outside_probability
        assert np.allclose(installed.sum(axis=1) + outside, 1.0)
        assert (choosing >= w.seg_churn - 1e-12).all()
        shares[name] = installed
    rivals = shares["risen"][:, 1:] - shares["held"][:, 1:]
    assert (shares["risen"][:, 0] < shares["held"][:, 0]).any() and (rivals >= -1e-12).all() and (rivals > 0).any()


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_open_weights_close_in_on_the_best_lab_model_but_stay_a_year_behind_it(scenario_id: str) -> None:
    """Open releases trail the closed frontier by about a year (Epoch AI 2024), and keep improving while it
    does: a fixed ceiling of 72 held them at Llama 3.1 405B's level for the whole game, so how fast they
    improved barely moved the labs' revenue. Faster gains close the gap sooner; they never overtake."""
    w = world(scenario_id)
    lag = w.scenario.market.outside.lag_points
    best = np.array([85.0, 85.0, 60.0])
    previous = np.array([70.0, 80.0, 70.0])
    now = market.open_weight_frontier(w, previous, np.zeros(3), best)
    gain = w.scenario.market.outside.gain_per_round
    assert now[0] == pytest.approx(min(70.0 + gain, 85.0 - lag))  # gains, up to a year behind
    assert now[1] == pytest.approx(80.0) and now[2] == pytest.approx(70.0)  # at or past the gap: holds
    jumped = market.open_weight_frontier(w, previous, np.full(3, 30.0), best)
    assert jumped[0] == pytest.approx(85.0 - lag)  # a release jumps no further than the gap


def _with_frontier_buyers(sc, share: float, capability_weight: float, price_sensitivity: float):  # noqa: ANN001, ANN202
    f = {"share": share, "capability_weight": capability_weight, "price_sensitivity": price_sensitivity}
    frontier = sc.market.frontier_buyers.model_copy(update=f)
    return sc.model_copy(update={"market": sc.market.model_copy(update={"frontier_buyers": frontier})})


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_buyers_who_pay_for_the_best_model_move_share_to_it_at_a_premium_price(scenario_id: str) -> None:
    """market.frontier_buyers: a class of buyers that weighs capability more and price less gives the most capable
    offer more of the buyers at the same prices, and keeps more of them when it charges a premium; the choice is the
    mixture of the classes by their shares, and a class of no buyers changes nothing."""
    sc = find_scenario(scenario_id)
    state = initial_state(World(sc), run_seeds(3, 4))
    capability = state.model_cap.copy()
    best = int(np.argmax(capability[0]))
    capability[:, best] += 10.0  # a clear leader
    premium = state.prices.copy()
    premium[:, best] *= 2.0

    def choose(scen, price):  # noqa: ANN001, ANN202
        return market.choose(World(scen), _offers(state, price, capability), state.open_capability, 2, np.zeros(1))

    plain, none = choose(sc, state.prices), choose(_with_frontier_buyers(sc, 0.0, 3.0, 0.5), state.prices)
    assert np.array_equal(plain.probability, none.probability) and len(none.classes) == 1
    frontier = _with_frontier_buyers(sc, 0.3, 1.6, 0.7)
    mixed = choose(frontier, state.prices)
    rest, payers = mixed.classes
    assert not rest.frontier and payers.frontier and rest.weight == pytest.approx(0.7)
    assert np.allclose(mixed.probability, 0.7 * rest.probability + 0.3 * payers.probability)
    assert np.allclose(rest.probability, plain.probability)
    sells = mixed.eligible[:, best]  # segments whose safety minimum the leader meets
    assert sells.any()
    assert (payers.probability[:, best] > rest.probability[:, best])[sells].all()
    assert (mixed.probability[:, best] > plain.probability[:, best])[sells].all()
    kept_plain = choose(sc, premium).probability[:, best][sells] / plain.probability[:, best][sells]
    kept_mixed = choose(frontier, premium).probability[:, best][sells] / mixed.probability[:, best][sells]
    assert (kept_mixed > kept_plain).all()  # the premium costs the leader fewer buyers


def test_a_lab_serves_only_what_its_engineers_keep_served() -> None:
    """Issue 9 (the fire-everyone exploit): GPUs serve a lab's tokens, but someone must run the service. A lab
    that fired every engineer kept selling its model for three years, and beat its persona in 82% of
    product-builders' games from Vantage AI. Its engineers now bound what it serves
    (`market.lab_t_tokens_per_engineer`), far above what a staffed lab needs."""
    from app.engine.state import ENGINEERS
    from app.engine.step import step

    from .factories import persona_game

    w = world("product-builders")
    lab = int(np.flatnonzero(w.is_lab)[0])
    state, d = persona_game(w, 2, 7, runs=4)
    _, kept = step(w, state, d)
    target = d.staff_target.copy()
    target[:, lab, ENGINEERS] = 0.0
    _, fired = step(w, state, d.replace(staff_target=target))
    assert (kept.served[:, lab].sum(-1) > 0).all()
    assert (fired.served[:, lab].sum(-1) == 0).all()
    per_engineer = market.engineer_capacity(w, np.ones((1, w.n_companies)), 3)[0, lab]
    assert (kept.served[:, lab].sum(-1) < 0.5 * per_engineer * state.staff[:, lab, ENGINEERS]).all()
