"""Tweaks: a study's changes to a seat's decisions, addressed by the decision form's own field paths.

A tweak acts on the decision arrays after the seat's strategy has decided and before the decision is fitted
to the budget, so an empty field already stands for the value it means (today's headcount, last round's
price) and `times: 2` doubles that. Results are kept within the form's own bounds, read from `Decision`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import get_args, get_origin

import annotated_types
import numpy as np
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from app.engine.decisions import RELEASES, Decision, DecisionArrays, RunPlan
from app.engine.world import OPEN_MODEL, World
from app.studies.schema import Tweak

# Decision form field -> (array of DecisionArrays, index on its last axis, kind)
SCALARS: dict[str, tuple[str, int | None, str]] = {
    "finance.raise_equity_musd": ("raise_equity", None, "number"),
    "finance.borrow_musd": ("borrow", None, "number"),
    "finance.repay_musd": ("repay", None, "number"),
    "compute.serving_share": ("serving_share", None, "number"),
    "talent.researchers": ("staff_target", 0, "number"),
    "talent.engineers": ("staff_target", 1, "number"),
    "talent.safety_staff": ("staff_target", 2, "number"),
    "talent.pay_level": ("pay", None, "number"),
    "data.scrape_t_tokens": ("data_buy", 0, "number"),
    "data.license_t_tokens": ("data_buy", 1, "number"),
    "data.synthetic_t_tokens": ("data_buy", 2, "number"),
    "training.start.params_b": ("run_total", None, "number"),
    "training.start.active_params_b": ("run_active", None, "number"),
    "training.start.tokens_t": ("run_tokens", None, "number"),
    "training.start": ("start_run", None, "switch"),  # set false: start no run this round
    "training.cancel": ("cancel_run", None, "switch"),
    "training.release": ("hold", None, "release"),
    "tuning.safety_musd": ("safety", None, "number"),
    "tuning.retrieval": ("rag", None, "switch"),
    "products.api_price": ("api_price", None, "number"),
    "products.marketing_musd": ("marketing", None, "number"),
    "products.base_model": ("base", None, "base"),
}
# Mapping fields of the form: by GPU name or by segment id.
MAPPINGS: dict[str, tuple[str, str]] = {
    "compute.buy_gpus": ("buy", "gpu"),
    "compute.rent_gpus": ("rent", "gpu"),
    "tuning.sft_musd": ("sft", "segment"),
    "products.prices": ("price", "segment"),
}


class TweakError(ValueError):
    """A tweak that cannot apply: an unknown field or key, or a change of the wrong kind."""


@dataclass(frozen=True)
class Target:
    """Where a tweak writes: an array, its last-axis entries (all of a mapping, or one), and the field's bounds."""

    array: str
    index: int | None  # None: the whole array at the seat (a scalar, or every entry of a mapping)
    kind: str  # number, switch, base or release
    low: float
    high: float


@dataclass(frozen=True)
class Resolved:
    target: Target
    tweak: Tweak
    value: float | None  # `set` as a number (a base-model code for products.base_model, 1 to hold)

    def applies_in(self, rnd: int) -> bool:
        return self.tweak.rounds is None or rnd in self.tweak.rounds


def tweak_fields(world: World) -> list[str]:
    """Every field a tweak can name in this scenario (mappings with and without their key)."""
    keys = {"gpu": world.gpu_names, "segment": world.segment_ids}
    return sorted([*SCALARS, *MAPPINGS, *(f"{m}.{k}" for m, (_, kind) in MAPPINGS.items() for k in keys[kind])])


def resolve(world: World, tweak: Tweak) -> Resolved:
    """The target of one tweak in this scenario, and its `set` value checked; TweakError says what is wrong."""
    field = tweak.field
    low, high = _bounds(field)
    if field in SCALARS:
        array, index, kind = SCALARS[field]
        target = Target(array, index, kind, low, high)
    else:
        mapping, _, key = _split(field)
        if mapping not in MAPPINGS:
            near = difflib.get_close_matches(field, tweak_fields(world), n=3, cutoff=0.5)
            hint = f"; did you mean {' or '.join(near)}?" if near else "; see the decision form's fields in docs/studies.md"
            raise TweakError(f"the decision form has no field {field!r}{hint}")
        array, kind = MAPPINGS[mapping]
        names = world.gpu_names if kind == "gpu" else world.segment_ids
        if key and key not in names:
            what = "GPU" if kind == "gpu" else "segment"
            raise TweakError(f"there is no {what} {key!r} in this scenario; choose from {', '.join(names)}")
        target = Target(array, names.index(key) if key else None, "number", low, high)
    return Resolved(target, tweak, _set_value(world, target, tweak))


