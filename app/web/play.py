"""Student pages: join a game, the company dashboard, decisions (checked as they are typed), results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.engine.decisions import Decision
from app.errors import DecisionRejected, GameError, RoundMoved, StaleDraft
from app.models import Game, Seat, Student
from app.scenario import PERSONAS
from app.services import drafts, games, history, rounds, students
from app.services.throttle import TooManyTries
from app.web import decision_form
from app.web.deps import (
    STUDENT_COOKIE,
    FormDep,
    SessionDep,
    StudentDep,
    current_student,
    read_cookie,
    student_token_lifetime,
)
from app.web.page_cache import PageCache
from app.web.security import client_address, delete_cookie, set_cookie
from app.web.templating import render

router = APIRouter()


def _with_cookie(response: Response, request: Request, token: str) -> Response:
    """The student's cookie, for as long as their token lives (MOATLINE_STUDENT_TOKEN_DAYS)."""
    lifetime = int(student_token_lifetime(request).total_seconds())
    set_cookie(response, request, STUDENT_COOKIE, token, lifetime)
    return response


def _join_page(request: Request, session: Session, game: Game, form: dict[str, Any],
               problems: dict[str, str], status: int = 200,
               headers: dict[str, str] | None = None) -> Response:
    seats = [s for s in games.seats_of(session, game) if s.persona is None]
    sizes = students.team_sizes(session, game)
    context = {"game": game, "seats": seats, "sizes": sizes, "form": form, "problems": problems,
               "scenario": games.scenario_of(game), "replaced": _replaced(request, session, game)}
    response = render(request, "play/join.html", context, status_code=status)
    response.headers.update(headers or {})
    return response


def _replaced(request: Request, session: Session, game: Game | None) -> Student | None:
    """The student whose session this browser had, if a PIN rejoin or a PIN reset replaced it."""
    student = students.replaced_student(session, read_cookie(request, STUDENT_COOKIE))
    return student if student is not None and (game is None or student.game_id == game.id) else None


@router.get("/join", name="join_form")
def join_form(request: Request, session: SessionDep, code: str = "",
              signed_out: str = "") -> Response:
    """Enter a join code; a browser whose student token stopped working is told why."""
    if code.strip():
        game = _game_by_code(request, session, code)
        return RedirectResponse(request.url_for("join", code=game.join_code).path, status_code=303)
    replaced = _replaced(request, session, None)
    if replaced is not None:  # sent here: another device or the instructor took the session over
        response = _join_page(request, session, games.get_game(session, replaced.game_id), {}, {})
    else:
        notice = students.TOKEN_REFUSALS.get(signed_out)
        response = render(request, "play/code.html", {"code": "", "problem": None, "notice": notice})
    if (replaced is not None or signed_out in students.TOKEN_REFUSALS) and read_cookie(request, STUDENT_COOKIE):
        delete_cookie(response, request, STUDENT_COOKIE)
    return response


class UnknownCode(Exception):
    """A join code that opens no game (404), or one looked up too soon after many such (429):
    answered with the code page, the problem shown where it was typed."""

    def __init__(self, code: str, problem: str, wait: TooManyTries | None = None):
        super().__init__(problem)
        self.code, self.problem, self.wait = code, problem, wait


async def unknown_code(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UnknownCode)
    context = {"code": exc.code, "problem": exc.problem}
    if exc.wait is None:
        return render(request, "play/code.html", context, status_code=404)
    response = render(request, "play/code.html", context, status_code=429)
    response.headers["Retry-After"] = str(exc.wait.seconds)
    return response


def _game_by_code(request: Request, session: Session, code: str) -> Game:
    try:
        return students.game_by_code(session, code, client_address(request))
    except TooManyTries as refused:
        raise UnknownCode(code, str(refused), refused) from None
    except GameError as exc:
        raise UnknownCode(code, str(exc)) from None


@router.get("/join/{code}", name="join")
def join_page(request: Request, code: str, session: SessionDep) -> Response:
    return _join_page(request, session, _game_by_code(request, session, code), {}, {})


