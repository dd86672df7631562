"""Round reports: statements, KPIs, shares, leaderboard, news, and the drivers behind every result.

Reports are plain JSON-ready dicts. What rivals may see ("public") is kept apart from each
company's own books ("private"); `view_for` gives one company its view.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.engine.game import PlayedRound
from app.engine.rules import market, scoring, training, tuning
from app.engine.rules.market import ATTRIBUTES, Choice
from app.engine.rules.risk import INCIDENT_CAUSES
from app.engine.state import STAFF_ROLES, State
from app.engine.step import COST_LINES, Outcome
from app.engine.world import DATA_KINDS, EVENT_KINDS, OPEN_MODEL, World
from app.scenario.schema import PERSONAS

Json = dict[str, Any]
DIGITS = 4
OUTSIDE = "Open-weight models"
ATTRIBUTE_WORDS = {
    "capability": "capability",
    "domain": "domain skill",
    "safety": "safety",
    "freshness": "freshness",
    "brand": "brand",
    "ecosystem": "ecosystem",
    "price": "price",
}
LINE_LABELS = {
    "revenue_retail": "Revenue from customers",
    "revenue_api": "API revenue from product companies",
    "compute_rental": "GPU rental",
    "compute_energy": "Electricity",
    "compute_datacenter": "Data-centre space",
    "compute_depreciation": "GPU depreciation",
    "api_fees": "API fees to vendor",
    "api_serving": "Cloud serving of API customers",
    "open_serving": "Serving open-weight models",
    "retrieval": "Retrieval (RAG)",
    "staff": "Staff",
    "data": "Data",
    "sft": "Fine-tuning (SFT)",
    "safety": "Safety tuning",
    "marketing": "Marketing",
    "incidents": "Incident costs",
    "fines": "Regulatory fines",
    "settlements": "Lawsuit settlements",
    "interest": "Interest",
    "tax": "Tax",
}


class NonFiniteFigure(ValueError):
    """A report figure is NaN or infinite: a bug in the rules, never a number to show."""


def _r(x: float) -> float:
    return round(float(x), DIGITS) + 0.0  # + 0.0 turns -0.0 into 0.0


def finite(report: Json, where: str = "report") -> Json:
    """The report itself once every number in it is finite; else NonFiniteFigure names the first."""
    stack: list[tuple[str, Any]] = [(where, report)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack += [(f"{path}.{k}", v) for k, v in value.items()]
        elif isinstance(value, list):
            stack += [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        elif isinstance(value, float) and not np.isfinite(value):
            raise NonFiniteFigure(f"{path} is {value}")
    return report


def round_report(world: World, played: PlayedRound) -> Json:
    """The whole report of one round of one game (run 0)."""
    o, names = played.outcome, world.company_names
    parts = Parts.of(world, played)
    return finite(
        {
            "round": o.round,
            "market": _market(world, played),
            "companies": {
                n: {
                    "public": _public(world, played, c),
                    "private": _private(world, played, c, parts),
                }
                for c, n in enumerate(names)
            },
        },
        f"round {o.round} report",
    )


@dataclass(frozen=True, eq=False)
class Parts:
    """Utility by attribute this round and last, of each class of buyers (in `Choice.classes`
    order), computed once per report."""

    now: tuple[np.ndarray, ...]
    outside_now: tuple[np.ndarray, ...]
    then: tuple[np.ndarray, ...]
    outside_then: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, world: World, played: PlayedRound) -> Parts:
        choice, previous = played.outcome.choice, played.previous_choice
        now = [choice.parts(world, k.frontier) for k in choice.classes]
        then = [previous.parts(world, k.frontier) for k in previous.classes]
        return cls(tuple(p for p, _ in now), tuple(o for _, o in now),
                   tuple(p for p, _ in then), tuple(o for _, o in then))


def view_for(report: Json, company: str | None) -> Json:
    """What one company may see: the market, every rival's public page, and its own private
    books."""
    return {
        "round": report["round"],
        "market": report["market"],
        "companies": {
            n: (v if n == company else {"public": v["public"]})
            for n, v in report["companies"].items()
        },
    }


def dumps(report: Json) -> str:
    """Canonical bytes of a report: equal games give equal bytes."""
    return json.dumps(report, sort_keys=True, separators=(",", ":"))


def _market(world: World, p: PlayedRound) -> Json:
    o, a = p.outcome, p.after
    segs = world.scenario.market.segments
    leaderboard = sorted(
        (
            {
                "company": n,
                "capability": _r(o.effective_capability[0, c]),
                "model_version": int(a.model_version[0, c]),
                "base_model": _base_name(world, int(a.base[0, c])),
                "score": _r(o.score[0, c]),
            }
            for c, n in enumerate(world.company_names)
        ),
        key=lambda row: -float(row["capability"]),  # type: ignore[arg-type]
    )
    return {
        "segments": [
            {
                "id": s.id,
                "name": s.name,
                "volume_t_tokens": _r(o.volume[0, i]),
                "reference_price": _r(o.reference_price[i]),
                "outside_share": _r(1.0 - o.share[0, :, i].sum()),
            }
            for i, s in enumerate(segs)
        ],
        "open_weight_capability": _r(a.open_capability[0]),
        "leaderboard": leaderboard,
        "scoreboard": sorted(
            ({"company": n, "score": _r(o.score[0, c])} for c, n in enumerate(world.company_names)),
            key=lambda r: -r["score"],
        ),
        "gpu_prices": {
            g: {
                "buy_usd": _r(o.deals.buy_price[0, i] * 1e6),
                "rent_per_hour": _r(o.deals.rent_price[0, i] * 1e6 / 2190.0),
            }
            for i, g in enumerate(world.gpu_names)
        },
        "news": news(world, p),
        "active_events": [
            world.scenario.events[e].title for e in np.flatnonzero(o.conditions.active[0])
        ],
    }


def _base_name(world: World, code: int) -> str:
    if code == OPEN_MODEL:
        return "open weights"
    if code < 0:
        return "own model"
    return world.company_names[code]


def news(world: World, p: PlayedRound) -> list[str]:
    """Headlines anyone can read: events, releases, incidents, lawsuits, rescues, finished and
    failed runs."""
    o, a, names, out = p.outcome, p.after, world.company_names, []
    out += [f"{world.scenario.events[e].title}." for e in np.flatnonzero(o.conditions.started[0])]
    for c, n in enumerate(names):
        if o.released[0, c]:
            out.append(
                f"{n} releases a new model (capability {a.model_cap[0, c]:.1f}, "
                f"{a.model_total[0, c]:,.0f}B parameters)."
            )
        if o.progress.failed[0, c]:
            out.append(f"{n}'s pre-training run failed and was lost.")
        if o.incidents.happened[0, c]:
            out.append(
                f"{n} suffers a public safety incident (severity {o.incidents.severity[0, c]:.1f})."
            )
        if o.incidents.lawsuit[0, c]:
            out.append(
                f"{n} settles a copyright lawsuit for ${o.incidents.settlement[0, c]:,.0f}M."
            )
        if o.rescue[0, c] > 0:
            out.append(f"{n} ran out of cash and was rescued by investors at a punishing price.")
    return out


def _public(world: World, p: PlayedRound, c: int) -> Json:
    o, a = p.outcome, p.after
    return public_page(
        world,
        c,
        o.offers.price[0, c],
        a.api_price[0, c],
        o.effective_capability[0, c],
        o.share[0, c],
        int(a.base[0, c]),
        a.brand[0, c],
        o.score[0, c],
    )


def public_page(
    world: World,
    c: int,
    prices: Sequence[float],
    api_price: float,
    capability: float,
    share: Sequence[float],
    base: int,
    brand: float,
    score: float | None,
) -> Json:
    """Company c's public page: all that rivals may see of it (list prices and market share by
    segment, API price, the capability of what it sells, kind, base model, brand, score). The one
    definition of "public", shared by round reports and the player views of `app.engine.views`;
    `score` is None before any round is scored."""
    segments = world.segment_ids
    return {
        "prices": {s: _r(v) for s, v in zip(segments, prices, strict=True)},
        "api_price": _r(api_price) if world.is_lab[c] else None,
        "capability": _r(capability),
        "share": {s: _r(v) for s, v in zip(segments, share, strict=True)},
        "kind": world.scenario.companies[c].kind,
        "base_model": _base_name(world, base),
        "brand": _r(brand),
        "score": None if score is None else _r(score),
    }


def _private(world: World, p: PlayedRound, c: int, parts: Parts) -> Json:
    drivers = share_drivers(world, p, c, parts)
    return {
        "income_statement": income_statement(p.outcome, c),
        "balance_sheet": balance_sheet(p, c),
        "cash_flow": cash_flow(p, c),
        "kpis": kpis(world, p, c),
        "scorecard": scorecard(world, p, c),
        "drivers": drivers,
        "cost_waterfall": cost_waterfall(p.outcome, c),
        "incidents": incident_report(p.outcome, c),
        "training": training_report(world, p, c),
        "summary": summary(world, p, c, drivers),
    }


def income_statement(o: Outcome, c: int) -> Json:
    lines = {k: _r(v[0, c]) for k, v in o.lines.items()}
    return {
        "lines": lines,
        "labels": {k: LINE_LABELS[k] for k in lines},
        "revenue": _r(o.revenue[0, c]),
        "operating_income": _r(o.operating_income[0, c]),
        "net_income": _r(o.net_income[0, c]),
    }


def balance_sheet(p: PlayedRound, c: int) -> Json:
    a = p.after
    assets = a.cash[0, c] + a.ppe[0, c]
    equity = a.paid_in[0, c] + a.retained[0, c]
    return {
        "cash": _r(a.cash[0, c]),
        "gpus_net_book": _r(a.ppe[0, c]),
        "total_assets": _r(assets),
        "debt": _r(a.debt[0, c]),
        "paid_in_capital": _r(a.paid_in[0, c]),
        "retained_earnings": _r(a.retained[0, c]),
        "total_equity": _r(equity),
        "total_liabilities_and_equity": _r(a.debt[0, c] + equity),
    }


def cash_flow(p: PlayedRound, c: int) -> Json:
    cf = {k: _r(v[0, c]) for k, v in p.outcome.cash_flow.items()}
    return {
        **cf,
        "opening_cash": _r(p.before.cash[0, c]),
        "closing_cash": _r(p.after.cash[0, c]),
        "net_change": _r(p.after.cash[0, c] - p.before.cash[0, c]),
        "rescue": _r(p.outcome.rescue[0, c]),
    }


def kpis(world: World, p: PlayedRound, c: int) -> Json:
    o, a = p.outcome, p.after
    burn = max(-(o.cash_flow["operating"][0, c]), 0.0)
    return {
        "revenue": _r(o.revenue[0, c]),
        "net_income": _r(o.net_income[0, c]),
        "cash": _r(a.cash[0, c]),
        "runway_quarters": _r(a.cash[0, c] / burn) if burn > 0 else None,
        "valuation": _r(a.valuation[0, c]),
        "ownership": _r(a.ownership[0, c]),
        "debt": _r(a.debt[0, c]),
        "capability": _r(o.effective_capability[0, c]),
        "model_capability": _r(a.model_cap[0, c]),
        "safety": _r(o.safety[0, c]),
        "brand": _r(a.brand[0, c]),
        "freshness": _r(o.offers.freshness[0, c]),
        "domain_skill": {s: _r(o.offers.domain[0, c, i]) for i, s in enumerate(world.segment_ids)},
        "gpus": {
            g: _r(a.gpus[0, c, i]) for i, g in enumerate(world.gpu_names) if a.gpus[0, c, i] > 0
        },
        "gpus_on_order": _r(a.pipeline[0, c].sum()),
        "staff": {r: _r(a.staff[0, c, i]) for i, r in enumerate(STAFF_ROLES)},
        "hired": {r: _r(o.hired[0, c, i]) for i, r in enumerate(STAFF_ROLES)},
        "left": {r: _r(o.left[0, c, i]) for i, r in enumerate(STAFF_ROLES)},
        "data_t_tokens": {k: _r(a.data[0, c, i]) for i, k in enumerate(DATA_KINDS)},
        "tokens_served_t": _r(o.served[0, c].sum()),
        "tokens_demanded_t": _r(o.demand[0, c].sum()),
        "serving_capacity_t": _r(min(o.capacity[0, c], 1e12)),
        "algorithmic_efficiency": _r(a.algo[0, c]),
        "distressed": bool(a.rescues[0, c] > 0),
        "incidents_to_date": int(a.incidents[0, c]),
    }


def scorecard(world: World, p: PlayedRound, c: int) -> Json:
    """The team's scorecard as a board reads it: each metric's raw value, its scaled value, its
    weight and its range (the scenario's, moved by the company's par), the yardstick money is
    measured in, and the score they add up to."""
    o, card = p.outcome, world.scenario.scoring
    return {
        "score": _r(o.score[0, c]),
        "metrics": {m: _r(o.metrics[0, c, i]) for i, m in enumerate(scoring.METRICS)},
        "scaled": {m: _r(o.scaled_metrics[0, c, i]) for i, m in enumerate(scoring.METRICS)},
        "weights": card.weights(),
        "ranges": {m: {"low": _r(world.score_low[c, i]), "high": _r(world.score_high[c, i])}
                   for i, m in enumerate(scoring.METRICS)},
        "par": world.scenario.companies[c].par.model_dump(),
        "share_basis": card.share_basis,
        "yardstick_musd": _r(scoring.value_yardstick(p.after.valuation_start)[0, 0]),
    }


def cost_waterfall(o: Outcome, c: int) -> list[Json]:
    """Revenue, then every cost, down to net income: each step's amount and the running total
    ($M)."""
    running = float(o.revenue[0, c])
    steps = [{"label": "Revenue", "amount": _r(running), "total": _r(running)}]
    for k in (*COST_LINES, "interest", "tax"):
        amount = float(o.lines[k][0, c])
        if abs(amount) > 1e-9:
            running -= amount
            steps.append({"label": LINE_LABELS[k], "amount": _r(-amount), "total": _r(running)})
    steps.append(
        {"label": "Net income", "amount": _r(o.net_income[0, c]), "total": _r(o.net_income[0, c])}
    )
    return steps


def incident_report(o: Outcome, c: int) -> Json:
    """The chance of an incident this round and what drove it, as multipliers on the base rate."""
    inc = o.incidents
    parts = inc.rate_parts[0, c]
    return {
        "probability": _r(inc.probability[0, c]),
        "expected_rate": _r(np.exp(parts.sum())),
        "causes": {name: _r(np.exp(v)) for name, v in zip(INCIDENT_CAUSES, parts, strict=True)},
        "happened": bool(inc.happened[0, c]),
        "severity": _r(inc.severity[0, c]),
        "cost": _r(inc.cost[0, c]),
        "fine": _r(inc.fine[0, c]),
        "lawsuit_probability": _r(inc.lawsuit_probability[0, c]),
        "lawsuit": bool(inc.lawsuit[0, c]),
        "settlement": _r(inc.settlement[0, c]),
    }


def training_report(world: World, p: PlayedRound, c: int) -> Json:
    o, a = p.outcome, p.after
    pr = o.progress
    needed = float(a.run_flops_needed[0, c])
    done = float(a.run_flops_done[0, c])
    rate = float(pr.delivered[0, c])
    left = max(needed - done, 0.0)
    return {
        "in_progress": bool(a.run_on[0, c]),
        "params_b": _r(a.run_total[0, c]),
        "active_params_b": _r(a.run_active[0, c]),
        "tokens_t": _r(a.run_tokens[0, c]),
        "progress": _r(done / needed) if a.run_on[0, c] and needed > 0 else None,
        "expected_finish_round": _finish(o.round, training.quarters_to_finish(left, rate))
        if a.run_on[0, c]
        else None,
        "flops_this_round": _r(rate),
        "setback_probability": _r(pr.setback_probability[0, c]),
        "slipped": bool(pr.slipped[0, c]),
        "failed": bool(pr.failed[0, c]),
        "released": bool(o.released[0, c]),
        "finished": bool(pr.completed[0, c]),
        "release": "hold" if p.decisions.hold[0, c] else "when_better",
        "model": {
            "params_b": _r(a.model_total[0, c]),
            "active_params_b": _r(a.model_active[0, c]),
            "capability": _r(a.model_cap[0, c]),
            "cutoff_round": _r(a.model_cutoff[0, c]),
            "version": int(a.model_version[0, c]),
        },
        "ready_model": ready_model(a, c),
    }


def ready_model(state: State, c: int) -> Json | None:
    """The finished model company c keeps ready, not on sale (None: none), and why: `weaker` when
    it rates at or below the model on sale (never released), else `held` by the team's choice."""
    if not state.ready_on[0, c]:
        return None
    weaker = bool(state.ready_cap[0, c] <= state.model_cap[0, c])
    return {
        "params_b": _r(state.ready_total[0, c]),
        "active_params_b": _r(state.ready_active[0, c]),
        "capability": _r(state.ready_cap[0, c]),
        "cutoff_round": int(state.ready_cutoff[0, c]),
        "kept_because": "weaker" if weaker else "held",
    }


