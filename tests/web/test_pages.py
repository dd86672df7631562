"""The pages through FastAPI's test client."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from app.scenario import Scenario


def text_of(page: str) -> str:
    """Page HTML with entities decoded, so names with & or quotes compare plainly."""
    return html.unescape(page)


def test_home_lists_every_shipped_scenario_by_name_with_a_link(client: TestClient, shipped: list[Scenario]) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for scenario in shipped:
        assert scenario.name in text_of(page.text)
        assert f'href="/scenarios/{scenario.id}"' in page.text


def test_a_scenario_page_shows_its_objectives_and_discussion_questions(
    client: TestClient, shipped: list[Scenario]
) -> None:
    for scenario in shipped:
        page = client.get(f"/scenarios/{scenario.id}")
        assert page.status_code == 200
        assert "Learning objectives" in page.text
        assert "Discussion questions" in page.text
        body = text_of(page.text)
        for line in [*scenario.teaching_note.objectives, *scenario.teaching_note.discussion_questions]:
            assert line.split("`")[0] in body


def test_a_scenario_page_tabulates_companies_and_segments(client: TestClient, shipped: list[Scenario]) -> None:
    scenario = shipped[0]
    body = text_of(client.get(f"/scenarios/{scenario.id}").text)
    assert "<caption" in body and 'scope="col"' in body and 'scope="row"' in body
    for company in scenario.companies:
        assert company.name in body
        assert f"{company.cash_musd:,.0f}" in body
    for segment in scenario.market.segments:
        assert segment.name in body


def test_an_unknown_scenario_gives_a_404_page_that_says_so(client: TestClient, shipped: list[Scenario]) -> None:
    page = client.get("/scenarios/no-such-scenario")
    assert page.status_code == 404
    assert "There is no scenario called" in page.text and "no-such-scenario" in page.text
    assert f'href="/scenarios/{shipped[0].id}"' in page.text


def test_an_unknown_address_gives_a_404_page(client: TestClient) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "Page not found" in page.text


def test_healthz_reports_ok_after_querying_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_an_htmx_request_gets_only_the_content_block(client: TestClient, shipped: list[Scenario]) -> None:
    full = client.get(f"/scenarios/{shipped[0].id}")
    partial = client.get(f"/scenarios/{shipped[0].id}", headers={"HX-Request": "true"})
    assert "<html" in full.text and "<html" not in partial.text
    assert "Learning objectives" in partial.text
    for response in (partial, full):
        assert "HX-Request" in [v.strip() for v in response.headers["Vary"].split(",")]


def test_pages_are_accessible_in_structure(client: TestClient) -> None:
    page = client.get("/").text
    assert '<html lang="en">' in page
    assert 'class="skip-link" href="#main"' in page
    assert "<header" in page and "<nav" in page and '<main id="main"' in page


def test_htmx_and_the_stylesheet_are_served_locally(client: TestClient) -> None:
    page = client.get("/").text
    assert 'src="/static/vendor/htmx/htmx.min.js"' in page and "https://" not in page
    assert client.get("/static/vendor/htmx/htmx.min.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200
