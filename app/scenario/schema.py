"""The scenario file format: every number the rules use, with documented defaults.

Defaults are sourced in ``docs/scenarios.md`` (generated from the descriptions here)
and in PRODUCT.md's calibration figures.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.scenario.references import reference_problems

HOURS_PER_ROUND = 2190.0  # a quarter: 365.25 days * 24 h / 4
SECONDS_PER_ROUND = HOURS_PER_ROUND * 3600.0

# How many of each thing a scenario may list: a class game shows every one of them on a page.
MAX_COMPANIES = 40  # seats a class can fill, one team each
MAX_GPU_TYPES = 12  # the catalogue is a table on the decision page
MAX_SEGMENTS = 12  # each segment is a price field on the decision page
MAX_DATA_SOURCES = 3  # one of each kind: scraped, licensed, synthetic
MAX_EVENTS = 40  # the instructor's catalogue to inject from is one list on the console
MAX_ROUNDS = 40  # ten years of quarters
MAX_NOTE_ITEMS = 30  # objectives, questions, plan steps or sources in a teaching note
NAME_MAX = 60  # company, GPU, segment, model and event names are shown in tables and headlines
TEXT_MAX = 2_000  # one paragraph of a summary or a teaching note

# The range of the figures a scenario and a decision share.
MAX_MUSD = 1_000_000.0  # $1 trillion: twice OpenAI's 2025 valuation ($500B)
MAX_HEADCOUNT = 50_000.0  # one role at one company: ~8x Google DeepMind's ~6,000 staff (2024)
MAX_GPUS = 5_000_000.0  # one type a quarter: NVIDIA shipped 3.76M data-centre GPUs in 2023
MIN_PARAMS_B, MAX_PARAMS_B = 0.1, 20_000.0  # GPT-2 small has 0.124B; 20T is ~10x the largest models
MAX_TOKENS_T = 1_000.0  # 3x the ~300T tokens of public human text (Villalobos et al. 2024)
MAX_PRICE = 10_000.0  # $ per million tokens: 17x the dearest 2025 list price (o1-pro output, $600)
# Scenario-only ranges, far beyond any calibration and still far from overflow.
MAX_T_TOKENS_STOCK = 1_000_000.0  # trillions of tokens in a pool, a segment or a company's data
MAX_COEFFICIENT = 1_000.0  # multipliers, weights, exponents and scales of the rules
MAX_POINTS = 100.0  # capability, safety, brand and the other 0-100 scores
MAX_COUNT = 1e12  # SFT examples held or needed: ~1,000x Llama 2's ~1M preference comparisons
MAX_GPU_SPEC = 1_000_000.0  # TFLOP/s, watts, GB or $ an hour of one GPU: a B200 has 2,250 TFLOP/s
MAX_GPU_PRICE_USD = 10_000_000.0  # one GPU: 250x a B200 (~$40,000)
MAX_SALARY_USD = 100_000_000.0  # a year, fully loaded: the largest reported AI offers (~$100M)
MAX_YEARS = 50.0  # depreciation lives and calendar spans
MAX_METRIC = 1_000_000.0  # either end of a scorecard metric's range
MAX_WEIGHT = 1_000.0  # a scorecard weight: at 1,000 times another, the other no longer counts

Label = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX)]
Text = Annotated[str, StringConstraints(max_length=TEXT_MAX)]
Notes = Annotated[list[Text], Field(max_length=MAX_NOTE_ITEMS)]


Persona = Literal["scale_maximalist", "fast_follower", "safety_first", "price_disruptor", "incumbent", "idle"]
PERSONAS: tuple[str, ...] = Persona.__args__  # type: ignore[attr-defined]


class Strict(BaseModel):
    """Base for scenario sections: unknown keys are errors, objects are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TeachingNote(Strict):
    objectives: Notes = Field(
        min_length=1,
        description="Learning objectives, each tied to a concept of the course text.")
    concepts: Notes = Field(
        default_factory=list,
        description="Course concepts the scenario makes tangible (pre-training moats, knowledge "
                    "cut-off, SFT, safety tuning, MoE, commoditisation, corporate genealogy...).")
    discussion_questions: Notes = Field(min_length=1, description="Questions for the debrief.")
    class_plan: Notes = Field(
        min_length=1,
        description="A suggested plan for the session(s), one step a line.")
    sources: Notes = Field(default_factory=list, description="Where the default figures come from.")


