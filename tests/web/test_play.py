"""Students through the web: join with a code, read the company, decide with feedback, submit, read results."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import clock
from app.engine.world import World
from app.scenario import find_scenario
from app.services import drafts, games, live, rounds, students
from app.settings import Settings
from app.web.main import create_app
from tests.classroom import TWO_TEAMS, a_game

from .signed_in import csrf_token_of


@pytest.fixture
def app_and_game(prepared_sqlite_url: str) -> Iterator[tuple[TestClient, int, str]]:
    app = create_app(Settings(database_url=prepared_sqlite_url))
    with Session(app.state.engine) as s:
        game = a_game(s, name="Strategy 501", seats=TWO_TEAMS, seed=3, team_size_max=2)
        gid, code = game.id or 0, game.join_code
    with TestClient(app) as client:
        yield client, gid, code


def csrf(page: str) -> dict[str, str]:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return {"csrf_token": found.group(1)} if found else {}


def join(client: TestClient, code: str, name: str, team: str) -> str:
    page = client.get(f"/join/{code}").text
    seat = re.search(r'id="seat-(\d+)" name="seat_id" value="\d+"[^>]*>\s*<label for="seat-\d+">' + re.escape(team), page)
    assert seat, page
    response = client.post(f"/join/{code}", data={"display_name": name, "seat_id": seat.group(1), **csrf(page)}, follow_redirects=True)
    assert response.status_code == 200
    return html.unescape(response.text)


def test_a_student_joins_with_the_code_and_sees_the_company_dashboard_with_a_pin(app_and_game: tuple[TestClient, int, str]) -> None:
    client, _, code = app_and_game
    page = join(client, code.lower(), "Ann", "Echo")
    assert "<h1>Echo</h1>" in page and "PIN" in page and "/rejoin/" in page
    assert "Market position" in page and "Cash" in page


def test_a_wrong_code_a_missing_name_and_a_full_team_are_told_where_they_were_typed(app_and_game: tuple[TestClient, int, str]) -> None:
    client, _, code = app_and_game
    assert "No game has the code 'NOPE42'" in html.unescape(client.get("/join", params={"code": "nope42"}).text)
    page = client.get(f"/join/{code}").text
    bad = html.unescape(client.post(f"/join/{code}", data={"display_name": " ", **csrf(page)}).text)
    assert "Enter the name your teammates know you by." in bad and "Choose your team." in bad
    join(client, code, "Ann", "Echo")
    other = TestClient(client.app)
    join(other, code, "Bo", "Echo")
    third = TestClient(client.app)
    page = third.get(f"/join/{code}").text
    seat = re.search(r'id="seat-(\d+)" name="seat_id" value="\d+"[^>]*disabled', page)
    assert seat, "a full team's choice is disabled"


def test_a_student_comes_back_on_another_device_with_name_and_pin(app_and_game: tuple[TestClient, int, str]) -> None:
    client, _, code = app_and_game
    page = join(client, code, "Ann", "Echo")
    pin = re.search(r"PIN <strong>(\d{6})</strong>", page).group(1)  # type: ignore[union-attr]
    phone = TestClient(client.app)
    form = phone.get(f"/join/{code}").text
    wrong = phone.post(f"/join/{code}/pin", data={"display_name": "Ann", "pin": "000000" if pin != "000000" else "111111", **csrf(form)})
    assert wrong.status_code == 422 and "do not match" in wrong.text
    back = phone.post(f"/join/{code}/pin", data={"display_name": "ann", "pin": pin, **csrf(form)}, follow_redirects=True)
    assert "<h1>Echo</h1>" in back.text


def test_the_decision_page_answers_as_the_student_types(app_and_game: tuple[TestClient, int, str]) -> None:
    client, _, code = app_and_game
    join(client, code, "Ann", "Echo")
    page = client.get("/play/decide").text
    assert "If you submit this" in page
    form = {"compute.buy_gpus.H100": "1000000", "finance.raise_equity_musd": "abc", **csrf(page)}
    typed = html.unescape(client.post("/play/decide/check", data=form, headers={"HX-Request": "true"}).text)
    assert 'id="err-finance.raise_equity_musd"' in typed and "Enter a number, not 'abc'." in typed
    form["finance.raise_equity_musd"] = "0"
    typed = html.unescape(client.post("/play/decide/check", data=form, headers={"HX-Request": "true"}).text)
    installed = World(find_scenario("frontier-race")).gpu_price_musd[1] * 1_000_000  # H100s with their servers
    assert re.search(rf"GPU purchases cost \${installed:,.1f}M; you have \$[\d,.]+M left\.", typed), installed
    run = {"training.start.enabled": "on", "training.start.params_b": "70", "training.start.tokens_t": "14", "compute.serving_share": "0.5", **csrf(page)}
    typed = html.unescape(client.post("/play/decide/check", data=run, headers={"HX-Request": "true"}).text)
    assert "Pre-training run" in typed and "finishing in round" in typed and "No problems found." in typed


def test_a_crawl_beyond_what_is_left_of_the_web_is_told_at_the_crawl_field(app_and_game: tuple[TestClient, int, str]) -> None:
    client, _, code = app_and_game
    join(client, code, "Ann", "Echo")
    page = client.get("/play/decide").text
    form = {"data.scrape_t_tokens": "1000", **csrf(page)}
    typed = html.unescape(client.post("/play/decide/check", data=form, headers={"HX-Request": "true"}).text)
    told = re.search(r'id="err-data\.scrape_t_tokens"[^>]*>([^<]*)<', typed)
    assert told and re.match(r"You cannot crawl 1,000\.0T tokens: the open web has [\d,.]+T tokens left", told.group(1))


def test_teammates_editing_at_once_get_a_clear_message_instead_of_a_silent_overwrite(app_and_game: tuple[TestClient, int, str]) -> None:
    client, _, code = app_and_game
    join(client, code, "Ann", "Echo")
    bo = TestClient(client.app)
    join(bo, code, "Bo", "Echo")
    page = client.get("/play/decide").text
    assert client.post("/play/decide", data={"version": "0", "products.prices.consumer": "3", **csrf(page)}).status_code == 200
    page_bo = bo.get("/play/decide").text
    assert 'name="version" value="1"' in page_bo
    assert bo.post("/play/decide", data={"version": "1", "products.prices.consumer": "2.5", **csrf(page_bo)}).status_code == 200
    stale = client.post("/play/decide", data={"version": "1", "products.prices.consumer": "9", **csrf(page)})
    assert stale.status_code == 409 and "Bo changed this decision" in html.unescape(stale.text)
    assert "saved by Bo" in client.get("/play/decide").text


def test_a_draft_with_problems_saves_but_cannot_be_submitted_from_the_page(app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Aurora AI")
    page = client.get("/play/decide").text
    typed = {"version": "0", "round": "1", "compute.buy_gpus.H100": "5000000", **csrf(page)}
    assert client.post("/play/decide", data=typed).status_code == 200  # kept, with its problem shown
    refused = client.post("/play/submit", data={"submitted": "1", "round": "1", **csrf(page)})
    assert refused.status_code == 422 and "Fix these before submitting" in html.unescape(refused.text)
    assert "GPU purchases cost" in html.unescape(refused.text)
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        seat = next(x for x in games.seats_of(s, games.get_game(s, gid)) if x.company_name == "Aurora AI")
        draft = drafts.draft_of(s, seat, 1)
        assert draft is not None and draft.version == 1 and not draft.submitted


def test_a_submitted_decision_is_resolved_and_its_results_are_readable(app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Aurora AI")
    page = client.get("/play/decide").text
    client.post("/play/decide", data={"version": "0", "products.prices.consumer": "3.2", **csrf(page)})
    assert "submitted" in client.post("/play/submit", data={"submitted": "1", **csrf(page)}, follow_redirects=True).text
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
    results = html.unescape(client.get("/play/results/1").text)
    assert "Aurora AI in round 1" in results and "Income statement" in results and "What moved" in results
    drivers = results.split("What moved")[1].split("</table>")[0]
    assert '<th scope="row">Consumer assistant</th>' in drivers and '<th scope="row">consumer</th>' not in drivers
    assert "Round 1 results" in client.get("/play").text
    assert client.get("/play/results/2").status_code == 404
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        runway = rounds.report_of(s, games.get_game(s, gid), 1)["companies"]["Aurora AI"]["private"]["kpis"]["runway_quarters"]
    shown = "cash-positive" if runway is None else f"{runway:,.1f} quarters"
    assert f"<dt>Runway</dt><dd>{shown}</dd>" in client.get("/play").text and f"<dt>Runway</dt><dd>{shown}</dd>" in results


def test_pages_for_students_send_strangers_to_the_join_page(app_and_game: tuple[TestClient, int, str]) -> None:
    client, _, _ = app_and_game
    response = client.get("/play", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/join"


def test_drafts_save_themselves_and_teammates_see_who_saved_a_newer_version(app_and_game: tuple[TestClient, int, str]) -> None:
    client, _, code = app_and_game
    join(client, code, "Ann", "Echo")
    bo = TestClient(client.app)
    join(bo, code, "Bo", "Echo")
    page = client.get("/play/decide").text
    saved = html.unescape(client.post("/play/decide/autosave", data={"version": "0", "products.prices.consumer": "3", **csrf(page)},
                                      headers={"HX-Request": "true"}).text)
    assert "Saved." in saved and 'id="draft-version" name="version" value="1" hx-swap-oob="true"' in saved
    page_bo = bo.get("/play/decide").text
    bo.post("/play/decide/autosave", data={"version": "1", "products.prices.consumer": "2.4", **csrf(page_bo)}, headers={"HX-Request": "true"})
    status = html.unescape(client.get("/play/decide/status", params={"mine": 1}, headers={"HX-Request": "true"}).text)
    assert "saved by Bo" in status and "A teammate saved a newer version" in status
    stale = html.unescape(client.post("/play/decide/autosave", data={"version": "1", "products.prices.consumer": "9", **csrf(page)},
                                      headers={"HX-Request": "true"}).text)
    assert "Bo changed this decision" in stale


def test_the_dashboard_charts_cash_revenue_share_and_capability_with_data_tables(app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Echo")
    assert "data-chart" not in client.get("/play").text  # nothing to chart before round 1
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
        rounds.advance(s, gid, 1)
        report = rounds.report_of(s, games.get_game(s, gid), 2)
    page = html.unescape(client.get("/play").text)
    for title in ("Cash", "Revenue per quarter", "Echo's share by segment", "Capability of what each company sells"):
        assert f'{title} <span class="unit">' in page
    assert page.count("<summary>Data table</summary>") == 4
    cash = report["companies"]["Echo"]["private"]["kpis"]["cash"]
    assert f"{cash:.1f}" in page
    assert "Beacon Labs" in page  # rivals' public capability is charted; their cash is not
    assert page.count("vendor/uplot/uPlot.iife.min.js") == 1


def test_a_past_rounds_results_chart_the_trends_as_they_stood_then(app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Echo")
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        for rnd in range(3):
            rounds.advance(s, gid, rnd)
        cash = [rounds.report_of(s, games.get_game(s, gid), r)["companies"]["Echo"]["private"]["kpis"]["cash"] for r in (1, 2, 3)]
    second = html.unescape(client.get("/play/results/2").text)
    assert "Trends to round 2" in second and second.count("<summary>Data table</summary>") == 4
    cash_table = second.split('Cash <span class="unit">')[1].split("</table>")[0]
    assert f"{cash[0]:.1f}" in cash_table and f"{cash[1]:.1f}" in cash_table and f"{cash[2]:.1f}" not in cash_table
    assert f"{cash[2]:.1f}" in html.unescape(client.get("/play/results/3").text).split('Cash <span class="unit">')[1].split("</table>")[0]


def test_students_see_the_deadline_a_pause_and_the_end_of_the_game(prepared_sqlite_url: str) -> None:
    app = create_app(Settings(database_url=prepared_sqlite_url))
    with Session(app.state.engine) as s:
        game = a_game(s, seats=TWO_TEAMS, rounds=2, advance_mode="deadline", round_minutes=20)
        gid, code, deadline = game.id or 0, game.join_code, clock.aware(game.deadline_at)  # type: ignore[arg-type]
    with TestClient(app) as client:
        join(client, code, "Ann", "Echo")
        page = html.unescape(client.get("/play").text)
        stamp = deadline.isoformat().replace("+00:00", "Z")
        assert f'Round 1 of 2 is open. Decisions close at <time datetime="{stamp}" data-local-time="minutes">{deadline:%H:%M} UTC</time>.' in page
        assert "Decisions close at" in html.unescape(client.get("/play/decide").text)

        with Session(app.state.engine) as s:
            live.set_status(s, games.get_game(s, gid), "paused")
        assert "Your instructor has paused the game, with 20 min left on the clock." in html.unescape(client.get("/play").text)

        with Session(app.state.engine) as s:
            live.set_status(s, games.get_game(s, gid), "open")
            rounds.advance(s, gid, 0)
            rounds.advance(s, gid, 1)
        page = html.unescape(client.get("/play").text)
        assert "The game is over after 2 rounds: there is nothing left to decide." in page
        assert "/play/decide" not in page and "/play/results/2" in page and "round 3" not in page.lower()
        decide = html.unescape(client.get("/play/decide").text)
        assert "<h1>Nothing left to decide</h1>" in decide and 'id="decision"' not in decide
        refused = client.post("/play/decide", data={"version": "0", "products.prices.consumer": "3"},
                              headers={"X-CSRF-Token": csrf_token_of(client)})  # a page left open
        assert refused.status_code == 409 and "Every round of this game has been played." in html.unescape(refused.text)


def test_a_save_refused_as_the_round_closed_keeps_the_typing_without_taking_a_teammates_version(
        app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Echo")
    page = client.get("/play/decide").text
    bo = TestClient(client.app)
    join(bo, code, "Bo", "Echo")
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
    bo_page = bo.get("/play/decide").text
    bo.post("/play/decide", data={"version": "0", "round": "2", "products.prices.consumer": "2.2", **csrf(bo_page)})
    typed = {"version": "0", "round": "1", "products.prices.consumer": "3.3", **csrf(page)}
    refused = html.unescape(client.post("/play/decide", data=typed).text)
    assert "round 1 has been resolved: nothing was saved" in refused
    assert "What you typed for round 1 is in this round's form." in refused and 'value="3.3"' in refused
    assert 'id="draft-version" name="version" value="0"' in refused  # a second Save meets Bo's draft as a clash
    again = {**typed, "round": "2", **csrf(refused)}
    assert client.post("/play/decide", data=again).status_code == 409
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        echo = next(x for x in games.seats_of(s, games.get_game(s, gid)) if x.company_name == "Echo")
        kept = drafts.draft_of(s, echo, 2)
        assert kept is not None and kept.updated_by == "Bo" and '"consumer":2.2' in kept.payload


def test_a_page_left_open_across_a_resolved_round_saves_nothing_into_the_next_round(app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Echo")
    page = client.get("/play/decide").text
    assert 'name="round" value="1"' in page
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
    typed = {"version": "0", "round": "1", "products.prices.consumer": "3.3", **csrf(page)}
    saved = html.unescape(client.post("/play/decide/autosave", data=typed, headers={"HX-Request": "true"}).text)
    assert "While this page was open, round 1 has been resolved: nothing was saved. Reload to decide round 2." in saved
    assert "Round 1 is no longer open; round 2 is. Reload to decide it." in saved
    status = html.unescape(client.get("/play/decide/status", params={"mine": 0, "round": 1}, headers={"HX-Request": "true"}).text)
    assert "Round 1 is no longer open; round 2 is." in status
    refused = client.post("/play/submit", data={"submitted": "1", "round": "1", **csrf(page)})
    assert refused.status_code == 409 and "round 1 has been resolved" in html.unescape(refused.text)
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        game = games.get_game(s, gid)
        echo = next(seat for seat in games.seats_of(s, game) if seat.company_name == "Echo")
        assert drafts.draft_of(s, echo, 2) is None  # nothing landed in round 2
    fresh = client.get("/play/decide").text
    assert 'name="round" value="2"' in fresh
    assert "Saved." in client.post("/play/decide/autosave", data={**typed, "round": "2", **csrf(fresh)}, headers={"HX-Request": "true"}).text


def test_the_dashboard_says_when_a_round_has_been_resolved_or_rewound_without_a_reload(app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Echo")
    page = client.get("/play").text
    watch = re.search(r'hx-get="(/play/round-watch\?seen=0)" hx-trigger="every 10s"', page)
    assert watch
    quiet = client.get(watch.group(1), headers={"HX-Request": "true"}).text
    assert 'hx-trigger="every 10s"' in quiet and "resolved" not in quiet
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
    told = html.unescape(client.get(watch.group(1), headers={"HX-Request": "true"}).text)
    assert "Round 1 has been resolved" in told and 'href="/play/results/1"' in told and "hx-trigger" not in told
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.rewind(s, gid, 1)
    told = html.unescape(client.get("/play/round-watch", params={"seen": 1}, headers={"HX-Request": "true"}).text)
    assert "Your instructor has rewound round 1" in told


@pytest.mark.parametrize(("typed", "told"), [
    ("3,5", "Use a point for decimals: '3.5', not '3,5'."),
    ("inf", "Enter an ordinary number, not 'inf'."),
    ("NaN", "Enter an ordinary number, not 'NaN'."),
    ("1e400", "Enter an ordinary number, not '1e400'."),
])
def test_a_decimal_comma_or_an_infinite_number_is_told_at_its_field_and_not_saved(app_and_game: tuple[TestClient, int, str],
                                                                                    typed: str, told: str) -> None:
    client, _, code = app_and_game
    join(client, code, "Ann", "Echo")
    page = client.get("/play/decide").text
    saved = client.post("/play/decide", data={"version": "0", "products.prices.consumer": typed, **csrf(page)})
    assert saved.status_code == 422 and told in html.unescape(saved.text).split('id="err-products.prices.consumer"')[1][:200]
    assert "Nothing saved yet for this round." in saved.text


def test_thousands_separators_are_understood(app_and_game: tuple[TestClient, int, str]) -> None:
    client, _, code = app_and_game
    join(client, code, "Ann", "Echo")
    page = client.get("/play/decide").text
    saved = client.post("/play/decide", data={"version": "0", "talent.engineers": "1,250", **csrf(page)})
    assert saved.status_code == 200 and "Draft saved." in saved.text
    assert 'name="talent.engineers" value="1250"' in client.get("/play/decide").text


def test_after_a_clash_a_student_keeps_what_they_typed_or_loads_their_teammates_version(app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Echo")
    bo = TestClient(client.app)
    join(bo, code, "Bo", "Echo")
    page, page_bo = client.get("/play/decide").text, bo.get("/play/decide").text
    htmx = {"HX-Request": "true"}
    client.post("/play/decide/autosave", data={"version": "0", "round": "1", "products.prices.consumer": "3", **csrf(page)}, headers=htmx)
    clash = html.unescape(bo.post("/play/decide/autosave", data={"version": "0", "round": "1", "products.prices.consumer": "2.2",
                                                                 **csrf(page_bo)}, headers=htmx).text)
    assert "Ann changed this decision since you opened it (version 1); your changes were not saved." in clash
    assert 'hx-vals=\'{"overwrite_version": "1"}\'' in clash and "keep what you typed (save it over version 1)" in clash
    assert 'href="/play/decide">load theirs</a>' in clash
    kept = html.unescape(bo.post("/play/decide/autosave", data={"version": "0", "overwrite_version": "1", "round": "1",
                                                                "products.prices.consumer": "2.2", **csrf(page_bo)}, headers=htmx).text)
    assert "Saved." in kept and 'name="version" value="2" hx-swap-oob="true"' in kept
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        echo = next(seat for seat in games.seats_of(s, games.get_game(s, gid)) if seat.company_name == "Echo")
        draft = drafts.draft_of(s, echo, 1)
        assert draft is not None and draft.version == 2 and draft.updated_by == "Bo" and '"consumer":2.2' in draft.payload

    stale_page = client.get("/play/decide").text  # Ann's full-page save on top of version 2... after Bo saves again
    bo.post("/play/decide/autosave", data={"version": "2", "round": "1", "products.prices.consumer": "2.0", **csrf(page_bo)}, headers=htmx)
    refused = client.post("/play/decide", data={"version": "2", "round": "1", "products.prices.consumer": "3.9", **csrf(stale_page)})
    shown = html.unescape(refused.text)
    assert refused.status_code == 409 and 'value="3.9"' in shown and "keep what you typed (save it over version 3)" in shown


def test_a_student_taken_off_every_team_is_told_so_instead_of_an_error(app_and_game: tuple[TestClient, int, str]) -> None:
    client, gid, code = app_and_game
    join(client, code, "Ann", "Echo")
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        game = games.get_game(s, gid)
        ann = next(student for student, _ in students.roster(s, game))
        students.move_student(s, game, ann.id or 0, None)
    for path in ("/play", "/play/decide", "/play/results/1"):
        page = client.get(path)
        assert page.status_code == 409 and "Your instructor has taken you off your team in Strategy 501." in html.unescape(page.text), path
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        game = games.get_game(s, gid)
        echo = next(seat for seat in games.seats_of(s, game) if seat.company_name == "Echo")
        students.move_student(s, game, ann.id or 0, echo.id)
    assert "<h1>Echo</h1>" in client.get("/play").text


@pytest.mark.parametrize("path", ["/join/NOPE99", "/join/NOPE99/pin"])
def test_a_join_form_posted_to_a_code_that_opens_no_game_says_so_at_the_code(app_and_game: tuple[TestClient, int, str], path: str) -> None:
    client, _, code = app_and_game
    page = client.get(f"/join/{code}").text
    answer = client.post(path, data={"display_name": "Ann", "seat_id": "1", "pin": "123456", **csrf(page)})
    assert answer.status_code == 404 and "No game has the code 'NOPE99'" in html.unescape(answer.text)
    assert 'value="NOPE99"' in answer.text  # what was typed stays in the code field


def test_a_lab_with_product_companies_on_its_model_is_shown_and_held_to_the_retail_floor(
        prepared_sqlite_url: str) -> None:
    sc = find_scenario("mixed-ecosystem")
    seats = tuple(None if c.name == "Kestrel" else c.persona for c in sc.companies)
    app = create_app(Settings(database_url=prepared_sqlite_url))
    with Session(app.state.engine) as s:
        code = a_game(s, scenario_id=sc.id, seats=seats, seed=5).join_code
    with TestClient(app) as client:
        join(client, code, "Kai", "Kestrel")
        page = html.unescape(client.get("/play/decide").text)
        assert "To fix before submitting" not in page  # the game opens within the law
        shown = re.search(r"Codewright built on your model last quarter.*?<strong>\$([\d.]+) per million tokens",
                          page, re.S)
        assert shown, page
        floor = float(shown.group(1))
        segment = sc.market.segments[0].id
        form = {f"products.prices.{segment}": f"{floor / 2:.2f}", **csrf(page)}
        typed = html.unescape(client.post("/play/decide/check", data=form, headers={"HX-Request": "true"}).text)
        told = re.search(rf'id="err-products\.prices\.{segment}"[^>]*>([^<]*)<', typed)
        assert told and told.group(1).startswith("Competition law: Codewright built on your model"), typed
        lawful = {f"products.prices.{s.id}": f"{floor * 1.01:.2f}" for s in sc.market.segments}
        typed = html.unescape(client.post("/play/decide/check", data={**lawful, **csrf(page)},
                                          headers={"HX-Request": "true"}).text)
        assert "Competition law" not in typed
