"""Round reports explain every result: statements that tie out, share drivers that add up to the change,
a cost waterfall down to net income, incident odds with their causes; each team sees only its own books."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from app.engine import report
from app.engine.decisions import ComputeDecision, Decision, ProductDecision, RunPlan, TrainingDecision
from app.engine.game import GameRecord, PlayedRound, RoundInput, replay, seats_for
from app.engine.rules.market import ATTRIBUTES
from app.engine.rules.risk import INCIDENT_CAUSES
from app.engine.start import carried_on
from app.engine.world import World

from .factories import SCENARIO_IDS, scenario, simple_decision, world

SEED = 17
TEAM = "Echo"  # a frontier-race lab played by a team
ROUNDS = 3
RUN_SIZES = {"run_total", "run_active", "run_tokens"}
ROUNDING = 0.5 * 10.0**-report.DIGITS  # what rounding one reported figure may cost
PRIVATE_PARTS = {"income_statement", "balance_sheet", "cash_flow", "kpis", "scorecard", "drivers", "cost_waterfall",
                 "incidents", "training", "summary"}


@pytest.fixture
def exact_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Report figures to 12 decimals, so identities can be checked to 1e-6 rather than to the rounding."""
    monkeypatch.setattr(report, "DIGITS", 12)


def _team_game(scenario_id: str = "frontier-race", team: str | None = None, rounds: int = ROUNDS,
               frontier_buyers: bool = False) -> tuple[World, list[PlayedRound]]:
    """A game with one team seat submitting a plain decision (a lab also starts a big run in round 1), personas elsewhere;
    with `frontier_buyers`, a third of every segment's buyers pays for the best model (market.frontier_buyers)."""
    sc, w = scenario(scenario_id), world(scenario_id)
    if frontier_buyers:
        f = sc.market.frontier_buyers.model_copy(update={"share": 0.3, "capability_weight": 1.6, "price_sensitivity": 0.7})
        sc = sc.model_copy(update={"market": sc.market.model_copy(update={"frontier_buyers": f})})
        w = World(sc)
    team = team or (TEAM if TEAM in w.company_names else w.company_names[0])
    c = w.company_names.index(team)
    plain = simple_decision(w, c)
    first = plain.model_copy(update={"training": TrainingDecision(start=RunPlan(params_b=150, tokens_t=10))}) if w.is_lab[c] else plain
    inputs = (RoundInput(decisions={team: first}), *(RoundInput(decisions={team: plain}) for _ in range(rounds - 1)))
    return w, replay(GameRecord(sc, SEED, seats_for(sc, {team}), inputs), w)


def _all_company_pages(scenario_id: str, frontier_buyers: bool = False) -> list[tuple[World, PlayedRound, dict, str]]:
    w, played = _team_game(scenario_id, frontier_buyers=frontier_buyers)
    return [(w, p, report.round_report(w, p)["companies"][n]["private"], n) for p in played for n in w.company_names]


# --- what a report holds ----------------------------------------------------------------------


def test_a_report_has_statements_kpis_shares_leaderboard_news_drivers_waterfall_and_incidents() -> None:
    w, played = _team_game()
    r = report.round_report(w, played[-1])
    assert r["round"] == ROUNDS
    market = r["market"]
    assert [s["id"] for s in market["segments"]] == w.segment_ids
    assert {row["company"] for row in market["leaderboard"]} == set(w.company_names)
    assert {row["company"] for row in market["scoreboard"]} == set(w.company_names)
    assert isinstance(market["news"], list)
    for name in w.company_names:
        page = r["companies"][name]
        assert set(page["public"]["share"]) == set(w.segment_ids)
        assert PRIVATE_PARTS <= set(page["private"])
        private = page["private"]
        assert {"lines", "revenue", "net_income"} <= set(private["income_statement"])
        assert {"total_assets", "total_liabilities_and_equity"} <= set(private["balance_sheet"])
        assert {"operating", "investing", "financing", "opening_cash", "closing_cash"} <= set(private["cash_flow"])
        assert {"revenue", "cash", "valuation", "capability", "safety", "brand"} <= set(private["kpis"])
        assert [d["segment"] for d in private["drivers"]] == w.segment_ids
        assert private["cost_waterfall"][-1]["label"] == "Net income"
        assert {"probability", "causes"} <= set(private["incidents"])
        assert set(private["incidents"]["causes"]) == set(INCIDENT_CAUSES)
    json.loads(report.dumps(r))


def test_the_leaderboard_ranks_by_capability_and_the_scoreboard_by_score() -> None:
    w, played = _team_game()
    market = report.round_report(w, played[-1])["market"]
    capabilities = [row["capability"] for row in market["leaderboard"]]
    scores = [row["score"] for row in market["scoreboard"]]
    assert capabilities == sorted(capabilities, reverse=True)
    assert scores == sorted(scores, reverse=True)


