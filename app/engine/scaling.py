"""Scaling laws: loss, capability and compute of a pre-training run.

Loss: Epoch AI re-fit of Chinchilla (Besiroglu et al. 2024), L = E + A/N^alpha + B/D^beta.
Repeated data: Muennighoff et al. 2023, D' = U + U R* (1 - exp(-R/R*)).
Works on floats and numpy arrays alike.
"""

from __future__ import annotations

import numpy as np

from app.scenario.schema import Scaling

ArrayLike = float | np.ndarray


def training_mfu(s: Scaling, tflops: ArrayLike, params_per_gpu: ArrayLike) -> ArrayLike:
    """Model FLOPs utilisation of a training run: the well-sized MFU, less what a small model spread
    thin (the network) and a huge model on few GPUs (pipeline bubbles, memory) cost.

    MFU = mfu / (1 + (p_small / p)^k) / (1 + p / p_large), p = active parameters per GPU,
    p_small = mfu_small_params_per_gpu * (tflops / reference)^speed_exponent. Fitted to published
    runs (docs/model.md, "Training utilisation"): Llama 2 and LLaMA on 2,048 A100s, BLOOM on 384,
    Llama 3 and 3.1 on 16,384 H100s, DeepSeek-V3 on 2,048 H800s.
    """
    p = np.maximum(params_per_gpu, 1.0)
    small = s.mfu_small_params_per_gpu * (np.asarray(tflops) / s.mfu_reference_tflops) ** (
        s.mfu_speed_exponent
    )
    spread_thin = 1.0 + (small / p) ** s.mfu_small_exponent
    packed_tight = 1.0 + p / s.mfu_large_params_per_gpu
    return s.mfu / spread_thin / packed_tight


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