class Scaling(Strict):
    """Pre-training loss, compute and capability (Epoch AI re-fit of Chinchilla, Besiroglu et al. 2024)."""

    E: float = Field(1.8172, gt=0, le=MAX_COEFFICIENT, description="Irreducible loss.")
    A: float = Field(482.01, gt=0, le=1e6, description="Parameter term coefficient.")
    B: float = Field(2085.43, gt=0, le=1e6, description="Data term coefficient.")
    alpha: float = Field(0.3478, gt=0, lt=1, description="Parameter exponent.")
    beta: float = Field(0.3658, gt=0, lt=1, description="Data exponent.")
    flops_per_param_token: float = Field(
        6.0, gt=0, le=MAX_COEFFICIENT,
        description="Training FLOPs per (active) parameter per token: C = 6 N D.")
    mfu: float = Field(
        0.75, gt=0, le=1,
        description="Model FLOPs utilisation a training run approaches as its matrices grow, on a "
                    "well-sized cluster, before the size, spread and packing terms below "
                    "(scaling.training_mfu; fitted to published runs, docs/model.md).")
    mfu_size_params: float = Field(
        5.0e8, gt=0, le=1e15,
        description="Active parameters at which small matrices halve the MFU: kernels of a "
                    "small model use the tensor cores less well (Narayanan et al. 2021, table 1: "
                    "44% of peak at 1.7B parameters, 52% at 1T).")
    mfu_size_exponent: float = Field(
        0.113, ge=0, le=4,
        description="How slowly the MFU keeps rising with model size (0 turns the term off, "
                    "leaving mfu / 2).")
    mfu_small_params_per_gpu: float = Field(
        4.5e4, gt=0, le=1e12,
        description="Active parameters per training GPU at which communication halves the MFU on "
                    "the reference GPU: a small model spread over many GPUs waits on the network "
                    "(fitted to Meta's, BigScience's, TII's, MosaicML's, Hugging Face's and "
                    "DeepSeek's published GPU-hours, docs/model.md).")
    mfu_small_exponent: float = Field(
        0.55, gt=0, le=4,
        description="How steeply the MFU falls as each GPU holds less of the model.")
    mfu_reference_tflops: float = Field(
        312, gt=0, le=MAX_GPU_SPEC,
        description="Dense BF16 TFLOP/s of the reference GPU of the size terms (A100).")
    mfu_speed_exponent: float = Field(
        3.0, ge=0, le=8,
        description="How fast the break-even parameters per GPU grow with the GPU's speed: a "
                    "faster GPU finishes its share sooner and waits longer on the network.")
    mfu_large_params_per_gpu: float = Field(
        7.4e8, gt=0, le=1e15,
        description="Active parameters per training GPU at which pipeline bubbles and memory "
                    "pressure halve the MFU: a huge model on few GPUs.")
    mfu_large_exponent: float = Field(
        2.0, gt=0, le=8,
        description="How steeply the MFU falls once each GPU holds more than that.")
    goodput: float = Field(
        0.90, gt=0, le=1,
        description="Share of cluster time doing useful work with a baseline engineering team "
                    "(Llama 3.1: >90%).")
    data_quality_exponent: float = Field(
        2.0, ge=0, le=MAX_COEFFICIENT,
        description="How strongly the quality of the data a run reads multiplies its effective "
                    "compute: (worth of a token read against a fresh web-scraped one) to this "
                    "power. At 2, a corpus of licensed data (quality 1.2 against 0.9 scraped) "
                    "trains like 1.8x the compute, and repeating a small corpus, or leaning on "
                    "synthetic tokens, trains like less (curated data: Gunasekar et al. 2023; "
                    "FineWeb-Edu, Penedo et al. 2024). 0 turns the effect off.")
    repeat_half_life_epochs: float = Field(
        15.4, gt=0, le=MAX_COEFFICIENT,
        description="R_D* of Muennighoff et al. 2023 (arXiv 2305.16264, fitted 15.4): D' = U + "
                    "U R_D* (1 - exp(-R/R_D*)) for R repetitions (epochs - 1) of U unique tokens; "
                    "4 epochs are worth ~3.7 of unique data, 16 ~10.6.")
    moe_total_weight: float = Field(
        0.75, ge=0, le=1,
        description="How much an MoE model's total (not only active) parameters count towards "
                    "quality: N_eff = N_active^(1-w) * N_total^w. At 0.75 DeepSeek-V3 (671B total, "
                    "37B active, 14.8T tokens) rates within 3 points of Llama 3.1 405B, as their "
                    "benchmarks are (MMLU 88.5 and 88.6, DeepSeek-V3 report table 6).")
    capability_mid_loss: float = Field(
        1.93, gt=0, le=MAX_COEFFICIENT,
        description="Loss at which the capability index is 50 (a Llama 3 70B-class run, 6e24 "
                    "FLOPs; Llama 3.1 405B rates about 66).")
    capability_width: float = Field(
        0.6, gt=0, le=MAX_COEFFICIENT,
        description="Width of the capability sigmoid in log reducible loss ln(L - E) (smaller = "
                    "steeper). Benchmark scores follow a sigmoid in log compute (Ruan et al. "
                    "2024, arXiv 2405.10938; Owen 2024, arXiv 2401.04757), and reducible loss a "
                    "power of compute, so the index keeps headroom at the frontier: ten times "
                    "the compute adds about 7 points at 85, where an index on loss itself (as "
                    "MMLU, which saturates near 90) would add 2.")
    algo_gain_per_year: float = Field(
        3.0, ge=1, le=MAX_COEFFICIENT,
        description="Algorithmic-efficiency multiplier on effective compute a year with a full "
                    "research team (industry trend ~3x).")
    researchers_for_full_gain: float = Field(
        400, gt=0, le=MAX_HEADCOUNT,
        description="Research headcount that earns the full algorithmic gain.")

    @model_validator(mode="after")
    def _mid_loss_above_floor(self) -> Scaling:
        if self.capability_mid_loss <= self.E:
            raise ValueError(f"capability_mid_loss ({self.capability_mid_loss:g}) must be above the "
                             f"irreducible loss E ({self.E:g}): no run gets below E")
        return self


class Gpu(Strict):
    name: Label = Field(description="Catalogue name, e.g. H100.")
    tflops: float = Field(gt=0, le=MAX_GPU_SPEC, description="Dense BF16 TFLOP/s.")
    watts: float = Field(gt=0, le=MAX_GPU_SPEC, description="Board power in watts.")
    memory_gb: float = Field(
        80, gt=0, le=MAX_GPU_SPEC,
        description="High-bandwidth memory per GPU (GB): serving needs room for every parameter, "
                    "active or not.")
    price_usd: float = Field(gt=0, le=MAX_GPU_PRICE_USD, description="Purchase price of one GPU.")
    rent_per_hour: float = Field(
        gt=0, le=MAX_GPU_SPEC,
        description="Cloud rental price per GPU-hour.")
    supply_per_round: float = Field(
        gt=0, le=MAX_GPUS,
        description="GPUs the makers can sell to this game each quarter.")
    rental_supply: float = Field(
        gt=0, le=MAX_GPUS,
        description="GPUs the clouds can rent to this game each quarter before prices climb.")
    available_from_round: int = Field(
        1, ge=1, le=MAX_ROUNDS,
        description="First round the GPU can be bought or rented (a new generation).")
    export_controlled: bool = Field(
        False,
        description="Barred to companies of region cn (US export controls since 2022); while a "
                    "gpu_export_controls event is in force every GPU is barred to them.")


