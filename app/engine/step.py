"""One quarter of the world: the rules applied in one visible order.

`step(world, state, decisions)` is pure: same inputs, same outputs, byte for byte. Each phase
below is one piece of the economics; the rules themselves live in `app.engine.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from app.engine.arrays import Rows, max_companies, sum_companies, sum_last
from app.engine.decisions import DecisionArrays
from app.engine.rules import (
    compute,
    data,
    events,
    finance,
    market,
    risk,
    scoring,
    talent,
    training,
    tuning,
)
from app.engine.rules.accounts import (
    COST_LINES,
    STATEMENT_LINES,
    Books,
    book_accounts,
    gross_margin,
)
from app.engine.state import ENGINEERS, RESEARCHERS, SAFETY_STAFF, State
from app.engine.world import World

__all__ = ["COST_LINES", "STATEMENT_LINES", "Outcome", "step"]


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
    metric_columns: list[np.ndarray]  # the scorecard's raw metrics, each (R,C)
    scaled_columns: list[np.ndarray]  # each placed on its range in [0,1]
    score: np.ndarray
    effective_capability: np.ndarray
    safety: np.ndarray
    reference_price: np.ndarray
    volume: np.ndarray

    @cached_property
    def metrics(self) -> np.ndarray:
        """(R,C,8) the scorecard's raw metrics (stacked when a report or a table asks)."""
        return np.stack(self.metric_columns, axis=-1)

    @cached_property
    def scaled_metrics(self) -> np.ndarray:
        """(R,C,8) each metric placed on its range in [0,1]."""
        return np.stack(self.scaled_columns, axis=-1)


def step(world: World, state: State, d: DecisionArrays,
         injected: np.ndarray | None = None) -> tuple[State, Outcome]:
    """Resolve one quarter for every replication at once."""
    rnd = state.round + 1
    events_left, cond = events.advance_events(world, state.events_left, state.seeds, rnd, injected)
    best_closed = max_companies(np.where(world.layout(state.runs).lab, state.model_cap, 0.0))
    open_cap = market.open_weight_frontier(world, state.open_capability, cond.open_jump,
                                           best_closed)
    d = d.replace(price=market.lawful_prices(world, d.price, d.api_price, state.base, rnd))
    money = raise_money(world, state, d)
    fleet = clear_gpu_market(world, state, d, cond, rnd)
    team = hire(world, state, d, cond)
    wanted = data.within_pools(state.data, state.data_pool, d.data_buy)
    split = compute.split_fleet(world, compute.peak_flops(world, fleet.in_use), d.serving_share,
                                wanted[:, :, data.SYNTHETIC])
    held, pool, data_cost = data.acquire_data(world, state.data, state.data_pool, d.data_buy,
                                              split.synthetic, wanted)
    trained = train(world, state, d, held, fleet.in_use * split.training[:, :, None], team, rnd)
    tuned = tune(world, state, d, team)
    sales = serve_market(world, state, d, fleet, split, team, trained, tuned, open_cap, cond, rnd)
    api = market.api_market(world, d.base, d.api_price, sales.tokens, trained.model["model_active"],
                            team.algo, sales.capacity - sales.tokens, rnd)
    sft = tuning.earn_examples(world, tuned.sft, sales.revenue_by_segment)  # the flywheel:
    held = data.with_proprietary(world, held, sales.retail)  # users' traffic becomes data
    revenue = sales.retail + api.revenue
    inc = incidents(world, state, held, tuned, team, sales, cond, rnd)
    brand = risk.update_brand(world, state.brand, state.brand_anchor, tuned.safety,
                              sales.offers.capability, d.marketing, inc.severity)
    lines = income_statement(world, state, d, fleet, team, data_cost, sales, api, inc, cond, rnd)
    books = book_accounts(world, lines, revenue, state.cash, state.debt, state.loss_carryforward,
                          state.valuation, fleet.depreciation, fleet.deals.capex, money)
    gpus_book = state.ppe + fleet.deals.capex - fleet.depreciation
    margin = gross_margin(lines, revenue, split.serving)
    value = finance.valuation(
        world,
        finance.enterprise_value(world, revenue, state.revenue, books.net_income,
                                 sales.offers.capability, brand, world.layout(state.runs).lab,
                                 margin),
        finance.enterprise_of(state.valuation, state.cash, state.debt, state.ppe),
        books.cash, books.debt, gpus_book, inc.severity)
    totals = tally(state, revenue, sales, books, inc, finance.revenue_quality(margin))
    metrics, scaled, score = scorecard(world, state, totals, books, books.ownership * value,
                                       brand, sales.offers.capability, rnd)

    new = state.replace(
        round=rnd, open_capability=open_cap, data_pool=pool, events_left=events_left,
        cash=books.cash, debt=books.debt, paid_in=state.paid_in + money.raised + books.rescue,
        retained=state.retained + books.net_income,
        ppe=gpus_book,
        loss_carryforward=books.loss_carryforward, ownership=books.ownership,
        depreciation=fleet.schedule, rescues=totals.rescues,
        gpus=fleet.gpus, pipeline=fleet.pipeline, staff=team.staff, pay=d.pay, algo=team.algo,
        data=held, **trained.runs, **trained.model, **trained.ready, release_hold=d.hold,
        sft=sft, safety_stock=tuned.safety_stock, rag=d.rag, brand=brand, share=sales.share,
        rationed=sales.rationed,
        choice_share=sales.choice.probability,
        prices=d.price, offer_capability=sales.offers.capability, api_price=api.price,
        base=d.base,
        revenue=revenue, revenue_recent=totals.revenue_recent, cum_revenue=totals.revenue,
        cum_tokens=totals.tokens, cum_retail=totals.retail, cum_net_income=totals.net_income,
        incidents=totals.incidents,
        valuation=value, demand=sum_last(sales.demand), served=sales.tokens,
    )
    outcome = Outcome(
        round=rnd, conditions=cond, deals=fleet.deals, hired=team.hired, left=team.left,
        progress=trained.progress, released=trained.released,
        offers=sales.offers, choice=sales.choice, demand=sales.demand, served=sales.served,
        capacity=sales.capacity, share_before=state.share, share=sales.share,
        revenue_by_segment=sales.revenue_by_segment, incidents=inc,
        lines=books.lines, revenue=revenue, operating_income=books.operating_income,
        net_income=books.net_income, cash_flow=books.cash_flow, rescue=books.rescue,
        metric_columns=metrics, scaled_columns=scaled, score=score,
        effective_capability=sales.offers.capability, safety=tuned.safety,
        reference_price=world.reference_price(rnd), volume=sales.volume,
    )
    return new, outcome


