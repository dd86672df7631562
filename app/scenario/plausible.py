"""What a shipped scenario's company may plausibly start with in a 2025 game: a balance fit may move a
start within these bands, never beyond (a $100B start-up would not survive a student's search).

Cash (US$M): an AI product company from a seed round (~$50M) to a scaled one's war chest (Cursor's 2025 raise:
$900M; Harvey's: $300M); a lab from a start-up's first rounds (Mistral 2024: ~$1B raised) to a frontier lab's or a
big tech AI arm's cash for the year (OpenAI's 2024 round: $6.6B plus $4B of credit; Anthropic's 2025 rounds: $3.5B
and $13B). Brand: 0-100 points, from an unknown entrant to a household name.
"""

from __future__ import annotations

PLAUSIBLE_CASH_MUSD = {"product": (50.0, 1_200.0), "lab": (500.0, 20_000.0)}
PLAUSIBLE_BRAND = (25.0, 85.0)
