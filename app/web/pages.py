"""Routes: parse the request, call a service, render a page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.db import DatabaseUnavailable, Deadline
from app.services.demo import demo_game
from app.services.scenarios import get_stored_scenario, list_stored_scenarios
from app.web.deps import SessionDep
from app.web.templating import render

router = APIRouter()


@router.get("/", name="home")
def home(request: Request, session: SessionDep) -> Response:
    """The list of scenarios an instructor can run."""
    return render(request, "home.html", {"scenarios": list_stored_scenarios(session)})


@router.get("/scenarios/{scenario_id}", name="scenario")
def scenario(request: Request, scenario_id: str, session: SessionDep) -> Response:
    """One scenario: its teaching note, companies and market segments."""
    stored = get_stored_scenario(session, scenario_id)
    return render(request, "scenario.html", {"stored": stored, "scenario": stored.scenario})


@router.get("/scenarios/{scenario_id}/demo", name="demo")
def demo(request: Request, scenario_id: str, session: SessionDep, round: int | None = None, company: str | None = None) -> Response:
    """A demo game of the scenario played by computer-run personas: scoreboard and one company's report."""
    stored = get_stored_scenario(session, scenario_id)
    game = demo_game(stored.scenario, stored.version)
    names = [c.name for c in stored.scenario.companies]
    rnd = round if round is not None else len(game.reports)
    chosen = company if company in names else names[0]
    return render(request, "demo.html", {"stored": stored, "scenario": stored.scenario, "game": game, "round": game.report(rnd)["round"],
                                         "report": game.report(rnd), "company": chosen, "names": names})


@router.get("/healthz", name="healthz")
async def healthz(request: Request) -> JSONResponse:
    """Liveness for load balancers: the app answers and the database runs a query, in a thread of its own with a
    deadline (app/web/overload.py `HEALTH_DEADLINE_S`): a hung database holds neither the event loop nor the page
    threads, and the answer is a 503 within 2 s."""
    checks: Deadline = request.app.state.health_checks
    try:
        await checks.run(_database_answers, request.app.state.engine)
    except (SQLAlchemyError, DatabaseUnavailable):
        return JSONResponse({"status": "error", "detail": "database unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _database_answers(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1")).scalar_one()