def raise_money(world: World, state: State, d: DecisionArrays) -> finance.Financing:
    """Equity raised at the current valuation, debt within the lenders' limit, repayments."""
    return finance.raise_money(world, d.raise_equity, d.borrow, d.repay, state.cash, state.debt,
                               state.revenue, state.ppe, state.valuation, state.ownership)


@dataclass(frozen=True, eq=False)
class Fleet:
    """Each company's GPUs after this quarter's market (R,C,...)."""

    deals: compute.GpuDeals
    gpus: np.ndarray  # owned and running (R,C,G)
    pipeline: np.ndarray  # still on order (R,C,L,G)
    depreciation: np.ndarray  # this quarter's charge (R,C)
    schedule: np.ndarray  # charges still to come (R,C,H)
    in_use: np.ndarray  # owned and rented GPUs running this quarter (R,C,G)


def clear_gpu_market(world: World, state: State, d: DecisionArrays, cond: events.Conditions,
                     rnd: int) -> Fleet:
    """Orders rationed to supply at rising prices, rentals, deliveries after the lag,
    depreciation."""
    allowed = compute.gpu_allowed(world, rnd, cond.export_ban)
    deals = compute.clear_gpu_market(world, d.buy, d.rent, allowed, cond)
    gpus, pipeline = compute.deliver(state.gpus, state.pipeline, deals.bought)
    depreciation, schedule = compute.depreciate(state.depreciation, deals.capex)
    return Fleet(deals=deals, gpus=gpus, pipeline=pipeline, depreciation=depreciation,
                 schedule=schedule, in_use=gpus + deals.rented)


@dataclass(frozen=True, eq=False)
class Team:
    """Headcount after the talent market, and what research made of the algorithms (R,C,...)."""

    staff: np.ndarray  # (R,C,3)
    hired: np.ndarray
    left: np.ndarray
    algo: np.ndarray  # algorithmic-efficiency multiplier

    @property
    def engineers(self) -> np.ndarray:
        return self.staff[:, :, ENGINEERS]

    @property
    def safety_staff(self) -> np.ndarray:
        return self.staff[:, :, SAFETY_STAFF]