def _finish(rnd: int, quarters: int | None) -> int | None:
    return None if quarters is None else rnd + quarters


def share_drivers(world: World, p: PlayedRound, c: int, parts: Parts | None = None) -> list[Json]:
    """Change in share per segment, split into: buyers' re-choice by attribute and by whose offer
    moved, installed-base drift, lost for want of capacity, and barred by a safety minimum."""
    o, prev, b = p.outcome, p.previous_choice, p.before
    parts = parts or Parts.of(world, p)
    churn = world.seg_churn
    staying, choosing = market.staying(world, b.share, b.rationed, o.choice, b.prices,
                                       b.offer_capability)
    out = []
    for s, seg in enumerate(world.segment_ids):
        before, after = float(o.share_before[0, c, s]), float(o.share[0, c, s])
        choice_now = o.choice.probability[0, c, s]
        choice_then = prev.probability[0, c, s]
        eligible = bool(o.choice.eligible[0, c, s])
        kept, pool = float(staying[0, c, s]), float(choosing[0, s])
        barred = -(1 - churn[s]) * before * (not eligible)
        uncapped = kept + pool * choice_now
        by_who = {
            who: {a: v * pool for a, v in parts.items()}
            for who, parts in _choice_contributions(world, prev, o.choice, parts, c, s).items()
        }
        # the installed base: buyers who left a worse offer, and the re-choosing pool's pull
        # towards last quarter's choice
        drift = kept - (1 - churn[s]) * before * eligible + pool * choice_then - churn[s] * before
        out.append(
            {
                "segment": seg,
                "before": _r(before),
                "after": _r(after),
                "change": _r(after - before),
                "by_attribute": {a: _r(sum(v[a] for v in by_who.values())) for a in ATTRIBUTES},
                "by_company": {
                    who: {a: _r(v) for a, v in parts.items()} for who, parts in by_who.items()
                },
                "installed_base": _r(drift),
                "capacity": _r(after - uncapped),
                "barred_by_safety_minimum": _r(barred),
            }
        )
    return out


