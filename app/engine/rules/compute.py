"""The GPU market: buying with limited supply and rising prices, renting, delivery, power and
depreciation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine.arrays import power, sum_companies, sum_last
from app.engine.rules.events import Conditions
from app.engine.world import World
from app.scenario.schema import HOURS_PER_ROUND, SECONDS_PER_ROUND

MONTHS_PER_ROUND = 3.0


@dataclass(frozen=True, eq=False)
class GpuDeals:
    bought: np.ndarray  # (R,C,G) delivered after the lag
    buy_price: np.ndarray  # (R,G) $M per GPU
    capex: np.ndarray  # (R,C)
    rented: np.ndarray  # (R,C,G)
    rent_price: np.ndarray  # (R,G) $M per GPU-quarter
    rent_cost: np.ndarray  # (R,C)


def gpu_allowed(world: World, rnd: int, export_ban: np.ndarray) -> np.ndarray:
    """(R,C,G): which GPUs each company may order or rent this round. Export-controlled GPUs are
    barred to companies of region cn at all times (US controls since 2022); while new controls are
    in force (`export_ban`, R) every GPU is (as the H800 was in October 2023)."""
    launched = world.gpu_from_round <= rnd
    barred = world.gpu_controlled[None, None, :] | np.array([False, True])[:, None, None]
    by_ban = launched[None, None, :] & ~(world.is_cn[None, :, None] & barred)  # (no ban/ban,C,G)
    return np.take(by_ban, np.asarray(export_ban, dtype=np.intp), axis=0)  # each run's case


def clear_gpu_market(
    world: World, buy: np.ndarray, rent: np.ndarray, allowed: np.ndarray, cond: Conditions
) -> GpuDeals:
    """Ration orders to supply; price = list * (orders/supply)^elasticity above supply, so spend
    never exceeds list."""
    cc = world.scenario.compute
    buy, rent = np.floor(buy) * allowed, np.floor(rent) * allowed  # whole GPUs
    orders = sum_companies(buy)
    pressure = np.maximum(orders / world.gpu_supply, 1.0)
    buy_price = world.gpu_price_musd * power(pressure, cc.price_elasticity)
    bought = np.floor(buy / pressure[:, None, :])  # rationed to supply, in whole GPUs
    rented_total = sum_companies(rent)
    older = world.gpu_tflops[None, :] < (world.gpu_tflops * (world.gpu_from_round <= 99)).max()
    rent_price = (
        world.gpu_rent_musd_round
        * power(np.maximum(rented_total / world.gpu_rental_supply, 1.0), cc.rent_elasticity)
        * (1.0 - cc.old_generation_rent_cut * cond.new_generation[:, None] * older)
    )
    return GpuDeals(
        bought,
        buy_price,
        sum_last(bought, buy_price[:, None, :]),
        rent,
        rent_price,
        sum_last(rent, rent_price[:, None, :]),
    )


def deliver(
    gpus: np.ndarray, pipeline: np.ndarray, bought: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """GPUs ordered `lag` rounds ago start running; this round's orders join the queue."""
    if pipeline.shape[2] == 0:
        return gpus + bought, pipeline
    arrived = pipeline[:, :, 0]
    return gpus + arrived, np.concatenate([pipeline[:, :, 1:], bought[:, :, None]], axis=2)


