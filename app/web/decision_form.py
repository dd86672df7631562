"""The decision form: flat field names (`compute.buy_gpus.H100`) to a Decision and back, with each problem at its field."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import ValidationError

from app.engine.decisions import MAX_HEADCOUNT, MAX_PRICE, MIN_PRICE, Decision
from app.engine.world import World

NUMBER_FIELDS = (
    "finance.raise_equity_musd", "finance.borrow_musd", "finance.repay_musd", "compute.serving_share",
    "talent.researchers", "talent.engineers", "talent.safety_staff", "talent.pay_level",
    "data.scrape_t_tokens", "data.license_t_tokens", "data.synthetic_t_tokens",
    "tuning.safety_musd", "products.api_price", "products.marketing_musd",
    "training.start.params_b", "training.start.active_params_b", "training.start.tokens_t",
)
PER_GPU = ("compute.buy_gpus", "compute.rent_gpus")
PER_SEGMENT = ("tuning.sft_musd", "products.prices")
CHECKBOXES = ("training.cancel", "tuning.retrieval")
CHOICES = ("products.base_model", "training.release")  # a select: empty keeps the default
GROUPS = (*PER_GPU, *PER_SEGMENT)  # problems about a whole group of fields (e.g. the total of GPU purchases)
THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
OPTIONAL = {"talent.researchers", "talent.engineers", "talent.safety_staff", "products.api_price",
            "training.start.active_params_b"}
MONEY, PER_M_TOKENS = "${}M", "${} per million tokens"
# How a bound reads at its field (the longest prefix wins): {} is the limit, {name} the GPU.
LIMIT_WORDS = {
    "finance": MONEY, "tuning.sft_musd": MONEY, "tuning.safety_musd": MONEY,
    "products.marketing_musd": MONEY,
    "compute.buy_gpus": "{} {name} GPUs a quarter", "compute.rent_gpus": "{} {name} GPUs a quarter",
    "compute.serving_share": "{} (a share: 0.6 is 60%)",
    "talent.researchers": "{} researchers", "talent.engineers": "{} engineers",
    "talent.safety_staff": "{} safety staff", "talent.pay_level": "{} times the market pay",
    "data": "{} trillion tokens a quarter", "training.start.tokens_t": "{} trillion tokens",
    "training.start.params_b": "{} billion parameters",
    "training.start.active_params_b": "{} billion parameters",
    "products.prices": PER_M_TOKENS, "products.api_price": PER_M_TOKENS,
}


def field_names(world: World) -> list[str]:
    """Every numeric field of the form for this world."""
    return [*NUMBER_FIELDS, *(f"{g}.{n}" for g in PER_GPU for n in world.gpu_names),
            *(f"{p}.{s}" for p in PER_SEGMENT for s in world.segment_ids)]


def parse(form: Mapping[str, str], world: World) -> tuple[Decision | None, dict[str, str]]:
    """A Decision from form fields, or the problems with what was typed, keyed by field name."""
    tree: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name in field_names(world):
        raw = (form.get(name) or "").strip()
        if raw == "":
            continue
        value, problem = number(raw)
        if problem:
            problems[name] = problem
        else:
            _put(tree, name, value)
    for name in CHECKBOXES:
        _put(tree, name, form.get(name) in {"on", "true", "1"})
    for name in CHOICES:
        if form.get(name):
            _put(tree, name, form[name])
    if form.get("training.start.enabled") not in {"on", "true", "1"}:
        tree.get("training", {}).pop("start", None)
    if problems:
        return None, problems
    try:
        return Decision.model_validate(tree), {}
    except ValidationError as exc:
        located = ((".".join(str(p) for p in e["loc"]), e) for e in exc.errors())
        return None, {field: _words(e, field) for field, e in located}


def number(typed: str) -> tuple[float, str | None]:
    """A typed number: commas only as thousands separators (`20,000`); a decimal comma (`3,5`), words and
    infinities are problems, worded for the field."""
    if "," in typed:
        if not THOUSANDS.fullmatch(typed):
            return 0.0, f"Use a point for decimals: {typed.replace(',', '.')!r}, not {typed!r}."
        typed = typed.replace(",", "")
    try:
        value = float(typed)
    except ValueError:
        return 0.0, f"Enter a number, not {typed!r}."
    if not math.isfinite(value):
        return 0.0, f"Enter an ordinary number, not {typed!r}."
    return value, None


def _put(tree: dict[str, Any], dotted: str, value: object) -> None:
    *path, last = dotted.split(".")
    for key in path:
        tree = tree.setdefault(key, {})
    tree[last] = value


def _words(err: Any, field: str) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    if kind in {"greater_than_equal", "greater_than"}:
        return f"At least {_limit(field, ctx.get('ge', ctx.get('gt')))}."
    if kind in {"less_than_equal", "less_than"}:
        return f"At most {_limit(field, ctx.get('le', ctx.get('lt')))}."
    if kind == "missing":
        return "Required to start a run."
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "literal_error":
        return f"Choose {ctx['expected']}, not {err['input']!r}."
    return str(err["msg"])


def _limit(field: str, limit: float) -> str:
    """A bound in the field's own words: `50,000 researchers`, `$10,000 per million tokens`."""
    prefix = max((p for p in LIMIT_WORDS if field == p or field.startswith(p + ".")), key=len,
                 default="")
    number = f"{int(limit):,}" if float(limit).is_integer() else f"{limit:g}"
    return LIMIT_WORDS.get(prefix, "{}").format(number, name=field.rsplit(".", 1)[-1])


def values(decision: Decision) -> dict[str, str]:
    """Form field values for a stored decision (to refill the form)."""
    flat: dict[str, str] = {}
    _flatten("", decision.model_dump(), flat)
    start = decision.training.start
    flat["training.start.enabled"] = "on" if start is not None else ""
    return flat


def stored_values(payload: str) -> dict[str, str]:
    """Form field values for a stored draft as saved, even one that a bound added since refuses: the
    form shows it, and `parse` tells each out-of-range value at its field."""
    stored = json.loads(payload)
    flat: dict[str, str] = {}
    _flatten("", stored, flat)
    training = stored.get("training") if isinstance(stored, dict) else None
    started = isinstance(training, dict) and training.get("start")
    flat["training.start.enabled"] = "on" if started else ""
    return flat


def _flatten(prefix: str, value: object, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, bool):
        out[prefix] = "on" if value else ""
    elif value is not None:
        out[prefix] = f"{value:g}" if isinstance(value, float) else str(value)


def starting_values(world: World, company: int, prices: Any, staff: Any,
                    release_hold: Any = None) -> dict[str, str]:
    """What the form shows before a team has saved anything: today's prices and headcounts (within
    the decision's bounds, so an untouched form always saves), last round's release rule (a held
    model stays held), nothing new bought."""
    price = np.clip(prices[0, company], MIN_PRICE, MAX_PRICE)
    out = {f"products.prices.{s}": f"{price[i]:.3g}" for i, s in enumerate(world.segment_ids)}
    for i, role in enumerate(("researchers", "engineers", "safety_staff")):
        out[f"talent.{role}"] = f"{min(staff[0, company, i], MAX_HEADCOUNT):.0f}"
    out["compute.serving_share"] = f"{world.scenario.compute.default_serving_share:g}"
    out["talent.pay_level"] = "1"
    held = release_hold is not None and bool(release_hold[0, company])
    out["training.release"] = "hold" if held else "when_better"
    return out