def _choice_contributions(
    world: World, then: Choice, now: Choice, parts: Parts, c: int, s: int
) -> dict[str, dict[str, float]]:
    """How much each company's (and the outside option's) change in each attribute moved company c's
    choice probability: first-order logit terms p_c (1[j=c] - p_j) du_j of each class of buyers,
    weighted by its share of the buyers, rescaled to add up to the actual change."""
    names = [*world.company_names, OUTSIDE]
    terms = np.zeros((len(names), len(ATTRIBUTES)))
    for k, (cls_now, cls_then) in enumerate(zip(now.classes, then.classes, strict=True)):
        p = np.append(cls_now.probability[0, :, s], cls_now.outside_probability[0, s])
        p_then = np.append(cls_then.probability[0, :, s], cls_then.outside_probability[0, s])
        du = np.vstack(
            [
                parts.now[k][0, :, s] - parts.then[k][0, :, s],
                parts.outside_now[k][0, s] - parts.outside_then[k][0, s],
            ]
        )
        du = np.where(np.isfinite(du), du, 0.0)
        pm = 0.5 * (p + p_then)
        coef = cls_now.weight * pm[c] * ((np.arange(len(names)) == c) - pm)
        terms += coef[:, None] * du
    actual = float(now.probability[0, c, s] - then.probability[0, c, s])
    total = terms.sum()
    scale = actual / total if abs(total) > 1e-12 else 0.0
    terms = terms * scale if abs(total) > 1e-12 else terms * 0.0
    return {
        names[j]: {a: float(terms[j, k]) for k, a in enumerate(ATTRIBUTES)}
        for j in range(len(names))
        if np.abs(terms[j]).sum() > 1e-9
    }


