"""The concept table: does every concept of the course text move the outcome it names, in its direction, by a size a
class notices? And is any spending line a super-lever?

Run:  .venv/bin/python bench/concepts.py [--quick] [--write] [--only NAME]

Every row of the table is a study file in `studies/concepts/`, generated from the one table below (`ROWS`):
`--write` writes the files (and deletes stale ones), so the files and this script cannot drift
(`tests/studies/test_concept_studies.py` checks the shipped files equal what the table generates). Each file has a
baseline arm and a lever arm (an override of the scenario, or a tweak of one seat) played on the same 500 seeds.

For each (concept, scenario) the script prints one line: the lever, the outcome measured (for which company; `labs`
is the sum over the scenario's labs, each run's labs added before the runs are paired), the direction the course text
expects, the paired mean difference lever - baseline with its 95% CI, the baseline mean, and whether the concept is
*felt*: the right direction, a CI that excludes 0, and a size of at least 10% of the outcome's baseline mean (or, for
the score, at least 3 scorecard points).

Then the super-lever check (`super-lever-<scenario>.yaml`): for one seat per scenario, one arm per spending line that
cuts the line to zero for the whole game. Score per $1B of a line = (baseline score - cut score) / (what the line
spent over the game in the baseline, $B). The baseline's spending by line is measured by replaying the baseline arm
in-process on the same seeds (the study rows hold only the total planned spending). A line above 3x the median line
of its seat is flagged.

The last line is `concepts_felt=N/M`: the concepts felt in every scenario where they are measured, of all concepts.
`--quick` plays 60 runs per arm instead of 500 (a smoke run; too few to judge a concept by).
"""

from __future__ import annotations

import argparse
import functools
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.engine import personas  # noqa: E402
from app.engine.rng import run_seeds  # noqa: E402
from app.engine.rules import talent  # noqa: E402
from app.engine.start import initial_state  # noqa: E402
from app.engine.step import step  # noqa: E402
from app.engine.validation import SPENDING_FIELDS, spending  # noqa: E402
from app.engine.world import World  # noqa: E402
from app.scenario.loader import dump_scenario, load_scenario  # noqa: E402
from app.studies import load_study, run  # noqa: E402
from app.studies.files import Prepared  # noqa: E402
from app.studies.play import played_rounds  # noqa: E402
from app.studies.summary import paired  # noqa: E402

STUDY_DIR = ROOT / "studies" / "concepts"
RUNS = 500
QUICK_RUNS = 60
SEED = 2025
SCORE_POINTS = 3.0  # a felt change of the score
SHARE_OF_BASELINE = 0.10  # a felt change of any other outcome: 10% of its baseline mean
SUPER_LEVER_RATIO = 3.0  # a line buying more than 3x the score per dollar of the median line is a super-lever
SCENARIOS = ("frontier-race", "mixed-ecosystem", "product-builders", "trust-and-safety")

