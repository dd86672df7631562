"""Computer-run rivals: strategy personas that decide from what a player could see plus their own
books.

Every persona runs the same decision recipe with its own traits, vectorised over runs and seats,
so a 10,000-game study costs little more than one game. Public inputs about rivals: released
models' capability (the leaderboard), list prices, API prices and market shares.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from app.engine import scaling
from app.engine.arrays import max_companies, sum_companies, sum_last
from app.engine.decisions import DecisionArrays
from app.engine.rng import Purpose, uniform
from app.engine.rules import compute, data, finance, market, training, tuning
from app.engine.start import carried_on, standing_decisions
from app.engine.state import State
from app.engine.validation import affordable
from app.engine.world import OPEN_MODEL, World
from app.scenario.schema import PERSONAS, SECONDS_PER_ROUND

DEFAULT_AGGRESSIVENESS = 0.5
STYLE_SPREAD = 0.15  # each game, each seat's appetites vary by up to +/- this share
SERVING_HEADROOM = 1.15  # capacity planned above last quarter's demand
PRICE_STEP_UP, PRICE_STEP_DOWN = 1.12, 0.92  # price moves when capacity binds or lies idle
PRICE_PULL = 0.3  # otherwise the price drifts this far towards the persona's target each quarter
PRICE_BAND = (0.6, 2.0)  # never further than this from the target markup
API_FLOOR_OVER_COST = 1.05  # a lab never sells API access below this multiple of its serving cost
SWITCHING_HURDLE = 1.15  # a product company changes base model only for 15% more expected profit
EPOCHS_KEPT = 4.0  # passes over its data a persona accepts before buying more (Muennighoff et al.
# 2023: up to ~4 epochs, repeated data is almost as good as unique)
CAPEX_SHARE_OF_CASH = (
    0.25  # most of its cash a persona puts into GPUs in one quarter (at aggressiveness 0.5)
)


@dataclass(frozen=True)
class Traits:
    """What makes a persona itself; every field is a plain number."""

    markup: float  # list price as a share of the reference price
    pay: float  # pay relative to market
    hiring: float  # headcount growth a quarter
    gpu_appetite: float  # training fleet growth a quarter
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
    api_markup: float  # wholesale price over cloud cost
    borrow: float  # 1 = prefers debt to equity


TRAITS: dict[str, Traits] = {
    "scale_maximalist": Traits(
        1.15, 1.1, 0.03, 0.20, 3, 3, 1, 0.04, 0.03, 60, 0.01, 1, 0.1, 0.6, 2, 1.4, 0
    ),
    "fast_follower": Traits(
        0.75, 0.95, 0.02, 0.04, 2, 1, 2, 0.08, 0.02, 55, 0.02, 1, 0.3, 0.2, 3, 1.2, 0
    ),
    "safety_first": Traits(
        1.2, 1.1, 0.03, 0.06, 2, 1, 1, 0.05, 0.05, 75, 0.02, 1, 0.5, 0.0, 3, 1.5, 0
    ),
    "price_disruptor": Traits(
        0.6, 0.9, 0.03, 0.10, 0.8, 8, 3, 0.05, 0.02, 55, 0.01, 0, 0.1, 0.4, 3, 1.1, 0
    ),
    "incumbent": Traits(
        1.05, 1.15, 0.03, 0.10, 2, 1, 1, 0.04, 0.03, 60, 0.04, 1, 0.5, 0.2, 3, 1.5, 1
    ),
    "idle": Traits(1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0),
}
assert set(TRAITS) == set(PERSONAS)


def persona_index(name: str) -> int:
    return PERSONAS.index(name)


_TABLE = np.array(
    [[getattr(TRAITS[p], f.name) for f in fields(Traits)] for p in PERSONAS]
)  # (persona, trait)
_FIELD = {f.name: i for i, f in enumerate(fields(Traits))}


def _trait_arrays(world: World, seats: np.ndarray, state: State) -> dict[str, np.ndarray]:
    """(R,C) trait values for each seat's persona, with a per-game style wobble on appetites."""
    per_seat = _TABLE[seats]  # (C,F)
    out = {
        f.name: np.broadcast_to(per_seat[:, i], (state.runs, seats.size))
        for i, f in enumerate(fields(Traits))
    }
    wobble = 1.0 + STYLE_SPREAD * (
        2.0 * uniform(state.seeds, 0, np.arange(seats.size), Purpose.PERSONA_STYLE) - 1.0
    )
    for name in ("hiring", "gpu_appetite", "sft_share", "marketing_share"):
        out[name] = out[name] * wobble
    return out


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
    base = standing_decisions(world, state)
    rnd = state.round + 1
    lab = world.is_lab[None, :]
    price = _prices(world, state, t, a, rnd)
    serving_share, buy, run, data_buy = _compute_and_training(world, state, t, a, rnd)
    revenue = np.maximum(state.revenue, 1.0)
    sft = _sft(world, state, t, a, revenue)
    safety_gap = np.maximum(t["safety_target"] - tuning.safety_now(world, state), 0.0)
    safety = np.where(
        safety_gap > 0,
        t["safety_share"] * revenue * (1.0 + safety_gap / 20.0),
        0.2 * t["safety_share"] * revenue,
    )
    staff_target = state.staff * (1.0 + t["hiring"] * a)[:, :, None]
    staff_target[:, :, 0] *= lab  # product companies keep research tiny
    return base.replace(
        buy=buy,
        serving_share=np.where(lab, serving_share, base.serving_share),
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
        api_price=np.where(lab, _api_price(world, state, t, rnd), 0.0),
        marketing=t["marketing_share"] * a * revenue,
        base=_base_model(world, state, rnd),
    )


