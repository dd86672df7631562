"""What a player could see, for strategies written as Python functions.

A what-if study may seat a user's function `package.module:function` (or `path/to/file.py:function`)
in place of a persona. Each round the function receives a `PlayerView`: the public market, every
company's public page (the same page the round report shows rivals, `report.public_page`) and its
own books, never a rival's private books. It returns a `Decision`, the decision form's JSON as a
dict, or None to carry on with its last decision's recurring choices.

    view = player_view(world, state, run=0, company=0, outcome=last_outcome, memory=seat_memory)
    decision = decision_from(strategy(view), view.company, view.round, previous=last_decision)

A view holds plain Python values only (floats, ints, str, bools, None, dicts, lists), so it prints
and `json.dumps(view.as_dict())` works. Money is in US$ millions (`_musd`), tokens in trillions
(`_t_tokens`), prices in US$ per million tokens, parameters in billions (`_b`).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from pydantic import ValidationError

from app.engine.decisions import Decision
from app.engine.report import _base_name, public_page, retail_floor
from app.engine.rules import compute, data, events, finance, market, talent, training, tuning
from app.engine.state import ENGINEERS, STAFF_ROLES, State
from app.engine.step import COST_LINES, Outcome
from app.engine.world import DATA_KINDS, EVENT_KINDS, OPEN_MODEL, World
from app.scenario.loader import plain_message, shown
from app.scenario.schema import HOURS_PER_ROUND

Json = dict[str, Any]
Strategy = Callable[["PlayerView"], "Decision | dict[str, Any] | None"]
LISTED_CALLABLES = 5  # how many of a module's callables an error about a missing one names
_REGULATION = EVENT_KINDS.index("regulation")
_BOUGHT_KINDS = DATA_KINDS[:3]  # proprietary data comes only from a product's own users


class StrategyError(ValueError):
    """A strategy that cannot be loaded, or that returned something that is not a valid decision."""


@dataclass(frozen=True)
class PlayerView:
    """Everything one company's player could see as a round opens, in one game (one run of a study).

    round        the round about to be decided (1-based); `rounds` is the game's length
    company      this company's name; `kind` is "lab" or "product"
    market       the coming round's market: `segments` (id, name, volume_t_tokens before
                 shocks, reference_price, min_safety in force, growth_per_round),
                 `open_weight_capability`, `open_serving_cost_per_m_tokens`,
                 `retrieval_cost_per_m_tokens`, `gpus` by name (catalogue buy_usd and
                 rent_per_hour, last round's clearing prices, tflops, memory_gb, whether this
                 company may get it this round), `data` by kind (cost and what is still open to
                 acquire), `max_epochs`, `salary_usd_per_year` by role, `active_events` (titles)
    companies    every company's public page by name, own included: the same keys and figures the
                 round report shows rivals (prices and share by segment, api_price, capability,
                 kind, base_model, brand, score; score is None before round 1)
    own          this company's own books (see `player_view` for the keys)
    memory       a dict the strategy may keep anything in between rounds: one per seat per game,
                 kept by the caller and handed back in every view of that seat; it is not part of
                 `as_dict()` or of equality

    A view is built afresh for every call: changing it changes nothing in the game.
    """

    round: int
    rounds: int
    company: str
    kind: str
    market: Json
    companies: dict[str, Json]
    own: Json
    memory: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def rivals(self) -> dict[str, Json]:
        """Every other company's public page, by name."""
        return {n: page for n, page in self.companies.items() if n != self.company}

    @property
    def is_lab(self) -> bool:
        return self.kind == "lab"

    @property
    def segment_ids(self) -> list[str]:
        return [s["id"] for s in self.market["segments"]]

    @property
    def rounds_left(self) -> int:
        """Rounds still to play, this one included."""
        return self.rounds - self.round + 1

    def as_dict(self) -> Json:
        """The view as plain JSON-ready data (memory left out: it is the strategy's own)."""
        return {
            "round": self.round,
            "rounds": self.rounds,
            "company": self.company,
            "kind": self.kind,
            "market": self.market,
            "companies": self.companies,
            "own": self.own,
        }

    def __str__(self) -> str:
        o = self.own
        head = (
            f"{self.company} ({self.kind}), round {self.round} of {self.rounds}: "
            f"cash ${o['cash_musd']:,.1f}M, debt ${o['debt_musd']:,.1f}M, "
            f"model capability {o['model']['capability']:.1f}, safety {o['safety']:.1f}"
        )
        rows = [
            f"  {n:<20} {p['kind']:<8} capability {p['capability']:6.1f}  "
            f"brand {p['brand']:5.1f}  prices "
            + ", ".join(f"{s} {v:g}" for s, v in p["prices"].items())
            for n, p in self.companies.items()
        ]
        return "\n".join([head, *rows])

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.as_dict(), **kwargs)