class Compute(Strict):
    gpus: list[Gpu] = Field(
        min_length=1, max_length=MAX_GPU_TYPES,
        description="The GPU catalogue.")
    pue: float = Field(
        1.3, ge=1, le=3,
        description="Data-centre power usage effectiveness (1.1-1.6).")
    system_power_factor: float = Field(
        1.5, ge=1, le=10,
        description="Whole-server power per watt of GPU (CPUs, network, storage): 100k H100s need "
                    "~150 MW.")
    electricity_per_kwh: float = Field(0.08, gt=0, le=MAX_COEFFICIENT, description="US$ per kWh.")
    system_capex_share: float = Field(
        0.6, ge=0, le=10,
        description="Servers, networking and storage bought with each GPU, as a share of its "
                    "price, capitalised and depreciated with it (an 8-GPU H100 server with "
                    "networking and storage is ~$250-400k against ~$200-240k of cards: "
                    "SemiAnalysis 2024).")
    datacenter_per_kw_month: float = Field(
        150.0, ge=0, le=MAX_GPU_SPEC,
        description="Data-centre space for owned GPUs, US$ per kW of server power a month, paid "
                    "whether the GPUs work or idle (US wholesale colocation ~$130-200: CBRE North "
                    "America Data Center Trends 2024).")
    cost_of_capital_per_year: float = Field(
        0.10, ge=0, lt=1,
        description="Yearly cost of the money tied up in an owned GPU, shown in its all-in hourly "
                    "cost beside the rental price (GPU-backed loans and AI-lab capital ~10-12%, "
                    "2024). The books charge it only as interest on debt or dilution of equity.")
    depreciation_years: float = Field(
        4.5, gt=0, le=MAX_YEARS,
        description="Straight-line life of purchased GPUs (4-5 years).")
    delivery_lag_rounds: int = Field(
        1, ge=0, le=4,
        description="Quarters between ordering GPUs and running them.")
    price_elasticity: float = Field(
        0.6, ge=0, le=10,
        description="Purchase price rises as (orders / supply)^elasticity when orders exceed "
                    "supply.")
    rent_elasticity: float = Field(
        0.4, ge=0, le=10,
        description="Rental price rises as (rented / rental supply)^elasticity above supply.")
    serving_utilisation: float = Field(
        0.25, gt=0, le=1,
        description="FLOPs utilisation of GPUs serving inference.")
    serving_bytes_per_param: float = Field(
        2.0, gt=0, le=64,
        description="Bytes of GPU memory each parameter takes when served (2 for BF16); a fleet "
                    "that cannot hold one copy of the whole model serves only in proportion.")
    old_generation_rent_cut: float = Field(
        0.2, ge=0, lt=1,
        description="Rental discount on older GPUs while a new generation ships (magnitude 1 of a "
                    "new_gpu_generation event).")
    starting_book_value: float = Field(
        0.75, gt=0, le=1,
        description="GPUs owned at the start are carried at this share of list price.")
    default_serving_share: float = Field(
        0.8, ge=0, le=1,
        description="Share of GPU capacity serving customers for a company that has never decided.")


class DataSource(Strict):
    kind: Literal["scraped", "licensed", "synthetic"] = Field(
        description="scraped: cheap, shrinking, legal hazard; licensed: bought deals; synthetic: "
                    "generated with compute, at a quality discount.")
    cost_per_t_tokens_musd: float = Field(
        ge=0, le=MAX_MUSD,
        description="US$ millions per trillion tokens acquired. Scraped: the crawl and its "
                    "filtering (a billion pages crawled for ~$460 in 2025; FineWeb kept 15T tokens "
                    "of ~96 Common Crawl snapshots). Licensed: Reddit-Google ~$60M a year for ~1T "
                    "tokens; News Corp-OpenAI ~$250M over 5 years for a smaller archive. Synthetic: "
                    "0, the training compute it takes is the cost.")
    quality: float = Field(
        1.0, gt=0, le=1.5,
        description="How much a token counts towards training, relative to fresh human text: a "
                    "run's tokens count at its corpus's average quality.")
    pool_t_tokens: float = Field(
        gt=0, le=MAX_T_TOKENS_STOCK,
        description="Trillions of tokens that can be had at the start. Scraped and synthetic: "
                    "each company can take the pool less what it already holds of that kind "
                    "(public human text ~300T, Villalobos et al. 2024; synthetic data stops adding "
                    "anything new, Shumailov et al. 2024). Licensed: deals are exclusive, the pool "
                    "is what rivals leave. Decisions asking for more are refused.")
    restriction_growth_per_year: float = Field(
        0.0, ge=0, le=1,
        description="Share of the remaining pool closed off each year (robots.txt, terms of "
                    "service).")
    legal_hazard_per_round: float = Field(
        0.0, ge=0, le=1,
        description="Chance a quarter of a lawsuit per unit share of this data in a company's "
                    "corpus.")
    settlement_per_t_tokens_musd: float = Field(
        0.0, ge=0, le=MAX_MUSD,
        description="Settlement per trillion tokens held when a lawsuit hits (Bartz v. Anthropic: "
                    "~$3,000 a work).")
    bias_risk: float = Field(
        0.0, ge=0, le=MAX_COEFFICIENT,
        description="Extra incident rate per unit share of this data in the corpus (unfiltered web"
                    " text).")


