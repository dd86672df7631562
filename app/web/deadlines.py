"""Rounds resolve on time without anyone clicking: a small loop in each server process.

Several processes may run it at once; `rounds.advance` resolves each round exactly once.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine
from sqlmodel import Session

from app.services import live

POLL_SECONDS = 5.0
log = logging.getLogger("moatline.deadlines")


def resolve_due(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return live.process_due(session)


async def deadline_loop(engine: Engine, poll_seconds: float = POLL_SECONDS) -> None:
    """Check for rounds past their deadline every few seconds, resolving them in a worker thread."""
    while True:
        try:
            done = await asyncio.to_thread(resolve_due, engine)
            if done:
                log.info("resolved %d round(s) at their deadline", len(done))
        except Exception:  # a bad moment (database restarting) must not stop the clock
            log.exception("deadline check failed; trying again")
        await asyncio.sleep(poll_seconds)
