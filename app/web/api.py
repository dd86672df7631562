"""The JSON API under /api/v1 for LMS scripts and analysts: the same services and permissions as the pages.

Authentication is a bearer token: an instructor's from POST /api/v1/token (no browser session:
DELETE /api/v1/token revokes it, DELETE /api/v1/tokens every token and session of the instructor),
a student's from POST /api/v1/join (until MOATLINE_STUDENT_TOKEN_DAYS pass or the game ends).
Anything a caller may not see answers 404, as on the pages.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from app import lifecycle
from app.clock import aware
from app.engine.decisions import Decision
from app.errors import DecisionRejected, GameError, GameNotFound, RoundAlreadyResolved, StaleDraft
from app.models import Game, Seat
from app.services import accounts, drafts, exports, games, rounds, students
from app.services.throttle import TooManyTries
from app.web.deps import Caller, CallerDep, SessionDep
from app.web.inputs import ID_MAX, PlainText
from app.web.security import client_address

# what any call may answer besides its own codes (and FastAPI's 422 for a value out of range)
ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "A control character (such as NUL) in the address"},
    401: {"description": "No valid bearer token"},
    404: {"description": "No such game, or not one the caller may see"},
}
router = APIRouter(prefix="/api/v1", tags=["api"], responses=ANSWERS)
GameId = Annotated[int, Path(ge=1, le=ID_MAX, description="The game's id.")]
RoundNumber = Annotated[int, Path(ge=1, le=ID_MAX, description="A resolved round, from 1.")]


class TokenRequest(BaseModel):
    email: PlainText
    password: PlainText


class TokenResponse(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    role: str


class JoinRequest(BaseModel):
    code: PlainText
    company: PlainText = Field(description="The team's company name.")
    display_name: PlainText


class JoinResponse(BaseModel):
    token: str
    pin: str
    company: str
    game_id: int


class SeatPublic(BaseModel):
    company: str
    played_by: str = Field(description="'team' or a persona name.")
    students: int


class GamePublic(BaseModel):
    id: int
    name: str
    scenario_id: str
    seed: int | None = Field(None, description="Instructors only: with the open engine it foretells every random draw.")
    rounds: int
    current_round: int = Field(description="Rounds resolved so far; the open round is the next one.")
    status: str = Field(description="'open', 'paused' or 'ended'.")
    deciding: bool = Field(description="Whether a round is open for decisions (false once the game is over, and between a "
                                       "practice round and the real game).")
    practice_round: bool = Field(description="Whether round 1 is (still) a practice, wiped when the instructor starts the game.")
    deadline_at: datetime | None = Field(None, description="When the open round closes (UTC), in a deadline game.")
    join_code: str | None = Field(None, description="Instructors only.")
    seats: list[SeatPublic]


class DraftPublic(BaseModel):
    round: int
    version: int = Field(description="0 when nothing is saved yet; send it back with PUT to save on top of it.")
    submitted: bool
    updated_by: str | None
    decision: Decision | None
    problems: dict[str, str] = Field(default_factory=dict, description="What must be fixed before the decision can "
                                                                       "be submitted, by field.")


class DraftWrite(BaseModel):
    version: int = Field(ge=0, le=ID_MAX, description="The version this decision was edited from (0 for none).")
    decision: Decision
    round: int | None = Field(default=None, ge=1, le=ID_MAX, description="The round this decision is for; if given "
                              "and that round is no longer the open one, nothing is saved (409).")


class AdvanceRequest(BaseModel):
    expected_round: int = Field(description="The game's current round; the call fails if someone advanced first.")
    absent_rule: PlainText | None = Field(None, description="What happens to teams that did not submit, from this "
                                          "round on: 'carry_on' or a persona name (default: the game's current rule).")


def _game_for(session: Session, who: Caller, game_id: int) -> Game:
    try:
        game = games.get_game(session, game_id)
    except GameNotFound:
        raise HTTPException(status_code=404, detail="No such game.") from None
    mine = (who.instructor is not None and game.instructor_id == who.instructor.id) or (who.student is not None and who.student.game_id == game.id)
    if not mine:
        raise HTTPException(status_code=404, detail="No such game.")
    return game


def _instructor_only(who: Caller) -> None:
    if who.instructor is None:
        raise HTTPException(status_code=404, detail="Not found.")


def _student_seat(session: Session, who: Caller) -> Seat:
    if who.student is None:
        raise HTTPException(status_code=404, detail="Only a student on a team has a decision.")
    try:
        return students.seat_of(session, who.student)
    except GameError:
        raise HTTPException(status_code=409, detail="You are not on a team right now: ask your instructor to put you on one.") from None


@router.post("/token", response_model=TokenResponse, name="api_token",
             responses={429: {"description": "Too many sign-in attempts: wait and try again"},
                        503: {"description": "Busy checking other passwords: try again in a second"}})
def token(request: Request, body: TokenRequest, session: SessionDep) -> TokenResponse:
    """Sign in as an instructor (rate-limited like the sign-in page)."""
    try:
        person = accounts.authenticate(session, body.email, body.password, client_address(request))
    except accounts.TooManyAttempts as exc:
        raise HTTPException(status_code=429, detail=str(exc), headers={"Retry-After": str(exc.seconds)}) from None
    except accounts.ServerBusy as exc:
        raise HTTPException(status_code=503, detail=str(exc), headers={"Retry-After": "1"}) from None
    except accounts.AccountError as exc:
        raise HTTPException(status_code=401, detail=str(exc)) from None
    return TokenResponse(token=accounts.open_api_token(session, person.id or 0), role="instructor")


@router.delete("/token", status_code=204, name="api_revoke_token")
def revoke_token(session: SessionDep, who: CallerDep) -> Response:
    """Revoke the instructor's API token this call is made with."""
    _instructor_only(who)
    accounts.close_session(session, who.token)
    return Response(status_code=204)


