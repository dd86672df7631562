"""Database tables. Every change here needs an Alembic migration in migrations/versions/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text
from sqlmodel import Field, SQLModel


class ScenarioRecord(SQLModel, table=True):
    """A shipped scenario file as loaded into the database; `version` is the sha256 of `text`."""

    __tablename__ = "scenario_record"

    id: str = Field(primary_key=True)
    name: str
    summary: str = Field(sa_type=Text)
    version: str = Field(max_length=64)
    text: str = Field(sa_type=Text)
    loaded_at: datetime = Field(sa_type=DateTime(timezone=True))