@router.post("/join/{code}", name="join_submit")
def join_submit(request: Request, code: str, session: SessionDep, display_name: Annotated[str, Form()] = "",
                seat_id: Annotated[str, Form()] = "") -> Response:
    """Join a team; a taken name is numbered, never refused (a refusal would tell who plays)."""
    game = _game_by_code(request, session, code)
    seat = int(seat_id) if seat_id.isdigit() else None
    try:
        joined = students.join(session, game, seat, display_name)
    except students.JoinError as exc:
        typed = {"display_name": display_name, "seat_id": seat}
        return _join_page(request, session, game, typed, exc.problems, status=422)
    welcome = RedirectResponse(request.url_for("dashboard").path + "?welcome=1", status_code=303)
    return _with_cookie(welcome, request, joined.token)


@router.post("/join/{code}/pin", name="rejoin_pin")
def rejoin_pin(request: Request, code: str, session: SessionDep, display_name: Annotated[str, Form()] = "",
               pin: Annotated[str, Form()] = "") -> Response:
    """Come back with name and PIN; guesses are limited per student, game and address (a 429)."""
    game = _game_by_code(request, session, code)
    typed = {"rejoin_name": display_name}
    try:
        joined = students.rejoin_with_pin(session, game, display_name, pin, client_address(request))
    except TooManyTries as refused:
        return _join_page(request, session, game, typed, {"pin": str(refused)}, status=429,
                          headers={"Retry-After": str(refused.seconds)})
    except students.JoinError as exc:
        return _join_page(request, session, game, typed, exc.problems, status=422)
    return _with_cookie(RedirectResponse(request.url_for("dashboard").path, status_code=303), request, joined.token)


@router.get("/rejoin/{token}", name="rejoin")
def rejoin(request: Request, token: str, session: SessionDep) -> Response:
    """A rejoin link, exchanged for a fresh cookie token (the link itself is never the cookie; the
    access log shows it redacted, app/web/access_log.py)."""
    secret, lifetime = request.app.state.settings.secret_key, student_token_lifetime(request)
    try:
        joined = students.exchange_rejoin_link(session, token, secret, lifetime)
    except GameError as exc:
        context = {"code": "", "problem": str(exc)}
        return render(request, "play/code.html", context, status_code=404)
    to_dashboard = RedirectResponse(request.url_for("dashboard").path, status_code=303)
    return _with_cookie(to_dashboard, request, joined.token)


class NotOnATeam(Exception):
    """A student whose instructor took them off every team: their team pages answer with `not_on_a_team`."""

    def __init__(self, game: Game):
        super().__init__(game.name)
        self.game = game


async def not_on_a_team(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotOnATeam)
    return render(request, "play/no_team.html", {"title": "Not on a team", "game": exc.game}, status_code=409)


def _context(session: Session, student: Student) -> dict[str, Any]:
    game = games.get_game(session, student.game_id)
    try:
        seat = students.seat_of(session, student)
    except GameError:
        raise NotOnATeam(game) from None
    return team_context(session, game, seat, student)


def team_context(session: Session, game: Game, seat: Seat, student: Student | None) -> dict[str, Any]:
    """What a team's pages show; an instructor opening a team's pages sees the same (with no student)."""
    world, state = students.company_state(session, game)
    latest = rounds.team_report(session, game, game.current_round, seat.company_name) if game.current_round else None
    return {"game": game, "seat": seat, "student": student, "world": world, "state": state, "latest": latest,
            "view": students.overview(world, state, seat), "teammates": students.teammates(session, seat),
            "as_instructor": student is None,
            "scenario": world.scenario, "company": seat.company_name}


@router.get("/play", name="dashboard")
async def dashboard(request: Request, welcome: int = 0) -> Response:
    """The company at a glance: money, models, market position, news, rivals' public moves. Served again from
    the page cache while nothing it shows has changed (app/web/page_cache.py)."""
    pages: PageCache = request.app.state.pages
    ticket = await pages.ticket(request, read_cookie(request, STUDENT_COOKIE))
    if ticket is not None and (kept := pages.get(request, ticket)) is not None:
        return kept
    return pages.keep(ticket, await run_in_threadpool(_dashboard_page, request, bool(welcome)))


@router.get("/play/round-watch", name="round_watch")
def round_watch(request: Request, student: StudentDep, session: SessionDep, seen: int = 0, practising: bool = False) -> Response:
    """htmx poll from the dashboard: nothing while round `seen` is still the last resolved (and the practice, if
    `practising`, still on), else a note that the game has moved (the poll then stops)."""
    game = games.get_game(session, student.game_id)
    return render(request, "play/dashboard.html", {"game": game, "seen": seen, "practising": practising}, block="round_watch")


