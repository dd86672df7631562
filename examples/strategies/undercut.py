"""Undercut: a worked example of a strategy written in Python. Copy it, change it, seat it in a study.

A strategy is a function that takes a `PlayerView` (what this company's player could see as the round
opens: the market, every company's public page, and its own books) and returns the decision for the
round: a dict with the decision form's fields (the same JSON the decision page and the API take), a
`Decision`, or None to carry on with last round's recurring choices.

This one plays a low-price game:
  * price 10% under the cheapest rival in each segment, never below its own cost per token (plus a margin)
    nor below the floor competition law sets a lab with product companies on its model;
  * hire safety staff and buy safety tuning while a segment's safety minimum is above its safety;
  * buy GPUs when it cannot serve all its demand (labs);
  * start a pre-training run sized to what its training GPUs can do in a few quarters, when it can
    afford the data and the run would be much bigger than its current model (labs);
  * keep a cash reserve of a couple of quarters' running costs, and raise equity when cash runs low.

Money is in US$ millions (`_musd`), tokens in trillions (`_t_tokens`), prices in US$ per million tokens.
"""

from __future__ import annotations

import math
from typing import Any

from app.engine.views import PlayerView
from app.scenario.schema import MAX_GPUS, MAX_HEADCOUNT, MAX_MUSD, MAX_PARAMS_B, MAX_PRICE, MAX_TOKENS_T, MIN_PARAMS_B

UNDERCUT = 0.90  # our price as a share of the cheapest rival's
MARGIN_OVER_COST = 1.15  # never sell a token for less than this multiple of what it costs us
RESERVE_ROUNDS = 2.0  # quarters of running costs kept in cash
RAISE_SHARE = 0.5  # at most this share of what investors would put in, in one round
GPU_SHARE_OF_SPARE_CASH = 0.3  # most of the spare cash put into GPUs in one round
RUN_ROUNDS = 3  # a pre-training run is sized to finish in about this many quarters
TOKENS_PER_PARAM = 20  # Chinchilla: ~20 training tokens per parameter is compute-optimal
MAX_PASSES = 4  # repeat the data at most this many times (well within the scenario's limit)
SAFETY_MARGIN = 5.0  # safety points wanted above a segment's minimum
SFT_SHARE, MARKETING_SHARE, SAFETY_SHARE = 0.03, 0.01, 0.05  # of last round's revenue
MIN_RUN_TOKENS_T = 0.01  # the decision form's smallest run


def decide(view: PlayerView) -> dict[str, Any]:
    """This round's decision for `view.company`, as the decision form's JSON."""
    own = view.own
    remember(view)
    budget = Budget(view)
    decision: dict[str, Any] = {
        "finance": {"raise_equity_musd": budget.raised},
        "compute": {"serving_share": 1.0},
        "talent": {"pay_level": own["pay_level"]},
        "tuning": {"retrieval": own["retrieval"]},  # keep what we have: the form's default is off
        "products": {"prices": prices(view)},
    }
    safety_staff, safety_musd = safety_plan(view, budget)
    decision["talent"]["safety_staff"] = safety_staff
    decision["tuning"]["safety_musd"] = safety_musd

    if view.is_lab:
        training_share, run, data_buy = training_plan(view, budget)
        decision["compute"]["serving_share"] = 1.0 - training_share
        decision["compute"]["buy_gpus"] = gpu_orders(view, budget)
        if run is not None:
            decision["training"] = {"start": run}
            decision["data"] = data_buy

    revenue = own["revenue_musd"] or 0.0
    decision["tuning"]["sft_musd"] = sft_plan(view, budget.spend(SFT_SHARE * revenue))
    decision["products"]["marketing_musd"] = budget.spend(MARKETING_SHARE * revenue)
    return decision


def remember(view: PlayerView) -> None:
    """`view.memory` is ours to keep things in between rounds: here, cash at the start of every round."""
    view.memory.setdefault("cash_musd", []).append(view.own["cash_musd"])


class Budget:
    """Cash we may commit this round: cash (plus any equity we raise) less a reserve for running costs."""

    def __init__(self, view: PlayerView):
        own, market = view.own, view.market
        staff_cost = sum(own["staff"][r] * market["salary_usd_per_year"][r] for r in own["staff"]) * own["pay_level"] / 4 / 1e6
        last = own["income_statement_musd"] or {}
        other_costs = sum(v for k, v in last.items() if k not in ("staff", "tax", "sft", "safety", "marketing", "data"))
        self.reserve = RESERVE_ROUNDS * (staff_cost + other_costs)
        cash = own["cash_musd"]
        history = view.memory.get("cash_musd", [])
        burning = len(history) >= 2 and history[-1] < history[-2]  # cash fell last round
        short = max(2 * self.reserve - cash, 0.0) if burning or cash < self.reserve else 0.0
        self.raised = min(short, RAISE_SHARE * own["max_raise_musd"], MAX_MUSD)
        self.left = max(cash + self.raised - self.reserve, 0.0)

    def spend(self, wanted: float) -> float:
        """As much of `wanted` ($M) as the budget allows; it is then committed."""
        amount = min(max(wanted, 0.0), self.left, MAX_MUSD)
        self.left -= amount
        return amount


def cost_per_m_tokens(view: PlayerView) -> float:
    """What one more million tokens costs us: serving our model (labs), or our base model (products),
    plus retrieval if we serve with it."""
    own = view.own
    rag = view.market["retrieval_cost_per_m_tokens"] if own["retrieval"] else 0.0
    return own["serving_cost_per_m_tokens"] + rag