def summary(world: World, p: PlayedRound, c: int, drivers: list[Json] | None = None) -> list[str]:
    """Plain-language lines: the biggest share moves and their top two causes, then money."""
    lines = []
    segs = {s.id: s.name for s in world.scenario.market.segments}
    drivers = sorted(
        drivers if drivers is not None else share_drivers(world, p, c),
        key=lambda d: -abs(d["change"]),
    )
    for d in drivers[:2]:
        pts = d["change"] * 100
        if abs(pts) < 0.5:
            continue
        verb = "gained" if pts > 0 else "lost"
        causes = _top_causes(d, world.company_names[c])
        because = f", mostly because {causes}" if causes else ""
        lines.append(f"You {verb} {abs(pts):.1f} points of share in {segs[d['segment']]}{because}.")
    o = p.outcome
    lines += release_lines(p, c)
    lines.append(
        f"Revenue ${o.revenue[0, c]:,.1f}M, net income ${o.net_income[0, c]:,.1f}M, "
        f"cash ${p.after.cash[0, c]:,.1f}M."
    )
    if o.rescue[0, c] > 0:
        lines.append(
            f"You ran out of cash: investors put in ${o.rescue[0, c]:,.1f}M "
            "at a punishing valuation."
        )
    return lines


def release_lines(p: PlayedRound, c: int) -> list[str]:
    """What became of a finished model: released from being kept ready, held, or weaker than the
    model on sale and so kept ready, not released."""
    o, a = p.outcome, p.after
    if o.released[0, c] and not o.progress.completed[0, c]:
        return [f"You released the model you kept ready (capability {a.model_cap[0, c]:.1f}, "
                f"{a.model_total[0, c]:,.0f}B parameters)."]
    if not (o.progress.completed[0, c] and a.ready_on[0, c]):
        return []
    ready, current = a.ready_cap[0, c], a.model_cap[0, c]
    if ready <= current:
        return [f"Your run finished at capability {ready:.1f}; it rates below your current model "
                f"({current:.1f}) and was kept ready, not released."]
    return [f"Your run finished at capability {ready:.1f}, above your current model "
            f"({current:.1f}); you chose to hold it, so it is kept ready and your current model "
            "keeps selling. Choose \"release when better\" to put it on sale."]


