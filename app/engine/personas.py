"""Computer-run rivals: strategy personas that decide from what a player could see plus their own
books.

Every persona runs the same decision recipe with its own traits, vectorised over runs and seats,
so a 10,000-game study costs little more than one game. Public inputs about rivals: released
models' capability (the leaderboard), list prices, API prices and market shares.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from app.engine import scaling
from app.engine.arrays import (
    Rows,
    put_last,
    sum_last,
    total_last,
)
from app.engine.decisions import DecisionArrays
from app.engine.rng import Purpose, uniform
from app.engine.rules import compute, data, events, finance, market, talent, training, tuning
from app.engine.start import carried_on, standing_decisions
from app.engine.state import ENGINEERS, SAFETY_STAFF, State
from app.engine.validation import affordable, raise_room, total_spending
from app.engine.world import OPEN_MODEL, World
from app.scenario.schema import HOURS_PER_ROUND, PERSONAS, SECONDS_PER_ROUND

DEFAULT_AGGRESSIVENESS = 0.5
STYLE_SPREAD = 0.15  # each game, each seat's appetites vary by up to +/- this share
SERVING_HEADROOM = 1.15  # capacity planned above last quarter's demand
# a training GPU pays back over the quarters its run's model sells and this many more (the board
# values the model a lab leaves at the end: a quarter's revenue is worth several in valuation)
RETURN_HORIZON = 4.0
REFERENCE_FLEET_GPUS = 1000.0  # a lab with fewer training GPUs sizes a doubling from this many
MIN_SERVING = 0.3  # share of the fleet a lab keeps serving while it trains
SHORT_OF_CAPACITY = 1.02  # demand this far above what a company served: its capacity binds
RENTAL_SUPPLY_SHARE = 0.5  # the most of a GPU type's rental supply one lab asks for in a quarter
PRICE_STEP_UP, PRICE_STEP_DOWN = 1.12, 0.92  # price moves when capacity binds or lies idle
PRICE_PULL = 0.3  # otherwise the price drifts this far towards the persona's target each quarter
PRICE_BAND = (0.6, 2.0)  # a capacity step never takes the price further than this from target
MAX_PRICE_OVER_REFERENCE = 2.0  # the most a persona aims to charge, against the reference price
COMPARABLE_GAP = 5.0  # a rival within this many capability points is a like-for-like offer
DEFENCE_FLOOR = 0.7  # a persona defending its buyers goes no lower than this share of its best
MAX_MARKUP_OVER_COST = 8.0  # and over its cost (DeepSeek reported a 545% margin in 2025: 6.45x)
RAISE_BELOW_RUNWAY, RAISE_TO_RUNWAY = 4.0, 7.0  # quarters of burn: raise at a year's runway
MARKET_WORTH_QUALIFYING = 0.1  # a segment with a tenth of the market's value is worth selling to
SAFETY_MARGIN = 5.0  # points above a segment's minimum safety a persona aims for
SAFETY_GAP_PER_DOUBLING = 10.0  # 10 points short of its safety aim, a persona doubles safety staff
# A safety team is at most a quarter of the technical staff (Anthropic, the most safety-minded lab,
# put roughly that share into alignment, interpretability and red-teaming in 2024) and twice the
# team that reaches full strength (`safety.safety_staff_scale`): the tenth red-teamer finds little.
SAFETY_TEAM_SHARE, SAFETY_TEAM_MOST = 0.25, 2.0
# a product company whose demand falls lets at most a fifth of its engineers go a quarter
ENGINEERS_KEPT = 0.8
COST_FLOOR_MARKUP = 1.05  # no persona prices a token (retail or API) below 5% over what it costs
FEW_RUNS_ALL_PAIRS = 256  # up to this many runs rivals' prices are compared all pairs at once
SWITCHING_HURDLE = 1.15  # a product company changes base model only for 15% more expected profit
EPOCHS_KEPT = 4.0  # passes over its data a persona accepts before buying more (Muennighoff et al.
# 2023: up to ~4 epochs, repeated data is almost as good as unique)
RUN_SIZING_PASSES = 3  # a run's size and its pace (MFU depends on size) agree to ~1% after three
CAPEX_SHARE_OF_CASH = (
    0.25  # most of its cash a persona puts into GPUs in one quarter (at aggressiveness 0.5)
)


@dataclass(frozen=True)
class Traits:
    """What makes a persona itself; every field is a plain number."""

    markup: float  # list price over the profit-maximising price (its best response to rivals)
    pay: float  # pay relative to market
    hiring: float  # headcount growth a quarter
    gpu_appetite: float  # training GPUs bought over those that pay back in the game (1: what pays)
    run_rounds: float  # quarters a pre-training run is sized for
    moe: float  # total / active parameters of new models (1 = dense)
    overtrain: (
        float  # active parameters below compute-optimal, trained on more tokens (cheaper to serve)
    )
    sft_share: float  # share of revenue spent on SFT
    safety_share: float  # share of revenue spent on safety tuning
    safety_target: float  # safety level it will pay to reach
    marketing_share: float
    retrieval: float  # 1 = serves with RAG
    license_share: float  # share of new data it licenses rather than scrapes
    synthetic: float  # share of data gaps it fills with synthetic tokens
    reserve_rounds: float  # quarters of costs it keeps in cash
    api_markup: float  # wholesale price over cloud serving cost (DeepSeek reported ~6x in 2025)
    borrow: float  # 1 = prefers debt to equity
    match: float  # share of a like-for-like rival's lower price it matches (0 holds, 1 matches)


TRAITS: dict[str, Traits] = {
    "scale_maximalist": Traits(
        0.71, 1.057, 0.059, 2.0, 3.168, 3, 1, 0.063, 0.058, 60, 0.018, 1, 0.1, 0.6, 2, 6, 0, 0.54
    ),
    "fast_follower": Traits(
        0.82, 1.147, 0.036, 1.0, 1.376, 5.34, 3.76, 0.097, 0.07, 55, 0.018, 1, 0.3, 0.2, 3, 5, 0,
        0.8
    ),
    "safety_first": Traits(
        0.83, 1.172, 0.08, 0.5, 0.8, 1, 1, 0.073, 0.1, 90, 0.054, 1, 0.5, 0, 3, 7, 0, 0.88
    ),
    "price_disruptor": Traits(
        0.66, 1.183, 0.08, 1.0, 0.8, 8, 3.46, 0.074, 0.068, 55, 0.003, 0, 0.1, 0.4, 3, 5.36, 0,
        0.9
    ),
    "incumbent": Traits(
        0.78, 1.3, 0.016, 1.0, 0.8, 2.26, 1, 0.01, 0.09, 60, 0.06, 1, 0.5, 0.2, 3, 6, 1, 1
    ),
    "idle": Traits(1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0),
}
assert set(TRAITS) == set(PERSONAS)


def persona_index(name: str) -> int:
    return PERSONAS.index(name)


_TABLE = np.array(
    [[getattr(TRAITS[p], f.name) for f in fields(Traits)] for p in PERSONAS]
)  # (persona, trait)


def _trait_arrays(world: World, seats: np.ndarray, state: State) -> dict[str, np.ndarray]:
    """(R,C) trait values for each seat's persona, with a per-game style wobble on appetites, and
    the traits that weigh prices per segment (R,C,S: `markup_by_segment`, `match_by_segment`).
    Every array is laid out in full (not broadcast: arithmetic with a broadcast one is several
    times slower), worked out once for a game's (or a batch of games') seeds and read-only."""

    def build() -> dict[str, np.ndarray]:
        full = np.tile(_TABLE[seats].T[:, None, :], (1, state.runs, 1))  # (F,R,C)
        out = {f.name: full[i] for i, f in enumerate(fields(Traits))}
        wobble = 1.0 + STYLE_SPREAD * (
            2.0 * uniform(state.seeds, 0, np.arange(seats.size), Purpose.PERSONA_STYLE) - 1.0
        )
        for name in ("hiring", "gpu_appetite", "sft_share", "marketing_share"):
            out[name] = out[name] * wobble
        for name in ("markup", "match"):
            out[f"{name}_by_segment"] = np.repeat(out[name][:, :, None], world.n_segments, axis=2)
        for a in out.values():
            a.setflags(write=False)
        return out

    # keyed by the table too: bench/tune_balance.py rewrites it between games
    key = ("traits", seats.tobytes(), _TABLE.tobytes(), state.seeds.tobytes())
    return world.layout(state.runs).keep(key, build)


def decide(
    world: World,
    state: State,
    seats: np.ndarray,
    aggressiveness: np.ndarray,
    previous: DecisionArrays | None,
) -> DecisionArrays:
    """Every seat's persona decision for the next round (R,C); never invalid."""
    return settle(
        world,
        state,
        seats,
        fit(world, state, seats, plan(world, state, seats, aggressiveness)),
        previous,
    )