def player_view(
    world: World,
    state: State,
    run: int,
    company: int,
    outcome: Outcome | None = None,
    memory: dict[str, Any] | None = None,
    rounds: int | None = None,
) -> PlayerView:
    """The view of replication `run` for company index `company`, as the next round opens.

    `state` is the state before the round is decided (after the last one resolved); `outcome` is
    that last round's Outcome (None before round 1). `memory` is the seat's own dict, kept by the
    caller across rounds; `rounds` is the game's length (the scenario's by default). Only run `run`
    of the arrays is read.

    `own` holds: cash_musd, debt_musd, valuation_musd, ownership_share; revenue_musd,
    operating_income_musd, net_income_musd and income_statement_musd (by line) of the last round
    (None before round 1); cumulative_revenue_musd, cumulative_net_income_musd; max_raise_musd and
    borrowing_room_musd this round; staff by role, pay_level; gpus and gpus_on_order by type,
    fleet_flops_per_round (peak, owned GPUs), training_efficiency (share of peak FLOPs the run in
    progress, or one the size of the model it serves, would get on the whole owned fleet: MFU for
    that size times goodput), serving_capacity_t_tokens (if every owned GPU served, as far as
    its engineers can keep served; None for product companies, whose engineers set it),
    serving_cost_per_m_tokens (labs: serving its model on rented cloud GPUs; product companies:
    what the base model costs a million tokens);
    data_t_tokens by kind and unique_t_tokens (quality-weighted, what a run draws on); model
    (params_b, active_params_b, capability, cutoff_round, version); ready_model (None, or a finished
    model not on sale: params_b, active_params_b, capability, cutoff_round); release (the
    `training.release` rule of last round: when_better or hold); run (None, or params_b,
    active_params_b, tokens_t, started_round, progress 0-1); domain_skill by segment (0-100); safety
    (0-100); retrieval; prices by segment and api_price in force; retail_floor (None, or for a lab
    that competition law holds above its customers' cost: customers, per_m_tokens at the wholesale
    price in force, engineers_per_m_tokens); base_model; demand_t_tokens,
    served_t_tokens; incidents_to_date, rescues, brand, algorithmic_efficiency.
    """
    R, C = state.runs, world.n_companies
    if not 0 <= run < R:
        raise IndexError(f"run {run} is outside this state's {R} replications")
    if not 0 <= company < C:
        raise IndexError(f"company {company} is outside this game's {C} companies")
    if outcome is not None and outcome.round != state.round:
        raise ValueError(
            f"the outcome is of round {outcome.round}, the state after round {state.round}"
        )
    rnd, c = state.round + 1, company
    one = slice(run, run + 1)
    left = state.events_left[run]
    *_, names = _round_constants(world, rnd, False)

    # Public pages: the figures the last round report showed (outcome), or before round 1 the
    # opening offers.
    if outcome is not None:
        capability = outcome.effective_capability[run].tolist()
        score: list[float | None] = outcome.score[run].tolist()
    else:
        capability = _opening_capability(world, state, one)[0].tolist()
        score = [None] * C
    prices, share = state.prices[run].tolist(), state.share[run].tolist()
    api, base, brand = (
        state.api_price[run].tolist(),
        state.base[run].tolist(),
        state.brand[run].tolist(),
    )
    companies = {
        names[j]: public_page(
            world, j, prices[j], api[j], capability[j], share[j], base[j], brand[j], score[j]
        )
        for j in range(C)
    }

    return PlayerView(
        round=rnd,
        rounds=world.scenario.rounds if rounds is None else rounds,
        company=names[c],
        kind=world.scenario.companies[c].kind,
        market=_market(world, state, run, c, rnd, left, outcome),
        companies=companies,
        own=_own(world, state, run, c, rnd, outcome, prices[c], api[c], base[c]),
        memory={} if memory is None else memory,
    )


def _opening_capability(world: World, state: State, one: slice) -> np.ndarray:
    """Capability of every offer before round 1 (1,C): the scenario's starting models, after the
    alignment tax."""
    safety = tuning.safety_level(
        world, state.safety_start[one], state.safety_stock[one], state.staff[one, :, 2]
    )
    base_cap = market.base_of(state.base[one], state.model_cap[one], state.open_capability[one])
    return np.maximum(base_cap - tuning.alignment_tax(world, safety), 0.0)


