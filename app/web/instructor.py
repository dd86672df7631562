"""Instructor pages: the list of one's games, creating a game, and the game console (join code, seats, rounds)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app import clock, lifecycle
from app.errors import GameError, GameNotFound, SetupRejected
from app.models import Game, Instructor, Student
from app.scenario import Scenario
from app.services import archives, exports, games, live, rounds, setup, students
from app.web import play
from app.web.deps import FormDep, SessionDep, SignedInInstructor
from app.web.game_form import (
    absent_options,
    default_form,
    form_context,
    form_problems,
    in_form_order,
    parse_setup,
    persona_label,
    scenario_or_default,
    shipped_scenarios,
)
from app.web.templating import render

router = APIRouter()

QR_TITLE = "QR code of the join link"


# --- your games ------------------------------------------------------------------------------------


@router.get("/games", name="games")
def game_list(request: Request, session: SessionDep, me: SignedInInstructor) -> Response:
    """The signed-in instructor's games, newest first."""
    return render(request, "instructor/games.html", {"nav": "games", "games": games.games_of(session, _id(me)),
                                                      "scenarios": shipped_scenarios()})


@router.post("/games/import", name="import_game")
async def import_game(request: Request, session: SessionDep, me: SignedInInstructor) -> Response:
    """Import a game archive: a new game of this instructor's, replayed so it reproduces the original. The
    body was already held to `max_archive_bytes` by app/web/limits.py; the import runs off the event loop."""
    form = await request.form()
    upload = form.get("archive")
    most = request.app.state.settings.max_archive_bytes
    problem = ""
    if upload is None or isinstance(upload, str) or not upload.filename:
        problem = "Choose a game archive (.json) to import."
    else:
        data, words = await upload.read(most + 1), archives.in_words(most)
        if len(data) > most:
            problem = f"That file is larger than any game archive (at most {words})."
        else:
            try:
                game = await asyncio.to_thread(_import, session, _id(me), data)
                return RedirectResponse(request.url_for("console", game_id=game.id).path + "?imported=1", status_code=303)
            except GameError as exc:
                problem = str(exc)
    return render(request, "instructor/games.html", {"nav": "games", "games": games.games_of(session, _id(me)),
                                                      "scenarios": shipped_scenarios(), "import_problem": problem}, status_code=422)


def _import(session: Session, instructor_id: int, data: bytes) -> Game:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise GameError("That file is not a Moatline game archive (not text).") from None
    return archives.import_archive(session, instructor_id, text)


# --- creating a game -------------------------------------------------------------------------------


@router.get("/games/new", name="new_game")
def new_game_form(request: Request, me: SignedInInstructor, scenario: str = "", name: str = "") -> Response:
    """The form to set up a game, prefilled from a shipped scenario."""
    chosen = scenario_or_default(scenario)
    return _new_game_page(request, chosen, {**default_form(chosen), "name": name}, {})


@router.get("/games/new/scenario", name="new_game_scenario")
def new_game_scenario_fields(request: Request, me: SignedInInstructor, scenario: str = "") -> Response:
    """Just the fields that depend on the scenario (its companies, rounds and scorecard), for htmx to swap in."""
    chosen = scenario_or_default(scenario)
    context = form_context(chosen, default_form(chosen), {})
    response = request.app.state.templates.TemplateResponse(request, "instructor/new_game.html", context,
                                                             block_name="scenario_fields")
    response.headers["Vary"] = "HX-Request"
    return response


@router.post("/games/new", name="create_game")
def create_game(request: Request, session: SessionDep, me: SignedInInstructor,
                typed: FormDep) -> Response:
    """Create the game and open its console; otherwise show each problem at its field, keeping what was typed."""
    scenario = shipped_scenarios().get(typed.get("scenario", ""))
    problems = {} if scenario else {"scenario": "Choose one of the shipped scenarios."}
    scenario = scenario or scenario_or_default("")
    chosen, unreadable = parse_setup(typed, scenario)
    try:
        setup.check_setup(chosen, scenario)
        if not problems and not unreadable:
            game = setup.create_game(session, _id(me), chosen)
            return RedirectResponse(request.url_for("console", game_id=game.id).path, status_code=303)
    except SetupRejected as rejected:
        problems.update(form_problems(rejected.problems))
    return _new_game_page(request, scenario, typed, in_form_order({**problems, **unreadable}, scenario), status_code=422)


