"""Settings from the environment, and the refusal of the development secret outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import DEFAULT_DATABASE_URL, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without Moatline's variables, whatever the shell has set."""
    for name in ("DATABASE_URL", "MOATLINE_SECRET_KEY", "MOATLINE_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)


def test_a_non_development_environment_refuses_the_default_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOATLINE_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="MOATLINE_SECRET_KEY is still the development default"):
        Settings()


def test_the_refusal_does_not_echo_other_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOATLINE_ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://moatline:hunter2@db/moatline")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "hunter2" not in str(refused.value)


def test_production_with_its_own_secret_key_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOATLINE_ENVIRONMENT", "production")
    monkeypatch.setenv("MOATLINE_SECRET_KEY", "a-long-random-value")
    assert Settings().secret_key == "a-long-random-value"


def test_development_uses_sqlite_under_var_by_default() -> None:
    settings = Settings()
    assert settings.environment == "development"
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///var/moatline.db"


def test_database_url_is_read_without_the_moatline_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere.db")
    assert Settings().database_url == "sqlite:///elsewhere.db"
