"""The demo game page: a persona-played game of each scenario, readable as a team would read it."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from app.engine.game import autoplay, replay
from app.engine.report import round_report
from app.engine.world import World
from app.scenario import Scenario
from app.services.demo import DEMO_SEED


def test_every_scenario_links_to_a_demo_game_with_a_scoreboard_and_statements(client: TestClient, shipped: list[Scenario]) -> None:
    for scenario in shipped:
        assert f"/scenarios/{scenario.id}/demo" in client.get(f"/scenarios/{scenario.id}").text
        page = client.get(f"/scenarios/{scenario.id}/demo")
        assert page.status_code == 200
        body = html.unescape(page.text)
        assert f"Scoreboard after round {scenario.rounds}" in body
        for company in scenario.companies:
            assert company.name in body
        for words in ("Income statement", "Balance sheet", "What moved", "Chance of a public safety incident"):
            assert words in body


def test_the_demo_shows_the_chosen_company_and_quarter_with_the_engines_own_numbers(client: TestClient, shipped: list[Scenario]) -> None:
    scenario = shipped[0]
    company = scenario.companies[-1].name
    page = html.unescape(client.get(f"/scenarios/{scenario.id}/demo", params={"round": 3, "company": company}).text)
    assert f"{company} in round 3" in page
    world = World(scenario)
    report = round_report(world, replay(autoplay(scenario, DEMO_SEED), world)[2])
    revenue = report["companies"][company]["private"]["kpis"]["revenue"]
    assert f"${revenue:,.2f}M" in page
    for line in report["companies"][company]["private"]["summary"]:
        assert line in page


def test_a_product_company_is_shown_with_the_model_it_builds_on(client: TestClient, shipped: list[Scenario]) -> None:
    scenario = next(s for s in shipped if any(c.kind == "product" for c in s.companies))
    product = next(c for c in scenario.companies if c.kind == "product")
    page = html.unescape(client.get(f"/scenarios/{scenario.id}/demo", params={"company": product.name}).text)
    assert f"{product.name} builds on" in page


def test_an_unknown_company_or_round_falls_back_to_a_real_one(client: TestClient, shipped: list[Scenario]) -> None:
    scenario = shipped[0]
    page = html.unescape(client.get(f"/scenarios/{scenario.id}/demo", params={"round": 99, "company": "Nobody"}).text)
    assert f"{scenario.companies[0].name} in round {scenario.rounds}" in page
    assert client.get(f"/scenarios/{scenario.id}/demo", params={"round": "abc"}).status_code == 422
    assert client.get("/scenarios/no-such-thing/demo").status_code == 404


def test_the_demo_shows_the_companys_scorecard_as_metrics_weights_and_the_formula(client: TestClient, shipped: list[Scenario]) -> None:
    scenario = next(s for s in shipped if s.id == "product-builders")
    company = scenario.companies[1].name
    page = html.unescape(client.get(f"/scenarios/{scenario.id}/demo", params={"round": 4, "company": company}).text)
    world = World(scenario)
    card = round_report(world, replay(autoplay(scenario, DEMO_SEED), world)[3])["companies"][company]["private"]["scorecard"]
    assert f"{company}'s scorecard: {card['score']:.1f} of 100" in page
    assert "Score = 100 × Σ weight × scaled ÷ Σ weight; scaled = clip((raw − low) ÷ (high − low), 0, 1)" in page
    for label, metric in (("Profit", "profit"), ("Market share", "share"), ("Solvency", "solvency")):
        row = page[page.index(f'<th scope="row">{label}</th>'):].split("</tr>")[0]
        for shown in (f"{card['metrics'][metric]:.3f}", f"{card['scaled'][metric]:.2f}", f"{card['weights'][metric]:g}",
                      f"{card['ranges'][metric]['low']:g}", f"{card['ranges'][metric]['high']:g}"):
            assert f">{shown}<" in row, (label, shown, row)
    assert "Market share counts revenue" in page