def _new_game_page(request: Request, scenario: Scenario, typed: dict[str, str], problems: dict[str, str],
                   status_code: int = 200) -> Response:
    return render(request, "instructor/new_game.html", form_context(scenario, typed, problems), status_code=status_code)


# --- the console -----------------------------------------------------------------------------------


@router.get("/games/{game_id}", name="console")
def console(request: Request, game_id: int, session: SessionDep, me: SignedInInstructor,
            resolved: int | None = None, rewound: int | None = None, imported: int | None = None) -> Response:
    """One game: how students join (code, link, QR), who plays each company, the rounds, the latest scoreboard."""
    game = _own(session, game_id, me)
    notice = f"Round {resolved} is resolved." if resolved else f"Round {rewound} was rewound: its decisions are drafts again." if rewound else ""
    if imported:
        notice = f"Imported: {game.current_round} round(s) replayed from the archive."
    return _console_page(request, session, game, notice=notice)


def _console_page(request: Request, session: Session, game: Game, notice: str = "",
                  problem: str = "", status_code: int = 200,
                  pin_reset: dict[str, Student] | None = None) -> Response:
    seats = games.seats_of(session, game)
    link = str(request.url_for("join", code=game.join_code))
    latest = rounds.report_of(session, game, game.current_round) if game.current_round else None
    scoreboard = latest["market"]["scoreboard"] if latest else []
    scorecards = {n: c["private"]["scorecard"] for n, c in latest["companies"].items()} if latest else {}
    context = {"nav": "games", "game": game, "seats": seats, "link": link, "qr": qr_svg(link), "scoreboard": scoreboard,
               "scorecards": scorecards,
               "played_by": {s.company_name: persona_label(s.persona) for s in seats}, "persona_label": persona_label,
               "scenario_name": _scenario_name(game), "notice": notice, "problem": problem,
               "teams": live.team_status(session, game), "events": list(enumerate(games.scenario_of(game).events)),
               "queued": live.queued_events(session, game), "now": clock.now(),
               "roster": students.roster(session, game),
               "team_seats": [s for s in seats if s.persona is None], "pin_reset": pin_reset or {}}
    return render(request, "instructor/console.html", context, status_code=status_code)


@router.get("/games/{game_id}/teams", name="team_status")
def team_status(request: Request, game_id: int, session: SessionDep, me: SignedInInstructor) -> Response:
    """htmx poll: the live status of every team (members, draft or submitted, last activity)."""
    game = _own(session, game_id, me)
    return render(request, "instructor/console.html", {"game": game, "teams": live.team_status(session, game), "now": clock.now()},
                  block="teams")


@router.post("/games/{game_id}/control", name="control")
def control(request: Request, game_id: int, session: SessionDep, me: SignedInInstructor, action: Annotated[str, Form()] = "",
            minutes: Annotated[str, Form()] = "", event: Annotated[str, Form()] = "", sure: Annotated[str, Form()] = "") -> Response:
    """Extend the deadline, pause, resume, end the game, or queue an event for the coming round."""
    game = _own(session, game_id, me)
    try:
        notice = _control(session, game, action, minutes, event, sure)
    except GameError as exc:
        return _console_page(request, session, game, problem=str(exc), status_code=409)
    return _console_page(request, session, games.get_game(session, game_id), notice=notice)


@router.post("/games/{game_id}/students", name="students")
def manage_students(request: Request, game_id: int, session: SessionDep, me: SignedInInstructor, action: Annotated[str, Form()] = "",
                    student_id: Annotated[str, Form()] = "", seat_id: Annotated[str, Form()] = "",
                    sure: Annotated[str, Form()] = "") -> Response:
    """Move a student to another team, remove a student, reset a student's PIN, or lock and unlock
    the teams."""
    game = _own(session, game_id, me)
    try:
        if action == "reset_pin" and student_id.isdigit():
            return _reset_pin(request, session, game, int(student_id), sure == "yes")
        if action in {"lock", "unlock"}:
            students.set_teams_locked(session, game, action == "lock")
            notice = "Teams are locked: nobody else can join." if action == "lock" else "Teams are open to new students."
        elif action == "move" and student_id.isdigit():
            moved = students.move_student(session, game, int(student_id), int(seat_id) if seat_id.isdigit() else None)
            notice = f"{moved.display_name} moved."
        elif action == "remove" and student_id.isdigit():
            notice = f"{students.remove_student(session, game, int(student_id))} was removed from the game."
        else:
            raise GameError("Choose a student and what to do.")
    except GameError as exc:
        return _console_page(request, session, game, problem=str(exc), status_code=409)
    return _console_page(request, session, games.get_game(session, game_id), notice=notice)


