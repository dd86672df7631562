"""Whether a decision can be carried out: every problem at once for players, a fitted budget for
personas.

The budget rule lives in `spending` and `cash_available`, used by both paths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.arrays import Rows, sum_last
from app.engine.decisions import Decision, DecisionArrays
from app.engine.rules import data, events, finance, market, talent
from app.engine.state import State
from app.engine.world import DATA_KINDS, World

# The order money is committed in, with each line's field on the decision form.
SPENDING_FIELDS = (
    ("compute.buy_gpus", "GPU purchases"),
    ("compute.rent_gpus", "GPU rental"),
    ("data.scrape_t_tokens", "Web crawling"),
    ("data.license_t_tokens", "Data licences"),
    ("tuning.sft_musd", "Fine-tuning"),
    ("tuning.safety_musd", "Safety tuning"),
    ("products.marketing_musd", "Marketing"),
)


@dataclass(frozen=True)
class DecisionProblem:
    field: str  # dotted path on the decision form
    message: str



def raise_room(world: World, state: State) -> np.ndarray:
    """(R,C) the most each company can raise as the quarter opens (`finance.max_raise`)."""
    return finance.max_raise(world, state.valuation, state.cash, state.debt, state.ppe)

def spending(world: World, d: DecisionArrays) -> np.ndarray:
    """(R,C,7) money each spending line commits this quarter at list prices ($M), in SPENDING_FIELDS
    order."""
    return np.stack(_spending_lines(world, d), axis=-1)


def total_spending(world: World, d: DecisionArrays) -> np.ndarray:
    """(R,C) every spending line together: sum_last(spending(world, d)), without stacking them."""
    lines = _spending_lines(world, d)
    total = lines[0].copy()
    for line in lines[1:]:
        total += line
    return total


def _spending_lines(world: World, d: DecisionArrays) -> list[np.ndarray]:
    return [
        sum_last(d.buy, world.gpu_price_musd),
        sum_last(d.rent, world.gpu_rent_musd_round),
        d.data_buy[:, :, data.SCRAPED] * world.data_cost[data.SCRAPED],
        d.data_buy[:, :, data.LICENSED] * world.data_cost[data.LICENSED],
        sum_last(d.sft),
        d.safety,
        d.marketing,
    ]


def cash_available(state: State, d: DecisionArrays) -> np.ndarray:
    """Cash the company can commit: what it has plus new financing, less repayments."""
    return state.cash + d.raise_equity + d.borrow - d.repay


def financing_within_limits(world: World, state: State, d: DecisionArrays) -> DecisionArrays:
    """The financing a company can actually get: raises, loans and repayments cut to their
    limits."""
    room = finance.debt_room(world, state.revenue, state.ppe, state.debt)
    return d.replace(
        raise_equity=np.minimum(d.raise_equity, raise_room(world, state)),
        borrow=np.minimum(d.borrow, room),
        repay=np.minimum(d.repay, state.debt),
    )


def running_costs(world: World, state: State, d: DecisionArrays) -> np.ndarray:
    """A quarter's committed running costs before revenue: staff at their new pay ($M)."""
    return talent.staff_cost(world, d.staff_target, d.pay, events.no_shocks(state.runs))


def affordable(
    world: World,
    state: State,
    d: DecisionArrays,
    reserve_rounds: np.ndarray,
    prefers_debt: np.ndarray,
    total: np.ndarray | None = None,
) -> DecisionArrays:
    """Fit a persona's plan to its means: finance the gap if it can, else scale discretionary
    spending down (`total`: the plan's `total_spending`, when already worked out)."""
    total = total_spending(world, d) if total is None else total
    reserve = reserve_rounds * np.maximum(running_costs(world, state, d) - 0.5 * state.revenue, 0.0)
    gap = np.maximum(total + reserve - state.cash, 0.0)
    room_debt = finance.debt_room(world, state.revenue, state.ppe, state.debt)
    borrow = np.where(prefers_debt, np.minimum(gap, room_debt), 0.0)
    most_raise = raise_room(world, state)
    raise_ = np.minimum(gap - borrow, most_raise)
    # a plan that already asks for financing (a study's tweak) gets at least that, within limits
    borrow = np.minimum(np.maximum(borrow, d.borrow), room_debt)
    raise_ = np.minimum(np.maximum(raise_, d.raise_equity), most_raise)
    d = d.replace(borrow=borrow, raise_equity=raise_)
    return _spend_within(d, total, np.maximum(cash_available(state, d) - reserve, 0.0))


