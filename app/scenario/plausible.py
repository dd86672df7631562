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

# The sourced (cash US$M, brand) each shipped company was authored with (the scenario files' comments give
# the sources; Stackwise's and Ledgerlight's cash re-sourced to their 2025 models' rounds, Cursor's and
# Harvey's). A balance fit moves a start from these by at most FIT_CASH_BOUNDS (a factor: a private
# company's cash is itself known to about a factor of two) and FIT_BRAND_BOUND (points), and within the
# bands above: measured from the authored figure, not from the last
# fit, so successive fits cannot compound (four fits had taken a $2B start-up to $20B). Kestrel, Halcyon,
# Vantage AI, Sentinel Labs and Rapidity were re-authored at issue 9's tenth landing to about a year of their
# burn at the start, as labs raise (OpenAI's October 2024 round: $6.6B against about $5B lost in 2024).
AUTHORED_STARTS: dict[str, dict[str, tuple[float, float]]] = {
    "frontier-race": {
        "Aurora AI": (8000, 65),
        "Beacon Labs": (6000, 60),
        "Cinder": (2000, 40),
        "Delta Systems": (15000, 70),
        "Echo": (1500, 45),
        "Forge": (4000, 50),
    },
    "mixed-ecosystem": {
        "Atlas Intelligence": (12000, 64),
        "Kestrel": (2000, 50),
        "Halcyon": (3000, 62),
        "Brightdesk": (200, 48),
        "Codewright": (300, 50),
        "Verity Health": (150, 55),
    },
    "product-builders": {
        "Vantage AI": (1500, 65),
        "Tessellate": (180, 50),
        "Quillworks": (120, 40),
        "Stackwise": (900, 50),
        "Ledgerlight": (600, 55),
        "Corvid Suite": (500, 62),
    },
    "trust-and-safety": {
        "Sentinel Labs": (3000, 60),
        "Paragon": (14000, 62),
        "Rapidity": (6000, 58),
        "Meridian": (1800, 52),
        "Kite Intelligence": (2500, 45),
        "Nimbus": (1200, 48),
    },
}
FIT_CASH_BOUNDS, FIT_BRAND_BOUND = (0.5, 2.0), 10.0