class Data(Strict):
    sources: list[DataSource] = Field(
        min_length=1, max_length=MAX_DATA_SOURCES,
        description="Kinds of pre-training data on offer.")
    proprietary_t_tokens_per_busd_revenue: float = Field(
        0.5, ge=0, le=MAX_COEFFICIENT,
        description="Trillions of tokens of usable proprietary data a company's product earns per "
                    "US$ billion of revenue (the flywheel).")
    synthetic_flops_per_token: float = Field(
        2.0e12, ge=0, le=1e18,
        description="Training-cluster FLOPs spent to generate one synthetic token.")
    sft_cost_per_example_usd: float = Field(
        40.0, gt=0, le=1e6,
        description="Cost of one curated SFT demonstration or preference comparison (Llama 2: ~$18"
                    " a comparison).")
    sft_examples_half_skill: float = Field(
        400000, gt=0, le=MAX_COUNT,
        description="Examples per domain that bring domain skill halfway to its ceiling (LIMA: "
                    "1,000 curated examples go far).")
    sft_decay_per_round: float = Field(
        0.05, ge=0, le=1,
        description="Share of a domain's SFT advantage lost each quarter as tasks move on.")
    max_epochs: float = Field(
        16, gt=1, le=MAX_COEFFICIENT,
        description="Passes over the same data beyond which a run learns nothing more; decisions "
                    "asking for more are refused (Muennighoff et al. 2023).")
    proprietary_examples_per_musd_revenue: float = Field(
        20, ge=0, le=1e6,
        description="SFT-grade examples a product earns per US$ million of revenue in a segment.")


class TalentRole(Strict):
    salary_usd: float = Field(
        gt=0, le=MAX_SALARY_USD,
        description="Fully loaded market pay a year.")
    pool_per_round: float = Field(
        gt=0, le=MAX_HEADCOUNT,
        description="People of this role open to a move each quarter across the game.")
    attrition_per_round: float = Field(
        0.04, ge=0, le=1,
        description="Quarterly attrition at market pay.")


class Talent(Strict):
    researchers: TalentRole = Field(description="Research scientists: algorithmic efficiency.")
    engineers: TalentRole = Field(
        description="Engineers: training goodput, fewer failed runs, serving.")
    safety: TalentRole = Field(
        description="Safety and policy staff: fewer incidents, better safety tuning.")
    pay_sensitivity: float = Field(
        4.0, ge=0, le=100,
        description="How strongly relative pay steers hires and attrition (logit weight per unit "
                    "of pay ratio).")
    engineers_for_full_goodput: float = Field(
        600, gt=0, le=MAX_HEADCOUNT,
        description="Engineers that reach the scenario goodput; fewer lose utilisation.")
    base_failure_per_round: float = Field(
        0.10, ge=0, le=1,
        description="Chance a quarter that a run with no engineers suffers a serious setback.")
    setback_fail_share: float = Field(
        0.2, ge=0, le=1,
        description="Share of setbacks that lose the whole run (the rest are slips).")
    slip_loss: float = Field(
        0.5, ge=0, le=1,
        description="Share of a quarter's training progress a slip loses.")
    min_engineering_goodput: float = Field(
        0.7, gt=0, le=1,
        description="Goodput with no engineers, as a share of the scaling goodput.")


class Segment(Strict):
    id: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", max_length=NAME_MAX,
        description="Short identifier used in decisions.")
    name: Label = Field(description="Name shown to players.")
    volume_t_tokens: float = Field(
        gt=0, le=MAX_T_TOKENS_STOCK,
        description="Tokens a quarter (trillions) the segment buys at the start.")
    growth_per_round: float = Field(0.08, ge=-0.5, le=1, description="Quarterly volume growth.")
    reference_price: float = Field(
        ge=0.01, le=MAX_PRICE,
        description="Typical price per million tokens at the start (US$).")
    price_sensitivity: float = Field(
        2.5, ge=1.5, le=100,
        description="Logit weight on log price: higher means buyers chase price. At least 1.5, so "
                    "that demand is elastic and no seller profits from an endless price rise.")
    w_capability: float = Field(
        1.0, ge=0, le=MAX_COEFFICIENT,
        description="Weight on general capability (per 10 points).")
    w_domain: float = Field(
        0.5, ge=0, le=MAX_COEFFICIENT,
        description="Weight on domain skill from SFT (per 10 points).")
    w_safety: float = Field(
        0.3, ge=0, le=MAX_COEFFICIENT,
        description="Weight on safety / trust (per 10 points).")
    w_freshness: float = Field(
        0.2, ge=0, le=MAX_COEFFICIENT,
        description="Weight on freshness of knowledge (per 10 points).")
    w_brand: float = Field(
        0.3, ge=0, le=MAX_COEFFICIENT,
        description="Weight on brand trust (per 10 points).")
    w_ecosystem: float = Field(
        0.15, ge=0, le=MAX_COEFFICIENT,
        description="Weight on the seller's ecosystem (per 10 points).")
    min_safety: float = Field(
        0, ge=0, le=100,
        description="Regulated segments refuse offers below this safety level.")
    churn_per_round: float = Field(
        0.25, gt=0, le=1,
        description="Share of installed customers that re-choose each quarter (switching costs are"
                    " a moat).")


