"""The JSON API: tokens, games, teams, join, drafts, submit, advance, reports, exports, with the pages' permissions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from .signed_in import PASSWORD, create_game, sign_up


def instructor_token(client: TestClient, email: str = "ada@example.edu") -> dict[str, str]:
    response = client.post("/api/v1/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def game_with_teams(client: TestClient) -> tuple[int, str, dict[str, str]]:
    sign_up(client)
    gid = create_game(client)
    auth = instructor_token(client)
    code = client.get(f"/api/v1/games/{gid}", headers=auth).json()["join_code"]
    return gid, code, auth


def student(client: TestClient, code: str, company: str, name: str) -> dict[str, str]:
    response = client.post("/api/v1/join", json={"code": code, "company": company, "display_name": name})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_the_api_is_described_by_openapi_with_docs_served_without_a_cdn(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("/api/v1/token", "/api/v1/join", "/api/v1/games", "/api/v1/games/{game_id}/decision",
                 "/api/v1/games/{game_id}/advance", "/api/v1/games/{game_id}/reports/{rnd}", "/api/v1/games/{game_id}/export/{kind}"):
        assert path in spec["paths"]
    docs = client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn." not in docs


def test_a_whole_round_through_the_api(client: TestClient) -> None:
    gid, code, auth = game_with_teams(client)
    echo = student(client, code, "Echo", "Ann")
    listed = client.get("/api/v1/games", headers=echo).json()[0]
    assert listed["join_code"] is None  # students do not see the code
    assert listed["deciding"] is True and listed["current_round"] == 0 and listed["deadline_at"] is None
    draft = client.get(f"/api/v1/games/{gid}/decision", headers=echo).json()
    assert draft == {"round": 1, "version": 0, "submitted": False, "updated_by": None, "decision": None, "problems": {}}
    decision = {"products": {"prices": {"consumer": 2.5}}}
    saved = client.put(f"/api/v1/games/{gid}/decision", headers=echo, json={"version": 0, "decision": decision}).json()
    assert saved["version"] == 1 and saved["updated_by"] == "Ann"
    assert client.post(f"/api/v1/games/{gid}/submit", headers=echo).json()["submitted"] is True
    refused = client.post(f"/api/v1/games/{gid}/advance", headers=auth, json={"expected_round": 0, "absent_rule": "nobody"})
    assert refused.status_code == 409 and "either carry on or are played by a persona" in refused.json()["detail"]
    moved = client.post(f"/api/v1/games/{gid}/advance", headers=auth, json={"expected_round": 0, "absent_rule": "incumbent"})
    assert moved.status_code == 200 and moved.json()["current_round"] == 1
    again = client.post(f"/api/v1/games/{gid}/advance", headers=auth, json={"expected_round": 0})
    assert again.status_code == 409 and "already been resolved" in again.json()["detail"]
    late = client.put(f"/api/v1/games/{gid}/decision", headers=echo, json={"version": 0, "round": 1, "decision": decision})
    assert late.status_code == 409 and "round 1 has been resolved: nothing was saved" in late.json()["detail"]
    assert client.get(f"/api/v1/games/{gid}/decision", headers=echo).json()["version"] == 0
    mine = client.get(f"/api/v1/games/{gid}/reports/1", headers=echo).json()
    assert mine["companies"]["Echo"]["public"]["prices"]["consumer"] == 2.5
    assert "private" in mine["companies"]["Echo"] and "private" not in mine["companies"]["Aurora AI"]
    card = mine["companies"]["Echo"]["private"]["scorecard"]
    assert set(card["weights"]) == set(card["metrics"]) == set(card["scaled"]) == set(card["ranges"])
    assert card["share_basis"] == "revenue" and card["yardstick_musd"] > 0
    full = client.get(f"/api/v1/games/{gid}/reports/1", headers=auth).json()
    assert all("private" in c for c in full["companies"].values())
    csv = client.get(f"/api/v1/games/{gid}/export/results.csv", headers=auth)
    assert csv.status_code == 200 and csv.text.startswith("round,company,played_by,score")
    assert client.get(f"/api/v1/games/{gid}/export/archive.json", headers=auth).json()["format"] == "moatline-game-archive"


def test_bad_input_gets_problems_by_field_and_nothing_saved_is_lost(client: TestClient) -> None:
    gid, code, _ = game_with_teams(client)
    wrong = client.post("/api/v1/join", json={"code": code, "company": "Nobody Inc", "display_name": ""})
    assert wrong.status_code == 422 and set(wrong.json()["problems"]) == {"company", "display_name"}
    echo = student(client, code, "Echo", "Ann")
    bo = student(client, code, "Echo", "Bo")
    client.put(f"/api/v1/games/{gid}/decision", headers=echo, json={"version": 0, "decision": {"products": {"prices": {"consumer": 3}}}})
    stale = client.put(f"/api/v1/games/{gid}/decision", headers=bo, json={"version": 0, "decision": {}})
    assert stale.status_code == 409 and stale.json()["current_version"] == 1
    kept = client.get(f"/api/v1/games/{gid}/decision", headers=bo).json()
    assert kept["version"] == 1 and kept["decision"]["products"]["prices"] == {"consumer": 3.0}
    bad_body = client.put(f"/api/v1/games/{gid}/decision", headers=bo, json={"version": "one"})
    assert bad_body.status_code == 422


def test_a_draft_may_hold_problems_but_is_never_submitted_with_them(client: TestClient) -> None:
    gid, code, _ = game_with_teams(client)
    echo = student(client, code, "Echo", "Ann")
    unaffordable = {"version": 0, "decision": {"compute": {"buy_gpus": {"H100": 500_000}}}}
    saved = client.put(f"/api/v1/games/{gid}/decision", headers=echo, json=unaffordable)
    assert saved.status_code == 200 and "compute.buy_gpus" in saved.json()["problems"]
    refused = client.post(f"/api/v1/games/{gid}/submit", headers=echo)
    assert refused.status_code == 422 and "compute.buy_gpus" in refused.json()["problems"]
    assert client.get(f"/api/v1/games/{gid}/decision", headers=echo).json()["submitted"] is False
    fixed = client.put(f"/api/v1/games/{gid}/decision", headers=echo, json={"version": 1, "decision": {}})
    assert fixed.status_code == 200 and fixed.json()["problems"] == {}
    assert client.post(f"/api/v1/games/{gid}/submit", headers=echo).json()["submitted"] is True


def test_students_never_see_the_seed_that_would_foretell_every_draw(client: TestClient) -> None:
    gid, code, auth = game_with_teams(client)
    echo = student(client, code, "Echo", "Ann")
    assert client.get(f"/api/v1/games/{gid}", headers=echo).json()["seed"] is None
    assert all(g["seed"] is None for g in client.get("/api/v1/games", headers=echo).json())
    assert isinstance(client.get(f"/api/v1/games/{gid}", headers=auth).json()["seed"], int)


def test_permissions_match_the_pages(client: TestClient) -> None:
    gid, code, auth = game_with_teams(client)
    echo = student(client, code, "Echo", "Ann")
    assert client.get(f"/api/v1/games/{gid}").status_code == 401
    assert client.get(f"/api/v1/games/{gid}", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    other = TestClient(client.app)
    sign_up(other, email="grace@example.edu", name="Grace Hopper")
    grace = instructor_token(other, "grace@example.edu")
    assert client.get(f"/api/v1/games/{gid}", headers=grace).status_code == 404
    assert client.post(f"/api/v1/games/{gid}/advance", headers=grace, json={"expected_round": 0}).status_code == 404
    assert client.post(f"/api/v1/games/{gid}/advance", headers=echo, json={"expected_round": 0}).status_code == 404
    assert client.get(f"/api/v1/games/{gid}/export/results.csv", headers=echo).status_code == 404
    assert client.get(f"/api/v1/games/{gid}/decision", headers=auth).status_code == 404
    wrong_password = client.post("/api/v1/token", json={"email": "ada@example.edu", "password": "nope nope nope"})
    assert wrong_password.status_code == 401


def test_every_route_has_its_own_name_so_links_never_point_at_the_wrong_page(client: TestClient) -> None:
    from collections import Counter

    names = Counter(getattr(r, "name", None) for r in client.app.routes)  # type: ignore[attr-defined]
    assert [n for n, k in names.items() if n and k > 1] == []


def test_an_infinite_or_missing_number_in_an_api_body_is_refused_by_field(client: TestClient) -> None:
    gid, code, _ = game_with_teams(client)
    echo = student(client, code, "Echo", "Ann")
    body = '{"version": 0, "decision": {"products": {"prices": {"consumer": Infinity}}}}'
    refused = client.put(f"/api/v1/games/{gid}/decision", headers={**echo, "Content-Type": "application/json"}, content=body)
    assert refused.status_code == 422 and "finite" in refused.text and "consumer" in refused.text
    assert client.get(f"/api/v1/games/{gid}/decision", headers=echo).json()["version"] == 0


def test_a_student_taken_off_every_team_gets_a_409_saying_so(client: TestClient) -> None:
    from sqlmodel import Session

    from app.services import games, students

    gid, code, _ = game_with_teams(client)
    echo = student(client, code, "Echo", "Ann")
    with Session(client.app.state.engine) as s:  # type: ignore[attr-defined]
        game = games.get_game(s, gid)
        ann = next(st for st, _ in students.roster(s, game))
        students.move_student(s, game, ann.id or 0, None)
    answer = client.get(f"/api/v1/games/{gid}/decision", headers=echo)
    assert answer.status_code == 409 and "not on a team" in answer.json()["detail"]


def test_a_value_past_its_bound_is_refused_by_field_in_the_api(client: TestClient) -> None:
    gid, code, _ = game_with_teams(client)
    echo = student(client, code, "Echo", "Ann")
    body = {"version": 0, "decision": {"compute": {"buy_gpus": {"H100": 1e9}}, "talent": {"researchers": -1}}}
    refused = client.put(f"/api/v1/games/{gid}/decision", headers=echo, json=body)
    assert refused.status_code == 422
    assert set(refused.json()["problems"]) == {"compute.buy_gpus.H100", "talent.researchers"}
    assert client.get(f"/api/v1/games/{gid}/decision", headers=echo).json()["version"] == 0
