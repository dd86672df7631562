"""Configuration from the environment, in one pydantic-settings class."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "sqlite:///var/moatline.db"
DEFAULT_SECRET_KEY = "development-only-secret-key-change-me"  # refused outside development
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # a decision or a form is a few kB; a page's largest form far below this
DEFAULT_MAX_ARCHIVE_BYTES = 20 * 1024 * 1024  # a 40-round game of 40 teams archives to about 2 MB


class Settings(BaseSettings):
    """Moatline's settings: DATABASE_URL, MOATLINE_SECRET_KEY, MOATLINE_ENVIRONMENT, MOATLINE_SECURE_COOKIES,
    and the request size limits (app/web/limits.py): MOATLINE_MAX_BODY_BYTES for any request (default 1 MiB)
    and MOATLINE_MAX_ARCHIVE_BYTES for the file of a game import, `POST /games/import` (default 20 MiB)."""

    model_config = SettingsConfigDict(
        env_prefix="MOATLINE_", populate_by_name=True, extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    secret_key: str = DEFAULT_SECRET_KEY
    environment: str = "development"
    secure_cookies: bool = False  # True behind an HTTPS proxy that forwards plain HTTP; HTTPS requests always get them
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024)
    max_archive_bytes: int = Field(default=DEFAULT_MAX_ARCHIVE_BYTES, ge=1024)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                f"MOATLINE_SECRET_KEY is still the development default but MOATLINE_ENVIRONMENT is "
                f"{self.environment!r}: set MOATLINE_SECRET_KEY to a long random value "
                "(for example `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
