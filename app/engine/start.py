"""The world before round 1, and the decision of a company that decides nothing."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.engine import scaling
from app.engine.decisions import DecisionArrays
from app.engine.rules import finance, market, scoring, tuning
from app.engine.state import SAFETY_STAFF, State
from app.engine.world import DATA_KINDS, OPEN_MODEL, OWN_MODEL, World
from app.scenario.schema import CompanyStart


def own_or_vendor(world: World) -> np.ndarray:
    """Starting base-model codes (R=1): labs use their own, products their scenario vendor."""
    names = world.company_names

    def code(c: CompanyStart) -> int:
        if c.kind == "lab":
            return OWN_MODEL
        return OPEN_MODEL if c.base_model == "open" else names.index(c.base_model)

    return np.array([[code(c) for c in world.scenario.companies]])


def _company_arrays(world: World) -> dict[str, np.ndarray]:
    """Per-company starting values with R=1."""
    sc, cs = world.scenario, world.scenario.companies
    col = lambda f: np.array([[f(c) for c in cs]], dtype=np.float64)  # noqa: E731
    gpus = np.rint(
        np.array([[[c.gpus.get(g, 0.0) for g in world.gpu_names] for c in cs]], dtype=np.float64)
    )  # whole GPUs
    m = lambda c, attr, default=0.0: getattr(c.model, attr) if c.model else default  # noqa: E731
    total = col(lambda c: m(c, "params_b"))
    active = col(lambda c: (c.model.active_params_b or c.model.params_b) if c.model else 0.0)
    tokens = col(lambda c: m(c, "tokens_t"))
    cap = np.where(
        total > 0,
        scaling.model_capability(
            np.maximum(total, 1e-3) * 1e9,
            np.maximum(active, 1e-3) * 1e9,
            tokens * 1e12,
            1.0,
            sc.scaling,
        ),
        0.0,
    )
    kinds = len(DATA_KINDS)
    held = np.array(
        [
            [
                [c.data_t_tokens * c.scraped_share, c.data_t_tokens * (1 - c.scraped_share)]
                + [0.0] * (kinds - 2)
                for c in cs
            ]
        ]
    )
    sft = np.array(
        [[[c.domain_skill.get(s, 0.0) for s in world.segment_ids] for c in cs]], dtype=np.float64
    )
    return {
        "cash": col(lambda c: c.cash_musd),
        "gpus": gpus,
        "ppe": (gpus * world.gpu_price_musd).sum(-1) * sc.compute.starting_book_value,
        "staff": np.array(
            [[[round(c.researchers), round(c.engineers), round(c.safety_staff)] for c in cs]],
            dtype=np.float64,
        ),
        "data": held,
        "model_total": total,
        "model_active": active,
        "model_cap": cap,
        "model_cutoff": col(lambda c: m(c, "cutoff_round")),
        "sft": sft,
        "safety_start": col(lambda c: c.safety),
        "brand": col(lambda c: c.brand),
        "ecosystem": col(lambda c: c.ecosystem),
        "price_factor": col(lambda c: c.price_factor),
    }


def opening_choice(world: World) -> market.Choice:
    """How buyers split before round 1, given the starting offers (R=1): the installed base the
    game starts from."""
    return _opening_choice(world, _company_arrays(world))


def _opening_choice(world: World, a: dict[str, np.ndarray]) -> market.Choice:
    return market.choose(
        world, _opening_offers(world, a), _opening_open_capability(world), 1, np.zeros(1)
    )


def _opening_open_capability(world: World) -> np.ndarray:
    return np.array([world.scenario.market.outside.capability])


def _opening_offers(world: World, a: dict[str, np.ndarray]) -> market.Offers:
    """What each company sells before round 1 (R=1), before any safety tuning."""
    C = world.n_companies
    base = own_or_vendor(world)
    safety = tuning.safety_level(
        world, a["safety_start"], np.zeros((1, C)), a["staff"][:, :, SAFETY_STAFF]
    )
    base_cap = market.base_of(base, a["model_cap"], _opening_open_capability(world))
    cutoff = market.base_of(base, a["model_cutoff"], np.zeros(1))
    return market.Offers(
        capability=base_cap - tuning.alignment_tax(world, safety),
        domain=tuning.domain_skill(world, a["sft"]),
        safety=safety,
        freshness=market.freshness(world, 1, cutoff, np.zeros((1, C))),
        brand=a["brand"],
        ecosystem=a["ecosystem"],
        price=_opening_prices(world, a)[0],
    )


def _opening_prices(world: World, a: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Retail (R=1,C,S) and wholesale (R=1,C) prices before round 1: each company's authored share
    of the reference price, and labs' default markup on their serving cost, both within the law
    (`market.lawful_offer`)."""
    prices = a["price_factor"][:, :, None] * world.reference_price(1)[None, None, :]
    cloud = market.cloud_cost_per_m_tokens(world, a["model_active"], 1.0, 1)
    mk = world.scenario.market
    api = np.where(
        world.is_lab,
        np.maximum(
            mk.default_api_markup * cloud, mk.default_api_floor_share * world.seg_ref_price.mean()
        ),
        0.0,
    )
    return market.lawful_offer(world, prices, api, cloud, own_or_vendor(world), 1)


