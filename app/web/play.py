"""Student pages: join a game, the company dashboard, decisions, results."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
