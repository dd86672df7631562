"""Secrets in addresses (a rejoin link, a password-reset link) never reach uvicorn's access log."""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"
SECRET_PATHS = ("/rejoin/", "/reset/")
REDACTED = "[redacted]"
PATH_ARG = 2  # uvicorn logs '%s - "%s %s HTTP/%s" %d' with (client, method, path, version, status)


def redacted(path: str) -> str:
    """The path with the secret after /rejoin/ or /reset/ (and any query) replaced."""
    for prefix in SECRET_PATHS:
        if path.startswith(prefix):
            return prefix + REDACTED
    return path


class RedactSecretPaths(logging.Filter):
    """Rewrites the path of an access-log record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > PATH_ARG:
            path = args[PATH_ARG]
            if isinstance(path, str):
                record.args = (*args[:PATH_ARG], redacted(path), *args[PATH_ARG + 1 :])
        return True


def install_access_log_redaction() -> None:
    """Put the filter on uvicorn's access logger, once (uvicorn's log setup keeps its filters)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactSecretPaths) for f in logger.filters):
        logger.addFilter(RedactSecretPaths())
