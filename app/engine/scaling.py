"""Scaling laws: loss, capability and compute of a pre-training run.

Loss: Epoch AI re-fit of Chinchilla (Besiroglu et al. 2024), L = E + A/N^alpha + B/D^beta.
Repeated data: Muennighoff et al. 2023, D' = U + U R* (1 - exp(-R/R*)).
Works on floats and numpy arrays alike.
"""

from __future__ import annotations

import numpy as np

from app.scenario.schema import Scaling

ArrayLike = float | np.ndarray


def training_mfu(
    s: Scaling, tflops: ArrayLike, params_per_gpu: ArrayLike, active_params: ArrayLike
) -> ArrayLike:
    """Model FLOPs utilisation of a training run of `active_params` with `params_per_gpu` of
    them on each GPU: what big matrices on a well-sized cluster get, less what small matrices
    (kernels), a model spread thin (the network) and a model packed tight on few GPUs (pipeline
    bubbles, memory) cost.

    MFU = mfu / (1 + (n_size / N)^a) / (1 + (p_small / p)^k) / (1 + (p / p_large)^b),
    N = active parameters, p = N / GPUs,
    p_small = mfu_small_params_per_gpu * (tflops / mfu_reference_tflops)^mfu_speed_exponent.
    Fitted (minimax in log GPU-hours) to published runs (docs/model.md, "Training utilisation"):
    LLaMA, Llama 2, 3, 3.1 and 3.2, BLOOM, Falcon 180B, MPT-7B, SmolLM3 and DeepSeek-V3, on
    384 to 16,384 A100s, H100s and H800s: every one within 15%.
    """
    return gpu_mfu(s, tflops, *size_mfu_terms(s, params_per_gpu, active_params))


def size_mfu_terms(
    s: Scaling, params_per_gpu: ArrayLike, active_params: ArrayLike
) -> tuple[ArrayLike, ArrayLike, ArrayLike]:
    """The parts of `training_mfu` that owe nothing to the GPU type: the parameters on each GPU
    (at least 1), and what small matrices and a model packed tight cost (the factors of MFU
    they divide it by). Worked out once, they serve every GPU type of a fleet (`gpu_mfu`)."""
    p = np.maximum(params_per_gpu, 1.0)
    n = np.maximum(active_params, 1.0)
    small_kernels = 1.0 + (s.mfu_size_params / n) ** s.mfu_size_exponent
    packed_tight = 1.0 + (p / s.mfu_large_params_per_gpu) ** s.mfu_large_exponent
    return p, small_kernels, packed_tight


def gpu_mfu(s: Scaling, tflops: ArrayLike, params_per_gpu: ArrayLike, small_kernels: ArrayLike,
            packed_tight: ArrayLike) -> ArrayLike:
    """`training_mfu` on GPUs of `tflops` from its `size_mfu_terms`."""
    speed = (np.asarray(tflops) / s.mfu_reference_tflops) ** s.mfu_speed_exponent
    spread_thin = (
        1.0 + (s.mfu_small_params_per_gpu * speed / params_per_gpu) ** s.mfu_small_exponent
    )
    return s.mfu / small_kernels / spread_thin / packed_tight


def loss(n_params: ArrayLike, n_tokens: ArrayLike, s: Scaling) -> ArrayLike:
    """Expected pre-training loss for N parameters and D (effective) tokens."""
    n = np.maximum(n_params, 1.0)
    d = np.maximum(n_tokens, 1.0)
    return s.E + s.A / n**s.alpha + s.B / d**s.beta


def capability(loss_value: ArrayLike, s: Scaling) -> ArrayLike:
    """Map loss to a 0-100 capability index: a sigmoid in log reducible loss, ln(L - E), which is
    a sigmoid in log compute as benchmark scores are (Ruan et al. 2024; Llama 3 fitted the same
    shape), so the index does not saturate where the loss nears its floor E."""
    reducible = np.maximum(np.asarray(loss_value) - s.E, 1e-12) / (s.capability_mid_loss - s.E)
    z = np.clip(np.log(reducible) / s.capability_width, -50.0, 50.0)
    return 100.0 / (1.0 + np.exp(z))


def effective_params(total: ArrayLike, active: ArrayLike, s: Scaling) -> ArrayLike:
    """Quality-equivalent parameters of a (possibly MoE) model: N_active^(1-w) N_total^w."""
    return (
        np.asarray(active) ** (1.0 - s.moe_total_weight) * np.asarray(total) ** s.moe_total_weight
    )


def effective_tokens(tokens: ArrayLike, unique: ArrayLike, s: Scaling) -> ArrayLike:
    """Tokens' worth of training after repetition (Muennighoff et al. 2023): D' = U + U R* (1 -
    exp(-R / R*)) for R = D/U - 1 repetitions of U unique tokens; nearly full value up to ~4
    epochs, then decays."""
    u = np.maximum(unique, 1e-9)
    repeats = np.maximum(np.asarray(tokens) / u - 1.0, 0.0)
    r_star = s.repeat_half_life_epochs
    return np.minimum(tokens, u) + u * r_star * -np.expm1(-repeats / r_star)


def training_flops(active_params: ArrayLike, tokens: ArrayLike, s: Scaling) -> ArrayLike:
    """C = 6 N D with N the active parameters (MoE)."""
    return s.flops_per_param_token * np.asarray(active_params) * np.asarray(tokens)


def model_capability(
    total: ArrayLike, active: ArrayLike, tokens_eff: ArrayLike, algo: ArrayLike, s: Scaling,
    data_quality: ArrayLike = 1.0,
) -> ArrayLike:
    """Capability of a finished run; algorithmic efficiency and the quality of the data read
    multiply effective compute (split evenly over N and D). `data_quality` is what a token read
    was worth against a web-scraped one (1: as good; repeated or synthetic data is worth less,
    licensed and users' data more), raised to `s.data_quality_exponent`: better data trains a
    better model from the same compute, as curated corpora do (Gunasekar et al. 2023, "Textbooks
    are all you need"; Penedo et al. 2024, FineWeb-Edu)."""
    quality = np.maximum(np.asarray(data_quality), 1e-6) ** s.data_quality_exponent
    boost = np.sqrt(np.maximum(algo, 1.0) * quality)
    return capability(
        loss(effective_params(total, active, s) * boost, np.asarray(tokens_eff) * boost, s), s
    )


def compute_optimal(flops: ArrayLike, s: Scaling) -> tuple[ArrayLike, ArrayLike]:
    """Loss-minimising (N, D) for a compute budget C = 6 N D (Hoffmann et al. 2022, eq. 4)."""
    a, b = s.alpha, s.beta
    g = (a * s.A / (b * s.B)) ** (1.0 / (a + b))
    n = g * (np.asarray(flops) / s.flops_per_param_token) ** (b / (a + b))
    return n, np.asarray(flops) / (s.flops_per_param_token * n)