def fit(world: World, state: State, seats: np.ndarray, planned: DecisionArrays) -> DecisionArrays:
    """A plan fitted to each persona's means: it keeps its own cash reserve and finances the gap its
    own way."""
    shape = (state.runs, seats.size)
    reserve = np.broadcast_to(_TABLE[seats, _FIELD["reserve_rounds"]], shape)
    prefers_debt = np.broadcast_to(_TABLE[seats, _FIELD["borrow"]] > 0.5, shape)
    return affordable(world, state, planned, reserve, prefers_debt)


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


def _public_capability(world: World, state: State) -> np.ndarray:
    """The leaderboard: capability of what each company sells (R,C)."""
    return market.base_of(state.base, state.model_cap, state.open_capability)


def _best_rival(values: np.ndarray) -> np.ndarray:
    """For each company, the best value among the others (R,C), from the top two."""
    top = max_companies(values, keepdims=True)
    is_top = values == top
    second = max_companies(np.where(is_top, -np.inf, values), keepdims=True)
    alone = sum_companies(is_top.astype(np.float64), keepdims=True) == 1
    return np.where(is_top & alone, second, top)


def _prices(
    world: World, state: State, t: dict[str, np.ndarray], a: np.ndarray, rnd: int
) -> np.ndarray:
    """List price: the persona's markup on the reference, a premium for a lead on rivals, more when
    capacity binds."""
    cap = _public_capability(world, state)
    best_rival = _best_rival(cap)
    lead = np.clip(
        (cap - np.maximum(best_rival, state.open_capability[:, None])) / 100.0, -0.3, 0.3
    )
    target = t["markup"] * (1.0 + lead) / np.sqrt(a)
    short = state.demand > 1.02 * state.served
    most = np.where(world.is_lab, 0.9, 1.0)
    can_serve = market.serving_capacity(
        world,
        compute.peak_flops(world, state.gpus) * most,
        compute.memory_gb(world, state.gpus) * most,
        state.model_active,
        state.model_total,
        state.algo,
        world.is_lab[None, :],
    )
    idle = state.demand < 0.5 * can_serve
    last = state.prices / world.reference_price(max(rnd - 1, 1))
    steered = np.where(
        short[:, :, None],
        last * PRICE_STEP_UP,
        np.where(
            idle[:, :, None],
            last * PRICE_STEP_DOWN,
            last + PRICE_PULL * (target[:, :, None] - last),
        ),
    )
    markup = np.clip(
        steered, PRICE_BAND[0] * target[:, :, None], PRICE_BAND[1] * target[:, :, None]
    )
    return world.reference_price(rnd)[None, None, :] * markup