class OutsideOption(Strict):
    """Open-weight models: what buyers fall back on, improving every quarter (commoditisation)."""

    capability: float = Field(
        38, ge=0, le=100,
        description="Capability of the best open-weight model at the start.")
    gain_per_round: float = Field(
        1.2, ge=0, le=MAX_POINTS,
        description="Capability points it gains each quarter.")
    max_capability: float = Field(
        100, ge=0, le=100,
        description="Ceiling of open-weight capability.")
    lag_points: float = Field(
        8, ge=0, le=100,
        description="Points the best open-weight model stays behind the best model a lab sells: "
                    "open releases trail the closed frontier by about a year (Epoch AI 2024: "
                    "5-22 months), about 8 points of its progress. Faster gains close in on it "
                    "sooner; they never overtake it.")
    price_factor: float = Field(
        0.35, gt=0, le=MAX_COEFFICIENT,
        description="Its price relative to the segment's reference price.")
    safety: float = Field(40, ge=0, le=100)
    brand: float = Field(35, ge=0, le=100)
    domain: float = Field(20, ge=0, le=100)
    freshness: float = Field(50, ge=0, le=100)
    ecosystem: float = Field(30, ge=0, le=100)
    serving_cost_per_m_tokens: float = Field(
        0.9, ge=0, le=MAX_PRICE,
        description="What a product company pays per million tokens to serve an open-weight model "
                    "on rented GPUs (US$): hosted Llama 3.1 70B ~$0.9, 405B ~$3.5, DeepSeek-V3 "
                    "~$1.25 (Together AI list prices, 2024-25).")


class FrontierBuyers(Strict):
    """Buyers who pay for the best model: a latent class of each segment's buyers (Kamakura and
    Russell 1989; the random-coefficient logit of Berry, Levinsohn and Pakes 1995 in its simplest
    form). GPT-4o listed at about 17x GPT-4o mini for seven MMLU points (OpenAI, 2024) and still
    sold: some buyers weigh capability far above the rest and price below them."""

    share: float = Field(
        0.0, ge=0, le=1,
        description="Share of every segment's buyers in the class (0: every buyer weighs "
                    "attributes as the segment says).")
    capability_weight: float = Field(
        1.0, ge=1, le=MAX_COEFFICIENT,
        description="How much more than the segment's other buyers they weigh capability.")
    price_sensitivity: float = Field(
        1.0, gt=0, le=1,
        description="Their price sensitivity as a share of the segment's.")


class Market(Strict):
    segments: list[Segment] = Field(
        min_length=1, max_length=MAX_SEGMENTS,
        description="Customer segments.")
    outside: OutsideOption = Field(
        default_factory=OutsideOption,
        description="The open-weight outside option.")
    frontier_buyers: FrontierBuyers = Field(
        default_factory=FrontierBuyers,
        description="Buyers who pay for the best model (a latent class of every segment).")
    attribute_scale: float = Field(
        0.6, gt=0, le=MAX_COEFFICIENT,
        description="How sharply buyers tell offers apart: utility per 10 points of an attribute "
                    "is weight x this scale. Higher makes markets more winner-take-all. At 0.6, "
                    "10 capability points in a segment weighting capability 1.5 are worth a "
                    "price about 50% higher at a price sensitivity of 2.2.")
    price_decline_per_year: float = Field(
        2.0, ge=1, le=10,
        description="Reference (frontier-tier) prices fall by this factor a year. List prices at "
                    "constant capability fell ~10x a year in 2023-24, but the frontier moves up, "
                    "so the price of the tier buyers compare falls more slowly.")
    freshness_tau_months: float = Field(
        12.0, gt=0, le=12 * MAX_YEARS,
        description="Freshness decays as exp(-months since cut-off / tau).")
    release_lag_months: float = Field(
        6.0, ge=0, le=12 * MAX_YEARS,
        description="Months between a model's data cut-off and its release.")
    rag_recovery: float = Field(
        0.8, ge=0, le=1,
        description="Share of lost freshness retrieval recovers.")
    rag_cost_per_m_tokens: float = Field(
        0.15, ge=0, le=MAX_PRICE,
        description="Extra serving cost of retrieval per million tokens (US$).")
    marketing_brand_per_musd: float = Field(
        0.02, ge=0, le=MAX_POINTS,
        description="Brand points a US$ million of marketing buys, with diminishing returns: "
                    "on the spend (see marketing_brand_cap) and on the brand (a brand at 80 gets "
                    "a fifth of what a brand at 0 gets from the same spend).")
    api_markup_limit: float = Field(
        1.0, gt=0, le=MAX_COEFFICIENT,
        description="Highest wholesale API price as a share of the average segment reference "
                    "price: a higher API price is refused at its field, and never charged.")
    no_margin_squeeze: bool = Field(
        True,
        description="Competition law against a margin squeeze: a lab whose model product "
                    "companies built on last quarter may not sell retail below what a token "
                    "costs them (its wholesale price and the engineers it takes), so that a "
                    "product company as efficient as the lab can match its price (the 'equally "
                    "efficient competitor' test: EU Deutsche Telekom 2010, TeliaSonera 2011). A "
                    "lower price is refused at its field, and never charged.")
    lab_t_tokens_per_engineer: float = Field(
        1.0, gt=0, le=MAX_COEFFICIENT,
        description="Trillions of tokens a quarter one engineer of a lab can keep served "
                    "(inference, API and reliability work) at round-1 prices, growing as prices "
                    "fall: GPUs serve a lab's tokens, but a lab with no engineers serves none. "
                    "Set well above what labs need (frontier labs earn ~$1-2M a person: OpenAI "
                    "about $3.7B with ~3,000 staff in 2024), so it binds only on a gutted team.")
    product_t_tokens_per_engineer: float = Field(
        0.3, gt=0, le=MAX_COEFFICIENT,
        description="Trillions of tokens a quarter one engineer of a product company can ship and "
                    "support (integration, evaluation, customer work) at round-1 prices, growing "
                    "as prices fall: a product company's capacity is its engineers (0.3T at ~$5 "
                    "per M tokens is ~$6M a year an engineer, $2-4M a person with the rest of "
                    "the staff: AI-native products such as Cursor and Midjourney report $2-5M).")
    marketing_brand_cap: float = Field(
        4.0, ge=0, le=MAX_POINTS,
        description="Most brand points marketing can buy in a quarter (diminishing returns).")
    open_model_age_rounds: int = Field(
        2, ge=0, le=MAX_ROUNDS,
        description="Quarters by which open-weight models' data trails the calendar.")
    default_api_markup: float = Field(
        1.5, gt=0, le=MAX_COEFFICIENT,
        description="A lab's starting wholesale price as a multiple of its cloud serving cost...")
    default_api_floor_share: float = Field(
        0.3, ge=0, le=MAX_COEFFICIENT,
        description="... and at least this share of the average reference price.")