def hire(world: World, state: State, d: DecisionArrays, cond: events.Conditions) -> Team:
    """The talent market clears on relative pay; this quarter's researchers improve the
    algorithms."""
    staff, hired, left = talent.hire(world, state.staff, d.staff_target, d.pay, cond)
    algo = talent.research_gain(world, state.algo, staff[:, :, RESEARCHERS])
    return Team(staff=staff, hired=hired, left=left, algo=algo)


@dataclass(frozen=True, eq=False)
class Training:
    """Pre-training after this quarter: the runs in progress and the model each company sells."""

    runs: dict[str, np.ndarray]  # the State's run_* fields
    model: dict[str, np.ndarray]  # the State's model_* fields
    ready: dict[str, np.ndarray]  # the State's ready_* fields: a finished model not yet on sale
    progress: training.RunProgress
    released: np.ndarray  # bool (R,C): a new model went live


def train(world: World, state: State, d: DecisionArrays, held: np.ndarray,
          training_gpus: np.ndarray, team: Team, rnd: int) -> Training:
    """Runs start or stop and take the quarter's training FLOPs; a finished model is kept ready
    and released when the team's rule says so (`training.released`)."""
    runs = start_runs(world, state, d, held, rnd)
    running = Rows(runs["run_on"])  # only runs in progress take FLOPs
    pace = running.apply(lambda gpus, active, engineers: training.pace(
        world, gpus, active, engineers), training_gpus, runs["run_active"], team.engineers)
    progress = training.advance_run(world, runs["run_on"], runs["run_flops_needed"],
                                    runs["run_flops_done"], pace, team.engineers,
                                    state.seeds, rnd)
    finished = Rows(progress.completed)  # only a completed run's model is rated
    new_cap = finished.apply(lambda *run: training.finished_capability(world, *run),
                             runs["run_total"], runs["run_active"], runs["run_tokens"],
                             runs["run_tokens_eff"], team.algo)
    ready = finish_runs(state, runs, progress.completed, new_cap)
    released = training.released(ready["ready_on"], ready["ready_cap"], state.model_cap, d.hold)
    model = {
        "model_cap": np.where(released, ready["ready_cap"], state.model_cap),
        "model_total": np.where(released, ready["ready_total"], state.model_total),
        "model_active": np.where(released, ready["ready_active"], state.model_active),
        "model_cutoff": np.where(released, ready["ready_cutoff"], state.model_cutoff),
        "model_version": state.model_version + released,
    }
    ready["ready_on"] = ready["ready_on"] & ~released
    runs["run_on"] = runs["run_on"] & ~progress.completed & ~progress.failed
    runs["run_flops_done"] = np.where(runs["run_on"], progress.flops_done, 0.0)
    return Training(runs=runs, model=model, ready=ready, progress=progress, released=released)


def finish_runs(state: State, runs: dict[str, np.ndarray], completed: np.ndarray,
                new_cap: np.ndarray) -> dict[str, np.ndarray]:
    """A finished run's model is kept ready (in place of any model kept before) until released."""

    def pick(new: np.ndarray, old: np.ndarray) -> np.ndarray:
        return np.where(completed, new, old)

    return {
        "ready_on": state.ready_on | completed,
        "ready_total": pick(runs["run_total"], state.ready_total),
        "ready_active": pick(runs["run_active"], state.ready_active),
        "ready_cap": pick(new_cap, state.ready_cap),
        "ready_cutoff": pick(runs["run_start"], state.ready_cutoff),
    }


def start_runs(world: World, state: State, d: DecisionArrays, held: np.ndarray,
               rnd: int) -> dict[str, np.ndarray]:
    """Cancel runs asked to stop; start requested runs at labs with none in progress."""
    on = state.run_on & ~d.cancel_run
    start = d.start_run & ~on & world.layout(state.runs).lab
    starting = Rows(start)  # the runs that start: their plan replaces the old run's
    total, active, tokens = (starting.take(a) for a in (d.run_total, d.run_active, d.run_tokens))
    needed, tokens_eff = training.plan_run(world, total, active, tokens, starting.take(held))
    return {
        "run_on": on | start,
        "run_total": starting.over(total, state.run_total),
        "run_active": starting.over(active, state.run_active),
        "run_tokens": starting.over(tokens, state.run_tokens),
        "run_tokens_eff": starting.over(tokens_eff, state.run_tokens_eff),
        "run_flops_needed": starting.over(needed, state.run_flops_needed),
        "run_flops_done": np.where(start | ~on, 0.0, state.run_flops_done),
        "run_start": starting.over(np.full(total.shape, rnd, state.run_start.dtype),
                                   state.run_start),
    }


