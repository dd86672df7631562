"""The engine reproduces published training runs and the Chinchilla rule of thumb (PRODUCT.md: within 15%)."""

from __future__ import annotations

import numpy as np
import pytest

from app.engine import scaling
from app.engine.planner import TrainingPlan, plan_training
from app.engine.rules import training
from app.scenario import Scenario
from app.scenario.schema import SECONDS_PER_ROUND

from .factories import SCENARIO_IDS, scenario, world

WITHIN = 0.15
LLAMA_GPU_HOURS, LLAMA_FLOPS = 30.84e6, 3.8e25  # Llama 3.1 technical report (Meta 2024): 405B parameters, 15.6T tokens
DEEPSEEK_GPU_HOURS, DEEPSEEK_COST_USD = 2.788e6, 5.576e6  # DeepSeek-V3 technical report: 2.788M H800-hours, $5.576M at $2/h

# Published pre-training runs: (name, total params, active params, tokens, GPU, GPUs, published GPU-hours).
# The first eight are the table; the others check that the formula generalises.
PUBLISHED_RUNS = [
    ("Llama 2 7B", 7e9, 7e9, 2e12, "A100", 2048, 184_320),  # Touvron et al. 2023, table 2
    ("Llama 2 13B", 13e9, 13e9, 2e12, "A100", 2048, 368_640),
    ("Llama 2 70B", 70e9, 70e9, 2e12, "A100", 2048, 1_720_320),
    ("LLaMA 65B", 65.2e9, 65.2e9, 1.4e12, "A100", 2048, 1_022_362),  # Touvron et al. 2023 (LLaMA), table 15
    ("BLOOM 176B", 176e9, 176e9, 366e9, "A100", 384, 1_082_990),  # BigScience 2022, model card
    ("Llama 3 8B", 8e9, 8e9, 15e12, "H100", 16384, 1.3e6),  # Meta Llama 3 model card
    ("Llama 3.1 405B", 405e9, 405e9, 15.6e12, "H100", 16384, 30.84e6),  # Llama 3.1 model card
    ("DeepSeek-V3", 671e9, 37e9, 14.8e12, "H800", 2048, 2.788e6),  # DeepSeek-AI 2024, table 1
    ("Llama 3 70B", 70e9, 70e9, 15e12, "H100", 16384, 6.4e6),  # Meta Llama 3 model card
    ("Llama 3.1 8B", 8e9, 8e9, 15e12, "H100", 16384, 1.46e6),  # Llama 3.1 model card
    ("Llama 3.1 70B", 70e9, 70e9, 15e12, "H100", 16384, 7.0e6),  # Llama 3.1 model card
    ("LLaMA 33B", 32.5e9, 32.5e9, 1.4e12, "A100", 2048, 530_432),  # LLaMA, table 15
    ("Falcon 180B", 180e9, 180e9, 3.5e12, "A100", 4096, 7.0e6),  # Almazrouei et al. 2023: ~7M A100-hours
]


def _llama_405b(sc: Scenario, gpus: int = 16384) -> TrainingPlan:
    return plan_training(sc, 405e9, 15.6e12, "H100", gpus=gpus)


def _deepseek_v3(sc: Scenario) -> TrainingPlan:
    """671B total, 37B active parameters (MoE), 14.8T tokens on 2,048 H800s rented at $2 an hour."""
    return plan_training(sc, 671e9, 14.8e12, "H800", gpus=2048, active_params=37e9, price_per_hour=2.0)


def _close(value: float, target: float) -> bool:
    return abs(value / target - 1.0) <= WITHIN


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_planner_reproduces_llama_3_1_405b_at_30_84_million_h100_hours(scenario_id: str) -> None:
    plan = _llama_405b(scenario(scenario_id))
    assert _close(plan.gpu_hours, LLAMA_GPU_HOURS), f"{plan.gpu_hours / 1e6:.2f}M GPU-hours"
    assert _close(plan.flops, LLAMA_FLOPS), f"{plan.flops:.3e} FLOPs"


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_planner_reproduces_deepseek_v3_at_2_788_million_h800_hours_and_5_6_million_dollars(scenario_id: str) -> None:
    plan = _deepseek_v3(scenario(scenario_id))
    assert _close(plan.gpu_hours, DEEPSEEK_GPU_HOURS), f"{plan.gpu_hours / 1e6:.3f}M GPU-hours"
    assert _close(plan.rent_cost_usd, DEEPSEEK_COST_USD), f"${plan.rent_cost_usd / 1e6:.2f}M"


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
@pytest.mark.parametrize("run", PUBLISHED_RUNS, ids=[r[0] for r in PUBLISHED_RUNS])
def test_planner_lands_within_15_percent_of_each_published_run(scenario_id: str, run: tuple) -> None:
    name, total, active, tokens, gpu, gpus, published = run
    sc = scenario(scenario_id)
    assert gpu in {g.name for g in sc.compute.gpus}, f"{scenario_id} has no {gpu}: the planner cannot be checked"
    plan = plan_training(sc, total, tokens, gpu, gpus=gpus, active_params=active)
    assert _close(plan.gpu_hours, published), f"{name}: {plan.gpu_hours / published:.2f}x published"