def depreciate(schedule: np.ndarray, capex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line depreciation: this round's charge, and the schedule with new purchases spread
    over their life."""
    charge = schedule[:, :, 0]
    horizon = schedule.shape[2]
    shifted = np.empty(schedule.shape, schedule.dtype)
    # every charge moves one round earlier: one shift of the whole buffer, each company's last
    # slot (which received the next company's first charge) then emptied
    shifted.reshape(-1)[:-1] = schedule.reshape(-1)[1:]
    shifted[:, :, -1] = 0.0
    shifted += (capex / horizon)[:, :, None]
    return charge, shifted


def energy_mwh(world: World, gpus: np.ndarray) -> np.ndarray:
    """Energy drawn by owned GPUs in a quarter, with server overhead and PUE (R,C)."""
    cc = world.scenario.compute
    return sum_last(gpus, world.gpu_watts) * cc.system_power_factor * cc.pue * HOURS_PER_ROUND / 1e6


def energy_cost(world: World, mwh: np.ndarray, cond: Conditions) -> np.ndarray:
    return (
        mwh * 1000.0 * world.scenario.compute.electricity_per_kwh * cond.power_mult[:, None] / 1e6
    )


def memory_gb(world: World, gpus: np.ndarray) -> np.ndarray:
    """GPU memory of a fleet (R,C), GB."""
    return sum_last(gpus, world.gpu_memory_gb)


def peak_flops(world: World, gpus: np.ndarray) -> np.ndarray:
    """Peak FLOPs a fleet can deliver in a quarter (R,C)."""
    return sum_last(gpus, world.gpu_tflops) * 1e12 * SECONDS_PER_ROUND


@dataclass(frozen=True, eq=False)
class FleetSplit:
    """How a fleet's FLOPs are shared this quarter (R,C)."""

    serving: np.ndarray  # share of the fleet serving customers
    serving_peak: np.ndarray  # peak FLOPs serving customers
    training: np.ndarray  # share of the fleet left for pre-training
    synthetic: np.ndarray  # trillions of synthetic tokens generated


def split_fleet(
    world: World, peak: np.ndarray, serving_share: np.ndarray, synthetic_wanted: np.ndarray
) -> FleetSplit:
    """Labs serve customers with their chosen share of the fleet; synthetic data is generated with
    what is left (as far as it goes), and pre-training gets the rest."""
    sc = world.scenario
    serving = np.where(world.layout(peak.shape[0]).lab, serving_share, 0.0)
    serving_peak = peak * serving
    training_peak = peak - serving_peak
    synth_flops = 1e12 * sc.data.synthetic_flops_per_token
    synthetic = np.minimum(synthetic_wanted, training_peak * sc.scaling.mfu / synth_flops)
    training_peak = training_peak - synthetic * synth_flops / sc.scaling.mfu
    return FleetSplit(
        serving=serving,
        serving_peak=serving_peak,
        training=np.maximum(training_peak, 0.0) / np.maximum(peak, 1e-9),
        synthetic=synthetic,
    )


def server_kw(world: World, gpus: np.ndarray) -> np.ndarray:
    """Server power of a fleet (R,C), kW: each GPU's board power with its server's overhead."""
    return sum_last(gpus, world.gpu_watts) * world.scenario.compute.system_power_factor / 1000.0


def datacenter_cost(world: World, gpus: np.ndarray) -> np.ndarray:
    """A quarter's data-centre space for the owned GPUs installed ($M, R,C), busy or idle."""
    per_kw_quarter = world.scenario.compute.datacenter_per_kw_month * MONTHS_PER_ROUND
    return server_kw(world, gpus) * per_kw_quarter / 1e6


def owned_cost_per_gpu_hour(world: World) -> np.ndarray:
    """All-in cost of one owned GPU-hour at list price ($, G): the installed GPU (card, server,
    network) depreciated over its life, the cost of the capital tied up (on half the price, the
    average book value), data-centre space and power; what renting it is compared with."""
    cc = world.scenario.compute
    hours_a_year = HOURS_PER_ROUND * 4.0
    installed = world.gpu_price_musd * 1e6
    kw = world.gpu_watts * cc.system_power_factor / 1000.0
    return (
        installed / (cc.depreciation_years * hours_a_year)
        + cc.cost_of_capital_per_year * installed / 2.0 / hours_a_year
        + kw * cc.datacenter_per_kw_month * MONTHS_PER_ROUND / HOURS_PER_ROUND
        + kw * cc.pue * cc.electricity_per_kwh
    )
