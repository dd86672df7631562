"""Playing one arm at one sweep point for a batch of seeds: every seat's strategy decides, the world steps.

Pure apart from a Python strategy's own code: the same configuration and seeds give the same table, byte
for byte, in any process on any machine. Runs are resolved together as arrays, as `engine.batch` does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from app.engine import personas
from app.engine.decisions import Decision, DecisionArrays, blank_arrays, fill
from app.engine.rng import run_seeds
from app.engine.rules import scoring
from app.engine.start import initial_state
from app.engine.state import State
from app.engine.step import Outcome, step
from app.engine.validation import spending, unknown_names, within_budget
from app.engine.world import World
from app.scenario.schema import Scenario
from app.studies import tweaks as tw
from app.studies.schema import Tweak

KPIS = ("cash", "revenue", "net_income", "share_tokens", "share_revenue", "capability", "brand", "safety",
        "incidents", "valuation", "rescues", "score", "rank")
METRIC_COLUMNS = tuple(f"metric_{m}" for m in scoring.METRICS) + tuple(f"scaled_{m}" for m in scoring.METRICS)
BUDGET_COLUMNS = ("spend_planned_musd", "spend_cut_musd")
VALUE_COLUMNS = KPIS + METRIC_COLUMNS + BUDGET_COLUMNS
# Measures summarised per company over the runs' final round: every value column, whether the company won
# (top final score), the share of rounds in which its decisions had to be cut to fit its budget, and the share
# of its planned spending over the game that was cut.
MEASURES = VALUE_COLUMNS + ("win", "cut_rounds_share", "cut_spend_share")
CUT_TOLERANCE_MUSD = 1e-6  # a cut smaller than a dollar is rounding, not a cut
# The columns of runs.parquet, in order: ID_COLUMNS[:2], one column per sweep path, ID_COLUMNS[2:], VALUE_COLUMNS.
ID_COLUMNS = ("arm", "point", "run", "seed", "round", "company", "strategy")
SWEEP_COLUMN_DOC = "One column per sweep path (named by the path as written): that parameter's value at this sweep point."
# What every column of runs.parquet and every summary measure means: the one place docs/studies.md reads.
COLUMN_DOCS: dict[str, str] = {
    "arm": "The arm's name (the first arm is the baseline).",
    "point": "The sweep point, numbered from 0 (always 0 without a sweep).",
    "run": "The run, numbered from 0; run r plays the same seed in every arm and at every sweep point.",
    "seed": "The game's seed, derived from the study seed and the run.",
    "round": "The round (quarter), from 1.",
    "company": "The company's name.",
    "strategy": "Who played the seat: a persona (with its aggressiveness if not the default), `strategy module:function` "
                "or `script FILE`, with `+ N tweak(s)`.",
    "cash": "Cash at the end of the round (US$M).",
    "revenue": "Revenue in the round, retail and wholesale API (US$M).",
    "net_income": "Net income in the round (US$M).",
    "share_tokens": "Share of all tokens the segments bought in the round (the open-weight option included).",
    "share_revenue": "Share of the round's retail revenue of all companies.",
    "capability": "Capability of what the company sells (0-100), after the alignment tax.",
    "brand": "Brand (0-100).",
    "safety": "Safety level (0-100).",
    "incidents": "Incidents to date.",
    "valuation": "Valuation at the end of the round (US$M).",
    "rescues": "Rescues to date (bail-outs when cash ran out).",
    "score": "Balanced-scorecard score (0-100).",
    "rank": "Rank by score among the companies (1 = top).",
    **{f"metric_{m}": f"Raw scorecard metric {m}: {scoring.METRIC_DEFINITIONS[m]}." for m in scoring.METRICS},
    **{f"scaled_{m}": f"Scorecard metric {m} placed on the scenario's range, 0 to 1." for m in scoring.METRICS},
    "spend_planned_musd": "Spending the seat planned for the round, tweaks included, before it was fitted to its means (US$M).",
    "spend_cut_musd": "How much of the planned spending the budget fit cut (US$M).",
    "win": "1 if the company had the top final score, else 0 (its mean is the win rate).",
    "cut_rounds_share": "Share of the game's rounds in which the company's spending had to be cut to fit its means.",
    "cut_spend_share": "Share of the company's planned spending over the game that was cut.",
}


class StrategyFailed(RuntimeError):
    """A seat's Python strategy raised or returned something that is not a decision."""


