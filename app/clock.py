"""Time, always timezone-aware UTC (a utility below every layer)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; Moatline stores UTC everywhere."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
