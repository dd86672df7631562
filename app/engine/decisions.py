"""What a company decides each quarter: a typed form for players, arrays for the rules."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.engine.world import OPEN_MODEL, OWN_MODEL, World
from app.scenario.schema import (
    MAX_GPU_TYPES,
    MAX_GPUS,
    MAX_HEADCOUNT,
    MAX_MUSD,
    MAX_PARAMS_B,
    MAX_PRICE,
    MAX_SEGMENTS,
    MAX_TOKENS_T,
    MIN_PARAMS_B,
    NAME_MAX,
)

# The range of every number a team can decide: wide enough for any strategy a class might try,
# narrow enough that nothing the engine derives from it can overflow or turn into NaN. Limits
# a scenario's starting figures share (money, headcount, GPUs, parameters) live in its schema.
MAX_DATA_T_TOKENS = MAX_TOKENS_T  # to acquire in a quarter
MIN_RUN_TOKENS_T, MAX_RUN_TOKENS_T = 0.01, MAX_TOKENS_T  # from 10B tokens, a toy run
# $ per million tokens, 300x below the cheapest 2025 list price (~$0.0375, Gemini 1.5 Flash-8B)
MIN_PRICE = 0.0001
MIN_PAY, MAX_PAY = 0.5, 3.0  # pay relative to the market rate: half to triple
Release = Literal["when_better", "hold"]  # what becomes of a finished run's model
RELEASES: tuple[str, ...] = get_args(Release)

Money = Annotated[float, Field(ge=0, le=MAX_MUSD)]
GpuCount = Annotated[float, Field(ge=0, le=MAX_GPUS)]
Price = Annotated[float, Field(ge=MIN_PRICE, le=MAX_PRICE)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX)]


class Section(BaseModel):
    # an infinite price or purchase would poison every figure
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FinanceDecision(Section):
    raise_equity_musd: Money = Field(
        0.0, description="New equity to raise, at the current valuation (US$M)."
    )
    borrow_musd: Money = Field(0.0, description="New debt (US$M).")
    repay_musd: Money = Field(0.0, description="Debt to repay (US$M).")


class ComputeDecision(Section):
    buy_gpus: dict[Name, GpuCount] = Field(
        default_factory=dict,
        max_length=MAX_GPU_TYPES,
        description="GPUs to order, by catalogue name (delivered after the lag).",
    )
    rent_gpus: dict[Name, GpuCount] = Field(
        default_factory=dict,
        max_length=MAX_GPU_TYPES,
        description="GPUs to rent this quarter, by catalogue name.",
    )
    serving_share: float = Field(
        0.6, ge=0, le=1, description="Share of GPU capacity serving customers; the rest trains."
    )


class TalentDecision(Section):
    researchers: float | None = Field(
        None, ge=0, le=MAX_HEADCOUNT, description="Target headcount (empty: keep)."
    )
    engineers: float | None = Field(None, ge=0, le=MAX_HEADCOUNT)
    safety_staff: float | None = Field(None, ge=0, le=MAX_HEADCOUNT)
    pay_level: float = Field(
        1.0, ge=MIN_PAY, le=MAX_PAY, description="Pay relative to the market rate."
    )


class DataDecision(Section):
    scrape_t_tokens: float = Field(
        0.0, ge=0, le=MAX_DATA_T_TOKENS, description="Trillions of web tokens to crawl."
    )
    license_t_tokens: float = Field(
        0.0, ge=0, le=MAX_DATA_T_TOKENS, description="Trillions of tokens to license."
    )
    synthetic_t_tokens: float = Field(
        0.0,
        ge=0,
        le=MAX_DATA_T_TOKENS,
        description="Trillions of synthetic tokens to generate with training compute.",
    )


class RunPlan(Section):
    params_b: float = Field(
        ge=MIN_PARAMS_B, le=MAX_PARAMS_B, description="Total parameters (billions)."
    )
    active_params_b: float | None = Field(
        None,
        ge=MIN_PARAMS_B,
        le=MAX_PARAMS_B,
        description="Active parameters per token for a Mixture of Experts (billions), at most "
        "the total.",
    )
    tokens_t: float = Field(
        ge=MIN_RUN_TOKENS_T, le=MAX_RUN_TOKENS_T, description="Training tokens (trillions)."
    )

    @field_validator("active_params_b")
    @classmethod
    def _within_total(cls, active: float | None, info: ValidationInfo) -> float | None:
        total = info.data.get("params_b")
        if active is not None and total is not None and active > total:
            raise ValueError(
                f"Active parameters ({active:,g}B) cannot exceed total parameters ({total:,g}B)."
            )
        return active

    @property
    def active(self) -> float:
        return self.active_params_b if self.active_params_b is not None else self.params_b


class TrainingDecision(Section):
    start: RunPlan | None = Field(
        None, description="Start a pre-training run (labs, one at a time)."
    )
    cancel: bool = Field(False, description="Abandon the run in progress.")
    release: Release = Field(
        "when_better",
        description="What becomes of a finished run's model, which is kept ready until released: "
        "`when_better` releases it as soon as it rates above the model on sale; `hold` keeps it "
        "ready and unreleased (the model on sale keeps selling) until you switch back. A ready "
        "model that rates below the one on sale is never released; the next finished run "
        "replaces it.",
    )


class TuningDecision(Section):
    sft_musd: dict[Name, Money] = Field(
        default_factory=dict, max_length=MAX_SEGMENTS, description="SFT spend by segment id (US$M)."
    )
    safety_musd: Money = Field(0.0, description="Safety tuning and red-teaming (US$M).")
    retrieval: bool = Field(False, description="Serve with retrieval (RAG) to keep answers fresh.")


class ProductDecision(Section):
    prices: dict[Name, Price] = Field(
        default_factory=dict,
        max_length=MAX_SEGMENTS,
        description="Price per million tokens by segment id (US$).",
    )
    api_price: float | None = Field(
        None, ge=0, le=MAX_PRICE, description="Wholesale API price per million tokens (labs)."
    )
    base_model: Name | None = Field(None, description="'open' or a lab's name (product companies).")
    marketing_musd: Money = Field(0.0, description="Marketing (US$M).")


class Decision(Section):
    """One company's decision for one quarter, grouped as the decision page shows it."""

    finance: FinanceDecision = Field(default_factory=FinanceDecision)
    compute: ComputeDecision = Field(default_factory=ComputeDecision)
    talent: TalentDecision = Field(default_factory=TalentDecision)
    data: DataDecision = Field(default_factory=DataDecision)
    training: TrainingDecision = Field(default_factory=TrainingDecision)
    tuning: TuningDecision = Field(default_factory=TuningDecision)
    products: ProductDecision = Field(default_factory=ProductDecision)

    def carried_on(self) -> Decision:
        """Next quarter's decision of a company that decides nothing: recurring choices stay,
        one-offs stop."""
        return self.model_copy(
            update={
                "finance": FinanceDecision(),
                "compute": self.compute.model_copy(update={"buy_gpus": {}}),
                "data": DataDecision(),
                "training": TrainingDecision(release=self.training.release),
            },
            deep=True,
        )


