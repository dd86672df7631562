"""The training planner: what a pre-training run costs and what it buys."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from app.engine import scaling
from app.scenario.schema import Gpu, Scenario


@dataclass(frozen=True)
class TrainingPlan:
    flops: float
    mfu: float  # model FLOPs utilisation for this size on this cluster
    goodput: float  # share of cluster time doing useful work
    gpu_hours: float
    days: float
    rent_cost_usd: float
    own_cost_usd: float
    energy_mwh: float
    loss: float
    capability: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class PlanError(ValueError):
    """A plan that cannot be made (unknown GPU, impossible sizes)."""


def find_gpu(scenario: Scenario, name: str) -> Gpu:
    for gpu in scenario.compute.gpus:
        if gpu.name.lower() == name.lower():
            return gpu
    known = ", ".join(g.name for g in scenario.compute.gpus)
    raise PlanError(f"unknown GPU {name!r}; the scenario's catalogue has {known}")


def plan_training(
    scenario: Scenario,
    params: float,
    tokens: float,
    gpu_name: str,
    gpus: int = 16384,
    active_params: float | None = None,
    price_per_hour: float | None = None,
    unique_tokens: float | None = None,
) -> TrainingPlan:
    """Cost and outcome of training `params` (total) on `tokens` with `gpus` GPUs of one kind."""
    active = active_params if active_params is not None else params
    if params <= 0 or tokens <= 0 or gpus <= 0 or active <= 0:
        raise PlanError("parameters, tokens and GPUs must all be above zero")
    if active > params:
        raise PlanError(
            f"active parameters ({active:.3g}) cannot exceed total parameters ({params:.3g})"
        )
    s, compute, gpu = scenario.scaling, scenario.compute, find_gpu(scenario, gpu_name)
    flops = float(scaling.training_flops(active, tokens, s))
    mfu = float(scaling.training_mfu(s, gpu.tflops, active / gpus, active))
    gpu_hours = flops / (gpu.tflops * 1e12 * mfu * s.goodput) / 3600.0
    price = price_per_hour if price_per_hour is not None else gpu.rent_per_hour
    days = gpu_hours / gpus / 24.0
    energy_mwh = gpu_hours * gpu.watts * compute.system_power_factor * compute.pue / 1e6
    own_hours = compute.depreciation_years * 365.25 * 24.0
    own_cost = (
        gpu_hours * gpu.price_usd / own_hours + energy_mwh * 1000.0 * compute.electricity_per_kwh
    )
    eff_tokens = scaling.effective_tokens(tokens, unique_tokens if unique_tokens else tokens, s)
    lo = float(scaling.loss(scaling.effective_params(params, active, s), eff_tokens, s))
    return TrainingPlan(
        flops,
        mfu,
        s.goodput,
        gpu_hours,
        days,
        gpu_hours * price,
        own_cost,
        energy_mwh,
        lo,
        float(scaling.capability(lo, s)),
    )