def initial_state(world: World, seeds: np.ndarray) -> State:
    """Every replication starts from the scenario's companies; shares start at the market's own
    choice."""
    a = _company_arrays(world)
    runs, C = len(seeds), world.n_companies
    H, L, E = (
        world.depreciation_rounds,
        world.scenario.compute.delivery_lag_rounds,
        len(world.scenario.events),
    )
    base = own_or_vendor(world)
    prices, api = _opening_prices(world, a)
    open_cap = _opening_open_capability(world)
    opening = _opening_choice(world, a)
    share = opening.probability
    revenue = (share * world.segment_volume(1) * prices).sum(-1)
    enterprise = finance.enterprise_value(
        world, revenue, revenue, np.zeros((1, C)), opening.offers.capability, a["brand"],
        world.is_lab[None, :],
    )
    value = finance.valuation(
        world, enterprise, enterprise, a["cash"], np.zeros((1, C)), a["ppe"], np.zeros((1, C))
    )
    one = {
        "open_capability": open_cap,
        "data_pool": world.data_pool[None, :],
        "events_left": np.zeros((1, E), dtype=np.int64),
        "cash": a["cash"],
        "debt": np.zeros((1, C)),
        "paid_in": a["cash"] + a["ppe"],
        "retained": np.zeros((1, C)),
        "ppe": a["ppe"],
        "loss_carryforward": np.zeros((1, C)),
        "ownership": np.ones((1, C)),
        "depreciation": np.repeat((a["ppe"] / H)[:, :, None], H, axis=2),
        "rescues": np.zeros((1, C)),
        "gpus": a["gpus"],
        "pipeline": np.zeros((1, C, L, world.n_gpus)),
        "staff": a["staff"],
        "pay": np.ones((1, C)),
        "algo": np.ones((1, C)),
        "data": a["data"],
        "run_on": np.zeros((1, C), bool),
        **{
            k: np.zeros((1, C))
            for k in (
                "run_total",
                "run_active",
                "run_tokens",
                "run_tokens_eff",
                "run_flops_needed",
                "run_flops_done",
                "run_start",
            )
        },
        "model_total": a["model_total"],
        "model_active": a["model_active"],
        "model_cap": a["model_cap"],
        "model_cutoff": a["model_cutoff"],
        "model_version": (a["model_total"] > 0).astype(np.float64),
        "ready_on": np.zeros((1, C), bool),
        **{k: np.zeros((1, C)) for k in ("ready_total", "ready_active", "ready_cap",
                                         "ready_cutoff")},
        "release_hold": np.zeros((1, C), bool),
        "sft": a["sft"],
        "safety_stock": np.zeros((1, C)),
        "safety_start": a["safety_start"],
        "rag": np.zeros((1, C)),
        "brand": a["brand"],
        "brand_anchor": a["brand"],
        "ecosystem": a["ecosystem"],
        "share": share,
        "rationed": np.zeros((1, world.n_segments)),
        "choice_share": share,
        "prices": prices,
        "offer_capability": opening.offers.capability,
        "api_price": api,
        "base": base,
        "revenue": revenue,
        "revenue_start": revenue,
        "revenue_recent": np.repeat(revenue[:, :, None], scoring.TRAILING_QUARTERS, axis=2),
        "cum_revenue": np.zeros((1, C)),
        "cum_tokens": np.zeros((1, C)),
        "cum_retail": np.zeros((1, C)),
        "cum_net_income": np.zeros((1, C)),
        "incidents": np.zeros((1, C)),
        "valuation": value,
        "valuation_start": value,
        "share_start": scoring.share(world, revenue, (share * world.segment_volume(1)).sum(-1)),
        "demand": (share * world.segment_volume(1)).sum(-1),
        "served": (share * world.segment_volume(1)).sum(-1),
    }
    tiled = {k: np.repeat(v, runs, axis=0) for k, v in one.items()}
    return State(round=0, seeds=np.asarray(seeds, dtype=np.uint64), **tiled)


def standing_decisions(world: World, state: State, **planned: np.ndarray) -> DecisionArrays:
    """The decision of a company that has never decided: keep staff and prices, spend nothing
    new. A field given in `planned` (a persona's plan) takes the standing one's place, which is
    then not built."""
    R, C, G, S = state.runs, world.n_companies, world.n_gpus, world.n_segments
    z = np.zeros((R, C))
    standing: dict[str, Callable[[], np.ndarray]] = {
        "raise_equity": lambda: z,
        "borrow": lambda: z,
        "repay": lambda: z,
        "buy": lambda: np.zeros((R, C, G)),
        "rent": lambda: np.zeros((R, C, G)),
        "serving_share": lambda: np.full((R, C), world.scenario.compute.default_serving_share),
        "staff_target": lambda: state.staff.copy(),
        "pay": lambda: np.ones((R, C)),
        "data_buy": lambda: np.zeros((R, C, 3)),
        "start_run": lambda: np.zeros((R, C), bool),
        "run_total": lambda: z,
        "run_active": lambda: z,
        "run_tokens": lambda: z,
        "cancel_run": lambda: np.zeros((R, C), bool),
        "hold": lambda: np.zeros((R, C), bool),
        "sft": lambda: np.zeros((R, C, S)),
        "safety": lambda: z,
        "rag": lambda: z,
        "price": lambda: state.prices.copy(),
        "api_price": lambda: state.api_price.copy(),
        "marketing": lambda: z,
        "base": lambda: state.base.copy(),
    }
    if set(planned) - set(standing):
        raise TypeError(f"not decision fields: {sorted(set(planned) - set(standing))}")
    return DecisionArrays(**{name: planned[name] if name in planned else build()
                             for name, build in standing.items()})


def carried_on(previous: DecisionArrays) -> DecisionArrays:
    """Arrays form of Decision.carried_on: recurring choices stay, one-offs stop."""
    z = np.zeros_like(previous.raise_equity)
    return previous.replace(
        raise_equity=z,
        borrow=z,
        repay=z,
        buy=np.zeros_like(previous.buy),
        data_buy=np.zeros_like(previous.data_buy),
        start_run=np.zeros_like(previous.start_run),
        cancel_run=np.zeros_like(previous.cancel_run),
    )


__all__ = ["OPEN_MODEL", "carried_on", "initial_state", "standing_decisions"]
