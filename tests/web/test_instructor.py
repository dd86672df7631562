"""Instructor pages: the games list, creating a game, the console (join code, QR, seats, rounds), permissions."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.db import migrate
from app.models import Game, RoundResult, Seat
from app.scenario import find_scenario
from app.services import drafts, games, rounds
from app.services.scenarios import load_shipped_scenarios
from app.settings import Settings
from app.web.main import create_app

from .axe import serious_violations
from .signed_in import (
    PASSWORD,
    FormFields,
    create_game,
    csrf_of,
    csrf_token_of,
    new_game_form,
    post_form,
    sign_up,
    text_of,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def game_row(client: TestClient, game_id: int) -> Game:
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        game = s.get(Game, game_id)
        assert game is not None
        return game


def confirm_and_post(client: TestClient, game_id: int, action: str) -> tuple[str, TestClient]:
    """Open the confirmation page of an action; returns its expected_round field and the client."""
    page = client.get(f"/games/{game_id}/{action}").text
    return FormFields.of(page)["expected_round"], client


def act(client: TestClient, game_id: int, action: str, expected_round: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get(f"/games/{game_id}").text)
    return client.post(f"/games/{game_id}/{action}", data={"expected_round": expected_round, "csrf_token": token})


@pytest.fixture
def signed_in(client: TestClient) -> TestClient:
    sign_up(client)
    return client


# --- permissions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/games", "/games/new", "/games/new?scenario=mixed-ecosystem", "/games/1", "/games/1/advance",
                                  "/games/1/rewind", "/games/1/join-screen"])
def test_signed_out_visitors_to_instructor_pages_are_sent_to_sign_in_and_back(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=" + path.replace("?", "%3F").replace("=", "%3D")


def test_a_signed_out_post_to_an_instructor_page_changes_nothing_and_asks_to_sign_in(signed_in: TestClient) -> None:
    game_id = create_game(signed_in)
    post_form(signed_in, "/signout", {}, from_page="/games")
    token = csrf_token_of(signed_in)  # a page opened after signing out (the old token is void)
    response = signed_in.post(f"/games/{game_id}/advance", data={"expected_round": "0", "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/signin"
    assert game_row(signed_in, game_id).current_round == 0


def test_an_htmx_request_without_a_session_is_redirected_by_htmx(client: TestClient) -> None:
    response = client.get("/games/new/scenario", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.headers["HX-Redirect"] == "/signin?next=/games/new/scenario"


def test_an_instructor_sees_only_their_own_games_and_anothers_game_answers_404(client: TestClient) -> None:
    sign_up(client, email="ada@example.edu", name="Ada")
    adas = create_game(client, name="Ada's class")
    other = TestClient(client.app)
    sign_up(other, email="grace@example.edu", name="Grace")
    graces = create_game(other, name="Grace's class")
    listed = text_of(other.get("/games").text)
    assert "Grace's class" in listed and "Ada's class" not in listed
    for path in (f"/games/{adas}", f"/games/{adas}/advance", f"/games/{adas}/rewind", f"/games/{adas}/join-screen", "/games/999999"):
        page = other.get(path)
        assert page.status_code == 404 and "Page not found" in page.text and "Ada's class" not in text_of(page.text)
    assert act(other, graces, "advance", "0").status_code == 200
    stranger_advance = other.post(f"/games/{adas}/advance", data={"expected_round": "0", "csrf_token": csrf_of(other.get("/games").text)})
    assert stranger_advance.status_code == 404 and game_row(client, adas).current_round == 0
    stranger_rewind = other.post(f"/games/{adas}/rewind", data={"expected_round": "0", "csrf_token": csrf_of(other.get("/games").text)})
    assert stranger_rewind.status_code == 404


# --- creating a game -------------------------------------------------------------------------------


def test_the_new_game_form_is_prefilled_from_the_scenario(signed_in: TestClient) -> None:
    scenario = find_scenario("mixed-ecosystem")
    fields = new_game_form(signed_in, "mixed-ecosystem")
    assert fields["scenario"] == "mixed-ecosystem" and fields["rounds"] == str(scenario.rounds)
    assert [fields[f"seat_{i}"] for i in range(len(scenario.companies))] == ["team"] * len(scenario.companies)
    assert {k.removeprefix("weight_"): float(v) for k, v in fields.items() if k.startswith("weight_")} == scenario.scoring.weights()
    assert fields["seed"].isdigit() and fields["advance_mode"] == "manual" and fields["absent_rule"] == "carry_on"
    page = text_of(signed_in.get("/games/new", params={"scenario": "mixed-ecosystem"}).text)
    for company in scenario.companies:
        assert re.search(rf'<label for="f-seat_\d">{re.escape(company.name)}</label>', page)


def test_two_visits_to_the_form_offer_different_seeds(signed_in: TestClient) -> None:
    assert len({new_game_form(signed_in)["seed"] for _ in range(4)}) > 1


def test_choosing_another_scenario_swaps_in_just_its_companies_and_scorecard(signed_in: TestClient) -> None:
    form = text_of(signed_in.get("/games/new").text)
    assert 'hx-get="/games/new/scenario" hx-target="#scenario-fields" hx-swap="innerHTML"' in form
    fragment = signed_in.get("/games/new/scenario", params={"scenario": "product-builders"}, headers={"HX-Request": "true"})
    body = text_of(fragment.text)
    assert "<html" not in body and 'name="name"' not in body and "HX-Request" in fragment.headers["Vary"]
    assert "Companies in Product builders" in body and "Quillworks" in body and "Aurora AI" not in body
    assert 'name="weight_profit"' in body and f'value="{find_scenario("product-builders").rounds}"' in body


def test_the_join_screen_shows_the_code_the_join_page_and_the_qr_for_the_projector(signed_in: TestClient) -> None:
    game_id = create_game(signed_in, name="Strategy 501")
    code = game_row(signed_in, game_id).join_code
    assert f'href="/games/{game_id}/join-screen"' in signed_in.get(f"/games/{game_id}").text
    page = text_of(signed_in.get(f"/games/{game_id}/join-screen").text)
    assert "<h1>Join Strategy 501</h1>" in page and f"{code}</p>" in page and "testserver/join</p>" in page
    assert f"<title>QR code of the join link: http://testserver/join/{code}</title>" in page


def test_an_instructor_creates_a_game_and_its_console_shows_code_link_qr_and_seats(signed_in: TestClient) -> None:
    game_id = create_game(signed_in, name="Strategy 501", teams=(0, 4))
    game = game_row(signed_in, game_id)
    page = text_of(signed_in.get(f"/games/{game_id}").text)
    assert "<h1>Strategy 501</h1>" in page and f'>{game.join_code}</p>' in page
    link = f"http://testserver/join/{game.join_code}"
    assert f'<a href="{link}">{link}</a>' in page
    assert re.search(r'<svg role="img" viewBox="0 0 \d+ \d+" class="qr__code"><title>QR code of the join link: ' + re.escape(link), page)
    assert "Rounds played</dt><dd>0 of 12" in page
    assert re.search(r"<th scope=\"row\">Aurora AI</th><td>A team of students</td>", page)
    assert re.search(r"<th scope=\"row\">Beacon Labs</th><td>Computer: price disruptor</td>", page)
    assert "Scoreboard" not in page and "Rewind round" not in page


def test_the_created_game_keeps_every_choice_of_the_form(signed_in: TestClient) -> None:
    game_id = create_game(signed_in, teams=(1, 2), rounds="6", practice_round="on", advance_mode="deadline", round_minutes="25",
                          absent_rule="safety_first", team_size_max="3", weight_brand="2.5", weight_solvency="0", seed="424242")
    game = game_row(signed_in, game_id)
    assert (game.rounds, game.practice_round, game.advance_mode, game.round_minutes) == (6, True, "deadline", 25)
    assert (game.absent_rule, game.team_size_max, game.seed) == ("safety_first", 3, 424242)
    assert '"brand":2.5' in game.scoring_json and '"solvency":0.0' in game.scoring_json
    with Session(signed_in.app.state.engine) as s:  # type: ignore[attr-defined]
        seats = s.exec(select(Seat).where(Seat.game_id == game_id).order_by(Seat.company_index)).all()  # type: ignore[arg-type]
    assert [seat.persona for seat in seats] == ["price_disruptor", None, None, "price_disruptor", "price_disruptor", "price_disruptor"]


def test_setup_problems_are_shown_at_their_fields_in_form_order_and_what_was_typed_is_kept(signed_in: TestClient) -> None:
    fields = new_game_form(signed_in)
    typed = {**fields, "name": "  ", "rounds": "twelve", "weight_brand": "-1", "seed": "lucky", "advance_mode": "deadline",
             "seat_3": "chess_master", "team_size_max": "99"}
    page = signed_in.post("/games/new", data=typed)
    assert page.status_code == 422
    body = text_of(page.text)
    expected = [("name", "Give the game a name."), ("seat_3", "Unknown persona 'chess_master'"),
                ("rounds", "Enter a whole number of rounds, from 1 to 40."), ("weight_brand", "The weight of brand cannot be negative."),
                ("round_minutes", "A deadline game needs the minutes each round lasts"), ("team_size_max", "A team has between 1 and 20 students."),
                ("seed", "Enter a whole number from 0 to 9,007,199,254,740,991")]
    for field, message in expected:
        assert re.search(rf'id="f-{field}-error">{re.escape(message)}', body), field
        assert re.search(rf'id="f-{field}"[^>]*aria-describedby="[^"]*f-{field}-error"', body), field
    summary = re.findall(r'<li><a href="#f-(\w+)">', body)
    assert summary == [field for field, _ in expected]
    kept = FormFields.of(page.text)
    assert (kept["rounds"], kept["weight_brand"], kept["seed"], kept["advance_mode"], kept["seat_0"]) == ("twelve", "-1", "lucky", "deadline", "team")
    with Session(signed_in.app.state.engine) as s:  # type: ignore[attr-defined]
        assert s.exec(select(Game)).all() == []


def test_all_weights_zero_is_reported_at_the_scorecard(signed_in: TestClient) -> None:
    fields = new_game_form(signed_in)
    zeros = {k: "0" for k in fields if k.startswith("weight_")}
    body = text_of(signed_in.post("/games/new", data={**fields, **zeros, "name": "x"}).text)
    assert 'id="weights-error">At least one scorecard weight must be above zero.' in body
    assert '<fieldset class="weights" id="f-weights" aria-describedby="weights-hint weights-error">' in body


def test_an_unknown_scenario_is_reported_and_the_form_falls_back_to_a_shipped_one(signed_in: TestClient) -> None:
    body = text_of(signed_in.post("/games/new", data={**new_game_form(signed_in), "scenario": "atlantis", "name": "x"}).text)
    assert 'id="f-scenario-error">Choose one of the shipped scenarios.' in body


# --- rounds ----------------------------------------------------------------------------------------


def test_the_advance_confirmation_says_who_has_not_submitted_and_what_happens_to_them(signed_in: TestClient) -> None:
    game_id = create_game(signed_in, teams=(0, 4))
    page = text_of(signed_in.get(f"/games/{game_id}/advance").text)
    assert "Resolve round 1 now?" in page and "Not submitted</dt><dd>Aurora AI, Echo" in page
    assert '<option value="carry_on" selected>Carry on with their last decisions</option>' in page
    assert '<label for="f-absent_rule">Teams that have not submitted</label>' in page and 'name="expected_round" value="0"' in page
    assert ">Cancel</a>" in page


def test_at_the_advance_the_instructor_chooses_what_happens_to_teams_that_did_not_submit(signed_in: TestClient) -> None:
    game_id = create_game(signed_in, teams=(0, 4))
    confirm = signed_in.get(f"/games/{game_id}/advance").text
    resolved = signed_in.post(f"/games/{game_id}/advance", data={"expected_round": "0", "absent_rule": "incumbent",
                                                                 "csrf_token": csrf_of(confirm)})
    assert resolved.status_code == 200 and "Round 1 is resolved." in text_of(resolved.text)
    with Session(signed_in.app.state.engine) as s:  # type: ignore[attr-defined]
        game = s.get(Game, game_id)
        row = s.exec(select(RoundResult).where(RoundResult.game_id == game_id)).one()
        assert game is not None and game.absent_rule == "incumbent"  # kept for the next rounds
        assert json.loads(row.inputs)["stand_ins"] == {"Aurora AI": "incumbent", "Echo": "incumbent"}
    bad = signed_in.get(f"/games/{game_id}/advance").text
    refused = signed_in.post(f"/games/{game_id}/advance", data={"expected_round": "1", "absent_rule": "nobody", "csrf_token": csrf_of(bad)})
    assert refused.status_code == 409 and "either carry on or are played by a persona" in text_of(refused.text)
    with Session(signed_in.app.state.engine) as s:  # type: ignore[attr-defined]
        game = s.get(Game, game_id)
        assert game is not None and game.current_round == 1 and game.absent_rule == "incumbent"  # nothing changed


def test_advancing_resolves_the_round_and_the_console_shows_the_scoreboard(signed_in: TestClient) -> None:
    game_id = create_game(signed_in)
    expected, _ = confirm_and_post(signed_in, game_id, "advance")
    page = act(signed_in, game_id, "advance", expected)
    assert page.url.path == f"/games/{game_id}" and page.url.params["resolved"] == "1"
    body = text_of(page.text)
    assert "Round 1 is resolved." in body and "Scoreboard after round 1" in body and "Rounds played</dt><dd>1 of 12" in body
    with Session(signed_in.app.state.engine) as s:  # type: ignore[attr-defined]
        report = s.exec(select(RoundResult.report).where(RoundResult.game_id == game_id)).one()
    first = re.search(r'"scoreboard":\[\{"company":"([^"]+)","score":([\d.]+)', report)
    assert first is not None
    assert re.search(rf'<td class="num">1</td><th scope="row">{re.escape(first.group(1))}</th>.*?<td class="num">{float(first.group(2)):.1f}</td>', body, re.S)
    leader = first.group(1)
    assert f"{leader}'s scorecard: metrics, weights and formula" in body
    assert f"{leader}'s scorecard: {float(first.group(2)):.1f} of 100" in body and "Score = 100 × Σ weight × scaled" in body


def test_a_second_click_on_advance_is_told_the_round_was_already_resolved(signed_in: TestClient) -> None:
    game_id = create_game(signed_in)
    expected, _ = confirm_and_post(signed_in, game_id, "advance")
    assert act(signed_in, game_id, "advance", expected).status_code == 200
    again = act(signed_in, game_id, "advance", expected)
    assert again.status_code == 409 and "Round 1 has already been resolved." in again.text
    assert game_row(signed_in, game_id).current_round == 1


def test_rewinding_undoes_the_last_round_once_however_often_it_is_clicked(signed_in: TestClient) -> None:
    game_id = create_game(signed_in)
    for rnd in ("0", "1"):
        act(signed_in, game_id, "advance", rnd)
    page = text_of(signed_in.get(f"/games/{game_id}/rewind").text)
    assert "Rewind round 2?" in page and 'name="expected_round" value="2"' in page
    done = act(signed_in, game_id, "rewind", "2")
    assert "Round 2 was rewound: its decisions are drafts again." in text_of(done.text)
    again = act(signed_in, game_id, "rewind", "2")
    assert again.status_code == 409 and "Round 2 has already been rewound." in again.text
    assert game_row(signed_in, game_id).current_round == 1


def test_the_last_round_cannot_be_advanced_past(signed_in: TestClient) -> None:
    game_id = create_game(signed_in, rounds="1")
    act(signed_in, game_id, "advance", "0")
    page = text_of(signed_in.get(f"/games/{game_id}").text)
    assert "The game is over after 1 of 1 rounds" in page and "Advance round" not in page
    refused = signed_in.get(f"/games/{game_id}/advance")
    assert refused.status_code == 409 and "Every round of this game has been played." in refused.text


def test_the_games_list_links_each_game_with_its_code_and_progress(signed_in: TestClient) -> None:
    first = create_game(signed_in, name="Monday section")
    second = create_game(signed_in, name="Tuesday section")
    act(signed_in, second, "advance", "0")
    page = text_of(signed_in.get("/games").text)
    assert page.index("Tuesday section") < page.index("Monday section")
    assert f'<a href="/games/{first}">Monday section</a>' in page and "1 of 12" in page
    assert game_row(signed_in, first).join_code in page


# --- on PostgreSQL as on SQLite --------------------------------------------------------------------


@pytest.fixture
def any_client(empty_database_url: str) -> Iterator[TestClient]:
    """A client of the app over a migrated database of each kind (PostgreSQL where a test server is given)."""
    migrate(empty_database_url)
    app = create_app(Settings(database_url=empty_database_url))
    with Session(app.state.engine) as s:
        load_shipped_scenarios(s)
    with TestClient(app) as test_client:
        yield test_client


def test_the_instructor_flow_works_on_every_supported_database(any_client: TestClient) -> None:
    sign_up(any_client)
    post_form(any_client, "/signout", {}, from_page="/games")
    assert post_form(any_client, "/signin", {"email": "ada@example.edu", "password": "wrong-password"}).status_code == 422
    assert post_form(any_client, "/signin", {"email": "ada@example.edu", "password": PASSWORD}).url.path == "/games"
    game_id = create_game(any_client)
    assert "Scoreboard after round 1" in act(any_client, game_id, "advance", "0").text
    assert act(any_client, game_id, "advance", "0").status_code == 409
    assert act(any_client, game_id, "rewind", "1").status_code == 200
    assert act(any_client, game_id, "rewind", "1").status_code == 409
    assert game_row(any_client, game_id).current_round == 0


# --- accessibility ---------------------------------------------------------------------------------


class Controls(HTMLParser):
    """Form controls that people operate, and the ids that a <label for> names."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[tuple[str, str]] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in {"input", "select", "textarea"} and a.get("type") not in {"hidden", "submit"}:
            self.controls.append((a.get("name", "?"), a.get("id", "")))
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"])