def plan(
    world: World, state: State, seats: np.ndarray, aggressiveness: np.ndarray
) -> DecisionArrays:
    """What every seat's persona would like to do next round (R,C), before it is fitted to its
    means."""
    t = _trait_arrays(world, seats, state)
    a = 0.5 + np.broadcast_to(aggressiveness, (state.runs, seats.size))  # 0.5 .. 1.5
    rnd = state.round + 1
    lab = world.layout(state.runs).lab  # laid out in full: cheaper to combine with (R,C)
    serving_share, buy, rent, run, data_buy, selling = _compute_and_training(world, state, t, a,
                                                                             rnd)
    api_price = np.where(lab, _api_price(world, state, t, rnd, selling), 0.0)
    vendor = _base_model(world, state, rnd)
    price = _prices(world, state, t, a, rnd, api_price, vendor, selling)
    # Bound by last quarter's customers, a lab lowers its wholesale price before raising retail
    # (raising retail, the mixed ecosystem's incumbent priced itself out in round 1 and won 1% of
    # games, not 23%).
    if market.squeeze_applies(world):
        price, api_price = market.lawful_offer(world, price, api_price,
                                               _api_cost_floor(world, state, rnd, selling),
                                               state.base, rnd)
    revenue = np.maximum(state.revenue, 1.0)
    sft = _sft(world, state, t, a, revenue)
    target_safety = np.maximum(t["safety_target"], _safety_the_market_asks(world, rnd)) * (
        t["safety_target"] > 0
    )
    safety_gap = np.maximum(target_safety - tuning.safety_now(world, state), 0.0)
    safety = np.where(
        safety_gap > 0,
        t["safety_share"] * revenue * (1.0 + safety_gap / 20.0),
        0.2 * t["safety_share"] * revenue,
    )
    staff_target = state.staff * (1.0 + t["hiring"] * a)[:, :, None]
    staff_target[:, :, 0] *= lab  # product companies keep research tiny
    staff_target = _no_idle_talent(world, state, staff_target, rnd)
    staff_target[:, :, 1] = _product_engineers(world, state, staff_target[:, :, 1], rnd)
    staff_target[:, :, SAFETY_STAFF] = _safety_staff(world, state, staff_target, safety_gap)
    return standing_decisions(  # what the plan leaves out stands
        world,
        state,
        buy=buy,
        rent=rent,
        serving_share=np.where(lab, serving_share, world.scenario.compute.default_serving_share),
        staff_target=staff_target,
        pay=t["pay"] * np.ones_like(a),
        data_buy=data_buy,
        start_run=run["start"],
        run_total=run["total"],
        run_active=run["active"],
        run_tokens=run["tokens"],
        sft=sft,
        safety=safety,
        rag=t["retrieval"] * np.ones_like(a),
        price=price,
        api_price=api_price,
        marketing=t["marketing_share"] * a * revenue,
        base=vendor,
    )


def _safety_the_market_asks(world: World, rnd: int) -> float:
    """The safety level a team reads off the scenario and the news: enough to sell in every
    segment that brings at least MARKET_WORTH_QUALIFYING of the market's value at reference prices,
    with a margin, and to stay there once a regulation announced for a round (a scheduled event)
    applies, from the start of the game until it lapses. (Aiming for today's minimum, the
    trust-and-safety scenario's safety-first lab fell short of the round-5 regulation's, and a
    seat that doubled its safety staff every quarter won 78% of games from it.)"""
    value = world.seg_volume * world.seg_ref_price
    worth = value >= MARKET_WORTH_QUALIFYING * value.sum()
    announced = max((e.magnitude for e in world.scenario.events
                     if e.kind == "regulation" and e.round is not None
                     and rnd < e.round + e.duration), default=0.0)
    return float(np.max(np.where(worth, world.seg_min_safety, 0.0))) + announced + SAFETY_MARGIN


def fit(world: World, state: State, seats: np.ndarray, planned: DecisionArrays) -> DecisionArrays:
    """A plan fitted to each persona's means: it asks for no more data than its pools still hold (as
    a team's form refuses a crawl beyond the web), keeps its own cash reserve and finances the gap
    its own way. (Financing a crawl of 1,000T tokens that the pools cut to what they held, a
    product company raised $2B it never spent, and the runway won it games.)"""
    planned = planned.replace(
        data_buy=data.within_pools(state.data, state.data_pool, planned.data_buy))
    traits = _trait_arrays(world, seats, state)
    reserve, prefers_debt = traits["reserve_rounds"], traits["borrow"] > 0.5
    total = total_spending(world, planned)  # financing does not change what the plan spends
    planned = _fundraise(world, state, planned, prefers_debt, total)
    return affordable(world, state, planned, reserve, prefers_debt, total)