def _api_price(world: World, state: State, t: dict[str, np.ndarray], rnd: int) -> np.ndarray:
    """Wholesale price: a markup on what serving a token costs the lab, cut to what keeps product
    companies from moving to open weights (the price at which they still expect more profit on the
    lab's model), never below cost."""
    cost = market.cloud_cost_per_m_tokens(
        world, np.maximum(state.model_active, 1e-3), state.algo, rnd
    )
    retail = state.prices.mean(axis=-1)
    lead = np.exp(-_capability_pull(world) * (state.model_cap - state.open_capability[:, None]))
    competitive = retail - SWITCHING_HURDLE * lead * np.maximum(
        retail - market.open_serving_cost(world, rnd), 0.0
    )
    return np.maximum(np.minimum(t["api_markup"] * cost, competitive), API_FLOOR_OVER_COST * cost)


def _capability_pull(world: World) -> float:
    """Utility per capability point, averaged over segments by size."""
    return (
        float(np.average(world.seg_weights[:, 0], weights=world.seg_volume))
        * world.scenario.market.attribute_scale
        / 10.0
    )


def _base_model(world: World, state: State, rnd: int) -> np.ndarray:
    """Product companies pick the vendor (or open weights) that promises the most profit: buyers'
    pull of its capability (the logit weight on capability) times the margin left after paying for
    each token."""
    lab = world.is_lab
    if lab.all():
        return state.base.copy()
    pull = _capability_pull(world)
    price = state.prices.mean(axis=-1)[:, :, None]  # (R, buyer, 1)
    vendor_margin = np.maximum(price - state.api_price[:, None, :], 0.0)  # (R, buyer, lab)
    value = np.where(
        lab[None, None, :], np.exp(pull * state.model_cap[:, None, :]) * vendor_margin, -np.inf
    )
    open_value = np.exp(pull * state.open_capability)[:, None] * np.maximum(
        price[:, :, 0] - market.open_serving_cost(world, rnd), 0.0
    )
    best = np.maximum(value.max(axis=2), open_value)
    choice = np.where(value.max(axis=2) > open_value, value.argmax(axis=2), OPEN_MODEL)
    on_lab = state.base >= 0
    current = np.where(
        on_lab,
        np.take_along_axis(value, np.maximum(state.base, 0)[:, :, None], axis=2)[:, :, 0],
        open_value,
    )
    stay = (
        current * SWITCHING_HURDLE >= best
    )  # switching vendors costs integration work: move only for a clear gain
    return np.where(lab[None, :] | stay, state.base, choice)


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
    weight = weight / np.maximum(weight.sum(-1, keepdims=True), 1e-9)
    return (t["sft_share"] * a * revenue + 1.0 * (t["sft_share"] > 0))[:, :, None] * weight


def _best_gpu(world: World, rnd: int) -> np.ndarray:
    """(C,) index of the GPU each company would buy: the most FLOP/s per dollar it may have."""
    controlled = (
        world.is_cn[:, None] & world.gpu_controlled[None, :]
    )  # rivals stay clear of controlled chips
    allowed = (world.gpu_from_round <= rnd)[None, :] & ~controlled
    return np.where(allowed, world.gpu_tflops / world.gpu_price_musd, -np.inf).argmax(axis=-1)


def _data_buy(
    world: World, state: State, t: dict[str, np.ndarray], tokens_t: np.ndarray
) -> np.ndarray:
    """(R,C,3) scraped, licensed and synthetic tokens a persona buys for a run of `tokens_t`: enough
    to keep the run within EPOCHS_KEPT passes over its data. It generates its synthetic share,
    licenses its licensed share, crawls the rest while the web allows and licenses what it cannot
    crawl; every kind within what its pool still holds."""
    room = data.room(state.data, state.data_pool)
    gap = np.maximum(tokens_t / EPOCHS_KEPT - sum_last(state.data), 0.0)
    made = np.minimum(gap * t["synthetic"], room[:, :, data.SYNTHETIC])
    crawl = np.minimum((gap - made) * (1.0 - t["license_share"]), room[:, :, data.SCRAPED])
    deals = np.minimum(gap - made - crawl, room[:, :, data.LICENSED])
    return np.stack([crawl, deals, made], axis=-1)