def prices(view: PlayerView) -> dict[str, float]:
    """10% under the cheapest rival in each segment, never below cost plus a margin, nor below
    what competition law allows a lab whose model product companies build on (`retail_floor`)."""
    floor = MARGIN_OVER_COST * cost_per_m_tokens(view)
    if view.own.get("retail_floor"):
        floor = max(floor, view.own["retail_floor"]["per_m_tokens"])
    out = {}
    for seg in view.segment_ids:
        rival_prices = [page["prices"][seg] for page in view.rivals.values()]
        target = UNDERCUT * min(rival_prices) if rival_prices else view.own["prices"][seg]
        out[seg] = min(max(target, floor, 1e-3), MAX_PRICE)
    return out


def safety_plan(view: PlayerView, budget: Budget) -> tuple[float, float]:
    """Safety staff to have and safety tuning to buy: more of both while a segment's minimum is out of reach."""
    own = view.own
    staff = own["staff"]["safety"]
    needed = max((s["min_safety"] for s in view.market["segments"]), default=0.0)
    revenue = own["revenue_musd"] or 0.0
    if needed > 0 and own["safety"] < needed + SAFETY_MARGIN:  # a regulated segment bars us (or nearly)
        return min(math.floor(staff * 1.25) + 10, MAX_HEADCOUNT), budget.spend(SAFETY_SHARE * revenue + 5.0)
    return staff, budget.spend(0.2 * SAFETY_SHARE * revenue)  # keep tuning from wearing off


def gpu_orders(view: PlayerView, budget: Budget) -> dict[str, float]:
    """Buy the most FLOP/s per dollar we may get when demand outgrew what our GPUs can serve."""
    own, gpus = view.own, view.market["gpus"]
    capacity = own["serving_capacity_t_tokens"] or 0.0
    growth = max(s["growth_per_round"] for s in view.market["segments"])
    wanted_capacity = own["demand_t_tokens"] * (1 + growth) * 1.2
    owned = sum(own["gpus"].values()) + sum(own["gpus_on_order"].values())
    if capacity >= wanted_capacity or owned == 0:
        return {}
    allowed = [name for name, g in gpus.items() if g["available"]]
    if not allowed:
        return {}
    best = max(allowed, key=lambda name: gpus[name]["tflops"] / gpus[name]["buy_usd"])
    unit_musd = gpus[best]["buy_usd"] / 1e6
    count = owned * min(wanted_capacity / max(capacity, 1e-9) - 1.0, 0.5)  # grow the fleet by up to half
    money = budget.spend(min(count * unit_musd, GPU_SHARE_OF_SPARE_CASH * budget.left))
    count = min(math.floor(money / unit_musd), MAX_GPUS)
    budget.left += money - count * unit_musd  # give back what a whole number of GPUs did not use
    return {best: float(count)} if count > 0 else {}


def training_plan(view: PlayerView, budget: Budget) -> tuple[float, dict[str, Any] | None, dict[str, float]]:
    """Share of GPUs to train on, the run to start (or None) and the data to buy for it."""
    own, market = view.own, view.market
    capacity = own["serving_capacity_t_tokens"] or 0.0
    growth = max(s["growth_per_round"] for s in market["segments"])
    serving_need = own["demand_t_tokens"] * (1 + growth) * 1.1 / max(capacity, 1e-9)
    training_share = min(max(1.0 - serving_need, 0.05), 0.7)
    if own["run"] is not None:  # a run is in progress: keep feeding it
        return training_share, None, {}
    if view.rounds_left <= RUN_ROUNDS + 1:  # it would not pay off before the game ends
        return 0.0, None, {}

    flops = own["fleet_flops_per_round"] * training_share * own["training_efficiency"] * RUN_ROUNDS
    params = math.sqrt(flops / (6 * TOKENS_PER_PARAM))  # C = 6 N D with D = 20 N
    params_b = min(params / 1e9, MAX_PARAMS_B)
    if params_b < max(1.3 * own["model"]["params_b"], MIN_PARAMS_B):
        return 0.0, None, {}  # not enough compute for a clearly bigger model: serve instead
    tokens_t = min(TOKENS_PER_PARAM * params_b / 1e3, MAX_TOKENS_T)

    # Enough unique data for at most MAX_PASSES passes: crawl what the open web still has, then license.
    gap = max(tokens_t / MAX_PASSES - own["unique_t_tokens"], 0.0)
    data = market["data"]
    crawlable = max(data["scraped"]["pool_t_tokens"] - own["data_t_tokens"]["scraped"], 0.0)
    scrape = min(gap, crawlable, budget.left / max(data["scraped"]["cost_per_t_tokens_musd"], 1e-9))
    budget.spend(scrape * data["scraped"]["cost_per_t_tokens_musd"])
    license_ = min(gap - scrape, data["licensed"]["pool_t_tokens"], budget.left / max(data["licensed"]["cost_per_t_tokens_musd"], 1e-9))
    budget.spend(license_ * data["licensed"]["cost_per_t_tokens_musd"])
    tokens_t = min(tokens_t, MAX_PASSES * (own["unique_t_tokens"] + scrape + license_))  # what we can afford to learn from
    if tokens_t < MIN_RUN_TOKENS_T:
        return 0.0, None, {}
    run = {"params_b": max(params_b, MIN_PARAMS_B), "tokens_t": tokens_t}
    return training_share, run, {"scrape_t_tokens": scrape, "license_t_tokens": license_}


def sft_plan(view: PlayerView, money: float) -> dict[str, float]:
    """Fine-tuning spread over segments by size, leaning to where our skill is low."""
    segments = view.market["segments"]
    weight = {s["id"]: s["volume_t_tokens"] * s["reference_price"] * (1 - view.own["domain_skill"][s["id"]] / 100) for s in segments}
    total = sum(weight.values())
    if money <= 0 or total <= 0:
        return {}
    return {seg: money * w / total for seg, w in weight.items()}