@functools.lru_cache(maxsize=256)
def _round_constants(world: World, rnd: int, export_ban: bool) -> tuple[Any, ...]:
    """What the coming round's market looks like before shocks, as plain lists, computed once per
    world and round."""
    sc = world.scenario
    allowed = compute.gpu_allowed(world, rnd, np.array([export_ban]))[0].tolist()
    salary, _, _ = talent.role_constants(world)
    return (
        world.segment_volume(rnd).tolist(),
        world.reference_price(rnd).tolist(),
        market.open_serving_cost(world, rnd),
        sc.market.rag_cost_per_m_tokens * world.price_index(rnd),
        allowed,
        dict(zip(STAFF_ROLES, salary.tolist(), strict=True)),
        world.data_cost.tolist(),
        world.segment_ids,
        world.gpu_names,
        world.company_names,
    )


def _market(
    world: World,
    state: State,
    run: int,
    c: int,
    rnd: int,
    left: np.ndarray,
    outcome: Outcome | None,
) -> Json:
    sc = world.scenario
    volume, ref, open_cost, rag_cost, allowed, salary, cost, *_ = _round_constants(
        world, rnd, bool(events.export_ban_ahead(world, left[None, :])[0])
    )
    regulation = (
        float(world.event_magnitude[(left > 1) & (world.event_kind == _REGULATION)].sum())
        if left.size
        else 0.0
    )
    segments = [
        {
            "id": s.id,
            "name": s.name,
            "volume_t_tokens": volume[i],
            "reference_price": ref[i],
            "min_safety": s.min_safety + regulation,
            "growth_per_round": s.growth_per_round,
        }
        for i, s in enumerate(sc.market.segments)
    ]
    last_buy = outcome.deals.buy_price[run].tolist() if outcome is not None else None
    last_rent = outcome.deals.rent_price[run].tolist() if outcome is not None else None
    gpus = {
        g.name: {
            "buy_usd": g.price_usd,
            "rent_per_hour": g.rent_per_hour,
            "last_buy_usd": None if last_buy is None else last_buy[i] * 1e6,
            "last_rent_per_hour": None
            if last_rent is None
            else last_rent[i] * 1e6 / HOURS_PER_ROUND,
            "tflops": g.tflops,
            "memory_gb": g.memory_gb,
            "available": allowed[c][i],
        }
        for i, g in enumerate(sc.compute.gpus)
    }
    pool = state.data_pool[run].tolist()
    return {
        "segments": segments,
        "open_weight_capability": float(state.open_capability[run]),
        "open_serving_cost_per_m_tokens": open_cost,
        "retrieval_cost_per_m_tokens": rag_cost,
        "gpus": gpus,
        "data": {
            k: {"cost_per_t_tokens_musd": cost[i], "pool_t_tokens": pool[i]}
            for i, k in enumerate(_BOUGHT_KINDS)
        },
        "max_epochs": sc.data.max_epochs,
        "salary_usd_per_year": dict(salary),
        "active_events": [sc.events[e].title for e in np.flatnonzero(left > 0)],
    }