def test_an_injected_event_makes_the_news_and_shows_as_active() -> None:
    sc, w = scenario("frontier-race"), world("frontier-race")
    e = next(i for i, ev in enumerate(sc.events) if ev.round is None and ev.probability_per_round == 0)
    played = replay(GameRecord(sc, SEED, seats_for(sc), (RoundInput(), RoundInput(injected_events=(e,)))), w)
    market = report.round_report(w, played[1])["market"]
    assert f"{sc.events[e].title}." in market["news"]
    assert sc.events[e].title in market["active_events"]


# --- the figures tie out ----------------------------------------------------------------------


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_every_segments_share_drivers_add_up_to_its_change(scenario_id: str, exact_figures: None) -> None:
    for _, p, private, name in _all_company_pages(scenario_id):
        for d in private["drivers"]:
            where = f"round {p.outcome.round}, {name}, {d['segment']}"
            assert d["change"] == pytest.approx(d["after"] - d["before"], abs=1e-9), where
            parts = sum(d["by_attribute"].values()) + d["installed_base"] + d["capacity"] + d["barred_by_safety_minimum"]
            assert parts == pytest.approx(d["change"], abs=1e-6), where
            by_company = sum(v for who in d["by_company"].values() for v in who.values())
            assert by_company == pytest.approx(sum(d["by_attribute"].values()), abs=1e-6), where
            assert set(d["by_attribute"]) == set(ATTRIBUTES)


@pytest.mark.parametrize("frontier_buyers", [False, True], ids=["one-class", "frontier-buyers"])
def test_share_drivers_add_up_to_the_change_within_rounding_as_reported(frontier_buyers: bool) -> None:
    for _, p, private, name in _all_company_pages("frontier-race", frontier_buyers):
        for d in private["drivers"]:
            parts = sum(d["by_attribute"].values()) + d["installed_base"] + d["capacity"] + d["barred_by_safety_minimum"]
            assert abs(parts - d["change"]) <= 12 * ROUNDING, f"round {p.outcome.round}, {name}, {d['segment']}"


@pytest.mark.parametrize("frontier_buyers", [False, True], ids=["one-class", "frontier-buyers"])
@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_utility_parts_the_drivers_explain_are_the_utilities_buyers_chose_by(scenario_id: str,
                                                                                   frontier_buyers: bool) -> None:
    """Reports split utilities by attribute apart from the choice itself: both must tell the same story, for each
    class of buyers and for all of them together."""
    w, played = _team_game(scenario_id, frontier_buyers=frontier_buyers)
    for p in played:
        choice = p.outcome.choice
        mixed = np.zeros_like(choice.probability)
        for k in choice.classes:  # each class of buyers by its own utilities, then all together by their shares
            parts, outside_parts = choice.parts(w, k.frontier)
            u, u_out = parts.sum(-1), outside_parts.sum(-1)
            expected = np.where(choice.eligible, np.exp(u - u_out[:, None, :]), 0.0) * k.outside_probability[:, None, :]
            assert np.allclose(k.probability, expected, rtol=1e-9, atol=1e-15), f"round {p.outcome.round}"
            mixed += k.weight * k.probability
        assert np.allclose(choice.probability, mixed, rtol=1e-12, atol=1e-15)
        assert sum(k.weight for k in choice.classes) == pytest.approx(1.0)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_drivers_before_and_after_are_the_installed_shares_of_the_round(scenario_id: str, exact_figures: None) -> None:
    for w, p, private, name in _all_company_pages(scenario_id):
        c = w.company_names.index(name)
        for s, d in enumerate(private["drivers"]):
            assert d["before"] == pytest.approx(p.before.share[0, c, s], abs=1e-9)
            assert d["after"] == pytest.approx(p.after.share[0, c, s], abs=1e-9)


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_cost_waterfall_runs_from_revenue_down_to_net_income(scenario_id: str, exact_figures: None) -> None:
    for _, p, private, name in _all_company_pages(scenario_id):
        steps, net = private["cost_waterfall"], private["income_statement"]["net_income"]
        assert steps[0]["label"] == "Revenue" and steps[0]["total"] == pytest.approx(private["income_statement"]["revenue"])
        running = steps[0]["total"]
        for s in steps[1:-1]:
            running += s["amount"]
            assert s["total"] == pytest.approx(running, abs=1e-6), f"round {p.outcome.round}, {name}: {s['label']}"
        assert steps[-2]["total"] == pytest.approx(net, abs=1e-6)
        assert steps[-1] == {"label": "Net income", "amount": net, "total": net}


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_the_reported_balance_sheet_balances_and_the_cash_flow_ties_opening_to_closing_cash(scenario_id: str, exact_figures: None) -> None:
    for _, p, private, name in _all_company_pages(scenario_id):
        bs, cf = private["balance_sheet"], private["cash_flow"]
        where = f"round {p.outcome.round}, {name}"
        scale = max(abs(bs["paid_in_capital"]), abs(bs["retained_earnings"]), abs(bs["total_assets"]), 1.0)
        assert bs["total_assets"] == pytest.approx(bs["total_liabilities_and_equity"], abs=1e-9 * scale), where
        assert bs["total_assets"] == pytest.approx(bs["cash"] + bs["gpus_net_book"], abs=1e-9 * scale), where
        flows = cf["operating"] + cf["investing"] + cf["financing"]
        assert cf["closing_cash"] - cf["opening_cash"] == pytest.approx(flows, abs=1e-9 * max(abs(cf["opening_cash"]), 1.0)), where
        assert cf["net_change"] == pytest.approx(flows, abs=1e-9 * max(abs(cf["opening_cash"]), 1.0)), where


