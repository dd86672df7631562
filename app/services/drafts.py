"""A team's decision for the open round: one rule for every way of saving and submitting it (pages, htmx,
the JSON API). A draft may hold ordinary problems (an unaffordable purchase) while the team works on it;
submitting refuses any problem the engine finds, so nothing invalid is ever resolved. Values outside the
decision model's bounds never get this far: `Decision` refuses them at their field."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import revisions
from app.clock import now
from app.engine.decisions import Decision
from app.engine.preview import Preview, preview
from app.errors import DecisionRejected, GameError, StaleDraft
from app.lifecycle import require_deciding, require_round
from app.models import Game, Seat, TeamDecision
from app.services import students
from app.services.games import ROW_ID_MAX


def draft_of(session: Session, seat: Seat, rnd: int) -> TeamDecision | None:
    query = select(TeamDecision).where(TeamDecision.seat_id == seat.id, TeamDecision.round == rnd)
    return session.exec(query).first()


OUT_OF_BOUNDS = ("This draft holds a value outside today's limits (it was saved before they were set): "
                 "open the decision page, where it is marked, and fix it.")


def decision_of(row: TeamDecision) -> Decision | None:
    """The draft's decision; None for one saved before a bound that now refuses it."""
    try:
        return Decision.model_validate_json(row.payload)
    except ValidationError:
        return None


def consequences(session: Session, game: Game, seat: Seat, decision: Decision) -> Preview:
    """What the decision would do in the coming round: its problems, money committed, training timeline."""
    world, state = students.company_state(session, game)
    return preview(world, state, seat.company_index, decision)


def problems_of(session: Session, game: Game, seat: Seat, decision: Decision) -> dict[str, str]:
    """The problems that keep a decision from being submitted, by field."""
    out: dict[str, str] = {}
    for p in consequences(session, game, seat, decision).problems:
        out[p.field] = f"{out[p.field]} {p.message}" if p.field in out else p.message
    return out


def save_draft(session: Session, game: Game, seat: Seat, decision: Decision, base_version: int, who: str,
               for_round: int | None = None) -> TeamDecision:
    """Save a team's draft for the coming round. `base_version` is the version the editor started from (0 for
    none); if a teammate saved since, nothing is overwritten and StaleDraft says who did. `for_round`, the round
    the editor was deciding, is refused if the game has moved on (or back) since."""
    require_deciding(game)
    require_round(game, for_round)
    if not 0 <= base_version <= ROW_ID_MAX:
        raise GameError(f"There is no draft version {base_version}; reload the page.")
    if seat.persona is not None:
        raise GameError(f"{seat.company_name} is played by the computer.")
    row = draft_of(session, seat, game.current_round + 1)
    if row is None:
        return _first_draft(session, game, seat, decision, base_version, who)
    return _next_version(session, row, seat, decision, base_version, who)


def _first_draft(session: Session, game: Game, seat: Seat, decision: Decision, base_version: int,
                 who: str) -> TeamDecision:
    if base_version != 0:
        raise GameError("That draft no longer exists; reload the page.")
    rnd = game.current_round + 1
    row = TeamDecision(game_id=game.id or 0, seat_id=seat.id or 0, round=rnd, payload=decision.model_dump_json(),
                       updated_by=who, updated_at=now())
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # a teammate's first save won the race
        session.rollback()
        current = draft_of(session, seat, rnd)
        assert current is not None
        raise StaleDraft(f"{current.updated_by} saved this decision a moment ago; your changes were not saved.",
                         current) from None
    session.refresh(row)
    return row


def _next_version(session: Session, row: TeamDecision, seat: Seat, decision: Decision, base_version: int,
                  who: str) -> TeamDecision:
    if row.submitted:
        raise GameError("Your team has submitted; unsubmit to change the decision.")
    updated = session.execute(
        update(TeamDecision).where(col(TeamDecision.id) == row.id, col(TeamDecision.version) == base_version)
        .values(payload=decision.model_dump_json(), version=base_version + 1, updated_by=who, updated_at=now())
    )
    if updated.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        current = draft_of(session, seat, row.round)
        assert current is not None
        session.refresh(current)
        raise StaleDraft(f"{current.updated_by} changed this decision since you opened it "
                         f"(version {current.version}); your changes were not saved.", current)
    revisions.bump(session, seats=[row.seat_id])
    session.commit()
    session.refresh(row)
    return row


def set_submitted(session: Session, game: Game, seat: Seat, submitted: bool,
                  for_round: int | None = None) -> TeamDecision:
    """Submit the team's draft for the coming round, or take the submission back before the round is resolved.
    A draft with problems is refused (DecisionRejected, every problem at its field)."""
    require_deciding(game)
    require_round(game, for_round)
    row = draft_of(session, seat, game.current_round + 1)
    if row is None:
        raise GameError("There is no decision to submit yet: save a draft first.")
    if submitted and (decision := decision_of(row)) is None:
        raise DecisionRejected({"decision": OUT_OF_BOUNDS})
    if submitted and decision is not None and (problems := problems_of(session, game, seat, decision)):
        raise DecisionRejected(problems)
    row.submitted = submitted
    row.updated_at = now()
    session.add(row)
    session.commit()
    session.refresh(row)
    return row
