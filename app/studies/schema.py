"""The shape of a study file: a scenario, seats, arms, a sweep and a sensitivity screen.

Checks that need only the file live here; checks that need the scenario (paths, companies, fields of the
decision form) live in `app.studies.checks`, which reports every problem at its field and line.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.scenario.schema import NAME_MAX, Persona

MAX_RUNS_PER_ARM = 10_000_000  # the file's own ceiling; the machine's (MOATLINE_STUDY_MAX_RUNS) is usually lower
MAX_ARMS = 50
MAX_SWEEP_PARAMETERS = 3  # a grid of more is better screened with `moatline study sensitivity`
MAX_SWEEP_VALUES = 100
MAX_TWEAKS = 50
MAX_PATH = 200
MAX_SENSITIVITY_PARAMETERS = 40

Path_ = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATH)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX)]
Number = int | float


class Strict(BaseModel):
    """Base for study sections: unknown keys are errors, objects are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Tweak(Strict):
    """A change to a seat's decision every round (or in the rounds listed), after its strategy has decided and
    before the decision is fitted to the budget."""

    field: Path_ = Field(description="A field of the decision form, as the decision page and the JSON API name it: "
                                     "`products.prices`, `compute.buy_gpus.H100`, `talent.researchers`, `tuning.retrieval`... "
                                     "A mapping field without a key (`products.prices`) applies to every entry.")
    times: float | None = Field(None, ge=0, le=1e6, description="Multiply the value (an empty field stands for the value it means: "
                                                                 "today's headcount, last round's price).")
    plus: float | None = Field(None, ge=-1e12, le=1e12, description="Add to the value.")
    set: float | bool | str | None = Field(None, description="Replace the value (true/false for switches, a name for `products.base_model`, `when_better` or `hold` for `training.release`).")
    rounds: list[Annotated[int, Field(ge=1, le=1000)]] | None = Field(
        None, max_length=1000, description="Rounds the tweak applies in, numbered from 1 (empty: every round).")

    @model_validator(mode="after")
    def _one_change(self) -> Tweak:
        given = [k for k in ("times", "plus", "set") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of times, plus or set (got {', '.join(given) or 'none'})")
        return self


class Seat(Strict):
    """Who plays a company: a persona, a Python strategy or a fixed decision script, each with optional tweaks.
    A seat given only `tweaks` (or `aggressiveness`) keeps the strategy it had (the study's seat, else the scenario's persona)."""

    persona: Persona | None = Field(None, description="A computer-run persona.")
    aggressiveness: float | None = Field(None, ge=0, le=1, description="How hard the persona pushes (0 timid, 1 bold; default 0.5); "
                                                                        "for a script, the persona of its stand-in rounds.")
    strategy: Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATH)] | None = Field(
        None, description="A Python function `package.module:function` (or `path/to/file.py:function`) that receives what a "
                          "player could see and returns its decision (see `examples/strategies/`).")
    script: Path_ | None = Field(None, description="A JSON file of decisions, one per round in the JSON the API uses (null: carry on), "
                                                   "or a game archive exported by `moatline game export` (this company's decisions).")
    company: Name | None = Field(None, description="With a game archive as `script`: whose decisions to replay (default: this seat's company).")
    tweaks: list[Tweak] | None = Field(None, max_length=MAX_TWEAKS, description="Changes to the decisions (see Tweak).")

    @model_validator(mode="after")
    def _one_player(self) -> Seat:
        given = [k for k in ("persona", "strategy", "script") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"a seat has one player: give one of persona, strategy or script (got {', '.join(given)})")
        if self.aggressiveness is not None and given == ["strategy"]:
            raise ValueError("aggressiveness belongs to a persona (or a script's stand-in rounds)")
        if self.company is not None and self.script is None:
            raise ValueError("company names whose decisions a script replays; give a script too")
        return self