def within_budget(world: World, state: State, d: DecisionArrays) -> DecisionArrays:
    """Fit a decision someone wrote (a script, a strategy function) to its means, as personas' plans
    are fitted: financing cut to its limits, then every spending line scaled down alike until it
    fits the cash available."""
    d = financing_within_limits(world, state, d)
    return _spend_within(d, total_spending(world, d), np.maximum(cash_available(state, d), 0.0))


def _spend_within(d: DecisionArrays, total: np.ndarray, room: np.ndarray) -> DecisionArrays:
    """Every spending line scaled by one factor (R,C) so that their total fits `room`."""
    scale = np.minimum(1.0, room / np.maximum(total, 1e-9))
    cut = Rows(scale != 1.0)  # most plans fit: times 1 a line is what it was
    by = cut.take(scale)[:, None]

    def scaled(a: np.ndarray) -> np.ndarray:
        """a (R,C,n) * scale[:, :, None], multiplied only on the rows scaled down."""
        if not cut.index.size:
            return a  # decisions are never changed in place
        out = np.ascontiguousarray(a * 1.0)
        out.reshape(-1, a.shape[2])[cut.index] = cut.take(a) * by
        return out

    return d.replace(
        buy=scaled(d.buy),
        rent=scaled(d.rent),
        data_buy=scaled(d.data_buy),
        sft=scaled(d.sft),
        safety=d.safety * scale,
        marketing=d.marketing * scale,
    )


def validate(
    world: World, state: State, company: int, decision: Decision, d: DecisionArrays
) -> list[DecisionProblem]:
    """Every problem with one company's decision (run 0 of `state`, arrays `d` from to_arrays), in
    plain words."""
    c = company
    problems = _names(world, c, decision)
    problems += _budget(world, state, d, c)
    problems += _finance(world, state, d, c)
    problems += _gpus(world, state, d, c)
    problems += _data(world, state, d, c)
    problems += _training(world, state, d, c, decision)
    problems += _products(world, c, decision)
    problems += _api_price(world, state, c, decision)
    problems += _margin_squeeze(world, state, d, c)
    problems += _whole_numbers(decision)
    return problems


def _whole_numbers(dec: Decision) -> list[DecisionProblem]:
    """GPUs and people come whole: a count with a fractional part is refused at its field (the
    engine would round it down)."""
    counts = [
        *((f"compute.buy_gpus.{g}", n) for g, n in dec.compute.buy_gpus.items()),
        *((f"compute.rent_gpus.{g}", n) for g, n in dec.compute.rent_gpus.items()),
        *((f"talent.{role}", getattr(dec.talent, role))
          for role in ("researchers", "engineers", "safety_staff")),
    ]
    return [
        DecisionProblem(field, f"Enter a whole number ({n:,.10g} is not one).")
        for field, n in counts
        if n is not None and n != int(n)
    ]


def unknown_names(world: World, c: int, dec: Decision) -> list[DecisionProblem]:
    """What in a decision names nothing in this game: GPUs, segments, a base model; API prices of a
    product company. Found from the decision alone, before any state (scripts and strategies)."""
    return _names(world, c, dec) + _products(world, c, dec)


def _names(world: World, c: int, dec: Decision) -> list[DecisionProblem]:
    """Unknown GPU or segment names, found before any arithmetic (the model bounds every amount)."""
    out = []
    gpus, segs = world.gpu_names, world.segment_ids
    for field, table in (
        ("compute.buy_gpus", dec.compute.buy_gpus),
        ("compute.rent_gpus", dec.compute.rent_gpus),
    ):
        out += [
            DecisionProblem(
                f"{field}.{name}",
                f"There is no GPU called {name!r}; the catalogue has {', '.join(gpus)}.",
            )
            for name in table
            if name not in gpus
        ]
    for field, table in (
        ("tuning.sft_musd", dec.tuning.sft_musd),
        ("products.prices", dec.products.prices),
    ):
        out += [
            DecisionProblem(
                f"{field}.{seg}", f"There is no segment {seg!r}; segments are {', '.join(segs)}."
            )
            for seg in table
            if seg not in segs
        ]
    return out