@router.delete("/tokens", status_code=204, name="api_revoke_everything")
def revoke_everything(session: SessionDep, who: CallerDep) -> Response:
    """Sign out everywhere: revoke every API token and browser session of the instructor."""
    _instructor_only(who)
    assert who.instructor is not None
    accounts.close_every_session(session, who.instructor.id or 0)
    return Response(status_code=204)


@router.post("/join", response_model=JoinResponse, name="api_join",
             responses={422: {"description": "A problem with the name or team, by field (`problems`)"},
                        429: {"description": "Too many unknown codes from this address: wait and try again"}})
def join(request: Request, body: JoinRequest, session: SessionDep) -> JoinResponse | JSONResponse:
    """Join a team as a student; the token lasts MOATLINE_STUDENT_TOKEN_DAYS or to the end. Unknown codes
    are slowed per address, as on the join page."""
    try:
        game = students.game_by_code(session, body.code, client_address(request))
    except GameNotFound as exc:
        return JSONResponse({"detail": str(exc), "problems": {"code": str(exc)}}, status_code=404)
    except TooManyTries as exc:
        return JSONResponse({"detail": str(exc), "problems": {"code": str(exc)}}, status_code=429,
                            headers={"Retry-After": str(exc.seconds)})
    seat = next((s for s in games.seats_of(session, game) if s.company_name == body.company and s.persona is None), None)
    try:
        joined = students.join(session, game, seat.id if seat else None, body.display_name)
    except students.JoinError as exc:
        problems = {("company" if k == "seat_id" else k): v for k, v in exc.problems.items()}
        return JSONResponse({"detail": str(exc), "problems": problems}, status_code=422)
    return JoinResponse(token=joined.token, pin=joined.student.pin, company=body.company, game_id=game.id or 0)


@router.get("/games", response_model=list[GamePublic], name="api_list_games")
def list_games(session: SessionDep, who: CallerDep) -> list[GamePublic]:
    """An instructor's games, or the one game a student plays."""
    if who.instructor is not None:
        oldest_first = sorted(games.games_of(session, who.instructor.id or 0), key=lambda g: g.id or 0)
        return [_public(session, g, who) for g in oldest_first]
    assert who.student is not None
    return [_public(session, games.get_game(session, who.student.game_id), who)]


@router.get("/games/{game_id}", response_model=GamePublic, name="api_get_game")
def get_game(game_id: GameId, session: SessionDep, who: CallerDep) -> GamePublic:
    return _public(session, _game_for(session, who, game_id), who)


def _public(session: Session, game: Game, who: Caller) -> GamePublic:
    sizes = students.team_sizes(session, game)
    seats = [SeatPublic(company=s.company_name, played_by=s.persona or "team", students=sizes.get(s.id or 0, 0)) for s in games.seats_of(session, game)]
    return GamePublic(id=game.id or 0, name=game.name, scenario_id=game.scenario_id, seed=game.seed if who.instructor is not None else None, rounds=game.rounds,
                      current_round=game.current_round, status=game.status, deciding=lifecycle.is_deciding(game),
                      practice_round=game.practice_round, deadline_at=aware(game.deadline_at) if game.deadline_at else None,
                      join_code=game.join_code if who.instructor is not None else None, seats=seats)