def _dashboard_page(request: Request, welcome: bool) -> Response:
    with Session(request.app.state.engine) as session:
        student = current_student(request, session)
        ctx = _context(session, student)
        ctx["welcome"] = welcome
        link = students.rejoin_token(student, request.app.state.settings.secret_key)
        ctx["rejoin_link"] = str(request.url_for("rejoin", token=link))
        return dashboard_page(request, session, ctx)


def dashboard_page(request: Request, session: Session, ctx: dict[str, Any]) -> Response:
    """A team's dashboard from its `team_context`: for the team, or for their instructor."""
    ctx["draft"] = drafts.draft_of(session, ctx["seat"], ctx["game"].current_round + 1)
    ctx["charts"] = history.company_charts(session, ctx["game"], ctx["company"])
    return render(request, "play/dashboard.html", ctx)


def _decide_context(session: Session, student: Student, decision: Decision | None, typed: dict[str, str],
                    problems: dict[str, str]) -> dict[str, Any]:
    return decide_context(session, _context(session, student), decision, typed, problems)


def decide_context(session: Session, ctx: dict[str, Any], decision: Decision | None = None, typed: dict[str, str] | None = None,
                   problems: dict[str, str] | None = None) -> dict[str, Any]:
    """The decision page's context from a `team_context`: the draft (else the company's current settings) as typed,
    its problems and its consequences."""
    typed, problems = typed or {}, problems or {}
    seat: Seat = ctx["seat"]
    draft = drafts.draft_of(session, seat, ctx["game"].current_round + 1)
    if not typed:
        typed = (decision_form.stored_values(draft.payload) if draft else
                 decision_form.starting_values(ctx["world"], seat.company_index, ctx["state"].prices, ctx["state"].staff,
                                               ctx["state"].release_hold))
    if decision is None and not problems:
        decision, problems = decision_form.parse(typed, ctx["world"])
    ctx.update({"typed": typed, "problems": problems, "draft": draft, "personas": PERSONAS,
                "field_names": [*decision_form.field_names(ctx["world"]), *decision_form.GROUPS, "training.start", *decision_form.CHOICES],
                "preview": drafts.consequences(session, ctx["game"], seat, decision) if decision else None,
                "labs": [c.name for c in ctx["scenario"].companies if c.kind == "lab"]})
    return ctx


@router.get("/play/decide", name="decide")
def decide(request: Request, student: StudentDep, session: SessionDep) -> Response:
    """The decision form, grouped by area, with its consequences shown as it is filled in."""
    return render(request, "play/decide.html", _decide_context(session, student, None, {}, {}))


@router.post("/play/decide/check", name="decide_check")
def decide_check(request: Request, student: StudentDep, session: SessionDep, typed: FormDep) -> Response:
    """htmx: the consequences of what is typed now (budget, each problem at its field, training timeline)."""
    decision, problems = decision_form.parse(typed, _context(session, student)["world"])
    ctx = _decide_context(session, student, decision, typed, problems)
    return render(request, "play/decide.html", ctx, block="feedback")


@router.post("/play/decide", name="decide_save")
def decide_save(request: Request, student: StudentDep, session: SessionDep, typed: FormDep) -> Response:
    """Save the team's draft (a version check keeps teammates from overwriting each other)."""
    ctx = _context(session, student)
    decision, problems = decision_form.parse(typed, ctx["world"])
    message, status, moved_from = None, 200, None
    if decision is not None:
        try:
            drafts.save_draft(session, ctx["game"], ctx["seat"], decision, _base_version(typed), student.display_name,
                             _round_typed(typed))
            message = "Draft saved."
        except StaleDraft as exc:
            message, status = str(exc), 409
            typed = {**typed, "mine": str(_base_version(typed))}
        except RoundMoved as exc:
            message, status = str(exc), 409
            moved_from = _round_typed(typed)
        except GameError as exc:
            message, status = str(exc), 409
    else:
        status = 422
    out = _decide_context(session, student, decision, typed, problems)
    out["message"] = message
    if moved_from is not None:  # the typing now fills the open round's form, saved on no teammate's version
        out["carried_from"] = moved_from
    if "mine" in typed:  # what the student typed stays on screen, with the choice of keeping it or loading theirs
        out["mine"] = int(typed["mine"])
    return render(request, "play/decide.html", out, status_code=status)