@dataclass(frozen=True)
class SeatPlan:
    """Who plays one seat in one arm: kind persona, strategy or script, with tweaks."""

    company: str
    kind: str
    persona: str  # the persona played (for a strategy or script seat: the scenario's, decided and set aside)
    aggressiveness: float = personas.DEFAULT_AGGRESSIVENESS
    tweaks: tuple[Tweak, ...] = ()
    strategy: str | None = None
    script: tuple[Decision | str | None, ...] = ()  # per round: a decision, a stand-in persona, or None to carry on
    label: str = ""


@dataclass(frozen=True)
class Config:
    """One arm at one sweep point: the scenario with its overrides and who plays each seat."""

    arm: int
    point: int
    scenario: Scenario
    seats: tuple[SeatPlan, ...]
    inject: tuple[tuple[int, tuple[int, ...]], ...] = ()
    sweep_values: tuple[tuple[str, float], ...] = ()


@dataclass
class Chunk:
    """What one job gives back: the rows of its runs and each run's final-round measures."""

    arm: int
    point: int
    first_run: int
    table: pa.Table
    final: np.ndarray  # (runs, companies, MEASURES) float64
    strategy_errors: list[str] = field(default_factory=list)


def played_rounds(config: Config, seeds: np.ndarray, world: World | None = None) -> Iterator[PlayedRound]:
    """Every round of these seeds' games, as the study plays them: each seat decides, the decisions are fitted,
    injected events strike, the world steps. The one loop behind `play` (and benchmarks that look inside it)."""
    world = world or World(config.scenario)
    seats = _Seats(world, config)
    inject = dict(config.inject)
    state, previous, outcome = initial_state(world, seeds), None, None
    for rnd in range(1, config.scenario.rounds + 1):
        d, planned = seats.decide(state, previous, outcome, rnd)
        mask = None
        if rnd in inject:
            mask = np.zeros((len(seeds), len(config.scenario.events)), bool)
            mask[:, list(inject[rnd])] = True
        state, outcome = step(world, state, d, mask)
        yield PlayedRound(rnd, d, planned, state, outcome)
        previous = d


@dataclass(frozen=True, eq=False)
class PlayedRound:
    round: int
    decisions: DecisionArrays  # as fitted and carried out
    planned_spend: np.ndarray  # (R,C) what each seat meant to spend before the fit ($M)
    after: State
    outcome: Outcome


def play(config: Config, study_seed: int, first_run: int, n: int, labels: tuple[str, ...], arm_names: tuple[str, ...],
         sweep_paths: tuple[str, ...]) -> Chunk:
    """Play runs first_run .. first_run+n-1 of this configuration to the end; rows and final measures."""
    world = World(config.scenario)
    seeds = run_seeds(study_seed, n, first_run)
    T = config.scenario.rounds
    columns = {k: np.empty((n, T, world.n_companies)) for k in VALUE_COLUMNS}  # each round written in place
    cut_rounds, planned_total, cut_total = (np.zeros((n, world.n_companies)) for _ in range(3))
    for r in played_rounds(config, seeds, world):
        values = _round_values(world, r.after, r.outcome)
        values["spend_planned_musd"] = r.planned_spend
        values["spend_cut_musd"] = np.maximum(r.planned_spend - spending(world, r.decisions).sum(-1), 0.0)
        cut_rounds += values["spend_cut_musd"] > CUT_TOLERANCE_MUSD
        planned_total += r.planned_spend
        cut_total += values["spend_cut_musd"]
        for k, column in columns.items():
            column[:, r.round - 1] = values[k]
    table = _table(world, config, columns, seeds, first_run, labels, arm_names, sweep_paths)
    last = values
    win = (np.arange(world.n_companies)[None, :] == last["score"].argmax(axis=1)[:, None]).astype(np.float64)
    final = np.stack([last[k] for k in VALUE_COLUMNS] + [win, cut_rounds / T,
                                                         cut_total / np.maximum(planned_total, 1e-9)], axis=-1)
    return Chunk(config.arm, config.point, first_run, table, final)


