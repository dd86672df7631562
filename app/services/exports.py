"""Exports: results as CSV and XLSX for grading, and a game archive that another installation replays exactly
(imported by app/services/archives.py)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlmodel import Session, col, select

from app.models import Game, RoundResult
from app.services import games
from app.services.archives import ARCHIVE_FORMAT, ARCHIVE_VERSION, import_archive

__all__ = ["ARCHIVE_FORMAT", "ARCHIVE_VERSION", "archive", "import_archive", "read_xlsx", "results_csv",
           "results_xlsx", "sheets"]
FINANCIAL_LINES = ("revenue", "net_income", "cash", "valuation", "debt", "capability", "safety", "brand", "tokens_served_t")


@dataclass(frozen=True)
class Sheet:
    name: str
    header: list[str]
    rows: list[list[Any]]


def sheets(session: Session, game: Game) -> list[Sheet]:
    """The three result tables: scorecard, financials and decisions, one row per company per round."""
    results = list(session.exec(select(RoundResult).where(RoundResult.game_id == game.id).order_by(col(RoundResult.round))))
    reports = [(r.round, json.loads(r.report), json.loads(r.inputs)) for r in results]
    names = [s.company_name for s in games.seats_of(session, game)]
    players = {s.company_name: s.persona or "team" for s in games.seats_of(session, game)}
    return [_scorecard(reports, names, players), _financials(reports, names), _decisions(reports, names, players)]


def _scorecard(reports: list[tuple[int, Any, Any]], names: list[str], players: dict[str, str]) -> Sheet:
    metrics = ("profit", "revenue_growth", "share", "valuation", "brand", "safety_record", "capability", "solvency")
    rows = []
    for rnd, report, _ in reports:
        for name in names:
            card = report["companies"][name]["private"]["scorecard"]
            rows.append([rnd, name, players[name], card["score"], *(card["scaled"][m] for m in metrics)])
    return Sheet("scorecard", ["round", "company", "played_by", "score", *(f"{m}_scaled" for m in metrics)], rows)


def _financials(reports: list[tuple[int, Any, Any]], names: list[str]) -> Sheet:
    rows = [[rnd, name, *(report["companies"][name]["private"]["kpis"][k] for k in FINANCIAL_LINES)]
            for rnd, report, _ in reports for name in names]
    return Sheet("financials", ["round", "company", *FINANCIAL_LINES], rows)


def _decisions(reports: list[tuple[int, Any, Any]], names: list[str], players: dict[str, str]) -> Sheet:
    rows = []
    for rnd, _, inputs in reports:
        for name in names:
            decided = inputs["decisions"].get(name)
            how = ("submitted" if decided is not None else f"stood in: {inputs['stand_ins'][name]}" if name in inputs["stand_ins"]
                   else "carried on" if players[name] == "team" else f"computer: {players[name]}")
            rows.append([rnd, name, how, json.dumps(decided, sort_keys=True) if decided else ""])
    return Sheet("decisions", ["round", "company", "how_decided", "decision_json"], rows)


def results_csv(session: Session, game: Game) -> str:
    """Scorecard and financials side by side, one row per company per round."""
    score, money, _ = sheets(session, game)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*score.header, *money.header[2:]])
    for a, b in zip(score.rows, money.rows, strict=True):
        writer.writerow([*a, *b[2:]])
    return out.getvalue()


def results_xlsx(session: Session, game: Game) -> bytes:
    """A workbook with one sheet each: scorecard, financials, decisions."""
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets(session, game):
        ws = book.create_sheet(sheet.name)
        ws.append(sheet.header)
        for row in sheet.rows:
            ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def read_xlsx(data: bytes) -> dict[str, list[list[Any]]]:
    """The rows of every sheet of a workbook (for tests and for checking a download)."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}


def archive(session: Session, game: Game) -> str:
    """Everything that determines the game: scenario text, seed, settings, seats and each round's inputs (JSON)."""
    results = session.exec(select(RoundResult).where(RoundResult.game_id == game.id).order_by(col(RoundResult.round)))
    return json.dumps({
        "format": ARCHIVE_FORMAT, "version": ARCHIVE_VERSION, "name": game.name, "scenario_id": game.scenario_id,
        "scenario_text": game.scenario_text, "seed": game.seed, "rounds": game.rounds, "scoring": json.loads(game.scoring_json),
        "absent_rule": game.absent_rule, "team_size_max": game.team_size_max, "advance_mode": game.advance_mode,
        "round_minutes": game.round_minutes, "practice_round": game.practice_round,
        "seats": [{"company": s.company_name, "persona": s.persona, "aggressiveness": s.aggressiveness} for s in games.seats_of(session, game)],
        "played": [{"round": r.round, "inputs": json.loads(r.inputs)} for r in results],
    }, indent=1, sort_keys=True)