def _fundraise(world: World, state: State, planned: DecisionArrays,
               prefers_debt: np.ndarray, total: np.ndarray) -> DecisionArrays:
    """A company burning cash raises before it runs short, as labs raise a round every year or so:
    once its cash covers fewer than RAISE_BELOW_RUNWAY quarters of its operating burn (and this
    quarter's GPU orders), it raises (or, if it prefers debt, borrows) enough for RAISE_TO_RUNWAY
    quarters, within what investors and lenders allow. The burn counts the staff it has, not the
    staff it hopes to hire; GPU orders count once, as they are paid once (counting them every
    quarter would make a lab that spends a share of its cash raise without end). `total` is the
    plan's `total_spending`."""
    staff_now = talent.staff_cost(world, state.staff, planned.pay, events.no_shocks(state.runs))
    capex = sum_last(planned.buy, world.gpu_price_musd)
    burn = np.maximum(total - capex + staff_now - state.revenue, 0.0)
    short = (burn > 0) & (state.cash < RAISE_BELOW_RUNWAY * burn + capex)
    want = np.where(short, np.maximum(RAISE_TO_RUNWAY * burn + capex - state.cash, 0.0), 0.0)
    room_debt = finance.debt_room(world, state.revenue, state.ppe, state.debt)
    borrow = np.where(prefers_debt, np.minimum(want, room_debt), 0.0)
    equity = np.minimum(want - borrow, raise_room(world, state))
    return planned.replace(
        borrow=np.maximum(planned.borrow, borrow),
        raise_equity=np.maximum(planned.raise_equity, equity),
    )


def settle(
    world: World,
    state: State,
    seats: np.ndarray,
    fitted: DecisionArrays,
    previous: DecisionArrays | None,
) -> DecisionArrays:
    """The fitted decisions, except that idle seats carry on (or stand still before their first
    decision)."""
    idle = seats == persona_index("idle")
    if not idle.any():
        return fitted
    standing = carried_on(previous) if previous is not None else standing_decisions(world, state)
    return standing.where(np.broadcast_to(idle, (state.runs, seats.size)), fitted)


def _prices(
    world: World, state: State, t: dict[str, np.ndarray], a: np.ndarray, rnd: int,
    api_price: np.ndarray, vendor: np.ndarray, selling: Selling,
) -> np.ndarray:
    """List price: the persona's markup on the price that maximises its profit in each segment
    (its best response to rivals' prices, read from the share of last quarter's choosing buyers
    they left it: a rival's price cut takes share, which makes demand more elastic and lowers
    the best response, so a cut is answered in part, never matched down to cost), more when
    capacity binds, less when it lies idle, and never more than a step (PRICE_STEP_UP) above last
    quarter's price against the market: a rise sheds installed buyers. The share is of the
    buyers choosing (new and churning), not the installed base: a seller's price moves those
    buyers, and an incumbent whose installed share exceeds what buyers now choose would read its
    demand as too inelastic, price too high and hand an undercutter its market. A lab's cost
    counts the wholesale margin its retail buyers would have earned it through product companies
    (`_forgone_wholesale`), and it never squeezes those companies' margin
    (`market.squeeze_floor`)."""
    cost = _offer_cost(world, state, rnd, vendor, selling.cost)
    forgone = _forgone_wholesale(world, state, rnd, api_price, vendor, selling)
    ref = world.reference_prices(rnd, state.runs)  # (R,C,S) laid out in full
    best = best_response_price(world, state.choice_share, cost[:, :, None] + forgone, rnd) / ref
    target = t["markup_by_segment"] * best / np.sqrt(a)[:, :, None]
    short = _short(state)
    most = np.where(world.layout(state.runs).lab, 0.9, 1.0)
    can_serve = market.serving_capacity(
        world,
        compute.peak_flops(world, state.gpus) * most,
        compute.memory_gb(world, state.gpus) * most,
        state.model_active,
        state.model_total,
        state.algo,
        world.layout(state.runs).lab,
        market.engineer_capacity(world, state.staff[:, :, ENGINEERS], rnd),
    )
    idle = ~state.run_on & (state.demand < 0.5 * can_serve)  # a training lab's spare GPUs train
    last = state.prices / world.reference_prices(max(rnd - 1, 1), state.runs)
    up = last * PRICE_STEP_UP
    markup = last + PRICE_PULL * (target - last)
    stepping = Rows(short | idle)  # a step never takes the price out of the band
    if stepping.index.size:
        steps = np.where(stepping.take(short)[:, None], stepping.take(up),
                         stepping.take(last) * PRICE_STEP_DOWN)
        aim = stepping.take(target)
        markup.reshape(-1, markup.shape[2])[stepping.index] = np.clip(
            steps, PRICE_BAND[0] * aim, PRICE_BAND[1] * aim)
    markup = np.minimum(_defend(state, t, last, markup, target), up)
    most = _offer_cost(world, state, rnd, vendor, selling.most_cost)
    # never below the competition-law floor for the product companies it expects on its model,
    # whether or not the scenario enforces it (a persona does not squeeze its customers)
    lawful = market.squeeze_floor(world, api_price, vendor, rnd)
    floor = np.maximum(COST_FLOOR_MARKUP * most, lawful)
    return np.maximum(ref * markup, floor[:, :, None])


def _forgone_wholesale(world: World, state: State, rnd: int, api_price: np.ndarray,
                       vendor: np.ndarray, selling: Selling) -> np.ndarray:
    """What a lab gives up on each retail token it sells (R,C,S, $ per M tokens): the wholesale
    margin on the product companies' buyers it takes. Under the logit a seller's price cut draws
    buyers from each rival in proportion to that rival's share (the diversion ratio share_j /
    (1 - share_me)), so a lab selling retail forgoes its wholesale margin times the share of the
    choosing buyers held by product companies on its model, over the share it does not hold.
    Priced in, this margin keeps a lab from undercutting the companies it lives on, as far as
    they earn it more than its own buyers would; a lab without such customers forgoes
    nothing."""
    channels = _channels(world)
    if not channels:
        return np.zeros(state.choice_share.shape)
    theirs = np.zeros(state.choice_share.shape)  # (R, lab, S): its customers' share
    for lab, c in channels:
        theirs[:, lab] += (vendor[:, c] == lab)[:, None] * state.choice_share[:, c]
    diversion = np.clip(theirs / np.maximum(1.0 - state.choice_share, 1e-9), 0.0, 1.0)
    margin = np.maximum(api_price - selling.cost, 0.0) * world.layout(state.runs).lab
    return margin[:, :, None] * diversion


def _channels(world: World) -> list[tuple[int, int]]:
    """Every (lab, product company) pair: the product company may build on the lab's model."""
    return [(int(lab), int(c)) for lab in np.flatnonzero(world.is_lab)
            for c in np.flatnonzero(~world.is_lab)]


def _short(state: State) -> np.ndarray:
    """(R,C) whether a company's capacity bound last quarter: it was asked for more than
    SHORT_OF_CAPACITY times what it served."""
    return state.demand > SHORT_OF_CAPACITY * state.served


