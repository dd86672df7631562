"""Configuration from the environment, in one pydantic-settings class."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "sqlite:///var/moatline.db"
DEFAULT_SECRET_KEY = "development-only-secret-key-change-me"  # refused outside development


class Settings(BaseSettings):
    """Moatline's settings: DATABASE_URL, MOATLINE_SECRET_KEY, MOATLINE_ENVIRONMENT,
    MOATLINE_SECURE_COOKIES, MOATLINE_STUDENT_TOKEN_DAYS, MOATLINE_PUBLIC_URL and, to email
    password-reset links, MOATLINE_SMTP_*."""

    model_config = SettingsConfigDict(
        env_prefix="MOATLINE_", populate_by_name=True, extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    secret_key: str = DEFAULT_SECRET_KEY
    environment: str = "development"
    secure_cookies: bool = False  # True behind an HTTPS proxy that forwards plain HTTP; HTTPS requests always get them
    student_token_days: int = Field(default=30, ge=1, le=3650)  # how long a student stays in
    public_url: str = ""  # the site's address as people type it, e.g. https://moatline.school.edu
    smtp_host: str = ""  # to email reset links; without, `moatline account reset EMAIL` prints them
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_starttls: bool = True

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment != "development" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                f"MOATLINE_SECRET_KEY is still the development default but MOATLINE_ENVIRONMENT is "
                f"{self.environment!r}: set MOATLINE_SECRET_KEY to a long random value "
                "(for example `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )
        return self

    @model_validator(mode="after")
    def _mail_needs_an_address(self) -> Settings:
        """Emailed links must name the site itself, never the Host a request claims (a forged Host
        would send someone's reset link to another site)."""
        if self.smtp_host and not (self.public_url and self.smtp_from):
            raise ValueError("MOATLINE_SMTP_HOST is set: also set MOATLINE_PUBLIC_URL (the site's "
                             "address, for links in emails) and MOATLINE_SMTP_FROM (the sender).")
        return self

    @property
    def student_token_lifetime(self) -> timedelta:
        return timedelta(days=self.student_token_days)

    @property
    def mail_configured(self) -> bool:
        return bool(self.smtp_host)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