class Safety(Strict):
    base_incident_rate: float = Field(
        0.5, ge=0, le=MAX_COEFFICIENT,
        description="Incidents a quarter for an unsafe model at reference usage.")
    reference_volume_t_tokens: float = Field(
        50, gt=0, le=MAX_T_TOKENS_STOCK,
        description="Usage (trillions of tokens a quarter) at which the base rate applies.")
    usage_exponent: float = Field(
        0.5, ge=0, le=1,
        description="Incident rate grows as usage^exponent.")
    safety_scale: float = Field(
        30, gt=0, le=MAX_COEFFICIENT,
        description="Each this many safety points divide the incident rate by e.")
    safety_staff_scale: float = Field(
        150, gt=0, le=MAX_HEADCOUNT,
        description="Safety staff that divide the rate by e.")
    tuning_half_musd: float = Field(
        400, gt=0, le=MAX_MUSD,
        description="Cumulative safety-tuning spend (US$M) that brings safety halfway from its "
                    "start to 100.")
    staff_safety_points: float = Field(
        10, ge=0, le=MAX_POINTS,
        description="Safety points a full safety team adds.")
    safety_decay_per_round: float = Field(
        0.04, ge=0, le=1,
        description="Share of safety-tuning stock lost each quarter (new jailbreaks).")
    alignment_tax: float = Field(
        0.15, ge=0, le=1,
        description="Capability points lost per safety point above the threshold (over-refusal).")
    alignment_tax_threshold: float = Field(70, ge=0, le=100)
    brand_hit: float = Field(
        8, ge=0, le=MAX_POINTS,
        description="Brand points a typical incident costs.")
    incident_cost_musd: float = Field(
        40, ge=0, le=MAX_MUSD,
        description="Direct cost of a typical incident (liability, remediation).")
    fine_share_of_revenue: float = Field(
        0.07, ge=0, le=1,
        description="Fine as a share of the annualised revenue a company earns in regulated "
                    "segments (those with a safety minimum) when it has an incident (EU AI Act: up"
                    " to 7% of turnover).")
    fine_floor_musd: float = Field(
        15, ge=0, le=MAX_MUSD,
        description="Part of a regulator's fine that does not depend on revenue: what a data or "
                    "consumer-protection breach costs any company with users (Italy's Garante "
                    "fined OpenAI EUR15M in December 2024).")
    brand_recovery_per_round: float = Field(
        0.10, ge=0, le=1,
        description="Share of the gap to the brand target recovered each quarter.")
    max_severity: float = Field(
        4.0, gt=0, le=MAX_COEFFICIENT,
        description="Largest severity of one incident (a typical one is 1).")
    brand_safety_pull: float = Field(
        0.3, ge=0, le=MAX_COEFFICIENT,
        description="Brand target points per safety point away from 50.")
    brand_quality_pull: float = Field(
        0.6, ge=0, le=MAX_COEFFICIENT,
        description="Brand target points lost per capability point behind the best offer on the "
                    "market (a stale product hurts trust).")
    market_value_hit_share: float = Field(
        0.05, ge=0, le=1,
        description="Valuation lost per typical incident (Bard demo: ~$100B of Alphabet in a day).")


class Finance(Strict):
    tax_rate: float = Field(0.21, ge=0, lt=1)
    interest_rate_per_year: float = Field(0.08, ge=0, lt=1)
    max_debt_to_revenue: float = Field(
        1.5, ge=0, le=MAX_COEFFICIENT,
        description="Debt may not exceed this multiple of annualised revenue plus half the GPU "
                    "book value.")
    revenue_multiple: float = Field(
        12, ge=0, le=MAX_COEFFICIENT,
        description="Valuation per dollar of annualised revenue.")
    growth_multiple: float = Field(
        20, ge=0, le=MAX_COEFFICIENT,
        description="Extra valuation multiple per unit of quarterly revenue growth.")
    margin_multiple: float = Field(
        6, ge=0, le=MAX_COEFFICIENT,
        description="Revenue multiple gained per unit of net margin (between -100% and +50%): a lab "
                    "losing as much as it earns is valued 6x revenue lower.")
    valuation_smoothing: float = Field(
        0.5, gt=0, le=1,
        description="Share of the gap between last quarter's valuation and this quarter's numbers "
                    "investors close each quarter: private rounds reprice a few times a year, so "
                    "one quarter's jump moves the valuation only part of the way.")
    capability_value_busd: float = Field(
        40, ge=0, le=MAX_MUSD / 1000,
        description="Valuation (US$B) of a model at capability 100 (scales with capability^3).")
    max_raise_share: float = Field(
        0.25, gt=0, le=1,
        description="Largest raise in one quarter as a share of the business's value: the "
                    "valuation less cash and GPUs, plus debt.")
    rescue_discount: float = Field(
        0.3, gt=0, le=1,
        description="A rescue raise prices the company at this share of its valuation (punitive "
                    "dilution).")
    rescue_buffer_musd: float = Field(
        100, ge=0, le=MAX_MUSD,
        description="Cash a rescue leaves the company with.")
    valuation_floor_musd: float = Field(
        50, ge=0, le=MAX_MUSD,
        description="No company is valued below this (US$M).")
    max_growth_credit: float = Field(
        1.0, ge=0, le=MAX_COEFFICIENT,
        description="Quarterly revenue growth above this earns no extra valuation multiple.")