@dataclass(frozen=True, eq=False)
class Tuning:
    """Fine-tuning and safety after this quarter's spend (R,C,...)."""

    sft: np.ndarray  # SFT examples held (R,C,S), before users add theirs
    safety_stock: np.ndarray
    safety: np.ndarray  # 0-100 safety of the offer


def tune(world: World, state: State, d: DecisionArrays, team: Team) -> Tuning:
    """Bought SFT examples, safety tuning made more effective by safety staff, the offer's
    safety."""
    sft = tuning.fine_tune(world, state.sft, d.sft)
    stock = tuning.safety_tuning(world, state.safety_stock, d.safety, team.safety_staff)
    safety = tuning.safety_level(world, state.safety_start, stock, team.safety_staff)
    return Tuning(sft=sft, safety_stock=stock, safety=safety)


@dataclass(frozen=True, eq=False)
class Sales:
    """The retail market of one quarter."""

    offers: market.Offers
    choice: market.Choice
    volume: np.ndarray  # (R,S) tokens buyers want
    capacity: np.ndarray  # (R,C) tokens each company can serve
    demand: np.ndarray  # (R,C,S) tokens asked of each company
    served: np.ndarray  # (R,C,S)
    share: np.ndarray  # (R,C,S) installed share after capacity limits
    rationed: np.ndarray  # (R,S) share of buyers who chose an offer that could not serve them
    revenue_by_segment: np.ndarray  # (R,C,S) $M
    retail: np.ndarray  # (R,C) $M
    tokens: np.ndarray  # (R,C) served


def serve_market(world: World, state: State, d: DecisionArrays, fleet: Fleet,
                 split: compute.FleetSplit, team: Team, trained: Training, tuned: Tuning,
                 open_cap: np.ndarray, cond: events.Conditions, rnd: int) -> Sales:
    """Buyers choose among the offers and the open-weight option; the installed base churns slowly,
    and what a lab's serving fleet cannot produce is lost."""
    offers = make_offers(world, state, d, trained, tuned, open_cap, rnd)
    choice = market.choose(world, offers, open_cap, rnd, cond.min_safety_add)
    installed = market.installed_share(world, state.share, state.rationed, choice, state.prices,
                                       state.offer_capability)
    volume = world.segment_volume(rnd) * cond.demand_mult[:, None]
    serving_memory = compute.memory_gb(world, fleet.in_use) * split.serving
    capacity = market.serving_capacity(world, split.serving_peak, serving_memory,
                                       trained.model["model_active"], trained.model["model_total"],
                                       team.algo, world.layout(state.runs).lab,
                                       market.engineer_capacity(world, team.engineers, rnd))
    demand, served = market.serve(installed, volume, capacity)
    share = served / np.maximum(volume[:, None, :], 1e-12)
    revenue_by_segment = served * d.price
    return Sales(
        offers=offers, choice=choice, volume=volume, capacity=capacity, demand=demand,
        served=served, share=share, rationed=sum_companies(installed - share),
        revenue_by_segment=revenue_by_segment, retail=sum_last(revenue_by_segment),
        tokens=sum_last(served),
    )


def make_offers(world: World, state: State, d: DecisionArrays, trained: Training, tuned: Tuning,
                open_cap: np.ndarray, rnd: int) -> market.Offers:
    """What each company sells: its base model less the alignment tax, skills, safety, freshness."""
    model = trained.model
    base_cap = market.base_of(d.base, model["model_cap"], open_cap)
    open_cutoff = np.full_like(open_cap, rnd - world.scenario.market.open_model_age_rounds)
    cutoff = market.base_of(d.base, model["model_cutoff"], open_cutoff)
    return market.Offers(
        capability=np.maximum(base_cap - tuning.alignment_tax(world, tuned.safety), 0.0),
        domain=tuning.domain_skill(world, tuned.sft), safety=tuned.safety,
        freshness=market.freshness(world, rnd, cutoff, d.rag),
        brand=state.brand, ecosystem=state.ecosystem, price=d.price,
    )