# The concepts of the course text (seeds/: "Model Development Process"), in its order, with what it says they move.
CONCEPTS: dict[str, str] = {
    "data-moat": "Pre-training moat of data & IP: as scraping is restricted the supply of new data shrinks, which "
                 "preserves the advantage of those who already hold data (capability of a data-poor lab falls).",
    "capital-moat": "Pre-training moat of infrastructure & capital: frontier training needs billions (more capital, "
                    "more capability).",
    "talent-moat": "Pre-training moat of talent: few researchers can run a frontier pre-training (fewer "
                   "researchers, less capability).",
    "cutoff-retrieval": "The knowledge cut-off: a model's knowledge is frozen; retrieval (RAG) overcomes it for "
                        "business needs (without retrieval, less revenue).",
    "sft-differentiation": "SFT as the path to differentiation: domain skill from fine-tuning makes a product that "
                           "excels at high-value tasks (without SFT, less revenue).",
    "safety-feature": "Safety tuning as a product feature: a safer model is a more valuable product (without "
                      "safety tuning, less revenue).",
    "safety-risk": "Safety tuning as a risk lever: a direct investment in reducing brand risk (without safety "
                   "tuning, more incidents).",
    "alignment-tax": "The alignment tax of safety tuning: over-refusal costs helpfulness (without the tax, the "
                     "safety-first lab's capability is higher).",
    "moe": "Mixture of Experts: only a fraction of the parameters run per token, so capable models are faster and "
           "cheaper to run (the same quality served dense: lower score).",
    "open-weight-commodity": "Are foundation models a commodity? Open-weight models that improve faster press on "
                             "what the labs sell (labs' revenue falls).",
    "ecosystem": "Corporate genealogy: an incumbent's ecosystem of products is an advantage (a larger ecosystem, "
                 "more share of tokens). Its constraint side has no lever in the engine yet.",
    "switching-costs": "Switching costs are a moat: installed customers churn slowly (higher switching costs, the "
                       "incumbent keeps more share).",
}


@dataclass(frozen=True)
class Row:
    """One (concept, scenario): a lever arm against the scenario as shipped, and the outcome it should move."""

    concept: str
    scenario: str
    company: str  # whose outcome; "labs" = the sum over the scenario's labs
    measure: str  # a summary measure (final round)
    direction: int  # +1: the lever should raise the outcome; -1: lower it
    lever: str  # the lever in plain words
    overrides: dict[str, float] = field(default_factory=dict)  # the lever arm's overrides
    seat: str | None = None  # the seat the tweaks apply to
    tweaks: tuple[dict[str, Any], ...] = ()
    score_direction: int | None = None  # how the lever should move the company's score (default: direction)

    @property
    def score_way(self) -> int:
        return self.direction if self.score_direction is None else self.score_direction

    @property
    def name(self) -> str:
        return f"{self.concept}-{self.scenario}"


@functools.cache
def _scenario(sid: str) -> Any:
    return load_scenario(ROOT / "scenarios" / f"{sid}.yaml")


def _times_churn(sid: str, factor: float) -> dict[str, float]:
    """Every segment's churn times `factor` (overrides set values, so each segment's shipped churn is read)."""
    return {f"market.segments.{s.id}.churn_per_round": round(s.churn_per_round * factor, 4)
            for s in _scenario(sid).market.segments}


def _company(sid: str, name: str) -> Any:
    return next(c for c in _scenario(sid).companies if c.name == name)


def _times(sid: str, name: str, attr: str, factor: float) -> dict[str, float]:
    return {f"companies.{name}.{attr}": round(getattr(_company(sid, name), attr) * factor, 4)}


def _plus(sid: str, name: str, attr: str, points: float) -> dict[str, float]:
    return {f"companies.{name}.{attr}": min(100.0, getattr(_company(sid, name), attr) + points)}


def _dense_equivalent(sid: str, name: str) -> dict[str, float]:
    """The company's MoE model as a dense model of the same quality: N_eff = N_active^(1-w) N_total^w."""
    m, w = _company(sid, name).model, _scenario(sid).scaling.moe_total_weight
    n_eff = round(m.active_params_b ** (1 - w) * m.params_b ** w, 1)
    return {f"companies.{name}.model.params_b": n_eff, f"companies.{name}.model.active_params_b": n_eff}


def _outside_gain(sid: str, factor: float) -> dict[str, float]:
    return {"market.outside.gain_per_round": round(_scenario(sid).market.outside.gain_per_round * factor, 4)}


NO_SAFETY_TUNING = ({"field": "tuning.safety_musd", "times": 0},)


def _no_safety_work(sid: str, name: str) -> tuple[dict[str, Any], ...]:
    """No safety tuning and no new red-teamers (the team it starts with stays): without the second, a
    safety-minded seat answers the missing tuning with safety staff, and the lever measures that."""
    return NO_SAFETY_TUNING + ({"field": "talent.safety_staff", "set": _company(sid, name).safety_staff},)
