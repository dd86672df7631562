"""The decision form: flat field names (`compute.buy_gpus.H100`) to a Decision and back, with each problem at its field."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from app.engine.decisions import Decision
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
GROUPS = (*PER_GPU, *PER_SEGMENT)  # problems about a whole group of fields (e.g. the total of GPU purchases)
THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")
OPTIONAL = {"talent.researchers", "talent.engineers", "talent.safety_staff", "products.api_price",
            "training.start.active_params_b"}


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
    if form.get("products.base_model"):
        _put(tree, "products.base_model", form["products.base_model"])
    if form.get("training.start.enabled") not in {"on", "true", "1"}:
        tree.get("training", {}).pop("start", None)
    if problems:
        return None, problems
    try:
        return Decision.model_validate(tree), {}
    except ValidationError as exc:
        return None, {".".join(str(p) for p in e["loc"]): _words(e) for e in exc.errors()}


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


def _words(err: Any) -> str:
    kind = err["type"]
    if kind in {"greater_than_equal", "greater_than"}:
        return f"Must be at least {err['ctx'].get('ge', err['ctx'].get('gt'))}."
    if kind in {"less_than_equal", "less_than"}:
        return f"Must be at most {err['ctx'].get('le', err['ctx'].get('lt'))}."
    if kind == "missing":
        return "Required to start a run."
    return str(err["msg"])


def values(decision: Decision) -> dict[str, str]:
    """Form field values for a stored decision (to refill the form)."""
    flat: dict[str, str] = {}
    _flatten("", decision.model_dump(), flat)
    start = decision.training.start
    flat["training.start.enabled"] = "on" if start is not None else ""
    return flat


def _flatten(prefix: str, value: object, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    elif isinstance(value, bool):
        out[prefix] = "on" if value else ""
    elif value is not None:
        out[prefix] = f"{value:g}" if isinstance(value, float) else str(value)


def starting_values(world: World, company: int, prices: Any, staff: Any) -> dict[str, str]:
    """What the form shows before a team has saved anything: today's prices and headcounts, nothing new bought."""
    out = {f"products.prices.{s}": f"{prices[0, company, i]:.3g}" for i, s in enumerate(world.segment_ids)}
    for i, role in enumerate(("researchers", "engineers", "safety_staff")):
        out[f"talent.{role}"] = f"{staff[0, company, i]:.0f}"
    out["compute.serving_share"] = f"{world.scenario.compute.default_serving_share:g}"
    out["talent.pay_level"] = "1"
    return out
