"""The scorecard a board would sign: every metric tells companies apart, one quarter's numbers cannot
buy the growth metric, share counts what the scenario says, and a richer start or a bigger ecosystem
never lowers a company's score."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
import pytest

from app.engine import personas
from app.engine.decisions import DecisionArrays
from app.engine.rng import run_seeds
from app.engine.rules import market, scoring
from app.engine.start import initial_state
from app.engine.step import Outcome, step
from app.engine.world import World
from app.scenario import Scenario
from app.scenario.scorecard import METRICS

from .factories import SCENARIO_IDS, even_aggressiveness, scenario, scenario_seats, world

GAMES = 300  # seeded games per shipped scenario
SEED = 909
SPREAD = 0.10  # the middle 90% of company-games spans at least a tenth of a metric's range
MOST_ALIKE = 0.95  # and no one scaled value (to 0.01) holds more than 95% of them
PAIRED_GAMES = 400


def _play(w: World, runs: int, seed: int, tweak_round_1: int | None = None,
          record: list[DecisionArrays] | None = None,
          replay: tuple[int, list[DecisionArrays]] | None = None) -> Outcome:
    """The final round of `runs` games played by the scenario's personas; seat `tweak_round_1`
    prices thirty times the persona's price in round 1. `record` collects every round's decisions;
    `replay` (seat, decisions) makes that seat play the recorded decisions instead."""
    seats, aggressiveness = scenario_seats(w), even_aggressiveness(w)
    state, previous = initial_state(w, run_seeds(seed, runs)), None
    for rnd in range(1, w.scenario.rounds + 1):
        d = personas.decide(w, state, seats, aggressiveness, previous)
        if rnd == 1 and tweak_round_1 is not None:
            price = d.price.copy()
            price[:, tweak_round_1] *= 30.0
            d = dataclasses.replace(d, price=price)
        if replay is not None:
            seat = np.zeros(d.price.shape[:2], bool)
            seat[:, replay[0]] = True
            d = replay[1][rnd - 1].where(seat, d)
        if record is not None:
            record.append(d)
        state, outcome = step(w, state, d)
        previous = d
    return outcome


@functools.cache
def _final(scenario_id: str) -> Outcome:
    return _play(world(scenario_id), GAMES, SEED)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_weighted_metric_tells_company_games_apart(scenario_id: str) -> None:
    """Solvency at its maximum for every company in every game would discriminate nothing."""
    card = scenario(scenario_id).scoring
    scaled = _final(scenario_id).scaled_metrics
    flat = []
    for i, m in enumerate(scoring.METRICS):
        if card.weights()[m] == 0:
            continue
        values = scaled[..., i].ravel()
        low, high = np.percentile(values, [5, 95])
        _, counts = np.unique(np.round(values, 2), return_counts=True)
        if high - low < SPREAD or counts.max() / values.size > MOST_ALIKE:
            flat.append(f"{m}: 5th-95th percentile {low:.2f}-{high:.2f}, "
                        f"{counts.max() / values.size:.0%} share one value")
    assert not flat, flat


def test_pricing_thirty_times_in_round_one_buys_no_revenue_growth() -> None:
    """The growth baseline is the scenario's starting revenue, not round 1's: a team cannot sink
    round 1 to flatter its growth."""
    w = world("frontier-race")
    seat = 0
    plain = _play(w, PAIRED_GAMES, SEED)
    gamed = _play(w, PAIRED_GAMES, SEED, tweak_round_1=seat)
    growth = scoring.METRICS.index("revenue_growth")
    assert gamed.metrics[:, seat, growth].mean() <= plain.metrics[:, seat, growth].mean() + 1e-9
    assert gamed.score[:, seat].mean() <= plain.score[:, seat].mean()


def _with_company(s: Scenario, name: str, **changes: float | str) -> Scenario:
    """The scenario with one company's fields changed ("double": twice the scenario's own value)."""
    def changed(c: Any) -> Any:
        return c.model_copy(update={k: 2 * getattr(c, k) if v == "double" else v for k, v in changes.items()})
    companies = [changed(c) if c.name == name else c for c in s.companies]
    return s.model_copy(update={"companies": companies})


@pytest.mark.parametrize(("scenario_id", "company", "change"), [
    ("frontier-race", "Forge", {"cash_musd": "double"}),
    ("trust-and-safety", "Meridian", {"cash_musd": "double"}),
    ("mixed-ecosystem", "Atlas Intelligence", {"ecosystem": 80.0}),
    ("frontier-race", "Delta Systems", {"ecosystem": 85.0}),
])
def test_a_richer_start_never_lowers_the_score_and_a_bigger_ecosystem_raises_it(
        scenario_id: str, company: str, change: dict[str, float | str]) -> None:
    """Capital and ecosystem advantages are never penalised by the scorecard: on the same seeded
    games, the company playing the same decisions with twice the cash does not score lower (it did
    when money was scored against the company's own start), and a bigger ecosystem, played by its
    persona, raises the score. Whether a persona turns the extra cash into an advantage is the
    concept table's business (bench/concepts.py, capital-moat): more GPUs buy capability, and they
    pay only if buyers value it more than its dearer tokens."""
    base = scenario(scenario_id)
    c = [x.name for x in base.companies].index(company)
    played: list[DecisionArrays] = []
    plain = _play(World(base), PAIRED_GAMES, SEED, record=played)
    same_play = (c, played) if "cash_musd" in change else None
    richer = _play(World(_with_company(base, company, **change)), PAIRED_GAMES, SEED,
                   replay=same_play)
    gain = richer.score[:, c] - plain.score[:, c]
    noise = 3 * gain.std() / np.sqrt(gain.size)
    assert gain.mean() > -noise, f"{gain.mean():+.2f} points: the advantage lowered the score"
    if "ecosystem" in change:
        assert gain.mean() > noise, f"{gain.mean():+.2f} points: the ecosystem was not felt"


def test_share_counts_revenue_tokens_or_both_as_the_scenario_says() -> None:
    base = scenario("frontier-race")
    revenue = np.array([[30.0, 10.0]])
    tokens = np.array([[1.0, 3.0]])
    shares = {}
    for basis in scoring.SHARE_BASES:
        card = base.scoring.model_copy(update={"share_basis": basis})
        shares[basis] = scoring.share(World(base.model_copy(update={"scoring": card})),
                                      revenue, tokens)
    np.testing.assert_allclose(shares["revenue"], [[0.75, 0.25]])
    np.testing.assert_allclose(shares["tokens"], [[0.25, 0.75]])
    np.testing.assert_allclose(shares["both"], [[0.5, 0.5]])


def test_the_score_is_the_weighted_mean_of_metrics_placed_on_their_ranges() -> None:
    """score = 100 * sum(w * scaled) / sum(w), scaled = clip((x - low) / (high - low), 0, 1), where a company's
    low and high are the scenario's moved by the company's par."""
    w = world("product-builders")
    card = w.scenario.scoring
    o = _final("product-builders")
    par = np.array([[getattr(c.par, m) for m in scoring.METRICS] for c in w.scenario.companies])
    assert np.abs(par).max() > 0  # the shipped scenario's companies have pars
    lo = np.array([getattr(card.ranges, m).low for m in scoring.METRICS]) + par
    hi = np.array([getattr(card.ranges, m).high for m in scoring.METRICS]) + par
    weights = np.array([card.weights()[m] for m in scoring.METRICS])
    scaled = np.clip((o.metrics - lo) / (hi - lo), 0.0, 1.0)
    np.testing.assert_allclose(o.scaled_metrics, scaled)
    np.testing.assert_allclose(o.score, 100.0 * (scaled * weights).sum(-1) / weights.sum())



@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_share_bought_below_cost_scores_nothing(scenario_id: str) -> None:
    """Issue 9 (the undercut exploits): a board does not sign share bought at a loss. Revenue counts towards the share
    metric at its quality, as investors value it (`finance.revenue_quality`: all of it at a 50% gross margin, none at
    or below cost). The scenario's richest lab selling at a fifth of what a token costs on rented GPUs (owning costs at least
    half as much) wins tokens, not share. (Competition law, which forbids a lab with product companies on its model to
    price below their cost, is lifted here: the rule under test is the scorecard's.)"""
    sc = world(scenario_id).scenario
    w = World(sc.model_copy(update={"market": sc.market.model_copy(update={"no_margin_squeeze": False})}))
    labs = np.flatnonzero(w.is_lab)
    seat = int(labs[np.argmax([w.scenario.companies[c].cash_musd for c in labs])])
    seats, aggressiveness = scenario_seats(w), even_aggressiveness(w)
    results = {}
    for dumping in (False, True):
        state, previous, tokens = initial_state(w, run_seeds(SEED, 60)), None, 0.0
        for rnd in range(1, w.scenario.rounds + 1):
            d = personas.decide(w, state, seats, aggressiveness, previous)
            if dumping:
                cost = market.cloud_cost_per_m_tokens(w, state.model_active[:, seat], state.algo[:, seat], rnd)
                price = d.price.copy()
                price[:, seat] = 0.2 * cost[:, None]
                d = dataclasses.replace(d, price=price)
            state, outcome = step(w, state, d)
            previous, tokens = d, tokens + outcome.served[:, seat].sum(-1).mean()
        results[dumping] = (tokens, outcome.metrics[:, seat, METRICS.index("share")].mean())
    (tokens, share), (dumped_tokens, dumped_share) = results[False], results[True]
    assert dumped_tokens > 1.5 * tokens, results
    assert dumped_share < share, results


def _without_par(sc: Scenario) -> Scenario:
    companies = [c.model_copy(update={"par": type(c.par)()}) for c in sc.companies]
    return sc.model_copy(update={"companies": companies})


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_seat_can_win_by_what_it_makes_of_its_start(scenario_id: str) -> None:
    """Issue 9 (balance from the starts, not from a wasteful persona): each company's range is the scenario's moved by
    its par, what its board can expect of its start (fitted by bench/fit_ranges.py --par), so every seat's persona wins
    a fair part of the games. Scored on the scenario's ranges alone, the seat with the richest start wins far more
    often than the rest."""
    from app.engine.batch import final_scores, resolve_seats

    sc = scenario(scenario_id)
    seats = resolve_seats(sc, None)

    def seat_wins(s: Scenario) -> np.ndarray:
        winners = final_scores(s, 400, 2027, seats, workers=1).argmax(axis=1)
        return np.bincount(winners, minlength=len(seats)) / winners.size

    fair, unfair = seat_wins(sc), seat_wins(_without_par(sc))
    assert fair.min() >= 0.05 and fair.max() <= 0.35, fair
    assert unfair.max() > fair.max() + 0.1, (fair, unfair)


def test_a_richer_start_still_scores_higher_against_the_same_par() -> None:
    """The par is the scenario's, not the team's: a company given twice its authored cash (a what-if, the par left as
    shipped) scores higher on average, so a capital advantage stays felt."""
    sc = scenario("mixed-ecosystem")
    c = next(i for i, co in enumerate(sc.companies) if co.kind == "lab")
    companies = list(sc.companies)
    companies[c] = companies[c].model_copy(update={"cash_musd": 2 * companies[c].cash_musd})
    richer = sc.model_copy(update={"companies": companies})
    from app.engine.batch import final_scores, resolve_seats

    seats = resolve_seats(sc, None)
    base = final_scores(sc, 200, 2028, seats, workers=1)[:, c].mean()
    more = final_scores(richer, 200, 2028, seats, workers=1)[:, c].mean()
    assert more > base, (base, more)
