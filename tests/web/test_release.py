"""A lab's team decides what becomes of a finished run's model, and sees what its fleet can serve with each model
before it submits: the release rule on the decision page and the API, told at its field when wrong; the serving
capacity lines beside last quarter's demand, with a warning when the next model would leave demand unserved."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.engine.decisions import Decision, TrainingDecision
from app.services import drafts, games, rounds

from .test_api import game_with_teams, student
from .test_play import app_and_game, csrf, join  # noqa: F401  (app_and_game is a fixture)

HX = {"HX-Request": "true"}


def _check(client: TestClient, page: str, **typed: str) -> str:
    response = client.post("/play/decide/check", data={**typed, **csrf(page)}, headers=HX)
    assert response.status_code == 200, response.text
    return html.unescape(response.text)


def test_the_decision_page_shows_what_the_fleet_serves_with_each_model_beside_last_quarters_demand(
        app_and_game: tuple[TestClient, int, str]) -> None:  # noqa: F811
    client, _, code = app_and_game
    join(client, code, "Ann", "Aurora AI")
    page = html.unescape(client.get("/play/decide").text)
    capacity = page.split("<h3>Serving capacity</h3>")[1].split("</table>")[0]
    assert re.search(r"The model on sale \(400B\)</th><td class=\"num\">[\d.]+</td>", capacity)
    assert re.search(r"Last quarter's demand</th><td class=\"num\">[\d.]+</td>", capacity)
    big = _check(client, page, **{"training.start.enabled": "on", "training.start.params_b": "4000",
                                  "training.start.tokens_t": "40", "compute.serving_share": "0.2"})
    served = dict(re.findall(r"<th scope=\"row\">([^<(]+) \([^)]*\)</th><td class=\"num\">([\d.]+)</td>", big))
    assert float(served["The run you start"]) < float(served["The model on sale"])
    assert re.search(r"When the run you start goes on sale \(4,000B active parameters a token\), this fleet serves only "
                     r"[\d.]+T tokens a quarter against last quarter's demand of [\d.]+T: about [\d.]+T would go unserved\.",
                     big)


def test_holding_is_saved_from_the_form_shown_again_and_a_bad_rule_is_told_at_its_field(
        app_and_game: tuple[TestClient, int, str]) -> None:  # noqa: F811
    client, gid, code = app_and_game
    join(client, code, "Ann", "Aurora AI")
    page = client.get("/play/decide").text
    assert '<option value="when_better" selected>' in page, "release when better is the rule shown before"
    bad = _check(client, page, **{"training.release": "later"})
    told = re.search(r'id="err-training\.release"[^>]*>([^<]*)<', bad)
    assert told and told.group(1) == "Choose 'when_better' or 'hold', not 'later'."
    saved = client.post("/play/decide", data={"version": "0", "round": "1", "training.release": "hold", **csrf(page)})
    assert saved.status_code == 200
    assert '<option value="hold" selected>' in client.get("/play/decide").text
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        seat = next(x for x in games.seats_of(s, games.get_game(s, gid)) if x.company_name == "Aurora AI")
        draft = drafts.draft_of(s, seat, 1)
        assert draft is not None and drafts.decision_of(draft) == Decision(training=TrainingDecision(release="hold"))


def test_a_team_that_held_finds_its_rule_held_next_round_and_in_its_results(
        app_and_game: tuple[TestClient, int, str]) -> None:  # noqa: F811
    client, gid, code = app_and_game
    join(client, code, "Ann", "Aurora AI")
    page = client.get("/play/decide").text
    client.post("/play/decide", data={"version": "0", "round": "1", "training.release": "hold", **csrf(page)})
    client.post("/play/submit", data={"submitted": "1", "round": "1", **csrf(page)})
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
        report = rounds.report_of(s, games.get_game(s, gid), 1)
    assert report["companies"]["Aurora AI"]["private"]["training"]["release"] == "hold"
    assert '<option value="hold" selected>' in client.get("/play/decide").text, "a fresh form keeps the rule in force"


def test_the_api_takes_the_release_rule_gives_it_back_and_refuses_a_bad_one_by_field(client: TestClient) -> None:
    gid, code, _ = game_with_teams(client)
    aurora = student(client, code, "Aurora AI", "Ann")
    holding = {"version": 0, "decision": {"training": {"release": "hold"}}}
    saved = client.put(f"/api/v1/games/{gid}/decision", headers=aurora, json=holding)
    assert saved.status_code == 200, saved.text
    assert client.get(f"/api/v1/games/{gid}/decision", headers=aurora).json()["decision"]["training"]["release"] == "hold"
    bad = client.put(f"/api/v1/games/{gid}/decision", headers=aurora,
                     json={"version": 1, "decision": {"training": {"release": "whenever"}}})
    assert bad.status_code == 422
    assert any("training.release" in field for field in bad.json()["problems"]), bad.json()
    spec = client.get("/openapi.json").json()["components"]["schemas"]["TrainingDecision"]["properties"]["release"]
    assert spec["enum"] == ["when_better", "hold"] and spec["default"] == "when_better"


def test_a_weaker_finished_model_is_reported_in_the_results_and_kept_ready_on_the_dashboard(
        app_and_game: tuple[TestClient, int, str]) -> None:  # noqa: F811
    client, gid, code = app_and_game
    join(client, code, "Ann", "Aurora AI")
    page = client.get("/play/decide").text
    tiny = {"training.start.enabled": "on", "training.start.params_b": "1", "training.start.tokens_t": "0.05"}
    client.post("/play/decide", data={"version": "0", "round": "1", **tiny, **csrf(page)})
    client.post("/play/submit", data={"submitted": "1", "round": "1", **csrf(page)})
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        rounds.advance(s, gid, 0)
    results = html.unescape(client.get("/play/results/1").text)
    assert re.search(r"Your run finished at capability [\d.]+; it rates below your current model \([\d.]+\) "
                     r"and was kept ready, not released\.", results)
    assert "Kept ready, not on sale: 1B parameters" in results and "is never released" in results
    dashboard = html.unescape(client.get("/play").text)
    assert "Kept ready, not on sale: 1B parameters" in dashboard and "Released model: 400B parameters" in dashboard
    decide = html.unescape(client.get("/play/decide").text)
    assert re.search(r"Kept ready now: 1B parameters,\s+capability [\d.]+, data cut-off round 1: it rates below your "
                     r"current model \([\d.]+\) and will not be released\.", decide)
    assert "The model kept ready (1B)" in decide