NO_SFT = ({"field": "tuning.sft_musd", "times": 0},)
NO_RETRIEVAL = ({"field": "tuning.retrieval", "set": False},)
HALF_RESEARCHERS = ({"field": "talent.researchers", "times": 0.5, "rounds": [1]},)

# Who each concept is measured on in each scenario (where the concept applies).
DATA_POOR = {"frontier-race": "Forge", "mixed-ecosystem": "Halcyon", "product-builders": "Vantage AI",
             "trust-and-safety": "Meridian"}
CHALLENGER = {"frontier-race": "Forge", "mixed-ecosystem": "Kestrel", "product-builders": "Vantage AI",
              "trust-and-safety": "Meridian"}
LEADING_LAB = {"frontier-race": "Aurora AI", "mixed-ecosystem": "Atlas Intelligence",
               "product-builders": "Vantage AI", "trust-and-safety": "Paragon"}
FRESHNESS_SEAT = {"frontier-race": "Beacon Labs", "mixed-ecosystem": "Halcyon", "product-builders": "Corvid Suite",
                  "trust-and-safety": "Sentinel Labs"}
SFT_SEAT = {"frontier-race": "Echo", "mixed-ecosystem": "Brightdesk", "product-builders": "Tessellate",
            "trust-and-safety": "Nimbus"}
SAFETY_SEAT = {"frontier-race": "Beacon Labs", "mixed-ecosystem": "Halcyon", "product-builders": "Ledgerlight",
               "trust-and-safety": "Sentinel Labs"}
MOE_SEAT = {"frontier-race": "Cinder", "mixed-ecosystem": "Kestrel", "trust-and-safety": "Kite Intelligence"}
INCUMBENT = {"frontier-race": "Delta Systems", "mixed-ecosystem": "Atlas Intelligence",
             "product-builders": "Corvid Suite", "trust-and-safety": "Paragon"}
FADING_RUNS, FADING_SEED = 100, 7  # the persona games that find each scenario's fading incumbent


def moat_company(sid: str) -> tuple[str, int]:
    """The company switching costs should move, and which way: the one whose share of tokens falls most
    from the start of the game (its installed base before round 1) to the last round in persona games,
    whose installed base they protect (+1); or, where every company gains share (from the open-weight
    outside option), the one that gains most, whose grab they slow (-1). Measured from round 1, a price
    disruptor that grabs share in round 1 and gives some back would count as fading, and switching
    costs would (rightly) slow its grab."""
    sc = _scenario(sid)
    world = World(sc)
    seats = np.array([personas.persona_index(c.persona) for c in sc.companies])
    state, previous = initial_state(world, run_seeds(FADING_SEED, FADING_RUNS)), None
    installed = state.share
    for rnd in range(sc.rounds):
        decision = personas.decide(world, state, seats, np.full(seats.size, personas.DEFAULT_AGGRESSIVENESS),
                                   previous)
        state, out = step(world, state, decision)
        previous = decision
        if rnd == 0:  # the starting installed share, weighted by the segments' volumes
            start = ((installed * out.volume[:, None, :]).sum(-1) / out.volume.sum(-1, keepdims=True)).mean(0)
    share = (out.served.sum(-1) / np.maximum(out.volume.sum(-1, keepdims=True), 1e-12)).mean(0)
    lost = start - share
    if lost.max() > 0:
        return sc.companies[int(np.argmax(lost))].name, +1
    return sc.companies[int(np.argmin(lost))].name, -1


SPEND_SEAT = {"frontier-race": "Beacon Labs", "mixed-ecosystem": "Atlas Intelligence",
              "product-builders": "Ledgerlight", "trust-and-safety": "Sentinel Labs"}
