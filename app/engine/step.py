"""One quarter of the world: the rules applied in one visible order.

`step(world, state, decisions)` is pure: same inputs, same outputs, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.arrays import sum_last
from app.engine.decisions import DecisionArrays
from app.engine.rules import compute, data, events, finance, market, risk, scoring, talent, training, tuning
from app.engine.state import State
from app.engine.world import OPEN_MODEL, OWN_MODEL, World

STATEMENT_LINES = (
    "revenue_retail", "revenue_api", "compute_rental", "compute_energy", "compute_depreciation", "api_fees",
    "api_serving", "open_serving", "retrieval", "staff", "data", "sft", "safety", "marketing",
    "incidents", "fines", "settlements", "interest", "tax",
)
COST_LINES = STATEMENT_LINES[2:17]


@dataclass(frozen=True, eq=False)
class Outcome:
    """Everything a round produced, as arrays, for reports and study tables."""

    round: int
    conditions: events.Conditions
    deals: compute.GpuDeals
    hired: np.ndarray
    left: np.ndarray
    progress: training.RunProgress
    released: np.ndarray  # bool (R,C): a new model went live
    offers: market.Offers
    choice: market.Choice
    demand: np.ndarray  # (R,C,S)
    served: np.ndarray  # (R,C,S)
    capacity: np.ndarray
    share_before: np.ndarray  # (R,C,S) installed share at the start of the round
    share: np.ndarray
    revenue_by_segment: np.ndarray
    incidents: risk.Incidents
    lines: dict[str, np.ndarray]  # income statement lines, $M (R,C)
    revenue: np.ndarray
    operating_income: np.ndarray
    net_income: np.ndarray
    cash_flow: dict[str, np.ndarray]
    rescue: np.ndarray
    metrics: np.ndarray
    scaled_metrics: np.ndarray
    score: np.ndarray
    effective_capability: np.ndarray
    safety: np.ndarray
    reference_price: np.ndarray
    volume: np.ndarray


def step(world: World, state: State, d: DecisionArrays, injected: np.ndarray | None = None) -> tuple[State, Outcome]:
    """Resolve one quarter for every replication at once."""
    rnd, sc, is_lab = state.round + 1, world.scenario, world.is_lab[None, :]
    events_left, cond = events.advance_events(world, state.events_left, state.seeds, rnd, injected)
    o = sc.market.outside
    open_cap = np.minimum(state.open_capability + o.gain_per_round + cond.open_jump, max(o.max_capability, o.capability))

    fin = finance.finance(world, d.raise_equity, d.borrow, d.repay, state.cash, state.debt, state.revenue, state.ppe, state.valuation, state.ownership)
    deals = compute.clear_gpu_market(world, d.buy, d.rent, compute.gpu_allowed(world, rnd, cond.export_ban), cond)
    gpus, pipeline = compute.deliver(state.gpus, state.pipeline, deals.bought)
    depreciation, schedule = compute.depreciate(state.depreciation, deals.capex)
    staff, hired, left = talent.hire(world, state.staff, d.staff_target, d.pay, cond)
    algo = talent.research_gain(world, state.algo, staff[:, :, 0])

    fleet = gpus + deals.rented
    peak = compute.peak_flops(world, fleet)
    serving = np.where(is_lab, d.serving_share, 0.0)
    serving_peak = peak * serving
    training_peak = peak - serving_peak
    synth_flops = 1e12 * sc.data.synthetic_flops_per_token
    synthetic = np.minimum(d.data_buy[:, :, 2], training_peak * sc.scaling.mfu / synth_flops)
    training_peak = training_peak - synthetic * synth_flops / sc.scaling.mfu
    held, pool, data_cost = data.acquire_data(world, state.data, state.data_pool, d.data_buy, synthetic)

    run = _start_runs(world, state, d, held, rnd)
    progress = training.advance_run(world, run["run_on"], run["run_flops_needed"], run["run_flops_done"], training_peak, staff[:, :, 1], state.seeds, rnd)
    new_cap = training.finished_capability(world, run["run_total"], run["run_active"], run["run_tokens_eff"], algo)
    released = progress.completed & (new_cap > state.model_cap)
    model = {
        "model_cap": np.where(released, new_cap, state.model_cap),
        "model_total": np.where(released, run["run_total"], state.model_total),
        "model_active": np.where(released, run["run_active"], state.model_active),
        "model_cutoff": np.where(released, run["run_start"], state.model_cutoff),
        "model_version": state.model_version + released,
    }
    run["run_on"] = run["run_on"] & ~progress.completed & ~progress.failed
    run["run_flops_done"] = np.where(run["run_on"], progress.flops_done, 0.0)

    sft = tuning.fine_tune(world, state.sft, d.sft, 0.0)
    safety_stock = tuning.safety_tuning(world, state.safety_stock, d.safety, staff[:, :, 2])
    safety = tuning.safety_level(world, state.safety_start, safety_stock, staff[:, :, 2])

    base_cap = market.base_of(d.base, model["model_cap"], open_cap)
    cutoff = market.base_of(d.base, model["model_cutoff"], np.full_like(open_cap, rnd - sc.market.open_model_age_rounds))
    eff_cap = np.maximum(base_cap - tuning.alignment_tax(world, safety), 0.0)
    offers = market.Offers(eff_cap, tuning.domain_skill(world, sft), safety, market.freshness(world, rnd, cutoff, d.rag),
                           state.brand, state.ecosystem, d.price)
    choice = market.choose(world, offers, open_cap, rnd, cond.min_safety_add)
    share = market.installed_share(world, state.share, choice, state.prices)
    volume = world.segment_volume(rnd) * cond.demand_mult[:, None]
    capacity = market.serving_capacity(world, serving_peak, compute.memory_gb(world, fleet) * serving, model["model_active"],
                                       model["model_total"], algo, is_lab)
    demand, served = market.serve(share, volume, capacity)
    share_after = served / np.maximum(volume[:, None, :], 1e-12)
    revenue_seg = served * d.price
    retail = sum_last(revenue_seg)
    tokens = sum_last(served)

    api = _api_market(world, d, tokens, model["model_active"], algo, rnd)
    sft = sft + world.scenario.data.proprietary_examples_per_musd_revenue * revenue_seg
    held = held.copy()
    held[:, :, data.PROPRIETARY] += data.proprietary_tokens(world, retail)

    shares = data.data_shares(held)
    rate_parts = risk.incident_rate_parts(world, state.served, safety, staff[:, :, 2], shares)
    regulated = (world.seg_min_safety[None, :] + cond.min_safety_add[:, None]) > 0
    regulated_revenue = sum_last(revenue_seg, regulated[:, None, :])
    revenue = retail + api["revenue_api"]
    inc = risk.incidents(world, rate_parts, state.served, regulated_revenue, held, shares, cond.legal_mult, state.seeds, rnd)
    brand = risk.update_brand(world, state.brand, state.brand_anchor, safety, eff_cap, d.marketing, inc.severity)

    mwh = compute.energy_mwh(world, gpus)
    lines = {
        "revenue_retail": retail, "revenue_api": api["revenue_api"],
        "compute_rental": deals.rent_cost, "compute_energy": compute.energy_cost(world, mwh, cond), "compute_depreciation": depreciation,
        "api_fees": api["api_fees"], "api_serving": api["api_serving"], "open_serving": api["open_serving"],
        "retrieval": tokens * d.rag * sc.market.rag_cost_per_m_tokens * world.price_index(rnd),
        "staff": talent.staff_cost(world, staff, d.pay, cond), "data": data_cost, "sft": sum_last(d.sft), "safety": d.safety,
        "marketing": d.marketing, "incidents": inc.cost, "fines": inc.fine, "settlements": inc.settlement,
        "interest": state.debt * sc.finance.interest_rate_per_year / 4.0,
    }
    operating = revenue - sum(lines[k] for k in COST_LINES)
    pretax = operating - lines["interest"]
    lines["tax"], carry = finance.tax(world, pretax, state.loss_carryforward)
    net = pretax - lines["tax"]

    cash = state.cash + net + depreciation - deals.capex + fin.raised + fin.borrowed - fin.repaid
    rescue, ownership = finance.rescue(world, cash, state.valuation, fin.ownership)
    cash_flow = {"operating": net + depreciation, "investing": -deals.capex,
                 "financing": fin.raised + fin.borrowed - fin.repaid + rescue}
    cash = cash + rescue
    debt = state.debt + fin.borrowed - fin.repaid
    value = finance.valuation(world, revenue, state.revenue, eff_cap, brand, world.is_lab[None, :], cash, debt, inc.severity)

    revenue_first = np.where(rnd == 1, revenue, state.revenue_first)
    cum_rev, cum_net, n_inc, rescues = state.cum_revenue + revenue, state.cum_net_income + net, state.incidents + inc.happened, state.rescues + (rescue > 0)
    token_share = tokens / np.maximum(sum_last(volume)[:, None], 1e-12)
    metrics = scoring.metric_values(cum_net, revenue, revenue_first, token_share, state.token_share_start, ownership * value,
                                    state.valuation_start, brand, n_inc, eff_cap, rescues)
    scaled, score = scoring.scorecard(world, metrics)

    new = state.replace(
        round=rnd, open_capability=open_cap, data_pool=pool, events_left=events_left,
        cash=cash, debt=debt, paid_in=state.paid_in + fin.raised + rescue, retained=state.retained + net,
        ppe=state.ppe + deals.capex - depreciation, loss_carryforward=carry, ownership=ownership, depreciation=schedule,
        rescues=rescues, gpus=gpus, pipeline=pipeline, staff=staff, pay=d.pay, algo=algo, data=held,
        **run, **model, sft=sft, safety_stock=safety_stock, rag=d.rag, brand=brand, share=share_after,
        prices=d.price, api_price=d.api_price, base=d.base, revenue=revenue, revenue_first=revenue_first,
        cum_revenue=cum_rev, cum_net_income=cum_net, incidents=n_inc, valuation=value, demand=sum_last(demand), served=tokens,
    )
    outcome = Outcome(rnd, cond, deals, hired, left, progress, released, offers, choice, demand, served, capacity,
                      state.share, share_after, revenue_seg, inc, lines, revenue, operating, net, cash_flow, rescue,
                      metrics, scaled, score, eff_cap, safety, world.reference_price(rnd), volume)
    return new, outcome


def _start_runs(world: World, state: State, d: DecisionArrays, held: np.ndarray, rnd: int) -> dict[str, np.ndarray]:
    """Cancel runs asked to stop; start requested runs at labs with none in progress."""
    on = state.run_on & ~d.cancel_run
    start = d.start_run & ~on & world.is_lab[None, :]
    needed, tokens_eff = training.plan_run(world, d.run_total, d.run_active, d.run_tokens, data.unique_tokens(world, held))
    pick = lambda new, old: np.where(start, new, old)  # noqa: E731
    return {
        "run_on": on | start,
        "run_total": pick(d.run_total, state.run_total),
        "run_active": pick(d.run_active, state.run_active),
        "run_tokens": pick(d.run_tokens, state.run_tokens),
        "run_tokens_eff": pick(tokens_eff, state.run_tokens_eff),
        "run_flops_needed": pick(needed, state.run_flops_needed),
        "run_flops_done": np.where(start | ~on, 0.0, state.run_flops_done),
        "run_start": pick(np.full_like(state.run_start, rnd), state.run_start),
    }


def _api_market(world: World, d: DecisionArrays, tokens: np.ndarray, model_active: np.ndarray, algo: np.ndarray, rnd: int) -> dict[str, np.ndarray]:
    """The two-sided market: product companies pay their vendor lab per token; the lab serves them from the cloud."""
    open_cost = np.where(d.base == OPEN_MODEL, tokens * market.open_serving_cost(world, rnd), 0.0)
    fees, revenue_api, api_tokens = np.zeros_like(tokens), np.zeros_like(tokens), np.zeros_like(tokens)
    for buyer in np.flatnonzero((d.base >= 0).any(axis=0)):
        vendor = d.base[:, buyer]
        on_lab = vendor >= 0
        price = np.take_along_axis(d.api_price, np.maximum(vendor, 0)[:, None], axis=1)[:, 0]
        fees[:, buyer] = np.where(on_lab, tokens[:, buyer] * price, 0.0)
        for lab in np.flatnonzero(world.is_lab):
            mine = vendor == lab
            revenue_api[:, lab] += np.where(mine, fees[:, buyer], 0.0)
            api_tokens[:, lab] += np.where(mine, tokens[:, buyer], 0.0)
    unit = market.cloud_cost_per_m_tokens(world, model_active, algo, rnd)
    return {"api_fees": fees, "revenue_api": revenue_api, "api_serving": api_tokens * unit, "open_serving": open_cost, "api_tokens": api_tokens}


def own_or_vendor(world: World) -> np.ndarray:
    """Starting base-model codes (R=1): labs use their own, products their scenario vendor."""
    names = world.company_names
    return np.array([[OWN_MODEL if c.kind == "lab" else (OPEN_MODEL if c.base_model == "open" else names.index(c.base_model))
                      for c in world.scenario.companies]])