class Arm(Strict):
    """One way of playing the study's games. Every arm plays the same seeds; the first arm is the baseline."""

    name: Name = Field(description="Shown in the results.")
    seats: dict[Name, Seat] = Field(default_factory=dict, max_length=40, description="Seats that differ from the study's, by company name.")
    overrides: dict[Path_, Number] = Field(default_factory=dict, max_length=500,
                                           description="Scenario fields that differ in this arm, by dotted path (on top of the study's).")


class Range(Strict):
    low: float
    high: float


class Sensitivity(Strict):
    """Which scenario parameters matter most for an output, screened over named ranges."""

    method: Literal["morris", "sobol", "tornado"] = Field("morris", description="Morris elementary effects (a screen), Sobol indices "
                                                                                 "(variance shares; many more runs) or a one-at-a-time tornado.")
    parameters: dict[Path_, Annotated[list[float], Field(min_length=2, max_length=2)]] = Field(
        max_length=MAX_SENSITIVITY_PARAMETERS, description="Scenario fields by dotted path, each with its `[low, high]` range.")
    output: str = Field("score", max_length=60, description="The KPI whose final-round mean over the runs is analysed, per company.")
    companies: list[Name] | None = Field(None, max_length=40, description="Companies whose output is analysed (default: every one).")
    runs_per_point: int = Field(200, ge=1, le=1_000_000, description="Seeded games at every point (the same seeds at each).")
    trajectories: int = Field(10, ge=2, le=1000, description="Morris trajectories.")
    levels: int = Field(4, ge=2, le=20, description="Morris grid levels.")
    base_samples: int = Field(64, ge=2, le=100_000, description="Sobol base samples N (N x (2 x parameters + 2) points).")
    second_order: bool = Field(False, description="Sobol second-order indices.")


class Study(Strict):
    """A what-if study: many seeded games of one scenario, in arms that differ by seats or settings, over a sweep."""

    scenario: Path_ = Field(description="A shipped scenario id (`frontier-race`) or a path to a scenario file (relative to the study file).")
    runs: int = Field(ge=1, le=MAX_RUNS_PER_ARM, description="Seeded games in every arm at every sweep point.")
    seed: int = Field(0, ge=0, le=2**63 - 1, description="Study seed. Run r plays the same seed in every arm and at every sweep point.")
    overrides: dict[Path_, Number] = Field(default_factory=dict, max_length=500,
                                           description="Scenario fields to change, by dotted path: `market.outside.gain_per_round: 3`, "
                                                       "`compute.gpus.H100.price_usd: 60000` (list items by name or index).")
    seats: dict[Name, Seat] = Field(default_factory=dict, max_length=40, description="Who plays each company, by name (default: the scenario's personas).")
    arms: list[Arm] = Field(default_factory=lambda: [Arm(name="baseline")], min_length=1, max_length=MAX_ARMS,
                            description="Ways of playing; the first is the baseline every other arm is compared with, run by run.")
    sweep: dict[Path_, Annotated[list[Number], Field(min_length=1, max_length=MAX_SWEEP_VALUES)]] = Field(
        default_factory=dict, max_length=MAX_SWEEP_PARAMETERS,
        description="Up to three scenario fields, each with its values; every arm plays every point of the grid.")
    inject: dict[Annotated[int, Field(ge=1, le=1000)], list[int | Name]] = Field(
        default_factory=dict, max_length=1000, description="Events injected as an instructor would: round -> event titles or indices into the scenario's `events`.")
    sensitivity: Sensitivity | None = Field(None, description="Parameters and ranges for `moatline study sensitivity`.")

    @model_validator(mode="after")
    def _distinct_arms(self) -> Study:
        names = [a.name for a in self.arms]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"arm names must differ: {', '.join(twice)} used twice")
        return self

    @property
    def sweep_points(self) -> list[dict[str, float | int]]:
        """Every point of the sweep grid (one empty point without a sweep), the first parameter slowest."""
        points: list[dict[str, float | int]] = [{}]
        for path, values in self.sweep.items():
            points = [{**p, path: v} for p in points for v in values]
        return points

    @property
    def total_runs(self) -> int:
        return self.runs * len(self.arms) * len(self.sweep_points)