def _own(
    world: World,
    state: State,
    run: int,
    c: int,
    rnd: int,
    outcome: Outcome | None,
    prices: list[float],
    api_price: float,
    base: int,
) -> Json:
    one, me = slice(run, run + 1), slice(c, c + 1)
    at = lambda a: a[one, me]  # noqa: E731  (1,1) slice of an (R,C,...) array
    f = lambda a: float(a[run, c])  # noqa: E731
    *_, segs, gpu_names, _ = _round_constants(world, rnd, False)
    is_lab = bool(world.is_lab[c])
    staff = state.staff[run, c].tolist()
    gpus = at(state.gpus)
    peak = compute.peak_flops(world, gpus)
    safety = tuning.safety_level(
        world, at(state.safety_start), at(state.safety_stock), at(state.staff)[:, :, 2]
    )
    skill = tuning.domain_skill(world, state.sft[run, c]).tolist()
    needed, done = f(state.run_flops_needed), f(state.run_flops_done)
    sized = np.where(state.run_on, state.run_active, np.maximum(state.model_active, 1.0))
    if is_lab:
        capacity = float(
            market.serving_capacity(
                world,
                peak,
                compute.memory_gb(world, gpus),
                at(state.model_active),
                at(state.model_total),
                at(state.algo),
                np.ones((1, 1), bool),
                market.engineer_capacity(world, state.staff[:, :, ENGINEERS], rnd)[one, me],
            )[0, 0]
        )
        unit_cost = float(
            market.cloud_cost_per_m_tokens(
                world, np.maximum(at(state.model_active), 1e-3), at(state.algo), rnd
            )[0, 0]
        )
    else:
        capacity = None
        unit_cost = (
            market.open_serving_cost(world, rnd)
            if base == OPEN_MODEL
            else float(state.api_price[run, base])
        )
    last: Json = {
        "revenue_musd": None,
        "operating_income_musd": None,
        "net_income_musd": None,
        "income_statement_musd": None,
    }
    if outcome is not None:
        last = {
            "revenue_musd": float(outcome.revenue[run, c]),
            "operating_income_musd": float(outcome.operating_income[run, c]),
            "net_income_musd": float(outcome.net_income[run, c]),
            "income_statement_musd": {
                k: float(outcome.lines[k][run, c]) for k in (*COST_LINES, "interest", "tax")
            },
        }
    room = finance.debt_room(world, at(state.revenue), at(state.ppe), at(state.debt))
    return {
        "cash_musd": f(state.cash),
        "debt_musd": f(state.debt),
        "valuation_musd": f(state.valuation),
        "ownership_share": f(state.ownership),
        **last,
        "cumulative_revenue_musd": f(state.cum_revenue),
        "cumulative_net_income_musd": f(state.cum_net_income),
        "max_raise_musd": float(finance.max_raise(
            world, at(state.valuation), at(state.cash), at(state.debt), at(state.ppe))[0, 0]),
        "borrowing_room_musd": float(room[0, 0]),
        "staff": dict(zip(STAFF_ROLES, staff, strict=True)),
        "pay_level": f(state.pay),
        "gpus": dict(zip(gpu_names, gpus[0, 0].tolist(), strict=True)),
        "gpus_on_order": dict(
            zip(gpu_names, state.pipeline[run, c].sum(axis=0).tolist(), strict=True)
        ),
        "fleet_flops_per_round": float(peak[0, 0]),
        "training_efficiency": float(
            training.pace(world, gpus, at(sized), at(state.staff)[:, :, 1])[0, 0]
            / max(float(peak[0, 0]), 1e-9)
        ),
        "serving_capacity_t_tokens": capacity,
        "serving_cost_per_m_tokens": unit_cost,
        "data_t_tokens": dict(zip(DATA_KINDS, state.data[run, c].tolist(), strict=True)),
        "unique_t_tokens": float(data.unique_tokens(world, state.data[run, c])),
        "model": {
            "params_b": f(state.model_total),
            "active_params_b": f(state.model_active),
            "capability": f(state.model_cap),
            "cutoff_round": int(state.model_cutoff[run, c]),
            "version": int(state.model_version[run, c]),
        },
        "ready_model": {
            "params_b": f(state.ready_total),
            "active_params_b": f(state.ready_active),
            "capability": f(state.ready_cap),
            "cutoff_round": int(state.ready_cutoff[run, c]),
        }
        if state.ready_on[run, c]
        else None,
        "release": "hold" if state.release_hold[run, c] else "when_better",
        "run": {
            "params_b": f(state.run_total),
            "active_params_b": f(state.run_active),
            "tokens_t": f(state.run_tokens),
            "started_round": int(state.run_start[run, c]),
            "progress": done / needed if needed > 0 else 0.0,
        }
        if state.run_on[run, c]
        else None,
        "domain_skill": dict(zip(segs, skill, strict=True)),
        "safety": float(safety[0, 0]),
        "retrieval": bool(state.rag[run, c] > 0.5),
        "prices": dict(zip(segs, prices, strict=True)),
        "api_price": api_price if is_lab else None,
        "retail_floor": retail_floor(world, state, c, run),
        "base_model": _base_name(world, base),
        "demand_t_tokens": f(state.demand),
        "served_t_tokens": f(state.served),
        "incidents_to_date": int(state.incidents[run, c]),
        "rescues": int(state.rescues[run, c]),
        "brand": f(state.brand),
        "algorithmic_efficiency": f(state.algo),
    }


# ---- loading a strategy ------------------------------------------------------------------------


