"""Email through the SMTP server in MOATLINE_SMTP_* (only password-reset links, so far)."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from app.settings import Settings

SMTP_TIMEOUT_S = 15
log = logging.getLogger(__name__)


def reset_message(settings: Settings, to: str, link: str, minutes: int) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = "Set a new Moatline password"
    message["From"], message["To"] = settings.smtp_from, to
    message.set_content(
        f"Someone (we hope you) asked to set a new password for the Moatline account {to}.\n\n"
        f"Open this link within {minutes} minutes to choose it (the link works once):\n{link}\n\n"
        "If you did not ask, ignore this email: your password stays as it is.\n"
    )
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    """Hand a message to the SMTP server (STARTTLS and login when configured)."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)


def send_or_log(settings: Settings, message: EmailMessage) -> None:
    """`send`, after the answer has gone: a mail server that fails is logged for the operator."""
    try:
        send(settings, message)
    except (OSError, smtplib.SMTPException):
        log.exception("could not email %r to %s through %s", message["Subject"], message["To"],
                      settings.smtp_host)