def _defend(state: State, t: dict[str, np.ndarray], last: np.ndarray, markup: np.ndarray,
            target: np.ndarray) -> np.ndarray:
    """A persona defends its buyers against a like-for-like rival's lower price (R,C,S markups on
    the reference): it closes its `match` share of the gap to the cheapest rival within
    COMPARABLE_GAP capability points, but never below DEFENCE_FLOOR of its best response. Hold (0)
    or match (1): an undercutter that keeps cutting meets defenders that stop at a margin while
    it sells below cost."""
    cap = market.base_of(state.base, state.model_cap, state.open_capability)
    lowest = _lowest_rival(cap, last)  # cheapest like-for-like rival in each segment
    gap = np.maximum(markup - np.maximum(lowest, DEFENCE_FLOOR * target), 0.0)
    return markup - t["match_by_segment"] * gap


def best_response_price(world: World, share: np.ndarray, cost: np.ndarray, rnd: int) -> np.ndarray:
    """The profit-maximising price in each segment (R,C,S, $ per M tokens) of a seller with this
    share and this cost per token (R,C, or R,C,S by segment), under the market's logit demand:
    the elasticity a seller faces is price_sensitivity x (1 - share), and price = cost x e /
    (e - 1). Where demand is nearly inelastic (a large share) the markup is held to
    MAX_MARKUP_OVER_COST, and any price to MAX_PRICE_OVER_REFERENCE: the price rises a step at a
    time until buyers leave."""
    ceiling = MAX_PRICE_OVER_REFERENCE * world.reference_prices(rnd, share.shape[0])
    by_segment = cost if cost.ndim == 3 else cost[:, :, None]
    return np.minimum(by_segment * _over_cost(world, share), ceiling)


def _over_cost(world: World, share: np.ndarray) -> np.ndarray:
    """The profit-maximising price over cost (R,C,S) of sellers with these shares of their
    segments' choosing buyers: e / (e - 1) for the elasticity e = price_sensitivity x (1 - share),
    at most MAX_MARKUP_OVER_COST."""
    sens = world.layout(share.shape[0]).seg_price_sens  # laid out in full
    if sens.shape != share.shape:  # some companies only (product companies choosing a vendor)
        sens = world.seg_price_sens
    e = sens * (1.0 - np.clip(share, 0.0, 1.0))
    most = MAX_MARKUP_OVER_COST
    return np.where(e > most / (most - 1.0), e / np.maximum(e - 1.0, 1e-9), most)


def _lowest_rival(cap: np.ndarray, last: np.ndarray) -> np.ndarray:
    """(R,C,S) the lowest of `last` among each company's rivals within COMPARABLE_GAP capability
    points of it (inf without any). One rival at a time, with runs along the fast axis: the same
    minimum as over an (R, me, rival, S) array, without building it (but for a few runs, where
    that array is small and one step)."""
    if cap.shape[0] <= FEW_RUNS_ALL_PAIRS:
        comparable = cap[:, None, :] >= cap[:, :, None] - COMPARABLE_GAP  # (R, me, rival)
        rival = comparable & ~np.eye(cap.shape[1], dtype=bool)[None]
        return np.where(rival[..., None], last[:, None, :, :], np.inf).min(axis=2)
    by_run = np.ascontiguousarray(last.transpose(1, 2, 0))  # (rival, S, R)
    cap_t = np.ascontiguousarray(cap.T)  # (C, R)
    least = cap_t - COMPARABLE_GAP  # the lowest capability a rival of each company may have
    lowest = np.full(by_run.shape, np.inf)  # (me, S, R)
    for j in range(cap.shape[1]):
        rival = cap_t[j] >= least  # (me, R): j is comparable to me
        rival[j] = False
        np.minimum(lowest, by_run[j], out=lowest, where=rival[:, None, :])
    return np.ascontiguousarray(lowest.transpose(2, 0, 1))


def _cost_per_m_tokens(world: World, state: State, rnd: int, vendor: np.ndarray,
                       selling: np.ndarray) -> np.ndarray:
    """What a million more tokens of its offer cost each company to serve ($, R,C): a lab's own
    model on cloud GPUs (the model of `selling` billion active parameters it will sell this
    quarter); a product company's bill from `vendor` (the lab or open weights it will
    build on this quarter) and the engineers those tokens take (its capacity is its engineers);
    retrieval on top."""
    return _offer_cost(world, state, rnd, vendor, _cloud_cost(world, selling, state.algo, rnd))


def _offer_cost(world: World, state: State, rnd: int, vendor: np.ndarray,
                own: np.ndarray) -> np.ndarray:
    """`_cost_per_m_tokens` given `own`, what a token of the lab's own model costs on cloud GPUs
    (a `Selling` cost)."""
    rag = world.scenario.market.rag_cost_per_m_tokens * world.price_index(rnd)
    if world.all_labs:  # every company sells its own model
        return own + state.rag * rag
    bill = np.where(
        vendor == OPEN_MODEL,
        market.open_serving_cost(world, rnd),
        market.base_of(vendor, state.api_price, state.open_capability),
    )
    engineers = market.engineers_per_m_tokens(world, rnd)
    per_token = np.where(world.layout(state.runs).lab, own, bill + engineers)
    return per_token + state.rag * rag


def _api_price(world: World, state: State, t: dict[str, np.ndarray], rnd: int,
               selling: Selling) -> np.ndarray:
    """Wholesale price: the persona's markup on what serving a token of the model it expects to
    sell this quarter costs the lab, but no lower than the open models' limit price
    (`_fringe_price`) or last quarter's price against the market, whichever is lower: a saving
    is kept as margin, not passed on below what the product companies' alternative is worth
    (halving product-builders' vendor's researchers raised its score 32 points when it was). No
    more than the market will bear: a product company selling at the market's reference price
    must still expect more profit on the lab's model than on open weights, within the
    scenario's limit; never below the cost floor. It reads the reference, not the product
    companies' own prices, which follow the wholesale price (reading them would spiral both
    down)."""
    cost = selling.cost
    retail = float(world.reference_price(rnd).mean())
    lead = np.exp(-_capability_pull(world) * (state.model_cap - state.open_capability[:, None]))
    competitive = retail - SWITCHING_HURDLE * lead * np.maximum(
        retail - market.open_serving_cost(world, rnd), 0.0
    )
    bearable = np.minimum(competitive, market.api_price_limit(world, rnd))
    # the limit is no reason to raise the price against the market: a wholesale price that rose
    # to it drove product companies back and forth between labs every quarter
    last = state.api_price * (world.price_index(rnd) / world.price_index(max(rnd - 1, 1)))
    fringe = _fringe_price(world, state, rnd)
    held = np.where(last > 0, np.minimum(fringe, last), fringe)
    asked = np.maximum(t["api_markup"] * cost, held)
    return np.maximum(np.minimum(asked, bearable), _api_cost_floor(world, state, rnd, selling))