class Event(Strict):
    kind: Literal[
        "gpu_export_controls", "new_gpu_generation", "copyright_wave", "regulation",
        "open_weight_release", "talent_war", "power_crunch", "recession",
    ] = Field(description="What happens.")
    title: Annotated[str, StringConstraints(min_length=1, max_length=2 * NAME_MAX)] = Field(
        description="Headline shown in the news.")
    magnitude: float = Field(
        1.0, ge=0, le=MAX_POINTS,
        description="Strength; meaning depends on kind (see docs/scenarios.md).")
    duration: int = Field(4, ge=1, le=MAX_ROUNDS, description="Quarters the event lasts.")
    round: int | None = Field(
        None, ge=1, le=MAX_ROUNDS,
        description="Scheduled round; leave empty for a random or catalogue-only event.")
    probability_per_round: float = Field(
        0.0, ge=0, le=1,
        description="Chance each quarter that the event strikes at random.")


class Model(Strict):
    """A released model a company starts with."""

    name: Label
    params_b: float = Field(
        ge=MIN_PARAMS_B, le=MAX_PARAMS_B,
        description="Total parameters (billions).")
    active_params_b: float | None = Field(
        None, ge=MIN_PARAMS_B, le=MAX_PARAMS_B,
        description="Active parameters per token for MoE (billions), at most the total; empty = "
                    "dense.")
    tokens_t: float = Field(gt=0, le=MAX_TOKENS_T, description="Training tokens (trillions).")
    cutoff_round: int = Field(
        0, ge=-4 * int(MAX_YEARS), le=1,
        description="Round of its data cut-off (0 or negative = before the game).")

    @model_validator(mode="after")
    def _active_within_total(self) -> Model:
        if self.active_params_b is not None and self.active_params_b > self.params_b:
            raise ValueError(f"active parameters ({self.active_params_b:g}B) cannot exceed total "
                             f"parameters ({self.params_b:g}B)")
        return self


def _par_field(what: str) -> Any:
    return Field(0.0, ge=-MAX_METRIC, le=MAX_METRIC, description=what)


class MetricPar(Strict):
    """What a company's board expects of it on each scorecard metric, beyond the scenario's
    average company: the company's range is the scenario's moved by its par, so it is scored on
    what it makes of its start. A bigger start still scores higher (the par is the scenario's,
    not the team's), and a company's advantages stay felt in every what-if. The shipped pars are
    fitted so that every seat can be won (bench/fit_ranges.py --par)."""

    profit: float = _par_field("Yardsticks of cumulative net income above the average company.")
    revenue_growth: float = _par_field("Log revenue growth above the average company.")
    share: float = _par_field("Share gained above the average company.")
    valuation: float = _par_field("Yardsticks of value created above the average company.")
    brand: float = _par_field("Brand points above the average company.")
    safety_record: float = _par_field("Incidents fewer than the average company (negative: more).")
    capability: float = _par_field("Capability points above the average company.")
    solvency: float = _par_field("Quarters of runway above the average company.")


class CompanyStart(Strict):
    name: Label = Field(description="Company name.")
    kind: Literal["lab", "product"] = Field(
        description="lab: trains its own models and may sell API access; product: builds on a "
                    "vendor or open-weight model.")
    persona: Persona = Field(
        "fast_follower",
        description="Computer-run persona that plays this seat by default.")
    cash_musd: float = Field(ge=0, le=MAX_MUSD)
    gpus: dict[Label, Annotated[float, Field(ge=0, le=MAX_GPUS)]] = Field(
        default_factory=dict, max_length=MAX_GPU_TYPES,
        description="GPUs owned at the start, by catalogue name.")
    researchers: float = Field(0, ge=0, le=MAX_HEADCOUNT)
    engineers: float = Field(0, ge=0, le=MAX_HEADCOUNT)
    safety_staff: float = Field(0, ge=0, le=MAX_HEADCOUNT)
    data_t_tokens: float = Field(
        0, ge=0, le=MAX_T_TOKENS_STOCK,
        description="Unique pre-training tokens held (trillions).")
    scraped_share: float = Field(
        0.7, ge=0, le=1,
        description="Share of held data that was scraped.")
    model: Model | None = Field(None, description="Released model at the start (labs).")
    base_model: Label = Field("open", description="For product companies: 'open' or a lab's name.")
    brand: float = Field(50, ge=0, le=100)
    safety: float = Field(40, ge=0, le=100, description="Safety level of the current model.")
    ecosystem: float = Field(
        20, ge=0, le=100,
        description="Distribution and integration advantage (corporate genealogy).")
    domain_skill: dict[Label, Annotated[float, Field(ge=0, le=MAX_COUNT)]] = Field(
        default_factory=dict, max_length=MAX_SEGMENTS,
        description="SFT examples already held, by segment id.")
    price_factor: float = Field(
        1.0, gt=0, le=MAX_COEFFICIENT,
        description="Starting price as a share of each segment's reference price.")
    region: Literal["us", "cn", "eu", "other"] = Field(
        "us",
        description="Export controls hit 'cn' companies.")
    par: MetricPar = Field(
        default_factory=MetricPar,
        description="What the board expects of this company on each scorecard metric beyond the "
                    "scenario's average company; its ranges are the scenario's moved by these.")

    @model_validator(mode="after")
    def _lab_has_model(self) -> CompanyStart:
        if self.kind == "lab" and self.model is None:
            raise ValueError(f"lab {self.name!r} needs a starting model")
        return self