@router.get("/games/{game_id}/decision", response_model=DraftPublic, name="api_read_draft")
def read_draft(game_id: GameId, session: SessionDep, who: CallerDep) -> DraftPublic:
    """The team's current draft for the coming round."""
    game = _game_for(session, who, game_id)
    seat = _student_seat(session, who)
    row = drafts.draft_of(session, seat, game.current_round + 1)
    if row is None:
        return DraftPublic(round=game.current_round + 1, version=0, submitted=False, updated_by=None, decision=None)
    decision = drafts.decision_of(row)
    problems = drafts.problems_of(session, game, seat, decision) if decision else {"decision": drafts.OUT_OF_BOUNDS}
    return DraftPublic(round=game.current_round + 1, version=row.version, submitted=row.submitted,
                       updated_by=row.updated_by, decision=decision, problems=problems)


@router.put("/games/{game_id}/decision", response_model=DraftPublic, responses={409: {"description": "A teammate saved first"}, 422: {"description": "Problems"}}, name="api_write_draft")
def write_draft(game_id: GameId, body: DraftWrite, session: SessionDep, who: CallerDep) -> DraftPublic | JSONResponse:
    """Save the team's draft on top of `version`; a newer teammate save is a 409. A draft may hold problems
    (listed by field in the answer), which must be fixed before it can be submitted."""
    game = _game_for(session, who, game_id)
    seat = _student_seat(session, who)
    try:
        drafts.save_draft(session, game, seat, body.decision, body.version, who.student.display_name if who.student else "", body.round)
    except StaleDraft as exc:
        return JSONResponse({"detail": str(exc), "current_version": exc.current.version}, status_code=409)
    except GameError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    return read_draft(game_id, session, who)


@router.post("/games/{game_id}/submit", response_model=DraftPublic, name="api_submit",
             responses={422: {"description": "The decision has problems to fix first"}})
def submit(game_id: GameId, session: SessionDep, who: CallerDep) -> DraftPublic | JSONResponse:
    return _set_submitted(game_id, session, who, True)


@router.post("/games/{game_id}/unsubmit", response_model=DraftPublic, name="api_unsubmit")
def unsubmit(game_id: GameId, session: SessionDep, who: CallerDep) -> DraftPublic | JSONResponse:
    return _set_submitted(game_id, session, who, False)


def _set_submitted(game_id: int, session: Session, who: Caller, value: bool) -> DraftPublic | JSONResponse:
    game = _game_for(session, who, game_id)
    try:
        drafts.set_submitted(session, game, _student_seat(session, who), value)
    except DecisionRejected as exc:
        return JSONResponse({"detail": str(exc), "problems": exc.problems}, status_code=422)
    except GameError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    return read_draft(game_id, session, who)


@router.post("/games/{game_id}/advance", response_model=GamePublic, responses={409: {"description": "Already resolved"}}, name="api_advance")
def advance(game_id: GameId, body: AdvanceRequest, session: SessionDep, who: CallerDep) -> GamePublic | JSONResponse:
    """Resolve the next round (instructors); exactly once, however many calls race."""
    _instructor_only(who)
    game = _game_for(session, who, game_id)
    try:
        rounds.advance(session, game.id or 0, body.expected_round, body.absent_rule)
    except (RoundAlreadyResolved, GameError) as exc:
        return JSONResponse({"detail": str(exc)}, status_code=409)
    return _public(session, games.get_game(session, game_id), who)


@router.get("/games/{game_id}/reports/{rnd}", name="api_report")
def report(game_id: GameId, rnd: RoundNumber, session: SessionDep, who: CallerDep) -> dict[str, Any]:
    """A resolved round's report: all of it for the instructor, the team's own view for a student."""
    game = _game_for(session, who, game_id)
    try:
        full = rounds.report_of(session, game, rnd)
    except GameError:
        raise HTTPException(status_code=404, detail=f"Round {rnd} has not been resolved.") from None
    if who.student is None:
        return full
    return rounds.team_report(session, game, rnd, _student_seat(session, who).company_name)


@router.get("/games/{game_id}/export/{kind}", response_class=Response, name="api_export")
def export(game_id: GameId, kind: str, session: SessionDep, who: CallerDep) -> Response:
    """`results.csv`, `results.xlsx` or `archive.json` (instructors)."""
    _instructor_only(who)
    game = _game_for(session, who, game_id)
    if kind == "results.csv":
        return PlainTextResponse(exports.results_csv(session, game), media_type="text/csv")
    if kind == "results.xlsx":
        return Response(exports.results_xlsx(session, game), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    if kind == "archive.json":
        return Response(exports.archive(session, game), media_type="application/json")
    raise HTTPException(status_code=404, detail="Export results.csv, results.xlsx or archive.json.")