@pytest.mark.parametrize("scenario_id", SCENARIO_IDS)
def test_incident_odds_come_with_causes_that_multiply_to_the_expected_rate(scenario_id: str, exact_figures: None) -> None:
    for w, p, private, name in _all_company_pages(scenario_id):
        inc = private["incidents"]
        assert 0.0 <= inc["probability"] <= 1.0
        assert float(np.prod(list(inc["causes"].values()))) == pytest.approx(inc["expected_rate"], rel=1e-9)
        if p.outcome.served[0, w.company_names.index(name)].sum() > 0:
            assert inc["probability"] == pytest.approx(1.0 - np.exp(-inc["expected_rate"]), abs=1e-9)
        else:
            assert inc["probability"] == 0.0


# --- who sees what ----------------------------------------------------------------------------


def test_a_team_sees_the_market_every_rivals_public_page_and_only_its_own_books() -> None:
    w, played = _team_game()
    full = report.round_report(w, played[-1])
    view = report.view_for(full, TEAM)
    assert view["market"] == full["market"]
    assert view["companies"][TEAM] == full["companies"][TEAM]
    for name in w.company_names:
        if name != TEAM:
            assert view["companies"][name] == {"public": full["companies"][name]["public"]}
    rival = next(n for n in w.company_names if n != TEAM)
    assert report.dumps(full["companies"][rival]["private"]) not in report.dumps(view)


def test_a_spectator_view_shows_no_companys_books() -> None:
    w, played = _team_game()
    view = report.view_for(report.round_report(w, played[-1]), None)
    assert all(set(page) == {"public"} for page in view["companies"].values())


# --- carrying on ------------------------------------------------------------------------------


@pytest.mark.parametrize("decision_kind", ["full", "sparse"])
def test_a_team_that_decides_nothing_carries_on_with_its_last_decision(decision_kind: str) -> None:
    """Round 2 without a submission equals carried_on(round 1): recurring choices stay, one-offs stop."""
    sc, w = scenario("frontier-race"), world("frontier-race")
    c = w.company_names.index(TEAM)
    full = simple_decision(w, c).model_copy(update={
        "compute": ComputeDecision(buy_gpus={"H100": 500.0}, rent_gpus={"A100": 200.0}, serving_share=0.65),
        "training": TrainingDecision(start=RunPlan(params_b=150, tokens_t=10)),
    })
    sparse = Decision(products=ProductDecision(prices={w.segment_ids[0]: 2.5}), compute=ComputeDecision(buy_gpus={"H100": 100.0}))
    submitted = full if decision_kind == "full" else sparse
    played = replay(GameRecord(sc, SEED, seats_for(sc, {TEAM}), (RoundInput(decisions={TEAM: submitted}), RoundInput())), w)
    expected, actual = carried_on(played[0].decisions), played[1].decisions
    for f in dataclasses.fields(actual):
        if f.name in RUN_SIZES and not expected.start_run[0, c]:
            continue  # the size of a run that does not start means nothing
        if f.name == "staff_target" and submitted.talent.researchers is None:
            # a decision that never named a headcount keeps the people the team has (leavers included)
            assert np.array_equal(actual.staff_target[:, c], played[1].before.staff[:, c])
            continue
        assert np.array_equal(getattr(actual, f.name)[:, c], getattr(expected, f.name)[:, c]), f.name
    assert actual.buy[0, c].sum() == 0 and not actual.start_run[0, c], "one-off choices stop"


def test_buyers_lost_to_a_new_safety_minimum_show_as_barred_and_the_drivers_still_add_up(exact_figures: None) -> None:
    """Injecting a regulation event raises every segment's safety minimum: companies below it lose their installed buyers."""
    sc, w = scenario("frontier-race"), world("frontier-race")
    e = next(i for i, ev in enumerate(sc.events) if ev.kind == "regulation")
    played = replay(GameRecord(sc, SEED, seats_for(sc), (RoundInput(), RoundInput(injected_events=(e,)))), w)
    pages = report.round_report(w, played[1])["companies"]
    drivers = [d for name in w.company_names for d in pages[name]["private"]["drivers"]]
    assert any(d["barred_by_safety_minimum"] < 0 for d in drivers), "the regulation barred nobody: the test is not testing"
    for d in drivers:
        parts = sum(d["by_attribute"].values()) + d["installed_base"] + d["capacity"] + d["barred_by_safety_minimum"]
        assert parts == pytest.approx(d["change"], abs=1e-6), d["segment"]