# The spending lines of the super-lever check: each cut to zero on the seat for the whole game.
SPEND_LINES: dict[str, dict[str, Any]] = {
    "tuning.safety_musd": {"field": "tuning.safety_musd", "times": 0},
    "tuning.sft_musd": {"field": "tuning.sft_musd", "times": 0},
    "products.marketing_musd": {"field": "products.marketing_musd", "times": 0},
    "talent.safety_staff": {"field": "talent.safety_staff", "set": 0},
    "compute.buy_gpus": {"field": "compute.buy_gpus", "times": 0},
}


def _rows() -> list[Row]:
    rows: list[Row] = []
    for sid in SCENARIOS:
        poor = DATA_POOR[sid]
        rows.append(Row("data-moat", sid, poor, "capability", -1, "the web's scraped pool shrinks to 5T tokens",
                        {"data.sources.scraped.pool_t_tokens": 5}))
        ch = CHALLENGER[sid]
        rows.append(Row("capital-moat", sid, ch, "capability", +1, f"{ch} starts with twice the cash",
                        _times(sid, ch, "cash_musd", 2)))
        lead = LEADING_LAB[sid]
        rows.append(Row("talent-moat", sid, lead, "capability", -1, f"{lead} lays off half its researchers in round 1",
                        seat=lead, tweaks=HALF_RESEARCHERS))
        fresh = FRESHNESS_SEAT[sid]
        rows.append(Row("cutoff-retrieval", sid, fresh, "revenue", -1, f"{fresh} serves without retrieval",
                        seat=fresh, tweaks=NO_RETRIEVAL))
        sft = SFT_SEAT[sid]
        rows.append(Row("sft-differentiation", sid, sft, "revenue", -1, f"{sft} spends nothing on SFT",
                        seat=sft, tweaks=NO_SFT))
        safe = SAFETY_SEAT[sid]
        no_safety = f"{safe} spends nothing on safety tuning and hires no red-teamers"
        rows.append(Row("safety-feature", sid, safe, "revenue", -1, no_safety, seat=safe,
                        tweaks=_no_safety_work(sid, safe)))
        rows.append(Row("safety-risk", sid, safe, "incidents", +1, no_safety, seat=safe,
                        tweaks=_no_safety_work(sid, safe), score_direction=-1))
        rows.append(Row("alignment-tax", sid, safe, "capability", +1, "no alignment tax (safety.alignment_tax 0)",
                        {"safety.alignment_tax": 0}))
        if sid in MOE_SEAT:
            moe = MOE_SEAT[sid]
            rows.append(Row("moe", sid, moe, "score", -1, f"{moe}'s MoE model served as a dense model of equal quality",
                            _dense_equivalent(sid, moe)))
        rows.append(Row("open-weight-commodity", sid, "labs", "revenue", -1, "open weights gain 2.5x faster a quarter",
                        _outside_gain(sid, 2.5)))
        inc = INCUMBENT[sid]
        rows.append(Row("ecosystem", sid, inc, "share_tokens", +1, f"{inc}'s ecosystem +25 points",
                        _plus(sid, inc, "ecosystem", 25)))
        moat, way = moat_company(sid)
        rows.append(Row("switching-costs", sid, moat, "share_tokens", way,
                        "switching costs up: every segment's churn x0.25", _times_churn(sid, 0.25)))
    return rows


ROWS: list[Row] = _rows()


def _header(lines: list[str]) -> str:
    return "".join(f"# {line}\n" for line in lines)