def _round_values(world: World, state: State, o: Outcome) -> dict[str, np.ndarray]:
    """Every (R,C) figure of a round that a study records."""
    retail = o.revenue_by_segment.sum(-1)
    order = (-o.score).argsort(axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(1, world.n_companies + 1)[None, :], axis=1)
    values = {
        "cash": state.cash, "revenue": o.revenue, "net_income": o.net_income,
        "share_tokens": o.served.sum(-1) / np.maximum(o.volume.sum(-1, keepdims=True), 1e-12),
        "share_revenue": retail / np.maximum(retail.sum(-1, keepdims=True), 1e-12),
        "capability": o.effective_capability, "brand": state.brand, "safety": o.safety,
        "incidents": state.incidents.astype(np.float64), "valuation": state.valuation, "rescues": state.rescues.astype(np.float64),
        "score": o.score, "rank": rank.astype(np.float64),
    }
    for i, m in enumerate(scoring.METRICS):
        values[f"metric_{m}"] = o.metric_columns[i]
        values[f"scaled_{m}"] = o.scaled_columns[i]
    return values


def _table(world: World, config: Config, columns: dict[str, np.ndarray], seeds: np.ndarray, first_run: int,
           labels: tuple[str, ...], arm_names: tuple[str, ...], sweep_paths: tuple[str, ...]) -> pa.Table:
    """Rows ordered by run, round, company."""
    n, T, C = columns[VALUE_COLUMNS[0]].shape
    rows = n * T * C
    cols: dict[str, pa.Array] = {
        "arm": pa.DictionaryArray.from_arrays(pa.array(np.full(rows, config.arm, np.int32)), pa.array(arm_names)),
        "point": pa.array(np.full(rows, config.point, np.int32)),
    }
    values = dict(config.sweep_values)
    for path in sweep_paths:
        cols[path] = pa.array(np.full(rows, float(values[path])))
    cols["run"] = pa.array(np.repeat(np.arange(first_run, first_run + n, dtype=np.int64), T * C))
    cols["seed"] = pa.array(np.repeat(seeds, T * C))
    cols["round"] = pa.array(np.tile(np.repeat(np.arange(1, T + 1, dtype=np.int32), C), n))
    cols["company"] = pa.DictionaryArray.from_arrays(pa.array(np.tile(np.arange(C, dtype=np.int32), n * T)), pa.array(world.company_names))
    codes = np.array([labels.index(s.label) for s in config.seats], dtype=np.int32)
    cols["strategy"] = pa.DictionaryArray.from_arrays(pa.array(np.tile(codes, n * T)), pa.array(labels))
    for k in VALUE_COLUMNS:
        cols[k] = pa.array(columns[k].reshape(-1))  # (R, T, C): run, round, company order
    return pa.table(cols)