def _split(field: str) -> tuple[str, str, str]:
    """'products.prices.enterprise' -> ('products.prices', '.', 'enterprise'); keys may hold dots themselves."""
    for mapping in MAPPINGS:
        if field == mapping:
            return mapping, "", ""
        if field.startswith(mapping + "."):
            return mapping, ".", field[len(mapping) + 1:]
    return field, "", ""


def _set_value(world: World, target: Target, tweak: Tweak) -> float | None:
    if target.kind in {"switch", "base", "release"} and (tweak.times is not None or tweak.plus is not None):
        raise TweakError(f"{tweak.field} is a {'switch' if target.kind == 'switch' else 'choice'}: use set, not times or plus")
    value = tweak.set
    if value is None:
        return None
    if target.kind == "switch":
        if not isinstance(value, bool):
            raise TweakError(f"{tweak.field} is a switch: set it to true or false")
        if tweak.field == "training.start" and value:
            raise TweakError("training.start can only be set to false (start no run); a run to start needs its size")
        return float(value)
    if target.kind == "release":
        if value not in RELEASES:
            raise TweakError(f"training.release is {' or '.join(map(repr, RELEASES))}, not {value!r}")
        return float(value == "hold")
    if target.kind == "base":
        labs = [n for n, lab in zip(world.company_names, world.is_lab, strict=True) if lab]
        if value == "open":
            return float(OPEN_MODEL)
        if isinstance(value, str) and value in labs:
            return float(world.company_names.index(value))
        raise TweakError(f"products.base_model is 'open' or one of this game's labs ({', '.join(labs) or 'none'}), not {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TweakError(f"{tweak.field} is a number: set it to a number")
    if not target.low <= value <= target.high:
        raise TweakError(f"{tweak.field} must be between {target.low:,g} and {target.high:,g}, not {value:,g}")
    return float(value)


def apply(world: World, d: DecisionArrays, seat: int, tweaks: list[Resolved], rnd: int) -> DecisionArrays:
    """The decisions with one seat's tweaks for round `rnd` applied, in the order given, within the form's bounds."""
    changed: dict[str, np.ndarray] = {}
    for r in tweaks:
        if not r.applies_in(rnd):
            continue
        t = r.target
        arr = changed.get(t.array)
        if arr is None:
            arr = changed[t.array] = getattr(d, t.array).copy()
        where = (slice(None), seat) if t.index is None else (slice(None), seat, t.index)
        now = arr[where].astype(np.float64)
        if r.tweak.times is not None:
            new = now * r.tweak.times
        elif r.tweak.plus is not None:
            new = now + r.tweak.plus
        else:
            new = np.full_like(now, r.value if r.value is not None else 0.0)
        if t.kind == "number":
            new = np.clip(new, t.low, t.high)
        if t.kind == "base" and world.is_lab[seat]:
            continue  # a lab always serves its own model
        arr[where] = new.astype(arr.dtype)
    if "run_total" in changed or "run_active" in changed:
        total = changed.get("run_total", d.run_total)
        changed["run_active"] = np.minimum(changed.get("run_active", d.run_active), total)
    return d.replace(**changed) if changed else d


def _bounds(field: str) -> tuple[float, float]:
    """The form's own range for a field (from the Decision model), so a tweak never writes what a player could not."""
    info = _field_info(field)
    if info is None:
        return 0.0, float("inf")
    low, high = -float("inf"), float("inf")
    for meta in info.metadata:
        if isinstance(meta, annotated_types.Ge):
            low = float(meta.ge)  # type: ignore[arg-type]
        elif isinstance(meta, annotated_types.Le):
            high = float(meta.le)  # type: ignore[arg-type]
    return low, high


def _field_info(field: str) -> FieldInfo | None:
    """The pydantic field behind a form path; for a mapping, the field of its values."""
    parts = field.split(".")
    model: object
    if parts[:2] == ["training", "start"] and len(parts) > 2:
        model, rest = RunPlan, parts[2:]
    else:
        section = Decision.model_fields.get(parts[0])
        if section is None or len(parts) < 2:
            return None
        model, rest = section.annotation, parts[1:]
    info = model.model_fields.get(rest[0]) if rest and isinstance(model, type) and issubclass(model, BaseModel) else None
    if info is not None and get_origin(info.annotation) is dict:
        value = get_args(info.annotation)[1]
        return next((a for a in get_args(value) if isinstance(a, FieldInfo)), None)
    return info