def _compute_and_training(
    world: World, state: State, t: dict[str, np.ndarray], a: np.ndarray, rnd: int
):
    """Serving share, GPU orders, a new run if none is going, and the data that run needs."""
    sc, lab = world.scenario, world.is_lab[None, :]
    peak = compute.peak_flops(world, state.gpus)
    fleet_peak = peak + (
        compute.peak_flops(world, state.pipeline.sum(axis=2)) if state.pipeline.shape[2] else 0.0
    )
    per_token = (
        2.0
        * np.maximum(state.model_active, 1e-3)
        * 1e9
        / sc.compute.serving_utilisation
        / state.algo
    )
    growth = 1.0 + float(np.average(world.seg_growth, weights=world.seg_volume))
    need_serving = (
        SERVING_HEADROOM * growth * np.maximum(state.demand, state.served) * 1e12 * per_token
    )
    short = state.demand > 1.02 * state.served
    serving_share = np.clip(
        need_serving * np.where(short, 1.5, 1.0) / np.maximum(peak, 1.0), 0.3, 1.0
    )
    best = _best_gpu(world, rnd)
    best_flops = world.gpu_tflops[best] * 1e12 * SECONDS_PER_ROUND
    train_target = np.maximum(fleet_peak - need_serving, 0.0) * (1.0 + t["gpu_appetite"] * a)
    want_peak = need_serving * (1.0 + sc.market.segments[0].growth_per_round) + train_target
    buy_n = np.maximum(want_peak - fleet_peak, 0.0) / np.maximum(best_flops, 1.0) * lab
    unit = world.gpu_price_musd[best]
    means = np.maximum(state.cash, 0.0) + np.where(
        short, finance.max_raise(world, state.valuation) * t["gpu_appetite"] * 4.0, 0.0
    )
    buy_n = np.minimum(buy_n, CAPEX_SHARE_OF_CASH * a * means / np.maximum(unit, 1e-9))
    buy = np.zeros(state.gpus.shape)
    buy[:, np.arange(world.n_companies), best] = buy_n

    rounds_left = sc.rounds - state.round
    train_peak = peak * (1.0 - serving_share)
    budget = (
        train_peak
        * sc.scaling.mfu
        * training.goodput(world, state.staff[:, :, 1])
        * t["run_rounds"]
    )
    n_opt, _ = scaling.compute_optimal(np.maximum(budget, 1.0), sc.scaling)
    active_b = n_opt / 1e9 / t["overtrain"] / t["moe"] ** world.scenario.scaling.moe_total_weight
    total_b = active_b * t["moe"]
    tokens_t = budget / (sc.scaling.flops_per_param_token * active_b * 1e9) / 1e12
    bought = _data_buy(world, state, t, tokens_t)
    held = data.after_purchases(state.data, state.data_pool, bought)
    _, tokens_eff = training.plan_run(world, total_b, active_b, tokens_t, held)
    new_cap = training.finished_capability(world, total_b, active_b, tokens_eff, state.algo)
    start = (
        lab
        & ~state.run_on
        & (t["run_rounds"] > 0)
        & (new_cap > state.model_cap + 1.0)
        & (rounds_left > t["run_rounds"])
    )
    data_buy = bought * start[:, :, None]
    run = {
        "start": start,
        "total": np.where(start, total_b, 0.0),
        "active": np.where(start, active_b, 0.0),
        "tokens": np.where(start, tokens_t, 0.0),
    }
    serving_share = np.where(state.run_on | start, serving_share, 1.0)
    return serving_share, buy, run, data_buy


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