def study_text(row: Row, runs: int = RUNS) -> str:
    """The study file of one row: a comment saying the concept, the lever, the direction and the outcome."""
    arrow = "raise" if row.direction > 0 else "lower"
    who = "the labs together" if row.company == "labs" else row.company
    head = _header([
        f"Concept: {row.concept}. {CONCEPTS[row.concept]}",
        f"Lever: {row.lever}.",
        f"Expected: the lever should {arrow} {row.measure} of {who} (final round), paired on the same seeds.",
        "Generated by bench/concepts.py (--write); edit the table there, not this file.",
    ])
    arm: dict[str, Any] = {"name": "lever"}
    if row.overrides:
        arm["overrides"] = dict(row.overrides)
    if row.tweaks:
        arm["seats"] = {row.seat: {"tweaks": [dict(t) for t in row.tweaks]}}
    body = {"scenario": row.scenario, "runs": runs, "seed": SEED, "arms": [{"name": "baseline"}, arm]}
    return head + dump_scenario(body)


def super_lever_text(sid: str, runs: int = RUNS) -> str:
    seat = SPEND_SEAT[sid]
    head = _header([
        f"Super-lever check: {seat}'s score per $1B of each spending line, in {sid}.",
        "Each arm after the baseline cuts one spending line to zero for the whole game; the score difference over",
        "what the line spent in the baseline is its score per $1B. None should buy over 3x the median line's.",
        "Generated by bench/concepts.py (--write); edit the table there, not this file.",
    ])
    arms: list[dict[str, Any]] = [{"name": "baseline"}]
    for line, tweak in SPEND_LINES.items():
        arms.append({"name": f"no {line}", "seats": {seat: {"tweaks": [dict(tweak)]}}})
    return head + dump_scenario({"scenario": sid, "runs": runs, "seed": SEED, "arms": arms})


def generated(runs: int = RUNS) -> dict[str, str]:
    """File name -> text of every study file the table makes."""
    files = {f"{row.name}.yaml": study_text(row, runs) for row in ROWS}
    files.update({f"super-lever-{sid}.yaml": super_lever_text(sid, runs) for sid in SCENARIOS})
    return files