def load_strategy(spec: str) -> Strategy:
    """The function a spec names: "package.module:function" (imported) or "path/to/file.py:function"
    (loaded from the file). The function takes a PlayerView and returns a Decision, a dict (the
    decision form's JSON, validated as a Decision) or None (carry on). StrategyError says what is
    wrong with a spec."""
    where, sep, attr = spec.strip().rpartition(":") if isinstance(spec, str) else ("", "", "")
    if not sep or not where or not attr or not all(part.isidentifier() for part in attr.split(".")):
        raise StrategyError(
            "give a strategy as 'package.module:function' or 'path/to/file.py:function', "
            f"not {spec!r}"
        )
    module = (
        _from_file(where)
        if where.endswith(".py") or "/" in where or "\\" in where
        else _import(where)
    )
    obj: Any = module
    for i, part in enumerate(attr.split(".")):
        if not hasattr(obj, part):
            owner = where if i == 0 else f"{where}:{'.'.join(attr.split('.')[:i])}"
            raise StrategyError(f"{owner!r} has no {part!r}{_callables_hint(obj)}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise StrategyError(
            f"{spec!r} is {type(obj).__name__} {shown(obj)}, not a function; "
            "a strategy is a function "
            "that takes a PlayerView and returns a decision"
        )
    strategy: Strategy = obj
    return strategy


def _import(name: str) -> ModuleType:
    if not all(part.isidentifier() for part in name.split(".")):
        raise StrategyError(
            f"{name!r} is not a module name; "
            "give 'package.module:function' or 'path/to/file.py:function'"
        )
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and (name == e.name or name.startswith(e.name + ".")):
            raise StrategyError(
                f"no module named {e.name!r} (looking for {name!r}); is it on the Python path? "
                "Run from the folder that holds it, or give 'path/to/file.py:function'"
            ) from e
        raise StrategyError(
            f"module {name!r} could not be imported: it needs {e.name!r}, which is not installed"
        ) from e
    except Exception as e:
        raise StrategyError(f"importing module {name!r} failed: {type(e).__name__}: {e}") from e


def _from_file(path: str) -> ModuleType:
    file = Path(path).expanduser()
    if not file.is_file():
        raise StrategyError(f"no strategy file {path!r} (looked in {file.resolve().parent})")
    name = f"moatline_strategy_{abs(hash(str(file.resolve())))}_{file.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise StrategyError(f"{path!r} cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling in the file need to find their module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise StrategyError(f"loading {path!r} failed: {type(e).__name__}: {e}") from e
    return module


def _callables_hint(obj: Any) -> str:
    """'; its public callables: a, b, c' (functions defined there first), or '' if it has none."""
    home = getattr(obj, "__name__", None)
    found = (
        [
            (getattr(v, "__module__", None) != home, k)
            for k, v in vars(obj).items()
            if not k.startswith("_") and callable(v)
        ]
        if hasattr(obj, "__dict__")
        else []
    )
    names = [k for _, k in sorted(found)]
    if not names:
        return " (and nothing public to call)"
    more = f" and {len(names) - LISTED_CALLABLES} more" if len(names) > LISTED_CALLABLES else ""
    return f"; its public callables: {', '.join(names[:LISTED_CALLABLES])}{more}"


# ---- what a strategy returned ------------------------------------------------------------------


def decision_from(
    result: Any, company_name: str, round: int, previous: Decision | None = None
) -> Decision:
    """The Decision a strategy's result stands for: a Decision as it is, a dict validated as the
    decision form's JSON, None to carry on (the previous decision's recurring choices; a fresh
    Decision if there is none). StrategyError names the seat, the round and every problem by field
    path."""
    if result is None:
        return previous.carried_on() if previous is not None else Decision()
    if isinstance(result, Decision):
        return result
    where = f"{company_name}'s strategy, round {round}"
    if not isinstance(result, dict):
        raise StrategyError(
            f"{where}: returned {type(result).__name__} {shown(result)}; return a Decision, "
            "a dict of the decision form's fields, or None to carry on"
        )
    try:
        return Decision.model_validate(result)
    except ValidationError as e:
        problems = [f"{_path(err['loc'])}: {_message(dict(err))}" for err in e.errors()]
        raise StrategyError(
            f"{where}: {len(problems)} problem{'s' if len(problems) != 1 else ''} "
            "in the decision:\n  "
            + "\n  ".join(problems)
        ) from None


def _path(loc: tuple[Any, ...]) -> str:
    return (
        ".".join(str(p) for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        or "(decision)"
    )


_BOUNDS = {
    "greater_than_equal": ("≥", "ge"),
    "less_than_equal": ("≤", "le"),
    "greater_than": (">", "gt"),
    "less_than": ("<", "lt"),
}


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind in _BOUNDS:
        sign, key = _BOUNDS[kind]
        return f"must be {sign} {err['ctx'][key]:g}, got {shown(err['input'])}"
    if kind == "extra_forbidden":
        return "is not a field of the decision form"
    return plain_message(err, "the Decision form (app/engine/decisions.py)")


__all__ = [
    "PlayerView",
    "Strategy",
    "StrategyError",
    "decision_from",
    "load_strategy",
    "player_view",
]
