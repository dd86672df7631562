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
# The table (issue 9, point 7); docs/model.md, "Training utilisation", has every source.
PUBLISHED_RUNS = [
    ("Llama 2 7B", 7e9, 7e9, 2e12, "A100", 2048, 184_320),  # Touvron et al. 2023 (Llama 2), table 2
    ("Llama 2 13B", 13e9, 13e9, 2e12, "A100", 2048, 368_640),
    ("Llama 2 70B", 70e9, 70e9, 2e12, "A100", 2048, 1_720_320),
    ("LLaMA 65B", 65.2e9, 65.2e9, 1.4e12, "A100", 2048, 1_022_362),  # Touvron et al. 2023 (LLaMA), table 15
    ("BLOOM 176B", 176e9, 176e9, 366e9, "A100", 384, 1_082_990),  # BigScience 2022, model card
    ("Llama 3 8B", 8e9, 8e9, 15e12, "H100", 16384, 1.3e6),  # Meta Llama 3 model card
    ("Llama 3.1 405B", 405e9, 405e9, 15.6e12, "H100", 16384, 30.84e6),  # Llama 3.1 model card
    ("DeepSeek-V3", 671e9, 37e9, 14.8e12, "H800", 2048, 2.788e6),  # DeepSeek-AI 2024, table 1
]
# Other published runs the formula was fitted to (GPU counts as published; Meta's Llama 2 count is not, and
# LLaMA's 2,048 is assumed; Llama 3.x counts: the 16,384 of the Llama 3 paper).
OTHER_RUNS = [
    ("LLaMA 33B", 32.5e9, 32.5e9, 1.4e12, "A100", 2048, 530_432),  # LLaMA, table 15
    ("Llama 2 34B", 34e9, 34e9, 2e12, "A100", 2048, 1_038_336),  # Llama 2, table 2 (350 W production cluster)
    ("Llama 3 70B", 70e9, 70e9, 15e12, "H100", 16384, 6.4e6),  # Llama 3 model card
    ("Llama 3.1 8B", 8e9, 8e9, 15e12, "H100", 16384, 1.46e6),  # Llama 3.1 model card
    ("Llama 3.1 70B", 70e9, 70e9, 15e12, "H100", 16384, 7.0e6),  # Llama 3.1 model card
    ("Llama 3.2 1B", 1.24e9, 1.24e9, 9e12, "H100", 16384, 370e3),  # Llama 3.2 model card (training time)
    ("Llama 3.2 3B", 3.21e9, 3.21e9, 9e12, "H100", 16384, 460e3),  # Llama 3.2 model card
    ("Falcon 180B", 180e9, 180e9, 3.5e12, "A100", 4096, 7.0e6),  # Almazrouei et al. 2023; HF blog: ~7M GPU-hours
    ("MPT-7B", 6.7e9, 6.7e9, 1e12, "A100", 440, 440 * 9.5 * 24),  # MosaicML 2023: 9.5 days on 440 A100-40GB
    ("SmolLM3 3B", 3.075e9, 3.075e9, 11.2e12, "H100", 384, 384 * 24 * 24),  # Hugging Face 2025: 24 days, 384 H100
    ("Pythia 1B", 1.012e9, 1.012e9, 299.9e9, "A100", 64, 4_830),  # Biderman et al. 2023, table 5
    ("Pythia 6.9B", 6.857e9, 6.857e9, 299.9e9, "A100", 128, 33_500),
    ("Pythia 2.8B", 2.775e9, 2.775e9, 299.9e9, "A100", 64, 14_240),
    ("Pythia 1.4B", 1.415e9, 1.415e9, 299.9e9, "A100", 64, 7_120),
    ("Pythia 160M", 162.3e6, 162.3e6, 299.9e9, "A100", 32, 1_030),
]
# Published runs the planner does not reproduce, with why (docs/model.md): (run, planner / published, at most).
EXCEPTIONS = [
    # LLaMA's own table: 13B at 51% MFU, above its 7B, 33B and 65B (43-48%) and 1.36x Llama 2 13B on the
    # same GPUs -- no formula of size, cluster and GPU holds both 13B runs within 15% (the band spans 1.35x).
    (("LLaMA 13B", 13e9, 13e9, 1e12, "A100", 2048, 135_168), 1.40),
    (("LLaMA 7B", 6.7e9, 6.7e9, 1e12, "A100", 2048, 82_432), 1.25),  # 11% above Llama 2 7B's MFU
    # Known slow runs: OPT's hours are LLaMA's estimate (992 GPUs x 34 days) of a run with dozens of restarts;
    # BloombergGPT and StarCoder used full activation recomputation; Pythia checkpointed and synchronised
    # every layer in fp16 (its configs), which its 12B, 410M and 70M feel most -- the planner is faster.
    (("OPT-175B", 175e9, 175e9, 180e9, "A100", 992, 809_472), 0.45),  # LLaMA, table 15
    (("BloombergGPT", 50.6e9, 50.6e9, 569e9, "A100", 512, 512 * 53 * 24), 0.55),  # Wu et al. 2023: 53 days
    (("StarCoderBase", 15.5e9, 15.5e9, 1e12, "A100", 512, 320_256), 0.62),  # Li et al. 2023, 5.7
    (("Pythia 12B", 11.85e9, 11.85e9, 299.9e9, "A100", 256, 72_300), 0.58),  # Biderman et al. 2023, table 5
    (("Pythia 410M", 405.3e6, 405.3e6, 299.9e9, "A100", 32, 2_540), 0.68),
    (("Pythia 70M", 70.4e6, 70.4e6, 299.9e9, "A100", 32, 510), 0.70),
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


def _planner_ratio(scenario_id: str, run: tuple) -> float:
    name, total, active, tokens, gpu, gpus, published = run
    sc = scenario(scenario_id)
    assert gpu in {g.name for g in sc.compute.gpus}, f"{scenario_id} has no {gpu}: the planner cannot be checked"
    return plan_training(sc, total, tokens, gpu, gpus=gpus, active_params=active).gpu_hours / published


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
@pytest.mark.parametrize("run", PUBLISHED_RUNS, ids=[r[0] for r in PUBLISHED_RUNS])
def test_planner_lands_within_15_percent_of_each_published_run(scenario_id: str, run: tuple) -> None:
    ratio = _planner_ratio(scenario_id, run)
    assert abs(ratio - 1.0) <= WITHIN, f"{run[0]}: {ratio:.3f}x published"


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
@pytest.mark.parametrize("run", OTHER_RUNS, ids=[r[0] for r in OTHER_RUNS])
def test_planner_generalises_to_other_published_runs(scenario_id: str, run: tuple) -> None:
    ratio = _planner_ratio(scenario_id, run)
    assert abs(ratio - 1.0) <= WITHIN, f"{run[0]}: {ratio:.3f}x published"


@pytest.mark.parametrize("run,bound", EXCEPTIONS, ids=[r[0][0] for r in EXCEPTIONS])
def test_the_documented_exceptions_stay_where_docs_model_md_says(run: tuple, bound: float) -> None:
    """Outside 15%, on the side and within the bound the table in docs/model.md gives."""
    ratio = _planner_ratio(SCENARIO_IDS[0], run)
    assert abs(ratio - 1.0) > WITHIN, f"{run[0]} now lands within 15% ({ratio:.3f}x): move it to OTHER_RUNS"
    assert (ratio <= bound) if bound > 1 else (ratio >= bound), f"{run[0]}: {ratio:.3f}x published"


def test_utilisation_falls_when_a_small_model_is_spread_over_many_fast_gpus() -> None:
    """The same 8B run loses MFU as the cluster grows (each GPU holds less of it), more so on H100s than A100s."""
    s = scenario(SCENARIO_IDS[0]).scaling
    mfu = lambda tflops, gpus: float(scaling.training_mfu(s, tflops, 8e9 / gpus, 8e9))  # noqa: E731
    assert mfu(312, 512) > mfu(312, 16384)
    assert mfu(989, 512) > mfu(989, 16384)
    assert mfu(989, 16384) / mfu(989, 512) < mfu(312, 16384) / mfu(312, 512)
    assert mfu(989, 16384) < 0.5 * mfu(989, 512), "an 8B model on 16,384 H100s waits on the network"
    assert 0.38 <= float(scaling.training_mfu(s, 989, 405e9 / 16384, 405e9)) <= 0.43, "Llama 3.1 reports 38-43% MFU"


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
    assert per_round[0, 0] == pytest.approx(peak[0, 0] * float(scaling.training_mfu(sc.scaling, 989, 405e9 / 16384, 405e9))
                                            * training.goodput(w, engineers)[0, 0])
    quarters = plan.days / (SECONDS_PER_ROUND / 86400.0)
    assert float(plan.flops / per_round[0, 0]) == pytest.approx(quarters, rel=1e-6)