def _fringe_price(world: World, state: State, rnd: int) -> np.ndarray:
    """The wholesale price ($ per M tokens, R,C) at which a product company's token on the lab's
    model is worth what one on open weights is: open weights served on rented GPUs plus the
    engineers either takes, times the price ratio buyers pay for the lab's capability lead
    (under the logit, exp(pull x lead / price sensitivity)), less the engineers. A lab whose
    serving costs fall below the open models' does not pass the saving on below this limit
    price (a dominant firm against a competitive fringe): its research and its better model earn
    it a margin, not its customers."""
    engineers = market.engineers_per_m_tokens(world, rnd)
    worth = _lead_worth(world, np.maximum(state.model_cap - state.open_capability[:, None], 0.0))
    return (market.open_serving_cost(world, rnd) + engineers) * worth - engineers


def _lead_worth(world: World, lead: np.ndarray) -> np.ndarray:
    """The price ratio buyers pay for `lead` capability points at the same share: the logit's
    pull of capability over its push of price, exp(pull x lead / price sensitivity)."""
    sens = float(np.average(world.seg_price_sens, weights=world.seg_volume))
    return np.exp(_capability_pull(world) * lead / sens)


def _wholesale_revenue(world: World, state: State) -> np.ndarray:
    """(R,C) what each lab sold wholesale last quarter ($M): the tokens the product companies on
    its model served, at its wholesale price."""
    return market.sold_through(world, state.base, state.served) * state.api_price


def _api_cost_floor(world: World, state: State, rnd: int, selling: Selling) -> np.ndarray:
    """The least a lab asks wholesale ($ per M tokens, R,C): its cost floor on the most it could
    serve."""
    return COST_FLOOR_MARKUP * selling.most_cost


def _safety_staff(world: World, state: State, target: np.ndarray,
                  safety_gap: np.ndarray) -> np.ndarray:
    """Safety staff a persona aims for (R,C): a safety gap is closed with people as well as tuning,
    red-teamers scaling with the gap (SAFETY_GAP_PER_DOUBLING), but never past the team a company
    of its size keeps (SAFETY_TEAM_SHARE of its technical staff) or the point where more people
    find little (SAFETY_TEAM_MOST teams at full strength); it lays no one off to get there."""
    wanted = target[:, :, SAFETY_STAFF] * (1.0 + safety_gap / SAFETY_GAP_PER_DOUBLING)
    technical = target[:, :, 0] + target[:, :, 1]
    most = np.minimum(SAFETY_TEAM_SHARE * technical,
                      SAFETY_TEAM_MOST * world.scenario.safety.safety_staff_scale)
    return np.minimum(wanted, np.maximum(most, state.staff[:, :, SAFETY_STAFF]))


def _no_idle_talent(world: World, state: State, staff_target: np.ndarray,
                    rnd: int) -> np.ndarray:
    """A lab hires researchers and engineers only up to the team that earns the full algorithmic
    gain and the full training goodput (`scaling.researchers_for_full_gain`,
    `talent.engineers_for_full_goodput`) and the engineers its demand needs: beyond them a hire
    adds nothing but pay. It keeps the staff it has. (Growing its teams by its hiring rate
    whatever they added, the product-builders' vendor paid $1.1B a year for teams that earned
    less than firing them all.)"""
    sc = world.scenario
    full = np.array([sc.scaling.researchers_for_full_gain, sc.talent.engineers_for_full_goodput])
    most = np.maximum(full, state.staff[:, :, :2])
    out = staff_target.copy()
    out[:, :, :2] = np.minimum(staff_target[:, :, :2], most)
    # and the engineers that keep next quarter's demand served (a lab without them serves nothing)
    out[:, :, ENGINEERS] = np.maximum(out[:, :, ENGINEERS],
                                      _engineers_to_serve(world, state, rnd))
    return out


def _engineers_to_serve(world: World, state: State, rnd: int) -> np.ndarray:
    """(R,C) engineers that ship and support last quarter's demand, grown with the market and with
    headroom, at what an engineer supports in round `rnd` (`market.engineer_capacity`)."""
    growth = 1.0 + float(np.average(world.seg_growth, weights=world.seg_volume))
    per_engineer = market.engineer_capacity(world, np.ones_like(state.revenue), rnd)
    return SERVING_HEADROOM * growth * state.demand / per_engineer


def _product_engineers(
    world: World, state: State, engineers: np.ndarray, rnd: int
) -> np.ndarray:
    """A product company keeps the engineers last quarter's demand needs, grown and with headroom
    (its capacity is its engineers), shrinking by at most ENGINEERS_KEPT a quarter when demand
    falls; labs keep their planned headcount. (Growing its team by its hiring rate whatever the
    demand, a creative-tools company ended with twice the engineers its buyers needed.)"""
    needed = _engineers_to_serve(world, state, rnd)
    kept = ENGINEERS_KEPT * state.staff[:, :, ENGINEERS]
    return np.where(world.layout(state.runs).lab, engineers, np.maximum(needed, kept))


def _capability_pull(world: World) -> float:
    """Utility per capability point, averaged over segments by size."""
    return float(np.average(market.capability_utility(world), weights=world.seg_volume))


def _base_model(world: World, state: State, rnd: int) -> np.ndarray:
    """Product companies pick the vendor (or open weights) that promises the most profit, each
    priced as the company would price on it: its best response (`best_response_price`) to its cost
    a token there (the vendor's wholesale price, or open weights served on rented GPUs, and its
    engineers), weighed as buyers weigh an offer of that capability at that price (the logit's
    pull of capability and push of price) times the margin. (Reading the margin off its current
    price, a company that priced low could never afford a better vendor, and one priced 30x for a
    quarter moved to the best lab and stayed there, winning more often.)"""
    lab = world.is_lab
    if lab.all():
        return state.base.copy()
    engineers = market.engineers_per_m_tokens(world, rnd)
    cost = np.concatenate([state.api_price, np.full((state.runs, 1),
                                                     market.open_serving_cost(world, rnd))],
                          axis=1) + engineers  # (R, vendor + open)
    cap = np.concatenate([state.model_cap, state.open_capability[:, None]], axis=1)
    sells = np.concatenate([np.broadcast_to(lab, state.api_price.shape),
                            np.ones((state.runs, 1), dtype=bool)], axis=1)
    ref = world.reference_price(rnd)
    buyers = np.flatnonzero(~lab)  # only product companies build on a vendor
    over_cost = _over_cost(world, state.choice_share[:, buyers])  # (R, buyer, S)
    price = np.minimum(cost[:, None, :, None] * over_cost[:, :, None, :],
                       MAX_PRICE_OVER_REFERENCE * ref)  # (R, buyer, vendor, S)
    pull = market.capability_utility(world) * cap[:, None, :, None]
    push = world.seg_price_sens * np.log(price / ref)
    value = sum_last(np.exp(pull - push) * (price - cost[:, None, :, None]), world.seg_volume)
    value = np.where(sells[:, None, :], value, -np.inf)  # (R, buyer, vendor)
    choice = value.argmax(axis=2)
    best = np.take_along_axis(value, choice[:, :, None], axis=2)[:, :, 0]
    base = state.base[:, buyers]
    current = np.take_along_axis(
        value, np.where(base >= 0, base, cost.shape[1] - 1)[:, :, None], axis=2)[:, :, 0]
    stay = current * SWITCHING_HURDLE >= best  # switching costs integration work: a clear gain
    out = state.base.copy()
    out[:, buyers] = np.where(stay, base, np.where(choice == cost.shape[1] - 1, OPEN_MODEL,
                                                   choice))
    return out