@router.post("/play/decide/autosave", name="decide_autosave")
def decide_autosave(request: Request, student: StudentDep, session: SessionDep, typed: FormDep) -> Response:
    """htmx: drafts save themselves as the team types; a teammate's newer save is never overwritten."""
    ctx = _context(session, student)
    decision, _ = decision_form.parse(typed, ctx["world"])
    mine = _base_version(typed)
    message = None
    if decision is None:
        message = "Not saved: fix the fields marked in red."
    else:
        try:
            mine = drafts.save_draft(session, ctx["game"], ctx["seat"], decision, mine, student.display_name, _round_typed(typed)).version
            message = "Saved."
        except (StaleDraft, GameError) as exc:
            message = str(exc)
    draft = drafts.draft_of(session, ctx["seat"], ctx["game"].current_round + 1)
    return render(request, "play/decide.html", {**ctx, "draft": draft, "mine": mine, "message": message, "oob_version": mine,
                                                "on_screen": _round_typed(typed)}, block="status")


@router.get("/play/decide/status", name="decide_status")
def decide_status(request: Request, student: StudentDep, session: SessionDep, mine: int = 0, rnd: Annotated[int, Query(alias="round")] = 0) -> Response:
    """htmx poll: who saved the draft last, whether a teammate's version is newer than the one on screen, and
    whether the round on screen (`round`) is still the open one."""
    ctx = _context(session, student)
    draft = drafts.draft_of(session, ctx["seat"], ctx["game"].current_round + 1)
    return render(request, "play/decide.html", {**ctx, "draft": draft, "mine": mine, "message": None, "on_screen": rnd}, block="status")


CARRY_DROPPED = frozenset({"version", "round", "overwrite_version", "mine", "csrf_token"})


@router.post("/play/decide/carry", name="decide_carry")
def decide_carry(request: Request, student: StudentDep, session: SessionDep, typed: FormDep) -> Response:
    """The open round's form filled with what was typed for a round that closed meanwhile; nothing is saved
    until the student saves or the autosave runs (on top of version 0, so a teammate's draft is never overwritten)."""
    carried = {k: v for k, v in typed.items() if k not in CARRY_DROPPED}
    out = _decide_context(session, student, None, carried, {})
    out["carried_from"] = _round_typed(typed) or out["game"].current_round
    return render(request, "play/decide.html", out)


def _base_version(typed: dict[str, str]) -> int:
    """The draft version an edit is saved on top of: the one it started from, or, when the student chose to keep
    their edit over a teammate's newer save, that newer version (`overwrite_version`)."""
    chosen = typed.get("overwrite_version") or typed.get("version") or "0"
    return int(chosen) if chosen.isdigit() else 0


def _round_typed(typed: dict[str, str]) -> int | None:
    """The round a decision form was for (None from a form that does not say)."""
    value = typed.get("round", "")
    return int(value) if value.isdigit() else None


@router.post("/play/submit", name="submit")
def submit(request: Request, student: StudentDep, session: SessionDep, submitted: Annotated[str, Form()] = "1",
           rnd: Annotated[str, Form(alias="round")] = "") -> Response:
    ctx = _context(session, student)
    try:
        drafts.set_submitted(session, ctx["game"], ctx["seat"], submitted == "1", _round_typed({"round": rnd}))
    except GameError as exc:
        out = _decide_context(session, student, None, {}, {})
        out["message"] = str(exc)
        status = 422 if isinstance(exc, DecisionRejected) else 409
        return render(request, "play/decide.html", out, status_code=status)
    return RedirectResponse(request.url_for("decide").path, status_code=303)


@router.get("/play/results/{rnd}", name="results")
def results(request: Request, rnd: int, student: StudentDep, session: SessionDep) -> Response:
    """One resolved round, as the team's report: statements, share drivers, risk, news."""
    return results_page(request, session, _context(session, student), rnd)


def results_page(request: Request, session: Session, ctx: dict[str, Any], rnd: int) -> Response:
    game: Game = ctx["game"]
    if not 1 <= rnd <= game.current_round:
        return render(request, "not_found.html", {"title": "No results yet", "known": []}, status_code=404)
    report = rounds.team_report(session, game, rnd, ctx["company"])
    me = report["companies"][ctx["company"]]
    charts = history.through(history.company_charts(session, game, ctx["company"]), rnd)
    ctx.update({"report": report, "round": rnd, "me": me, "private": me["private"], "charts": charts})
    return render(request, "play/results.html", ctx)