class _Seats:
    """Every seat's strategy for one configuration, deciding a round for all runs at once."""

    def __init__(self, world: World, config: Config):
        self.world, self.config = world, config
        self.persona_index = np.array([personas.persona_index(s.persona) for s in config.seats])
        self.aggr = np.array([s.aggressiveness for s in config.seats])
        self.tweaks = [[tw.resolve(world, t) for t in s.tweaks] for s in config.seats]
        self.explicit = np.array([s.kind != "persona" for s in config.seats])
        self.last: dict[int, Decision | list[Decision | None]] = {}
        self.strategies = {c: _load(s.strategy) for c, s in enumerate(config.seats) if s.kind == "strategy" and s.strategy}
        self.memory: dict[int, list[dict]] = {}

    def decide(self, state: State, previous: DecisionArrays | None, outcome: Outcome | None, rnd: int) -> tuple[DecisionArrays, np.ndarray]:
        """The round's decisions (fitted) and each seat's planned spending before the fit (R,C)."""
        world, seats = self.world, self.config.seats
        persona_seats = self.persona_index.copy()
        stand_in = np.zeros(len(seats), bool)
        for c, s in enumerate(seats):
            entry = s.script[rnd - 1] if s.kind == "script" and rnd - 1 < len(s.script) else None
            if isinstance(entry, str):
                persona_seats[c], stand_in[c] = personas.persona_index(entry), True
        planned = personas.plan(world, state, persona_seats, self.aggr)
        for c, t in enumerate(self.tweaks):
            if t and not self.explicit[c]:
                planned = tw.apply(world, planned, c, t, rnd)
        spend = spending(world, planned).sum(-1)
        fitted = personas.fit(world, state, persona_seats, planned)
        d = personas.settle(world, state, persona_seats, fitted, previous)
        written = self.explicit & ~stand_in
        if written.any():
            mine = self._written(state, outcome, rnd, written)
            for c, t in enumerate(self.tweaks):
                if t and written[c]:
                    mine = tw.apply(world, mine, c, t, rnd)
            mask = np.broadcast_to(written, spend.shape)
            spend = np.where(mask, spending(world, mine).sum(-1), spend)
            d = within_budget(world, state, mine).where(mask, d)
        return d, spend

    def _written(self, state: State, outcome: Outcome | None, rnd: int, written: np.ndarray) -> DecisionArrays:
        """Decisions of script and strategy seats as arrays (other seats hold blanks, replaced by the caller)."""
        world = self.world
        out = blank_arrays(world, state.base, state.prices, state.api_price, state.staff)
        for c in map(int, np.flatnonzero(written)):
            seat = self.config.seats[c]
            if seat.kind == "script":
                entry = seat.script[rnd - 1] if rnd - 1 < len(seat.script) else None
                decision = entry if isinstance(entry, Decision) else self._carried(c)
                if isinstance(entry, Decision):
                    self.last[c] = entry
                fill(out, slice(None), int(c), decision, world)
            else:
                for run, decision in enumerate(self._strategy(int(c), state, outcome, rnd)):
                    fill(out, run, int(c), decision, world)
        return DecisionArrays(**out)

    def _carried(self, c: int) -> Decision:
        last = self.last.get(c)
        return last.carried_on() if isinstance(last, Decision) else Decision()

    def _strategy(self, c: int, state: State, outcome: Outcome | None, rnd: int) -> list[Decision]:
        from app.engine import views

        fn, seat, runs = self.strategies[c], self.config.seats[c], state.runs
        memory = self.memory.setdefault(c, [{} for _ in range(runs)])
        last = self.last.setdefault(c, [None] * runs)
        assert isinstance(last, list)
        out = []
        for run in range(runs):
            view = views.player_view(self.world, state, run, c, outcome=outcome, memory=memory[run], rounds=self.config.scenario.rounds)
            try:
                result = fn(view)
            except Exception as exc:  # the user's code: say where it failed, whatever it raised
                raise StrategyFailed(f"{seat.company}'s strategy {seat.strategy} raised {type(exc).__name__}: {exc} "
                                     f"(round {rnd}, run {run})") from None
            try:
                decision = views.decision_from(result, seat.company, rnd, previous=last[run])
            except ValueError as exc:
                raise StrategyFailed(f"{exc} (run {run})") from None
            wrong = unknown_names(self.world, c, decision)
            if wrong:
                raise StrategyFailed(f"{seat.company}'s strategy, round {rnd}: " + "; ".join(f"{p.field}: {p.message}" for p in wrong)
                                     + f" (run {run})")
            if result is not None:
                last[run] = decision
            out.append(decision)
        return out


def _load(spec: str):  # noqa: ANN202 - a user's callable
    from app.engine import views

    return views.load_strategy(spec)
