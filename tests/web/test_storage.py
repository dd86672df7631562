"""Migrations and the scenario service on real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Callable

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, SQLModel, func, select

from app.db import alembic_config, migrate
from app.models import ScenarioRecord
from app.scenario import Scenario, list_scenarios
from app.services.scenarios import load_shipped_scenarios

EngineFor = Callable[[str], Engine]


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_upgrading_an_empty_database_creates_the_scenario_table(empty_database_url: str, engine_for: EngineFor) -> None:
    migrate(empty_database_url)
    engine = engine_for(empty_database_url)
    assert "scenario_record" in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()


def test_the_migrations_match_the_models(empty_database_url: str, engine_for: EngineFor) -> None:
    migrate(empty_database_url)
    with engine_for(empty_database_url).connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata
        )
    assert differences == [], "models changed without a migration: run `alembic revision --autogenerate`"


def test_migrating_twice_changes_nothing(empty_database_url: str, engine_for: EngineFor) -> None:
    migrate(empty_database_url)
    engine = engine_for(empty_database_url)
    with Session(engine) as session:
        load_shipped_scenarios(session)
    before = _schema(engine)
    migrate(empty_database_url)
    assert _schema(engine) == before
    with Session(engine) as session:  # the rows loaded between the two runs are all still there
        assert len(session.exec(select(ScenarioRecord.id)).all()) == len(list_scenarios())


def _schema(engine: Engine) -> dict[str, object]:
    """Every table's columns (name, type, nullability) and indexes, and the migration the database is at."""
    found = inspect(engine)
    tables = {t: ([(c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(t)],
                  sorted((i["name"] or "", tuple(i["column_names"])) for i in found.get_indexes(t)))
              for t in sorted(found.get_table_names())}
    with engine.connect() as connection:
        at = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    return {"tables": tables, "revision": at}


def test_loading_scenarios_twice_leaves_one_row_per_scenario(
    empty_database_url: str, engine_for: EngineFor, shipped: list[Scenario]
) -> None:
    migrate(empty_database_url)
    with Session(engine_for(empty_database_url)) as session:
        load_shipped_scenarios(session)
        load_shipped_scenarios(session)
        ids = session.exec(select(ScenarioRecord.id)).all()
    assert sorted(ids) == sorted(s.id for s in shipped)


def test_loading_updates_a_record_whose_file_changed(
    prepared_sqlite_url: str, engine_for: EngineFor, shipped: list[Scenario]
) -> None:
    with Session(engine_for(prepared_sqlite_url)) as session:
        stale = session.get(ScenarioRecord, shipped[0].id)
        assert stale is not None
        current_version = stale.version
        session.add(stale.sqlmodel_update({"version": "old", "text": "old text"}))
        session.commit()
        load_shipped_scenarios(session)
        fresh = session.get(ScenarioRecord, shipped[0].id)
        assert fresh is not None and fresh.version == current_version and fresh.text != "old text"
        assert session.exec(select(func.count()).select_from(ScenarioRecord)).one() == len(shipped)


def test_sqlite_runs_in_wal_mode_with_a_30_second_busy_timeout(prepared_sqlite_url: str, engine_for: EngineFor) -> None:
    with engine_for(prepared_sqlite_url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