def _sft(
    world: World, state: State, t: dict[str, np.ndarray], a: np.ndarray, revenue: np.ndarray
) -> np.ndarray:
    """SFT budget spread over segments by their value, leaning to where skill is still cheap to
    gain."""
    seg_value = (
        world.segment_volume(state.round + 1)
        * world.reference_price(state.round + 1)
        * (world.seg_weights[:, 1] + 0.1)
    )
    skill = tuning.domain_skill(world, state.sft)
    weight = seg_value * (1.0 - skill / 100.0)
    weight = weight / np.maximum(total_last(weight)[:, :, None], 1e-9)
    return (t["sft_share"] * a * revenue + 1.0 * (t["sft_share"] > 0))[:, :, None] * weight


def _best_gpu(world: World, state: State, rnd: int,
              price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R,C) index of the GPU with the most FLOP/s per dollar of `price` (G,: to buy or to rent)
    each company may have (export controls included: the rule its orders are checked against), and
    whether it may have any. A run matters only through whether new controls are in force, so the
    choice is made for both cases (2,C) and each run takes its own."""
    allowed = compute.gpu_allowed(world, rnd, np.array([False, True]))  # (no ban / ban, C, G)
    per_dollar = np.where(allowed, world.gpu_tflops / price, -np.inf)
    ban = events.export_ban_ahead(world, state.events_left).astype(np.intp)
    return (np.take(per_dollar.argmax(axis=-1), ban, axis=0),
            np.take(allowed.any(axis=-1), ban, axis=0))


def _data_buy(
    world: World, state: State, t: dict[str, np.ndarray], tokens_t: np.ndarray, room: np.ndarray
) -> np.ndarray:
    """(R,C,3) scraped, licensed and synthetic tokens a persona buys for a run of `tokens_t`: enough
    to keep the run within EPOCHS_KEPT passes over its data. It generates its synthetic share,
    licenses its licensed share, crawls the rest while the web allows and licenses what it cannot
    crawl; every kind within what its pool still holds (`room`: data.room of its holdings)."""
    gap = np.maximum(tokens_t / EPOCHS_KEPT - sum_last(state.data), 0.0)
    made = np.minimum(gap * t["synthetic"], room[:, :, data.SYNTHETIC])
    crawl = np.minimum((gap - made) * (1.0 - t["license_share"]), room[:, :, data.SCRAPED])
    deals = np.minimum(gap - made - crawl, room[:, :, data.LICENSED])
    return np.stack([crawl, deals, made], axis=-1)


def _compute_and_training(
    world: World, state: State, t: dict[str, np.ndarray], a: np.ndarray, rnd: int
):
    """Serving share, GPU orders, a new run if none is going, and the data that run needs."""
    sc, lab = world.scenario, world.layout(state.runs).lab
    peak = compute.peak_flops(world, state.gpus)
    on_order: np.ndarray | float = 0.0  # GPUs of each type still in the pipeline (R,C,G)
    if state.pipeline.shape[2]:
        ordered = state.pipeline.sum(axis=2)
        on_order, fleet_peak = ordered, peak + compute.peak_flops(world, ordered)
    else:
        fleet_peak = peak + 0.0
    need_serving, serving_share, rent, selling = _serving_plan(world, state, peak, rnd)
    best, can_buy = _best_gpu(world, state, rnd, world.gpu_price_musd)
    best_flops = world.gpu_tflops[best] * 1e12 * SECONDS_PER_ROUND
    rounds_left = sc.rounds - state.round
    trains_again = state.run_on | (rounds_left > t["run_rounds"] + 1)  # else GPUs would sit idle
    unit = np.maximum(world.gpu_price_musd[best], 1e-9)
    cash = np.maximum(state.cash, 0.0)
    # serving GPUs for next quarter's growth, and training GPUs bought with its means: a lab puts
    # its `gpu_appetite` share of its cash into compute each quarter (labs spend what they raise
    # on compute within a year or two), so more capital buys a bigger cluster
    serve_gap = need_serving * (1.0 + sc.market.segments[0].growth_per_round) - fleet_peak
    serve_n = np.maximum(serve_gap, 0.0) / np.maximum(best_flops, 1.0)
    train_n = _training_gpus(world, state, t, fleet_peak, serving_share, best, best_flops,
                             rounds_left, lab & can_buy & trains_again)
    buy_n = (serve_n + train_n) * lab * can_buy
    # a lab raises for GPUs when demand outgrows its fleet or a training fleet pays back
    grows = _short(state) | (train_n > 0)
    means = cash + np.where(
        grows, raise_room(world, state) * np.minimum(t["gpu_appetite"], 1.0), 0.0
    )
    buy_n = np.minimum(buy_n, CAPEX_SHARE_OF_CASH * a * means / unit)
    buy = put_last(best, buy_n, state.gpus.shape[2])

    could = lab & ~state.run_on & (t["run_rounds"] > 0) & (rounds_left > t["run_rounds"])
    rows = Rows(could)  # a lab without a run that has the quarters left to train one
    total_b, active_b, tokens_t = _run_size(
        world,
        rows.take(state.gpus + rent) * rows.take(1.0 - serving_share)[:, None],
        rows.take(state.model_active),
        rows.take(state.staff[:, :, 1]),
        {k: rows.take(t[k]) for k in ("run_rounds", "overtrain", "moe")},
    )
    room = data.room(state.data, state.data_pool)
    bought = _data_buy(world, state, t, rows.put(tokens_t), room)
    held = rows.take(data.after_purchases(state.data, state.data_pool, bought, room))
    _, tokens_eff = training.plan_run(world, total_b, active_b, tokens_t, held)
    new_cap = training.finished_capability(world, total_b, active_b, tokens_t, tokens_eff,
                                           rows.take(state.algo))
    starts = new_cap > rows.take(state.model_cap) + 1.0
    start = rows.put(starts)
    data_buy = bought * start[:, :, None]
    run = {
        "start": start,
        "total": rows.put(np.where(starts, total_b, 0.0)),
        "active": rows.put(np.where(starts, active_b, 0.0)),
        "tokens": rows.put(np.where(starts, tokens_t, 0.0)),
    }
    # a run sized for a quarter or less finishes this quarter: plan serving for its model now, as
    # for a finishing run, renting what the fleet lacks (its training FLOPs stay as sized)
    quick = start & (t["run_rounds"] <= 1.0)
    if quick.any():
        quick_rows = Rows(quick)
        cap = quick_rows.take(rows.put(np.where(starts, new_cap, 0.0)))
        need_new = _serving_need(world, state, np.maximum(run["active"], state.model_active))
        need_new = need_new * _release_lift(world, state, cap, quick_rows)
        rent = rent + _rentals(world, state, np.where(quick, need_new - need_serving, 0.0), rnd,
                               np.maximum(run["active"], state.model_active))
        need_serving = np.where(quick, np.maximum(need_new, need_serving), need_serving)
        fleet = peak + compute.peak_flops(world, rent)
        serving_share = np.where(
            quick, np.clip(need_serving / np.maximum(fleet, 1.0), MIN_SERVING, 1.0), serving_share
        )
        selling = np.where(quick, run["active"], selling)
    # any model it may sell this quarter: the one on sale, a kept one, a new quick run's, or a
    # running one's if the run could finish (a run's pace, or whether its model beats the one on
    # sale, is known only once the quarter is played)
    running = state.run_active * _may_finish(world, state, rent, on_order)
    most = np.maximum(np.maximum(state.model_active, running),
                      np.maximum(run["active"] * quick, state.ready_active * state.ready_on))
    serving_share = np.where(state.run_on | start, serving_share, 1.0)
    return serving_share, buy, rent, run, data_buy, _selling(world, state, rnd, selling, most)


def _training_gpus(world: World, state: State, t: dict[str, np.ndarray], fleet_peak: np.ndarray,
                   serving_share: np.ndarray, best: np.ndarray, best_flops: np.ndarray,
                   rounds_left: int, buys: np.ndarray) -> np.ndarray:
    """(R,C) training GPUs (of type `best`) a lab buys for their return. Capability grows with the
    log of a run's compute, so the last of N training GPUs brings 1/(N ln 2) of what doubling the
    fleet would: the fleet that pays is the one where that share of a doubling's worth equals what
    a GPU costs to own for the rest of the game. A doubling is worth the revenue its capability
    gain wins (the logit's long-run share of the buyers) over the quarters its model will sell and
    RETURN_HORIZON quarters more, scaled by the persona's `gpu_appetite` (1 buys for the return;
    the scale maximalist buys beyond it). The fleet it has or has ordered counts; only the labs
    that `buys` (R,C: may buy GPUs and will train again) are worked out."""
    lab = world.layout(state.runs).lab
    train_now = fleet_peak * (1.0 - serving_share) / np.maximum(best_flops, 1.0)
    rows = Rows(buys & (t["gpu_appetite"] > 0) & (state.revenue > 0))
    if not rows.index.size or rounds_left <= 0:
        return np.zeros(lab.shape)
    n = np.maximum(rows.take(train_now), REFERENCE_FLEET_GPUS)
    kinds = state.gpus.shape[2]

    total_b, active_b, tokens_t = _run_size(
        world, put_last(rows.take(best), n, kinds), rows.take(state.model_active),
        rows.take(state.staff[:, :, 1]),
        {k: rows.take(t[k]) for k in ("run_rounds", "overtrain", "moe")}, passes=1)
    algo = rows.take(state.algo)
    # twice the compute grows a compute-optimal run's parameters by 2^(b/(a+b)) (Hoffmann et al.
    # 2022) and its tokens by the rest
    sc = world.scenario.scaling
    grow = 2.0 ** (sc.beta / (sc.alpha + sc.beta))
    on_sale = rows.take(state.model_cap)
    k = np.array([1.0, grow])[:, None]  # both runs in one call: (2, N)
    tokens = tokens_t * (2.0 / k) ** (k > 1.0)
    now, doubled = training.finished_capability(world, total_b * k, active_b * k, tokens, tokens,
                                                algo)
    gain = np.maximum(doubled - now, 0.0)  # a doubling's capability points
    lift = _release_lift(world, state, on_sale + gain, rows, churn=1.0)
    selling = np.maximum(rounds_left - rows.take(t["run_rounds"]) - 1.0, 0.0) + RETURN_HORIZON
    # less what serving the doubled run's bigger model to more buyers costs a quarter more than
    # the run's own, at cloud rates
    serving = rows.take(state.served) * _cloud_cost(world, active_b, algo, state.round + 1)
    gained = rows.take(state.revenue * (lift - 1.0)) - serving * (grow * rows.take(lift) - 1.0)
    # and its wholesale customers pay the limit price of a better model (`_fringe_price`)
    gained += rows.take(_wholesale_revenue(world, state)) * (_lead_worth(world, gain) - 1.0)
    worth = gained * selling * rows.take(t["gpu_appetite"])
    hours = compute.owned_cost_per_gpu_hour(world)[rows.take(best)] * HOURS_PER_ROUND
    cost = hours * rounds_left / 1e6  # $M to own one for the rest of the game
    target = np.maximum(worth / (np.log(2.0) * cost), n)
    # only a fleet whose run beats the model on sale pays at all
    pays = now + gain * np.log2(target / n) > on_sale + 1.0
    return rows.put(np.where(pays, target - rows.take(train_now), 0.0).clip(0.0))


def _may_finish(world: World, state: State, rent: np.ndarray,
                on_order: np.ndarray | float) -> np.ndarray:
    """(R,C) whether a run in progress could finish this quarter: even with every GPU the lab may
    have (its own, those on order and those it rents) training but the least share that serves,
    and the engineers that keep the most goodput (it may hire them this quarter). Setbacks only
    slow a run, so no run outside this finishes. (A lab that priced on a run's trillion-parameter
    model two quarters before it could be released gave away its buyers.)"""
    fleet = state.gpus + rent + on_order  # on_order: the pipeline's GPUs of each type (or 0)
    most_engineers = np.maximum(state.staff[:, :, 1],
                                world.scenario.talent.engineers_for_full_goodput)
    fastest = Rows(state.run_on).apply(lambda gpus, active, engineers: training.pace(
        world, gpus * (1.0 - MIN_SERVING), active, engineers),
        fleet, state.run_active, most_engineers)
    return state.run_on & (state.run_flops_done + fastest >= state.run_flops_needed)


class Selling(NamedTuple):
    """Active parameters (billions, R,C) of the model a lab expects to sell this quarter (a run
    that finishes in it releases its model), and the most of any model it may sell: it prices on
    the first and never below what a token of the second costs. `cost` and `most_cost` are what a
    million tokens of each cost on cloud GPUs ($, R,C: `_selling`)."""

    expected: np.ndarray
    most: np.ndarray
    cost: np.ndarray
    most_cost: np.ndarray


def _selling(world: World, state: State, rnd: int, expected: np.ndarray,
             most: np.ndarray) -> Selling:
    """What a lab expects to sell and the most it may sell (active parameters), with their costs
    a token on cloud GPUs (`_cloud_cost`), worked out once for the quarter."""
    return Selling(expected, most, _cloud_cost(world, expected, state.algo, rnd),
                   _cloud_cost(world, most, state.algo, rnd))


def _cloud_cost(world: World, active_b: np.ndarray, algo: np.ndarray, rnd: int) -> np.ndarray:
    """What a million tokens of a lab's model of `active_b` billion active parameters cost to
    serve on rented GPUs in round `rnd` ($, any shape): `market.cloud_cost_per_m_tokens`, for a
    model of at least a million parameters."""
    return market.cloud_cost_per_m_tokens(world, np.maximum(active_b, 1e-3), algo, rnd)


def _run_size(world: World, train_gpus: np.ndarray, model_active: np.ndarray,
              engineers: np.ndarray, t: dict[str, np.ndarray],
              passes: int = RUN_SIZING_PASSES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Total and active parameters (billions) and tokens (trillions) of the compute-optimal run
    the training fleet can finish in the persona's `run_rounds`, less active parameters as it
    overtrains and uses MoE (any shape, e.g. rows)."""
    s = world.scenario.scaling
    active_b = np.maximum(model_active, 1.0)  # a first guess: the model it serves
    fleet = training.training_fleet(world, train_gpus, engineers)
    moe = t["moe"] ** s.moe_total_weight
    for _ in range(passes):  # the pace depends on the size, the size on the pace
        budget = training.fleet_pace(world, fleet, active_b) * t["run_rounds"]
        n_opt, _ = scaling.compute_optimal(np.maximum(budget, 1.0), s)
        active_b = n_opt / 1e9 / t["overtrain"] / moe
    tokens_t = budget / (s.flops_per_param_token * active_b * 1e9) / 1e12
    return active_b * t["moe"], active_b, tokens_t