def _top_causes(d: Json, me: str) -> str:
    flat = [(who, a, v) for who, parts in d["by_company"].items() for a, v in parts.items()]
    flat += [
        ("", "capacity", d["capacity"]),
        ("", "installed base", d["installed_base"]),
        ("", "safety minimum", d["barred_by_safety_minimum"]),
    ]
    flat = sorted((x for x in flat if abs(x[2]) >= 0.002), key=lambda x: -abs(x[2]))[:2]
    return " and ".join(_cause_words(who, a, v, me) for who, a, v in flat)


def _cause_words(who: str, attribute: str, value: float, me: str) -> str:
    pts = f"({value * 100:+.1f})"
    if who == "":
        return {
            "capacity": f"you could not serve all demand {pts}",
            "installed base": f"your installed base settled {pts}",
            "safety minimum": f"buyers there require more safety than you offer {pts}",
        }[attribute]
    word = ATTRIBUTE_WORDS[attribute]
    if who == me:
        return f"your {word} {'helped' if value > 0 else 'hurt'} {pts}"
    if attribute == "price":
        return f"{who}'s price moved {pts}"
    return f"{who}'s {word} changed {pts}"


__all__ = ["EVENT_KINDS", "PERSONAS", "dumps", "round_report", "view_for"]


def retail_floor(world: World, state: State, c: int, run: int = 0) -> Json | None:
    """The least lab `c` may ask retail as the next round opens, under `market.no_margin_squeeze`
    (customers: the product companies on its model last quarter; per_m_tokens at the wholesale
    price in force; engineers_per_m_tokens), or None where no floor holds it."""
    if not market.squeeze_applies(world):
        return None
    rnd = state.round + 1
    base, api = state.base[run:run + 1], state.api_price[run:run + 1]
    floor = float(market.squeeze_floor(world, api, base, rnd)[0, c])
    if floor <= 0.0:
        return None
    return {
        "customers": market.customers(world, base[0], c),
        "per_m_tokens": floor,
        "engineers_per_m_tokens": market.engineers_per_m_tokens(world, rnd),
    }