def _reset_pin(request: Request, session: Session, game: Game, student_id: int,
               sure: bool) -> Response:
    """First a confirmation in the roster; then the new PIN, shown to the instructor this once."""
    if not sure:
        asked = students.student_in(session, game, student_id)
        return _console_page(request, session, game, pin_reset={"confirm": asked})
    student = students.reset_pin(session, game, student_id)
    notice = f"{student.display_name} has a new PIN; every device signed in as them was signed out."
    return _console_page(request, session, game, notice=notice, pin_reset={"done": student})


@router.get("/games/{game_id}/teams/{seat_id}", name="team_dashboard")
def team_dashboard(request: Request, game_id: int, seat_id: int, session: SessionDep, me: SignedInInstructor) -> Response:
    """Open a team's dashboard as the team sees it."""
    return play.dashboard_page(request, session, _team(session, game_id, seat_id, me))


@router.get("/games/{game_id}/teams/{seat_id}/decision", name="team_decision")
def team_decision(request: Request, game_id: int, seat_id: int, session: SessionDep, me: SignedInInstructor) -> Response:
    """A team's draft for the coming round, read-only, with what it would cost and leave them with."""
    return render(request, "play/decide.html", play.decide_context(session, _team(session, game_id, seat_id, me)))


@router.get("/games/{game_id}/teams/{seat_id}/results/{rnd}", name="team_results")
def team_results(request: Request, game_id: int, seat_id: int, rnd: int, session: SessionDep, me: SignedInInstructor) -> Response:
    """Open a team's results as the team sees them (and their private books)."""
    return play.results_page(request, session, _team(session, game_id, seat_id, me), rnd)


def _team(session: Session, game_id: int, seat_id: int, me: Instructor) -> dict[str, Any]:
    """What a team's pages show, for the instructor who owns the game; anyone else, and any other seat, get a 404."""
    game = _own(session, game_id, me)
    seat = next((s for s in games.seats_of(session, game) if s.id == seat_id), None)
    if seat is None:
        raise HTTPException(status_code=404)
    return play.team_context(session, game, seat, None)


def _control(session: Session, game: Game, action: str, minutes: str, event: str, sure: str) -> str:
    if action == "extend":
        if not minutes.strip().isdigit():
            raise GameError("Extend the deadline by a whole number of minutes.")
        live.extend_deadline(session, game, int(minutes))
        return f"The deadline is now {minutes} minute(s) later."
    if action in {"pause", "resume"}:
        live.set_status(session, game, "paused" if action == "pause" else "open")
        return "The game is paused: nothing resolves by itself." if action == "pause" else "The game is running again."
    if action == "end":
        if sure != "yes":
            raise GameError("Tick the box to confirm you want to end the game.")
        live.set_status(session, game, "ended")
        return "The game has ended."
    if action == "finish_practice":
        rounds.finish_practice(session, game)
        return "The practice is over: its results are gone and round 1 starts for real."
    if action == "inject":
        if not event.strip().isdigit():
            raise GameError("Choose an event from the scenario's catalogue.")
        row = live.inject_event(session, game, int(event))
        return f"Queued for round {row.round}: {games.scenario_of(game).events[row.event_index].title}."
    raise GameError("Unknown action.")


@router.get("/games/{game_id}/join-screen", name="join_screen")
def join_screen(request: Request, game_id: int, session: SessionDep, me: SignedInInstructor) -> Response:
    """The join code and QR code filling the screen, for the projector at the start of class."""
    game = _own(session, game_id, me)
    link = str(request.url_for("join", code=game.join_code))
    join_page = str(request.url_for("join_form")).split("://", 1)[-1]
    return render(request, "instructor/join_screen.html", {"nav": "games", "game": game, "join_page": join_page, "qr": qr_svg(link)})