def _serving_plan(world: World, state: State, peak: np.ndarray,
                  rnd: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Serving FLOPs a lab plans for next quarter, the share of its fleet that serves, the GPUs
    it rents for the quarter and the active parameters of the model it will sell (R,C; R,C;
    R,C,G; R,C). It plans for the model it will sell: the one its
    run releases next quarter if the run can still finish with what serving leaves it (a bigger
    model serves fewer tokens per GPU), else the one it sells now. What its own fleet cannot serve
    (without taking the FLOPs of a run in progress) it rents."""
    now = _serving_need(world, state, state.model_active)
    share_now = np.clip(now / np.maximum(peak, 1.0), MIN_SERVING, 1.0)
    running = Rows(state.run_on)  # only a run in progress can finish
    pace = running.apply(lambda gpus, share, active, engineers: training.pace(
        world, gpus * (1.0 - share)[:, None], active, engineers),
        state.gpus, share_now, state.run_active, state.staff[:, :, 1])
    finishing = state.run_on & (state.run_flops_done + pace >= state.run_flops_needed)
    selling = np.where(finishing, state.run_active, state.model_active)
    bigger = _serving_need(world, state, np.maximum(state.run_active, state.model_active))
    ending = Rows(finishing)  # the lift matters only where a run finishes
    bigger = bigger * _release_lift(world, state, training.finished_capability(world, *(
        ending.take(a) for a in (state.run_total, state.run_active, state.run_tokens,
                                 state.run_tokens_eff, state.algo))), ending)
    need = np.where(finishing, bigger, now)
    keep = np.where(state.run_on, peak * (1.0 - share_now), 0.0)  # the run's FLOPs stay with it
    rent = _rentals(world, state, need - (peak - keep), rnd, selling)
    fleet = np.maximum(peak + compute.peak_flops(world, rent), 1.0)
    return need, np.clip(need / fleet, MIN_SERVING, 1.0 - keep / fleet), rent, selling


def _release_lift(world: World, state: State, new_cap: np.ndarray, rows: Rows,
                  churn: np.ndarray | float | None = None) -> np.ndarray:
    """How much more a lab expects to sell next quarter once a model of `new_cap` (N,: one for each
    of `rows`) is on sale (R,C; 1 off the rows): the buyers choosing (the churning share) weigh the
    capability it gains as the segment does, so its share of them rises as the logit says; its
    installed buyers stay."""
    if not rows.index.size:
        return np.ones(rows.shape)
    gain = np.exp(np.maximum(new_cap - rows.take(state.model_cap), 0.0)[:, None]
                  * market.capability_utility(world))  # (N,S)
    p = np.clip(rows.take(state.choice_share), 0.0, 1.0)
    churn = world.seg_churn if churn is None else churn  # 1: once every buyer has chosen again
    lift = 1.0 + churn * (gain / (1.0 - p + p * gain) - 1.0)
    tokens = rows.take(state.share) * world.seg_volume
    return rows.put(total_last(tokens * lift) / np.maximum(total_last(tokens), 1e-12), fill=1.0)


def _serving_need(world: World, state: State, active_b: np.ndarray) -> np.ndarray:
    """Peak FLOPs serving a model of `active_b` billion active parameters next quarter takes
    (R,C): last quarter's demand (buyers turned away included) grown with the market, with
    headroom."""
    cc = world.scenario.compute
    per_token = 2.0 * np.maximum(active_b, 1e-3) * 1e9 / cc.serving_utilisation / state.algo
    growth = 1.0 + float(np.average(world.seg_growth, weights=world.seg_volume))
    tokens = np.maximum(state.demand, state.served) * 1e12 * growth
    return SERVING_HEADROOM * tokens * per_token * world.layout(state.runs).lab


def _rentals(world: World, state: State, missing_peak: np.ndarray, rnd: int,
             active_b: np.ndarray) -> np.ndarray:
    """GPUs a lab rents for the quarter (R,C,G) when even its whole owned fleet cannot serve what
    it plans to: bought GPUs arrive only after the delivery lag, rented ones now. It rents the
    type with the most FLOPs per rental dollar that export controls let it have, only where what
    it earns a token (last quarter's revenue over tokens served) covers serving a token of its
    model of `active_b` on rented GPUs (`_cloud_cost`) with COST_FLOOR_MARKUP
    to spare, and no more than RENTAL_SUPPLY_SHARE of that type's rental supply."""
    best, can_rent = _best_gpu(world, state, rnd, world.gpu_rent_musd_round)
    flops = world.gpu_tflops[best] * 1e12 * SECONDS_PER_ROUND
    earned = state.revenue / np.maximum(state.served, 1e-12)  # $M per trillion: $ per million
    pays = can_rent & (earned >= COST_FLOOR_MARKUP * _cloud_cost(world, active_b, state.algo, rnd))
    wanted = np.minimum(np.ceil(np.maximum(missing_peak, 0.0) / flops),
                        np.floor(RENTAL_SUPPLY_SHARE * world.gpu_rental_supply[best])) * pays
    return put_last(best, wanted, state.gpus.shape[2])


__all__ = [
    "DEFAULT_AGGRESSIVENESS",
    "TRAITS",
    "Traits",
    "decide",
    "fit",
    "persona_index",
    "plan",
    "settle",
]