def test_utilisation_falls_when_a_small_model_is_spread_over_many_fast_gpus() -> None:
    """The same 8B run loses MFU as the cluster grows (each GPU holds less of it), more so on H100s than A100s."""
    s = scenario(SCENARIO_IDS[0]).scaling
    mfu = lambda tflops, gpus: float(scaling.training_mfu(s, tflops, 8e9 / gpus))  # noqa: E731
    assert mfu(312, 512) > mfu(312, 16384)
    assert mfu(989, 512) > mfu(989, 16384)
    assert mfu(989, 16384) / mfu(989, 512) < mfu(312, 16384) / mfu(312, 512)
    assert mfu(989, 16384) < 0.5 * mfu(989, 512), "an 8B model on 16,384 H100s waits on the network"
    assert 0.38 <= float(scaling.training_mfu(s, 989, 405e9 / 16384)) <= 0.43, "Llama 3.1 reports 38-43% MFU"


def test_a_mixture_of_experts_trains_on_its_active_parameters_only() -> None:
    sc = scenario(SCENARIO_IDS[0])
    moe = _deepseek_v3(sc)
    dense_active = plan_training(sc, 37e9, 14.8e12, "H800", gpus=2048, price_per_hour=2.0)
    dense_total = plan_training(sc, 671e9, 14.8e12, "H800", gpus=2048, price_per_hour=2.0)
    assert moe.gpu_hours == pytest.approx(dense_active.gpu_hours)
    assert dense_total.gpu_hours > 15 * moe.gpu_hours
    assert dense_active.capability < moe.capability < dense_total.capability


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_deepseek_v3_rates_within_a_few_points_of_llama_3_1_405b_as_its_benchmarks_do(scenario_id: str) -> None:
    """DeepSeek-V3 report, table 6: MMLU 88.5 against 88.6, and better on most other benchmarks."""
    sc = scenario(scenario_id)
    v3, llama = _deepseek_v3(sc).capability, _llama_405b(sc).capability
    dense_37b = plan_training(sc, 37e9, 14.8e12, "H800", gpus=2048).capability
    assert abs(v3 - llama) <= 3.0, f"DeepSeek-V3 {v3:.1f}, Llama 3.1 405B {llama:.1f}"
    assert v3 > dense_37b + 10, "the experts count: V3 is far better than a dense model of its active size"


@pytest.mark.parametrize("flops", [1e23, 1e24, 1e25])
@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_compute_optimal_training_uses_about_20_tokens_per_parameter(scenario_id: str, flops: float) -> None:
    s = scenario(scenario_id).scaling
    params, tokens = scaling.compute_optimal(flops, s)
    assert 20 * (1 - 0.25) <= tokens / params <= 20 * (1 + 0.25)
    assert float(scaling.training_flops(params, tokens, s)) == pytest.approx(flops)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_compute_optimal_split_has_the_lowest_loss_for_its_budget(scenario_id: str) -> None:
    s = scenario(scenario_id).scaling
    flops = 1e24
    params, tokens = scaling.compute_optimal(flops, s)
    best = scaling.loss(params, tokens, s)
    for factor in (0.5, 0.8, 1.25, 2.0):
        n = params * factor
        assert scaling.loss(n, flops / (s.flops_per_param_token * n), s) > best


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_capability_rises_with_compute_and_stays_between_0_and_100(scenario_id: str) -> None:
    s = scenario(scenario_id).scaling
    budgets = np.geomspace(1e20, 1e28, 33)
    params, tokens = scaling.compute_optimal(budgets, s)
    capability = np.asarray(scaling.capability(scaling.loss(params, tokens, s), s))
    assert (np.diff(capability) > 0).all()
    assert ((capability >= 0) & (capability <= 100)).all()
    assert capability[0] < 10 and capability[-1] > 80, "the index spans the range from tiny to frontier runs"


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_algorithmic_efficiency_raises_the_capability_of_the_same_run(scenario_id: str) -> None:
    s = scenario(scenario_id).scaling
    caps = [scaling.model_capability(405e9, 405e9, 15.6e12, algo, s) for algo in (1.0, 3.0, 9.0)]
    assert caps[0] < caps[1] < caps[2]


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_engine_trains_at_the_planners_pace(scenario_id: str) -> None:
    """A lab with a full engineering team finishes Llama 3.1 405B on 16,384 H100s in the quarters the planner predicts."""
    w, sc = world(scenario_id), scenario(scenario_id)
    plan = _llama_405b(sc, gpus=16384)
    h100 = w.gpu_names.index("H100")
    peak = np.array([[16384 * w.gpu_tflops[h100] * 1e12 * SECONDS_PER_ROUND]])
    engineers = np.array([[sc.talent.engineers_for_full_goodput]])
    gpus = np.zeros((1, 1, w.n_gpus))
    gpus[0, 0, h100] = 16384
    per_round = training.pace(w, gpus, np.array([[405.0]]), engineers)
    assert per_round[0, 0] == pytest.approx(peak[0, 0] * float(scaling.training_mfu(sc.scaling, 989, 405e9 / 16384))
                                            * training.goodput(w, engineers)[0, 0])
    quarters = plan.days / (SECONDS_PER_ROUND / 86400.0)
    assert float(plan.flops / per_round[0, 0]) == pytest.approx(quarters, rel=1e-6)