@dataclass(frozen=True, eq=False)
class DecisionArrays:
    """Every company's decision as arrays (R,C,...) in the rules' units."""

    raise_equity: np.ndarray
    borrow: np.ndarray
    repay: np.ndarray
    buy: np.ndarray  # (R,C,G)
    rent: np.ndarray  # (R,C,G)
    serving_share: np.ndarray
    staff_target: np.ndarray  # (R,C,3)
    pay: np.ndarray
    data_buy: np.ndarray  # (R,C,K) scraped, licensed, synthetic tokens
    start_run: np.ndarray  # bool
    run_total: np.ndarray
    run_active: np.ndarray
    run_tokens: np.ndarray
    cancel_run: np.ndarray  # bool
    hold: np.ndarray  # bool: keep a finished model ready rather than release it
    sft: np.ndarray  # (R,C,S)
    safety: np.ndarray
    rag: np.ndarray
    price: np.ndarray  # (R,C,S)
    api_price: np.ndarray
    marketing: np.ndarray
    base: np.ndarray  # int

    def replace(self, **changes: Any) -> DecisionArrays:
        return dataclasses.replace(self, **changes)

    def where(self, mask: np.ndarray, other: DecisionArrays) -> DecisionArrays:
        """Take self where mask (R,C) holds, else other."""
        out = {}
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            m = mask.reshape(mask.shape + (1,) * (a.ndim - mask.ndim))
            out[f.name] = np.where(m, a, b)
        return DecisionArrays(**out)