@pytest.mark.parametrize("path", ["/signup", "/signin", "/games/new", "/games/new?scenario=product-builders"])
def test_every_control_on_instructor_forms_has_an_explicit_label(client: TestClient, path: str) -> None:
    if path.startswith("/games"):
        sign_up(client)
    parser = Controls()
    parser.feed(client.get(path).text)
    assert parser.controls, "the page has controls"
    unlabelled = [name for name, control_id in parser.controls if not control_id or control_id not in parser.labelled]
    assert unlabelled == []


# --- in a real browser -----------------------------------------------------------------------------



@pytest.mark.browser
def test_an_instructor_signs_up_creates_a_game_shows_the_join_code_and_advances_a_round(
    browser: Browser, live_server: str, screenshot_dir: Path
) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server + "/")
    page.get_by_role("link", name="Create account").click()
    page.get_by_label("Email").fill("lovelace@example.edu")
    page.get_by_label("Your name").fill("Prof. Lovelace")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Create account").click()
    assert page.get_by_text("Use at least 12 characters (you typed 5).", exact=True).is_visible()
    assert page.get_by_label("Email").input_value() == "lovelace@example.edu"
    page.screenshot(path=screenshot_dir / "signup-problem-desktop.png", full_page=True)
    assert serious_violations(page) == []
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.get_by_text("Your account is ready").wait_for()  # a sign-up never signs in by itself
    assert page.get_by_label("Email").input_value() == "lovelace@example.edu"
    assert serious_violations(page) == []
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url("**/games")
    page.screenshot(path=screenshot_dir / "games-empty-desktop.png", full_page=True)
    assert serious_violations(page) == []

    page.get_by_role("link", name="Set up your first game").click()
    page.get_by_label("Game name").fill("Strategy 501")
    page.get_by_label("Scenario").select_option(label="Mixed ecosystem")
    page.get_by_text("Companies in Mixed ecosystem").wait_for()
    page.get_by_label("Scenario").select_option(label="Frontier race")
    page.get_by_text("Companies in Frontier race").wait_for()
    for company in ("Beacon Labs", "Cinder", "Delta Systems", "Forge"):
        page.get_by_label(company, exact=True).select_option(label="Computer: price disruptor")
    page.screenshot(path=screenshot_dir / "new-game-desktop.png", full_page=True)
    assert serious_violations(page) == []
    status = page.evaluate("""() => new Promise(done => {
      document.body.addEventListener("htmx:afterRequest", e => done(e.detail.xhr.status), {once: true});
      htmx.ajax("POST", "/games/new", {source: document.body, target: "#main", swap: "none", values: {name: ""}});
    })""")
    assert status == 422, "an htmx POST carries the CSRF header from <body> and reaches the route"
    page.get_by_role("button", name="Create game").click()
    page.wait_for_url(re.compile(r".*/games/\d+$"))

    code = page.locator(".join-code").inner_text().split()[-1]
    assert re.fullmatch(r"[A-Z2-9]{6}", code)
    assert page.get_by_role("link", name=f"{live_server}/join/{code}").is_visible()
    qr = page.get_by_role("img", name=re.compile("QR code of the join link"))
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 250, "the QR code is large enough to project"
    assert page.get_by_role("row", name=re.compile("Aurora AI A team of students")).is_visible()
    page.screenshot(path=screenshot_dir / "console-desktop.png", full_page=True)
    assert serious_violations(page) == []

    page.get_by_role("link", name="Advance round 1…").click()
    assert page.get_by_role("heading", name="Resolve round 1 now?").is_visible()
    page.screenshot(path=screenshot_dir / "advance-confirm-desktop.png", full_page=True)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Resolve round 1").press("Enter")
    page.get_by_role("heading", name="Scoreboard after round 1").wait_for()
    assert page.get_by_role("status").inner_text() == "Round 1 is resolved."
    assert page.get_by_role("table", name="Balanced scorecard (0–100), best first").locator("tbody tr").count() == 6
    page.screenshot(path=screenshot_dir / "console-after-round-1-desktop.png", full_page=True)
    assert serious_violations(page) == []

    page.get_by_role("link", name="Show full screen for the class").click()
    projector = browser.new_context(viewport={"width": 1920, "height": 1080}, storage_state=page.context.storage_state()).new_page()
    projector.goto(page.url)
    qr_box = projector.get_by_role("img", name=re.compile("QR code of the join link")).bounding_box()
    assert qr_box is not None and qr_box["width"] >= 560 and qr_box["y"] + qr_box["height"] <= 1080, "the QR code fills a projected screen"
    projector.screenshot(path=screenshot_dir / "join-screen-projector.png")
    assert serious_violations(projector) == []
    projector.context.close()
    page.go_back()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, storage_state=page.context.storage_state()).new_page()
    phone.goto(page.url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=screenshot_dir / "console-phone.png", full_page=True)
    phone.context.close()
    assert errors == []
    page.close()


