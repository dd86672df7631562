"""Configuration from the environment, in one pydantic-settings class."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE_URL = "sqlite:///var/moatline.db"
DEFAULT_SECRET_KEY = "development-only-secret-key-change-me"  # refused outside development
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # a decision or a form is a few kB; a page's largest form far below this
DEFAULT_MAX_ARCHIVE_BYTES = 20 * 1024 * 1024  # a 40-round game of 40 teams archives to about 2 MB
ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_THREADS = 8  # threads per process for the synchronous routes (AnyIO's 40 only fight over the GIL)
# requests one process works on at once: a 40-team decision page costs ~50 ms of a core, so 16 take ~0.8 s
DEFAULT_MAX_IN_FLIGHT = 16
DEFAULT_MAX_IN_FLIGHT_PER_CLIENT = 6  # one browser or token: a browser opens at most 6 connections per host
DEFAULT_DB_CONNECT_TIMEOUT_S = 2  # libpq counts whole seconds, 2 at least
DEFAULT_DB_STATEMENT_TIMEOUT_S = 5.0  # far longer than any statement of a 40-team advance or an import


class Settings(BaseSettings):
    """Moatline's settings: DATABASE_URL, MOATLINE_SECRET_KEY, MOATLINE_ENVIRONMENT, MOATLINE_SECURE_COOKIES,
    MOATLINE_TRUSTED_PROXIES, MOATLINE_STUDENT_TOKEN_DAYS, MOATLINE_PUBLIC_URL, MOATLINE_SMTP_* (to email
    password-reset links); the request size limits (app/web/limits.py): MOATLINE_MAX_BODY_BYTES for any
    request (default 1 MiB) and MOATLINE_MAX_ARCHIVE_BYTES for the file of a game import (default 20 MiB); and
    how much one server process takes on (MOATLINE_THREADS, MOATLINE_MAX_IN_FLIGHT,
    MOATLINE_MAX_IN_FLIGHT_PER_CLIENT, MOATLINE_DB_CONNECT_TIMEOUT_S, MOATLINE_DB_STATEMENT_TIMEOUT_S)."""

    model_config = SettingsConfigDict(
        env_prefix="MOATLINE_", populate_by_name=True, extra="ignore", hide_input_in_errors=True
    )

    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    secret_key: str = DEFAULT_SECRET_KEY
    environment: str = "development"
    secure_cookies: bool = False  # True behind an HTTPS proxy that forwards plain HTTP; HTTPS requests always get them
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024)
    max_archive_bytes: int = Field(default=DEFAULT_MAX_ARCHIVE_BYTES, ge=1024)
    # addresses or networks (comma-separated) of the proxies whose X-Forwarded-For is believed
    trusted_proxies: str = ""
    threads: int = Field(default=DEFAULT_THREADS, ge=1)
    max_in_flight: int = Field(default=DEFAULT_MAX_IN_FLIGHT, ge=1)  # beyond, a fast 503; sizes the pool (app/db.py)
    max_in_flight_per_client: int = Field(default=DEFAULT_MAX_IN_FLIGHT_PER_CLIENT, ge=1)
    db_connect_timeout_s: int = Field(default=DEFAULT_DB_CONNECT_TIMEOUT_S, ge=1)  # PostgreSQL
    db_statement_timeout_s: float = Field(default=DEFAULT_DB_STATEMENT_TIMEOUT_S, ge=0)  # PostgreSQL; 0: none

    student_token_days: int = Field(default=30, ge=1, le=3650)  # how long a student stays in
    public_url: str = ""  # the site's address as people type it, e.g. https://moatline.school.edu
    smtp_host: str = ""  # to email reset links; without, `moatline account reset EMAIL` prints them
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_starttls: bool = True

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        try:
            _networks(value)
        except ValueError as exc:
            raise ValueError(f"MOATLINE_TRUSTED_PROXIES lists addresses or networks like 10.0.0.5 "
                             f"or 10.0.0.0/24, separated by commas: {exc}") from None
        return value

    def proxy_networks(self) -> tuple[ProxyNetwork, ...]:
        """The trusted proxies as networks (a single address is a network of one)."""
        return _networks(self.trusted_proxies)

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


def _networks(listed: str) -> tuple[ProxyNetwork, ...]:
    parts = [part.strip() for part in listed.split(",") if part.strip()]
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
