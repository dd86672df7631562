"""Shipped scenarios in the database: loading the files, reading them back for pages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlmodel import Session, select

from app.models import ScenarioRecord
from app.scenario import Problem, Scenario, ScenarioError, list_scenarios, parse_scenario
from app.scenario.loader import SCENARIO_DIR


@dataclass(frozen=True)
class StoredScenario:
    """A scenario as stored: its rules plus the version of the file they came from."""

    scenario: Scenario
    version: str
    loaded_at: datetime


class UnknownScenario(LookupError):
    """No stored scenario has this id."""

    def __init__(self, scenario_id: str, known: list[str]):
        self.scenario_id = scenario_id
        self.known = known
        super().__init__(f"no scenario called {scenario_id!r} (known: {', '.join(known) or 'none'})")


def load_shipped_scenarios(session: Session) -> list[ScenarioRecord]:
    """Insert or update one record per shipped scenario file; unchanged files are left alone."""
    records = [_upsert(session, scenario, _file_text(scenario)) for scenario in list_scenarios()]
    session.commit()
    return records


def _file_text(scenario: Scenario) -> str:
    """The text of a shipped scenario's file (its id is its file name, as find_scenario assumes)."""
    path = SCENARIO_DIR / f"{scenario.id}.yaml"
    if not path.exists():
        raise ScenarioError(
            str(SCENARIO_DIR), [Problem("id", None, f"{scenario.id!r} must be the file name, {path.name}")]
        )
    return path.read_text(encoding="utf-8")


def _upsert(session: Session, scenario: Scenario, text: str) -> ScenarioRecord:
    version = hashlib.sha256(text.encode("utf-8")).hexdigest()
    record = session.get(ScenarioRecord, scenario.id)
    if record is not None and record.version == version:
        return record
    fresh = ScenarioRecord(
        id=scenario.id, name=scenario.name, summary=scenario.summary, version=version, text=text, loaded_at=_now()
    )
    return session.merge(fresh)


def _now() -> datetime:
    return datetime.now(UTC)


def list_stored_scenarios(session: Session) -> list[StoredScenario]:
    """Every stored scenario, by name."""
    records = session.exec(select(ScenarioRecord)).all()
    stored = [_stored(record) for record in records]
    return sorted(stored, key=lambda s: s.scenario.name.casefold())


def get_stored_scenario(session: Session, scenario_id: str) -> StoredScenario:
    """One stored scenario; UnknownScenario names the ids that do exist."""
    record = session.get(ScenarioRecord, scenario_id)
    if record is None:
        known = session.exec(select(ScenarioRecord.id).order_by(ScenarioRecord.id)).all()
        raise UnknownScenario(scenario_id, list(known))
    return _stored(record)


def _stored(record: ScenarioRecord) -> StoredScenario:
    return StoredScenario(_parsed(record.text, record.id), record.version, record.loaded_at)


@lru_cache(maxsize=64)
def _parsed(text: str, source: str) -> Scenario:
    """Parse once per file version; scenarios are frozen, so sharing them is safe."""
    return parse_scenario(text, source)