def to_arrays(
    decisions: list[Decision],
    world: World,
    state_base: np.ndarray,
    state_prices: np.ndarray,
    state_api: np.ndarray,
    staff: np.ndarray,
) -> DecisionArrays:
    """Stack one decision per company into arrays for every run of the state given (R runs: the same
    decision in each, its empty fields read from that run's state: today's headcount, last round's
    prices and base model)."""
    out = blank_arrays(world, state_base, state_prices, state_api, staff)
    for c, d in enumerate(decisions):
        fill(out, slice(None), c, d, world)
    return DecisionArrays(**out)


def blank_arrays(
    world: World,
    state_base: np.ndarray,
    state_prices: np.ndarray,
    state_api: np.ndarray,
    staff: np.ndarray,
) -> dict[str, np.ndarray]:
    """The fields of DecisionArrays for R runs, zero where a decision adds and the state's value
    where it keeps."""
    R, C, G, S = state_prices.shape[0], world.n_companies, world.n_gpus, world.n_segments
    z = lambda *shape: np.zeros((R, C, *shape))  # noqa: E731
    out = {
        k: z()
        for k in (
            "raise_equity",
            "borrow",
            "repay",
            "serving_share",
            "pay",
            "run_total",
            "run_active",
            "run_tokens",
            "safety",
            "rag",
            "marketing",
        )
    }
    out.update(
        buy=z(G),
        rent=z(G),
        sft=z(S),
        price=state_prices.copy(),
        staff_target=staff.copy(),
        data_buy=z(3),
        start_run=np.zeros((R, C), bool),
        cancel_run=np.zeros((R, C), bool),
        hold=np.zeros((R, C), bool),
        api_price=state_api.copy(),
        base=state_base.copy(),
    )
    return out


def fill(out: dict[str, np.ndarray], run: int | slice, c: int, d: Decision, world: World) -> None:
    """Write company c's decision into the arrays of `blank_arrays`, for one run or a slice of
    runs."""
    gi = {n: i for i, n in enumerate(world.gpu_names)}
    si = {n: i for i, n in enumerate(world.segment_ids)}
    for key, table, index in (
        ("buy", d.compute.buy_gpus, gi),
        ("rent", d.compute.rent_gpus, gi),
        ("sft", d.tuning.sft_musd, si),
    ):
        for name, n in table.items():  # unknown names are left to validation to report
            if name in index:
                out[key][run, c, index[name]] += n
    for seg, v in d.products.prices.items():
        if seg in si:
            out["price"][run, c, si[seg]] = v
    for r, wanted in enumerate((d.talent.researchers, d.talent.engineers, d.talent.safety_staff)):
        if wanted is not None:
            out["staff_target"][run, c, r] = wanted
    out["data_buy"][run, c] = (
        d.data.scrape_t_tokens,
        d.data.license_t_tokens,
        d.data.synthetic_t_tokens,
    )
    f = d.finance
    for k, v in (
        ("raise_equity", f.raise_equity_musd),
        ("borrow", f.borrow_musd),
        ("repay", f.repay_musd),
        ("serving_share", d.compute.serving_share),
        ("pay", d.talent.pay_level),
        ("safety", d.tuning.safety_musd),
        ("rag", float(d.tuning.retrieval)),
        ("marketing", d.products.marketing_musd),
    ):
        out[k][run, c] = v
    if d.training.start is not None:
        out["start_run"][run, c] = True
        out["run_total"][run, c] = d.training.start.params_b
        out["run_active"][run, c] = d.training.start.active
        out["run_tokens"][run, c] = d.training.start.tokens_t
    out["cancel_run"][run, c] = d.training.cancel
    out["hold"][run, c] = d.training.release == "hold"
    if d.products.api_price is not None:
        out["api_price"][run, c] = d.products.api_price
    if world.is_lab[c]:
        out["base"][run, c] = OWN_MODEL
    elif d.products.base_model is not None:
        name = d.products.base_model
        code = (
            OPEN_MODEL
            if name == "open"
            else world.company_names.index(name)
            if name in world.company_names
            else None
        )
        if code is not None:
            out["base"][run, c] = code