def _budget(world: World, state: State, d: DecisionArrays, c: int) -> list[DecisionProblem]:
    """Money runs out at the first line that does not fit; say which and by how much."""
    spend = spending(world, d)[0, c]
    left = float(cash_available(state, financing_within_limits(world, state, d))[0, c])
    for (field, label), cost in zip(SPENDING_FIELDS, spend, strict=True):
        if cost > left + 1e-9:
            return [
                DecisionProblem(
                    field, f"{label} cost ${cost:,.1f}M; you have ${max(left, 0):,.1f}M left."
                )
            ]
        left -= cost
    return []


def _finance(world: World, state: State, d: DecisionArrays, c: int) -> list[DecisionProblem]:
    out = []
    cap = float(raise_room(world, state)[0, c])
    if d.raise_equity[0, c] > cap + 1e-9:
        business = cap / world.scenario.finance.max_raise_share
        out.append(
            DecisionProblem(
                "finance.raise_equity_musd",
                f"You can raise at most ${cap:,.1f}M this quarter "
                f"({world.scenario.finance.max_raise_share:.0%} of your business's "
                f"${business:,.1f}M value: your valuation less cash and GPUs, plus debt).",
            )
        )
    room = float(finance.debt_room(world, state.revenue, state.ppe, state.debt)[0, c])
    if d.borrow[0, c] > room + 1e-9:
        out.append(
            DecisionProblem(
                "finance.borrow_musd",
                f"Lenders will add at most ${room:,.1f}M of debt (limit: "
                f"{world.scenario.finance.max_debt_to_revenue:g}x annual revenue "
                "plus half your GPU book value).",
            )
        )
    if d.repay[0, c] > state.debt[0, c] + 1e-9:
        out.append(
            DecisionProblem(
                "finance.repay_musd",
                f"You owe ${state.debt[0, c]:,.1f}M; you cannot repay more than that.",
            )
        )
    return out


def _gpus(world: World, state: State, d: DecisionArrays, c: int) -> list[DecisionProblem]:
    from app.engine.rules.compute import gpu_allowed

    ban = events.export_ban_ahead(world, state.events_left)
    allowed = gpu_allowed(world, state.round + 1, ban)[0, c]
    out = []
    for g, name in enumerate(world.gpu_names):
        for field, arr in (("compute.buy_gpus", d.buy), ("compute.rent_gpus", d.rent)):
            if arr[0, c, g] > 0 and not allowed[g]:
                gpu = world.scenario.compute.gpus[g]
                why = (
                    f"ships from round {gpu.available_from_round}"
                    if gpu.available_from_round > state.round + 1
                    else "is under export controls for your region"
                )
                out.append(
                    DecisionProblem(
                        f"{field}.{name}", f"The {name} {why}; you cannot get it this round."
                    )
                )
    return out


# Each bought kind of data: its field on the decision form, and what its pool is called.
DATA_FIELDS = (
    (data.SCRAPED, "data.scrape_t_tokens", "crawl"),
    (data.LICENSED, "data.license_t_tokens", "license"),
    (data.SYNTHETIC, "data.synthetic_t_tokens", "generate"),
)


def _data(world: World, state: State, d: DecisionArrays, c: int) -> list[DecisionProblem]:
    """Asking for more data of a kind than its pool still holds for this company."""
    room = data.room(state.data, state.data_pool)[0, c]
    out = []
    for kind, field, verb in DATA_FIELDS:
        asked, left = float(d.data_buy[0, c, kind]), float(room[kind])
        if asked <= left + 1e-9:
            continue
        if world.data_pool[kind] <= 0:
            why = f"this scenario offers no {DATA_KINDS[kind]} data."
        else:
            why = _pool_left(world, state, c, kind, left)
        out.append(DecisionProblem(field, f"You cannot {verb} {asked:,.1f}T tokens: {why}"))
    return out


def _pool_left(world: World, state: State, c: int, kind: int, left: float) -> str:
    """What is left of a data pool for company c, in words."""
    if kind == data.SCRAPED:
        web = next(s for s in world.scenario.data.sources if s.kind == "scraped")
        held = float(state.data[0, c, kind])
        return (
            f"the open web has {left:,.1f}T tokens left that you do not already hold "
            f"(you hold {held:,.1f}T; sites close {web.restriction_growth_per_year:.0%} of what "
            "is left to crawlers each year). License data or generate synthetic data instead."
        )
    if kind == data.LICENSED:
        return (
            f"only {left:,.1f}T tokens are still on offer for licensing "
            "(deals are exclusive; rivals took the rest)."
        )
    return (
        f"you can generate only {left:,.1f}T more synthetic tokens (you hold "
        f"{float(state.data[0, c, kind]):,.1f}T of the {world.data_pool[kind]:,.0f}T that add "
        "anything new before synthetic data stops adding diversity)."
    )