def incidents(world: World, state: State, held: np.ndarray, tuned: Tuning, team: Team,
              sales: Sales, cond: events.Conditions, rnd: int) -> risk.Incidents:
    """Incidents drawn on last quarter's user base; fines on regulated revenue; data lawsuits."""
    shares = data.data_shares(held)
    rate_parts = risk.rate_part_columns(world, state.served, tuned.safety, team.safety_staff,
                                        shares)
    regulated = market.safety_floor(world, cond.min_safety_add) > 0
    regulated_revenue = sum_last(sales.revenue_by_segment, regulated[:, None, :])
    return risk.incidents(world, rate_parts, state.served, regulated_revenue, held, shares,
                          cond.legal_mult, state.seeds, rnd)


def income_statement(world: World, state: State, d: DecisionArrays, fleet: Fleet, team: Team,
                     data_cost: np.ndarray, sales: Sales, api: market.ApiMarket,
                     inc: risk.Incidents, cond: events.Conditions,
                     rnd: int) -> dict[str, np.ndarray]:
    """Every line of the quarter's income statement but tax ($M, R,C), in STATEMENT_LINES order."""
    energy = compute.energy_cost(world, compute.energy_mwh(world, fleet.gpus), cond)
    return {
        "revenue_retail": sales.retail,
        "revenue_api": api.revenue,
        "compute_rental": fleet.deals.rent_cost,
        "compute_energy": energy,
        "compute_datacenter": compute.datacenter_cost(world, fleet.gpus),
        "compute_depreciation": fleet.depreciation,
        "api_fees": api.fees,
        "api_serving": api.serving_cost,
        "open_serving": api.open_serving_cost,
        "retrieval": market.retrieval_cost(world, sales.tokens, d.rag, rnd),
        "staff": talent.staff_cost(world, team.staff, d.pay, cond),
        "data": data_cost,
        "sft": sum_last(d.sft),
        "safety": d.safety,
        "marketing": d.marketing,
        "incidents": inc.cost,
        "fines": inc.fine,
        "settlements": inc.settlement,
        "interest": finance.interest(world, state.debt),
    }


@dataclass(frozen=True, eq=False)
class Totals:
    """Running totals over the game so far (R,C)."""

    revenue_recent: np.ndarray  # (R,C,Q) the trailing quarters' revenue, this one last
    revenue: np.ndarray
    tokens: np.ndarray  # served to buyers
    retail: np.ndarray  # revenue from buyers: what market share counts
    net_income: np.ndarray
    incidents: np.ndarray
    rescues: np.ndarray


def tally(state: State, revenue: np.ndarray, sales: Sales, books: Books,
          inc: risk.Incidents, quality: np.ndarray) -> Totals:
    """Add this quarter to the game's running totals; what a company sells counts towards the
    scorecard's share (revenue or tokens) at its quality (`finance.revenue_quality`): a board does
    not sign share bought at a loss."""
    return Totals(
        revenue_recent=scoring.trailing_revenue(state.revenue_recent, revenue),
        revenue=state.cum_revenue + revenue,
        tokens=state.cum_tokens + sales.tokens * quality,
        retail=state.cum_retail + sales.retail * quality,
        net_income=state.cum_net_income + books.net_income,
        incidents=state.incidents + inc.happened,
        rescues=state.rescues + (books.rescue > 0),
    )


def scorecard(world: World, state: State, totals: Totals, books: Books, stake_value: np.ndarray,
              brand: np.ndarray, capability: np.ndarray,
              rnd: int) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """The balanced scorecard: the eight raw metrics (R,C), each scaled to [0,1], and the 0-100
    score."""
    yardstick = scoring.value_yardstick(state.valuation_start)
    columns = [
        scoring.profit(totals.net_income, yardstick),
        scoring.revenue_growth(totals.revenue_recent, state.revenue_start),
        scoring.share_gained(scoring.share(world, totals.retail, totals.tokens),
                             state.share_start),
        scoring.value_created(stake_value, state.valuation_start, yardstick),
        brand,
        -totals.incidents,
        capability,
        scoring.solvency(books.cash - books.debt, totals.revenue - totals.net_income, rnd,
                         totals.rescues),
    ]
    scaled, score = scoring.scorecard(world, columns)
    return columns, scaled, score