def write_files(folder: Path = STUDY_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = generated()
    for stale in folder.glob("*.yaml"):
        if stale.name not in files:
            stale.unlink()
    paths = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


# ---------------------------------------------------------------- measuring


@dataclass
class Measured:
    row: Row
    base: float
    diff: float
    low: float
    high: float
    score_diff: float  # the company's score difference (nan for "labs")

    @property
    def right_way(self) -> bool:
        return self.diff * self.row.direction > 0

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    @property
    def big_enough(self) -> bool:
        """A size a class notices (issue 9): 10% of the outcome the row names, or 3 scorecard points for
        the company moved the way the lever should move them (the outcome moving the right way, the score
        saying how much it mattered: a richer lab whose score falls 6 points teaches the wrong lesson)."""
        size = abs(self.diff)
        if self.row.measure == "score" and size >= SCORE_POINTS:
            return True
        if self.score_diff == self.score_diff and self.score_diff * self.row.score_way >= SCORE_POINTS:
            return True
        return size >= SHARE_OF_BASELINE * abs(self.base) and size > 0

    @property
    def felt(self) -> bool:
        return self.right_way and self.excludes_zero and self.big_enough

    @property
    def verdict(self) -> str:
        if self.felt:
            return "felt"
        why = [w for w, ok in (("wrong direction", self.right_way), ("CI includes 0", self.excludes_zero),
                               ("too small", self.big_enough)) if not ok]
        return "not felt (" + ", ".join(why) + ")"


def measure_row(row: Row, path: Path, runs: int | None, workers: int | None = None) -> Measured:
    """Play the row's study; the paired difference of its outcome, from the summary (or the rows, for `labs`)."""
    prepared = load_study(path, runs=runs)
    labs = row.company == "labs"
    result = run(prepared, workers=workers, keep_runs=labs)
    s = result.summary
    if labs:
        names = [c.name for c in prepared.scenario.companies if c.kind == "lab"]
        rows = result.runs
        final = rows[(rows["round"] == prepared.scenario.rounds) & rows["company"].isin(names)]
        per_run = final.groupby(["arm", "run"], observed=True)[row.measure].sum().unstack("arm")
        base_v, lever_v = per_run["baseline"].to_numpy(), per_run["lever"].to_numpy()
        diff, low, high = (float(x) for x in paired(lever_v - base_v))
        return Measured(row, float(base_v.mean()), diff, low, high, math.nan)

    def pick(arm: str, measure: str) -> Any:
        return s[(s.arm == arm) & (s.company == row.company) & (s.measure == measure)].iloc[0]

    base, lever = pick("baseline", row.measure), pick("lever", row.measure)
    return Measured(row, float(base["mean"]), float(lever.diff_mean), float(lever.diff_ci_low),
                    float(lever.diff_ci_high), float(pick("lever", "score").diff_mean))


def line_spending(prepared: Prepared, company: str) -> tuple[dict[str, float], float]:
    """What each spending line of `company` spent over the game in the baseline arm, mean over runs ($M): the
    baseline replayed in-process on the study's seeds, as `app.studies.play.play` plays it."""
    config = next(c for c in prepared.configs if c.arm == 0 and c.point == 0)
    world = World(config.scenario)
    c = [x.name for x in config.scenario.companies].index(company)
    seeds = run_seeds(prepared.study.seed, prepared.study.runs, 0)
    fields = [f for f, _ in SPENDING_FIELDS]
    totals = np.zeros((len(seeds), len(fields) + 1))
    salary = talent.role_constants(world)[0]
    for r in played_rounds(config, seeds, world):
        d = r.decisions
        totals[:, :-1] += spending(world, d)[:, c]
        totals[:, -1] += r.after.staff[:, c, 2] * salary[2] * d.pay[:, c] / 4.0 / 1e6  # the safety team's payroll
        outcome = r.outcome
    means = totals.mean(axis=0)
    out = dict(zip(fields, means[:-1], strict=True))
    out["talent.safety_staff"] = float(means[-1])
    return out, float(outcome.score[:, c].mean())


@dataclass
class LineFigure:
    scenario: str
    seat: str
    line: str
    spent_musd: float
    score_diff: float  # baseline - cut (the score the line buys)
    low: float
    high: float

    @property
    def per_busd(self) -> float:
        return self.score_diff / (self.spent_musd / 1000.0) if self.spent_musd > 1e-6 else math.nan


def measure_super_lever(sid: str, path: Path, runs: int | None, workers: int | None = None) -> list[LineFigure]:
    prepared = load_study(path, runs=runs)
    seat = SPEND_SEAT[sid]
    s = run(prepared, workers=workers).summary
    spent, replayed = line_spending(prepared, seat)
    played = float(s[(s.arm == "baseline") & (s.company == seat) & (s.measure == "score")].iloc[0]["mean"])
    if abs(replayed - played) > 1e-6:  # the replay must be the study's baseline, game for game
        raise SystemExit(f"{sid}: the in-process replay scores {replayed:.6f}, the study {played:.6f}")
    out = []
    for line in SPEND_LINES:
        r = s[(s.arm == f"no {line}") & (s.company == seat) & (s.measure == "score")].iloc[0]
        out.append(LineFigure(sid, seat, line, spent[line], -float(r.diff_mean), -float(r.diff_ci_high),
                              -float(r.diff_ci_low)))
    return out


def flag_super_levers(figures: list[LineFigure]) -> tuple[float, list[tuple[LineFigure, float, bool]]]:
    """The median score per $1B of the seat's lines that spent money, and each line's ratio to it and flag."""
    values = [f.per_busd for f in figures if not math.isnan(f.per_busd)]
    median = float(np.median(values)) if values else math.nan
    out = []
    for f in figures:
        v = f.per_busd
        if math.isnan(v) or math.isnan(median):
            out.append((f, math.nan, False))
        elif median > 0:
            out.append((f, v / median, v > SUPER_LEVER_RATIO * median))
        else:  # the median line buys no score: any line that buys some is beyond every multiple of it
            out.append((f, math.inf if v > 0 else math.nan, v > 0))
    return median, out


def _fmt(x: float) -> str:
    if math.isnan(x):
        return "n/a"
    a = abs(x)
    return f"{x:.3g}" if a < 1 else f"{x:.4g}" if a < 1000 else f"{x:,.0f}"


def row_line(m: Measured) -> str:
    r = m.row
    who = "labs (sum)" if r.company == "labs" else r.company
    rel = m.diff / abs(m.base) * 100 if m.base else math.nan
    score = "" if math.isnan(m.score_diff) else f" | score {m.score_diff:+.2f}"
    return (f"{r.concept} | {r.scenario} | {r.lever} | {r.measure} of {who} | expect {'+' if r.direction > 0 else '-'}"
            f" | diff {_fmt(m.diff)} [{_fmt(m.low)}, {_fmt(m.high)}] | base {_fmt(m.base)} ({rel:+.1f}%){score}"
            f" | {m.verdict}")


def felt_concepts(measured: list[Measured]) -> tuple[int, int]:
    concepts = list(dict.fromkeys(m.row.concept for m in measured))
    felt = sum(all(m.felt for m in measured if m.row.concept == c) for c in concepts)
    return felt, len(concepts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs per arm instead of {RUNS}")
    ap.add_argument("--write", action="store_true", help="write the study files from the table, then stop")
    ap.add_argument("--only", default="", help="only rows whose file name contains this text")
    ap.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    args = ap.parse_args(argv)
    if args.write:
        paths = write_files()
        print(f"wrote {len(paths)} study files to {STUDY_DIR.relative_to(ROOT)}")
        return 0
    stale = [n for n, t in generated().items() if not (STUDY_DIR / n).exists() or (STUDY_DIR / n).read_text() != t]
    if stale:
        print(f"# {len(stale)} study files differ from the table (run with --write): {', '.join(stale[:5])}")
        return 1
    runs = QUICK_RUNS if args.quick else None
    t0 = time.perf_counter()
    print(f"# concept table: {QUICK_RUNS if args.quick else RUNS} paired runs per arm, seed {SEED}")
    print("# concept | scenario | lever | outcome (final round) | expected | diff lever-baseline [95% CI] | "
          "baseline mean (relative) | score diff | verdict")
    measured = []
    for row in ROWS:
        if args.only and args.only not in row.name:
            continue
        m = measure_row(row, STUDY_DIR / f"{row.name}.yaml", runs, args.workers)
        measured.append(m)
        print(row_line(m), flush=True)
    print("# super-lever check: score per $1B of each spending line (the score it buys over what it spent)")
    print("# scenario | seat | line | spent in baseline | score bought [95% CI] | score per $1B | x median | flag")
    flagged = 0
    for sid in SCENARIOS:
        if args.only and args.only not in f"super-lever-{sid}":
            continue
        figures = measure_super_lever(sid, STUDY_DIR / f"super-lever-{sid}.yaml", runs, args.workers)
        median, rated = flag_super_levers(figures)
        for f, ratio, flag in rated:
            flagged += flag
            print(f"super-lever | {sid} | {f.seat} | {f.line} | ${f.spent_musd / 1000:.3f}B | "
                  f"{f.score_diff:+.2f} [{f.low:+.2f}, {f.high:+.2f}] | {_fmt(f.per_busd)} pts/$1B | "
                  f"x{_fmt(ratio)} | {'SUPER-LEVER' if flag else 'ok'}", flush=True)
        print(f"super-lever | {sid} | median {_fmt(median)} pts/$1B", flush=True)
    rows_felt = sum(m.felt for m in measured)
    print(f"super_levers={flagged}")
    print(f"rows_felt={rows_felt}/{len(measured)}")
    print(f"wall_s={time.perf_counter() - t0:.1f}")
    felt, total = felt_concepts(measured)
    print(f"concepts_felt={felt}/{total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
