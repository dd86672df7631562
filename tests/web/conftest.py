"""Fixtures for the web tests: the app over a migrated database with the shipped scenarios."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.scenario import Scenario, list_scenarios
from app.settings import Settings
from app.web.main import create_app


@pytest.fixture
def client(prepared_sqlite_url: str) -> Iterator[TestClient]:
    """A test client of the app over its own temporary database."""
    with TestClient(create_app(Settings(database_url=prepared_sqlite_url))) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def shipped() -> list[Scenario]:
    """Every scenario shipped in scenarios/."""
    return list_scenarios()