def qr_svg(link: str) -> Markup:
    """The join link as an inline SVG QR code that scales to any size (for a projector)."""
    code = segno.make(link, error="m")
    svg = code.svg_inline(scale=1, border=2, omitsize=True, dark="#1b2430", light="#ffffff", svgclass="qr__code",
                          title=f"{QR_TITLE}: {link}")
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


def _scenario_name(game: Game) -> str:
    shipped = shipped_scenarios().get(game.scenario_id)
    return shipped.name if shipped else game.scenario_id


EXPORTS = {
    "results.csv": ("text/csv", lambda s, g: exports.results_csv(s, g).encode()),
    "results.xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", exports.results_xlsx),
    "archive.json": ("application/json", lambda s, g: exports.archive(s, g).encode()),
}


@router.get("/games/{game_id}/export/{kind}", name="export_game")
def export_game(game_id: int, kind: str, session: SessionDep, me: SignedInInstructor) -> Response:
    """Download the results (CSV, XLSX) or the game archive (JSON)."""
    game = _own(session, game_id, me)
    if kind not in EXPORTS:
        raise HTTPException(status_code=404)
    media, write = EXPORTS[kind]
    filename = f"moatline-game-{game.id}-{kind}"
    return Response(write(session, game), media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/games/{game_id}/advance", name="confirm_advance")
def confirm_advance(request: Request, game_id: int, session: SessionDep, me: SignedInInstructor) -> Response:
    """Are you sure? Which teams have submitted, and what happens to the others."""
    game = _own(session, game_id, me)
    if refusal := lifecycle.why_not_advance(game):
        return _console_page(request, session, game, problem=refusal, status_code=409)
    coming = rounds.next_round_input(session, game)
    teams = [s.company_name for s in games.seats_of(session, game) if s.persona is None]
    context = {"nav": "games", "game": game, "action": "advance", "submitted": [t for t in teams if t in coming.decisions],
               "missing": [t for t in teams if t not in coming.decisions], "absent_rule": game.absent_rule,
               "absent_options": absent_options()}
    return render(request, "instructor/confirm.html", context)


@router.post("/games/{game_id}/advance", name="advance")
def advance(request: Request, game_id: int, session: SessionDep, me: SignedInInstructor,
            expected_round: Annotated[int, Form()], absent_rule: Annotated[str | None, Form()] = None) -> Response:
    """Resolve the next round exactly once: a second click or a second instructor is told it is done already."""
    game = _own(session, game_id, me)
    try:
        result = rounds.advance(session, game_id, expected_round, absent_rule)
    except GameError as refused:
        session.rollback()
        return _console_page(request, session, games.get_game(session, game_id), problem=str(refused), status_code=409)
    target = request.url_for("console", game_id=game.id).include_query_params(resolved=result.round)
    return RedirectResponse(f"{target.path}?{target.query}", status_code=303)


@router.get("/games/{game_id}/rewind", name="confirm_rewind")
def confirm_rewind(request: Request, game_id: int, session: SessionDep, me: SignedInInstructor) -> Response:
    game = _own(session, game_id, me)
    if game.current_round == 0:
        return _console_page(request, session, game, problem="No round has been resolved yet.", status_code=409)
    return render(request, "instructor/confirm.html", {"nav": "games", "game": game, "action": "rewind"})


@router.post("/games/{game_id}/rewind", name="rewind")
def rewind(request: Request, game_id: int, session: SessionDep, me: SignedInInstructor,
           expected_round: Annotated[int, Form()]) -> Response:
    """Discard the last round's results (its decisions become drafts again), once, whoever clicks twice."""
    game = _own(session, game_id, me)
    try:
        undone = rounds.rewind(session, game_id, expected_round)
    except GameError as refused:
        session.rollback()
        return _console_page(request, session, games.get_game(session, game_id), problem=str(refused), status_code=409)
    target = request.url_for("console", game_id=game.id).include_query_params(rewound=undone)
    return RedirectResponse(f"{target.path}?{target.query}", status_code=303)


def _own(session: Session, game_id: int, me: Instructor) -> Game:
    """The game if it is this instructor's; any other answers 404, so nobody learns which game ids exist."""
    try:
        return games.owned_game(session, game_id, _id(me))
    except GameNotFound:
        raise HTTPException(status_code=404) from None


def _id(me: Instructor) -> int:
    assert me.id is not None
    return me.id

