"""A game's history as series for charts and their data tables, respecting what each viewer may see."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from sqlmodel import Session, col, select

from app.models import Game, RoundResult
from app.services import rounds
from app.services.cache import cached


@dataclass(frozen=True)
class Chart:
    """One chart: a title, a unit, the rounds on the x axis and named series of values (None where unknown)."""

    id: str
    title: str
    unit: str
    rounds: list[int]
    series: list[tuple[str, list[float | None]]]
    highlight: str | None = None

    def as_json(self) -> str:
        return json.dumps({"rounds": self.rounds, "unit": self.unit, "highlight": self.highlight,
                           "series": [{"label": label, "values": values} for label, values in self.series]})


def _reports(session: Session, game: Game) -> list[tuple[int, dict[str, Any]]]:
    resolved = session.exec(select(RoundResult.round).where(RoundResult.game_id == game.id).order_by(col(RoundResult.round)))
    return [(r, rounds.report_of(session, game, r)) for r in resolved]


def company_charts(session: Session, game: Game, company: str) -> list[Chart]:
    """A team's charts: its own cash and revenue, its share by segment, and everyone's public capability."""
    return cached(("company-charts", company, *rounds.results_key(session, game)), lambda: _company_charts(session, game, company))


def _company_charts(session: Session, game: Game, company: str) -> list[Chart]:
    reports = _reports(session, game)
    if not reports:
        return []
    rounds = [r for r, _ in reports]
    mine = [rep["companies"][company]["private"]["kpis"] for _, rep in reports]
    names = list(reports[-1][1]["companies"])
    segments = [s["id"] for s in reports[-1][1]["market"]["segments"]]
    return [
        Chart("cash", "Cash", "$M", rounds, [(company, [k["cash"] for k in mine])], company),
        Chart("revenue", "Revenue per quarter", "$M", rounds, [(company, [k["revenue"] for k in mine])], company),
        Chart("share", f"{company}'s share by segment", "%", rounds,
              [(s, [100 * rep["companies"][company]["public"]["share"][s] for _, rep in reports]) for s in segments]),
        Chart("capability", "Capability of what each company sells", "index", rounds,
              [(n, [rep["companies"][n]["public"]["capability"] for _, rep in reports]) for n in names], company),
    ]


def through(charts: list[Chart], rnd: int) -> list[Chart]:
    """The same charts as they stood after round `rnd` (for a past round's results page)."""
    out = []
    for chart in charts:
        keep = [i for i, r in enumerate(chart.rounds) if r <= rnd]
        out.append(replace(chart, rounds=[chart.rounds[i] for i in keep],
                           series=[(label, [values[i] for i in keep]) for label, values in chart.series]))
    return out


def market_charts(session: Session, game: Game) -> list[Chart]:
    """The class's charts for the projector: every company's score, capability and share of all tokens bought."""
    return cached(("market-charts", *rounds.results_key(session, game)), lambda: _market_charts(session, game))


def _market_charts(session: Session, game: Game) -> list[Chart]:
    reports = _reports(session, game)
    if not reports:
        return []
    rounds = [r for r, _ in reports]
    names = list(reports[-1][1]["companies"])

    def token_share(rep: dict[str, Any], name: str) -> float:
        volumes = {s["id"]: s["volume_t_tokens"] for s in rep["market"]["segments"]}
        total = sum(volumes.values()) or 1.0
        return 100 * sum(rep["companies"][name]["public"]["share"][s] * v for s, v in volumes.items()) / total

    return [
        Chart("score", "Balanced scorecard", "0-100", rounds, [(n, [rep["companies"][n]["public"]["score"] for _, rep in reports]) for n in names]),
        Chart("market-share", "Share of all tokens bought", "%", rounds, [(n, [token_share(rep, n) for _, rep in reports]) for n in names]),
        Chart("market-capability", "Capability of what each company sells", "index", rounds,
              [*((n, [rep["companies"][n]["public"]["capability"] for _, rep in reports]) for n in names),
               ("Open weights", [rep["market"]["open_weight_capability"] for _, rep in reports])]),
    ]