class MetricRange(Strict):
    low: float = Field(ge=-MAX_METRIC, le=MAX_METRIC, description="Value that scores 0.")
    high: float = Field(ge=-MAX_METRIC, le=MAX_METRIC, description="Value that scores 1.")

    @model_validator(mode="after")
    def _ordered(self) -> MetricRange:
        if self.high <= self.low:
            raise ValueError(f"high ({self.high}) must be above low ({self.low})")
        return self


def _range(low: float, high: float) -> Any:
    return Field(default_factory=lambda: MetricRange(low=low, high=high))


class MetricRanges(Strict):
    """What maps to 0 and to 1 on each scorecard metric: fixed ranges, so a score means the same in
    every game. The defaults span about the 5th to 95th percentile of persona-played games."""

    profit: MetricRange = _range(-0.15, 0.05)
    revenue_growth: MetricRange = _range(-1.0, 2.0)
    share: MetricRange = _range(-0.25, 0.25)
    valuation: MetricRange = _range(-0.6, 1.5)
    brand: MetricRange = _range(0.0, 100.0)
    safety_record: MetricRange = _range(-6.0, 0.0)
    capability: MetricRange = _range(40.0, 100.0)
    solvency: MetricRange = _range(0.0, 6.0)  # 18 months of runway satisfies a board


ShareBasis = Literal["revenue", "tokens", "both"]


class Scoring(Strict):
    profit: float = Field(
        1.0, ge=0, le=MAX_WEIGHT,
        description="Cumulative net income over the scenario's yardstick.")
    revenue_growth: float = Field(
        1.0, ge=0, le=MAX_WEIGHT,
        description="Trailing-four-quarter revenue against the company's starting revenue.")
    share: float = Field(
        1.0, ge=0, le=MAX_WEIGHT,
        description="Share of the game's revenue (or tokens: `share_basis`).")
    valuation: float = Field(
        1.0, ge=0, le=MAX_WEIGHT,
        description="The founders' stake value over the scenario's yardstick.")
    brand: float = Field(1.0, ge=0, le=MAX_WEIGHT, description="Brand trust, 0-100.")
    safety_record: float = Field(
        1.0, ge=0, le=MAX_WEIGHT,
        description="Fewer incidents score higher.")
    capability: float = Field(
        1.0, ge=0, le=MAX_WEIGHT,
        description="Capability of what the company sells.")
    solvency: float = Field(
        1.0, ge=0, le=MAX_WEIGHT,
        description="Quarters of costs that net cash covers; never rescued.")
    share_basis: ShareBasis = Field(
        "revenue",
        description="What the share metric counts: `revenue` (a board's market share), `tokens` "
                    "(volume, which rewards undercutting) or `both` (their mean).")
    ranges: MetricRanges = Field(
        default_factory=MetricRanges,
        description="Raw values that score 0 and 1 on each metric. The yardstick is the average "
                    "value of the scenario's companies before round 1. profit = cumulative net "
                    "income over the yardstick; revenue_growth = log of the trailing four "
                    "quarters' average revenue over the company's starting revenue; share = "
                    "fraction of all the game's companies' cumulative revenue (or tokens); "
                    "valuation = log of the founders' stake over the yardstick; brand = 0-100; "
                    "safety_record = minus incidents; capability = 0-100; solvency = cash net of "
                    "debt in quarters of the game's average costs (at most 0 once rescued).")

    def weights(self) -> dict[str, float]:
        return {k: v for k, v in self.model_dump().items() if k not in ("ranges", "share_basis")}

    @model_validator(mode="after")
    def _some_weight(self) -> Scoring:
        if sum(self.weights().values()) <= 0:
            raise ValueError("at least one scoring weight must be above zero")
        return self


class Scenario(Strict):
    id: str = Field(
        pattern=r"^[a-z][a-z0-9-]*$", max_length=NAME_MAX,
        description="Short identifier (file name without extension).")
    name: Label
    summary: Text = Field(description="One paragraph for the scenario list.")
    rounds: int = Field(12, ge=1, le=MAX_ROUNDS, description="Quarters in a game.")
    start_year: int = Field(2025, ge=1950, le=2200, description="Calendar year of round 1.")
    teaching_note: TeachingNote
    scaling: Scaling = Field(default_factory=Scaling)
    compute: Compute
    data: Data
    talent: Talent
    market: Market
    safety: Safety = Field(default_factory=Safety)
    finance: Finance = Field(default_factory=Finance)
    events: list[Event] = Field(
        default_factory=list, max_length=MAX_EVENTS,
        description="Scheduled, random and catalogue (instructor-injected) events.")
    companies: list[CompanyStart] = Field(min_length=2, max_length=MAX_COMPANIES)
    scoring: Scoring = Field(default_factory=Scoring)

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        problems = reference_problems(self.model_dump())
        if problems:
            raise ValueError("; ".join(message for _, message in problems))
        return self

    def gpu_index(self, name: str) -> int:
        return [g.name for g in self.compute.gpus].index(name)

    def segment_index(self, segment_id: str) -> int:
        return [s.id for s in self.market.segments].index(segment_id)