def company_view(world: World, state: State, c: int) -> Json:
    """Where a company stands as the next round opens (run 0 of `state`): what its dashboard
    shows."""
    safety = tuning.safety_now(world, state)
    needed, done = float(state.run_flops_needed[0, c]), float(state.run_flops_done[0, c])
    return finite(
        {
            "round": state.round,
            "cash": _r(state.cash[0, c]),
            "debt": _r(state.debt[0, c]),
            "valuation": _r(state.valuation[0, c]),
            "revenue": _r(state.revenue[0, c]),
            "brand": _r(state.brand[0, c]),
            "safety": _r(safety[0, c]),
            "gpus": {
                g: _r(state.gpus[0, c, i])
                for i, g in enumerate(world.gpu_names)
                if state.gpus[0, c, i] > 0
            },
            "gpus_on_order": _r(state.pipeline[0, c].sum()),
            "staff": {r: _r(state.staff[0, c, i]) for i, r in enumerate(STAFF_ROLES)},
            "model": {
                "params_b": _r(state.model_total[0, c]),
                "active_params_b": _r(state.model_active[0, c]),
                "capability": _r(state.model_cap[0, c]),
                "cutoff_round": int(state.model_cutoff[0, c]),
            },
            "ready_model": ready_model(state, c),
            "retail_floor": retail_floor(world, state, c),
            "release": "hold" if state.release_hold[0, c] else "when_better",
            "run": {
                "params_b": _r(state.run_total[0, c]),
                "tokens_t": _r(state.run_tokens[0, c]),
                "progress": _r(done / needed),
            }
            if state.run_on[0, c] and needed > 0
            else None,
            "share": {s: _r(state.share[0, c, i]) for i, s in enumerate(world.segment_ids)},
            "prices": {s: _r(state.prices[0, c, i]) for i, s in enumerate(world.segment_ids)},
            "data_t_tokens": {k: _r(state.data[0, c, i]) for i, k in enumerate(DATA_KINDS)},
        },
        f"{world.company_names[c]}'s dashboard",
    )