def _training(
    world: World, state: State, d: DecisionArrays, c: int, dec: Decision
) -> list[DecisionProblem]:
    plan = dec.training.start
    if plan is None:
        return []
    name = world.company_names[c]
    if not world.is_lab[c]:
        return [
            DecisionProblem(
                "training.start",
                f"{name} is a product company: it builds on a vendor's or an open-weight "
                "model and does not pre-train.",
            )
        ]
    if state.run_on[0, c] and not dec.training.cancel:
        return [
            DecisionProblem(
                "training.start",
                "A pre-training run is already in progress; "
                "cancel it first or wait for it to finish.",
            )
        ]
    out = []
    held = data.after_purchases(state.data, state.data_pool, d.data_buy)
    unique = float(sum_last(held)[0, c])  # passes are counted over the tokens, whatever their kind
    max_epochs = world.scenario.data.max_epochs
    if plan.tokens_t > max_epochs * max(unique, 1e-9):
        out.append(
            DecisionProblem(
                "training.start.tokens_t",
                f"{plan.tokens_t:,.1f}T tokens would be "
                f"{plan.tokens_t / max(unique, 1e-9):,.0f} passes over "
                f"your {unique:,.1f}T unique tokens; beyond {max_epochs:.0f} passes "
                "more tokens teach nothing. Buy data or train on fewer tokens.",
            )
        )
    return out


def _api_price(world: World, state: State, c: int, dec: Decision) -> list[DecisionProblem]:
    """A wholesale price above the scenario's limit (market.api_markup_limit) is refused."""
    price = dec.products.api_price
    most = market.api_price_limit(world, state.round + 1)
    if price is None or not world.is_lab[c] or price <= most + 1e-9:
        return []
    share = world.scenario.market.api_markup_limit
    return [DecisionProblem(
        "products.api_price",
        f"API access may cost at most ${most:,.2f} per million tokens this round "
        f"({share:g}x the average reference price); you asked ${price:,.2f}.")]


def _margin_squeeze(world: World, state: State, d: DecisionArrays, c: int) -> list[DecisionProblem]:
    """A retail price below the competition-law floor (`market.squeeze_floor`) of a lab with
    product companies on its model is refused at its segment's field."""
    rnd = state.round + 1
    prices = d.price[:1, c]
    lawful = market.lawful_prices(world, d.price[:1], d.api_price[:1], state.base[:1], rnd)[0, c]
    if (prices[0] >= lawful - 1e-9).all():
        return []
    customers = market.customers(world, state.base[0], c)
    wholesale = min(float(d.api_price[0, c]), market.api_price_limit(world, rnd))
    engineers = market.engineers_per_m_tokens(world, rnd)
    return [
        DecisionProblem(
            f"products.prices.{seg}",
            f"Competition law: {', '.join(customers)} built on your model last quarter, so you "
            f"may not sell retail below what a token costs them, ${lawful[s]:,.2f} per million "
            f"(your wholesale ${wholesale:,.2f} and their engineers ${engineers:,.2f}); you asked "
            f"${prices[0, s]:,.2f}. Price higher, or lower your wholesale price.",
        )
        for s, seg in enumerate(world.segment_ids)
        if prices[0, s] < lawful[s] - 1e-9
    ]


def _products(world: World, c: int, dec: Decision) -> list[DecisionProblem]:
    base = dec.products.base_model
    out = []
    if base is not None and not world.is_lab[c]:
        labs = [n for n, lab in zip(world.company_names, world.is_lab, strict=True) if lab]
        if base != "open" and base not in labs:
            out.append(
                DecisionProblem(
                    "products.base_model",
                    "Build on 'open' or one of this game's labs "
                    f"({', '.join(labs) or 'none'}), not {base!r}.",
                )
            )
    if dec.products.api_price is not None and not world.is_lab[c]:
        out.append(DecisionProblem("products.api_price", "Only labs sell API access."))
    return out