@pytest.mark.browser
def test_an_instructor_signs_in_and_reaches_a_new_game_with_the_keyboard_alone(
    browser: Browser, live_server: str, screenshot_dir: Path
) -> None:
    setup = browser.new_context()
    visitor = setup.new_page()
    visitor.goto(live_server + "/signup")
    visitor.get_by_label("Email").fill("hopper@example.edu")
    visitor.get_by_label("Your name").fill("Grace Hopper")
    visitor.get_by_label("Password").fill(PASSWORD)
    visitor.get_by_role("button", name="Create account").click()
    visitor.get_by_text("Your account is ready").wait_for()
    setup.close()

    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(live_server + "/games/new")
    page.wait_for_url("**/signin?next=/games/new")
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / "signin-desktop.png", full_page=True)
    page.get_by_label("Email").focus()
    page.keyboard.type("hopper@example.edu")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/games/new")
    page.get_by_label("Game name").focus()
    page.keyboard.type("Keyboard section")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-scenario"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-seat_0", "after the scenario come the companies"
    page.get_by_role("button", name="Create game").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/games/\d+$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Keyboard section"
    page.close()


def test_the_console_offers_results_and_archive_downloads_once_a_round_is_played(client: TestClient) -> None:
    from sqlmodel import Session

    from app.services import exports as exported

    sign_up(client)
    gid = create_game(client)
    assert "Exports" not in client.get(f"/games/{gid}").text
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
    page = client.get(f"/games/{gid}").text
    for kind in ("results.csv", "results.xlsx", "archive.json"):
        assert f"/games/{gid}/export/{kind}" in page
    csv = client.get(f"/games/{gid}/export/results.csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["content-disposition"] and csv.text.startswith("round,company")
    book = exported.read_xlsx(client.get(f"/games/{gid}/export/results.xlsx").content)
    assert list(book) == ["scorecard", "financials", "decisions"]
    assert client.get(f"/games/{gid}/export/archive.json").json()["seed"]
    assert client.get(f"/games/{gid}/export/passwords.txt").status_code == 404
    other = TestClient(client.app)
    sign_up(other, email="grace@example.edu", name="Grace Hopper")
    assert other.get(f"/games/{gid}/export/results.csv").status_code == 404


def test_the_console_shows_each_team_live_and_runs_the_game(client: TestClient) -> None:
    from sqlmodel import Session

    from app.engine.decisions import Decision

    sign_up(client)
    gid = create_game(client)
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        game = games.get_game(s, gid)
        seat = next(x for x in games.seats_of(s, game) if x.persona is None)
        company = seat.company_name
        drafts.save_draft(s, game, seat, Decision(), 0, "Ann")
    teams = text_of(client.get(f"/games/{gid}/teams", headers={"HX-Request": "true"}).text)
    assert "Teams, live" in teams and company in teams and "draft v1 by Ann" in teams
    console = client.get(f"/games/{gid}").text
    events = re.findall(r'<option value="(\d+)">([^<]+)</option>', console)
    assert events, "the scenario's event catalogue is offered"
    index, title = events[0]
    queued = post_form(client, f"/games/{gid}/control", {"action": "inject", "event": index}, from_page=f"/games/{gid}")
    assert queued.status_code == 200 and f"Queued for round 1: {html.unescape(title)}." in text_of(queued.text)
    paused = post_form(client, f"/games/{gid}/control", {"action": "pause"}, from_page=f"/games/{gid}")
    assert "The game is paused" in text_of(paused.text) and "Resume the game" in paused.text
    unsure = post_form(client, f"/games/{gid}/control", {"action": "end"}, from_page=f"/games/{gid}")
    assert unsure.status_code == 409 and "Tick the box" in text_of(unsure.text)
    ended = post_form(client, f"/games/{gid}/control", {"action": "end", "sure": "yes"}, from_page=f"/games/{gid}")
    assert "The game has ended." in text_of(ended.text) and "Run the game" not in ended.text


def test_an_instructor_moves_and_removes_students_and_locks_the_teams(client: TestClient) -> None:
    from sqlmodel import Session

    from app.services import students as student_services

    sign_up(client)
    gid = create_game(client)
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        game = games.get_game(s, gid)
        teams = [x for x in games.seats_of(s, game) if x.persona is None]
        ann = student_services.join(s, game, teams[0].id, "Ann").student.id
        bo = student_services.join(s, game, teams[0].id, "Bo").student.id
        other = teams[1]
        other_id, other_name = other.id, other.company_name
    moved = post_form(client, f"/games/{gid}/students", {"action": "move", "student_id": str(ann), "seat_id": str(other_id)}, from_page=f"/games/{gid}")
    assert "Ann moved." in text_of(moved.text)
    removed = post_form(client, f"/games/{gid}/students", {"action": "remove", "student_id": str(bo)}, from_page=f"/games/{gid}")
    assert "Bo was removed from the game." in text_of(removed.text)
    locked = post_form(client, f"/games/{gid}/students", {"action": "lock"}, from_page=f"/games/{gid}")
    assert "Teams are locked" in text_of(locked.text)
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        game = games.get_game(s, gid)
        assert [(st.display_name, company) for st, company in student_services.roster(s, game)] == [("Ann", other_name)]
        assert "locked" in student_services.join_problems(s, game, other_id, "Cy")["seat_id"]


def test_an_instructor_opens_any_teams_pages_as_the_team_sees_them_read_only(client: TestClient) -> None:
    from sqlmodel import Session

    from app.engine.decisions import Decision

    sign_up(client)
    gid = create_game(client)
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
        game = games.get_game(s, gid)
        seat = next(x for x in games.seats_of(s, game) if x.persona is None)
        seat_id, company = seat.id, seat.company_name
        drafts.save_draft(s, game, seat, Decision.model_validate({"products": {"prices": {"consumer": 3.7}}}), 0, "Ann")
    base = f"/games/{gid}/teams/{seat_id}"
    console = client.get(f"/games/{gid}").text
    assert f'href="{base}"' in console

    dashboard = text_of(client.get(base).text)
    assert f"<h1>{company}</h1>" in dashboard and "Back to the console" in dashboard and "Your team has a draft (saved by Ann)." in dashboard
    assert f'href="{base}/decision"' in dashboard and f'href="{base}/results/1"' in dashboard and "PIN" not in dashboard
    assert "round-watch" not in dashboard  # a student-only poll

    draft = text_of(client.get(f"{base}/decision").text)
    assert "Draft version 1, saved by Ann" in draft and 'value="3.7"' in draft
    assert '<fieldset class="read-only" disabled>' in draft and "hx-post" not in draft
    assert "Save draft" not in draft and "Submit the saved draft" not in draft and "Pro-forma cash at quarter end" in draft

    results = text_of(client.get(f"{base}/results/1").text)
    assert f"{company} in round 1" in results and "Income statement" in results and "Back to the console" in results

    other = TestClient(client.app)
    sign_up(other, email="grace@example.edu", name="Grace Hopper")
    for path in (base, f"{base}/decision", f"{base}/results/1", f"/games/{gid}/teams/999999"):
        assert other.get(path).status_code == 404, path
    assert client.get(f"/games/{gid}/teams/999999").status_code == 404
    stranger = TestClient(client.app).get(base, follow_redirects=False)
    assert stranger.status_code == 303 and stranger.headers["location"].startswith("/signin")


def test_a_game_archive_imports_through_the_web_and_a_wrong_file_is_told_plainly(client: TestClient) -> None:
    from sqlmodel import Session


    sign_up(client)
    gid = create_game(client)
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
        rounds.advance(s, gid, 1)
    archive = client.get(f"/games/{gid}/export/archive.json").content
    page = client.get("/games").text
    token = csrf_of(page)
    done = client.post("/games/import", data={"csrf_token": token}, files={"archive": ("g.json", archive, "application/json")})
    assert done.status_code == 200 and "Imported: 2 round(s) replayed from the archive." in text_of(done.text)
    new_id = int(done.url.path.rsplit("/", 1)[-1])
    assert new_id != gid
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        assert rounds.report_of(s, games.get_game(s, new_id), 2) == rounds.report_of(s, games.get_game(s, gid), 2)
    bad = client.post("/games/import", data={"csrf_token": token}, files={"archive": ("notes.txt", b"hello", "text/plain")})
    assert bad.status_code == 422 and "not a Moatline game archive" in text_of(bad.text)
    empty = client.post("/games/import", data={"csrf_token": token})
    assert empty.status_code == 422 and "Choose a game archive" in text_of(empty.text)


def test_a_practice_round_is_played_read_then_wiped_by_the_instructor_and_students_are_told_each_step(client: TestClient) -> None:

    from .test_play import join

    sign_up(client)
    gid = create_game(client, practice_round="on")
    code = re.search(r"/join/([A-Z2-9]{6})", client.get(f"/games/{gid}").text)
    assert code
    ann = TestClient(client.app)
    page = join(ann, code.group(1), "Ann", "Echo")
    assert "Round 1 of 12 is open (a practice round)." in page and "Decide round 1 (practice)" in page
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)

    console = text_of(client.get(f"/games/{gid}").text)
    assert "The practice round is over" in console and "Finish practice and start the game" in console
    assert "Advance round 2" not in console
    told = text_of(ann.get("/play/round-watch", params={"seen": 0, "practising": 1}).text)
    assert "The practice round has been resolved" in told
    dashboard = text_of(ann.get("/play").text)
    assert "The practice round is over: read its results. Your instructor will start the game for real in a moment." in dashboard
    assert "/play/decide" not in dashboard and "Round 1 (practice) results" in dashboard
    assert "<h1>Nothing to decide yet</h1>" in text_of(ann.get("/play/decide").text)
    refused = ann.post("/play/decide", data={"version": "0", "products.prices.consumer": "3"},
                       headers={"X-CSRF-Token": csrf_token_of(ann)})
    assert refused.status_code == 409 and "The practice round is over" in text_of(refused.text)

    started = post_form(client, f"/games/{gid}/control", {"action": "finish_practice"}, from_page=f"/games/{gid}")
    assert "round 1 starts for real" in text_of(started.text) and "Round 1 is open" in text_of(started.text)
    told = text_of(ann.get("/play/round-watch", params={"seen": 1, "practising": 1}).text)
    assert "The practice is over and the game has started for real" in told
    dashboard = text_of(ann.get("/play").text)
    assert "Round 1 of 12 is open." in dashboard and "practice" not in dashboard.lower()
